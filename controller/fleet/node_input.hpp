#pragma once

#include <boost/json/object.hpp>

#include "controller/fleet/node_repository.hpp"

namespace derpmgr::controller::fleet {

// Applies the fields present in `body` on top of `base` and validates the result as a whole; throws
// http::api_error 400 naming the first bad field. For a new node `base` is the defaults and name, region, a public
// address and the port range are required.
node_settings node_settings_from(const boost::json::object& body, const node_settings& base, bool creating);

// True for a literal IPv4 (family 4) or IPv6 (family 6) address.
bool is_ip_literal(const std::string& text, int family);

}  // namespace derpmgr::controller::fleet
