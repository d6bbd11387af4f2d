# Shared helpers for the benchmark scripts (sourced, not run).
# Starts ferrodis and the real redis-server with identical settings on free
# ports, each in its own temp dir, and stops them on exit.

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
FERRODIS_BIN="${FERRODIS_BIN:-${CARGO_TARGET_DIR:-$ROOT/target}/release/ferrodis-server}"
BENCH_TMP="$(mktemp -d "${TMPDIR:-/tmp}/ferrodis-bench.XXXXXX")"
PIDS=()

cleanup() {
    local p
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
    for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
    rm -rf "$BENCH_TMP"
}
trap cleanup EXIT

build_release() {
    if [ "${NO_BUILD:-0}" != 1 ]; then
        (cd "$ROOT" && cargo build --release --quiet)
    fi
    [ -x "$FERRODIS_BIN" ] || { echo "missing $FERRODIS_BIN" >&2; exit 1; }
    command -v redis-server >/dev/null || { echo "redis-server not found: run make deps" >&2; exit 1; }
}

# A TCP port nothing listens on, below the kernel's ephemeral range so that
# no outgoing connection holds it.
free_port() {
    local p
    while :; do
        p=$((20000 + RANDOM % 12000))
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
            echo "$p"
            return
        fi
    done
}

# wait_ready PORT PID LOG: 0 once PING answers, 1 if the process died.
wait_ready() {
    local port=$1 pid=$2 log=$3 i
    for i in $(seq 1 500); do
        redis-cli -p "$port" ping >/dev/null 2>&1 && return 0
        kill -0 "$pid" 2>/dev/null || return 1
        sleep 0.02
    done
    echo "server on port $port did not answer:" >&2
    tail -20 "$log" >&2
    exit 1
}

# start_server NAME BIN -> sets ${NAME}_PORT and ${NAME}_PID
start_server() {
    local name=$1 bin=$2 port dir pid attempt
    for attempt in 1 2 3 4 5; do
        port=$(free_port)
        dir="$BENCH_TMP/$name-$port"
        mkdir -p "$dir"
        "$bin" --port "$port" --bind 127.0.0.1 --save "" --appendonly no \
            --dir "$dir" --logfile "$dir/server.log" --daemonize no &
        pid=$!
        PIDS+=("$pid")
        if wait_ready "$port" "$pid" "$dir/server.log"; then
            printf -v "${name}_PORT" '%s' "$port"
            printf -v "${name}_PID" '%s' "$pid"
            return 0
        fi
        grep -q "in use" "$dir/server.log" || break
    done
    echo "$bin did not start:" >&2
    tail -20 "$dir/server.log" >&2
    exit 1
}

stop_server() {
    local pid=$1
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
}

rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }
used_memory() { redis-cli -p "$1" info memory | tr -d '\r' | awk -F: '$1=="used_memory" {print $2}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }
# 1234567.8 -> 1,234,568 (independent of the locale)
commas() { printf '%.0f' "$1" | sed -e ':a' -e 's/\B[0-9]\{3\}\>/,&/' -e 'ta'; }
