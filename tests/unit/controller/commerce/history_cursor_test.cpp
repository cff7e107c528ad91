#include "controller/commerce/history_cursor.hpp"

#include <doctest/doctest.h>

#include <stdexcept>

using namespace derpmgr;
using namespace derpmgr::controller::commerce;

TEST_CASE("a history cursor survives encoding for every kind of item") {
  for (std::string type : {"order", "rental_event", "allocation"}) {
    history_cursor c{time_point{std::chrono::microseconds{1793464200123456}}, type, 42};
    auto back = history_cursor::decode(c.encode());
    REQUIRE(back);
    CHECK(back->at == c.at);
    CHECK(back->type == type);
    CHECK(back->id == 42);
  }
  CHECK(history_cursor{time_point{std::chrono::microseconds{5}}, "order", 7}.encode() == "5.o.7");
  CHECK(history_cursor{time_point{std::chrono::microseconds{5}}, "rental_event", 7}.encode() == "5.e.7");
  CHECK(history_cursor{time_point{std::chrono::microseconds{5}}, "allocation", 7}.encode() == "5.a.7");
  history_cursor unknown{time_point{}, "refund", 7};
  CHECK_THROWS_AS(unknown.encode(), std::logic_error);
}

TEST_CASE("anything else is not a cursor") {
  for (std::string bad : {"", "5", "5.o", "5.x.7", "5.A.7", "5.ae.7", "5.o.0", "-5.o.7", "5.o.7.", "a.o.7", "5.o.7x", "5..7",
                          "99999999999999999999999.o.1", "5.o.99999999999999999999999"}) {
    CHECK_MESSAGE(!history_cursor::decode(bad), bad);
  }
}
