//! MULTI/EXEC/DISCARD/WATCH compared with a real Redis 7.0.15: each scenario
//! runs against both servers with identical raw replies expected, plus the
//! replication-side checks (what a transaction propagates, WATCH on a
//! replica invalidated by its master's stream).

mod common;
mod scenario;

use common::repl::sync_client;
use common::{info_field, wait_until, Conn, RedisServer, Server};
use scenario::check;
use std::time::Duration;

#[test]
fn multi_exec_discard_basics() {
    check(
        "basics",
        &[],
        r#"
0 MULTI
0 SET a 1
0 INCR a
0 GET a
0 EXEC
0 MULTI
0 MULTI
0 PING
0 EXEC
0 EXEC
0 DISCARD
0 MULTI
0 SET b 1
0 DISCARD
0 GET b
0 MULTI
0 EXEC
# queueing errors make EXEC fail
0 MULTI
0 SET x 1
0 NOSUCHCMD a b
0 SET y 2
0 EXEC
0 EXISTS x y
0 MULTI
0 SET x
0 EXEC
0 MULTI
0 GET
0 DISCARD
# runtime errors do not stop the others
0 LPUSH l a
0 MULTI
0 SET s v
0 INCR l
0 LPUSH s x
0 GET s
0 LPOP l
0 EXEC
# commands refused inside MULTI
0 MULTI
0 WATCH a
0 SET z 1
0 EXEC
0 GET z
0 MULTI
0 MONITOR
0 SYNC
0 EXEC
0 MULTI
0 EXEC x
0 EXEC
0 MULTI
0 SELECT 3
0 SET indb3 1
0 EXEC
0 GET indb3
0 SELECT 0
0 GET indb3
0 MULTI
0 SELECT 99
0 GET a
0 EXEC
0 MULTI
0 CONFIG SET maxmemory-policy noeviction
0 SET k v
0 PING
0 ECHO hi
0 EXEC
# RESP3 subscribe inside EXEC: a push inside the EXEC array
[nd] 1 HELLO 3
1 MULTI
1 SUBSCRIBE ch
1 GET x
1 EXEC
1 GET x
1 RESET
0 MULTI
0 MULTI
0 DISCARD
0 MULTI
0 UNWATCH
0 EXEC
# SUBSCRIBE queued in MULTI runs inside EXEC and enters subscribed mode
0 MULTI
0 SUBSCRIBE ch
0 PSUBSCRIBE p*
0 SET z 1
0 EXEC
0 GET z
0 MULTI
0 CONFIG SET maxmemory 0
0 CLIENT LIST
0 PING
0 EXEC
0 RESET
"#,
    );
}

#[test]
fn multi_exec_resp3() {
    check(
        "resp3",
        &[],
        r#"
[nd] 0 HELLO 3
0 MULTI
0 SET a 1
0 HSET h f v
0 HGETALL h
0 SMEMBERS nosuch
0 ZADD z 1.5 m
0 ZSCORE z m
0 GET nosuch
0 EXEC
0 WATCH a
1 SET a 2
0 MULTI
0 GET a
0 EXEC
[nd] 1 HELLO 2
0 WATCH a
1 SET a 3
0 MULTI
1 MULTI
1 GET a
0 EXEC
1 WATCH a
1 EXEC
"#,
    );
}

#[test]
fn watch_invalidation_by_other_clients() {
    check(
        "watch",
        &[],
        r#"
# each type's write invalidates
0 WATCH s
1 SET s 1
0 MULTI
0 PING
0 EXEC
0 RPUSH l a
0 WATCH l
1 LPUSH l b
0 MULTI
0 PING
0 EXEC
0 HSET h f 1
0 WATCH h
1 HINCRBY h f 1
0 MULTI
0 PING
0 EXEC
0 SADD st a
0 WATCH st
1 SREM st a
0 MULTI
0 PING
0 EXEC
0 ZADD z 1 a
0 WATCH z
1 ZINCRBY z 1 a
0 MULTI
0 PING
0 EXEC
0 WATCH bm
1 SETBIT bm 7 1
0 MULTI
0 PING
0 EXEC
0 WATCH hl
1 PFADD hl a
0 MULTI
0 PING
0 EXEC
0 WATCH s
1 EXPIRE s 100
0 MULTI
0 PING
0 EXEC
0 WATCH s
1 PERSIST s
0 MULTI
0 PING
0 EXEC
0 WATCH s
1 RENAME s s2
0 MULTI
0 PING
0 EXEC
0 WATCH s2
1 MOVE s2 1
0 MULTI
0 PING
0 EXEC
# a write that changes nothing does not invalidate
0 WATCH st
1 SREM st nosuch
1 PERSIST st
1 LPOP nolist
0 MULTI
0 PING
0 EXEC
# DEL of a missing key does not invalidate
0 WATCH missing
1 DEL missing
1 UNLINK missing
0 MULTI
0 PING
0 EXEC
# reads do not invalidate; the watcher's own writes do
0 WATCH l
1 LRANGE l 0 -1
0 MULTI
0 PING
0 EXEC
0 WATCH l
0 LPUSH l own
0 MULTI
0 PING
0 EXEC
# UNWATCH, several keys, same key twice, another db
0 WATCH l
0 UNWATCH
1 LPUSH l c
0 MULTI
0 PING
0 EXEC
0 WATCH k1 k2 k3 k1
1 SET k3 x
0 MULTI
0 PING
0 EXEC
0 WATCH k1
1 SELECT 1
1 SET k1 x
0 MULTI
0 PING
0 EXEC
# DISCARD unwatches
0 WATCH k1
0 MULTI
0 DISCARD
1 SELECT 0
1 SET k1 y
0 MULTI
0 PING
0 EXEC
# EXEC aborted by a watched key discards the queue
0 WATCH k1
1 SET k1 z
0 MULTI
0 SET k1 mine
0 EXEC
0 GET k1
"#,
    );
}

#[test]
fn watch_flush_and_swapdb() {
    check(
        "flush",
        &[],
        r#"
0 SET e 1
0 WATCH e
1 FLUSHDB
0 MULTI
0 PING
0 EXEC
# flushing a db where the watched key does not exist
0 WATCH e
1 SET other 1
1 FLUSHDB
0 MULTI
0 PING
0 EXEC
0 SET e 1
0 WATCH e
1 FLUSHALL
0 MULTI
0 PING
0 EXEC
0 WATCH e
1 FLUSHALL
0 MULTI
0 PING
0 EXEC
# a flush of another db
0 SET e 1
0 WATCH e
1 SELECT 5
1 SET x 1
1 FLUSHDB
1 SELECT 0
0 MULTI
0 PING
0 EXEC
# SWAPDB: the key exists in the watched db, in the other, in neither
0 WATCH e
1 SWAPDB 0 1
0 MULTI
0 PING
0 EXEC
0 WATCH e
1 SWAPDB 0 1
0 MULTI
0 PING
0 EXEC
0 FLUSHALL
0 WATCH e
1 SWAPDB 0 1
0 MULTI
0 PING
0 EXEC
1 SELECT 1
1 SET e in1
0 WATCH e
1 SWAPDB 0 1
0 MULTI
0 PING
0 EXEC
0 WATCH e
1 SWAPDB 2 3
0 MULTI
0 PING
0 EXEC
"#,
    );
}

#[test]
fn watch_and_expiry() {
    check(
        "expiry",
        &[],
        r#"
# 1. a watched key expires (nobody touches it) before EXEC; the TTLs of
# keys watched alive leave a slow machine time to WATCH
0 DEBUG SET-ACTIVE-EXPIRE 0
0 SET k v PX 1000
0 WATCH k
sleep 1500
0 MULTI
0 PING
0 EXEC
# 2. already expired when watched, still logically expired at EXEC
0 SET k v PX 50
sleep 100
0 WATCH k
0 MULTI
0 PING
0 EXEC
# 3. expired when watched, then deleted by a lazy access
0 SET k v PX 50
sleep 100
0 WATCH k
1 GET k
0 MULTI
0 PING
0 EXEC
# 4. expired when watched, then recreated
0 SET k v PX 50
sleep 100
0 WATCH k
1 SET k new
0 MULTI
0 PING
0 EXEC
# 5. watched key with a TTL that is still alive at EXEC
0 SET k v PX 100000
0 WATCH k
0 MULTI
0 PING
0 EXEC
# 6. expired, watched, then a DEL (deletes nothing visible)
0 SET k v PX 50
sleep 100
0 WATCH k
1 DEL k
0 MULTI
0 PING
0 EXEC
# 7. expired key touched by the watcher's own read
0 SET k v PX 1000
0 WATCH k
sleep 1500
0 GET k
0 MULTI
0 PING
0 EXEC
# 8. expired, watched, then FLUSHDB
0 SET k v PX 50
sleep 100
0 WATCH k
1 FLUSHDB
0 MULTI
0 PING
0 EXEC
# 9. active expiry deletes the watched key
0 DEBUG SET-ACTIVE-EXPIRE 1
0 SET k v PX 1000
0 WATCH k
sleep 1500
0 MULTI
0 PING
0 EXEC
"#,
    );
}

#[test]
fn reset_and_client_kill_in_multi() {
    check(
        "reset",
        &[],
        r#"
0 WATCH a
0 MULTI
0 SET a 1
0 RESET
0 EXEC
1 SET a 2
0 MULTI
0 PING
0 EXEC
0 GET a
1 CLIENT SETNAME victim
1 MULTI
1 SET killed 1
0 CLIENT KILL SKIPME yes
0 EXISTS killed
"#,
    );
}

// ---- propagation ----

fn words(r: &[u8]) -> String {
    match common::parse(r) {
        common::Value::Array(a) => a.iter().map(|v| v.text()).collect::<Vec<_>>().join(" "),
        v => format!("{v:?}"),
    }
}

/// The commands a master streams to a replica for a fixed sequence of
/// transactions, up to a marker SET.
fn stream_of(port: u16) -> Vec<String> {
    let mut mc = Conn::connect(port);
    let mut sc = sync_client(port);
    let steps: &[&[&str]] = &[
        &["MULTI"],
        &["SET", "one", "1"],
        &["EXEC"],
        &["MULTI"],
        &["SET", "a", "1"],
        &["INCR", "a"],
        &["EXEC"],
        &["MULTI"],
        &["GET", "a"],
        &["EXEC"],
        &["MULTI"],
        &["INCR", "a"],
        &["LPUSH", "a", "x"],
        &["EXEC"],
        &["MULTI"],
        &["SELECT", "1"],
        &["SET", "b", "1"],
        &["SELECT", "0"],
        &["SET", "c", "1"],
        &["EXEC"],
        &["MULTI"],
        &["SET", "d", "1"],
        &["PUBLISH", "ch", "m"],
        &["EXEC"],
        &["SET", "marker", "1"],
    ];
    for s in steps {
        mc.cmd(s);
    }
    let mut seen = Vec::new();
    loop {
        let w = words(&sc.read_reply());
        if w == "PING" {
            continue;
        }
        let done = w == "SET marker 1";
        seen.push(w);
        if done {
            return seen;
        }
    }
}

#[test]
fn exec_propagation_matches_redis() {
    let r = RedisServer::start(&["--repl-diskless-sync", "no"]);
    let f = Server::start(&["--repl-diskless-sync", "no"]);
    assert_eq!(stream_of(f.port), stream_of(r.port));
}

#[test]
fn watch_on_replica_invalidated_by_master_writes() {
    // No 5 s diskless-sync delay before the link comes up.
    let m = Server::start(&["--repl-diskless-sync-delay", "0"]);
    let port = m.port.to_string();
    let s = Server::start(&["--replicaof", "127.0.0.1", &port]);
    let mut mc = m.conn();
    let mut sc = s.conn();
    let up = || {
        let mut c = s.conn();
        info_field(&mut c, "replication", "master_link_status").as_deref() == Some("up")
    };
    assert!(wait_until(Duration::from_secs(30), up));
    mc.cmd(&["SET", "w", "1"]);
    assert!(wait_until(Duration::from_secs(5), || sc.cmd(&["GET", "w"])
        == b"$1\r\n1\r\n"));
    assert_eq!(sc.cmd(&["WATCH", "w"]), b"+OK\r\n");
    mc.cmd(&["SET", "w", "2"]);
    assert!(wait_until(Duration::from_secs(5), || sc.cmd(&["GET", "w"])
        == b"$1\r\n2\r\n"));
    assert_eq!(sc.cmd(&["MULTI"]), b"+OK\r\n");
    assert_eq!(sc.cmd(&["GET", "w"]), b"+QUEUED\r\n");
    assert_eq!(sc.cmd(&["EXEC"]), b"*-1\r\n");
    // Not invalidated when the master leaves the key alone.
    assert_eq!(sc.cmd(&["WATCH", "w"]), b"+OK\r\n");
    mc.cmd(&["SET", "other", "1"]);
    assert!(wait_until(Duration::from_secs(5), || sc
        .cmd(&["EXISTS", "other"])
        == b":1\r\n"));
    sc.cmd(&["MULTI"]);
    sc.cmd(&["GET", "w"]);
    assert_eq!(sc.cmd(&["EXEC"]), b"*1\r\n$1\r\n2\r\n");
    // A FLUSHALL from the master invalidates too.
    assert_eq!(sc.cmd(&["WATCH", "w"]), b"+OK\r\n");
    mc.cmd(&["FLUSHALL"]);
    assert!(wait_until(Duration::from_secs(5), || sc.cmd(&["DBSIZE"]) == b":0\r\n"));
    sc.cmd(&["MULTI"]);
    sc.cmd(&["GET", "w"]);
    assert_eq!(sc.cmd(&["EXEC"]), b"*-1\r\n");
}

#[test]
fn exec_state_checks_are_made_once_for_the_transaction() {
    // A REPLICAOF inside the transaction does not stop the writes after it
    // (Redis checks read-only once, for EXEC); the replica refuses writes
    // afterwards. Nothing of the transaction reaches the old replicas.
    check(
        "replicaof-inside-exec",
        &[],
        r#"
0 MULTI
0 SET foo2 bar
0 REPLICAOF 127.0.0.1 1
0 SET foo3 bar
0 EXEC
0 SET foo4 bar
0 MGET foo2 foo3 foo4
0 REPLICAOF NO ONE
"#,
    );
    // A stale replica refuses an EXEC holding one command without the
    // STALE flag, even when it became stale after the command was queued.
    check(
        "stale-exec",
        &[],
        r#"
0 CONFIG SET replica-serve-stale-data no
0 SET xx 1
0 MULTI
0 GET xx
1 REPLICAOF 127.0.0.1 1
0 EXEC
1 REPLICAOF NO ONE
0 MULTI
0 PING
1 REPLICAOF 127.0.0.1 1
0 EXEC
0 MULTI
1 REPLICAOF NO ONE
0 GET xx
0 EXEC
# every queued command has STALE: allowed
1 REPLICAOF 127.0.0.1 1
0 MULTI
0 INFO nosuchsection
0 EXEC
1 REPLICAOF NO ONE
"#,
    );
    // Inside EXEC nothing forks: background saves are scheduled.
    check(
        "bgsave-inside-exec",
        &[],
        r#"
0 MULTI
0 SET foo bar
0 BGREWRITEAOF
0 BGSAVE
0 EXEC
0 MULTI
0 SET foo bar
0 SAVE
0 SHUTDOWN
0 EXEC
0 GET foo
"#,
    );
}
