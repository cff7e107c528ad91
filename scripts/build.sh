#!/usr/bin/env bash
# Configures and builds everything into build/ (Debug: ASan+UBSan). ccache is shared across clones of the repo.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
bash scripts/deps.sh
export CCACHE_BASEDIR="$repo" CCACHE_NOHASHDIR=1 CCACHE_SLOPPINESS=pch_defines,time_macros
export CCACHE_MAXSIZE=${CCACHE_MAXSIZE:-5G}
build_type=${DERPMGR_BUILD_TYPE:-Debug}
werror=${WARNINGS_AS_ERRORS:-ON}
if [ ! -f build/build.ninja ]; then
  cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE="$build_type" -DWARNINGS_AS_ERRORS="$werror" >/dev/null
fi
jobs=${DERPMGR_BUILD_JOBS:-$(nproc)}
ninja -C build -j "$jobs"
