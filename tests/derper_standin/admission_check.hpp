#pragma once

#include <string>

#include "shared/net/net.hpp"
#include "tests/derper_standin/verify_url.hpp"

namespace derpmgr::standin {

// The outcome of asking the admission controller about one client.
struct admission_decision {
  bool admitted = false;
  std::string reason;  // for the log line; never contains the URL's path
};

// Asks `url` whether `node_key` ("nodekey:<64 hex>") connecting from `source` (an IP) may use this server, as
// derper's -verify-client-url does: POST {"NodePublic":…,"Source":…} with a 5 s budget, admitted only on 200 with a
// JSON object whose "Allow" is true (first 4 KiB of the body). When the request itself fails (connect error,
// timeout before the answer's header) the client is admitted only if `fail_open`.
net::awaitable<admission_decision> check_admission(verify_url url, bool fail_open, std::string node_key,
                                                   std::string source);

}  // namespace derpmgr::standin
