#pragma once

#include <stdexcept>
#include <string>

namespace derpmgr::controller::notify {

// One plain-text email to one recipient.
struct email_message {
  std::string to;          // bare address, e.g. alice@example.com
  std::string subject;     // UTF-8, one line
  std::string body_text;   // UTF-8, lines separated by \n or \r\n
  std::string message_id;  // left of the @ in Message-ID ([A-Za-z0-9._-]); the mailer makes one up when empty
};

// A message could not be delivered; what() is safe to show admins and to log (never a password or the body).
class mail_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Hands messages to a mail server.
class mailer {
 public:
  virtual ~mailer() = default;
  // Delivers `message` to the server, blocking until it accepted or refused it; throws mail_error on any failure.
  virtual void send(const email_message& message) = 0;
};

}  // namespace derpmgr::controller::notify
