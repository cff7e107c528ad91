#include "controller/auth/crypto/qr_code.hpp"

#include <doctest/doctest.h>

using namespace derpmgr::controller::auth;

TEST_CASE("a QR code is a standalone SVG with a quiet zone") {
  auto svg = qr_svg("otpauth://totp/derpmgr:alice%40example.com?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
  CHECK(svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""));
  CHECK(svg.ends_with("</svg>"));
  // Version 4 or larger here: at least 33 modules plus 4 of quiet zone on each side.
  auto view_box = svg.find("viewBox=\"0 0 ");
  REQUIRE(view_box != std::string::npos);
  int size = std::stoi(svg.substr(view_box + 13));
  CHECK(size >= 33 + 8);
  CHECK((size - 8 - 17) % 4 == 0);
  CHECK(svg.find("<path fill=\"#000\" d=\"M4 4h7v1h-7z") != std::string::npos);
  CHECK(svg.find("<rect") != std::string::npos);
}

TEST_CASE("text that cannot be a QR code is refused") {
  CHECK_THROWS_AS(qr_svg(""), qr_error);
  CHECK_THROWS_AS(qr_svg(std::string(8000, 'x')), qr_error);
}
