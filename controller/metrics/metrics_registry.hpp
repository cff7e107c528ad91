#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <tuple>
#include <vector>

namespace derpmgr::controller::metrics {

// The controller's Prometheus metrics: HTTP requests by route and status, a latency histogram, and gauges read
// on scrape (DB pool, sessions, …). Thread-safe.
class metrics_registry {
 public:
  static constexpr std::array<double, 11> latency_buckets = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                                             0.1,   0.25,   0.5,   1.0,  2.5};

  // Counts one finished request; `route` is the matched pattern ("unmatched" when none).
  void observe_request(const std::string& route, const std::string& method, int status, double seconds);

  // Registers a gauge read at scrape time. `labels` is the literal label set, e.g. `state="idle"` or "".
  void add_gauge(const std::string& name, const std::string& help, const std::string& labels,
                 std::function<double()> read);

  // The exposition in Prometheus text format 0.0.4.
  std::string render() const;

 private:
  struct histogram {
    std::array<std::uint64_t, latency_buckets.size()> buckets{};
    std::uint64_t count = 0;
    double sum = 0;
  };
  struct gauge {
    std::string name;
    std::string help;
    std::string labels;
    std::function<double()> read;
  };
  mutable std::mutex mutex_;
  std::map<std::tuple<std::string, std::string, int>, std::uint64_t> requests_;
  std::map<std::string, histogram> latency_;
  std::vector<gauge> gauges_;
};

}  // namespace derpmgr::controller::metrics
