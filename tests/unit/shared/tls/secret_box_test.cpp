#include "shared/tls/secret_box.hpp"

#include <doctest/doctest.h>

#include "shared/tls/random.hpp"

using namespace derpmgr;

TEST_CASE("a sealed box opens with the same key and associated data") {
  auto key = random_bytes(32);
  auto box = secret_box::seal(key, "totp secret bytes", "user:42");
  CHECK(box.size() == secret_box::nonce_size + 17 + secret_box::tag_size);
  CHECK(box.find("totp secret bytes") == std::string::npos);
  CHECK(secret_box::open(key, box, "user:42") == "totp secret bytes");
  CHECK(secret_box::open(key, secret_box::seal(key, "", ""), "") == "");
}

TEST_CASE("sealing twice uses fresh nonces") {
  auto key = random_bytes(32);
  CHECK(secret_box::seal(key, "same", "ad") != secret_box::seal(key, "same", "ad"));
}

TEST_CASE("any tampering, a wrong key or wrong associated data is refused") {
  auto key = random_bytes(32);
  auto box = secret_box::seal(key, "secret", "user:42");
  for (std::size_t i = 0; i < box.size(); ++i) {
    auto tampered = box;
    tampered[i] = static_cast<char>(tampered[i] ^ 0x01);
    CHECK_THROWS_AS(secret_box::open(key, tampered, "user:42"), secret_box_error);
  }
  CHECK_THROWS_AS(secret_box::open(key, box.substr(0, box.size() - 1), "user:42"), secret_box_error);
  CHECK_THROWS_AS(secret_box::open(key, box.substr(0, 10), "user:42"), secret_box_error);
  CHECK_THROWS_AS(secret_box::open(random_bytes(32), box, "user:42"), secret_box_error);
  CHECK_THROWS_AS(secret_box::open(key, box, "user:43"), secret_box_error);
}

TEST_CASE("keys must be 32 bytes") {
  CHECK_THROWS_AS(secret_box::seal(random_bytes(16), "x", ""), secret_box_error);
  CHECK_THROWS_AS(secret_box::open(random_bytes(31), std::string(40, 'x'), ""), secret_box_error);
  CHECK_THROWS_AS(secret_box::derive_key(random_bytes(16), "totp"), secret_box_error);
}

TEST_CASE("derived keys are deterministic per purpose and independent across purposes") {
  auto master = random_bytes(32);
  auto totp_key = secret_box::derive_key(master, "totp");
  CHECK(totp_key.size() == 32);
  CHECK(totp_key == secret_box::derive_key(master, "totp"));
  CHECK(totp_key != secret_box::derive_key(master, "serials"));
  CHECK(totp_key != secret_box::derive_key(random_bytes(32), "totp"));
  auto box = secret_box::seal(totp_key, "secret", "");
  CHECK_THROWS_AS(secret_box::open(secret_box::derive_key(master, "tokens"), box, ""), secret_box_error);
}
