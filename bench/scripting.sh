#!/usr/bin/env bash
# Scripting: EVALSHA of a one-call script (INCR) and of a ten-call script
# through redis-benchmark, ferrodis and the real redis-server side by side
# (alternating rounds, median), with server CPU per request from
# /proc/<pid>/schedstat; then the memory of 10,000 cached scripts (SCRIPT
# LOAD of distinct bodies: used_memory and RSS growth, and INFO's
# used_memory_scripts_eval / used_memory_vm_eval).
#
# Environment: N (requests per run, default 200000), CLIENTS (50), ROUNDS
# (3, odd), PIPELINES ("1 16"), SCRIPTS (10000), NO_BUILD=1.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

N="${N:-200000}"
CLIENTS="${CLIENTS:-50}"
ROUNDS="${ROUNDS:-3}"
PIPELINES="${PIPELINES:-1 16}"
SCRIPTS="${SCRIPTS:-10000}"

ONE="return redis.call('INCR', KEYS[1])"
TEN="local n = 0
for i = 1, 10 do n = redis.call('INCR', KEYS[1]) end
return n"

build_release
start_server FERRODIS "$FERRODIS_BIN"
start_server REDIS "$(command -v redis-server)"

cpu_ns() { awk '{print $1}' "/proc/$1/schedstat"; }

declare -A RPS CPU
# run_one SERVER PORT PID SHA PIPELINE LABEL
run_one() {
    local server=$1 port=$2 pid=$3 sha=$4 p=$5 label=$6 before after rps
    before=$(cpu_ns "$pid")
    rps=$(redis-benchmark -p "$port" -n "$N" -c "$CLIENTS" -P "$p" -r 1000 --csv \
        EVALSHA "$sha" 1 key:__rand_int__ 2>/dev/null | tr -d '\r' | awk -F, 'NR==2 {gsub(/"/, "", $2); print $2}')
    after=$(cpu_ns "$pid")
    RPS[$label|$p|$server]="${RPS[$label|$p|$server]:-} $rps"
    CPU[$label|$p|$server]="${CPU[$label|$p|$server]:-} $(( (after - before) / N ))"
}

declare -A SHA
for label in one ten; do
    body=$ONE
    [ "$label" = ten ] && body=$TEN
    for port in "$FERRODIS_PORT" "$REDIS_PORT"; do
        s=$(redis-cli -p "$port" SCRIPT LOAD "$body")
        SHA[$label]=$s
    done
done

echo "EVALSHA via redis-benchmark -n $N -c $CLIENTS -r 1000, $ROUNDS alternating rounds, median; $(nproc) cores"
for label in one ten; do
    for p in $PIPELINES; do
        for _ in $(seq 1 "$ROUNDS"); do
            run_one ferrodis "$FERRODIS_PORT" "$FERRODIS_PID" "${SHA[$label]}" "$p" "$label"
            run_one redis "$REDIS_PORT" "$REDIS_PID" "${SHA[$label]}" "$p" "$label"
        done
    done
done

printf '\n%-22s %8s %12s %12s %7s %14s %14s %7s\n' script pipeline 'f req/s' 'r req/s' ratio 'f ns/req' 'r ns/req' ratio
for label in one ten; do
    for p in $PIPELINES; do
        f=$(echo "${RPS[$label|$p|ferrodis]}" | median)
        r=$(echo "${RPS[$label|$p|redis]}" | median)
        fc=$(echo "${CPU[$label|$p|ferrodis]}" | median)
        rc=$(echo "${CPU[$label|$p|redis]}" | median)
        name="EVALSHA $label-call"
        [ "$label" = one ] && name="EVALSHA 1-call"
        [ "$label" = ten ] && name="EVALSHA 10-call"
        printf '%-22s %8s %12.0f %12.0f %7s %14s %14s %7s\n' "$name" "$p" "$f" "$r" "$(ratio "$f" "$r")" "$fc" "$rc" "$(ratio "$fc" "$rc")"
    done
done

# ---- memory of cached scripts ----
load_scripts() {
    local port=$1
    for i in $(seq 1 "$SCRIPTS"); do
        printf '*3\r\n$6\r\nSCRIPT\r\n$4\r\nLOAD\r\n'
        local body="return redis.call('GET', KEYS[1]) .. '$i'"
        printf '$%d\r\n%s\r\n' "${#body}" "$body"
    done | redis-cli -p "$port" --pipe >/dev/null
}
echo
printf '%-10s %14s %14s %16s %16s %12s\n' server 'used_memory+' 'rss+ (KB)' used_mem_scripts vm_eval cached
declare -A MEM
for s in FERRODIS REDIS; do
    port_var=${s}_PORT; pid_var=${s}_PID
    port=${!port_var}; pid=${!pid_var}
    redis-cli -p "$port" SCRIPT FLUSH >/dev/null
    u0=$(used_memory "$port"); r0=$(rss_kb "$pid")
    load_scripts "$port"
    u1=$(used_memory "$port"); r1=$(rss_kb "$pid")
    MEM[$s]=$((u1 - u0))
    printf '%-10s %14s %14s %16s %16s %12s\n' "$s" "$((u1 - u0))" "$((r1 - r0))" \
        "$(info "$port" used_memory_scripts_eval)" "$(info "$port" used_memory_vm_eval)" "$(info "$port" number_of_cached_scripts)"
done
echo "used_memory growth ratio ferrodis/redis for $SCRIPTS scripts: $(ratio "${MEM[FERRODIS]}" "${MEM[REDIS]}")"
