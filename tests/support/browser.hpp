#pragma once

#include <map>
#include <string>

#include "tests/support/http_client.hpp"

namespace derpmgr::test {

// Talks to the API as a browser would: keeps cookies, sends Origin, and echoes the CSRF cookie in X-CSRF-Token.
class browser {
 public:
  browser(std::string base_url, std::string origin);

  http_result get(const std::string& path);
  http_result post(const std::string& path, const std::string& json_body);
  http_result send(const std::string& method, const std::string& path, const std::string& json_body,
                   bool with_csrf = true, const std::string& origin_override = "");

  std::string cookie(const std::string& name) const;
  void set_forwarded_for(std::string ip) { forwarded_for_ = std::move(ip); }

 private:
  void remember(const http_result& r);
  std::string base_url_;
  std::string origin_;
  std::string forwarded_for_;
  std::map<std::string, std::string> cookies_;
};

}  // namespace derpmgr::test
