#include "controller/notify/smtp_mailer.hpp"

#include <doctest/doctest.h>

#include "tests/integration/controller/notify/outbox_fixture.hpp"
#include "tests/integration/controller/notify/sink_mail.hpp"

using namespace derpmgr;
using namespace derpmgr::test;
using namespace derpmgr::controller::notify;

namespace {

smtp_mailer mailer_for(const std::string& url) {
  auto settings = smtp_settings::parse(url, "德普 <noreply@derpmgr.test>");
  settings.connect_timeout = std::chrono::milliseconds(2000);
  settings.timeout = std::chrono::milliseconds(10000);
  return smtp_mailer(settings, std::make_shared<manual_clock>(outbox_test_epoch()));
}

std::string sink_url(const services& env, const std::string& credentials = "") {
  return "smtp://" + credentials + env.smtp_host + ":" + std::to_string(env.smtp_port);
}

}  // namespace

TEST_CASE("the SMTP mailer logs in and hands a complete message to the server") {
  auto env = services::from_env();
  auto mailer = mailer_for(sink_url(env, "mailer:s3cret%21@"));
  auto recipient = unique_recipient("smtp");
  mailer.send({recipient, "Hello 你好", "line one\nline two\n", ""});
  auto mails = sink_mails_to(env.mail_dir, recipient);
  REQUIRE(mails.size() == 1);
  const auto& m = mails[0];
  CHECK(m.header("x-sink-mail-from") == "noreply@derpmgr.test");
  CHECK(m.header("from").find("<noreply@derpmgr.test>") != std::string::npos);
  CHECK(m.header("from").find("=?UTF-8?B?") == 0);
  CHECK(m.subject == "Hello 你好");
  CHECK(m.header("date") == "Tue, 01 Jan 2030 00:00:00 +0000");
  CHECK(m.header("message-id").size() > 20);
  CHECK(m.text == "line one\r\nline two\r\n");
  CHECK(m.raw.find("s3cret") == std::string::npos);
}

TEST_CASE("the SMTP mailer refuses to go on without STARTTLS when it is required") {
  auto env = services::from_env();
  auto mailer = mailer_for("smtp+starttls://mailer:s3cret@" + env.smtp_host + ":" + std::to_string(env.smtp_port));
  auto recipient = unique_recipient("starttls");
  try {
    mailer.send({recipient, "s", "b", ""});
    FAIL("sent without TLS");
  } catch (const mail_error& e) {
    std::string reason = e.what();
    CHECK(reason.find("smtp+starttls://mailer:***@") != std::string::npos);
    CHECK(reason.find("s3cret") == std::string::npos);
  }
  CHECK(sink_mails_to(env.mail_dir, recipient).empty());
}

TEST_CASE("an unreachable SMTP server is a mail_error naming the server") {
  auto env = services::from_env();
  auto port = closed_port();
  auto mailer = mailer_for("smtp://127.0.0.1:" + std::to_string(port));
  try {
    mailer.send({unique_recipient("closed"), "s", "b", ""});
    FAIL("sent to a closed port");
  } catch (const mail_error& e) {
    CHECK(std::string(e.what()).find("smtp://127.0.0.1:" + std::to_string(port)) != std::string::npos);
  }
}
