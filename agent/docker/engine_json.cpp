#include "agent/docker/engine_json.hpp"

#include <boost/json.hpp>
#include <cstdint>
#include <stdexcept>
#include <utility>

namespace derpmgr::agent::engine_json {

namespace json = boost::json;

namespace {

const json::object& as_object(const json::value& value, std::string_view what) {
  if (!value.is_object()) {
    throw std::invalid_argument(std::string(what) + " is not a JSON object");
  }
  return value.get_object();
}

// The member `key`, or nullptr when it is missing or null (Docker writes null for empty lists and maps).
const json::value* member(const json::object& object, std::string_view key) {
  const json::value* value = object.if_contains(key);
  if (value == nullptr || value->is_null()) {
    return nullptr;
  }
  return value;
}

std::string string_member(const json::object& object, std::string_view key) {
  const json::value* value = member(object, key);
  if (value == nullptr) {
    return {};
  }
  return std::string(value->as_string());
}

std::int64_t int_member(const json::object& object, std::string_view key) {
  const json::value* value = member(object, key);
  if (value == nullptr) {
    return 0;
  }
  return value->to_number<std::int64_t>();
}

bool bool_member(const json::object& object, std::string_view key) {
  const json::value* value = member(object, key);
  return value != nullptr && value->as_bool();
}

std::vector<std::string> strings_member(const json::object& object, std::string_view key) {
  std::vector<std::string> result;
  const json::value* value = member(object, key);
  if (value == nullptr) {
    return result;
  }
  for (const json::value& item : value->as_array()) {
    result.emplace_back(item.as_string());
  }
  return result;
}

label_map labels_member(const json::object& object, std::string_view key) {
  label_map result;
  const json::value* value = member(object, key);
  if (value == nullptr) {
    return result;
  }
  for (const auto& [name, text] : value->as_object()) {
    result.emplace(std::string(name), std::string(text.as_string()));
  }
  return result;
}

const json::object& object_member(const json::object& object, std::string_view key) {
  static const json::object empty;
  const json::value* value = member(object, key);
  if (value == nullptr) {
    return empty;
  }
  return as_object(*value, key);
}

// Docker names containers "/name" in its answers.
std::string strip_slash(std::string name) {
  if (!name.empty() && name.front() == '/') {
    name.erase(0, 1);
  }
  return name;
}

json::array to_array(const std::vector<std::string>& items) {
  json::array array;
  for (const std::string& item : items) {
    array.emplace_back(item);
  }
  return array;
}

std::string format_bind(const bind_mount& bind) {
  return bind.source + ":" + bind.target + (bind.read_only ? ":ro" : ":rw");
}

// "source:target[:options]" as Docker stores HostConfig.Binds; read-only when the options include "ro".
bind_mount parse_bind(std::string_view text) {
  const auto first = text.find(':');
  if (first == std::string_view::npos) {
    throw std::invalid_argument("unreadable bind \"" + std::string(text) + "\"");
  }
  bind_mount bind;
  bind.source = std::string(text.substr(0, first));
  const std::string_view rest = text.substr(first + 1);
  const auto second = rest.find(':');
  bind.target = std::string(rest.substr(0, second));
  bind.read_only = false;
  if (second != std::string_view::npos) {
    std::string_view options = rest.substr(second + 1);
    while (!options.empty()) {
      const auto comma = options.find(',');
      if (options.substr(0, comma) == "ro") {
        bind.read_only = true;
      }
      options = comma == std::string_view::npos ? std::string_view{} : options.substr(comma + 1);
    }
  }
  return bind;
}

}  // namespace

std::string create_body(const container_spec& spec) {
  json::object labels;
  for (const auto& [key, value] : spec.labels) {
    labels[key] = value;
  }
  json::array binds;
  for (const bind_mount& bind : spec.binds) {
    binds.emplace_back(format_bind(bind));
  }

  json::object host_config;
  host_config["NetworkMode"] = spec.network_mode;
  host_config["ReadonlyRootfs"] = spec.read_only_rootfs;
  host_config["CapDrop"] = to_array(spec.cap_drop);
  host_config["SecurityOpt"] = to_array(spec.security_opt);
  host_config["Memory"] = spec.memory_bytes;
  // Equal to Memory: no swap on top of the limit (Docker's default would allow as much swap again).
  host_config["MemorySwap"] = spec.memory_bytes;
  host_config["PidsLimit"] = spec.pids_limit;
  host_config["Binds"] = std::move(binds);
  host_config["LogConfig"] = {
      {"Type", "json-file"},
      {"Config", {{"max-size", spec.log_max_size}, {"max-file", std::to_string(spec.log_max_file)}}},
  };
  host_config["RestartPolicy"] = {{"Name", "no"}};

  json::object body;
  body["Image"] = spec.image;
  body["Cmd"] = to_array(spec.args);
  body["Labels"] = std::move(labels);
  body["HostConfig"] = std::move(host_config);
  return json::serialize(body);
}

std::string label_filters(std::string_view label_filter) {
  json::object filters;
  filters["label"] = json::array{json::string(label_filter)};
  return json::serialize(filters);
}

engine_version parse_version(std::string_view body) {
  const json::value root = json::parse(body);
  const json::object& object = as_object(root, "version");
  engine_version version;
  version.version = string_member(object, "Version");
  version.api_version = string_member(object, "ApiVersion");
  version.min_api_version = string_member(object, "MinAPIVersion");
  return version;
}

std::vector<container_summary> parse_container_list(std::string_view body) {
  const json::value root = json::parse(body);
  std::vector<container_summary> result;
  for (const json::value& item : root.as_array()) {
    const json::object& object = as_object(item, "container list entry");
    container_summary summary;
    summary.id = string_member(object, "Id");
    const std::vector<std::string> names = strings_member(object, "Names");
    if (!names.empty()) {
      summary.name = strip_slash(names.front());
    }
    summary.image = string_member(object, "Image");
    summary.state = parse_container_state(string_member(object, "State"));
    summary.labels = labels_member(object, "Labels");
    result.push_back(std::move(summary));
  }
  return result;
}

container_details parse_container_inspect(std::string_view body) {
  const json::value root = json::parse(body);
  const json::object& object = as_object(root, "container");
  const json::object& state = object_member(object, "State");
  const json::object& config = object_member(object, "Config");
  const json::object& host_config = object_member(object, "HostConfig");
  const json::object& log_config = object_member(host_config, "LogConfig");
  const json::object& log_options = object_member(log_config, "Config");

  container_details details;
  details.id = string_member(object, "Id");
  details.name = strip_slash(string_member(object, "Name"));
  details.state = parse_container_state(string_member(state, "Status"));
  details.exit_code = static_cast<int>(int_member(state, "ExitCode"));
  details.oom_killed = bool_member(state, "OOMKilled");
  details.started_at = string_member(state, "StartedAt");
  details.finished_at = string_member(state, "FinishedAt");

  container_spec& spec = details.config;
  spec.name = details.name;
  spec.image = string_member(config, "Image");
  spec.args = strings_member(config, "Cmd");
  spec.labels = labels_member(config, "Labels");
  spec.binds.clear();
  for (const std::string& bind : strings_member(host_config, "Binds")) {
    spec.binds.push_back(parse_bind(bind));
  }
  spec.network_mode = string_member(host_config, "NetworkMode");
  spec.read_only_rootfs = bool_member(host_config, "ReadonlyRootfs");
  spec.cap_drop = strings_member(host_config, "CapDrop");
  spec.security_opt = strings_member(host_config, "SecurityOpt");
  spec.memory_bytes = int_member(host_config, "Memory");
  spec.pids_limit = int_member(host_config, "PidsLimit");
  spec.log_max_size = string_member(log_options, "max-size");
  const std::string max_file = string_member(log_options, "max-file");
  spec.log_max_file = max_file.empty() ? 0 : std::stoi(max_file);
  return details;
}

std::string parse_created_id(std::string_view body) {
  const json::value root = json::parse(body);
  std::string id = string_member(as_object(root, "create answer"), "Id");
  if (id.empty()) {
    throw std::invalid_argument("create answer has no Id");
  }
  return id;
}

std::string parse_error_message(std::string_view body) {
  json::error_code error;
  const json::value root = json::parse(body, error);
  if (!error && root.is_object()) {
    if (const json::value* message = member(root.get_object(), "message"); message && message->is_string()) {
      return std::string(message->get_string());
    }
  }
  std::string text(body);
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' ')) {
    text.pop_back();
  }
  return text.empty() ? "(no message)" : text;
}

}  // namespace derpmgr::agent::engine_json
