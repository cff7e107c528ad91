#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace derpmgr::standin {

// An admission controller URL the stand-in can call: http://<IP literal>[:port]/path (no TLS, no DNS — the
// static binary has neither a CA store nor NSS, and derpmgr's agent listens on a loopback IP).
struct verify_url {
  std::string host;  // IP literal, without brackets
  std::uint16_t port = 80;
  std::string target;  // path and query, "/" at least; holds the admission token, so never logged

  // Parses `text`; throws std::runtime_error saying what the stand-in cannot use.
  static verify_url parse(std::string_view text);
  // "host:port" ("[v6]:port"), safe to log.
  std::string endpoint() const;
};

}  // namespace derpmgr::standin
