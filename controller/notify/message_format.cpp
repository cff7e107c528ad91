#include "controller/notify/message_format.hpp"

#include <openssl/evp.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdio>
#include <vector>

namespace derpmgr::controller::notify {

namespace {

// Longest header line we produce when folding is possible (RFC 5322 §2.1.1 "SHOULD").
constexpr std::size_t fold_width = 78;
// Bytes of text per encoded-word: 39 bytes are 52 base64 characters, 64 with =?UTF-8?B? and ?=, which leaves room
// for "Subject: " within 76 columns (RFC 2047 §2).
constexpr std::size_t word_bytes = 39;
// Longest line the 7bit transfer encoding allows, without its CRLF (RFC 5322 §2.1.1 "MUST").
constexpr std::size_t max_7bit_line = 998;

bool printable_ascii(std::string_view text) {
  return std::all_of(text.begin(), text.end(), [](unsigned char c) { return c >= 0x20 && c < 0x7f; });
}

std::string base64(std::string_view bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(bytes.data()), static_cast<int>(bytes.size()));
  out.resize(static_cast<std::size_t>(n));
  return out;
}

std::string single_line(std::string_view text) {
  std::string out(text);
  std::replace_if(
      out.begin(), out.end(), [](char c) { return c == '\r' || c == '\n'; }, ' ');
  return out;
}

// Encoded-words for `text`, each covering whole UTF-8 characters.
std::vector<std::string> encoded_words(std::string_view text) {
  std::vector<std::string> words;
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t end = std::min(text.size(), pos + word_bytes);
    while (end < text.size() && end > pos + 1 && (static_cast<unsigned char>(text[end]) & 0xc0) == 0x80) {
      --end;
    }
    words.push_back("=?UTF-8?B?" + base64(text.substr(pos, end - pos)) + "?=");
    pos = end;
  }
  return words;
}

std::vector<std::string> split_spaces(std::string_view text) {
  std::vector<std::string> words;
  std::size_t pos = 0;
  while (pos < text.size()) {
    auto space = text.find(' ', pos);
    if (space == std::string_view::npos) {
      space = text.size();
    }
    if (space > pos) {
      words.emplace_back(text.substr(pos, space - pos));
    }
    pos = space + 1;
  }
  return words;
}

// Readable words when the text is plain ASCII; encoded-words otherwise, or when it could be mistaken for them.
std::vector<std::string> header_words(std::string_view text) {
  auto line = single_line(text);
  if (printable_ascii(line) && line.find("=?") == std::string::npos) {
    return split_spaces(line);
  }
  return encoded_words(line);
}

// `name: w1 w2 ...` with CRLF SP inserted before a word that would pass the fold width.
std::string fold_header(std::string_view name, const std::vector<std::string>& words) {
  std::string out(name);
  out += ':';
  std::size_t line_length = out.size();
  bool first = true;
  for (const auto& word : words) {
    if (!first && line_length + 1 + word.size() > fold_width) {
      out += "\r\n";
      line_length = 0;
    }
    out += ' ';
    out += word;
    line_length += 1 + word.size();
    first = false;
  }
  out += "\r\n";
  return out;
}

bool needs_quoting(std::string_view phrase) {
  return std::any_of(phrase.begin(), phrase.end(), [](unsigned char c) {
    return std::isalnum(c) == 0 &&
           std::string_view(" !#$%&'*+-/=?^_`{|}~").find(static_cast<char>(c)) == std::string_view::npos;
  });
}

// The From header: an optional display name (quoted or encoded as needed) and the address in angle brackets.
std::string from_header(std::string_view name, std::string_view address) {
  std::vector<std::string> words;
  auto display = single_line(name);
  if (!display.empty()) {
    if (!printable_ascii(display) || display.find("=?") != std::string::npos) {
      words = encoded_words(display);
    } else if (needs_quoting(display)) {
      std::string quoted = "\"";
      for (char c : display) {
        if (c == '"' || c == '\\') {
          quoted += '\\';
        }
        quoted += c;
      }
      words.push_back(quoted + "\"");
    } else {
      words = split_spaces(display);
    }
  }
  words.push_back("<" + std::string(address) + ">");
  return fold_header("From", words);
}

bool is_7bit_safe(std::string_view crlf_text) {
  std::size_t line_length = 0;
  for (std::size_t i = 0; i < crlf_text.size(); ++i) {
    auto c = static_cast<unsigned char>(crlf_text[i]);
    if (c == '\r' && i + 1 < crlf_text.size() && crlf_text[i + 1] == '\n') {
      line_length = 0;
      ++i;
      continue;
    }
    if (c >= 0x80 || c == 0 || c == '\r' || c == '\n' || ++line_length > max_7bit_line) {
      return false;
    }
  }
  return true;
}

}  // namespace

bool is_plain_address(std::string_view address) {
  if (address.empty() || address.size() > 254) {
    return false;
  }
  auto at = address.find('@');
  if (at == 0 || at == std::string_view::npos || at + 1 == address.size() ||
      address.find('@', at + 1) != std::string_view::npos) {
    return false;
  }
  return std::all_of(address.begin(), address.end(), [](unsigned char c) {
    return c > 0x20 && c < 0x7f &&
           std::string_view("<>()[]\\,;:\"").find(static_cast<char>(c)) == std::string_view::npos;
  });
}

std::string address_domain(std::string_view address) {
  auto at = address.rfind('@');
  if (at == std::string_view::npos) {
    return "";
  }
  std::string domain(address.substr(at + 1));
  std::transform(domain.begin(), domain.end(), domain.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return domain;
}

std::string format_text_header(std::string_view name, std::string_view text) {
  return fold_header(name, header_words(text));
}

std::string format_rfc5322_date(time_point t) {
  static constexpr std::array<const char*, 7> weekdays = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static constexpr std::array<const char*, 12> months = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                         "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  auto days = std::chrono::floor<std::chrono::days>(t);
  std::chrono::year_month_day ymd{days};
  std::chrono::weekday wd{days};
  std::chrono::hh_mm_ss hms{std::chrono::floor<std::chrono::seconds>(t - days)};
  char buf[64];
  std::snprintf(buf, sizeof buf, "%s, %02u %s %04d %02d:%02d:%02d +0000", weekdays[wd.c_encoding()],
                static_cast<unsigned>(ymd.day()), months[static_cast<unsigned>(ymd.month()) - 1],
                static_cast<int>(ymd.year()), static_cast<int>(hms.hours().count()),
                static_cast<int>(hms.minutes().count()), static_cast<int>(hms.seconds().count()));
  return buf;
}

std::string normalize_crlf(std::string_view text) {
  std::string out;
  out.reserve(text.size() + text.size() / 16 + 2);
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '\r') {
      if (i + 1 < text.size() && text[i + 1] == '\n') {
        ++i;
      }
      out += "\r\n";
    } else if (c == '\n') {
      out += "\r\n";
    } else {
      out += c;
    }
  }
  if (out.size() < 2 || out.compare(out.size() - 2, 2, "\r\n") != 0) {
    out += "\r\n";
  }
  return out;
}

std::string base64_lines(std::string_view bytes) {
  auto encoded = base64(bytes);
  std::string out;
  out.reserve(encoded.size() + encoded.size() / 38 + 2);
  for (std::size_t pos = 0; pos < encoded.size(); pos += 76) {
    out.append(encoded, pos, 76);
    out += "\r\n";
  }
  return out;
}

std::string format_message(const email_message& message, std::string_view from_name, std::string_view from_address,
                           time_point date) {
  if (!is_plain_address(message.to)) {
    throw mail_error("the recipient is not a plain email address");
  }
  if (!is_plain_address(from_address)) {
    throw mail_error("the sender is not a plain email address");
  }
  bool id_ok = !message.message_id.empty() && message.message_id.size() <= 128 &&
               std::all_of(message.message_id.begin(), message.message_id.end(),
                           [](unsigned char c) { return std::isalnum(c) != 0 || c == '.' || c == '_' || c == '-'; });
  if (!id_ok) {
    throw mail_error("the message id is empty or has characters other than letters, digits, '.', '_', '-'");
  }
  auto body = normalize_crlf(message.body_text);
  bool seven_bit = is_7bit_safe(body);
  std::string out;
  out.reserve(body.size() * 4 / 3 + 512);
  out += "Date: " + format_rfc5322_date(date) + "\r\n";
  out += "Message-ID: <" + message.message_id + "@" + address_domain(from_address) + ">\r\n";
  out += from_header(from_name, from_address);
  out += "To: <" + message.to + ">\r\n";
  out += format_text_header("Subject", message.subject);
  out += "MIME-Version: 1.0\r\n";
  out += "Content-Type: text/plain; charset=utf-8\r\n";
  out += seven_bit ? "Content-Transfer-Encoding: 7bit\r\n" : "Content-Transfer-Encoding: base64\r\n";
  out += "\r\n";
  out += seven_bit ? body : base64_lines(body);
  return out;
}

}  // namespace derpmgr::controller::notify
