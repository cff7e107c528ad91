#pragma once

#include <string>
#include <vector>

namespace derpmgr::test {

// Parses an RFC 4180 document (CRLF or LF line ends, quoted fields with doubled quotes) into rows of fields;
// fails the test on malformed quoting.
std::vector<std::vector<std::string>> parse_csv(const std::string& text);

}  // namespace derpmgr::test
