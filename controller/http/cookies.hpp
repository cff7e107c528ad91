#pragma once

#include <chrono>
#include <map>
#include <string>

#include "controller/http/http_types.hpp"

namespace derpmgr::controller::http {

// Cookies the browser sent (first value wins for a repeated name).
std::map<std::string, std::string> parse_cookies(const std::string& header);

// A `__Host-` cookie: Secure, Path=/, no Domain, SameSite=Strict; HttpOnly unless the page must read it (CSRF).
std::string host_cookie(const std::string& name, const std::string& value, std::chrono::seconds max_age,
                        bool http_only);
// A Set-Cookie value that deletes `name`.
std::string expired_cookie(const std::string& name);

// Compares secrets in time independent of where they differ.
bool constant_time_equal(const std::string& a, const std::string& b);

}  // namespace derpmgr::controller::http
