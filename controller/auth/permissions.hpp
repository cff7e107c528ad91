#pragma once

#include <set>
#include <string>
#include <vector>

namespace derpmgr::controller::auth {

using permission_set = std::set<std::string>;

// Every permission an admin endpoint can require.
const std::vector<std::string>& all_permissions();
bool is_known_permission(const std::string& permission);

// A role that ships with the product; its permissions follow the code, not the database.
struct built_in_role {
  std::string name;
  permission_set permissions;
};

// owner, admin, operator, finance, support, auditor.
const std::vector<built_in_role>& built_in_roles();

// Customer API token scopes.
const std::vector<std::string>& customer_scopes();

}  // namespace derpmgr::controller::auth
