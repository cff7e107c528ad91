#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "shared/clock/clock.hpp"

namespace sql {
class Connection;
class PreparedStatement;
class ResultSet;
}  // namespace sql

namespace derpmgr::controller::db {

// A prepared statement owned by the caller.
std::unique_ptr<sql::PreparedStatement> prepare(sql::Connection& conn, const std::string& text);

// Runs a bound INSERT and returns the new row's AUTO_INCREMENT id, or nullopt when a unique key refused it.
std::optional<std::uint64_t> insert_returning_id(sql::Connection& conn, sql::PreparedStatement& insert);

// Nullable columns: NULL reads as "" or nullopt.
std::string text_or_empty(sql::ResultSet& rs, int index);
std::optional<time_point> time_or_none(sql::ResultSet& rs, int index);

}  // namespace derpmgr::controller::db
