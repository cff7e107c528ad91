#include "agent/admission/admission_server.hpp"

#include <doctest/doctest.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>
#include <chrono>
#include <string>

#include "shared/net/net.hpp"
#include "tests/support/http_client.hpp"

using namespace derpmgr::agent;
using derpmgr::protocol::allocation_spec;
using derpmgr::protocol::desired_state;
using tcp = net::ip::tcp;

namespace {

std::string key(char digit) {
  return "nodekey:" + std::string(64, digit);
}

std::string body(const std::string& node_key) {
  return R"({"NodePublic":")" + node_key + R"(","Source":"203.0.113.5"})";
}

// An admission server on 127.0.0.1:<free port> admitting key 'a' for "tok-1" and key 'b' for "tok-2".
struct running_server {
  derpmgr::system_clock clock;
  admission_table table{clock};
  admission_server server{admission_options{.listen = {"127.0.0.1", 0}}, table};

  running_server() {
    allocation_spec one;
    one.id = 1;
    one.admission_token = "tok-1";
    one.allowed_keys = {key('a')};
    allocation_spec two;
    two.id = 2;
    two.admission_token = "tok-2";
    two.allowed_keys = {key('b')};
    table.update(desired_state{3, 1, {one, two}});
    server.start();
  }

  std::string url(const std::string& path) const { return "http://127.0.0.1:" + std::to_string(server.port()) + path; }
  derpmgr::test::http_result post(const std::string& path, const std::string& text) const {
    return derpmgr::test::post_json(url(path), text);
  }
};

// Reads one HTTP response with a Content-Length from `socket`.
std::string read_response(tcp::socket& socket, net::streambuf& buffer) {
  net::read_until(socket, buffer, "\r\n\r\n");
  std::string data(net::buffers_begin(buffer.data()), net::buffers_end(buffer.data()));
  const auto header_end = data.find("\r\n\r\n") + 4;
  const auto length_at = data.find("Content-Length: ");
  REQUIRE(length_at != std::string::npos);
  const std::size_t length = std::stoul(data.substr(length_at + 16));
  if (buffer.size() < header_end + length) {
    net::read(socket, buffer, net::transfer_exactly(header_end + length - buffer.size()));
  }
  std::string response(net::buffers_begin(buffer.data()),
                       net::buffers_begin(buffer.data()) + static_cast<std::ptrdiff_t>(header_end + length));
  buffer.consume(header_end + length);
  return response;
}

std::string request(const std::string& path, const std::string& text, const std::string& extra = "") {
  return "POST " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: " +
         std::to_string(text.size()) + "\r\n" + extra + "\r\n" + text;
}

}  // namespace

TEST_CASE("admission server: binds port 0 on 127.0.0.1 and reports the port") {
  running_server s;
  CHECK(s.server.port() != 0);
}

TEST_CASE("admission server: admits exactly the allowed keys of the token's allocation") {
  running_server s;
  auto allowed = s.post("/admit/tok-1", body(key('a')));
  CHECK(allowed.error == "");
  CHECK(allowed.status == 200);
  CHECK(allowed.body == R"({"Allow":true})");
  CHECK(allowed.headers["content-type"] == "application/json");

  CHECK(s.post("/admit/tok-2", body(key('b'))).body == R"({"Allow":true})");

  for (const auto& [path, text] : std::vector<std::pair<std::string, std::string>>{
           {"/admit/tok-1", body(key('b'))},                           // the other allocation's key
           {"/admit/tok-1", body(key('c'))},                           // a key nobody allowed
           {"/admit/tok-9", body(key('a'))},                           // unknown token
           {"/admit/", body(key('a'))},                                // no token
           {"/admit/tok-1", body("nodekey:" + std::string(64, 'A'))},  // uppercase hex
           {"/admit/tok-1", body("nodekey:abc")},                      // short key
           {"/admit/tok-1", R"({"NodePublic":)"},                      // malformed JSON
           {"/admit/tok-1", ""},                                       // empty body
           {"/admit/tok-1", "[]"},
       }) {
    CAPTURE(path);
    CAPTURE(text);
    const auto denied = s.post(path, text);
    CHECK(denied.error == "");
    CHECK(denied.status == 200);
    CHECK(denied.body == R"({"Allow":false})");
  }
}

TEST_CASE("admission server: a body over 4 KiB is refused, not an error status") {
  running_server s;
  std::string big = body(key('a'));
  big.insert(big.size() - 1, R"(,"Pad":")" + std::string(5000, 'x') + "\"");
  const auto denied = s.post("/admit/tok-1", big);
  CHECK(denied.status == 200);
  CHECK(denied.body == R"({"Allow":false})");
}

TEST_CASE("admission server: other paths and methods") {
  running_server s;
  CHECK(s.post("/other", body(key('a'))).status == 404);
  const auto get = derpmgr::test::get(s.url("/admit/tok-1"));
  CHECK(get.status == 405);
  CHECK(get.body == R"({"Allow":false})");
}

TEST_CASE("admission server: keep-alive, pipelining and a query string on one connection") {
  running_server s;
  net::io_context io;
  tcp::socket socket(io);
  socket.connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), s.server.port()));
  net::streambuf buffer;

  net::write(socket, net::buffer(request("/admit/tok-1", body(key('a')))));
  std::string first = read_response(socket, buffer);
  CHECK(first.starts_with("HTTP/1.1 200 OK\r\n"));
  CHECK(first.ends_with(R"({"Allow":true})"));
  CHECK(first.find("Connection: close") == std::string::npos);

  // Two requests in one write; the answers come back in order on the same connection.
  net::write(socket,
             net::buffer(request("/admit/tok-1?x=1", body(key('b'))) + request("/admit/tok-2", body(key('b')))));
  CHECK(read_response(socket, buffer).ends_with(R"({"Allow":false})"));
  CHECK(read_response(socket, buffer).ends_with(R"({"Allow":true})"));

  net::write(socket, net::buffer(request("/admit/tok-1", body(key('a')), "Connection: close\r\n")));
  const std::string last = read_response(socket, buffer);
  CHECK(last.find("Connection: close") != std::string::npos);
  boost::system::error_code ec;
  net::read(socket, buffer, net::transfer_at_least(1), ec);
  CHECK(ec == net::error::eof);
}

TEST_CASE("admission server: a chunked body is read like any other") {
  running_server s;
  net::io_context io;
  tcp::socket socket(io);
  socket.connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), s.server.port()));
  const std::string text = body(key('a'));
  std::ostringstream chunk_size;
  chunk_size << std::hex << 10 << "\r\n"
             << text.substr(0, 10) << "\r\n"
             << (text.size() - 10) << "\r\n"
             << text.substr(10) << "\r\n0\r\n\r\n";
  net::write(socket, net::buffer("POST /admit/tok-1 HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" +
                                 chunk_size.str()));
  net::streambuf buffer;
  CHECK(read_response(socket, buffer).ends_with(R"({"Allow":true})"));
}

TEST_CASE("admission server: an update is seen by the next request") {
  running_server s;
  CHECK(s.post("/admit/tok-1", body(key('c'))).body == R"({"Allow":false})");
  allocation_spec one;
  one.id = 1;
  one.admission_token = "tok-1";
  one.allowed_keys = {key('c')};
  s.table.update(desired_state{3, 2, {one}});
  CHECK(s.post("/admit/tok-1", body(key('c'))).body == R"({"Allow":true})");
  CHECK(s.post("/admit/tok-1", body(key('a'))).body == R"({"Allow":false})");
  const admission_report report = s.table.take_report();
  REQUIRE(report.admitted.size() == 1);
  CHECK(report.admitted[0].node_key == key('c'));
  CHECK(report.rejected.size() == 2);
}

TEST_CASE("admission server: stop closes the listener and can be called twice") {
  running_server s;
  const auto port = s.server.port();
  s.server.stop();
  s.server.stop();
  const auto after =
      derpmgr::test::post_json("http://127.0.0.1:" + std::to_string(port) + "/admit/tok-1", body(key('a')));
  CHECK(after.status == 0);
  CHECK_FALSE(after.error.empty());
}

TEST_CASE("admission server: an address already in use is an error at start, and a later start can succeed") {
  running_server first;
  derpmgr::system_clock clock;
  admission_table table(clock);
  admission_server second(admission_options{.listen = {"127.0.0.1", first.server.port()}}, table);
  CHECK_THROWS_AS(second.start(), boost::system::system_error);
  CHECK(second.port() == 0);
  first.server.stop();
  second.start();
  CHECK(second.port() != 0);
}
