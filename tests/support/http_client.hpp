#pragma once

#include <map>
#include <string>
#include <vector>

namespace derpmgr::test {

// What a test request got back.
struct http_result {
  long status = 0;
  std::string body;
  std::map<std::string, std::string> headers;  // lower-cased names, last value wins
  std::vector<std::string> set_cookies;        // every Set-Cookie value, in order
  std::string error;                           // transport error, empty on success
};

// A blocking HTTP(S) client on libcurl for tests; TLS certificates are not verified unless `ca_file` is set.
struct http_request {
  std::string method = "GET";
  std::string url;
  std::string body;
  std::vector<std::string> headers;  // "Name: value"
  std::string ca_file;
  long timeout_ms = 10000;
};

http_result fetch(const http_request& req);
http_result get(const std::string& url);
http_result post_json(const std::string& url, const std::string& body);

}  // namespace derpmgr::test
