#include "shared/protocol/json_fields.hpp"

#include <boost/json/array.hpp>

#include "shared/protocol/messages.hpp"

namespace derpmgr::protocol::fields {

namespace json = boost::json;

const json::object& as_object(const json::value& value, std::string_view what) {
  const auto* obj = value.if_object();
  if (obj == nullptr) {
    throw protocol_error(std::string(what) + " must be an object");
  }
  return *obj;
}

std::string get_string(const json::object& obj, std::string_view key) {
  const auto* v = obj.if_contains(key);
  if (v == nullptr || !v->is_string()) {
    throw protocol_error("field " + std::string(key) + " must be a string");
  }
  return std::string(v->get_string());
}

std::string get_string_or(const json::object& obj, std::string_view key, std::string fallback) {
  if (obj.if_contains(key) == nullptr) {
    return fallback;
  }
  return get_string(obj, key);
}

std::int64_t get_int(const json::object& obj, std::string_view key) {
  const auto* v = obj.if_contains(key);
  if (v != nullptr) {
    if (v->is_int64()) {
      return v->get_int64();
    }
    if (v->is_uint64() && v->get_uint64() <= static_cast<std::uint64_t>(INT64_MAX)) {
      return static_cast<std::int64_t>(v->get_uint64());
    }
  }
  throw protocol_error("field " + std::string(key) + " must be an integer");
}

std::int64_t get_int_or(const json::object& obj, std::string_view key, std::int64_t fallback) {
  if (obj.if_contains(key) == nullptr) {
    return fallback;
  }
  return get_int(obj, key);
}

const json::array& get_array(const json::object& obj, std::string_view key) {
  const auto* v = obj.if_contains(key);
  if (v == nullptr || !v->is_array()) {
    throw protocol_error("field " + std::string(key) + " must be an array");
  }
  return v->get_array();
}

const json::array& get_array_or_empty(const json::object& obj, std::string_view key) {
  static const json::array empty;
  if (obj.if_contains(key) == nullptr) {
    return empty;
  }
  return get_array(obj, key);
}

std::vector<std::string> get_strings(const json::object& obj, std::string_view key) {
  std::vector<std::string> out;
  for (const auto& v : get_array_or_empty(obj, key)) {
    if (!v.is_string()) {
      throw protocol_error("field " + std::string(key) + " must hold strings");
    }
    out.emplace_back(v.get_string());
  }
  return out;
}

}  // namespace derpmgr::protocol::fields
