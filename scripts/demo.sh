#!/usr/bin/env bash
# The main job, end to end: installs what is missing, builds, then runs lincat on the bundled
# Hugging Face reference checkpoint: describe it, generate, convert it to a hybrid model with the
# lolcats recipe (on Debian's GPL-3 text, with the test tokenizer), generate in every attention
# mode, and diagnose whether the linear branch is used. Takes a few minutes on 2 cores.
# (The real demo, with a trained teacher and all four recipes, is issue 8's `lincat demo`.)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh
lincat=build/lincat
model=tests/data/hf-reference/llama-gqa
out=${1:-out/demo}
rm -rf "$out"
mkdir -p "$out"
prompt=446,198,367,483,83,250,83,478,367,40,462,81,404,480,193,465,188,107,169,455

echo "== lincat info $model"
$lincat info "$model"
echo "== lincat generate (greedy, original softmax attention)"
$lincat generate "$model" --ids "$prompt" --max-new-tokens 16 --print-ids

echo "== lincat convert --recipe lolcats (tiny: window 16, f 8, 64-token sequences)"
$lincat convert "$model" --recipe lolcats --tokenizer tests/data/tokenizer/tiny.model \
  --data /usr/share/common-licenses/GPL-3 --out "$out/lolcats" --stage1-steps 30 --stage2-steps 20 \
  --set attention.window=16 --set attention.feature_dim=8 --set data.sequence_length=64 \
  --set data.tokens_per_step=256 --set data.cache_dir="$out/cache"

for mode in softmax hybrid window linear sinks none; do
  echo "== lincat generate --attention $mode"
  $lincat generate "$out/lolcats" --ids "$prompt" --max-new-tokens 12 --attention "$mode" --print-ids | tail -n 1
done

echo "== lincat diagnose (held-out Moby Dick tasks and long-range probes) -> $out/diagnose"
$lincat diagnose "$out/lolcats" --base "$model" --tasks next_sentence,last_word \
  --data-dir tests/data/eval/heldout --out "$out/diagnose"
