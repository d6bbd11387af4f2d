#!/usr/bin/env bash
# Redis Cluster: a three-master ferrodis cluster and a three-master
# redis-server cluster side by side, same settings.
#  1. redis-benchmark --cluster (SET, GET), alternating rounds, median:
#     requests/s and server CPU per request (summed over the three masters,
#     from /proc/<pid>/schedstat);
#  2. the time `redis-cli --cluster reshard` takes to move 1,000 slots
#     holding 1,000,000 keys (1,000 keys in each of slots 0-999).
#
# Environment: N (requests per run, 200000), CLIENTS (50), ROUNDS (3),
# PIPELINES ("1 16"), RESHARD_KEYS (keys per moved slot, 1000),
# MARKDOWN=1, NO_BUILD=1.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

N="${N:-200000}"
CLIENTS="${CLIENTS:-50}"
ROUNDS="${ROUNDS:-3}"
PIPELINES="${PIPELINES:-1 16}"
RESHARD_KEYS="${RESHARD_KEYS:-1000}"
build_release

# start_cluster NAME BIN: three masters; sets NAME_PORTS and NAME_PIDS.
start_cluster() {
    local name=$1 bin=$2 i hosts=() ports=() pids=()
    for i in 1 2 3; do
        start_server "${name}_$i" "$bin" --cluster-enabled yes --cluster-port "$(free_port)" \
            --cluster-node-timeout 5000 --cluster-config-file nodes.conf
        local p="${name}_${i}_PORT" d="${name}_${i}_PID"
        ports+=("${!p}")
        pids+=("${!d}")
        hosts+=("127.0.0.1:${!p}")
    done
    redis-cli --cluster create "${hosts[@]}" --cluster-yes >/dev/null
    for p in "${ports[@]}"; do
        until redis-cli -p "$p" cluster info | grep -q 'cluster_state:ok'; do sleep 0.1; done
    done
    printf -v "${name}_PORTS" '%s' "${ports[*]}"
    printf -v "${name}_PIDS" '%s' "${pids[*]}"
}

cpu_sum() { local s=0 p; for p in $1; do s=$((s + $(awk '{print $1}' "/proc/$p/schedstat"))); done; echo $s; }

start_cluster FERRODIS "$FERRODIS_BIN"
start_cluster REDIS "$(command -v redis-server)"

declare -A RPS CPU
run_one() { # server ports pids test pipeline
    local server=$1 ports=$2 pids=$3 t=$4 p=$5 before after rps
    before=$(cpu_sum "$pids")
    rps=$(redis-benchmark --cluster -p "${ports%% *}" -t "$t" -n "$N" -c "$CLIENTS" -P "$p" --csv 2>/dev/null \
        | tr '\r' '\n' | awk -F, -v t="\"${t^^}\"" '$1==t {gsub(/"/,"",$2); print $2}')
    after=$(cpu_sum "$pids")
    RPS[$t|$p|$server]="${RPS[$t|$p|$server]:-} ${rps:-0}"
    CPU[$t|$p|$server]="${CPU[$t|$p|$server]:-} $(( (after - before) / N ))"
}

echo "redis-benchmark --cluster -n $N -c $CLIENTS, three masters each, $ROUNDS alternating rounds, median; $(nproc) cores"
for t in set get; do
    for p in $PIPELINES; do
        for _ in $(seq 1 "$ROUNDS"); do
            run_one ferrodis "$FERRODIS_PORTS" "$FERRODIS_PIDS" "$t" "$p"
            run_one redis "$REDIS_PORTS" "$REDIS_PIDS" "$t" "$p"
        done
    done
done
printf '\n%-6s %8s %12s %12s %7s %14s %14s %7s\n' test pipeline ferrodis redis ratio "ferrodis ns/req" "redis ns/req" ratio
MD=()
for t in set get; do
    for p in $PIPELINES; do
        f=$(echo "${RPS[$t|$p|ferrodis]}" | median); r=$(echo "${RPS[$t|$p|redis]}" | median)
        fc=$(echo "${CPU[$t|$p|ferrodis]}" | median); rc=$(echo "${CPU[$t|$p|redis]}" | median)
        printf '%-6s %8s %12.0f %12.0f %7s %14s %14s %7s\n' "$t" "$p" "$f" "$r" "$(ratio "$f" "$r")" "$fc" "$rc" "$(ratio "$fc" "$rc")"
        MD+=("| ${t^^} | $p | $(commas "$f") | $(commas "$r") | $(ratio "$f" "$r") | $fc | $rc | $(ratio "$fc" "$rc") |")
    done
done

# ---- reshard of 1,000 slots holding 1,000 keys each ----
# One hash tag per slot 0-999 (found by CLUSTER KEYSLOT), 1,000 keys each,
# loaded with redis-cli --pipe into the master that owns slots 0-5460.
tags_file="$BENCH_TMP/tags"
python3 - "$tags_file" <<'PY'
import sys
def crc16(b):
    crc = 0
    for c in b:
        crc ^= c << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else crc << 1
            crc &= 0xFFFF
    return crc
found = {}
i = 0
while len(found) < 1000:
    t = f"t{i}".encode()
    s = crc16(t) & 0x3FFF
    if s < 1000 and s not in found:
        found[s] = t.decode()
    i += 1
open(sys.argv[1], "w").write("\n".join(found[s] for s in sorted(found)))
PY
load_keys() { # port
    python3 - "$tags_file" "$RESHARD_KEYS" <<'PY' | redis-cli -p "$1" --pipe >/dev/null
import sys
tags = open(sys.argv[1]).read().split()
n = int(sys.argv[2])
out = sys.stdout.buffer
val = b"x" * 16
for t in tags:
    buf = []
    for i in range(n):
        k = f"{{{t}}}:{i}".encode()
        buf.append(b"*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$16\r\n%s\r\n" % (len(k), k, val))
    out.write(b"".join(buf))
PY
}
reshard_time() { # ports
    local ports=($1) src dst owner p
    for p in "${ports[@]}"; do
        if redis-cli -p "$p" cluster nodes | grep myself | grep -qE ' 0-'; then owner=$p; fi
    done
    src=$(redis-cli -p "$owner" cluster myid)
    for p in "${ports[@]}"; do [ "$p" != "$owner" ] && dst=$(redis-cli -p "$p" cluster myid) && break; done
    load_keys "$owner"
    local keys=0 s
    keys=$(redis-cli -p "$owner" dbsize)
    local t0; t0=$(now_us)
    redis-cli --cluster reshard "127.0.0.1:$owner" --cluster-from "$src" --cluster-to "$dst" \
        --cluster-slots 1000 --cluster-yes >/dev/null
    local ms; ms=$(ms_since "$t0")
    echo "$ms $keys"
}
read -r f_ms f_keys < <(reshard_time "$FERRODIS_PORTS")
read -r r_ms r_keys < <(reshard_time "$REDIS_PORTS")
echo
echo "redis-cli --cluster reshard of 1,000 slots ($(commas "$f_keys") keys moved on ferrodis, $(commas "$r_keys") on redis):"
printf '  ferrodis %.1f s   redis %.1f s   ratio %s (lower is faster)\n' \
    "$(awk -v m="$f_ms" 'BEGIN{print m/1000}')" "$(awk -v m="$r_ms" 'BEGIN{print m/1000}')" "$(ratio "$f_ms" "$r_ms")"
if [ -n "${MARKDOWN:-}" ]; then
    echo
    echo "| test | pipeline | ferrodis req/s | redis req/s | ratio | ferrodis CPU ns/req | redis CPU ns/req | ratio |"
    echo "|---|---|---|---|---|---|---|---|"
    printf '%s\n' "${MD[@]}"
    echo
    echo "| reshard 1,000 slots / $(commas "$f_keys") keys | ferrodis $(awk -v m="$f_ms" 'BEGIN{printf "%.1f", m/1000}') s | redis $(awk -v m="$r_ms" 'BEGIN{printf "%.1f", m/1000}') s | ratio $(ratio "$f_ms" "$r_ms") |"
fi
