#include "agent/reconcile/container_layout.hpp"

#include <algorithm>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <charconv>
#include <fstream>
#include <optional>
#include <sstream>

#include "shared/tls/x509.hpp"

namespace derpmgr::agent {

namespace fs = std::filesystem;

namespace {

constexpr fs::perms private_file = fs::perms::owner_read | fs::perms::owner_write;
constexpr fs::perms public_file = private_file | fs::perms::group_read | fs::perms::others_read;

// An IP literal or DNS name, usable as a file name: letters, digits, '.', '-', ':' (IPv6), not "." or "..".
bool safe_host(const std::string& host) {
  if (host.empty() || host.size() > 253 || host.front() == '.' || host.front() == '-') {
    return false;
  }
  return std::all_of(host.begin(), host.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '-' ||
           c == ':';
  });
}

// A token that needs no escaping in a URL path segment.
bool safe_token(const std::string& token) {
  return !token.empty() && token.size() <= 256 && std::all_of(token.begin(), token.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
  });
}

std::string host_for_url(const std::string& ip) {
  if (ip.find(':') != std::string::npos && ip.front() != '[') {
    return "[" + ip + "]";
  }
  return ip;
}

// The file's content, or nullopt when it cannot be read.
std::optional<std::string> slurp(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return std::nullopt;
  }
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

void make_private_dir(const fs::path& dir) {
  fs::create_directories(dir);
  fs::permissions(dir, fs::perms::owner_all, fs::perm_options::replace);
}

bool labels_include(const label_map& actual, const label_map& wanted) {
  return std::all_of(wanted.begin(), wanted.end(), [&](const auto& entry) {
    auto it = actual.find(entry.first);
    return it != actual.end() && it->second == entry.second;
  });
}

}  // namespace

std::string container_name(std::int64_t node_id, std::int64_t allocation_id) {
  return "derpmgr-" + std::to_string(node_id) + "-" + std::to_string(allocation_id);
}

std::string derper_listen_arg(const std::string& bind_ip, int port) {
  const std::string port_text = std::to_string(port);
  if (bind_ip.empty()) {
    return ":" + port_text;
  }
  return host_for_url(bind_ip) + ":" + port_text;
}

std::vector<std::string> derper_args(const protocol::allocation_spec& spec, const std::string& admission_host,
                                     std::uint16_t admission_port) {
  const std::string port = std::to_string(spec.port);
  std::vector<std::string> args{
      "-a",
      derper_listen_arg(spec.bind_ip, spec.port),
      "-stun-port",
      port,
      "-http-port",
      "-1",
      "-certmode",
      "manual",
      "-certdir",
      "/certs",
      "-hostname",
      spec.public_host,
      "-c",
      "/data/derper.key",
      "-verify-client-url",
      "http://" + host_for_url(admission_host) + ":" + std::to_string(admission_port) + "/admit/" +
          spec.admission_token,
      "-verify-client-url-fail-open=false",
  };
  if (spec.rate_bytes_per_sec > 0) {
    args.emplace_back("-rate-config");
    args.emplace_back("/certs/rate.json");
  }
  return args;
}

std::string rate_config_json(const protocol::allocation_spec& spec) {
  boost::json::object config;
  config["PerClientRateLimitBytesPerSec"] = spec.rate_bytes_per_sec;
  config["PerClientRateBurstBytes"] = spec.rate_burst_bytes;
  return boost::json::serialize(config);
}

container_layout::container_layout(layout_options options) : options_(std::move(options)) {}

fs::path container_layout::allocations_dir() const {
  return options_.state_dir / "allocations";
}

allocation_paths container_layout::paths(const protocol::allocation_spec& spec) const {
  if (!safe_host(spec.public_host)) {
    throw invalid_allocation("allocation " + std::to_string(spec.id) + ": public_host \"" + spec.public_host +
                             "\" is not an IP address or DNS name");
  }
  if (!safe_token(spec.admission_token)) {
    throw invalid_allocation("allocation " + std::to_string(spec.id) + ": the admission token is malformed");
  }
  allocation_paths paths;
  paths.root = allocations_dir() / std::to_string(spec.id);
  paths.certs_dir = paths.root / "certs";
  paths.data_dir = paths.root / "data";
  paths.cert_file = paths.certs_dir / (spec.public_host + ".crt");
  paths.key_file = paths.certs_dir / (spec.public_host + ".key");
  paths.rate_file = paths.certs_dir / "rate.json";
  return paths;
}

container_spec container_layout::spec_for(std::int64_t node_id, const protocol::allocation_spec& spec) const {
  const allocation_paths files = paths(spec);
  container_spec result;
  result.name = container_name(node_id, spec.id);
  result.image = spec.image;
  result.args = options_.command_prefix;
  for (std::string& arg : derper_args(spec, options_.admission_host, options_.admission_port)) {
    result.args.push_back(std::move(arg));
  }
  result.labels = {
      {node_label, std::to_string(node_id)},
      {allocation_label, std::to_string(spec.id)},
      {generation_label, std::to_string(spec.config_version)},
  };
  result.binds = {
      {files.certs_dir.string(), "/certs", true},
      {files.data_dir.string(), "/data", false},
  };
  // network_mode, read-only root, cap-drop ALL and no-new-privileges are container_spec's defaults.
  result.memory_bytes = spec.memory_bytes > 0 ? spec.memory_bytes : options_.default_memory_bytes;
  result.pids_limit = spec.pids_limit > 0 ? spec.pids_limit : options_.default_pids_limit;
  result.log_max_size = options_.log_max_size;
  result.log_max_file = options_.log_max_file;
  return result;
}

bool container_layout::files_match(const protocol::allocation_spec& spec) const {
  const allocation_paths files = paths(spec);
  std::error_code error;
  if (!fs::is_directory(files.data_dir, error)) {
    return false;
  }
  std::size_t wanted_count = spec.rate_bytes_per_sec > 0 ? 3 : 2;
  std::size_t count = 0;
  for (fs::directory_iterator it(files.certs_dir, error), end; !error && it != end; it.increment(error)) {
    ++count;
  }
  if (error || count != wanted_count) {
    return false;
  }
  if (slurp(files.cert_file) != spec.cert_pem || slurp(files.key_file) != spec.key_pem) {
    return false;
  }
  return spec.rate_bytes_per_sec <= 0 || slurp(files.rate_file) == rate_config_json(spec);
}

void container_layout::write_files(const protocol::allocation_spec& spec) const {
  const allocation_paths files = paths(spec);
  make_private_dir(files.root);
  make_private_dir(files.certs_dir);
  make_private_dir(files.data_dir);
  write_file_atomic(files.cert_file, spec.cert_pem, public_file);
  write_file_atomic(files.key_file, spec.key_pem, private_file);
  if (spec.rate_bytes_per_sec > 0) {
    write_file_atomic(files.rate_file, rate_config_json(spec), public_file);
  }
  std::vector<fs::path> stale;
  for (const fs::directory_entry& entry : fs::directory_iterator(files.certs_dir)) {
    const fs::path& path = entry.path();
    if (path != files.cert_file && path != files.key_file &&
        !(spec.rate_bytes_per_sec > 0 && path == files.rate_file)) {
      stale.push_back(path);
    }
  }
  for (const fs::path& path : stale) {
    fs::remove_all(path);
  }
}

void container_layout::remove_files(std::int64_t allocation_id) const {
  fs::remove_all(allocations_dir() / std::to_string(allocation_id));
}

std::vector<std::int64_t> container_layout::allocations_on_disk() const {
  std::vector<std::int64_t> ids;
  std::error_code error;
  for (fs::directory_iterator it(allocations_dir(), error), end; !error && it != end; it.increment(error)) {
    const std::string name = it->path().filename().string();
    std::int64_t id = 0;
    auto [rest, parse_error] = std::from_chars(name.data(), name.data() + name.size(), id);
    if (parse_error == std::errc{} && rest == name.data() + name.size() && id > 0 && std::to_string(id) == name) {
      ids.push_back(id);
    }
  }
  std::sort(ids.begin(), ids.end());
  return ids;
}

bool needs_recreate(const container_spec& actual, const container_spec& wanted) {
  const auto generation = actual.labels.find(generation_label);
  if (generation == actual.labels.end() || generation->second != wanted.labels.at(generation_label)) {
    return true;
  }
  return actual.name != wanted.name || actual.image != wanted.image || actual.args != wanted.args ||
         !labels_include(actual.labels, wanted.labels) || actual.binds != wanted.binds ||
         actual.network_mode != wanted.network_mode || actual.read_only_rootfs != wanted.read_only_rootfs ||
         actual.cap_drop != wanted.cap_drop || actual.security_opt != wanted.security_opt ||
         actual.memory_bytes != wanted.memory_bytes || actual.pids_limit != wanted.pids_limit ||
         actual.log_max_size != wanted.log_max_size || actual.log_max_file != wanted.log_max_file;
}

}  // namespace derpmgr::agent
