#pragma once

#include <string>

namespace derpmgr {

// Sets up the process-wide logger: one line per event on stderr, at `level` (trace…critical).
// Throws std::invalid_argument on an unknown level name.
void init_logging(const std::string& level);

}  // namespace derpmgr
