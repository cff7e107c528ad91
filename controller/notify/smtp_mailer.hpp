#pragma once

#include <memory>

#include "controller/notify/mailer.hpp"
#include "controller/notify/smtp_settings.hpp"

namespace derpmgr {
class clock;
}

namespace derpmgr::controller::notify {

// Delivers mail to one SMTP server with libcurl: one connection per message, plain, STARTTLS (required) or
// implicit TLS as the settings say, AUTH when they carry credentials, the server's certificate always verified.
class smtp_mailer final : public mailer {
 public:
  smtp_mailer(smtp_settings settings, std::shared_ptr<const clock> clk);

  void send(const email_message& message) override;

  const smtp_settings& settings() const { return settings_; }

 private:
  smtp_settings settings_;
  std::shared_ptr<const clock> clock_;
};

}  // namespace derpmgr::controller::notify
