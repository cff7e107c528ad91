#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "agent/docker/container_types.hpp"
#include "shared/net/net.hpp"

namespace derpmgr::agent {

// The Docker engine as the agent uses it. Every method throws docker_error when the engine cannot be reached,
// times out or refuses the operation; the expected "not there" and "already so" answers are values instead.
class docker_client {
 public:
  virtual ~docker_client() = default;

  // The engine's version and the API versions it accepts.
  virtual net::awaitable<engine_version> version() = 0;
  // Containers in any state carrying the label `label_filter` ("key=value", or "key" for any value).
  virtual net::awaitable<std::vector<container_summary>> list_containers(std::string label_filter) = 0;
  // The container with this id or name, or nullopt when there is none.
  virtual net::awaitable<std::optional<container_details>> inspect(std::string id_or_name) = 0;
  // Creates (does not start) a container from `spec` and returns its id; a taken name is a docker_error (409).
  virtual net::awaitable<std::string> create(container_spec spec) = 0;
  // Starts the container; succeeds when it is already running.
  virtual net::awaitable<void> start(std::string id) = 0;
  // Stops the container, killing it after `grace`; succeeds when it is already stopped.
  virtual net::awaitable<void> stop(std::string id, std::chrono::seconds grace) = 0;
  // Removes the container and its anonymous volumes (`force`: even when running); false when there was none.
  virtual net::awaitable<bool> remove(std::string id, bool force) = 0;
  // True when the image `ref` (name:tag or id) is present locally; the agent never pulls.
  virtual net::awaitable<bool> image_present(std::string ref) = 0;
};

}  // namespace derpmgr::agent
