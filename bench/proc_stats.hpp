#pragma once

#include <sys/types.h>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>

// Resource use of another process read from /proc, for the fleet benchmarks.
namespace derpmgr::bench {

// One look at /proc/<pid>: resident memory and CPU time used so far.
struct proc_sample {
  std::chrono::steady_clock::time_point at;
  long rss_kib = 0;       // VmRSS
  long hwm_kib = 0;       // VmHWM, the peak resident size
  long anon_kib = 0;      // RssAnon: heap, stacks, anonymous mappings
  long file_kib = 0;      // RssFile: the executable's and libraries' pages in memory
  int threads = 0;
  double cpu_seconds = 0;  // utime + stime
};

// Throws std::runtime_error when the process is gone.
proc_sample sample_process(pid_t pid);

// What a stretch of sampling saw.
struct proc_summary {
  double seconds = 0;
  long rss_min_kib = 0;
  long rss_avg_kib = 0;
  long rss_max_kib = 0;
  long hwm_kib = 0;
  long anon_kib = 0;  // at the last sample
  long file_kib = 0;
  int threads = 0;
  double cpu_seconds = 0;   // CPU time used during the stretch
  double cpu_percent = 0;   // of one core
};

// Accumulates samples of one process; summary() covers the first to the last sample.
class proc_sampler {
 public:
  explicit proc_sampler(pid_t pid) : pid_(pid) {}
  void take();
  proc_summary summary() const;

 private:
  pid_t pid_;
  proc_sample first_{};
  proc_sample last_{};
  long rss_min_ = 0;
  long rss_max_ = 0;
  long long rss_sum_ = 0;
  int count_ = 0;
};

// Samples `pid` once a second for `duration`.
proc_summary sample_for(pid_t pid, std::chrono::seconds duration);

// Samples `pid` every `interval` on a thread of its own while the caller does something else.
class background_sampler {
 public:
  background_sampler(pid_t pid, std::chrono::milliseconds interval = std::chrono::milliseconds(500));
  ~background_sampler();
  background_sampler(const background_sampler&) = delete;
  background_sampler& operator=(const background_sampler&) = delete;

  // Takes a last sample and returns what the whole stretch saw.
  proc_summary stop();

 private:
  proc_sampler sampler_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;
};

// "label: RSS min/avg/max … MiB, peak …, CPU … s = …% of a core over … s, … threads"
std::string describe(const std::string& label, const proc_summary& s);

}  // namespace derpmgr::bench
