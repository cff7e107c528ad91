#pragma once

#include <chrono>
#include <string>
#include <string_view>

namespace derpmgr::controller::notify {

// How the SMTP connection is secured.
enum class smtp_security {
  none,      // smtp://        plain, for a local relay or the test sink
  starttls,  // smtp+starttls:// STARTTLS required, refused when the server does not offer it
  implicit,  // smtps://       TLS from the first byte
};

// Where and how to send mail, from the [smtp] url (`smtp://`, `smtp+starttls://`, `smtps://`, optional
// `user:pass@`, optional `/ehlo-name` path) and the [smtp] from (`noreply@example.com` or
// `derpmgr <noreply@example.com>`).
struct smtp_settings {
  smtp_security security = smtp_security::none;
  std::string host;
  int port = 25;
  std::string user;
  std::string password;
  std::string ehlo_name;     // sent in EHLO; empty lets libcurl choose
  std::string from_name;     // display name of the From header; may be empty
  std::string from_address;  // bare sender address, for From, MAIL FROM and Message-IDs
  std::string ca_file;       // PEM bundle to verify the server with; empty = the system store
  std::chrono::milliseconds connect_timeout{10000};
  std::chrono::milliseconds timeout{60000};

  // Throws derpmgr::config_error saying what is wrong (never echoing the password).
  static smtp_settings parse(std::string_view url, std::string_view from);
  // The server as a URL without credentials, for logs and error messages.
  std::string redacted() const;
};

}  // namespace derpmgr::controller::notify
