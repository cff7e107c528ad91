#include "agent/reconcile/container_layout.hpp"

#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "tests/support/test_env.hpp"
#include "tests/support/temp_dir.hpp"

using namespace derpmgr::agent;
using derpmgr::protocol::allocation_spec;
namespace fs = std::filesystem;
using derpmgr::test::temp_dir;

namespace {

allocation_spec sample_spec() {
  allocation_spec spec;
  spec.id = 42;
  spec.config_version = 7;
  spec.image = "derpmgr-derper:1.84";
  spec.bind_ip = "127.0.0.2";
  spec.public_host = "127.0.0.2";
  spec.port = 40123;
  spec.admission_token = "Zk3_tok-en";
  spec.cert_pem = "CERT\n";
  spec.key_pem = "KEY\n";
  return spec;
}

std::string slurp(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace

TEST_CASE("container layout: derper's flags exactly as DESIGN §5") {
  const allocation_spec spec = sample_spec();
  CHECK(derper_args(spec, "127.0.0.1", 7946) ==
        std::vector<std::string>{"-a", "127.0.0.2:40123", "-stun-port", "40123", "-http-port", "-1", "-certmode",
                                 "manual", "-certdir", "/certs", "-hostname", "127.0.0.2", "-c", "/data/derper.key",
                                 "-verify-client-url", "http://127.0.0.1:7946/admit/Zk3_tok-en",
                                 "-verify-client-url-fail-open=false"});
}

TEST_CASE("container layout: the listen flag for all addresses, IPv4 and IPv6") {
  CHECK(derper_listen_arg("", 443) == ":443");
  CHECK(derper_listen_arg("127.0.0.3", 40000) == "127.0.0.3:40000");
  CHECK(derper_listen_arg("2001:db8::7", 40000) == "[2001:db8::7]:40000");
  CHECK(derper_listen_arg("::1", 8443) == "[::1]:8443");

  allocation_spec spec = sample_spec();
  spec.bind_ip = "2001:db8::7";
  spec.public_host = "2001:db8::7";
  const auto args = derper_args(spec, "::1", 7000);
  CHECK(args[1] == "[2001:db8::7]:40123");
  CHECK(args[11] == "2001:db8::7");
  CHECK(args[15] == "http://[::1]:7000/admit/Zk3_tok-en");
  spec.bind_ip.clear();
  CHECK(derper_args(spec, "127.0.0.1", 7000)[1] == ":40123");
}

TEST_CASE("container layout: a bandwidth cap adds the rate config flag and its JSON") {
  allocation_spec spec = sample_spec();
  spec.rate_bytes_per_sec = 1250000;
  spec.rate_burst_bytes = 2500000;
  const auto args = derper_args(spec, "127.0.0.1", 7946);
  REQUIRE(args.size() == 19);
  CHECK(args[17] == "-rate-config");
  CHECK(args[18] == "/certs/rate.json");
  CHECK(rate_config_json(spec) == R"({"PerClientRateLimitBytesPerSec":1250000,"PerClientRateBurstBytes":2500000})");
}

TEST_CASE("container layout: the container spec — name, labels, mounts, hardening and limits") {
  const temp_dir dir{"layout", false};
  layout_options options;
  options.state_dir = dir.path();
  options.admission_port = 7999;
  const container_layout layout(options);
  allocation_spec spec = sample_spec();

  const container_spec c = layout.spec_for(9, spec);
  CHECK(c.name == "derpmgr-9-42");
  CHECK(container_name(9, 42) == "derpmgr-9-42");
  CHECK(c.image == "derpmgr-derper:1.84");
  CHECK(c.args == derper_args(spec, "127.0.0.1", 7999));
  CHECK(c.labels == label_map{{"derpmgr.node", "9"}, {"derpmgr.allocation", "42"}, {"derpmgr.generation", "7"}});
  REQUIRE(c.binds.size() == 2);
  CHECK(c.binds[0] == bind_mount{(dir.path() / "allocations/42/certs").string(), "/certs", true});
  CHECK(c.binds[1] == bind_mount{(dir.path() / "allocations/42/data").string(), "/data", false});
  CHECK(c.network_mode == "host");
  CHECK(c.read_only_rootfs);
  CHECK(c.cap_drop == std::vector<std::string>{"ALL"});
  CHECK(c.security_opt == std::vector<std::string>{"no-new-privileges"});
  CHECK(c.memory_bytes == 256LL * 1024 * 1024);
  CHECK(c.pids_limit == 256);
  CHECK(c.log_max_size == "10m");
  CHECK(c.log_max_file == 3);

  spec.memory_bytes = 64LL << 20;
  spec.pids_limit = 50;
  const container_spec limited = layout.spec_for(9, spec);
  CHECK(limited.memory_bytes == 64LL << 20);
  CHECK(limited.pids_limit == 50);

  options.command_prefix = {"sh", "-c", "exec sleep 3600", "derper"};
  const container_spec prefixed = container_layout(options).spec_for(9, spec);
  REQUIRE(prefixed.args.size() == 4 + 17);
  CHECK(prefixed.args[0] == "sh");
  CHECK(prefixed.args[3] == "derper");
  CHECK(prefixed.args[4] == "-a");
}

TEST_CASE("container layout: host names and tokens that could escape their folder or URL are refused") {
  const temp_dir dir{"layout", false};
  const container_layout layout(layout_options{.state_dir = dir.path()});
  allocation_spec spec = sample_spec();
  for (const char* host : {"", "..", "../etc", "a/b", ".hidden", "host name"}) {
    spec.public_host = host;
    CHECK_THROWS_AS(layout.paths(spec), invalid_allocation);
  }
  spec.public_host = "derp1.example.net";
  CHECK_NOTHROW(layout.paths(spec));
  for (const char* token : {"", "a/b", "a?b", "a b"}) {
    spec.admission_token = token;
    CHECK_THROWS_AS(layout.spec_for(1, spec), invalid_allocation);
  }
}

TEST_CASE("container layout: files on disk — written private, compared exactly, stale ones removed") {
  const temp_dir dir{"layout", false};
  const container_layout layout(layout_options{.state_dir = dir.path()});
  allocation_spec spec = sample_spec();
  const allocation_paths paths = layout.paths(spec);
  CHECK(paths.cert_file == dir.path() / "allocations/42/certs/127.0.0.2.crt");
  CHECK(paths.key_file == dir.path() / "allocations/42/certs/127.0.0.2.key");

  CHECK_FALSE(layout.files_match(spec));
  layout.write_files(spec);
  CHECK(layout.files_match(spec));
  CHECK(slurp(paths.cert_file) == "CERT\n");
  CHECK(slurp(paths.key_file) == "KEY\n");
  CHECK(fs::status(paths.key_file).permissions() == (fs::perms::owner_read | fs::perms::owner_write));
  CHECK(fs::status(paths.certs_dir).permissions() == fs::perms::owner_all);
  CHECK(fs::is_directory(paths.data_dir));
  CHECK_FALSE(fs::exists(paths.rate_file));

  SUBCASE("a changed certificate no longer matches") {
    spec.cert_pem = "CERT2\n";
    CHECK_FALSE(layout.files_match(spec));
    layout.write_files(spec);
    CHECK(layout.files_match(spec));
  }
  SUBCASE("a file tampered with on disk no longer matches") {
    std::ofstream(paths.key_file, std::ios::trunc) << "OTHER\n";
    CHECK_FALSE(layout.files_match(spec));
  }
  SUBCASE("a rate cap adds rate.json, and dropping it removes the file") {
    spec.rate_bytes_per_sec = 10;
    spec.rate_burst_bytes = 20;
    CHECK_FALSE(layout.files_match(spec));
    layout.write_files(spec);
    CHECK(layout.files_match(spec));
    CHECK(slurp(paths.rate_file) == rate_config_json(spec));
    spec.rate_bytes_per_sec = 0;
    CHECK_FALSE(layout.files_match(spec));
    layout.write_files(spec);
    CHECK(layout.files_match(spec));
    CHECK_FALSE(fs::exists(paths.rate_file));
  }
  SUBCASE("a new host name replaces the old host's files") {
    spec.public_host = "127.0.0.9";
    CHECK_FALSE(layout.files_match(spec));
    layout.write_files(spec);
    CHECK(layout.files_match(spec));
    CHECK_FALSE(fs::exists(paths.cert_file));
    CHECK(fs::exists(dir.path() / "allocations/42/certs/127.0.0.9.crt"));
  }
  SUBCASE("removing the files") {
    fs::create_directories(layout.allocations_dir() / "7");
    fs::create_directories(layout.allocations_dir() / "not-an-id");
    CHECK(layout.allocations_on_disk() == std::vector<std::int64_t>{7, 42});
    layout.remove_files(42);
    CHECK_FALSE(fs::exists(paths.root));
    CHECK(layout.allocations_on_disk() == std::vector<std::int64_t>{7});
    layout.remove_files(42);  // already gone: fine
  }
}

TEST_CASE("container layout: when a container must be recreated") {
  const temp_dir dir{"layout", false};
  const container_layout layout(layout_options{.state_dir = dir.path()});
  const allocation_spec spec = sample_spec();
  const container_spec wanted = layout.spec_for(3, spec);

  container_spec actual = wanted;
  CHECK_FALSE(needs_recreate(actual, wanted));
  actual.labels["org.opencontainers.image.version"] = "1.84";  // the image's own labels do not matter
  CHECK_FALSE(needs_recreate(actual, wanted));

  SUBCASE("another generation") {
    actual.labels["derpmgr.generation"] = "6";
    CHECK(needs_recreate(actual, wanted));
  }
  SUBCASE("no generation label") {
    actual.labels.erase("derpmgr.generation");
    CHECK(needs_recreate(actual, wanted));
  }
  SUBCASE("other args") {
    actual.args.back() = "-verify-client-url-fail-open=true";
    CHECK(needs_recreate(actual, wanted));
  }
  SUBCASE("another image") {
    actual.image = "derper:old";
    CHECK(needs_recreate(actual, wanted));
  }
  SUBCASE("weaker hardening") {
    actual.cap_drop.clear();
    CHECK(needs_recreate(actual, wanted));
  }
  SUBCASE("another memory limit") {
    actual.memory_bytes = 0;
    CHECK(needs_recreate(actual, wanted));
  }
  SUBCASE("a writable certificate folder") {
    actual.binds[0].read_only = false;
    CHECK(needs_recreate(actual, wanted));
  }
}
