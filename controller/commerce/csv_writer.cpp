#include "controller/commerce/csv_writer.hpp"

#include <stdexcept>

namespace derpmgr::controller::commerce {

csv_writer::csv_writer(const std::vector<std::string>& header) : columns_(header.size()) { append(header); }

void csv_writer::row(const std::vector<std::string>& fields) {
  if (fields.size() != columns_) {
    throw std::logic_error("csv row has " + std::to_string(fields.size()) + " fields, header has " +
                           std::to_string(columns_));
  }
  append(fields);
}

void csv_writer::append(const std::vector<std::string>& fields) {
  for (std::size_t i = 0; i < fields.size(); ++i) {
    if (i > 0) {
      text_ += ',';
    }
    text_ += field(fields[i]);
  }
  text_ += "\r\n";
}

std::string csv_writer::field(const std::string& value) {
  if (value.find_first_of(",\"\r\n") == std::string::npos) {
    return value;
  }
  std::string out = "\"";
  for (char c : value) {
    if (c == '"') {
      out += '"';
    }
    out += c;
  }
  out += '"';
  return out;
}

http::response csv_download(const std::string& filename, std::string body) {
  auto r = http::response::text(200, std::move(body), "text/csv; charset=utf-8; header=present");
  r.headers.emplace_back("Content-Disposition", "attachment; filename=\"" + filename + "\"");
  r.headers.emplace_back("Cache-Control", "no-store");
  return r;
}

}  // namespace derpmgr::controller::commerce
