#include "agent/docker/engine_client.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/basic_stream.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <cstdint>
#include <utility>

#include "agent/docker/docker_error.hpp"
#include "agent/docker/engine_json.hpp"

namespace derpmgr::agent {

namespace beast = boost::beast;
namespace http = boost::beast::http;

namespace {

using unix_stream = beast::basic_stream<net::local::stream_protocol>;

// Container listings can be long; anything beyond this is not an answer the agent can use.
constexpr std::uint64_t max_answer_bytes = std::uint64_t{64} << 20U;

// What the engine answered, before the operation decides which statuses are fine.
struct engine_answer {
  unsigned status = 0;
  std::string body;
};

std::string versioned(std::string_view path) {
  return "/v" + std::string(docker_api_version) + std::string(path);
}

// Percent-encodes everything but RFC 3986 unreserved characters and those in `also_plain`.
std::string percent_encode(std::string_view text, std::string_view also_plain) {
  static constexpr char hex[] = "0123456789ABCDEF";
  std::string result;
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    const bool unreserved = (byte >= 'a' && byte <= 'z') || (byte >= 'A' && byte <= 'Z') ||
                            (byte >= '0' && byte <= '9') || c == '-' || c == '.' || c == '_' || c == '~';
    if (unreserved || also_plain.find(c) != std::string_view::npos) {
      result += c;
    } else {
      result += '%';
      result += hex[byte >> 4U];
      result += hex[byte & 0x0FU];
    }
  }
  return result;
}

// A path segment (container id or name) or a query value: nothing in it can reach another endpoint or parameter.
std::string component(std::string_view text) {
  return percent_encode(text, "");
}

// An image reference keeps its registry and repository slashes, which the engine's /images/{name} route expects.
std::string image_path(std::string_view ref) {
  return percent_encode(ref, ":/@");
}

docker_error transport_error(const std::string& operation, const std::string& socket_path,
                             std::chrono::milliseconds timeout, const boost::system::error_code& error) {
  if (error == beast::error::timeout) {
    return {docker_failure::timed_out, operation, 0,
            "Docker engine at " + socket_path + " did not answer within " + std::to_string(timeout.count()) + " ms"};
  }
  if (error.category() == http::make_error_code(http::error::bad_version).category()) {
    return {docker_failure::protocol, operation, 0,
            "unreadable answer from Docker engine at " + socket_path + ": " + error.message()};
  }
  return {docker_failure::unreachable, operation, 0,
          "Docker engine not reachable at " + socket_path + ": " + error.message()};
}

docker_error engine_refused(const std::string& operation, const engine_answer& answer) {
  return {docker_failure::engine, operation, answer.status, engine_json::parse_error_message(answer.body)};
}

// Runs `parse` on a successful answer's body; an unreadable body is a protocol failure of `operation`.
template <typename Parse>
auto parse_answer(const std::string& operation, const engine_answer& answer, Parse parse) {
  try {
    return parse(answer.body);
  } catch (const std::exception& e) {
    throw docker_error(docker_failure::protocol, operation, answer.status,
                       std::string("unreadable answer: ") + e.what());
  }
}

// One request on a fresh connection. Transport failures throw docker_error; every HTTP status is returned.
net::awaitable<engine_answer> exchange(std::string socket_path, std::chrono::milliseconds timeout,
                                       std::string operation, http::verb method, std::string target, std::string body) {
  net::local::stream_protocol::endpoint endpoint;
  try {
    endpoint = net::local::stream_protocol::endpoint(socket_path);
  } catch (const boost::system::system_error& e) {
    throw transport_error(operation, socket_path, timeout, e.code());
  }

  unix_stream stream(co_await net::this_coro::executor);
  stream.expires_after(timeout);
  auto [connect_error] = co_await stream.async_connect(endpoint, net::as_tuple(net::use_awaitable));
  if (connect_error) {
    throw transport_error(operation, socket_path, timeout, connect_error);
  }

  http::request<http::string_body> request{method, target, 11};
  request.set(http::field::host, "docker");
  request.set(http::field::user_agent, "derpmgr-agent");
  request.set(http::field::connection, "close");
  if (!body.empty()) {
    request.set(http::field::content_type, "application/json");
    request.body() = std::move(body);
  }
  request.prepare_payload();
  auto [write_error, written] = co_await http::async_write(stream, request, net::as_tuple(net::use_awaitable));
  if (write_error) {
    throw transport_error(operation, socket_path, timeout, write_error);
  }

  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(max_answer_bytes);
  auto [read_error, read] = co_await http::async_read(stream, buffer, parser, net::as_tuple(net::use_awaitable));
  if (read_error) {
    throw transport_error(operation, socket_path, timeout, read_error);
  }
  boost::system::error_code ignored;
  stream.socket().shutdown(net::local::stream_protocol::socket::shutdown_both, ignored);

  http::response<http::string_body> response = parser.release();
  co_return engine_answer{response.result_int(), std::move(response.body())};
}

}  // namespace

engine_client::engine_client(std::string socket_path, std::chrono::milliseconds request_timeout)
    : socket_path_(std::move(socket_path)), request_timeout_(request_timeout) {}

net::awaitable<engine_version> engine_client::version() {
  // Unversioned on purpose: an engine too new or too old for v1.41 still answers, and the caller can say why.
  const std::string operation = "query engine version";
  const engine_answer answer =
      co_await exchange(socket_path_, request_timeout_, operation, http::verb::get, "/version", {});
  if (answer.status != 200) {
    throw engine_refused(operation, answer);
  }
  co_return parse_answer(operation, answer, engine_json::parse_version);
}

net::awaitable<std::vector<container_summary>> engine_client::list_containers(std::string label_filter) {
  const std::string operation = "list containers labelled " + label_filter;
  const std::string target =
      versioned("/containers/json") + "?all=true&filters=" + component(engine_json::label_filters(label_filter));
  const engine_answer answer =
      co_await exchange(socket_path_, request_timeout_, operation, http::verb::get, target, {});
  if (answer.status != 200) {
    throw engine_refused(operation, answer);
  }
  co_return parse_answer(operation, answer, engine_json::parse_container_list);
}

net::awaitable<std::optional<container_details>> engine_client::inspect(std::string id_or_name) {
  const std::string operation = "inspect container " + id_or_name;
  const std::string target = versioned("/containers/" + component(id_or_name) + "/json");
  const engine_answer answer =
      co_await exchange(socket_path_, request_timeout_, operation, http::verb::get, target, {});
  if (answer.status == 404) {
    co_return std::nullopt;
  }
  if (answer.status != 200) {
    throw engine_refused(operation, answer);
  }
  co_return parse_answer(operation, answer, engine_json::parse_container_inspect);
}

net::awaitable<std::string> engine_client::create(container_spec spec) {
  const std::string operation = "create container " + spec.name;
  const std::string target = versioned("/containers/create") + "?name=" + component(spec.name);
  const engine_answer answer = co_await exchange(socket_path_, request_timeout_, operation, http::verb::post, target,
                                                 engine_json::create_body(spec));
  if (answer.status != 201) {
    throw engine_refused(operation, answer);
  }
  co_return parse_answer(operation, answer, engine_json::parse_created_id);
}

net::awaitable<void> engine_client::start(std::string id) {
  const std::string operation = "start container " + id;
  const std::string target = versioned("/containers/" + component(id) + "/start");
  const engine_answer answer =
      co_await exchange(socket_path_, request_timeout_, operation, http::verb::post, target, {});
  // 304: already running.
  if (answer.status != 204 && answer.status != 304) {
    throw engine_refused(operation, answer);
  }
}

net::awaitable<void> engine_client::stop(std::string id, std::chrono::seconds grace) {
  const std::string operation = "stop container " + id;
  const std::string target =
      versioned("/containers/" + component(id) + "/stop") + "?t=" + std::to_string(grace.count());
  const engine_answer answer =
      co_await exchange(socket_path_, request_timeout_ + grace, operation, http::verb::post, target, {});
  // 304: already stopped.
  if (answer.status != 204 && answer.status != 304) {
    throw engine_refused(operation, answer);
  }
}

net::awaitable<bool> engine_client::remove(std::string id, bool force) {
  const std::string operation = "remove container " + id;
  const std::string target =
      versioned("/containers/" + component(id)) + "?v=true&force=" + std::string(force ? "true" : "false");
  const engine_answer answer =
      co_await exchange(socket_path_, request_timeout_, operation, http::verb::delete_, target, {});
  if (answer.status == 404) {
    co_return false;
  }
  if (answer.status != 204) {
    throw engine_refused(operation, answer);
  }
  co_return true;
}

net::awaitable<bool> engine_client::image_present(std::string ref) {
  const std::string operation = "inspect image " + ref;
  const std::string target = versioned("/images/" + image_path(ref) + "/json");
  const engine_answer answer =
      co_await exchange(socket_path_, request_timeout_, operation, http::verb::get, target, {});
  if (answer.status == 404) {
    co_return false;
  }
  if (answer.status != 200) {
    throw engine_refused(operation, answer);
  }
  co_return true;
}

}  // namespace derpmgr::agent
