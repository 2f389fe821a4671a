#!/usr/bin/env bash
# Third-party browser code the web service serves from /assets/vendor/ (no CDN, works offline):
# `npm ci` from services/web/frontend/package-lock.json (exact versions and integrity hashes,
# install scripts off), then copy only the files the pages load into services/web/vendor/
# (gitignored, like node_modules). The Makefile runs it once per change of the lock file.
set -euo pipefail
cd "$(dirname "$0")/.."

FRONTEND=services/web/frontend
VENDOR=services/web/vendor

die() {
    printf 'vendor.sh: error: %s\n' "$*" >&2
    exit 1
}

command -v npm >/dev/null 2>&1 || die "npm not found: install it (apt-get install -y npm)"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
if ! npm ci --ignore-scripts --no-audit --no-fund --prefix "$FRONTEND" >"$log" 2>&1; then
    tail -n 20 "$log" >&2
    die "npm ci failed in $FRONTEND"
fi
mkdir -p "$VENDOR"
# jsQR decodes the till camera's frames; axe-core checks accessibility in the browser tests.
install -m 644 "$FRONTEND/node_modules/jsqr/dist/jsQR.js" "$VENDOR/jsQR.js"
install -m 644 "$FRONTEND/node_modules/axe-core/axe.min.js" "$VENDOR/axe.min.js"
echo "vendor: $(ls "$VENDOR" | tr '\n' ' ')in $VENDOR"
