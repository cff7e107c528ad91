#include "controller/auth/crypto/password_hasher.hpp"

#include <doctest/doctest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <future>
#include <vector>

#include "tests/support/run_awaitable.hpp"

using namespace derpmgr::controller::auth;
using derpmgr::test::run_awaitable;

namespace {

const std::string password = "correct horse battery staple";

net::awaitable<std::string> hash_or_busy(password_hasher& hasher, std::string text) {
  try {
    co_return co_await hasher.hash(std::move(text));
  } catch (const hasher_busy&) {
    co_return "busy";
  }
}

// Cheap parameters for tests that do not care about the cost.
password_hasher::options cheap() {
  return password_hasher::options{.threads = 1, .opslimit = 1, .memlimit = 8192};
}

}  // namespace

TEST_CASE("argon2id with 64 MiB and 3 passes, refused with hasher_busy when the queue is full") {
  // One thread and one queue slot: of three simultaneous requests one runs, one waits and one is refused. Each
  // real hash takes far longer than starting three coroutines, so the refusal is deterministic.
  password_hasher hasher(password_hasher::options{.threads = 1, .max_queued = 1});
  net::io_context io;
  std::vector<std::future<std::string>> results;
  for (int i = 0; i < 3; ++i) {
    results.push_back(net::co_spawn(io, hash_or_busy(hasher, password), net::use_future));
  }
  io.run();
  std::vector<std::string> hashes;
  int busy = 0;
  for (auto& result : results) {
    auto text = result.get();
    if (text == "busy") {
      ++busy;
    } else {
      hashes.push_back(text);
    }
  }
  CHECK(busy == 1);
  CHECK(hasher.stats().rejected == 1);
  REQUIRE(hashes.size() == 2);
  CHECK(hashes[0].starts_with("$argon2id$v=19$m=65536,t=3,p=1$"));
  CHECK(hashes[0] != hashes[1]);
  CHECK_FALSE(hasher.needs_rehash(hashes[0]));

  CHECK(run_awaitable(hasher.verify(hashes[0], password)));
  CHECK_FALSE(run_awaitable(hasher.verify(hashes[1], "correct horse battery stapler")));
}

TEST_CASE("verify refuses malformed hashes and dummy_verify completes") {
  password_hasher hasher(cheap());
  auto hash = run_awaitable(hasher.hash(password));
  CHECK(hash.starts_with("$argon2id$v=19$m=8,t=1,p=1$"));
  CHECK(run_awaitable(hasher.verify(hash, password)));
  CHECK_FALSE(run_awaitable(hasher.verify("not a hash", password)));
  CHECK_FALSE(run_awaitable(hasher.verify("", password)));
  run_awaitable(hasher.dummy_verify(password));
  CHECK(hasher.stats().running == 0);
  CHECK(hasher.stats().queued == 0);
}

TEST_CASE("hashes with other parameters or algorithms need a rehash") {
  password_hasher cheap_hasher(cheap());
  auto cheap_hash = run_awaitable(cheap_hasher.hash(password));
  password_hasher real(password_hasher::options{});
  CHECK(real.needs_rehash(cheap_hash));
  CHECK_FALSE(cheap_hasher.needs_rehash(cheap_hash));
  CHECK(real.needs_rehash(
      "$argon2i$v=19$m=65536,t=3,p=1$c2FsdHNhbHRzYWx0c2FsdA$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g"));
  CHECK(real.needs_rehash("garbage"));
}

TEST_CASE("bad options are refused") {
  CHECK_THROWS_AS(password_hasher(password_hasher::options{.threads = 0}), std::invalid_argument);
  CHECK_THROWS_AS(password_hasher(password_hasher::options{.memlimit = 1024}), std::invalid_argument);
}
