#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

namespace sql {
class Connection;
class PreparedStatement;
}  // namespace sql

namespace derpmgr::controller::db {

// A prepared statement owned by the caller.
std::unique_ptr<sql::PreparedStatement> prepare(sql::Connection& conn, const std::string& text);

// Runs a bound INSERT and returns the new row's AUTO_INCREMENT id, or nullopt when a unique key refused it.
std::optional<std::uint64_t> insert_returning_id(sql::Connection& conn, sql::PreparedStatement& insert);

}  // namespace derpmgr::controller::db
