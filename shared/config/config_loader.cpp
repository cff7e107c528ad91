#include "shared/config/config_loader.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdlib>
#include <toml++/toml.h>

namespace derpmgr {

namespace {

std::string full_name(const std::string& section, const std::string& name) { return section + "." + name; }

std::string type_name(config_type t) {
  switch (t) {
    case config_type::string: return "a string";
    case config_type::integer: return "an integer";
    case config_type::boolean: return "a boolean";
    case config_type::string_list: return "a list of strings";
  }
  return "?";
}

config_value from_toml(const toml::node& node, const config_key& key) {
  auto wrong = [&]() {
    return config_error("configuration key [" + key.section + "] " + key.name + " must be " + type_name(key.type));
  };
  switch (key.type) {
    case config_type::string:
      if (auto v = node.value<std::string>(); v && node.is_string()) {
        return *v;
      }
      throw wrong();
    case config_type::integer:
      if (node.is_integer()) {
        return *node.value<std::int64_t>();
      }
      throw wrong();
    case config_type::boolean:
      if (node.is_boolean()) {
        return *node.value<bool>();
      }
      throw wrong();
    case config_type::string_list: {
      const auto* arr = node.as_array();
      if (arr == nullptr) {
        throw wrong();
      }
      std::vector<std::string> out;
      for (const auto& item : *arr) {
        if (item.is_integer()) {  // e.g. reminder_days = [7, 3, 1]; the key's own check reads the numbers
          out.push_back(std::to_string(*item.value<std::int64_t>()));
          continue;
        }
        if (!item.is_string()) {
          throw wrong();
        }
        out.push_back(*item.value<std::string>());
      }
      return out;
    }
  }
  throw wrong();
}

config_value from_env(const std::string& text, const config_key& key, const std::string& var) {
  switch (key.type) {
    case config_type::string: return text;
    case config_type::integer: {
      std::int64_t v = 0;
      auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
      if (ec != std::errc() || end != text.data() + text.size()) {
        throw config_error(var + " must be an integer");
      }
      return v;
    }
    case config_type::boolean: {
      std::string lower = text;
      std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
      if (lower == "true" || lower == "1" || lower == "yes") {
        return true;
      }
      if (lower == "false" || lower == "0" || lower == "no") {
        return false;
      }
      throw config_error(var + " must be true or false");
    }
    case config_type::string_list: {
      std::vector<std::string> out;
      std::size_t start = 0;
      while (start <= text.size() && !text.empty()) {
        auto comma = text.find(',', start);
        std::string item = text.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
        item.erase(0, item.find_first_not_of(" \t"));
        item.erase(item.find_last_not_of(" \t") + 1);
        if (!item.empty()) {
          out.push_back(item);
        }
        if (comma == std::string::npos) {
          break;
        }
        start = comma + 1;
      }
      return out;
    }
  }
  throw config_error(var + ": unsupported type");
}

}  // namespace

const config_value& config_values::get(const std::string& section, const std::string& name) const {
  auto it = values_.find(full_name(section, name));
  if (it == values_.end()) {
    throw std::logic_error("configuration key [" + section + "] " + name + " is not in the schema");
  }
  return it->second.first;
}

const std::string& config_values::get_string(const std::string& section, const std::string& name) const {
  return std::get<std::string>(get(section, name));
}

std::int64_t config_values::get_int(const std::string& section, const std::string& name) const {
  return std::get<std::int64_t>(get(section, name));
}

bool config_values::get_bool(const std::string& section, const std::string& name) const {
  return std::get<bool>(get(section, name));
}

const std::vector<std::string>& config_values::get_list(const std::string& section, const std::string& name) const {
  return std::get<std::vector<std::string>>(get(section, name));
}

const std::string& config_values::origin(const std::string& section, const std::string& name) const {
  auto it = values_.find(full_name(section, name));
  if (it == values_.end()) {
    throw std::logic_error("configuration key [" + section + "] " + name + " is not in the schema");
  }
  return it->second.second;
}

void config_values::set(const std::string& section, const std::string& name, config_value value, std::string origin) {
  values_[full_name(section, name)] = {std::move(value), std::move(origin)};
}

std::optional<std::string> process_env(const std::string& name) {
  const char* v = std::getenv(name.c_str());
  if (v == nullptr) {
    return std::nullopt;
  }
  return std::string(v);
}

std::string env_name(const std::string& section, const std::string& name) {
  std::string out = "DERPMGR_" + section + "_" + name;
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) {
    return c == '-' || c == '.' ? '_' : static_cast<char>(std::toupper(c));
  });
  return out;
}

config_values load_config(const std::vector<config_key>& schema, const std::optional<std::filesystem::path>& file,
                          const env_lookup& env) {
  config_values values;
  for (const auto& key : schema) {
    values.set(key.section, key.name, key.default_value, "default");
  }
  auto find_key = [&](std::string_view section, std::string_view name) -> const config_key* {
    for (const auto& key : schema) {
      if (key.section == section && key.name == name) {
        return &key;
      }
    }
    return nullptr;
  };

  if (file) {
    toml::table root;
    try {
      root = toml::parse_file(file->string());
    } catch (const toml::parse_error& e) {
      const auto& where = e.source().begin;
      throw config_error("cannot read configuration " + file->string() + " (line " + std::to_string(where.line) +
                         "): " + std::string(e.description()));
    }
    for (const auto& [section_key, section_node] : root) {
      std::string section(section_key.str());
      const auto* table = section_node.as_table();
      if (table == nullptr) {
        throw config_error("unknown configuration key '" + section + "' (expected a [section] table)");
      }
      for (const auto& [name_key, node] : *table) {
        std::string name(name_key.str());
        const config_key* key = find_key(section, name);
        if (key == nullptr) {
          throw config_error("unknown configuration key [" + section + "] " + name);
        }
        values.set(section, name, from_toml(node, *key), "file");
      }
    }
  }

  for (const auto& key : schema) {
    std::string var = env_name(key.section, key.name);
    if (auto text = env(var)) {
      values.set(key.section, key.name, from_env(*text, key, var), var);
    }
  }
  return values;
}

}  // namespace derpmgr
