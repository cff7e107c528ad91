// Commerce benchmark (not part of ctest): serial batch generation and concurrent redemption through the real HTTPS
// API of an in-process controller on the test MariaDB. Run it with bench/run_commerce.sh; see bench/README.md.
#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <thread>
#include <vector>

#include "tests/support/api_helpers.hpp"
#include "tests/support/browser.hpp"
#include "tests/support/controller_fixture.hpp"
#include "tests/support/http_client.hpp"
#include "tests/support/test_env.hpp"

using namespace derpmgr;
using namespace derpmgr::test;

namespace {

using steady = std::chrono::steady_clock;

int env_int(const char* name, int fallback) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? std::atoi(v) : fallback;
}

double seconds_since(steady::time_point start) {
  return std::chrono::duration<double>(steady::now() - start).count();
}

// A request with a bearer token and a generous timeout (a 10,000-code batch takes seconds in a sanitizer build).
http_result call(const std::string& base, const std::string& method, const std::string& path, const std::string& token,
                 const std::string& body, const std::string& forwarded_for = "") {
  http_request req;
  req.method = method;
  req.url = base + path;
  req.body = body;
  req.timeout_ms = 600000;
  req.headers = {"Authorization: Bearer " + token, "Content-Type: application/json"};
  if (!forwarded_for.empty()) {
    req.headers.push_back("X-Forwarded-For: " + forwarded_for);
  }
  return fetch(req);
}

std::string admin_token(controller_fixture& c) {
  browser owner(c.base_url(), test_origin);
  sign_in_admin(c, owner, "owner");
  auto t = owner.post("/api/v1/admin/api-tokens",
                      R"({"name":"bench","scopes":["plans:write","serials:write"],"expires_in_days":1})");
  REQUIRE_MESSAGE(t.status == 201, t.body);
  return std::string(json_of(t).at("token").as_string());
}

std::string make_plan(controller_fixture& c, const std::string& token) {
  auto plan = call(c.base_url(), "POST", "/api/v1/admin/plans", token,
                   R"({"name":")" + unique_name("bench") +
                       R"(","duration_days":30,"traffic_quota_bytes":1000,"device_limit":5,"price_cents":990})");
  REQUIRE_MESSAGE(plan.status == 201, plan.body);
  return std::to_string(json_of(plan).at("id").as_int64());
}

std::vector<std::string> codes_of(const http_result& r) {
  std::vector<std::string> codes;
  auto answer = json_of(r);
  for (const auto& v : answer.at("codes").as_array()) {
    codes.emplace_back(v.as_string());
  }
  return codes;
}

// A verified customer with an API token that may redeem, behind its own client address (the per-IP limiter is
// part of what is measured, so each simulated client has one).
struct customer {
  std::string token;
  std::string ip;
};

customer make_customer(controller_fixture& c, int index) {
  customer out;
  out.ip = "10.77." + std::to_string(index / 250) + "." + std::to_string(index % 250 + 1);
  browser b(c.base_url(), test_origin);
  b.set_forwarded_for(out.ip);
  auto email = unique_name("bench") + "@example.com";
  std::string creds = R"({"email":")" + email + R"(","password":"customer passphrase"})";
  REQUIRE(b.post("/api/v1/auth/register", creds).status == 201);
  // Email verification is not what is measured: mark the address verified directly.
  c.db.execute("UPDATE users SET email_verified_at = NOW(6) WHERE email = '" + email + "'");
  REQUIRE(b.post("/api/v1/auth/login", creds).status == 200);
  auto t = b.post("/api/v1/me/api-tokens", R"({"name":"bench","scopes":["rental:write"],"expires_in_days":1})");
  REQUIRE_MESSAGE(t.status == 201, t.body);
  out.token = std::string(json_of(t).at("token").as_string());
  return out;
}

double percentile(std::vector<double> v, double p) {
  if (v.empty()) {
    return 0;
  }
  std::sort(v.begin(), v.end());
  auto i = static_cast<std::size_t>(p * static_cast<double>(v.size() - 1));
  return v[i];
}

}  // namespace

TEST_CASE("bench: generate serial batches") {
  int count = env_int("DERPMGR_BENCH_SERIALS", 10000);
  int rounds = env_int("DERPMGR_BENCH_ROUNDS", 3);
  controller_fixture c("bench");
  auto token = admin_token(c);
  auto plan = make_plan(c, token);
  std::vector<double> rates;
  for (int round = 0; round < rounds; ++round) {
    auto start = steady::now();
    auto r = call(c.base_url(), "POST", "/api/v1/admin/serials/batches", token,
                  R"({"plan_id":)" + plan + R"(,"count":)" + std::to_string(count) + "}");
    double elapsed = seconds_since(start);
    REQUIRE_MESSAGE(r.status == 201, r.status << " " << r.error << " " << r.body.substr(0, 200));
    REQUIRE(codes_of(r).size() == static_cast<std::size_t>(count));
    rates.push_back(count / elapsed);
    std::printf("serials: batch of %d in %.3f s = %.0f codes/s\n", count, elapsed, count / elapsed);
  }
  CHECK(c.db.scalar("SELECT COUNT(*) FROM serials") == std::to_string(count * rounds));
  std::printf("serials: median %.0f codes/s over %d batches of %d\n", percentile(rates, 0.5), rounds, count);
}

TEST_CASE("bench: redeem distinct serials concurrently") {
  int total = env_int("DERPMGR_BENCH_REDEMPTIONS", 1000);
  int clients = env_int("DERPMGR_BENCH_CLIENTS", 50);
  REQUIRE(total % clients == 0);
  REQUIRE(total / clients <= 25);  // stays inside the per-IP attempt budget (30), as real, separate clients would
  controller_fixture c("bench");
  auto token = admin_token(c);
  auto plan = make_plan(c, token);
  auto batch = call(c.base_url(), "POST", "/api/v1/admin/serials/batches", token,
                    R"({"plan_id":)" + plan + R"(,"count":)" + std::to_string(total) + "}");
  REQUIRE(batch.status == 201);
  auto codes = codes_of(batch);

  auto setup = steady::now();
  std::vector<customer> customers;
  for (int i = 0; i < clients; ++i) {
    customers.push_back(make_customer(c, i));
  }
  std::printf("redeem: %d customers signed up in %.1f s (not measured)\n", clients, seconds_since(setup));

  std::vector<std::vector<double>> latencies(static_cast<std::size_t>(clients));
  std::vector<int> ok(static_cast<std::size_t>(clients), 0);
  std::vector<std::thread> threads;
  int per_client = total / clients;
  auto start = steady::now();
  for (int i = 0; i < clients; ++i) {
    threads.emplace_back([&, i] {
      auto k = static_cast<std::size_t>(i);
      for (int j = 0; j < per_client; ++j) {
        const auto& code = codes[static_cast<std::size_t>(i * per_client + j)];
        auto t0 = steady::now();
        auto r = call(c.base_url(), "POST", "/api/v1/me/redeem", customers[k].token,
                      R"({"serial":")" + code + R"("})", customers[k].ip);
        latencies[k].push_back(seconds_since(t0) * 1000);
        ok[k] += r.status == 200 ? 1 : 0;
      }
    });
  }
  for (auto& t : threads) {
    t.join();
  }
  double elapsed = seconds_since(start);
  int succeeded = 0;
  std::vector<double> all;
  for (int i = 0; i < clients; ++i) {
    succeeded += ok[static_cast<std::size_t>(i)];
    all.insert(all.end(), latencies[static_cast<std::size_t>(i)].begin(), latencies[static_cast<std::size_t>(i)].end());
  }
  CHECK(succeeded == total);
  CHECK(c.db.scalar("SELECT COUNT(*) FROM serials WHERE status = 'redeemed'") == std::to_string(total));
  CHECK(c.db.scalar("SELECT COUNT(*) FROM orders") == std::to_string(total));
  std::printf("redeem: %d redemptions by %d concurrent clients in %.3f s = %.0f redemptions/s "
              "(latency p50 %.1f ms, p95 %.1f ms, max %.1f ms)\n",
              succeeded, clients, elapsed, succeeded / elapsed, percentile(all, 0.5), percentile(all, 0.95),
              percentile(all, 1.0));
}
