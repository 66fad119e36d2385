#!/usr/bin/env bash
# Builds the test suite with AddressSanitizer and UndefinedBehaviorSanitizer into ./build-asan and
# runs all of it (fast and slow tests); see docs/ROBUSTNESS.md. Extra arguments go to ctest.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
build_dir=build-asan
if [ ! -f "$build_dir/CMakeCache.txt" ]; then
  # -O1: about as fast to build as -O3 is slow, and sanitizer stacks keep their frames.
  cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g1" -DLINCAT_SANITIZE=ON
fi
cmake --build "$build_dir" -j "${LINCAT_JOBS:-$(nproc)}"
export UBSAN_OPTIONS=print_stacktrace=1
ctest --test-dir "$build_dir" --output-on-failure -j "$(nproc)" "$@"
