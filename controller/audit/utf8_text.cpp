#include "controller/audit/utf8_text.hpp"

namespace derpmgr::controller::audit {

namespace {

constexpr std::string_view replacement_character = "\xEF\xBF\xBD";

// The length of the well-formed UTF-8 sequence starting at `text[i]` (RFC 3629: no overlong forms, no surrogates,
// nothing above U+10FFFF), or 0 when there is none.
std::size_t sequence_length(std::string_view text, std::size_t i) {
  auto byte = [&](std::size_t k) { return static_cast<unsigned char>(text[i + k]); };
  auto continuation = [&](std::size_t k) { return i + k < text.size() && (byte(k) & 0xC0U) == 0x80U; };
  unsigned char lead = byte(0);
  if (lead < 0x80U) {
    return 1;
  }
  if (lead >= 0xC2U && lead <= 0xDFU) {
    return continuation(1) ? 2 : 0;
  }
  if (lead >= 0xE0U && lead <= 0xEFU) {
    if (!continuation(1) || !continuation(2)) {
      return 0;
    }
    bool overlong = lead == 0xE0U && byte(1) < 0xA0U;
    bool surrogate = lead == 0xEDU && byte(1) >= 0xA0U;
    return overlong || surrogate ? 0 : 3;
  }
  if (lead >= 0xF0U && lead <= 0xF4U) {
    if (!continuation(1) || !continuation(2) || !continuation(3)) {
      return 0;
    }
    bool overlong = lead == 0xF0U && byte(1) < 0x90U;
    bool too_high = lead == 0xF4U && byte(1) >= 0x90U;
    return overlong || too_high ? 0 : 4;
  }
  return 0;
}

}  // namespace

std::string fit_utf8(std::string_view text, std::size_t max_chars) {
  std::string out;
  out.reserve(text.size());
  std::size_t chars = 0;
  std::size_t i = 0;
  while (i < text.size() && chars < max_chars) {
    auto n = sequence_length(text, i);
    if (n == 0) {
      out.append(replacement_character);
      ++i;
    } else {
      out.append(text.substr(i, n));
      i += n;
    }
    ++chars;
  }
  return out;
}

bool fits_utf8(std::string_view text, std::size_t max_chars) {
  std::size_t chars = 0;
  for (std::size_t i = 0; i < text.size(); ++chars) {
    auto n = sequence_length(text, i);
    if (n == 0 || chars == max_chars) {
      return false;
    }
    i += n;
  }
  return true;
}

}  // namespace derpmgr::controller::audit
