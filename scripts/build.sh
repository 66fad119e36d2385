#!/usr/bin/env bash
# Configures and builds lincat into ./build (Release). Extra arguments go to cmake's configure.
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir=${LINCAT_BUILD_DIR:-build}
if [ ! -f "$build_dir/CMakeCache.txt" ]; then
  cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=Release "$@"
fi
# 2 jobs: each libtorch translation unit needs ~1 GB of memory and these machines have 2 cores.
cmake --build "$build_dir" -j "${LINCAT_JOBS:-$(nproc)}"
