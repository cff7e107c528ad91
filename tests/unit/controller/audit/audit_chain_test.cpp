#include "controller/audit/audit_chain.hpp"

#include <doctest/doctest.h>

#include "controller/audit/audit_errors.hpp"

using namespace derpmgr;
using namespace derpmgr::controller::audit;

namespace {

time_point at_noon() {
  return time_point{std::chrono::sys_days{std::chrono::year{2026} / 3 / 14}.time_since_epoch() +
                    std::chrono::hours{12}};
}

audit_record sample_row() {
  audit_record r;
  r.seq = 7;
  r.at = at_noon() + std::chrono::microseconds{250};
  r.actor_kind = "admin";
  r.actor_id = 3;
  r.action = "admin.mfa.reset";
  r.target = "admin:9";
  r.ip = "203.0.113.5";
  r.user_agent = "curl/8.0";
  r.details = R"({"reason":"lost phone"})";
  r.prev_hash = std::string(genesis_hash);
  return r;
}

audit_entry sample_entry() {
  audit_entry e;
  e.actor_kind = audit_actor::admin;
  e.actor_id = 3;
  e.action = "admin.mfa.reset";
  e.target = "admin:9";
  e.ip = "203.0.113.5";
  e.user_agent = "curl/8.0";
  e.details = audit_details({{"reason", "lost phone"}});
  return e;
}

}  // namespace

TEST_CASE("audit rows whose fields concatenate alike still serialise and hash differently") {
  auto a = sample_row();
  auto b = sample_row();
  a.action = "admin.mfa";
  a.target = ".resetadmin:9";
  b.action = "admin.mfa.reset";
  b.target = "admin:9";
  CHECK(a.action + a.target == b.action + b.target);
  CHECK(chain_text(a) != chain_text(b));
  CHECK(chain_hash(a) != chain_hash(b));

  // A field that itself looks like a length prefix cannot shift the boundary either.
  auto c = sample_row();
  auto d = sample_row();
  c.ip = "1:x";
  c.user_agent = "";
  d.ip = "";
  d.user_agent = "1:x";
  CHECK(chain_hash(c) != chain_hash(d));

  // Text moved between user_agent and details.
  auto e = sample_row();
  auto f = sample_row();
  e.user_agent = "curl/8.0{";
  e.details = "}";
  f.user_agent = "curl/8.0";
  f.details = "{}";
  CHECK(chain_hash(e) != chain_hash(f));
}

TEST_CASE("a NULL actor_id and every other field change the audit hash") {
  auto base = sample_row();
  auto no_actor = base;
  no_actor.actor_id.reset();
  CHECK(chain_hash(no_actor) != chain_hash(base));

  auto later = base;
  later.at += std::chrono::microseconds{1};
  CHECK(chain_hash(later) != chain_hash(base));

  auto renumbered = base;
  renumbered.seq = 8;
  CHECK(chain_hash(renumbered) != chain_hash(base));

  auto relinked = base;
  relinked.prev_hash = std::string(64, 'f');
  CHECK(chain_hash(relinked) != chain_hash(base));

  auto other_kind = base;
  other_kind.actor_kind = "system";
  CHECK(chain_hash(other_kind) != chain_hash(base));

  // The stored hash itself is not part of what it covers.
  auto hashed = base;
  hashed.hash = "anything";
  CHECK(chain_hash(hashed) == chain_hash(base));
}

TEST_CASE("the audit serialisation is length-prefixed stored text with six fractional digits") {
  auto text = chain_text(sample_row());
  CHECK(text.find("derpmgr-audit-v1\n") == 0);
  CHECK(text.find("64:" + std::string(genesis_hash)) != std::string::npos);
  CHECK(text.find("1:7") != std::string::npos);
  CHECK(text.find("26:2026-03-14 12:00:00.000250") != std::string::npos);
  CHECK(text.find("15:admin.mfa.reset") != std::string::npos);
  CHECK(chain_hash(sample_row()).size() == 64);
}

TEST_CASE("seal numbers, links and hashes an audit entry") {
  auto r = seal(sample_entry(), 7, at_noon() + std::chrono::microseconds{250}, genesis_hash);
  CHECK(r.seq == 7);
  CHECK(r.actor_kind == "admin");
  CHECK(r.details == R"({"reason":"lost phone"})");
  CHECK(r.prev_hash == genesis_hash);
  CHECK(r.hash == chain_hash(r));
  CHECK(r.hash == chain_hash(sample_row()));
}

TEST_CASE("seal fits client-supplied text to its column and refuses malformed audit entries") {
  auto e = sample_entry();
  e.user_agent = std::string(300, 'u');
  e.ip = "bad\xff";
  auto r = seal(e, 1, at_noon(), genesis_hash);
  CHECK(r.user_agent == std::string(255, 'u'));
  CHECK(r.ip == "bad\xEF\xBF\xBD");

  auto bad_action = sample_entry();
  bad_action.action = "Admin.Reset";
  CHECK_THROWS_AS(seal(bad_action, 1, at_noon(), genesis_hash), invalid_audit_entry);
  bad_action.action = "";
  CHECK_THROWS_AS(seal(bad_action, 1, at_noon(), genesis_hash), invalid_audit_entry);
  bad_action.action = std::string(65, 'a');
  CHECK_THROWS_AS(seal(bad_action, 1, at_noon(), genesis_hash), invalid_audit_entry);

  auto bad_target = sample_entry();
  bad_target.target = std::string(129, 't');
  CHECK_THROWS_AS(seal(bad_target, 1, at_noon(), genesis_hash), invalid_audit_entry);
  bad_target.target = "user:\xc0\x80";
  CHECK_THROWS_AS(seal(bad_target, 1, at_noon(), genesis_hash), invalid_audit_entry);
  bad_target.target = std::string(128, 't');
  CHECK_NOTHROW(seal(bad_target, 1, at_noon(), genesis_hash));
}
