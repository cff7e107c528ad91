// Admission benchmark server (not part of ctest): the agent's admission_server, exactly as the agent runs it (one
// io_context thread), answering from a table of many allocations. bench/run_admission.sh starts it pinned to one
// core and drives it with wrk, next to nginx answering a fixed 200 JSON; see bench/README.md.
//
//   derpmgr_admission_bench [--allocations N] [--keys K] [--port P] [--wrk-script FILE] [--deny]
//
// Prints "port <p>" once listening, writes a wrk script that POSTs one allowed key (or, with --deny, a key no
// allocation allows) to /admit/<token>, serves until SIGINT/SIGTERM, then prints the decisions it counted.
#include <signal.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <string>

#include "agent/admission/admission_server.hpp"
#include "agent/admission/admission_table.hpp"
#include "shared/clock/clock.hpp"
#include "shared/tls/random.hpp"

using namespace derpmgr;

namespace {

struct bench_options {
  int allocations = 1000;
  int keys = 10;
  int port = 0;
  std::string wrk_script;
  bool deny = false;
};

bench_options parse(int argc, char** argv) {
  bench_options o;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) {
        throw std::invalid_argument(arg + " needs a value");
      }
      return argv[++i];
    };
    if (arg == "--allocations") {
      o.allocations = std::stoi(value());
    } else if (arg == "--keys") {
      o.keys = std::stoi(value());
    } else if (arg == "--port") {
      o.port = std::stoi(value());
    } else if (arg == "--wrk-script") {
      o.wrk_script = value();
    } else if (arg == "--deny") {
      o.deny = true;
    } else {
      throw std::invalid_argument("unknown option " + arg);
    }
  }
  if (o.allocations < 1 || o.keys < 1) {
    throw std::invalid_argument("--allocations and --keys must be at least 1");
  }
  return o;
}

// A desired state of `allocations` allocations with `keys` random allowed keys each (tokens as the controller
// makes them: 32 random hex digits).
protocol::desired_state make_state(int allocations, int keys) {
  protocol::desired_state state;
  state.node_id = 1;
  state.generation = 1;
  for (int i = 0; i < allocations; ++i) {
    protocol::allocation_spec spec;
    spec.id = i + 1;
    spec.admission_token = random_hex(16);
    for (int k = 0; k < keys; ++k) {
      spec.allowed_keys.push_back("nodekey:" + random_hex(32));
    }
    state.allocations.push_back(std::move(spec));
  }
  return state;
}

void write_wrk_script(const std::string& path, const std::string& token, const std::string& key) {
  std::ofstream out(path);
  out << "-- written by derpmgr_admission_bench: derper's admission request for one allocation\n"
      << "wrk.method = \"POST\"\n"
      << "wrk.path = \"/admit/" << token << "\"\n"
      << "wrk.headers[\"Content-Type\"] = \"application/json\"\n"
      << "wrk.body = '{\"NodePublic\":\"" << key << "\",\"Source\":\"1.2.3.4\"}'\n";
  if (!out) {
    throw std::runtime_error("cannot write " + path);
  }
}

}  // namespace

int main(int argc, char** argv) {
  try {
    auto options = parse(argc, argv);
    // Block the stop signals before any thread starts, so only sigwait below sees them.
    sigset_t stop_signals;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGINT);
    sigaddset(&stop_signals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

    system_clock clk;
    agent::admission_table table(clk);
    auto state = make_state(options.allocations, options.keys);
    table.update(state);
    // A key in the middle of the table, so the lookup is not the first entry of anything.
    const auto& chosen = state.allocations[state.allocations.size() / 2];
    const std::string key = options.deny ? "nodekey:" + random_hex(32) : chosen.allowed_keys.back();
    if (!options.wrk_script.empty()) {
      write_wrk_script(options.wrk_script, chosen.admission_token, key);
    }

    agent::admission_options server_options;
    server_options.listen = listen_address{"127.0.0.1", static_cast<std::uint16_t>(options.port)};
    agent::admission_server server(server_options, table);
    server.start();
    std::printf("port %u\n", static_cast<unsigned>(server.port()));
    std::fflush(stdout);

    int received = 0;
    sigwait(&stop_signals, &received);
    server.stop();
    auto report = table.take_report();
    std::uint64_t admitted = 0;
    std::uint64_t rejected = 0;
    for (const auto& a : report.admitted) {
      admitted += a.count;
    }
    for (const auto& r : report.rejected) {
      rejected += r.count;
    }
    std::printf("decisions: %llu admitted, %llu refused, %llu malformed\n",
                static_cast<unsigned long long>(admitted), static_cast<unsigned long long>(rejected),
                static_cast<unsigned long long>(report.malformed));
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "derpmgr_admission_bench: %s\n", e.what());
    return 1;
  }
}
