#!/usr/bin/env bash
# Runs Redis 7.0.15's own Sentinel suite (tests/sentinel of the same cached
# source the Redis-suite runner uses) with ferrodis as both the sentinels
# and the watched servers, one unit at a time, with a per-unit time limit and
# a stall detector. BASELINE=1 also runs the real redis-server in both roles;
# MIXED=1 runs the real Sentinel watching ferrodis servers (to tell server
# gaps from Sentinel gaps).
#
# Environment (all optional):
#   UNITS="00-base 05-manual"  units to run (default: every tests/sentinel/tests/*.tcl)
#   BASELINE=1        also run real redis-server/redis-sentinel and print both
#   MIXED=1           also run real redis-sentinel watching ferrodis servers
#   HYBRID=1          also run a quorum of ferrodis (even instances) and real
#                     (odd instances) Sentinels watching ferrodis servers
#   TARGETS="redis"   exactly these runs (ferrodis, mixed, hybrid, redis)
#   BASEPORT=25000    sentinels use BASEPORT.., servers BASEPORT+100.. (the
#                     suite's instances.tcl is patched in the run tree)
#   UNIT_TIMEOUT=900  seconds a unit may run in all
#   STALL=300         seconds without any output before a unit is killed
#   NO_BUILD=1        do not build the release binaries first
#   EXTRA="--dont-clean ..."  more arguments for tests/sentinel/run.tcl
#   SUITE_CACHE=dir, REDIS_SRC=path   as for suite/redis-suite.sh
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CACHE="${SUITE_CACHE:-$ROOT/.cache/redis-suite}"
VERSION=7.0.15
BASEPORT="${BASEPORT:-25000}"
UNIT_TIMEOUT="${UNIT_TIMEOUT:-900}"
STALL="${STALL:-300}"
BIN_DIR="${CARGO_TARGET_DIR:-$ROOT/target}/release"
[[ "$BIN_DIR" = /* ]] || BIN_DIR="$ROOT/$BIN_DIR"
SERVER_BIN="$BIN_DIR/ferrodis-server"
SENTINEL_BIN="$BIN_DIR/ferrodis-sentinel"

die() { echo "sentinel-suite: $*" >&2; exit 2; }

for t in tclsh redis-server redis-cli; do
    command -v "$t" >/dev/null || die "$t is missing (make deps installs the Redis tools; tclsh: apt-get install tcl)"
done

# shellcheck source=suite/lib.sh
source "$ROOT/suite/lib.sh"

# The suite's fixed base ports (20000 and 30000) move into BASEPORT's range.
patch_ports() {
    local tree=$1
    sed -i -e "s/^set ::sentinel_base_port .*/set ::sentinel_base_port $BASEPORT/" \
        -e "s/^set ::redis_base_port .*/set ::redis_base_port $((BASEPORT + 100))/" \
        -e "s/^set ::redis_port_count .*/set ::redis_port_count 100/" \
        "$tree/tests/instances.tcl"
}

# Runs one unit in a tree; prints "passed failed status".
run_unit() {
    local tree=$1 unit=$2 log=$3
    local args=(--single "$unit")
    # shellcheck disable=SC2206
    [[ -n "${EXTRA:-}" ]] && args+=($EXTRA)
    run_watched "$log" "$tree" tclsh tests/sentinel/run.tcl "${args[@]}"
    local status=$WATCHED_STATUS rc=$WATCHED_RC passed failed
    passed=$(grep -cE '^[0-9:]{8}> .*: OK$' "$log")
    # A failed test prints "<time>> name: FAILED: why"; an error outside
    # any test prints only "FAILED: caught an error...".
    failed=$(grep -cE '^[0-9:]{8}> .*: FAILED' "$log")
    if (( failed == 0 )) && grep -q '^FAILED: caught an error' "$log"; then failed=1; fi
    if [[ -z "$status" ]]; then
        if grep -q 'GOOD! No errors.' "$log"; then status=ok
        elif grep -q 'Aborting the test' "$log"; then status=aborted
        elif (( failed > 0 )); then status=failed
        elif (( rc != 0 )); then status="exit-$rc"
        else status=ok; fi
    fi
    echo "$passed $failed $status"
}

# ---- main ----
if [[ -z "${NO_BUILD:-}" ]]; then
    (cd "$ROOT" && make --no-print-directory build >/dev/null) || die "build failed"
fi
[[ -x "$SERVER_BIN" ]] || die "$SERVER_BIN not built"
[[ -e "$SENTINEL_BIN" ]] || SENTINEL_BIN="$SERVER_BIN"
mkdir -p "$CACHE"
fetch_source

if [[ -n "${UNITS:-}" ]]; then
    read -r -a units <<<"$UNITS"
else
    mapfile -t units < <(cd "$CACHE/src-$VERSION/tests/sentinel/tests" && ls -1 -- *.tcl | sed 's/\.tcl$//')
fi

real="$(command -v redis-server)"
if [[ -n "${TARGETS:-}" ]]; then
    read -r -a targets <<<"$TARGETS"
else
    targets=(ferrodis)
    [[ -n "${MIXED:-}" ]] && targets+=(mixed)
    [[ -n "${HYBRID:-}" ]] && targets+=(hybrid)
    [[ -n "${BASELINE:-}" ]] && targets+=(redis)
fi
declare -A tree
for t in "${targets[@]}"; do
    case $t in
        ferrodis) tree[$t]="$(make_tree sentinel-ferrodis "$SERVER_BIN" "$SENTINEL_BIN")" ;;
        mixed) tree[$t]="$(make_tree sentinel-mixed "$SERVER_BIN" "$real")" ;;
        hybrid)
            # The suite starts `src/redis-sentinel sentinel_N/sentinel.conf`:
            # even N run ferrodis, odd N the real Sentinel.
            wrapper="$CACHE/hybrid-sentinel"
            printf '#!/bin/bash\ncase "$1" in\n    *sentinel_[13579]/*) exec -a redis-sentinel "%s" "$@" ;;\n    *) exec -a ferrodis-sentinel "%s" "$@" ;;\nesac\n' \
                "$real" "$SERVER_BIN" >"$wrapper"
            chmod +x "$wrapper"
            tree[$t]="$(make_tree sentinel-hybrid "$SERVER_BIN" "$wrapper")" ;;
        redis) tree[$t]="$(make_tree sentinel-redis "$real" "$real")" ;;
        *) die "unknown target $t (ferrodis, mixed, hybrid, redis)" ;;
    esac
    patch_ports "${tree[$t]}"
done

results="$CACHE/sentinel-results.tsv"    # unit target passed failed status
baseline="$CACHE/sentinel-baseline.tsv"  # the latest real-Redis figures per unit
failures="$CACHE/sentinel-failures.txt"
touch "$baseline"
: >"$results"
: >"$failures"
mkdir -p "$CACHE/logs"

printf '%-22s %8s %6s %-9s | %8s %6s %-9s\n' unit ferrodis fail status redis fail status
for unit in "${units[@]}"; do
    declare -A got=()
    for t in "${targets[@]}"; do
        log="$CACHE/logs/sentinel-$t-$unit.log"
        read -r p f s < <(run_unit "${tree[$t]}" "$unit" "$log")
        printf '%s\t%s\t%s\t%s\t%s\n' "$unit" "$t" "$p" "$f" "$s" >>"$results"
        got[$t]="$p $f $s"
        if [[ $t == redis ]]; then
            grep -v "^$unit	" "$baseline" >"$baseline.tmp"; mv "$baseline.tmp" "$baseline"
            printf '%s\t%s\t%s\t%s\n' "$unit" "$p" "$f" "$s" >>"$baseline"
        elif [[ $t == ferrodis ]]; then
            grep -E '> .*: FAILED|^FAILED: caught|\[timeout\]|\[stalled\]|Aborting' "$log" | sed "s|^|$unit |" >>"$failures"
        else
            printf '   (%s: passed %s failed %s %s)\n' "$t" $p $f "$s"
        fi
    done
    read -r fp ff fs <<<"${got[ferrodis]:-- - -}"
    if [[ -n "${got[redis]:-}" ]]; then
        read -r rp rf rs <<<"${got[redis]}"
    else
        read -r rp rf rs < <(awk -F'\t' -v u="$unit" '$1==u {print $2, $3, $4}' "$baseline")
    fi
    printf '%-22s %8s %6s %-9s | %8s %6s %-9s\n' "$unit" "$fp" "$ff" "$fs" "${rp:--}" "${rf:--}" "${rs:--}"
    unset rp rf rs
done

awk -F'\t' -v b="$baseline" '
    BEGIN { while ((getline l < b) > 0) { split(l, a, "\t"); bp[a[1]] = a[2] } }
    $2 == "ferrodis" { fp += $3; ff += $4; if ($1 in bp) { rp += bp[$1]; n++ } ; u++ }
    $2 == "mixed" { mp += $3; mf += $4; m++ }
    $2 == "hybrid" { hp += $3; hf += $4; h++ }
    END {
        printf "total: ferrodis passed %d, failed %d", fp, ff
        if (n == u && rp > 0) printf "; redis passed %d; ratio %.1f%%", rp, 100 * fp / rp
        if (m > 0) printf "; real sentinel + ferrodis servers passed %d, failed %d", mp, mf
        if (h > 0) printf "; ferrodis and real sentinels together passed %d, failed %d", hp, hf
        printf "\n"
    }' "$results"
echo "failing tests: $failures; logs: $CACHE/logs/sentinel-*.log"
