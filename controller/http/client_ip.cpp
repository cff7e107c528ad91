#include "controller/http/client_ip.hpp"

#include <arpa/inet.h>

#include <cstring>
#include <optional>

#include "shared/config/config_loader.hpp"

namespace derpmgr::controller::http {

namespace {

struct parsed_ip {
  unsigned char bytes[16];
  int family;
};

std::optional<parsed_ip> parse_ip(std::string text) {
  if (text.size() > 2 && text.front() == '[' && text.back() == ']') {
    text = text.substr(1, text.size() - 2);
  }
  parsed_ip out{};
  if (inet_pton(AF_INET, text.c_str(), out.bytes) == 1) {
    out.family = 4;
    return out;
  }
  if (inet_pton(AF_INET6, text.c_str(), out.bytes) == 1) {
    // IPv4-mapped IPv6 (::ffff:a.b.c.d) compares as IPv4.
    static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (std::memcmp(out.bytes, mapped, 12) == 0) {
      std::memmove(out.bytes, out.bytes + 12, 4);
      out.family = 4;
    } else {
      out.family = 6;
    }
    return out;
  }
  return std::nullopt;
}

std::string trim(const std::string& s) {
  auto first = s.find_first_not_of(" \t");
  if (first == std::string::npos) {
    return "";
  }
  return s.substr(first, s.find_last_not_of(" \t") - first + 1);
}

}  // namespace

trusted_proxies::trusted_proxies(const std::vector<std::string>& entries) {
  for (const auto& entry : entries) {
    auto slash = entry.find('/');
    auto ip = parse_ip(entry.substr(0, slash));
    if (!ip) {
      throw config_error("[http] trusted_proxies: '" + entry + "' is not an IP address or CIDR block");
    }
    int max = ip->family == 4 ? 32 : 128;
    int prefix = max;
    if (slash != std::string::npos) {
      try {
        prefix = std::stoi(entry.substr(slash + 1));
      } catch (const std::exception&) {
        prefix = -1;
      }
      if (prefix < 0 || prefix > max) {
        throw config_error("[http] trusted_proxies: '" + entry + "' has an invalid prefix length");
      }
    }
    block b{};
    std::memcpy(b.bytes, ip->bytes, 16);
    b.family = ip->family;
    b.prefix = prefix;
    blocks_.push_back(b);
  }
}

bool trusted_proxies::contains(const std::string& text) const {
  auto ip = parse_ip(text);
  if (!ip) {
    return false;
  }
  for (const auto& b : blocks_) {
    if (b.family != ip->family) {
      continue;
    }
    int full = b.prefix / 8;
    int rest = b.prefix % 8;
    if (std::memcmp(b.bytes, ip->bytes, static_cast<std::size_t>(full)) != 0) {
      continue;
    }
    if (rest != 0) {
      auto mask = static_cast<unsigned char>(0xff << (8 - rest));
      if ((b.bytes[full] & mask) != (ip->bytes[full] & mask)) {
        continue;
      }
    }
    return true;
  }
  return false;
}

std::string trusted_proxies::client_ip(const std::string& peer_ip, const std::string& forwarded_for) const {
  if (forwarded_for.empty() || !contains(peer_ip)) {
    return peer_ip;
  }
  std::string candidate = peer_ip;
  std::size_t end = forwarded_for.size();
  while (true) {
    auto comma = forwarded_for.rfind(',', end == 0 ? 0 : end - 1);
    std::size_t start = comma == std::string::npos ? 0 : comma + 1;
    std::string hop = trim(forwarded_for.substr(start, end - start));
    if (!parse_ip(hop)) {
      return candidate;  // garbage in the chain: stop at the last address we could trust
    }
    candidate = hop;
    if (!contains(hop) || comma == std::string::npos) {
      return candidate;
    }
    end = comma;
  }
}

}  // namespace derpmgr::controller::http
