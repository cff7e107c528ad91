#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "controller/audit/audit_chain.hpp"
#include "controller/audit/audit_record.hpp"

namespace derpmgr::controller::audit {

// How the chain is broken at a row.
enum class audit_fault {
  missing_row,    // a seq is skipped: the row was deleted
  out_of_order,   // prev_hash is not the previous row's hash: rows were swapped, inserted or renumbered
  altered,        // the stored hash does not match the row's text
  missing_tail,   // the head is past the last row: rows were deleted from the end
  beyond_head,    // a row past the head that no append wrote
  head_mismatch,  // the head names the last row's seq with another hash
};

// "row missing", "row altered", …
std::string_view describe(audit_fault fault);

// The first place the chain breaks.
struct audit_problem {
  std::uint64_t seq = 0;
  audit_fault fault = audit_fault::altered;
};

// "audit log broken at seq 17: row altered".
std::string to_string(const audit_problem& problem);

// What a verification found: how many rows hold together, and the first problem if any.
struct audit_verification {
  std::uint64_t entries = 0;
  std::optional<audit_problem> problem;

  bool intact() const { return !problem; }
};

// The audit_head row.
struct audit_head {
  std::uint64_t seq = 0;
  std::string hash;
};

// Checks rows handed to it in ascending seq order against the chain rules, and finally the head against the last
// row; the SQL that fetches them lives in audit_log.
class audit_chain_checker {
 public:
  // Checks the next row; returns the problem it shows, if any (checking stops being meaningful after one).
  std::optional<audit_problem> add(const audit_record& row);
  // Checks the head against the rows added so far.
  std::optional<audit_problem> finish(const audit_head& head) const;
  // Rows added so far.
  std::uint64_t entries() const { return entries_; }
  // Seq of the last row added (0 before any).
  std::uint64_t last_seq() const { return last_seq_; }

 private:
  std::uint64_t entries_ = 0;
  std::uint64_t last_seq_ = 0;
  std::string last_hash_{genesis_hash};
};

}  // namespace derpmgr::controller::audit
