#pragma once

#include <boost/json/object.hpp>
#include <string>
#include <string_view>

namespace derpmgr::controller::audit {

// Whether a details key names something secret, so its value must never reach the audit log. The key is split into
// words at non-alphanumeric characters and lower-to-upper case changes ("newPassword", "api_key", "totp-code"); it
// is secret when a word, singular or plural, is one of password, passwd, passphrase, pwd, secret, token, code, key,
// otp, totp, pin, salt, hash, signature, cookie, credential, authorization, bearer, csrf, or when the key with
// everything but letters and digits dropped contains password, passwd, secret, token, apikey, privatekey, credential
// or cookie ("accesstoken", "clientsecret"). It errs on the side of dropping: "country_code" and "node_key" are
// dropped too, so name harmless fields otherwise ("country", "node_public").
bool is_secret_key(std::string_view key);

// The details of an audit entry: canonical JSON text with secrets removed. It is the only way to fill
// audit_entry::details, so a password or token handed in by mistake cannot reach the log.
class audit_details {
 public:
  // "{}".
  audit_details();
  // Copies `fields`, dropping every member at any depth (inside nested objects and arrays too) whose key
  // is_secret_key() calls secret, replacing invalid UTF-8 in keys and strings with U+FFFD, and serialising with
  // object keys sorted, so equal details always give equal text. Throws invalid_audit_entry when the text would
  // exceed the 65535 bytes of the TEXT column.
  explicit audit_details(const boost::json::object& fields);

  // The text stored in audit_log.details.
  const std::string& text() const { return text_; }

 private:
  std::string text_;
};

}  // namespace derpmgr::controller::audit
