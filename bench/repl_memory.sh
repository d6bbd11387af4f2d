#!/usr/bin/env bash
# Memory of a replica during a diskless full sync (issue 13, item 2):
# ferrodis and redis-server, same settings, same run. Each master holds KEYS
# keys of VALUE_SIZE bytes (DEBUG POPULATE) and sends its RDB diskless
# (repl-diskless-sync yes, delay 0); a fresh, empty replica of the same
# server loads it with repl-diskless-load MODE (on-empty-db, then swapdb).
#
# Reported per server and mode: the replica's peak resident memory during
# the sync (VmHWM of /proc/<pid>/status, the kernel's high-water mark since
# the replica started) and its resident memory once the data set is loaded
# (VmRSS), both in MB, and their ratio peak / loaded: 1.00 means the payload
# was never held in memory beside the data (target <= 1.10).
#
# Environment: KEYS (1000000), VALUE_SIZE (100), MODES ("on-empty-db swapdb"),
# MARKDOWN=1 (also print Markdown rows), NO_BUILD=1 (skip cargo build).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

KEYS="${KEYS:-1000000}"
VALUE_SIZE="${VALUE_SIZE:-100}"
MODES="${MODES:-on-empty-db swapdb}"
ARGS=(--enable-debug-command yes)
SERVERS=(ferrodis redis)
declare -A BIN=([ferrodis]="$FERRODIS_BIN" [redis]="$(command -v redis-server)")
declare -A MPORT

build_release
hwm_kb() { awk '/^VmHWM:/ {print $2}' "/proc/$1/status"; }
mb() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }

for s in "${SERVERS[@]}"; do
    start_server CUR "${BIN[$s]}" "${ARGS[@]}" --repl-diskless-sync yes --repl-diskless-sync-delay 0
    MPORT[$s]=$CUR_PORT
    redis-cli -p "$CUR_PORT" debug populate "$KEYS" key "$VALUE_SIZE" >/dev/null
done
echo "$(nproc) cores; masters: DEBUG POPULATE $KEYS key $VALUE_SIZE; diskless sync to an empty replica"

MD=()
printf '\n%-12s %-10s %12s %12s %8s\n' mode server "peak MB" "loaded MB" "peak/loaded"
for mode in $MODES; do
    for s in "${SERVERS[@]}"; do
        start_server REPL "${BIN[$s]}" "${ARGS[@]}" --repl-diskless-load "$mode"
        want=$(redis-cli -p "${MPORT[$s]}" dbsize)
        redis-cli -p "$REPL_PORT" replicaof 127.0.0.1 "${MPORT[$s]}" >/dev/null
        wait_field "$REPL_PORT" master_link_status up
        while [ "$(redis-cli -p "$REPL_PORT" dbsize)" != "$want" ]; do sleep 0.01; done
        peak=$(hwm_kb "$REPL_PID")
        loaded=$(rss_kb "$REPL_PID")
        q=$(ratio "$peak" "$loaded")
        printf '%-12s %-10s %12s %12s %8s\n' "$mode" "$s" "$(mb "$peak")" "$(mb "$loaded")" "$q"
        MD+=("| $mode | $s | $(mb "$peak") | $(mb "$loaded") | $q |")
        stop_server "$REPL_PID"
    done
done
echo "target: ferrodis peak/loaded <= 1.10"

if [ "${MARKDOWN:-0}" = 1 ]; then
    echo
    echo '| repl-diskless-load | server | peak RSS, MB | loaded RSS, MB | peak / loaded |'
    echo '|---|---|---:|---:|---:|'
    printf '%s\n' "${MD[@]}"
fi
