#!/usr/bin/env bash
# Instructions per EVALSHA request, ferrodis vs redis-server, under
# valgrind's callgrind: each server runs under callgrind, the counters are
# zeroed once the script is loaded, `redis-benchmark` sends N EVALSHA of
# the script, the counters are dumped, and the script prints Ir/request for
# both and their ratio. Instruction counts do not depend on the machine's
# load (unlike time), so this is the figure to compare before/after a change.
# The per-function profile of each server is kept in $OUT (callgrind_annotate
# it).
#
# Environment: N (requests, default 20000), CLIENTS (50), PIPELINE (1),
# SCRIPT (ten|one, default ten), OUT (directory for the profiles, default a
# temp dir that is kept), NO_BUILD=1, ONLY=ferrodis|redis.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

N="${N:-20000}"
CLIENTS="${CLIENTS:-50}"
PIPELINE="${PIPELINE:-1}"
SCRIPT="${SCRIPT:-ten}"
OUT="${OUT:-$(mktemp -d "${TMPDIR:-/tmp}/ferrodis-callgrind.XXXXXX")}"
mkdir -p "$OUT"
command -v valgrind >/dev/null || { echo "valgrind not found" >&2; exit 1; }

ONE="return redis.call('INCR', KEYS[1])"
TEN="local n = 0
for i = 1, 10 do n = redis.call('INCR', KEYS[1]) end
return n"
BODY=$TEN
[ "$SCRIPT" = one ] && BODY=$ONE

build_release

# profile NAME BIN: Ir per request for BIN.
profile() {
    local name=$1 bin=$2 port dir pid sha ir i
    port=$(free_port)
    dir="$BENCH_TMP/cg-$name"
    mkdir -p "$dir"
    rm -f "$OUT/callgrind.$name"*
    valgrind --tool=callgrind --callgrind-out-file="$OUT/callgrind.$name" \
        "$bin" --port "$port" --bind 127.0.0.1 --save "" --appendonly no \
        --dir "$dir" --logfile "$dir/server.log" --daemonize no >"$dir/valgrind.log" 2>&1 &
    pid=$!
    PIDS+=("$pid")
    for i in $(seq 1 600); do
        redis-cli -p "$port" ping >/dev/null 2>&1 && break
        sleep 0.1
    done
    sha=$(redis-cli -p "$port" SCRIPT LOAD "$BODY")
    # Warm-up (allocations that grow once), then zero the counters.
    redis-benchmark -p "$port" -n 2000 -c "$CLIENTS" -P "$PIPELINE" -r 1000 \
        EVALSHA "$sha" 1 key:__rand_int__ >/dev/null 2>&1
    callgrind_control -z "$pid" >/dev/null
    redis-benchmark -p "$port" -n "$N" -c "$CLIENTS" -P "$PIPELINE" -r 1000 \
        EVALSHA "$sha" 1 key:__rand_int__ >/dev/null 2>&1
    callgrind_control -d "$pid" >/dev/null
    redis-cli -p "$port" shutdown nosave >/dev/null 2>&1 || true
    wait "$pid" 2>/dev/null || true
    # Part 1 is the dump taken after the run (callgrind_control -d); the
    # file without a suffix is the shutdown's.
    ir=$(grep -m1 '^summary:' "$OUT/callgrind.$name.1" | awk '{print $2}')
    mv "$OUT/callgrind.$name.1" "$OUT/$name.run"
    rm -f "$OUT/callgrind.$name"
    echo $((ir / N))
}

echo "EVALSHA $SCRIPT-call script, N=$N, -c $CLIENTS -P $PIPELINE, Ir per request (callgrind)"
if [ "${ONLY:-}" != redis ]; then
    F=$(profile ferrodis "$FERRODIS_BIN")
    echo "ferrodis: $F Ir/request   (profile: $OUT/ferrodis.run)"
fi
if [ "${ONLY:-}" != ferrodis ]; then
    R=$(profile redis "$(command -v redis-server)")
    echo "redis:    $R Ir/request   (profile: $OUT/redis.run)"
fi
if [ -z "${ONLY:-}" ]; then
    echo "ratio ferrodis/redis: $(ratio "$F" "$R")"
fi
