#include "controller/auth/session_cookies.hpp"

#include "controller/auth/authenticator.hpp"
#include "controller/auth/session_store.hpp"
#include "controller/db/connection_pool.hpp"
#include "controller/http/cookies.hpp"
#include "shared/tls/random.hpp"

namespace derpmgr::controller::auth {

void add_session_cookies(http::response& res, const char* cookie_name, const std::string& token,
                         std::chrono::seconds lifetime) {
  res.headers.emplace_back("Set-Cookie", http::host_cookie(cookie_name, token, lifetime, true));
  res.headers.emplace_back("Set-Cookie", http::host_cookie(csrf_cookie, random_hex(16), lifetime, false));
}

net::awaitable<http::response> sign_out(app_services* s, principal who, const char* cookie_name) {
  if (who.session_id != 0) {
    auto id = who.session_id;
    auto unit = [s, id](sql::Connection& conn) { s->sessions.revoke(conn, id); };
    co_await s->pool.run(std::move(unit));
  }
  auto res = http::response::json(200, R"({"status":"signed_out"})");
  res.headers.emplace_back("Set-Cookie", http::expired_cookie(cookie_name));
  res.headers.emplace_back("Set-Cookie", http::expired_cookie(csrf_cookie));
  co_return res;
}

}  // namespace derpmgr::controller::auth
