#include "controller/fleet/node_input.hpp"

#include <doctest/doctest.h>

#include <boost/json/parse.hpp>
#include <string>

#include "controller/http/http_types.hpp"

using namespace derpmgr::controller;
using namespace derpmgr::controller::fleet;
namespace json = boost::json;

namespace {

json::object valid_body() {
  return json::object{{"name", "fra-1"},          {"region", "eu-central"}, {"public_ipv4", "203.0.113.7"},
                      {"port_min", 40000},        {"port_max", 40099},      {"capacity", 50}};
}

node_settings create(const json::object& body) { return node_settings_from(body, node_settings{}, true); }

// The api_error a body makes (status 0 when it is accepted).
http::api_error error_of(const json::object& body, const node_settings& base = {}, bool creating = true) {
  try {
    node_settings_from(body, base, creating);
  } catch (const http::api_error& e) {
    return e;
  }
  return http::api_error(0, "", "");
}

// The field named by the 400 for `body` with `field` set to `value`.
std::string bad_field(const std::string& field, json::value value) {
  auto body = valid_body();
  body[field] = std::move(value);
  auto e = error_of(body);
  CHECK_MESSAGE(e.status() == 400, field);
  return e.field();
}

}  // namespace

TEST_CASE("a complete body becomes node settings") {
  auto body = valid_body();
  body["public_ipv6"] = "2001:db8::7";
  body["dns_name"] = "fra-1.derp.example.com";
  body["bind_ip"] = "10.0.0.7";
  body["bandwidth_mbps"] = 1000;
  body["monthly_traffic_cap_bytes"] = 20'000'000'000'000LL;
  body["traffic_reset_day"] = 15;
  body["provider"] = "Hetzner";
  body["monthly_cost_cents"] = 499;
  body["paid_until"] = "2027-02-28";
  auto s = create(body);
  CHECK(s.name == "fra-1");
  CHECK(s.region == "eu-central");
  CHECK(s.public_ipv4 == "203.0.113.7");
  CHECK(s.public_ipv6 == "2001:db8::7");
  CHECK(s.dns_name == "fra-1.derp.example.com");
  CHECK(s.bind_ip == "10.0.0.7");
  CHECK(s.port_min == 40000);
  CHECK(s.port_max == 40099);
  CHECK(s.capacity == 50);
  CHECK(s.bandwidth_mbps == 1000);
  CHECK(s.monthly_traffic_cap_bytes == 20'000'000'000'000ULL);
  CHECK(s.traffic_reset_day == 15);
  CHECK(s.provider == "Hetzner");
  CHECK(s.monthly_cost_cents == 499);
  CHECK(s.paid_until == "2027-02-28");
  CHECK(s.public_host() == "fra-1.derp.example.com");  // the DNS name wins over the addresses
}

TEST_CASE("creating requires name, region, a public address and the port range") {
  for (const char* field : {"name", "region", "port_min", "port_max"}) {
    auto body = valid_body();
    body.erase(field);
    auto e = error_of(body);
    CHECK_MESSAGE(e.status() == 400, field);
    CHECK(e.field() == field);
  }
  auto body = valid_body();
  body.erase("public_ipv4");
  auto e = error_of(body);
  CHECK(e.status() == 400);
  CHECK(e.code() == "missing_field");
  CHECK(e.field() == "public_ipv4");
  // Any one public address is enough.
  body["public_ipv6"] = "2001:db8::1";
  CHECK(create(body).public_host() == "2001:db8::1");
  body.erase("public_ipv6");
  body["dns_name"] = "derp.example.net";
  CHECK(create(body).public_host() == "derp.example.net");
}

TEST_CASE("each invalid field names itself") {
  CHECK(bad_field("name", "has space") == "name");
  CHECK(bad_field("name", "") == "name");
  CHECK(bad_field("name", 5) == "name");
  CHECK(bad_field("region", "eu/central") == "region");
  CHECK(bad_field("public_ipv4", "203.0.113.300") == "public_ipv4");
  CHECK(bad_field("public_ipv4", "2001:db8::1") == "public_ipv4");
  CHECK(bad_field("public_ipv6", "203.0.113.7") == "public_ipv6");  // an IPv4 address in public_ipv6
  CHECK(bad_field("public_ipv6", "fe80::1::2") == "public_ipv6");
  CHECK(bad_field("bind_ip", "localhost") == "bind_ip");
  CHECK(bad_field("port_min", 80) == "port_min");
  CHECK(bad_field("port_max", 70000) == "port_max");
  CHECK(bad_field("port_min", "40000") == "port_min");
  CHECK(bad_field("capacity", 0) == "capacity");
  CHECK(bad_field("bandwidth_mbps", -1) == "bandwidth_mbps");
  CHECK(bad_field("traffic_reset_day", 29) == "traffic_reset_day");
  CHECK(bad_field("traffic_reset_day", 0) == "traffic_reset_day");
  CHECK(bad_field("monthly_cost_cents", -5) == "monthly_cost_cents");
  CHECK(bad_field("monthly_traffic_cap_bytes", -1) == "monthly_traffic_cap_bytes");
  CHECK(bad_field("provider", json::string(std::string(65, 'p'))) == "provider");
}

TEST_CASE("a port range upside down, or smaller than the capacity, is refused") {
  auto body = valid_body();
  body["port_min"] = 40100;
  body["port_max"] = 40000;
  CHECK(error_of(body).field() == "port_min");

  body = valid_body();
  body["port_max"] = 40009;  // ten ports
  body["capacity"] = 11;
  auto e = error_of(body);
  CHECK(e.status() == 400);
  CHECK(e.field() == "capacity");
  body["capacity"] = 10;
  CHECK(create(body).capacity == 10);
}

TEST_CASE("dns_name must be a host name") {
  for (const char* bad : {"exa mple.com", "example..com", ".example.com", "example.com.", "under_score.example.com",
                          "203.0.113.7", "ex!ample.com"}) {
    CHECK_MESSAGE(bad_field("dns_name", bad) == "dns_name", bad);
  }
  CHECK(bad_field("dns_name", json::string(std::string(64, 'a') + ".example.com")) == "dns_name");  // a label over 63
  auto body = valid_body();
  body["dns_name"] = std::string(63, 'a') + ".example-1.com";
  CHECK(create(body).dns_name.size() == 63 + 14);
}

TEST_CASE("paid_until must be a real calendar date") {
  for (const char* bad : {"2026-13-01", "2026-00-10", "2026-01-32", "2026-1-01", "26-01-01", "2026/01/01",
                          "tomorrow", "2026-02-30", "2027-02-29", "2026-04-31"}) {
    CHECK_MESSAGE(bad_field("paid_until", bad) == "paid_until", bad);
  }
  auto body = valid_body();
  for (const char* good : {"2028-02-29", "2026-12-31", "2026-04-30"}) {
    body["paid_until"] = good;
    CHECK_MESSAGE(create(body).paid_until == good, good);
  }
  body["paid_until"] = nullptr;  // cleared
  CHECK(create(body).paid_until.empty());
}

TEST_CASE("a partial update changes only the fields it carries") {
  auto base = create(valid_body());
  base.provider = "Hetzner";
  base.paid_until = "2027-01-31";
  auto s = node_settings_from(json::object{{"capacity", 20}}, base, false);
  CHECK(s.capacity == 20);
  CHECK(s.name == base.name);
  CHECK(s.region == base.region);
  CHECK(s.public_ipv4 == base.public_ipv4);
  CHECK(s.port_min == base.port_min);
  CHECK(s.port_max == base.port_max);
  CHECK(s.provider == "Hetzner");
  CHECK(s.paid_until == "2027-01-31");

  // Clearing one address is fine while another remains; clearing the last one is not.
  auto with_dns = node_settings_from(json::object{{"dns_name", "d.example.com"}}, base, false);
  auto cleared = node_settings_from(json::object{{"public_ipv4", nullptr}}, with_dns, false);
  CHECK(cleared.public_ipv4.empty());
  CHECK(cleared.public_host() == "d.example.com");
  auto e = error_of(json::object{{"dns_name", ""}}, cleared, false);
  CHECK(e.status() == 400);
  CHECK(e.field() == "public_ipv4");

  // The result is validated as a whole: a narrower range must still hold the capacity.
  auto narrow = error_of(json::object{{"port_max", 40010}}, base, false);
  CHECK(narrow.status() == 400);
  CHECK(narrow.field() == "capacity");

  // Name and region are not required on update, but are checked when present.
  CHECK(error_of(json::object{{"name", "bad name"}}, base, false).field() == "name");
}

TEST_CASE("is_ip_literal tells the families apart") {
  CHECK(is_ip_literal("127.0.0.2", 4));
  CHECK_FALSE(is_ip_literal("127.0.0.2", 6));
  CHECK(is_ip_literal("::1", 6));
  CHECK_FALSE(is_ip_literal("::1", 4));
  CHECK_FALSE(is_ip_literal("", 4));
  CHECK_FALSE(is_ip_literal("example.com", 6));
}
