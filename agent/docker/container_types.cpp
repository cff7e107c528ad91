#include "agent/docker/container_types.hpp"

#include <array>
#include <charconv>
#include <utility>

namespace derpmgr::agent {

namespace {

constexpr std::array<std::pair<container_state, const char*>, 7> state_names{{
    {container_state::created, "created"},
    {container_state::running, "running"},
    {container_state::paused, "paused"},
    {container_state::restarting, "restarting"},
    {container_state::removing, "removing"},
    {container_state::exited, "exited"},
    {container_state::dead, "dead"},
}};

struct api_level {
  int major = 0;
  int minor = 0;

  auto operator<=>(const api_level&) const = default;
};

// "1.41" → {1, 41}; anything unreadable → {0, 0}, which supports nothing.
api_level parse_api_level(std::string_view text) {
  api_level level;
  const char* end = text.data() + text.size();
  auto [dot, major_error] = std::from_chars(text.data(), end, level.major);
  if (major_error != std::errc{} || dot == end || *dot != '.') {
    return {};
  }
  auto [rest, minor_error] = std::from_chars(dot + 1, end, level.minor);
  if (minor_error != std::errc{} || rest != end) {
    return {};
  }
  return level;
}

}  // namespace

container_state parse_container_state(const std::string& text) {
  for (const auto& [state, name] : state_names) {
    if (text == name) {
      return state;
    }
  }
  return container_state::unknown;
}

const char* to_string(container_state state) {
  for (const auto& [known, name] : state_names) {
    if (known == state) {
      return name;
    }
  }
  return "unknown";
}

bool engine_version::supports_pinned_api() const {
  const api_level pinned = parse_api_level(docker_api_version);
  const api_level highest = parse_api_level(api_version);
  // Engines older than API 1.25 do not report a minimum; every engine accepting 1.41 reports one.
  const api_level lowest = min_api_version.empty() ? highest : parse_api_level(min_api_version);
  return highest != api_level{} && lowest <= pinned && pinned <= highest;
}

}  // namespace derpmgr::agent
