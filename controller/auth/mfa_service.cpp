#include "controller/auth/mfa_service.hpp"

#include <cppconn/connection.h>
#include <cppconn/prepared_statement.h>
#include <cppconn/resultset.h>

#include <memory>

#include "controller/auth/crypto/qr_code.hpp"
#include "controller/auth/crypto/recovery_codes.hpp"
#include "controller/auth/crypto/totp.hpp"
#include "controller/auth/request_guard.hpp"
#include "controller/auth/server_keys.hpp"
#include "controller/db/connection_pool.hpp"
#include "shared/clock/clock.hpp"
#include "shared/tls/random.hpp"
#include "shared/tls/secret_box.hpp"

namespace derpmgr::controller::auth {

namespace {

using statement = std::unique_ptr<sql::PreparedStatement>;
using results = std::unique_ptr<sql::ResultSet>;

statement prepare(sql::Connection& conn, const char* text) { return statement(conn.prepareStatement(text)); }

constexpr const char* issuer = "derpmgr";

// Binds a sealed secret to its owner, so a row copied to another subject does not decrypt.
std::string secret_ad(principal_kind kind, std::uint64_t id) {
  return std::string("totp:") + to_string(kind) + ":" + std::to_string(id);
}

struct stored_secret {
  std::string sealed;
  bool enabled = false;
  std::int64_t last_step = 0;
};

std::optional<stored_secret> load_secret(sql::Connection& conn, principal_kind kind, std::uint64_t id,
                                         bool for_update) {
  auto ps = prepare(conn, for_update ? "SELECT secret_encrypted, enabled_at IS NOT NULL, last_step FROM totp_secrets "
                                       "WHERE subject_kind = ? AND subject_id = ? FOR UPDATE"
                                     : "SELECT secret_encrypted, enabled_at IS NOT NULL, last_step FROM totp_secrets "
                                       "WHERE subject_kind = ? AND subject_id = ?");
  ps->setString(1, to_string(kind));
  ps->setUInt64(2, id);
  results rs(ps->executeQuery());
  if (!rs->next()) {
    return std::nullopt;
  }
  return stored_secret{rs->getString(1), rs->getBoolean(2), rs->getInt64(3)};
}

// Accepts a TOTP step at most once: the conditional UPDATE decides among concurrent requests.
bool accept_step(sql::Connection& conn, principal_kind kind, std::uint64_t id, std::int64_t step) {
  auto ps = prepare(conn,
                    "UPDATE totp_secrets SET last_step = ? WHERE subject_kind = ? AND subject_id = ? AND last_step < ?");
  ps->setInt64(1, step);
  ps->setString(2, to_string(kind));
  ps->setUInt64(3, id);
  ps->setInt64(4, step);
  return ps->executeUpdate() == 1;
}

bool spend_recovery_code(sql::Connection& conn, const server_keys& keys, principal_kind kind, std::uint64_t id,
                         const std::string& normalized, time_point now) {
  auto ps = prepare(conn,
                    "UPDATE recovery_codes SET used_at = ? WHERE code_hash = ? AND subject_kind = ? AND "
                    "subject_id = ? AND used_at IS NULL");
  ps->setString(1, format_sql_datetime(now));
  ps->setString(2, keys.token_hash(normalized));
  ps->setString(3, to_string(kind));
  ps->setUInt64(4, id);
  return ps->executeUpdate() == 1;
}

}  // namespace

net::awaitable<bool> has_second_factor(app_services& s, principal_kind kind, std::uint64_t id) {
  auto unit = [kind, id](sql::Connection& conn) {
    auto secret = load_secret(conn, kind, id, false);
    return secret && secret->enabled;
  };
  co_return co_await s.pool.run(std::move(unit));
}

net::awaitable<void> check_second_factor(app_services& s, principal_kind kind, std::uint64_t id,
                                         std::optional<std::string> code) {
  auto* services = &s;
  auto now = s.clk.now();
  enum class outcome { no_factor, missing, ok, wrong };
  auto unit2 = [services, kind, id, code, now](sql::Connection& conn) {
    auto secret = load_secret(conn, kind, id, true);
    if (!secret || !secret->enabled) {
      return outcome::no_factor;
    }
    if (!code || code->empty()) {
      return outcome::missing;
    }
    std::string plain = secret_box::open(services->keys.totp_key(), from_hex(secret->sealed), secret_ad(kind, id));
    if (auto step = totp::verify(plain, *code, now)) {
      return accept_step(conn, kind, id, *step) ? outcome::ok : outcome::wrong;
    }
    if (auto normalized = recovery_codes::normalize(*code)) {
      if (spend_recovery_code(conn, services->keys, kind, id, *normalized, now)) {
        return outcome::ok;
      }
    }
    return outcome::wrong;
  };
  auto result = co_await s.pool.transact(std::move(unit2));
  if (result == outcome::missing) {
    throw http::api_error(401, "totp_required", "enter the code from your authenticator app", "totp_code");
  }
  if (result == outcome::wrong) {
    throw http::api_error(401, "invalid_totp", "the authentication code is wrong or was already used", "totp_code");
  }
}

net::awaitable<totp_enrolment> begin_totp_setup(app_services& s, principal_kind kind, std::uint64_t id,
                                                std::string account_label) {
  auto secret = totp::generate_secret();
  auto sealed = to_hex(secret_box::seal(s.keys.totp_key(), secret, secret_ad(kind, id)));
  auto unit3 = [kind, id, sealed](sql::Connection& conn) {
    auto existing = load_secret(conn, kind, id, true);
    if (existing && existing->enabled) {
      return false;
    }
    auto del = prepare(conn, "DELETE FROM totp_secrets WHERE subject_kind = ? AND subject_id = ?");
    del->setString(1, to_string(kind));
    del->setUInt64(2, id);
    del->executeUpdate();
    auto ins = prepare(conn,
                       "INSERT INTO totp_secrets (subject_kind, subject_id, secret_encrypted, enabled_at, last_step) "
                       "VALUES (?, ?, ?, NULL, 0)");
    ins->setString(1, to_string(kind));
    ins->setUInt64(2, id);
    ins->setString(3, sealed);
    ins->executeUpdate();
    return true;
  };
  bool ok = co_await s.pool.transact(std::move(unit3));
  if (!ok) {
    throw http::api_error(409, "mfa_already_enabled", "two-factor authentication is already enabled");
  }
  totp_enrolment out;
  out.secret_base32 = totp::base32(secret);
  out.otpauth_uri = totp::otpauth_uri(issuer, account_label, secret);
  out.qr_svg = qr_svg(out.otpauth_uri);
  co_return out;
}

net::awaitable<std::vector<std::string>> confirm_totp_setup(app_services& s, principal_kind kind, std::uint64_t id,
                                                            std::string code, audit_event event) {
  auto* services = &s;
  auto now = s.clk.now();
  auto codes = recovery_codes::generate();
  enum class outcome { ok, nothing_pending, wrong };
  auto unit4 = [services, kind, id, code, now, codes, event](sql::Connection& conn) {
    auto secret = load_secret(conn, kind, id, true);
    if (!secret || secret->enabled) {
      return outcome::nothing_pending;
    }
    std::string plain = secret_box::open(services->keys.totp_key(), from_hex(secret->sealed), secret_ad(kind, id));
    auto step = totp::verify(plain, code, now);
    if (!step) {
      return outcome::wrong;
    }
    auto enable = prepare(conn,
                          "UPDATE totp_secrets SET enabled_at = ?, last_step = ? WHERE subject_kind = ? AND "
                          "subject_id = ?");
    enable->setString(1, format_sql_datetime(now));
    enable->setInt64(2, *step);
    enable->setString(3, to_string(kind));
    enable->setUInt64(4, id);
    enable->executeUpdate();
    auto del = prepare(conn, "DELETE FROM recovery_codes WHERE subject_kind = ? AND subject_id = ?");
    del->setString(1, to_string(kind));
    del->setUInt64(2, id);
    del->executeUpdate();
    for (const auto& c : codes) {
      auto ins = prepare(conn, "INSERT INTO recovery_codes (subject_kind, subject_id, code_hash) VALUES (?, ?, ?)");
      ins->setString(1, to_string(kind));
      ins->setUInt64(2, id);
      ins->setString(3, services->keys.token_hash(*recovery_codes::normalize(c)));
      ins->executeUpdate();
    }
    services->audit(conn, event);
    return outcome::ok;
  };
  auto result = co_await s.pool.transact(std::move(unit4));
  if (result == outcome::nothing_pending) {
    throw http::api_error(409, "mfa_not_pending", "start two-factor setup first");
  }
  if (result == outcome::wrong) {
    throw http::api_error(400, "invalid_totp", "the authentication code is wrong", "code");
  }
  co_return codes;
}

void forget_second_factor(sql::Connection& conn, principal_kind kind, std::uint64_t id) {
  for (const char* text : {"DELETE FROM totp_secrets WHERE subject_kind = ? AND subject_id = ?",
                           "DELETE FROM recovery_codes WHERE subject_kind = ? AND subject_id = ?"}) {
    auto ps = prepare(conn, text);
    ps->setString(1, to_string(kind));
    ps->setUInt64(2, id);
    ps->executeUpdate();
  }
}

net::awaitable<void> record_auth_event(app_services& s, const http::request& req, std::string kind,
                                       std::uint64_t subject, std::string email, std::string event) {
  auto now = s.clk.now();
  auto ip = req.remote_ip;
  auto ua = user_agent_of(req);
  auto unit5 = [now, ip, ua, kind, subject, email, event](sql::Connection& conn) {
    auto ps = prepare(conn,
                      "INSERT INTO auth_events (at, kind, subject_id, email, event, ip, user_agent) "
                      "VALUES (?, ?, ?, ?, ?, ?, ?)");
    ps->setString(1, format_sql_datetime(now));
    ps->setString(2, kind);
    if (subject == 0) {
      ps->setNull(3, 0);
    } else {
      ps->setUInt64(3, subject);
    }
    ps->setString(4, email.substr(0, 254));
    ps->setString(5, event);
    ps->setString(6, ip);
    ps->setString(7, ua);
    ps->executeUpdate();
  };
  co_await s.pool.run(std::move(unit5));
}

}  // namespace derpmgr::controller::auth
