#pragma once

#include <string_view>

namespace derpmgr::controller::auth {

// The text of controller/auth/crypto/common_passwords.txt, embedded at build time by embed_common_passwords.cmake.
std::string_view embedded_common_passwords();

}  // namespace derpmgr::controller::auth
