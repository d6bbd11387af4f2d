#!/usr/bin/env python3
"""The long cluster scenarios of issue 14 (`make cluster-suite`).

Each scenario starts its own nodes (ferrodis and/or the real redis-server
7.0), drives them with redis-cli --cluster and redis-py's RedisCluster, and
checks the outcome: no acknowledged write lost, nodes agreeing, failovers
within node-timeout plus the election delay. Prints one line per check and
a summary; exits non-zero when a check fails.

Environment: FERRODIS (server binary), BASEPORT (first client port; bus
ports are +400), SCENARIOS (comma list to run a subset), KEEP=1 keeps
the node directories for inspection.
"""

import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

import redis
from redis.cluster import RedisCluster, ClusterNode

FERRODIS = os.environ.get("FERRODIS", "target/release/ferrodis-server")
BASEPORT = int(os.environ.get("BASEPORT", "27000"))
NODE_TIMEOUT = 2000
RESULTS = []


def log(msg):
    print(msg, flush=True)


def check(name, ok, detail=""):
    RESULTS.append((name, ok))
    log(("PASS  " if ok else "FAIL  ") + name + (f"  ({detail})" if detail else ""))
    return ok


STARTED = []


class Node:
    """One server process: ferrodis or redis-server."""

    def __init__(self, kind, port, root):
        STARTED.append(self)
        self.kind, self.port = kind, port
        self.dir = os.path.join(root, f"{kind}-{port}")
        os.makedirs(self.dir, exist_ok=True)
        binary = FERRODIS if kind == "ferrodis" else shutil.which("redis-server")
        args = [binary, "--port", str(port), "--bind", "127.0.0.1",
                "--cluster-enabled", "yes", "--cluster-node-timeout", str(NODE_TIMEOUT),
                "--save", "", "--appendonly", "no", "--dir", self.dir,
                "--logfile", os.path.join(self.dir, "log.txt"),
                "--repl-diskless-sync-delay", "0", "--protected-mode", "no",
                "--enable-debug-command", "yes",
                # Bus ports below the kernel's ephemeral range (32768+), where
                # an outgoing connection could hold port+10000, and inside
                # BASEPORT's range of 1000 ports (other runs use the rest).
                "--cluster-port", str(port + 400)]
        self.proc = None
        self.proc = subprocess.Popen(args, cwd=self.dir, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        self.r = redis.Redis(port=port, decode_responses=True, socket_timeout=10)
        # Raw replies for CLUSTER INFO/NODES (redis-py parses them otherwise).
        for k in list(self.r.response_callbacks):
            if k.upper().startswith("CLUSTER"):
                del self.r.response_callbacks[k]
        deadline = time.time() + 15
        while True:
            try:
                self.r.ping()
                break
            except redis.exceptions.ConnectionError:
                if time.time() > deadline or self.proc.poll() is not None:
                    raise RuntimeError(f"{kind} on {port} did not start")
                time.sleep(0.05)

    @property
    def addr(self):
        return f"127.0.0.1:{self.port}"

    def myid(self):
        return self.r.execute_command("CLUSTER MYID")

    def kill9(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def info(self, field, section="cluster"):
        if section == "cluster":
            text = self.r.execute_command("CLUSTER INFO")
            for line in text.splitlines():
                if line.startswith(field + ":"):
                    return line.split(":", 1)[1].strip()
            return ""
        return str(self.r.info(section).get(field, ""))

    def role(self):
        try:
            return self.r.execute_command("ROLE")[0]
        except Exception:
            return "down"


def cli(*args, timeout=300):
    p = subprocess.run(["redis-cli", *args], capture_output=True, text=True, timeout=timeout,
                       input="yes\n")
    return p.returncode, p.stdout + p.stderr


def wait(cond, timeout=30, step=0.1):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            if cond():
                return True
        except Exception:
            pass
        time.sleep(step)
    return False


def my_slot_count(node):
    """Slots a node serves, from its own CLUSTER NODES line."""
    for line in node.r.execute_command("CLUSTER NODES").splitlines():
        f = line.split()
        if "myself" in f[2]:
            total = 0
            for r in f[8:]:
                if r.startswith("["):
                    continue
                a, _, b = r.partition("-")
                total += int(b or a) - int(a) + 1
            return total
    return 0


def cluster_ok(nodes):
    return all(n.info("cluster_state") == "ok" for n in nodes)


def cluster_agrees(node):
    rc, out = cli("--cluster", "check", node.addr)
    return rc == 0 and "[OK] All nodes agree" in out and "[OK] All 16384 slots covered" in out


class Writer(threading.Thread):
    """Writes key:N = N through RedisCluster until stopped; remembers the
    acknowledged writes (optionally only those acknowledged by WAIT)."""

    def __init__(self, startup, prefix, wait_replicas=0):
        super().__init__(daemon=True)
        self.rc = RedisCluster(startup_nodes=[ClusterNode("127.0.0.1", n.port) for n in startup],
                               decode_responses=True, socket_timeout=5, cluster_error_retry_attempts=10)
        self.prefix, self.wait_replicas = prefix, wait_replicas
        self.acked, self.errors, self.running = {}, 0, True

    def run(self):
        i = 0
        while self.running:
            key = f"{self.prefix}:{i}"
            try:
                self.rc.set(key, str(i))
                if self.wait_replicas:
                    node = self.rc.get_node_from_key(key)
                    n = self.rc.execute_command("WAIT", self.wait_replicas, 1000,
                                                target_nodes=node)
                    if n < self.wait_replicas:
                        i += 1
                        continue
                self.acked[key] = str(i)
            except Exception:
                self.errors += 1
                time.sleep(0.05)
            i += 1

    def stop(self):
        self.running = False
        self.join(30)


def verify_acked(name, startup, acked):
    rc = RedisCluster(startup_nodes=[ClusterNode("127.0.0.1", n.port) for n in startup],
                      decode_responses=True, socket_timeout=10)
    missing = [k for k, v in acked.items() if rc.get(k) != v]
    check(name, not missing, f"{len(acked)} acknowledged writes, {len(missing)} missing"
          + (f", e.g. {missing[:3]}" if missing else ""))


def total_keys(nodes):
    return sum(n.r.dbsize() for n in nodes if n.role() == "master")


# ---- scenarios ----

def scenario_ferrodis(root):
    """Six ferrodis nodes: create, check, reshard 1000 slots under load,
    add-node, rebalance, del-node, redis-cli -c; no key lost."""
    ports = [BASEPORT + i for i in range(1, 9)]
    nodes = [Node("ferrodis", p, root) for p in ports[:6]]
    try:
        rc, out = cli("--cluster", "create", *[n.addr for n in nodes], "--cluster-replicas", "1",
                      "--cluster-yes")
        check("ferrodis: redis-cli --cluster create (3 masters + 3 replicas)", rc == 0, out.splitlines()[-1])
        check("ferrodis: cluster_state ok on all six", wait(lambda: cluster_ok(nodes)))
        check("ferrodis: redis-cli --cluster check", wait(lambda: cluster_agrees(nodes[0])))
        rc, out = cli("-c", "-p", str(nodes[0].port), "SET", "followme", "v")
        rc2, out2 = cli("-c", "-p", str(nodes[0].port), "GET", "followme")
        check("ferrodis: redis-cli -c follows MOVED", out.strip() == "OK" and out2.strip() == "v")
        w = Writer(nodes[:3], "load")
        w.start()
        time.sleep(1)
        masters = [n for n in nodes if n.role() == "master"]
        src, dst = masters[0], masters[1]
        t0 = time.time()
        rc, out = cli("--cluster", "reshard", src.addr, "--cluster-from", src.myid(), "--cluster-to",
                      dst.myid(), "--cluster-slots", "1000", "--cluster-yes")
        check("ferrodis: reshard 1000 slots under a write load", rc == 0,
              f"{time.time() - t0:.1f} s, {len(w.acked)} writes so far")
        check("ferrodis: check after reshard", wait(lambda: cluster_agrees(nodes[0])))
        extra = [Node("ferrodis", p, root) for p in ports[6:8]]
        nodes += extra
        rc, out = cli("--cluster", "add-node", extra[0].addr, nodes[0].addr)
        check("ferrodis: add-node (empty master)", rc == 0)
        check("ferrodis: new master known by all", wait(lambda: all(
            n.info("cluster_known_nodes") == "7" for n in nodes[:7])))
        check("ferrodis: check after add-node", wait(lambda: cluster_agrees(nodes[0])))
        rc, out = cli("--cluster", "add-node", extra[1].addr, nodes[0].addr, "--cluster-slave",
                      "--cluster-master-id", extra[0].myid())
        check("ferrodis: add-node --cluster-slave", rc == 0)
        check("ferrodis: check after adding the replica", wait(lambda: cluster_agrees(nodes[0]), 30))
        rc, out = cli("--cluster", "rebalance", nodes[0].addr, "--cluster-use-empty-masters",
                      "--cluster-yes")
        check("ferrodis: rebalance (empty master gets slots)", rc == 0 and
              wait(lambda: my_slot_count(extra[0]) > 3000), f"{my_slot_count(extra[0])} slots")
        check("ferrodis: check after rebalance", wait(lambda: cluster_agrees(nodes[0])))
        rc, out = cli("--cluster", "del-node", nodes[0].addr, extra[1].myid())
        check("ferrodis: del-node (the added replica)", rc == 0, out.splitlines()[-1] if out else "")
        nodes.remove(extra[1])
        check("ferrodis: check after del-node", wait(lambda: cluster_agrees(nodes[0])))
        w.stop()
        check("ferrodis: writer saw few errors", w.errors < 50, f"{w.errors} errors")
        verify_acked("ferrodis: no acknowledged key lost", nodes[:3], w.acked)
    finally:
        for n in nodes:
            n.stop()


def scenario_mixed(root):
    """Three redis-server and three ferrodis nodes created together; slots
    moved both ways; a ferrodis replica of a Redis master and the reverse."""
    ports = [BASEPORT + 20 + i for i in range(6)]
    r = [Node("redis", p, root) for p in ports[:3]]
    f = [Node("ferrodis", p, root) for p in ports[3:]]
    nodes = r + f
    try:
        # Masters r0, f0, r1; replicas: f1 -> r0 (ferrodis replica of Redis),
        # r2 -> f0 (Redis replica of ferrodis), f2 -> r1.
        rc, out = cli("--cluster", "create", r[0].addr, f[0].addr, r[1].addr, "--cluster-yes")
        check("mixed: redis-cli --cluster create of Redis and ferrodis masters", rc == 0)
        for rep, master in [(f[1], r[0]), (r[2], f[0]), (f[2], r[1])]:
            rc, out = cli("--cluster", "add-node", rep.addr, r[0].addr, "--cluster-slave",
                          "--cluster-master-id", master.myid())
            wait(lambda: rep.role() == "slave", 20)
        check("mixed: ferrodis replica of a Redis master",
              wait(lambda: f[1].info("master_link_status", "replication") == "up", 30))
        check("mixed: Redis replica of a ferrodis master",
              wait(lambda: r[2].info("master_link_status", "replication") == "up", 30))
        check("mixed: cluster ok on all six", wait(lambda: cluster_ok(nodes), 30))
        check("mixed: check", wait(lambda: cluster_agrees(r[0]), 30))
        w = Writer([r[0], f[0]], "mixed")
        w.start()
        time.sleep(1)
        rc, out = cli("--cluster", "reshard", r[0].addr, "--cluster-from", f[0].myid(), "--cluster-to",
                      r[0].myid(), "--cluster-slots", "500", "--cluster-yes")
        check("mixed: reshard 500 slots ferrodis -> Redis under load", rc == 0)
        check("mixed: check", wait(lambda: cluster_agrees(f[0]), 30))
        rc, out = cli("--cluster", "reshard", r[0].addr, "--cluster-from", r[0].myid(), "--cluster-to",
                      f[0].myid(), "--cluster-slots", "800", "--cluster-yes")
        check("mixed: reshard 800 slots Redis -> ferrodis under load", rc == 0)
        check("mixed: check", wait(lambda: cluster_agrees(r[1]), 30))
        w.stop()
        verify_acked("mixed: no acknowledged key lost", [r[0], f[0]], w.acked)
        masters = [n for n in nodes if n.role() == "master"]
        def digests():
            out = []
            for n in nodes:
                if n.role() == "slave":
                    m = redis.Redis(port=int(n.info("master_port", "replication")), decode_responses=True)
                    out.append((n.kind, n.port, n.r.execute_command("DEBUG", "DIGEST"),
                                m.execute_command("DEBUG", "DIGEST")))
            return out
        check("mixed: replicas' DEBUG DIGEST equals their masters'",
              wait(lambda: all(a == b for _, _, a, b in digests()), 30), str(digests()))
        del masters
    finally:
        for n in nodes:
            n.stop()


def failover_case(root, kind, base):
    """kill -9 a master of kind `kind` under a WAIT-acknowledged write load."""
    ports = [base + i for i in range(6)]
    # The victim's replica is ferrodis: promoted by votes of both kinds.
    kinds = [kind, "redis", "ferrodis", "ferrodis", "redis", "redis"]
    nodes = [Node(k, p, root) for k, p in zip(kinds, ports)]
    try:
        rc, out = cli("--cluster", "create", *[n.addr for n in nodes[:3]], "--cluster-yes")
        victim = nodes[0]
        replica = nodes[3]
        for rep, master in [(nodes[3], nodes[0]), (nodes[4], nodes[1]), (nodes[5], nodes[2])]:
            cli("--cluster", "add-node", rep.addr, nodes[0].addr, "--cluster-slave",
                "--cluster-master-id", master.myid())
        ok = wait(lambda: cluster_ok(nodes) and replica.info("master_link_status", "replication") == "up", 40)
        check(f"failover/{kind}: cluster with replicas ready", ok)
        w = Writer(nodes[:3], f"fo{kind}", wait_replicas=1)
        w.start()
        time.sleep(2)
        victim_id = victim.myid()
        victim.kill9()
        t0 = time.time()
        promoted = wait(lambda: replica.role() == "master", 30, 0.05)
        took = time.time() - t0
        # node-timeout + FAIL propagation + election delay (500-1000 ms + rank).
        check(f"failover/{kind}: replica ({replica.kind}) promoted after kill -9", promoted,
              f"{took:.2f} s with node-timeout {NODE_TIMEOUT} ms")
        check(f"failover/{kind}: within node-timeout + election delay + cron slack",
              took < NODE_TIMEOUT / 1000 + 1.0 + 2.5, f"{took:.2f} s")
        alive = [n for n in nodes if n is not victim]
        rid = replica.myid()
        agree = wait(lambda: all(
            any(line.startswith(rid) and "master" in line and "connected" in line
                for line in n.r.execute_command("CLUSTER NODES").splitlines())
            and any(line.startswith(victim_id) and "fail" in line
                    for line in n.r.execute_command("CLUSTER NODES").splitlines())
            for n in alive), 20)
        check(f"failover/{kind}: all nodes agree on the new master", agree)
        check(f"failover/{kind}: cluster ok again", wait(lambda: cluster_ok(alive), 20))
        time.sleep(1)
        w.stop()
        verify_acked(f"failover/{kind}: WAIT-acknowledged writes present", alive[:3], w.acked)
        # Manual failover back, no write lost.
        w2 = Writer(alive[:3], f"mf{kind}")
        w2.start()
        time.sleep(1)
        new_replica = [n for n in alive if n.role() == "slave" and
                       n.info("master_port", "replication") == str(replica.port)]
        if new_replica:
            mf = new_replica[0]
        else:
            mf = [n for n in alive if n.role() == "slave"][0]
        mf.r.execute_command("CLUSTER", "FAILOVER")
        check(f"failover/{kind}: manual CLUSTER FAILOVER ({mf.kind} replica)",
              wait(lambda: mf.role() == "master", 20))
        time.sleep(1)
        w2.stop()
        verify_acked(f"failover/{kind}: manual failover lost no write", alive[:3], w2.acked)
    finally:
        for n in nodes:
            n.stop()


def scenario_failover(root):
    """kill -9 a ferrodis master, then a Redis one, under load; manual failover."""
    failover_case(root, "ferrodis", BASEPORT + 40)
    failover_case(root, "redis", BASEPORT + 60)


def scenario_redispy(root):
    """redis-py's RedisCluster runs a mixed workload across a reshard."""
    ports = [BASEPORT + 80 + i for i in range(3)]
    nodes = [Node("ferrodis", p, root) for p in ports]
    try:
        cli("--cluster", "create", *[n.addr for n in nodes], "--cluster-yes")
        wait(lambda: cluster_ok(nodes), 30)
        rc_ = RedisCluster(host="127.0.0.1", port=nodes[0].port, decode_responses=True)
        errors, done = [], threading.Event()
        expect = {}

        def workload():
            i = 0
            while not done.is_set():
                try:
                    k = f"user:{i % 500}"
                    rc_.hset(k, mapping={"n": i, "name": f"u{i}"})
                    rc_.incr(f"counter:{i % 50}")
                    rc_.lpush(f"{{list}}:{i % 20}", i)
                    rc_.sadd("{set}a", i % 100)
                    p = rc_.pipeline()
                    p.set(f"{{tag{i % 30}}}a", i)
                    p.set(f"{{tag{i % 30}}}b", i)
                    p.execute()
                    v = rc_.mget(f"{{tag{i % 30}}}a", f"{{tag{i % 30}}}b")
                    if v[0] != v[1]:
                        errors.append(f"mget mismatch {v}")
                    expect[f"user:{i % 500}"] = str(i)
                    rc_.hget(f"user:{(i * 7) % 500}", "n")
                except Exception as e:  # noqa: BLE001
                    errors.append(repr(e))
                i += 1
            return i

        t = threading.Thread(target=workload, daemon=True)
        t.start()
        time.sleep(2)
        rc, out = cli("--cluster", "reshard", nodes[0].addr, "--cluster-from", nodes[0].myid(),
                      "--cluster-to", nodes[2].myid(), "--cluster-slots", "2000", "--cluster-yes")
        check("redis-py: reshard 2000 slots during the workload", rc == 0)
        time.sleep(2)
        done.set()
        t.join(30)
        check("redis-py: RedisCluster workload across the reshard ran without error", not errors,
              f"{len(errors)} errors {errors[:3]}")
        bad = [k for k, v in expect.items() if rc_.hget(k, "n") != v]
        check("redis-py: final values readable", not bad, f"{len(bad)} wrong")
    finally:
        for n in nodes:
            n.stop()


SCENARIOS = {
    "ferrodis": scenario_ferrodis,
    "mixed": scenario_mixed,
    "failover": scenario_failover,
    "redispy": scenario_redispy,
}


def main():
    wanted = os.environ.get("SCENARIOS", ",".join(SCENARIOS)).split(",")
    root = tempfile.mkdtemp(prefix="ferrodis-cluster-suite-")
    t0 = time.time()
    try:
        for name in wanted:
            log(f"==== {name}: {SCENARIOS[name].__doc__.splitlines()[0]}")
            try:
                SCENARIOS[name](root)
            except Exception as e:  # noqa: BLE001
                check(f"{name}: scenario raised {e!r}", False)
            finally:
                for n in STARTED:
                    n.stop()
                STARTED.clear()
    finally:
        if os.environ.get("KEEP") != "1":
            shutil.rmtree(root, ignore_errors=True)
        else:
            log(f"node directories kept in {root}")
    failed = [n for n, ok in RESULTS if not ok]
    log(f"==== cluster-suite: {len(RESULTS) - len(failed)}/{len(RESULTS)} checks passed "
        f"in {time.time() - t0:.0f} s")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    random.seed(1)
    main()
