#include "tests/derper_standin/verify_url.hpp"

#include <boost/asio/ip/address.hpp>
#include <charconv>
#include <stdexcept>

namespace derpmgr::standin {

verify_url verify_url::parse(std::string_view text) {
  constexpr std::string_view scheme = "http://";
  if (text.substr(0, scheme.size()) != scheme) {
    throw std::runtime_error("-verify-client-url: the stand-in supports only http:// URLs");
  }
  std::string_view rest = text.substr(scheme.size());
  std::size_t slash = rest.find_first_of("/?");
  std::string_view authority = rest.substr(0, slash);
  verify_url url;
  url.target = slash == std::string_view::npos ? "/" : std::string(rest.substr(slash));
  if (url.target.front() == '?') {
    url.target.insert(0, "/");
  }
  if (authority.find('@') != std::string_view::npos) {
    throw std::runtime_error("-verify-client-url: user information in the URL is not supported");
  }
  std::string_view host = authority;
  std::string_view port;
  if (!authority.empty() && authority.front() == '[') {
    std::size_t close = authority.find(']');
    if (close == std::string_view::npos) {
      throw std::runtime_error("-verify-client-url: unterminated [IPv6] host");
    }
    host = authority.substr(1, close - 1);
    std::string_view after = authority.substr(close + 1);
    if (!after.empty() && after.front() != ':') {
      throw std::runtime_error("-verify-client-url: junk after the [IPv6] host");
    }
    port = after.empty() ? after : after.substr(1);
  } else if (std::size_t colon = authority.rfind(':'); colon != std::string_view::npos) {
    host = authority.substr(0, colon);
    port = authority.substr(colon + 1);
  }
  boost::system::error_code ec;
  boost::asio::ip::make_address(std::string(host), ec);
  if (ec) {
    throw std::runtime_error("-verify-client-url: the stand-in needs an IP literal as host");
  }
  url.host = std::string(host);
  if (!port.empty()) {
    unsigned value = 0;
    auto [end, perr] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (perr != std::errc() || end != port.data() + port.size() || value == 0 || value > 65535) {
      throw std::runtime_error("-verify-client-url: invalid port");
    }
    url.port = static_cast<std::uint16_t>(value);
  }
  return url;
}

std::string verify_url::endpoint() const {
  std::string h = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  return h + ":" + std::to_string(port);
}

}  // namespace derpmgr::standin
