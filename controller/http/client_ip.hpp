#pragma once

#include <string>
#include <vector>

namespace derpmgr::controller::http {

// The configured reverse proxies (addresses or CIDR blocks) whose X-Forwarded-For we believe.
class trusted_proxies {
 public:
  // Throws config_error naming the bad entry.
  explicit trusted_proxies(const std::vector<std::string>& entries);

  bool contains(const std::string& ip) const;

  // The client address: the peer itself unless the peer is a trusted proxy, in which case the right-most
  // X-Forwarded-For entry that is not a trusted proxy. From anywhere else the header is ignored.
  std::string client_ip(const std::string& peer_ip, const std::string& forwarded_for) const;

 private:
  struct block {
    unsigned char bytes[16];
    int family;  // 4 or 6
    int prefix;
  };
  std::vector<block> blocks_;
};

}  // namespace derpmgr::controller::http
