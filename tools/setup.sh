#!/usr/bin/env bash
# Installs what metalcast needs on a fresh Debian machine with Node/npm:
# - Deno (pinned, from the npm registry: the binary ships inside the package);
# - for the test suite: Jupyter from Debian (nbconvert/nbclient/ipykernel, to
#   execute the notebooks with the Deno kernel) and Chromium (the HTML report
#   is tested in a real headless browser), librsvg for SVG -> PNG.
# Idempotent: skips what is already there. Run as root (or prefix sudo).
# `tools/setup.sh --deno-only` installs Deno alone (enough for `deno task repro`).
set -euo pipefail
DENO_VERSION=2.9.6
export DENO_TLS_CA_STORE=system DENO_NO_UPDATE_CHECK=1 DEBIAN_FRONTEND=noninteractive

if [ "$(deno --version 2>/dev/null | head -1 | cut -d' ' -f2)" != "$DENO_VERSION" ]; then
  echo "setup: installing deno@$DENO_VERSION from npm" >&2
  npm install -g --allow-scripts=deno --no-audit --no-fund --loglevel=error "deno@$DENO_VERSION" >&2
fi
cd "$(dirname "$0")/.."
deno install --frozen >/dev/null 2>&1 || deno install --frozen >&2

if [ "${1:-}" != "--deno-only" ]; then
  need=()
  command -v jupyter-nbconvert >/dev/null || need+=(jupyter-nbconvert jupyter-client python3-nbclient python3-ipykernel)
  /usr/bin/python3 -c "import nbclient, ipykernel" 2>/dev/null || need+=(python3-nbclient python3-ipykernel)
  command -v rsvg-convert >/dev/null || need+=(librsvg2-bin)
  [ -x /usr/bin/chromium ] || need+=(chromium)
  [ -d /usr/share/fonts/truetype/dejavu ] || need+=(fonts-dejavu-core)
  if [ ${#need[@]} -gt 0 ]; then
    echo "setup: apt-get install ${need[*]}" >&2
    apt-get -o DPkg::Lock::Timeout=300 update -qq >&2
    apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  fi
  # The Deno Jupyter kernel (kernel.json holds this deno's absolute path).
  deno jupyter --install --force >/dev/null 2>&1
fi
