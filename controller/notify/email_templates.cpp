#include "controller/notify/email_templates.hpp"

#include <algorithm>
#include <cctype>

namespace derpmgr::controller::notify {

namespace {

constexpr std::string_view fallback_locale = "en";

// The one place to add an event's email: one entry per locale, en required (it is the fallback), and every locale
// of an event using the same placeholders (the unit tests hold the table to both rules).
const std::vector<email_template> table = {
    {"verify_email", "en", "Your derpmgr verification code",
     "Hello,\n"
     "\n"
     "your derpmgr verification code is:\n"
     "\n"
     "    {{code}}\n"
     "\n"
     "It is valid for {{minutes}} minutes. If you did not ask for it, you can ignore this email.\n"
     "\n"
     "-- derpmgr\n"},
    {"verify_email", "zh-CN", "derpmgr 邮箱验证码",
     "你好：\n"
     "\n"
     "你的 derpmgr 邮箱验证码是：\n"
     "\n"
     "    {{code}}\n"
     "\n"
     "验证码 {{minutes}} 分钟内有效。如果这不是你本人的操作，请忽略这封邮件。\n"
     "\n"
     "-- derpmgr\n"},
    {"password_reset", "en", "Reset your derpmgr password",
     "Hello,\n"
     "\n"
     "someone asked to reset the password of your derpmgr account. To choose a new password, open this link\n"
     "within {{minutes}} minutes:\n"
     "\n"
     "{{link}}\n"
     "\n"
     "The link works once. If you did not ask for it, ignore this email: your password stays as it is.\n"
     "\n"
     "-- derpmgr\n"},
    {"password_reset", "zh-CN", "重置你的 derpmgr 密码",
     "你好：\n"
     "\n"
     "我们收到了重置你的 derpmgr 账户密码的请求。请在 {{minutes}} 分钟内打开下面的链接设置新密码：\n"
     "\n"
     "{{link}}\n"
     "\n"
     "链接只能使用一次。如果这不是你本人的操作，请忽略这封邮件，你的密码不会改变。\n"
     "\n"
     "-- derpmgr\n"},
    {"password_changed", "en", "Your derpmgr password was changed",
     "Hello,\n"
     "\n"
     "the password of your derpmgr account has just been changed.\n"
     "\n"
     "If this was not you, reset your password now with \"Forgot password\" and contact us.\n"
     "\n"
     "-- derpmgr\n"},
    {"password_changed", "zh-CN", "你的 derpmgr 密码已修改",
     "你好：\n"
     "\n"
     "你的 derpmgr 账户密码刚刚被修改。\n"
     "\n"
     "如果这不是你本人的操作，请立即通过“忘记密码”重置密码并联系我们。\n"
     "\n"
     "-- derpmgr\n"},
    {"node_payment_due", "en", "derpmgr: node {{node}} is paid until {{paid_until}}",
     "Hello,\n"
     "\n"
     "the DERP node {{node}} (provider {{provider}}) is paid until {{paid_until}}, in {{days}} day(s).\n"
     "Renew it with the provider, then update its paid-until date in the console, or drain it first.\n"
     "\n"
     "-- derpmgr\n"},
    {"node_payment_due", "zh-CN", "derpmgr：节点 {{node}} 的付费截止日期为 {{paid_until}}",
     "你好：\n"
     "\n"
     "DERP 节点 {{node}}（服务商 {{provider}}）的付费截止日期为 {{paid_until}}，还剩 {{days}} 天。\n"
     "请向服务商续费，并在控制台更新付费截止日期；或先将其排空。\n"
     "\n"
     "-- derpmgr\n"},
    {"alert_raised", "en", "derpmgr alert: {{message}}",
     "Hello,\n"
     "\n"
     "a {{severity}} alert ({{kind}}) was raised at {{raised_at}}:\n"
     "\n"
     "    {{message}}\n"
     "\n"
     "It is resolved by itself when the condition clears. Acknowledge it in the console's alert list so the other\n"
     "admins know someone is on it.\n"
     "\n"
     "-- derpmgr\n"},
    {"alert_raised", "zh-CN", "derpmgr 告警：{{message}}",
     "你好：\n"
     "\n"
     "{{raised_at}} 产生了一条 {{severity}} 级告警（{{kind}}）：\n"
     "\n"
     "    {{message}}\n"
     "\n"
     "情况恢复后告警会自动解除。请在控制台的告警列表中确认它，让其他管理员知道已有人在处理。\n"
     "\n"
     "-- derpmgr\n"},
    {"servers_changed", "en", "Your derpmgr servers changed",
     "Hello,\n"
     "\n"
     "one of your DERP servers was moved to another host ({{reason}}). Your relays keep working, but your DERP\n"
     "map changed: download your configuration again and update your tailnet policy file (or Headscale), or\n"
     "your clients will keep using the old server until it is gone.\n"
     "\n"
     "Your servers now: {{servers}}\n"
     "\n"
     "-- derpmgr\n"},
    {"servers_changed", "zh-CN", "你的 derpmgr 服务器已变更",
     "你好：\n"
     "\n"
     "你的一台 DERP 服务器已迁移到另一台主机（{{reason}}）。中继仍可使用，但你的 DERP 地图已变化：请重新下载配置，\n"
     "并更新 tailnet 策略文件（或 Headscale），否则客户端会继续使用旧服务器直到其下线。\n"
     "\n"
     "你现在的服务器：{{servers}}\n"
     "\n"
     "-- derpmgr\n"},
    {"rental_expiring", "en", "Your derpmgr relays expire in {{days}} day(s)",
     "Hello,\n"
     "\n"
     "your derpmgr plan {{plan}} is paid until {{expires_at}} (UTC), {{days}} day(s) from now. Renew it with a\n"
     "serial number or from your balance to keep your DERP servers and their configuration.\n"
     "\n"
     "-- derpmgr\n"},
    {"rental_expiring", "zh-CN", "你的 derpmgr 中继将在 {{days}} 天后到期",
     "你好：\n"
     "\n"
     "你的 derpmgr 套餐 {{plan}} 将于 {{expires_at}}（UTC）到期，还剩 {{days}} 天。请使用序列号或余额续费，\n"
     "以保留你的 DERP 服务器及其配置。\n"
     "\n"
     "-- derpmgr\n"},
    {"rental_expired", "en", "Your derpmgr relays have expired",
     "Hello,\n"
     "\n"
     "your derpmgr plan {{plan}} expired at {{expires_at}} (UTC) and its servers were stopped. They stay\n"
     "reserved for {{reservation_days}} days: renew within that time and the very same configuration comes back.\n"
     "\n"
     "-- derpmgr\n"},
    {"rental_expired", "zh-CN", "你的 derpmgr 中继已到期",
     "你好：\n"
     "\n"
     "你的 derpmgr 套餐 {{plan}} 已于 {{expires_at}}（UTC）到期，服务器已停止。它们会保留 {{reservation_days}} 天：\n"
     "在此期间续费即可恢复完全相同的配置。\n"
     "\n"
     "-- derpmgr\n"},
    {"account_deleted", "en", "Your derpmgr account was deleted",
     "Hello,\n"
     "\n"
     "your derpmgr account has been deleted and its personal data anonymised. Records of orders and usage are\n"
     "kept as the law and our terms require.\n"
     "\n"
     "If you have questions about this, contact us.\n"
     "\n"
     "-- derpmgr\n"},
    {"account_deleted", "zh-CN", "你的 derpmgr 账户已删除",
     "你好：\n"
     "\n"
     "你的 derpmgr 账户已被删除，个人信息已匿名化处理。订单和使用记录依照法律和服务条款保留。\n"
     "\n"
     "如有疑问，请联系我们。\n"
     "\n"
     "-- derpmgr\n"},
};

std::string lower_dashed(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return c == '_' ? '-' : static_cast<char>(std::tolower(c)); });
  return out;
}

bool valid_placeholder_name(std::string_view name) {
  return !name.empty() && std::all_of(name.begin(), name.end(), [](unsigned char c) {
    return std::islower(c) != 0 || std::isdigit(c) != 0 || c == '_';
  });
}

const email_template* find_template(std::string_view name, std::string_view locale) {
  auto it = std::find_if(table.begin(), table.end(),
                         [&](const email_template& t) { return t.name == name && t.locale == locale; });
  return it == table.end() ? nullptr : &*it;
}

// Calls on_text for literal text and on_placeholder for each {{name}}; throws template_error when malformed.
template <class Text, class Placeholder>
void scan(std::string_view text, Text on_text, Placeholder on_placeholder) {
  std::size_t pos = 0;
  while (pos < text.size()) {
    auto open = text.find("{{", pos);
    if (open == std::string_view::npos) {
      on_text(text.substr(pos));
      return;
    }
    on_text(text.substr(pos, open - pos));
    auto close = text.find("}}", open + 2);
    if (close == std::string_view::npos) {
      throw template_error("template has an unclosed placeholder");
    }
    auto name = text.substr(open + 2, close - open - 2);
    if (!valid_placeholder_name(name)) {
      throw template_error("template has a malformed placeholder '{{" + std::string(name) + "}}'");
    }
    on_placeholder(name);
    pos = close + 2;
  }
}

}  // namespace

const std::vector<std::string_view>& email_locales() {
  static const std::vector<std::string_view> locales = {fallback_locale, "zh-CN"};
  return locales;
}

const std::vector<email_template>& email_template_table() {
  return table;
}

std::string resolve_email_locale(std::string_view requested) {
  auto wanted = lower_dashed(requested);
  for (auto locale : email_locales()) {
    if (lower_dashed(locale) == wanted) {
      return std::string(locale);
    }
  }
  auto language = wanted.substr(0, wanted.find('-'));
  for (auto locale : email_locales()) {
    auto candidate = lower_dashed(locale);
    if (candidate.substr(0, candidate.find('-')) == language && !language.empty()) {
      return std::string(locale);
    }
  }
  return std::string(fallback_locale);
}

std::vector<std::string> template_placeholders(std::string_view text) {
  std::vector<std::string> names;
  scan(
      text, [](std::string_view) {},
      [&names](std::string_view name) {
        if (std::find(names.begin(), names.end(), name) == names.end()) {
          names.emplace_back(name);
        }
      });
  return names;
}

std::string substitute_placeholders(std::string_view text, const template_vars& vars) {
  std::string out;
  out.reserve(text.size());
  scan(
      text, [&out](std::string_view literal) { out.append(literal); },
      [&out, &vars](std::string_view name) {
        auto it = vars.find(std::string(name));
        if (it == vars.end()) {
          throw template_error("no value for placeholder '" + std::string(name) + "'");
        }
        out.append(it->second);
      });
  return out;
}

rendered_email render_email(std::string_view name, std::string_view locale, const template_vars& vars) {
  auto resolved = resolve_email_locale(locale);
  const auto* t = find_template(name, resolved);
  if (t == nullptr) {
    t = find_template(name, fallback_locale);
  }
  if (t == nullptr) {
    throw template_error("unknown email template '" + std::string(name) + "'");
  }
  rendered_email out;
  out.template_name = std::string(t->name);
  out.locale = std::string(t->locale);
  out.subject = substitute_placeholders(t->subject, vars);
  out.body_text = substitute_placeholders(t->body, vars);
  return out;
}

}  // namespace derpmgr::controller::notify
