//! Random sampling of hash-table encoded values: SRANDMEMBER, HRANDFIELD,
//! ZRANDMEMBER and SPOP must give every member a fair chance (Redis samples
//! with dictGetFairRandomKey; a plain "random bucket, then random chain
//! position" favours members alone in their bucket), and DEBUG HTSTATS-KEY
//! reports the tables as Redis does.

mod common;

use common::{parse, Conn, RedisServer, Server, Value};
use std::collections::HashMap;

/// Redis's chi_square_value (tests/support/util.tcl).
fn chi_square(draws: &[Vec<u8>]) -> f64 {
    let mut hits: HashMap<&[u8], u64> = HashMap::new();
    for d in draws {
        *hits.entry(d).or_default() += 1;
    }
    let p = (draws.len() / hits.len()) as f64;
    hits.values().map(|&n| (n as f64 - p).powi(2) / p).sum()
}

fn bulks(v: &Value) -> Vec<Vec<u8>> {
    v.array().iter().map(|e| e.bytes().to_vec()).collect()
}

const NAMES: [&str; 10] = [
    "1",
    "5",
    "10",
    "50",
    "125",
    "MARY",
    "PATRICIA",
    "LINDA",
    "BARBARA",
    "ELIZABETH",
];

#[test]
fn random_members_of_hash_tables_are_fair() {
    let s = Server::start(&[]);
    let mut c = s.conn();
    c.cmd(&["CONFIG", "SET", "hash-max-listpack-entries", "0"]);
    c.cmd(&["CONFIG", "SET", "zset-max-listpack-entries", "0"]);
    for (i, n) in NAMES.iter().enumerate() {
        c.cmd(&["SADD", "set", n]);
        c.cmd(&["HSET", "hash", n, "v"]);
        c.cmd(&["ZADD", "zset", &i.to_string(), n]);
    }
    for (key, enc) in [
        ("set", "hashtable"),
        ("hash", "hashtable"),
        ("zset", "skiplist"),
    ] {
        assert_eq!(parse(&c.cmd(&["OBJECT", "ENCODING", key])).text(), enc);
    }
    // df = 9: 40 is a probability of 0.00001 (the suite's threshold).
    for cmd in ["SRANDMEMBER", "HRANDFIELD", "ZRANDMEMBER"] {
        let key = match cmd {
            "SRANDMEMBER" => "set",
            "HRANDFIELD" => "hash",
            _ => "zset",
        };
        let draws = bulks(&parse(&c.cmd(&[cmd, key, "-1000"])));
        assert_eq!(draws.len(), 1000);
        let chi = chi_square(&draws);
        assert!(chi < 40.0, "{cmd} with a negative count: chi-square {chi}");
        // A positive count below a third of the set draws distinct members.
        let mut all = Vec::new();
        for _ in 0..500 {
            let v = bulks(&parse(&c.cmd(&[cmd, key, "2"])));
            assert_eq!(v.len(), 2);
            assert_ne!(v[0], v[1]);
            all.extend(v);
        }
        let chi = chi_square(&all);
        assert!(chi < 40.0, "{cmd} with count 2: chi-square {chi}");
    }
    // SPOP, one member at a time from a fresh set each round.
    let mut popped = Vec::new();
    for _ in 0..1000 {
        c.cmd(&["DEL", "s"]);
        let mut args = vec!["SADD", "s"];
        args.extend(NAMES);
        c.cmd(&args);
        popped.push(parse(&c.cmd(&["SPOP", "s"])).bytes().to_vec());
    }
    let chi = chi_square(&popped);
    assert!(chi < 40.0, "SPOP: chi-square {chi}");
}

/// The lines of DEBUG HTSTATS-KEY that do not depend on the hash seed
/// (how many elements a rehash step moves depends on it).
fn htstats_shape(c: &mut Conn, key: &str) -> Vec<String> {
    let r = parse(&c.cmd(&["DEBUG", "HTSTATS-KEY", key]));
    r.text()
        .lines()
        .filter(|l| {
            l.starts_with("Hash table") || l.starts_with(" table size") || l.starts_with("No stats")
        })
        .map(str::to_string)
        .collect()
}

#[test]
fn debug_htstats_key_matches_redis() {
    // Hashes keep Redis's chained dict, so their table shapes match
    // Redis's exactly (sets are open-addressed: see the next test).
    let redis = RedisServer::start(&["--enable-debug-command", "yes"]);
    let ferrodis = Server::start(&[]);
    let mut shapes = Vec::new();
    for s in [&redis, &ferrodis] {
        let mut c = s.conn();
        c.cmd(&["CONFIG", "SET", "hash-max-listpack-entries", "0"]);
        let mut out = Vec::new();
        out.push(String::from_utf8_lossy(&c.cmd(&["DEBUG", "HTSTATS-KEY", "nokey"])).into_owned());
        c.cmd(&["HSET", "small", "a", "1"]);
        c.cmd(&["CONFIG", "SET", "hash-max-listpack-entries", "128"]);
        c.cmd(&["HSET", "lp", "f", "v"]);
        out.push(String::from_utf8_lossy(&c.cmd(&["DEBUG", "HTSTATS-KEY", "lp"])).into_owned());
        c.cmd(&["CONFIG", "SET", "hash-max-listpack-entries", "0"]);
        // Growing to 128 buckets for 100 fields; sampling does rehash
        // work (how much each step moves depends on the hash seed, so the
        // shapes are compared once the rehash is over).
        let settle = |c: &mut Conn| {
            for _ in 0..1000 {
                let r = parse(&c.cmd(&["DEBUG", "HTSTATS-KEY", "h"])).text();
                if !r.contains("rehashing target") {
                    return;
                }
                c.cmd(&["HRANDFIELD", "h"]);
            }
            panic!("the rehash never ended");
        };
        for i in 0..100 {
            c.cmd(&["HSET", "h", &format!("m:{i}"), "v"]);
        }
        settle(&mut c);
        out.extend(htstats_shape(&mut c, "small"));
        out.extend(htstats_shape(&mut c, "h"));
        // Shrinking: HDEL resizes once fewer than 10% of the buckets are
        // used (to 16 buckets here).
        for i in 0..95 {
            c.cmd(&["HDEL", "h", &format!("m:{i}")]);
        }
        settle(&mut c);
        out.extend(htstats_shape(&mut c, "h"));
        shapes.push(out);
    }
    assert_eq!(shapes[0], shapes[1], "redis, then ferrodis");
}

/// A value of a DEBUG HTSTATS-KEY line (` table size: 256`).
fn htstat(text: &str, name: &str) -> Vec<u64> {
    text.lines()
        .filter_map(|l| l.trim().strip_prefix(name)?.trim().parse().ok())
        .collect()
}

#[test]
fn debug_htstats_key_of_an_open_addressed_set() {
    // A hashtable set keeps its members in an open-addressed table at most
    // 3/4 full; DEBUG HTSTATS-KEY reads it as Redis's dict stats, a
    // bucket's chain being the members whose home slot it is.
    let ferrodis = Server::start(&[]);
    let mut c = ferrodis.conn();
    c.cmd(&["CONFIG", "SET", "set-max-intset-entries", "0"]);
    let settle = |c: &mut Conn| {
        for _ in 0..1000 {
            let r = parse(&c.cmd(&["DEBUG", "HTSTATS-KEY", "set"])).text();
            if !r.contains("rehashing target") {
                return r;
            }
            c.cmd(&["SRANDMEMBER", "set"]);
        }
        panic!("the resize never ended");
    };
    for i in 0..100 {
        c.cmd(&["SADD", "set", &format!("m:{i}")]);
    }
    let r = settle(&mut c);
    assert!(
        r.starts_with("Hash table 0 stats (main hash table):\n"),
        "{r}"
    );
    assert_eq!(htstat(&r, "table size:"), [256], "{r}");
    assert_eq!(htstat(&r, "number of elements:"), [100], "{r}");
    let chains: u64 = r
        .lines()
        .filter_map(|l| {
            let (len, rest) = l.trim().split_once(": ")?;
            let len: u64 = len.parse().ok()?;
            Some(len * rest.split(' ').next()?.parse::<u64>().ok()?)
        })
        .sum();
    assert_eq!(chains, 100, "the chain lengths add up to the members: {r}");
    for i in 0..95 {
        c.cmd(&["SREM", "set", &format!("m:{i}")]);
    }
    let r = settle(&mut c);
    assert_eq!(htstat(&r, "number of elements:"), [5], "{r}");
    assert!(htstat(&r, "table size:")[0] <= 16, "shrunk: {r}");
}
