#include "tests/derper_standin/log_line.hpp"

#include <ctime>
#include <iostream>
#include <string>

namespace derpmgr::standin {

void log_line(std::string_view message) {
  std::time_t now = std::time(nullptr);
  std::tm local{};
  ::localtime_r(&now, &local);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y/%m/%d %H:%M:%S ", &local);
  std::string line = stamp;
  line.append(message);
  line.push_back('\n');
  std::cerr << line << std::flush;
}

}  // namespace derpmgr::standin
