#include "controller/http/query.hpp"

#include <boost/url/parse_query.hpp>
#include <charconv>

namespace derpmgr::controller::http {

std::map<std::string, std::string> parse_query(const std::string& query) {
  std::map<std::string, std::string> out;
  auto params = boost::urls::parse_query(query);
  if (!params) {
    throw api_error(400, "invalid_query", "the query string is malformed");
  }
  const boost::urls::encoding_opts form_encoding(true);  // '+' is a space, as browsers send forms
  for (const auto& p : *params) {
    out.emplace(p.key.decode(form_encoding), p.value.decode(form_encoding));
  }
  return out;
}

std::optional<std::int64_t> int_param(const std::map<std::string, std::string>& query, const std::string& name,
                                      std::int64_t min, std::int64_t max) {
  auto it = query.find(name);
  if (it == query.end() || it->second.empty()) {
    return std::nullopt;
  }
  std::int64_t v = 0;
  const auto& text = it->second;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size() || v < min || v > max) {
    throw api_error(400, "invalid_field",
                    name + " must be an integer between " + std::to_string(min) + " and " + std::to_string(max),
                    name);
  }
  return v;
}

int limit_param(const std::map<std::string, std::string>& query, int fallback, int max) {
  return static_cast<int>(int_param(query, "limit", 1, max).value_or(fallback));
}

std::uint64_t id_param(const request& req, const std::string& name) {
  auto it = req.path_params.find(name);
  if (it != req.path_params.end()) {
    std::uint64_t v = 0;
    const auto& text = it->second;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (ec == std::errc() && end == text.data() + text.size() && v > 0) {
      return v;
    }
  }
  throw api_error(400, "invalid_field", name + " must be a positive integer", name);
}

}  // namespace derpmgr::controller::http
