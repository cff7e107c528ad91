#include "agent/channel/controller_tls.hpp"

#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <boost/json/parse.hpp>

#include "agent/channel/agent_identity.hpp"
#include "shared/net/net.hpp"
#include "shared/tls/certificate_authority.hpp"

namespace derpmgr::agent {

namespace beast = boost::beast;
namespace bhttp = beast::http;
using tcp = net::ip::tcp;

namespace {

constexpr auto use_tuple = net::as_tuple(net::use_awaitable);

struct ossl {
  void operator()(X509_STORE* s) const { X509_STORE_free(s); }
  void operator()(X509_STORE_CTX* c) const { X509_STORE_CTX_free(c); }
};

std::string pem_of(X509* cert) {
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_X509(bio, cert);
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);
  std::string out(data, static_cast<std::size_t>(len));
  BIO_free(bio);
  return out;
}

// The server's chain verified against the CA it contains whose fingerprint is `pin`; false otherwise.
bool server_matches_pin(SSL* ssl, const std::string& pin) {
  STACK_OF(X509)* chain = SSL_get_peer_cert_chain(ssl);
  X509* leaf = SSL_get0_peer_certificate(ssl);
  if (chain == nullptr || leaf == nullptr) {
    return false;
  }
  X509* anchor = nullptr;
  for (int i = 0; i < sk_X509_num(chain); ++i) {
    X509* c = sk_X509_value(chain, i);
    auto info = inspect_certificate(pem_of(c));
    if (info.sha256_hex == pin && info.is_ca) {
      anchor = c;
    }
  }
  if (anchor == nullptr) {
    return false;
  }
  std::unique_ptr<X509_STORE, ossl> store(X509_STORE_new());
  std::unique_ptr<X509_STORE_CTX, ossl> ctx(X509_STORE_CTX_new());
  X509_STORE_add_cert(store.get(), anchor);
  if (X509_STORE_CTX_init(ctx.get(), store.get(), leaf, chain) != 1) {
    return false;
  }
  X509_STORE_CTX_set_purpose(ctx.get(), X509_PURPOSE_SSL_SERVER);
  return X509_verify_cert(ctx.get()) == 1;
}

net::awaitable<protocol::enroll_response> enroll_coro(controller_endpoint where, std::string pin,
                                                      std::string body, std::chrono::seconds timeout) {
  auto executor = co_await net::this_coro::executor;
  net::ssl::context ctx(net::ssl::context::tls_client);
  ctx.set_options(net::ssl::context::no_tlsv1 | net::ssl::context::no_tlsv1_1);
  // Verified by hand against the pinned CA right after the handshake, before anything is sent.
  ctx.set_verify_mode(net::ssl::verify_none);
  tcp::resolver resolver(executor);
  auto [rec, results] = co_await resolver.async_resolve(where.host, where.port, use_tuple);
  if (rec) {
    throw enroll_failure("unreachable", "cannot resolve " + where.host + ": " + rec.message());
  }
  beast::ssl_stream<beast::tcp_stream> stream(executor, ctx);
  beast::get_lowest_layer(stream).expires_after(timeout);
  auto [cec, ep] = co_await beast::get_lowest_layer(stream).async_connect(results, use_tuple);
  if (cec) {
    throw enroll_failure("unreachable", "cannot connect to " + where.host + ":" + where.port + ": " + cec.message());
  }
  auto [hec] = co_await stream.async_handshake(net::ssl::stream_base::client, use_tuple);
  if (hec) {
    throw enroll_failure("unreachable", "TLS handshake failed: " + hec.message());
  }
  if (!server_matches_pin(stream.native_handle(), pin)) {
    throw enroll_failure("untrusted_server", "the controller's certificate does not come from the CA in the token");
  }
  bhttp::request<bhttp::string_body> req{bhttp::verb::post, std::string(protocol::enroll_path), 11};
  req.set(bhttp::field::host, where.host);
  req.set(bhttp::field::content_type, "application/json");
  req.body() = std::move(body);
  req.prepare_payload();
  auto [wec, wn] = co_await bhttp::async_write(stream, req, use_tuple);
  if (wec) {
    throw enroll_failure("unreachable", "sending the request failed: " + wec.message());
  }
  beast::flat_buffer buffer;
  bhttp::response<bhttp::string_body> res;
  auto [xec, xn] = co_await bhttp::async_read(stream, buffer, res, use_tuple);
  if (xec) {
    throw enroll_failure("unreachable", "reading the answer failed: " + xec.message());
  }
  if (res.result() != bhttp::status::ok) {
    std::string code = "refused";
    std::string message = "the controller refused the enrollment (HTTP " + std::to_string(res.result_int()) + ")";
    boost::system::error_code pec;
    auto v = boost::json::parse(res.body(), pec);
    if (!pec && v.is_object() && v.as_object().contains("error")) {
      const auto& e = v.as_object().at("error").as_object();
      code = std::string(e.at("code").as_string());
      message = std::string(e.at("message").as_string());
    }
    throw enroll_failure(code, message);
  }
  protocol::enroll_response answer;
  try {
    answer = protocol::enroll_response_from(res.body());
  } catch (const protocol::protocol_error& e) {
    throw enroll_failure("bad_answer", e.what());
  }
  co_return answer;
}

}  // namespace

controller_endpoint controller_endpoint::parse(const std::string& url) {
  const std::string scheme = "https://";
  if (url.rfind(scheme, 0) != 0) {
    throw std::invalid_argument("the controller URL must start with https://");
  }
  auto rest = url.substr(scheme.size());
  rest = rest.substr(0, rest.find('/'));
  controller_endpoint e;
  if (!rest.empty() && rest.front() == '[') {
    auto close = rest.find(']');
    if (close == std::string::npos) {
      throw std::invalid_argument("the controller URL has an unterminated IPv6 address");
    }
    e.host = rest.substr(1, close - 1);
    rest = rest.substr(close + 1);
    e.port = rest.empty() ? "8444" : rest.substr(1);
  } else {
    auto colon = rest.find(':');
    e.host = rest.substr(0, colon);
    e.port = colon == std::string::npos ? "8444" : rest.substr(colon + 1);
  }
  if (e.host.empty()) {
    throw std::invalid_argument("the controller URL has no host");
  }
  return e;
}

std::shared_ptr<net::ssl::context> channel_tls_context(const agent_identity& identity) {
  auto ctx = std::make_shared<net::ssl::context>(net::ssl::context::tls_client);
  ctx->set_options(net::ssl::context::no_tlsv1 | net::ssl::context::no_tlsv1_1);
  ctx->add_certificate_authority(net::buffer(identity.ca_pem));
  ctx->use_certificate(net::buffer(identity.cert_pem), net::ssl::context::pem);
  ctx->use_private_key(net::buffer(identity.key_pem), net::ssl::context::pem);
  ctx->set_verify_mode(net::ssl::verify_peer);
  SSL_CTX_set_purpose(ctx->native_handle(), X509_PURPOSE_SSL_SERVER);
  return ctx;
}

protocol::enroll_response enroll_over_tls(const std::string& controller_url, const std::string& ca_fingerprint,
                                          const protocol::enroll_request& request, std::chrono::seconds timeout) {
  auto where = controller_endpoint::parse(controller_url);
  net::io_context ioc;
  auto result = net::co_spawn(ioc, enroll_coro(where, ca_fingerprint, protocol::encode(request), timeout),
                              net::use_future);
  ioc.run();
  return result.get();
}

}  // namespace derpmgr::agent
