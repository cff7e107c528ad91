#include "tests/derper_standin/admission_check.hpp"

#include <strings.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/json/object.hpp>
#include <boost/json/parser.hpp>
#include <boost/json/serialize.hpp>
#include <chrono>

namespace derpmgr::standin {

namespace {

namespace beast = boost::beast;
namespace http = beast::http;

constexpr std::size_t decoded_prefix = 4096;

// Reads "Allow" from the first JSON value in `body` the way Go's json.Decoder fills DERPAdmitClientResponse:
// trailing data is ignored, the key matches case-insensitively, anything but an object or a boolean is an error.
admission_decision decide_from_body(std::string body) {
  if (body.size() > decoded_prefix) {
    body.resize(decoded_prefix);
  }
  boost::json::parser parser;
  boost::system::error_code ec;
  parser.write_some(body, ec);
  if (ec) {
    return {false, "admission controller answered undecodable JSON"};
  }
  boost::json::value value = parser.release();
  if (value.is_null()) {
    return {false, "admission controller answered null"};
  }
  if (!value.is_object()) {
    return {false, "admission controller answered a JSON value that is not an object"};
  }
  const boost::json::value* allow = nullptr;
  for (const auto& entry : value.as_object()) {
    if (entry.key() == "Allow") {
      allow = &entry.value();
      break;
    }
    if (allow == nullptr && entry.key().size() == 5 && ::strncasecmp(entry.key().data(), "allow", 5) == 0) {
      allow = &entry.value();
    }
  }
  if (allow != nullptr && !allow->is_bool() && !allow->is_null()) {
    return {false, "admission controller answered a non-boolean Allow"};
  }
  if (allow == nullptr || !allow->is_bool() || !allow->as_bool()) {
    return {false, "admission controller: not allowed"};
  }
  return {true, "admission controller allowed"};
}

}  // namespace

net::awaitable<admission_decision> check_admission(verify_url url, bool fail_open, std::string node_key,
                                                   std::string source) {
  auto executor = co_await net::this_coro::executor;
  beast::tcp_stream stream(executor);
  stream.expires_after(std::chrono::seconds(5));
  net::ip::tcp::endpoint endpoint(net::ip::make_address(url.host), url.port);

  boost::json::object payload{{"NodePublic", node_key}, {"Source", source}};
  http::request<http::string_body> request{http::verb::post, url.target, 11};
  request.set(http::field::host, url.endpoint());
  request.set(http::field::user_agent, "Go-http-client/1.1");
  request.set(http::field::content_type, "application/json");
  request.body() = boost::json::serialize(payload);
  request.prepare_payload();

  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(64 * 1024);
  auto [connect_ec] = co_await stream.async_connect(endpoint, net::as_tuple(net::use_awaitable));
  boost::system::error_code failure = connect_ec;
  if (!failure) {
    auto [write_ec, written] = co_await http::async_write(stream, request, net::as_tuple(net::use_awaitable));
    failure = write_ec;
  }
  if (!failure) {
    auto [header_ec, read] =
        co_await http::async_read_header(stream, buffer, parser, net::as_tuple(net::use_awaitable));
    failure = header_ec;
  }
  if (failure) {
    admission_decision decision{fail_open, "admission controller unreachable (" + failure.message() + ")"};
    decision.reason += fail_open ? "; failing open" : "; failing closed";
    co_return decision;
  }
  if (parser.get().result_int() != 200) {
    admission_decision decision{false, "admission controller: " + std::to_string(parser.get().result_int())};
    co_return decision;
  }
  auto [body_ec, read] = co_await http::async_read(stream, buffer, parser, net::as_tuple(net::use_awaitable));
  std::string body = parser.get().body();
  if (body_ec && body.size() < decoded_prefix) {
    admission_decision decision{false, "reading the admission controller's answer: " + body_ec.message()};
    co_return decision;
  }
  admission_decision decision = decide_from_body(std::move(body));
  co_return decision;
}

}  // namespace derpmgr::standin
