#include "agent/docker/docker_error.hpp"

#include <utility>

namespace derpmgr::agent {

namespace {

std::string describe(docker_failure failure, const std::string& operation, unsigned status, const std::string& detail) {
  if (failure == docker_failure::engine) {
    return operation + ": Docker engine answered " + std::to_string(status) + ": " + detail;
  }
  return operation + ": " + detail;
}

}  // namespace

docker_error::docker_error(docker_failure failure, std::string operation, unsigned status, std::string detail)
    : std::runtime_error(describe(failure, operation, status, detail)),
      failure_(failure),
      operation_(std::move(operation)),
      status_(status),
      detail_(std::move(detail)) {}

}  // namespace derpmgr::agent
