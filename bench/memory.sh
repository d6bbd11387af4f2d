#!/usr/bin/env bash
# Memory: the same data loaded into ferrodis and the real redis-server
# (fresh servers per data set, --save "" --appendonly no), loaded with
# `redis-cli --pipe` from generated protocol. Reports the GROWTH of RSS
# (VmRSS after loading minus before, so each allocator's fixed start-up
# cost is left out) and of INFO used_memory, per key (per member for the
# single big collections), for each server, and ferrodis/redis ratios.
# RSS is read once it holds still (`settle_rss`).
#
# Data sets: KEYS (default 1000000) strings `key:<n>` with 10-byte values;
# as many `longkeys`, strings under 38-byte keys (`session:<n>-` and a
# fixed tail: a key too long for an inline Sds, the common shape of
# UUID-style keys);
# COLLECTIONS (default 100000) hashes of 10 fields, lists of 10 elements,
# sets of 10 non-integer members (hashtable encoding), sets of 10 integer
# members (intset), sorted sets of 10 members (listpack); then one hash,
# set, sorted set and list of MEMBERS (default 1000000) members each.
# DATASETS limits the run to some (space list of the names above, e.g.
# "strings bigzset"). MARKDOWN=1 also prints Markdown rows; NO_BUILD=1
# skips cargo build --release.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

KEYS="${KEYS:-1000000}"
COLLECTIONS="${COLLECTIONS:-100000}"
MEMBERS="${MEMBERS:-1000000}"
DATASETS="${DATASETS:-strings longkeys hashes lists sets intsets zsets bighash bigset bigzset biglist}"

build_release

# gen KIND COUNT > protocol
gen() {
    awk -v kind="$1" -v n="$2" 'BEGIN {
        if (kind ~ /^big/) {
            # One key, n members, 1000 per command.
            cmd = (kind == "bighash") ? "HSET" : (kind == "bigset") ? "SADD" : (kind == "bigzset") ? "ZADD" : "RPUSH"
            k = kind
            for (i = 0; i < n; i += 1000) {
                per = (kind == "bighash" || kind == "bigzset") ? 2 : 1
                printf "*%d\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n", 2 + 1000 * per, length(cmd), cmd, length(k), k
                for (j = i; j < i + 1000; j++) {
                    m = "member:" j
                    if (kind == "bighash") { printf "$%d\r\n%s\r\n", length(m), m; m = "v" j }
                    if (kind == "bigzset") { s = j ""; printf "$%d\r\n%s\r\n", length(s), s }
                    printf "$%d\r\n%s\r\n", length(m), m
                }
            }
            exit
        }
        for (i = 0; i < n; i++) {
            if (kind == "strings" || kind == "longkeys") {
                k = (kind == "strings") ? "key:" i : sprintf("session:%08d-4f3c-2a1b-9e8d-7c6b5a", i)
                v = sprintf("v%09d", i)
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
declare -A SAMPLE=([strings]=key:0 [longkeys]=session:00000000-4f3c-2a1b-9e8d-7c6b5a [hashes]=hash:0 [lists]=list:0 [sets]=set:0 [intsets]=iset:0 [zsets]=zset:0
    [bighash]=bighash [bigset]=bigset [bigzset]=bigzset [biglist]=biglist)
MD=()

# settle_rss PID: waits (at most 5 s) until RSS has held still for a
# second: allocators give freed pages back after a delay (mimalloc's purge
# delay, run from ferrodis's cron; jemalloc's decay), and the growth
# measured is what the data keeps, for both servers alike.
settle_rss() {
    local prev cur i still=0
    prev=$(rss_kb "$1")
    for i in $(seq 1 20); do
        sleep 0.25
        cur=$(rss_kb "$1")
        if [ $(( prev - cur )) -le $(( prev / 200 )) ] && [ $(( cur - prev )) -le $(( prev / 200 )) ]; then
            still=$(( still + 1 ))
            [ $still -ge 4 ] && return
        else
            still=0
        fi
        prev=$cur
    done
}

# measure KIND COUNT PROBE_CMD: one row of the table (growth per key).
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
            local rss0 used0
            rss0=$(rss_kb "$CUR_PID"); used0=$(used_memory "$CUR_PORT")
            redis-cli -p "$CUR_PORT" --pipe < "$file" > "$BENCH_TMP/pipe.out"
            grep -q "errors: 0" "$BENCH_TMP/pipe.out" || { cat "$BENCH_TMP/pipe.out" >&2; }
            settle_rss "$CUR_PID"
            # Bytes per key (per member for one big collection).
            rss[$s]=$(( ($(rss_kb "$CUR_PID") - rss0) * 1024 / count ))
            used[$s]=$(( ($(used_memory "$CUR_PORT") - used0) / count ))
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
    printf '%-9s %-10s %9s %10s %10s %7s %10s %10s %7s\n' "$kind" "$e" "$count" \
        "${rss[ferrodis]}" "${rss[redis]}" "$rr" "${used[ferrodis]}" "${used[redis]}" "$ur"
    MD+=("$(printf '| %s (%s) | %s | %s | %s | %s | %s | %s | %s |' "$kind" "$e" "$(commas "$count")" \
        "${rss[ferrodis]}" "${rss[redis]}" "$rr" "${used[ferrodis]}" "${used[redis]}" "$ur")")
}


echo "growth per key (bytes; per member for the big* sets): RSS after loading minus before, and used_memory"
echo "ferrodis $("$FERRODIS_BIN" -v | grep -o 'malloc=[^ ]*'), redis $(redis-server -v | grep -o 'malloc=[^ ]*')"
printf '%-9s %-10s %9s %10s %10s %7s %10s %10s %7s\n' dataset encoding keys \
    "f RSS/key" "r RSS/key" ratio "f used/key" "r used/key" ratio
declare -A PROBE=([hashes]="hset __probe f v" [lists]="rpush __probe v" [sets]="sadd __probe v"
    [intsets]="sadd __probe 1" [zsets]="zadd __probe 1 v" [bighash]="hset __probe f v"
    [bigset]="sadd __probe v" [bigzset]="zadd __probe 1 v" [biglist]="rpush __probe v")
for d in $DATASETS; do
    case $d in
        strings | longkeys) n=$KEYS ;;
        big*) n=$MEMBERS ;;
        *) n=$COLLECTIONS ;;
    esac
    measure "$d" "$n" "${PROBE[$d]:-}"
done

if [ "${MARKDOWN:-0}" = 1 ]; then
    echo
    echo '| data set (encoding) | keys | ferrodis RSS B/key | redis RSS B/key | ratio | ferrodis used_memory B/key | redis used_memory B/key | ratio |'
    echo '|---|---:|---:|---:|---:|---:|---:|---:|'
    printf '%s\n' "${MD[@]}"
fi
