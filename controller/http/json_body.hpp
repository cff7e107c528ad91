#pragma once

#include <boost/json/object.hpp>
#include <cstdint>
#include <optional>
#include <string>

#include "controller/http/http_types.hpp"

namespace derpmgr::controller::http {

// The request body as a JSON object. Throws api_error: 415 when the Content-Type is not JSON, 400 invalid_json
// when the body does not parse or is not an object.
boost::json::object parse_json_object(const request& req);

// A required string field of at most `max_length` bytes; throws api_error 400 naming `field` otherwise.
std::string require_string(const boost::json::object& body, const std::string& field, std::size_t max_length);
// An optional string field; absent or null → nullopt.
std::optional<std::string> optional_string(const boost::json::object& body, const std::string& field,
                                           std::size_t max_length);
// A required integer field within [min, max].
std::int64_t require_int(const boost::json::object& body, const std::string& field, std::int64_t min,
                         std::int64_t max);

}  // namespace derpmgr::controller::http
