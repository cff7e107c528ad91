#include "agent/app/agent_config.hpp"

#include "shared/net/listen_address.hpp"

namespace derpmgr::agent {

namespace {

const std::vector<config_key>& schema() {
  static const std::vector<config_key> keys = {
      {"controller", "url", config_type::string, std::string{}},
      {"controller", "ping_interval_seconds", config_type::integer, std::int64_t{15}},
      {"controller", "silence_limit_seconds", config_type::integer, std::int64_t{45}},
      {"state", "dir", config_type::string, std::string{"/var/lib/derpmgr-agent"}},
      {"docker", "socket", config_type::string, std::string{"/var/run/docker.sock"}},
      {"admission", "listen", config_type::string, std::string{"127.0.0.1:7946"}},
      {"log", "level", config_type::string, std::string{"info"}},
  };
  return keys;
}

}  // namespace

agent_config agent_config::load(const std::optional<std::filesystem::path>& file, const env_lookup& env) {
  auto values = load_config(schema(), file, env);
  agent_config c;
  c.controller_url = values.get_string("controller", "url");
  auto ping = values.get_int("controller", "ping_interval_seconds");
  auto silence = values.get_int("controller", "silence_limit_seconds");
  if (ping < 1 || ping > 3600) {
    throw config_error("[controller] ping_interval_seconds must be between 1 and 3600");
  }
  if (silence <= ping || silence > 3600) {
    throw config_error(
        "[controller] silence_limit_seconds must be longer than ping_interval_seconds and at most 3600");
  }
  c.ping_interval = std::chrono::seconds(ping);
  c.silence_limit = std::chrono::seconds(silence);
  c.state_dir = values.get_string("state", "dir");
  c.docker_socket = values.get_string("docker", "socket");
  c.admission_listen = values.get_string("admission", "listen");
  c.log_level = values.get_string("log", "level");
  try {
    listen_address::parse(c.admission_listen);
  } catch (const std::invalid_argument& e) {
    throw config_error("[admission] listen: " + std::string(e.what()));
  }
  if (c.docker_socket.empty()) {
    throw config_error("[docker] socket must not be empty");
  }
  return c;
}

}  // namespace derpmgr::agent
