#pragma once

#include <stdexcept>

namespace derpmgr::controller::audit {

// A caller handed append() an entry it cannot record faithfully (bad action, overlong target, oversized details):
// a bug in the caller, so the caller's transaction is rolled back rather than logged wrongly.
class invalid_audit_entry : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

// A list cursor that this build did not issue.
class invalid_audit_cursor : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

// The audit tables are not in a state the log can work with (no head row: migrations not applied).
class audit_log_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace derpmgr::controller::audit
