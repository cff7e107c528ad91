#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "controller/http/http_types.hpp"

namespace derpmgr::controller::http {

// The query string's parameters, percent-decoded (a repeated name keeps its first value).
std::map<std::string, std::string> parse_query(const std::string& query);

// ?limit= within [1, max] (default `fallback`); 400 naming "limit" otherwise.
int limit_param(const std::map<std::string, std::string>& query, int fallback, int max);

// An integer parameter, or nullopt when absent; 400 naming it when not an integer in [min, max].
std::optional<std::int64_t> int_param(const std::map<std::string, std::string>& query, const std::string& name,
                                      std::int64_t min, std::int64_t max);

// A positive integer path parameter ({id}); 400 naming it otherwise.
std::uint64_t id_param(const request& req, const std::string& name = "id");

}  // namespace derpmgr::controller::http
