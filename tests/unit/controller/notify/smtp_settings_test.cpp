#include "controller/notify/smtp_settings.hpp"

#include <doctest/doctest.h>

#include "shared/config/config_loader.hpp"

using namespace derpmgr;
using namespace derpmgr::controller::notify;

TEST_CASE("the three SMTP URL forms and their default ports") {
  auto plain = smtp_settings::parse("smtp://127.0.0.1:2525", "noreply@derp.example");
  CHECK(plain.security == smtp_security::none);
  CHECK(plain.host == "127.0.0.1");
  CHECK(plain.port == 2525);
  CHECK(plain.user.empty());
  CHECK(plain.from_address == "noreply@derp.example");
  CHECK(plain.from_name.empty());
  CHECK(plain.redacted() == "smtp://127.0.0.1:2525");

  auto starttls = smtp_settings::parse("smtp+starttls://mail.example.com", "noreply@derp.example");
  CHECK(starttls.security == smtp_security::starttls);
  CHECK(starttls.port == 587);

  auto implicit = smtp_settings::parse("smtps://mail.example.com/client.derp.example", "noreply@derp.example");
  CHECK(implicit.security == smtp_security::implicit);
  CHECK(implicit.port == 465);
  CHECK(implicit.ehlo_name == "client.derp.example");

  CHECK(smtp_settings::parse("smtp://[::1]:25", "a@b.c").redacted() == "smtp://[::1]:25");
}

TEST_CASE("credentials are decoded and never shown") {
  auto s = smtp_settings::parse("smtps://mailer%40derp.example:p%40ss%3Aword@mail.example.com:465",
                                "derpmgr <noreply@derp.example>");
  CHECK(s.user == "mailer@derp.example");
  CHECK(s.password == "p@ss:word");
  CHECK(s.redacted() == "smtps://mailer@derp.example:***@mail.example.com:465");
  CHECK(s.from_name == "derpmgr");
  CHECK(s.from_address == "noreply@derp.example");

  auto quoted = smtp_settings::parse("smtp://h", "\"Derp, Inc.\" <noreply@derp.example>");
  CHECK(quoted.from_name == "Derp, Inc.");
}

TEST_CASE("bad SMTP settings are refused without echoing the password") {
  auto refused = [](const char* url, const char* from) {
    try {
      smtp_settings::parse(url, from);
    } catch (const config_error& e) {
      CHECK(std::string(e.what()).find("secret") == std::string::npos);
      return true;
    }
    return false;
  };
  CHECK(refused("http://u:secret@mail.example.com", "a@b.c"));
  CHECK(refused("smtp://u:secret@mail.example.com:99999", "a@b.c"));
  CHECK(refused("smtp://u:secret@", "a@b.c"));
  CHECK(refused("smtp://u:secret@mail.example.com/a/b", "a@b.c"));
  CHECK(refused("smtp://u:secret@mail.example.com?x=1", "a@b.c"));
  CHECK(refused("smtp://mail.example.com", ""));
  CHECK(refused("smtp://mail.example.com", "not an address"));
  CHECK(refused("smtp://mail.example.com", "derpmgr <noreply@derp.example"));
  CHECK(refused("not a url", "a@b.c"));
}
