#include "controller/http/client_ip.hpp"

#include <doctest/doctest.h>

#include "shared/config/config_loader.hpp"

using derpmgr::controller::http::trusted_proxies;

TEST_CASE("X-Forwarded-For is believed only from trusted proxies") {
  trusted_proxies proxies({"10.0.0.0/8", "192.0.2.1", "::1"});
  CHECK(proxies.client_ip("203.0.113.9", "198.51.100.1") == "203.0.113.9");  // untrusted peer: header ignored
  CHECK(proxies.client_ip("192.0.2.1", "198.51.100.1") == "198.51.100.1");
  CHECK(proxies.client_ip("192.0.2.1", "198.51.100.1, 10.1.2.3") == "198.51.100.1");  // skips trusted hops
  CHECK(proxies.client_ip("192.0.2.1", "6.6.6.6, 198.51.100.1") == "198.51.100.1");   // spoofed left part ignored
  CHECK(proxies.client_ip("::1", "2001:db8::5") == "2001:db8::5");
  CHECK(proxies.client_ip("192.0.2.1", "garbage") == "192.0.2.1");
  CHECK(proxies.client_ip("192.0.2.1", "") == "192.0.2.1");
  CHECK(proxies.contains("::ffff:10.9.9.9"));
  CHECK_FALSE(proxies.contains("11.0.0.1"));
}

TEST_CASE("a bad proxy entry is a configuration error naming it") {
  CHECK_THROWS_WITH_AS(trusted_proxies({"10.0.0.0/33"}), doctest::Contains("10.0.0.0/33"), derpmgr::config_error);
  CHECK_THROWS_WITH_AS(trusted_proxies({"proxy.example"}), doctest::Contains("proxy.example"),
                       derpmgr::config_error);
}
