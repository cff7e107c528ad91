#include "controller/notify/outbox_worker.hpp"

#include <spdlog/spdlog.h>

#include <atomic>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <future>
#include <random>

#include "controller/db/connection_pool.hpp"
#include "controller/notify/mailer.hpp"
#include "controller/notify/message_format.hpp"
#include "controller/notify/outbox.hpp"
#include "shared/clock/clock.hpp"
#include "shared/net/net.hpp"

namespace derpmgr::controller::notify {

// What the worker's loop shares with the worker object; kept alive by the loop while it runs.
struct outbox_worker_state {
  outbox_worker_state(net::io_context& ioc, db::connection_pool& p, std::shared_ptr<mailer> m,
                      std::shared_ptr<const clock> c, outbox_worker::options o)
      : io(ioc),
        strand(net::make_strand(ioc)),
        timer(strand),
        pool(p),
        mail(std::move(m)),
        clk(std::move(c)),
        opts(o),
        retry(o.retry),
        rng(std::random_device{}()) {}

  net::io_context& io;
  net::strand<net::io_context::executor_type> strand;
  net::steady_timer timer;
  db::connection_pool& pool;
  std::shared_ptr<mailer> mail;
  std::shared_ptr<const clock> clk;
  outbox_worker::options opts;
  retry_policy retry;
  outbox box;
  // One thread for the blocking SMTP conversations, so they never occupy an io thread.
  net::thread_pool sender{1};
  // Touched only on the strand.
  bool stopping = false;
  bool woken = false;
  std::mt19937_64 rng;
  std::promise<void> finished;
  std::future<void> finished_future = finished.get_future();
  std::atomic<std::uint64_t> sent{0};
  std::atomic<std::uint64_t> failed_attempts{0};
};

namespace {

using state_ptr = std::shared_ptr<outbox_worker_state>;

// Runs on the sender thread: "" when the server took the message, the reason otherwise.
net::awaitable<std::string> deliver(std::shared_ptr<mailer> mail, email_message message) {
  try {
    mail->send(message);
    co_return std::string();
  } catch (const mail_error& e) {
    co_return std::string(e.what());
  } catch (const std::exception& e) {
    co_return "unexpected error while sending: " + std::string(e.what());
  }
}

email_message to_email(const claimed_message& m) {
  email_message e;
  e.to = m.recipient;
  e.subject = m.subject;
  e.body_text = m.body_text;
  // Stable across retries, so a receiver that got a copy whose acknowledgement was lost can tell.
  e.message_id = "outbox." + std::to_string(m.id) + "." + std::to_string(m.created_at.time_since_epoch().count());
  return e;
}

// Records how one delivery went: sent, or a failed attempt with the next try scheduled (or none left).
net::awaitable<void> settle(state_ptr s, std::string token, claimed_message m, std::string error) {
  auto* st = s.get();
  auto now = st->clk->now();
  auto domain = address_domain(m.recipient);
  if (error.empty()) {
    bool kept = co_await st->pool.transact(
        [st, &token, &m, now](sql::Connection& c) { return st->box.mark_sent(c, m.id, token, now); });
    ++st->sent;
    if (kept) {
      spdlog::info("outbox: message {} sent to a recipient at {}", m.id, domain);
    } else {
      spdlog::warn("outbox: message {} sent after its claim ran out; another worker may send it too", m.id);
    }
    co_return;
  }
  ++st->failed_attempts;
  int attempts = m.attempts + 1;
  std::optional<time_point> retry_at;
  if (!st->retry.exhausted(attempts)) {
    std::uniform_real_distribution<double> unit(0.0, 1.0);
    retry_at = now + st->retry.jittered(attempts, unit(st->rng));
  }
  co_await st->pool.transact([st, &token, &m, &error, retry_at](sql::Connection& c) {
    return st->box.mark_failed(c, m.id, token, error, retry_at);
  });
  if (retry_at) {
    spdlog::warn("outbox: message {} to a recipient at {} failed (attempt {}), next try at {}: {}", m.id, domain,
                 attempts, format_rfc3339(*retry_at), error);
  } else {
    spdlog::error("outbox: message {} to a recipient at {} failed for good after {} attempts: {}", m.id, domain,
                  attempts, error);
  }
}

// Hands the claimed messages from `first` on back untried.
net::awaitable<void> release_rest(state_ptr s, std::string token, std::vector<claimed_message> messages,
                                  std::size_t first) {
  auto* st = s.get();
  co_await st->pool.transact([st, &token, &messages, first](sql::Connection& c) {
    for (std::size_t i = first; i < messages.size(); ++i) {
      st->box.release(c, messages[i].id, token);
    }
  });
}

// Claims one batch and works through it; returns how many messages it claimed.
net::awaitable<std::size_t> deliver_batch(state_ptr s) {
  auto* st = s.get();
  auto now = st->clk->now();
  auto claim = co_await st->pool.transact(
      [st, now](sql::Connection& c) { return st->box.claim_due(c, now, st->opts.batch_size, st->opts.claim_lease); });
  for (std::size_t i = 0; i < claim.messages.size(); ++i) {
    if (st->stopping) {
      co_await release_rest(s, claim.token, claim.messages, i);
      break;
    }
    const auto& m = claim.messages[i];
    auto error = co_await net::co_spawn(st->sender, deliver(st->mail, to_email(m)), net::use_awaitable);
    co_await settle(s, claim.token, m, std::move(error));
  }
  co_return claim.messages.size();
}

net::awaitable<void> run_loop(state_ptr s) {
  auto* st = s.get();
  while (!st->stopping) {
    st->woken = false;
    bool full = false;
    try {
      full = co_await deliver_batch(s) >= st->opts.batch_size;
    } catch (const std::exception& e) {
      spdlog::warn("outbox: delivery round failed: {}", e.what());
    }
    if (st->stopping) {
      break;
    }
    if (full || st->woken) {
      continue;
    }
    st->timer.expires_after(st->opts.poll_interval);
    co_await st->timer.async_wait(net::as_tuple(net::use_awaitable));
  }
}

}  // namespace

outbox_worker::outbox_worker(net::io_context& ioc, db::connection_pool& pool, std::shared_ptr<mailer> mail,
                             std::shared_ptr<const clock> clk, options opts)
    : state_(std::make_shared<outbox_worker_state>(ioc, pool, std::move(mail), std::move(clk), opts)) {}

outbox_worker::outbox_worker(net::io_context& ioc, db::connection_pool& pool, std::shared_ptr<mailer> mail,
                             std::shared_ptr<const clock> clk)
    : outbox_worker(ioc, pool, std::move(mail), std::move(clk), options{}) {}

outbox_worker::~outbox_worker() {
  stop();
}

void outbox_worker::start() {
  if (started_.exchange(true)) {
    throw std::logic_error("outbox_worker started twice");
  }
  auto s = state_;
  net::co_spawn(s->strand, run_loop(s), [s](const std::exception_ptr& error) {
    if (error) {
      try {
        std::rethrow_exception(error);
      } catch (const std::exception& e) {
        spdlog::error("outbox: worker loop ended: {}", e.what());
      }
    }
    s->finished.set_value();
  });
}

void outbox_worker::wake() {
  if (!started_ || stopped_) {
    return;
  }
  auto s = state_;
  net::post(s->strand, [s] {
    s->woken = true;
    s->timer.cancel();
  });
}

void outbox_worker::stop() {
  if (stopped_.exchange(true)) {
    return;
  }
  auto s = state_;
  if (started_) {
    net::post(s->strand, [s] {
      s->stopping = true;
      s->timer.cancel();
    });
    while (s->finished_future.wait_for(std::chrono::milliseconds(20)) != std::future_status::ready) {
      if (s->io.stopped()) {
        spdlog::warn("outbox: io_context stopped before the worker loop ended");
        break;
      }
    }
  }
  s->sender.stop();
  s->sender.join();
}

outbox_worker::counters outbox_worker::stats() const {
  return counters{state_->sent.load(), state_->failed_attempts.load()};
}

}  // namespace derpmgr::controller::notify
