#!/usr/bin/env python3
"""Client-side caching load: CLIENTS connections (RESP3, CLIENT TRACKING ON)
each read KEYS keys, so the server's tracking table holds KEYS keys with
CLIENTS ids each; then one writer overwrites every key and we wait until
every client received every invalidation.

Usage: tracking.py PORT PID CLIENTS KEYS
Prints one line of key=value figures: the memory the table costs
(used_memory and RSS growth, INFO tracking_total_items), and the
invalidation phase's wall time, messages per second and server CPU ns per
invalidation message (from /proc/PID/schedstat). Std only; run by
bench/tracking.sh against ferrodis and redis-server alike.
"""

import selectors
import socket
import sys
import time


def cmd(*args):
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        a = a if isinstance(a, bytes) else str(a).encode()
        out.append(b"$%d\r\n%s\r\n" % (len(a), a))
    return b"".join(out)


def read_until(sock, buf, pred):
    while not pred(buf):
        chunk = sock.recv(1 << 20)
        if not chunk:
            raise IOError("connection closed")
        buf += chunk
    return buf


def info(sock, field):
    sock.sendall(cmd("INFO", "all"))
    buf = read_until(sock, b"", lambda b: b.count(b"\r\n") > 2 and b.endswith(b"\r\n\r\n"))
    for line in buf.decode(errors="replace").split("\r\n"):
        if line.startswith(field + ":"):
            return int(line.split(":", 1)[1])
    return 0


def rss_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def cpu_ns(pid):
    with open("/proc/%d/schedstat" % pid) as f:
        return int(f.read().split()[0])


def main():
    port, pid, nclients, nkeys = (int(x) for x in sys.argv[1:5])
    keys = [b"key:%08d" % i for i in range(nkeys)]
    admin = socket.create_connection(("127.0.0.1", port))
    admin.sendall(cmd("FLUSHALL"))
    read_until(admin, b"", lambda b: b.endswith(b"\r\n"))
    # Load the keys.
    batch = 1000
    for i in range(0, nkeys, batch):
        args = ["MSET"]
        for k in keys[i:i + batch]:
            args += [k, b"v"]
        admin.sendall(cmd(*args))
        read_until(admin, b"", lambda b: b.endswith(b"+OK\r\n"))
    clients = []
    for _ in range(nclients):
        s = socket.create_connection(("127.0.0.1", port))
        s.sendall(cmd("HELLO", "3") + cmd("CLIENT", "TRACKING", "ON"))
        read_until(s, b"", lambda b: b.endswith(b"+OK\r\n"))
        clients.append(s)
    mem0, rss0 = info(admin, "used_memory"), rss_kb(pid)
    # Every client reads every key (MGET batches, pipelined).
    per = 100
    for s in clients:
        payload = b"".join(cmd("MGET", *keys[i:i + per]) for i in range(0, nkeys, per))
        s.sendall(payload + cmd("PING"))
    for s in clients:
        read_until(s, b"", lambda b: b.endswith(b"+PONG\r\n"))
    time.sleep(0.2)
    items = info(admin, "tracking_total_items")
    mem1, rss1 = info(admin, "used_memory"), rss_kb(pid)
    # Invalidation phase: overwrite every key once.
    sel = selectors.DefaultSelector()
    counts = {}
    for s in clients:
        s.setblocking(False)
        sel.register(s, selectors.EVENT_READ)
        counts[s] = 0
    writer = socket.create_connection(("127.0.0.1", port))
    cpu0 = cpu_ns(pid)
    t0 = time.time()
    payload = b"".join(cmd("SET", k, b"w") for k in keys)
    writer.sendall(payload)
    total = nclients * nkeys
    got = 0
    tails = {s: b"" for s in clients}
    while got < total:
        for key, _ in sel.select(timeout=30):
            s = key.fileobj
            data = s.recv(1 << 20)
            if not data:
                raise IOError("client closed")
            # Count "invalidate" across chunk boundaries.
            joined = tails[s] + data
            n = joined.count(b"invalidate")
            tails[s] = joined[-9:]
            counts[s] += n
            got += n
        if time.time() - t0 > 120:
            raise SystemExit("timeout: %d of %d invalidations" % (got, total))
    t1 = time.time()
    cpu1 = cpu_ns(pid)
    read_until(writer, b"", lambda b: b.count(b"+OK") >= nkeys)
    secs = t1 - t0
    print("items=%d used_memory_delta=%d rss_delta_kb=%d bytes_per_item=%.1f "
          "invalidations=%d seconds=%.3f msgs_per_sec=%.0f server_ns_per_msg=%.0f" % (
              items, mem1 - mem0, rss1 - rss0, (mem1 - mem0) / max(items, 1),
              got, secs, got / secs, (cpu1 - cpu0) / got))


if __name__ == "__main__":
    main()
