#include "controller/fleet/ca_files.hpp"

#include <stdexcept>

#include "controller/app/controller_config.hpp"
#include "shared/tls/x509.hpp"

namespace derpmgr::controller::fleet {

namespace fs = std::filesystem;

fs::path ca_directory(const controller_config& config) {
  return config.agents_ca_dir.empty() ? config.state_dir / "ca" : fs::path(config.agents_ca_dir);
}

bool init_ca(const fs::path& dir) {
  auto cert = dir / "ca.crt";
  auto key = dir / "ca.key";
  if (fs::exists(cert) || fs::exists(key)) {
    load_ca(dir);  // an existing but broken CA is an error, never silently replaced
    return false;
  }
  fs::create_directories(dir);
  fs::permissions(dir, fs::perms::owner_all, fs::perm_options::replace);
  auto ca = certificate_authority::create("derpmgr agent CA", std::chrono::hours(24 * 365 * 10));
  write_file_atomic(key, ca.key_pem(), fs::perms::owner_read | fs::perms::owner_write);
  write_file_atomic(cert, ca.cert_pem(),
                    fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read | fs::perms::others_read);
  return true;
}

certificate_authority load_ca(const fs::path& dir) {
  auto cert = dir / "ca.crt";
  auto key = dir / "ca.key";
  if (!fs::exists(cert) || !fs::exists(key)) {
    throw std::runtime_error("no agent CA in " + dir.string() +
                             ": run `derpmgr-controller ca init` (with the same configuration) first");
  }
  try {
    return certificate_authority(read_file(cert), read_file(key));
  } catch (const std::invalid_argument& e) {
    throw std::runtime_error("the agent CA in " + dir.string() + " is unusable: " + e.what());
  }
}

}  // namespace derpmgr::controller::fleet
