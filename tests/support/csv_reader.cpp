#include "tests/support/csv_reader.hpp"

#include <doctest/doctest.h>

namespace derpmgr::test {

std::vector<std::vector<std::string>> parse_csv(const std::string& text) {
  std::vector<std::vector<std::string>> rows;
  std::vector<std::string> row;
  std::string field;
  std::size_t i = 0;
  auto end_row = [&] {
    row.push_back(std::move(field));
    field.clear();
    rows.push_back(std::move(row));
    row.clear();
  };
  while (i < text.size()) {
    if (text[i] == '"' && field.empty()) {
      ++i;
      for (;;) {
        REQUIRE_MESSAGE(i < text.size(), "unterminated quoted CSV field");
        if (text[i] == '"') {
          if (i + 1 < text.size() && text[i + 1] == '"') {
            field += '"';
            i += 2;
            continue;
          }
          ++i;
          break;
        }
        field += text[i++];
      }
      REQUIRE_MESSAGE((i == text.size() || text[i] == ',' || text[i] == '\r' || text[i] == '\n'),
                      "text after a closing quote in CSV");
      continue;
    }
    char c = text[i];
    if (c == ',') {
      row.push_back(std::move(field));
      field.clear();
      ++i;
    } else if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') {
      end_row();
      i += 2;
    } else if (c == '\n') {
      end_row();
      ++i;
    } else {
      REQUIRE_MESSAGE(c != '"', "a quote inside an unquoted CSV field");
      field += c;
      ++i;
    }
  }
  if (!field.empty() || !row.empty()) {
    end_row();
  }
  return rows;
}

}  // namespace derpmgr::test
