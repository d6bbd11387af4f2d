#!/usr/bin/env python3
"""Generates src/cmd/meta_data.rs from the installed redis-server.

Real Redis is the oracle for command metadata: this script starts
`redis-server` on a free port, reads `COMMAND` (every command's COMMAND INFO)
and `COMMAND DOCS` over RESP3 (SENTINEL, which exists only in Sentinel
mode, from a `redis-server --sentinel`), and writes a Rust data module with, for every
Redis command and subcommand: arity, the flags COMMAND INFO shows, the legacy
(first, last, step) key range, ACL categories, tips, key specs and the
documentation (summary, since, group, complexity, doc flags, deprecation,
history, arguments).

Usage: tools/gen-command-meta.py [output path]   (default src/cmd/meta_data.rs)

The output is committed; re-run it when the reference Redis version changes.
Nothing here is used at runtime.
"""

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time

# ---------------------------------------------------------------- RESP3 client


class Resp:
    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=30)
        self.buf = b""

    def _fill(self):
        chunk = self.sock.recv(1 << 20)
        if not chunk:
            raise IOError("connection closed")
        self.buf += chunk

    def _line(self):
        while b"\r\n" not in self.buf:
            self._fill()
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def _exact(self, n):
        while len(self.buf) < n + 2:
            self._fill()
        data, self.buf = self.buf[:n], self.buf[n + 2:]
        return data

    def read(self):
        """Returns (kind, value): kinds are simple, error, int, bulk, null,
        double, bool, array, set, map (map value: list of (k, v))."""
        line = self._line()
        t, rest = chr(line[0]), line[1:]
        if t == "+":
            return ("simple", rest.decode())
        if t == "-":
            return ("error", rest.decode())
        if t == ":":
            return ("int", int(rest))
        if t == "$":
            n = int(rest)
            return ("null", None) if n < 0 else ("bulk", self._exact(n))
        if t == "_":
            return ("null", None)
        if t == ",":
            return ("double", rest.decode())
        if t == "#":
            return ("bool", rest == b"t")
        if t in "*~":
            n = int(rest)
            if n < 0:
                return ("null", None)
            return ("array" if t == "*" else "set", [self.read() for _ in range(n)])
        if t == "%":
            n = int(rest)
            return ("map", [(self.read(), self.read()) for _ in range(n)])
        raise ValueError("unexpected RESP type %r" % t)

    def cmd(self, *args):
        out = b"*%d\r\n" % len(args)
        for a in args:
            a = a.encode() if isinstance(a, str) else a
            out += b"$%d\r\n%s\r\n" % (len(a), a)
        self.sock.sendall(out)
        return self.read()


def text(v):
    kind, val = v
    if kind == "bulk":
        return val.decode()
    if kind == "simple":
        return val
    raise ValueError("not a string: %r" % (v,))


def as_map(v):
    kind, val = v
    assert kind == "map", v
    return [(text(k), x) for k, x in val]


def items(v):
    kind, val = v
    assert kind in ("array", "set"), v
    return val


# ---------------------------------------------------------------- Rust output


def lit(s):
    """A Rust string literal."""
    out = ['"']
    for ch in s:
        if ch == "\\":
            out.append("\\\\")
        elif ch == '"':
            out.append('\\"')
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\r":
            out.append("\\r")
        elif ch == "\t":
            out.append("\\t")
        elif ord(ch) < 0x20:
            out.append("\\u{%x}" % ord(ch))
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def opt(s):
    return "None" if s is None else "Some(%s)" % lit(s)


def bits(names, table, prefix):
    """OR of constants for `names`, which must all be in `table`."""
    for n in names:
        if n not in table:
            raise SystemExit("unknown %s name %r: extend the table in the generator and meta.rs" % (prefix, n))
    parts = ["%s_%s" % (prefix, n.upper()) for n in table if n in names]
    return "|".join(parts) if parts else "0"


# Redis's output order for each kind of flag (server.c addReplyFlagsFor*).
CMD_FLAGS = ["write", "readonly", "denyoom", "module", "admin", "pubsub", "noscript",
             "blocking", "loading", "stale", "skip_monitor", "skip_slowlog", "asking",
             "fast", "no_auth", "no_mandatory_keys", "no_async_loading", "no_multi",
             "movablekeys", "allow_busy"]
KEY_FLAGS = ["RO", "RW", "OW", "RM", "access", "update", "insert", "delete", "not_key",
             "incomplete", "variable_flags"]
ARG_FLAGS = ["optional", "multiple", "multiple_token"]
DOC_FLAGS = ["deprecated", "syscmd"]
ARG_TYPES = {"string": "Str", "integer": "Integer", "double": "Double", "key": "Key",
             "pattern": "Pattern", "unix-time": "UnixTime", "pure-token": "PureToken",
             "oneof": "OneOf", "block": "Block"}


def key_spec(v):
    m = dict(as_map(v))
    notes = text(m["notes"]) if "notes" in m else None
    flags = bits([text(x) for x in items(m["flags"])], KEY_FLAGS, "K")
    bs = dict(as_map(m["begin_search"]))
    bs_spec = dict(as_map(bs["spec"]))
    bs_type = text(bs["type"])
    if bs_type == "index":
        bsr = "Bs::Index(%d)" % bs_spec["index"][1]
    elif bs_type == "keyword":
        bsr = "Bs::Keyword(%s, %d)" % (lit(text(bs_spec["keyword"])), bs_spec["startfrom"][1])
    elif bs_type == "unknown":
        bsr = "Bs::Unknown"
    else:
        raise SystemExit("unknown begin_search type %r" % bs_type)
    fk = dict(as_map(m["find_keys"]))
    fk_spec = dict(as_map(fk["spec"]))
    fk_type = text(fk["type"])
    if fk_type == "range":
        fkr = "Fk::Range(%d, %d, %d)" % (fk_spec["lastkey"][1], fk_spec["keystep"][1], fk_spec["limit"][1])
    elif fk_type == "keynum":
        fkr = "Fk::Keynum(%d, %d, %d)" % (fk_spec["keynumidx"][1], fk_spec["firstkey"][1], fk_spec["keystep"][1])
    elif fk_type == "unknown":
        fkr = "Fk::Unknown"
    else:
        raise SystemExit("unknown find_keys type %r" % fk_type)
    return "KeySpec { notes: %s, flags: %s, bs: %s, fk: %s }" % (opt(notes), flags, bsr, fkr)


def arg_list(v, indent):
    out = []
    for a in items(v):
        m = dict(as_map(a))
        known = {"name", "type", "key_spec_index", "token", "summary", "since",
                 "deprecated_since", "flags", "arguments"}
        extra = set(m) - known
        if extra:
            raise SystemExit("unknown argument fields %r" % extra)
        typ = ARG_TYPES[text(m["type"])]
        flags = bits([text(x) for x in items(m["flags"])], ARG_FLAGS, "A") if "flags" in m else "0"
        sub = "&[]"
        if "arguments" in m:
            sub = "&[\n" + arg_list(m["arguments"], indent + "    ") + indent + "]"
        out.append("%sArg { name: %s, typ: T::%s, key_spec: %d, token: %s, summary: %s, since: %s, "
                   "deprecated_since: %s, flags: %s, args: %s },\n" % (
                       indent, lit(text(m["name"])), typ,
                       m["key_spec_index"][1] if "key_spec_index" in m else -1,
                       opt(text(m["token"]) if "token" in m else None),
                       opt(text(m["summary"]) if "summary" in m else None),
                       opt(text(m["since"]) if "since" in m else None),
                       opt(text(m["deprecated_since"]) if "deprecated_since" in m else None),
                       flags, sub))
    return "".join(out)


def doc(d, indent):
    m = dict(as_map(d))
    known = {"summary", "since", "group", "complexity", "doc_flags", "deprecated_since",
             "replaced_by", "history", "arguments", "subcommands", "module"}
    extra = set(m) - known
    if extra:
        raise SystemExit("unknown doc fields %r" % extra)
    hist = "&[]"
    if "history" in m:
        hist = "&[" + ", ".join("(%s, %s)" % (lit(text(h[1][0])), lit(text(h[1][1])))
                                 for h in items(m["history"])) + "]"
    args = "None"
    if "arguments" in m:
        args = "Some(&[\n" + arg_list(m["arguments"], indent + "    ") + indent + "])"
    return ("Doc { summary: %s, since: %s, group: %s, complexity: %s, doc_flags: %s, "
            "deprecated_since: %s, replaced_by: %s, history: %s, args: %s }") % (
        opt(text(m["summary"]) if "summary" in m else None),
        opt(text(m["since"]) if "since" in m else None),
        lit(text(m["group"])),
        opt(text(m["complexity"]) if "complexity" in m else None),
        bits([text(x) for x in items(m["doc_flags"])], DOC_FLAGS, "D") if "doc_flags" in m else "0",
        opt(text(m["deprecated_since"]) if "deprecated_since" in m else None),
        opt(text(m["replaced_by"]) if "replaced_by" in m else None),
        hist, args)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def query(args, port, fn):
    """Starts `redis-server args` listening on `port`, runs fn(conn) over
    RESP3, stops the server and returns fn's result."""
    proc = subprocess.Popen(["redis-server"] + args,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + 15
        while True:
            try:
                c = Resp(port)
                break
            except OSError:
                if time.time() > deadline:
                    raise
                time.sleep(0.05)
        c.cmd("HELLO", "3")
        return fn(c)
    finally:
        proc.terminate()
        proc.wait()


def main():
    out_path = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "..", "src", "cmd", "meta_data.rs")
    tmp = tempfile.mkdtemp(prefix="gen-command-meta-")
    version = subprocess.run(["redis-server", "--version"], capture_output=True, text=True).stdout.strip()
    port = free_port()
    info, docs, cats = query(
        ["--port", str(port), "--bind", "127.0.0.1", "--save", "", "--dir", tmp, "--daemonize", "no"],
        port,
        lambda c: (items(c.cmd("COMMAND")),
                   dict((text(k), v) for k, v in c.cmd("COMMAND", "DOCS")[1]),
                   [text(x) for x in items(c.cmd("ACL", "CAT"))]))

    # SENTINEL exists only in Sentinel mode: read it from a redis-sentinel
    # (every other command Sentinel has is the same as redis-server's).
    def sentinel_only(c):
        known = set(text(items(i)[0]) for i in info)
        for i in items(c.cmd("COMMAND")):
            name = text(items(i)[0])
            if name not in known:
                info.append(i)
                docs[name] = dict((text(k), v) for k, v in c.cmd("COMMAND", "DOCS", name)[1])[name]

    sport = free_port()
    sconf = os.path.join(tmp, "sentinel.conf")
    with open(sconf, "w") as f:
        f.write("port %d\nbind 127.0.0.1\ndir %s\n" % (sport, tmp))
    query([sconf, "--sentinel"], sport, sentinel_only)
    shutil.rmtree(tmp, ignore_errors=True)

    # Flatten: each container is followed by its subcommands, all sorted by
    # name so the output is stable (Redis's own order is its dict's, random).
    entries = []  # (name, info, doc, parent_name)

    def add(inf, dc, parent):
        fields = items(inf)
        name = text(fields[0])
        entries.append((name, fields, dc, parent))
        subdocs = {}
        if dc is not None:
            subdocs = dict((text(k), v) for k, v in dict(as_map(dc)).get("subcommands", ("map", []))[1])
        for sub in sorted(items(fields[9]), key=lambda x: text(items(x)[0])):
            sname = text(items(sub)[0])
            add(sub, subdocs.get(sname), name)

    for inf in sorted(info, key=lambda x: text(items(x)[0])):
        name = text(items(inf)[0])
        add(inf, docs.get(name), None)

    index = {e[0]: i for i, e in enumerate(entries)}
    lines = []
    w = lines.append
    w("// @generated by tools/gen-command-meta.py from %s. Do not edit:" % version)
    w("// re-run the generator. Every Redis command and subcommand, with the")
    w("// metadata COMMAND INFO and COMMAND DOCS report (see meta.rs for the types).")
    w("")
    w("use super::meta::*;")
    w("use super::meta::ArgType as T;")
    w("")
    w("/// ACL categories in Redis's order (bit n = category n).")
    w("pub static ACL_CATEGORIES: &[&str] = &[%s];" % ", ".join(lit(x) for x in cats))
    w("")
    for i, cat in enumerate(cats):
        w("pub const C_%s: u32 = 1 << %d;" % (cat.upper(), i))
    w("")
    w("/// Number of entries in META.")
    w("pub const META_LEN: usize = %d;" % len(entries))
    w("")
    w("#[rustfmt::skip]")
    w("pub static META: [Meta; META_LEN] = [")
    for i, (name, f, dc, parent) in enumerate(entries):
        arity = f[1][1]
        flags = bits([text(x) for x in items(f[2])], CMD_FLAGS, "F")
        first, last, step = f[3][1], f[4][1], f[5][1]
        acl = [text(x)[1:] for x in items(f[6])]
        for a in acl:
            if a not in cats:
                raise SystemExit("unknown category %r" % a)
        acl_bits = "|".join("C_%s" % a.upper() for a in cats if a in acl) or "0"
        tips = "&[" + ", ".join(lit(text(x)) for x in items(f[7])) + "]"
        specs = items(f[8])
        ks = "&[]" if not specs else "&[\n" + "".join("        %s,\n" % key_spec(x) for x in specs) + "    ]"
        subs = sorted(text(items(x)[0]) for x in items(f[9]))
        sub_range = "(%d, %d)" % (index[subs[0]], len(subs)) if subs else "(0, 0)"
        par = index[parent] if parent else "NO_PARENT"
        dstr = doc(dc, "    ") if dc is not None else "Doc::EMPTY"
        w("    // %d" % i)
        w("    Meta { name: %s, parent: %s, subs: %s, arity: %d, flags: %s, range: (%d, %d, %d), acl: %s,"
          % (lit(name), par, sub_range, arity, flags, first, last, step, acl_bits))
        w("        tips: %s," % tips)
        w("        key_specs: %s," % ks)
        w("        doc: %s }," % dstr)
    w("];")
    w("")
    with open(out_path, "w") as fh:
        fh.write("\n".join(lines))
    print("wrote %s: %d entries (%d commands)" % (out_path, len(entries), len(info)))


if __name__ == "__main__":
    main()
