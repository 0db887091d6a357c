#!/usr/bin/env bash
# Quick start, command 1: set up if needed, then render every example (scripts and notebooks) to SVG and PNG
# under build/examples/ and print a one-line summary per model.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
export TF_CPP_MIN_LOG_LEVEL=3
out=build/examples
mkdir -p "$out"
status=0
.venv/bin/netviz render examples/*.py examples/*.ipynb --format svg,png --output "$out" >/dev/null 2>"$out.log" || status=$?
grep -v -i "warning" "$out.log" || true
echo "diagrams: $(ls "$out" | wc -l) files in $out/"
exit $status
