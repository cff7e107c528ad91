#include "controller/http/router.hpp"

#include <doctest/doctest.h>

#include <boost/json/parse.hpp>

#include "tests/support/run_awaitable.hpp"

using namespace derpmgr::controller::http;

namespace {

handler answer(std::string body) {
  return [body](request& req) -> net::awaitable<response> {
    std::string out = body;
    for (const auto& [k, v] : req.path_params) {
      out += " " + k + "=" + v;
    }
    co_return response::json(200, out);
  };
}

response call(const router& r, const std::string& method, const std::string& path, std::string* route = nullptr) {
  request req;
  req.method = method;
  req.path = path;
  req.request_id = "rid";
  std::string matched;
  auto res = derpmgr::test::run_awaitable(r.handle(req, matched));
  if (route != nullptr) {
    *route = matched;
  }
  return res;
}

boost::json::object error_of(const response& res) {
  return boost::json::parse(res.body).as_object().at("error").as_object();
}

}  // namespace

TEST_CASE("routes match by method and path, with parameters") {
  router r;
  r.add("GET", "/api/v1/admin/nodes", answer("list"));
  r.add("GET", "/api/v1/admin/nodes/{id}", answer("show"));
  r.add("POST", "/api/v1/admin/nodes/{id}/drain", answer("drain"));
  std::string route;
  CHECK(call(r, "GET", "/api/v1/admin/nodes", &route).body == "list");
  CHECK(route == "/api/v1/admin/nodes");
  CHECK(call(r, "GET", "/api/v1/admin/nodes/42", &route).body == "show id=42");
  CHECK(route == "/api/v1/admin/nodes/{id}");
  CHECK(call(r, "POST", "/api/v1/admin/nodes/7/drain").body == "drain id=7");
  CHECK(call(r, "HEAD", "/api/v1/admin/nodes").status == 200);
}

TEST_CASE("literal segments win over parameters regardless of registration order") {
  router r;
  r.add("GET", "/me/{thing}", answer("param"));
  r.add("GET", "/me/rental", answer("literal"));
  CHECK(call(r, "GET", "/me/rental").body == "literal");
  CHECK(call(r, "GET", "/me/other").body == "param thing=other");
}

TEST_CASE("unknown paths are a JSON 404 and wrong methods a JSON 405 with Allow") {
  router r;
  r.add("GET", "/healthz", answer("ok"));
  r.add("DELETE", "/healthz", answer("gone"));
  std::string route;
  auto missing = call(r, "GET", "/nope", &route);
  CHECK(missing.status == 404);
  CHECK(route == "unmatched");
  CHECK(error_of(missing).at("code") == "not_found");
  auto wrong = call(r, "POST", "/healthz");
  CHECK(wrong.status == 405);
  CHECK(error_of(wrong).at("code") == "method_not_allowed");
  REQUIRE(wrong.headers.size() == 1);
  CHECK(wrong.headers[0].first == "Allow");
  CHECK(wrong.headers[0].second == "GET, DELETE");
}

TEST_CASE("handler errors map to the JSON error model at the boundary") {
  router r;
  r.add("POST", "/bad", [](request&) -> net::awaitable<response> {
    throw api_error(400, "invalid_field", "email is not an email address", "email");
    co_return response{};
  });
  r.add("POST", "/boom", [](request&) -> net::awaitable<response> {
    throw std::runtime_error("secret internal detail");
    co_return response{};
  });
  auto bad = call(r, "POST", "/bad");
  CHECK(bad.status == 400);
  auto err = error_of(bad);
  CHECK(err.at("code") == "invalid_field");
  CHECK(err.at("message") == "email is not an email address");
  CHECK(err.at("field") == "email");
  auto boom = call(r, "POST", "/boom");
  CHECK(boom.status == 500);
  CHECK(error_of(boom).at("code") == "internal_error");
  CHECK(boom.body.find("secret") == std::string::npos);
  CHECK(boom.body.find("rid") != std::string::npos);
}

TEST_CASE("registering the same route twice is a programming error") {
  router r;
  r.add("GET", "/a/{x}", answer("1"));
  CHECK_THROWS_AS(r.add("GET", "/a/{y}", answer("2")), std::logic_error);
  CHECK_NOTHROW(r.add("POST", "/a/{x}", answer("3")));
}
