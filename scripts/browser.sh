#!/usr/bin/env bash
# Debian's Chromium for the browser tests (tests/browser), driven by Playwright's Python package
# with executable_path: no browser is ever downloaded by Playwright. Installs the `chromium`
# package with apt-get once when /usr/bin/chromium is missing, and a Chinese font
# (fonts-wqy-microhei, 1.6 MB) when none is there, or the pages and their screenshots (docs/screens)
# show boxes for every character (with sudo when not root).
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

packages=()
if [[ ! -x $CHROMIUM ]]; then
    [[ $CHROMIUM == /usr/bin/chromium ]] ||
        die "CHROMIUM=$CHROMIUM is not an executable; unset it to use Debian's /usr/bin/chromium"
    packages+=(chromium)
fi
# fc-list comes with fontconfig, which chromium depends on: no fc-list yet, no font either.
if ! command -v fc-list >/dev/null 2>&1 || [[ -z $(fc-list :lang=zh family) ]]; then
    packages+=(fonts-wqy-microhei)
fi
[[ ${#packages[@]} -eq 0 ]] && exit 0

sudo=()
if [[ $(id -u) -ne 0 ]]; then
    command -v sudo >/dev/null 2>&1 ||
        die "missing ${packages[*]} and not root, no sudo: install with 'apt-get install -y ${packages[*]}' as root"
    sudo=(sudo)
fi
command -v apt-get >/dev/null 2>&1 ||
    die "missing ${packages[*]} and no apt-get: install Chromium (set CHROMIUM to its binary) and a Chinese font"
echo "browser: ${packages[*]} not installed; installing with apt-get (once)"
mkdir -p "$LOG_DIR"
if ! { "${sudo[@]}" apt-get update &&
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${packages[@]}"; } \
    >"$LOG_DIR/apt-browser.log" 2>&1; then
    tail -n 20 "$LOG_DIR/apt-browser.log" >&2 || true
    die "apt-get install ${packages[*]} failed (see $LOG_DIR/apt-browser.log)"
fi
[[ -x $CHROMIUM ]] || die "apt-get installed chromium but $CHROMIUM did not appear"
