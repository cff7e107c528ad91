#include "controller/notify/smtp_settings.hpp"

#include <boost/url/parse.hpp>
#include <charconv>

#include "controller/notify/message_format.hpp"
#include "shared/config/config_loader.hpp"

namespace derpmgr::controller::notify {

namespace {

void parse_from(std::string_view from, smtp_settings& s) {
  auto trim = [](std::string_view text) {
    auto first = text.find_first_not_of(' ');
    if (first == std::string_view::npos) {
      return std::string_view{};
    }
    return text.substr(first, text.find_last_not_of(' ') - first + 1);
  };
  auto open = from.find('<');
  if (open == std::string_view::npos) {
    s.from_address = std::string(trim(from));
  } else {
    auto close = from.find('>', open);
    if (close == std::string_view::npos || !trim(from.substr(close + 1)).empty()) {
      throw config_error("[smtp] from must be `address` or `Name <address>`");
    }
    s.from_address = std::string(from.substr(open + 1, close - open - 1));
    auto name = trim(from.substr(0, open));
    if (name.size() >= 2 && name.front() == '"' && name.back() == '"') {
      name = name.substr(1, name.size() - 2);
    }
    s.from_name = std::string(name);
  }
  if (!is_plain_address(s.from_address)) {
    throw config_error("[smtp] from needs a plain email address such as noreply@example.com");
  }
  if (s.from_name.find_first_of("\r\n") != std::string::npos) {
    throw config_error("[smtp] from must be one line");
  }
}

}  // namespace

smtp_settings smtp_settings::parse(std::string_view url, std::string_view from) {
  auto parsed = boost::urls::parse_uri(url);
  if (!parsed) {
    throw config_error("[smtp] url is not a valid URL (expected smtp://, smtp+starttls:// or smtps://host:port)");
  }
  smtp_settings s;
  auto scheme = parsed->scheme();
  if (scheme == "smtp") {
    s.security = smtp_security::none;
    s.port = 25;
  } else if (scheme == "smtp+starttls") {
    s.security = smtp_security::starttls;
    s.port = 587;
  } else if (scheme == "smtps") {
    s.security = smtp_security::implicit;
    s.port = 465;
  } else {
    throw config_error("[smtp] url must start with smtp://, smtp+starttls:// or smtps://");
  }
  s.host = parsed->host_address();
  if (s.host.empty()) {
    throw config_error("[smtp] url needs a host");
  }
  if (parsed->has_port()) {
    auto port = parsed->port();
    int value = 0;
    auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (ec != std::errc() || end != port.data() + port.size() || value <= 0 || value > 65535) {
      throw config_error("[smtp] url has an invalid port");
    }
    s.port = value;
  }
  if (parsed->has_userinfo()) {
    s.user = parsed->user();
    s.password = parsed->password();
    if (s.user.empty()) {
      throw config_error("[smtp] url has credentials without a user name");
    }
  }
  std::string path = parsed->path();
  if (!path.empty() && path.front() == '/') {
    path.erase(0, 1);
  }
  if (path.find('/') != std::string::npos) {
    throw config_error("[smtp] url path may only name the EHLO host");
  }
  s.ehlo_name = path;
  if (parsed->has_query() || parsed->has_fragment()) {
    throw config_error("[smtp] url takes no query or fragment");
  }
  parse_from(from, s);
  return s;
}

std::string smtp_settings::redacted() const {
  std::string scheme = security == smtp_security::implicit   ? "smtps"
                       : security == smtp_security::starttls ? "smtp+starttls"
                                                             : "smtp";
  std::string host_part = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  std::string credentials = user.empty() ? "" : user + ":***@";
  return scheme + "://" + credentials + host_part + ":" + std::to_string(port);
}

}  // namespace derpmgr::controller::notify
