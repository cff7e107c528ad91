#include "controller/metrics/metrics_registry.hpp"

#include <charconv>
#include <set>
#include <sstream>

namespace derpmgr::controller::metrics {

namespace {

std::string escape_label(const std::string& v) {
  std::string out;
  for (char c : v) {
    if (c == '\\' || c == '"') {
      out.push_back('\\');
      out.push_back(c);
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out.push_back(c);
    }
  }
  return out;
}

std::string number(double v) {
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  return ec == std::errc() ? std::string(buf, end) : std::string("NaN");
}

}  // namespace

void metrics_registry::observe_request(const std::string& route, const std::string& method, int status,
                                       double seconds) {
  std::lock_guard lock(mutex_);
  ++requests_[{route, method, status}];
  auto& h = latency_[route];
  for (std::size_t i = 0; i < latency_buckets.size(); ++i) {
    if (seconds <= latency_buckets[i]) {
      ++h.buckets[i];
    }
  }
  ++h.count;
  h.sum += seconds;
}

void metrics_registry::add_gauge(const std::string& name, const std::string& help, const std::string& labels,
                                 std::function<double()> read) {
  std::lock_guard lock(mutex_);
  gauges_.push_back(gauge{name, help, labels, std::move(read)});
}

std::string metrics_registry::render() const {
  std::vector<gauge> gauges;
  std::ostringstream out;
  {
    std::lock_guard lock(mutex_);
    gauges = gauges_;
    out << "# HELP derpmgr_http_requests_total HTTP requests by route, method and status.\n"
        << "# TYPE derpmgr_http_requests_total counter\n";
    for (const auto& [key, count] : requests_) {
      const auto& [route, method, status] = key;
      out << "derpmgr_http_requests_total{route=\"" << escape_label(route) << "\",method=\"" << method
          << "\",status=\"" << status << "\"} " << count << "\n";
    }
    out << "# HELP derpmgr_http_request_duration_seconds HTTP request latency by route.\n"
        << "# TYPE derpmgr_http_request_duration_seconds histogram\n";
    for (const auto& [route, h] : latency_) {
      std::string r = escape_label(route);
      for (std::size_t i = 0; i < latency_buckets.size(); ++i) {
        out << "derpmgr_http_request_duration_seconds_bucket{route=\"" << r << "\",le=\""
            << number(latency_buckets[i]) << "\"} " << h.buckets[i] << "\n";
      }
      out << "derpmgr_http_request_duration_seconds_bucket{route=\"" << r << "\",le=\"+Inf\"} " << h.count << "\n"
          << "derpmgr_http_request_duration_seconds_sum{route=\"" << r << "\"} " << number(h.sum) << "\n"
          << "derpmgr_http_request_duration_seconds_count{route=\"" << r << "\"} " << h.count << "\n";
    }
  }
  // Gauges are read outside the lock: their callbacks may take other locks.
  std::set<std::string> described;
  for (const auto& g : gauges) {
    if (described.insert(g.name).second) {
      out << "# HELP " << g.name << " " << g.help << "\n# TYPE " << g.name << " gauge\n";
    }
    out << g.name;
    if (!g.labels.empty()) {
      out << "{" << g.labels << "}";
    }
    out << " " << number(g.read()) << "\n";
  }
  return out.str();
}

}  // namespace derpmgr::controller::metrics
