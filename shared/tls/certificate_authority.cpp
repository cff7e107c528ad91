#include "shared/tls/certificate_authority.hpp"

#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include <memory>
#include <stdexcept>

#include "shared/tls/hashing.hpp"
#include "shared/tls/random.hpp"

namespace derpmgr {

namespace {

struct openssl_free {
  void operator()(BIO* p) const { BIO_free(p); }
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
  void operator()(X509* p) const { X509_free(p); }
  void operator()(X509_REQ* p) const { X509_REQ_free(p); }
  void operator()(BIGNUM* p) const { BN_free(p); }
};
template <class T>
using ossl_ptr = std::unique_ptr<T, openssl_free>;

[[noreturn]] void fail(const char* what) { throw std::runtime_error(std::string("OpenSSL: ") + what); }

ossl_ptr<BIO> mem_bio(const std::string& text) {
  return ossl_ptr<BIO>(BIO_new_mem_buf(text.data(), static_cast<int>(text.size())));
}

std::string bio_text(BIO* bio) {
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);
  return std::string(data, static_cast<std::size_t>(len));
}

ossl_ptr<X509> read_cert(const std::string& pem) {
  auto bio = mem_bio(pem);
  ossl_ptr<X509> cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
  if (!cert) {
    throw std::invalid_argument("not a PEM certificate");
  }
  return cert;
}

ossl_ptr<EVP_PKEY> read_key(const std::string& pem) {
  auto bio = mem_bio(pem);
  ossl_ptr<EVP_PKEY> key(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
  if (!key) {
    throw std::invalid_argument("not a PEM private key");
  }
  return key;
}

std::string cert_text(X509* cert) {
  ossl_ptr<BIO> bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_X509(bio.get(), cert);
  return bio_text(bio.get());
}

std::chrono::system_clock::time_point asn1_time(const ASN1_TIME* t) {
  struct tm tm {};
  if (ASN1_TIME_to_tm(t, &tm) != 1) {
    fail("time");
  }
  return std::chrono::system_clock::from_time_t(timegm(&tm));
}

void set_time(ASN1_TIME* field, std::chrono::system_clock::time_point tp) {
  if (ASN1_TIME_set(field, std::chrono::system_clock::to_time_t(tp)) == nullptr) {
    fail("time");
  }
}

void add_ext(X509* cert, X509* issuer, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
  if (ext == nullptr) {
    fail("extension");
  }
  X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
}

void set_random_serial(X509* cert) {
  std::string serial = random_bytes(16);
  serial[0] = static_cast<char>((serial[0] & 0x7f) | 0x40);  // positive, always 16 bytes
  ossl_ptr<BIGNUM> bn(BN_bin2bn(reinterpret_cast<const unsigned char*>(serial.data()), 16, nullptr));
  BN_to_ASN1_INTEGER(bn.get(), X509_get_serialNumber(cert));
}

std::string serial_hex(const X509* cert) {
  ossl_ptr<BIGNUM> bn(ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert), nullptr));
  char* hex = BN_bn2hex(bn.get());
  std::string out(hex);
  OPENSSL_free(hex);
  for (auto& c : out) {
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return out;
}

std::string der_sha256(X509* cert) {
  unsigned char* der = nullptr;
  int len = i2d_X509(cert, &der);
  if (len <= 0) {
    fail("DER encoding");
  }
  std::string out = sha256_hex(std::string_view(reinterpret_cast<char*>(der), static_cast<std::size_t>(len)));
  OPENSSL_free(der);
  return out;
}

void set_common_name(X509_NAME* name, const std::string& cn) {
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1,
                             0);
}

bool is_p256(EVP_PKEY* key) {
  if (EVP_PKEY_get_base_id(key) != EVP_PKEY_EC) {
    return false;
  }
  char group[64] = {};
  std::size_t len = 0;
  if (EVP_PKEY_get_utf8_string_param(key, "group", group, sizeof group, &len) != 1) {
    return false;
  }
  return std::string(group, len) == "prime256v1" || std::string(group, len) == "P-256";
}

}  // namespace

certificate_info inspect_certificate(const std::string& cert_pem) {
  auto cert = read_cert(cert_pem);
  certificate_info info;
  info.serial_hex = serial_hex(cert.get());
  char cn[256] = {};
  int len = X509_NAME_get_text_by_NID(X509_get_subject_name(cert.get()), NID_commonName, cn, sizeof cn);
  if (len > 0) {
    info.common_name.assign(cn, static_cast<std::size_t>(len));
  }
  info.not_before = asn1_time(X509_get0_notBefore(cert.get()));
  info.not_after = asn1_time(X509_get0_notAfter(cert.get()));
  info.sha256_hex = der_sha256(cert.get());
  info.is_ca = X509_check_ca(cert.get()) != 0;
  auto xku = X509_get_extended_key_usage(cert.get());
  info.client_auth = (xku & XKU_SSL_CLIENT) != 0;
  info.server_auth = (xku & XKU_SSL_SERVER) != 0;
  return info;
}

std::string make_csr(const std::string& key_pem) {
  auto key = read_key(key_pem);
  ossl_ptr<X509_REQ> req(X509_REQ_new());
  if (!req || X509_REQ_set_version(req.get(), 0) != 1 || X509_REQ_set_pubkey(req.get(), key.get()) != 1 ||
      X509_REQ_sign(req.get(), key.get(), EVP_sha256()) == 0) {
    fail("CSR");
  }
  ossl_ptr<BIO> bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_X509_REQ(bio.get(), req.get());
  return bio_text(bio.get());
}

bool key_matches_certificate(const std::string& key_pem, const std::string& cert_pem) {
  auto key = read_key(key_pem);
  auto cert = read_cert(cert_pem);
  return X509_check_private_key(cert.get(), key.get()) == 1;
}

certificate_authority certificate_authority::create(const std::string& common_name, std::chrono::seconds lifetime) {
  std::string key_pem = generate_ec_key_pem();
  auto key = read_key(key_pem);
  ossl_ptr<X509> cert(X509_new());
  X509_set_version(cert.get(), 2);
  set_random_serial(cert.get());
  auto now = std::chrono::system_clock::now();
  set_time(X509_getm_notBefore(cert.get()), now - std::chrono::hours(1));
  set_time(X509_getm_notAfter(cert.get()), now + lifetime);
  set_common_name(X509_get_subject_name(cert.get()), common_name);
  X509_set_issuer_name(cert.get(), X509_get_subject_name(cert.get()));
  X509_set_pubkey(cert.get(), key.get());
  add_ext(cert.get(), cert.get(), NID_basic_constraints, "critical,CA:TRUE,pathlen:0");
  add_ext(cert.get(), cert.get(), NID_key_usage, "critical,keyCertSign,cRLSign");
  add_ext(cert.get(), cert.get(), NID_subject_key_identifier, "hash");
  if (X509_sign(cert.get(), key.get(), EVP_sha256()) == 0) {
    fail("CA signing");
  }
  return certificate_authority(cert_text(cert.get()), key_pem);
}

certificate_authority::certificate_authority(std::string cert_pem, std::string key_pem)
    : cert_pem_(std::move(cert_pem)), key_pem_(std::move(key_pem)) {
  auto cert = read_cert(cert_pem_);
  auto key = read_key(key_pem_);
  if (X509_check_private_key(cert.get(), key.get()) != 1) {
    throw std::invalid_argument("the CA key does not belong to the CA certificate");
  }
  if (X509_check_ca(cert.get()) == 0) {
    throw std::invalid_argument("the CA certificate is not a CA");
  }
}

std::string certificate_authority::fingerprint() const {
  auto cert = read_cert(cert_pem_);
  return der_sha256(cert.get());
}

issued_certificate certificate_authority::issue(const certificate_request& request) const {
  auto bio = mem_bio(request.csr_pem);
  ossl_ptr<X509_REQ> req(PEM_read_bio_X509_REQ(bio.get(), nullptr, nullptr, nullptr));
  if (!req) {
    throw std::invalid_argument("csr_pem is not a PEM certificate request");
  }
  ossl_ptr<EVP_PKEY> subject_key(X509_REQ_get_pubkey(req.get()));
  if (!subject_key || !is_p256(subject_key.get())) {
    throw std::invalid_argument("csr_pem must carry an ECDSA P-256 key");
  }
  if (X509_REQ_verify(req.get(), subject_key.get()) != 1) {
    throw std::invalid_argument("csr_pem signature does not verify");
  }
  auto ca_cert = read_cert(cert_pem_);
  auto ca_key = read_key(key_pem_);
  ossl_ptr<X509> cert(X509_new());
  X509_set_version(cert.get(), 2);
  set_random_serial(cert.get());
  set_time(X509_getm_notBefore(cert.get()), request.not_before);
  set_time(X509_getm_notAfter(cert.get()), request.not_after);
  set_common_name(X509_get_subject_name(cert.get()), request.common_name);
  X509_set_issuer_name(cert.get(), X509_get_subject_name(ca_cert.get()));
  X509_set_pubkey(cert.get(), subject_key.get());
  add_ext(cert.get(), ca_cert.get(), NID_basic_constraints, "critical,CA:FALSE");
  add_ext(cert.get(), ca_cert.get(), NID_key_usage, "critical,digitalSignature");
  add_ext(cert.get(), ca_cert.get(), NID_ext_key_usage,
          request.usage == certificate_usage::client ? "clientAuth" : "serverAuth");
  add_ext(cert.get(), ca_cert.get(), NID_authority_key_identifier, "keyid:always");
  if (!request.dns_names.empty()) {
    std::string sans;
    for (const auto& name : request.dns_names) {
      sans += (sans.empty() ? "DNS:" : ",DNS:") + name;
    }
    add_ext(cert.get(), ca_cert.get(), NID_subject_alt_name, sans);
  }
  if (X509_sign(cert.get(), ca_key.get(), EVP_sha256()) == 0) {
    fail("certificate signing");
  }
  issued_certificate out;
  out.cert_pem = cert_text(cert.get());
  out.serial_hex = serial_hex(cert.get());
  out.not_after = request.not_after;
  return out;
}

}  // namespace derpmgr
