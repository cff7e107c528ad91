#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "agent/docker/container_types.hpp"

// The JSON bodies of the Docker Engine API v1.41, kept apart from the transport so the mapping is unit-testable.
// The parse_* functions throw std::invalid_argument (or Boost.JSON's system_error) on a body they cannot read.
namespace derpmgr::agent::engine_json {

// Body of POST /containers/create for `spec` (the name goes in the query string, not the body).
std::string create_body(const container_spec& spec);
// Value of the `filters` query parameter selecting containers by one label ("key=value" or "key").
std::string label_filters(std::string_view label_filter);

// GET /version.
engine_version parse_version(std::string_view body);
// GET /containers/json.
std::vector<container_summary> parse_container_list(std::string_view body);
// GET /containers/{id}/json.
container_details parse_container_inspect(std::string_view body);
// POST /containers/create: the new container's id.
std::string parse_created_id(std::string_view body);
// The "message" of an engine error body, or the body itself (trimmed) when it is not Docker's JSON error.
std::string parse_error_message(std::string_view body);

}  // namespace derpmgr::agent::engine_json
