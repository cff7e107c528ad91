#include "controller/commerce/history_cursor.hpp"

#include <charconv>
#include <stdexcept>
#include <utility>

namespace derpmgr::controller::commerce {

namespace {

template <typename T>
bool parse_number(const std::string& text, T& out) {
  if (text.empty() || text.size() > 20) {
    return false;
  }
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc{} && end == text.data() + text.size();
}

// The one-letter code of each item type in a cursor.
constexpr std::pair<const char*, const char*> type_codes[] = {
    {"order", "o"}, {"rental_event", "e"}, {"allocation", "a"}};

}  // namespace

std::string history_cursor::encode() const {
  std::string code;
  for (const auto& [name, letter] : type_codes) {
    if (type == name) {
      code = letter;
    }
  }
  if (code.empty()) {
    throw std::logic_error("history_cursor: no cursor code for item type " + type);
  }
  return std::to_string(at.time_since_epoch().count()) + "." + code + "." + std::to_string(id);
}

std::optional<history_cursor> history_cursor::decode(const std::string& text) {
  auto first = text.find('.');
  auto second = first == std::string::npos ? std::string::npos : text.find('.', first + 1);
  if (second == std::string::npos) {
    return std::nullopt;
  }
  std::int64_t micros = 0;
  history_cursor c;
  auto kind = text.substr(first + 1, second - first - 1);
  for (const auto& [name, letter] : type_codes) {
    if (kind == letter) {
      c.type = name;
    }
  }
  if (!parse_number(text.substr(0, first), micros) || micros < 0 || !parse_number(text.substr(second + 1), c.id) ||
      c.id == 0 || c.type.empty()) {
    return std::nullopt;
  }
  c.at = time_point{std::chrono::microseconds{micros}};
  return c;
}

}  // namespace derpmgr::controller::commerce
