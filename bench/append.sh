#!/usr/bin/env bash
# Strings that grow in place: N pipelined APPENDs of a few bytes to ONE key
# (redis-benchmark -P $PIPELINE), ferrodis and the real redis-server
# alternately, ROUNDS times; the key is deleted before each run so both
# build the same string. Reports requests/s and the server CPU per request
# (from /proc/<pid>/schedstat), with the ratios ferrodis / redis.
#
# Before amortised growth (issue 9 item 3) each APPEND copied the whole
# string: quadratic, 9.3x Redis's time for 200,000 appends.
#
# Environment: N (200000), CLIENTS (50), PIPELINE (16), ROUNDS (3),
# VALUE (x), COMMAND (APPEND; SETRANGE is run as SETRANGE key <offset>),
# NO_BUILD=1.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

N="${N:-200000}"
CLIENTS="${CLIENTS:-50}"
PIPELINE="${PIPELINE:-16}"
ROUNDS="${ROUNDS:-3}"
VALUE="${VALUE:-x}"

build_release
start_server FERRODIS "$FERRODIS_BIN"
start_server REDIS "$(command -v redis-server)"


declare -A RPS CPU LEN
run_one() {
    local server=$1 port=$2 pid=$3 before after rps
    redis-cli -p "$port" del appendkey >/dev/null
    before=$(cpu_ns "$pid")
    rps=$(redis-benchmark -p "$port" -n "$N" -c "$CLIENTS" -P "$PIPELINE" --csv \
        APPEND appendkey "$VALUE" 2>/dev/null | tr '\r' '\n' | awk -F, 'NR>1 && $2!="" {gsub(/"/,"",$2); print $2; exit}')
    after=$(cpu_ns "$pid")
    RPS[$server]="${RPS[$server]:-} $rps"
    CPU[$server]="${CPU[$server]:-} $(( (after - before) / N ))"
    LEN[$server]=$(redis-cli -p "$port" strlen appendkey)
}

echo "APPEND appendkey $VALUE: redis-benchmark -n $N -c $CLIENTS -P $PIPELINE, $ROUNDS alternating rounds, median; $(nproc) cores"
for _ in $(seq 1 "$ROUNDS"); do
    run_one ferrodis "$FERRODIS_PORT" "$FERRODIS_PID"
    run_one redis "$REDIS_PORT" "$REDIS_PID"
done
[ "${LEN[ferrodis]}" = "${LEN[redis]}" ] || { echo "length differs: ${LEN[ferrodis]} vs ${LEN[redis]}" >&2; exit 1; }

f=$(echo "${RPS[ferrodis]}" | median); r=$(echo "${RPS[redis]}" | median)
fc=$(echo "${CPU[ferrodis]}" | median); rc=$(echo "${CPU[redis]}" | median)
printf '\n%-22s %14s %14s %8s\n' "" ferrodis redis ratio
printf '%-22s %14.0f %14.0f %8s\n' "requests/s" "$f" "$r" "$(ratio "$f" "$r")"
printf '%-22s %14s %14s %8s\n' "server CPU ns/request" "$fc" "$rc" "$(ratio "$fc" "$rc")"
printf '%-22s %14s\n' "final string length" "${LEN[ferrodis]}"
if [ "${MARKDOWN:-0}" = 1 ]; then
    echo
    echo '| APPEND, one key | ferrodis | redis 7.0.15 | ratio |'
    echo '|---|---:|---:|---:|'
    printf '| requests/s (-P %s) | %s | %s | %s |\n' "$PIPELINE" "$(commas "$f")" "$(commas "$r")" "$(ratio "$f" "$r")"
    printf '| server CPU ns/request | %s | %s | %s |\n' "$fc" "$rc" "$(ratio "$fc" "$rc")"
fi
