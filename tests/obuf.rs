//! client-output-buffer-limit as Redis 7.0 enforces it: a reply that passes
//! the hard limit closes the client before anything of it is sent (a
//! single command, a pipeline, a whole transaction that still runs to its
//! end), commands that build huge replies stop early, and the soft limit
//! runs out from cron even when no more traffic comes.

mod common;

use common::{info_field, wait_until, Conn, Server};
use std::time::Duration;

fn client_names(c: &mut Conn) -> String {
    String::from_utf8_lossy(&c.cmd(&["CLIENT", "LIST"])).into_owned()
}

/// A server with `client-output-buffer-limit` set, and a connection.
fn with_limit(limit: &str) -> (Server, Conn) {
    let s = Server::start(&[]);
    let mut c = s.conn();
    assert_eq!(
        c.cmd(&["CONFIG", "SET", "client-output-buffer-limit", limit]),
        b"+OK\r\n"
    );
    (s, c)
}

/// True when the peer closed without sending a single byte.
fn closed_silently(c: &mut Conn) -> bool {
    c.read_until_closed().is_ok_and(|got| got.is_empty())
}

#[test]
fn over_the_hard_limit_nothing_is_sent() {
    let (s, mut c) = with_limit("normal 100000 0 0");
    // (Per-command latency histograms would be allocated on the way.)
    c.cmd(&["CONFIG", "SET", "latency-tracking", "no"]);
    let item = "x".repeat(1000);
    for _ in 0..150 {
        c.cmd(&["LPUSH", "mylist", &item]);
    }
    let before: i64 = info_field(&mut c, "memory", "used_memory")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    // One command.
    let mut big = s.conn();
    big.cmd(&["CLIENT", "SETNAME", "mybiglist"]);
    big.send(&[b"LRANGE", b"mylist", b"0", b"-1"]);
    assert!(closed_silently(&mut big));
    assert!(!client_names(&mut c).contains("name=mybiglist"));
    let after: i64 = info_field(&mut c, "memory", "used_memory")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    assert!(after < before + 10_000, "before {before}, after {after}");
    // A pipeline: the replies that fit are not sent either.
    c.cmd(&["SET", "bigkey", &"x".repeat(10_000)]);
    let mut p = s.conn();
    let mut buf = String::new();
    for i in 0..15 {
        buf.push_str(&format!(
            "set {i} {i}\r\nget {i}\r\ndel {i}\r\nget bigkey\r\n"
        ));
    }
    p.send_raw(buf.as_bytes());
    assert!(closed_silently(&mut p));
    // A transaction runs to its end, then the client goes.
    let mut t = s.conn();
    t.cmd(&["SET", "k1", "v1"]);
    t.cmd(&["MULTI"]);
    t.cmd(&["SET", "k2", "v2"]);
    t.cmd(&["LRANGE", "mylist", "0", "-1"]);
    t.cmd(&["SET", "k3", "v3"]);
    t.cmd(&["DEL", "k1"]);
    t.send(&[b"EXEC"]);
    assert!(closed_silently(&mut t));
    assert_eq!(
        c.cmd(&["MGET", "k1", "k2", "k3"]),
        b"*3\r\n$-1\r\n$2\r\nv2\r\n$2\r\nv3\r\n"
    );
}

#[test]
fn huge_replies_stop_at_the_hard_limit() {
    let (s, mut c) = with_limit("normal 1000000 0 0");
    c.cmd(&["HSET", "myhash", "a", "b"]);
    let mut h = s.conn();
    h.send(&[b"HRANDFIELD", b"myhash", b"-999999999"]);
    assert!(closed_silently(&mut h));
    c.cmd(&[
        "CONFIG",
        "SET",
        "client-output-buffer-limit",
        "normal 100000 0 0",
    ]);
    let prefix = "long-key-name-prefix-of-100-chars-".to_string() + &"-".repeat(66);
    c.cmd(&["DEBUG", "POPULATE", "1000", &prefix]);
    let mut k = s.conn();
    k.send(&[b"KEYS", b"*"]);
    assert!(closed_silently(&mut k));
    assert_eq!(c.cmd(&["PING"]), b"+PONG\r\n");
}

#[test]
fn soft_limit_runs_out_without_traffic() {
    let (s, mut c) = with_limit("pubsub 0 100000 3");
    let mut sub = s.conn();
    sub.cmd(&["CLIENT", "SETNAME", "slowsub"]);
    sub.cmd(&["SUBSCRIBE", "foo"]);
    // Fill its buffer past the soft limit (it never reads), then stop.
    // The soft limit's time starts now and does not end while we publish.
    let msg = "x".repeat(1000);
    let over = |c: &mut Conn| {
        client_names(c)
            .lines()
            .find(|l| l.contains("name=slowsub"))
            .and_then(|l| l.split(' ').find_map(|f| f.strip_prefix("omem=")))
            .and_then(|v| v.parse::<u64>().ok())
            .is_some_and(|v| v > 100_000)
    };
    // (Past what the socket buffers can swallow, so that the output stays
    // over the limit once publishing stops.) One write: the limit's 3
    // seconds run from the first PUBLISH that crosses it, and thousands of
    // round trips could outlast them on a slow machine.
    let n = 8000;
    let publish: [&[u8]; 3] = [b"PUBLISH", b"foo", msg.as_bytes()];
    c.send_raw(&common::multibulk(&publish).repeat(n));
    for _ in 0..n {
        c.read_reply();
    }
    assert!(over(&mut c), "never over the soft limit");
    // No more publishing: cron closes it once its 3 seconds are up.
    assert!(wait_until(Duration::from_secs(8), || !client_names(&mut c)
        .contains("name=slowsub")));
    assert!(sub.read_until_closed().is_ok());
}

/// GET of a big value writes it from the keyspace straight to the socket
/// (no copy into the reply buffer): replies stay in order around it (a
/// pipeline, MULTI, CLIENT REPLY SKIP, RESP3, appendfsync always), and a
/// client that does not read still gets every byte later.
#[test]
fn big_values_go_straight_to_the_socket_in_order() {
    let dir = common::TempDir::new("direct-get");
    let s = Server::start(&[
        "--dir",
        dir.path.to_str().unwrap(),
        "--appendonly",
        "yes",
        "--appendfsync",
        "always",
    ]);
    let mut c = s.conn();
    let big: Vec<u8> = (0..1_048_576u32).map(|i| (i % 251) as u8).collect();
    c.send(&[b"SET", b"big", &big]);
    assert_eq!(c.read_reply(), b"+OK\r\n");
    let mut bulk = format!("${}\r\n", big.len()).into_bytes();
    bulk.extend_from_slice(&big);
    bulk.extend_from_slice(b"\r\n");
    // One pipeline: a write (its AOF record first), plain and transaction
    // GETs, a skipped reply.
    let mut req = Vec::new();
    for args in [
        &[&b"SET"[..], b"k", b"v"][..],
        &[b"GET", b"big"],
        &[b"GET", b"k"],
        &[b"MULTI"],
        &[b"GET", b"big"],
        &[b"EXEC"],
        &[b"CLIENT", b"REPLY", b"SKIP"],
        &[b"GET", b"big"],
        &[b"GET", b"big"],
        &[b"PING"],
    ] {
        req.extend_from_slice(&common::multibulk(args));
    }
    c.send_raw(&req);
    let mut want = b"+OK\r\n".to_vec();
    want.extend_from_slice(&bulk);
    want.extend_from_slice(b"$1\r\nv\r\n+OK\r\n+QUEUED\r\n*1\r\n");
    want.extend_from_slice(&bulk);
    want.extend_from_slice(&bulk);
    want.extend_from_slice(b"+PONG\r\n");
    assert!(c.read_exact_bytes(want.len()) == want, "pipeline replies");
    // RESP3: the same bulk string.
    c.cmd(&["HELLO", "3"]);
    c.send(&[b"GET", b"big"]);
    assert!(c.read_exact_bytes(bulk.len()) == bulk);
    // No 1 MB copy was buffered for this reader: its output buffer is
    // still the small one (a copied reply would have grown it to 1 MB).
    let info = String::from_utf8_lossy(&c.cmd(&["CLIENT", "INFO"])).into_owned();
    let field = |name: &str| -> u64 {
        info.split_whitespace()
            .find_map(|f| f.strip_prefix(name))
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("{name} in {info}"))
    };
    assert!(
        field("omem=") == 0 && field("tot-mem=") < 256 * 1024,
        "{info}"
    );
    // A client that does not read: what the socket does not take waits in
    // its output buffer and arrives complete, in order.
    let mut slow = s.conn();
    let mut req = Vec::new();
    for _ in 0..20 {
        req.extend_from_slice(&common::multibulk(&[b"GET", b"big"]));
    }
    req.extend_from_slice(&common::multibulk(&[b"ECHO", b"end"]));
    slow.send_raw(&req);
    assert!(wait_until(Duration::from_secs(10), || {
        client_names(&mut c)
            .lines()
            .any(|l| l.contains("cmd=echo") && !l.contains(" omem=0 "))
    }));
    for i in 0..20 {
        assert!(slow.read_exact_bytes(bulk.len()) == bulk, "reply {i}");
    }
    assert_eq!(slow.read_reply(), b"$3\r\nend\r\n");
}
