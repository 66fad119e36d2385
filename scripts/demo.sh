#!/usr/bin/env bash
# The main job: installs what is missing, builds, then `lincat demo`: converts the bundled teacher
# (models/teacher) with each demo recipe (recipes/demo: lolcats, hedgecats, ssd, linear), diagnoses
# every conversion on the held-out tasks (data/heldout) and the long-range probes, prints the
# tables and writes the report to out/demo. Arguments go to `lincat demo` (e.g. --out DIR).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh
exec build/lincat demo "$@"
