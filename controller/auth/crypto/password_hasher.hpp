#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <exception>
#include <functional>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "shared/net/net.hpp"

namespace derpmgr::controller::auth {

// The hasher's queue is full (or it is stopping): answer 503/429 instead of piling up 64 MiB jobs.
class hasher_busy : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Counts for the metrics endpoint.
struct hasher_stats {
  std::size_t threads = 0;
  std::size_t running = 0;
  std::size_t queued = 0;
  std::size_t rejected = 0;
};

// argon2id password hashing (libsodium) on a small dedicated thread pool with a bounded queue, awaited from
// coroutines so the io threads never spend the ~64 MiB and fraction of a second each hash costs.
class password_hasher {
 public:
  struct options {
    std::size_t threads = 1;
    // Jobs allowed to wait behind the running ones; one more is refused with hasher_busy.
    std::size_t max_queued = 16;
    unsigned long long opslimit = 3;
    std::size_t memlimit = std::size_t{64} << 20;
  };

  explicit password_hasher(options opts);
  ~password_hasher();
  password_hasher(const password_hasher&) = delete;
  password_hasher& operator=(const password_hasher&) = delete;

  // An encoded "$argon2id$v=19$m=…,t=…,p=1$salt$hash" string for `password`; throws hasher_busy when full.
  net::awaitable<std::string> hash(std::string password);
  // Whether `password` matches the encoded `hash`; false for a malformed hash; throws hasher_busy when full.
  net::awaitable<bool> verify(std::string hash, std::string password);
  // The same work as verify() for an account that does not exist, so timing does not reveal which emails exist.
  net::awaitable<void> dummy_verify(std::string password);
  // Whether `hash` is not argon2id with this hasher's parameters (rehash after the next successful login).
  bool needs_rehash(const std::string& hash) const;

  hasher_stats stats() const;

 private:
  struct job {
    std::function<void()> work;
    std::function<void(std::exception_ptr)> done;
  };

  net::awaitable<void> execute(std::function<void()> work);
  void submit(job j);
  void worker_main();

  options options_;
  mutable std::mutex mutex_;
  std::condition_variable cv_;
  std::deque<job> queue_;
  bool stopping_ = false;
  std::size_t running_ = 0;
  std::size_t rejected_ = 0;
  std::vector<std::thread> threads_;
};

}  // namespace derpmgr::controller::auth
