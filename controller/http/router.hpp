#pragma once

#include <functional>
#include <string>
#include <vector>

#include "controller/http/http_types.hpp"
#include "shared/net/net.hpp"

namespace derpmgr::controller::http {

using handler = std::function<net::awaitable<response>(request&)>;

// Maps method + path pattern ("/api/v1/admin/nodes/{id}") to handlers.
class router {
 public:
  // The outcome of matching a request: a handler, or why none applies (404, or 405 with the allowed methods).
  struct match_result {
    const handler* target = nullptr;
    std::string route;                 // the matched pattern, for metrics and logs ("" when none)
    std::vector<std::string> allowed;  // methods the path accepts, when the method did not match
  };

  // Registers `h` for `method` on `pattern`; throws std::logic_error on a duplicate route.
  void add(const std::string& method, const std::string& pattern, handler h);

  // Finds the route for `req.method` and `req.path`, filling `req.path_params` on success.
  match_result match(request& req) const;

  // Runs the matching handler and maps every failure to the JSON error model, once, here: no route → 404,
  // wrong method → 405 with Allow, api_error → its status and body, anything else → 500 (logged with the
  // request id, never shown to the client). `route_name` receives the matched pattern ("unmatched" when none).
  net::awaitable<response> handle(request& req, std::string& route_name) const;

 private:
  struct route {
    std::string method;
    std::string pattern;
    std::vector<std::string> segments;
    handler fn;
  };
  static std::vector<std::string> split(const std::string& path);
  static bool segments_match(const route& r, const std::vector<std::string>& parts,
                             std::map<std::string, std::string>* params);
  std::vector<route> routes_;
};

}  // namespace derpmgr::controller::http
