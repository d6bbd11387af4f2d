//! SHUTDOWN as Redis 7.0: its flags and errors (compared with a real
//! redis-server), the wait of up to shutdown-timeout for lagging replicas
//! (writes paused, the caller blocked, SHUTDOWN ABORT answering it with an
//! error), NOW skipping the wait, and a SIGTERM that SHUTDOWN ABORT cancels.

mod common;
mod scenario;

use common::{info_field, wait_until, Conn, Server};
use scenario::check;
use std::time::Duration;

#[test]
fn shutdown_flags_and_abort_errors() {
    check(
        "shutdown-errors",
        &[],
        r#"
0 SHUTDOWN ABORT
0 SHUTDOWN ABORT NOW
0 SHUTDOWN SAVE NOSAVE
0 SHUTDOWN NOSAVE FOO
0 SHUTDOWN abort
0 MULTI
0 SHUTDOWN NOSAVE
0 EXEC
0 PING
"#,
    );
}

/// A master with one replica in sync; the replica process is then stopped.
fn master_with_stopped_replica() -> (Server, Server) {
    // No diskless-sync delay (5 s by default): the link comes up at once.
    let m = Server::start(&[
        "--shutdown-timeout",
        "60",
        "--repl-diskless-sync-delay",
        "0",
    ]);
    let port = m.port.to_string();
    let s = Server::start(&["--replicaof", "127.0.0.1", &port]);
    let mut mc = m.conn();
    let synced = || {
        let mut c = s.conn();
        info_field(&mut c, "replication", "master_link_status").as_deref() == Some("up")
    };
    assert!(wait_until(Duration::from_secs(30), synced));
    mc.cmd(&["SET", "k", "1"]);
    let mut sc = s.conn();
    assert!(wait_until(Duration::from_secs(10), || sc
        .cmd(&["GET", "k"])
        == b"$1\r\n1\r\n"));
    // Let the replica acknowledge everything, then stop it.
    let offset = || info_field(&mut m.conn(), "replication", "master_repl_offset");
    let acked = || {
        let mut c = m.conn();
        let info = String::from_utf8_lossy(&c.cmd(&["INFO", "replication"])).into_owned();
        let off = offset().unwrap_or_default();
        info.contains(&format!("offset={off},"))
    };
    assert!(wait_until(Duration::from_secs(10), acked));
    s.signal(libc::SIGSTOP);
    (m, s)
}

#[test]
fn shutdown_waits_for_a_lagging_replica() {
    let (mut m, s) = master_with_stopped_replica();
    let mut mc = m.conn();
    mc.cmd(&["INCR", "k"]);
    let mut sd = m.conn();
    sd.send(&[b"SHUTDOWN"]);
    let waiting = || {
        info_field(&mut m.conn(), "server", "shutdown_in_milliseconds")
            .and_then(|v| v.parse::<i64>().ok())
            .is_some_and(|v| v > 0)
    };
    assert!(wait_until(Duration::from_secs(5), waiting));
    // Writes are paused meanwhile; reads are served.
    let mut w = m.conn();
    w.send(&[b"SET", b"during", b"x"]);
    assert_eq!(mc.cmd(&["GET", "k"]), b"$1\r\n2\r\n");
    s.signal(libc::SIGCONT);
    // The replica catches up, then the master exits by itself.
    assert!(m.wait_exit(Duration::from_secs(20)).is_some());
    let mut sc = s.conn();
    assert_eq!(sc.cmd(&["GET", "k"]), b"$1\r\n2\r\n");
    assert_eq!(sc.cmd(&["EXISTS", "during"]), b":0\r\n");
    let log = m.log();
    assert!(
        log.contains("Waiting for replicas before shutting down."),
        "{log}"
    );
    assert!(
        log.contains("1 of 1 replicas are in sync when shutting down."),
        "{log}"
    );
}

#[test]
fn shutdown_abort_ends_the_wait_and_now_skips_it() {
    let (mut m, s) = master_with_stopped_replica();
    let mut mc = m.conn();
    mc.cmd(&["INCR", "k"]);
    let mut sd = m.conn();
    sd.send(&[b"SHUTDOWN", b"NOSAVE"]);
    assert!(wait_until(Duration::from_secs(5), || info_field(
        &mut m.conn(),
        "server",
        "shutdown_in_milliseconds"
    )
    .is_some()));
    let mut w = m.conn();
    w.send(&[b"SET", b"held", b"1"]);
    // A second SHUTDOWN while one is under way waits as well.
    assert_eq!(mc.cmd(&["SHUTDOWN", "ABORT"]), b"+OK\r\n");
    assert_eq!(
        sd.read_reply(),
        b"-ERR Errors trying to SHUTDOWN. Check logs.\r\n"
    );
    // The held write runs once the shutdown is aborted.
    assert_eq!(w.read_reply(), b"+OK\r\n");
    assert!(m.log().contains("Shutdown manually aborted."));
    assert_eq!(
        mc.cmd(&["SHUTDOWN", "ABORT"]),
        b"-ERR No shutdown in progress.\r\n"
    );
    // NOW: no waiting for the stopped replica.
    mc.send(&[b"SHUTDOWN", b"NOW", b"NOSAVE"]);
    assert!(m.wait_exit(Duration::from_secs(10)).is_some());
    assert!(m
        .log()
        .contains("0 of 1 replicas are in sync when shutting down."));
    s.signal(libc::SIGCONT);
}

#[test]
fn shutdown_abort_cancels_a_sigterm() {
    let mut m = Server::start(&[]);
    let mut c: Conn = m.conn();
    assert_eq!(c.cmd(&["DEBUG", "PAUSE-CRON", "1"]), b"+OK\r\n");
    m.signal(libc::SIGTERM);
    std::thread::sleep(Duration::from_millis(50));
    assert_eq!(c.cmd(&["SHUTDOWN", "ABORT"]), b"+OK\r\n");
    assert_eq!(c.cmd(&["DEBUG", "PAUSE-CRON", "0"]), b"+OK\r\n");
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(c.cmd(&["PING"]), b"+PONG\r\n");
    assert!(m.try_wait().is_none());
    // Without ABORT, a SIGTERM shuts the server down from cron.
    m.signal(libc::SIGTERM);
    assert!(m.wait_exit(Duration::from_secs(10)).is_some());
    assert!(m.log().contains("Received SIGTERM scheduling shutdown..."));
}
