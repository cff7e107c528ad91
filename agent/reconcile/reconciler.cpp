#include "agent/reconcile/reconciler.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <stdexcept>

#include "agent/docker/docker_error.hpp"

namespace derpmgr::agent {

namespace {

using steady = std::chrono::steady_clock;

const char* state_running = "running";
const char* state_starting = "starting";
const char* state_error = "error";

// The allocation id of a label value, or 0 when it is not a positive decimal number.
std::int64_t parse_id(const std::string& text) {
  std::int64_t id = 0;
  auto [rest, error] = std::from_chars(text.data(), text.data() + text.size(), id);
  if (error != std::errc{} || rest != text.data() + text.size() || id <= 0 || std::to_string(id) != text) {
    return 0;
  }
  return id;
}

bool engine_away(const docker_error& e) {
  return e.failure() == docker_failure::unreachable || e.failure() == docker_failure::timed_out;
}

std::string seconds_text(steady::duration d) {
  const auto s = std::chrono::ceil<std::chrono::seconds>(d).count();
  return std::to_string(std::max<std::int64_t>(s, 0)) + "s";
}

std::string exit_text(const container_details& details) {
  if (details.oom_killed) {
    return "container was killed for exceeding its memory limit (exit code " + std::to_string(details.exit_code) + ")";
  }
  return "container exited with code " + std::to_string(details.exit_code);
}

// A socket bound once and closed: the POSIX way to ask whether an address:port is free.
class probe_socket {
 public:
  probe_socket(int family, int type) : fd_(::socket(family, type | SOCK_CLOEXEC, 0)) {}
  ~probe_socket() {
    if (fd_ >= 0) {
      ::close(fd_);
    }
  }
  probe_socket(const probe_socket&) = delete;
  probe_socket& operator=(const probe_socket&) = delete;
  int fd() const { return fd_; }

 private:
  int fd_;
};

// 0 when binding worked, else the errno.
int try_bind(const sockaddr_storage& address, socklen_t length, int type) {
  probe_socket socket(address.ss_family, type);
  if (socket.fd() < 0) {
    return errno;
  }
  const int on = 1;
  if (type == SOCK_STREAM) {
    ::setsockopt(socket.fd(), SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
  }
  if (address.ss_family == AF_INET6) {
    ::setsockopt(socket.fd(), IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof on);
  }
  if (::bind(socket.fd(), reinterpret_cast<const sockaddr*>(&address), length) != 0) {
    return errno;
  }
  return 0;
}

}  // namespace

std::optional<std::string> port_unavailable(const std::string& bind_ip, int port) {
  struct candidate {
    sockaddr_storage address{};
    socklen_t length = 0;
    bool optional = false;  // the IPv6 wildcard: a host without IPv6 is fine
  };
  std::vector<candidate> candidates;
  auto add_v4 = [&](const in_addr& ip) {
    candidate c;
    auto* v4 = reinterpret_cast<sockaddr_in*>(&c.address);
    v4->sin_family = AF_INET;
    v4->sin_port = htons(static_cast<std::uint16_t>(port));
    v4->sin_addr = ip;
    c.length = sizeof(sockaddr_in);
    candidates.push_back(c);
  };
  auto add_v6 = [&](const in6_addr& ip, bool optional) {
    candidate c;
    auto* v6 = reinterpret_cast<sockaddr_in6*>(&c.address);
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(static_cast<std::uint16_t>(port));
    v6->sin6_addr = ip;
    c.length = sizeof(sockaddr_in6);
    c.optional = optional;
    candidates.push_back(c);
  };

  std::string ip = bind_ip;
  if (ip.size() > 2 && ip.front() == '[' && ip.back() == ']') {
    ip = ip.substr(1, ip.size() - 2);
  }
  if (ip.empty()) {
    add_v4(in_addr{htonl(INADDR_ANY)});
    add_v6(in6addr_any, true);
  } else {
    in_addr v4{};
    in6_addr v6{};
    if (::inet_pton(AF_INET, ip.c_str(), &v4) == 1) {
      add_v4(v4);
    } else if (::inet_pton(AF_INET6, ip.c_str(), &v6) == 1) {
      add_v6(v6, false);
    } else {
      return "invalid_bind_ip: \"" + bind_ip + "\" is not an IP address";
    }
  }

  const std::string where = derper_listen_arg(bind_ip, port);
  for (const candidate& c : candidates) {
    for (int type : {SOCK_STREAM, SOCK_DGRAM}) {
      const int error = try_bind(c.address, c.length, type);
      if (error == 0) {
        continue;
      }
      const char* protocol = type == SOCK_STREAM ? "TCP" : "UDP";
      if (error == EADDRINUSE || error == EACCES) {
        return std::string("port_in_use: ") + protocol + " " + where + " is already in use on this host";
      }
      if (c.optional && (error == EAFNOSUPPORT || error == EADDRNOTAVAIL)) {
        continue;
      }
      if (error == EADDRNOTAVAIL) {
        return "bind_ip_unavailable: " + bind_ip + " is not an address of this host";
      }
      return std::string("port_check_failed: ") + protocol + " " + where + ": " + std::strerror(error);
    }
  }
  return std::nullopt;
}

// The state of one pass.
struct reconciler::pass {
  std::int64_t node_id = 0;
  reconcile_result result;
  std::map<std::int64_t, protocol::allocation_status> statuses;
  std::vector<std::pair<std::int64_t, std::string>> started;  // allocation id, container id
  std::string engine_error;                                   // set when the engine went away mid-pass

  void set(const protocol::allocation_spec& spec, const char* state, std::string error = {}) {
    statuses[spec.id] = protocol::allocation_status{spec.id, spec.config_version, state, std::move(error)};
  }
};

reconciler::reconciler(docker_client& docker, reconciler_options options, clock_fn now)
    : docker_(docker), options_(std::move(options)), layout_(options_.layout), now_(std::move(now)) {}

std::chrono::seconds reconciler::crash_delay(int count) const {
  if (count <= 1) {
    return std::chrono::seconds(0);
  }
  auto delay = options_.first_crash_delay;
  for (int i = 2; i < count && delay < options_.max_crash_delay; ++i) {
    delay *= 2;
  }
  return std::min(delay, options_.max_crash_delay);
}

void reconciler::record_death(std::int64_t allocation_id, const container_details& details) {
  crash_record& record = crashes_[allocation_id];
  if (!record.finished_at.empty() && record.finished_at == details.finished_at) {
    return;  // this death is already counted
  }
  const auto now = now_();
  const bool quick = record.started != steady::time_point{} && now - record.started < options_.stable_after;
  record.count = quick ? record.count + 1 : 1;
  record.finished_at = details.finished_at;
  record.exit_code = details.exit_code;
  record.retry_at = now + crash_delay(record.count);
}

std::optional<std::string> reconciler::check_port(const protocol::allocation_spec& spec) {
  const auto now = now_();
  auto blocked = port_blocks_.find(spec.id);
  if (blocked != port_blocks_.end()) {
    if (blocked->second.spec == spec && now < blocked->second.retry_at) {
      return blocked->second.error + " (checking again in " + seconds_text(blocked->second.retry_at - now) + ")";
    }
    port_blocks_.erase(blocked);
  }
  std::optional<std::string> problem = port_unavailable(spec.bind_ip, spec.port);
  if (problem) {
    port_blocks_[spec.id] = port_block{spec, now + options_.port_retry_after, *problem};
  }
  return problem;
}

net::awaitable<void> reconciler::start_container(pass& p, const protocol::allocation_spec& spec, std::string id) {
  co_await docker_.start(id);
  crashes_[spec.id].started = now_();
  p.started.emplace_back(spec.id, id);
  p.result.changed = true;
  p.set(spec, state_starting);
}

net::awaitable<void> reconciler::converge_allocation(pass& p, protocol::allocation_spec spec,
                                                     std::vector<container_summary> containers) {
  container_spec wanted;
  try {
    wanted = layout_.spec_for(p.node_id, spec);
  } catch (const invalid_allocation& e) {
    p.set(spec, state_error, std::string("invalid_allocation: ") + e.what());
    co_return;
  }

  // Keep one container: the one with our name, else a running one; duplicates go.
  std::stable_sort(containers.begin(), containers.end(), [&](const container_summary& a, const container_summary& b) {
    auto rank = [&](const container_summary& c) {
      return (c.name == wanted.name ? 0 : 2) + (c.state == container_state::running ? 0 : 1);
    };
    return rank(a) < rank(b);
  });
  std::optional<container_summary> keeper;
  for (container_summary& c : containers) {
    if (!keeper) {
      keeper = std::move(c);
      continue;
    }
    spdlog::info("reconcile: removing duplicate container {} of allocation {}", c.name, spec.id);
    co_await docker_.remove(c.id, true);
    verified_.erase(c.id);
    p.result.changed = true;
  }

  bool files_ok = false;
  try {
    files_ok = layout_.files_match(spec);
    if (!files_ok) {
      layout_.write_files(spec);
    }
  } catch (const std::exception& e) {
    p.set(spec, state_error, std::string("files: ") + e.what());
    co_return;
  }

  if (keeper) {
    bool recreate = !files_ok;
    if (!recreate) {
      auto verified = verified_.find(keeper->id);
      if (verified == verified_.end() || verified->second != wanted) {
        const std::optional<container_details> details = co_await docker_.inspect(keeper->id);
        if (!details) {
          keeper.reset();  // gone since the listing
        } else if (needs_recreate(details->config, wanted)) {
          recreate = true;
        } else {
          verified_[keeper->id] = wanted;
        }
      }
    }
    if (keeper && recreate) {
      spdlog::info("reconcile: recreating container {} (allocation {} at config version {})", keeper->name, spec.id,
                   spec.config_version);
      co_await docker_.remove(keeper->id, true);
      verified_.erase(keeper->id);
      crashes_.erase(spec.id);
      p.result.changed = true;
      keeper.reset();
    }
  }

  if (keeper) {
    switch (keeper->state) {
      case container_state::running: {
        auto record = crashes_.find(spec.id);
        if (record != crashes_.end() && now_() - record->second.started >= options_.stable_after) {
          crashes_.erase(record);
        }
        p.set(spec, state_running);
        co_return;
      }
      case container_state::created:
      case container_state::exited:
      case container_state::dead: {
        const std::optional<container_details> details = co_await docker_.inspect(keeper->id);
        if (!details) {
          p.set(spec, state_starting);  // removed behind our back; the next pass creates it
          co_return;
        }
        if (details->state == container_state::exited || details->state == container_state::dead) {
          record_death(spec.id, *details);
          const crash_record& record = crashes_[spec.id];
          const auto now = now_();
          if (now < record.retry_at) {
            p.set(spec, state_error,
                  "exited: " + exit_text(*details) + "; restarting in " + seconds_text(record.retry_at - now));
            co_return;
          }
          spdlog::info("reconcile: restarting container {} ({})", keeper->name, exit_text(*details));
        }
        if (const auto problem = check_port(spec)) {
          p.set(spec, state_error, *problem);
          co_return;
        }
        co_await start_container(p, spec, keeper->id);
        co_return;
      }
      case container_state::paused:
        p.set(spec, state_error, "paused: the container is paused");
        co_return;
      default:
        p.set(spec, state_starting);  // restarting or being removed: look again next pass
        co_return;
    }
  }

  // Missing: create it.
  if (!co_await docker_.image_present(spec.image)) {
    p.set(spec, state_error, "image_missing: image " + spec.image + " is not on this host (the agent never pulls)");
    co_return;
  }
  if (const auto problem = check_port(spec)) {
    p.set(spec, state_error, *problem);
    co_return;
  }
  const std::string id = co_await docker_.create(wanted);
  verified_[id] = wanted;
  p.result.changed = true;
  spdlog::info("reconcile: created container {} (allocation {} at config version {})", wanted.name, spec.id,
               spec.config_version);
  co_await start_container(p, spec, id);
}

net::awaitable<void> reconciler::check_started(pass& p) {
  for (const auto& [allocation_id, container_id] : p.started) {
    const auto status = p.statuses.find(allocation_id);
    protocol::allocation_status& st = status->second;
    try {
      const std::optional<container_details> details = co_await docker_.inspect(container_id);
      if (!details) {
        st.state = state_starting;
        continue;
      }
      if (details->state == container_state::running) {
        st.state = state_running;
      } else if (details->state == container_state::exited || details->state == container_state::dead) {
        record_death(allocation_id, *details);
        const crash_record& record = crashes_[allocation_id];
        st.state = state_error;
        st.error = "exited: " + exit_text(*details) + " right after start; restarting in " +
                   seconds_text(record.retry_at - now_());
        spdlog::warn("reconcile: allocation {}: {}", allocation_id, st.error);
      }
    } catch (const docker_error& e) {
      st.state = state_error;
      st.error = std::string("docker: ") + e.what();
    }
  }
}

net::awaitable<reconcile_result> reconciler::converge(protocol::desired_state desired) {
  if (desired.node_id <= 0) {
    throw std::invalid_argument("the desired state names no node");
  }
  pass p;
  p.node_id = desired.node_id;
  p.result.generation = desired.generation;
  const std::string node = std::to_string(desired.node_id);
  const std::string filter = std::string(node_label) + "=" + node;

  std::vector<container_summary> listed;
  try {
    listed = co_await docker_.list_containers(filter);
  } catch (const docker_error& e) {
    p.engine_error = e.what();
  }
  if (!p.engine_error.empty()) {
    p.result.errors.push_back("docker_unreachable: " + p.engine_error);
    for (const auto& spec : desired.allocations) {
      p.result.allocations.push_back(
          {spec.id, spec.config_version, state_error, "docker_unreachable: the Docker engine did not answer"});
    }
    reconcile_result result = std::move(p.result);
    co_return result;
  }

  std::map<std::int64_t, std::vector<container_summary>> by_allocation;
  std::vector<container_summary> unwanted;
  for (container_summary& c : listed) {
    auto node_of = c.labels.find(node_label);
    if (node_of == c.labels.end() || node_of->second != node) {
      continue;  // not ours, whatever the engine's filter said
    }
    auto allocation_of = c.labels.find(allocation_label);
    const std::int64_t id = allocation_of == c.labels.end() ? 0 : parse_id(allocation_of->second);
    if (id == 0 || desired.find(id) == nullptr) {
      unwanted.push_back(c);
    } else {
      by_allocation[id].push_back(c);
    }
  }

  for (const container_summary& c : unwanted) {
    try {
      spdlog::info("reconcile: removing container {}, no longer desired", c.name);
      co_await docker_.remove(c.id, true);
      verified_.erase(c.id);
      p.result.changed = true;
    } catch (const docker_error& e) {
      p.result.errors.push_back(std::string("docker: ") + e.what());
      if (engine_away(e)) {
        p.engine_error = e.what();
        break;
      }
    }
  }

  for (const protocol::allocation_spec& spec : desired.allocations) {
    if (!p.engine_error.empty()) {
      p.set(spec, state_error, "docker_unreachable: the Docker engine did not answer");
      continue;
    }
    try {
      co_await converge_allocation(p, spec, std::move(by_allocation[spec.id]));
    } catch (const docker_error& e) {
      p.set(spec, state_error, std::string("docker: ") + e.what());
      if (engine_away(e)) {
        p.engine_error = e.what();
        p.result.errors.push_back("docker_unreachable: " + p.engine_error);
      }
    }
  }

  // Folders of allocations no longer desired (also those a crash left behind after removing the container).
  if (p.engine_error.empty()) {
    for (std::int64_t id : layout_.allocations_on_disk()) {
      if (desired.find(id) == nullptr) {
        try {
          layout_.remove_files(id);
        } catch (const std::exception& e) {
          p.result.errors.push_back(std::string("files: ") + e.what());
        }
      }
    }
  }

  if (!p.started.empty() && options_.start_check_delay.count() > 0 && p.engine_error.empty()) {
    net::steady_timer timer(co_await net::this_coro::executor);
    timer.expires_after(options_.start_check_delay);
    co_await timer.async_wait(net::use_awaitable);
    co_await check_started(p);
  }

  std::erase_if(port_blocks_, [&](const auto& entry) { return desired.find(entry.first) == nullptr; });
  std::erase_if(crashes_, [&](const auto& entry) { return desired.find(entry.first) == nullptr; });

  if (p.result.changed && p.engine_error.empty()) {
    try {
      listed = co_await docker_.list_containers(filter);
    } catch (const docker_error& e) {
      p.result.errors.push_back(std::string("docker: ") + e.what());
      listed.clear();
    }
  }
  observed_.clear();
  std::map<std::string, container_spec> still_there;
  for (const container_summary& c : listed) {
    auto allocation_of = c.labels.find(allocation_label);
    auto node_of = c.labels.find(node_label);
    if (node_of == c.labels.end() || node_of->second != node || allocation_of == c.labels.end()) {
      continue;
    }
    observed_.push_back({parse_id(allocation_of->second), to_string(c.state)});
    auto verified = verified_.find(c.id);
    if (verified != verified_.end()) {
      still_there.insert(*verified);
    }
  }
  verified_ = std::move(still_there);

  for (auto& [id, status] : p.statuses) {
    p.result.allocations.push_back(std::move(status));
  }
  reconcile_result result = std::move(p.result);
  co_return result;
}

}  // namespace derpmgr::agent
