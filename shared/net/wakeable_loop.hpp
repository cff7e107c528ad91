#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <chrono>
#include <functional>
#include <memory>

#include "shared/net/net.hpp"

namespace derpmgr {

// The waiting part of a background loop that runs on its own strand, sleeps between turns and can be woken from
// any thread. A wake that arrives while the loop is busy is kept, so the next sleep returns at once. Hold it in a
// shared_ptr that the loop's coroutine also holds: posted work then never outlives it.
class wakeable_loop : public std::enable_shared_from_this<wakeable_loop> {
 public:
  using strand_type = net::strand<net::io_context::executor_type>;

  explicit wakeable_loop(net::io_context& ioc);

  const strand_type& strand() const { return strand_; }
  // From any thread. start() before the coroutine is spawned on strand(); stop() also ends a sleep.
  void start();
  void stop();
  void wake();
  // From any thread: runs `change` on the strand, then wakes the loop (when it is running).
  void wake_with(std::function<void()> change);

  // On the strand.
  bool running() const { return running_; }
  // Whether a wake arrived since the last sleep returned (and forgets it).
  bool take_wake();
  // Sleeps for `d` unless a wake arrived since the last sleep (or stop was called).
  net::awaitable<void> sleep(std::chrono::steady_clock::duration d);

 private:
  strand_type strand_;
  net::steady_timer timer_;
  bool running_ = false;
  bool woken_ = false;
};

}  // namespace derpmgr
