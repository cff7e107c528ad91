#pragma once

#include <stdexcept>
#include <string>

namespace derpmgr::agent {

// Why a Docker operation failed, so callers can tell "engine away, retry later" from "engine said no".
enum class docker_failure {
  unreachable,  // the socket is missing, refuses connections or closed mid-request
  timed_out,    // no complete answer within the request timeout
  engine,       // the engine answered with an error status
  protocol,     // the engine answered something this client cannot read
};

// A Docker operation that could not be carried out.
class docker_error : public std::runtime_error {
 public:
  // `detail` is the engine's own message for docker_failure::engine, else what went wrong on the way.
  docker_error(docker_failure failure, std::string operation, unsigned status, std::string detail);

  docker_failure failure() const { return failure_; }
  // What was being done, e.g. "create container derpmgr-3-17".
  const std::string& operation() const { return operation_; }
  // The HTTP status the engine answered; 0 when it gave none.
  unsigned status() const { return status_; }
  // The engine's "message" from its JSON error body, or the transport problem.
  const std::string& detail() const { return detail_; }

 private:
  docker_failure failure_;
  std::string operation_;
  unsigned status_;
  std::string detail_;
};

}  // namespace derpmgr::agent
