#pragma once

#include <map>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace derpmgr::controller::http {

// Case-insensitive header lookup keys are stored lower-cased.
using header_map = std::map<std::string, std::string>;

// An HTTP request as handlers see it: no Beast types, so handler code stays cheap to compile.
struct request {
  std::string method;                             // "GET", "POST", …
  std::string target;                             // path and query as received
  std::string path;                               // decoded path without the query
  std::string query;                              // raw query string without '?'
  header_map headers;                             // lower-cased names
  std::string body;
  std::string remote_ip;                          // the peer address (proxy handling comes later)
  std::string request_id;
  std::map<std::string, std::string> path_params;  // {name} segments matched by the router

  // Header value or "" when absent; `name` must be lower-case.
  const std::string& header(const std::string& name) const;
};

// What a handler answers.
struct response {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;

  static response json(int status, std::string body);
  static response text(int status, std::string body, std::string content_type = "text/plain; charset=utf-8");
};

// An expected failure a handler reports to the client: mapped once, at the boundary, to
// {"error":{"code","message","field"?}} with `status`.
class api_error : public std::runtime_error {
 public:
  api_error(int status, std::string code, std::string message, std::string field = {});
  int status() const { return status_; }
  const std::string& code() const { return code_; }
  const std::string& field() const { return field_; }
  // Extra response headers (e.g. Retry-After with 429).
  api_error& with_header(std::string name, std::string value);
  const std::vector<std::pair<std::string, std::string>>& headers() const { return headers_; }

 private:
  int status_;
  std::string code_;
  std::string field_;
  std::vector<std::pair<std::string, std::string>> headers_;
};

// The JSON error body for `code`/`message`/`field` (field omitted when empty).
std::string error_body(const std::string& code, const std::string& message, const std::string& field = {});

// Standard reason phrase for a status code.
std::string status_reason(int status);

}  // namespace derpmgr::controller::http
