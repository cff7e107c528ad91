#!/usr/bin/env bash
# Agent memory and CPU while it manages 100 derper containers (the stand-in image), idle and reconciling: an
# in-process controller on the test MariaDB, one node on a random 127.0.0.x, the real derpmgr-agent binary of the
# same build. Creating 100 containers on the vfs storage driver takes minutes. The containers are removed at the end.
#
#   scripts/services.sh start            # once; or DERPMGR_RUN_DIR=<checkout running them>/.run
#   bench/run_agent.sh                   build/ (Debug + ASan/UBSan: the agent's memory is the sanitizer's)
#   DERPMGR_BENCH_BUILD_DIR=build-release DERPMGR_BENCH_BUILD_TYPE=Release bench/run_agent.sh
#
# DERPMGR_BENCH_CONTAINERS (100), DERPMGR_BENCH_IDLE_SECONDS (60), DERPMGR_BENCH_RECREATE (10 allocations replaced),
# DERPMGR_BENCH_CONVERGE_TIMEOUT (1800 s). Extra arguments go to doctest.
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
ninja -C "$build" -j "${DERPMGR_BUILD_JOBS:-$(nproc)}" derpmgr_agent_bench
docker image inspect "$DERPMGR_TEST_DERPER_IMAGE" >/dev/null || {
  echo "bench: the derper stand-in image $DERPMGR_TEST_DERPER_IMAGE is missing (scripts/services.sh start builds it)" >&2
  exit 1
}

echo "bench: $(grep -m1 CMAKE_BUILD_TYPE: "$build/CMakeCache.txt"), $(nproc) CPUs, $(uname -srm), load $(cut -d' ' -f1-3 /proc/loadavg)"
export ASAN_OPTIONS=detect_leaks=0
"$build/bench/derpmgr_agent_bench" "$@"
