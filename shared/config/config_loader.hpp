#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <variant>
#include <vector>

namespace derpmgr {

// A configuration problem a person must fix; the message names the key.
class config_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

enum class config_type { string, integer, boolean, string_list };

using config_value = std::variant<std::string, std::int64_t, bool, std::vector<std::string>>;

// One key a daemon understands: `[section] name`, its type and default.
struct config_key {
  std::string section;
  std::string name;
  config_type type = config_type::string;
  config_value default_value = std::string{};
};

// The resolved configuration: defaults, then the TOML file, then DERPMGR_<SECTION>_<KEY> variables.
class config_values {
 public:
  const std::string& get_string(const std::string& section, const std::string& name) const;
  std::int64_t get_int(const std::string& section, const std::string& name) const;
  bool get_bool(const std::string& section, const std::string& name) const;
  const std::vector<std::string>& get_list(const std::string& section, const std::string& name) const;
  // Where a key's value came from: "default", "file" or the environment variable's name.
  const std::string& origin(const std::string& section, const std::string& name) const;

  void set(const std::string& section, const std::string& name, config_value value, std::string origin);

 private:
  const config_value& get(const std::string& section, const std::string& name) const;
  std::map<std::string, std::pair<config_value, std::string>> values_;
};

using env_lookup = std::function<std::optional<std::string>(const std::string& name)>;

// Reads the process environment.
std::optional<std::string> process_env(const std::string& name);

// The environment variable that overrides a key: DERPMGR_<SECTION>_<NAME>, upper-cased.
std::string env_name(const std::string& section, const std::string& name);

// Loads `file` (if given) over the schema's defaults, then applies environment overrides.
// Throws config_error naming the key on an unknown key, a wrong type or an unreadable file.
config_values load_config(const std::vector<config_key>& schema, const std::optional<std::filesystem::path>& file,
                          const env_lookup& env = process_env);

}  // namespace derpmgr
