#include "shared/tls/certificate_authority.hpp"

#include <doctest/doctest.h>

#include <openssl/pem.h>
#include <openssl/x509_vfy.h>

#include <memory>

using namespace derpmgr;
using namespace std::chrono_literals;

namespace {

// Verifies `leaf_pem` against `ca_pem` alone with OpenSSL's own chain building.
bool chains_to(const std::string& leaf_pem, const std::string& ca_pem) {
  auto load = [](const std::string& pem) {
    BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
    X509* cert = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr);
    BIO_free(bio);
    return cert;
  };
  X509* leaf = load(leaf_pem);
  X509* ca = load(ca_pem);
  X509_STORE* store = X509_STORE_new();
  X509_STORE_add_cert(store, ca);
  X509_STORE_CTX* ctx = X509_STORE_CTX_new();
  X509_STORE_CTX_init(ctx, store, leaf, nullptr);
  bool ok = X509_verify_cert(ctx) == 1;
  X509_STORE_CTX_free(ctx);
  X509_STORE_free(store);
  X509_free(leaf);
  X509_free(ca);
  return ok;
}

certificate_request client_request(const std::string& csr) {
  certificate_request req;
  req.csr_pem = csr;
  req.common_name = "node-7";
  req.usage = certificate_usage::client;
  req.not_before = std::chrono::system_clock::now() - 1h;
  req.not_after = std::chrono::system_clock::now() + 24h * 30;
  return req;
}

}  // namespace

TEST_CASE("the internal CA issues client certificates whose identity it chooses") {
  auto ca = certificate_authority::create("derpmgr test CA", 24h * 365);
  CHECK(inspect_certificate(ca.cert_pem()).is_ca);
  CHECK(ca.fingerprint().size() == 64);

  auto key = generate_ec_key_pem();
  auto issued = ca.issue(client_request(make_csr(key)));
  auto info = inspect_certificate(issued.cert_pem);
  CHECK(info.common_name == "node-7");
  CHECK(info.client_auth);
  CHECK_FALSE(info.server_auth);
  CHECK_FALSE(info.is_ca);
  CHECK(info.serial_hex == issued.serial_hex);
  CHECK(key_matches_certificate(key, issued.cert_pem));
  CHECK_FALSE(key_matches_certificate(generate_ec_key_pem(), issued.cert_pem));
  CHECK(chains_to(issued.cert_pem, ca.cert_pem()));

  auto other_ca = certificate_authority::create("another CA", 24h);
  CHECK_FALSE(chains_to(issued.cert_pem, other_ca.cert_pem()));
}

TEST_CASE("each certificate gets a fresh serial") {
  auto ca = certificate_authority::create("derpmgr test CA", 24h);
  auto csr = make_csr(generate_ec_key_pem());
  auto a = ca.issue(client_request(csr));
  auto b = ca.issue(client_request(csr));
  CHECK(a.serial_hex != b.serial_hex);
  CHECK(a.serial_hex.size() == 32);
}

TEST_CASE("server certificates carry serverAuth and their DNS names") {
  auto ca = certificate_authority::create("derpmgr test CA", 24h);
  auto req = client_request(make_csr(generate_ec_key_pem()));
  req.usage = certificate_usage::server;
  req.dns_names = {"derpmgr-controller"};
  auto info = inspect_certificate(ca.issue(req).cert_pem);
  CHECK(info.server_auth);
  CHECK_FALSE(info.client_auth);
}

TEST_CASE("a malformed CSR or one with a forged signature is refused") {
  auto ca = certificate_authority::create("derpmgr test CA", 24h);
  CHECK_THROWS_AS(ca.issue(client_request("-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n")),
                  std::invalid_argument);
  auto csr = make_csr(generate_ec_key_pem());
  // Flip one base64 character inside the signature region (near the end of the body).
  auto end = csr.find("-----END");
  auto pos = end - 10;
  csr[pos] = csr[pos] == 'A' ? 'B' : 'A';
  CHECK_THROWS(ca.issue(client_request(csr)));
}

TEST_CASE("a CA key that does not match its certificate is refused") {
  auto ca = certificate_authority::create("derpmgr test CA", 24h);
  CHECK_THROWS_AS(certificate_authority(ca.cert_pem(), generate_ec_key_pem()), std::invalid_argument);
  auto leaf = make_self_signed("127.0.0.1", 24h);
  CHECK_THROWS_AS(certificate_authority(leaf.cert_pem, leaf.key_pem), std::invalid_argument);
}
