#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace derpmgr::controller::commerce {

// Serial numbers customers redeem: 105 random bits from the CSPRNG in Crockford base32 (21 symbols) plus one
// check symbol (the value mod 37, Crockford's check alphabet), grouped for reading as
// DERP-XXXXX-XXXXX-XXXXX-XXXXX-XC. The check symbol catches any single mistyped character before any lookup.
namespace serial_code {

// A new code, formatted.
std::string generate();

// The canonical form (prefix, groups and check) of what a person typed — case, spaces, dashes, and the
// look-alikes O→0, I/L→1 forgiven — or nullopt when it is not a well-formed code or its check symbol is wrong.
std::optional<std::string> normalize(std::string_view input);

// The last four characters of the canonical form, for lists.
std::string last_four(const std::string& canonical);

}  // namespace serial_code

}  // namespace derpmgr::controller::commerce
