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

echo "browser: ${packages[*]} not installed; installing with apt-get (once)"
# shellcheck source=scripts/lib/apt.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/apt.sh"
apt_install "$LOG_DIR" browser "${packages[@]}"
[[ -x $CHROMIUM ]] || die "apt-get installed chromium but $CHROMIUM did not appear"
