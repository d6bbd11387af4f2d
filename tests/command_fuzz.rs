//! Every command in the table, with random (often hostile) arguments, against
//! keys of every type: the server must answer each one (a reply or an error)
//! and never die. Deterministic: a fixed xorshift seed per round.

mod common;

use common::*;
use std::time::Duration;

/// Commands that change the connection or server state in ways that would
/// stop the fuzz loop itself (they have their own tests).
const SKIP: &[&str] = &[
    "shutdown",
    "debug",
    "monitor",
    "sync",
    "psync",
    "replicaof",
    "slaveof",
    "subscribe",
    "psubscribe",
    "client",
    "quit",
    "reset",
    "failover",
    "bgrewriteaof",
    "save",
    "bgsave",
    "blpop",
    "brpop",
    "blmove",
    "brpoplpush",
    "blmpop",
    "bzpopmin",
    "bzpopmax",
    "bzmpop",
    "wait",
    "config",
    "multi",
    "exec",
    "replconf",
    "hello",
    "auth",
    "select",
    "swapdb",
    // Seconds of work by design (its own test in tests/extra_commands.rs).
    "pfselftest",
];

const VALUES: &[&str] = &[
    "0",
    "1",
    "-1",
    "2",
    "10",
    "-10",
    "100000000000",
    "9223372036854775807",
    "-9223372036854775808",
    "1.5",
    "-inf",
    "+inf",
    "nan",
    "(1",
    "[a",
    "-",
    "+",
    "a",
    "",
    "LIMIT",
    "WITHSCORES",
    "BYSCORE",
    "BYLEX",
    "REV",
    "COUNT",
    "MATCH",
    "TYPE",
    "STORE",
    "BY",
    "GET",
    "#",
    "->",
    "NX",
    "XX",
    "GT",
    "LT",
    "CH",
    "INCR",
    "EX",
    "PX",
    "KEEPTTL",
    "LEFT",
    "RIGHT",
    "BEFORE",
    "AFTER",
    "RANK",
    "MAXLEN",
    "IDX",
    "LEN",
    "WEIGHTS",
    "AGGREGATE",
    "SUM",
    "OVERFLOW",
    "WRAP",
    "SAT",
    "FAIL",
    "u8",
    "i64",
    "#1",
    "4294967296",
    "ALPHA",
    "DESC",
    "ENCODING",
    "REPLACE",
    "ABSTTL",
    "DB",
    "1e308",
    "-0",
    "u63",
    "i65",
    "WITHVALUES",
    "BIT",
    "BYTE",
    "AND",
    "NOT",
    "*",
];

const KEYS: &[&str] = &[
    "k1", "k2", "list", "hash", "set", "zset", "str", "hll", "intset",
];

fn setup(c: &mut Conn) {
    for cmd in [
        &["RPUSH", "list", "a", "b", "c", "1", "2"][..],
        &["HSET", "hash", "f", "v", "n", "1"],
        &["SADD", "set", "a", "b", "1"],
        &["SADD", "intset", "1", "2", "3"],
        &["ZADD", "zset", "1", "a", "2", "b", "3", "c"],
        &["SET", "str", "hello"],
        &["SET", "k1", "10"],
        &["PFADD", "hll", "a", "b"],
    ] {
        c.cmd(cmd);
    }
}

#[test]
fn random_commands_never_kill_the_server() {
    let s = Server::start(&[]);
    let mut c = s.conn();
    let list = c.cmd(&["COMMAND", "LIST"]);
    let text = String::from_utf8_lossy(&list).into_owned();
    let names: Vec<String> = text
        .lines()
        .filter(|l| !l.is_empty() && !l.starts_with(['*', '$']))
        .map(|l| l.trim().to_string())
        .filter(|n| !SKIP.contains(&n.as_str()))
        .collect();
    let names: Vec<&str> = names.iter().map(|s| s.as_str()).collect();
    assert!(names.len() > 150, "COMMAND LIST too short: {}", names.len());
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    for i in 0..6000 {
        if i % 300 == 0 {
            setup(&mut c);
        }
        let mut args = vec![*rng.pick(&names)];
        for _ in 0..rng.next() % 8 {
            args.push(if rng.next().is_multiple_of(3) {
                *rng.pick(KEYS)
            } else {
                *rng.pick(VALUES)
            });
        }
        let r = c.try_cmd(&args);
        assert!(r.is_ok(), "no reply to {args:?}: {r:?}\n{}", s.log());
    }
    assert_eq!(s.conn().cmd(&["PING"]), b"+PONG\r\n");
    assert!(!s.log().contains("panicked"));
}

/// A negative count makes SRANDMEMBER, HRANDFIELD and ZRANDMEMBER repeat
/// members: the reply is bounded by the output-buffer limit instead of
/// growing until the OOM killer ends the server (what Redis 7.0 does).
#[test]
fn huge_random_counts_are_bounded() {
    let s = Server::start(&["--client-output-buffer-limit", "normal 1mb 0 0"]);
    let mut c = s.conn();
    c.cmd(&["SADD", "s", "a", "b"]);
    c.cmd(&["HSET", "h", "f", "v"]);
    c.cmd(&["ZADD", "z", "1", "a"]);
    let too_big =
        b"-ERR the reply for this count would exceed the client output buffer limit\r\n".to_vec();
    for cmd in [
        &["SRANDMEMBER", "s", "-9223372036854775807"][..],
        &["HRANDFIELD", "h", "-4611686018427387903", "WITHVALUES"],
        &["ZRANDMEMBER", "z", "-4611686018427387903", "WITHSCORES"],
    ] {
        assert_eq!(c.cmd(cmd), too_big, "{cmd:?}");
    }
    // Counts that fit still answer normally.
    let r = c.cmd(&["SRANDMEMBER", "s", "-3"]);
    assert!(r.starts_with(b"*3\r\n"), "{}", String::from_utf8_lossy(&r));
    assert_eq!(c.cmd(&["PING"]), b"+PONG\r\n");
}

/// Commands whose reply may never come, or that turn the connection into
/// something else (a subscriber, a monitor, a replica, a transaction, another
/// protocol): each runs on a connection of its own, dropped afterwards.
const CONNECTION_STATE: &[&str] = &[
    "subscribe",
    "psubscribe",
    "monitor",
    "sync",
    "psync",
    "replconf",
    "multi",
    "client",
    "hello",
    "reset",
    "select",
    "auth",
    "quit",
    "wait",
    "exec",
    "watch",
];

/// Issue 9 item 4: every command of the table, with every number of
/// arguments from none to two more than its arity asks, and random
/// arguments (keys of every type, numbers, keywords): the server answers or
/// legitimately blocks, and never dies. Only SHUTDOWN (it ends the server
/// by design) and PFSELFTEST (seconds of work by design) are left out; REPLICAOF/SLAVEOF run last (they change what
/// every later write replies).
#[test]
fn every_command_at_every_arity() {
    let mut s = Server::start(&["--appendonly", "no"]);
    let port = s.port;
    let mut control = s.conn();
    setup(&mut control);
    // PFSELFTEST is seconds of work by design (tested on its own).
    let mut specs: Vec<&ferrodis::cmd::CommandSpec> = ferrodis::cmd::table::all()
        .filter(|c| c.name != "shutdown" && c.name != "pfselftest")
        .collect();
    specs.sort_by_key(|c| matches!(c.name, "replicaof" | "slaveof"));
    let mut rng = Rng(0x2545_F491_4F6C_DD1D);
    let mut shared = s.conn();
    let mut runs = 0;
    for spec in &specs {
        let blocking = spec.has(ferrodis::cmd::flag::BLOCKING);
        let own_conn = blocking || CONNECTION_STATE.contains(&spec.name);
        let max_args = spec.arity.unsigned_abs() as usize + 2;
        for nargs in 0..=max_args {
            for _ in 0..3 {
                let mut args = vec![spec.name];
                for _ in 0..nargs {
                    args.push(if rng.next().is_multiple_of(3) {
                        *rng.pick(KEYS)
                    } else {
                        *rng.pick(VALUES)
                    });
                }
                runs += 1;
                if own_conn {
                    let wait = if blocking { 50 } else { 500 };
                    let mut c = Conn::connect_with_timeout(port, Duration::from_millis(wait))
                        .expect("connect");
                    let a: Vec<&[u8]> = args.iter().map(|x| x.as_bytes()).collect();
                    c.send(&a);
                    // A reply, a timeout (blocked) or a close (QUIT) are all fine.
                    let _ = c.try_read_reply();
                } else {
                    let r = shared.try_cmd(&args);
                    assert!(r.is_ok(), "no reply to {args:?}: {r:?}\n{}", s.log());
                }
                assert!(
                    s.try_wait().is_none(),
                    "the server died on {args:?}\n{}",
                    s.log()
                );
            }
        }
        // Fresh data for the next command (some flush or delete it).
        setup(&mut control);
    }
    let mut c = s.conn();
    assert_eq!(c.cmd(&["PING"]), b"+PONG\r\n");
    let _ = c.cmd(&["REPLICAOF", "NO", "ONE"]);
    assert!(runs > 2000, "only {runs} commands ran");
    assert!(
        !s.log().contains("panicked"),
        "a command panicked:\n{}",
        s.log()
    );
}
