//! Streams moving between ferrodis and a real redis-server 7.0.15: RDB
//! files both ways (redis-check-rdb accepts ours), DUMP/RESTORE both ways,
//! the Redis 5.0-6.2 stream type (15) and the 7.2 one (21), corrupt
//! payloads refused without a crash, the AOF rewrite, and replication both
//! ways with a consumer-group workload running during the full sync.

mod common;

use common::{
    escape, mask_fields, parse, require_tool, start_either, wait_until, Conn, RedisServer, Server,
    TempDir, Value,
};
use ferrodis::db::Value as DbValue;
use ferrodis::encoding::crc64::crc64;
use ferrodis::persist::rdb::RdbWriter;
use ferrodis::persist::rdb_load::load_dump_payload;
use ferrodis::types::Limits;
use std::process::Command;
use std::time::Duration;

fn run(c: &mut Conn, script: &str) {
    for line in script
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
    {
        let args = common::split_args(line).expect("quoting");
        let a: Vec<&[u8]> = args.iter().map(|v| v.as_slice()).collect();
        c.send(&a);
        let r = c.read_reply();
        assert!(!r.starts_with(b"-"), "{line}: {}", escape(&r));
    }
}

/// Streams of every shape: many nodes, tombstones, groups with pending
/// entries, idle consumers, NOACK reads, unknown read counters, empty
/// streams, an expiring stream, values that compress.
const DATASET: &str = r#"
CONFIG SET stream-node-max-entries 10
XADD plain 1-1 a 1 b 2
XADD plain 1-2 a 3 b 4
XADD plain 2-0 c 5
XADD plain 3-0 a 6 b 7
XADD plain 4-0 a 1 b 2
XADD plain 5-0 a 1 b 2
XADD plain 6-0 a 1 b 2
XADD plain 7-0 a 1 b 2
XADD plain 8-0 a 1 b 2
XADD plain 9-0 a 1 b 2
XADD plain 10-0 a 1 b 2
XADD plain 11-0 a 1 b 2
XADD plain 12-0 a 1 b 2
XADD plain 13-0 a 1 b 2
XADD plain 14-0 x -1 y 18446744073709551615
XADD plain 15-0 long "this value is long enough to be compressed this value is long enough to be compressed"
XDEL plain 3-0 12-0
XTRIM plain MINID 1-2
CONFIG SET stream-node-max-entries 100
XADD cg 1-0 f 1
XADD cg 2-0 f 2
XADD cg 3-0 f 3
XADD cg 4-0 f 4
XADD cg 5-0 f 5
XGROUP CREATE cg g1 0
XGROUP CREATE cg g2 0
XGROUP CREATE cg g3 $ ENTRIESREAD 5
XGROUP CREATECONSUMER cg g1 idle
XREADGROUP GROUP g1 alice COUNT 2 STREAMS cg >
XREADGROUP GROUP g1 bob COUNT 2 STREAMS cg >
XREADGROUP GROUP g2 carol NOACK STREAMS cg >
XACK cg g1 2-0
XCLAIM cg g1 bob 0 1-0 TIME 1000000 RETRYCOUNT 3
XDEL cg 4-0
XGROUP SETID cg g2 3-0
XSETID cg 5-0 ENTRIESADDED 9 MAXDELETEDID 4-0
XADD e MAXLEN 0 7-0 a b
XGROUP CREATE e g $
XGROUP CREATE mk g 0 MKSTREAM
XADD gone 1-0 a 1
XDEL gone 1-0
XADD exp 1-0 a 1
PEXPIRE exp 100000000
"#;

const KEYS: &[&str] = &["plain", "cg", "e", "mk", "gone", "exp"];

/// Everything observable about the streams (delivery and seen times
/// included: they travel in the payloads).
fn state(c: &mut Conn) -> Vec<String> {
    let mut out = vec![escape(&c.cmd(&["DEBUG", "DIGEST"]))];
    for k in KEYS {
        out.push(escape(&c.cmd(&["XINFO", "STREAM", k, "FULL"])));
        out.push(escape(&c.cmd(&["XINFO", "GROUPS", k])));
        out.push(escape(&c.cmd(&["XPENDING", k, "g1"])));
        out.push(escape(&c.cmd(&["DEBUG", "DIGEST-VALUE", k])));
    }
    out
}

fn memory(c: &mut Conn) -> Vec<Vec<u8>> {
    KEYS.iter()
        .map(|k| c.cmd(&["MEMORY", "USAGE", k, "SAMPLES", "0"]))
        .collect()
}

fn save_to(c: &mut Conn, srv: &Server) -> Vec<u8> {
    assert_eq!(c.cmd(&["SAVE"]), b"+OK\r\n");
    std::fs::read(srv.dir.join("dump.rdb")).expect("dump.rdb")
}

/// Starts a server of the given kind on a copy of `rdb`.
fn start_with(rdb: &[u8], redis: bool, dir: &TempDir) -> Server {
    std::fs::write(dir.join("dump.rdb"), rdb).expect("write rdb");
    let d = dir.path.to_str().expect("utf8 dir").to_string();
    let args = ["--dir", d.as_str()];
    start_either(redis, &args)
}

#[test]
fn rdb_files_interchange_with_redis() {
    for from_redis in [false, true] {
        let src = start_either(from_redis, &[]);
        let mut c = src.conn();
        run(&mut c, DATASET);
        let want = state(&mut c);
        let rdb = save_to(&mut c, &src);
        if !from_redis {
            let path = src.dir.join("dump.rdb");
            let out = Command::new(require_tool("redis-check-rdb"))
                .arg(&path)
                .output()
                .expect("redis-check-rdb");
            let text = String::from_utf8_lossy(&out.stdout);
            assert!(
                out.status.success() && text.contains("RDB looks OK"),
                "{text}"
            );
        }
        let (d1, d2) = (TempDir::new("rdb-a"), TempDir::new("rdb-b"));
        let redis = start_with(&rdb, true, &d1);
        let ferrodis = start_with(&rdb, false, &d2);
        let (mut rc, mut fc) = (redis.conn(), ferrodis.conn());
        assert_eq!(state(&mut rc), want, "redis loading ({from_redis})");
        assert_eq!(state(&mut fc), want, "ferrodis loading ({from_redis})");
        // Loaded the same way, node allocations included.
        assert_eq!(memory(&mut fc), memory(&mut rc));
        // And written back the same way.
        let (mut r2, mut f2) = (rc.cmd(&["DUMP", "cg"]), fc.cmd(&["DUMP", "cg"]));
        assert_eq!(escape(&f2), escape(&r2));
        r2 = rc.cmd(&["DUMP", "plain"]);
        f2 = fc.cmd(&["DUMP", "plain"]);
        assert_eq!(escape(&f2), escape(&r2));
    }
}

#[test]
fn dump_restore_interchange_with_redis() {
    let redis = RedisServer::start(&[]);
    let ferrodis = Server::start(&[]);
    let (mut rc, mut fc) = (redis.conn(), ferrodis.conn());
    run(&mut rc, DATASET);
    run(&mut fc, DATASET);
    for k in KEYS {
        for dir in 0..2 {
            let (from, to) = if dir == 0 {
                (&mut rc, &mut fc)
            } else {
                (&mut fc, &mut rc)
            };
            let payload = common::bulk_body(&from.cmd(&["DUMP", k]))
                .expect("dump")
                .to_vec();
            let a: Vec<&[u8]> = vec![b"RESTORE", b"copy", b"0", &payload, b"REPLACE"];
            to.send(&a);
            assert_eq!(to.read_reply(), b"+OK\r\n", "{k}");
            assert_eq!(
                escape(&to.cmd(&["XINFO", "STREAM", "copy", "FULL"])),
                escape(&from.cmd(&["XINFO", "STREAM", k, "FULL"])),
                "{k}"
            );
            if *k != "exp" {
                // (The copy has no TTL: its digest would say so.)
                assert_eq!(
                    to.cmd(&["DEBUG", "DIGEST-VALUE", "copy"]),
                    from.cmd(&["DEBUG", "DIGEST-VALUE", k])
                );
            }
        }
        assert_eq!(
            escape(&fc.cmd(&["MEMORY", "USAGE", "copy"])),
            escape(&rc.cmd(&["MEMORY", "USAGE", "copy"])),
            "{k}"
        );
    }
}

/// A stream payload in an older or newer type, from a ferrodis value:
/// 15 (Redis 5.0-6.2: no first ID, tombstone ID, counters or read
/// counters) or 21 (7.2: consumers with an active time).
fn encode_as(t: u8, v: &DbValue) -> Vec<u8> {
    let DbValue::Stream(s) = v else {
        panic!("not a stream");
    };
    let mut w = RdbWriter::new(Vec::new(), false, false);
    w.byte(t).unwrap();
    w.save_len(s.node_count() as u64).unwrap();
    for (k, n) in s.nodes() {
        w.string(&k.to_be_bytes()).unwrap();
        w.string(n.lp.as_bytes()).unwrap();
    }
    w.save_len(s.length).unwrap();
    w.save_len(s.last_id.ms).unwrap();
    w.save_len(s.last_id.seq).unwrap();
    if t != 15 {
        for id in [s.first_id, s.max_deleted_entry_id] {
            w.save_len(id.ms).unwrap();
            w.save_len(id.seq).unwrap();
        }
        w.save_len(s.entries_added).unwrap();
    }
    w.save_len(s.cgroups.len() as u64).unwrap();
    for (name, g) in &s.cgroups {
        w.string(name).unwrap();
        w.save_len(g.last_id.ms).unwrap();
        w.save_len(g.last_id.seq).unwrap();
        if t != 15 {
            w.save_len(g.entries_read as u64).unwrap();
        }
        w.save_len(g.pel.len() as u64).unwrap();
        for (id, n) in &g.pel {
            w.raw(&id.to_be_bytes()).unwrap();
            w.raw(&n.delivery_time.to_le_bytes()).unwrap();
            w.save_len(n.delivery_count).unwrap();
        }
        w.save_len(g.consumers.len() as u64).unwrap();
        for (cname, c) in &g.consumers {
            w.string(cname).unwrap();
            w.raw(&c.seen_time.to_le_bytes()).unwrap();
            if t == 21 {
                w.raw(&(c.seen_time + 1).to_le_bytes()).unwrap();
            }
            w.save_len(c.pel.len() as u64).unwrap();
            for id in &c.pel {
                w.raw(&id.to_be_bytes()).unwrap();
            }
        }
    }
    w.into_inner()
}

fn dump_payload(body: &[u8], version: u16) -> Vec<u8> {
    let mut p = body.to_vec();
    p.extend_from_slice(&version.to_le_bytes());
    let crc = crc64(0, &p);
    p.extend_from_slice(&crc.to_le_bytes());
    p
}

#[test]
fn older_and_newer_stream_types_load_as_redis_loads_them() {
    let redis = RedisServer::start(&[]);
    let ferrodis = Server::start(&[]);
    let (mut rc, mut fc) = (redis.conn(), ferrodis.conn());
    run(&mut fc, DATASET);
    let mut rdb11 = b"REDIS0011".to_vec();
    rdb11.extend_from_slice(&[0xFE, 0]); // SELECTDB 0
    for k in KEYS {
        let dump = common::bulk_body(&fc.cmd(&["DUMP", k]))
            .expect("dump")
            .to_vec();
        let v = load_dump_payload(&dump, &Limits::default())
            .expect("payload")
            .expect("not an empty key");
        // Type 15, as Redis 6.2 would have written it: both derive the
        // same first ID, counters and group read counters from it.
        let old = dump_payload(&encode_as(15, &v), 9);
        for c in [&mut rc, &mut fc] {
            c.send(&[b"RESTORE", format!("{k}-15").as_bytes(), b"0", &old]);
            assert_eq!(c.read_reply(), b"+OK\r\n", "{k}");
        }
        assert_eq!(
            escape(&fc.cmd(&["XINFO", "STREAM", &format!("{k}-15"), "FULL"])),
            escape(&rc.cmd(&["XINFO", "STREAM", &format!("{k}-15"), "FULL"])),
            "{k}"
        );
        // Type 21 (Redis 7.2) only exists in RDB version 11 files.
        let body = encode_as(21, &v);
        rdb11.push(body[0]);
        RdbWriter::new(&mut rdb11, false, false)
            .string(k.as_bytes())
            .unwrap();
        rdb11.extend_from_slice(&body[1..]);
    }
    rdb11.push(0xFF);
    rdb11.extend_from_slice(&0u64.to_le_bytes());
    let dir = TempDir::new("rdb11");
    let f2 = start_with(&rdb11, false, &dir);
    let mut c2 = f2.conn();
    for k in KEYS {
        assert_eq!(
            escape(&c2.cmd(&["XINFO", "STREAM", k, "FULL"])),
            escape(&fc.cmd(&["XINFO", "STREAM", k, "FULL"])),
            "{k}"
        );
    }
}

/// Corrupted stream payloads (with a valid checksum, so they reach the
/// decoder) never crash ferrodis: each is refused, or accepted only when
/// Redis with sanitize-dump-payload yes accepts it too, and then behaves
/// as Redis's copy does.
#[test]
fn corrupt_stream_payloads_are_refused() {
    let redis = RedisServer::start(&["--sanitize-dump-payload", "yes"]);
    let ferrodis = Server::start(&[]);
    let (mut rc, mut fc) = (redis.conn(), ferrodis.conn());
    run(&mut fc, DATASET);
    let mut seed: u64 = 0x5151_5151;
    let mut rnd = |n: usize| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed % n.max(1) as u64) as usize
    };
    let (mut refused, mut accepted) = (0, 0);
    for k in ["plain", "cg", "e"] {
        let dump = common::bulk_body(&fc.cmd(&["DUMP", k]))
            .expect("dump")
            .to_vec();
        let body = &dump[..dump.len() - 10];
        for round in 0..250 {
            let mut b = body.to_vec();
            match round % 4 {
                0 => {
                    let i = rnd(b.len());
                    b[i] ^= 1 << rnd(8);
                }
                1 => {
                    let i = rnd(b.len());
                    b[i] = rnd(256) as u8;
                }
                2 => b.truncate(rnd(b.len())),
                _ => {
                    let i = rnd(b.len());
                    b.insert(i, rnd(256) as u8);
                }
            }
            let p = dump_payload(&b, 10);
            let mut replies = Vec::new();
            for c in [&mut fc, &mut rc] {
                c.send(&[b"RESTORE", b"fz", b"0", &p, b"REPLACE"]);
                replies.push(c.read_reply());
            }
            let (f, r) = (&replies[0], &replies[1]);
            if f.starts_with(b"-") {
                assert_eq!(f.as_slice(), b"-ERR Bad data format\r\n");
                refused += 1;
                continue;
            }
            accepted += 1;
            assert_eq!(escape(r), escape(f), "accepted by ferrodis, not by Redis");
            for cmd in [
                &["XINFO", "STREAM", "fz", "FULL"][..],
                &["XRANGE", "fz", "-", "+"],
                &["XREVRANGE", "fz", "+", "-"],
                &["XLEN", "fz"],
                &["DEBUG", "DIGEST-VALUE", "fz"],
                &["XPENDING", "fz", "g1"],
            ] {
                assert_eq!(escape(&fc.cmd(cmd)), escape(&rc.cmd(cmd)), "{cmd:?}");
            }
            // Writes on it must not crash either.
            for cmd in [
                &["XADD", "fz", "*", "a", "b"][..],
                &["XTRIM", "fz", "MAXLEN", "2"],
                &["XDEL", "fz", "1-2", "5-0"],
                &["XAUTOCLAIM", "fz", "g1", "x", "0", "0"],
                &["XREADGROUP", "GROUP", "g1", "c", "STREAMS", "fz", "0"],
            ] {
                fc.cmd(cmd);
            }
        }
    }
    assert_eq!(fc.cmd(&["PING"]), b"+PONG\r\n");
    assert!(
        refused > 100 && accepted > 0,
        "refused {refused}, accepted {accepted}"
    );
}

#[test]
fn aof_rewrite_without_preamble_rebuilds_streams() {
    let f = Server::start(&["--appendonly", "yes", "--aof-use-rdb-preamble", "no"]);
    let mut c = f.conn();
    run(&mut c, DATASET);
    let want = state(&mut c);
    c.cmd(&["BGREWRITEAOF"]);
    assert!(wait_until(Duration::from_secs(30), || {
        common::info_field(&mut c, "persistence", "aof_rewrite_in_progress").as_deref() == Some("0")
            && common::info_field(&mut c, "persistence", "aof_rewrite_scheduled").as_deref()
                == Some("0")
    }));
    // The rewritten AOF, loaded by ferrodis and by Redis.
    let src = f.dir.join("appendonlydir");
    let base = std::fs::read_dir(&src)
        .unwrap()
        .filter_map(|e| e.ok())
        .find(|e| e.file_name().to_string_lossy().contains(".base.aof"))
        .expect("base file");
    let text = std::fs::read(base.path()).unwrap();
    let has = |w: &[u8]| text.windows(w.len()).any(|x| x == w);
    assert!(
        has(b"XSETID") && has(b"CREATECONSUMER") && has(b"RETRYCOUNT"),
        "a command base"
    );
    let mut loaded = Vec::new();
    for redis in [false, true] {
        let dir = TempDir::new("aof");
        let dst = dir.join("appendonlydir");
        std::fs::create_dir_all(&dst).unwrap();
        for e in std::fs::read_dir(&src).unwrap() {
            let e = e.unwrap();
            std::fs::copy(e.path(), dst.join(e.file_name())).unwrap();
        }
        let d = dir.path.to_str().unwrap().to_string();
        let args = ["--dir", d.as_str(), "--appendonly", "yes"];
        let srv = start_either(redis, &args);
        let mut c2 = srv.conn();
        let got = state(&mut c2);
        assert_eq!(got[0], want[0], "digest, redis={redis}");
        // Consumers without pending entries are created at load time
        // (seen-time); pending entries of deleted entries are dropped by
        // the XCLAIMs that rebuild the PEL, as Redis's rewrite does.
        let masked = |c: &mut Conn| -> Vec<Value> {
            KEYS.iter()
                .map(|k| {
                    mask_fields(
                        parse(&c.cmd(&["XINFO", "STREAM", k, "FULL"])),
                        &["seen-time"],
                    )
                })
                .collect()
        };
        loaded.push(masked(&mut c2));
    }
    // Redis loads the same AOF into the same state.
    assert_eq!(loaded[0], loaded[1]);
}

/// A consumer-group workload on `m` while `r` becomes its replica (the
/// full sync happens in the middle of it); afterwards both must agree.
fn replicate_during_workload(m: &Server, r: &Server) {
    let mut mc = m.conn();
    run(&mut mc, DATASET);
    mc.cmd(&["CONFIG", "SET", "repl-diskless-sync-delay", "0"]);
    let port = m.port;
    let worker = std::thread::spawn(move || {
        let mut c = Conn::connect(port);
        for i in 0..1500u64 {
            let id = format!("{}-0", 100 + i);
            let k = if i % 3 == 0 { "cg" } else { "plain" };
            c.cmd(&["XADD", k, "MAXLEN", "~", "40", &id, "f", &i.to_string()]);
            match i % 7 {
                0 => c.cmd(&[
                    "XREADGROUP",
                    "GROUP",
                    "g1",
                    "alice",
                    "COUNT",
                    "3",
                    "STREAMS",
                    "cg",
                    ">",
                ]),
                1 => c.cmd(&[
                    "XREADGROUP",
                    "GROUP",
                    "g2",
                    "carol",
                    "NOACK",
                    "STREAMS",
                    "cg",
                    ">",
                ]),
                2 => c.cmd(&["XACK", "cg", "g1", &format!("{}-0", 100 + i - 2)]),
                3 => c.cmd(&["XAUTOCLAIM", "cg", "g1", "bob", "0", "0", "COUNT", "2"]),
                4 => c.cmd(&[
                    "XCLAIM",
                    "cg",
                    "g1",
                    "dave",
                    "0",
                    &format!("{}-0", 100 + i - 4),
                    "JUSTID",
                ]),
                5 => c.cmd(&["XDEL", "plain", &format!("{}-0", 100 + i - 3)]),
                _ => c.cmd(&["XTRIM", "cg", "MINID", "~", &format!("{}-0", 100 + i / 2)]),
            };
            if i % 100 == 0 {
                c.cmd(&["XGROUP", "CREATECONSUMER", "cg", "g1", &format!("c{i}")]);
                c.cmd(&[
                    "XGROUP",
                    "DELCONSUMER",
                    "cg",
                    "g1",
                    &format!("c{}", i.saturating_sub(200)),
                ]);
            }
        }
    });
    let mut rc = r.conn();
    std::thread::sleep(Duration::from_millis(50));
    rc.cmd(&["REPLICAOF", "127.0.0.1", &m.port.to_string()]);
    worker.join().expect("workload");
    assert!(wait_until(Duration::from_secs(60), || {
        let off = |c: &mut Conn| common::info_field(c, "replication", "master_repl_offset");
        let mo = off(&mut mc);
        mo.is_some()
            && mo == off(&mut rc)
            && common::info_field(&mut rc, "replication", "master_link_status").as_deref()
                == Some("up")
    }));
    assert_eq!(rc.cmd(&["DEBUG", "DIGEST"]), mc.cmd(&["DEBUG", "DIGEST"]));
    for k in KEYS {
        let strip = |c: &mut Conn| {
            mask_fields(
                parse(&c.cmd(&["XINFO", "STREAM", k, "FULL", "COUNT", "0"])),
                &["seen-time", "entries-read", "lag"],
            )
        };
        assert_eq!(strip(&mut rc), strip(&mut mc), "{k}");
    }
}

#[test]
fn ferrodis_master_redis_replica() {
    let m = Server::start(&[]);
    let r = RedisServer::start(&[]);
    replicate_during_workload(&m, &r);
}

#[test]
fn redis_master_ferrodis_replica() {
    let m = RedisServer::start(&[]);
    let r = Server::start(&[]);
    replicate_during_workload(&m, &r);
}

#[test]
fn ferrodis_master_ferrodis_replica() {
    let m = Server::start(&[]);
    let r = Server::start(&[]);
    replicate_during_workload(&m, &r);
}

/// The commands a server appended to its AOF (what replicas get too),
/// with delivery times (each server's clock) masked.
fn aof_commands(srv: &Server) -> Vec<Vec<String>> {
    let dir = srv.dir.join("appendonlydir");
    let incr = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .find(|e| e.file_name().to_string_lossy().ends_with(".incr.aof"))
        .expect("incr file");
    let data = std::fs::read(incr.path()).unwrap();
    let mut out = Vec::new();
    let mut pos = 0;
    while pos < data.len() {
        let v = parse(&data[pos..]);
        pos += common::reply_len(&data[pos..]).expect("complete command");
        let mut args: Vec<String> = v.array().iter().map(|a| a.text()).collect();
        for i in 1..args.len() {
            if args[i - 1] == "TIME" {
                args[i] = "<time>".into();
            }
        }
        out.push(args);
    }
    out
}

/// What every stream write propagates, compared command by command with
/// what Redis 7.0 propagates for the same writes.
#[test]
fn propagated_forms_match_redis() {
    const WORKLOAD: &str = r#"
CONFIG SET stream-node-max-entries 3
XADD s 1-0 a 1
XADD s 2-* a 2
XADD s 3 a 3
XADD s 3-* a 4
XADD s 4-0 a 5
XADD s 5-0 a 6
XADD s 6-0 a 7
XADD s MAXLEN ~ 2 7-0 a 8
XADD s MAXLEN = 5 8-0 a 9
XADD s MINID ~ 7 9-0 a 10
XADD s MAXLEN ~ 1 LIMIT 3 10-0 a 11
XADD s NOMKSTREAM 11-0 a 12
XADD nostream NOMKSTREAM 1-0 a 1
XTRIM s MAXLEN ~ 100
XTRIM s MAXLEN ~ 2
XTRIM s MINID = 10
XDEL s 10-0 99-0
XDEL s 99-0
XSETID s 20-0 ENTRIESADDED 30 MAXDELETEDID 10-0
XADD s 21-0 a 1
XADD s 22-0 a 2
XADD s 23-0 a 3
XADD s 24-0 a 4
XGROUP CREATE s g 0
XGROUP CREATE s g2 $ MKSTREAM
XGROUP CREATE new g $ MKSTREAM
XGROUP CREATECONSUMER s g idle
XGROUP CREATECONSUMER s g idle
XREADGROUP GROUP g alice COUNT 2 STREAMS s >
XREADGROUP GROUP g bob STREAMS s >
XREADGROUP GROUP g bob STREAMS s >
XREADGROUP GROUP g alice STREAMS s 0
XREADGROUP GROUP g2 carol NOACK STREAMS s >
XADD s 25-0 a 5
XREADGROUP GROUP g2 carol NOACK STREAMS s >
XREADGROUP GROUP g2 dave NOACK STREAMS s 0
XACK s g 21-0 99-0
XACK s g 99-0
XDEL s 22-0
XCLAIM s g carol 0 22-0 23-0 JUSTID
XCLAIM s g carol 0 24-0 RETRYCOUNT 7 TIME 123456
XCLAIM s g carol 0 99-0 LASTID 30-0
XCLAIM s g carol 0 99-0 LASTID 1-0
XADD s 26-0 a 6
XADD s 27-0 a 7
XREADGROUP GROUP g erin STREAMS s >
XDEL s 26-0
XAUTOCLAIM s g frank 0 0 COUNT 2
XAUTOCLAIM s g frank 0 0 JUSTID
XGROUP SETID s g 0 ENTRIESREAD 0
XGROUP SETID s g $
XGROUP DELCONSUMER s g idle
XGROUP DELCONSUMER s g nobody
XGROUP DESTROY s g2
XGROUP DESTROY s g2
MULTI
XADD m 1-0 a 1
XGROUP CREATE m g 0
XREADGROUP GROUP g x STREAMS m >
EXEC
"#;
    let args = ["--appendonly", "yes", "--appendfsync", "always"];
    let (redis, ferrodis) = (RedisServer::start(&args), Server::start(&args));
    for srv in [&redis, &ferrodis] {
        let mut c = srv.conn();
        for line in WORKLOAD.lines().map(str::trim).filter(|l| !l.is_empty()) {
            c.cmd(&line.split(' ').collect::<Vec<_>>());
        }
    }
    let (r, f) = (aof_commands(&redis), aof_commands(&ferrodis));
    for (i, (rc, fc)) in r.iter().zip(&f).enumerate() {
        assert_eq!(fc, rc, "command {i}");
    }
    assert_eq!(f.len(), r.len());
    // XCLAIMs, SETIDs, CREATECONSUMERs, MULTI/EXEC and rewritten trims.
    let has = |w: &str| f.iter().any(|c| c.iter().any(|a| a == w));
    assert!(f.len() > 60 && has("XCLAIM") && has("SETID") && has("CREATECONSUMER") && has("MULTI"));
}

/// A full sync whose last record is one big stream (about 2 MB, longer
/// than a loading step and than any single read): the replica's loader
/// must take it from a disk file and from the socket (EOF-framed), from a
/// ferrodis and from a redis-server master, and end with the master's
/// digest.
#[test]
fn full_sync_of_a_big_stream() {
    for (redis_master, load) in [
        (false, "disabled"),
        (false, "swapdb"),
        (false, "on-empty-db"),
        (true, "swapdb"),
    ] {
        let m = start_either(
            redis_master,
            &[
                "--repl-diskless-sync",
                "yes",
                "--repl-diskless-sync-delay",
                "0",
            ],
        );
        let r = Server::start(&[
            "--repl-diskless-load",
            load,
            "--loading-process-events-interval-bytes",
            "65536",
        ]);
        let mut mc = m.conn();
        let mut batch = Vec::new();
        let n = 40_000;
        for i in 1..=n {
            let id = format!("{i}-0");
            let v = format!("{:x<1$}", i, (i % 40) as usize);
            batch.extend(common::multibulk(&[
                b"XADD",
                b"big",
                id.as_bytes(),
                b"name",
                v.as_bytes(),
            ]));
        }
        mc.send_raw(&batch);
        for _ in 0..n {
            mc.read_reply();
        }
        mc.cmd(&["XGROUP", "CREATE", "big", "g", "0"]);
        mc.cmd(&[
            "XREADGROUP",
            "GROUP",
            "g",
            "c",
            "COUNT",
            "3000",
            "STREAMS",
            "big",
            ">",
        ]);
        let mut rc = r.conn();
        rc.cmd(&["REPLICAOF", "127.0.0.1", &m.port.to_string()]);
        assert!(
            wait_until(Duration::from_secs(120), || {
                common::info_field(&mut rc, "replication", "master_link_status").as_deref()
                    == Some("up")
            }),
            "master {}, repl-diskless-load {load}: no sync",
            if redis_master { "redis" } else { "ferrodis" }
        );
        assert_eq!(
            rc.cmd(&["DEBUG", "DIGEST"]),
            mc.cmd(&["DEBUG", "DIGEST"]),
            "repl-diskless-load {load}"
        );
    }
}
