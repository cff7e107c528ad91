# Sourced by the bench/run_*.sh scripts: checks the test services, exports their variables and builds one bench
# target. DERPMGR_BENCH_BUILD_DIR (build) and DERPMGR_BENCH_BUILD_TYPE (Debug) choose the build.
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
build=${DERPMGR_BENCH_BUILD_DIR:-build}
type=${DERPMGR_BENCH_BUILD_TYPE:-Debug}

# bench_build TARGET [needs-services]
bench_build() {
  if [ "${2:-}" = needs-services ]; then
    if ! scripts/services.sh status >/dev/null; then
      echo "bench: the test services are not running; start them with scripts/services.sh start" >&2
      exit 1
    fi
    eval "$(scripts/services.sh env)"
  fi
  export CCACHE_BASEDIR="$repo" CCACHE_NOHASHDIR=1 CCACHE_SLOPPINESS=pch_defines,time_macros
  if [ ! -f "$build/build.ninja" ]; then
    bash scripts/deps.sh
    cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE="$type" >/dev/null  # sanitizers only in Debug
  fi
  ninja -C "$build" -j "${DERPMGR_BUILD_JOBS:-$(nproc)}" "$1"
  echo "bench: $(grep -m1 CMAKE_BUILD_TYPE: "$build/CMakeCache.txt"), $(nproc) CPUs, $(uname -srm), load $(cut -d' ' -f1-3 /proc/loadavg)"
}
