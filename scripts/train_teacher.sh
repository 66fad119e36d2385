#!/usr/bin/env bash
# Rebuilds the committed teacher (models/teacher) from scratch: the corpus, then two runs of
# `lincat pretrain`. Phase 1 learns English from the corpus with 35% long-range synthetic
# sequences; phase 2 starts from phase 1 and trains on a mix that is 70% synthetic, so that the
# model learns to retrieve passkeys and recall pairs from hundreds of tokens back. About 45 minutes
# on 2 idle cores. The exact runs behind the committed model are in models/teacher/README.md.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-out/teacher}
python3 scripts/build_corpus.py
scripts/build.sh
data=(corpus/train/sotu.txt corpus/train/brown.txt corpus/train/kjv.txt corpus/train/fortunes.txt corpus/train/jargon.txt)
export LINCAT_THREADS=${LINCAT_THREADS:-2}
build/lincat pretrain --config teacher --data "${data[@]}" --out "$out/phase1" \
  --set data.tokens_per_step=2048 --set data.eval_fraction=0.005 --set data.synthetic.share=0.35 \
  --set optimiser.warmup_steps=50 --set steps=1000 --set eval_interval=100 --set checkpoint_interval=50
build/lincat pretrain --config teacher --init "$out/phase1" --data "${data[@]}" --out "$out/phase2" \
  --set data.tokens_per_step=4096 --set data.eval_fraction=0.005 --set data.synthetic.share=0.7 \
  --set optimiser.learning_rate=0.002 --set optimiser.warmup_steps=20 --set steps=450 --set eval_interval=50 \
  --set checkpoint_interval=50 --set seed=1
echo "teacher: $out/phase2"
