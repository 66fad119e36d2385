#!/usr/bin/env bash
# Runs every benchmark behind `lincat bench` on this machine and writes the JSON results to
# out/bench/ (docs/BENCHMARKS.md records them with this command). Builds first if needed.
# Use on a quiet machine: the timings are wall-clock.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/build.sh >/dev/null
lincat=build/lincat
out=${1:-out/bench}
mkdir -p "$out"
fixture=tests/data/hf-reference/llama-gqa
converted="$out/llama-gqa-hybrid"

echo "== bench model: fixture"
$lincat bench model "$fixture" --json "$out/model-fixture.json"
echo "== bench model: random ~100M Llama"
$lincat bench model --random-params 100000000 --repetitions 5 --json "$out/model-100m.json"
echo "== bench attention"
$lincat bench attention --json "$out/attention.json"
echo "== bench continuation: chunked form vs the recurrent kernel, per layer shape"
$lincat bench continuation --json "$out/continuation.json"
echo "== bench decode: fixture converted with window 64"
rm -rf "$converted" "$out/llama-gqa-w8"
$lincat convert-init "$fixture" --out "$converted" --window 64 >/dev/null
$lincat bench decode "$converted" --contexts 512,4096,32768 --json "$out/decode.json"
echo "== bench eval: 1000 multiple-choice items, fixture converted with window 8 (modes interleaved)"
$lincat convert-init "$fixture" --out "$out/llama-gqa-w8" --window 8 --feature-dim 8 >/dev/null
$lincat bench eval "$out/llama-gqa-w8" --attention softmax,hybrid,window,linear,sinks,none --items 1000 --json "$out/eval.json"
echo "== bench eval: random ~100M Llama converted with window 8 (EVAL_ITEMS_100M items, default 1000)"
rm -rf "$out/random-100m" "$out/random-100m-hybrid"
$lincat random-model --params 100000000 --out "$out/random-100m" >/dev/null
$lincat convert-init "$out/random-100m" --out "$out/random-100m-hybrid" --window 8 --feature-dim 8 >/dev/null
$lincat bench eval "$out/random-100m-hybrid" --attention softmax,hybrid --items "${EVAL_ITEMS_100M:-1000}" \
  --json "$out/eval-100m.json"
echo "== threads: 1, 2 and the default per command (fixture, teacher, random ~100M)"
scripts/bench_threads.py --out "$out"
echo "== bench train: random ~100M Llama, sequence 1024"
$lincat bench train --json "$out/train.json"
