#pragma once

#include <iosfwd>

namespace derpmgr::controller {
struct controller_config;
}

namespace derpmgr::controller::audit {

// `derpmgr-controller audit verify`: checks the whole chain on one connection. Prints "audit log intact: N entries"
// to `out` and returns 0, or the first problem ("audit log broken at seq 17: row altered") to `err` and returns 1.
// Throws config_error without a database URL, and database errors as they come (the CLI prints them, exits 1).
int audit_verify_command(const controller_config& config, std::ostream& out, std::ostream& err);

// The same on std::cout and std::cerr.
int audit_verify_command(const controller_config& config);

}  // namespace derpmgr::controller::audit
