# Shared by suite/redis-suite.sh and suite/sentinel-suite.sh (sourced, not
# run; suite/client-suite.sh uses ensure_deb_src): fetching Redis 7.0.15's test tree once into an ignored cache, building
# run trees whose src/ holds the binaries under test, and running one suite
# command under a time limit and a stall detector.
#
# The caller sets ROOT, CACHE and VERSION, and defines die().

# The ferrodis binary under test: target/release, or CARGO_TARGET_DIR's.
FERRODIS_BIN="${CARGO_TARGET_DIR:-$ROOT/target}/release/ferrodis-server"
[[ "$FERRODIS_BIN" = /* ]] || FERRODIS_BIN="$ROOT/$FERRODIS_BIN"

# ---- deb-src entries, once ----
# apt-get source needs deb-src lines, which Debian images leave out: the
# suites the binary packages come from are added as deb-src.
ensure_deb_src() {
    if ! apt-get source --download-only --print-uris redis >/dev/null 2>&1 \
        || [[ -z "$(apt-get source --print-uris redis 2>/dev/null | grep orig)" ]]; then
        echo "suite: adding deb-src entries for Debian's redis source package"
        local sudo=""
        [[ "$(id -u)" -ne 0 ]] && sudo=sudo
        local list=/etc/apt/sources.list.d/ferrodis-deb-src.sources
        # The same suites the binary packages come from, as deb-src.
        local suites
        suites="$(. /etc/os-release && echo "$VERSION_CODENAME")"
        $sudo tee "$list" >/dev/null <<EOF
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: $suites $suites-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb-src
URIs: http://deb.debian.org/debian-security
Suites: $suites-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
        $sudo apt-get update -qq || die "apt-get update failed"
    fi
}

# ---- the suite's source, once ----
# Debian's source package of the installed redis-server (its patches applied,
# so the tests match the binary), or the tarball in REDIS_SRC. Only the test
# tree and what it reads are kept; none of Redis's C sources.
fetch_source() {
    local dest="$CACHE/src-$VERSION"
    [[ -f "$dest/tests/test_helper.tcl" ]] && return 0
    local tmp
    tmp="$(mktemp -d)"
    if [[ -n "${REDIS_SRC:-}" ]]; then
        tar -xzf "$REDIS_SRC" -C "$tmp" || die "cannot unpack $REDIS_SRC"
    else
        ensure_deb_src
        # The source of the installed package, so the tests match its patches.
        local pkgver
        pkgver="$(dpkg-query -W -f='${source:Version}' redis-server 2>/dev/null || true)"
        (cd "$tmp" && apt-get source --download-only "redis${pkgver:+=$pkgver}" >/dev/null 2>&1 \
            || apt-get source --download-only redis >/dev/null 2>&1) || die "apt-get source redis failed"
        local dsc
        dsc="$(ls "$tmp"/redis_*.dsc | head -1)"
        if command -v dpkg-source >/dev/null; then
            (cd "$tmp" && dpkg-source --no-check -x "$dsc" unpacked >/dev/null) || die "dpkg-source failed"
        else
            tar -xzf "$tmp"/redis_*.orig.tar.gz -C "$tmp" && mv "$tmp"/redis-*/ "$tmp/unpacked"
        fi
    fi
    local top
    top="$(dirname "$(find "$tmp" -maxdepth 3 -path '*/tests/test_helper.tcl' | head -1)")/.."
    [[ -f "$top/tests/test_helper.tcl" ]] || die "no tests/test_helper.tcl in the source"
    grep -q "\"$VERSION\"" "$top/src/version.h" 2>/dev/null \
        || echo "suite: warning: the source is not Redis $VERSION" >&2
    mkdir -p "$dest"
    (cd "$top" && cp -r tests runtest runtest-sentinel redis.conf sentinel.conf "$dest/") || die "copy failed"
    [[ -d "$top/utils" ]] && cp -r "$top/utils" "$dest/"
    rm -rf "$tmp"
}

# make_tree NAME SERVER [SENTINEL]: a run tree (the cached test files plus
# src/ with the binaries under test) in $CACHE/run-NAME; prints its path.
# src/redis-server is SERVER; src/redis-sentinel is SENTINEL when given (the
# program decides its mode from that name, as redis-server does), else a
# link named redis-sentinel to the installed redis-server. The other tools
# are the installed Redis ones.
make_tree() {
    local name=$1 server=$2 sentinel=${3:-} tree="$CACHE/run-$1"
    rm -rf "$tree"
    mkdir -p "$tree/src"
    cp -r "$CACHE/src-$VERSION/." "$tree/"
    ln -s "$server" "$tree/src/redis-server"
    for t in redis-cli redis-benchmark redis-check-rdb redis-check-aof; do
        command -v "$t" >/dev/null && ln -s "$(command -v "$t")" "$tree/src/$t"
    done
    if [[ -n "$sentinel" ]]; then
        ln -s "$sentinel" "$tree/src/redis-sentinel"
    elif command -v redis-sentinel >/dev/null; then
        ln -s "$(command -v redis-sentinel)" "$tree/src/redis-sentinel"
    elif command -v redis-server >/dev/null; then
        ln -s "$(command -v redis-server)" "$tree/src/redis-sentinel"
    fi
    echo "$tree"
}

# run_watched LOG DIR CMD...: runs CMD in DIR (its own session, so a kill
# takes every server it spawned) with output to LOG. Kills it after
# UNIT_TIMEOUT seconds in all or STALL seconds without output. Sets
# WATCHED_STATUS ("" when it ended by itself, "timeout" or "stalled") and
# WATCHED_RC (its exit code).
run_watched() {
    local log=$1 dir=$2
    shift 2
    : >"$log"
    (cd "$dir" && TERM=dumb exec setsid "$@") >"$log" 2>&1 &
    local pid=$! start now last_size=0 last_change status=""
    start=$(date +%s)
    last_change=$start
    while kill -0 "$pid" 2>/dev/null; do
        sleep 1
        now=$(date +%s)
        local size
        size=$(stat -c %s "$log" 2>/dev/null || echo 0)
        if [[ "$size" != "$last_size" ]]; then last_size=$size; last_change=$now; fi
        if (( now - start > UNIT_TIMEOUT )); then status=timeout; break; fi
        if (( now - last_change > STALL )); then status=stalled; break; fi
    done
    if [[ -n "$status" ]]; then
        kill -TERM -- -"$pid" 2>/dev/null; sleep 1; kill -KILL -- -"$pid" 2>/dev/null
        echo "[$status]: killed after $(( $(date +%s) - start ))s" >>"$log"
    fi
    wait "$pid" 2>/dev/null
    WATCHED_RC=$?
    WATCHED_STATUS=$status
}
