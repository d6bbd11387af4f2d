#!/usr/bin/env bash
# Runs client libraries' own test suites against ferrodis and against the
# real redis-server on the same machine, and compares them test by test:
# every test that passes on redis-server must pass on ferrodis.
#
# The libraries (CLIENTS), each fetched into an ignored cache
# (.cache/client-suite) from a package registry and never committed:
#   redis-py  its source distribution on PyPI carries its tests; a full run
#             against each server per protocol in PROTOCOLS (redis-py's
#             --protocol: RESP2, and RESP3 through HELLO 3)
#   hiredis   Debian's source package; its `make check` starts the server
#             it is given (config on stdin, a TCP port and a unix socket)
#   perl      Debian's libredis-perl source; its tests spawn the server
#             named by REDIS_SERVER_PATH (its build dependencies come from
#             apt)
#
# Environment (all optional):
#   CLIENTS="redis-py hiredis perl"
#   REDIS_PY=5.0.8       redis-py version (its tests target Redis 7)
#   PROTOCOLS="2 3"      RESP versions to run redis-py's suite with
#   BASEPORT=26379       redis-py: redis-server on BASEPORT, ferrodis on +1;
#                        hiredis: its server on BASEPORT+2
#   PYTEST_ARGS="-k x"   more arguments for pytest
#   NO_BUILD=1           do not build target/release/ferrodis-server first
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CACHE="$ROOT/.cache/client-suite"
REDIS_PY="${REDIS_PY:-5.0.8}"
PROTOCOLS="${PROTOCOLS:-2 3}"
CLIENTS="${CLIENTS:-redis-py hiredis perl}"
BASEPORT="${BASEPORT:-26379}"

die() { echo "client-suite: $*" >&2; exit 2; }
# shellcheck source=suite/lib.sh
source "$ROOT/suite/lib.sh"
SERVER_BIN="$FERRODIS_BIN"

command -v redis-server >/dev/null || die "redis-server is missing (make deps installs it)"
command -v redis-cli >/dev/null || die "redis-cli is missing (make deps installs it)"
if [[ -z "${NO_BUILD:-}" ]]; then
    (cd "$ROOT" && cargo build --release --quiet) || die "build failed"
fi
[[ -x "$SERVER_BIN" ]] || die "$SERVER_BIN is missing"

SUDO=""
[[ "$(id -u)" -ne 0 ]] && SUDO=sudo
mkdir -p "$CACHE"
work="$(mktemp -d)"
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
    wait 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT
status=0

# compare <what> <passed on redis-server> <passed on ferrodis> <log>: the
# lists hold one sorted line per passing test (or test file); a test that
# passed on redis-server and is missing from ferrodis's list failed, did
# not run, or its run broke off.
compare() {
    local only_theirs only_ours
    only_theirs="$(comm -23 "$2" "$3")"
    only_ours="$(comm -13 "$2" "$3")"
    if [[ ! -s "$2" ]]; then
        status=1
        echo "$1: nothing passed on redis-server: the run itself failed (log: ${4/ferrodis/redis})"
    fi
    if [[ -n "$only_theirs" ]]; then
        status=1
        echo "$1: passed on redis-server, not on ferrodis (log: $4):"
        sed 's/^/  /' <<<"$only_theirs"
    fi
    if [[ -n "$only_ours" ]]; then
        echo "$1: passed on ferrodis only:"
        sed 's/^/  /' <<<"$only_ours"
    fi
}

# The upstream tree of a Debian source package, in the cache. Only the
# upstream tarball is unpacked (it holds the tests; a Debian mirror has
# been seen to miss a .debian.tar.xz).
debian_source() { # package dir-glob
    local d
    d="$(find "$CACHE" -maxdepth 1 -type d -name "$2" | head -n 1)"
    if [[ -z "$d" ]]; then
        ensure_deb_src
        (cd "$CACHE" && apt-get source --download-only "$1" >/dev/null 2>&1)
        local orig
        orig="$(find "$CACHE" -maxdepth 1 -name "${1}_*.orig.tar.*" | head -n 1)"
        [[ -n "$orig" ]] || die "cannot fetch Debian's source of $1"
        tar -xf "$orig" -C "$CACHE" || die "cannot unpack $orig"
        d="$(find "$CACHE" -maxdepth 1 -type d -name "$2" | head -n 1)"
    fi
    [[ -n "$d" ]] || die "no $2 in $CACHE"
    echo "$d"
}

# ---- redis-py ----
run_redis_py() {
    local src="$CACHE/redis-$REDIS_PY" venv="$CACHE/venv"
    if [[ ! -f "$src/tests/conftest.py" ]]; then
        local tmp
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
    start redis redis-server "$BASEPORT"
    start ferrodis "$SERVER_BIN" "$((BASEPORT + 1))"
    # Modules' tests are skipped by redis-py itself on servers without
    # them; the search tests need numpy to be collected, the cluster ones a
    # cluster, the TLS ones certificates.
    local ignore=(--ignore=tests/test_cluster.py --ignore=tests/test_asyncio/test_cluster.py
        --ignore=tests/test_ssl.py --ignore=tests/test_search.py
        --ignore=tests/test_asyncio/test_search.py)
    local proto name port log summary
    for proto in $PROTOCOLS; do
        for name in redis ferrodis; do
            port=$BASEPORT
            [[ $name = ferrodis ]] && port=$((BASEPORT + 1))
            redis-cli -p "$port" flushall >/dev/null
            log="$CACHE/redis-py-$name-resp$proto.log"
            # shellcheck disable=SC2086
            (cd "$src" && "$venv/bin/python" -m pytest tests -q -rfEp -p no:cacheprovider -W ignore \
                --timeout 60 --protocol="$proto" --redis-url="redis://127.0.0.1:$port/0" \
                "${ignore[@]}" ${PYTEST_ARGS:-}) >"$log" 2>&1
            grep -E '^PASSED ' "$log" | sort -u >"$log.passed"
            summary="$(tail -n 1 "$log")"
            count() { grep -oE "[0-9]+ $1" <<<"$summary" | grep -oE '^[0-9]+' || echo 0; }
            printf '%-9s %-10s %-5s %7s %7s %7s\n' redis-py "$name" "$proto" "$(count passed)" \
                "$(( $(count failed) + $(count "errors?") ))" "$(count skipped)"
        done
        compare "redis-py RESP$proto" "$CACHE/redis-py-redis-resp$proto.log.passed" \
            "$CACHE/redis-py-ferrodis-resp$proto.log.passed" "$CACHE/redis-py-ferrodis-resp$proto.log"
    done
}

# ---- hiredis ----
run_hiredis() {
    local src name bin log
    src="$(debian_source hiredis 'hiredis-*')"
    make -C "$src" -j2 hiredis-test >"$CACHE/hiredis-build.log" 2>&1 \
        || die "hiredis does not build (log: $CACHE/hiredis-build.log)"
    for name in redis ferrodis; do
        bin=redis-server
        [[ $name = ferrodis ]] && bin="$SERVER_BIN"
        log="$CACHE/hiredis-$name.log"
        # Its check target starts the server (daemonized, config on stdin),
        # runs every test over TCP and a unix socket, and stops it.
        make -C "$src" check REDIS_SERVER="$bin" REDIS_PORT=$((BASEPORT + 2)) >"$log" 2>&1
        # It stops the server with a bare kill: the next one needs the port.
        for _ in $(seq 100); do
            redis-cli -p $((BASEPORT + 2)) ping >/dev/null 2>&1 || break
            sleep 0.1
        done
        sed 's/\x1b\[[0-9;]*m//g' "$log" | grep -E '^#[0-9]+ .*: PASSED$' | sort -u >"$log.passed"
        printf '%-9s %-10s %-5s %7s %7s\n' hiredis "$name" - "$(wc -l <"$log.passed")" \
            "$(sed 's/\x1b\[[0-9;]*m//g' "$log" | grep -cE '^#[0-9]+ .*: FAILED$')"
    done
    compare hiredis "$CACHE/hiredis-redis.log.passed" "$CACHE/hiredis-ferrodis.log.passed" \
        "$CACHE/hiredis-ferrodis.log"
}

# ---- the Perl client ----
run_perl() {
    local src name bin log
    src="$(debian_source libredis-perl 'Redis-*')"
    if ! perl -MTest::Deep -MTest::Fatal -MTest::SharedFork -MTest::TCP -MIO::Socket::Timeout \
        -MIO::String -MTry::Tiny -e 1 2>/dev/null; then
        echo "client-suite: installing the Perl client's test dependencies"
        DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q libio-socket-ssl-perl \
            libio-socket-timeout-perl libio-string-perl libtest-deep-perl libtest-fatal-perl \
            libtest-sharedfork-perl libtest-tcp-perl libtry-tiny-perl >/dev/null \
            || die "cannot install the Perl test dependencies"
    fi
    for name in redis ferrodis; do
        bin=redis-server
        [[ $name = ferrodis ]] && bin="$SERVER_BIN"
        log="$CACHE/perl-$name.log"
        # Each test file spawns its own server on a free port.
        (cd "$src" && REDIS_SERVER_PATH="$bin" prove -l t) >"$log" 2>&1
        grep -E '^t/.* ok$' "$log" | sed 's/ *\.\.\..*//' | sort -u >"$log.passed"
        printf '%-9s %-10s %-5s %7s %7s\n' perl "$name" - \
            "$(wc -l <"$log.passed") files" "$(grep -cE '^t/.*(Failed|Wstat|Dubious)' "$log") files"
    done
    compare perl "$CACHE/perl-redis.log.passed" "$CACHE/perl-ferrodis.log.passed" "$CACHE/perl-ferrodis.log"
}

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

printf '%-9s %-10s %-5s %7s %7s %7s\n' client server resp passed failed skipped
for client in $CLIENTS; do
    case "$client" in
        redis-py) run_redis_py ;;
        hiredis) run_hiredis ;;
        perl) run_perl ;;
        *) die "unknown client $client (redis-py, hiredis, perl)" ;;
    esac
done
if [[ $status -eq 0 ]]; then
    echo "client-suite: $CLIENTS: every test that passes on redis-server passes on ferrodis"
fi
exit $status
