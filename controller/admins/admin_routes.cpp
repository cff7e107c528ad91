#include "controller/admins/admin_routes.hpp"

#include <cppconn/connection.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <boost/json/value_from.hpp>

#include "controller/accounts/customer_auth_routes.hpp"
#include "controller/accounts/email_address.hpp"
#include "controller/accounts/user_repository.hpp"
#include "controller/admins/admin_repository.hpp"
#include "controller/auth/api_token_store.hpp"
#include "controller/auth/authenticator.hpp"
#include "controller/auth/guarded_routes.hpp"
#include "controller/auth/crypto/password_hasher.hpp"
#include "controller/auth/crypto/password_policy.hpp"
#include "controller/auth/mfa_service.hpp"
#include "controller/auth/request_guard.hpp"
#include "controller/auth/session_cookies.hpp"
#include "controller/auth/session_store.hpp"
#include "controller/db/connection_pool.hpp"
#include "controller/http/cookies.hpp"
#include "controller/http/json_body.hpp"
#include "controller/http/query.hpp"
#include "controller/http/router.hpp"
#include "shared/clock/clock.hpp"
#include "shared/tls/random.hpp"

namespace derpmgr::controller::admins {

namespace json = boost::json;
using auth::principal;
using auth::principal_kind;
using http::api_error;
using http::request;
using http::response;

namespace {

response json_response(int status, const json::value& body) { return response::json(status, json::serialize(body)); }

std::string email_field(const json::object& body) {
  auto email = accounts::normalize_email(http::require_string(body, "email", 254));
  if (!email) {
    throw api_error(400, "invalid_field", "email is not a valid email address", "email");
  }
  return *email;
}

std::vector<std::string> string_list(const json::object& body, const std::string& field) {
  auto it = body.find(field);
  if (it == body.end() || !it->value().is_array()) {
    throw api_error(400, "invalid_field", field + " must be a list of strings", field);
  }
  std::vector<std::string> out;
  for (const auto& v : it->value().as_array()) {
    if (!v.is_string() || v.as_string().size() > 64) {
      throw api_error(400, "invalid_field", field + " must be a list of strings", field);
    }
    out.emplace_back(v.as_string());
  }
  return out;
}

json::object admin_json(const admin_row& a) {
  json::array roles;
  for (const auto& r : a.roles) {
    roles.emplace_back(r);
  }
  return json::object{{"id", a.id},
                      {"email", a.email},
                      {"status", a.status},
                      {"roles", std::move(roles)},
                      {"created_at", format_rfc3339(a.created_at)}};
}

json::array permissions_json(const auth::permission_set& perms) {
  json::array out;
  for (const auto& p : perms) {
    out.emplace_back(p);
  }
  return out;
}

// Resolves role names to rows, refusing unknown roles and permissions the granting admin lacks.
std::vector<std::uint64_t> grantable_roles(sql::Connection& conn, const std::vector<std::string>& names,
                                           const auth::permission_set& granter) {
  std::vector<std::uint64_t> ids;
  for (const auto& name : names) {
    auto role = admin_repository::role_by_name(conn, name);
    if (!role) {
      throw api_error(400, "invalid_field", "no such role: " + name, "roles");
    }
    for (const auto& p : role->permissions) {
      if (granter.count(p) == 0) {
        throw api_error(403, "cannot_grant", "you cannot grant " + p + ", which you do not hold", "roles");
      }
    }
    ids.push_back(role->id);
  }
  return ids;
}

// ---- authentication ----

net::awaitable<response> login(app_services* s, request req) {
  s->authn.check_origin(req);
  auto body = http::parse_json_object(req);
  auto email = email_field(body);
  auto password = http::require_string(body, "password", 1024);
  auto totp_code = http::optional_string(body, "totp_code", 32);
  auth::limit_attempt(*s, req, "admin_login", email);
  auto unit = [email](sql::Connection& conn) { return admin_repository::by_email(conn, email); };
  auto admin = co_await s->pool.run(std::move(unit));
  if (!admin) {
    co_await auth::verify_password(*s, "", password);
    co_await auth::record_auth_event(*s, req, "admin", 0, email, "login_failed");
    throw api_error(401, "invalid_credentials", "email or password is wrong");
  }
  if (!co_await auth::verify_password(*s, admin->password_hash, password)) {
    co_await auth::record_auth_event(*s, req, "admin", admin->id, email, "login_failed");
    throw api_error(401, "invalid_credentials", "email or password is wrong");
  }
  if (admin->status != "active") {
    throw api_error(403, "account_disabled", "this account is " + admin->status);
  }
  bool enrolled = co_await auth::has_second_factor(*s, principal_kind::admin, admin->id);
  if (enrolled) {
    co_await auth::check_second_factor(*s, principal_kind::admin, admin->id, totp_code);
  }
  auth::clear_attempts(*s, "admin_login", email);
  auto policy = s->authn.settings().admin;
  auto id = admin->id;
  auto ip = req.remote_ip;
  auto ua = auth::user_agent_of(req);
  auto unit2 = [s, id, enrolled, policy, ip, ua](sql::Connection& conn) {
    return s->sessions.create(conn, principal_kind::admin, id, enrolled, policy, ip, ua);
  };
  auto token = co_await s->pool.transact(std::move(unit2));
  co_await auth::record_auth_event(*s, req, "admin", id, email, "login");
  auto out = admin_json(*admin);
  out["mfa_enabled"] = enrolled;
  out["mfa_required"] = !enrolled;
  auto res = json_response(200, json::object{{"admin", std::move(out)}});
  auth::add_session_cookies(res, auth::admin_cookie, token, policy.absolute);
  co_return res;
}

net::awaitable<response> logout(app_services* s, request req) {
  auto who = co_await s->authn.require(req, principal_kind::admin, true);
  co_return co_await auth::sign_out(s, std::move(who), auth::admin_cookie);
}

net::awaitable<response> mfa_setup(app_services* s, request req) {
  auto who = co_await s->authn.require(req, principal_kind::admin, true);
  auto enrolment = co_await auth::begin_totp_setup(*s, principal_kind::admin, who.id, who.email);
  co_return json_response(200, json::object{{"secret", enrolment.secret_base32},
                                            {"otpauth_uri", enrolment.otpauth_uri},
                                            {"qr_svg", enrolment.qr_svg}});
}

net::awaitable<response> mfa_enable(app_services* s, request req) {
  auto who = co_await s->authn.require(req, principal_kind::admin, true);
  auto body = http::parse_json_object(req);
  auto code = http::require_string(body, "code", 16);
  auto event = auth::audit_for(req, "admin", who.id, "admin.mfa.enabled", "admin:" + std::to_string(who.id));
  auto codes = co_await auth::confirm_totp_setup(*s, principal_kind::admin, who.id, code, event);
  // MFA step-up: a new session, the old one ends.
  auto policy = s->authn.settings().admin;
  auto id = who.id;
  auto old_session = who.session_id;
  auto ip = req.remote_ip;
  auto ua = auth::user_agent_of(req);
  auto unit4 = [s, id, old_session, policy, ip, ua](sql::Connection& conn) {
    if (old_session != 0) {
      s->sessions.revoke(conn, old_session);
    }
    return s->sessions.create(conn, principal_kind::admin, id, true, policy, ip, ua);
  };
  auto token = co_await s->pool.transact(std::move(unit4));
  json::array list;
  for (const auto& c : codes) {
    list.emplace_back(c);
  }
  auto res = json_response(200, json::object{{"recovery_codes", std::move(list)}});
  res.headers.emplace_back("Set-Cookie", http::host_cookie(auth::admin_cookie, token, policy.absolute, true));
  co_return res;
}

net::awaitable<response> admin_me(app_services* s, request req) {
  auto who = co_await s->authn.require(req, principal_kind::admin, true);
  auto id = who.id;
  auto unit5 = [id](sql::Connection& conn) { return admin_repository::by_id(conn, id); };
  auto admin = co_await s->pool.run(std::move(unit5));
  auto out = admin_json(*admin);
  out["permissions"] = permissions_json(who.permissions);
  out["mfa_passed"] = who.mfa_passed;
  co_return json_response(200, out);
}

// ---- admins and roles ----

net::awaitable<response> list_admins(app_services* s, request, principal) {
  auto unit6 = [](sql::Connection& conn) { return admin_repository::list(conn); };
  auto admins = co_await s->pool.run(std::move(unit6));
  json::array items;
  for (const auto& a : admins) {
    items.emplace_back(admin_json(a));
  }
  co_return json_response(200, json::object{{"items", std::move(items)}, {"next_cursor", nullptr}});
}

net::awaitable<response> create_admin_route(app_services* s, request req, principal who) {
  auto body = http::parse_json_object(req);
  auto email = email_field(body);
  auto password = http::require_string(body, "password", 1024);
  auto roles = string_list(body, "roles");
  auto verdict = s->passwords.check(password);
  if (!verdict.ok()) {
    throw api_error(400, "weak_password", verdict.message, "password");
  }
  auto hash = co_await s->hasher.hash(password);
  auto now = s->clk.now();
  auto event = auth::audit_for(req, "admin", who.id, "admin.created", "");
  auto perms = who.permissions;
  auto unit7 = [s, email, hash, roles, now, event, perms](sql::Connection& conn) mutable {
    auto role_ids = grantable_roles(conn, roles, perms);
    auto admin_id = admin_repository::insert(conn, email, hash, now);
    if (!admin_id) {
      throw api_error(409, "email_taken", "an admin with this email already exists", "email");
    }
    admin_repository::set_roles(conn, *admin_id, role_ids);
    event.target = "admin:" + std::to_string(*admin_id);
    event.details = json::object{{"email", email}, {"roles", json::value_from(roles)}};
    s->audit(conn, event);
    return *admin_id;
  };
  auto id = co_await s->pool.transact(std::move(unit7));
  co_return json_response(201, json::object{{"id", id}, {"email", email}});
}

net::awaitable<response> set_admin_roles(app_services* s, request req, principal who) {
  auto target = http::id_param(req);
  auto body = http::parse_json_object(req);
  auto roles = string_list(body, "roles");
  auto event = auth::audit_for(req, "admin", who.id, "admin.roles.changed", "admin:" + std::to_string(target));
  event.details = json::object{{"roles", json::value_from(roles)}};
  auto perms = who.permissions;
  auto unit8 = [s, target, roles, event, perms](sql::Connection& conn) {
    auto admin = admin_repository::by_id(conn, target, true);
    if (!admin) {
      throw api_error(404, "not_found", "no such admin");
    }
    auto role_ids = grantable_roles(conn, roles, perms);
    bool was_owner = std::find(admin->roles.begin(), admin->roles.end(), "owner") != admin->roles.end();
    bool stays_owner = std::find(roles.begin(), roles.end(), "owner") != roles.end();
    if (was_owner && !stays_owner) {
      if (admin_repository::other_active_owners(conn, target) == 0) {
        throw api_error(409, "last_owner", "the last owner cannot lose the owner role");
      }
    }
    admin_repository::set_roles(conn, target, role_ids);
    s->audit(conn, event);
  };
  co_await s->pool.transact(std::move(unit8));
  co_return json_response(200, json::object{{"id", target}, {"roles", json::value_from(roles)}});
}

net::awaitable<response> disable_admin(app_services* s, request req, principal who) {
  auto target = http::id_param(req);
  auto event = auth::audit_for(req, "admin", who.id, "admin.disabled", "admin:" + std::to_string(target));
  auto unit9 = [s, target, event](sql::Connection& conn) {
    auto admin = admin_repository::by_id(conn, target, true);
    if (!admin) {
      throw api_error(404, "not_found", "no such admin");
    }
    bool owner = std::find(admin->roles.begin(), admin->roles.end(), "owner") != admin->roles.end();
    if (owner && admin_repository::other_active_owners(conn, target) == 0) {
      throw api_error(409, "last_owner", "the last owner cannot be disabled");
    }
    admin_repository::set_status(conn, target, "disabled");
    s->sessions.revoke_all(conn, principal_kind::admin, target);
    s->tokens.revoke_all(conn, principal_kind::admin, target);
    s->audit(conn, event);
  };
  co_await s->pool.transact(std::move(unit9));
  co_return json_response(200, json::object{{"id", target}, {"status", "disabled"}});
}

net::awaitable<response> reset_admin_mfa(app_services* s, request req, principal who) {
  auto target = http::id_param(req);
  if (target == who.id) {
    throw api_error(409, "own_mfa", "another admin must reset your two-factor authentication");
  }
  auto event = auth::audit_for(req, "admin", who.id, "admin.mfa.reset", "admin:" + std::to_string(target));
  auto unit10 = [s, target, event](sql::Connection& conn) {
    if (!admin_repository::by_id(conn, target, true)) {
      throw api_error(404, "not_found", "no such admin");
    }
    auth::forget_second_factor(conn, principal_kind::admin, target);
    s->sessions.revoke_all(conn, principal_kind::admin, target);
    s->audit(conn, event);
  };
  co_await s->pool.transact(std::move(unit10));
  co_return json_response(200, json::object{{"id", target}, {"mfa_enabled", false}});
}

net::awaitable<response> list_roles(app_services* s, request, principal) {
  auto unit11 = [](sql::Connection& conn) { return admin_repository::roles(conn); };
  auto roles = co_await s->pool.run(std::move(unit11));
  json::array items;
  for (const auto& r : roles) {
    items.emplace_back(json::object{
        {"id", r.id}, {"name", r.name}, {"built_in", r.built_in}, {"permissions", permissions_json(r.permissions)}});
  }
  co_return json_response(200, json::object{{"items", std::move(items)}, {"next_cursor", nullptr}});
}

net::awaitable<response> create_role(app_services* s, request req, principal who) {
  auto body = http::parse_json_object(req);
  auto name = http::require_string(body, "name", 64);
  auto list = string_list(body, "permissions");
  auth::permission_set perms;
  for (const auto& p : list) {
    if (!auth::is_known_permission(p)) {
      throw api_error(400, "invalid_field", "unknown permission " + p, "permissions");
    }
    if (!who.can(p)) {
      throw api_error(403, "cannot_grant", "you cannot grant " + p + ", which you do not hold", "permissions");
    }
    perms.insert(p);
  }
  auto event = auth::audit_for(req, "admin", who.id, "role.created", "role:" + name);
  event.details = json::object{{"permissions", json::value_from(list)}};
  auto unit12 = [s, name, perms, event](sql::Connection& conn) {
    auto role_id = admin_repository::insert_role(conn, name, perms);
    if (!role_id) {
      throw api_error(409, "name_taken", "a role with this name exists", "name");
    }
    s->audit(conn, event);
    return *role_id;
  };
  auto id = co_await s->pool.transact(std::move(unit12));
  co_return json_response(201, json::object{{"id", id}, {"name", name}, {"permissions", permissions_json(perms)}});
}

// ---- customers ----

json::object user_json(const accounts::user_row& u) {
  json::object o{{"id", u.id},
                 {"email", u.email.empty() ? json::value(nullptr) : json::value(u.email)},
                 {"email_verified", u.email_verified},
                 {"locale", u.locale},
                 {"balance_cents", u.balance_cents},
                 {"status", u.status},
                 {"created_at", format_rfc3339(u.created_at)}};
  o["deleted_at"] = u.deleted_at ? json::value(format_rfc3339(*u.deleted_at)) : json::value(nullptr);
  return o;
}

net::awaitable<response> list_users(app_services* s, request req, principal) {
  auto q = http::parse_query(req.query);
  int limit = http::limit_param(q, 50, 500);
  std::optional<std::uint64_t> before;
  if (!q["cursor"].empty()) {
    try {
      before = std::stoull(q["cursor"]);
    } catch (const std::exception&) {
      throw api_error(400, "invalid_field", "cursor is not valid", "cursor");
    }
  }
  auto status = q["status"];
  auto email = q["email"];
  auto unit13 = [status, email, before, limit](sql::Connection& conn) {
    return accounts::user_repository::list(conn, status, email, before, limit);
  };
  auto page = co_await s->pool.run(std::move(unit13));
  json::array items;
  for (const auto& u : page.items) {
    items.emplace_back(user_json(u));
  }
  co_return json_response(200, json::object{{"items", std::move(items)},
                                            {"next_cursor", page.next_after ? json::value(std::to_string(*page.next_after))
                                                                            : json::value(nullptr)}});
}

net::awaitable<response> show_user(app_services* s, request req, principal) {
  auto id = http::id_param(req);
  auto unit14 = [id](sql::Connection& conn) { return accounts::user_repository::by_id(conn, id); };
  auto user = co_await s->pool.run(std::move(unit14));
  if (!user) {
    throw api_error(404, "not_found", "no such user");
  }
  co_return json_response(200, user_json(*user));
}

net::awaitable<response> delete_user(app_services* s, request req, principal who) {
  auto id = http::id_param(req);
  co_await accounts::delete_customer(*s, req, id, "admin", who.id);
  co_return json_response(200, json::object{{"id", id}, {"status", "deleted"}});
}

net::awaitable<response> disable_user(app_services* s, request req, principal who) {
  auto id = http::id_param(req);
  auto event = auth::audit_for(req, "admin", who.id, "user.disabled", "user:" + std::to_string(id));
  auto unit15 = [s, id, event](sql::Connection& conn) {
    auto user = accounts::user_repository::by_id(conn, id, true);
    if (!user || user->status == "deleted") {
      throw api_error(404, "not_found", "no such user");
    }
    accounts::user_repository::set_status(conn, id, "disabled");
    s->sessions.revoke_all(conn, principal_kind::customer, id);
    s->audit(conn, event);
  };
  co_await s->pool.transact(std::move(unit15));
  co_return json_response(200, json::object{{"id", id}, {"status", "disabled"}});
}

}  // namespace

void add_admin_routes(http::router& routes, app_services& services) {
  auto* s = &services;
  routes.add("POST", "/api/v1/admin/auth/login", [s](request& req) { return login(s, req); });
  routes.add("POST", "/api/v1/admin/auth/logout", [s](request& req) { return logout(s, req); });
  routes.add("POST", "/api/v1/admin/auth/mfa/setup", [s](request& req) { return mfa_setup(s, req); });
  routes.add("POST", "/api/v1/admin/auth/mfa/enable", [s](request& req) { return mfa_enable(s, req); });
  routes.add("GET", "/api/v1/admin/me", [s](request& req) { return admin_me(s, req); });

  auth::add_admin_route(routes, services, "GET", "/api/v1/admin/admins", "admins:read", list_admins);
  auth::add_admin_route(routes, services, "POST", "/api/v1/admin/admins", "admins:write", create_admin_route);
  auth::add_admin_route(routes, services, "PUT", "/api/v1/admin/admins/{id}/roles", "admins:write", set_admin_roles);
  auth::add_admin_route(routes, services, "POST", "/api/v1/admin/admins/{id}/disable", "admins:write", disable_admin);
  auth::add_admin_route(routes, services, "POST", "/api/v1/admin/admins/{id}/mfa/reset", "admins:write", reset_admin_mfa);
  auth::add_admin_route(routes, services, "GET", "/api/v1/admin/roles", "admins:read", list_roles);
  auth::add_admin_route(routes, services, "POST", "/api/v1/admin/roles", "admins:write", create_role);
  auth::add_admin_route(routes, services, "GET", "/api/v1/admin/users", "users:read", list_users);
  auth::add_admin_route(routes, services, "GET", "/api/v1/admin/users/{id}", "users:read", show_user);
  auth::add_admin_route(routes, services, "DELETE", "/api/v1/admin/users/{id}", "users:write", delete_user);
  auth::add_admin_route(routes, services, "POST", "/api/v1/admin/users/{id}/disable", "users:write", disable_user);
}

void create_admin(app_services& services, const std::string& email_input, const std::string& password,
                  const std::string& role) {
  auto email = accounts::normalize_email(email_input);
  if (!email) {
    throw std::runtime_error("--email is not a valid email address");
  }
  auto verdict = services.passwords.check(password);
  if (!verdict.ok()) {
    throw std::runtime_error("password refused: " + verdict.message);
  }
  net::io_context ioc;
  auto hashed = net::co_spawn(ioc, services.hasher.hash(password), net::use_future);
  ioc.run();
  auto hash = hashed.get();
  auto now = services.clk.now();
  auto* s = &services;
  services.pool.run_blocking(
      [s, &email, &hash, &role, now](sql::Connection& conn) {
        admin_repository::sync_built_in_roles(conn);
        auto found = admin_repository::role_by_name(conn, role);
        if (!found) {
          throw std::runtime_error("no such role: " + role);
        }
        auto id = admin_repository::insert(conn, *email, hash, now);
        if (!id) {
          throw std::runtime_error("an admin with this email already exists");
        }
        admin_repository::set_roles(conn, *id, {found->id});
        audit_event event;
        event.actor_kind = "system";
        event.action = "admin.created";
        event.target = "admin:" + std::to_string(*id);
        event.details = json::object{{"email", *email}, {"roles", json::array{json::value(role)}}, {"via", "cli"}};
        s->audit(conn, event);
      },
      true);
}

}  // namespace derpmgr::controller::admins
