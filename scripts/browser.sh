#!/usr/bin/env bash
# Debian's Chromium for the browser tests (tests/browser), driven by Playwright's Python package
# with executable_path: no browser is ever downloaded by Playwright. Installs the `chromium`
# package with apt-get once when /usr/bin/chromium is missing (with sudo when not root).
#
#   scripts/browser.sh          install if missing, quiet when present
#   CHROMIUM=/path/to/chromium  another binary (then nothing is installed)
set -euo pipefail

CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
LOG_DIR=${ZHIJIA_CACHE:-${HOME:?HOME is not set; set ZHIJIA_CACHE}/.cache/zhijia}/logs

die() {
    printf 'browser.sh: error: %s\n' "$*" >&2
    exit 1
}

[[ -x $CHROMIUM ]] && exit 0
[[ $CHROMIUM == /usr/bin/chromium ]] ||
    die "CHROMIUM=$CHROMIUM is not an executable; unset it to use Debian's /usr/bin/chromium"

sudo=()
if [[ $(id -u) -ne 0 ]]; then
    command -v sudo >/dev/null 2>&1 ||
        die "chromium not found ($CHROMIUM) and not root, no sudo: install it with 'apt-get install -y chromium' as root"
    sudo=(sudo)
fi
command -v apt-get >/dev/null 2>&1 ||
    die "chromium not found ($CHROMIUM) and no apt-get: install Chromium and set CHROMIUM to its binary"
echo "chromium: not installed; installing with apt-get (once)"
mkdir -p "$LOG_DIR"
if ! { "${sudo[@]}" apt-get update &&
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium; } \
    >"$LOG_DIR/apt-chromium.log" 2>&1; then
    tail -n 20 "$LOG_DIR/apt-chromium.log" >&2 || true
    die "apt-get install chromium failed (see $LOG_DIR/apt-chromium.log)"
fi
[[ -x $CHROMIUM ]] || die "apt-get installed chromium but $CHROMIUM did not appear"
