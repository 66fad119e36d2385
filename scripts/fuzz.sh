#!/usr/bin/env bash
# Builds the libFuzzer targets (fuzz/*_fuzz.cpp, clang, ./build-fuzz) and runs each one in turn
# for a fixed time: scripts/fuzz.sh [seconds per target, default 60] [target names...].
# Seeds come from fuzz/corpus/<name>/; new inputs go to build-fuzz/corpus/<name>/ and crashing
# ones to build-fuzz/findings/<name>/. Exits non-zero at the first target that finds a crash.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
shift $(($# > 0 ? 1 : 0))
build_dir=build-fuzz
if ! command -v clang++ > /dev/null; then
  echo "fuzz: needs clang++ and libFuzzer (Debian 12: apt-get install clang libclang-rt-14-dev)" >&2
  exit 2
fi
if [ ! -f "$build_dir/CMakeCache.txt" ]; then
  CXX=clang++ cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g" -DLINCAT_FUZZ=ON -DLINCAT_BUILD_TESTS=OFF
fi
cmake --build "$build_dir" -j "${LINCAT_JOBS:-$(nproc)}"

targets=("$@")
if ((${#targets[@]} == 0)); then
  for source in fuzz/*_fuzz.cpp; do targets+=("$(basename "$source" _fuzz.cpp)"); done
fi
for name in "${targets[@]}"; do
  corpus="$build_dir/corpus/$name" findings="$build_dir/findings/$name"
  mkdir -p "$corpus" "$findings"
  # One process on one core; an input that makes a parser allocate over 2 GiB is a finding.
  options=(-max_total_time="$seconds" -max_len=65536 -rss_limit_mb=2048 -timeout=10
           -print_final_stats=1 -print_funcs=0 -artifact_prefix="$findings/")
  if [ -f "fuzz/$name.dict" ]; then options+=(-dict="fuzz/$name.dict"); fi
  echo "fuzz: $name for ${seconds}s" >&2
  # The working corpus first: libFuzzer adds what it finds there, never to the seeds in git.
  "$build_dir/${name}_fuzz" "${options[@]}" "$corpus" "fuzz/corpus/$name"
done
