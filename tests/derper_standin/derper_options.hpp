#pragma once

#include <optional>
#include <string>

#include "shared/net/listen_address.hpp"
#include "tests/derper_standin/flag_set.hpp"
#include "tests/derper_standin/verify_url.hpp"

namespace derpmgr::standin {

// Every flag of Tailscale's derper v1.103 with its type and default, so command lines parse exactly as derper
// parses them. The stand-in acts on a few (see derper_options) and accepts the rest without effect.
flag_set derper_flag_set();

// The flags the stand-in acts on, checked.
struct derper_options {
  listen_address addr;     // -a (":3340" with -dev)
  bool serve_tls = false;  // port 443 or -certmode manual, as derper decides
  std::string certmode;    // only "manual" can serve TLS here
  std::string certdir;
  std::string hostname;
  long long http_port = 80;  // only -1 (no extra plain listener) is implemented; other values are ignored
  bool run_stun = true;
  std::uint16_t stun_port = 3478;
  bool run_derp = true;
  bool dev = false;
  std::string key_path;  // -c, or derper's default for root; empty with -dev (a throwaway key)
  std::optional<verify_url> verify;
  bool verify_fail_open = true;

  // Reads and checks the parsed flags; throws std::runtime_error with a derper-like message.
  static derper_options from(const flag_set& flags);
};

}  // namespace derpmgr::standin
