#include "controller/notify/message_format.hpp"

#include <doctest/doctest.h>
#include <openssl/evp.h>

#include <algorithm>
#include <sstream>
#include <vector>

using namespace derpmgr;
using namespace derpmgr::controller::notify;

namespace {

// 2030-01-01 08:05:09.25 UTC, a Tuesday.
const time_point sample_time =
    time_point{std::chrono::sys_days{std::chrono::year{2030} / 1 / 1}.time_since_epoch() + std::chrono::hours{8} +
               std::chrono::minutes{5} + std::chrono::seconds{9} + std::chrono::milliseconds{250}};

std::string base64_decode(std::string_view text) {
  std::string clean;
  for (char c : text) {
    if (c != '\r' && c != '\n') {
      clean += c;
    }
  }
  std::string out(clean.size() / 4 * 3 + 3, '\0');
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(clean.data()), static_cast<int>(clean.size()));
  REQUIRE(n >= 0);
  auto padding =
      static_cast<int>(std::count(clean.end() - std::min<std::ptrdiff_t>(2, std::ssize(clean)), clean.end(), '='));
  out.resize(static_cast<std::size_t>(n - padding));
  return out;
}

std::vector<std::string> split_crlf(const std::string& text) {
  std::vector<std::string> lines;
  std::size_t pos = 0;
  while (pos < text.size()) {
    auto end = text.find("\r\n", pos);
    REQUIRE(end != std::string::npos);
    lines.push_back(text.substr(pos, end - pos));
    pos = end + 2;
  }
  return lines;
}

// The decoded text of a header line made of encoded-words, checking each word's limits on the way.
std::string decode_words(const std::string& header_value) {
  std::istringstream in(header_value);
  std::string word;
  std::string out;
  while (in >> word) {
    CHECK(word.size() <= 75);
    REQUIRE(word.rfind("=?UTF-8?B?", 0) == 0);
    REQUIRE(word.substr(word.size() - 2) == "?=");
    auto chunk = base64_decode(word.substr(10, word.size() - 12));
    // Each word holds whole UTF-8 characters: it starts on a lead byte and ends with a complete sequence.
    CHECK((static_cast<unsigned char>(chunk.front()) & 0xc0) != 0x80);
    std::size_t i = 0;
    while (i < chunk.size()) {
      auto lead = static_cast<unsigned char>(chunk[i]);
      std::size_t len = lead < 0x80 ? 1 : lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : 2;
      CHECK(i + len <= chunk.size());
      i += len;
    }
    out += chunk;
  }
  return out;
}

bool only_crlf_line_ends(const std::string& text) {
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\n' && (i == 0 || text[i - 1] != '\r')) {
      return false;
    }
    if (text[i] == '\r' && (i + 1 == text.size() || text[i + 1] != '\n')) {
      return false;
    }
  }
  return true;
}

}  // namespace

TEST_CASE("dates are RFC 5322 in UTC") {
  CHECK(format_rfc5322_date(sample_time) == "Tue, 01 Jan 2030 08:05:09 +0000");
  CHECK(format_rfc5322_date(time_point{}) == "Thu, 01 Jan 1970 00:00:00 +0000");
}

TEST_CASE("ASCII subjects stay readable and long ones fold at spaces") {
  CHECK(format_text_header("Subject", "Your derpmgr verification code") ==
        "Subject: Your derpmgr verification code\r\n");
  std::string long_subject;
  for (int i = 0; i < 30; ++i) {
    long_subject += "word" + std::to_string(i) + " ";
  }
  auto folded = format_text_header("Subject", long_subject);
  auto lines = split_crlf(folded);
  CHECK(lines.size() > 1);
  for (std::size_t i = 0; i < lines.size(); ++i) {
    CHECK(lines[i].size() <= 78);
    if (i > 0) {
      CHECK(lines[i].front() == ' ');
    }
  }
}

TEST_CASE("non-ASCII subjects become encoded-words split between whole characters") {
  std::string subject = "重置你的 derpmgr 密码 —— 请在三十分钟内完成操作，否则链接将会失效，需要重新申请一次";
  auto header = format_text_header("Subject", subject);
  CHECK(header.rfind("Subject: =?UTF-8?B?", 0) == 0);
  auto lines = split_crlf(header);
  CHECK(lines.size() > 1);
  std::string value;
  for (const auto& line : lines) {
    CHECK(line.size() <= 76);
    value += line + " ";
  }
  CHECK(decode_words(value.substr(std::string("Subject:").size())) == subject);
}

TEST_CASE("line breaks in a header value cannot inject headers") {
  auto header = format_text_header("Subject", "hello\r\nBcc: victim@example.com");
  CHECK(header == "Subject: hello Bcc: victim@example.com\r\n");
  auto encoded = format_text_header("Subject", "你好\nBcc: victim@example.com");
  CHECK(split_crlf(encoded).size() >= 1);
  CHECK(encoded.find("\nBcc") == std::string::npos);
  CHECK(format_text_header("Subject", "=?UTF-8?B?eA==?=").find("=?UTF-8?B?PT9") != std::string::npos);
}

TEST_CASE("an ASCII message has every header, CRLF line ends and a 7bit body") {
  email_message m{"alice@example.com", "Your derpmgr verification code", "Hello,\n\n    482913\n\n-- derpmgr", "m1"};
  auto text = format_message(m, "derpmgr", "noreply@derp.example", sample_time);
  CHECK(only_crlf_line_ends(text));
  auto split = text.find("\r\n\r\n");
  REQUIRE(split != std::string::npos);
  auto headers = text.substr(0, split + 2);
  auto body = text.substr(split + 4);
  CHECK(headers ==
        "Date: Tue, 01 Jan 2030 08:05:09 +0000\r\n"
        "Message-ID: <m1@derp.example>\r\n"
        "From: derpmgr <noreply@derp.example>\r\n"
        "To: <alice@example.com>\r\n"
        "Subject: Your derpmgr verification code\r\n"
        "MIME-Version: 1.0\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n"
        "Content-Transfer-Encoding: 7bit\r\n");
  CHECK(body == "Hello,\r\n\r\n    482913\r\n\r\n-- derpmgr\r\n");
}

TEST_CASE("a UTF-8 body is base64 of its CRLF form in 76-column lines") {
  std::string body_text = "你好：\n\n你的 derpmgr 邮箱验证码是：\n\n    482913\n\n" + std::string(200, 'x') + "\n";
  email_message m{"bob@example.com", "derpmgr 邮箱验证码", body_text, "outbox.7.123"};
  auto text = format_message(m, "", "noreply@derp.example", sample_time);
  CHECK(only_crlf_line_ends(text));
  CHECK(text.find("Content-Transfer-Encoding: base64\r\n") != std::string::npos);
  CHECK(text.find("From: <noreply@derp.example>\r\n") != std::string::npos);
  CHECK(text.find("Message-ID: <outbox.7.123@derp.example>\r\n") != std::string::npos);
  auto split = text.find("\r\n\r\n");
  auto body = text.substr(split + 4);
  for (const auto& line : split_crlf(body)) {
    CHECK(line.size() <= 76);
  }
  CHECK(base64_decode(body) == normalize_crlf(body_text));
  auto subject_start = text.find("Subject:");
  auto subject_end = text.find("\r\nMIME-Version");
  CHECK(decode_words(text.substr(subject_start + 8, subject_end - subject_start - 8)) == "derpmgr 邮箱验证码");
}

TEST_CASE("an ASCII body with an overlong line is base64 too") {
  email_message m{"bob@example.com", "s", std::string(1200, 'a'), "id"};
  auto text = format_message(m, "", "noreply@derp.example", sample_time);
  CHECK(text.find("Content-Transfer-Encoding: base64\r\n") != std::string::npos);
}

TEST_CASE("display names are quoted or encoded as needed") {
  email_message m{"bob@example.com", "s", "b", "id"};
  auto quoted = format_message(m, "Derp, Inc.", "noreply@derp.example", sample_time);
  CHECK(quoted.find("From: \"Derp, Inc.\" <noreply@derp.example>\r\n") != std::string::npos);
  auto encoded = format_message(m, "德普", "noreply@derp.example", sample_time);
  auto from = encoded.substr(encoded.find("From: "), encoded.find("\r\nTo:") - encoded.find("From: "));
  CHECK(from.find("=?UTF-8?B?") != std::string::npos);
  CHECK(from.find("<noreply@derp.example>") != std::string::npos);
}

TEST_CASE("line ends are normalised to CRLF") {
  CHECK(normalize_crlf("a\nb\r\nc\rd") == "a\r\nb\r\nc\r\nd\r\n");
  CHECK(normalize_crlf("a\r\n") == "a\r\n");
  CHECK(normalize_crlf("") == "\r\n");
}

TEST_CASE("only plain addresses and ids are accepted") {
  CHECK(is_plain_address("alice@example.com"));
  CHECK(is_plain_address("a.b+tag@sub.example.co"));
  CHECK_FALSE(is_plain_address(""));
  CHECK_FALSE(is_plain_address("alice"));
  CHECK_FALSE(is_plain_address("@example.com"));
  CHECK_FALSE(is_plain_address("alice@"));
  CHECK_FALSE(is_plain_address("a@b@c"));
  CHECK_FALSE(is_plain_address("alice @example.com"));
  CHECK_FALSE(is_plain_address("alice@example.com>\r\nRCPT TO:<x@y"));
  CHECK_FALSE(is_plain_address("\"a\"@example.com"));
  CHECK_FALSE(is_plain_address(std::string(250, 'a') + "@b.cd"));
  CHECK(address_domain("Alice@Example.COM") == "example.com");
  CHECK(address_domain("nobody") == "");

  email_message bad_to{"alice@example.com\r\nBcc: x@y", "s", "b", "id"};
  CHECK_THROWS_AS(format_message(bad_to, "", "noreply@derp.example", sample_time), mail_error);
  email_message bad_id{"alice@example.com", "s", "b", "a>b"};
  CHECK_THROWS_AS(format_message(bad_id, "", "noreply@derp.example", sample_time), mail_error);
  email_message no_id{"alice@example.com", "s", "b", ""};
  CHECK_THROWS_AS(format_message(no_id, "", "noreply@derp.example", sample_time), mail_error);
}
