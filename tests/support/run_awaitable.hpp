#pragma once

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <utility>

#include "shared/net/net.hpp"

namespace derpmgr::test {

// Runs `task` to completion on a private io_context and returns its result (or rethrows what it threw).
template <typename T>
T run_awaitable(net::awaitable<T> task) {
  net::io_context io;
  auto result = net::co_spawn(io, std::move(task), net::use_future);
  io.run();
  return result.get();
}

}  // namespace derpmgr::test
