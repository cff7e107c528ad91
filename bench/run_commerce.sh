#!/usr/bin/env bash
# Builds and runs the commerce benchmark against the test services (scripts/services.sh start).
#
#   bench/run_commerce.sh                       build/ (the Debug + ASan/UBSan build scripts/build.sh makes)
#   DERPMGR_BENCH_BUILD_DIR=build-release DERPMGR_BENCH_BUILD_TYPE=Release bench/run_commerce.sh
#                                               configures that folder once (no sanitizers outside Debug)
#   bench/run_commerce.sh -tc='*redeem*'        doctest options pick one benchmark
#
# Sizes: DERPMGR_BENCH_SERIALS (10000 codes per batch), DERPMGR_BENCH_ROUNDS (3 batches),
# DERPMGR_BENCH_REDEMPTIONS (1000), DERPMGR_BENCH_CLIENTS (50 concurrent clients).
# Services started from another checkout are found with DERPMGR_RUN_DIR=<that checkout>/.run.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
build=${DERPMGR_BENCH_BUILD_DIR:-build}
type=${DERPMGR_BENCH_BUILD_TYPE:-Debug}

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
ninja -C "$build" -j "${DERPMGR_BUILD_JOBS:-$(nproc)}" derpmgr_commerce_bench

echo "bench: $(grep -m1 CMAKE_BUILD_TYPE: "$build/CMakeCache.txt"), $(nproc) CPUs, $(uname -srm)"
"$build/bench/derpmgr_commerce_bench" "$@"
