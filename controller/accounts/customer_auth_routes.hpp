#pragma once

#include "controller/app/app_services.hpp"
#include "controller/http/http_types.hpp"
#include "shared/net/net.hpp"

namespace derpmgr::controller::http {
class router;
}

namespace derpmgr::controller::accounts {

// /api/v1/auth/* (register, verify-email, resend, login, logout, password reset) and the customer's own account
// under /api/v1/me (profile, password change, deletion, API tokens).
void add_customer_auth_routes(http::router& routes, app_services& services);

// Deletes (anonymises) a customer account: personal fields cleared, sessions and tokens ended, the account's
// rentals, orders and logs kept; mails the old address and audits. 404 when there is no such live account.
net::awaitable<void> delete_customer(app_services& s, const http::request& req, std::uint64_t user_id,
                                     std::string actor_kind, std::uint64_t actor_id);

}  // namespace derpmgr::controller::accounts
