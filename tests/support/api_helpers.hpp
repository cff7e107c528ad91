#pragma once

#include <boost/json/object.hpp>
#include <cstdint>
#include <string>

#include "tests/support/browser.hpp"
#include "tests/support/controller_fixture.hpp"

namespace derpmgr::test {

// The JSON object a response carried (fails the test on an empty body).
boost::json::object json_of(const http_result& r);
// error.code / error.field of an API error body ("" when absent).
std::string error_code(const http_result& r);
std::string error_field(const http_result& r);

// Creates an admin with `role`, signs `b` in and completes TOTP enrolment; returns the raw TOTP secret.
std::string sign_in_admin(controller_fixture& c, browser& b, const std::string& role);

// Registers `email`, verifies it with the mailed code and signs `b` in; returns the user id.
std::int64_t sign_in_customer(browser& b, const std::string& email);

}  // namespace derpmgr::test
