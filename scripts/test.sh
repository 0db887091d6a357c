#!/usr/bin/env bash
# Quick start, command 2: set up if needed, then run every test (pytest, and the editor client's npm test once it exists).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh --for-tests
export TF_CPP_MIN_LOG_LEVEL=3
.venv/bin/python -m pytest -q -rs "$@"  # -rs: every skipped test and its reason in the summary
if [ -f editor-client/package.json ] && grep -q '"test"' editor-client/package.json; then
    (cd editor-client && npm test)
fi
