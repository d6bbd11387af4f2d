//! Replication regressions found by Redis 7.0's own suite (integration/
//! replication*, psync2*, failover, block-repl, unit/wait): one test per
//! class of bug, with real processes (ferrodis and real redis-server).

mod common;

use common::repl::*;
use common::*;
use std::time::Duration;

fn info_i64(c: &mut Conn, section: &str, field: &str) -> i64 {
    info_field(c, section, field)
        .and_then(|v| v.parse().ok())
        .unwrap_or(-1)
}

/// A field of the CLIENT LIST line of our only replica.
fn replica_client_field(m: &mut Conn, field: &str) -> u64 {
    let r = m.cmd(&["CLIENT", "LIST", "TYPE", "replica"]);
    let line = String::from_utf8_lossy(bulk_body(&r).unwrap_or_default()).into_owned();
    line.split_whitespace()
        .find_map(|kv| kv.strip_prefix(&format!("{field}=")))
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no {field} in {line}"))
}

/// Two syncing replicas and one shared buffer: the stream is stored once,
/// each replica references it (CLIENT LIST omem), the backlog outgrows its
/// configured size while they hold it, and shrinks back once they caught up.
#[test]
fn replicas_share_one_replication_buffer() {
    let m = Server::start(&["--repl-backlog-size", "16384"]);
    let r1 = Server::start(&[]);
    let r2 = Server::start(&[]);
    let mut mc = m.conn();
    mc.cmd(&[
        "CONFIG",
        "SET",
        "client-output-buffer-limit",
        "replica 0 0 0",
    ]);
    // A slow save (20 keys, 100 ms each) keeps both replicas waiting for
    // their RDB while the stream accumulates for them.
    mc.cmd(&["DEBUG", "POPULATE", "20"]);
    mc.cmd(&["CONFIG", "SET", "rdb-key-save-delay", "100000"]);
    for r in [&r1, &r2] {
        r.conn()
            .cmd(&["REPLICAOF", "127.0.0.1", &m.port.to_string()]);
    }
    assert!(wait_until(Duration::from_secs(10), || {
        info_field(&mut mc, "replication", "slave1")
            .is_some_and(|l| l.contains("state=wait_bgsave"))
            && info_i64(&mut mc, "persistence", "rdb_bgsave_in_progress") == 1
    }));
    let value = "v".repeat(1000);
    for i in 0..2000 {
        mc.cmd(&["SET", &format!("k{i}"), &value]);
    }
    // ~2 MB of stream, held by both replicas: stored once.
    let buffers = info_i64(&mut mc, "memory", "mem_total_replication_buffers");
    let histlen = info_i64(&mut mc, "replication", "repl_backlog_histlen");
    assert!(histlen > 2_000_000, "backlog history {histlen}");
    assert!(
        buffers < histlen * 13 / 10,
        "two replicas must not double the buffer: {buffers} for {histlen} bytes of stream"
    );
    let r = mc.cmd(&["CLIENT", "LIST", "TYPE", "replica"]);
    let text = String::from_utf8_lossy(bulk_body(&r).unwrap_or_default()).into_owned();
    let omems: Vec<u64> = text
        .lines()
        .filter_map(|l| {
            l.split_whitespace()
                .find_map(|kv| kv.strip_prefix("omem="))
                .and_then(|v| v.parse::<u64>().ok())
        })
        .collect();
    assert_eq!(omems.len(), 2, "{text}");
    assert!(
        omems.iter().all(|&o| o > 2_000_000),
        "each replica references the whole stream since the fork: {omems:?}"
    );
    wait_in_sync(&m, &[&r1, &r2]);
    assert!(
        wait_until(Duration::from_secs(10), || info_i64(
            &mut mc,
            "replication",
            "repl_backlog_histlen"
        ) < 40_000),
        "the backlog shrinks to its size once no replica holds the blocks"
    );
    assert!(replica_client_field(&mut mc, "omem") < 40_000);
    assert_same_data(&[&m, &r1, &r2]);
}

/// A replica whose hard output limit is below repl-backlog-size is not
/// dropped for holding what a partial resync sends it (the limit is raised
/// to the backlog size), and a stopped replica past the real limit is.
#[test]
fn replica_output_limit_counts_the_shared_buffer() {
    let m = Server::start(&["--repl-backlog-size", "10mb"]);
    let r = Server::start(&[]);
    let mut mc = m.conn();
    mc.cmd(&[
        "CONFIG",
        "SET",
        "client-output-buffer-limit",
        "replica 512k 0 0",
    ]);
    r.conn()
        .cmd(&["REPLICAOF", "127.0.0.1", &m.port.to_string()]);
    wait_in_sync(&m, &[&r]);
    let big = "A".repeat(3 * 1024 * 1024);
    // The replica reconnects and continues from the backlog: 6 MB at once.
    mc.cmd(&["MULTI"]);
    mc.cmd(&["CLIENT", "KILL", "TYPE", "replica"]);
    mc.cmd(&["SET", "key", &big]);
    mc.cmd(&["SET", "key", &big]);
    mc.cmd(&["EXEC"]);
    wait_in_sync(&m, &[&r]);
    assert_eq!(info_i64(&mut mc, "stats", "sync_partial_ok"), 1);
    assert_eq!(info_i64(&mut mc, "stats", "sync_full"), 1);
    // A stopped replica past the 10 MB (raised) limit is dropped.
    r.signal(libc::SIGSTOP);
    for _ in 0..5 {
        mc.cmd(&["SET", "key", &big]);
    }
    let dropped = wait_until(Duration::from_secs(10), || {
        info_i64(&mut mc, "replication", "connected_slaves") == 0
    });
    r.signal(libc::SIGCONT);
    assert!(dropped, "the replica over its output limit is dropped");
    assert!(m.log().contains("for overcoming of output buffer limits"));
}

/// A replica that leaves its master for another (REPLICAOF) and comes back
/// continues partially in the db the master's stream had selected: the
/// master does not SELECT again after +CONTINUE.
fn switch_masters_and_back(m: &Server) {
    let r = Server::start(&[]);
    let mut mc = m.conn();
    mc.cmd(&["SELECT", "9"]);
    mc.cmd(&["SET", "before", "1"]);
    let mut rc = r.conn();
    rc.cmd(&["REPLICAOF", "127.0.0.1", &m.port.to_string()]);
    wait_in_sync(m, &[&r]);
    mc.cmd(&["SET", "streamed", "1"]);
    wait_in_sync(m, &[&r]);
    // Away to a master that does not answer, then back.
    let nobody = free_port();
    rc.cmd(&["REPLICAOF", "127.0.0.1", &nobody.to_string()]);
    for i in 0..100 {
        mc.cmd(&["SET", &format!("while-away:{i}"), "x"]);
    }
    rc.cmd(&["REPLICAOF", "127.0.0.1", &m.port.to_string()]);
    wait_in_sync(m, &[&r]);
    assert_eq!(info_i64(&mut mc, "stats", "sync_partial_ok"), 1);
    rc.cmd(&["SELECT", "9"]);
    assert_eq!(rc.cmd(&["GET", "while-away:99"]), b"$1\r\nx\r\n");
    assert_same_data(&[m, &r]);
}

#[test]
fn replica_back_from_another_master_continues_in_the_selected_db() {
    switch_masters_and_back(&Server::start(&[]));
    switch_masters_and_back(&RedisServer::start(&[]));
}
