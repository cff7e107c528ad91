#pragma once

#include <stdexcept>
#include <string>
#include <string_view>

namespace derpmgr::controller::auth {

// The text does not fit in a QR code, or libqrencode failed.
class qr_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A standalone SVG QR code (libqrencode, error correction M) of `text`: one path of dark modules in a
// viewBox measured in modules, with the 4-module quiet zone on a white background; scale it with CSS.
std::string qr_svg(std::string_view text);

}  // namespace derpmgr::controller::auth
