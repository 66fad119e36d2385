#!/usr/bin/env bash
# The main job, end to end: installs what is missing, builds, then shows lincat on the bundled
# Hugging Face reference checkpoint (describe it, reproduce its logits, generate, benchmark).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh
lincat=build/lincat
model=tests/data/hf-reference/llama-gqa
out=${1:-out/demo}
mkdir -p "$out"

echo "== lincat info $model"
$lincat info "$model"
echo "== lincat forward (logits for 5 tokens -> $out/logits.safetensors)"
$lincat forward "$model" --ids 446,198,367,483,83 --out "$out/logits.safetensors"
echo "== lincat generate (greedy, 16 tokens)"
$lincat generate "$model" --ids 446,198,367,483,83 --max-new-tokens 16 --print-ids
echo "== lincat bench model (fixture model)"
$lincat bench model "$model" --json "$out/bench-fixture.json"
