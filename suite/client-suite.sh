#!/usr/bin/env bash
# Runs a client library's own test suite against ferrodis and against the
# real redis-server on the same machine, and compares them test by test:
# every test that passes on redis-server must pass on ferrodis.
#
# The library is redis-py: its source distribution on PyPI carries its
# tests. It is fetched into an ignored cache (.cache/client-suite) and
# never committed. Each protocol in PROTOCOLS is a full run against each
# server (redis-py's --protocol: RESP2, and RESP3 through HELLO 3).
#
# Environment (all optional):
#   REDIS_PY=5.0.8       redis-py version (its tests target Redis 7)
#   PROTOCOLS="2 3"      RESP versions to run the suite with
#   BASEPORT=26379       redis-server on BASEPORT, ferrodis on BASEPORT+1
#   PYTEST_ARGS="-k x"   more arguments for pytest
#   NO_BUILD=1           do not build target/release/ferrodis-server first
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CACHE="$ROOT/.cache/client-suite"
REDIS_PY="${REDIS_PY:-5.0.8}"
PROTOCOLS="${PROTOCOLS:-2 3}"
BASEPORT="${BASEPORT:-26379}"
SERVER_BIN="${CARGO_TARGET_DIR:-$ROOT/target}/release/ferrodis-server"
[[ "$SERVER_BIN" = /* ]] || SERVER_BIN="$ROOT/$SERVER_BIN"

die() { echo "client-suite: $*" >&2; exit 2; }

command -v redis-server >/dev/null || die "redis-server is missing (make deps installs it)"
command -v redis-cli >/dev/null || die "redis-cli is missing (make deps installs it)"
if [[ -z "${NO_BUILD:-}" ]]; then
    (cd "$ROOT" && cargo build --release --quiet) || die "build failed"
fi
[[ -x "$SERVER_BIN" ]] || die "$SERVER_BIN is missing"

# ---- redis-py's tests and a venv to run them, once ----
src="$CACHE/redis-$REDIS_PY"
venv="$CACHE/venv"
if [[ ! -f "$src/tests/conftest.py" ]]; then
    mkdir -p "$CACHE"
    tmp="$(mktemp -d)"
    python3 -m pip download --quiet --no-deps --no-binary :all: -d "$tmp" "redis==$REDIS_PY" \
        || die "cannot download redis-py $REDIS_PY from PyPI"
    tar -xzf "$tmp"/redis-"$REDIS_PY".tar.gz -C "$CACHE" || die "cannot unpack redis-py"
    rm -rf "$tmp"
    [[ -f "$src/tests/conftest.py" ]] || die "redis-py $REDIS_PY's sdist has no tests"
fi
if [[ ! -x "$venv/bin/python" ]] || ! "$venv/bin/python" -c 'import redis, pytest, pytest_asyncio' 2>/dev/null; then
    echo "client-suite: installing redis-py $REDIS_PY and pytest into $venv"
    python3 -m venv "$venv" || die "cannot create $venv"
    # The pytest and pytest-asyncio that redis-py 5.0's tests are written for.
    "$venv/bin/pip" install --quiet "pytest<8" "pytest-asyncio==0.21.1" pytest-timeout \
        packaging "$src" || die "pip install failed"
fi

# ---- the two servers ----
work="$(mktemp -d)"
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
    wait 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT

start() { # name binary port
    mkdir -p "$work/$1"
    "$2" --port "$3" --bind 127.0.0.1 --dir "$work/$1" --save "" --appendonly no \
        --enable-debug-command yes --logfile "$work/$1/log" &
    pids+=($!)
    for _ in $(seq 100); do
        redis-cli -p "$3" ping >/dev/null 2>&1 && return 0
        sleep 0.1
    done
    die "$1 did not start on port $3"
}
start redis redis-server "$BASEPORT"
start ferrodis "$SERVER_BIN" "$((BASEPORT + 1))"

# ---- the runs ----
# Modules' tests are skipped by redis-py itself on servers without them;
# the search tests need numpy to be collected, the cluster ones a cluster,
# the TLS ones certificates.
ignore=(--ignore=tests/test_cluster.py --ignore=tests/test_asyncio/test_cluster.py
        --ignore=tests/test_ssl.py --ignore=tests/test_search.py
        --ignore=tests/test_asyncio/test_search.py)
status=0
printf '%-10s %-6s %8s %8s %8s\n' server resp passed failed skipped
for proto in $PROTOCOLS; do
    for name in redis ferrodis; do
        port=$BASEPORT
        [[ $name = ferrodis ]] && port=$((BASEPORT + 1))
        redis-cli -p "$port" flushall >/dev/null
        log="$CACHE/$name-resp$proto.log"
        # shellcheck disable=SC2086
        (cd "$src" && "$venv/bin/python" -m pytest tests -q -p no:cacheprovider -W ignore \
            --timeout 60 --protocol="$proto" --redis-url="redis://127.0.0.1:$port/0" \
            "${ignore[@]}" ${PYTEST_ARGS:-}) >"$log" 2>&1
        grep -E '^(FAILED|ERROR) ' "$log" | sed 's/ - .*//' | sort -u >"$CACHE/$name-resp$proto.fails"
        summary="$(tail -n 1 "$log")"
        count() { grep -oE "[0-9]+ $1" <<<"$summary" | grep -oE '^[0-9]+' || echo 0; }
        printf '%-10s %-6s %8s %8s %8s\n' "$name" "$proto" "$(count passed)" \
            "$(( $(count failed) + $(count "errors?") ))" "$(count skipped)"
    done
    only_ours="$(comm -13 "$CACHE/redis-resp$proto.fails" "$CACHE/ferrodis-resp$proto.fails")"
    only_theirs="$(comm -23 "$CACHE/redis-resp$proto.fails" "$CACHE/ferrodis-resp$proto.fails")"
    if [[ -n "$only_ours" ]]; then
        status=1
        echo "RESP$proto: failing on ferrodis only (logs: $CACHE/ferrodis-resp$proto.log):"
        sed 's/^/  /' <<<"$only_ours"
    fi
    if [[ -n "$only_theirs" ]]; then
        echo "RESP$proto: failing on redis-server only:"
        sed 's/^/  /' <<<"$only_theirs"
    fi
done
if [[ $status -eq 0 ]]; then
    echo "client-suite: redis-py $REDIS_PY: every test that passes on redis-server passes on ferrodis"
fi
exit $status
