#include "tests/support/browser.hpp"

namespace derpmgr::test {

browser::browser(std::string base_url, std::string origin) : base_url_(std::move(base_url)), origin_(std::move(origin)) {}

http_result browser::get(const std::string& path) { return send("GET", path, ""); }

http_result browser::post(const std::string& path, const std::string& json_body) {
  return send("POST", path, json_body);
}

http_result browser::send(const std::string& method, const std::string& path, const std::string& json_body,
                          bool with_csrf, const std::string& origin_override) {
  http_request req;
  req.method = method;
  req.url = base_url_ + path;
  req.body = json_body;
  if (!json_body.empty()) {
    req.headers.push_back("Content-Type: application/json");
  }
  req.headers.push_back("Origin: " + (origin_override.empty() ? origin_ : origin_override));
  if (!forwarded_for_.empty()) {
    req.headers.push_back("X-Forwarded-For: " + forwarded_for_);
  }
  std::string cookie_header;
  for (const auto& [name, value] : cookies_) {
    cookie_header += (cookie_header.empty() ? "" : "; ") + name + "=" + value;
  }
  if (!cookie_header.empty()) {
    req.headers.push_back("Cookie: " + cookie_header);
  }
  auto csrf = cookies_.find("__Host-derpmgr_csrf");
  if (with_csrf && csrf != cookies_.end()) {
    req.headers.push_back("X-CSRF-Token: " + csrf->second);
  }
  auto result = fetch(req);
  remember(result);
  return result;
}

void browser::remember(const http_result& r) {
  for (const auto& c : r.set_cookies) {
    auto eq = c.find('=');
    auto semi = c.find(';');
    std::string name = c.substr(0, eq);
    std::string value = c.substr(eq + 1, semi == std::string::npos ? std::string::npos : semi - eq - 1);
    if (c.find("Max-Age=0") != std::string::npos || value.empty()) {
      cookies_.erase(name);
    } else {
      cookies_[name] = value;
    }
  }
}

std::string browser::cookie(const std::string& name) const {
  auto it = cookies_.find(name);
  return it == cookies_.end() ? "" : it->second;
}

}  // namespace derpmgr::test
