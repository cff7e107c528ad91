#include "controller/alerts/alert_plan.hpp"

namespace derpmgr::controller::alerts {

alert_changes plan_alert_changes(const condition_scan& scan, const std::set<std::uint64_t>& open_subjects) {
  alert_changes out;
  std::set<std::uint64_t> holding;
  for (const auto& a : scan.holding) {
    holding.insert(a.key.subject_id);
    if (!open_subjects.contains(a.key.subject_id) && !scan.undecided.contains(a.key.subject_id)) {
      out.raise.push_back(a);
    }
  }
  for (auto id : open_subjects) {
    if (!holding.contains(id) && !scan.undecided.contains(id)) {
      out.resolve.push_back(alert_key{scan.kind, scan.subject_type, id});
    }
  }
  return out;
}

}  // namespace derpmgr::controller::alerts
