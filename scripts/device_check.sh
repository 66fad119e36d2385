#!/usr/bin/env bash
# The GPU check (docs/SCALING.md): on a machine with a CUDA GPU and PyTorch installed (pip torch),
# builds lincat against that PyTorch's libtorch into build-cuda, runs the CUDA-labelled tests (the
# attention forms on the GPU in float32 and bfloat16, the NCCL process group in one process), then
# a 1B-shape (Llama-3.2-1B, bfloat16) stage-1 and stage-2 step whose peak GPU memory (sampled with
# nvidia-smi) is compared with `lincat plan`, and prints a summary. Results go to $OUT (default
# ./device_check_out). Usage: scripts/device_check.sh [--skip-build]
set -uo pipefail
cd "$(dirname "$0")/.."
out=${OUT:-device_check_out}
mkdir -p "$out"
summary="$out/summary.txt"
: > "$summary"
say() { echo "$*" | tee -a "$summary"; }

nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader | tee "$out/gpu.txt" ||
  { say "no GPU (nvidia-smi failed)"; exit 1; }
prefix=$(python3 -c 'import torch;print(torch.utils.cmake_prefix_path)') || { say "no PyTorch (python3 -c 'import torch')"; exit 1; }
say "torch $(python3 -c 'import torch;print(torch.__version__, torch.version.cuda)') at $prefix"

if [ "${1:-}" != "--skip-build" ]; then
  start=$(date +%s)
  if ! { cmake -S . -B build-cuda -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH="$prefix" \
           -DLINCAT_PYTHON=OFF -DLINCAT_BUILD_TESTS=ON &&
         cmake --build build-cuda -j "$(nproc)" --target lincat_cli lincat_cuda_tests; } > "$out/build.log" 2>&1; then
    say "BUILD FAILED (tail of $out/build.log):"; tail -30 "$out/build.log" | tee -a "$summary"; exit 1
  fi
  say "build: $(( $(date +%s) - start )) s"
fi
lincat=build-cuda/lincat

ctest --test-dir build-cuda -L cuda --output-on-failure > "$out/ctest_cuda.log" 2>&1
say "cuda tests: $(grep -E 'tests passed|tests failed' "$out/ctest_cuda.log" | tail -1)"
grep -E '^ *[0-9]+/[0-9]+ Test' "$out/ctest_cuda.log" | tee -a "$summary"

# A 1B-shape step of each stage on 512 tokens of real text, peak GPU memory against the plan.
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$lincat" random-model --shape llama-3.2-1b --dtype bfloat16 --out "$work/m" > /dev/null
text=data/convert/train.txt
sets="--set data.sequence_length=512 --set data.tokens_per_step=512 --set data.eval_fraction=0 --set data.cache_dir=$work/cache"
for stage in 1 2; do
  steps=$([ $stage = 1 ] && echo "--stage1-steps 1 --stage2-steps 0" || echo "--stage1-steps 0 --stage2-steps 1")
  "$lincat" plan "$work/m" --recipe lolcats --device cuda $sets $steps --json > "$out/plan_stage$stage.json"
  ( while true; do nvidia-smi --query-gpu=memory.used --format=csv,noheader,nounits -i 0; sleep 0.05; done ) \
    > "$out/used_stage$stage.txt" &
  sampler=$!
  base=$(nvidia-smi --query-gpu=memory.used --format=csv,noheader,nounits -i 0)
  "$lincat" convert "$work/m" --recipe lolcats --device cuda --data "$text" --out "$work/out$stage" $sets $steps \
    > "$out/convert_stage$stage.log" 2>&1
  rc=$?
  kill $sampler
  peak=$(sort -n "$out/used_stage$stage.txt" | tail -1)
  predicted=$(python3 -c "import json;p=json.load(open('$out/plan_stage$stage.json'));print(round([x for x in p['phases'] if x['phase']=='stage $stage'][0]['total']/2**20))")
  say "stage $stage step (exit $rc): peak GPU memory $((peak - base)) MiB over the idle $base MiB; plan $predicted MiB"
done
say "record these in docs/SCALING.md (section GPU)"
