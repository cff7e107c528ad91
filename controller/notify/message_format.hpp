#pragma once

#include <string>
#include <string_view>

#include "controller/notify/mailer.hpp"
#include "shared/clock/clock.hpp"

namespace derpmgr::controller::notify {

// True for a bare ASCII address `local@domain` that is safe in SMTP commands and headers (no spaces, brackets,
// quotes or control characters; at most 254 characters).
bool is_plain_address(std::string_view address);

// The domain part of an address, lower-cased ("" when there is none); what logs may show of a recipient.
std::string address_domain(std::string_view address);

// The header line `name: text` ending in CRLF, folded at spaces to keep lines within 78 characters. `text` stays
// readable when it is printable ASCII and becomes RFC 2047 encoded-words otherwise (=?UTF-8?B?...?=, each at most
// 75 characters, split between whole UTF-8 characters). Line breaks in `text` become spaces, so a value can never
// inject a header.
std::string format_text_header(std::string_view name, std::string_view text);

// RFC 5322 date-time in UTC, e.g. "Tue, 01 Jan 2030 08:05:09 +0000".
std::string format_rfc5322_date(time_point t);

// The body as lines ending in CRLF (\r\n, \n and lone \r all become CRLF; a final line break is ensured).
std::string normalize_crlf(std::string_view text);

// Base64 of `bytes` in lines of 76 characters, each ending in CRLF.
std::string base64_lines(std::string_view bytes);

// The complete RFC 5322 message: Date, Message-ID, From, To, Subject, MIME-Version, Content-Type text/plain
// UTF-8, Content-Transfer-Encoding (7bit for short-lined ASCII, base64 otherwise), a blank line and the body, all
// lines ending in CRLF. The Message-ID is `<message.message_id@sender's domain>`. Throws mail_error when an address
// is not plain or the message id is empty or has characters other than letters, digits, '.', '_' and '-'.
std::string format_message(const email_message& message, std::string_view from_name, std::string_view from_address,
                           time_point date);

}  // namespace derpmgr::controller::notify
