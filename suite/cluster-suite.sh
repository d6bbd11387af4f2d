#!/usr/bin/env bash
# make cluster-suite: the long cluster scenarios of issue 14 (suite/cluster_suite.py)
# against target/release/ferrodis-server, and optionally Redis's own cluster
# test suite (tests/cluster, runtest-cluster) with RUNTEST_CLUSTER=1.
#
#   BASEPORT=27000   first client port (bus ports are +400)
#   SCENARIOS=ferrodis,mixed,failover,redispy   a subset
#   RUNTEST_CLUSTER=1 [CLUSTER_TESTS="00-base 04-resharding"]  Redis's tests/cluster
#
# redis-py is installed from PyPI into .cache/cluster-suite/venv (once).
set -euo pipefail
cd "$(dirname "$0")/.."
die() { echo "cluster-suite: $*" >&2; exit 1; }
[[ -n "${NO_BUILD:-}" ]] || cargo build --release
for t in redis-server redis-cli python3; do command -v "$t" >/dev/null || die "$t is missing (make deps)"; done
venv=.cache/cluster-suite/venv
if [[ ! -x "$venv/bin/python" ]] || ! "$venv/bin/python" -c 'import redis' 2>/dev/null; then
    echo "cluster-suite: installing redis-py into $venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet 'redis>=4.5,<6' || die "pip install redis failed"
fi
export FERRODIS="$PWD/target/release/ferrodis-server" BASEPORT="${BASEPORT:-27000}"
status=0
"$venv/bin/python" suite/cluster_suite.py || status=$?
if [[ -n "${RUNTEST_CLUSTER:-}" ]]; then
    suite/runtest-cluster.sh || status=$?
fi
exit $status
