#include "controller/admins/admin_repository.hpp"

#include <cppconn/connection.h>
#include <cppconn/exception.h>
#include <cppconn/prepared_statement.h>
#include <cppconn/resultset.h>

#include <map>
#include <memory>

#include "controller/db/statements.hpp"

namespace derpmgr::controller::admins {

namespace {

using statement = std::unique_ptr<sql::PreparedStatement>;
using results = std::unique_ptr<sql::ResultSet>;

using db::prepare;

std::vector<std::string> role_names(sql::Connection& conn, std::uint64_t admin_id) {
  auto ps = prepare(conn,
                    "SELECT r.name FROM admin_roles ar JOIN roles r ON r.id = ar.role_id WHERE ar.admin_id = ? "
                    "ORDER BY r.name");
  ps->setUInt64(1, admin_id);
  results rs(ps->executeQuery());
  std::vector<std::string> out;
  while (rs->next()) {
    out.push_back(rs->getString(1));
  }
  return out;
}

std::optional<admin_row> read_admin(sql::Connection& conn, sql::ResultSet& rs) {
  if (!rs.next()) {
    return std::nullopt;
  }
  admin_row a;
  a.id = rs.getUInt64(1);
  a.email = rs.getString(2);
  a.password_hash = rs.getString(3);
  a.status = rs.getString(4);
  a.created_at = parse_sql_datetime(std::string(rs.getString(5)));
  a.roles = role_names(conn, a.id);
  return a;
}

constexpr const char* admin_columns = "SELECT id, email, password_hash, status, created_at FROM admins ";

}  // namespace

void admin_repository::sync_built_in_roles(sql::Connection& conn) {
  for (const auto& role : auth::built_in_roles()) {
    auto ins = prepare(conn, "INSERT INTO roles (name, built_in) VALUES (?, TRUE) ON DUPLICATE KEY UPDATE built_in = TRUE");
    ins->setString(1, role.name);
    ins->executeUpdate();
    auto found = role_by_name(conn, role.name);
    if (found->permissions == role.permissions) {
      continue;
    }
    auto del = prepare(conn, "DELETE FROM role_permissions WHERE role_id = ?");
    del->setUInt64(1, found->id);
    del->executeUpdate();
    for (const auto& p : role.permissions) {
      auto add = prepare(conn, "INSERT INTO role_permissions (role_id, permission) VALUES (?, ?)");
      add->setUInt64(1, found->id);
      add->setString(2, p);
      add->executeUpdate();
    }
  }
}

std::optional<std::uint64_t> admin_repository::insert(sql::Connection& conn, const std::string& email,
                                                      const std::string& password_hash, time_point now) {
  auto ps = prepare(conn, "INSERT INTO admins (email, password_hash, status, created_at) VALUES (?, ?, 'active', ?)");
  ps->setString(1, email);
  ps->setString(2, password_hash);
  ps->setString(3, format_sql_datetime(now));
  return db::insert_returning_id(conn, *ps);
}

std::optional<admin_row> admin_repository::by_email(sql::Connection& conn, const std::string& email) {
  auto ps = prepare(conn, std::string(admin_columns) + "WHERE email = ?");
  ps->setString(1, email);
  results rs(ps->executeQuery());
  return read_admin(conn, *rs);
}

std::optional<admin_row> admin_repository::by_id(sql::Connection& conn, std::uint64_t id, bool for_update) {
  auto ps = prepare(conn, std::string(admin_columns) + "WHERE id = ?" + (for_update ? " FOR UPDATE" : ""));
  ps->setUInt64(1, id);
  results rs(ps->executeQuery());
  return read_admin(conn, *rs);
}

std::vector<admin_row> admin_repository::list(sql::Connection& conn) {
  results rs(prepare(conn, std::string(admin_columns) + "ORDER BY id")->executeQuery());
  std::vector<admin_row> out;
  while (auto a = read_admin(conn, *rs)) {
    out.push_back(std::move(*a));
  }
  return out;
}

void admin_repository::set_status(sql::Connection& conn, std::uint64_t id, const std::string& status) {
  auto ps = prepare(conn, "UPDATE admins SET status = ? WHERE id = ?");
  ps->setString(1, status);
  ps->setUInt64(2, id);
  ps->executeUpdate();
}

void admin_repository::set_roles(sql::Connection& conn, std::uint64_t admin_id,
                                 const std::vector<std::uint64_t>& role_ids) {
  auto del = prepare(conn, "DELETE FROM admin_roles WHERE admin_id = ?");
  del->setUInt64(1, admin_id);
  del->executeUpdate();
  for (auto role_id : role_ids) {
    auto ins = prepare(conn, "INSERT INTO admin_roles (admin_id, role_id) VALUES (?, ?)");
    ins->setUInt64(1, admin_id);
    ins->setUInt64(2, role_id);
    ins->executeUpdate();
  }
}

std::vector<role_row> admin_repository::roles(sql::Connection& conn) {
  results rs(prepare(conn,
                     "SELECT r.id, r.name, r.built_in, rp.permission FROM roles r LEFT JOIN role_permissions rp ON "
                     "rp.role_id = r.id ORDER BY r.id")
                 ->executeQuery());
  std::map<std::uint64_t, role_row> by_id;
  std::vector<std::uint64_t> order;
  while (rs->next()) {
    auto id = rs->getUInt64(1);
    auto [it, inserted] = by_id.try_emplace(id);
    if (inserted) {
      order.push_back(id);
      it->second.id = id;
      it->second.name = rs->getString(2);
      it->second.built_in = rs->getBoolean(3);
    }
    if (!rs->isNull(4)) {
      it->second.permissions.insert(rs->getString(4));
    }
  }
  std::vector<role_row> out;
  for (auto id : order) {
    out.push_back(std::move(by_id[id]));
  }
  return out;
}

std::optional<role_row> admin_repository::role_by_name(sql::Connection& conn, const std::string& name) {
  auto ps = prepare(conn,
                    "SELECT r.id, r.name, r.built_in, rp.permission FROM roles r LEFT JOIN role_permissions rp ON "
                    "rp.role_id = r.id WHERE r.name = ?");
  ps->setString(1, name);
  results rs(ps->executeQuery());
  std::optional<role_row> out;
  while (rs->next()) {
    if (!out) {
      out = role_row{rs->getUInt64(1), rs->getString(2), rs->getBoolean(3), {}};
    }
    if (!rs->isNull(4)) {
      out->permissions.insert(rs->getString(4));
    }
  }
  return out;
}

std::optional<std::uint64_t> admin_repository::insert_role(sql::Connection& conn, const std::string& name,
                                                           const auth::permission_set& permissions) {
  auto ps = prepare(conn, "INSERT INTO roles (name, built_in) VALUES (?, FALSE)");
  ps->setString(1, name);
  auto id = db::insert_returning_id(conn, *ps);
  if (!id) {
    return std::nullopt;
  }
  for (const auto& p : permissions) {
    auto add = prepare(conn, "INSERT INTO role_permissions (role_id, permission) VALUES (?, ?)");
    add->setUInt64(1, *id);
    add->setString(2, p);
    add->executeUpdate();
  }
  return id;
}

std::vector<std::string> admin_repository::emails_with_permission(sql::Connection& conn,
                                                                  const std::string& permission) {
  auto ps = prepare(conn,
                    "SELECT DISTINCT a.email FROM admins a JOIN admin_roles ar ON ar.admin_id = a.id "
                    "JOIN role_permissions rp ON rp.role_id = ar.role_id "
                    "WHERE a.status = 'active' AND rp.permission = ? ORDER BY a.email");
  ps->setString(1, permission);
  std::unique_ptr<sql::ResultSet> rs(ps->executeQuery());
  std::vector<std::string> out;
  while (rs->next()) {
    out.emplace_back(rs->getString(1));
  }
  return out;
}

int admin_repository::other_active_owners(sql::Connection& conn, std::uint64_t except) {
  auto ps = prepare(conn,
                    "SELECT a.id FROM admins a JOIN admin_roles ar ON ar.admin_id = a.id JOIN roles r ON "
                    "r.id = ar.role_id WHERE r.name = 'owner' AND a.status = 'active' AND a.id <> ? FOR UPDATE");
  ps->setUInt64(1, except);
  results rs(ps->executeQuery());
  int n = 0;
  while (rs->next()) {
    ++n;
  }
  return n;
}

}  // namespace derpmgr::controller::admins
