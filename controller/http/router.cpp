#include "controller/http/router.hpp"

#include <algorithm>
#include <spdlog/spdlog.h>

#include <stdexcept>

namespace derpmgr::controller::http {

std::vector<std::string> router::split(const std::string& path) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  while (start < path.size()) {
    auto slash = path.find('/', start);
    if (slash == std::string::npos) {
      slash = path.size();
    }
    if (slash > start) {
      parts.push_back(path.substr(start, slash - start));
    }
    start = slash + 1;
  }
  return parts;
}

bool router::segments_match(const route& r, const std::vector<std::string>& parts,
                            std::map<std::string, std::string>* params) {
  if (r.segments.size() != parts.size()) {
    return false;
  }
  for (std::size_t i = 0; i < parts.size(); ++i) {
    const auto& seg = r.segments[i];
    bool is_param = seg.size() > 2 && seg.front() == '{' && seg.back() == '}';
    if (is_param) {
      if (params != nullptr) {
        (*params)[seg.substr(1, seg.size() - 2)] = parts[i];
      }
    } else if (seg != parts[i]) {
      return false;
    }
  }
  return true;
}

void router::add(const std::string& method, const std::string& pattern, handler h) {
  auto segments = split(pattern);
  auto shape = [](std::vector<std::string> segs) {
    for (auto& s : segs) {
      if (!s.empty() && s.front() == '{') {
        s = "{}";
      }
    }
    return segs;
  };
  for (const auto& r : routes_) {
    if (r.method == method && shape(r.segments) == shape(segments)) {
      throw std::logic_error("duplicate route " + method + " " + pattern);
    }
  }
  routes_.push_back(route{method, pattern, std::move(segments), std::move(h)});
  // Literal segments win over parameters: routes with more literals first.
  std::stable_sort(routes_.begin(), routes_.end(), [](const route& a, const route& b) {
    auto literals = [](const route& r) {
      return std::count_if(r.segments.begin(), r.segments.end(), [](const std::string& s) {
        return s.empty() || s.front() != '{';
      });
    };
    return literals(a) > literals(b);
  });
}

router::match_result router::match(request& req) const {
  auto parts = split(req.path);
  match_result result;
  for (const auto& r : routes_) {
    if (!segments_match(r, parts, nullptr)) {
      continue;
    }
    if (r.method == req.method || (req.method == "HEAD" && r.method == "GET")) {
      if (result.target == nullptr) {
        req.path_params.clear();
        segments_match(r, parts, &req.path_params);
        result.target = &r.fn;
        result.route = r.pattern;
      }
    } else if (std::find(result.allowed.begin(), result.allowed.end(), r.method) == result.allowed.end()) {
      result.allowed.push_back(r.method);
    }
  }
  if (result.target != nullptr) {
    result.allowed.clear();
  }
  return result;
}

net::awaitable<response> router::handle(request& req, std::string& route_name) const {
  auto m = match(req);
  route_name = m.route.empty() ? "unmatched" : m.route;
  if (m.target == nullptr) {
    if (!m.allowed.empty()) {
      std::string allow;
      for (const auto& method : m.allowed) {
        allow += (allow.empty() ? "" : ", ") + method;
      }
      auto res = response::json(405, error_body("method_not_allowed", "method " + req.method + " is not allowed here"));
      res.headers.emplace_back("Allow", allow);
      co_return res;
    }
    co_return response::json(404, error_body("not_found", "no such endpoint: " + req.path));
  }
  try {
    co_return co_await (*m.target)(req);
  } catch (const api_error& e) {
    auto res = response::json(e.status(), error_body(e.code(), e.what(), e.field()));
    res.headers = e.headers();
    co_return res;
  } catch (const std::exception& e) {
    spdlog::error("request {} {} {} failed: {}", req.request_id, req.method, m.route, e.what());
  }
  co_return response::json(500, error_body("internal_error", "internal error (request id " + req.request_id + ")"));
}

}  // namespace derpmgr::controller::http
