#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "agent/docker/docker_client.hpp"

namespace derpmgr::agent {

// The real Docker engine, reached over its unix socket with HTTP/1.1 and API v1.41, one connection per request.
class engine_client final : public docker_client {
 public:
  // `request_timeout` bounds each request; stop() waits that long on top of the grace it gives the container.
  explicit engine_client(std::string socket_path, std::chrono::milliseconds request_timeout = std::chrono::seconds(30));

  net::awaitable<engine_version> version() override;
  net::awaitable<std::vector<container_summary>> list_containers(std::string label_filter) override;
  net::awaitable<std::optional<container_details>> inspect(std::string id_or_name) override;
  net::awaitable<std::string> create(container_spec spec) override;
  net::awaitable<void> start(std::string id) override;
  net::awaitable<void> stop(std::string id, std::chrono::seconds grace) override;
  net::awaitable<bool> remove(std::string id, bool force) override;
  net::awaitable<bool> image_present(std::string ref) override;

 private:
  std::string socket_path_;
  std::chrono::milliseconds request_timeout_;
};

}  // namespace derpmgr::agent
