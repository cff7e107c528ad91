#include "controller/audit/utf8_text.hpp"

#include <doctest/doctest.h>

using namespace derpmgr::controller::audit;

TEST_CASE("audit fit_utf8 keeps valid text, replaces bad bytes and cuts by characters") {
  CHECK(fit_utf8("plain", 10) == "plain");
  CHECK(fit_utf8("\xE4\xBD\xA0\xE5\xA5\xBD", 1) == "\xE4\xBD\xA0");
  CHECK(fit_utf8("\xF0\x9F\x98\x80x", 1) == "\xF0\x9F\x98\x80");
  CHECK(fit_utf8("a\xC0\x80z", 10) == "a\xEF\xBF\xBD\xEF\xBF\xBDz");              // overlong NUL
  CHECK(fit_utf8("\xED\xA0\x80", 10) == "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");  // surrogate
  CHECK(fit_utf8("\xE4\xBD", 10) == "\xEF\xBF\xBD\xEF\xBF\xBD");                  // cut short
  CHECK(fit_utf8("", 3).empty());
}

TEST_CASE("audit fits_utf8 counts characters, not bytes") {
  CHECK(fits_utf8("\xE4\xBD\xA0\xE5\xA5\xBD", 2));
  CHECK_FALSE(fits_utf8("\xE4\xBD\xA0\xE5\xA5\xBD", 1));
  CHECK_FALSE(fits_utf8("\xF4\x90\x80\x80", 4));  // above U+10FFFF
  CHECK(fits_utf8("", 0));
}
