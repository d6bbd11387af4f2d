#!/usr/bin/env bash
# A local six-node ferrodis cluster (3 masters, 3 replicas) for trying
# Redis Cluster by hand, as Redis's utils/create-cluster does for redis-server:
#
#   scripts/create-cluster.sh start    # start nodes on ports PORT+1..PORT+6 and create the cluster
#   scripts/create-cluster.sh stop     # stop them
#   scripts/create-cluster.sh clean    # stop and remove their files
#
# Bus ports are the client port + 1000 (31001-31006 by default): the
# default +10000 would fall in the kernel's ephemeral range (32768+), where
# an outgoing connection can hold the port.
#
# PORT (default 30000), NODES (6), REPLICAS (1), TIMEOUT (node timeout ms,
# 2000), DIR (.cache/create-cluster), FERRODIS (the server binary).
set -euo pipefail
cd "$(dirname "$0")/.."
PORT=${PORT:-30000}
NODES=${NODES:-6}
REPLICAS=${REPLICAS:-1}
TIMEOUT=${TIMEOUT:-2000}
DIR=${DIR:-.cache/create-cluster}
FERRODIS=${FERRODIS:-target/release/ferrodis-server}

case "${1:-start}" in
start)
    [[ -x "$FERRODIS" ]] || { echo "build first: make build" >&2; exit 1; }
    mkdir -p "$DIR"
    DIR=$(cd "$DIR" && pwd)
    hosts=()
    for i in $(seq 1 "$NODES"); do
        p=$((PORT + i))
        mkdir -p "$DIR/$p"
        "$FERRODIS" --port "$p" --cluster-enabled yes --cluster-config-file nodes.conf \
            --cluster-port $((p + 1000)) \
            --cluster-node-timeout "$TIMEOUT" --appendonly yes --dir "$DIR/$p" \
            --logfile "$DIR/$p/log.txt" --daemonize yes --pidfile "$DIR/$p/pid"
        hosts+=("127.0.0.1:$p")
    done
    for h in "${hosts[@]}"; do
        until redis-cli -p "${h#*:}" ping >/dev/null 2>&1; do sleep 0.1; done
    done
    if [[ "$(redis-cli -p $((PORT + 1)) cluster info | grep -c 'cluster_slots_assigned:16384')" == 0 ]]; then
        redis-cli --cluster create "${hosts[@]}" --cluster-replicas "$REPLICAS" --cluster-yes
    fi
    echo "cluster up: redis-cli -c -p $((PORT + 1))"
    ;;
stop|clean)
    for i in $(seq 1 "$NODES"); do
        redis-cli -p $((PORT + i)) shutdown nosave >/dev/null 2>&1 || true
    done
    [[ "$1" == clean ]] && rm -rf "$DIR"
    ;;
*)
    echo "usage: $0 start|stop|clean" >&2
    exit 1
    ;;
esac
