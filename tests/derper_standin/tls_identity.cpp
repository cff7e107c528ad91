#include "tests/derper_standin/tls_identity.hpp"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <strings.h>

#include <boost/asio/ip/address.hpp>
#include <stdexcept>

namespace derpmgr::standin {

namespace {

// derper names the files after the hostname with everything but [a-zA-Z0-9-.] removed.
std::string file_stem(const std::string& hostname) {
  std::string out;
  for (char c : hostname) {
    bool safe = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.';
    if (safe) {
      out.push_back(c);
    }
  }
  return out;
}

std::string openssl_reason() {
  unsigned long code = ERR_get_error();
  ERR_clear_error();
  if (code == 0) {
    return "unknown OpenSSL error";
  }
  char buf[256];
  ERR_error_string_n(code, buf, sizeof buf);
  return buf;
}

std::string raw_pin(X509* leaf) {
  unsigned char* der = nullptr;
  int size = i2d_X509(leaf, &der);
  if (size <= 0) {
    throw std::runtime_error("derper: can not load cert: " + openssl_reason());
  }
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int digest_size = 0;
  int ok = EVP_Digest(der, static_cast<std::size_t>(size), digest, &digest_size, EVP_sha256(), nullptr);
  OPENSSL_free(der);
  if (ok != 1) {
    throw std::runtime_error("derper: can not hash cert: " + openssl_reason());
  }
  static constexpr char digits[] = "0123456789abcdef";
  std::string pin = "sha256-raw:";
  for (unsigned int i = 0; i < digest_size; ++i) {
    pin.push_back(digits[digest[i] >> 4]);
    pin.push_back(digits[digest[i] & 0x0f]);
  }
  return pin;
}

}  // namespace

tls_identity::tls_identity(std::string hostname)
    : hostname_(std::move(hostname)), context_(boost::asio::ssl::context::tls_server) {}

std::unique_ptr<tls_identity> tls_identity::load(const std::string& certdir, const std::string& hostname) {
  if (certdir.empty()) {
    throw std::runtime_error("derper: can not start cert provider: missing required --certdir flag");
  }
  std::unique_ptr<tls_identity> self(new tls_identity(hostname));
  boost::system::error_code ec;
  boost::asio::ip::make_address(hostname, ec);
  self->hostname_is_ip_ = !ec;

  std::string stem = file_stem(hostname);
  std::string crt = certdir + "/" + stem + ".crt";
  std::string key = certdir + "/" + stem + ".key";
  SSL_CTX* ctx = self->context_.native_handle();
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  if (SSL_CTX_use_certificate_chain_file(ctx, crt.c_str()) != 1 ||
      SSL_CTX_use_PrivateKey_file(ctx, key.c_str(), SSL_FILETYPE_PEM) != 1 || SSL_CTX_check_private_key(ctx) != 1) {
    throw std::runtime_error("derper: can not start cert provider: can not load x509 key pair for hostname \"" + stem +
                             "\" (" + crt + ", " + key + "): " + openssl_reason());
  }
  X509* leaf = SSL_CTX_get0_certificate(ctx);
  int match = self->hostname_is_ip_ ? X509_check_ip_asc(leaf, hostname.c_str(), 0)
                                    : X509_check_host(leaf, hostname.c_str(), hostname.size(),
                                                      X509_CHECK_FLAG_NEVER_CHECK_SUBJECT, nullptr);
  if (match != 1) {
    throw std::runtime_error("derper: can not start cert provider: cert invalid for hostname \"" + hostname +
                             "\": its subject alternative names do not include it");
  }
  self->pin_ = raw_pin(leaf);
  SSL_CTX_set_tlsext_servername_callback(ctx, &check_server_name);
  SSL_CTX_set_tlsext_servername_arg(ctx, self.get());
  return self;
}

int tls_identity::check_server_name(SSL* ssl, int* /*alert*/, void* self) {
  auto* identity = static_cast<tls_identity*>(self);
  if (identity->hostname_is_ip_) {
    return SSL_TLSEXT_ERR_OK;
  }
  const char* name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
  if (name != nullptr && ::strcasecmp(name, identity->hostname_.c_str()) == 0) {
    return SSL_TLSEXT_ERR_OK;
  }
  return SSL_TLSEXT_ERR_ALERT_FATAL;
}

}  // namespace derpmgr::standin
