#include "controller/fleet/node_input.hpp"

#include <arpa/inet.h>

#include <cctype>

#include "controller/http/http_types.hpp"
#include "controller/http/json_body.hpp"

namespace derpmgr::controller::fleet {

namespace json = boost::json;
using http::api_error;

namespace {

bool valid_label(const std::string& s, std::size_t max) {
  if (s.empty() || s.size() > max) {
    return false;
  }
  for (unsigned char c : s) {
    if (!(std::isalnum(c) || c == '-' || c == '_' || c == '.')) {
      return false;
    }
  }
  return true;
}

bool valid_dns_name(const std::string& s) {
  if (s.empty() || s.size() > 253 || s.front() == '.' || s.back() == '.') {
    return false;
  }
  std::size_t label = 0;
  for (unsigned char c : s) {
    if (c == '.') {
      if (label == 0) {
        return false;
      }
      label = 0;
      continue;
    }
    if (!(std::isalnum(c) || c == '-') || ++label > 63) {
      return false;
    }
  }
  return !is_ip_literal(s, 4);
}

bool valid_date(const std::string& s) {
  if (s.size() != 10 || s[4] != '-' || s[7] != '-') {
    return false;
  }
  for (std::size_t i : {0, 1, 2, 3, 5, 6, 8, 9}) {
    if (!std::isdigit(static_cast<unsigned char>(s[i]))) {
      return false;
    }
  }
  int year = std::stoi(s.substr(0, 4));
  int month = std::stoi(s.substr(5, 2));
  int day = std::stoi(s.substr(8, 2));
  if (month < 1 || month > 12 || day < 1) {
    return false;
  }
  // A day the month lacks (2026-02-30) would fail in MariaDB's strict mode as a 500 instead of a 400.
  static constexpr int days_in[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  return day <= days_in[month - 1] + (month == 2 && leap ? 1 : 0);
}

// A string field that may be cleared with null or "".
void maybe_string(const json::object& body, const char* field, std::size_t max, std::string& out) {
  if (!body.contains(field)) {
    return;
  }
  out = http::optional_string(body, field, max).value_or("");
}

void maybe_int(const json::object& body, const char* field, std::int64_t min, std::int64_t max,
               std::int64_t& out) {
  if (body.contains(field)) {
    out = http::require_int(body, field, min, max);
  }
}

}  // namespace

bool is_ip_literal(const std::string& text, int family) {
  unsigned char buf[16];
  return inet_pton(family == 4 ? AF_INET : AF_INET6, text.c_str(), buf) == 1;
}

node_settings node_settings_from(const json::object& body, const node_settings& base, bool creating) {
  node_settings s = base;
  if (creating || body.contains("name")) {
    s.name = http::require_string(body, "name", 64);
    if (!valid_label(s.name, 64)) {
      throw api_error(400, "invalid_field", "name may hold letters, digits, '-', '_' and '.'", "name");
    }
  }
  if (creating || body.contains("region")) {
    s.region = http::require_string(body, "region", 64);
    if (!valid_label(s.region, 64)) {
      throw api_error(400, "invalid_field", "region may hold letters, digits, '-', '_' and '.'", "region");
    }
  }
  maybe_string(body, "public_ipv4", 45, s.public_ipv4);
  maybe_string(body, "public_ipv6", 45, s.public_ipv6);
  maybe_string(body, "dns_name", 253, s.dns_name);
  maybe_string(body, "bind_ip", 45, s.bind_ip);
  maybe_string(body, "provider", 64, s.provider);
  maybe_string(body, "paid_until", 10, s.paid_until);
  maybe_int(body, "port_min", 1024, 65535, s.port_min);
  maybe_int(body, "port_max", 1024, 65535, s.port_max);
  maybe_int(body, "capacity", 1, 65535, s.capacity);
  maybe_int(body, "bandwidth_mbps", 0, 10'000'000, s.bandwidth_mbps);
  maybe_int(body, "traffic_reset_day", 1, 28, s.traffic_reset_day);
  maybe_int(body, "monthly_cost_cents", 0, 1'000'000'000'000, s.monthly_cost_cents);
  if (body.contains("monthly_traffic_cap_bytes")) {
    s.monthly_traffic_cap_bytes =
        static_cast<std::uint64_t>(http::require_int(body, "monthly_traffic_cap_bytes", 0, std::int64_t{1} << 62));
  }
  if (creating && !body.contains("port_min")) {
    throw api_error(400, "missing_field", "port_min is required", "port_min");
  }
  if (creating && !body.contains("port_max")) {
    throw api_error(400, "missing_field", "port_max is required", "port_max");
  }

  if (!s.public_ipv4.empty() && !is_ip_literal(s.public_ipv4, 4)) {
    throw api_error(400, "invalid_field", "public_ipv4 must be an IPv4 address", "public_ipv4");
  }
  if (!s.public_ipv6.empty() && !is_ip_literal(s.public_ipv6, 6)) {
    throw api_error(400, "invalid_field", "public_ipv6 must be an IPv6 address", "public_ipv6");
  }
  if (!s.dns_name.empty() && !valid_dns_name(s.dns_name)) {
    throw api_error(400, "invalid_field", "dns_name must be a host name", "dns_name");
  }
  if (s.public_ipv4.empty() && s.public_ipv6.empty() && s.dns_name.empty()) {
    throw api_error(400, "missing_field", "a node needs public_ipv4, public_ipv6 or dns_name", "public_ipv4");
  }
  if (!s.bind_ip.empty() && !is_ip_literal(s.bind_ip, 4) && !is_ip_literal(s.bind_ip, 6)) {
    throw api_error(400, "invalid_field", "bind_ip must be an IP address", "bind_ip");
  }
  if (s.port_min > s.port_max) {
    throw api_error(400, "invalid_field", "port_min must not exceed port_max", "port_min");
  }
  if (s.capacity > s.port_max - s.port_min + 1) {
    throw api_error(400, "invalid_field", "capacity cannot exceed the number of ports in the range", "capacity");
  }
  if (!s.paid_until.empty() && !valid_date(s.paid_until)) {
    throw api_error(400, "invalid_field", "paid_until must be a date YYYY-MM-DD", "paid_until");
  }
  return s;
}

}  // namespace derpmgr::controller::fleet
