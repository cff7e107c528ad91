#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>

#include "controller/notify/retry_policy.hpp"

namespace boost::asio {
class io_context;
}

namespace derpmgr {
class clock;
}

namespace derpmgr::controller::db {
class connection_pool;
}

namespace derpmgr::controller::notify {

class mailer;
struct outbox_worker_state;

// Delivers the email outbox: a loop on the io_context claims due messages in batches (safe beside other replicas'
// workers), sends each with the mailer on a thread of its own (SMTP blocks), and records sent or a retry with
// backoff. It looks every poll interval, and at once after wake().
class outbox_worker {
 public:
  struct options {
    std::chrono::milliseconds poll_interval{1000};
    std::size_t batch_size = 10;
    // How long a claim holds; must exceed batch_size × the mailer's timeout, or a slow batch is sent twice.
    std::chrono::seconds claim_lease{900};
    retry_policy::options retry;
  };

  // Counts since start, for tests and metrics.
  struct counters {
    std::uint64_t sent = 0;
    std::uint64_t failed_attempts = 0;
  };

  outbox_worker(boost::asio::io_context& ioc, db::connection_pool& pool, std::shared_ptr<mailer> mail,
                std::shared_ptr<const clock> clk, options opts);
  outbox_worker(boost::asio::io_context& ioc, db::connection_pool& pool, std::shared_ptr<mailer> mail,
                std::shared_ptr<const clock> clk);
  ~outbox_worker();
  outbox_worker(const outbox_worker&) = delete;
  outbox_worker& operator=(const outbox_worker&) = delete;

  // Starts the loop; the io_context must be running (now or later) for it to make progress. Call once.
  void start();
  // Makes the loop look for due messages now instead of at the next poll; call after committing an enqueue.
  // Thread-safe, cheap, a no-op when not running.
  void wake();
  // Stops the loop after the message in flight, hands claimed but untried messages back, and waits for the loop to
  // end (as long as the io_context runs). Call from outside the io_context's threads, before it stops. Idempotent.
  void stop();

  counters stats() const;

 private:
  std::shared_ptr<outbox_worker_state> state_;
  std::atomic<bool> started_{false};
  std::atomic<bool> stopped_{false};
};

}  // namespace derpmgr::controller::notify
