#include "tests/support/mail_sink.hpp"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>
#include <vector>

#include "shared/tls/x509.hpp"

namespace derpmgr::test {

namespace {

std::string base64_decode(const std::string& in) {
  static const std::string alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  int bits = 0;
  unsigned value = 0;
  for (char c : in) {
    auto pos = alphabet.find(c);
    if (pos == std::string::npos) {
      continue;
    }
    value = (value << 6) | static_cast<unsigned>(pos);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((value >> bits) & 0xff));
    }
  }
  return out;
}

std::optional<sunk_mail> parse(const std::string& raw) {
  auto split = raw.find("\r\n\r\n");
  if (split == std::string::npos) {
    return std::nullopt;
  }
  sunk_mail m;
  m.headers = raw.substr(0, split);
  std::string body = raw.substr(split + 4);
  std::string lower = m.headers;
  std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
  m.body = lower.find("content-transfer-encoding: base64") != std::string::npos ? base64_decode(body) : body;
  auto subject = lower.find("\nsubject:");
  if (subject != std::string::npos) {
    auto end = m.headers.find("\r\n", subject + 1);
    m.subject_raw = m.headers.substr(subject + 9, end - subject - 9);
  }
  return m;
}

}  // namespace

std::optional<sunk_mail> wait_for_mail(const std::string& mail_dir, const std::string& recipient,
                                       const std::string& needle, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  std::string marker = "X-Sink-Rcpt-To: " + recipient;
  for (;;) {
    std::vector<std::filesystem::path> files;
    for (const auto& entry : std::filesystem::directory_iterator(mail_dir)) {
      if (entry.path().extension() == ".eml") {
        files.push_back(entry.path());
      }
    }
    std::sort(files.rbegin(), files.rend());
    for (const auto& f : files) {
      auto raw = read_file(f);
      if (raw.find(marker + "\r\n") == std::string::npos && raw.find(marker + "\n") == std::string::npos) {
        continue;
      }
      auto mail = parse(raw);
      if (mail && (needle.empty() || mail->body.find(needle) != std::string::npos)) {
        return mail;
      }
    }
    if (std::chrono::steady_clock::now() > deadline) {
      return std::nullopt;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

std::string find_code(const std::string& text, std::size_t digits) {
  std::size_t i = 0;
  while (i < text.size()) {
    if (std::isdigit(static_cast<unsigned char>(text[i])) != 0) {
      std::size_t j = i;
      while (j < text.size() && std::isdigit(static_cast<unsigned char>(text[j])) != 0) {
        ++j;
      }
      if (j - i == digits) {
        return text.substr(i, digits);
      }
      i = j;
    } else {
      ++i;
    }
  }
  return "";
}

std::string base32_decode(const std::string& text) {
  static const std::string alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  std::string out;
  int bits = 0;
  unsigned value = 0;
  for (char c : text) {
    auto pos = alphabet.find(static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
    if (pos == std::string::npos) {
      continue;
    }
    value = (value << 5) | static_cast<unsigned>(pos);
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((value >> bits) & 0xff));
    }
  }
  return out;
}

int count_mail(const std::string& mail_dir, const std::string& recipient, const std::string& needle) {
  int n = 0;
  for (const auto& entry : std::filesystem::directory_iterator(mail_dir)) {
    std::ifstream in(entry.path());
    std::stringstream ss;
    ss << in.rdbuf();
    auto text = ss.str();
    if (text.find("X-Sink-Rcpt-To: " + recipient) != std::string::npos && text.find(needle) != std::string::npos) {
      ++n;
    }
  }
  return n;
}

}  // namespace derpmgr::test
