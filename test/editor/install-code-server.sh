#!/usr/bin/env bash
# Installs code-server (VS Code's server and web workbench) into .vscode-test/code-server for the
# editor tier. It is a test tool, like the browser, so it lives in a folder of its own and not in
# the project's dependencies. 4.100.3 (= VS Code 1.100.3) is the newest that runs on Node 20.
# Needs from Debian: build-essential python3 pkg-config libkrb5-dev ripgrep (see .ci/run and
# ../shared/docs/real-vscode.md for why each one).
set -euo pipefail
cd "$(dirname "$0")/../.."
VERSION=4.100.3
DEST=.vscode-test/code-server
BIN="$DEST/node_modules/code-server/out/node/entry.js"

if [ -f "$BIN" ] && grep -q "\"version\": \"$VERSION\"" "$DEST/node_modules/code-server/package.json"; then
  echo "code-server $VERSION already in $DEST"
  exit 0
fi
RG="$(command -v rg || true)"
if [ -z "$RG" ]; then
  echo "install-code-server: ripgrep (rg) is missing: apt-get install ripgrep" >&2
  exit 3
fi

# @vscode/ripgrep's postinstall downloads rg from GitHub, which this machine cannot reach; it first
# looks for this cached archive, so an archive holding Debian's rg satisfies it.
CACHE="${TMPDIR:-/tmp}/vscode-ripgrep-cache-1.15.11"
ARCHIVE="$CACHE/ripgrep-v13.0.0-10-x86_64-unknown-linux-musl.tar.gz"
if [ ! -s "$ARCHIVE" ]; then
  mkdir -p "$CACHE"
  stage="$(mktemp -d)"
  cp "$RG" "$stage/rg"
  tar -czf "$ARCHIVE" -C "$stage" rg
  rm -rf "$stage"
fi

mkdir -p "$DEST"
cd "$DEST"
[ -f package.json ] || printf '{ "name": "meshtrace-editor-tier-tools", "private": true }\n' > package.json
# --unsafe-perm: its postinstall refuses to run as root otherwise. npm_config_yes: node-pty's
# postinstall runs `npx node-gyp`, which would otherwise wait for a yes.
started=$SECONDS
npm_config_yes=true npm install --no-audit --no-fund --unsafe-perm --foreground-scripts "code-server@$VERSION" > install.log 2>&1 || {
  tail -40 install.log >&2
  echo "install-code-server: npm install code-server@$VERSION failed (log: $DEST/install.log)" >&2
  exit 1
}
echo "code-server $VERSION installed in $DEST in $((SECONDS - started)) s"
