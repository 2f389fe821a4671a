#!/usr/bin/env bash
# Local infrastructure for development and tests: a real Apache Kafka broker
# (KRaft, single combined broker+controller node) and a PostgreSQL server,
# both run as plain processes on 127.0.0.1 (no Docker needed).
#
#   deploy/infra.sh up       start both (idempotent; fast and quiet when up;
#                            restarts Kafka alone when its generated config
#                            changed, e.g. after an update of this script)
#   deploy/infra.sh down     stop both (quiet when already down)
#   deploy/infra.sh status   one line per component; exit 0 only if both up
#   deploy/infra.sh env      shell lines to `eval "$(deploy/infra.sh env)"`
#   deploy/infra.sh reset    down, then delete Kafka and PostgreSQL data
#                            (keeps the downloaded jars)
#   deploy/infra.sh smoke    produce+consume one Kafka record, `select 1` as
#                            the service role (needs a JDK for the Kafka part)
#   deploy/infra.sh pg-up | pg-down   PostgreSQL alone (the restore drill's own
#                            cluster uses the shared Kafka)
#   deploy/infra.sh backup   a base backup of PostgreSQL (docs/backup.md)
#   deploy/infra.sh restore [TARGET]  stop PostgreSQL, replace its data with
#                            the newest base backup and replay the WAL archive
#                            to TARGET (a timestamptz) or to the archive's end
#
# State lives outside git, in ZHIJIA_CACHE (default ~/.cache/zhijia):
#   kafka/libs/         Kafka jars, fetched once with Maven from Maven Central
#                       (deploy/kafka/pom.xml; kafka/libs/.kafka-version marks
#                       which version is there)
#   kafka/data/         Kafka log dirs (formatted once, cluster id in
#                       kafka/cluster.id)
#   kafka/kafka.pid     pid of the running broker
#   kafka/server.properties  config the running broker was started with
#                       (from deploy/kafka/server.properties.in)
#   pg/data/            PostgreSQL cluster (see below when running as root)
#   pg/archive/         its WAL archive (archive_command, gzip), for point-in-
#                       time recovery from the base backups in pg/backups/
#   logs/               kafka.log (log4j2), kafka.out (JVM stdout/stderr),
#                       postgres.log, mvn.log
#
# PostgreSQL refuses to run as root. When this script runs as root, the
# server runs as the `postgres` OS user, and its data goes to ZHIJIA_CACHE/pg
# only if that user can reach ZHIJIA_CACHE; otherwise (e.g. the default
# /root/.cache/zhijia, /root being mode 700) to /var/lib/zhijia-pg, owned by
# postgres. ZHIJIA_PG_DIR overrides the choice.
#
# Settings (environment):
#   ZHIJIA_CACHE           state directory              (~/.cache/zhijia)
#   KAFKA_PORT             broker port on 127.0.0.1     (9092)
#   KAFKA_CONTROLLER_PORT  KRaft controller port        (9093)
#   KAFKA_PARTNER_PORT     partners' listener on 127.0.0.1, SASL_PLAINTEXT
#                          with SCRAM-SHA-512 and ACLs  (9094); see
#                          deploy/kafka/PARTNERS-KAFKA.md and
#                          scripts/partner_kafka_access.py
#   KAFKA_HEAP_OPTS        broker heap                  (-Xms256m -Xmx512m)
#   KAFKA_START_TIMEOUT    seconds the starting broker may go without
#                          writing to its log before we give up      (90)
#   KAFKA_START_LIMIT      seconds to wait for the broker at most    (900)
#   PG_PORT                PostgreSQL port on 127.0.0.1 (55432)
#   PG_USER / PG_PASSWORD  service login role (CREATEDB) (zhijia / zhijia);
#                          applied when PostgreSQL starts
#   PG_BIN                 directory of postgres, initdb, pg_ctl, psql
#                          (default: newest /usr/lib/postgresql/*/bin;
#                          `apt-get install postgresql` if there is none)
#   ZHIJIA_PG_DIR          PostgreSQL state directory (see above)
#   PG_ARCHIVE_TIMEOUT     seconds after which a WAL segment with writes is
#                          archived even if not full: the recovery point
#                          objective when the data directory is lost   (10)
#   PG_BACKUPS_KEPT        base backups `backup` keeps (older ones and the
#                          WAL only they need are deleted)              (2)
set -euo pipefail

SCRIPT_DIR=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
KAFKA_DEPLOY_DIR=$SCRIPT_DIR/kafka

CACHE=${ZHIJIA_CACHE:-${HOME:?HOME is not set; set ZHIJIA_CACHE}/.cache/zhijia}
KAFKA_PORT=${KAFKA_PORT:-9092}
KAFKA_CONTROLLER_PORT=${KAFKA_CONTROLLER_PORT:-9093}
KAFKA_PARTNER_PORT=${KAFKA_PARTNER_PORT:-9094}
KAFKA_HEAP_OPTS=${KAFKA_HEAP_OPTS:--Xms256m -Xmx512m}
KAFKA_START_TIMEOUT=${KAFKA_START_TIMEOUT:-90}
KAFKA_START_LIMIT=${KAFKA_START_LIMIT:-900}
PG_PORT=${PG_PORT:-55432}
PG_USER=${PG_USER:-zhijia}
PG_PASSWORD=${PG_PASSWORD:-zhijia}
PG_BIN=${PG_BIN:-}
PG_ARCHIVE_TIMEOUT=${PG_ARCHIVE_TIMEOUT:-10}
PG_BACKUPS_KEPT=${PG_BACKUPS_KEPT:-2}
HOST=127.0.0.1

KAFKA_DIR=$CACHE/kafka
KAFKA_LIBS=$KAFKA_DIR/libs
KAFKA_DATA=$KAFKA_DIR/data
KAFKA_PIDFILE=$KAFKA_DIR/kafka.pid
KAFKA_CLUSTER_ID_FILE=$KAFKA_DIR/cluster.id
KAFKA_CONFIG=$KAFKA_DIR/server.properties
LOG_DIR=$CACHE/logs
KAFKA_LOG=$LOG_DIR/kafka.log
KAFKA_OUT=$LOG_DIR/kafka.out

# PostgreSQL paths are set by pg_paths (they depend on who we are).
PG_DIR=
PG_DATA=
PG_RUN=
PG_LOG=
PG_ARCHIVE=
PG_BACKUPS=
PG_OS_USER=

IS_ROOT=false
[[ $(id -u) -eq 0 ]] && IS_ROOT=true

log() { printf '%s\n' "$*"; }
die() {
    printf 'infra.sh: error: %s\n' "$*" >&2
    exit 1
}

port_open() { (: <"/dev/tcp/$HOST/$1") 2>/dev/null; }

# Serialise concurrent invocations (e.g. parallel test runs calling `up`).
take_lock() {
    mkdir -p "$CACHE"
    if command -v flock >/dev/null 2>&1; then
        exec 9>"$CACHE/.infra.lock"
        flock 9
    fi
}

# ---------------------------------------------------------------- Kafka ----

kafka_version() {
    local v
    v=$(sed -n 's:.*<kafka\.version>\(.*\)</kafka\.version>.*:\1:p' "$KAFKA_DEPLOY_DIR/pom.xml" | head -n 1)
    [[ -n $v ]] || die "cannot read <kafka.version> from $KAFKA_DEPLOY_DIR/pom.xml"
    printf '%s' "$v"
}

java_bin() {
    if [[ -n ${JAVA_HOME:-} && -x $JAVA_HOME/bin/java ]]; then
        printf '%s' "$JAVA_HOME/bin/java"
    elif command -v java >/dev/null 2>&1; then
        command -v java
    else
        die "java not found: install openjdk-17-jre-headless (apt-get install -y openjdk-17-jre-headless), Kafka $(kafka_version) needs Java 17+"
    fi
}

check_java() {
    local java ver major
    java=$(java_bin)
    ver=$("$java" -version 2>&1 | sed -n 's/.*version "\([^"]*\)".*/\1/p' | head -n 1)
    major=${ver%%.*}
    [[ $major == 1 ]] && major=$(cut -d. -f2 <<<"$ver")
    if [[ ! $major =~ ^[0-9]+$ ]] || ((major < 17)); then
        die "$java is Java ${ver:-of unknown version}; Kafka $(kafka_version) needs Java 17+: install openjdk-17-jre-headless or set JAVA_HOME"
    fi
}

kafka_jars_present() {
    local want=$1
    [[ -f $KAFKA_LIBS/.kafka-version && -f $KAFKA_LIBS/kafka_2.13-$want.jar ]] &&
        [[ $(<"$KAFKA_LIBS/.kafka-version") == "$want" ]]
}

ensure_kafka_jars() {
    local want tmp n
    want=$(kafka_version)
    kafka_jars_present "$want" && return 0
    command -v mvn >/dev/null 2>&1 ||
        die "mvn not found (needed once, to fetch the Kafka $want jars): install maven (apt-get install -y maven)"
    mkdir -p "$KAFKA_DIR" "$LOG_DIR"
    tmp=$KAFKA_LIBS.tmp
    rm -rf "$tmp"
    log "kafka: fetching Apache Kafka $want jars from Maven Central into $KAFKA_LIBS (once; log: $LOG_DIR/mvn.log)"
    if ! mvn -B -ntp -f "$KAFKA_DEPLOY_DIR/pom.xml" -Dkafka.libs.dir="$tmp" \
        dependency:copy-dependencies >"$LOG_DIR/mvn.log" 2>&1; then
        tail -n 25 "$LOG_DIR/mvn.log" >&2 || true
        die "mvn could not fetch the Kafka $want jars (see $LOG_DIR/mvn.log)"
    fi
    [[ -f $tmp/kafka_2.13-$want.jar ]] || die "mvn ran but $tmp/kafka_2.13-$want.jar is missing (see $LOG_DIR/mvn.log)"
    printf '%s\n' "$want" >"$tmp/.kafka-version"
    rm -rf "$KAFKA_LIBS"
    mv "$tmp" "$KAFKA_LIBS"
    n=$(find "$KAFKA_LIBS" -name '*.jar' | wc -l)
    log "kafka: $n jars in $KAFKA_LIBS"
}

# Prints the broker's pid if our broker is running, else fails.
kafka_pid() {
    local pid
    [[ -f $KAFKA_PIDFILE ]] || return 1
    pid=$(<"$KAFKA_PIDFILE")
    [[ $pid =~ ^[0-9]+$ ]] || return 1
    kill -0 "$pid" 2>/dev/null || return 1
    # Guard against a recycled pid: it must be our kafka.Kafka process.
    tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF "kafka.Kafka $KAFKA_CONFIG" || return 1
    printf '%s' "$pid"
}

new_cluster_id() {
    # Same format as Kafka's Uuid.randomUuid(): 16 random bytes, URL-safe
    # base64 without padding, never starting with '-'.
    local id
    while :; do
        id=$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n')
        [[ $id != -* ]] && break
    done
    printf '%s' "$id"
}

# Prints the broker config for the given ports: port, controller port,
# partner port.
kafka_config_text() {
    sed -e "s|@KAFKA_PORT@|$1|g" \
        -e "s|@KAFKA_CONTROLLER_PORT@|$2|g" \
        -e "s|@KAFKA_PARTNER_PORT@|$3|g" \
        -e "s|@KAFKA_DATA_DIR@|$KAFKA_DATA|g" \
        "$KAFKA_DEPLOY_DIR/server.properties.in"
}

render_kafka_config() {
    mkdir -p "$KAFKA_DIR" "$KAFKA_DATA" "$LOG_DIR"
    kafka_config_text "$KAFKA_PORT" "$KAFKA_CONTROLLER_PORT" "$KAFKA_PARTNER_PORT" >"$KAFKA_CONFIG.tmp"
    mv "$KAFKA_CONFIG.tmp" "$KAFKA_CONFIG"
    cp "$KAFKA_DEPLOY_DIR/log4j2.xml" "$KAFKA_DIR/log4j2.xml"
}

# Succeeds when the running broker was started with another config than the
# one this script generates now (template or log4j2.xml changed, e.g. an
# older infra.sh started it), ports aside: those are compared with the
# running ones, and a different KAFKA_PORT alone only earns a note.
kafka_config_drifted() {
    local cport pport
    cport=$(kafka_running_listener_port CONTROLLER)
    pport=$(kafka_running_listener_port PARTNER)
    ! cmp -s <(kafka_config_text "$(kafka_running_port)" "${cport:-$KAFKA_CONTROLLER_PORT}" \
        "${pport:-$KAFKA_PARTNER_PORT}") "$KAFKA_CONFIG" ||
        ! cmp -s "$KAFKA_DEPLOY_DIR/log4j2.xml" "$KAFKA_DIR/log4j2.xml"
}

kafka_java_opts() {
    local heap
    read -r -a heap <<<"$KAFKA_HEAP_OPTS"
    KAFKA_JAVA_OPTS=(
        "${heap[@]}"
        -server -XX:+UseG1GC -XX:MaxGCPauseMillis=20
        -XX:InitiatingHeapOccupancyPercent=35 -XX:+ExplicitGCInvokesConcurrent
        -XX:MaxInlineLevel=15 -XX:+ExitOnOutOfMemoryError
        -Djava.awt.headless=true
        "-Dkafka.logs.dir=$LOG_DIR"
        "-Dlog4j2.configurationFile=$KAFKA_DIR/log4j2.xml"
        -cp "$KAFKA_LIBS/*"
    )
}

format_kafka_storage() {
    [[ -f $KAFKA_DATA/meta.properties ]] && return 0
    [[ -s $KAFKA_CLUSTER_ID_FILE ]] || new_cluster_id >"$KAFKA_CLUSTER_ID_FILE"
    log "kafka: formatting storage in $KAFKA_DATA (cluster id $(<"$KAFKA_CLUSTER_ID_FILE"))"
    local java
    java=$(java_bin)
    if ! "$java" -Xmx256m "${KAFKA_JAVA_OPTS[@]}" kafka.tools.StorageTool format \
        --config "$KAFKA_CONFIG" --cluster-id "$(<"$KAFKA_CLUSTER_ID_FILE")" \
        --ignore-formatted >>"$KAFKA_OUT" 2>&1; then
        tail -n 20 "$KAFKA_OUT" >&2 || true
        die "kafka storage format failed (see $KAFKA_OUT)"
    fi
}

kafka_fail() {
    printf -- '--- last lines of %s ---\n' "$KAFKA_LOG" >&2
    tail -n 30 "$KAFKA_LOG" >&2 2>/dev/null || true
    if [[ -s $KAFKA_OUT ]]; then
        printf -- '--- last lines of %s ---\n' "$KAFKA_OUT" >&2
        tail -n 15 "$KAFKA_OUT" >&2 || true
    fi
    die "$*"
}

# Port the running broker was started with (from the config it was given).
kafka_running_port() {
    local p
    p=$(sed -n 's|^listeners=PLAINTEXT://[^:]*:\([0-9][0-9]*\).*|\1|p' "$KAFKA_CONFIG" 2>/dev/null)
    printf '%s' "${p:-$KAFKA_PORT}"
}

# Port of listener $1 in the config the broker was started with (empty when
# it has no such listener).
kafka_running_listener_port() {
    sed -n "s|^listeners=.*$1://[^:,]*:\([0-9][0-9]*\).*|\1|p" "$KAFKA_CONFIG" 2>/dev/null
}

# Waits until the broker answers on its port and (when log_offset is given)
# the log written since log_offset says the server started. A broker that
# recovers many partitions (after a kill) takes long but keeps logging, so
# the timeout counts from its last log line, within an overall limit.
wait_kafka_ready() {
    local pid=$1 port=$2 log_offset=${3:-} started=$SECONDS size
    local progress=$SECONDS seen last_seen told=0
    last_seen=$(stat -c %s "$KAFKA_LOG" 2>/dev/null || echo 0)
    while :; do
        if ! kill -0 "$pid" 2>/dev/null; then
            rm -f "$KAFKA_PIDFILE"
            kafka_fail "kafka exited during startup"
        fi
        if port_open "$port"; then
            [[ -z $log_offset ]] && return 0
            size=$(stat -c %s "$KAFKA_LOG" 2>/dev/null || echo 0)
            ((size < log_offset)) && log_offset=0 # log rolled over
            if tail -c "+$((log_offset + 1))" "$KAFKA_LOG" 2>/dev/null | grep -q 'Kafka Server started'; then
                return 0
            fi
        fi
        seen=$(stat -c %s "$KAFKA_LOG" 2>/dev/null || echo 0)
        if [[ $seen != "$last_seen" ]]; then
            last_seen=$seen
            progress=$SECONDS
        fi
        if ((SECONDS - progress >= KAFKA_START_TIMEOUT || SECONDS - started >= KAFKA_START_LIMIT)); then
            kafka_fail "kafka (pid $pid) not ready on $HOST:$port after $((SECONDS - started))s (its log silent for $((SECONDS - progress))s); it is left running: inspect the log, then run '$0 down'"
        fi
        if ((!told && SECONDS - started >= 30)); then
            told=1
            log "kafka: still starting after 30s (recovering its partitions; see $KAFKA_LOG)"
        fi
        sleep 0.25
    done
}

kafka_up() {
    local pid want have t0 log_offset java rport
    want=$(kafka_version)
    if pid=$(kafka_pid) && kafka_config_drifted; then
        log "kafka: its config changed since it started (deploy/kafka/server.properties.in or log4j2.xml); restarting Kafka (PostgreSQL untouched)"
        kafka_down
    fi
    if pid=$(kafka_pid); then
        rport=$(kafka_running_port)
        port_open "$rport" || wait_kafka_ready "$pid" "$rport"
        have=$(cat "$KAFKA_LIBS/.kafka-version" 2>/dev/null || echo '?')
        log "kafka: up $HOST:$rport (pid $pid)"
        [[ $rport == "$KAFKA_PORT" ]] ||
            log "kafka: note: running on port $rport, not KAFKA_PORT=$KAFKA_PORT; run '$0 down && $0 up'"
        [[ $(kafka_running_listener_port PARTNER) == "$KAFKA_PARTNER_PORT" ]] ||
            log "kafka: note: partner listener not on KAFKA_PARTNER_PORT=$KAFKA_PARTNER_PORT; run '$0 down && $0 up'"
        [[ $have == "$want" ]] || log "kafka: note: running $have but deploy/kafka/pom.xml wants $want; run '$0 down && $0 up'"
        return 0
    fi
    rm -f "$KAFKA_PIDFILE"
    t0=$SECONDS
    check_java
    ensure_kafka_jars
    local port
    for port in "$KAFKA_PORT" "$KAFKA_CONTROLLER_PORT" "$KAFKA_PARTNER_PORT"; do
        port_open "$port" && die "port $HOST:$port is already in use by another process (not our Kafka); stop it or set KAFKA_PORT / KAFKA_CONTROLLER_PORT / KAFKA_PARTNER_PORT"
    done
    render_kafka_config
    kafka_java_opts
    format_kafka_storage
    log_offset=$(stat -c %s "$KAFKA_LOG" 2>/dev/null || echo 0)
    java=$(java_bin)
    log "kafka: starting Apache Kafka $want on $HOST:$KAFKA_PORT (controller $HOST:$KAFKA_CONTROLLER_PORT, partners SASL/SCRAM $HOST:$KAFKA_PARTNER_PORT, log $KAFKA_LOG)"
    {
        printf '\n==== %s starting kafka %s\n' "$(date '+%F %T')" "$want"
    } >>"$KAFKA_OUT"
    # Own session (setsid), so ^C in the calling terminal does not reach it;
    # all fds redirected (callers may wait for EOF on a pipe), and the lock
    # (fd 9) closed, or the broker would hold it for ever.
    local setsid=()
    command -v setsid >/dev/null 2>&1 && setsid=(setsid)
    (cd / && exec "${setsid[@]}" "$java" "${KAFKA_JAVA_OPTS[@]}" kafka.Kafka "$KAFKA_CONFIG" \
        </dev/null >>"$KAFKA_OUT" 2>&1 9>&-) &
    pid=$!
    printf '%s\n' "$pid" >"$KAFKA_PIDFILE"
    wait_kafka_ready "$pid" "$KAFKA_PORT" "$log_offset"
    log "kafka: up $HOST:$KAFKA_PORT (pid $pid, partners $HOST:$KAFKA_PARTNER_PORT, started in $((SECONDS - t0))s)"
}

kafka_down() {
    local pid i
    if ! pid=$(kafka_pid); then
        rm -f "$KAFKA_PIDFILE"
        log "kafka: down"
        return 0
    fi
    log "kafka: stopping (pid $pid)"
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < 120; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.25
    done
    if kill -0 "$pid" 2>/dev/null; then
        log "kafka: still running after 30s, sending SIGKILL"
        kill -KILL "$pid" 2>/dev/null || true
        for ((i = 0; i < 20; i++)); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.25
        done
    fi
    rm -f "$KAFKA_PIDFILE"
    log "kafka: down"
}

kafka_status() {
    local pid rport
    if pid=$(kafka_pid) && rport=$(kafka_running_port) && port_open "$rport"; then
        log "kafka: up $HOST:$rport (pid $pid, Kafka $(cat "$KAFKA_LIBS/.kafka-version" 2>/dev/null), partners $HOST:$(kafka_running_listener_port PARTNER))"
    elif [[ -n ${pid:-} ]]; then
        log "kafka: starting $HOST:${rport:-$KAFKA_PORT} (pid $pid, port not open yet)"
        return 1
    else
        log "kafka: down ($HOST:$KAFKA_PORT)"
        return 1
    fi
}

# ----------------------------------------------------------- PostgreSQL ----

# Newest installed server, unless PG_BIN is set.
find_pg_bin() {
    if [[ -n ${PG_BIN:-} ]]; then
        [[ -x $PG_BIN/postgres ]] || die "PG_BIN=$PG_BIN has no postgres binary"
        return 0
    fi
    local d
    d=$(printf '%s\n' /usr/lib/postgresql/*/bin/postgres | sort -V | tail -n 1)
    if [[ -x $d ]]; then
        PG_BIN=${d%/postgres}
        return 0
    fi
    return 1
}

install_pg() {
    log "postgres: server not installed; installing with apt-get (once)"
    # shellcheck source=scripts/lib/apt.sh
    source "$(dirname "${BASH_SOURCE[0]}")/../scripts/lib/apt.sh"
    apt_install "$LOG_DIR" postgresql postgresql
    find_pg_bin || die "apt-get installed postgresql but no /usr/lib/postgresql/*/bin/postgres appeared"
}

# Runs a command as the OS user that owns the PostgreSQL cluster.
as_pg() {
    if $IS_ROOT; then
        if command -v runuser >/dev/null 2>&1; then
            (cd / && runuser -u "$PG_OS_USER" -- "$@" 9>&-)
        else
            local cmd
            cmd=$(printf '%q ' "$@")
            (cd / && su -s /bin/sh "$PG_OS_USER" -c "$cmd" 9>&-)
        fi
    else
        "$@" 9>&-
    fi
}

# Sets PG_DIR & co. Creates them (owned by the server's OS user) only if
# $1 == create.
pg_paths() {
    local create=${1:-}
    if $IS_ROOT; then
        PG_OS_USER=postgres
        if ! id -u "$PG_OS_USER" >/dev/null 2>&1; then
            [[ $create != create ]] ||
                die "running as root but there is no 'postgres' OS user to run PostgreSQL as (PostgreSQL refuses to run as root; the user comes with 'apt-get install postgresql')"
            PG_OS_USER= # then nothing of ours can be running
        fi
    else
        PG_OS_USER=$(id -un)
    fi
    if [[ -n ${ZHIJIA_PG_DIR:-} ]]; then
        PG_DIR=$ZHIJIA_PG_DIR
    elif ! $IS_ROOT || [[ -d $CACHE/pg/data ]]; then
        PG_DIR=$CACHE/pg
    elif [[ -n $PG_OS_USER && -d $CACHE ]] && as_pg test -x "$CACHE" 2>/dev/null; then
        PG_DIR=$CACHE/pg
    else
        PG_DIR=/var/lib/zhijia-pg
    fi
    PG_DATA=$PG_DIR/data
    PG_RUN=$PG_DIR/run
    PG_LOG=$PG_DIR/postgres.log
    PG_ARCHIVE=$PG_DIR/archive
    PG_BACKUPS=$PG_DIR/backups
    if [[ $create == create ]]; then
        # Unix socket paths are limited to 107 bytes ("/.s.PGSQL.NNNNN" = 15).
        ((${#PG_RUN} + 15 <= 107)) ||
            die "$PG_RUN is too long for a unix socket path; set ZHIJIA_PG_DIR to a shorter directory"
        mkdir -p "$PG_DIR" "$PG_RUN" "$PG_ARCHIVE" "$PG_BACKUPS" "$LOG_DIR"
        if $IS_ROOT; then
            chown "$PG_OS_USER:" "$PG_DIR" "$PG_RUN" "$PG_ARCHIVE" "$PG_BACKUPS"
            chmod 700 "$PG_DIR"
            as_pg test -w "$PG_DIR" ||
                die "the postgres OS user cannot write $PG_DIR (a parent directory is not traversable); set ZHIJIA_PG_DIR"
        fi
        ln -sfn "$PG_LOG" "$LOG_DIR/postgres.log"
    fi
}

pg_running() {
    [[ -n $PG_BIN && -f $PG_DATA/PG_VERSION ]] || return 1
    as_pg "$PG_BIN/pg_ctl" status -D "$PG_DATA" >/dev/null 2>&1
}

# Port the running server listens on (line 4 of postmaster.pid).
pg_running_port() { sed -n 4p "$PG_DATA/postmaster.pid" 2>/dev/null; }
pg_running_pid() { sed -n 1p "$PG_DATA/postmaster.pid" 2>/dev/null; }

pg_psql_super() {
    as_pg "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$PG_RUN" -p "$PG_PORT" -U postgres -d postgres "$@"
}

pg_initdb() {
    [[ -f $PG_DATA/PG_VERSION ]] && return 0
    # A new cluster's WAL has the names of an old one's: archiving would stop at the first clash.
    if [[ -n $(find "$PG_ARCHIVE" "$PG_BACKUPS" -mindepth 1 -print -quit 2>/dev/null) ]]; then
        local aside
        aside=$PG_DIR/before-initdb-$(date -u +%Y%m%dT%H%M%SZ)
        log "postgres: moving the old cluster's WAL archive and backups aside to $aside"
        as_pg mkdir -p "$aside"
        as_pg mv "$PG_ARCHIVE" "$PG_BACKUPS" "$aside/"
        as_pg mkdir -p "$PG_ARCHIVE" "$PG_BACKUPS"
    fi
    local locale_opt=(--no-locale)
    if locale -a 2>/dev/null | grep -qiE '^c\.utf-?8$'; then
        locale_opt=(--locale=C.UTF-8)
    fi
    log "postgres: initdb $PG_DATA"
    if ! as_pg "$PG_BIN/initdb" -D "$PG_DATA" -U postgres -E UTF8 "${locale_opt[@]}" \
        --auth-local=trust --auth-host=scram-sha-256 >"$PG_DIR/initdb.log" 2>&1; then
        tail -n 20 "$PG_DIR/initdb.log" >&2 || true
        die "initdb failed (see $PG_DIR/initdb.log)"
    fi
    printf "\n# --- local dev settings: deploy/infra.sh rewrites zhijia.conf at every start\ninclude_if_exists = 'zhijia.conf'\n" |
        as_pg tee -a "$PG_DATA/postgresql.conf" >/dev/null
}

pg_write_conf() {
    as_pg tee "$PG_DATA/zhijia.conf" >/dev/null <<EOF
# Written by deploy/infra.sh at every start; edit the script, not this file.
listen_addresses = '$HOST'
port = $PG_PORT
unix_socket_directories = '$PG_RUN'
max_connections = 200
shared_buffers = 256MB
fsync = on
log_timezone = 'UTC'
timezone = 'UTC'
# WAL archiving for point-in-time recovery (docs/backup.md). A segment is archived when full or
# PG_ARCHIVE_TIMEOUT seconds after its first write; fresh zero-filled segments (no recycling)
# make that forced switch cost a few KB gzipped instead of 16 MB. Until a base backup exists
# nothing is kept (no WAL archive is of use without one: a cluster never backed up, such as the
# fault suite's, does not grow an archive); a segment archived already is accepted again if
# identical (the server retries one whose success it did not record). archive_mode applies at
# the server's next start ('$0 pg-down && $0 pg-up').
wal_level = replica
archive_mode = on
archive_command = 'test -z "\$(ls -A $PG_BACKUPS)" || if test -f $PG_ARCHIVE/%f.gz; then gunzip -c $PG_ARCHIVE/%f.gz | cmp -s - %p; else gzip -1 < %p > $PG_ARCHIVE/%f.gz.tmp && mv $PG_ARCHIVE/%f.gz.tmp $PG_ARCHIVE/%f.gz; fi'
archive_timeout = $PG_ARCHIVE_TIMEOUT
wal_recycle = off
# Recovery settings while deploy/infra.sh restore runs.
include_if_exists = 'zhijia-recovery.conf'
EOF
}

pg_ensure_role() {
    pg_psql_super -v "role=$PG_USER" -v "pw=$PG_PASSWORD" <<'SQL'
SELECT CASE WHEN EXISTS (SELECT 1 FROM pg_roles WHERE rolname = :'role')
            THEN format('ALTER ROLE %I WITH LOGIN CREATEDB PASSWORD %L', :'role', :'pw')
            ELSE format('CREATE ROLE %I WITH LOGIN CREATEDB PASSWORD %L', :'role', :'pw')
       END
\gexec
SQL
}

pg_up() {
    local t0=$SECONDS running_port
    if ! find_pg_bin; then
        install_pg
    fi
    pg_paths create
    if pg_running; then
        running_port=$(pg_running_port)
        log "postgres: up $HOST:$running_port (pid $(pg_running_pid))"
        [[ $running_port == "$PG_PORT" ]] ||
            log "postgres: note: running on port $running_port, not PG_PORT=$PG_PORT; run '$0 down && $0 up'"
        return 0
    fi
    local data_ver bin_ver
    if [[ -f $PG_DATA/PG_VERSION ]]; then
        data_ver=$(<"$PG_DATA/PG_VERSION")
        bin_ver=$("$PG_BIN/postgres" --version | sed -n 's/.* \([0-9][0-9]*\)[.].*/\1/p')
        [[ $data_ver == "$bin_ver" ]] ||
            die "$PG_DATA was created by PostgreSQL $data_ver but $PG_BIN is PostgreSQL $bin_ver: set PG_BIN=/usr/lib/postgresql/$data_ver/bin, or '$0 reset' to start over"
    fi
    port_open "$PG_PORT" && die "port $HOST:$PG_PORT is already in use by another process; stop it or set PG_PORT"
    pg_initdb
    pg_write_conf
    log "postgres: starting PostgreSQL ($PG_BIN) on $HOST:$PG_PORT (data $PG_DATA, log $PG_LOG)"
    if ! as_pg "$PG_BIN/pg_ctl" start -D "$PG_DATA" -l "$PG_LOG" -w -t 60 -s >/dev/null 2>&1; then
        printf -- '--- last lines of %s ---\n' "$PG_LOG" >&2
        tail -n 20 "$PG_LOG" >&2 2>/dev/null || true
        die "PostgreSQL did not start (see $PG_LOG)"
    fi
    pg_ensure_role || die "could not create/update the PostgreSQL role $PG_USER"
    log "postgres: up $HOST:$PG_PORT (pid $(pg_running_pid), role $PG_USER, started in $((SECONDS - t0))s)"
}

pg_down() {
    find_pg_bin || {
        log "postgres: down"
        return 0
    }
    pg_paths
    if ! pg_running; then
        log "postgres: down"
        return 0
    fi
    log "postgres: stopping"
    as_pg "$PG_BIN/pg_ctl" stop -D "$PG_DATA" -m fast -w -t 60 -s ||
        die "pg_ctl stop failed (see $PG_LOG)"
    log "postgres: down"
}

pg_status() {
    if find_pg_bin; then
        pg_paths
        if pg_running; then
            log "postgres: up $HOST:$(pg_running_port) (pid $(pg_running_pid), PostgreSQL $(<"$PG_DATA/PG_VERSION"), data $PG_DATA)"
            return 0
        fi
    fi
    log "postgres: down ($HOST:$PG_PORT)"
    return 1
}

# ------------------------------------------------------ backup, restore ----

# A base backup as tarballs (base.tar.gz, pg_wal.tar.gz) in $PG_BACKUPS/<UTC start time>/, with
# the moment it became consistent in finished_at (the earliest time it can be restored to).
# Older backups beyond PG_BACKUPS_KEPT go, and with them the archived WAL only they needed.
cmd_backup() {
    find_pg_bin || die "PostgreSQL is not installed: run '$0 up' first"
    pg_paths create
    pg_running || die "PostgreSQL is not running: run '$0 up' first"
    local t0=$SECONDS name dest start_wal oldest
    [[ $(pg_psql_super -At -c 'SHOW archive_mode') == on ]] ||
        die "PostgreSQL runs without WAL archiving (started by an older infra.sh): restart it ('$0 pg-down && $0 pg-up') so that a backup can be restored to a point in time"
    name=$(date -u +%Y%m%dT%H%M%SZ)
    dest=$PG_BACKUPS/$name
    [[ -e $dest ]] && die "$dest exists already (one backup per second at most)"
    log "backup: pg_basebackup into $dest"
    if ! as_pg "$PG_BIN/pg_basebackup" -h "$PG_RUN" -p "$PG_PORT" -U postgres -D "$dest.tmp" \
        -Ft -z -X stream -c fast --no-sync -l "zhijia $name" >"$PG_DIR/backup.log" 2>&1; then
        as_pg rm -rf "$dest.tmp"
        tail -n 20 "$PG_DIR/backup.log" >&2 || true
        die "pg_basebackup failed (see $PG_DIR/backup.log)"
    fi
    date -u +'%Y-%m-%d %H:%M:%S+00' | as_pg tee "$dest.tmp/finished_at" >/dev/null
    as_pg sync "$dest.tmp"
    as_pg mv "$dest.tmp" "$dest"
    # The archive must hold the WAL from here on for this backup to reach any later moment.
    pg_psql_super -c 'SELECT pg_switch_wal()' >/dev/null
    local kept=() b
    mapfile -t kept < <(find "$PG_BACKUPS" -mindepth 1 -maxdepth 1 -type d -name '2*Z' | sort -r)
    for b in "${kept[@]:$PG_BACKUPS_KEPT}"; do
        log "backup: deleting the old backup $b"
        as_pg rm -rf "$b"
    done
    oldest=${kept[$((${#kept[@]} < PG_BACKUPS_KEPT ? ${#kept[@]} - 1 : PG_BACKUPS_KEPT - 1))]}
    start_wal=$(tar -xzOf "$oldest/base.tar.gz" backup_label | sed -n 's/^START WAL LOCATION: .*(file \([0-9A-F]*\)).*/\1/p')
    [[ -n $start_wal ]] && as_pg "$PG_BIN/pg_archivecleanup" -x .gz "$PG_ARCHIVE" "$start_wal"
    log "backup: done in $((SECONDS - t0))s: $dest ($(du -sh "$dest" | cut -f1)), archive $PG_ARCHIVE ($(du -sh "$PG_ARCHIVE" | cut -f1))"
}

# epoch seconds of a timestamp PostgreSQL and date(1) both read (e.g. '2026-12-02 17:30:00+00')
epoch_of() { date -u -d "$1" +%s 2>/dev/null || die "cannot read the time '$1' (e.g. '2026-12-02 17:30:00+00')"; }

# Replaces the data directory with the newest base backup that finished before TARGET (or the
# newest one) and replays the archive to TARGET, or to its end without one; then promotes. The
# replaced directory is kept aside as data.replaced (the previous one aside is deleted).
cmd_restore() {
    local target=${1:-} t0=$SECONDS backup='' b finished
    find_pg_bin || die "PostgreSQL is not installed"
    pg_paths create
    for b in $(find "$PG_BACKUPS" -mindepth 1 -maxdepth 1 -type d -name '2*Z' | sort -r); do
        [[ -f $b/finished_at ]] || continue
        finished=$(<"$b/finished_at")
        if [[ -z $target ]] || (($(epoch_of "$finished") <= $(epoch_of "$target"))); then
            backup=$b
            break
        fi
    done
    [[ -n $backup ]] || die "no base backup in $PG_BACKUPS${target:+ finished before $target}: run '$0 backup' first"
    log "restore: from $backup (consistent at $(<"$backup/finished_at")) to ${target:-the end of the archive}"
    if pg_running; then
        as_pg "$PG_BIN/pg_ctl" stop -D "$PG_DATA" -m fast -w -t 60 -s ||
            as_pg "$PG_BIN/pg_ctl" stop -D "$PG_DATA" -m immediate -w -t 60 -s ||
            die "could not stop PostgreSQL"
    fi
    if [[ -e $PG_DATA ]]; then
        as_pg rm -rf "$PG_DIR/data.replaced"
        as_pg mv "$PG_DATA" "$PG_DIR/data.replaced"
    fi
    as_pg mkdir -m 700 "$PG_DATA"
    as_pg tar -xzf "$backup/base.tar.gz" -C "$PG_DATA"
    as_pg tar -xzf "$backup/pg_wal.tar.gz" -C "$PG_DATA/pg_wal"
    as_pg rm -f "$PG_DATA/postmaster.pid"
    pg_write_conf
    {
        printf "# Written by deploy/infra.sh restore; deleted once the server is promoted.\n"
        printf "restore_command = 'test -f %s/%%f.gz && gunzip < %s/%%f.gz > %%p'\n" "$PG_ARCHIVE" "$PG_ARCHIVE"
        if [[ -n $target ]]; then
            printf "recovery_target_time = '%s'\nrecovery_target_action = 'promote'\n" "$target"
        fi
    } | as_pg tee "$PG_DATA/zhijia-recovery.conf" >/dev/null
    as_pg touch "$PG_DATA/recovery.signal"
    port_open "$PG_PORT" && die "port $HOST:$PG_PORT is already in use by another process"
    if ! as_pg "$PG_BIN/pg_ctl" start -D "$PG_DATA" -l "$PG_LOG" -w -t 600 -s >/dev/null 2>&1; then
        tail -n 20 "$PG_LOG" >&2 2>/dev/null || true
        die "PostgreSQL did not recover (see $PG_LOG; a TARGET past the archive's end is refused)"
    fi
    local waited=0
    until [[ $(pg_psql_super -At -c 'SELECT pg_is_in_recovery()') == f ]]; do
        ((waited++ < 1200)) || die "PostgreSQL still recovering after 600s (see $PG_LOG)"
        sleep 0.5
    done
    as_pg rm -f "$PG_DATA/zhijia-recovery.conf"
    pg_ensure_role || die "could not create/update the PostgreSQL role $PG_USER"
    log "restore: done in $((SECONDS - t0))s; last replayed commit $(pg_psql_super -At -c \
        "SELECT coalesce(pg_last_xact_replay_timestamp()::text, 'unknown')")"
}

# ------------------------------------------------------------- commands ----

urlencode() {
    local s=$1 out='' c i
    for ((i = 0; i < ${#s}; i++)); do
        c=${s:i:1}
        case $c in
        [a-zA-Z0-9.~_-]) out+=$c ;;
        *) out+=$(printf '%%%02X' "'$c") ;;
        esac
    done
    printf '%s' "$out"
}

cmd_env() {
    printf 'export KAFKA_BOOTSTRAP_SERVERS=%s:%s\n' "$HOST" "$KAFKA_PORT"
    printf 'export KAFKA_PARTNER_BOOTSTRAP_SERVERS=%s:%s\n' "$HOST" "$KAFKA_PARTNER_PORT"
    printf 'export POSTGRES_DSN=postgresql://%s:%s@%s:%s/postgres\n' \
        "$(urlencode "$PG_USER")" "$(urlencode "$PG_PASSWORD")" "$HOST" "$PG_PORT"
}

cmd_reset() {
    kafka_down
    pg_down
    find_pg_bin || true
    pg_paths
    log "reset: deleting $KAFKA_DATA, $KAFKA_CLUSTER_ID_FILE, $PG_DATA, its WAL archive and backups (keeping $KAFKA_LIBS)"
    rm -rf "$KAFKA_DATA" "$KAFKA_CLUSTER_ID_FILE" "$KAFKA_CONFIG" "$PG_DATA" "$PG_RUN" "$PG_DIR/initdb.log" \
        "$PG_ARCHIVE" "$PG_BACKUPS" "$PG_DIR/data.replaced"
}

cmd_smoke() {
    if ! kafka_status >/dev/null || ! pg_status >/dev/null; then
        die "not up: run '$0 up' first"
    fi
    local java
    java=$(java_bin)
    log "smoke: kafka produce/consume on $HOST:$KAFKA_PORT"
    "$java" -cp "$KAFKA_LIBS/*" -Dlog4j2.level=WARN "$KAFKA_DEPLOY_DIR/KafkaSmoke.java" "$HOST:$KAFKA_PORT" ||
        die "kafka smoke test failed (a JDK is needed to run $KAFKA_DEPLOY_DIR/KafkaSmoke.java)"
    log "smoke: postgres login as $PG_USER on $HOST:$PG_PORT"
    PGPASSWORD=$PG_PASSWORD "$PG_BIN/psql" -X -q -At -h "$HOST" -p "$PG_PORT" -U "$PG_USER" -d postgres \
        -c "select 'postgres smoke test OK: ' || current_user || ' on ' || version()" ||
        die "postgres smoke test failed"
}

usage() {
    sed -n '2,21s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"
}

main() {
    local cmd=${1:-}
    case $cmd in
    up)
        take_lock
        kafka_up
        pg_up
        ;;
    down)
        take_lock
        kafka_down
        pg_down
        ;;
    status)
        local rc=0
        kafka_status || rc=3
        pg_status || rc=3
        return "$rc"
        ;;
    env) cmd_env ;;
    reset)
        take_lock
        cmd_reset
        ;;
    smoke) cmd_smoke ;;
    pg-up)
        take_lock
        pg_up
        ;;
    pg-down)
        take_lock
        pg_down
        ;;
    backup)
        take_lock
        cmd_backup
        ;;
    restore)
        take_lock
        cmd_restore "${2:-}"
        ;;
    -h | --help | help) usage ;;
    *)
        usage >&2
        exit 2
        ;;
    esac
}

main "$@"
