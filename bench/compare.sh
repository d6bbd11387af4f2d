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
#   RANDOMS     space list of -r values, 0 = no -r   (default "0"; "0 100000"
#               also runs every test with keys/members drawn from 100,000)
#   CPU_TARGET, RPS_TARGET  ratios the summary checks (0.85, 0.95)
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
RANDOMS="${RANDOMS:-0}"
# Targets (issue 15): CPU per request at most CPU_TARGET x Redis's,
# requests/s at least RPS_TARGET x.
CPU_TARGET="${CPU_TARGET:-0.85}"
RPS_TARGET="${RPS_TARGET:-0.95}"

build_release
start_server FERRODIS "$FERRODIS_BIN"
start_server REDIS "$(command -v redis-server)"

declare -A RPS   # "name|pipeline|server" -> rps values
declare -A CPU   # "test|pipeline|server" -> server CPU ns per request values
ORDER=()         # "name|pipeline" in first-seen order

# run_one SERVER PORT TEST PIPELINE PID RANDOM: one redis-benchmark run,
# CSV parsed. RANDOM > 0 adds -r RANDOM (keys and members drawn from that
# many: the collections of zadd, sadd, hset... grow large).
run_one() {
    local server=$1 port=$2 test=$3 p=$4 pid=$5 r=$6 name rps label
    local rargs=()
    [ "$r" -gt 0 ] && rargs=(-r "$r")
    BENCH_ROW='' bench_one "$port" "$pid" "$N" -t "$test" -c "$CLIENTS" -P "$p" "${rargs[@]}"
    while IFS=, read -r name rps; do
        # -t lrange_N first fills the list; that row is not the test itself.
        case $name in *"needed to benchmark"*) continue ;; esac
        [ -z "$rps" ] && continue
        label=$name
        [ "$r" -gt 0 ] && label="$name -r $r"
        local k="$label|$p"
        if [ -z "${RPS[$k|seen]:-}" ]; then
            RPS[$k|seen]=1
            ORDER+=("$k")
        fi
        RPS[$k|$server]="${RPS[$k|$server]:-} $rps"
    done <<<"$BENCH_CSV"
    # Server CPU per request: independent of how busy the client was.
    CPU[$test|$p|$r|$server]="${CPU[$test|$p|$r|$server]:-} $BENCH_CPU"
}

IFS=, read -r -a test_list <<<"$TESTS"
echo "redis-benchmark -n $N -c $CLIENTS, $ROUNDS alternating rounds, median; $(nproc) cores"
for test in "${test_list[@]}"; do
    for p in $PIPELINES; do
        for r in $RANDOMS; do
            for _ in $(seq 1 "$ROUNDS"); do
                run_one ferrodis "$FERRODIS_PORT" "$test" "$p" "$FERRODIS_PID" "$r"
                run_one redis "$REDIS_PORT" "$test" "$p" "$REDIS_PID" "$r"
            done
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
    if awk -v q="$q" -v t="$RPS_TARGET" 'BEGIN { exit !(q != "n/a" && q < t) }'; then
        SLOWER+=("${k%|*} -P ${k#*|}: $q")
    fi
done

echo
if [ ${#SLOWER[@]} -eq 0 ]; then
    echo "summary: no requests/s ratio below $RPS_TARGET (ferrodis/redis)"
else
    echo "summary: ${#SLOWER[@]} of ${#ORDER[@]} requests/s ratios below $RPS_TARGET:"
    printf '  %s\n' "${SLOWER[@]}"
fi

# Server CPU per request (ns; for multi-command tests like ping, the
# tests' sum): the cost that stays when the client is the bottleneck.
echo
printf '%-12s %8s %8s %14s %14s %8s\n' test pipeline "-r" "ferrodis ns" "redis ns" ratio
CPU_MD=()
COSTLIER=()
for test in "${test_list[@]}"; do
    for p in $PIPELINES; do
        for r in $RANDOMS; do
            f=$(echo "${CPU[$test|$p|$r|ferrodis]:-}" | median)
            rr=$(echo "${CPU[$test|$p|$r|redis]:-}" | median)
            q=$(ratio "$f" "$rr")
            printf '%-12s %8s %8s %14s %14s %8s\n' "$test" "$p" "$r" "$f" "$rr" "$q"
            CPU_MD+=("$(printf '| %s | %s | %s | %s | %s | %s |' "$test" "$p" "$r" "$f" "$rr" "$q")")
            if awk -v q="$q" -v t="$CPU_TARGET" 'BEGIN { exit !(q != "n/a" && q > t) }'; then
                COSTLIER+=("$test -P $p -r $r: $q")
            fi
        done
    done
done
echo
if [ ${#COSTLIER[@]} -eq 0 ]; then
    echo "summary: no CPU-per-request ratio above $CPU_TARGET"
else
    echo "summary: ${#COSTLIER[@]} CPU-per-request ratios above $CPU_TARGET:"
    printf '  %s\n' "${COSTLIER[@]}"
fi

if [ "${MARKDOWN:-0}" = 1 ]; then
    echo
    echo '| test | pipeline | ferrodis | redis 7.0.15 | ratio |'
    echo '|---|---:|---:|---:|---:|'
    printf '%s\n' "${MD[@]}"
    echo
    echo '| test | pipeline | -r | ferrodis CPU ns/request | redis CPU ns/request | ratio |'
    echo '|---|---:|---:|---:|---:|---:|'
    printf '%s\n' "${CPU_MD[@]}"
fi
