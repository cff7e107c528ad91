#include "agent/channel/agent_identity.hpp"

#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <stdexcept>

#include "shared/tls/certificate_authority.hpp"
#include "shared/tls/x509.hpp"

namespace derpmgr::agent {

namespace fs = std::filesystem;
namespace json = boost::json;

namespace {

constexpr auto secret_mode = fs::perms::owner_read | fs::perms::owner_write;

// The first PEM block of `kind` ("PRIVATE KEY", "CERTIFICATE") in `text`.
std::string pem_block(const std::string& text, const std::string& kind) {
  auto begin_marker = "-----BEGIN " + kind + "-----";
  auto end_marker = "-----END " + kind + "-----";
  auto begin = text.find(begin_marker);
  auto end = text.find(end_marker, begin == std::string::npos ? 0 : begin);
  if (begin == std::string::npos || end == std::string::npos) {
    throw std::runtime_error("agent.pem holds no " + kind);
  }
  return text.substr(begin, end + end_marker.size() - begin) + "\n";
}

}  // namespace

std::optional<agent_identity> agent_identity::load(const fs::path& state_dir) {
  auto meta = state_dir / "identity.json";
  if (!fs::exists(meta)) {
    return std::nullopt;
  }
  agent_identity id;
  try {
    auto obj = json::parse(read_file(meta)).as_object();
    id.node_id = obj.at("node_id").as_int64();
    id.controller_url = std::string(obj.at("controller_url").as_string());
  } catch (const std::exception& e) {
    throw std::runtime_error("damaged " + meta.string() + ": " + e.what());
  }
  auto bundle = read_file(state_dir / "agent.pem");
  id.key_pem = pem_block(bundle, "PRIVATE KEY");
  id.cert_pem = pem_block(bundle, "CERTIFICATE");
  id.ca_pem = read_file(state_dir / "ca.pem");
  if (!key_matches_certificate(id.key_pem, id.cert_pem)) {
    throw std::runtime_error("agent.pem: the key does not belong to the certificate");
  }
  return id;
}

void agent_identity::save(const fs::path& state_dir) const {
  fs::create_directories(state_dir);
  write_file_atomic(state_dir / "ca.pem", ca_pem, secret_mode);
  write_file_atomic(state_dir / "agent.pem", key_pem + cert_pem, secret_mode);
  write_file_atomic(state_dir / "identity.json",
                    json::serialize(json::object{{"node_id", node_id}, {"controller_url", controller_url}}),
                    secret_mode);
}

std::chrono::system_clock::time_point agent_identity::not_before() const {
  return inspect_certificate(cert_pem).not_before;
}

std::chrono::system_clock::time_point agent_identity::not_after() const {
  return inspect_certificate(cert_pem).not_after;
}

}  // namespace derpmgr::agent
