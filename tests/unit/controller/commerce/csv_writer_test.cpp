#include "controller/commerce/csv_writer.hpp"

#include <doctest/doctest.h>

#include "tests/support/csv_reader.hpp"

using namespace derpmgr::controller::commerce;

TEST_CASE("fields are quoted only when they must be, quotes doubled, lines end in CRLF") {
  csv_writer w({"name", "note"});
  w.row({"plain", "a,b"});
  w.row({"say \"hi\"", "two\nlines"});
  w.row({"", "cr\rhere"});
  CHECK(w.text() == "name,note\r\nplain,\"a,b\"\r\n\"say \"\"hi\"\"\",\"two\nlines\"\r\n,\"cr\rhere\"\r\n");
  CHECK(csv_writer::field("-500") == "-500");
}

TEST_CASE("what the writer writes parses back to the same fields") {
  std::vector<std::vector<std::string>> rows = {
      {"id", "plan", "amount"}, {"1", "Month, \"Pro\"", "-300"}, {"2", "", "0"}, {"3", "\"\"", "line\r\nbreak"}};
  csv_writer w(rows[0]);
  for (std::size_t i = 1; i < rows.size(); ++i) {
    w.row(rows[i]);
  }
  CHECK(derpmgr::test::parse_csv(w.text()) == rows);
}

TEST_CASE("a row with the wrong number of fields is a programming error") {
  csv_writer w({"a", "b"});
  CHECK_THROWS_AS(w.row({"1"}), std::logic_error);
}

TEST_CASE("a CSV download names its file and type") {
  auto r = csv_download("orders.csv", "a\r\n");
  CHECK(r.status == 200);
  CHECK(r.content_type.rfind("text/csv", 0) == 0);
  REQUIRE(r.headers.size() == 2);
  CHECK(r.headers[0].first == "Content-Disposition");
  CHECK(r.headers[0].second == "attachment; filename=\"orders.csv\"");
}
