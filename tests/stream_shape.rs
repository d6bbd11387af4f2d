//! The replication stream, command by command, compared with a real Redis
//! 7.0.15: the same steps run against both servers with a raw SYNC client
//! attached, and the commands each server streams (up to a marker) must be
//! the same. PINGs are left out; PEXPIREAT/PXAT times are normalised and
//! runs of DELs compared sorted.

mod common;
mod scenario;

use common::repl::sync_client;
use common::{parse, Conn, RedisServer, Server, Value};
use std::time::Duration;

/// One step: connection 0 or 1 runs a command (`!` prefix: sent without
/// reading, for blocking commands), `sleep N`, `wait-blocked N` (as in
/// the scenario scripts), or `1 <` (the pending reply of connection 1).
fn run(port: u16, steps: &[&str]) -> Vec<String> {
    let mut stream = sync_client(port);
    let mut conns = [Conn::connect(port), Conn::connect(port)];
    let mut side = None;
    for step in steps {
        if let Some(ms) = step.strip_prefix("sleep ") {
            std::thread::sleep(Duration::from_millis(ms.parse().expect("ms")));
            continue;
        }
        if let Some(n) = step.strip_prefix("wait-blocked ") {
            scenario::wait_blocked(&mut side, port, n.parse().expect("count"));
            continue;
        }
        let (n, rest) = step.split_at(2);
        let c = &mut conns[if n.starts_with('1') { 1 } else { 0 }];
        if rest == "<" {
            c.read_reply();
            continue;
        }
        let (send_only, cmd) = match rest.strip_prefix('!') {
            Some(r) => (true, r),
            None => (false, rest),
        };
        let args: Vec<&[u8]> = cmd.split(' ').map(|a| a.as_bytes()).collect();
        c.send(&args);
        if !send_only {
            c.read_reply();
        }
    }
    conns[0].cmd(&["SET", "marker", "end"]);
    let mut seen: Vec<String> = Vec::new();
    loop {
        let words: Vec<String> = match parse(&stream.read_reply()) {
            Value::Array(a) => a.iter().map(|v| v.text()).collect(),
            v => panic!("not a command: {v:?}"),
        };
        let line = words.join(" ");
        if line == "PING" {
            continue;
        }
        if line == "SET marker end" {
            // Keys deleted in a row in random order (RANDOMKEY) compare sorted.
            let mut i = 0;
            while i < seen.len() {
                let j = (i..seen.len())
                    .find(|&j| !seen[j].starts_with("DEL "))
                    .unwrap_or(seen.len());
                seen[i..j].sort();
                i = j + 1;
            }
            return seen;
        }
        // Absolute times differ between the two runs.
        let mut words = words;
        if words[0].eq_ignore_ascii_case("pexpireat") {
            words[2] = "<time>".into();
        }
        for i in 1..words.len() {
            if words[i - 1].eq_ignore_ascii_case("pxat") {
                words[i] = "<time>".into();
            }
        }
        seen.push(words.join(" "));
    }
}

fn same_stream(steps: &[&str]) {
    let args = [
        "--repl-diskless-sync",
        "no",
        "--repl-ping-replica-period",
        "3600",
    ];
    let redis = RedisServer::start(&args);
    let ferrodis = Server::start(&args);
    let want = run(redis.port, steps);
    let got = run(ferrodis.port, steps);
    assert_eq!(got, want, "ferrodis vs redis-server");
}

#[test]
fn zmpop_propagates_the_count_popped() {
    same_stream(&[
        "0 ZADD z 1 one 2 two 3 three",
        "0 ZMPOP 1 z MIN",
        "0 ZMPOP 1 z MAX COUNT 1",
        "0 ZMPOP 2 z z2 MIN COUNT 10",
        "0 ZMPOP 2 z z2 MAX COUNT 10",
        "0 ZADD z2 1 one 2 two 3 three",
        "0 BZMPOP 0 2 z z2 MIN COUNT 2",
        "0 BZMPOP 0 2 z z2 MAX COUNT 10",
        "1 !BZMPOP 0 1 z MIN COUNT 5",
        "wait-blocked 1",
        "0 ZADD z 1 a 2 b",
        "1 <",
        "0 ZADD z 1 a",
        "0 BZPOPMIN z 0",
    ]);
}

#[test]
fn expired_key_met_by_a_blocked_client_is_deleted_after_exec() {
    same_stream(&[
        "0 DEBUG SET-ACTIVE-EXPIRE 0",
        "1 !BRPOP k 0",
        "wait-blocked 1",
        "0 MULTI",
        "0 RPUSH k hello",
        "0 PEXPIRE k 100",
        "0 DEBUG SLEEP 0.2",
        "0 EXEC",
        "0 DEBUG SET-ACTIVE-EXPIRE 1",
    ]);
}

#[test]
fn reads_and_no_op_writes_are_not_propagated() {
    same_stream(&[
        "0 SET foo bar",
        "0 GETEX foo",
        "0 GETEX nosuchkey EX 10",
        "0 GETEX foo PERSIST",
        "0 GETEX foo PX 100000",
        "0 DEL foo",
    ]);
}

#[test]
fn lazy_expiry_by_scan_and_randomkey_is_not_a_transaction() {
    same_stream(&[
        "0 DEBUG SET-ACTIVE-EXPIRE 0",
        "0 SET foo1 bar PX 1",
        "0 SET foo2 bar PX 1",
        "sleep 20",
        "0 SCAN 0",
        "0 SET foo3 bar PX 1",
        "0 SET foo4 bar PX 1",
        "sleep 20",
        "0 RANDOMKEY",
        "0 DEBUG SET-ACTIVE-EXPIRE 1",
    ]);
}

#[test]
fn evictions_propagate_one_by_one_after_the_command() {
    // CONFIG SET maxmemory starts evictions from the loop (a MULTI that
    // sets it runs to its end first), each DEL on its own.
    same_stream(&[
        "0 SET asdf1 1",
        "0 SET asdf2 2",
        "0 SET asdf3 3",
        "0 CONFIG SET maxmemory-policy allkeys-lru",
        "0 CONFIG SET maxmemory 1",
        "sleep 200",
        "0 DBSIZE",
        "0 CONFIG SET maxmemory 0",
        "0 SET asdf4 4",
        "0 MULTI",
        "0 INCR x",
        "0 CONFIG SET maxmemory 1",
        "0 INCR x",
        "0 EXEC",
        "sleep 200",
        "0 DBSIZE",
        "0 CONFIG SET maxmemory 0",
        "0 CONFIG SET maxmemory-policy noeviction",
    ]);
}
