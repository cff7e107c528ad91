#pragma once

#include <string>

namespace derpmgr::test {

// What a finished command printed and how it exited.
struct command_result {
  int exit_code = -1;
  std::string output;  // stdout and stderr together
};

// Runs `command` through /bin/sh and waits for it; for CLI and services.sh tests.
command_result run_command(const std::string& command);

// Single-quotes `value` for /bin/sh.
std::string shell_quote(const std::string& value);

}  // namespace derpmgr::test
