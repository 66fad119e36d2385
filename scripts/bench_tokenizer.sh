#!/usr/bin/env bash
# lincat's tokenizer.json encoder against @lenml/tokenizers (the JavaScript port of Hugging Face's
# tokenizers the reference test uses), measured in the same run on the same text: the 1.5 MB of
# data/convert/train.txt encoded as one text, for the Llama-3 and Llama-2/Mistral files. Then the
# peak memory of `lincat tokenize --file` on 1 MB and 10 MB (memory should grow with the text,
# not with its square). Prints a Markdown table (docs/BENCHMARKS.md records it) and writes JSON
# to out/bench-tokenizer/. The speed ratio compares first runs (both start with an empty word
# cache); the JavaScript port runs once (on Llama-2's file it needs minutes for the 1.5 MB).
# usage: scripts/bench_tokenizer.sh [lincat repetitions, default 3]
set -euo pipefail
cd "$(dirname "$0")/.."
repetitions=${1:-3}
lincat=${LINCAT:-build/lincat}
[ -x "$lincat" ] || scripts/build.sh > /dev/null
cache=$(scripts/fetch_tokenizer_reference.sh)
out=out/bench-tokenizer
mkdir -p "$out"
text=data/convert/train.txt
mb=$(awk -v b="$(stat -c %s "$text")" 'BEGIN { printf "%.2f", b / 1e6 }')

echo "| tokenizer | text | lincat encode MB/s (first / best) | @lenml/tokenizers encode MB/s | ratio (first runs) | lincat decode MB/s | @lenml decode MB/s | same number of ids |"
echo "|---|---|---|---|---|---|---|---|"
for name in llama3 llama2; do
  dir="$cache/tokenizer-$name-3.7.2/package/models"
  "$lincat" bench tokenize "$dir" --file "$text" --repetitions "$repetitions" --json "$out/lincat-$name.json" > /dev/null
  node scripts/bench_tokenizer.js "$cache/tokenizers-3.7.2/package" "$dir" "$text" 1 > "$out/lenml-$name.json"
  node -e '
    const [a, b, name, mb] = process.argv.slice(1).map((x, i) => i < 2 ? require(require("path").resolve(x)) : x);
    const f = (x) => x.toPrecision(3);
    console.log(`| ${name} | train.txt, ${mb} MB | ${f(a.encode_mb_per_s_first)} / ${f(a.encode_mb_per_s_best)} | ` +
      `${f(b.encode_mb_per_s_first)} | ${f(a.encode_mb_per_s_first / b.encode_mb_per_s_first)}x | ` +
      `${f(a.decode_mb_per_s_best)} | ${f(b.decode_mb_per_s_best)} | ${a.tokens === b.tokens ? "yes" : "NO"} (${a.tokens}) |`);
  ' "$out/lincat-$name.json" "$out/lenml-$name.json" "$name" "$mb"
done

echo
echo "| text | bytes | tokens | peak RSS of lincat tokenize --no-special (KiB) |"
echo "|---|---|---|---|"
dir="$cache/tokenizer-llama3-3.7.2/package/models"
for size in 1 10; do
  file="$out/text-${size}mb.txt"
  : > "$file"
  while [ "$(stat -c %s "$file")" -lt $((size * 1000000)) ]; do cat "$text" >> "$file"; done
  rss=$( { /usr/bin/time -f "%M" "$lincat" tokenize "$dir" --file "$file" --no-special > "$out/ids-${size}mb.txt"; } 2>&1 | tail -n 1)
  tokens=$(tr ',' '\n' < "$out/ids-${size}mb.txt" | wc -l)
  echo "| ${size} MB of train.txt | $(stat -c %s "$file") | $tokens | $rss |"
done
