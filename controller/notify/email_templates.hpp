#pragma once

#include <map>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace derpmgr::controller::notify {

// A template that does not exist, a placeholder without a value, or a malformed placeholder.
class template_error : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

// Values for a template's {{name}} placeholders; every placeholder the template uses must have one.
using template_vars = std::map<std::string, std::string>;

// One message ready to be stored in the outbox.
struct rendered_email {
  std::string template_name;
  std::string locale;  // the locale actually used, after fallback
  std::string subject;
  std::string body_text;
};

// One entry of the template table: the text of one event's email in one locale.
struct email_template {
  std::string_view name;
  std::string_view locale;
  std::string_view subject;
  std::string_view body;
};

// The locales templates are written in; the first is the fallback.
const std::vector<std::string_view>& email_locales();

// Every template in the table (all events, all locales).
const std::vector<email_template>& email_template_table();

// The supported locale closest to `requested` ("zh-CN", "zh_cn", "zh-Hans" -> "zh-CN"; "fr" -> "en").
std::string resolve_email_locale(std::string_view requested);

// The {{name}} placeholders `text` uses, in order of first use; throws template_error on an unclosed or empty one.
std::vector<std::string> template_placeholders(std::string_view text);

// Substitutes every {{name}} in `text`; throws template_error naming a placeholder without a value.
std::string substitute_placeholders(std::string_view text, const template_vars& vars);

// Renders event `name` in the locale closest to `locale` (falling back to en when that locale lacks it); throws
// template_error for an unknown template or a missing value.
rendered_email render_email(std::string_view name, std::string_view locale, const template_vars& vars);

}  // namespace derpmgr::controller::notify
