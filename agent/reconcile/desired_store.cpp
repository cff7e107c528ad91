#include "agent/reconcile/desired_store.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "shared/protocol/messages.hpp"
#include "shared/tls/x509.hpp"

namespace derpmgr::agent {

namespace fs = std::filesystem;

desired_store::desired_store(fs::path state_dir)
    : state_dir_(std::move(state_dir)), path_(state_dir_ / "desired.json") {}

std::optional<protocol::desired_state> desired_store::load() const {
  std::ifstream in(path_, std::ios::binary);
  if (!in) {
    if (errno == ENOENT) {
      return std::nullopt;
    }
    throw desired_store_error("cannot read the desired state " + path_.string() + ": " + std::strerror(errno));
  }
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) {
    throw desired_store_error("cannot read the desired state " + path_.string());
  }
  boost::json::error_code error;
  const boost::json::value root = boost::json::parse(text.str(), error);
  if (error) {
    throw desired_store_error("the desired state " + path_.string() + " is corrupt: not JSON (" + error.message() +
                              ")");
  }
  try {
    return protocol::desired_state_from_json(root);
  } catch (const protocol::protocol_error& e) {
    throw desired_store_error("the desired state " + path_.string() + " is corrupt: " + e.what());
  } catch (const std::exception& e) {
    throw desired_store_error("the desired state " + path_.string() + " is corrupt: " + e.what());
  }
}

void desired_store::save(const protocol::desired_state& state) const {
  if (!fs::exists(state_dir_)) {
    fs::create_directories(state_dir_);
    fs::permissions(state_dir_, fs::perms::owner_all, fs::perm_options::replace);
  }
  write_file_atomic(path_, boost::json::serialize(protocol::to_json(state)),
                    fs::perms::owner_read | fs::perms::owner_write);
}

}  // namespace derpmgr::agent
