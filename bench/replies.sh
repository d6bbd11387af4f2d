#!/usr/bin/env bash
# Large values and replies: GET of a 1 MB string, LRANGE of a 10,000-element
# list, HGETALL of a 1,000-field hash, SMEMBERS of a 10,000-member set, each
# through redis-benchmark against ferrodis and the real redis-server
# (alternating rounds, median). Reports requests/s and the server's CPU per
# request (/proc/<pid>/schedstat around the run), with ratios; the replies
# are checked byte-identical first (SMEMBERS sorted: set order is the
# hash table's).
#
# Environment: N (requests per run, default 2000), CLIENTS (10), ROUNDS (3),
# PIPELINES ("1 16"), BIG (1048576 bytes), MARKDOWN=1, NO_BUILD=1.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

N="${N:-2000}"
CLIENTS="${CLIENTS:-10}"
ROUNDS="${ROUNDS:-3}"
PIPELINES="${PIPELINES:-1 16}"
BIG="${BIG:-1048576}"
CPU_TARGET="${CPU_TARGET:-0.85}"

build_release
start_server FERRODIS "$FERRODIS_BIN"
start_server REDIS "$(command -v redis-server)"

# The data: protocol generated once, loaded into both.
proto="$BENCH_TMP/replies.proto"
awk -v big="$BIG" 'BEGIN {
    s = "x"; while (length(s) < big) s = s s; s = substr(s, 1, big)
    printf "*3\r\n$3\r\nSET\r\n$7\r\nbig:str\r\n$%d\r\n%s\r\n", big, s
    for (i = 0; i < 10000; i++) {
        e = "element:" i
        printf "*3\r\n$5\r\nRPUSH\r\n$8\r\nbig:list\r\n$%d\r\n%s\r\n", length(e), e
        printf "*3\r\n$4\r\nSADD\r\n$7\r\nbig:set\r\n$%d\r\n%s\r\n", length(e), e
        if (i < 1000) {
            f = "field:" i; v = "value:" i
            printf "*4\r\n$4\r\nHSET\r\n$8\r\nbig:hash\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n", length(f), f, length(v), v
        }
    }
}' > "$proto"
for port in "$FERRODIS_PORT" "$REDIS_PORT"; do
    redis-cli -p "$port" --pipe < "$proto" | grep -q "errors: 0" || { echo "load failed on $port" >&2; exit 1; }
done

NAMES=("GET 1MB" "LRANGE 10000" "HGETALL 1000" "SMEMBERS 10000")
CMDS=("GET big:str" "LRANGE big:list 0 -1" "HGETALL big:hash" "SMEMBERS big:set")
for i in "${!CMDS[@]}"; do
    # shellcheck disable=SC2086
    a=$(redis-cli -p "$FERRODIS_PORT" ${CMDS[$i]} | sort | md5sum)
    # shellcheck disable=SC2086
    b=$(redis-cli -p "$REDIS_PORT" ${CMDS[$i]} | sort | md5sum)
    [ "$a" = "$b" ] || { echo "${CMDS[$i]}: replies differ" >&2; exit 1; }
done

declare -A RPS CPU
echo "redis-benchmark -n $N -c $CLIENTS, $ROUNDS alternating rounds, median; $(nproc) cores"
for i in "${!CMDS[@]}"; do
    for p in $PIPELINES; do
        for _ in $(seq 1 "$ROUNDS"); do
            for s in ferrodis redis; do
                if [ $s = ferrodis ]; then port=$FERRODIS_PORT pid=$FERRODIS_PID; else port=$REDIS_PORT pid=$REDIS_PID; fi
                # shellcheck disable=SC2086
                bench_one "$port" "$pid" "$N" -c "$CLIENTS" -P "$p" ${CMDS[$i]}
                RPS[$i|$p|$s]="${RPS[$i|$p|$s]:-} $BENCH_RPS"
                CPU[$i|$p|$s]="${CPU[$i|$p|$s]:-} $BENCH_CPU"
            done
        done
    done
done

printf '\n%-16s %8s %12s %12s %7s %14s %14s %7s\n' reply pipeline 'f req/s' 'r req/s' ratio 'f ns/req' 'r ns/req' ratio
MD=()
COSTLIER=()
for i in "${!CMDS[@]}"; do
    for p in $PIPELINES; do
        f=$(echo "${RPS[$i|$p|ferrodis]}" | median); r=$(echo "${RPS[$i|$p|redis]}" | median)
        fc=$(echo "${CPU[$i|$p|ferrodis]}" | median); rc=$(echo "${CPU[$i|$p|redis]}" | median)
        q=$(ratio "$fc" "$rc")
        printf '%-16s %8s %12.0f %12.0f %7s %14s %14s %7s\n' "${NAMES[$i]}" "$p" "$f" "$r" "$(ratio "$f" "$r")" "$fc" "$rc" "$q"
        MD+=("$(printf '| %s | %s | %s | %s | %s | %s | %s | %s |' "${NAMES[$i]}" "$p" "$(commas "$f")" "$(commas "$r")" \
            "$(ratio "$f" "$r")" "$(commas "$fc")" "$(commas "$rc")" "$q")")
        if awk -v q="$q" -v t="$CPU_TARGET" 'BEGIN { exit !(q != "n/a" && q > t) }'; then
            COSTLIER+=("${NAMES[$i]} -P $p: $q")
        fi
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
    echo '| reply | pipeline | ferrodis req/s | redis req/s | ratio | ferrodis CPU ns/req | redis CPU ns/req | ratio |'
    echo '|---|---:|---:|---:|---:|---:|---:|---:|'
    printf '%s\n' "${MD[@]}"
fi
