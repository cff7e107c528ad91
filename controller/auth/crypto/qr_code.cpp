#include "controller/auth/crypto/qr_code.hpp"

#include <qrencode.h>

#include <memory>

namespace derpmgr::controller::auth {

namespace {

constexpr int quiet_zone = 4;

}  // namespace

std::string qr_svg(std::string_view text) {
  std::unique_ptr<QRcode, decltype(&QRcode_free)> qr(
      QRcode_encodeData(static_cast<int>(text.size()), reinterpret_cast<const unsigned char*>(text.data()), 0,
                        QR_ECLEVEL_M),
      &QRcode_free);
  if (!qr) {
    throw qr_error("text cannot be encoded as a QR code (empty or too long)");
  }
  const int width = qr->width;
  const int size = width + 2 * quiet_zone;
  std::string path;
  for (int y = 0; y < width; ++y) {
    const unsigned char* row = qr->data + static_cast<std::ptrdiff_t>(y) * width;
    int x = 0;
    while (x < width) {
      // Bit 0 of each module byte is the colour (1 = dark); the other bits describe the module's role.
      if ((row[x] & 1) == 0) {
        ++x;
        continue;
      }
      int run = 1;
      while (x + run < width && (row[x + run] & 1) != 0) {
        ++run;
      }
      path += "M" + std::to_string(x + quiet_zone) + " " + std::to_string(y + quiet_zone) + "h" + std::to_string(run) +
              "v1h-" + std::to_string(run) + "z";
      x += run;
    }
  }
  auto extent = std::to_string(size);
  return "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 " + extent + " " + extent +
         "\" shape-rendering=\"crispEdges\"><rect width=\"" + extent + "\" height=\"" + extent +
         "\" fill=\"#fff\"/><path fill=\"#000\" d=\"" + path + "\"/></svg>";
}

}  // namespace derpmgr::controller::auth
