#include "controller/commerce/serial_code.hpp"

#include <doctest/doctest.h>

#include <set>

namespace serial_code = derpmgr::controller::commerce::serial_code;

TEST_CASE("generated codes are well formed, unique and survive normalisation") {
  std::set<std::string> seen;
  for (int i = 0; i < 2000; ++i) {
    auto code = serial_code::generate();
    CHECK(code.size() == 4 + 4 * 6 + 3);  // DERP, four dashed groups of 5, a dashed group of 2
    CHECK(code.rfind("DERP-", 0) == 0);
    CHECK(serial_code::normalize(code) == code);
    seen.insert(code);
  }
  CHECK(seen.size() == 2000);
}

TEST_CASE("people may type codes loosely") {
  auto code = serial_code::generate();
  std::string loose;
  for (char c : code) {
    if (c != '-') {
      loose.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
    }
  }
  CHECK(serial_code::normalize(loose) == code);
  CHECK(serial_code::normalize("  " + code + " ") == code);
}

TEST_CASE("every single mistyped character is caught by the check symbol") {
  auto code = serial_code::generate();
  const std::string alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
  int tried = 0;
  for (std::size_t i = 5; i < code.size(); ++i) {
    if (code[i] == '-') {
      continue;
    }
    for (char replacement : alphabet) {
      if (replacement == code[i]) {
        continue;
      }
      auto typo = code;
      typo[i] = replacement;
      CHECK_FALSE(serial_code::normalize(typo).has_value());
      ++tried;
    }
  }
  CHECK(tried > 600);
}

TEST_CASE("garbage and the wrong shape are refused") {
  CHECK_FALSE(serial_code::normalize(""));
  CHECK_FALSE(serial_code::normalize("DERP-12345"));
  CHECK_FALSE(serial_code::normalize("XXXX-AAAAA-AAAAA-AAAAA-AAAAA-AA"));
  CHECK_FALSE(serial_code::normalize("DERP-UUUUU-UUUUU-UUUUU-UUUUU-U0"));  // U is not a data symbol
  CHECK(serial_code::last_four("DERP-ABCDE-FGHJK-MNPQR-STVWX-YZ") == "X-YZ");
}
