#include "shared/net/listen_address.hpp"

#include <charconv>
#include <stdexcept>

namespace derpmgr {

listen_address listen_address::parse(std::string_view text) {
  auto colon = text.rfind(':');
  if (colon == std::string_view::npos) {
    throw std::invalid_argument("listen address '" + std::string(text) + "' needs a port (host:port)");
  }
  std::string_view host = text.substr(0, colon);
  std::string_view port_text = text.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  } else if (host.find(':') != std::string_view::npos) {
    throw std::invalid_argument("IPv6 listen address '" + std::string(text) + "' needs brackets: [addr]:port");
  }
  unsigned value = 0;
  auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), value);
  if (ec != std::errc() || end != port_text.data() + port_text.size() || value > 65535) {
    throw std::invalid_argument("listen address '" + std::string(text) + "' has an invalid port");
  }
  return listen_address{std::string(host), static_cast<std::uint16_t>(value)};
}

std::string listen_address::to_string() const {
  std::string h = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  return h + ":" + std::to_string(port);
}

}  // namespace derpmgr
