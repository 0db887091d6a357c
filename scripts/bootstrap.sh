#!/usr/bin/env bash
# Installs what NetViz needs, and only what is missing, so a second run is fast and changes nothing:
#   - Debian's graphviz (for `dot`) and librsvg2-bin (for `rsvg-convert`), when absent;
#   - .venv/ at the repo root with netviz-lsp (editable) and its dev extras (tensorflow-cpu, pytest, ...);
#   - the editor client's npm packages and its .vsix;
#   - with --for-tests: Debian's chromium, build-essential and libkrb5-dev (browser and VS Code tests).
set -euo pipefail
cd "$(dirname "$0")/.."

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
apt_updated=""
apt_install() {
    [ -n "$apt_updated" ] || { as_root apt-get update -qq; apt_updated=1; }
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

if ! command -v dot >/dev/null 2>&1; then
    echo "netviz bootstrap: installing Debian's graphviz" >&2
    apt_install graphviz
fi

if [ "${1:-}" = "--for-tests" ]; then
    # The preview page's browser tests and the VS Code end-to-end test: Debian's Chromium,
    # and what code-server's native modules compile with.
    missing=()
    [ -x /usr/bin/chromium ] || missing+=(chromium)
    command -v g++ >/dev/null 2>&1 || missing+=(build-essential)
    [ -e /usr/include/krb5.h ] || [ -e /usr/include/krb5/krb5.h ] || missing+=(libkrb5-dev)
    if [ ${#missing[@]} -gt 0 ]; then
        echo "netviz bootstrap: installing Debian's ${missing[*]} for the tests" >&2
        apt_install "${missing[@]}"
    fi
fi

if ! command -v rsvg-convert >/dev/null 2>&1; then
    echo "netviz bootstrap: installing Debian's librsvg2-bin (PNG/PDF of the layered and neuron views)" >&2
    apt_install librsvg2-bin
fi

python=$(command -v python3.11 || command -v python3)
if [ ! -x .venv/bin/python ]; then
    echo "netviz bootstrap: creating .venv with $python" >&2
    if ! "$python" -m venv .venv 2>/dev/null; then
        rm -rf .venv
        apt_install python3-venv
        "$python" -m venv .venv
    fi
fi

stamp=.venv/.netviz-installed
want=$(cat pyproject.toml | sha256sum | cut -c1-32)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    echo "netviz bootstrap: installing netviz-lsp[dev] into .venv (TensorFlow takes about a minute)" >&2
    .venv/bin/python -m pip install -q --upgrade pip
    .venv/bin/python -m pip install -q -e ".[dev]"
    echo "$want" > "$stamp"
fi

if [ -f editor-client/package.json ]; then
    lock=editor-client/package-lock.json
    npm_stamp=editor-client/node_modules/.netviz-installed
    npm_want=$(cat editor-client/package.json "$lock" 2>/dev/null | sha256sum | cut -c1-32)
    if [ "$(cat "$npm_stamp" 2>/dev/null)" != "$npm_want" ]; then
        echo "netviz bootstrap: installing the editor client's npm packages" >&2
        (cd editor-client && if [ -f package-lock.json ]; then npm ci --silent; else npm install --silent; fi)
        echo "$npm_want" > "$npm_stamp"
    fi
    # The extension's .vsix (esbuild bundle + the server and its pure-Python deps from PyPI),
    # rebuilt only when the extension's sources or the server's code changed.
    vsix_stamp=editor-client/node_modules/.netviz-vsix
    vsix_want=$(find editor-client/src editor-client/media editor-client/package.json editor-client/README.md editor-client/bundled/requirements.txt \
        editor-client/scripts netviz_lsp -type f -not -path '*/__pycache__/*' -print0 | sort -z | xargs -0 sha256sum | sha256sum | cut -c1-32)
    if [ "$(cat "$vsix_stamp" 2>/dev/null)" != "$vsix_want" ] || ! ls editor-client/netviz-*.vsix >/dev/null 2>&1; then
        echo "netviz bootstrap: packaging the VS Code extension (editor-client/netviz-<version>.vsix)" >&2
        (cd editor-client && npm run --silent package >/dev/null)
        echo "$vsix_want" > "$vsix_stamp"
    fi
fi
