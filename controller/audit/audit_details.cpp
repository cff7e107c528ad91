#include "controller/audit/audit_details.hpp"

#include <algorithm>
#include <array>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <cctype>
#include <limits>
#include <vector>

#include "controller/audit/audit_errors.hpp"
#include "controller/audit/utf8_text.hpp"

namespace derpmgr::controller::audit {

namespace {

// The TEXT column holds at most this many bytes.
constexpr std::size_t max_details_bytes = 65535;

constexpr std::array<std::string_view, 19> secret_words = {
    "password", "passwd", "passphrase", "pwd",       "secret", "token",      "code",          "key",    "otp", "totp",
    "pin",      "salt",   "hash",       "signature", "cookie", "credential", "authorization", "bearer", "csrf"};

constexpr std::array<std::string_view, 8> secret_fragments = {"password", "passwd",     "secret",     "token",
                                                              "apikey",   "privatekey", "credential", "cookie"};

bool is_secret_word(std::string_view word) {
  auto listed = [](std::string_view w) {
    return std::find(secret_words.begin(), secret_words.end(), w) != secret_words.end();
  };
  if (listed(word)) {
    return true;
  }
  if (word.size() > 1 && word.back() == 's' && listed(word.substr(0, word.size() - 1))) {
    return true;
  }
  return word.size() > 2 && word.ends_with("es") && listed(word.substr(0, word.size() - 2));
}

std::vector<std::string> split_words(std::string_view key) {
  std::vector<std::string> words;
  std::string current;
  char previous = '\0';
  for (char c : key) {
    auto u = static_cast<unsigned char>(c);
    if (std::isalnum(u) == 0) {
      if (!current.empty()) {
        words.push_back(std::move(current));
        current.clear();
      }
    } else {
      bool camel_boundary = std::isupper(u) != 0 && std::islower(static_cast<unsigned char>(previous)) != 0;
      if (camel_boundary && !current.empty()) {
        words.push_back(std::move(current));
        current.clear();
      }
      current.push_back(static_cast<char>(std::tolower(u)));
    }
    previous = c;
  }
  if (!current.empty()) {
    words.push_back(std::move(current));
  }
  return words;
}

boost::json::value canonical(const boost::json::value& v);

boost::json::object canonical_object(const boost::json::object& fields) {
  std::vector<std::pair<std::string, const boost::json::value*>> kept;
  for (const auto& member : fields) {
    if (!is_secret_key(member.key())) {
      kept.emplace_back(fit_utf8(member.key(), std::numeric_limits<std::size_t>::max()), &member.value());
    }
  }
  std::sort(kept.begin(), kept.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  boost::json::object out;
  out.reserve(kept.size());
  for (const auto& [key, value] : kept) {
    out.emplace(key, canonical(*value));
  }
  return out;
}

boost::json::value canonical(const boost::json::value& v) {
  if (v.is_object()) {
    return canonical_object(v.get_object());
  }
  if (v.is_array()) {
    boost::json::array out;
    out.reserve(v.get_array().size());
    for (const auto& item : v.get_array()) {
      out.push_back(canonical(item));
    }
    return out;
  }
  if (v.is_string()) {
    return boost::json::string(fit_utf8(v.get_string(), std::numeric_limits<std::size_t>::max()));
  }
  return v;
}

}  // namespace

bool is_secret_key(std::string_view key) {
  auto words = split_words(key);
  if (std::any_of(words.begin(), words.end(), [](const std::string& w) { return is_secret_word(w); })) {
    return true;
  }
  std::string joined;
  for (const auto& w : words) {
    joined += w;
  }
  return std::any_of(secret_fragments.begin(), secret_fragments.end(),
                     [&](std::string_view f) { return joined.find(f) != std::string::npos; });
}

audit_details::audit_details() : text_("{}") {}

audit_details::audit_details(const boost::json::object& fields)
    : text_(boost::json::serialize(canonical_object(fields))) {
  if (text_.size() > max_details_bytes) {
    throw invalid_audit_entry("audit details are " + std::to_string(text_.size()) + " bytes, more than the " +
                              std::to_string(max_details_bytes) + " the log stores");
  }
}

}  // namespace derpmgr::controller::audit
