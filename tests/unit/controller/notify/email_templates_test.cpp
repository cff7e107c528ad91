#include "controller/notify/email_templates.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <set>

using namespace derpmgr::controller::notify;

namespace {

std::set<std::string> placeholder_set(std::string_view text) {
  auto names = template_placeholders(text);
  return {names.begin(), names.end()};
}

bool contains(const std::string& haystack, std::string_view needle) {
  return haystack.find(needle) != std::string::npos;
}

}  // namespace

TEST_CASE("every template has an en version and the same placeholders in every locale") {
  const auto& table = email_template_table();
  std::set<std::string_view> names;
  for (const auto& t : table) {
    names.insert(t.name);
    CHECK_MESSAGE(std::find(email_locales().begin(), email_locales().end(), t.locale) != email_locales().end(),
                  t.name << " has an unknown locale " << t.locale);
  }
  for (auto name : {"verify_email", "password_reset", "password_changed", "account_deleted"}) {
    CHECK_MESSAGE(names.count(name) == 1, name << " is missing");
  }
  for (auto name : names) {
    auto en = std::find_if(table.begin(), table.end(),
                           [&](const email_template& t) { return t.name == name && t.locale == "en"; });
    REQUIRE_MESSAGE(en != table.end(), name << " has no en version");
    for (const auto& t : table) {
      if (t.name != name) {
        continue;
      }
      CHECK_MESSAGE(placeholder_set(t.subject) == placeholder_set(en->subject), name << "/" << t.locale);
      CHECK_MESSAGE(placeholder_set(t.body) == placeholder_set(en->body), name << "/" << t.locale);
      CHECK(std::count_if(table.begin(), table.end(), [&](const email_template& other) {
              return other.name == t.name && other.locale == t.locale;
            }) == 1);
    }
  }
}

TEST_CASE("the verification email renders in en and zh-CN") {
  template_vars vars{{"code", "482913"}, {"minutes", "15"}};
  auto en = render_email("verify_email", "en", vars);
  CHECK(en.locale == "en");
  CHECK(en.template_name == "verify_email");
  CHECK(en.subject == "Your derpmgr verification code");
  CHECK(contains(en.body_text, "    482913\n"));
  CHECK(contains(en.body_text, "valid for 15 minutes"));
  CHECK_FALSE(contains(en.body_text, "{{"));

  auto zh = render_email("verify_email", "zh-CN", vars);
  CHECK(zh.locale == "zh-CN");
  CHECK(zh.subject == "derpmgr 邮箱验证码");
  CHECK(contains(zh.body_text, "482913"));
  CHECK(contains(zh.body_text, "验证码 15 分钟内有效"));
}

TEST_CASE("locales resolve to the closest one with a fallback to en") {
  CHECK(resolve_email_locale("zh-CN") == "zh-CN");
  CHECK(resolve_email_locale("zh_cn") == "zh-CN");
  CHECK(resolve_email_locale("ZH") == "zh-CN");
  CHECK(resolve_email_locale("zh-Hans") == "zh-CN");
  CHECK(resolve_email_locale("en-GB") == "en");
  CHECK(resolve_email_locale("fr-FR") == "en");
  CHECK(resolve_email_locale("") == "en");
  CHECK(resolve_email_locale("-") == "en");

  auto fr = render_email("password_changed", "fr", {});
  CHECK(fr.locale == "en");
  CHECK(fr.subject == "Your derpmgr password was changed");
}

TEST_CASE("every placeholder needs a value; extra values are ignored") {
  CHECK_THROWS_WITH_AS(render_email("verify_email", "en", {{"code", "123456"}}), "no value for placeholder 'minutes'",
                       template_error);
  CHECK_THROWS_AS(render_email("password_reset", "zh-CN", {{"minutes", "30"}}), template_error);
  CHECK_THROWS_WITH_AS(render_email("no_such_event", "en", {}), "unknown email template 'no_such_event'",
                       template_error);
  auto reset = render_email("password_reset", "en",
                            {{"link", "https://derp.example/reset?t=abc"}, {"minutes", "30"}, {"unused", "x"}});
  CHECK(contains(reset.body_text, "\nhttps://derp.example/reset?t=abc\n"));
}

TEST_CASE("placeholders are substituted once and must be well formed") {
  CHECK(substitute_placeholders("a {{x}} b {{x}}", {{"x", "1"}}) == "a 1 b 1");
  CHECK(substitute_placeholders("{{x}}", {{"x", "{{y}}"}}) == "{{y}}");
  CHECK(substitute_placeholders("no placeholders", {}) == "no placeholders");
  CHECK_THROWS_AS(substitute_placeholders("{{ x }}", {{"x", "1"}}), template_error);
  CHECK_THROWS_AS(substitute_placeholders("{{x", {{"x", "1"}}), template_error);
  CHECK_THROWS_AS(substitute_placeholders("{{}}", {}), template_error);
  CHECK(template_placeholders("{{b}} {{a}} {{b}}") == std::vector<std::string>{"b", "a"});
}
