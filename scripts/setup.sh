#!/usr/bin/env bash
# Installs the Debian 12 packages lincat needs to build and test. Idempotent: when everything is
# present it only checks (a second or two) and installs nothing.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config ccache
  libtorch-dev libopenblas0-pthread      # tensors, autograd, optimisers; a fast BLAS for them
  libgloo-dev                            # headers of c10d's Gloo process group (multi-process runs)
  libsentencepiece-dev sentencepiece     # tokenizer library (and spm_train for test fixtures)
  nlohmann-json3-dev libcli11-dev libyaml-cpp-dev
  libpcre2-dev libicu-dev                # tokenizer.json: Unicode regex (Split), normal forms (NFC/NFKC)
  libgtest-dev libbenchmark-dev
  python3                                # scripts/build_heldout_tasks.py (and its test)
  python3-dev pybind11-dev python3-torch # the Python module `lincat` (python/): headers, bindings, torch
  python3-pytest                         # its test suite (tests/python), run by ctest
)

# Node.js and npm run the tokenizer.json reference test (tests/tokenizer); any install will do.
if ! command -v node > /dev/null; then packages+=(nodejs); fi
if ! command -v npm > /dev/null; then packages+=(npm); fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}" >&2
  sudo_cmd=()
  if [ "$(id -u)" -ne 0 ]; then sudo_cmd=(sudo); fi
  export DEBIAN_FRONTEND=noninteractive
  "${sudo_cmd[@]}" apt-get update -q
  "${sudo_cmd[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
else
  echo "setup: all packages present" >&2
fi
