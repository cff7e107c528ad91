#pragma once

#include <filesystem>
#include <string>
#include <system_error>

#include "tests/support/test_env.hpp"

namespace derpmgr::test {

// A fresh folder under the system's temporary directory (made unless `create` is false), removed with
// everything in it when the test ends.
class temp_dir {
 public:
  explicit temp_dir(const std::string& prefix = "derpmgr", bool create = true)
      : path_(std::filesystem::temp_directory_path() / unique_name(prefix)) {
    if (create) {
      std::filesystem::create_directories(path_);
    }
  }
  ~temp_dir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;

  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

}  // namespace derpmgr::test
