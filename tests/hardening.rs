//! Issue 9: no single request can freeze, exhaust or crash the server.
//! Each test drives the hostile request through the real server and checks
//! that it answers in time, stays within bounds and keeps serving others.

mod common;

use common::*;
use std::time::{Duration, Instant};

/// CVE-2022-36021: a glob with many stars against a long subject was
/// exponential. Every command that matches a client's pattern goes through
/// the one matcher (util::glob), which prunes as Redis 7.0.15 does: 20
/// stars against a 40-byte key answer at once (unpruned: no reply in 5 s).
#[test]
fn glob_with_twenty_stars_answers_at_once() {
    let s = Server::start(&[]);
    let mut c = s.conn();
    let mut sub = s.conn();
    let key = "a".repeat(40);
    let pat = format!("{}b", "a*".repeat(20));
    assert_eq!(c.cmd(&["SET", &key, "v"]), b"+OK\r\n");
    assert_eq!(c.cmd(&["HSET", "h", &key, "v"]), b":1\r\n");
    sub.send(&[b"PSUBSCRIBE", pat.as_bytes()]);
    assert_eq!(
        sub.read_reply(),
        format!(
            "*3\r\n$10\r\npsubscribe\r\n${}\r\n{pat}\r\n:1\r\n",
            pat.len()
        )
        .into_bytes()
    );
    let t = Instant::now();
    assert_eq!(c.cmd(&["KEYS", &pat]), b"*0\r\n");
    assert_eq!(
        c.cmd(&["SCAN", "0", "MATCH", &pat, "COUNT", "100"]),
        b"*2\r\n$1\r\n0\r\n*0\r\n"
    );
    assert_eq!(
        c.cmd(&["HSCAN", "h", "0", "MATCH", &pat]),
        b"*2\r\n$1\r\n0\r\n*0\r\n"
    );
    // The pattern subscription is checked against the channel on PUBLISH.
    assert_eq!(c.cmd(&["PUBLISH", &key, "m"]), b":0\r\n");
    assert_eq!(c.cmd(&["PUBSUB", "CHANNELS", &pat]), b"*0\r\n");
    assert_eq!(
        c.cmd(&["CONFIG", "GET", &format!("{}z", "*a".repeat(20))]),
        b"*0\r\n"
    );
    let took = t.elapsed();
    assert!(
        took < Duration::from_secs(2),
        "pattern commands took {took:?}"
    );
    // And a matching key still matches.
    let hit = format!("{key}b");
    assert_eq!(c.cmd(&["SET", &hit, "v"]), b"+OK\r\n");
    assert_eq!(
        c.cmd(&["KEYS", &pat]),
        format!("*1\r\n$41\r\n{hit}\r\n").into_bytes()
    );
}
