#!/usr/bin/env bash
# Throughput: redis-benchmark against ferrodis and the real redis-server,
# same settings (--save "" --appendonly no), run ALTERNATELY (each test:
# ferrodis then redis, ROUNDS times) so that machine noise hits both alike;
# the median round is reported.
#
# Environment:
#   TESTS       comma list for redis-benchmark -t  (default: see DEFAULT_TESTS)
#   EXTRA_TESTS appended to TESTS
#   PIPELINES   space list of -P values              (default "1 16")
#   N           requests per run                     (default 200000)
#   CLIENTS     parallel connections                 (default 50)
#   ROUNDS      rounds per test, odd                 (default 3)
#   MARKDOWN=1  also print the table as Markdown rows (for the READMEs)
#   NO_BUILD=1  skip cargo build --release
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

DEFAULT_TESTS=ping,set,get,incr,mset,lpush,rpush,lpop,rpop,sadd,hset,spop,zadd,zpopmin,lrange_100,lrange_600
TESTS="${TESTS:-$DEFAULT_TESTS}${EXTRA_TESTS:+,$EXTRA_TESTS}"
PIPELINES="${PIPELINES:-1 16}"
N="${N:-200000}"
CLIENTS="${CLIENTS:-50}"
ROUNDS="${ROUNDS:-3}"

build_release
start_server FERRODIS "$FERRODIS_BIN"
start_server REDIS "$(command -v redis-server)"

declare -A RPS   # "name|pipeline|server" -> rps values
declare -A CPU   # "test|pipeline|server" -> server CPU ns per request values
ORDER=()         # "name|pipeline" in first-seen order

# run_one SERVER PORT TEST PIPELINE: one redis-benchmark run, CSV parsed.

run_one() {
    local server=$1 port=$2 test=$3 p=$4 pid=$5 name rps before after
    before=$(cpu_ns "$pid")
    while IFS=, read -r name rps _; do
        name=${name//\"/}
        rps=${rps//\"/}
        [ "$name" = test ] && continue
        # -t lrange_N first fills the list; that row is not the test itself.
        case $name in *"needed to benchmark"*) continue ;; esac
        [ -z "$rps" ] && continue
        local k="$name|$p"
        if [ -z "${RPS[$k|seen]:-}" ]; then
            RPS[$k|seen]=1
            ORDER+=("$k")
        fi
        RPS[$k|$server]="${RPS[$k|$server]:-} $rps"
    done < <(redis-benchmark -p "$port" -t "$test" -n "$N" -c "$CLIENTS" -P "$p" --csv 2>/dev/null | tr '\r' '\n')
    after=$(cpu_ns "$pid")
    # Server CPU per request: independent of how busy the client was.
    CPU[$test|$p|$server]="${CPU[$test|$p|$server]:-} $(( (after - before) / N ))"
}


IFS=, read -r -a test_list <<<"$TESTS"
echo "redis-benchmark -n $N -c $CLIENTS, $ROUNDS alternating rounds, median; $(nproc) cores"
for test in "${test_list[@]}"; do
    for p in $PIPELINES; do
        for _ in $(seq 1 "$ROUNDS"); do
            run_one ferrodis "$FERRODIS_PORT" "$test" "$p" "$FERRODIS_PID"
            run_one redis "$REDIS_PORT" "$test" "$p" "$REDIS_PID"
        done
    done
done

printf '\n%-34s %8s %14s %14s %8s\n' test pipeline ferrodis redis ratio
SLOWER=()
MD=()
for k in "${ORDER[@]}"; do
    f=$(echo "${RPS[$k|ferrodis]:-}" | median)
    r=$(echo "${RPS[$k|redis]:-}" | median)
    q=$(ratio "$f" "$r")
    printf '%-34s %8s %14.0f %14.0f %8s\n' "${k%|*}" "${k#*|}" "$f" "$r" "$q"
    MD+=("$(printf '| %s | %s | %s | %s | %s |' "${k%|*}" "${k#*|}" \
        "$(commas "$f")" "$(commas "$r")" "$q")")
    if awk -v q="$q" 'BEGIN { exit !(q != "n/a" && q < 1.0) }'; then
        SLOWER+=("${k%|*} -P ${k#*|}: $q")
    fi
done

echo
if [ ${#SLOWER[@]} -eq 0 ]; then
    echo "summary: no ratio below 1.00 (ferrodis/redis requests per second)"
else
    echo "summary: ${#SLOWER[@]} of ${#ORDER[@]} ratios below 1.00 (ferrodis slower):"
    printf '  %s\n' "${SLOWER[@]}"
fi

# Server CPU per request (ns; for multi-command tests like ping, the
# tests' sum): the cost that stays when the client is the bottleneck.
echo
printf '%-12s %8s %14s %14s %8s\n' test pipeline "ferrodis ns" "redis ns" ratio
CPU_MD=()
for test in "${test_list[@]}"; do
    for p in $PIPELINES; do
        f=$(echo "${CPU[$test|$p|ferrodis]:-}" | median)
        r=$(echo "${CPU[$test|$p|redis]:-}" | median)
        q=$(ratio "$f" "$r")
        printf '%-12s %8s %14s %14s %8s\n' "$test" "$p" "$f" "$r" "$q"
        CPU_MD+=("$(printf '| %s | %s | %s | %s | %s |' "$test" "$p" "$f" "$r" "$q")")
    done
done

if [ "${MARKDOWN:-0}" = 1 ]; then
    echo
    echo '| test | pipeline | ferrodis | redis 7.0.15 | ratio |'
    echo '|---|---:|---:|---:|---:|'
    printf '%s\n' "${MD[@]}"
    echo
    echo '| test | pipeline | ferrodis CPU ns/request | redis CPU ns/request | ratio |'
    echo '|---|---:|---:|---:|---:|'
    printf '%s\n' "${CPU_MD[@]}"
fi
