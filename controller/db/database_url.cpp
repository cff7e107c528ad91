#include "controller/db/database_url.hpp"

#include <boost/url/parse.hpp>
#include <charconv>

#include "shared/config/config_loader.hpp"

namespace derpmgr::controller::db {

database_settings database_settings::parse(std::string_view url) {
  auto parsed = boost::urls::parse_uri(url);
  if (!parsed) {
    throw config_error("[database] url is not a valid URL (expected mysql://user:pass@host:port/db)");
  }
  if (parsed->scheme() != "mysql") {
    throw config_error("[database] url must start with mysql://");
  }
  database_settings s;
  s.user = parsed->user();
  s.password = parsed->password();
  if (!parsed->host().empty()) {
    s.host = parsed->host_address();
  }
  if (parsed->has_port()) {
    auto port = parsed->port();
    int value = 0;
    auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (ec != std::errc() || end != port.data() + port.size() || value <= 0 || value > 65535) {
      throw config_error("[database] url has an invalid port");
    }
    s.port = value;
  }
  std::string path = parsed->path();
  if (!path.empty() && path.front() == '/') {
    path.erase(0, 1);
  }
  if (path.empty() || path.find('/') != std::string::npos) {
    throw config_error("[database] url must name one database: mysql://user:pass@host:port/<database>");
  }
  s.schema = path;
  for (auto param : parsed->params()) {
    if (param.key == "socket") {
      s.socket = param.value;
    } else {
      throw config_error("[database] url has an unknown parameter '" + std::string(param.key) + "'");
    }
  }
  if (s.user.empty()) {
    throw config_error("[database] url needs a user name");
  }
  return s;
}

std::string database_settings::redacted() const {
  std::string where = socket.empty() ? host + ":" + std::to_string(port) : "?socket=" + socket;
  if (!socket.empty()) {
    return "mysql://" + user + ":***@/" + schema + where;
  }
  return "mysql://" + user + ":***@" + where + "/" + schema;
}

}  // namespace derpmgr::controller::db
