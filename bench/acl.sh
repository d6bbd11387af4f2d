#!/usr/bin/env bash
# ACL cost: GET and SET with redis-benchmark as a user restricted to a key
# pattern (`~key:* +get +set`) and as the default user, against ferrodis
# and the real redis-server, ROUNDS alternating rounds (median). The
# figure that matters is the server CPU per request (schedstat), which the
# benchmark client cannot skew; requests per second are shown too.
#
# Environment: N (default 200000), CLIENTS (50), PIPELINES ("1 16"),
# ROUNDS (3), NO_BUILD=1.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

N="${N:-200000}"
CLIENTS="${CLIENTS:-50}"
PIPELINES="${PIPELINES:-1 16}"
ROUNDS="${ROUNDS:-3}"

build_release
start_server FERRODIS "$FERRODIS_BIN"
start_server REDIS "$(command -v redis-server)"
for p in "$FERRODIS_PORT" "$REDIS_PORT"; do
    redis-cli -p "$p" ACL SETUSER bench on '>benchpw' '~key:*' +get +set >/dev/null
done

cpu_ns() { awk '{print $1}' "/proc/$1/schedstat"; }
declare -A RPS CPU
run_one() {
    local server=$1 port=$2 pid=$3 test=$4 p=$5 who=$6 auth=() before after rps
    [ "$who" = restricted ] && auth=(--user bench -a benchpw)
    before=$(cpu_ns "$pid")
    rps=$(redis-benchmark -p "$port" "${auth[@]}" -t "$test" -n "$N" -c "$CLIENTS" -P "$p" \
        -r 100000 --csv 2>/dev/null | tr '\r' '\n' | awk -F, 'NR>1 {gsub(/"/,"",$2); print $2; exit}')
    after=$(cpu_ns "$pid")
    RPS[$test|$p|$who|$server]="${RPS[$test|$p|$who|$server]:-} $rps"
    CPU[$test|$p|$who|$server]="${CPU[$test|$p|$who|$server]:-} $(( (after - before) / N ))"
}

echo "ACL: redis-benchmark -n $N -c $CLIENTS -r 100000, $ROUNDS alternating rounds, median; $(nproc) cores"
for test in get set; do
    for p in $PIPELINES; do
        for who in default restricted; do
            for _ in $(seq 1 "$ROUNDS"); do
                run_one ferrodis "$FERRODIS_PORT" "$FERRODIS_PID" "$test" "$p" "$who"
                run_one redis "$REDIS_PORT" "$REDIS_PID" "$test" "$p" "$who"
            done
        done
    done
done
# The restricted user ran every GET and SET: the only refusals logged are
# redis-benchmark's CONFIG GET at start (it warns and goes on).
for p in "$FERRODIS_PORT" "$REDIS_PORT"; do
    other=$(redis-cli -p "$p" ACL LOG 1000 | grep -A1 '^object$' | grep -vE '^(object|config\|get|--)$' || true)
    [ -z "$other" ] || { echo "unexpected ACL LOG objects on port $p: $other" >&2; exit 1; }
done

printf '\n%-5s %4s %-11s %12s %12s %7s %9s %9s %7s\n' test P user "ferrodis/s" "redis/s" ratio "f ns/req" "r ns/req" ratio
for test in get set; do
    for p in $PIPELINES; do
        for who in default restricted; do
            fr=$(echo "${RPS[$test|$p|$who|ferrodis]}" | median)
            rr=$(echo "${RPS[$test|$p|$who|redis]}" | median)
            fc=$(echo "${CPU[$test|$p|$who|ferrodis]}" | median)
            rc=$(echo "${CPU[$test|$p|$who|redis]}" | median)
            printf '%-5s %4s %-11s %12.0f %12.0f %7s %9s %9s %7s\n' "$test" "$p" "$who" \
                "$fr" "$rr" "$(ratio "$fr" "$rr")" "$fc" "$rc" "$(ratio "$fc" "$rc")"
        done
    done
done
