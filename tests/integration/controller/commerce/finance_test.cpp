#include <doctest/doctest.h>

#include <map>

#include "tests/support/api_helpers.hpp"
#include "tests/support/browser.hpp"
#include "tests/support/controller_fixture.hpp"
#include "tests/support/csv_reader.hpp"

using namespace derpmgr;
using namespace derpmgr::test;

namespace {

time_point utc(int y, unsigned mo, unsigned d, int h = 0, int mi = 0, int s = 0) {
  auto day = std::chrono::sys_days{std::chrono::year{y} / std::chrono::month{mo} / std::chrono::day{d}};
  return time_point{std::chrono::duration_cast<std::chrono::microseconds>(
      (day + std::chrono::hours(h) + std::chrono::minutes(mi) + std::chrono::seconds(s)).time_since_epoch())};
}

std::string sql_time(time_point t) { return "'" + format_sql_datetime(t) + "'"; }

std::string insert_plan(test_database& db, const std::string& name, int price) {
  db.execute("INSERT INTO plans (name, duration_days, traffic_quota_bytes, device_limit, price_cents, regions, "
             "created_at, updated_at) VALUES ('" + name + "', 30, 1000, 5, " + std::to_string(price) +
             ", '', NOW(6), NOW(6))");
  return db.scalar("SELECT id FROM plans WHERE name = '" + name + "'");
}

std::string insert_user(test_database& db, const std::string& email, time_point created, int balance) {
  db.execute("INSERT INTO users (email, email_verified_at, balance_cents, created_at) VALUES ('" + email + "', " +
             sql_time(created) + ", " + std::to_string(balance) + ", " + sql_time(created) + ")");
  return db.scalar("SELECT id FROM users WHERE email = '" + email + "'");
}

void insert_order(test_database& db, const std::string& number, const std::string& user, const std::string& plan,
                  int amount, const std::string& status, time_point at) {
  db.execute("INSERT INTO orders (number, user_id, plan_id, source, kind, amount_cents, status, created_at, "
             "updated_at) VALUES ('" + number + "', " + user + ", " + plan + ", 'serial', 'new', " +
             std::to_string(amount) + ", '" + status + "', " + sql_time(at) + ", " + sql_time(at) + ")");
}

void insert_rental(test_database& db, const std::string& user, const std::string& plan, const std::string& status,
                   time_point expires) {
  db.execute("INSERT INTO rentals (user_id, plan_id, plan_name, duration_days, traffic_quota_bytes, device_limit, "
             "replicas, regions, status, starts_at, expires_at, created_at, updated_at) VALUES (" + user + ", " +
             plan + ", 'p', 30, 1000, 5, 3, '', '" + status + "', '2026-01-01', " + sql_time(expires) +
             ", '2026-01-01', '2026-01-01')");
}

// The finance fixture: a month of orders on both sides of the Shanghai month boundary, by hand.
struct seeded {
  std::string month_pro;  // plan A, with a comma and quotes in its name
  std::string week;       // plan B
};

seeded seed(test_database& db) {
  seeded s;
  s.month_pro = insert_plan(db, R"(Month, "Pro")", 2900);
  s.week = insert_plan(db, "Week", 700);
  auto u1 = insert_user(db, "u1@example.com", utc(2026, 9, 10), 1500);
  auto u2 = insert_user(db, "u2@example.com", utc(2026, 10, 31, 16, 10), 250);  // Nov 1 00:10 in Shanghai
  auto u3 = insert_user(db, "u3@example.com", utc(2026, 11, 3), 0);
  auto u4 = insert_user(db, "u4@example.com", utc(2026, 10, 31, 15, 50), 0);  // Oct 31 23:50 in Shanghai
  insert_order(db, "O1", u1, s.month_pro, 2900, "completed", utc(2026, 9, 20, 10));
  insert_order(db, "O2", u1, s.week, 700, "completed", utc(2026, 10, 31, 15, 59, 59));  // Oct 31 23:59:59
  insert_order(db, "O3", u2, s.month_pro, 2900, "completed", utc(2026, 10, 31, 16, 30));  // Nov 1 00:30
  insert_order(db, "O4", u3, s.week, 700, "completed", utc(2026, 11, 10, 8));
  insert_order(db, "O5", u3, s.month_pro, 2900, "refunded", utc(2026, 11, 11, 8));
  insert_order(db, "O6", u4, s.month_pro, 2900, "cancelled", utc(2026, 11, 12, 8));
  insert_order(db, "O7", u1, s.month_pro, 2500, "completed", utc(2025, 11, 20));       // before the 12 months
  insert_order(db, "O8", u1, s.week, 700, "completed", utc(2025, 12, 1, 15));          // Dec 1 23:00
  insert_order(db, "O9", u4, s.week, 700, "completed", utc(2026, 11, 30, 14, 30));     // Nov 30 22:30
  insert_rental(db, u1, s.month_pro, "active", utc(2026, 12, 20));
  insert_rental(db, u2, s.month_pro, "pending", utc(2026, 12, 1));
  insert_rental(db, u3, s.week, "expired", utc(2026, 11, 20));
  insert_rental(db, u4, s.week, "active", utc(2026, 11, 30, 14));  // past its expiry; the sweeper has not run yet
  insert_rental(db, u4, s.week, "suspended", utc(2027, 1, 1));
  return s;
}

// (metric, month, plan_id) → value, from the summary CSV.
std::map<std::string, std::int64_t> figures_of(const std::vector<std::vector<std::string>>& rows) {
  REQUIRE(rows.size() > 1);
  CHECK(rows[0] == std::vector<std::string>{"metric", "month", "plan_id", "plan_name", "value", "currency"});
  std::map<std::string, std::int64_t> out;
  for (std::size_t i = 1; i < rows.size(); ++i) {
    REQUIRE(rows[i].size() == 6);
    out[rows[i][0] + "|" + rows[i][1] + "|" + rows[i][2]] = std::stoll(rows[i][4]);
  }
  return out;
}

}  // namespace

TEST_CASE("finance figures for a seeded month match the hand-computed ones, months counted in Asia/Shanghai") {
  controller_fixture c("finance");
  c.clk->set(utc(2026, 11, 30, 15));  // 2026-11-30 23:00 in Shanghai
  auto plans = seed(c.db);
  browser finance(c.base_url(), test_origin);
  sign_in_admin(c, finance, "finance");

  auto r = finance.get("/api/v1/admin/finance/summary");
  REQUIRE_MESSAGE(r.status == 200, r.body);
  auto f = json_of(r);
  CHECK(f.at("currency") == "CNY");
  CHECK(f.at("time_zone") == "Asia/Shanghai");
  CHECK(f.at("month").at("month") == "2026-11");
  CHECK(f.at("month").at("starts_at") == "2026-10-31T16:00:00.000000Z");
  CHECK(f.at("month").at("ends_at") == "2026-11-30T16:00:00.000000Z");
  // November: O3 (Nov 1 00:30 local, though October in UTC) + O4 + O9; O5 refunded and O6 cancelled are out.
  CHECK(f.at("revenue_this_month_cents") == 2900 + 700 + 700);
  CHECK(f.at("orders_this_month") == 3);
  CHECK(f.at("revenue_total_cents") == 2900 + 700 + 2900 + 700 + 2500 + 700 + 700);
  CHECK(f.at("orders_total") == 7);
  CHECK(f.at("prepaid_balance_outstanding_cents") == 1500 + 250);
  CHECK(f.at("active_rentals") == 2);           // u1 active, u2 pending; not expired, lapsed or suspended
  CHECK(f.at("new_customers_this_month") == 3);  // u2, u3, u4 (whose only November completion is O9)
  CHECK(f.at("new_registrations_this_month") == 2);  // u2 (Nov 1 00:10 local) and u3, not u4

  auto monthly = f.at("monthly").as_array();
  REQUIRE(monthly.size() == 12);
  CHECK(monthly.front().at("month") == "2025-12");
  CHECK(monthly.back().at("month") == "2026-11");
  std::map<std::string, std::int64_t> by_month;
  for (const auto& m : monthly) {
    by_month[std::string(m.at("month").as_string())] = m.at("revenue_cents").as_int64();
  }
  CHECK(by_month["2025-12"] == 700);   // O8, Dec 1 23:00 local
  CHECK(by_month["2026-09"] == 2900);  // O1
  CHECK(by_month["2026-10"] == 700);   // O2 only: O3 crossed into November
  CHECK(by_month["2026-11"] == 4300);
  CHECK(by_month["2026-05"] == 0);

  auto per_plan = f.at("plans").as_array();
  REQUIRE(per_plan.size() == 2);
  CHECK(per_plan[0].at("plan_id").as_int64() == std::stoll(plans.month_pro));
  CHECK(per_plan[0].at("name") == R"(Month, "Pro")");
  CHECK(per_plan[0].at("revenue_cents") == 2900 + 2900 + 2500);
  CHECK(per_plan[0].at("purchases") == 3);
  CHECK(per_plan[0].at("revenue_this_month_cents") == 2900);
  CHECK(per_plan[0].at("purchases_this_month") == 1);
  CHECK(per_plan[1].at("revenue_cents") == 4 * 700);
  CHECK(per_plan[1].at("purchases") == 4);
  CHECK(per_plan[1].at("revenue_this_month_cents") == 1400);
  CHECK(per_plan[1].at("purchases_this_month") == 2);

  // The CSV forms carry the same numbers.
  for (const std::string path : {"/api/v1/admin/finance/summary?format=csv", "/api/v1/admin/finance/summary.csv"}) {
    auto csv = finance.get(path);
    REQUIRE_MESSAGE(csv.status == 200, csv.body);
    CHECK(csv.headers["content-type"].rfind("text/csv", 0) == 0);
    CHECK(csv.headers["content-disposition"] == "attachment; filename=\"finance-summary-2026-11.csv\"");
    auto rows = parse_csv(csv.body);
    auto v = figures_of(rows);
    CHECK(v["revenue_this_month_cents|2026-11|"] == f.at("revenue_this_month_cents").as_int64());
    CHECK(v["orders_this_month|2026-11|"] == 3);
    CHECK(v["revenue_total_cents||"] == f.at("revenue_total_cents").as_int64());
    CHECK(v["orders_total||"] == 7);
    CHECK(v["prepaid_balance_outstanding_cents||"] == 1750);
    CHECK(v["active_rentals||"] == 2);
    CHECK(v["new_customers_this_month|2026-11|"] == 3);
    CHECK(v["new_registrations_this_month|2026-11|"] == 2);
    for (const auto& [month, cents] : by_month) {
      CHECK_MESSAGE(v["monthly_revenue_cents|" + month + "|"] == cents, month);
    }
    CHECK(v["plan_revenue_cents||" + plans.month_pro] == 8300);
    CHECK(v["plan_purchases||" + plans.month_pro] == 3);
    CHECK(v["plan_revenue_this_month_cents|2026-11|" + plans.week] == 1400);
    CHECK(v["plan_purchases_this_month|2026-11|" + plans.week] == 2);
    bool named = false;
    for (const auto& row : rows) {
      named = named || (row[2] == plans.month_pro && row[3] == R"(Month, "Pro")" && row[5] == "CNY");
    }
    CHECK(named);
  }
  CHECK(finance.get("/api/v1/admin/finance/summary?format=xml").status == 400);

  // In December November is last month (a new sign-in: admin sessions do not last two days).
  c.clk->set(utc(2026, 12, 2));
  browser later(c.base_url(), test_origin);
  sign_in_admin(c, later, "finance");
  auto next = json_of(later.get("/api/v1/admin/finance/summary"));
  CHECK(next.at("month").at("month") == "2026-12");
  CHECK(next.at("revenue_this_month_cents") == 0);
  CHECK(next.at("monthly").as_array()[10].at("revenue_cents") == 4300);
}

TEST_CASE("the order CSV export has every matching order, RFC 4180 quoted, with local times") {
  controller_fixture c("orderexp");
  c.clk->set(utc(2026, 11, 30, 15));
  auto plans = seed(c.db);
  browser finance(c.base_url(), test_origin);
  sign_in_admin(c, finance, "finance");

  auto r = finance.get("/api/v1/admin/orders/export?format=csv");
  REQUIRE_MESSAGE(r.status == 200, r.body);
  CHECK(r.headers["content-type"].rfind("text/csv", 0) == 0);
  CHECK(r.headers["content-disposition"] == "attachment; filename=\"orders.csv\"");
  auto rows = parse_csv(r.body);
  REQUIRE(rows.size() == 10);
  const auto& header = rows[0];
  CHECK(header == std::vector<std::string>{"id", "number", "created_at", "created_at_local", "user_id", "user_email",
                                           "plan_id", "plan_name", "source", "kind", "amount_cents", "currency",
                                           "status"});
  std::int64_t completed = 0;
  std::map<std::string, std::vector<std::string>> by_number;
  for (std::size_t i = 1; i < rows.size(); ++i) {
    REQUIRE(rows[i].size() == header.size());
    by_number[rows[i][1]] = rows[i];
    if (rows[i][12] == "completed") {
      completed += std::stoll(rows[i][10]);
    }
  }
  CHECK(completed == 11100);  // the summary's total revenue
  CHECK(std::stoull(rows[1][0]) > std::stoull(rows[2][0]));  // newest first, like the list
  auto o3 = by_number["O3"];
  CHECK(o3[2] == "2026-10-31T16:30:00.000000Z");
  CHECK(o3[3] == "2026-11-01 00:30:00");
  CHECK(o3[5] == "u2@example.com");
  CHECK(o3[7] == R"(Month, "Pro")");
  CHECK(o3[11] == "CNY");

  auto refunded = parse_csv(finance.get("/api/v1/admin/orders/export?format=csv&status=refunded").body);
  REQUIRE(refunded.size() == 2);
  CHECK(refunded[1][1] == "O5");
  auto u1 = c.db.scalar("SELECT id FROM users WHERE email = 'u1@example.com'");
  CHECK(parse_csv(finance.get("/api/v1/admin/orders/export?user_id=" + u1).body).size() == 5);
  CHECK(finance.get("/api/v1/admin/orders/export?format=pdf").status == 400);
}

TEST_CASE("only admins holding finance:read see the summary and the export") {
  controller_fixture c("finperm");
  browser support(c.base_url(), test_origin);
  sign_in_admin(c, support, "support");  // has orders:read, not finance:read
  CHECK(support.get("/api/v1/admin/orders").status == 200);
  for (const std::string path : {"/api/v1/admin/finance/summary", "/api/v1/admin/finance/summary?format=csv",
                                 "/api/v1/admin/finance/summary.csv", "/api/v1/admin/orders/export?format=csv"}) {
    auto r = support.get(path);
    CHECK_MESSAGE(r.status == 403, path);
    CHECK(r.headers["content-type"].rfind("application/json", 0) == 0);
  }
  browser customer(c.base_url(), test_origin);
  sign_in_customer(customer, unique_name("buyer") + "@example.com");
  CHECK(customer.get("/api/v1/admin/finance/summary").status == 401);
  CHECK(get(c.base_url() + "/api/v1/admin/finance/summary").status == 401);
  browser auditor(c.base_url(), test_origin);
  sign_in_admin(c, auditor, "auditor");
  CHECK(auditor.get("/api/v1/admin/finance/summary").status == 200);
}
