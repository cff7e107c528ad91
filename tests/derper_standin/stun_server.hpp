#pragma once

#include <boost/asio/ip/udp.hpp>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "shared/net/net.hpp"

namespace derpmgr::standin {

// The answer to a STUN binding request (RFC 5389): a success response with the same transaction id and the
// sender's address as XOR-MAPPED-ADDRESS; nullopt when `packet` is not a well-formed binding request.
std::optional<std::vector<std::uint8_t>> stun_binding_response(std::span<const std::uint8_t> packet,
                                                               const net::ip::udp::endpoint& sender);

// Answers binding requests on `socket` until it is closed.
net::awaitable<void> serve_stun(net::ip::udp::socket socket);

}  // namespace derpmgr::standin
