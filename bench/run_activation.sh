#!/usr/bin/env bash
# Activation latency: a customer redeems a serial through the HTTPS API and the benchmark times until all three
# servers of the rental answer GET /derp/probe over TLS with their pins, 20 times. An in-process controller with the
# production job intervals (placement every 2 s), three nodes on random 127.0.0.x with the real derpmgr-agent of the
# same build, the derper stand-in image. Each rental is cancelled after it is measured and its containers are
# removed before the next one; whatever is left is removed at the end (also when an assertion fails).
#
#   scripts/services.sh start            # once; or DERPMGR_RUN_DIR=<checkout running them>/.run
#   bench/run_activation.sh              build/ (Debug + ASan/UBSan)
#   DERPMGR_BENCH_BUILD_DIR=build-release DERPMGR_BENCH_BUILD_TYPE=Release bench/run_activation.sh
#
# DERPMGR_BENCH_ACTIVATIONS (20), DERPMGR_BENCH_ACTIVATION_TIMEOUT (180 s each), DERPMGR_BENCH_POLL_MS (10).
# Extra arguments go to doctest.
set -euo pipefail
source "$(dirname "$0")/common.sh"
bench_build derpmgr_activation_bench needs-services
docker image inspect "$DERPMGR_TEST_DERPER_IMAGE" >/dev/null || {
  echo "bench: the derper stand-in image $DERPMGR_TEST_DERPER_IMAGE is missing (scripts/services.sh start builds it)" >&2
  exit 1
}

export ASAN_OPTIONS=detect_leaks=0
"$build/bench/derpmgr_activation_bench" "$@"
