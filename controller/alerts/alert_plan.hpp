#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "controller/alerts/alert_repository.hpp"

namespace derpmgr::controller::alerts {

// What one kind of condition looks like right now: the subjects where it holds (with the alert each would raise)
// and the subjects nobody can tell about yet (e.g. nodes reconnecting after a controller restart), whose alerts are
// neither raised nor resolved. Every other subject is known to be fine.
struct condition_scan {
  std::string kind;
  std::string subject_type;
  std::vector<new_alert> holding;
  std::set<std::uint64_t> undecided;
};

// What to change so the open alerts match a scan.
struct alert_changes {
  std::vector<new_alert> raise;    // holding, with no open alert
  std::vector<alert_key> resolve;  // open, and the subject is known to be fine (or gone)
};

// Compares a scan with the subjects that have an open alert of its kind.
alert_changes plan_alert_changes(const condition_scan& scan, const std::set<std::uint64_t>& open_subjects);

}  // namespace derpmgr::controller::alerts
