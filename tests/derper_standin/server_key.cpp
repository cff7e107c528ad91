#include "tests/derper_standin/server_key.hpp"

#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <unistd.h>

#include <boost/json/parse.hpp>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <memory>
#include <sstream>
#include <stdexcept>

namespace derpmgr::standin {

namespace {

constexpr std::string_view key_prefix = "privkey:";

std::string to_hex(const std::uint8_t* data, std::size_t size) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  out.reserve(size * 2);
  for (std::size_t i = 0; i < size; ++i) {
    out.push_back(digits[data[i] >> 4]);
    out.push_back(digits[data[i] & 0x0f]);
  }
  return out;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') {
    return c - '0';
  }
  if (c >= 'a' && c <= 'f') {
    return c - 'a' + 10;
  }
  return -1;
}

// Writes `content` next to `path` and renames it into place, so a crash never leaves half a key.
void write_atomically(const std::filesystem::path& path, const std::string& content) {
  std::filesystem::path temp = path;
  temp += ".tmp" + std::to_string(::getpid());
  int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) {
    throw std::runtime_error("derper: writing " + path.string() + ": " + std::strerror(errno));
  }
  bool ok = ::write(fd, content.data(), content.size()) == static_cast<ssize_t>(content.size()) && ::fsync(fd) == 0;
  int saved = errno;
  ::close(fd);
  if (!ok || ::rename(temp.c_str(), path.c_str()) != 0) {
    saved = ok ? errno : saved;
    ::unlink(temp.c_str());
    throw std::runtime_error("derper: writing " + path.string() + ": " + std::strerror(saved));
  }
}

}  // namespace

server_key server_key::generate() {
  server_key key;
  if (RAND_bytes(key.private_.data(), static_cast<int>(key.private_.size())) != 1) {
    throw std::runtime_error("derper: no randomness for a new key");
  }
  return key;
}

server_key server_key::load_or_create(const std::filesystem::path& path) {
  std::error_code ec;
  bool exists = std::filesystem::exists(path, ec);
  if (ec) {
    throw std::runtime_error("derper: stat " + path.string() + ": " + ec.message());
  }
  if (!exists) {
    server_key key = generate();
    std::filesystem::create_directories(path.parent_path().empty() ? "." : path.parent_path(), ec);
    if (ec) {
      throw std::runtime_error("derper: mkdir " + path.parent_path().string() + ": " + ec.message());
    }
    std::string text = "{\n\t\"PrivateKey\": \"" + std::string(key_prefix) +
                       to_hex(key.private_.data(), key.private_.size()) + "\"\n}";
    write_atomically(path, text);
    key.created_ = true;
    return key;
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    throw std::runtime_error("derper: cannot read " + path.string());
  }
  std::stringstream content;
  content << in.rdbuf();
  std::string value;
  try {
    value = std::string(boost::json::parse(content.str()).as_object().at("PrivateKey").as_string());
  } catch (const std::exception&) {
    throw std::runtime_error("derper: config: " + path.string() + " holds no {\"PrivateKey\":\"privkey:…\"} object");
  }
  if (value.size() != key_prefix.size() + 64 || value.compare(0, key_prefix.size(), key_prefix) != 0) {
    throw std::runtime_error("derper: config: PrivateKey is not privkey:<64 hex digits>");
  }
  server_key key;
  for (std::size_t i = 0; i < key.private_.size(); ++i) {
    int hi = hex_value(value[key_prefix.size() + 2 * i]);
    int lo = hex_value(value[key_prefix.size() + 2 * i + 1]);
    if (hi < 0 || lo < 0) {
      throw std::runtime_error("derper: config: PrivateKey is not privkey:<64 hex digits>");
    }
    key.private_[i] = static_cast<std::uint8_t>(hi << 4 | lo);
  }
  return key;
}

std::string server_key::public_hex() const {
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> pkey(
      EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, nullptr, private_.data(), private_.size()), &EVP_PKEY_free);
  std::array<std::uint8_t, 32> pub{};
  std::size_t size = pub.size();
  if (!pkey || EVP_PKEY_get_raw_public_key(pkey.get(), pub.data(), &size) != 1) {
    throw std::runtime_error("derper: cannot derive the public key");
  }
  return to_hex(pub.data(), size);
}

}  // namespace derpmgr::standin
