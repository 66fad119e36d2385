#!/usr/bin/env bash
# Installs what is missing, builds, and runs the whole test suite (fast and slow tests).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh
build_dir=${LINCAT_BUILD_DIR:-build}
ctest --test-dir "$build_dir" --output-on-failure -j "$(nproc)" "$@"
