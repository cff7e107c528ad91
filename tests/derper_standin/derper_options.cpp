#include "tests/derper_standin/derper_options.hpp"

#include <unistd.h>

#include <cstdlib>
#include <stdexcept>

namespace derpmgr::standin {

namespace {

// Go's tsweb.DefaultCertDir("derper-certs"): <user cache dir>/tailscale/derper-certs.
std::string default_cert_dir() {
  if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg != nullptr && *xdg != '\0') {
    return std::string(xdg) + "/tailscale/derper-certs";
  }
  if (const char* home = std::getenv("HOME"); home != nullptr && *home != '\0') {
    return std::string(home) + "/.cache/tailscale/derper-certs";
  }
  return "";
}

}  // namespace

flag_set derper_flag_set() {
  using k = flag_kind;
  return flag_set(
      "derper",
      {
          {"a", k::string, ":443",
           "server HTTP/HTTPS listen address, in form \":port\", \"ip:port\", or for IPv6 \"[ip]:port\""},
          {"accept-connection-burst", k::integer, "9223372036854775807", "burst limit for accepting new connection"},
          {"accept-connection-limit", k::floating, "+Inf", "rate limit for accepting new connection"},
          {"ace", k::boolean, "false", "whether to enable embedded ACE server"},
          {"acme-eab-key", k::string, "", "ACME external account binding key"},
          {"acme-eab-kid", k::string, "", "ACME external account binding key ID"},
          {"acme-email", k::string, "", "ACME account contact email"},
          {"acme-ip-certs", k::boolean, "false", "get LetsEncrypt certificates for IP addresses"},
          {"bootstrap-dns-names", k::string, "",
           "optional comma-separated list of hostnames to make available at /bootstrap-dns"},
          {"c", k::string, "", "config file path"},
          {"certdir", k::string, default_cert_dir(), "directory to store LetsEncrypt certs, if addr's port is :443"},
          {"certmode", k::string, "letsencrypt", "mode for getting a cert. possible options: manual, letsencrypt"},
          {"derp", k::boolean, "true", "whether to run a DERP server"},
          {"dev", k::boolean, "false", "run in localhost development mode (overrides -a)"},
          {"home", k::string, "", "what to serve at the root path"},
          {"hostname", k::string, "derp.tailscale.com",
           "LetsEncrypt host name, if addr's port is :443; an IP address with --certmode=manual"},
          {"http-port", k::integer, "80", "The port on which to serve HTTP. Set to -1 to disable."},
          {"mesh-psk-file", k::string, "", "if non-empty, path to file containing the mesh pre-shared key file"},
          {"mesh-with", k::string, "", "optional comma-separated list of hostnames to mesh with"},
          {"rate-config", k::string, "", "path to a JSON file with per-client rate limits, reloaded on SIGHUP"},
          {"secrets-cache-dir", k::string, "",
           "directory to cache setec secrets in (required if --secrets-url is set)"},
          {"secrets-path-prefix", k::string, "prod/derp", "setec path prefix for \"meshkey\" secret for DERP mesh key"},
          {"secrets-url", k::string, "", "SETEC server URL for secrets retrieval of mesh key"},
          {"socket", k::string, "",
           "optional alternate path to tailscaled socket (only relevant when using --verify-clients)"},
          {"stun", k::boolean, "true",
           "whether to run a STUN server. It will bind to the same IP (if any) as the --addr flag value."},
          {"stun-port", k::integer, "3478", "The UDP port on which to serve STUN."},
          {"tcp-keepalive-time", k::duration, "10m0s", "TCP keepalive time"},
          {"tcp-user-timeout", k::duration, "15s", "TCP user timeout"},
          {"tcp-write-timeout", k::duration, "2s", "TCP write timeout; 0 results in no timeout being set on writes"},
          {"unpublished-bootstrap-dns-names", k::string, "",
           "optional comma-separated list of hostnames to make available at /bootstrap-dns and not publish in the "
           "list"},
          {"verify-client-url", k::string, "",
           "if non-empty, an admission controller URL for permitting client connections; see "
           "tailcfg.DERPAdmitClientRequest"},
          {"verify-client-url-fail-open", k::boolean, "true",
           "whether we fail open if --verify-client-url is unreachable"},
          {"verify-clients", k::boolean, "false",
           "verify clients to this DERP server through a local tailscaled instance."},
          {"version", k::boolean, "false", "print version and exit"},
      });
}

derper_options derper_options::from(const flag_set& flags) {
  derper_options o;
  o.dev = flags.boolean("dev");
  std::string addr = o.dev ? ":3340" : flags.text("a");
  try {
    o.addr = listen_address::parse(addr);
  } catch (const std::invalid_argument& e) {
    throw std::runtime_error(std::string("invalid server address: ") + e.what());
  }
  o.certmode = flags.text("certmode");
  o.certdir = flags.text("certdir");
  o.hostname = flags.text("hostname");
  o.serve_tls = o.addr.port == 443 || o.certmode == "manual";
  if (o.serve_tls && o.certmode != "manual") {
    throw std::runtime_error(
        "derper: can not start cert provider: the stand-in cannot obtain certificates (-certmode " + o.certmode +
        "); use -certmode manual");
  }
  o.http_port = flags.integer("http-port");
  o.run_stun = flags.boolean("stun");
  long long stun_port = flags.integer("stun-port");
  if (o.run_stun && (stun_port < 0 || stun_port > 65535)) {
    throw std::runtime_error("invalid -stun-port " + std::to_string(stun_port));
  }
  o.stun_port = static_cast<std::uint16_t>(stun_port);
  o.run_derp = flags.boolean("derp");
  o.key_path = flags.text("c");
  if (o.key_path.empty() && !o.dev) {
    if (::getuid() != 0) {
      throw std::runtime_error("derper: -c <config path> not specified");
    }
    o.key_path = "/var/lib/derper/derper.key";
  }
  if (flags.boolean("verify-clients")) {
    throw std::runtime_error("-verify-clients (a local tailscaled) is not supported by the stand-in");
  }
  if (!flags.text("verify-client-url").empty()) {
    o.verify = verify_url::parse(flags.text("verify-client-url"));
  }
  o.verify_fail_open = flags.boolean("verify-client-url-fail-open");
  return o;
}

}  // namespace derpmgr::standin
