//! Replication, end to end, with real processes: ferrodis and real Redis 7.0
//! in every topology the product promises (the replication brief, issue 5). Each topology
//! test runs a write load during the sync and ends with identical data on
//! every node (compared key by key, and by DEBUG DIGEST).

mod common;

use common::repl::*;
use common::*;
use std::sync::atomic::Ordering;
use std::thread;
use std::time::Duration;

#[test]
fn ferrodis_to_ferrodis_diskless_with_writes_during_sync() {
    let m = Server::start(&[
        "--repl-diskless-sync",
        "yes",
        "--repl-diskless-sync-delay",
        "0",
    ]);
    let r = Server::start(&[]);
    seed_data(&mut m.conn(), 5000);
    replicate_with_load(&m, &r);
    assert_same_data(&[&m, &r]);
    assert!(
        m.log().contains("target: replicas sockets"),
        "diskless path not taken"
    );
}

#[test]
fn ferrodis_to_ferrodis_disk_based_with_writes_during_sync() {
    let m = Server::start(&["--repl-diskless-sync", "no"]);
    let r = Server::start(&["--repl-diskless-load", "disabled"]);
    seed_data(&mut m.conn(), 5000);
    replicate_with_load(&m, &r);
    assert_same_data(&[&m, &r]);
    assert!(m.log().contains("target: disk"), "disk path not taken");
    // The replica keeps the received RDB as its dump file.
    assert!(r.dir.join("dump.rdb").exists());
}

#[test]
fn real_redis_master_to_ferrodis_replica() {
    let m = RedisServer::start(&["--repl-diskless-sync-delay", "0"]);
    let r = Server::start(&[]);
    seed_data(&mut m.conn(), 3000);
    replicate_with_load(&m, &r);
    assert_same_data(&[&m, &r]);
}

#[test]
fn ferrodis_master_to_real_redis_replica() {
    for diskless in ["yes", "no"] {
        let m = Server::start(&[
            "--repl-diskless-sync",
            diskless,
            "--repl-diskless-sync-delay",
            "0",
        ]);
        let r = RedisServer::start(&[]);
        seed_data(&mut m.conn(), 3000);
        replicate_with_load(&m, &r);
        assert_same_data(&[&m, &r]);
    }
}

#[test]
fn chain_ferrodis_redis_ferrodis_gets_the_same_stream() {
    let a = Server::start(&["--repl-diskless-sync-delay", "0"]);
    let b = RedisServer::start(&["--repl-diskless-sync-delay", "0"]);
    let c = Server::start(&[]);
    seed_data(&mut a.conn(), 2000);
    b.conn()
        .cmd(&["REPLICAOF", "127.0.0.1", &a.port.to_string()]);
    c.conn()
        .cmd(&["REPLICAOF", "127.0.0.1", &b.port.to_string()]);
    let (stop, h) = write_load(a.port);
    // The load runs until it reached the end of the chain.
    let mut cc = c.conn();
    assert!(wait_until(SYNC_TIMEOUT, || {
        info_field(&mut cc, "replication", "master_link_status").as_deref() == Some("up")
            && offset(&mut cc) > 10_000
    }));
    stop.store(true, Ordering::Relaxed);
    h.join().expect("writer");
    wait_in_sync(&a, &[&b]);
    wait_in_sync(&b, &[&c]);
    // Exactly the same byte stream: the offsets match all along the chain
    // (once a PING a sent meanwhile reached c too).
    let mut ac = a.conn();
    assert!(
        wait_until(SYNC_TIMEOUT, || offset(&mut ac) == offset(&mut cc)),
        "offsets differ: a {}, c {}",
        offset(&mut ac),
        offset(&mut cc)
    );
    assert_same_data(&[&a, &b, &c]);
}

#[test]
fn three_replicas_attaching_during_one_save_share_it() {
    for diskless in ["yes", "no"] {
        // The replicas share the save if they all arrive within the
        // diskless delay (diskless) or during the save (disk): 5 s, and
        // 20,000 keys at 100 us each (2 s at least) leave them time.
        let m = Server::start(&[
            "--repl-diskless-sync",
            diskless,
            "--repl-diskless-sync-delay",
            "5",
            "--rdb-key-save-delay",
            "100",
        ]);
        seed_data(&mut m.conn(), 20_000);
        let rs: Vec<Server> = (0..3).map(|_| Server::start(&[])).collect();
        for r in &rs {
            r.conn()
                .cmd(&["REPLICAOF", "127.0.0.1", &m.port.to_string()]);
        }
        let (stop, h) = write_load(m.port);
        let refs: Vec<&Server> = rs.iter().collect();
        for r in &refs {
            let mut c = r.conn();
            assert!(wait_until(SYNC_TIMEOUT, || link_up(&mut c)));
        }
        stop.store(true, Ordering::Relaxed);
        h.join().expect("writer");
        wait_in_sync(&m, &refs);
        let saves = m.log().matches("Background RDB transfer started").count();
        assert_eq!(
            saves,
            1,
            "diskless={diskless}: expected one shared save, log:\n{}",
            m.log()
        );
        let mut all = vec![&m];
        all.extend(refs);
        assert_same_data(&all);
    }
}

#[test]
fn dropped_link_resyncs_partially_then_fully_past_the_backlog() {
    let m = Server::start(&[
        "--repl-backlog-size",
        "16kb",
        "--repl-diskless-sync-delay",
        "0",
    ]);
    let r = Server::start(&[]);
    seed_data(&mut m.conn(), 100);
    let mut rc = r.conn();
    rc.cmd(&["REPLICAOF", "127.0.0.1", &m.port.to_string()]);
    wait_in_sync(&m, &[&r]);
    let mut mc = m.conn();
    assert_eq!(stat(&mut mc, "sync_full"), 1);
    // A short gap: partial.
    assert_eq!(rc.cmd_int(&["CLIENT", "KILL", "TYPE", "master"]), 1);
    mc.cmd(&["SET", "during-gap", "1"]);
    wait_in_sync(&m, &[&r]);
    assert_eq!(stat(&mut mc, "sync_partial_ok"), 1);
    assert_eq!(stat(&mut mc, "sync_full"), 1);
    assert_eq!(s(&rc.cmd(&["GET", "during-gap"])), "$1\r\n1\r\n");
    // A gap larger than the backlog: full. (The replica is kept away while
    // the gap is written: it would otherwise reconnect at once.)
    let nobody = free_port();
    rc.cmd(&["REPLICAOF", "127.0.0.1", &nobody.to_string()]);
    let big = vec![b'z'; 4096];
    let mut pipe = Vec::new();
    for i in 0..20 {
        pipe.extend(multibulk(&[b"SET", format!("gap:{i}").as_bytes(), &big]));
    }
    mc.send_raw(&pipe);
    for _ in 0..20 {
        mc.read_reply();
    }
    rc.cmd(&["REPLICAOF", "127.0.0.1", &m.port.to_string()]);
    wait_in_sync(&m, &[&r]);
    assert_eq!(stat(&mut mc, "sync_full"), 2);
    assert_same_data(&[&m, &r]);
}

#[test]
fn promoted_replica_keeps_data_and_other_replicas_continue_partially() {
    let m = Server::start(&["--repl-diskless-sync-delay", "0"]);
    let r1 = Server::start(&["--repl-diskless-sync-delay", "0"]);
    let r2 = Server::start(&[]);
    seed_data(&mut m.conn(), 500);
    for r in [&r1, &r2] {
        r.conn()
            .cmd(&["REPLICAOF", "127.0.0.1", &m.port.to_string()]);
    }
    wait_in_sync(&m, &[&r1, &r2]);
    let old_id = info_field(&mut m.conn(), "replication", "master_replid").expect("replid");
    drop(m);
    let mut c1 = r1.conn();
    assert_eq!(s(&c1.cmd(&["REPLICAOF", "NO", "ONE"])), "+OK\r\n");
    assert_eq!(
        info_field(&mut c1, "replication", "role").as_deref(),
        Some("master")
    );
    assert_eq!(
        info_field(&mut c1, "replication", "master_replid2").as_deref(),
        Some(old_id.as_str())
    );
    assert!(
        c1.cmd_int(&["DBSIZE"]) > 500,
        "promotion must keep the data"
    );
    r2.conn()
        .cmd(&["REPLICAOF", "127.0.0.1", &r1.port.to_string()]);
    c1.cmd(&["SET", "after-promotion", "1"]);
    wait_in_sync(&r1, &[&r2]);
    assert_eq!(
        stat(&mut c1, "sync_partial_ok"),
        1,
        "r2 should continue partially"
    );
    assert_eq!(stat(&mut c1, "sync_full"), 0);
    assert_same_data(&[&r1, &r2]);
}

#[test]
fn replica_is_read_only_and_never_expires_keys_itself() {
    let m = Server::start(&["--repl-diskless-sync-delay", "0"]);
    let r = Server::start(&[]);
    let mut mc = m.conn();
    let mut rc = r.conn();
    mc.cmd(&["SET", "k", "v"]);
    rc.cmd(&["REPLICAOF", "127.0.0.1", &m.port.to_string()]);
    wait_in_sync(&m, &[&r]);
    assert_eq!(
        s(&rc.cmd(&["SET", "x", "1"])),
        "-READONLY You can't write against a read only replica.\r\n"
    );
    // With active expiry off on the master, only the master's DEL removes it.
    mc.cmd(&["DEBUG", "SET-ACTIVE-EXPIRE", "0"]);
    mc.cmd(&["SET", "short", "v", "PX", "50"]);
    wait_in_sync(&m, &[&r]);
    // Once its TTL passed (the replica's GET deletes nothing).
    assert!(
        wait_until(SYNC_TIMEOUT, || s(&rc.cmd(&["GET", "short"])) == "$-1\r\n"),
        "expired keys read as missing"
    );
    assert_eq!(
        rc.cmd_int(&["DBSIZE"]),
        2,
        "but the replica keeps them until the DEL"
    );
    assert_eq!(s(&mc.cmd(&["GET", "short"])), "$-1\r\n");
    assert!(wait_until(Duration::from_secs(5), || rc
        .cmd_int(&["DBSIZE"])
        == 1));
}

#[test]
fn stale_data_and_min_replicas_errors() {
    let r = Server::start(&["--replica-serve-stale-data", "no"]);
    let mut rc = r.conn();
    rc.cmd(&["REPLICAOF", "127.0.0.1", &free_port().to_string()]);
    assert_eq!(
        s(&rc.cmd(&["GET", "a"])),
        "-MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'.\r\n"
    );
    let m = Server::start(&["--min-replicas-to-write", "1"]);
    assert_eq!(
        s(&m.conn().cmd(&["SET", "a", "1"])),
        "-NOREPLICAS Not enough good replicas to write.\r\n"
    );
}

#[test]
fn wait_counts_acknowledging_replicas() {
    let m = Server::start(&["--repl-diskless-sync-delay", "0"]);
    let r = Server::start(&[]);
    let mut mc = m.conn();
    mc.cmd(&["SET", "a", "1"]);
    assert_eq!(mc.cmd_int(&["WAIT", "0", "100"]), 0);
    r.conn()
        .cmd(&["REPLICAOF", "127.0.0.1", &m.port.to_string()]);
    wait_in_sync(&m, &[&r]);
    mc.cmd(&["SET", "b", "2"]);
    assert_eq!(mc.cmd_int(&["WAIT", "1", "5000"]), 1);
    // Asking for more replicas than exist times out with the real count
    // (the replica's ack awaited first: it may take longer than 300 ms).
    mc.cmd(&["SET", "c", "3"]);
    assert_eq!(mc.cmd_int(&["WAIT", "1", "5000"]), 1);
    assert_eq!(mc.cmd_int(&["WAIT", "2", "300"]), 1);
    assert!(s(&r.conn().cmd(&["WAIT", "1", "10"]))
        .starts_with("-ERR WAIT cannot be used with replica instances"));
    // A stopped replica acknowledges nothing of the writes that follow:
    // WAIT counts up to this client's last write, whatever path the write
    // was propagated by.
    r.signal(libc::SIGSTOP);
    mc.cmd(&["SET", "d", "4"]);
    mc.cmd(&["INCR", "x"]);
    assert_eq!(mc.cmd_int(&["WAIT", "1", "300"]), 0);
    r.signal(libc::SIGCONT);
    assert_eq!(mc.cmd_int(&["WAIT", "1", "5000"]), 1);
}

#[test]
fn stream_uses_deterministic_forms() {
    let m = Server::start(&["--repl-diskless-sync", "no"]);
    let mut mc = m.conn();
    mc.cmd(&["SET", "seed", "1"]);
    let mut sc = sync_client(m.port);
    mc.cmd(&["SET", "a", "1", "EX", "100"]);
    mc.cmd(&["EXPIRE", "seed", "100"]);
    mc.cmd(&["SET", "f", "10.5"]);
    mc.cmd(&["INCRBYFLOAT", "f", "0.1"]);
    mc.cmd(&["MULTI"]);
    mc.cmd(&["SET", "x", "1"]);
    mc.cmd(&["INCR", "x"]);
    mc.cmd(&["EXEC"]);
    mc.cmd(&["SELECT", "2"]);
    mc.cmd(&["SET", "in2", "v"]);
    let mut seen = Vec::new();
    while seen.len() < 11 {
        let r = sc.read_reply();
        let parts: Vec<String> = parse_array(&r).iter().map(|p| s(p)).collect();
        if parts.first().is_some_and(|p| p == "PING") {
            continue;
        }
        seen.push(parts.join(" "));
    }
    assert_eq!(seen[0], "SELECT 0");
    assert!(seen[1].starts_with("SET a 1 PXAT "), "{}", seen[1]);
    assert!(seen[2].starts_with("PEXPIREAT seed "), "{}", seen[2]);
    assert_eq!(seen[3], "SET f 10.5");
    assert_eq!(seen[4], "SET f 10.6 KEEPTTL");
    assert_eq!(&seen[5..9], ["MULTI", "SET x 1", "INCR x", "EXEC"]);
    assert_eq!(&seen[9..11], ["SELECT 2", "SET in2 v"]);
}

#[test]
fn redis_cli_rdb_and_replica_modes_work_against_ferrodis() {
    let rdb_check = require_tool("redis-check-rdb");
    let cli = require_tool("redis-cli");
    let m = Server::start(&["--repl-diskless-sync-delay", "0"]);
    seed_data(&mut m.conn(), 1000);
    let out = m.dir.join("from-cli.rdb");
    let st = std::process::Command::new(&cli)
        .args(["-p", &m.port.to_string(), "--rdb"])
        .arg(&out)
        .output()
        .expect("redis-cli --rdb");
    assert!(
        st.status.success(),
        "redis-cli --rdb failed: {}",
        String::from_utf8_lossy(&st.stderr)
    );
    // --replica: SYNC, then every command of the stream, as it happens.
    let mut child = std::process::Command::new(&cli)
        .args(["-p", &m.port.to_string(), "--replica"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("redis-cli --replica");
    let stdout = child.stdout.take().expect("stdout");
    let (tx, rx) = std::sync::mpsc::channel::<String>();
    thread::spawn(move || {
        use std::io::BufRead;
        for line in std::io::BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
        {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let wait_line = |want: &str| {
        let deadline = std::time::Instant::now() + SYNC_TIMEOUT;
        while let Ok(l) =
            rx.recv_timeout(deadline.saturating_duration_since(std::time::Instant::now()))
        {
            if l.contains(want) {
                return true;
            }
        }
        false
    };
    // Its status lines go to stderr: wait for the master to stream to it.
    let mut mc = m.conn();
    assert!(
        wait_until(SYNC_TIMEOUT, || {
            let r = mc.cmd(&["INFO", "replication"]);
            String::from_utf8_lossy(bulk_body(&r).unwrap_or_default()).contains("state=online")
        }),
        "redis-cli --replica never finished its sync"
    );
    m.conn().cmd(&["SET", "marker", "from-master"]);
    assert!(
        wait_line("\"marker\",\"from-master\""),
        "the write never reached redis-cli --replica"
    );
    let _ = child.kill();
    let _ = child.wait();
    let chk = std::process::Command::new(rdb_check)
        .arg(&out)
        .output()
        .expect("redis-check-rdb");
    assert!(
        chk.status.success() && String::from_utf8_lossy(&chk.stdout).contains("RDB looks OK"),
        "{}",
        String::from_utf8_lossy(&chk.stdout)
    );
}

#[test]
fn failover_switches_roles_with_a_partial_resync() {
    let m = Server::start(&["--repl-diskless-sync-delay", "0"]);
    let r = Server::start(&[]);
    seed_data(&mut m.conn(), 200);
    r.conn()
        .cmd(&["REPLICAOF", "127.0.0.1", &m.port.to_string()]);
    wait_in_sync(&m, &[&r]);
    let mut mc = m.conn();
    assert_eq!(
        s(&mc.cmd(&[
            "FAILOVER",
            "TO",
            "127.0.0.1",
            &r.port.to_string(),
            "TIMEOUT",
            "5000"
        ])),
        "+OK\r\n"
    );
    let mut rc = r.conn();
    assert!(wait_until(SYNC_TIMEOUT, || info_field(
        &mut rc,
        "replication",
        "role"
    )
    .as_deref()
        == Some("master")));
    assert!(wait_until(SYNC_TIMEOUT, || link_up(&mut mc)));
    assert_eq!(
        info_field(&mut mc, "replication", "master_failover_state").as_deref(),
        Some("no-failover")
    );
    assert_eq!(stat(&mut rc, "sync_partial_ok"), 1);
    rc.cmd(&["SET", "after", "failover"]);
    wait_in_sync(&r, &[&m]);
    assert_same_data(&[&r, &m]);
    assert_eq!(
        s(&mc.cmd(&["FAILOVER"])),
        "-ERR FAILOVER is not valid when server is a replica.\r\n"
    );
}

#[test]
fn restarted_replica_resyncs_partially_from_its_saved_position() {
    let m = Server::start(&["--repl-diskless-sync-delay", "0"]);
    seed_data(&mut m.conn(), 1000);
    let mp = m.port.to_string();
    let mut r = Server::start(&["--replicaof", "127.0.0.1", &mp]);
    wait_in_sync(&m, &[&r]);
    // SHUTDOWN SAVE stores repl-id / repl-offset in the replica's RDB.
    let _ = r.conn().try_cmd(&["SHUTDOWN", "SAVE"]);
    assert!(
        r.wait_exit(Duration::from_secs(10)).is_some(),
        "replica did not exit"
    );
    let dir = r.dir.path.display().to_string();
    let mut mc = m.conn();
    mc.cmd(&["SET", "while-down", "1"]);
    let r2 = Server::start(&["--dir", &dir, "--replicaof", "127.0.0.1", &mp]);
    wait_in_sync(&m, &[&r2]);
    assert_eq!(
        stat(&mut mc, "sync_full"),
        1,
        "the restart must not cost a full sync"
    );
    assert_eq!(stat(&mut mc, "sync_partial_ok"), 1);
    assert!(r2.log().contains("Trying a partial resynchronization"));
    assert_same_data(&[&m, &r2]);
}

#[test]
fn partial_resync_continues_in_the_db_the_master_stream_selected() {
    // A real Redis master does not SELECT again after +CONTINUE.
    let m = RedisServer::start(&["--repl-diskless-sync-delay", "0"]);
    let r = Server::start(&[]);
    let mut mc = m.conn();
    mc.cmd(&["SELECT", "5"]);
    mc.cmd(&["SET", "x", "1"]);
    let mut rc = r.conn();
    rc.cmd(&["REPLICAOF", "127.0.0.1", &m.port.to_string()]);
    wait_in_sync(&m, &[&r]);
    mc.cmd(&["SET", "x2", "1"]);
    wait_in_sync(&m, &[&r]);
    assert_eq!(rc.cmd_int(&["CLIENT", "KILL", "TYPE", "master"]), 1);
    mc.cmd(&["SET", "y", "2"]);
    wait_in_sync(&m, &[&r]);
    assert_eq!(stat(&mut mc, "sync_partial_ok"), 1);
    rc.cmd(&["SELECT", "5"]);
    assert_eq!(
        rc.cmd(&["GET", "y"]),
        b"$1\r\n2\r\n",
        "the write must land in db 5"
    );
    assert_same_data(&[&m, &r]);
}

/// A TCP proxy to `target` that cuts its first connection after `cut_after`
/// bytes went from the target to the client; later connections pass.
fn cutting_proxy(target: u16, cut_after: usize) -> u16 {
    use std::io::{Read, Write};
    use std::net::{Shutdown, TcpListener, TcpStream};
    let l = TcpListener::bind("127.0.0.1:0").expect("proxy bind");
    let port = l.local_addr().expect("addr").port();
    thread::spawn(move || {
        for (n, client) in l.incoming().enumerate() {
            let Ok(client) = client else { return };
            let Ok(server) = TcpStream::connect(("127.0.0.1", target)) else {
                return;
            };
            let limit = if n == 0 { cut_after } else { usize::MAX };
            let (mut c_in, mut s_out) = (
                client.try_clone().expect("clone"),
                server.try_clone().expect("clone"),
            );
            thread::spawn(move || {
                let mut buf = [0u8; 4096];
                while let Ok(k) = c_in.read(&mut buf) {
                    if k == 0 || s_out.write_all(&buf[..k]).is_err() {
                        break;
                    }
                }
            });
            let (mut s_in, mut c_out) = (server, client);
            thread::spawn(move || {
                let mut buf = [0u8; 4096];
                let mut sent = 0;
                while let Ok(k) = s_in.read(&mut buf) {
                    let k = k.min(limit - sent);
                    if k == 0 || c_out.write_all(&buf[..k]).is_err() {
                        break;
                    }
                    sent += k;
                }
                let _ = c_out.shutdown(Shutdown::Both);
                let _ = s_in.shutdown(Shutdown::Both);
            });
        }
    });
    port
}

#[test]
fn link_cut_in_the_middle_of_a_full_sync_recovers() {
    for diskless in ["yes", "no"] {
        let m = Server::start(&[
            "--repl-diskless-sync",
            diskless,
            "--repl-diskless-sync-delay",
            "0",
        ]);
        seed_data(&mut m.conn(), 20_000);
        // Cut 100 KB into the RDB transfer.
        let proxy = cutting_proxy(m.port, 100_000);
        let r = Server::start(&[]);
        r.conn()
            .cmd(&["REPLICAOF", "127.0.0.1", &proxy.to_string()]);
        wait_in_sync(&m, &[&r]);
        let mut mc = m.conn();
        assert!(
            stat(&mut mc, "sync_full") >= 2,
            "diskless={diskless}: the cut transfer must have been retried"
        );
        assert_same_data(&[&m, &r]);
    }
}

#[test]
fn rdb_del_sync_files_removes_dumps_that_only_served_a_sync() {
    let m = Server::start(&["--repl-diskless-sync", "no", "--rdb-del-sync-files", "yes"]);
    let r = Server::start(&[
        "--rdb-del-sync-files",
        "yes",
        "--repl-diskless-load",
        "disabled",
    ]);
    seed_data(&mut m.conn(), 100);
    r.conn()
        .cmd(&["REPLICAOF", "127.0.0.1", &m.port.to_string()]);
    wait_in_sync(&m, &[&r]);
    assert!(
        wait_until(Duration::from_secs(5), || !m.dir.join("dump.rdb").exists()),
        "master kept its sync dump"
    );
    assert!(
        !r.dir.join("dump.rdb").exists(),
        "replica kept the received dump"
    );
    assert!(!std::fs::read_dir(&r.dir.path)
        .expect("dir")
        .any(|e| e.is_ok_and(|e| e.file_name().to_string_lossy().starts_with("temp-"))));
    assert_same_data(&[&m, &r]);
}

#[test]
fn writable_replica_expires_its_own_volatile_keys() {
    // The master never sends a DEL for a key it does not have: the replica
    // expires the volatile keys its own clients wrote (expireSlaveKeys).
    let m = Server::start(&[]);
    let port = m.port.to_string();
    let r = Server::start(&[
        "--replicaof",
        "127.0.0.1",
        &port,
        "--replica-read-only",
        "no",
    ]);
    wait_in_sync(&m, &[&r]);
    let mut rc = r.conn();
    let expired = |c: &mut Conn| -> i64 {
        info_field(c, "stats", "expired_keys")
            .and_then(|v| v.parse().ok())
            .unwrap_or(-1)
    };
    let before = expired(&mut rc);
    assert_eq!(rc.cmd(&["SET", "foo", "bar", "PX", "1"]), b"+OK\r\n");
    rc.cmd(&["SET", "keep", "v", "EX", "1000"]);
    assert!(wait_until(Duration::from_secs(5), || expired(
        &mut r.conn()
    ) == before + 1));
    assert_eq!(rc.cmd(&["DBSIZE"]), b":1\r\n");
    assert_eq!(rc.cmd(&["GET", "foo"]), b"$-1\r\n");
}

/// The master PINGs its replicas on the seconds that are multiples of
/// repl-ping-replica-period, as Redis's replicationCron, not as soon as a
/// replica appears: a new replica's stream starts with the writes (Redis's
/// own tests read it expecting exactly that).
#[test]
fn new_replica_stream_starts_with_the_writes() {
    let m = Server::start(&["--repl-ping-replica-period", "3600"]);
    let mut r = m.conn();
    r.send(&[b"SYNC"]);
    // Newlines may keep the link alive while the RDB is produced.
    let header = loop {
        let line = r.read_line();
        let line = line.trim_start_matches('\n');
        if !line.is_empty() {
            break line.to_string();
        }
    };
    let len: usize = header
        .strip_prefix('$')
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("bulk header expected: {header:?}"));
    let rdb = r.read_exact_bytes(len);
    assert!(rdb.starts_with(b"REDIS"));
    assert_eq!(m.conn().cmd(&["SET", "foo", "bar"]), b"+OK\r\n");
    assert_eq!(r.read_reply(), multibulk(&[b"SELECT", b"0"]));
    assert_eq!(r.read_reply(), multibulk(&[b"SET", b"foo", b"bar"]));
}

/// replica-lazy-flush: the replica's old data set, dropped by a full sync,
/// is freed by the loop and counted as Redis's emptyData(ASYNC) counts it
/// (one lazy-freed object per old key).
#[test]
fn replica_lazy_flush_frees_the_old_data_in_the_background() {
    let m = Server::start(&[]);
    let r = Server::start(&["--replica-lazy-flush", "yes"]);
    m.conn().cmd(&["SET", "from-master", "1"]);
    let mut rc = r.conn();
    rc.cmd(&["DEBUG", "POPULATE", "3000", "old"]);
    rc.cmd(&["REPLICAOF", "127.0.0.1", &m.port.to_string()]);
    wait_in_sync(&m, &[&r]);
    assert!(wait_until(Duration::from_secs(10), || {
        info_field(&mut rc, "memory", "lazyfree_pending_objects").as_deref() == Some("0")
    }));
    assert_eq!(
        info_field(&mut rc, "memory", "lazyfreed_objects").as_deref(),
        Some("3000")
    );
    assert_eq!(rc.cmd_int(&["DBSIZE"]), 1);
}
