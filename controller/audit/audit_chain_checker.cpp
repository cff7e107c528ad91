#include "controller/audit/audit_chain_checker.hpp"

#include <stdexcept>

namespace derpmgr::controller::audit {

std::string_view describe(audit_fault fault) {
  switch (fault) {
    case audit_fault::missing_row:
      return "row missing";
    case audit_fault::out_of_order:
      return "row out of order (prev_hash does not link to the row before)";
    case audit_fault::altered:
      return "row altered";
    case audit_fault::missing_tail:
      return "rows missing at the end (the head is further on)";
    case audit_fault::beyond_head:
      return "row past the head (not written by an append)";
    case audit_fault::head_mismatch:
      return "head does not match the last row";
  }
  throw std::logic_error("unknown audit_fault value");
}

std::string to_string(const audit_problem& problem) {
  return "audit log broken at seq " + std::to_string(problem.seq) + ": " + std::string(describe(problem.fault));
}

std::optional<audit_problem> audit_chain_checker::add(const audit_record& row) {
  if (row.seq != last_seq_ + 1) {
    return audit_problem{last_seq_ + 1, audit_fault::missing_row};
  }
  if (row.prev_hash != last_hash_) {
    return audit_problem{row.seq, audit_fault::out_of_order};
  }
  if (row.hash != chain_hash(row)) {
    return audit_problem{row.seq, audit_fault::altered};
  }
  ++entries_;
  last_seq_ = row.seq;
  last_hash_ = row.hash;
  return std::nullopt;
}

std::optional<audit_problem> audit_chain_checker::finish(const audit_head& head) const {
  if (head.seq > last_seq_) {
    return audit_problem{last_seq_ + 1, audit_fault::missing_tail};
  }
  if (head.seq < last_seq_) {
    return audit_problem{head.seq + 1, audit_fault::beyond_head};
  }
  if (head.hash != last_hash_) {
    return audit_problem{head.seq, audit_fault::head_mismatch};
  }
  return std::nullopt;
}

}  // namespace derpmgr::controller::audit
