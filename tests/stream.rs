//! Streams against a real redis-server 7.0.15 and against a model:
//! a random workload (XADD with every ID form and trim option, XDEL,
//! XTRIM, XRANGE/XREVRANGE, XREADGROUP, XACK, XCLAIM, XAUTOCLAIM, XINFO,
//! MEMORY USAGE, DUMP) whose every reply must equal Redis's byte for byte,
//! checked at the same time against an in-test model of the entries and
//! the pending entries; big streams over many nodes; SCAN TYPE.
//! Persistence and replication interchange are in `stream_interchange.rs`.

mod common;

use common::{escape, parse, RedisServer, Rng, Server, Value};
use std::collections::{BTreeMap, BTreeSet};

/// `percent` in 100 (on the one test xorshift).
trait Chance {
    fn chance(&mut self, percent: u64) -> bool;
}

impl Chance for Rng {
    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

type Id = (u64, u64);
type Fields = Vec<(String, String)>;
/// Pending entries: id -> (owner, deliveries).
type Pel = BTreeMap<Id, (String, u64)>;

fn id_str(id: Id) -> String {
    format!("{}-{}", id.0, id.1)
}

/// What the stream must hold.
#[derive(Default)]
struct Model {
    entries: BTreeMap<Id, Fields>,
    last: Id,
    /// group -> (last delivered, PEL id -> (owner, deliveries))
    groups: BTreeMap<String, (Id, Pel)>,
    /// Approximate trims make the model follow the servers' answer.
    resync: bool,
}

struct Pair {
    redis: common::Conn,
    ferrodis: common::Conn,
    commands: usize,
}

impl Pair {
    /// A fresh redis-server and ferrodis, and a connection to each.
    fn start() -> (Server, Server, Pair) {
        let redis = RedisServer::start(&[]);
        let ferrodis = Server::start(&[]);
        let p = Pair {
            redis: redis.conn(),
            ferrodis: ferrodis.conn(),
            commands: 0,
        };
        (redis, ferrodis, p)
    }

    /// Sends to both, returns (Redis's reply, ferrodis's reply).
    fn send_both(&mut self, args: &[String]) -> (Vec<u8>, Vec<u8>) {
        let a: Vec<&[u8]> = args.iter().map(|s| s.as_bytes()).collect();
        self.redis.send(&a);
        self.ferrodis.send(&a);
        self.commands += 1;
        (self.redis.read_reply(), self.ferrodis.read_reply())
    }

    /// Sends to both; the replies must be identical. Returns Redis's.
    fn both(&mut self, args: &[String]) -> Vec<u8> {
        let (r, f) = self.send_both(args);
        assert_eq!(
            escape(&f),
            escape(&r),
            "after {} commands: {}",
            self.commands,
            args.join(" ")
        );
        r
    }

    /// Like `both` for an extended XPENDING: the idle times (each
    /// server's clock) are left out of the comparison.
    fn both_pending(&mut self, args: &[String]) -> Vec<u8> {
        let (r, f) = self.send_both(args);
        let strip = |v: Value| match v {
            Value::Array(items) => items
                .into_iter()
                .map(|e| {
                    let mut e = e.array().to_vec();
                    e[2] = Value::Nil;
                    e
                })
                .collect::<Vec<_>>(),
            _ => Vec::new(),
        };
        assert_eq!(strip(parse(&f)), strip(parse(&r)), "{}", args.join(" "));
        r
    }
}

/// A command from its space-separated words.
fn words(line: &str) -> Vec<String> {
    line.split(' ').map(str::to_string).collect()
}

fn a(parts: &[&str]) -> Vec<String> {
    parts.iter().map(|s| s.to_string()).collect()
}

fn entries_of(v: &Value) -> Vec<(Id, Fields)> {
    let mut out = Vec::new();
    let Value::Array(items) = v else {
        return out;
    };
    for it in items {
        let e = it.array();
        let id = e[0].text();
        let (ms, seq) = id.split_once('-').expect("id");
        let fv = match &e[1] {
            Value::Array(f) => f.chunks(2).map(|p| (p[0].text(), p[1].text())).collect(),
            _ => Vec::new(),
        };
        out.push(((ms.parse().expect("ms"), seq.parse().expect("seq")), fv));
    }
    out
}

fn random_fields(r: &mut Rng) -> Fields {
    let n = 1 + r.below(3) as usize;
    let shapes = [
        vec!["a", "b", "c"],
        vec!["a", "b", "c"],
        vec!["field", "1", "-7"],
        vec!["x"],
    ];
    let shape = &shapes[r.below(shapes.len() as u64) as usize];
    (0..n)
        .map(|i| {
            let f = shape.get(i).copied().unwrap_or("z").to_string();
            let v = match r.below(5) {
                0 => r.below(1000).to_string(),
                1 => format!("-{}", r.below(100_000)),
                2 => "v".repeat(1 + r.below(40) as usize),
                3 => String::new(),
                _ => format!("val{}", r.below(50)),
            };
            (f, v)
        })
        .collect()
}

/// One random command on `key`, checked against Redis and the model.
fn step(p: &mut Pair, m: &mut Model, r: &mut Rng, key: &str) {
    match r.below(100) {
        0..=34 => {
            // XADD with an explicit, a partial or an automatic-sequence ID.
            let gap = if r.chance(30) { 0 } else { 1 + r.below(3) };
            let ms = m.last.0 + gap;
            let (id_arg, id) = match r.below(3) {
                0 if gap > 0 => (format!("{ms}"), (ms, 0)),
                1 => {
                    let seq = if ms == m.last.0 { m.last.1 + 1 } else { 0 };
                    (format!("{ms}-*"), (ms, seq))
                }
                _ => {
                    let seq = if ms == m.last.0 {
                        m.last.1 + 1 + r.below(2)
                    } else {
                        r.below(3)
                    };
                    (format!("{ms}-{seq}"), (ms, seq))
                }
            };
            let fv = random_fields(r);
            let mut args = a(&["XADD", key]);
            let mut trim = None;
            if r.chance(15) {
                let approx = r.chance(50);
                let n = r.below(25);
                args.extend(a(&["MAXLEN", if approx { "~" } else { "=" }]));
                args.push(n.to_string());
                if approx && r.chance(30) {
                    args.extend(a(&["LIMIT", &r.below(20).to_string()]));
                }
                trim = Some((approx, n));
            }
            args.push(id_arg);
            for (f, v) in &fv {
                args.push(f.clone());
                args.push(v.clone());
            }
            let rep = p.both(&args);
            assert_eq!(
                rep,
                format!("${}\r\n{}\r\n", id_str(id).len(), id_str(id)).into_bytes()
            );
            m.entries.insert(id, fv);
            m.last = id;
            match trim {
                Some((false, n)) => {
                    while m.entries.len() as u64 > n {
                        let first = *m.entries.keys().next().expect("entry");
                        m.entries.remove(&first);
                    }
                }
                Some((true, _)) => m.resync = true,
                None => {}
            }
        }
        35..=44 => {
            // XDEL of existing and missing IDs.
            let mut args = a(&["XDEL", key]);
            let mut want = 0;
            let keys: Vec<Id> = m.entries.keys().copied().collect();
            let mut seen = BTreeSet::new();
            for _ in 0..1 + r.below(4) {
                let id = if !keys.is_empty() && r.chance(70) {
                    keys[r.below(keys.len() as u64) as usize]
                } else {
                    (r.below(m.last.0 + 2), r.below(3))
                };
                if seen.insert(id) && m.entries.remove(&id).is_some() {
                    want += 1;
                }
                args.push(id_str(id));
            }
            assert_eq!(p.both(&args), format!(":{want}\r\n").into_bytes());
        }
        45..=49 => {
            // XTRIM, exact or approximate.
            let approx = r.chance(50);
            let by_id = r.chance(40);
            let mut args = a(&["XTRIM", key]);
            if by_id {
                let min = (r.below(m.last.0 + 2), r.below(2));
                args.extend(a(&["MINID", if approx { "~" } else { "=" }, &id_str(min)]));
                if !approx {
                    m.entries.retain(|id, _| *id >= min);
                }
            } else {
                let n = r.below(30) as usize;
                args.extend(a(&[
                    "MAXLEN",
                    if approx { "~" } else { "=" },
                    &n.to_string(),
                ]));
                if !approx {
                    while m.entries.len() > n {
                        let first = *m.entries.keys().next().expect("entry");
                        m.entries.remove(&first);
                    }
                }
            }
            if approx && r.chance(40) {
                args.extend(a(&["LIMIT", &r.below(30).to_string()]));
            }
            p.both(&args);
            m.resync |= approx;
        }
        50..=64 => {
            // A range, checked against the model.
            let lo = (r.below(m.last.0 + 2), r.below(3));
            let hi = (lo.0 + r.below(6), r.below(3));
            let rev = r.chance(40);
            let count = r.chance(50).then(|| r.below(8));
            let (start, end) = if r.chance(20) {
                ("-".to_string(), "+".to_string())
            } else {
                (id_str(lo), id_str(hi))
            };
            let mut args = if rev {
                a(&["XREVRANGE", key, &end, &start])
            } else {
                a(&["XRANGE", key, &start, &end])
            };
            if let Some(c) = count {
                args.extend(a(&["COUNT", &c.to_string()]));
            }
            let rep = p.both(&args);
            if !m.resync && count != Some(0) {
                let (lo, hi) = if start == "-" {
                    ((0, 0), (u64::MAX, u64::MAX))
                } else {
                    (lo, hi)
                };
                let mut want: Vec<(Id, Fields)> = m
                    .entries
                    .range(lo..=hi.max(lo))
                    .filter(|(id, _)| **id <= hi)
                    .map(|(k, v)| (*k, v.clone()))
                    .collect();
                if rev {
                    want.reverse();
                }
                if let Some(c) = count {
                    want.truncate(c as usize);
                }
                assert_eq!(entries_of(&parse(&rep)), want, "{}", args.join(" "));
            }
        }
        65..=74 => {
            // XREADGROUP: new entries, or a consumer's history.
            let g = format!("g{}", r.below(2));
            if !m.groups.contains_key(&g) {
                let start = if r.chance(50) {
                    "0".to_string()
                } else {
                    "$".to_string()
                };
                p.both(&a(&["XGROUP", "CREATE", key, &g, &start, "MKSTREAM"]));
                let last = if start == "$" { m.last } else { (0, 0) };
                m.groups.insert(g.clone(), (last, BTreeMap::new()));
            }
            let c = format!("c{}", r.below(3));
            let count = 1 + r.below(4);
            let noack = r.chance(15);
            let history = r.chance(25);
            let mut args = a(&["XREADGROUP", "GROUP", &g, &c, "COUNT", &count.to_string()]);
            if noack {
                args.push("NOACK".into());
            }
            args.extend(a(&["STREAMS", key, if history { "0" } else { ">" }]));
            let rep = p.both(&args);
            if !m.resync && !history {
                let (last, pel) = m.groups.get_mut(&g).expect("group");
                let want: Vec<(Id, Fields)> = m
                    .entries
                    .range((last.0, last.1.saturating_add(1))..)
                    .filter(|(id, _)| **id > *last)
                    .take(count as usize)
                    .map(|(k, v)| (*k, v.clone()))
                    .collect();
                let got = match parse(&rep) {
                    Value::Array(keys) => entries_of(&keys[0].array()[1]),
                    _ => Vec::new(),
                };
                assert_eq!(got, want, "{}", args.join(" "));
                for (id, _) in &want {
                    *last = *id;
                    if !noack {
                        pel.insert(*id, (c.clone(), 1));
                    }
                }
            }
        }
        75..=81 => {
            // XACK some pending IDs.
            let g = format!("g{}", r.below(2));
            let Some((_, pel)) = m.groups.get_mut(&g) else {
                return;
            };
            let ids: Vec<Id> = pel.keys().copied().collect();
            let mut args = a(&["XACK", key, &g]);
            let mut want = 0;
            let mut seen = BTreeSet::new();
            for _ in 0..1 + r.below(3) {
                let id = if !ids.is_empty() && r.chance(80) {
                    ids[r.below(ids.len() as u64) as usize]
                } else {
                    (r.below(m.last.0 + 1), 0)
                };
                if seen.insert(id) && pel.remove(&id).is_some() {
                    want += 1;
                }
                args.push(id_str(id));
            }
            let rep = p.both(&args);
            if !m.resync {
                assert_eq!(rep, format!(":{want}\r\n").into_bytes());
            }
        }
        82..=87 => {
            // XCLAIM to another consumer (min-idle 0: always claimable).
            let g = format!("g{}", r.below(2));
            let Some((_, pel)) = m.groups.get_mut(&g) else {
                return;
            };
            let ids: Vec<Id> = pel.keys().copied().collect();
            if ids.is_empty() {
                return;
            }
            let c = format!("c{}", r.below(3));
            let id = ids[r.below(ids.len() as u64) as usize];
            let justid = r.chance(50);
            let mut args = a(&["XCLAIM", key, &g, &c, "0", &id_str(id)]);
            if justid {
                args.push("JUSTID".into());
            }
            if r.chance(20) {
                args.extend(a(&["RETRYCOUNT", "5"]));
            }
            p.both(&args);
            if m.entries.contains_key(&id) {
                pel.insert(id, (c, 0));
            } else {
                pel.remove(&id);
            }
        }
        88..=91 => {
            let g = format!("g{}", r.below(2));
            if !m.groups.contains_key(&g) {
                return;
            }
            let c = format!("c{}", r.below(3));
            let mut args = a(&[
                "XAUTOCLAIM",
                key,
                &g,
                &c,
                "0",
                "-",
                "COUNT",
                &(1 + r.below(5)).to_string(),
            ]);
            if r.chance(50) {
                args.push("JUSTID".into());
            }
            p.both(&args);
            // Which entries moved is checked by XPENDING below.
            m.resync = true;
        }
        92..=94 => {
            for g in ["g0", "g1"] {
                let rep = p.both(&a(&["XPENDING", key, g]));
                if let (false, Some((_, pel))) = (m.resync, m.groups.get(g)) {
                    assert_eq!(parse(&rep).array()[0].int(), pel.len() as i64);
                }
            }
        }
        95..=96 => {
            p.both(&a(&["XINFO", "STREAM", key]));
            p.both(&a(&["XINFO", "GROUPS", key]));
            p.both(&a(&["XLEN", key]));
        }
        97 => {
            p.both(&a(&["MEMORY", "USAGE", key]));
            p.both(&a(&["MEMORY", "USAGE", key, "SAMPLES", "0"]));
        }
        98 => {
            p.both(&a(&["DEBUG", "DIGEST-VALUE", key]));
        }
        _ => {
            let n = [1, 2, 3, 5, 10, 100][r.below(6) as usize];
            let bytes = [0, 40, 80, 200, 4096][r.below(5) as usize];
            p.both(&a(&[
                "CONFIG",
                "SET",
                "stream-node-max-entries",
                &n.to_string(),
            ]));
            p.both(&a(&[
                "CONFIG",
                "SET",
                "stream-node-max-bytes",
                &bytes.to_string(),
            ]));
        }
    }
    if m.resync {
        resync(p, m, key);
    }
}

/// After an approximate trim or an autoclaim the model takes the state
/// both servers agree on (their replies were compared already).
fn resync(p: &mut Pair, m: &mut Model, key: &str) {
    let rep = p.both(&a(&["XRANGE", key, "-", "+"]));
    m.entries = entries_of(&parse(&rep)).into_iter().collect();
    for (g, (last, pel)) in m.groups.iter_mut() {
        let rep = p.both_pending(&a(&["XPENDING", key, g, "-", "+", "100000"]));
        pel.clear();
        if let Value::Array(items) = parse(&rep) {
            for it in items {
                let it = it.array();
                let (ms, seq) = it[0]
                    .text()
                    .split_once('-')
                    .map(|(a, b)| (a.to_string(), b.to_string()))
                    .expect("id");
                pel.insert(
                    (ms.parse().expect("ms"), seq.parse().expect("seq")),
                    (it[1].text(), 0),
                );
            }
        }
        let rep = parse(&p.both(&a(&["XINFO", "GROUPS", key])));
        for grp in rep.array() {
            let f = grp.array();
            if f[1].text() == *g {
                let (ms, seq) = f[7]
                    .text()
                    .split_once('-')
                    .map(|(a, b)| (a.to_string(), b.to_string()))
                    .expect("id");
                *last = (ms.parse().expect("ms"), seq.parse().expect("seq"));
            }
        }
    }
    m.resync = false;
}

#[test]
fn random_workload_matches_redis_and_model() {
    let (_redis, _ferrodis, mut p) = Pair::start();
    for seed in 1..=6u64 {
        let mut r = Rng(0x9E37_79B9_7F4A_7C15 ^ seed.wrapping_mul(0x1234_5678_9ABC));
        let key = format!("s{seed}");
        let mut m = Model::default();
        for _ in 0..700 {
            step(&mut p, &mut m, &mut r, &key);
        }
        // The whole state, field by field and as Redis serializes it.
        p.both(&a(&["XRANGE", &key, "-", "+"]));
        p.both(&a(&["XREVRANGE", &key, "+", "-"]));
        p.both(&a(&["XINFO", "STREAM", &key]));
        p.both(&a(&["MEMORY", "USAGE", &key, "SAMPLES", "0"]));
        p.both(&a(&["DEBUG", "DIGEST-VALUE", &key]));
        let rep = p.both(&a(&["XRANGE", &key, "-", "+"]));
        assert_eq!(
            entries_of(&parse(&rep)),
            m.entries.clone().into_iter().collect::<Vec<_>>(),
            "model, seed {seed}"
        );
        let pending: usize = m.groups.values().map(|g| g.1.len()).sum();
        eprintln!(
            "seed {seed}: {} entries, {pending} pending",
            m.entries.len()
        );
        assert!(!m.groups.is_empty());
    }
    p.both(&a(&["DEBUG", "DIGEST"]));
    eprintln!("{} commands compared", p.commands);
}

/// Large streams over many nodes, trimmed and deleted across node
/// boundaries: every figure and payload equal to Redis's.
#[test]
fn big_streams_match_redis() {
    let (_redis, _ferrodis, mut p) = Pair::start();
    let mut r = Rng(77);
    for (entries, per_node, node_bytes) in [(12_000u64, 100, 4096), (5000, 7, 0), (3000, 0, 300)] {
        p.both(&a(&[
            "CONFIG",
            "SET",
            "stream-node-max-entries",
            &per_node.to_string(),
        ]));
        p.both(&a(&[
            "CONFIG",
            "SET",
            "stream-node-max-bytes",
            &node_bytes.to_string(),
        ]));
        let key = format!("big{entries}");
        // Pipelined: one batch per server, replies compared in order.
        let mut batch = Vec::new();
        for i in 0..entries {
            let f = if i % 50 == 0 { "other" } else { "name" };
            let v = format!("{}", r.below(1_000_000));
            let cmd: Vec<&[u8]> = vec![
                b"XADD",
                key.as_bytes(),
                b"*",
                f.as_bytes(),
                v.as_bytes(),
                b"n",
                b"12345",
            ];
            batch.extend(common::multibulk(&cmd));
        }
        p.redis.send_raw(&batch);
        p.ferrodis.send_raw(&batch);
        for _ in 0..entries {
            p.redis.read_reply();
            p.ferrodis.read_reply();
        }
        // Automatic IDs differ by server: rebuild both with Redis's IDs.
        let all = p.redis.cmd(&["XRANGE", &key, "-", "+"]);
        let copy = format!("{key}c");
        let mut batch = Vec::new();
        for (id, fv) in entries_of(&parse(&all)) {
            let mut cmd: Vec<Vec<u8>> = vec![
                b"XADD".to_vec(),
                copy.clone().into_bytes(),
                id_str(id).into_bytes(),
            ];
            for (f, v) in fv {
                cmd.push(f.into_bytes());
                cmd.push(v.into_bytes());
            }
            let c: Vec<&[u8]> = cmd.iter().map(|v| v.as_slice()).collect();
            batch.extend(common::multibulk(&c));
        }
        p.redis.send_raw(&batch);
        p.ferrodis.send_raw(&batch);
        for _ in 0..entries {
            assert_eq!(p.ferrodis.read_reply(), p.redis.read_reply());
        }
        let key = copy;
        let check = |p: &mut Pair| {
            p.both(&a(&["XINFO", "STREAM", &key]));
            p.both(&a(&["XLEN", &key]));
            p.both(&a(&["MEMORY", "USAGE", &key]));
            p.both(&a(&["MEMORY", "USAGE", &key, "SAMPLES", "0"]));
            p.both(&a(&["DUMP", &key]));
        };
        check(&mut p);
        let ids: Vec<Id> = entries_of(&parse(
            &p.both(&a(&["XRANGE", &key, "-", "+", "COUNT", "1000000"])),
        ))
        .into_iter()
        .map(|e| e.0)
        .collect();
        for _ in 0..40 {
            let i = r.below(ids.len() as u64) as usize;
            let j = (i + r.below(300) as usize).min(ids.len() - 1);
            let (lo, hi) = (id_str(ids[i]), id_str(ids[j]));
            p.both(&words(&format!("XRANGE {key} {lo} {hi} COUNT 50")));
            p.both(&words(&format!("XREVRANGE {key} {hi} {lo} COUNT 50")));
            p.both(&a(&[
                "XRANGE",
                &key,
                &format!("({}", id_str(ids[i])),
                "+",
                "COUNT",
                "10",
            ]));
        }
        // Delete runs that empty whole nodes, and scattered entries.
        for _ in 0..30 {
            let i = r.below(ids.len() as u64) as usize;
            let mut args = a(&["XDEL", &key]);
            for id in ids.iter().skip(i).take(1 + r.below(120) as usize) {
                args.push(id_str(*id));
            }
            p.both(&args);
        }
        check(&mut p);
        let len = ids.len() as u64;
        for cut in [len / 10, len / 5, len / 3] {
            p.both(&a(&[
                "XTRIM",
                &key,
                "MAXLEN",
                "~",
                &(len - cut).to_string(),
            ]));
            check(&mut p);
            p.both(&a(&["XTRIM", &key, "MAXLEN", &(len - cut - 3).to_string()]));
            check(&mut p);
        }
        let mid = ids[ids.len() / 2];
        p.both(&a(&["XTRIM", &key, "MINID", "~", &id_str(mid)]));
        check(&mut p);
        p.both(&a(&["XTRIM", &key, "MINID", &id_str(mid), "LIMIT", "0"]));
        p.both(&a(&["XTRIM", &key, "MINID", "=", &id_str(mid)]));
        check(&mut p);
        let next = format!("{}-0", ids[ids.len() - 1].0 + 1);
        p.both(&a(&[
            "XADD", &key, "MAXLEN", "~", "1000", "LIMIT", "5000", &next, "f", "v",
        ]));
        p.both(&a(&["XLEN", &key]));
        // (SHA1 per field: slow in a debug build, so once per stream.)
        p.both(&a(&["DEBUG", "DIGEST-VALUE", &key]));
    }
    p.both(&a(&["CONFIG", "SET", "stream-node-max-entries", "100"]));
    p.both(&a(&["CONFIG", "SET", "stream-node-max-bytes", "4096"]));
}

#[test]
fn scan_type_and_type_of_streams() {
    let f = Server::start(&[]);
    let mut c = f.conn();
    c.cmd(&["XADD", "s1", "1-0", "a", "1"]);
    c.cmd(&["XGROUP", "CREATE", "s2", "g", "$", "MKSTREAM"]);
    c.cmd(&["SET", "str", "x"]);
    c.cmd(&["LPUSH", "l", "x"]);
    let rep = parse(&c.cmd(&["SCAN", "0", "TYPE", "stream", "COUNT", "100"]));
    let mut keys: Vec<String> = rep.array()[1].array().iter().map(|v| v.text()).collect();
    keys.sort();
    assert_eq!(keys, ["s1", "s2"]);
    assert_eq!(c.cmd(&["TYPE", "s2"]), b"+stream\r\n");
    assert_eq!(c.cmd(&["OBJECT", "ENCODING", "s2"]), b"$6\r\nstream\r\n");
    assert_eq!(
        c.cmd(&["LPUSH", "s1", "x"]),
        b"-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"
    );
    assert_eq!(
        c.cmd(&["XLEN", "l"]),
        b"-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"
    );
}

/// Stream commands with random arguments (options in any order, bad IDs,
/// bad numbers, missing values) against Redis: the same reply, error
/// text included, or for the replies that carry each server's clock
/// (idle and delivery times) the same kind of reply.
#[test]
fn random_arguments_match_redis() {
    const CMDS: &str = "\
        XADD XRANGE XREVRANGE XLEN XDEL XTRIM XSETID XREAD XREADGROUP XGROUP XACK \
        XPENDING XCLAIM XAUTOCLAIM XINFO";
    const ARGS: &str = "\
        s s s t nokey str g g g2 c c2 0 1 -1 5 $ > - + (1 (5-0 1-1 2-0 3 5-* 0-0 1-x \
        99999999999999999999 18446744073709551615-18446744073709551615 MAXLEN MINID ~ = \
        LIMIT NOMKSTREAM COUNT STREAMS GROUP NOACK IDLE TIME RETRYCOUNT FORCE JUSTID \
        LASTID MKSTREAM ENTRIESREAD ENTRIESADDED MAXDELETEDID CREATE SETID DESTROY \
        CREATECONSUMER DELCONSUMER HELP STREAM GROUPS CONSUMERS FULL f v";
    let cmds: Vec<&str> = CMDS.split(' ').collect();
    // The empty argument too.
    let pool: Vec<&str> = ARGS.split(' ').chain([""]).collect();
    // Replies that show a clock: compared by kind only.
    let timed = |args: &[&str]| {
        let has = |w: &str| args.iter().any(|a| a.eq_ignore_ascii_case(w));
        matches!(args[0], "XPENDING" | "XAUTOCLAIM" | "XCLAIM")
            || (args[0] == "XINFO" && (has("FULL") || has("CONSUMERS")))
    };
    let (_redis, _ferrodis, mut p) = Pair::start();
    let mut r = Rng(std::env::var("SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(4242));
    let setup = |p: &mut Pair| {
        for line in [
            "FLUSHALL",
            "XADD s 1-1 f v",
            "XADD s 2-0 f v g w",
            "XADD s 4-0 f 1",
            "XGROUP CREATE s g 0",
            "XREADGROUP GROUP g c COUNT 2 STREAMS s >",
            "XADD t 1-0 a b",
            "SET str x",
        ] {
            p.both(&words(line));
        }
    };
    let rounds = std::env::var("ROUNDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(4000);
    for i in 0..rounds {
        if i % 200 == 0 {
            setup(&mut p);
        }
        let mut args = vec![*r.pick(&cmds)];
        for _ in 0..1 + r.below(9) {
            args.push(*r.pick(&pool));
        }
        let owned: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        if !timed(&args) {
            p.both(&owned);
            continue;
        }
        let (rr, fr) = p.send_both(&owned);
        assert_eq!(
            fr.first(),
            rr.first(),
            "{}: {} vs {}",
            args.join(" "),
            escape(&fr),
            escape(&rr)
        );
        if rr.starts_with(b"-") {
            assert_eq!(escape(&fr), escape(&rr), "{}", args.join(" "));
        }
    }
}
