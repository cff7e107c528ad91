#include "bench/proc_stats.hpp"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace derpmgr::bench {

namespace {

long status_kib(const std::string& status, const std::string& field) {
  auto at = status.find("\n" + field + ":");
  if (at == std::string::npos) {
    return 0;
  }
  return std::atol(status.c_str() + at + field.size() + 2);
}

double mib(long kib) { return static_cast<double>(kib) / 1024.0; }

}  // namespace

proc_sample sample_process(pid_t pid) {
  proc_sample s;
  s.at = std::chrono::steady_clock::now();
  auto dir = "/proc/" + std::to_string(pid);
  std::ifstream status_file(dir + "/status");
  std::ifstream stat_file(dir + "/stat");
  if (!status_file || !stat_file) {
    throw std::runtime_error("process " + std::to_string(pid) + " is gone");
  }
  std::stringstream status;
  status << "\n" << status_file.rdbuf();
  s.rss_kib = status_kib(status.str(), "VmRSS");
  s.hwm_kib = status_kib(status.str(), "VmHWM");
  s.anon_kib = status_kib(status.str(), "RssAnon");
  s.file_kib = status_kib(status.str(), "RssFile");
  s.threads = static_cast<int>(status_kib(status.str(), "Threads"));
  // /proc/<pid>/stat: the command name is in parentheses and may hold spaces; utime and stime are fields 14 and 15.
  std::string stat((std::istreambuf_iterator<char>(stat_file)), std::istreambuf_iterator<char>());
  std::istringstream rest(stat.substr(stat.rfind(')') + 2));
  std::string field;
  unsigned long long utime = 0;
  unsigned long long stime = 0;
  for (int i = 3; i <= 15 && rest >> field; ++i) {
    if (i == 14) {
      utime = std::stoull(field);
    } else if (i == 15) {
      stime = std::stoull(field);
    }
  }
  s.cpu_seconds = static_cast<double>(utime + stime) / static_cast<double>(::sysconf(_SC_CLK_TCK));
  return s;
}

void proc_sampler::take() {
  auto s = sample_process(pid_);
  if (count_ == 0) {
    first_ = s;
    rss_min_ = s.rss_kib;
    rss_max_ = s.rss_kib;
  }
  last_ = s;
  rss_min_ = std::min(rss_min_, s.rss_kib);
  rss_max_ = std::max(rss_max_, s.rss_kib);
  rss_sum_ += s.rss_kib;
  ++count_;
}

proc_summary proc_sampler::summary() const {
  proc_summary out;
  if (count_ == 0) {
    return out;
  }
  out.seconds = std::chrono::duration<double>(last_.at - first_.at).count();
  out.rss_min_kib = rss_min_;
  out.rss_max_kib = rss_max_;
  out.rss_avg_kib = static_cast<long>(rss_sum_ / count_);
  out.hwm_kib = last_.hwm_kib;
  out.anon_kib = last_.anon_kib;
  out.file_kib = last_.file_kib;
  out.threads = last_.threads;
  out.cpu_seconds = last_.cpu_seconds - first_.cpu_seconds;
  out.cpu_percent = out.seconds > 0 ? 100.0 * out.cpu_seconds / out.seconds : 0;
  return out;
}

proc_summary sample_for(pid_t pid, std::chrono::seconds duration) {
  proc_sampler sampler(pid);
  auto start = std::chrono::steady_clock::now();
  sampler.take();
  while (std::chrono::steady_clock::now() - start < duration) {
    std::this_thread::sleep_for(std::chrono::seconds(1));
    sampler.take();
  }
  return sampler.summary();
}

background_sampler::background_sampler(pid_t pid, std::chrono::milliseconds interval) : sampler_(pid) {
  sampler_.take();
  thread_ = std::thread([this, interval] {
    std::unique_lock lock(mutex_);
    while (!wake_.wait_for(lock, interval, [this] { return stopping_; })) {
      try {
        sampler_.take();
      } catch (const std::runtime_error&) {
        return;  // the process ended; the summary covers what was seen
      }
    }
  });
}

background_sampler::~background_sampler() {
  if (thread_.joinable()) {
    stop();
  }
}

proc_summary background_sampler::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
  try {
    sampler_.take();
  } catch (const std::runtime_error&) {
  }
  return sampler_.summary();
}

std::string describe(const std::string& label, const proc_summary& s) {
  char line[512];
  std::snprintf(line, sizeof line,
                "%s: RSS min/avg/max %.1f / %.1f / %.1f MiB (peak %.1f MiB), CPU %.2f s = %.1f%% of a core over "
                "%.0f s, %d threads; at the end %.1f MiB anonymous + %.1f MiB file-backed",
                label.c_str(), mib(s.rss_min_kib), mib(s.rss_avg_kib), mib(s.rss_max_kib), mib(s.hwm_kib),
                s.cpu_seconds, s.cpu_percent, s.seconds, s.threads, mib(s.anon_kib), mib(s.file_kib));
  return line;
}

}  // namespace derpmgr::bench
