#include "controller/db/migrations.hpp"

#include <doctest/doctest.h>

using namespace derpmgr::controller::db;

TEST_CASE("migrations are ordered by their number, not by the order they are given") {
  auto list = load_migrations({{"0002_nodes.sql", "B"}, {"0003_rentals.sql", "C"}, {"0001_init.sql", "A"}});
  REQUIRE(list.size() == 3);
  CHECK(list[0].version == 1);
  CHECK(list[0].name == "init");
  CHECK(list[1].version == 2);
  CHECK(list[2].name == "rentals");
  CHECK(list[0].checksum.size() == 64);
}

TEST_CASE("bad migration sets are refused") {
  CHECK_THROWS_AS(load_migrations({{"0001_a.sql", "A"}, {"0001_b.sql", "B"}}), migration_error);
  CHECK_THROWS_WITH_AS(load_migrations({{"0001_a.sql", "A"}, {"0003_c.sql", "C"}}),
                       "migration numbering has a gap before version 3", migration_error);
  CHECK_THROWS_AS(load_migrations({{"1_a.sql", "A"}}), migration_error);
  CHECK_THROWS_AS(load_migrations({{"0001_a.txt", "A"}}), migration_error);
}

TEST_CASE("pending migrations are those not applied, in order") {
  auto known = load_migrations({{"0001_a.sql", "A"}, {"0002_b.sql", "B"}, {"0003_c.sql", "C"}});
  CHECK(pending_migrations(known, {}).size() == 3);
  auto pending = pending_migrations(known, {{1, known[0].checksum}});
  REQUIRE(pending.size() == 2);
  CHECK(pending[0].version == 2);
  CHECK(pending[1].version == 3);
  CHECK(pending_migrations(known, {{1, known[0].checksum}, {2, known[1].checksum}, {3, known[2].checksum}})
            .empty());
}

TEST_CASE("a database newer than this build is refused") {
  auto known = load_migrations({{"0001_a.sql", "A"}});
  CHECK_THROWS_WITH_AS(pending_migrations(known, {{1, known[0].checksum}, {2, "x"}}),
                       doctest::Contains("newer than this controller"), migration_error);
}

TEST_CASE("an applied migration whose text changed is refused") {
  auto known = load_migrations({{"0001_a.sql", "A"}});
  CHECK_THROWS_WITH_AS(pending_migrations(known, {{1, "0000"}}), doctest::Contains("was changed"),
                       migration_error);
}

TEST_CASE("statements split at top-level semicolons only") {
  auto parts = split_sql_statements(
      "-- a comment; with a semicolon\n"
      "CREATE TABLE a (x VARCHAR(10) DEFAULT 'a;b');\n"
      "/* block; comment */ INSERT INTO a VALUES (\"q;\");  # trailing; comment\n"
      "  \n;");
  REQUIRE(parts.size() == 2);
  CHECK(parts[0] == "CREATE TABLE a (x VARCHAR(10) DEFAULT 'a;b')");
  CHECK(parts[1] == "INSERT INTO a VALUES (\"q;\")");
}

TEST_CASE("the migrations compiled into the binary form a valid set") {
  auto list = load_migrations(embedded_migration_files());
  REQUIRE_FALSE(list.empty());
  CHECK(list.front().version == 1);
}
