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
source "$(dirname "$0")/common.sh"
bench_build derpmgr_commerce_bench needs-services

"$build/bench/derpmgr_commerce_bench" "$@"
