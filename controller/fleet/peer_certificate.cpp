#include "controller/fleet/peer_certificate.hpp"

#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include <memory>

#include "controller/fleet/enrollment.hpp"
#include "shared/tls/certificate_authority.hpp"

namespace derpmgr::controller::fleet {

namespace {

struct store_free {
  void operator()(X509_STORE* s) const { X509_STORE_free(s); }
  void operator()(X509_STORE_CTX* c) const { X509_STORE_CTX_free(c); }
  void operator()(X509* x) const { X509_free(x); }
  void operator()(BIO* b) const { BIO_free(b); }
};

std::string pem_of(X509* cert) {
  std::unique_ptr<BIO, store_free> bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_X509(bio.get(), cert);
  char* data = nullptr;
  long len = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(len));
}

}  // namespace

peer_check check_agent_certificate(SSL* ssl, const certificate_authority& ca) {
  peer_check out;
  std::unique_ptr<X509, store_free> leaf(SSL_get1_peer_certificate(ssl));
  if (!leaf) {
    out.reason = "no client certificate";
    return out;
  }
  const auto& ca_pem = ca.cert_pem();
  std::unique_ptr<BIO, store_free> bio(BIO_new_mem_buf(ca_pem.data(), static_cast<int>(ca_pem.size())));
  std::unique_ptr<X509, store_free> ca_cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
  std::unique_ptr<X509_STORE, store_free> store(X509_STORE_new());
  std::unique_ptr<X509_STORE_CTX, store_free> ctx(X509_STORE_CTX_new());
  if (!ca_cert || !store || !ctx || X509_STORE_add_cert(store.get(), ca_cert.get()) != 1 ||
      X509_STORE_CTX_init(ctx.get(), store.get(), leaf.get(), SSL_get_peer_cert_chain(ssl)) != 1) {
    out.reason = "cannot build the verification context";
    return out;
  }
  X509_STORE_CTX_set_purpose(ctx.get(), X509_PURPOSE_SSL_CLIENT);
  if (X509_verify_cert(ctx.get()) != 1) {
    out.reason = X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx.get()));
    return out;
  }
  auto info = inspect_certificate(pem_of(leaf.get()));
  if (!info.client_auth || info.is_ca) {
    out.reason = "not a client certificate";
    return out;
  }
  out.node_id = node_id_from_common_name(info.common_name);
  if (out.node_id == 0) {
    out.reason = "no node identity in the certificate";
    return out;
  }
  out.serial_hex = info.serial_hex;
  out.ok = true;
  return out;
}

}  // namespace derpmgr::controller::fleet
