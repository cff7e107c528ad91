#pragma once

#include <string_view>

namespace derpmgr::standin {

// Writes one line to stderr prefixed with the local time as Go's log package does ("2006/01/02 15:04:05 ").
void log_line(std::string_view message);

}  // namespace derpmgr::standin
