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
    // A slow save (50 keys, 100 ms each) keeps both replicas waiting for
    // their RDB while the stream accumulates for them.
    mc.cmd(&["DEBUG", "POPULATE", "50"]);
    mc.cmd(&["CONFIG", "SET", "rdb-key-save-delay", "100000"]);
    for r in [&r1, &r2] {
        r.conn()
            .cmd(&["REPLICAOF", "127.0.0.1", &m.port.to_string()]);
    }
    // After repl-diskless-sync-delay (5 s).
    assert!(wait_until(Duration::from_secs(30), || {
        info_field(&mut mc, "replication", "slave1")
            .is_some_and(|l| l.contains("state=wait_bgsave"))
            && info_i64(&mut mc, "persistence", "rdb_bgsave_in_progress") == 1
    }));
    // In one write: the writes and the checks below fit in the save
    // however slowly round trips go.
    let value = "v".repeat(1000);
    let mut pipe = Vec::new();
    for i in 0..2000 {
        pipe.extend(multibulk(&[
            b"SET",
            format!("k{i}").as_bytes(),
            value.as_bytes(),
        ]));
    }
    mc.send_raw(&pipe);
    for _ in 0..2000 {
        assert_eq!(mc.read_reply(), b"+OK\r\n");
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
    // A stopped replica past the 10 MB (raised) limit is dropped: 30 MB,
    // more than the limit plus what both kernels' socket buffers absorb
    // (15 MB was not always enough).
    r.signal(libc::SIGSTOP);
    for _ in 0..10 {
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

/// A writable replica expires the keys its own clients gave a TTL (its
/// master knows nothing of them), and a write there replaces an expired
/// key instead of keeping its TTL.
#[test]
fn writable_replica_expires_its_own_keys() {
    let m = Server::start(&[]);
    let r = Server::start(&["--replica-read-only", "no"]);
    let mut rc = r.conn();
    rc.cmd(&["REPLICAOF", "127.0.0.1", &m.port.to_string()]);
    wait_in_sync(&m, &[&r]);
    rc.cmd(&["SELECT", "5"]);
    // Long enough to be still tracked two round trips later.
    rc.cmd(&["SET", "mine", "1", "PX", "3000"]);
    rc.cmd(&["SET", "keep", "1"]);
    assert_eq!(info_i64(&mut rc, "stats", "slave_expires_tracked_keys"), 1);
    assert!(
        wait_until(Duration::from_secs(10), || rc.cmd_int(&["DBSIZE"]) == 1),
        "the replica never expired the key its client created"
    );
    assert_eq!(info_i64(&mut rc, "stats", "slave_expires_tracked_keys"), 0);
    // A key from the master that expired (active expiry off there) is
    // replaced by a write on the replica, without its old TTL.
    let mut mc = m.conn();
    mc.cmd(&["DEBUG", "SET-ACTIVE-EXPIRE", "0"]);
    mc.cmd(&["SELECT", "5"]);
    mc.cmd(&["SET", "k", "5", "PX", "10"]);
    assert!(wait_until(Duration::from_secs(10), || {
        rc.cmd_int(&["DBSIZE"]) == 2 && rc.cmd_int(&["EXISTS", "k"]) == 0
    }));
    assert_eq!(rc.cmd_int(&["INCR", "k"]), 1);
    assert_eq!(rc.cmd_int(&["TTL", "k"]), -1);
}

/// What breaks the replication link is logged as Redis logs it: an error
/// our master's stream caused (with the command), and a replica of ours
/// that made a reply is disconnected rather than fed a reply.
#[test]
fn replication_link_errors_are_logged_and_replies_never_reach_replicas() {
    let m = Server::start(&[]);
    let r = Server::start(&[]);
    let mut rc = r.conn();
    rc.cmd(&["REPLICAOF", "127.0.0.1", &m.port.to_string()]);
    wait_in_sync(&m, &[&r]);
    let mut mc = m.conn();
    assert_eq!(
        mc.cmd(&["DEBUG", "REPLICATE", "fake-command-1"]),
        b"+OK\r\n"
    );
    mc.cmd(&["SET", "foo", "bar"]);
    wait_in_sync(&m, &[&r]);
    assert!(wait_until(Duration::from_secs(5), || {
        r.log().contains(
        "== CRITICAL == This replica is sending an error to its master: 'ERR unknown command 'fake-command-1'"
    )
    }));
    assert_eq!(info_i64(&mut rc, "stats", "unexpected_error_replies"), 1);
    // A client that became a replica (SYNC) and then sends commands.
    let mut fake = m.conn();
    fake.send(&[b"PSYNC", b"?", b"-1"]);
    let line = fake.read_line();
    assert!(line.starts_with("+FULLRESYNC"), "{line}");
    fake.send(&[b"GET", b"foo"]);
    assert!(wait_until(Duration::from_secs(5), || {
        let log = m.log();
        log.contains("Replica generated a reply to command 'get', disconnecting it")
            && log.contains("Replica can't interact with the keyspace")
    }));
    assert_eq!(mc.cmd(&["PING"]), b"+PONG\r\n");
    let e = mc.cmd(&["PSYNC", "x", "notanumber"]);
    assert!(e.starts_with(b"-ERR value is not an integer"));
    assert!(m
        .log()
        .contains("asks for synchronization but with a wrong offset"));
}

/// repl-diskless-load swapdb: a full sync in the same history (the backlog
/// was too short) loads while the old data set is served (async_loading);
/// in another history the replica answers -LOADING meanwhile; a failed load
/// leaves the old data set, a good one replaces it.
#[test]
fn swapdb_serves_the_old_data_while_loading_in_the_same_history() {
    let m = Server::start(&[
        "--repl-diskless-sync",
        "yes",
        "--repl-diskless-sync-delay",
        "0",
    ]);
    let r = Server::start(&[
        "--repl-diskless-load",
        "swapdb",
        "--replica-read-only",
        "no",
    ]);
    let mut mc = m.conn();
    let mut rc = r.conn();
    rc.cmd(&["REPLICAOF", "127.0.0.1", &m.port.to_string()]);
    wait_in_sync(&m, &[&r]);
    mc.cmd(&["DEBUG", "POPULATE", "300", "master", "20000"]);
    rc.cmd(&["SET", "mykey", "myvalue"]);
    // 10 ms a key: the next sync takes about 3 s.
    mc.cmd(&["CONFIG", "SET", "rdb-key-save-delay", "10000"]);
    let big = "A".repeat(16384);
    mc.cmd(&["MULTI"]);
    mc.cmd(&["CLIENT", "KILL", "TYPE", "replica"]);
    mc.cmd(&["CONFIG", "SET", "repl-backlog-size", "16384"]);
    for i in 0..10 {
        mc.cmd(&["SET", &format!("{i} string"), &big]);
    }
    mc.cmd(&["EXEC"]);
    assert!(
        wait_until(Duration::from_secs(10), || info_i64(
            &mut rc,
            "persistence",
            "async_loading"
        ) == 1),
        "the replica never loaded asynchronously"
    );
    assert_eq!(info_i64(&mut rc, "persistence", "loading"), 0);
    assert_eq!(rc.cmd(&["GET", "mykey"]), b"$7\r\nmyvalue\r\n");
    assert!(rc.cmd(&["REPLICAOF", "NO", "ONE"]).starts_with(b"-LOADING"));
    assert!(rc
        .cmd(&["CONFIG", "SET", "appendonly", "no"])
        .starts_with(b"-LOADING"));
    mc.cmd(&["CONFIG", "SET", "rdb-key-save-delay", "0"]);
    wait_in_sync(&m, &[&r]);
    assert_eq!(rc.cmd(&["GET", "mykey"]), b"$-1\r\n");
    assert_eq!(rc.cmd_int(&["DBSIZE"]), mc.cmd_int(&["DBSIZE"]));
    assert_eq!(info_i64(&mut mc, "stats", "sync_full"), 2);
}

/// A disk save made for replicas is killed when the last replica waiting
/// for it leaves (no save points: nobody else needs it); with save points
/// it goes on.
#[test]
fn useless_replication_save_is_killed() {
    let m = Server::start(&["--repl-diskless-sync", "no"]);
    let mut mc = m.conn();
    for i in 0..10 {
        mc.cmd(&["SET", &i.to_string(), "x"]);
    }
    mc.cmd(&["CONFIG", "SET", "rdb-key-save-delay", "1000000"]);
    let in_progress = |c: &mut Conn| info_i64(c, "persistence", "rdb_bgsave_in_progress");
    for save in ["", "900 1"] {
        mc.cmd(&["CONFIG", "SET", "save", save]);
        let r1 = Server::start(&[]);
        let r2 = Server::start(&[]);
        for r in [&r1, &r2] {
            r.conn()
                .cmd(&["REPLICAOF", "127.0.0.1", &m.port.to_string()]);
        }
        assert!(wait_until(Duration::from_secs(10), || {
            in_progress(&mut mc) == 1
                && info_field(&mut mc, "replication", "slave1")
                    .is_some_and(|l| l.contains("wait_bgsave"))
        }));
        r1.conn().cmd(&["REPLICAOF", "NO", "ONE"]);
        std::thread::sleep(Duration::from_millis(300));
        assert_eq!(in_progress(&mut mc), 1, "another replica still waits");
        r2.conn().cmd(&["REPLICAOF", "NO", "ONE"]);
        if save.is_empty() {
            assert!(
                wait_until(Duration::from_secs(5), || in_progress(&mut mc) == 0),
                "the save nobody waits for goes on"
            );
        } else {
            std::thread::sleep(Duration::from_millis(500));
            assert_eq!(in_progress(&mut mc), 1, "a save with save points is kept");
        }
    }
}

/// FAILOVER (to any replica) while another replica is stopped: waiting for
/// a replica to catch up must not move the offset it waits for (no GETACK
/// or PING during the pause, each ACK asking for the next), so the stopped
/// replica later continues partially with the new master.
#[test]
fn failover_wait_does_not_move_the_offset() {
    let m = Server::start(&[]);
    let r1 = Server::start(&[]);
    let r2 = Server::start(&[]);
    for r in [&r1, &r2] {
        r.conn()
            .cmd(&["REPLICAOF", "127.0.0.1", &m.port.to_string()]);
    }
    wait_in_sync(&m, &[&r1, &r2]);
    let mut mc = m.conn();
    mc.cmd(&["SET", "before", "1"]);
    wait_in_sync(&m, &[&r1, &r2]);
    r2.signal(libc::SIGSTOP);
    mc.cmd(&["SET", "case", "1"]);
    let before = offset(&mut mc);
    assert_eq!(mc.cmd(&["FAILOVER"]), b"+OK\r\n");
    let done = wait_until(Duration::from_secs(10), || {
        info_field(&mut mc, "replication", "master_failover_state").as_deref()
            == Some("no-failover")
    });
    r2.signal(libc::SIGCONT);
    assert!(done, "the failover never ended");
    let grown = offset(&mut mc) - before;
    assert!(
        grown < 1000,
        "the old master's offset grew by {grown} bytes while it waited"
    );
    let mut r1c = r1.conn();
    assert!(info_field(&mut r1c, "replication", "role").as_deref() == Some("master"));
    r2.conn()
        .cmd(&["REPLICAOF", "127.0.0.1", &r1.port.to_string()]);
    wait_in_sync(&r1, &[&m, &r2]);
    assert_eq!(info_i64(&mut r1c, "stats", "sync_partial_ok"), 2);
    assert_eq!(info_i64(&mut r1c, "stats", "sync_full"), 0);
    assert_same_data(&[&r1, &m, &r2]);
}

/// A master restarted from its RDB keeps its history as replid2, so its
/// replicas continue partially; keys that expired while it was down are
/// deleted on the replicas too (their DELs follow the saved offset), or,
/// when those DELs overflow the backlog, the replicas resync fully.
#[test]
fn master_restart_continues_partially_and_propagates_expired_keys() {
    for (backlog, keys, partial) in [("1mb", 200, true), ("16384", 2000, false)] {
        let mut m = Server::start(&["--save", "3600 1", "--repl-backlog-size", backlog]);
        let port = m.port;
        let r = Server::start(&[]);
        let mut rc = r.conn();
        rc.cmd(&["REPLICAOF", "127.0.0.1", &port.to_string()]);
        wait_in_sync(&m, &[&r]);
        let mut mc = m.conn();
        mc.cmd(&["DEBUG", "SET-ACTIVE-EXPIRE", "0"]);
        mc.cmd(&["SET", "stays", "1"]);
        for j in 0..keys {
            mc.cmd(&["SELECT", &(j % 16).to_string()]);
            mc.cmd(&["SET", &j.to_string(), "v", "PX", "10"]);
        }
        wait_in_sync(&m, &[&r]);
        let before = offset(&mut mc);
        let dir = m.dir.path.display().to_string();
        let _ = mc.try_cmd(&["SHUTDOWN"]);
        assert!(m.wait_exit(Duration::from_secs(10)).is_some());
        std::thread::sleep(Duration::from_millis(20));
        let m2 = Server::start_on_port(port, &["--dir", &dir, "--repl-backlog-size", backlog]);
        let mut mc = m2.conn();
        assert_eq!(
            info_i64(&mut mc, "persistence", "rdb_last_load_keys_expired"),
            keys as i64
        );
        assert!(
            offset(&mut mc) > before,
            "the DELs of the expired keys follow the saved offset"
        );
        wait_in_sync(&m2, &[&r]);
        assert_eq!(
            info_i64(&mut mc, "stats", "sync_partial_ok"),
            i64::from(partial)
        );
        assert_eq!(info_i64(&mut mc, "stats", "sync_full"), i64::from(!partial));
        rc.cmd(&["SELECT", "9"]);
        assert_eq!(rc.cmd_int(&["EXISTS", "9"]), 0);
        assert_same_data(&[&m2, &r]);
    }
}

/// CLIENT KILL closes the victim's connection at once, even inside a long
/// MULTI: a master whose replica was killed that way sees it go, and with
/// repl-backlog-ttl 1 frees its backlog before the replica comes back.
#[test]
fn client_kill_closes_at_once_and_the_backlog_expires() {
    let m = Server::start(&["--repl-backlog-ttl", "1"]);
    let r = Server::start(&[]);
    let mut rc = r.conn();
    rc.cmd(&["REPLICAOF", "127.0.0.1", &m.port.to_string()]);
    wait_in_sync(&m, &[&r]);
    let mut mc = m.conn();
    mc.cmd(&["SET", "k", "v"]);
    wait_in_sync(&m, &[&r]);
    rc.cmd(&["MULTI"]);
    rc.cmd(&["CLIENT", "KILL", "TYPE", "master"]);
    // Well past the 1 s TTL (checked once a second by the master's cron).
    rc.cmd(&["DEBUG", "SLEEP", "5"]);
    rc.cmd(&["EXEC"]);
    wait_in_sync(&m, &[&r]);
    assert_eq!(info_i64(&mut mc, "stats", "sync_partial_ok"), 0);
    assert!(info_i64(&mut mc, "stats", "sync_partial_err") > 0);
    assert!(m
        .log()
        .contains("Replication backlog freed after 1 seconds"));
}

/// A replica made with REPLICAOF writes `replicaof` with CONFIG REWRITE,
/// and after a restart continues partially from its RDB's position.
#[test]
fn config_rewrite_keeps_replicaof_and_restart_resyncs_partially() {
    let m = Server::start(&[]);
    let dir = TempDir::new("rewrite");
    let conf = dir.join("replica.conf");
    std::fs::write(&conf, "appendonly no\n").expect("write config");
    let conf = conf.display().to_string();
    let data = dir.path.display().to_string();
    let mut r = Server::start(&[&conf, "--dir", &data]);
    let port = r.port;
    let mut rc = r.conn();
    rc.cmd(&["REPLICAOF", "127.0.0.1", &m.port.to_string()]);
    seed_data(&mut m.conn(), 100);
    wait_in_sync(&m, &[&r]);
    assert_eq!(rc.cmd(&["CONFIG", "REWRITE"]), b"+OK\r\n");
    let text = std::fs::read_to_string(&conf).expect("read config");
    assert!(
        text.contains(&format!("replicaof 127.0.0.1 {}", m.port)),
        "{text}"
    );
    let _ = rc.try_cmd(&["SHUTDOWN", "SAVE"]);
    assert!(r.wait_exit(Duration::from_secs(10)).is_some());
    let r2 = Server::start_on_port(port, &[&conf, "--dir", &data]);
    wait_in_sync(&m, &[&r2]);
    let mut mc = m.conn();
    assert_eq!(info_i64(&mut mc, "stats", "sync_full"), 1);
    assert_eq!(info_i64(&mut mc, "stats", "sync_partial_ok"), 1);
    assert_same_data(&[&m, &r2]);
}

/// WAIT counts acknowledgements up to the client's last write, also when
/// that write was propagated in place: a stopped replica acknowledges none.
#[test]
fn wait_does_not_count_a_stopped_replica() {
    let m = Server::start(&[]);
    let r = Server::start(&[]);
    r.conn()
        .cmd(&["REPLICAOF", "127.0.0.1", &m.port.to_string()]);
    wait_in_sync(&m, &[&r]);
    let mut mc = m.conn();
    mc.cmd(&["SET", "foo", "0"]);
    assert_eq!(mc.cmd_int(&["WAIT", "1", "5000"]), 1);
    r.signal(libc::SIGSTOP);
    mc.cmd(&["INCR", "foo"]);
    let waited = mc.cmd_int(&["WAIT", "1", "1000"]);
    r.signal(libc::SIGCONT);
    assert_eq!(waited, 0);
    assert_eq!(mc.cmd_int(&["WAIT", "1", "5000"]), 1);
}
