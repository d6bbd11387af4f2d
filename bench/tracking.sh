#!/usr/bin/env bash
# Client-side caching: CLIENTS connections each tracking KEYS keys
# (CLIENT TRACKING ON, RESP3), then every key overwritten once. Reports the
# memory the tracking table costs and the invalidation throughput, for
# ferrodis and the real redis-server, ROUNDS alternating rounds (median).
#
# Environment: CLIENTS (default 50), KEYS (default 10000), ROUNDS (3),
# NO_BUILD=1 to skip cargo build --release.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

CLIENTS="${CLIENTS:-50}"
KEYS="${KEYS:-10000}"
ROUNDS="${ROUNDS:-3}"

build_release
start_server FERRODIS "$FERRODIS_BIN"
start_server REDIS "$(command -v redis-server)"

declare -A V   # "server|field" -> values
field() { tr ' ' '\n' <<<"$1" | awk -F= -v f="$2" '$1==f {print $2}'; }
FIELDS="items used_memory_delta rss_delta_kb bytes_per_item seconds msgs_per_sec server_ns_per_msg"
echo "tracking: $CLIENTS clients x $KEYS keys, $ROUNDS alternating rounds, median; $(nproc) cores"
for _ in $(seq 1 "$ROUNDS"); do
    for s in FERRODIS REDIS; do
        port_var=${s}_PORT
        pid_var=${s}_PID
        out=$(python3 "$ROOT/bench/tracking.py" "${!port_var}" "${!pid_var}" "$CLIENTS" "$KEYS")
        for f in $FIELDS; do
            V[$s|$f]="${V[$s|$f]:-} $(field "$out" "$f")"
        done
    done
done
printf '\n%-20s %14s %14s %8s\n' measure ferrodis redis ratio
for f in $FIELDS; do
    a=$(echo "${V[FERRODIS|$f]}" | median)
    b=$(echo "${V[REDIS|$f]}" | median)
    printf '%-20s %14s %14s %8s\n' "$f" "$a" "$b" "$(ratio "$a" "$b")"
done
