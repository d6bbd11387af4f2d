#!/usr/bin/env bash
# Streams: throughput and memory, ferrodis against the real redis-server
# with identical settings (--save "" --appendonly no).
#
# Throughput: redis-benchmark custom commands, run ALTERNATELY (ferrodis
# then redis, ROUNDS times; the median round is reported) with the server
# CPU per request from /proc/<pid>/schedstat:
#   - XADD bench:xadd * name <12 digits> value hello   (the stream grows)
#   - XRANGE bench:range <random ms> + COUNT 10        (a 100,000-entry
#     stream of IDs 1-0..100000-0, so each call seeks a node and reads 10)
# Memory: fresh servers per data set, loaded with `redis-cli --pipe` from
# generated protocol; reports the growth of RSS (VmRSS) and of INFO
# used_memory from the empty server to the loaded one:
#   - one stream of ENTRIES (1,000,000) entries of two small fields;
#   - STREAMS (100,000) streams of 10 such entries.
#
# Environment: PIPELINES ("1 16"), N (200000), CLIENTS (50), ROUNDS (3),
# ENTRIES, STREAMS, MARKDOWN=1 (Markdown rows), NO_BUILD=1.
set -euo pipefail
set -f # the commands below hold a literal '*'
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

PIPELINES="${PIPELINES:-1 16}"
N="${N:-200000}"
CLIENTS="${CLIENTS:-50}"
ROUNDS="${ROUNDS:-3}"
ENTRIES="${ENTRIES:-1000000}"
STREAMS="${STREAMS:-100000}"
RANGE_ENTRIES=100000

build_release
cpu_ns() { awk '{print $1}' "/proc/$1/schedstat"; }

# gen_range > protocol: XADD bench:range <i>-0 name <i> value hello
gen_range() {
    awk -v n="$RANGE_ENTRIES" 'BEGIN {
        for (i = 1; i <= n; i++) {
            id = i "-0"; v = i ""
            printf "*7\r\n$4\r\nXADD\r\n$11\r\nbench:range\r\n$%d\r\n%s\r\n$4\r\nname\r\n$%d\r\n%s\r\n$5\r\nvalue\r\n$5\r\nhello\r\n", length(id), id, length(v), v
        }
    }'
}

# gen_streams KEYS PER_KEY > protocol: XADD <key> * name <n> value hello
gen_streams() {
    awk -v keys="$1" -v per="$2" 'BEGIN {
        for (k = 0; k < keys; k++) {
            key = (keys == 1) ? "bench:big" : "stream:" k
            for (j = 0; j < per; j++) {
                v = (k * per + j) ""
                printf "*7\r\n$4\r\nXADD\r\n$%d\r\n%s\r\n$1\r\n*\r\n$4\r\nname\r\n$%d\r\n%s\r\n$5\r\nvalue\r\n$5\r\nhello\r\n", length(key), key, length(v), v
            }
        }
    }'
}

load() { # PORT FILE
    redis-cli -p "$1" --pipe < "$2" > "$BENCH_TMP/pipe.out"
    grep -q "errors: 0" "$BENCH_TMP/pipe.out" || { cat "$BENCH_TMP/pipe.out" >&2; exit 1; }
}

# ---- throughput ----
start_server FERRODIS "$FERRODIS_BIN"
start_server REDIS "$(command -v redis-server)"
gen_range > "$BENCH_TMP/range.proto"
load "$FERRODIS_PORT" "$BENCH_TMP/range.proto"
load "$REDIS_PORT" "$BENCH_TMP/range.proto"

declare -A RPS CPU
run_one() { # SERVER PORT PID NAME PIPELINE ARGS...
    local server=$1 port=$2 pid=$3 name=$4 p=$5 before after rps
    shift 5
    before=$(cpu_ns "$pid")
    rps=$(redis-benchmark -p "$port" -n "$N" -c "$CLIENTS" -P "$p" -r "$RANGE_ENTRIES" --csv "$@" 2>/dev/null |
        tr '\r' '\n' | awk -F, 'NR > 1 && $2 != "" && !done { gsub(/"/, "", $2); print $2; done = 1 }')
    after=$(cpu_ns "$pid")
    RPS[$name|$p|$server]="${RPS[$name|$p|$server]:-} $rps"
    CPU[$name|$p|$server]="${CPU[$name|$p|$server]:-} $(( (after - before) / N ))"
}

TESTS=("xadd" "xrange_count_10")
args_of() {
    case $1 in
        xadd) echo "XADD bench:xadd * name __rand_int__ value hello" ;;
        xrange_count_10) echo "XRANGE bench:range __rand_int__ + COUNT 10" ;;
    esac
}
echo "redis-benchmark -n $N -c $CLIENTS, $ROUNDS alternating rounds, median; $(nproc) cores"
for t in "${TESTS[@]}"; do
    for p in $PIPELINES; do
        for _ in $(seq 1 "$ROUNDS"); do
            # shellcheck disable=SC2046
            run_one ferrodis "$FERRODIS_PORT" "$FERRODIS_PID" "$t" "$p" $(args_of "$t")
            # shellcheck disable=SC2046
            run_one redis "$REDIS_PORT" "$REDIS_PID" "$t" "$p" $(args_of "$t")
        done
    done
done
# Same replies on both (the reads are real).
a=$(redis-cli -p "$FERRODIS_PORT" xrange bench:range 5000 + COUNT 10 | md5sum)
b=$(redis-cli -p "$REDIS_PORT" xrange bench:range 5000 + COUNT 10 | md5sum)
[ "$a" = "$b" ] || { echo "XRANGE replies differ" >&2; exit 1; }
stop_server "$FERRODIS_PID"
stop_server "$REDIS_PID"

printf '\n%-16s %8s %12s %12s %7s %14s %14s %7s\n' test pipeline "ferrodis rps" "redis rps" ratio \
    "ferrodis ns/req" "redis ns/req" ratio
MD=()
for t in "${TESTS[@]}"; do
    for p in $PIPELINES; do
        fr=$(echo "${RPS[$t|$p|ferrodis]}" | median)
        rr=$(echo "${RPS[$t|$p|redis]}" | median)
        fc=$(echo "${CPU[$t|$p|ferrodis]}" | median)
        rc=$(echo "${CPU[$t|$p|redis]}" | median)
        q1=$(ratio "$fr" "$rr")
        q2=$(ratio "$fc" "$rc")
        printf '%-16s %8s %12.0f %12.0f %7s %14s %14s %7s\n' "$t" "$p" "$fr" "$rr" "$q1" "$fc" "$rc" "$q2"
        MD+=("$(printf '| %s | %s | %s | %s | %s | %s | %s | %s |' "$t" "$p" "$(commas "$fr")" \
            "$(commas "$rr")" "$q1" "$fc" "$rc" "$q2")")
    done
done

# ---- memory ----
mb() { awk -v v="$1" -v u="$2" 'BEGIN { printf "%.1f MB", v * u / 1e6 }'; }
MEM_MD=()
measure() { # NAME KEYS PER_KEY
    local name=$1 file="$BENCH_TMP/mem.proto"
    gen_streams "$2" "$3" > "$file"
    local -A rss used
    for s in ferrodis redis; do
        local bin r0 u0
        if [ $s = ferrodis ]; then bin="$FERRODIS_BIN"; else bin="$(command -v redis-server)"; fi
        start_server CUR "$bin"
        r0=$(rss_kb "$CUR_PID")
        u0=$(used_memory "$CUR_PORT")
        load "$CUR_PORT" "$file"
        rss[$s]=$(( $(rss_kb "$CUR_PID") - r0 ))
        used[$s]=$(( $(used_memory "$CUR_PORT") - u0 ))
        stop_server "$CUR_PID"
    done
    local rr ur
    rr=$(ratio "${rss[ferrodis]}" "${rss[redis]}")
    ur=$(ratio "${used[ferrodis]}" "${used[redis]}")
    printf '%-28s %14s %14s %7s %16s %16s %7s\n' "$name" "${rss[ferrodis]}" "${rss[redis]}" "$rr" \
        "${used[ferrodis]}" "${used[redis]}" "$ur"
    MEM_MD+=("$(printf '| %s | %s | %s | %s | %s | %s | %s |' "$name" "$(mb "${rss[ferrodis]}" 1024)" \
        "$(mb "${rss[redis]}" 1024)" "$rr" "$(mb "${used[ferrodis]}" 1)" "$(mb "${used[redis]}" 1)" "$ur")")
}
printf '\n%-28s %14s %14s %7s %16s %16s %7s\n' "data set (growth)" "ferrodis RSS kB" "redis RSS kB" ratio \
    "ferrodis used" "redis used" ratio
measure "1 stream x $ENTRIES entries" 1 "$ENTRIES"
measure "$STREAMS streams x 10 entries" "$STREAMS" 10

if [ "${MARKDOWN:-0}" = 1 ]; then
    echo
    echo '| test | pipeline | ferrodis rps | redis rps | ratio | ferrodis CPU ns/req | redis CPU ns/req | ratio |'
    echo '|---|---:|---:|---:|---:|---:|---:|---:|'
    printf '%s\n' "${MD[@]}"
    echo
    echo '| data set (growth from empty) | ferrodis RSS | redis RSS | ratio | ferrodis used_memory | redis used_memory | ratio |'
    echo '|---|---:|---:|---:|---:|---:|---:|'
    printf '%s\n' "${MEM_MD[@]}"
fi
