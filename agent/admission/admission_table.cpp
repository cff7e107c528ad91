#include "agent/admission/admission_table.hpp"

#include <algorithm>
#include <boost/json/monotonic_resource.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <cstring>

namespace derpmgr::agent {

namespace json = boost::json;

namespace {

constexpr std::string_view key_prefix = "nodekey:";
constexpr std::size_t max_source_length = 64;  // an IPv6 literal with a zone fits

int hex_value(char c) {
  if (c >= '0' && c <= '9') {
    return c - '0';
  }
  if (c >= 'a' && c <= 'f') {
    return c - 'a' + 10;
  }
  return -1;
}

template <class Entry>
void sort_report(std::vector<Entry>& entries) {
  std::sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) {
    return a.allocation_id != b.allocation_id ? a.allocation_id < b.allocation_id : a.node_key < b.node_key;
  });
}

}  // namespace

std::optional<node_key> parse_node_key(std::string_view text) {
  if (text.size() != key_prefix.size() + 64 || text.substr(0, key_prefix.size()) != key_prefix) {
    return std::nullopt;
  }
  node_key key{};
  const std::string_view hex = text.substr(key_prefix.size());
  for (std::size_t i = 0; i < key.size(); ++i) {
    const int high = hex_value(hex[2 * i]);
    const int low = hex_value(hex[2 * i + 1]);
    if (high < 0 || low < 0) {
      return std::nullopt;
    }
    key[i] = static_cast<std::uint8_t>(high * 16 + low);
  }
  return key;
}

std::string format_node_key(const node_key& key) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string text(key_prefix);
  text.reserve(key_prefix.size() + 64);
  for (std::uint8_t byte : key) {
    text.push_back(digits[byte >> 4]);
    text.push_back(digits[byte & 0x0f]);
  }
  return text;
}

std::size_t admission_table::device_hash::operator()(const device_id& id) const {
  std::size_t bits = 0;
  std::memcpy(&bits, id.key.data(), sizeof bits);  // keys are uniformly random
  return bits ^ std::hash<std::int64_t>{}(id.allocation_id);
}

admission_table::admission_table(const clock& clock, std::size_t max_rejected)
    : clock_(clock), max_rejected_(max_rejected), table_(std::make_shared<const table>()) {}

void admission_table::update(const protocol::desired_state& state) {
  auto fresh = std::make_shared<table>();
  for (const protocol::allocation_spec& spec : state.allocations) {
    if (spec.admission_token.empty()) {
      continue;
    }
    allocation_keys& entry = (*fresh)[spec.admission_token];
    entry.allocation_id = spec.id;
    for (const std::string& text : spec.allowed_keys) {
      if (auto key = parse_node_key(text)) {
        entry.keys.push_back(*key);
      }
    }
    std::sort(entry.keys.begin(), entry.keys.end());
    entry.keys.erase(std::unique(entry.keys.begin(), entry.keys.end()), entry.keys.end());
  }
  std::shared_ptr<const table> published = std::move(fresh);
  {
    std::lock_guard lock(table_mutex_);
    table_.swap(published);
  }
  // The old table is released here, outside the lock.
}

bool admission_table::admit(std::string_view token, std::string_view body) {
  // Parse into a stack buffer: no heap allocation for a well-formed body.
  alignas(std::max_align_t) unsigned char arena[2048];
  json::monotonic_resource resource(arena, sizeof arena);
  json::parse_options limits;
  limits.max_depth = 4;
  json::error_code error;
  const json::value root = json::parse(body, error, json::storage_ptr(&resource), limits);
  std::optional<node_key> key;
  std::string_view source;
  if (!error && root.is_object()) {
    const json::object& object = root.get_object();
    const json::value* public_key = object.if_contains("NodePublic");
    const json::value* client = object.if_contains("Source");
    if (public_key != nullptr && public_key->is_string() && (client == nullptr || client->is_string())) {
      key = parse_node_key(public_key->get_string());
      if (client != nullptr) {
        source = client->get_string();
        source = source.substr(0, max_source_length);
      }
    }
  }
  if (!key) {
    std::lock_guard lock(stats_mutex_);
    ++malformed_;
    return false;
  }

  std::shared_ptr<const table> current;
  {
    std::lock_guard lock(table_mutex_);
    current = table_;
  }
  device_id device{0, *key};
  bool allowed = false;
  if (auto entry = current->find(token); entry != current->end()) {
    device.allocation_id = entry->second.allocation_id;
    allowed = std::binary_search(entry->second.keys.begin(), entry->second.keys.end(), *key);
  }
  if (allowed) {
    record(admitted_, device, source, false);
  } else {
    record(rejected_, device, source, true);
  }
  return allowed;
}

void admission_table::record(device_map& into, const device_id& id, std::string_view source, bool capped) {
  const time_point now = clock_.now();
  std::lock_guard lock(stats_mutex_);
  auto it = into.find(id);
  if (it == into.end()) {
    if (capped && into.size() >= max_rejected_) {
      ++dropped_;
      return;
    }
    it = into.emplace(id, device_stats{}).first;
  }
  ++it->second.count;
  it->second.last_seen = now;
  it->second.last_source.assign(source);
}

admission_report admission_table::take_report() {
  device_map admitted;
  device_map rejected;
  admission_report report;
  {
    std::lock_guard lock(stats_mutex_);
    admitted.swap(admitted_);
    rejected.swap(rejected_);
    report.malformed = std::exchange(malformed_, 0);
    report.dropped = std::exchange(dropped_, 0);
  }
  for (auto& [id, stats] : admitted) {
    report.admitted.push_back(
        {id.allocation_id, format_node_key(id.key), stats.count, stats.last_seen, std::move(stats.last_source)});
  }
  for (auto& [id, stats] : rejected) {
    report.rejected.push_back(
        {id.allocation_id, format_node_key(id.key), stats.count, stats.last_seen, std::move(stats.last_source)});
  }
  sort_report(report.admitted);
  sort_report(report.rejected);
  return report;
}

}  // namespace derpmgr::agent
