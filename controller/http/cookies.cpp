#include "controller/http/cookies.hpp"

#include <openssl/crypto.h>

namespace derpmgr::controller::http {

std::map<std::string, std::string> parse_cookies(const std::string& header) {
  std::map<std::string, std::string> out;
  std::size_t pos = 0;
  while (pos < header.size()) {
    auto semi = header.find(';', pos);
    if (semi == std::string::npos) {
      semi = header.size();
    }
    std::string part = header.substr(pos, semi - pos);
    auto eq = part.find('=');
    if (eq != std::string::npos) {
      auto first = part.find_first_not_of(' ');
      std::string name = part.substr(first, eq - first);
      std::string value = part.substr(eq + 1);
      if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
        value = value.substr(1, value.size() - 2);
      }
      out.emplace(name, value);
    }
    pos = semi + 1;
  }
  return out;
}

std::string host_cookie(const std::string& name, const std::string& value, std::chrono::seconds max_age,
                        bool http_only) {
  std::string out = name + "=" + value + "; Path=/; Secure; SameSite=Strict; Max-Age=" +
                    std::to_string(max_age.count());
  if (http_only) {
    out += "; HttpOnly";
  }
  return out;
}

std::string expired_cookie(const std::string& name) {
  return name + "=; Path=/; Secure; SameSite=Strict; Max-Age=0; HttpOnly";
}

bool constant_time_equal(const std::string& a, const std::string& b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace derpmgr::controller::http
