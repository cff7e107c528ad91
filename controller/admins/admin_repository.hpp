#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "controller/auth/permissions.hpp"
#include "shared/clock/clock.hpp"

namespace sql {
class Connection;
}

namespace derpmgr::controller::admins {

// An admin account as stored, with its role names.
struct admin_row {
  std::uint64_t id = 0;
  std::string email;
  std::string password_hash;
  std::string status = "active";
  time_point created_at{};
  std::vector<std::string> roles;
};

// A role: a named set of permission strings.
struct role_row {
  std::uint64_t id = 0;
  std::string name;
  bool built_in = false;
  auth::permission_set permissions;
};

// SQL for admins, roles and their links. Every method runs inside the caller's unit of work.
class admin_repository {
 public:
  // Makes the built-in roles match the code (names and permissions); idempotent.
  static void sync_built_in_roles(sql::Connection& conn);
  // nullopt when the email is taken.
  static std::optional<std::uint64_t> insert(sql::Connection& conn, const std::string& email,
                                             const std::string& password_hash, time_point now);
  static std::optional<admin_row> by_email(sql::Connection& conn, const std::string& email);
  static std::optional<admin_row> by_id(sql::Connection& conn, std::uint64_t id, bool for_update = false);
  static std::vector<admin_row> list(sql::Connection& conn);
  static void set_status(sql::Connection& conn, std::uint64_t id, const std::string& status);
  static void set_roles(sql::Connection& conn, std::uint64_t admin_id, const std::vector<std::uint64_t>& role_ids);

  static std::vector<role_row> roles(sql::Connection& conn);
  static std::optional<role_row> role_by_name(sql::Connection& conn, const std::string& name);
  // nullopt when the name is taken.
  static std::optional<std::uint64_t> insert_role(sql::Connection& conn, const std::string& name,
                                                  const auth::permission_set& permissions);
  // Active admins holding the owner role, other than `except` (locks them, so two removals cannot race).
  // Email addresses of active admins holding `permission` through any of their roles (for operator mail).
  static std::vector<std::string> emails_with_permission(sql::Connection& conn, const std::string& permission);
  static int other_active_owners(sql::Connection& conn, std::uint64_t except);
};

}  // namespace derpmgr::controller::admins
