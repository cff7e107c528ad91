#include "controller/commerce/finance_routes.hpp"

#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include "controller/app/controller_config.hpp"
#include "controller/auth/guarded_routes.hpp"
#include "controller/commerce/business_calendar.hpp"
#include "controller/commerce/csv_writer.hpp"
#include "controller/commerce/finance_repository.hpp"
#include "controller/db/connection_pool.hpp"
#include "controller/http/query.hpp"
#include "controller/http/router.hpp"

namespace derpmgr::controller::commerce {

namespace json = boost::json;
using http::api_error;

namespace {

constexpr int months_shown = 12;

json::object month_json(const business_month& m) {
  return json::object{
      {"month", m.label()}, {"starts_at", format_rfc3339(m.starts_at)}, {"ends_at", format_rfc3339(m.ends_at)}};
}

std::string summary_json(const finance_figures& f, const std::string& currency, const std::string& zone,
                         time_point now) {
  json::array monthly;
  for (const auto& m : f.months) {
    auto row = month_json(m.month);
    row["revenue_cents"] = m.revenue_cents;
    row["orders"] = m.orders;
    monthly.emplace_back(std::move(row));
  }
  json::array plans;
  for (const auto& p : f.plans) {
    plans.emplace_back(json::object{{"plan_id", p.plan_id},
                                    {"name", p.plan_name},
                                    {"revenue_cents", p.revenue_cents},
                                    {"purchases", p.purchases},
                                    {"revenue_this_month_cents", p.month_revenue_cents},
                                    {"purchases_this_month", p.month_purchases}});
  }
  return json::serialize(json::object{{"currency", currency},
                                      {"time_zone", zone},
                                      {"as_of", format_rfc3339(now)},
                                      {"month", month_json(f.current().month)},
                                      {"revenue_this_month_cents", f.current().revenue_cents},
                                      {"orders_this_month", f.current().orders},
                                      {"revenue_total_cents", f.revenue_total_cents},
                                      {"orders_total", f.orders_total},
                                      {"monthly", std::move(monthly)},
                                      {"plans", std::move(plans)},
                                      {"prepaid_balance_outstanding_cents", f.prepaid_outstanding_cents},
                                      {"active_rentals", f.active_rentals},
                                      {"new_customers_this_month", f.new_customers},
                                      {"new_registrations_this_month", f.new_registrations}});
}

// One figure per row (metric, month, plan, value), so a spreadsheet can filter it and every JSON figure has a row.
std::string summary_csv(const finance_figures& f, const std::string& currency) {
  csv_writer csv({"metric", "month", "plan_id", "plan_name", "value", "currency"});
  auto money = [&](const std::string& metric, const std::string& month, const std::string& plan_id,
                   const std::string& plan, std::int64_t value) {
    csv.row({metric, month, plan_id, plan, std::to_string(value), currency});
  };
  auto count = [&](const std::string& metric, const std::string& month, const std::string& plan_id,
                   const std::string& plan, std::int64_t value) {
    csv.row({metric, month, plan_id, plan, std::to_string(value), ""});
  };
  auto month = f.current().month.label();
  money("revenue_this_month_cents", month, "", "", f.current().revenue_cents);
  count("orders_this_month", month, "", "", f.current().orders);
  money("revenue_total_cents", "", "", "", f.revenue_total_cents);
  count("orders_total", "", "", "", f.orders_total);
  for (const auto& m : f.months) {
    money("monthly_revenue_cents", m.month.label(), "", "", m.revenue_cents);
    count("monthly_orders", m.month.label(), "", "", m.orders);
  }
  for (const auto& p : f.plans) {
    auto id = std::to_string(p.plan_id);
    money("plan_revenue_cents", "", id, p.plan_name, p.revenue_cents);
    count("plan_purchases", "", id, p.plan_name, p.purchases);
    money("plan_revenue_this_month_cents", month, id, p.plan_name, p.month_revenue_cents);
    count("plan_purchases_this_month", month, id, p.plan_name, p.month_purchases);
  }
  money("prepaid_balance_outstanding_cents", "", "", "", f.prepaid_outstanding_cents);
  count("active_rentals", "", "", "", f.active_rentals);
  count("new_customers_this_month", month, "", "", f.new_customers);
  count("new_registrations_this_month", month, "", "", f.new_registrations);
  return csv.text();
}

net::awaitable<http::response> render_summary(app_services* s, std::string format) {
  if (!format.empty() && format != "json" && format != "csv") {
    throw api_error(400, "invalid_field", "format must be json or csv", "format");
  }
  bool csv = format == "csv";
  business_calendar calendar(s->config.business_time_zone);
  auto now = s->clk.now();
  auto months = calendar.last_months(now, months_shown);
  auto unit = [months, now](sql::Connection& conn) { return finance_repository::load(conn, months, now); };
  auto figures = co_await s->pool.run(std::move(unit));
  if (csv) {
    co_return csv_download("finance-summary-" + figures.current().month.label() + ".csv",
                           summary_csv(figures, s->config.business_currency));
  }
  co_return http::response::json(200, summary_json(figures, s->config.business_currency, calendar.time_zone(), now));
}

net::awaitable<http::response> summary(app_services* s, http::request req, auth::principal) {
  return render_summary(s, http::parse_query(req.query)["format"]);
}

net::awaitable<http::response> summary_as_csv(app_services* s, http::request, auth::principal) {
  return render_summary(s, "csv");
}

}  // namespace

void add_finance_routes(http::router& routes, app_services& services) {
  business_calendar check(services.config.business_time_zone);  // a bad zone fails at start, not per request
  auth::add_admin_route(routes, services, "GET", "/api/v1/admin/finance/summary", "finance:read", summary);
  auth::add_admin_route(routes, services, "GET", "/api/v1/admin/finance/summary.csv", "finance:read", summary_as_csv);
}

}  // namespace derpmgr::controller::commerce
