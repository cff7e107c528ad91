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
source "$(dirname "$0")/common.sh"
bench_build derpmgr_agent_bench needs-services
docker image inspect "$DERPMGR_TEST_DERPER_IMAGE" >/dev/null || {
  echo "bench: the derper stand-in image $DERPMGR_TEST_DERPER_IMAGE is missing (scripts/services.sh start builds it)" >&2
  exit 1
}

export ASAN_OPTIONS=detect_leaks=0
"$build/bench/derpmgr_agent_bench" "$@"
