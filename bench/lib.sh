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
# no outgoing connection holds it. BENCH_PORT_MIN..BENCH_PORT_MAX (default
# 20000..31999) keeps runs of different people on one machine apart.
free_port() {
    local p lo=${BENCH_PORT_MIN:-20000} hi=${BENCH_PORT_MAX:-31999}
    while :; do
        p=$((lo + RANDOM % (hi - lo + 1)))
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

# launch BIN PORT DIR [ARGS...]: the common command line of every bench
# server (the same for ferrodis and redis-server); sets LAUNCHED_PID.
launch() {
    local bin=$1 port=$2 dir=$3
    shift 3
    "$bin" --port "$port" --bind 127.0.0.1 --save "" --appendonly no \
        --dir "$dir" --logfile "$dir/server.log" --daemonize no "$@" &
    LAUNCHED_PID=$!
    PIDS+=("$LAUNCHED_PID")
}

# start_server NAME BIN [ARGS...] -> sets ${NAME}_PORT, ${NAME}_PID, ${NAME}_DIR
start_server() {
    local name=$1 bin=$2 port dir attempt
    shift 2
    for attempt in 1 2 3 4 5; do
        port=$(free_port)
        dir="$BENCH_TMP/$name-$port"
        mkdir -p "$dir"
        launch "$bin" "$port" "$dir" "$@"
        if wait_ready "$port" "$LAUNCHED_PID" "$dir/server.log"; then
            printf -v "${name}_PORT" '%s' "$port"
            printf -v "${name}_PID" '%s' "$LAUNCHED_PID"
            printf -v "${name}_DIR" '%s' "$dir"
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

# CPU time a process spent on the CPU, in ns (schedstat field 1): the
# server's cost per request, whatever the client's load.
cpu_ns() { awk '{print $1}' "/proc/$1/schedstat"; }

# bench_one PORT PID N [redis-benchmark args...]: one redis-benchmark run
# (-n N --csv added) against the server PORT whose process is PID. Sets
# BENCH_RPS (requests/s of the first CSV row, or of the row named by
# BENCH_ROW when set), BENCH_CPU (the server's CPU ns per request: its
# schedstat time around the run divided by N) and BENCH_CSV (all rows,
# "name,rps" lines, the \r progress lines dropped).
bench_one() {
    local port=$1 pid=$2 n=$3 before after
    shift 3
    before=$(cpu_ns "$pid")
    BENCH_CSV=$(redis-benchmark -p "$port" -n "$n" --csv "$@" 2>/dev/null | tr '\r' '\n' |
        awk -F, '$2 != "" { gsub(/"/, ""); print $1 "," $2 }' | grep -v '^test,' || true)
    after=$(cpu_ns "$pid")
    BENCH_CPU=$(( (after - before) / n ))
    if [ -n "${BENCH_ROW:-}" ]; then
        BENCH_RPS=$(echo "$BENCH_CSV" | awk -F, -v r="$BENCH_ROW" '$1 == r {print $2; exit}')
    else
        BENCH_RPS=$(echo "$BENCH_CSV" | awk -F, 'NR == 1 {print $2}')
    fi
}

rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }
used_memory() { redis-cli -p "$1" info memory | tr -d '\r' | awk -F: '$1=="used_memory" {print $2}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }
# 1234567.8 -> 1,234,568 (independent of the locale)
commas() { printf '%.0f' "$1" | sed -e ':a' -e 's/\B[0-9]\{3\}\>/,&/' -e 'ta'; }

# Wall clock in microseconds.
now_us() { local t=${EPOCHREALTIME/./}; echo "${t#0}"; }
ms_since() { echo $(( ($(now_us) - $1) / 1000 )); }

# info PORT FIELD [SECTION]: one INFO field's value.
info() { redis-cli -p "$1" info ${3:+"$3"} | tr -d '\r' | awk -F: -v f="$2" '$1==f {print $2}'; }

# wait_pong PORT PID: until PING answers PONG (not -LOADING), 1 if PID died.
wait_pong() {
    local port=$1 pid=$2
    while :; do
        [ "$(redis-cli -p "$port" ping 2>/dev/null)" = PONG ] && return 0
        kill -0 "$pid" 2>/dev/null || return 1
        sleep 0.005
    done
}

# wait_field PORT FIELD VALUE [TIMEOUT_S]: poll INFO until FIELD == VALUE.
wait_field() {
    local port=$1 field=$2 want=$3 limit=$(( $(now_us) + ${4:-600} * 1000000 ))
    while [ "$(info "$port" "$field")" != "$want" ]; do
        if [ "$(now_us)" -gt "$limit" ]; then
            echo "timeout waiting for $field=$want on port $port" >&2
            return 1
        fi
        sleep 0.005
    done
}

median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{a[NR]=$1} END {if (NR) print a[int((NR+1)/2)]; else print 0}'; }
