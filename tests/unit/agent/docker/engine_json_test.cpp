#include "agent/docker/engine_json.hpp"

#include <doctest/doctest.h>

#include <boost/json.hpp>
#include <string>
#include <vector>

namespace json = boost::json;
using namespace derpmgr::agent;

namespace {

container_spec derper_spec() {
  container_spec spec;
  spec.name = "derpmgr-3-17";
  spec.image = "ghcr.io/example/derper:1.84";
  spec.args = {"-a", "127.0.0.2:40001", "-stun-port", "40001"};
  spec.labels = {{"derpmgr.node", "3"}, {"derpmgr.allocation", "17"}, {"derpmgr.generation", "5"}};
  spec.binds = {{"/var/lib/derpmgr-agent/certs/17", "/certs", true},
                {"/var/lib/derpmgr-agent/data/17", "/data", false}};
  spec.memory_bytes = 128LL * 1024 * 1024;
  spec.pids_limit = 64;
  spec.log_max_size = "5m";
  spec.log_max_file = 2;
  return spec;
}

std::vector<std::string> strings(const json::value& value) {
  std::vector<std::string> result;
  for (const json::value& item : value.as_array()) {
    result.emplace_back(item.as_string());
  }
  return result;
}

}  // namespace

TEST_CASE("create_body maps a container spec onto the v1.41 create fields") {
  const json::value body = json::parse(engine_json::create_body(derper_spec()));
  const json::object& root = body.as_object();

  CHECK(root.at("Image").as_string() == "ghcr.io/example/derper:1.84");
  CHECK(strings(root.at("Cmd")) == std::vector<std::string>{"-a", "127.0.0.2:40001", "-stun-port", "40001"});
  CHECK(root.at("Labels").as_object().size() == 3);
  CHECK(root.at("Labels").at("derpmgr.node").as_string() == "3");
  CHECK(root.at("Labels").at("derpmgr.allocation").as_string() == "17");
  CHECK_FALSE(root.contains("name"));

  const json::object& host = root.at("HostConfig").as_object();
  CHECK(host.at("NetworkMode").as_string() == "host");
  CHECK(host.at("ReadonlyRootfs").as_bool());
  CHECK(strings(host.at("CapDrop")) == std::vector<std::string>{"ALL"});
  CHECK(strings(host.at("SecurityOpt")) == std::vector<std::string>{"no-new-privileges"});
  CHECK(host.at("Memory").to_number<std::int64_t>() == 128LL * 1024 * 1024);
  CHECK(host.at("MemorySwap").to_number<std::int64_t>() == 128LL * 1024 * 1024);
  CHECK(host.at("PidsLimit").to_number<std::int64_t>() == 64);
  CHECK(strings(host.at("Binds")) == std::vector<std::string>{"/var/lib/derpmgr-agent/certs/17:/certs:ro",
                                                              "/var/lib/derpmgr-agent/data/17:/data:rw"});
  CHECK(host.at("LogConfig").at("Type").as_string() == "json-file");
  CHECK(host.at("LogConfig").at("Config").at("max-size").as_string() == "5m");
  CHECK(host.at("LogConfig").at("Config").at("max-file").as_string() == "2");
  CHECK(host.at("RestartPolicy").at("Name").as_string() == "no");
}

TEST_CASE("a default container spec is hardened") {
  const container_spec spec;
  CHECK(spec.network_mode == "host");
  CHECK(spec.read_only_rootfs);
  CHECK(spec.cap_drop == std::vector<std::string>{"ALL"});
  CHECK(spec.security_opt == std::vector<std::string>{"no-new-privileges"});
  CHECK_FALSE(spec.log_max_size.empty());
  CHECK(spec.log_max_file > 0);
}

TEST_CASE("create_body writes empty lists as arrays, never null") {
  container_spec spec;
  spec.name = "bare";
  spec.image = "busybox";
  const json::value body = json::parse(engine_json::create_body(spec));
  CHECK(body.at("Cmd").as_array().empty());
  CHECK(body.at("Labels").as_object().empty());
  CHECK(body.at("HostConfig").at("Binds").as_array().empty());
}

TEST_CASE("label_filters selects by one label") {
  const json::value filters = json::parse(engine_json::label_filters("derpmgr.node=3"));
  CHECK(strings(filters.at("label")) == std::vector<std::string>{"derpmgr.node=3"});
  CHECK(filters.as_object().size() == 1);
}

TEST_CASE("parse_version reads the engine and API versions") {
  const engine_version version = engine_json::parse_version(
      R"({"Version":"20.10.24+dfsg1","ApiVersion":"1.41","MinAPIVersion":"1.12","Os":"linux"})");
  CHECK(version.version == "20.10.24+dfsg1");
  CHECK(version.api_version == "1.41");
  CHECK(version.min_api_version == "1.12");
}

TEST_CASE("parse_container_list reads names without the slash, states and labels") {
  const auto containers = engine_json::parse_container_list(R"([
    {"Id":"abc","Names":["/derpmgr-3-17"],"Image":"derper:1","State":"running","Status":"Up 2 minutes",
     "Labels":{"derpmgr.node":"3"}},
    {"Id":"def","Names":["/other"],"Image":"busybox","State":"exited","Labels":null}
  ])");
  REQUIRE(containers.size() == 2);
  CHECK(containers[0].id == "abc");
  CHECK(containers[0].name == "derpmgr-3-17");
  CHECK(containers[0].image == "derper:1");
  CHECK(containers[0].state == container_state::running);
  CHECK(containers[0].labels == label_map{{"derpmgr.node", "3"}});
  CHECK(containers[1].state == container_state::exited);
  CHECK(containers[1].labels.empty());
  CHECK(engine_json::parse_container_list("[]").empty());
}

TEST_CASE("parse_container_inspect reads state and the configuration back as a spec") {
  const container_details details = engine_json::parse_container_inspect(R"({
    "Id":"abc123","Name":"/derpmgr-3-17",
    "State":{"Status":"exited","Running":false,"OOMKilled":true,"ExitCode":137,
             "StartedAt":"2026-01-02T03:04:05.123456789Z","FinishedAt":"2026-01-02T03:05:00Z"},
    "Config":{"Image":"ghcr.io/example/derper:1.84","Cmd":["-a","127.0.0.2:40001","-stun-port","40001"],
              "Labels":{"derpmgr.node":"3","derpmgr.allocation":"17","derpmgr.generation":"5"}},
    "HostConfig":{"NetworkMode":"host","ReadonlyRootfs":true,"CapDrop":["ALL"],
                  "SecurityOpt":["no-new-privileges"],"Memory":134217728,"PidsLimit":64,
                  "Binds":["/var/lib/derpmgr-agent/certs/17:/certs:ro","/var/lib/derpmgr-agent/data/17:/data:rw"],
                  "LogConfig":{"Type":"json-file","Config":{"max-file":"2","max-size":"5m"}},
                  "RestartPolicy":{"Name":"no","MaximumRetryCount":0}}
  })");
  CHECK(details.id == "abc123");
  CHECK(details.name == "derpmgr-3-17");
  CHECK(details.state == container_state::exited);
  CHECK(details.exit_code == 137);
  CHECK(details.oom_killed);
  CHECK(details.started_at == "2026-01-02T03:04:05.123456789Z");
  CHECK(details.finished_at == "2026-01-02T03:05:00Z");
  CHECK(details.config == derper_spec());
}

TEST_CASE("parse_container_inspect treats Docker's nulls as empty") {
  const container_details details = engine_json::parse_container_inspect(R"({
    "Id":"x","Name":"/x","State":{"Status":"created","ExitCode":0},
    "Config":{"Image":"busybox","Cmd":null,"Labels":null},
    "HostConfig":{"NetworkMode":"default","Binds":null,"CapDrop":null,"SecurityOpt":null,"PidsLimit":null,
                  "LogConfig":{"Type":"json-file","Config":{}}}
  })");
  CHECK(details.state == container_state::created);
  CHECK(details.config.args.empty());
  CHECK(details.config.labels.empty());
  CHECK(details.config.binds.empty());
  CHECK(details.config.cap_drop.empty());
  CHECK(details.config.security_opt.empty());
  CHECK(details.config.pids_limit == 0);
  CHECK_FALSE(details.config.read_only_rootfs);
  CHECK(details.config.log_max_file == 0);
}

TEST_CASE("parse_container_inspect reads bind options beyond ro") {
  const container_details details = engine_json::parse_container_inspect(R"({
    "Id":"x","Name":"/x","State":{"Status":"running"},"Config":{"Image":"busybox"},
    "HostConfig":{"Binds":["/a:/b","/c:/d:z,ro","/e:/f:rw,Z"]}
  })");
  REQUIRE(details.config.binds.size() == 3);
  CHECK(details.config.binds[0] == bind_mount{"/a", "/b", false});
  CHECK(details.config.binds[1] == bind_mount{"/c", "/d", true});
  CHECK(details.config.binds[2] == bind_mount{"/e", "/f", false});
}

TEST_CASE("unreadable answers are errors, not empty values") {
  CHECK_THROWS(engine_json::parse_container_list("{\"message\":\"x\"}"));
  CHECK_THROWS(engine_json::parse_container_list("not json"));
  CHECK_THROWS(engine_json::parse_container_inspect("[]"));
  CHECK_THROWS(engine_json::parse_created_id("{\"Warnings\":[]}"));
  CHECK(engine_json::parse_created_id(R"({"Id":"f00d","Warnings":[]})") == "f00d");
}

TEST_CASE("parse_error_message prefers the engine's message and falls back to the body") {
  CHECK(engine_json::parse_error_message(R"({"message":"No such image: nope:latest"})") ==
        "No such image: nope:latest");
  CHECK(engine_json::parse_error_message("page not found\n") == "page not found");
  CHECK(engine_json::parse_error_message("") == "(no message)");
}
