#include "controller/auth/crypto/password_hasher.hpp"

#include <sodium.h>

#include <boost/asio/async_result.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <memory>

namespace derpmgr::controller::auth {

namespace {

// One job's inputs and outputs, shared by the awaiting coroutine and the worker that fills them in; the password
// is wiped however the job ends (done, refused or abandoned).
struct job_state {
  std::string hash;
  std::string password;
  bool matched = false;

  job_state() = default;
  job_state(const job_state&) = delete;
  job_state& operator=(const job_state&) = delete;
  ~job_state() { sodium_memzero(password.data(), password.size()); }
};

std::string argon2id_hash(const std::string& password, unsigned long long opslimit, std::size_t memlimit) {
  char out[crypto_pwhash_STRBYTES];
  if (crypto_pwhash_str_alg(out, password.data(), password.size(), opslimit, memlimit, crypto_pwhash_ALG_ARGON2ID13) !=
      0) {
    throw std::runtime_error("argon2id hashing failed (out of memory?)");
  }
  return std::string(out);
}

// The closures are built outside the coroutines: g++ 12 destroys lambda captures made inside a coroutine twice.
std::function<void()> hash_work(const std::shared_ptr<job_state>& state, unsigned long long opslimit,
                                std::size_t memlimit) {
  return [state, opslimit, memlimit] { state->hash = argon2id_hash(state->password, opslimit, memlimit); };
}

std::function<void()> verify_work(const std::shared_ptr<job_state>& state) {
  return [state] {
    state->matched = crypto_pwhash_str_verify(state->hash.c_str(), state->password.data(), state->password.size()) == 0;
  };
}

}  // namespace

password_hasher::password_hasher(options opts) : options_(opts) {
  if (sodium_init() < 0) {
    throw std::runtime_error("libsodium failed to initialise");
  }
  if (options_.threads == 0) {
    throw std::invalid_argument("password hasher needs at least one thread");
  }
  if (options_.opslimit < crypto_pwhash_argon2id_OPSLIMIT_MIN ||
      options_.memlimit < crypto_pwhash_argon2id_MEMLIMIT_MIN) {
    throw std::invalid_argument("argon2id limits below libsodium's minimum");
  }
  for (std::size_t i = 0; i < options_.threads; ++i) {
    threads_.emplace_back([this] { worker_main(); });
  }
}

password_hasher::~password_hasher() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  cv_.notify_all();
  for (auto& t : threads_) {
    t.join();
  }
  for (auto& j : queue_) {
    j.done(std::make_exception_ptr(hasher_busy("password hasher stopped")));
  }
}

net::awaitable<std::string> password_hasher::hash(std::string password) {
  auto state = std::make_shared<job_state>();
  state->password = std::move(password);
  auto work = hash_work(state, options_.opslimit, options_.memlimit);
  co_await execute(std::move(work));
  co_return std::move(state->hash);
}

net::awaitable<bool> password_hasher::verify(std::string hash, std::string password) {
  auto state = std::make_shared<job_state>();
  state->hash = std::move(hash);
  state->password = std::move(password);
  auto work = verify_work(state);
  co_await execute(std::move(work));
  co_return state->matched;
}

net::awaitable<void> password_hasher::dummy_verify(std::string password) {
  // Hashing with the current parameters costs what verifying a current hash costs, without keeping a decoy hash.
  auto state = std::make_shared<job_state>();
  state->password = std::move(password);
  auto work = hash_work(state, options_.opslimit, options_.memlimit);
  co_await execute(std::move(work));
}

bool password_hasher::needs_rehash(const std::string& hash) const {
  return crypto_pwhash_argon2id_str_needs_rehash(hash.c_str(), options_.opslimit, options_.memlimit) != 0;
}

hasher_stats password_hasher::stats() const {
  std::lock_guard lock(mutex_);
  return hasher_stats{threads_.size(), running_, queue_.size(), rejected_};
}

net::awaitable<void> password_hasher::execute(std::function<void()> work) {
  auto initiate = [this, &work](auto handler) {
    auto shared = std::make_shared<decltype(handler)>(std::move(handler));
    job j;
    j.work = std::move(work);
    j.done = [shared](std::exception_ptr ep) {
      auto executor = net::get_associated_executor(*shared);
      net::post(executor, [shared, ep]() mutable { std::move (*shared)(ep); });
    };
    submit(std::move(j));
  };
  co_await net::async_initiate<decltype(net::use_awaitable), void(std::exception_ptr)>(initiate, net::use_awaitable);
}

void password_hasher::submit(job j) {
  {
    std::lock_guard lock(mutex_);
    if (stopping_) {
      j.done(std::make_exception_ptr(hasher_busy("password hasher stopped")));
      return;
    }
    // Capacity counts running jobs too, so a burst is judged alike whether or not a worker has taken its head yet.
    if (queue_.size() + running_ >= options_.threads + options_.max_queued) {
      ++rejected_;
      j.done(std::make_exception_ptr(hasher_busy("password hasher is busy")));
      return;
    }
    queue_.push_back(std::move(j));
  }
  cv_.notify_one();
}

void password_hasher::worker_main() {
  for (;;) {
    job j;
    {
      std::unique_lock lock(mutex_);
      cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (stopping_) {
        break;
      }
      j = std::move(queue_.front());
      queue_.pop_front();
      ++running_;
    }
    std::exception_ptr error;
    try {
      j.work();
    } catch (...) {
      error = std::current_exception();
    }
    {
      std::lock_guard lock(mutex_);
      --running_;
    }
    j.done(error);
  }
}

}  // namespace derpmgr::controller::auth
