#!/usr/bin/env python3
"""Replays tests/diff/<name>.txt against a real redis-server and ferrodis and
compares the raw reply bytes (a stand-in for the shared Rust runner).

usage: tests/diff_compare.py [--bin path/to/ferrodis-server] file.txt...
One command per line (redis-cli inline syntax, "double quotes" allowed),
'#' starts a comment line, 'HELLO 3' switches protocol (compared too)."""
import os, socket, subprocess, sys, time, random

def split_args(line):
    """sdssplitargs: spaces separate, "..." with escapes, '...' literal."""
    out, i, n = [], 0, len(line)
    while True:
        while i < n and line[i].isspace():
            i += 1
        if i >= n:
            return out
        cur = bytearray()
        inq = insq = False
        while i < n:
            c = line[i]
            if inq:
                if c == '\\' and i + 3 < n and line[i+1] == 'x':
                    cur.append(int(line[i+2:i+4], 16)); i += 3
                elif c == '\\' and i + 1 < n:
                    i += 1
                    cur += {'n': b'\n', 'r': b'\r', 't': b'\t', 'b': b'\b', 'a': b'\a'}.get(line[i], line[i].encode())
                elif c == '"':
                    inq = False; i += 1; break
                else:
                    cur += c.encode()
            elif insq:
                if c == "'":
                    insq = False; i += 1; break
                cur += c.encode()
            else:
                if c.isspace():
                    break
                if c == '"':
                    inq = True
                elif c == "'":
                    insq = True
                else:
                    cur += c.encode()
            i += 1
        out.append(bytes(cur))

class Conn:
    def __init__(self, port):
        self.s = socket.create_connection(("127.0.0.1", port))
        self.s.settimeout(10)
        self.buf = b""

    def send(self, args):
        m = b"*%d\r\n" % len(args)
        for a in args:
            m += b"$%d\r\n%s\r\n" % (len(a), a)
        self.s.sendall(m)

    def line(self):
        while b"\r\n" not in self.buf:
            d = self.s.recv(65536)
            if not d:
                raise EOFError
            self.buf += d
        i = self.buf.index(b"\r\n")
        l, self.buf = self.buf[:i + 2], self.buf[i + 2:]
        return l

    def exact(self, n):
        while len(self.buf) < n:
            d = self.s.recv(65536)
            if not d:
                raise EOFError
            self.buf += d
        r, self.buf = self.buf[:n], self.buf[n:]
        return r

    def reply(self):
        l = self.line()
        t = l[:1]
        if t in b"$=!":
            n = int(l[1:-2])
            return l if n < 0 else l + self.exact(n + 2)
        if t in b"*~>%|":
            n = int(l[1:-2])
            if t in b"%|":
                n *= 2
            out = l
            for _ in range(max(n, 0)):
                out += self.reply()
            return out
        return l

def start(cmd, port):
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(200):
        try:
            c = Conn(port)
            c.send([b"PING"]); c.reply()
            return p, c
        except OSError:
            time.sleep(0.05)
    p.kill()
    raise RuntimeError("server did not start: %r" % cmd)

def run(path, binary):
    rp, fp = random.randint(20000, 30000), random.randint(30001, 40000)
    common = ["--save", "", "--appendonly", "no"]
    r, rc = start(["redis-server", "--port", str(rp), "--enable-debug-command", "yes"] + common, rp)
    f, fc = start([binary, "--port", str(fp), "--enable-debug-command", "yes"] + common, fp)
    fails = 0
    try:
        for no, line in enumerate(open(path, encoding="utf-8"), 1):
            line = line.rstrip("\n")
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            args = split_args(line)
            rc.send(args); fc.send(args)
            a = rc.reply()
            try:
                b = fc.reply()
            except Exception as e:
                b = ("<%s>" % e).encode()
                fc = Conn(fp)
            # HELLO's reply holds the connection id, which may differ.
            if a != b and not (args and args[0].upper() == b"HELLO"):
                fails += 1
                print("%s:%d: %s\n  redis:    %r\n  ferrodis: %r" % (path, no, line, a, b))
    finally:
        r.kill(); f.kill(); r.wait(); f.wait()
    return fails

def main():
    argv = sys.argv[1:]
    binary = os.environ.get("FERRODIS_BIN", "/work/target-types-b/debug/ferrodis-server")
    if argv[:1] == ["--bin"]:
        binary, argv = argv[1], argv[2:]
    total = sum(run(p, binary) for p in argv)
    print("%d mismatches" % total)
    sys.exit(1 if total else 0)

if __name__ == "__main__":
    main()
