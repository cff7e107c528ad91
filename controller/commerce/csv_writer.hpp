#pragma once

#include <string>
#include <vector>

#include "controller/http/http_types.hpp"

namespace derpmgr::controller::commerce {

// An RFC 4180 CSV document built row by row: CRLF line ends, and a field holding a comma, a double quote, CR or LF
// is enclosed in double quotes with its quotes doubled. Every row has the header's number of fields.
class csv_writer {
 public:
  explicit csv_writer(const std::vector<std::string>& header);

  // Appends a row; throws std::logic_error when it does not have the header's number of fields.
  void row(const std::vector<std::string>& fields);
  const std::string& text() const { return text_; }

  // One field, quoted when it must be.
  static std::string field(const std::string& value);

 private:
  void append(const std::vector<std::string>& fields);
  std::size_t columns_;
  std::string text_;
};

// A CSV download: Content-Type text/csv (UTF-8, header row present) and Content-Disposition attachment with
// `filename` (which must be plain ASCII without quotes).
http::response csv_download(const std::string& filename, std::string body);

}  // namespace derpmgr::controller::commerce
