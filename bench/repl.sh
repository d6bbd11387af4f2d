#!/usr/bin/env bash
# Replication: a ferrodis master/replica pair and a redis-server pair, same
# settings, in the same run, measured alternately (ferrodis, redis, ROUNDS
# times; median reported).  Each master holds KEYS keys of VALUE_SIZE bytes
# (DEBUG POPULATE, --enable-debug-command yes).
#
#   full sync     a fresh replica runs REPLICAOF; wall time until its INFO
#                 says master_link_status:up and DBSIZE equals the master's.
#                 Once with repl-diskless-sync no (RDB file on the master's
#                 disk), once with yes and repl-diskless-sync-delay 0.
#   partial sync  CLIENT KILL TYPE master on a synced replica, WRITES SETs
#                 pipelined into the master during the gap, wall time from
#                 the kill until the replica's slave_repl_offset equals the
#                 master's master_repl_offset; sync_partial_ok must grow.
#
# Environment: KEYS (1000000), VALUE_SIZE (100), WRITES (10000), ROUNDS (3),
# MARKDOWN=1 (also print Markdown rows), NO_BUILD=1 (skip cargo build).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

KEYS="${KEYS:-1000000}"
VALUE_SIZE="${VALUE_SIZE:-100}"
WRITES="${WRITES:-10000}"
ROUNDS="${ROUNDS:-3}"
ARGS=(--enable-debug-command yes)
SERVERS=(ferrodis redis)
declare -A BIN=([ferrodis]="$FERRODIS_BIN" [redis]="$(command -v redis-server)")
declare -A MPORT M

build_release
add() { M[$1|$2]="${M[$1|$2]:-} $3"; }
get() { echo "${M[$1|$2]:-}" | median; }

for s in "${SERVERS[@]}"; do
    start_server CUR "${BIN[$s]}" "${ARGS[@]}"
    MPORT[$s]=$CUR_PORT
    redis-cli -p "$CUR_PORT" debug populate "$KEYS" key "$VALUE_SIZE" >/dev/null
done
echo "$(nproc) cores; masters: DEBUG POPULATE $KEYS key $VALUE_SIZE; $ROUNDS alternating rounds, median"

# full_sync SERVER METRIC: a fresh replica of the master, timed; leaves
# the replica running in REPL_PORT / REPL_PID.
full_sync() {
    local s=$1 metric=$2 mport=${MPORT[$1]} t0 want
    start_server REPL "${BIN[$s]}" "${ARGS[@]}"
    want=$(redis-cli -p "$mport" dbsize)
    t0=$(now_us)
    redis-cli -p "$REPL_PORT" replicaof 127.0.0.1 "$mport" >/dev/null
    wait_field "$REPL_PORT" master_link_status up
    while [ "$(redis-cli -p "$REPL_PORT" dbsize)" != "$want" ]; do sleep 0.005; done
    add "$metric" "$s" "$(ms_since "$t0")"
}

for mode in no yes; do
    for s in "${SERVERS[@]}"; do
        redis-cli -p "${MPORT[$s]}" config set repl-diskless-sync "$mode" >/dev/null
        redis-cli -p "${MPORT[$s]}" config set repl-diskless-sync-delay 0 >/dev/null
    done
    for _ in $(seq 1 "$ROUNDS"); do
        for s in "${SERVERS[@]}"; do
            full_sync "$s" "full_$mode"
            stop_server "$REPL_PID"
        done
    done
done

# ---- partial resync ----
awk -v n="$WRITES" 'BEGIN {
    for (i = 0; i < n; i++) {
        k = "gap:" i; v = sprintf("%010d", i)
        printf "*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$10\r\n%s\r\n", length(k), k, v
    }
}' > "$BENCH_TMP/writes.proto"

declare -A RPORT RPID
for s in "${SERVERS[@]}"; do
    full_sync "$s" full_for_partial
    RPORT[$s]=$REPL_PORT RPID[$s]=$REPL_PID
done

partial_once() {
    local s=$1 mport=${MPORT[$1]} rport=${RPORT[$1]} t0 before m r
    before=$(info "$mport" sync_partial_ok)
    t0=$(now_us)
    redis-cli -p "$rport" client kill type master >/dev/null
    redis-cli -p "$mport" --pipe < "$BENCH_TMP/writes.proto" >/dev/null
    add writes_ms "$s" "$(ms_since "$t0")"
    while :; do
        m=$(info "$mport" master_repl_offset)
        r=$(info "$rport" slave_repl_offset)
        [ "$m" = "$r" ] && [ "$(info "$rport" master_link_status)" = up ] && break
        sleep 0.005
    done
    add partial_ms "$s" "$(ms_since "$t0")"
    if [ "$(info "$mport" sync_partial_ok)" -le "$before" ]; then
        echo "$s: sync_partial_ok did not grow (a full resync happened?)" >&2
        add partial_failed "$s" 1
    fi
}
for _ in $(seq 1 "$ROUNDS"); do
    for s in "${SERVERS[@]}"; do partial_once "$s"; done
done

MD=()
row() {
    local metric=$1 label=$2 f r q
    f=$(get "$metric" ferrodis)
    r=$(get "$metric" redis)
    q=$(ratio "$f" "$r")
    printf '%-44s %10s %10s %8s\n' "$label" "$f" "$r" "$q"
    MD+=("| $label | $f | $r | $q |")
}
printf '\n%-44s %10s %10s %8s\n' "metric (ms)" ferrodis redis ratio
row full_no "full sync, disk (repl-diskless-sync no)"
row full_yes "full sync, diskless (delay 0)"
row writes_ms "$WRITES pipelined SETs during the gap"
row partial_ms "partial resync, kill until offsets equal"
for s in "${SERVERS[@]}"; do
    [ -n "${M[partial_failed|$s]:-}" ] && echo "$s: some partial resyncs were full resyncs"
done
echo "targets: ratios <= 1.00"

if [ "${MARKDOWN:-0}" = 1 ]; then
    echo
    echo '| metric, ms | ferrodis | redis 7.0.15 | ratio |'
    echo '|---|---:|---:|---:|'
    printf '%s\n' "${MD[@]}"
fi
