#pragma once

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

// Field readers for protocol objects; each throws protocol_error naming the field.
namespace derpmgr::protocol::fields {

const boost::json::object& as_object(const boost::json::value& value, std::string_view what);
std::string get_string(const boost::json::object& obj, std::string_view key);
std::string get_string_or(const boost::json::object& obj, std::string_view key, std::string fallback);
std::int64_t get_int(const boost::json::object& obj, std::string_view key);
std::int64_t get_int_or(const boost::json::object& obj, std::string_view key, std::int64_t fallback);
const boost::json::array& get_array(const boost::json::object& obj, std::string_view key);
// An absent key reads as an empty array.
const boost::json::array& get_array_or_empty(const boost::json::object& obj, std::string_view key);
std::vector<std::string> get_strings(const boost::json::object& obj, std::string_view key);

}  // namespace derpmgr::protocol::fields
