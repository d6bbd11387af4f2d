#!/usr/bin/env bash
# Where the server spends its time under one redis-benchmark load: starts
# ferrodis (or SERVER=redis for the real redis-server), runs the load once
# to warm up (collections grow to their size), then samples the server with
# `perf record` during a second run and prints the hottest symbols. With
# TOOL=callgrind it runs the server under valgrind's callgrind instead and
# prints instructions per request by function: slow, but the counts repeat
# from run to run even on a busy machine, so they confirm that a change
# helps where wall-clock figures are noise.
#
# Usage: bench/profile.sh [redis-benchmark args...]
#   default args: -t zadd -r 100000 -P 16
# Environment: N (requests per run, default 400000; 50000 with callgrind),
#   CLIENTS (50), TOP (25 lines), SERVER (ferrodis|redis), TOOL (perf|callgrind),
#   KEEP=dir keeps perf.data / callgrind.out there, NO_BUILD=1.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

TOOL="${TOOL:-perf}"
if [ "$TOOL" = callgrind ]; then N="${N:-50000}"; else N="${N:-400000}"; fi
CLIENTS="${CLIENTS:-50}"
TOP="${TOP:-25}"
SERVER="${SERVER:-ferrodis}"
ARGS=("$@")
[ ${#ARGS[@]} -eq 0 ] && ARGS=(-t zadd -r 100000 -P 16)
OUT="${KEEP:-$BENCH_TMP}"
mkdir -p "$OUT"

build_release
command -v "$TOOL" >/dev/null || { [ "$TOOL" = callgrind ] && command -v valgrind >/dev/null; } ||
    { echo "$TOOL not found (apt-get install linux-perf valgrind)" >&2; exit 1; }
BIN="$FERRODIS_BIN"
[ "$SERVER" = redis ] && BIN="$(command -v redis-server)"

if [ "$TOOL" = callgrind ]; then
    # The server itself runs under valgrind; its first run warms up, the
    # counters are zeroed, and the second run is the one counted.
    wrapper="$BENCH_TMP/callgrind-server"
    cat > "$wrapper" <<EOF
#!/bin/sh
exec valgrind --tool=callgrind --callgrind-out-file=$OUT/callgrind.out --collect-atstart=yes "$BIN" "\$@"
EOF
    chmod +x "$wrapper"
    start_server PROF "$wrapper"
    redis-benchmark -p "$PROF_PORT" -n "$N" -c "$CLIENTS" -q "${ARGS[@]}" >/dev/null 2>&1
    callgrind_control -z "$PROF_PID" >/dev/null 2>&1 || true
    redis-benchmark -p "$PROF_PORT" -n "$N" -c "$CLIENTS" -q "${ARGS[@]}" 2>/dev/null | tr '\r' '\n' | tail -1
    callgrind_control -d "$PROF_PID" >/dev/null 2>&1 || true
    stop_server "$PROF_PID"
    f=$(ls -t "$OUT"/callgrind.out* | head -1)
    total=$(callgrind_annotate "$f" 2>/dev/null | awk '/PROGRAM TOTALS/ {gsub(",", "", $1); print $1; exit}')
    echo "instructions per request: $(( total / N )) (callgrind, $N requests: ${ARGS[*]})"
    callgrind_annotate --inclusive=no "$f" 2>/dev/null | sed -n '/file:function/,$p' | sed -n "2,$((TOP + 1))p"
    exit 0
fi

start_server PROF "$BIN"
[ -n "${SETUP:-}" ] && bash -c "$SETUP" _ "$PROF_PORT"
redis-benchmark -p "$PROF_PORT" -n "$N" -c "$CLIENTS" -q "${ARGS[@]}" >/dev/null 2>&1
perf record -F 2000 -g -p "$PROF_PID" -o "$OUT/perf.data" >/dev/null 2>&1 &
rec=$!
sleep 0.3
redis-benchmark -p "$PROF_PORT" -n "$N" -c "$CLIENTS" -q "${ARGS[@]}" 2>/dev/null | tr '\r' '\n' | tail -1
kill -INT "$rec" 2>/dev/null || true
wait "$rec" 2>/dev/null || true
echo "perf samples of the server, self time by symbol (${ARGS[*]}):"
perf report -i "$OUT/perf.data" --no-children --stdio --sort symbol -g none 2>/dev/null |
    grep '%' | head -n "$TOP"
