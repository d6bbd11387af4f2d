#!/usr/bin/env bash
# Redis 7.0.15's own cluster test suite (tests/cluster, what runtest-cluster
# runs) against ferrodis, one test file at a time, with a time limit each.
# Uses the suite source cached by `make redis-suite` (run it once first).
#
#   CLUSTER_TESTS="00-base 04-resharding"   a subset (default: every file)
#   BASELINE=1                             also run the real redis-server
#   BASELINE_ONLY=1                        only the real redis-server
#   CLUSTER_BASEPORT=27500                 first instance port (bus +10000)
#   TEST_TIMEOUT=600                       seconds per test file
set -uo pipefail
cd "$(dirname "$0")/.."
src=.cache/redis-suite/src-7.0.15
[[ -f $src/tests/cluster/run.tcl ]] || { echo "runtest-cluster: run make redis-suite once first (it caches the suite source)" >&2; exit 1; }
base=${CLUSTER_BASEPORT:-27500}
timeout_s=${TEST_TIMEOUT:-600}
out=.cache/cluster-suite
mkdir -p "$out/logs"
tests=${CLUSTER_TESTS:-$(cd $src/tests/cluster/tests && ls *.tcl | sed 's/\.tcl$//')}

make_tree() { # $1 name, $2 server binary
    local t=$out/run-$1
    rm -rf "$t"; mkdir -p "$t/src"
    cp -r $src/tests $src/runtest* "$t/" 2>/dev/null
    [[ -d $src/utils ]] && cp -r $src/utils "$t/"
    sed -i "s/^set ::redis_base_port .*/set ::redis_base_port $base/" "$t/tests/instances.tcl"
    ln -s "$2" "$t/src/redis-server"
    for tool in redis-cli redis-benchmark redis-check-aof redis-check-rdb; do
        ln -s "$(command -v $tool)" "$t/src/$tool"
    done
    echo "$t"
}

run_all() { # $1 name, $2 binary
    local tree pass=0 fail=0
    tree=$(make_tree "$1" "$2")
    for t in $tests; do
        local log="$PWD/$out/logs/$1-$t.log"
        (cd "$tree" && timeout --kill-after=10 "$timeout_s" tclsh tests/cluster/run.tcl --single "$t" >"$log" 2>&1)
        local st=$?
        local plain ok err
        plain=$(sed 's/\x1b\[[0-9;]*m//g' "$log")
        ok=$(grep -c ': OK$' <<<"$plain")
        err=$(grep -c 'FAILED' <<<"$plain")
        if [[ $st -eq 124 || $st -eq 137 ]]; then err=$((err + 1)); fi
        pass=$((pass + ok)); fail=$((fail + err))
        printf '%-10s %-32s ok %3d  err %3d  exit %d\n' "$1" "$t" "$ok" "$err" "$st"
        # Instances a killed run left behind: found by their ports, ended by pid.
        for pid in $(ss -ltnpH "sport >= :$base and sport < :$((base + 40))" 2>/dev/null | grep -o 'pid=[0-9]*' | cut -d= -f2 | sort -u); do
            kill -9 "$pid" 2>/dev/null
        done
    done
    echo "$1: tests/cluster passed $pass, failed $fail"
}

[[ -n "${BASELINE_ONLY:-}" ]] || run_all ferrodis "$PWD/target/release/ferrodis-server"
[[ -n "${BASELINE:-}${BASELINE_ONLY:-}" ]] && run_all redis "$(command -v redis-server)"
exit 0
