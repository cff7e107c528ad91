#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <unordered_set>

namespace derpmgr::controller::auth {

// Why a password was refused; none when it is acceptable.
enum class password_problem { none, too_short, too_long, common, invalid_utf8 };

// "too_short", "too_long", "common", "invalid_utf8" (or "none"): the reason code for API errors.
std::string_view to_string(password_problem problem);

// The outcome of a password check: ok, or a reason code and a message fit for the user (never the password).
struct password_verdict {
  password_problem problem = password_problem::none;
  std::string message;

  bool ok() const { return problem == password_problem::none; }
};

// The password rules (NIST SP 800-63B style): 10–128 Unicode code points, no composition rules, not a common
// password (compared case-insensitively against the list shipped in common_passwords.txt).
class password_policy {
 public:
  static constexpr std::size_t min_code_points = 10;
  static constexpr std::size_t max_code_points = 128;

  // Uses the common-password list embedded at build time.
  password_policy();

  password_verdict check(std::string_view password) const;

 private:
  std::unordered_set<std::string> common_;
};

}  // namespace derpmgr::controller::auth
