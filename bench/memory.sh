#!/usr/bin/env bash
# Memory: the same data loaded into ferrodis and the real redis-server
# (fresh servers per data set, --save "" --appendonly no), loaded with
# `redis-cli --pipe` from generated protocol. Reports RSS (VmRSS) and
# INFO used_memory for each, and ferrodis/redis ratios.
#
# Data sets: KEYS (default 1000000) strings `key:<n>` with 10-byte values;
# COLLECTIONS (default 100000) hashes of 10 fields, lists of 10 elements,
# sets of 10 non-integer members (hashtable encoding), sets of 10 integer
# members (intset), sorted sets of 10 members (listpack).
# MARKDOWN=1 also prints Markdown rows; NO_BUILD=1 skips cargo build --release.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

KEYS="${KEYS:-1000000}"
COLLECTIONS="${COLLECTIONS:-100000}"

build_release

# gen KIND COUNT > protocol
gen() {
    awk -v kind="$1" -v n="$2" 'BEGIN {
        for (i = 0; i < n; i++) {
            if (kind == "strings") {
                k = "key:" i; v = sprintf("v%09d", i)
                printf "*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$10\r\n%s\r\n", length(k), k, v
                continue
            }
            if (kind == "hashes") { cmd = "HSET"; k = "hash:" i }
            if (kind == "lists")  { cmd = "RPUSH"; k = "list:" i }
            if (kind == "sets")   { cmd = "SADD"; k = "set:" i }
            if (kind == "intsets") { cmd = "SADD"; k = "iset:" i }
            if (kind == "zsets")  { cmd = "ZADD"; k = "zset:" i }
            argc = (kind == "hashes" || kind == "zsets") ? 22 : 12
            printf "*%d\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n", argc, length(cmd), cmd, length(k), k
            for (j = 0; j < 10; j++) {
                m = (kind == "intsets") ? (1000 + j) "" : "member:" j
                if (kind == "hashes") { f = "field:" j; printf "$%d\r\n%s\r\n", length(f), f }
                if (kind == "zsets")  { s = j ""; printf "$%d\r\n%s\r\n", length(s), s }
                printf "$%d\r\n%s\r\n", length(m), m
            }
        }
    }'
}

# sample key of each data set, for OBJECT ENCODING
declare -A SAMPLE=([strings]=key:0 [hashes]=hash:0 [lists]=list:0 [sets]=set:0 [intsets]=iset:0 [zsets]=zset:0)
MD=()

# measure KIND COUNT PROBE_CMD: one row of the table.
measure() {
    local kind=$1 count=$2 probe=$3 file="$BENCH_TMP/$1.proto"
    gen "$kind" "$count" > "$file"
    local -A rss used enc
    for s in ferrodis redis; do
        local bin
        if [ $s = ferrodis ]; then bin="$FERRODIS_BIN"; else bin="$(command -v redis-server)"; fi
        start_server CUR "$bin"
        if [ -n "$probe" ] && redis-cli -p "$CUR_PORT" $probe 2>&1 | grep -qi "unknown command"; then
            rss[$s]=n/a; used[$s]=n/a; enc[$s]=n/a
        else
            redis-cli -p "$CUR_PORT" flushall >/dev/null
            redis-cli -p "$CUR_PORT" --pipe < "$file" > "$BENCH_TMP/pipe.out"
            grep -q "errors: 0" "$BENCH_TMP/pipe.out" || { cat "$BENCH_TMP/pipe.out" >&2; }
            rss[$s]=$(rss_kb "$CUR_PID")
            used[$s]=$(used_memory "$CUR_PORT")
            enc[$s]=$(redis-cli -p "$CUR_PORT" object encoding "${SAMPLE[$kind]}")
        fi
        stop_server "$CUR_PID"
    done
    local rr=n/a ur=n/a e="${enc[ferrodis]}"
    if [ "${rss[ferrodis]}" != n/a ]; then
        rr=$(ratio "${rss[ferrodis]}" "${rss[redis]}")
        ur=$(ratio "${used[ferrodis]}" "${used[redis]}")
    fi
    [ "${enc[ferrodis]}" = "${enc[redis]}" ] || e="${enc[ferrodis]}/${enc[redis]}"
    printf '%-9s %-10s %9s %14s %14s %8s %16s %16s %8s\n' "$kind" "$e" "$count" \
        "${rss[ferrodis]}" "${rss[redis]}" "$rr" "${used[ferrodis]}" "${used[redis]}" "$ur"
    MD+=("$(printf '| %s (%s) | %s | %s | %s | %s | %s | %s | %s |' "$kind" "$e" "$(commas "$count")" \
        "$(mb "${rss[ferrodis]}" 1024)" "$(mb "${rss[redis]}" 1024)" "$rr" \
        "$(mb "${used[ferrodis]}" 1)" "$(mb "${used[redis]}" 1)" "$ur")")
}

# mb VALUE UNIT_BYTES -> "12.3 MB" (n/a passes through)
mb() { [ "$1" = n/a ] && { echo n/a; return; }; awk -v v="$1" -v u="$2" 'BEGIN { printf "%.1f MB", v * u / 1e6 }'; }

printf '%-9s %-10s %9s %14s %14s %8s %16s %16s %8s\n' dataset encoding keys \
    "ferrodis RSS kB" "redis RSS kB" ratio "ferrodis used" "redis used" ratio
measure strings "$KEYS" ""
measure hashes "$COLLECTIONS" "hset __probe f v"
measure lists "$COLLECTIONS" "rpush __probe v"
measure sets "$COLLECTIONS" "sadd __probe v"
measure intsets "$COLLECTIONS" "sadd __probe 1"
measure zsets "$COLLECTIONS" "zadd __probe 1 v"

if [ "${MARKDOWN:-0}" = 1 ]; then
    echo
    echo '| data set (encoding) | keys | ferrodis RSS | redis RSS | ratio | ferrodis used_memory | redis used_memory | ratio |'
    echo '|---|---:|---:|---:|---:|---:|---:|---:|'
    printf '%s\n' "${MD[@]}"
fi
