//! CLIENT PAUSE as Redis 7.0: held commands count as blocked clients, a
//! WRITE pause holds what may write (an EXEC by what it queued, PUBLISH,
//! PFCOUNT) and answers reads and arity errors at once, expired keys are
//! not deleted while paused (neither on access nor by active expiry), and a
//! paused replica receives its master's stream without applying it.

mod common;

use common::{info_field, wait_until, Conn, Server};
use std::time::Duration;

fn blocked(c: &mut Conn) -> i64 {
    info_field(c, "clients", "blocked_clients")
        .and_then(|v| v.parse().ok())
        .unwrap_or(-1)
}

#[test]
fn write_pause_holds_what_may_write() {
    let s = Server::start(&[]);
    let mut c = s.conn();
    c.cmd(&["PFADD", "hll", "a"]);
    let mut tx = s.conn();
    assert_eq!(tx.cmd(&["MULTI"]), b"+OK\r\n");
    assert_eq!(tx.cmd(&["SET", "queued", "1"]), b"+QUEUED\r\n");
    let mut ro = s.conn();
    assert_eq!(ro.cmd(&["MULTI"]), b"+OK\r\n");
    assert_eq!(ro.cmd(&["GET", "queued"]), b"+QUEUED\r\n");
    assert_eq!(c.cmd(&["CLIENT", "PAUSE", "60000", "WRITE"]), b"+OK\r\n");
    let mut held: Vec<Conn> = Vec::new();
    for args in [
        &[&b"SET"[..], b"k", b"v"][..],
        &[b"PFCOUNT", b"hll"],
        &[b"PUBLISH", b"ch", b"m"],
    ] {
        let mut h = s.conn();
        h.send(args);
        held.push(h);
    }
    tx.send(&[b"EXEC"]);
    assert!(wait_until(Duration::from_secs(5), || blocked(&mut c) == 4));
    // Reads, read-only transactions and arity errors are answered.
    assert_eq!(c.cmd(&["GET", "k"]), b"$-1\r\n");
    assert_eq!(ro.cmd(&["EXEC"]), b"*1\r\n$-1\r\n");
    assert_eq!(
        c.cmd(&["SET", "k"]),
        b"-ERR wrong number of arguments for 'set' command\r\n"
    );
    assert_eq!(c.cmd(&["CLIENT", "UNPAUSE"]), b"+OK\r\n");
    assert_eq!(held[0].read_reply(), b"+OK\r\n");
    assert_eq!(held[1].read_reply(), b":1\r\n");
    assert_eq!(held[2].read_reply(), b":0\r\n");
    assert_eq!(tx.read_reply(), b"*1\r\n+OK\r\n");
    assert_eq!(blocked(&mut c), 0);
}

#[test]
fn expired_keys_stay_while_paused() {
    let s = Server::start(&[]);
    let mut c = s.conn();
    let expired = |c: &mut Conn| info_field(c, "stats", "expired_keys");
    let before = expired(&mut c);
    c.cmd(&["MULTI"]);
    c.cmd(&["SET", "a", "1", "PX", "10"]);
    c.cmd(&["SET", "b", "1", "PX", "10"]);
    c.cmd(&["CLIENT", "PAUSE", "50000", "WRITE"]);
    c.cmd(&["EXEC"]);
    assert!(wait_until(Duration::from_secs(5), || c.cmd(&["GET", "a"])
        == b"$-1\r\n"
        && c.cmd(&["GET", "b"]) == b"$-1\r\n"));
    // Read as missing, but neither lazy nor active expiry deleted them.
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(expired(&mut c), before);
    assert_eq!(c.cmd(&["DBSIZE"]), b":2\r\n");
    c.cmd(&["CLIENT", "UNPAUSE"]);
    c.cmd(&["GET", "a"]);
    c.cmd(&["GET", "b"]);
    let after: i64 = expired(&mut c).and_then(|v| v.parse().ok()).unwrap_or(0);
    let before: i64 = before.and_then(|v| v.parse().ok()).unwrap_or(0);
    assert_eq!(after, before + 2);
}

#[test]
fn a_paused_replica_receives_but_does_not_apply() {
    let m = Server::start(&["--repl-ping-replica-period", "3600"]);
    let port = m.port.to_string();
    let r = Server::start(&["--replicaof", "127.0.0.1", &port]);
    let mut mc = m.conn();
    let mut rc = r.conn();
    let offset = |c: &mut Conn, f: &str| -> i64 {
        info_field(c, "replication", f)
            .and_then(|v| v.parse().ok())
            .unwrap_or(-1)
    };
    assert!(wait_until(Duration::from_secs(20), || info_field(
        &mut r.conn(),
        "replication",
        "master_link_status"
    )
    .as_deref()
        == Some("up")));
    mc.cmd(&["SET", "foo", "bar"]);
    assert!(wait_until(Duration::from_secs(10), || {
        let want = offset(&mut m.conn(), "master_repl_offset");
        offset(&mut r.conn(), "slave_repl_offset") == want
    }));
    let applied = offset(&mut rc, "slave_repl_offset");
    assert_eq!(rc.cmd(&["CLIENT", "PAUSE", "100000", "WRITE"]), b"+OK\r\n");
    mc.cmd(&["SET", "foo2", "bar2"]);
    let sent = offset(&mut mc, "master_repl_offset");
    assert!(wait_until(Duration::from_secs(10), || offset(
        &mut r.conn(),
        "slave_read_repl_offset"
    ) == sent));
    assert_eq!(offset(&mut rc, "slave_repl_offset"), applied);
    assert_eq!(rc.cmd(&["GET", "foo2"]), b"$-1\r\n");
    rc.cmd(&["CLIENT", "UNPAUSE"]);
    assert!(wait_until(Duration::from_secs(10), || offset(
        &mut r.conn(),
        "slave_repl_offset"
    ) == sent));
    assert_eq!(rc.cmd(&["GET", "foo2"]), b"$4\r\nbar2\r\n");
}
