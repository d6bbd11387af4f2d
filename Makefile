# ferrodis: build, run, test, lint and benchmark.
# Every target is a recipe a person types; `make help` lists them.

SHELL      := /bin/bash
CARGO      ?= cargo
TARGET_DIR ?= $(or $(CARGO_TARGET_DIR),target)
SERVER     := $(TARGET_DIR)/release/ferrodis-server
# Integration tests start servers of their own: keep parallelism modest so
# `make test` stays fast and stable on a 2-core machine.
TEST_THREADS ?= 2
REDIS_TOOLS := redis-server redis-cli redis-benchmark redis-check-rdb redis-check-aof

.PHONY: help build run deps test lint fmt bench redis-suite client-suite sentinel-suite sentinel-long cluster-suite cluster fault-suite clean

## help: list the targets
help:
	@grep -E '^## ' $(MAKEFILE_LIST) | sed 's/^## /  /'

## build: optimized build of target/release/ferrodis-server (and the ferrodis-sentinel link next to it)
build:
	$(CARGO) build --release
	ln -sf ferrodis-server $(TARGET_DIR)/release/ferrodis-sentinel

## run: build, then start the server with ./redis.conf
run: build
	$(SERVER) ./redis.conf

## deps: install the test prerequisites (real Redis 7 tools, redis-py for the Sentinel client test) if missing
# Idempotent: apt runs only when a tool is absent. Debian starts a
# redis-server service on install; it is stopped and disabled so that port
# 6379 stays free.
deps:
	@missing=""; for t in $(REDIS_TOOLS); do command -v $$t >/dev/null 2>&1 || missing="$$missing $$t"; done; \
	if [ -n "$$missing" ]; then \
		echo "deps: missing$$missing: installing redis-server redis-tools"; \
		SUDO=""; [ "$$(id -u)" -ne 0 ] && SUDO=sudo; \
		$$SUDO apt-get update && \
		DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y redis-server redis-tools && \
		{ $$SUDO service redis-server stop >/dev/null 2>&1 || true; \
		  $$SUDO update-rc.d redis-server disable >/dev/null 2>&1 || true; \
		  $$SUDO systemctl disable --now redis-server >/dev/null 2>&1 || true; }; \
	else \
		echo "deps: $(REDIS_TOOLS) present"; \
	fi
	@redis-server --version
	@python3 -c 'import redis.sentinel' 2>/dev/null || python3 -m pip install --quiet redis || pip install --quiet redis

## test: unit, integration, differential (vs real redis-server) and CLI tests
test: deps
	@start=$$(date +%s); log=$$(mktemp); \
	if $(CARGO) test --all-targets --no-fail-fast -- --test-threads=$(TEST_THREADS) 2>&1 | tee $$log; \
	   status=$${PIPESTATUS[0]}; [ $$status -eq 0 ]; then result=PASSED; else result=FAILED; fi; \
	echo; echo "==== test summary ===="; \
	grep -E '^     Running|^test result:' $$log | sed 's/^     //'; \
	grep -E '^test .* FAILED$$' $$log || true; \
	echo "make test: $$result in $$(( $$(date +%s) - start ))s"; \
	rm -f $$log; [ $$result = PASSED ]

## lint: formatting check and clippy with warnings as errors
lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --all-targets -- -D warnings

## fmt: format the code
fmt:
	$(CARGO) fmt --all

## bench: throughput (also with -r 100000), memory per key, large replies, persistence, replication, streams, APPEND growth, ACL and tracking, and cluster, ferrodis vs redis-server (not part of test)
bench: build
	NO_BUILD=1 RANDOMS="0 100000" bench/compare.sh
	NO_BUILD=1 bench/memory.sh
	NO_BUILD=1 bench/replies.sh
	NO_BUILD=1 bench/persist.sh
	NO_BUILD=1 bench/repl.sh
	NO_BUILD=1 bench/stream.sh
	NO_BUILD=1 bench/repl_memory.sh
	NO_BUILD=1 bench/append.sh
	NO_BUILD=1 bench/acl.sh
	NO_BUILD=1 bench/tracking.sh
	NO_BUILD=1 bench/cluster.sh

## redis-suite: Redis 7.0.15's own Tcl suite vs ferrodis (UNITS="unit/x ...", BASELINE=1, ONLY=name; suite/README.md)
redis-suite: deps build
	@command -v tclsh >/dev/null || { SUDO=""; [ "$$(id -u)" -ne 0 ] && SUDO=sudo; $$SUDO apt-get install -y tcl; }
	NO_BUILD=1 suite/redis-suite.sh

## sentinel-suite: Redis 7.0.15's Sentinel suite, ferrodis as sentinels and servers (UNITS="00-base ...", BASELINE=1, MIXED=1; suite/README.md)
sentinel-suite: deps build
	@command -v tclsh >/dev/null || { SUDO=""; [ "$$(id -u)" -ne 0 ] && SUDO=sudo; $$SUDO apt-get install -y tcl; }
	NO_BUILD=1 suite/sentinel-suite.sh

## sentinel-long: the long Sentinel scenarios (write load, mixed quorums, redis-py), not part of test
sentinel-long: deps
	$(CARGO) test --release --test sentinel_long -- --ignored --test-threads=1

## client-suite: client libraries' own test suites (redis-py RESP2/RESP3, hiredis, Perl Redis.pm) vs ferrodis and redis-server (suite/README.md)
client-suite: deps build
	NO_BUILD=1 suite/client-suite.sh

## cluster-suite: long cluster scenarios (redis-cli --cluster, failover, mixed with redis-server, redis-py; RUNTEST_CLUSTER=1 adds Redis's tests/cluster)
cluster-suite: deps build
	NO_BUILD=1 suite/cluster-suite.sh

## cluster: start a local six-node ferrodis cluster (3 masters, 3 replicas) on ports 30001-30006 (bus 31001-31006); `make cluster STOP=1` stops it
cluster: build
	NO_BUILD=1 scripts/create-cluster.sh $(if $(STOP),stop,start)

## fault-suite: replication under faults, long form (FAULT_ROUNDS per topology, default 40; the short form runs in make test)
fault-suite: deps
	FAULT_ROUNDS=$(or $(FAULT_ROUNDS),40) $(CARGO) test --release --test fault_suite -- --nocapture --test-threads=1

## clean: remove build output
clean:
	$(CARGO) clean
