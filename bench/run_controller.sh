#!/usr/bin/env bash
# Controller memory and CPU with 1,000 simulated agents connected over mutual TLS: the real
# `derpmgr-controller serve` of the build, on its own schema of the test MariaDB, pinned to CPU 0; the simulated
# agents (one process, Asio coroutines) pinned to CPU 1. The nodes and their client certificates are made directly
# in the database and from the CA.
#
#   scripts/services.sh start            # once; or DERPMGR_RUN_DIR=<checkout running them>/.run
#   bench/run_controller.sh              build/ (Debug + ASan/UBSan)
#   DERPMGR_BENCH_BUILD_DIR=build-release DERPMGR_BENCH_BUILD_TYPE=Release bench/run_controller.sh
#
# DERPMGR_BENCH_AGENTS (1000), DERPMGR_BENCH_HOLD_SECONDS (60), DERPMGR_BENCH_CONNECT_RATE (90 agents started per
# second), DERPMGR_BENCH_HANDSHAKES_PER_SECOND / DERPMGR_BENCH_HANDSHAKE_BURST (the listener's limits; defaults
# 100 / 200 as shipped), DERPMGR_BENCH_CONTROLLER_CPUS (0; empty: not pinned), DERPMGR_BENCH_CLIENT_CPUS (1).
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
build=${DERPMGR_BENCH_BUILD_DIR:-build}
type=${DERPMGR_BENCH_BUILD_TYPE:-Debug}
client_cpus=${DERPMGR_BENCH_CLIENT_CPUS-1}

if ! scripts/services.sh status >/dev/null; then
  echo "bench: the test services are not running; start them with scripts/services.sh start" >&2
  exit 1
fi
eval "$(scripts/services.sh env)"

export CCACHE_BASEDIR="$repo" CCACHE_NOHASHDIR=1 CCACHE_SLOPPINESS=pch_defines,time_macros
if [ ! -f "$build/build.ninja" ]; then
  bash scripts/deps.sh
  cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE="$type" >/dev/null  # sanitizers only in Debug
fi
ninja -C "$build" -j "${DERPMGR_BUILD_JOBS:-$(nproc)}" derpmgr_controller_bench

echo "bench: $(grep -m1 CMAKE_BUILD_TYPE: "$build/CMakeCache.txt"), $(nproc) CPUs, $(uname -srm), load $(cut -d' ' -f1-3 /proc/loadavg)"
export ASAN_OPTIONS=detect_leaks=0
pin=()
[ -n "$client_cpus" ] && pin=(taskset -c "$client_cpus")
"${pin[@]}" "$build/bench/derpmgr_controller_bench" "$@"
