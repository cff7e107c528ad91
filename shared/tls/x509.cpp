#include "shared/tls/x509.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <unistd.h>

#include <fstream>
#include <memory>
#include <sstream>
#include <cstring>
#include <stdexcept>

#include "shared/tls/random.hpp"

namespace derpmgr {

namespace {

struct bio_free {
  void operator()(BIO* b) const { BIO_free(b); }
};
struct pkey_free {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
struct x509_free {
  void operator()(X509* x) const { X509_free(x); }
};
using bio_ptr = std::unique_ptr<BIO, bio_free>;
using pkey_ptr = std::unique_ptr<EVP_PKEY, pkey_free>;
using x509_ptr = std::unique_ptr<X509, x509_free>;

[[noreturn]] void fail(const char* what) { throw std::runtime_error(std::string("OpenSSL: ") + what); }

std::string bio_string(BIO* bio) {
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);
  return std::string(data, static_cast<std::size_t>(len));
}

bool is_ip_literal(const std::string& host) {
  unsigned char buf[16];
  return inet_pton(AF_INET, host.c_str(), buf) == 1 || inet_pton(AF_INET6, host.c_str(), buf) == 1;
}

void add_ext(X509* cert, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, cert, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
  if (ext == nullptr) {
    fail("extension");
  }
  X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
}

x509_ptr parse_cert(const std::string& pem) {
  bio_ptr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  x509_ptr cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
  if (!cert) {
    throw std::invalid_argument("not a PEM certificate");
  }
  return cert;
}

}  // namespace

std::string generate_ec_key_pem() {
  pkey_ptr key(EVP_EC_gen("P-256"));
  if (!key) {
    fail("EC key generation");
  }
  bio_ptr bio(BIO_new(BIO_s_mem()));
  if (PEM_write_bio_PrivateKey(bio.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr) != 1) {
    fail("key encoding");
  }
  return bio_string(bio.get());
}

pem_pair make_self_signed(const std::string& host, std::chrono::seconds lifetime) {
  pem_pair out;
  out.key_pem = generate_ec_key_pem();
  bio_ptr key_bio(BIO_new_mem_buf(out.key_pem.data(), static_cast<int>(out.key_pem.size())));
  pkey_ptr key(PEM_read_bio_PrivateKey(key_bio.get(), nullptr, nullptr, nullptr));
  x509_ptr cert(X509_new());
  if (!key || !cert) {
    fail("allocation");
  }
  X509_set_version(cert.get(), 2);
  std::string serial = random_bytes(16);
  serial[0] = static_cast<char>(serial[0] & 0x7f);
  BIGNUM* bn = BN_bin2bn(reinterpret_cast<const unsigned char*>(serial.data()), 16, nullptr);
  BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert.get()));
  BN_free(bn);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), static_cast<long>(lifetime.count()));
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, reinterpret_cast<const unsigned char*>(host.c_str()), -1,
                             -1, 0);
  X509_set_issuer_name(cert.get(), name);
  X509_set_pubkey(cert.get(), key.get());
  add_ext(cert.get(), NID_subject_alt_name, (is_ip_literal(host) ? "IP:" : "DNS:") + host);
  add_ext(cert.get(), NID_basic_constraints, "critical,CA:FALSE");
  add_ext(cert.get(), NID_key_usage, "critical,digitalSignature");
  add_ext(cert.get(), NID_ext_key_usage, "serverAuth");
  if (X509_sign(cert.get(), key.get(), EVP_sha256()) == 0) {
    fail("certificate signing");
  }
  bio_ptr bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_X509(bio.get(), cert.get());
  out.cert_pem = bio_string(bio.get());
  return out;
}

std::string sha256_raw_pin(const std::string& cert_pem) {
  x509_ptr cert = parse_cert(cert_pem);
  unsigned char* der = nullptr;
  int len = i2d_X509(cert.get(), &der);
  if (len <= 0) {
    fail("DER encoding");
  }
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int digest_len = 0;
  EVP_Digest(der, static_cast<std::size_t>(len), digest, &digest_len, EVP_sha256(), nullptr);
  OPENSSL_free(der);
  return "sha256-raw:" + to_hex(std::string_view(reinterpret_cast<char*>(digest), digest_len));
}

void write_file_atomic(const std::filesystem::path& path, const std::string& content, std::filesystem::perms mode) {
  auto tmp = path;
  tmp += ".tmp" + random_hex(4);
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, static_cast<mode_t>(mode));
  if (fd < 0) {
    throw std::runtime_error("cannot write " + tmp.string() + ": " + std::strerror(errno));
  }
  std::size_t done = 0;
  while (done < content.size()) {
    ssize_t n = ::write(fd, content.data() + done, content.size() - done);
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      int err = errno;
      ::close(fd);
      ::unlink(tmp.c_str());
      throw std::runtime_error("cannot write " + tmp.string() + ": " + std::strerror(err));
    }
    done += static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    ::unlink(tmp.c_str());
    throw std::runtime_error("cannot flush " + tmp.string());
  }
  std::filesystem::rename(tmp, path);
  int dir = ::open(path.parent_path().empty() ? "." : path.parent_path().c_str(), O_RDONLY | O_DIRECTORY);
  if (dir >= 0) {
    ::fsync(dir);
    ::close(dir);
  }
}

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    throw std::runtime_error("cannot read " + path.string());
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::pair<std::filesystem::path, std::filesystem::path> ensure_self_signed_files(const std::filesystem::path& dir,
                                                                                 const std::string& host) {
  auto cert = dir / "https.crt";
  auto key = dir / "https.key";
  if (!std::filesystem::exists(cert) || !std::filesystem::exists(key)) {
    std::filesystem::create_directories(dir);
    auto pair = make_self_signed(host, std::chrono::hours(24 * 365));
    write_file_atomic(key, pair.key_pem, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
    write_file_atomic(cert, pair.cert_pem, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write |
                                               std::filesystem::perms::group_read |
                                               std::filesystem::perms::others_read);
  }
  return {cert, key};
}

}  // namespace derpmgr
