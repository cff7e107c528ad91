#pragma once

#include <chrono>
#include <optional>
#include <string>

namespace derpmgr::test {

// A message the SMTP sink stored.
struct sunk_mail {
  std::string headers;
  std::string body;  // decoded (base64 or 7bit)
  std::string subject_raw;
};

// Waits up to `timeout` for a message to `recipient` in `mail_dir` whose body contains `needle` (any when empty);
// returns the newest match.
std::optional<sunk_mail> wait_for_mail(const std::string& mail_dir, const std::string& recipient,
                                       const std::string& needle = "",
                                       std::chrono::milliseconds timeout = std::chrono::seconds(15));

// How many stored messages went to `recipient` with `needle` anywhere in them (to prove a mail went out once).
int count_mail(const std::string& mail_dir, const std::string& recipient, const std::string& needle);
// The first run of `digits` consecutive digits on a line of its own in `text` (verification codes), or "".
std::string find_code(const std::string& text, std::size_t digits = 6);

// Decodes RFC 4648 base32 (authenticator secrets).
std::string base32_decode(const std::string& text);

}  // namespace derpmgr::test
