#!/usr/bin/env bash
# Installs what metalcast needs on a fresh Debian machine with Node/npm:
# Deno (pinned, from the npm registry: the binary ships inside the package).
# Idempotent: skips what is already there. Prefix with sudo where not root.
set -euo pipefail
DENO_VERSION=2.9.6
export DENO_TLS_CA_STORE=system DENO_NO_UPDATE_CHECK=1

if [ "$(deno --version 2>/dev/null | head -1 | cut -d' ' -f2)" != "$DENO_VERSION" ]; then
  echo "setup: installing deno@$DENO_VERSION from npm" >&2
  npm install -g --allow-scripts=deno --no-audit --no-fund --loglevel=error "deno@$DENO_VERSION" >&2
fi
cd "$(dirname "$0")/.."
# Fetch and type-check dependencies once (quiet on success).
deno install --frozen >/dev/null 2>&1 || deno install --frozen >&2
