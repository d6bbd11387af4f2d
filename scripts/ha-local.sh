#!/usr/bin/env bash
# A local high-availability setup in one command: a ferrodis master, two
# replicas and three ferrodis Sentinels on 127.0.0.1, each daemonized with
# its own directory, config and log under $HA_DIR.
#
#   scripts/ha-local.sh start      # build if needed, start all six
#   scripts/ha-local.sh status     # who is master, what the Sentinels say
#   scripts/ha-local.sh failover   # kill -9 the master, wait for the new one
#   scripts/ha-local.sh stop       # shut everything down
#
# Environment: BASEPORT (default 7000: servers on BASEPORT..+2, Sentinels on
# BASEPORT+100..+102), HA_DIR (default .ha), BIN (default
# target/release/ferrodis-server).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BASEPORT="${BASEPORT:-7000}"
HA_DIR="${HA_DIR:-$ROOT/.ha}"
BIN="${BIN:-$ROOT/target/release/ferrodis-server}"
SERVERS=("$BASEPORT" "$((BASEPORT + 1))" "$((BASEPORT + 2))")
SENTINELS=("$((BASEPORT + 100))" "$((BASEPORT + 101))" "$((BASEPORT + 102))")
CLI="redis-cli -h 127.0.0.1"

master_port() {
    $CLI -p "${SENTINELS[0]}" SENTINEL GET-MASTER-ADDR-BY-NAME mymaster 2>/dev/null | sed -n 2p
}

wait_for() { # seconds, then a command that must succeed
    local t=$1; shift
    for _ in $(seq $((t * 10))); do "$@" >/dev/null 2>&1 && return 0; sleep 0.1; done
    return 1
}

sentinels_met() {
    test "$($CLI -p "${SENTINELS[0]}" SENTINEL MASTER mymaster | sed -n '/^num-other-sentinels$/{n;p}')" = 2
}

is_replica() { # port
    test "$($CLI -p "$1" ROLE 2>/dev/null | head -1)" = slave
}

master_moved() { # from port
    local now
    now="$(master_port)"
    test -n "$now" && test "$now" != "$1"
}

start() {
    [[ -x "$BIN" ]] || (cd "$ROOT" && make --no-print-directory build >/dev/null)
    mkdir -p "$HA_DIR"
    for p in "${SERVERS[@]}"; do
        mkdir -p "$HA_DIR/server-$p"
        local args=(--port "$p" --bind 127.0.0.1 --dir "$HA_DIR/server-$p" --logfile server.log
            --daemonize yes --pidfile "$HA_DIR/server-$p/pid" --repl-diskless-sync-delay 0)
        [[ $p != "${SERVERS[0]}" ]] && args+=(--replicaof 127.0.0.1 "${SERVERS[0]}")
        "$BIN" "${args[@]}"
    done
    for p in "${SENTINELS[@]}"; do
        local d="$HA_DIR/sentinel-$p"
        mkdir -p "$d"
        cat >"$d/sentinel.conf" <<EOF
port $p
bind 127.0.0.1
dir $d
logfile sentinel.log
pidfile $d/pid
daemonize yes
sentinel monitor mymaster 127.0.0.1 ${SERVERS[0]} 2
sentinel down-after-milliseconds mymaster 3000
sentinel failover-timeout mymaster 20000
EOF
        "$BIN" "$d/sentinel.conf" --sentinel
    done
    wait_for 20 sentinels_met || echo "warning: the Sentinels have not all met yet"
    status
}

status() {
    for p in "${SERVERS[@]}"; do
        printf 'server   %s: %s\n' "$p" "$($CLI -p "$p" ROLE 2>/dev/null | head -1 || echo down)"
    done
    for p in "${SENTINELS[@]}"; do
        printf 'sentinel %s: master at %s\n' "$p" \
            "$($CLI -p "$p" SENTINEL GET-MASTER-ADDR-BY-NAME mymaster 2>/dev/null | paste -sd: || echo down)"
    done
}

failover() {
    local old pid
    old="$(master_port)"
    pid="$(cat "$HA_DIR/server-$old/pid")"
    echo "killing the master on port $old (pid $pid) with SIGKILL"
    kill -9 "$pid"
    wait_for 60 master_moved "$old" || { echo "no failover"; exit 1; }
    echo "new master: port $(master_port); the Sentinels' events:"
    grep -hE '\+(sdown|odown|elected-leader|selected-slave|promoted-slave|switch-master) ' \
        "$HA_DIR"/sentinel-*/sentinel.log | sort -k3,4 | tail -8
    echo "restarting the old master: the Sentinels make it a replica"
    "$BIN" --port "$old" --bind 127.0.0.1 --dir "$HA_DIR/server-$old" --logfile server.log \
        --daemonize yes --pidfile "$HA_DIR/server-$old/pid" --repl-diskless-sync-delay 0
    # Sentinel waits a few hello periods before reconfiguring a returning
    # master, so that a newer configuration can reach it first.
    wait_for 40 is_replica "$old" || echo "warning: port $old is not a replica yet"
    status
}

stop() {
    for p in "${SENTINELS[@]}" "${SERVERS[@]}"; do
        $CLI -p "$p" SHUTDOWN NOSAVE >/dev/null 2>&1 || true
    done
    echo "stopped (state kept in $HA_DIR)"
}

case "${1:-start}" in
    start) start ;;
    status) status ;;
    failover) failover ;;
    stop) stop ;;
    *) echo "usage: $0 start|status|failover|stop" >&2; exit 2 ;;
esac
