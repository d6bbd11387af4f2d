//! Integration tests for sorted sets, HyperLogLog and blocking pops, run
//! against the real binary: a randomized model check of the sorted set
//! across the listpack -> skiplist conversion, HLL bytes compared with a
//! real redis-server (which must be installed: make deps), BZPOPMIN
//! serving and timing out. Servers and connections are tests/common's.

mod common;

use common::Rng;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

/// Servers come from the shared harness (tests/common).
fn ferrodis() -> common::Server {
    common::Server::start(&["--appendonly", "no"])
}

#[derive(Debug, PartialEq, Clone)]
enum Reply {
    Simple(String),
    Error(String),
    Int(i64),
    Bulk(Option<Vec<u8>>),
    Array(Option<Vec<Reply>>),
}

impl Reply {
    fn int(&self) -> i64 {
        match self {
            Reply::Int(n) => *n,
            r => panic!("not an int: {r:?}"),
        }
    }
    fn bytes(&self) -> Vec<u8> {
        match self {
            Reply::Bulk(Some(b)) => b.clone(),
            r => panic!("not a bulk: {r:?}"),
        }
    }
    fn strings(&self) -> Vec<String> {
        match self {
            Reply::Array(Some(v)) => v
                .iter()
                .map(|r| String::from_utf8_lossy(&r.bytes()).into_owned())
                .collect(),
            r => panic!("not an array: {r:?}"),
        }
    }
}

impl From<common::Value> for Reply {
    fn from(v: common::Value) -> Reply {
        use common::Value as V;
        match v {
            V::Simple(t) => Reply::Simple(t),
            V::Error(t) => Reply::Error(t),
            V::Int(n) => Reply::Int(n),
            V::Bulk(b) => Reply::Bulk(Some(b)),
            V::Double(t) => Reply::Bulk(Some(t.into_bytes())),
            V::Bool(b) => Reply::Int(b.into()),
            V::Nil => Reply::Bulk(None),
            V::NilArray => Reply::Array(None),
            V::Array(v) => Reply::Array(Some(v.into_iter().map(Reply::from).collect())),
            V::Map(kv) => Reply::Array(Some(
                kv.into_iter()
                    .flat_map(|(k, v)| [Reply::from(k), Reply::from(v)])
                    .collect(),
            )),
        }
    }
}

/// A connection of the shared harness, replies decoded into this file's
/// `Reply` view.
struct Conn(common::Conn);

impl Conn {
    fn open(port: u16) -> std::io::Result<Conn> {
        common::Conn::try_connect(port).map(Conn)
    }

    fn send(&mut self, args: &[&str]) {
        let a: Vec<&[u8]> = args.iter().map(|x| x.as_bytes()).collect();
        self.0.send(&a);
    }

    fn read(&mut self) -> Reply {
        Reply::from(common::parse(&self.0.read_reply()))
    }

    fn cmd(&mut self, args: &[&str]) -> Reply {
        self.send(args);
        self.read()
    }

    /// A command with binary arguments.
    fn cmd_bytes(&mut self, args: &[&[u8]]) -> Reply {
        self.0.send(args);
        self.read()
    }

    /// Waits until INFO reports `n` blocked clients.
    fn wait_blocked(&mut self, n: usize) {
        let ok = common::wait_until(Duration::from_secs(10), || {
            common::info_field(&mut self.0, "clients", "blocked_clients") == Some(n.to_string())
        });
        assert!(ok, "never got {n} blocked clients");
    }
}

fn fmt_score(s: f64) -> String {
    if s == s.trunc() && s.abs() < 1e15 {
        format!("{}", s as i64)
    } else {
        format!("{s}")
    }
}

/// The model's (member, score) list in sorted-set order.
fn model_order(m: &BTreeMap<String, f64>) -> Vec<(String, f64)> {
    let mut v: Vec<(String, f64)> = m.iter().map(|(k, s)| (k.clone(), *s)).collect();
    v.sort_by(|a, b| a.1.total_cmp(&b.1).then_with(|| a.0.cmp(&b.0)));
    v
}

#[test]
fn zset_matches_model_across_conversion() {
    let srv = ferrodis();
    let mut c = Conn::open(srv.port).expect("connect");
    for seed in [0x9E37_79B9_7F4A_7C15u64, 42, 7777] {
        c.cmd(&["DEL", "z"]);
        let mut rng = Rng(seed);
        let mut model: BTreeMap<String, f64> = BTreeMap::new();
        let mut saw = (false, false);
        for step in 0..1500 {
            let member = format!("m{}", rng.below(260));
            let score = (rng.below(80) as f64 - 40.0) / 2.0;
            match rng.below(10) {
                0..=5 => {
                    let r = c.cmd(&["ZADD", "z", &fmt_score(score), &member]);
                    let new = model.insert(member, score).is_none();
                    assert_eq!(r.int(), new as i64);
                }
                6 => {
                    let r = c.cmd(&["ZINCRBY", "z", &fmt_score(score), &member]);
                    let v = model.entry(member).or_insert(0.0);
                    *v += score;
                    let got: f64 = String::from_utf8_lossy(&r.bytes()).parse().expect("f64");
                    assert_eq!(got, *v);
                }
                7 | 8 => {
                    let r = c.cmd(&["ZREM", "z", &member]);
                    assert_eq!(r.int(), model.remove(&member).is_some() as i64);
                }
                _ => {
                    let r = c.cmd(&["ZREMRANGEBYSCORE", "z", "(9", "10"]);
                    let before = model.len();
                    model.retain(|_, s| !(*s > 9.0 && *s <= 10.0));
                    assert_eq!(r.int(), (before - model.len()) as i64);
                }
            }
            let enc = match c.cmd(&["OBJECT", "ENCODING", "z"]) {
                Reply::Bulk(Some(b)) => String::from_utf8_lossy(&b).into_owned(),
                _ => String::new(),
            };
            if enc == "listpack" {
                saw.0 = true;
                assert!(model.len() <= 128);
            } else if enc == "skiplist" {
                saw.1 = true;
            }
            if step % 25 != 0 && step < 1490 {
                continue;
            }
            let order = model_order(&model);
            let got = c.cmd(&["ZRANGE", "z", "0", "-1", "WITHSCORES"]).strings();
            let want: Vec<String> = order
                .iter()
                .flat_map(|(m, s)| [m.clone(), fmt_score(*s)])
                .collect();
            assert_eq!(got, want, "seed {seed} step {step}");
            for (rank, (m, _)) in order.iter().enumerate().step_by(7) {
                assert_eq!(c.cmd(&["ZRANK", "z", m]).int(), rank as i64);
                let rev = order.len() - 1 - rank;
                assert_eq!(c.cmd(&["ZREVRANK", "z", m]).int(), rev as i64);
            }
            let lo = (rng.below(40) as f64 - 20.0) / 2.0;
            let hi = lo + rng.below(20) as f64 / 2.0;
            let want = model.values().filter(|&&s| s > lo && s <= hi).count();
            let got = c.cmd(&[
                "ZCOUNT",
                "z",
                &format!("({}", fmt_score(lo)),
                &fmt_score(hi),
            ]);
            assert_eq!(got.int(), want as i64);
            let got = c
                .cmd(&[
                    "ZRANGEBYSCORE",
                    "z",
                    &fmt_score(lo),
                    &fmt_score(hi),
                    "LIMIT",
                    "1",
                    "5",
                ])
                .strings();
            let want: Vec<String> = order
                .iter()
                .filter(|(_, s)| *s >= lo && *s <= hi)
                .skip(1)
                .take(5)
                .map(|(m, _)| m.clone())
                .collect();
            assert_eq!(got, want);
        }
        assert!(saw.0 && saw.1, "both encodings exercised: {saw:?}");
    }
}

#[test]
fn hll_bytes_match_real_redis() {
    // Fails loudly (run make deps) when redis-server is missing.
    let real = common::RedisServer::start(&["--appendonly", "no"]);
    let ours = ferrodis();
    let mut a = Conn::open(real.port).expect("redis");
    let mut b = Conn::open(ours.port).expect("ferrodis");
    let mut rng = Rng(12345);
    for round in 0..40 {
        let n = 1 + rng.below(if round < 20 { 30 } else { 400 });
        let els: Vec<String> = (0..n)
            .map(|_| format!("el{}", rng.below(100_000)))
            .collect();
        let mut args = vec!["PFADD", "h"];
        args.extend(els.iter().map(String::as_str));
        assert_eq!(a.cmd(&args), b.cmd(&args), "round {round}");
        if round % 3 == 0 {
            assert_eq!(a.cmd(&["PFCOUNT", "h"]), b.cmd(&["PFCOUNT", "h"]));
        }
        assert_eq!(a.cmd(&["GET", "h"]), b.cmd(&["GET", "h"]), "round {round}");
    }
    // A value made by the real server is understood by ours and vice versa.
    let dense = a.cmd(&["GET", "h"]).bytes();
    assert_eq!(dense.len(), 12304);
    // (Binary-safe: the registers are rarely valid UTF-8.)
    assert_eq!(
        b.cmd_bytes(&[b"SET", b"copy", &dense]),
        Reply::Simple("OK".into())
    );
    assert_eq!(b.cmd(&["PFCOUNT", "copy"]), a.cmd(&["PFCOUNT", "h"]));
    let ours_dense = b.cmd(&["GET", "h"]).bytes();
    assert_eq!(
        a.cmd_bytes(&[b"SET", b"copy", &ours_dense]),
        Reply::Simple("OK".into())
    );
    assert_eq!(a.cmd(&["PFCOUNT", "copy"]), b.cmd(&["PFCOUNT", "h"]));
    assert_eq!(
        a.cmd(&["PFCOUNT", "h", "nokey"]),
        b.cmd(&["PFCOUNT", "h", "nokey"])
    );
}

#[test]
fn bzpopmin_blocks_serves_and_times_out() {
    let srv = ferrodis();
    let mut a = Conn::open(srv.port).expect("connect");
    let mut b = Conn::open(srv.port).expect("connect");
    let t = Instant::now();
    assert_eq!(a.cmd(&["BZPOPMIN", "nokey", "0.2"]), Reply::Array(None));
    assert!(t.elapsed() >= Duration::from_millis(150));
    a.send(&["BZPOPMIN", "k1", "k2", "0"]);
    b.wait_blocked(1);
    assert_eq!(b.cmd(&["ZADD", "k2", "5", "x", "3", "y"]).int(), 2);
    assert_eq!(a.read().strings(), vec!["k2", "y", "3"]);
    a.send(&["BZMPOP", "0", "1", "k3", "MAX", "COUNT", "2"]);
    b.wait_blocked(1);
    b.cmd(&["ZADD", "k3", "1", "a", "2", "b", "3", "c"]);
    let r = a.read();
    let want = Reply::Array(Some(vec![
        Reply::Bulk(Some(b"k3".to_vec())),
        Reply::Array(Some(vec![
            Reply::Array(Some(vec![
                Reply::Bulk(Some(b"c".to_vec())),
                Reply::Bulk(Some(b"3".to_vec())),
            ])),
            Reply::Array(Some(vec![
                Reply::Bulk(Some(b"b".to_vec())),
                Reply::Bulk(Some(b"2".to_vec())),
            ])),
        ])),
    ]));
    assert_eq!(r, want);
    assert_eq!(b.cmd(&["ZCARD", "k3"]).int(), 1);
    // Inside MULTI a blocking pop never blocks.
    a.cmd(&["MULTI"]);
    a.cmd(&["BZPOPMAX", "empty", "0"]);
    assert_eq!(
        a.cmd(&["EXEC"]),
        Reply::Array(Some(vec![Reply::Array(None)]))
    );
}

/// Sends `args` to both servers; their replies must be byte-identical.
fn both(a: &mut common::Conn, b: &mut common::Conn, args: &[&str]) {
    let (ra, rb) = (a.cmd(args), b.cmd(args));
    assert_eq!(
        common::escape(&ra),
        common::escape(&rb),
        "reply to {args:?} differs"
    );
}

/// Every element a full `cmd` (SSCAN, ZSCAN...) of `key` returns, in
/// groups of `width` strings (2: member and score); none twice.
fn full_scan(
    c: &mut common::Conn,
    cmd: &str,
    key: &str,
    width: usize,
) -> std::collections::BTreeSet<Vec<String>> {
    let mut seen = std::collections::BTreeSet::new();
    let mut cursor = "0".to_string();
    loop {
        let r = Reply::from(common::parse(&c.cmd(&[cmd, key, &cursor])));
        let Reply::Array(Some(parts)) = r else {
            panic!("{cmd} reply")
        };
        cursor = String::from_utf8(parts[0].bytes()).expect("cursor");
        for item in parts[1].strings().chunks(width) {
            assert!(seen.insert(item.to_vec()), "{cmd} returned {item:?} twice");
        }
        if cursor == "0" {
            return seen;
        }
    }
}

/// A big sorted set churned against real redis-server: grows past the
/// listpack limit, shrinks by every kind of removal (so the skiplist's
/// arena is renumbered and the member index resizes both ways), with
/// every reply compared byte for byte and, between phases, the whole
/// set, ranks, scores and a full ZSCAN.
#[test]
fn zset_churn_matches_real_redis() {
    let ours = ferrodis();
    let theirs = common::RedisServer::start(&[]);
    let mut a = ours.conn();
    let mut b = theirs.conn();
    let mut rng = Rng(0x5EED_2026);
    for phase in 0..8 {
        let grow = phase % 2 == 0;
        let pool = if phase < 4 { 3000 } else { 400 };
        for _ in 0..1500 {
            let m = format!("member:{}", rng.below(pool));
            let score = format!("{}", rng.below(500) as i64 - 250);
            match rng.below(if grow { 4 } else { 12 }) {
                0..=2 => both(&mut a, &mut b, &["ZADD", "z", &score, &m]),
                3 => both(&mut a, &mut b, &["ZINCRBY", "z", "1.5", &m]),
                4..=6 => both(&mut a, &mut b, &["ZREM", "z", &m]),
                7 => both(&mut a, &mut b, &["ZPOPMIN", "z", &rng.below(4).to_string()]),
                8 => both(&mut a, &mut b, &["ZPOPMAX", "z"]),
                9 => {
                    let lo = rng.below(200).to_string();
                    let hi = (rng.below(200) + 200).to_string();
                    both(&mut a, &mut b, &["ZREMRANGEBYRANK", "z", &lo, &hi])
                }
                10 => {
                    let lo = score;
                    let hi = format!("({}", rng.below(40) as i64 - 250 + 40);
                    both(&mut a, &mut b, &["ZREMRANGEBYSCORE", "z", &lo, &hi])
                }
                _ => both(&mut a, &mut b, &["ZSCORE", "z", &m]),
            }
            if rng.below(20) == 0 {
                both(&mut a, &mut b, &["ZRANK", "z", &m]);
            }
        }
        both(&mut a, &mut b, &["ZCARD", "z"]);
        both(&mut a, &mut b, &["OBJECT", "ENCODING", "z"]);
        both(&mut a, &mut b, &["ZRANGE", "z", "0", "-1", "WITHSCORES"]);
        assert_eq!(
            full_scan(&mut a, "ZSCAN", "z", 2),
            full_scan(&mut b, "ZSCAN", "z", 2),
            "phase {phase}: ZSCAN"
        );
    }
}

/// A set grown past its intset limit to thousands of members, then shrunk
/// by every kind of removal, in phases: each deterministic reply equals
/// redis-server's; random ones (SPOP, SRANDMEMBER) are checked against
/// redis-server's copy of the set and applied to it, so the two stay equal
/// (the whole set and a full SSCAN are compared between phases).
#[test]
fn set_churn_matches_real_redis() {
    let ours = ferrodis();
    let theirs = common::RedisServer::start(&[]);
    let mut a = ours.conn();
    let mut b = theirs.conn();
    let mut rng = Rng(0x5E7_2026);
    let members = |r: Vec<u8>| -> Vec<String> {
        match Reply::from(common::parse(&r)) {
            Reply::Array(Some(items)) => items
                .iter()
                .map(|i| String::from_utf8(i.bytes()).expect("utf8"))
                .collect(),
            Reply::Bulk(Some(m)) => vec![String::from_utf8(m).expect("utf8")],
            _ => Vec::new(),
        }
    };
    for phase in 0..8 {
        let grow = phase % 2 == 0;
        let pool = if phase < 4 { 5000 } else { 300 };
        for _ in 0..1500 {
            // Integers first (an intset), then long members (heap strings).
            let m = match (phase, rng.below(3)) {
                (0, _) => rng.below(pool).to_string(),
                (_, 0) => format!("a-member-name-longer-than-22-bytes:{}", rng.below(pool)),
                _ => format!("m:{}", rng.below(pool)),
            };
            match rng.below(if grow { 4 } else { 12 }) {
                0..=2 if phase == 0 => both(&mut a, &mut b, &["SADD", "s", &m]),
                0..=2 => both(&mut a, &mut b, &["SADD", "s", &m, &format!("{m}x")]),
                3 => both(&mut a, &mut b, &["SISMEMBER", "s", &m]),
                4..=6 => both(&mut a, &mut b, &["SREM", "s", &m]),
                7 => both(&mut a, &mut b, &["SMOVE", "s", "t", &m]),
                8 | 9 => {
                    let n = rng.below(5).to_string();
                    let popped = members(a.cmd(&["SPOP", "s", &n]));
                    let mut args = vec!["SREM", "s"];
                    args.extend(popped.iter().map(String::as_str));
                    if popped.is_empty() {
                        continue;
                    }
                    let removed = b.cmd(&args);
                    assert_eq!(removed, format!(":{}\r\n", popped.len()).into_bytes());
                }
                10 => {
                    let drawn = members(a.cmd(&["SRANDMEMBER", "s", "-3"]));
                    for m in drawn {
                        assert_eq!(b.cmd(&["SISMEMBER", "s", &m]), b":1\r\n".to_vec());
                    }
                }
                _ => both(&mut a, &mut b, &["SMISMEMBER", "s", &m, "nope"]),
            }
        }
        both(&mut a, &mut b, &["SCARD", "s"]);
        both(&mut a, &mut b, &["OBJECT", "ENCODING", "s"]);
        both(&mut a, &mut b, &["SORT", "s", "ALPHA"]);
        both(&mut a, &mut b, &["SORT", "t", "ALPHA"]);
        both(&mut a, &mut b, &["SINTERCARD", "2", "s", "t"]);
        assert_eq!(
            full_scan(&mut a, "SSCAN", "s", 1),
            full_scan(&mut b, "SSCAN", "s", 1),
            "phase {phase}: SSCAN"
        );
    }
}
