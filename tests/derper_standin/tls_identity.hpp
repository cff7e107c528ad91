#pragma once

#include <boost/asio/ssl/context.hpp>
#include <memory>
#include <string>

namespace derpmgr::standin {

// derper's -certmode manual: the certificate <certdir>/<hostname>.crt and key <hostname>.key, which must match
// -hostname (an IP SAN for an IP literal, a DNS SAN otherwise), served with TLS 1.2 or newer. For a DNS hostname
// the client's SNI must name it, as derper requires; an IP hostname accepts any SNI.
class tls_identity {
 public:
  // Loads and checks the files; throws std::runtime_error worded like derper's refusal to start.
  static std::unique_ptr<tls_identity> load(const std::string& certdir, const std::string& hostname);

  tls_identity(const tls_identity&) = delete;
  tls_identity& operator=(const tls_identity&) = delete;
  ~tls_identity() = default;

  boost::asio::ssl::context& context() { return context_; }
  // "sha256-raw:<hex>" of the leaf certificate, the DERP map CertName pin (logged, as derper does for IPs).
  const std::string& pin() const { return pin_; }

 private:
  explicit tls_identity(std::string hostname);
  static int check_server_name(SSL* ssl, int* alert, void* self);

  std::string hostname_;
  bool hostname_is_ip_ = false;
  boost::asio::ssl::context context_;
  std::string pin_;
};

}  // namespace derpmgr::standin
