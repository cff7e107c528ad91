#pragma once

#include <chrono>
#include <string>

#include "controller/app/app_services.hpp"
#include "controller/auth/principal.hpp"
#include "controller/http/http_types.hpp"
#include "shared/net/net.hpp"

namespace derpmgr::controller::auth {

// Sets the HttpOnly session cookie `cookie_name` and a fresh readable CSRF cookie on `res`.
void add_session_cookies(http::response& res, const char* cookie_name, const std::string& token,
                         std::chrono::seconds lifetime);

// Ends the caller's session server-side (tokens have none) and answers with both cookies expired.
net::awaitable<http::response> sign_out(app_services* s, principal who, const char* cookie_name);

}  // namespace derpmgr::controller::auth
