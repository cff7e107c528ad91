#include "shared/net/wakeable_loop.hpp"

#include <doctest/doctest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/use_future.hpp>
#include <chrono>
#include <thread>

using namespace derpmgr;
using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;

namespace {

// An io_context on two threads (so the strand matters) with one loop on it.
struct loop_fixture {
  net::io_context ioc;
  net::executor_work_guard<net::io_context::executor_type> work = net::make_work_guard(ioc);
  std::shared_ptr<wakeable_loop> loop = std::make_shared<wakeable_loop>(ioc);
  std::thread a{[this] { ioc.run(); }};
  std::thread b{[this] { ioc.run(); }};

  loop_fixture() { loop->start(); }
  ~loop_fixture() {
    work.reset();
    ioc.stop();
    a.join();
    b.join();
  }
  loop_fixture(const loop_fixture&) = delete;
  loop_fixture& operator=(const loop_fixture&) = delete;

  // Runs one sleep of `d` on the loop's strand and returns how long it took.
  steady::duration timed_sleep(steady::duration d) {
    auto task = [](std::shared_ptr<wakeable_loop> l, steady::duration wait) -> net::awaitable<steady::duration> {
      auto started = steady::now();
      co_await l->sleep(wait);
      steady::duration took = steady::now() - started;
      co_return took;
    };
    auto done = net::co_spawn(loop->strand(), task(loop, d), net::use_future);
    return done.get();
  }
};

}  // namespace

TEST_CASE("wakeable loop: a sleep lasts its time unless woken, and a wake ends it early") {
  loop_fixture f;
  CHECK(f.timed_sleep(150ms) >= 150ms);

  std::thread waker([&] {
    std::this_thread::sleep_for(100ms);
    f.loop->wake();
  });
  auto took = f.timed_sleep(10s);
  waker.join();
  CHECK(took >= 90ms);
  CHECK(took < 5s);
}

TEST_CASE("wakeable loop: a wake that arrives while the loop is busy makes the next sleep return at once, once") {
  loop_fixture f;
  f.loop->wake();
  std::this_thread::sleep_for(50ms);  // the wake lands while nobody sleeps
  CHECK(f.timed_sleep(10s) < 5s);
  // It was used up: the next sleep lasts again.
  CHECK(f.timed_sleep(150ms) >= 150ms);
}

TEST_CASE("wakeable loop: wake_with changes state on the strand only while running; stop ends a sleep") {
  loop_fixture f;
  int changes = 0;  // only touched on the strand
  f.loop->wake_with([&changes] { ++changes; });
  std::this_thread::sleep_for(50ms);
  CHECK(f.timed_sleep(10s) < 5s);  // it woke the loop, too
  std::thread stopper([&] {
    std::this_thread::sleep_for(100ms);
    f.loop->stop();
  });
  CHECK(f.timed_sleep(10s) < 5s);
  stopper.join();
  f.loop->wake_with([&changes] { ++changes; });  // stopped: ignored
  std::this_thread::sleep_for(50ms);
  auto read = [](int* n) -> net::awaitable<int> { co_return *n; };
  CHECK(net::co_spawn(f.loop->strand(), read(&changes), net::use_future).get() == 1);
  CHECK(f.timed_sleep(10s) < 5s);  // a stopped loop does not sleep
}
