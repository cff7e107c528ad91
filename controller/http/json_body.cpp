#include "controller/http/json_body.hpp"

#include <boost/json/parse.hpp>

namespace derpmgr::controller::http {

boost::json::object parse_json_object(const request& req) {
  const auto& type = req.header("content-type");
  if (type.rfind("application/json", 0) != 0) {
    throw api_error(415, "unsupported_media_type", "request body must be application/json");
  }
  boost::system::error_code ec;
  auto value = boost::json::parse(req.body, ec);
  if (ec) {
    throw api_error(400, "invalid_json", "request body is not valid JSON: " + ec.message());
  }
  if (!value.is_object()) {
    throw api_error(400, "invalid_json", "request body must be a JSON object");
  }
  return std::move(value.as_object());
}

std::optional<std::string> optional_string(const boost::json::object& body, const std::string& field,
                                           std::size_t max_length) {
  auto it = body.find(field);
  if (it == body.end() || it->value().is_null()) {
    return std::nullopt;
  }
  if (!it->value().is_string()) {
    throw api_error(400, "invalid_field", field + " must be a string", field);
  }
  const auto& s = it->value().get_string();
  if (s.size() > max_length) {
    throw api_error(400, "invalid_field", field + " must be at most " + std::to_string(max_length) + " bytes",
                    field);
  }
  return std::string(s);
}

std::string require_string(const boost::json::object& body, const std::string& field, std::size_t max_length) {
  auto value = optional_string(body, field, max_length);
  if (!value || value->empty()) {
    throw api_error(400, "missing_field", field + " is required", field);
  }
  return *value;
}

std::int64_t require_int(const boost::json::object& body, const std::string& field, std::int64_t min,
                         std::int64_t max) {
  auto it = body.find(field);
  if (it == body.end() || it->value().is_null()) {
    throw api_error(400, "missing_field", field + " is required", field);
  }
  if (!it->value().is_int64() && !it->value().is_uint64()) {
    throw api_error(400, "invalid_field", field + " must be an integer", field);
  }
  if (it->value().is_uint64() && it->value().get_uint64() > static_cast<std::uint64_t>(max)) {
    throw api_error(400, "invalid_field", field + " is out of range", field);
  }
  std::int64_t v = it->value().is_int64() ? it->value().get_int64() : static_cast<std::int64_t>(it->value().get_uint64());
  if (v < min || v > max) {
    throw api_error(400, "invalid_field",
                    field + " must be between " + std::to_string(min) + " and " + std::to_string(max), field);
  }
  return v;
}

}  // namespace derpmgr::controller::http
