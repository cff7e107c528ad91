#include "controller/auth/permissions.hpp"

#include <algorithm>

namespace derpmgr::controller::auth {

const std::vector<std::string>& all_permissions() {
  static const std::vector<std::string> list = {
      "admins:read",  "admins:write",  "audit:read",   "finance:read", "finance:write", "nodes:read",
      "nodes:write",  "orders:read",   "orders:write", "plans:read",   "plans:write",   "rentals:read",
      "rentals:write", "serials:read", "serials:write", "serials:export", "users:read",  "users:write",
      "email:read",   "email:write",   "tokens:write",
  };
  return list;
}

bool is_known_permission(const std::string& permission) {
  const auto& all = all_permissions();
  return std::find(all.begin(), all.end(), permission) != all.end();
}

const std::vector<built_in_role>& built_in_roles() {
  static const std::vector<built_in_role> roles = [] {
    permission_set everything(all_permissions().begin(), all_permissions().end());
    permission_set admin = everything;
    admin.erase("serials:export");
    return std::vector<built_in_role>{
        {"owner", everything},
        {"admin", admin},
        {"operator", {"nodes:read", "nodes:write", "rentals:read", "rentals:write", "users:read", "plans:read",
                      "email:read", "tokens:write"}},
        {"finance", {"finance:read", "finance:write", "orders:read", "orders:write", "plans:read", "serials:read",
                     "users:read", "tokens:write"}},
        {"support", {"users:read", "users:write", "rentals:read", "orders:read", "plans:read", "serials:read",
                     "nodes:read", "email:read", "email:write", "tokens:write"}},
        {"auditor", {"audit:read", "admins:read", "users:read", "orders:read", "finance:read", "nodes:read",
                     "rentals:read", "plans:read", "serials:read", "email:read"}},
    };
  }();
  return roles;
}

const std::vector<std::string>& customer_scopes() {
  static const std::vector<std::string> scopes = {"account:read", "rental:read", "rental:write", "devices:read",
                                                  "devices:write", "config:read"};
  return scopes;
}

}  // namespace derpmgr::controller::auth
