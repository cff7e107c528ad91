#include "shared/protocol/messages.hpp"

#include <doctest/doctest.h>

using namespace derpmgr::protocol;

namespace {

allocation_spec spec(std::int64_t id) {
  allocation_spec a;
  a.id = id;
  a.config_version = 2;
  a.image = "derper:1";
  a.public_host = "127.0.0.2";
  a.bind_ip = "127.0.0.2";
  a.port = 40000 + static_cast<int>(id);
  a.admission_token = "tok" + std::to_string(id);
  a.cert_pem = "cert";
  a.key_pem = "key";
  a.allowed_keys = {"nodekey:" + std::string(64, 'a')};
  return a;
}

}  // namespace

TEST_CASE("a desired snapshot survives encoding") {
  desired_state state{7, 12, {spec(1), spec(3)}};
  auto f = parse_frame(encode_snapshot(state));
  CHECK(f.type == "desired_snapshot");
  CHECK(snapshot_from(f.body) == state);
}

TEST_CASE("deltas upsert and remove by id and keep the order") {
  desired_state state{7, 12, {spec(1), spec(3)}};
  auto changed = spec(3);
  changed.config_version = 3;
  desired_delta d{12, 13, {spec(2), changed}, {1}};
  auto decoded = delta_from(parse_frame(encode(d)).body);
  CHECK(decoded.base_generation == 12);
  apply_delta(state, decoded.generation, decoded.upsert, decoded.remove);
  REQUIRE(state.allocations.size() == 2);
  CHECK(state.generation == 13);
  CHECK(state.allocations[0].id == 2);
  CHECK(state.allocations[1].config_version == 3);
  CHECK(state.find(1) == nullptr);
  CHECK(state.find(3) != nullptr);
}

TEST_CASE("malformed frames name what is wrong") {
  CHECK_THROWS_AS(parse_frame("not json"), protocol_error);
  CHECK_THROWS_AS(parse_frame("[1]"), protocol_error);
  CHECK_THROWS_WITH_AS(parse_frame(R"({"kind":"hello"})"), "field type must be a string", protocol_error);
  auto f = parse_frame(R"({"type":"desired_snapshot","node_id":1,"generation":2,"allocations":[{"id":1}]})");
  CHECK_THROWS_WITH_AS(snapshot_from(f.body), "field config_version must be an integer", protocol_error);
  auto port = parse_frame(encode_snapshot(desired_state{1, 1, {spec(1)}}));
  port.body["allocations"].as_array()[0].as_object()["port"] = 70000;
  CHECK_THROWS_WITH_AS(snapshot_from(port.body), "field port must be 1-65535", protocol_error);
}

TEST_CASE("hello, status and enrollment round trip") {
  hello h;
  h.agent_version = "0.1.0";
  h.host.hostname = "derp-1";
  h.containers = {{5, "running"}};
  h.desired_generation = 9;
  auto hb = hello_from(parse_frame(encode(h)).body);
  CHECK(hb.versions == std::vector<int>{1});
  CHECK(hb.containers.size() == 1);
  CHECK(hb.desired_generation == 9);

  status s{9, {{5, 2, "error", "port_in_use"}}, {"docker unreachable"}};
  auto sb = status_from(parse_frame(encode(s)).body);
  CHECK(sb.allocations == s.allocations);
  CHECK(sb.errors == s.errors);

  auto er = enroll_request_from(encode(enroll_request{"t", "csr"}));
  CHECK(er.token == "t");
  CHECK_THROWS_AS(enroll_request_from(R"({"token":5})"), protocol_error);
}

TEST_CASE("a diff carries exactly what changed") {
  desired_state from{7, 12, {spec(1), spec(2), spec(3)}};
  desired_state to = from;
  to.generation = 15;
  to.allocations[1].allowed_keys.push_back("nodekey:" + std::string(64, 'b'));
  to.allocations.erase(to.allocations.begin());
  to.allocations.push_back(spec(9));
  auto d = diff_states(from, to);
  CHECK(d.base_generation == 12);
  CHECK(d.generation == 15);
  REQUIRE(d.upsert.size() == 2);
  CHECK(d.upsert[0].id == 2);
  CHECK(d.upsert[1].id == 9);
  CHECK(d.remove == std::vector<std::int64_t>{1});
  apply_delta(from, d.generation, d.upsert, d.remove);
  CHECK(from == to);
}
