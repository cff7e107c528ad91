#include "tests/derper_standin/stun_server.hpp"

#include <array>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace derpmgr::standin {

namespace {

constexpr std::uint32_t magic_cookie = 0x2112A442;
constexpr std::uint16_t binding_request = 0x0001;
constexpr std::uint16_t binding_success = 0x0101;
constexpr std::uint16_t xor_mapped_address = 0x0020;
constexpr std::size_t header_size = 20;

std::uint16_t read16(std::span<const std::uint8_t> p, std::size_t at) {
  return static_cast<std::uint16_t>(p[at] << 8 | p[at + 1]);
}

void put16(std::vector<std::uint8_t>& out, std::uint16_t v) {
  out.push_back(static_cast<std::uint8_t>(v >> 8));
  out.push_back(static_cast<std::uint8_t>(v & 0xff));
}

void put32(std::vector<std::uint8_t>& out, std::uint32_t v) {
  put16(out, static_cast<std::uint16_t>(v >> 16));
  put16(out, static_cast<std::uint16_t>(v & 0xffff));
}

}  // namespace

std::optional<std::vector<std::uint8_t>> stun_binding_response(std::span<const std::uint8_t> packet,
                                                               const net::ip::udp::endpoint& sender) {
  if (packet.size() < header_size || (packet[0] & 0xc0) != 0 || read16(packet, 0) != binding_request) {
    return std::nullopt;
  }
  std::uint32_t cookie = static_cast<std::uint32_t>(read16(packet, 4)) << 16 | read16(packet, 6);
  std::size_t length = read16(packet, 2);
  if (cookie != magic_cookie || length % 4 != 0 || header_size + length != packet.size()) {
    return std::nullopt;
  }
  std::span<const std::uint8_t> transaction = packet.subspan(8, 12);

  net::ip::address address = sender.address();
  if (address.is_v6() && address.to_v6().is_v4_mapped()) {
    address = net::ip::make_address_v4(net::ip::v4_mapped, address.to_v6());
  }
  std::vector<std::uint8_t> xored;
  if (address.is_v4()) {
    auto bytes = address.to_v4().to_bytes();
    xored.assign(bytes.begin(), bytes.end());
  } else {
    auto bytes = address.to_v6().to_bytes();
    xored.assign(bytes.begin(), bytes.end());
  }
  // The address is XORed with the cookie, and an IPv6 address's last 12 bytes with the transaction id too.
  std::array<std::uint8_t, 16> mask{0x21, 0x12, 0xA4, 0x42};
  std::copy(transaction.begin(), transaction.end(), mask.begin() + 4);
  for (std::size_t i = 0; i < xored.size(); ++i) {
    xored[i] ^= mask[i];
  }

  std::vector<std::uint8_t> out;
  put16(out, binding_success);
  put16(out, static_cast<std::uint16_t>(4 + 4 + xored.size()));
  put32(out, magic_cookie);
  out.insert(out.end(), transaction.begin(), transaction.end());
  put16(out, xor_mapped_address);
  put16(out, static_cast<std::uint16_t>(4 + xored.size()));
  out.push_back(0);
  out.push_back(address.is_v4() ? 0x01 : 0x02);
  put16(out, static_cast<std::uint16_t>(sender.port() ^ (magic_cookie >> 16)));
  out.insert(out.end(), xored.begin(), xored.end());
  return out;
}

net::awaitable<void> serve_stun(net::ip::udp::socket socket) {
  std::vector<std::uint8_t> buffer(64 * 1024);
  for (;;) {
    net::ip::udp::endpoint sender;
    auto [ec, n] = co_await socket.async_receive_from(net::buffer(buffer), sender, net::as_tuple(net::use_awaitable));
    if (ec == net::error::operation_aborted || ec == net::error::bad_descriptor) {
      co_return;
    }
    if (ec) {
      continue;
    }
    auto response = stun_binding_response(std::span(buffer.data(), n), sender);
    if (response) {
      co_await socket.async_send_to(net::buffer(*response), sender, net::as_tuple(net::use_awaitable));
    }
  }
}

}  // namespace derpmgr::standin
