#pragma once

#include <doctest/doctest.h>
#include <openssl/evp.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace derpmgr::test {

// One message the SMTP sink stored, parsed just enough for assertions (independently of the code under test).
struct sink_mail {
  std::string raw;
  std::multimap<std::string, std::string> headers;  // lower-cased names, unfolded values
  std::string body;                                 // as transferred
  std::string subject;                              // encoded-words decoded
  std::string text;                                 // body with its transfer encoding undone

  std::string header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? std::string() : it->second;
  }
};

inline std::string sink_base64_decode(std::string_view text) {
  std::string clean;
  for (char c : text) {
    if (c != '\r' && c != '\n' && c != ' ') {
      clean += c;
    }
  }
  if (clean.empty()) {
    return "";
  }
  std::string out(clean.size() / 4 * 3 + 3, '\0');
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(clean.data()), static_cast<int>(clean.size()));
  if (n < 0) {
    return "<invalid base64>";
  }
  auto padding = std::count(clean.end() - std::min<std::ptrdiff_t>(2, std::ssize(clean)), clean.end(), '=');
  out.resize(static_cast<std::size_t>(n - padding));
  return out;
}

inline std::string sink_decode_subject(const std::string& value) {
  if (value.find("=?") == std::string::npos) {
    return value;
  }
  std::istringstream in(value);
  std::string word;
  std::string out;
  while (in >> word) {
    auto lower = word;
    std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
    if (lower.rfind("=?utf-8?b?", 0) == 0 && lower.size() > 12) {
      out += sink_base64_decode(word.substr(10, word.size() - 12));
    } else {
      out += "<unexpected word " + word + ">";
    }
  }
  return out;
}

inline sink_mail parse_sink_mail(std::string raw) {
  sink_mail m;
  m.raw = std::move(raw);
  auto split = m.raw.find("\r\n\r\n");
  std::string head = m.raw.substr(0, split);
  m.body = split == std::string::npos ? std::string() : m.raw.substr(split + 4);
  std::vector<std::string> lines;
  std::size_t pos = 0;
  while (pos <= head.size()) {
    auto end = head.find("\r\n", pos);
    if (end == std::string::npos) {
      end = head.size();
    }
    std::string line = head.substr(pos, end - pos);
    if (!line.empty() && (line.front() == ' ' || line.front() == '\t') && !lines.empty()) {
      lines.back() += line;
    } else {
      lines.push_back(line);
    }
    pos = end + 2;
  }
  for (const auto& line : lines) {
    auto colon = line.find(':');
    if (colon == std::string::npos) {
      continue;
    }
    std::string name = line.substr(0, colon);
    std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
    std::string value = line.substr(colon + 1);
    value.erase(0, value.find_first_not_of(' '));
    m.headers.emplace(name, value);
  }
  m.subject = sink_decode_subject(m.header("subject"));
  m.text = m.header("content-transfer-encoding") == "base64" ? sink_base64_decode(m.body) : m.body;
  return m;
}

// Every message the sink in `mail_dir` stored for envelope recipient `recipient`.
inline std::vector<sink_mail> sink_mails_to(const std::string& mail_dir, const std::string& recipient) {
  std::vector<sink_mail> out;
  std::string marker = "X-Sink-Rcpt-To: " + recipient + "\r\n";
  for (const auto& entry : std::filesystem::directory_iterator(mail_dir)) {
    if (entry.path().extension() != ".eml") {
      continue;
    }
    std::ifstream in(entry.path(), std::ios::binary);
    std::string raw((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (raw.find(marker) != std::string::npos) {
      out.push_back(parse_sink_mail(std::move(raw)));
    }
  }
  return out;
}

// Polls `done` every 50 ms until it holds or `limit` passes; returns its last answer.
inline bool eventually(const std::function<bool()>& done, std::chrono::milliseconds limit = std::chrono::seconds(20)) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) {
      return false;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return true;
}

}  // namespace derpmgr::test
