#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace derpmgr::controller::audit {

// `text` as valid UTF-8 (each invalid byte sequence replaced by U+FFFD) cut to at most `max_chars` code points, so it
// fits a utf8mb4 VARCHAR(max_chars) column byte for byte and reads back exactly as written.
std::string fit_utf8(std::string_view text, std::size_t max_chars);

// Whether `text` is valid UTF-8 of at most `max_chars` code points.
bool fits_utf8(std::string_view text, std::size_t max_chars);

}  // namespace derpmgr::controller::audit
