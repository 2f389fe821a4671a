# shellcheck shell=bash
# apt_install LOG_DIR LOG_NAME PACKAGE...: Debian packages with apt-get, once, with sudo when not
# root; the caller's `die` says what went wrong (apt's output goes to LOG_DIR/apt-LOG_NAME.log).
apt_install() {
    local log_dir=$1 name=$2
    shift 2
    local sudo=()
    if [[ $(id -u) -ne 0 ]]; then
        command -v sudo >/dev/null 2>&1 ||
            die "missing $* and not root, no sudo: install them with 'apt-get install -y $*' as root"
        sudo=(sudo)
    fi
    command -v apt-get >/dev/null 2>&1 || die "missing $* and no apt-get to install them"
    mkdir -p "$log_dir"
    if ! { "${sudo[@]}" apt-get update &&
        "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$@"; } \
        >"$log_dir/apt-$name.log" 2>&1; then
        tail -n 20 "$log_dir/apt-$name.log" >&2 || true
        die "apt-get install $* failed (see $log_dir/apt-$name.log)"
    fi
}
