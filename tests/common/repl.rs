//! Replication helpers shared by the replication test files: waiting for
//! replicas to catch up, comparing data sets node by node, seeding data and
//! running a write load.
#![allow(dead_code)]

use super::*;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::Duration;

pub const SYNC_TIMEOUT: Duration = Duration::from_secs(30);

/// A raw SYNC client of the master on `port`, past the RDB (a disk-based
/// sync: "$<len>\r\n<rdb>", after optional "\n" keep-alives): what it
/// reads next is the replication stream.
pub fn sync_client(port: u16) -> Conn {
    let mut c = Conn::connect(port);
    c.send_raw(b"SYNC\r\n");
    let line = c.read_line().trim_start_matches('\n').to_string();
    assert!(line.starts_with('$'), "unexpected SYNC answer {line:?}");
    let len: usize = line[1..].parse().expect("bulk length");
    let rdb = c.read_exact_bytes(len);
    assert!(rdb.starts_with(b"REDIS"));
    c
}

pub fn s(r: &[u8]) -> String {
    String::from_utf8_lossy(r).into_owned()
}

/// Every key of every db with its type and a canonical rendering of its
/// value and whether it has a TTL.
pub fn dataset(c: &mut Conn) -> BTreeMap<(usize, Vec<u8>), String> {
    let mut out = BTreeMap::new();
    for db in 0..16 {
        c.cmd(&["SELECT", &db.to_string()]);
        let keys = c.cmd(&["KEYS", "*"]);
        for k in parse_array(&keys) {
            let key = String::from_utf8_lossy(&k).into_owned();
            let t = s(&c.cmd(&["TYPE", &key]));
            let v = match t.trim_end() {
                "+string" => s(&c.cmd(&["GET", &key])),
                "+list" => s(&c.cmd(&["LRANGE", &key, "0", "-1"])),
                "+hash" => sorted(&c.cmd(&["HGETALL", &key])),
                "+set" => sorted(&c.cmd(&["SMEMBERS", &key])),
                "+zset" => s(&c.cmd(&["ZRANGE", &key, "0", "-1", "WITHSCORES"])),
                other => other.to_string(),
            };
            let ttl = c.cmd_int(&["TTL", &key]) >= 0;
            out.insert((db, k), format!("{} {} ttl={}", t.trim_end(), v, ttl));
        }
    }
    c.cmd(&["SELECT", "0"]);
    out
}

/// Bulk elements of a flat array reply.
pub fn parse_array(r: &[u8]) -> Vec<Vec<u8>> {
    let mut v = Vec::new();
    let mut i = match r.iter().position(|&b| b == b'\n') {
        Some(p) => p + 1,
        None => return v,
    };
    while i < r.len() {
        let Some(eol) = r[i..].iter().position(|&b| b == b'\n') else {
            break;
        };
        let line = &r[i..i + eol - 1];
        i += eol + 1;
        if line.first() == Some(&b'$') {
            let n: usize = String::from_utf8_lossy(&line[1..]).parse().unwrap_or(0);
            v.push(r[i..i + n].to_vec());
            i += n + 2;
        }
    }
    v
}

pub fn sorted(r: &[u8]) -> String {
    let mut v = parse_array(r);
    v.sort();
    format!("{v:?}")
}

pub fn offset(c: &mut Conn) -> i64 {
    info_field(c, "replication", "master_repl_offset")
        .and_then(|v| v.parse().ok())
        .unwrap_or(-1)
}

pub fn link_up(c: &mut Conn) -> bool {
    info_field(c, "replication", "master_link_status").as_deref() == Some("up")
}

pub fn stat(c: &mut Conn, field: &str) -> i64 {
    info_field(c, "stats", field)
        .and_then(|v| v.parse().ok())
        .unwrap_or(-1)
}

/// Waits until every replica's link is up and its offset equals the master's.
pub fn wait_in_sync(master: &Server, replicas: &[&Server]) {
    let mut m = master.conn();
    for r in replicas {
        let mut rc = r.conn();
        let ok = wait_until(SYNC_TIMEOUT, || {
            link_up(&mut rc) && offset(&mut rc) == offset(&mut m)
        });
        assert!(
            ok,
            "{} replica on {} never caught up (master offset {}, replica {})",
            r.name,
            r.port,
            offset(&mut m),
            offset(&mut rc)
        );
    }
    // And the master streams to all of them (state=online in its INFO).
    let online = |m: &mut Conn| {
        let r = m.cmd(&["INFO", "replication"]);
        String::from_utf8_lossy(bulk_body(&r).unwrap_or_default())
            .matches("state=online")
            .count()
    };
    assert!(
        wait_until(SYNC_TIMEOUT, || online(&mut m) >= replicas.len()),
        "the master does not list every replica as online"
    );
}

/// Keys per db, from INFO keyspace.
pub fn keyspace(c: &mut Conn) -> String {
    let r = c.cmd(&["INFO", "keyspace"]);
    String::from_utf8_lossy(bulk_body(&r).unwrap_or_default())
        .lines()
        .filter(|l| l.starts_with("db"))
        .map(|l| l.split(",avg_ttl").next().unwrap_or(l).to_string())
        .collect::<Vec<_>>()
        .join(" ")
}

/// A node's replication offset with its DEBUG DIGEST and key counts at
/// that offset: the offset read before and after them agree.
pub fn snapshot(c: &mut Conn) -> (i64, String, String) {
    let mut snap = (0, String::new(), String::new());
    let stable = wait_until(SYNC_TIMEOUT, || {
        let before = offset(c);
        let digest = s(&c.cmd(&["DEBUG", "DIGEST"]));
        let sizes = keyspace(c);
        snap = (before, digest, sizes);
        offset(c) == before
    });
    assert!(stable, "the offset never stood still");
    snap
}

/// The same data on every node: DEBUG DIGEST (which covers every key, value
/// and expiry, and matches Redis's own) and the key counts per db, each
/// node compared with the first at one replication offset (the first's
/// digest is taken again when a PING of its moved the offset meanwhile).
/// On a mismatch the datasets are compared key by key to say what differs.
pub fn assert_same_data(nodes: &[&Server]) {
    let mut first = nodes[0].conn();
    assert!(
        first.cmd_int(&["DBSIZE"]) > 0 || !keyspace(&mut first).is_empty(),
        "the dataset should not be empty"
    );
    for n in &nodes[1..] {
        let mut c = n.conn();
        let mut pair = Default::default();
        let same_offset = wait_until(SYNC_TIMEOUT, || {
            pair = (snapshot(&mut first), snapshot(&mut c));
            pair.0 .0 == pair.1 .0
        });
        let ((at, digest, sizes), (n_at, n_digest, n_sizes)) = pair;
        if same_offset && n_digest == digest && n_sizes == sizes {
            continue;
        }
        let reference = dataset(&mut first);
        let d = dataset(&mut c);
        let missing: Vec<_> = reference
            .keys()
            .filter(|k| !d.contains_key(*k))
            .take(5)
            .collect();
        let extra: Vec<_> = d
            .keys()
            .filter(|k| !reference.contains_key(*k))
            .take(5)
            .collect();
        let differ: Vec<_> = reference
            .iter()
            .filter(|(k, v)| d.get(*k).is_some_and(|x| x != *v))
            .take(5)
            .collect();
        panic!("{} on {} differs (offset {n_at} vs {at}): {} vs {} keys; missing {missing:?}; extra {extra:?}; differing {differ:?}", n.name, n.port, d.len(), reference.len());
    }
}

/// Loads a varied dataset: several dbs, expiries, counters, big values.
pub fn seed_data(c: &mut Conn, n: usize) {
    let mut pipe = Vec::new();
    for i in 0..n {
        pipe.extend(multibulk(&[
            b"SET",
            format!("key:{i}").as_bytes(),
            format!("value-{i}").as_bytes(),
        ]));
    }
    pipe.extend(multibulk(&[b"SET", b"big", &vec![b'x'; 100_000]]));
    pipe.extend(multibulk(&[b"SET", b"withttl", b"v", b"EX", b"1000"]));
    pipe.extend(multibulk(&[b"SELECT", b"3"]));
    pipe.extend(multibulk(&[b"SET", b"in-db-3", b"yes"]));
    pipe.extend(multibulk(&[b"SELECT", b"0"]));
    c.send_raw(&pipe);
    for _ in 0..n + 5 {
        c.read_reply();
    }
}

/// Writes continuously to `port` until stopped; returns the writer thread.
pub fn write_load(port: u16) -> (Arc<AtomicBool>, thread::JoinHandle<u64>) {
    let stop = Arc::new(AtomicBool::new(false));
    let flag = stop.clone();
    let h = thread::spawn(move || {
        let mut c = Conn::connect(port);
        let mut i = 0u64;
        while !flag.load(Ordering::Relaxed) {
            c.cmd(&["SET", &format!("load:{}", i % 500), &i.to_string()]);
            c.cmd(&["INCR", "counter"]);
            if i.is_multiple_of(7) {
                c.cmd(&["DEL", &format!("key:{}", i % 300)]);
            }
            if i.is_multiple_of(11) {
                c.cmd(&["SET", &format!("exp:{i}"), "v", "PX", "100000"]);
            }
            i += 1;
        }
        i
    });
    (stop, h)
}

pub fn replicate_with_load(master: &Server, replica: &Server) {
    let (stop, h) = write_load(master.port);
    let mut r = replica.conn();
    assert_eq!(
        s(&r.cmd(&["REPLICAOF", "127.0.0.1", &master.port.to_string()])),
        "+OK\r\n"
    );
    assert!(
        wait_until(SYNC_TIMEOUT, || link_up(&mut r)),
        "link never came up"
    );
    // The load goes on after the sync: the stream carries live writes.
    let mut m = master.conn();
    let at_link = offset(&mut m);
    assert!(wait_until(SYNC_TIMEOUT, || offset(&mut m) > at_link + 10_000));
    stop.store(true, Ordering::Relaxed);
    let writes = h.join().expect("writer");
    assert!(writes > 0);
    wait_in_sync(master, &[replica]);
}
