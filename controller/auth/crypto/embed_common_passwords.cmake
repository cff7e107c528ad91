# Writes OUTPUT: a C++ source defining derpmgr::controller::auth::embedded_common_passwords() with the bytes of INPUT.
# The bytes go in as an array, not a string literal, so the list may outgrow the 64 KiB literal limit -Wpedantic checks.
file(READ ${INPUT} hex HEX)
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
string(REGEX REPLACE "(0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,)" "\\1\n    "
       bytes "${bytes}")
file(WRITE ${OUTPUT}.tmp
"// Generated from controller/auth/crypto/common_passwords.txt by embed_common_passwords.cmake; do not edit.
#include \"controller/auth/crypto/common_passwords.hpp\"

namespace derpmgr::controller::auth {

namespace {

constexpr unsigned char text[] = {
    ${bytes}0};

}  // namespace

std::string_view embedded_common_passwords() {
  return std::string_view(reinterpret_cast<const char*>(text), sizeof(text) - 1);
}

}  // namespace derpmgr::controller::auth
")
file(COPY_FILE ${OUTPUT}.tmp ${OUTPUT} ONLY_IF_DIFFERENT)
