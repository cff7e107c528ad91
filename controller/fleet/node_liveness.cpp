#include "controller/fleet/node_liveness.hpp"

#include "controller/fleet/node_repository.hpp"

namespace derpmgr::controller::fleet {

const char* to_string(node_liveness liveness) {
  switch (liveness) {
    case node_liveness::pending:
      return "pending";
    case node_liveness::online:
      return "online";
    case node_liveness::reconnecting:
      return "reconnecting";
    case node_liveness::offline:
      return "offline";
  }
  return "offline";
}

node_liveness liveness_policy::of(const node_row& node, time_point now) const {
  if (!node.enrolled_at) {
    return node_liveness::pending;
  }
  bool heard_recently = node.last_seen_at && now - *node.last_seen_at < offline_after;
  if (!node.session_replica.empty() && heard_recently) {
    return node_liveness::online;
  }
  if (now < controller_started + restart_grace) {
    return node_liveness::reconnecting;
  }
  return node_liveness::offline;
}

}  // namespace derpmgr::controller::fleet
