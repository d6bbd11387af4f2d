#!/usr/bin/env bash
# Persistence: ferrodis and the real redis-server, same settings, each
# loaded with KEYS keys by DEBUG POPULATE (both started with
# --enable-debug-command yes), measured alternately (ferrodis, redis, ROUNDS
# times; median reported):
#
#   bgsave      wall time from BGSAVE to rdb_bgsave_in_progress:0 (INFO is
#               polled every 5 ms), latest_fork_usec, dump.rdb size;
#   load        restart on the dump: wall time from exec until PING answers
#               PONG, and the server's own "DB loaded from disk: N seconds";
#   set during  redis-benchmark -t set (-r KEYS) without a child, then while
#   bgsave      a BGSAVE made slow with CONFIG SET rdb-key-save-delay runs
#               (the child is stopped with SIGUSR1, Redis's "killed on
#               purpose" signal, once the benchmark is done).
#
# Environment:
#   KEYS        keys for DEBUG POPULATE           (default 1000000)
#   VALUE_SIZE  value bytes for DEBUG POPULATE    (default 100)
#   ROUNDS      rounds per measurement, odd       (default 3)
#   N           SET requests per benchmark run    (default 200000)
#   CLIENTS     redis-benchmark connections       (default 50)
#   SAVE_DELAY  rdb-key-save-delay in µs during the throughput test (default 1)
#   NO_BUILD=1  skip cargo build --release
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

KEYS="${KEYS:-1000000}"
VALUE_SIZE="${VALUE_SIZE:-100}"
ROUNDS="${ROUNDS:-3}"
N="${N:-200000}"
CLIENTS="${CLIENTS:-50}"
SAVE_DELAY="${SAVE_DELAY:-1}"
ARGS=(--enable-debug-command yes --dbfilename dump.rdb)
SERVERS=(ferrodis redis)
declare -A BIN=([ferrodis]="$FERRODIS_BIN" [redis]="$(command -v redis-server)")
declare -A PORT PID DIR M   # M["metric|server"] = space list of samples

build_release
for s in "${SERVERS[@]}"; do
    start_server CUR "${BIN[$s]}" "${ARGS[@]}"
    PORT[$s]=$CUR_PORT PID[$s]=$CUR_PID DIR[$s]=$CUR_DIR
done

add() { M[$1|$2]="${M[$1|$2]:-} $3"; }
get() { echo "${M[$1|$2]:-}" | median; }

echo "$(nproc) cores; DEBUG POPULATE $KEYS key $VALUE_SIZE; $ROUNDS alternating rounds, median"
for s in "${SERVERS[@]}"; do
    t0=$(now_us)
    redis-cli -p "${PORT[$s]}" debug populate "$KEYS" key "$VALUE_SIZE" >/dev/null
    add populate_ms $s "$(ms_since "$t0")"
    add rss_mb $s "$(awk -v k="$(rss_kb "${PID[$s]}")" 'BEGIN {printf "%.1f", k / 1024}')"
    [ "$(redis-cli -p "${PORT[$s]}" dbsize)" = "$KEYS" ] || { echo "$s: DBSIZE mismatch" >&2; exit 1; }
done

# ---- BGSAVE ----
bgsave_once() {
    local s=$1 port=${PORT[$1]} t0
    t0=$(now_us)
    redis-cli -p "$port" bgsave >/dev/null
    wait_field "$port" rdb_bgsave_in_progress 0
    add bgsave_ms "$s" "$(ms_since "$t0")"
    [ "$(info "$port" rdb_last_bgsave_status)" = ok ] || { echo "$s: BGSAVE failed" >&2; exit 1; }
    add fork_us "$s" "$(info "$port" latest_fork_usec)"
    add dump_mb "$s" "$(stat -c %s "${DIR[$s]}/dump.rdb" | awk '{printf "%.1f", $1 / 1e6}')"
}
for _ in $(seq 1 "$ROUNDS"); do
    for s in "${SERVERS[@]}"; do bgsave_once "$s"; done
done

# ---- load on restart ----
restart_once() {
    local s=$1 t0 loaded
    stop_server "${PID[$s]}"
    : > "${DIR[$s]}/server.log"
    t0=$(now_us)
    launch "${BIN[$s]}" "${PORT[$s]}" "${DIR[$s]}" "${ARGS[@]}"
    PID[$s]=$LAUNCHED_PID
    wait_pong "${PORT[$s]}" "${PID[$s]}" || { echo "$s did not restart" >&2; tail "${DIR[$s]}/server.log" >&2; exit 1; }
    add load_wall_ms "$s" "$(ms_since "$t0")"
    loaded=$(sed -n 's/.*DB loaded from disk: \([0-9.]*\) seconds.*/\1/p' "${DIR[$s]}/server.log")
    [ -n "$loaded" ] || { echo "$s: no 'DB loaded from disk' line" >&2; exit 1; }
    add load_log_ms "$s" "$(awk -v x="$loaded" 'BEGIN {printf "%.0f", x * 1000}')"
    [ "$(redis-cli -p "${PORT[$s]}" dbsize)" = "$KEYS" ] || { echo "$s: DBSIZE mismatch after load" >&2; exit 1; }
}
for _ in $(seq 1 "$ROUNDS"); do
    for s in "${SERVERS[@]}"; do restart_once "$s"; done
done

# ---- SET throughput without and during a BGSAVE ----
set_rps() {
    redis-benchmark -p "$1" -t set -n "$N" -c "$CLIENTS" -r "$KEYS" -d "$VALUE_SIZE" --csv 2>/dev/null |
        tr '\r' '\n' | awk -F, '$1=="\"SET\"" {gsub(/"/, "", $2); printf "%.0f\n", $2}'
}
during_once() {
    local s=$1 port=${PORT[$1]} child rps
    redis-cli -p "$port" config set rdb-key-save-delay "$SAVE_DELAY" >/dev/null
    redis-cli -p "$port" bgsave >/dev/null
    rps=$(set_rps "$port")
    if [ "$(info "$port" rdb_bgsave_in_progress)" != 1 ]; then
        echo "$s: the BGSAVE ended before the benchmark did: raise SAVE_DELAY" >&2
    fi
    add set_during_bgsave "$s" "$rps"
    child=$(sed -n 's/.*Background saving started by pid \([0-9]*\).*/\1/p' "${DIR[$s]}/server.log" | tail -1)
    [ -n "$child" ] && kill -USR1 "$child" 2>/dev/null || true
    wait_field "$port" rdb_bgsave_in_progress 0
    redis-cli -p "$port" config set rdb-key-save-delay 0 >/dev/null
}
for _ in $(seq 1 "$ROUNDS"); do
    for s in "${SERVERS[@]}"; do add set_no_bgsave "$s" "$(set_rps "${PORT[$s]}")"; done
    for s in "${SERVERS[@]}"; do during_once "$s"; done
done

# ---- report ----
MD=()
row() {
    local metric=$1 label=$2 f r q
    f=$(get "$metric" ferrodis)
    r=$(get "$metric" redis)
    q=$(ratio "$f" "$r")
    printf '%-36s %14s %14s %8s\n' "$label" "$f" "$r" "$q"
    MD+=("| $label | $f | $r | $q |")
}
printf '\n%-36s %14s %14s %8s\n' metric ferrodis redis ratio
row populate_ms "DEBUG POPULATE, ms"
row rss_mb "RSS after populate, MB"
row bgsave_ms "BGSAVE wall time, ms"
row fork_us "latest_fork_usec"
row dump_mb "dump.rdb size, MB"
row load_wall_ms "restart until PONG, ms"
row load_log_ms "DB loaded from disk (log), ms"
row set_no_bgsave "SET rps, no BGSAVE"
row set_during_bgsave "SET rps, during BGSAVE"

echo
for s in "${SERVERS[@]}"; do
    printf '%-8s SET rps during BGSAVE / without: %s\n' "$s" \
        "$(ratio "$(get set_during_bgsave $s)" "$(get set_no_bgsave $s)")"
done
echo "targets: BGSAVE and load time ratio <= 1.00; ferrodis during/without >= 0.90"

if [ "${MARKDOWN:-0}" = 1 ]; then
    echo
    echo '| metric | ferrodis | redis 7.0.15 | ratio |'
    echo '|---|---:|---:|---:|'
    printf '%s\n' "${MD[@]}"
fi
