#!/usr/bin/env bash
# `make test`: installs what is missing, builds, starts the test services, runs every suite, stops what it
# started, and exits non-zero on any failure.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"

bash scripts/build.sh

# Stop only the services this run started: when they were all up before, leave them up.
started_here=0
if ! bash scripts/services.sh status >/dev/null 2>&1; then
  started_here=1
fi
cleanup() {
  if [ "$started_here" = 1 ]; then
    bash scripts/services.sh stop || true
  fi
}
trap cleanup EXIT
bash scripts/services.sh start
eval "$(bash scripts/services.sh env)"

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:detect_stack_use_after_return=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$repo/tests/lsan.supp:print_suppressions=0}

ctest --test-dir build --output-on-failure --timeout 1200
