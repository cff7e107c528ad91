#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "agent/docker/docker_client.hpp"
#include "agent/reconcile/container_layout.hpp"
#include "shared/net/net.hpp"
#include "shared/protocol/desired_state.hpp"
#include "shared/protocol/messages.hpp"

namespace derpmgr::agent {

// How the reconciler paces its retries.
struct reconciler_options {
  layout_options layout;
  // A port found taken is checked again only after this long (or as soon as the allocation's spec changes).
  std::chrono::seconds port_retry_after{60};
  // A container that keeps dying is restarted after 0, then first_crash_delay, doubling up to max_crash_delay;
  // the count resets once it has stayed up for stable_after.
  std::chrono::seconds first_crash_delay{5};
  std::chrono::seconds max_crash_delay{300};
  std::chrono::seconds stable_after{60};
  // How long after starting containers a pass looks at them again to catch one that exited at once (0: do not).
  std::chrono::milliseconds start_check_delay{1000};
  std::chrono::seconds stop_grace{5};
};

// What one pass of convergence left behind.
struct reconcile_result {
  std::int64_t generation = 0;                           // the desired generation converged to
  std::vector<protocol::allocation_status> allocations;  // one per desired allocation, sorted by id
  std::vector<std::string> errors;                       // node-wide problems (Docker unreachable)
  bool changed = false;                                  // containers were created, started or removed
};

// Converges the Docker engine to a node's desired state, touching only containers labelled with that node's id.
// A plain class driven by its caller: run converge() after every desired-state change and every few seconds, one
// pass at a time (never two concurrently). Between passes it remembers backoffs: ports found taken and containers
// that keep dying are not retried on every pass.
class reconciler {
 public:
  using clock_fn = std::function<std::chrono::steady_clock::time_point()>;

  // `docker` must outlive the reconciler. `now` paces the backoffs (tests pass a manual one).
  reconciler(docker_client& docker, reconciler_options options, clock_fn now = std::chrono::steady_clock::now);

  // One pass: removes our containers that are not desired (and their files), duplicates and orphans; creates what
  // is missing; recreates what changed (generation label, container settings or certificate files); starts what
  // died. Never throws for Docker or disk problems: they come back per allocation, or as node-wide errors when the
  // engine cannot be reached. Throws std::invalid_argument when desired.node_id is not positive.
  net::awaitable<reconcile_result> converge(protocol::desired_state desired);

  // The containers with this node's label as the last pass left them (for hello).
  const std::vector<protocol::observed_container>& observed() const { return observed_; }
  const container_layout& layout() const { return layout_; }

 private:
  struct port_block {
    protocol::allocation_spec spec;
    std::chrono::steady_clock::time_point retry_at;
    std::string error;
  };
  struct crash_record {
    int count = 0;            // consecutive quick deaths
    std::string finished_at;  // Docker's FinishedAt of the last death counted
    int exit_code = 0;
    std::chrono::steady_clock::time_point retry_at;  // no restart before this
    std::chrono::steady_clock::time_point started;   // when this reconciler last started it
  };
  struct pass;

  net::awaitable<void> converge_allocation(pass& p, protocol::allocation_spec spec,
                                           std::vector<container_summary> containers);
  net::awaitable<void> start_container(pass& p, const protocol::allocation_spec& spec, std::string id);
  net::awaitable<void> check_started(pass& p);
  std::optional<std::string> check_port(const protocol::allocation_spec& spec);
  void record_death(std::int64_t allocation_id, const container_details& details);
  std::chrono::seconds crash_delay(int count) const;

  docker_client& docker_;
  reconciler_options options_;
  container_layout layout_;
  clock_fn now_;
  std::map<std::int64_t, port_block> port_blocks_;
  std::map<std::int64_t, crash_record> crashes_;
  std::map<std::string, container_spec> verified_;  // container id → the wanted spec it was found to match
  std::vector<protocol::observed_container> observed_;
};

// Binds TCP and UDP on bind_ip:port (all addresses when empty) and releases them; returns why not when either is
// taken or the address is not on this host. TCP uses SO_REUSEADDR so connections in TIME_WAIT left by a previous
// derper do not count; a listener still does.
std::optional<std::string> port_unavailable(const std::string& bind_ip, int port);

}  // namespace derpmgr::agent
