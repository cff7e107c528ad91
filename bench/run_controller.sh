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
source "$(dirname "$0")/common.sh"
client_cpus=${DERPMGR_BENCH_CLIENT_CPUS-1}

bench_build derpmgr_controller_bench needs-services

export ASAN_OPTIONS=detect_leaks=0
pin=()
[ -n "$client_cpus" ] && pin=(taskset -c "$client_cpus")
"${pin[@]}" "$build/bench/derpmgr_controller_bench" "$@"
