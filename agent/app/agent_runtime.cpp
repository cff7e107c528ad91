#include "agent/app/agent_runtime.hpp"

#include <malloc.h>
#include <spdlog/spdlog.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "shared/version.hpp"

namespace derpmgr::agent {

namespace {

constexpr auto use_tuple = net::as_tuple(net::use_awaitable);

std::string host_name() {
  char buf[256] = {};
  ::gethostname(buf, sizeof buf - 1);
  return buf;
}

std::string kernel() {
  struct utsname u {};
  if (::uname(&u) != 0) {
    return {};
  }
  return std::string(u.sysname) + " " + u.release;
}

}  // namespace

agent_runtime::agent_runtime(net::any_io_executor executor, agent_config config,
                             std::shared_ptr<docker_client> docker, runtime_options options)
    : executor_(std::move(executor)),
      config_(std::move(config)),
      docker_(std::move(docker)),
      options_(std::move(options)),
      store_(config_.state_dir),
      table_(clock_),
      wake_(executor_) {}

agent_runtime::~agent_runtime() { stop(); }

void agent_runtime::start() {
  if (auto persisted = store_.load()) {
    desired_ = std::move(*persisted);
    spdlog::info("agent: converging to the persisted desired state (generation {}, {} allocation(s))",
                 desired_.generation, desired_.allocations.size());
  }
  table_.update(desired_);
  admission_options admission;
  admission.listen = listen_address::parse(config_.admission_listen);
  admission_ = std::make_unique<admission_server>(admission, table_);
  admission_->start();

  reconciler_options rec;
  rec.layout.state_dir = config_.state_dir;
  rec.layout.admission_host = admission.listen.host.empty() ? "127.0.0.1" : admission.listen.host;
  rec.layout.admission_port = admission_->port();
  rec.layout.command_prefix = options_.command_prefix;
  reconciler_ = std::make_unique<reconciler>(*docker_, rec);

  auto channel = options_.channel;
  channel.state_dir = config_.state_dir;
  if (channel.controller_url.empty()) {
    channel.controller_url = config_.controller_url;
  }
  channel.agent_version = std::string(version);
  channel.ping_interval = config_.ping_interval;
  channel.silence_limit = config_.silence_limit;
  channel_ = std::make_unique<controller_channel>(executor_, channel, *this);
  net::co_spawn(executor_, reconcile_loop(this, alive_), net::detached);
  channel_->start();
}

void agent_runtime::stop() {
  if (!*alive_) {
    return;
  }
  *alive_ = false;
  if (channel_) {
    channel_->stop();
  }
  wake_.cancel();
  if (admission_) {
    admission_->stop();
  }
}

std::uint16_t agent_runtime::admission_port() const { return admission_ ? admission_->port() : 0; }

protocol::hello agent_runtime::hello() {
  protocol::hello h;
  h.host = protocol::host_facts{host_name(), docker_version_, kernel()};
  if (reconciler_) {
    h.containers = reconciler_->observed();
  }
  h.desired_generation = desired_.generation;
  return h;
}

void agent_runtime::apply(protocol::desired_state state) {
  // Persisted first: after a crash the agent converges to what it last accepted, without the controller.
  store_.save(state);
  table_.update(state);
  desired_ = std::move(state);
  wake_.cancel();
}

std::optional<protocol::status> agent_runtime::latest_status() { return status_; }

net::awaitable<void> agent_runtime::reconcile_loop(agent_runtime* self, std::shared_ptr<bool> alive) {
  try {
    auto v = co_await self->docker_->version();
    self->docker_version_ = v.version;
  } catch (const std::exception& e) {
    spdlog::warn("agent: Docker engine not answering yet: {}", e.what());
  }
  while (*alive) {
    if (self->desired_.node_id > 0) {
      auto result = co_await self->reconciler_->converge(self->desired_);
      if (!*alive) {
        break;
      }
      protocol::status st{result.generation, std::move(result.allocations), std::move(result.errors)};
      bool news = !self->status_ || self->status_->generation != st.generation ||
                  self->status_->allocations != st.allocations || self->status_->errors != st.errors;
      self->status_ = std::move(st);
      if (news) {
        self->channel_->nudge();
      }
    }
    // A pass allocates and frees the engine's container listing and its parse; glibc keeps freed pages in the heap
    // unless asked, and the agent is held to a small resident size on its host (bench/README.md).
    ::malloc_trim(0);
    self->wake_.expires_after(self->options_.reconcile_interval);
    co_await self->wake_.async_wait(use_tuple);
  }
}

}  // namespace derpmgr::agent
