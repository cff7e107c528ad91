#pragma once

#include <cstdint>
#include <string>

#include "controller/auth/permissions.hpp"

namespace derpmgr::controller::auth {

enum class principal_kind { customer, admin };

const char* to_string(principal_kind kind);

// Who is making a request, as established by a session cookie or an API token.
struct principal {
  principal_kind kind = principal_kind::customer;
  std::uint64_t id = 0;
  std::string email;
  bool via_token = false;         // Bearer API token (exempt from CSRF)
  std::uint64_t session_id = 0;   // 0 for tokens
  bool mfa_passed = false;        // admins: TOTP confirmed in this session (tokens: true)
  bool email_verified = false;    // customers
  permission_set permissions;     // admins: role permissions (∩ token scopes); customers: token scopes or all

  bool can(const std::string& permission) const { return permissions.count(permission) != 0; }
};

}  // namespace derpmgr::controller::auth
