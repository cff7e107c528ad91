#include "controller/http/cookies.hpp"

#include <doctest/doctest.h>

using namespace derpmgr::controller::http;

TEST_CASE("cookies parse and __Host- cookies carry the required attributes") {
  auto c = parse_cookies("a=1; __Host-derpmgr_session=abc; b=\"q\"; a=2");
  CHECK(c["a"] == "1");
  CHECK(c["__Host-derpmgr_session"] == "abc");
  CHECK(c["b"] == "q");
  auto set = host_cookie("__Host-x", "v", std::chrono::seconds(60), true);
  CHECK(set.find("Path=/") != std::string::npos);
  CHECK(set.find("Secure") != std::string::npos);
  CHECK(set.find("SameSite=Strict") != std::string::npos);
  CHECK(set.find("HttpOnly") != std::string::npos);
  CHECK(set.find("Domain") == std::string::npos);
  CHECK(host_cookie("__Host-csrf", "v", std::chrono::seconds(60), false).find("HttpOnly") == std::string::npos);
  CHECK(expired_cookie("__Host-x").find("Max-Age=0") != std::string::npos);
  CHECK(constant_time_equal("abc", "abc"));
  CHECK_FALSE(constant_time_equal("abc", "abd"));
  CHECK_FALSE(constant_time_equal("abc", "abcd"));
}
