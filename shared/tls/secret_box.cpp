#include "shared/tls/secret_box.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <memory>

#include "shared/tls/hashing.hpp"
#include "shared/tls/random.hpp"

namespace derpmgr::secret_box {

namespace {

using cipher_ctx = std::unique_ptr<EVP_CIPHER_CTX, decltype(&EVP_CIPHER_CTX_free)>;

cipher_ctx new_context() {
  cipher_ctx ctx(EVP_CIPHER_CTX_new(), &EVP_CIPHER_CTX_free);
  if (!ctx) {
    throw secret_box_error("cannot allocate a cipher context");
  }
  return ctx;
}

void require_key(std::string_view key) {
  if (key.size() != key_size) {
    throw secret_box_error("secret_box keys are 32 bytes");
  }
}

const unsigned char* bytes(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

unsigned char* bytes(std::string& s) {
  return reinterpret_cast<unsigned char*>(s.data());
}

int as_int(std::size_t n) {
  if (n > static_cast<std::size_t>(1) << 30) {
    throw secret_box_error("secret_box input too large");
  }
  return static_cast<int>(n);
}

}  // namespace

std::string seal(std::string_view key, std::string_view plaintext, std::string_view associated_data) {
  require_key(key);
  std::string nonce = random_bytes(nonce_size);
  std::string out(nonce_size + plaintext.size() + tag_size, '\0');
  out.replace(0, nonce_size, nonce);
  auto ctx = new_context();
  int len = 0;
  bool ok =
      EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, bytes(key), bytes(nonce)) == 1 &&
      EVP_EncryptUpdate(ctx.get(), nullptr, &len, bytes(associated_data), as_int(associated_data.size())) == 1 &&
      EVP_EncryptUpdate(ctx.get(), bytes(out) + nonce_size, &len, bytes(plaintext), as_int(plaintext.size())) == 1;
  int tail = 0;
  ok = ok && EVP_EncryptFinal_ex(ctx.get(), bytes(out) + nonce_size + len, &tail) == 1 &&
       EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, static_cast<int>(tag_size),
                           bytes(out) + nonce_size + plaintext.size()) == 1;
  if (!ok) {
    throw secret_box_error("AES-256-GCM encryption failed");
  }
  return out;
}

std::string open(std::string_view key, std::string_view box, std::string_view associated_data) {
  require_key(key);
  if (box.size() < nonce_size + tag_size) {
    throw secret_box_error("sealed box is truncated");
  }
  auto nonce = box.substr(0, nonce_size);
  auto ciphertext = box.substr(nonce_size, box.size() - nonce_size - tag_size);
  std::string tag(box.substr(box.size() - tag_size));
  std::string out(ciphertext.size(), '\0');
  auto ctx = new_context();
  int len = 0;
  bool ok = EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, bytes(key), bytes(nonce)) == 1 &&
            EVP_DecryptUpdate(ctx.get(), nullptr, &len, bytes(associated_data), as_int(associated_data.size())) == 1 &&
            EVP_DecryptUpdate(ctx.get(), bytes(out), &len, bytes(ciphertext), as_int(ciphertext.size())) == 1 &&
            EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, static_cast<int>(tag_size), bytes(tag)) == 1;
  int tail = 0;
  if (!ok || EVP_DecryptFinal_ex(ctx.get(), bytes(out) + len, &tail) != 1) {
    OPENSSL_cleanse(out.data(), out.size());
    throw secret_box_error("sealed box failed authentication");
  }
  return out;
}

std::string derive_key(std::string_view master, std::string_view purpose) {
  if (master.size() < key_size) {
    throw secret_box_error("the master key must be at least 32 bytes");
  }
  return hmac_sha256(master, "derpmgr:" + std::string(purpose));
}

}  // namespace derpmgr::secret_box
