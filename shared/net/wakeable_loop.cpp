#include "shared/net/wakeable_loop.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace derpmgr {

wakeable_loop::wakeable_loop(net::io_context& ioc) : strand_(net::make_strand(ioc)), timer_(strand_) {}

void wakeable_loop::start() {
  net::post(strand_, [self = shared_from_this()] { self->running_ = true; });
}

void wakeable_loop::stop() {
  net::post(strand_, [self = shared_from_this()] {
    self->running_ = false;
    self->timer_.cancel();
  });
}

void wakeable_loop::wake() {
  net::post(strand_, [self = shared_from_this()] {
    self->woken_ = true;
    self->timer_.cancel();
  });
}

void wakeable_loop::wake_with(std::function<void()> change) {
  net::post(strand_, [self = shared_from_this(), change = std::move(change)] {
    if (!self->running_) {
      return;
    }
    change();
    self->woken_ = true;
    self->timer_.cancel();
  });
}

bool wakeable_loop::take_wake() {
  bool was = woken_;
  woken_ = false;
  return was;
}

net::awaitable<void> wakeable_loop::sleep(std::chrono::steady_clock::duration d) {
  if (take_wake() || !running_) {
    co_return;
  }
  timer_.expires_after(d);
  co_await timer_.async_wait(net::as_tuple(net::use_awaitable));
  woken_ = false;
}

}  // namespace derpmgr
