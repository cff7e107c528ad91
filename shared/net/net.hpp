#pragma once

#include <boost/asio/awaitable.hpp>

namespace net = boost::asio;
