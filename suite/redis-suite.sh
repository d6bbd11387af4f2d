#!/usr/bin/env bash
# Runs Redis 7.0.15's own Tcl test suite against ferrodis (and, with
# BASELINE=1, against the real redis-server on the same machine), one unit at
# a time, with a per-unit time limit and a stall detector.
#
# The suite is Redis's code: it is fetched from Debian's source package (or
# the tarball in REDIS_SRC) into an ignored cache and never committed.
#
# Environment (all optional):
#   UNITS="unit/type/list integration/rdb"  units to run (default: suite/units.txt)
#   BASELINE=1        also run real redis-server and print both side by side
#   ONLY="test name"  run only the tests matching (Redis's --only; /regexp)
#   REDIS_SRC=path    a redis-7.0.15 tarball instead of `apt-get source redis`
#   SUITE_CACHE=dir   cache directory (default: .cache/redis-suite)
#   BASEPORT=21111    first port for spawned servers (pick distinct ranges
#                     when two runs share the machine)
#   UNIT_TIMEOUT=900  seconds a unit may run in all
#   STALL=240         seconds without any output before a unit is killed
#   NO_BUILD=1        do not build target/release/ferrodis-server first
#   VERBOSE=1         show the suite's own output as it runs
#   EXTRA="--dump-logs ..."  more arguments for Redis's test_helper.tcl
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CACHE="${SUITE_CACHE:-$ROOT/.cache/redis-suite}"
VERSION=7.0.15
BASEPORT="${BASEPORT:-21111}"
UNIT_TIMEOUT="${UNIT_TIMEOUT:-900}"
STALL="${STALL:-240}"

die() { echo "redis-suite: $*" >&2; exit 2; }

for t in tclsh redis-server redis-cli redis-benchmark redis-check-rdb redis-check-aof; do
    command -v "$t" >/dev/null || die "$t is missing (make deps installs the Redis tools; tclsh: apt-get install tcl)"
done

# shellcheck source=suite/lib.sh
source "$ROOT/suite/lib.sh"
SERVER_BIN="$FERRODIS_BIN"

# Runs one unit in a tree; prints "passed failed exceptions status".
run_unit() {
    local tree=$1 unit=$2 log=$3
    local args=(--single "$unit" --clients 1 --timeout "$STALL" --baseport "$BASEPORT" --portcount 1000 --durable)
    if [[ -n "${ONLY:-}" ]]; then args+=(--only "$ONLY"); fi
    # shellcheck disable=SC2206
    [[ -n "${EXTRA:-}" ]] && args+=($EXTRA)
    run_watched "$log" "$tree" tclsh tests/test_helper.tcl "${args[@]}"
    local status=$WATCHED_STATUS rc=$WATCHED_RC
    local passed failed exc
    passed=$(grep -ac '^\[ok\]:' "$log")
    failed=$(grep -ac '^\[err\]:' "$log")
    exc=$(grep -ac '^\[exception\]:' "$log")
    if [[ -z "$status" ]]; then
        if grep -aq 'All tests passed' "$log"; then status=ok
        elif (( exc > 0 )); then status=exception
        elif (( failed > 0 )); then status=failed
        elif (( rc != 0 )); then status="exit-$rc"
        else status=ok; fi
    fi
    echo "$passed $failed $exc $status"
}

# ---- main ----
if [[ -z "${NO_BUILD:-}" ]]; then
    (cd "$ROOT" && cargo build --release --quiet) || die "build failed"
fi
[[ -x "$SERVER_BIN" ]] || die "$SERVER_BIN not built"
mkdir -p "$CACHE"
fetch_source

if [[ -n "${UNITS:-}" ]]; then
    read -r -a units <<<"$UNITS"
else
    mapfile -t units < <(grep -v '^\s*#' "$ROOT/suite/units.txt" | grep -v '^\s*$')
fi

targets=(ferrodis)
[[ -n "${BASELINE:-}" ]] && targets+=(redis)
declare -A tree
tree[ferrodis]="$(make_tree ferrodis "$SERVER_BIN")"
[[ -n "${BASELINE:-}" ]] && tree[redis]="$(make_tree redis "$(command -v redis-server)")"

results="$CACHE/results.tsv"          # unit target passed failed exceptions status
baseline="$CACHE/baseline.tsv"        # the latest real-Redis figures per unit
failures="$CACHE/failures.txt"
touch "$baseline"
: >"$results"
: >"$failures"
mkdir -p "$CACHE/logs"

printf '%-38s %8s %6s %4s %-10s | %8s %6s %-10s\n' unit "ferrodis" fail exc status "redis" fail status
for unit in "${units[@]}"; do
    for t in "${targets[@]}"; do
        log="$CACHE/logs/$t-${unit//\//_}.log"
        read -r p f e s < <(run_unit "${tree[$t]}" "$unit" "$log")
        printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$unit" "$t" "$p" "$f" "$e" "$s" >>"$results"
        if [[ $t == redis ]]; then
            grep -v "^$unit	" "$baseline" >"$baseline.tmp"; mv "$baseline.tmp" "$baseline"
            printf '%s\t%s\t%s\t%s\n' "$unit" "$p" "$f" "$s" >>"$baseline"
            rp=$p rf=$f rs=$s
        else
            fp=$p ff=$f fe=$e fs=$s
            grep -a '^\[err\]:\|^\[exception\]:\|^\[timeout\]:\|^\[stalled\]:' "$log" | sed "s|^|$unit |" >>"$failures"
        fi
    done
    if [[ -z "${BASELINE:-}" ]]; then
        # Show the last baseline measured on this machine, if any.
        read -r rp rf rs < <(awk -F'\t' -v u="$unit" '$1==u {print $2, $3, $4}' "$baseline")
    fi
    printf '%-38s %8s %6s %4s %-10s | %8s %6s %-10s\n' "$unit" "$fp" "$ff" "$fe" "$fs" "${rp:--}" "${rf:--}" "${rs:--}"
    unset rp rf rs
done

# Totals over the units run.
awk -F'\t' -v b="$baseline" '
    BEGIN { while ((getline l < b) > 0) { split(l, a, "\t"); bp[a[1]] = a[2] } }
    $2 == "ferrodis" { fp += $3; ff += $4; if ($1 in bp) { rp += bp[$1]; n++ } ; u++ }
    END {
        printf "total: ferrodis passed %d, failed %d", fp, ff
        if (n == u && rp > 0) printf "; redis passed %d; ratio %.1f%%", rp, 100 * fp / rp
        printf "\n"
    }' "$results"
echo "failing tests: $failures; logs: $CACHE/logs/"
