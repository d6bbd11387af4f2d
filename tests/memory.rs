//! Memory that must not stay behind: one huge request (a 100,000-argument
//! SADD) grows the query buffer, the argument vector and the replication
//! scratch; once its key is deleted, used_memory is back near where it was
//! (Redis's lazyfree test checks the same through UNLINK).

mod common;

use common::{info_field, wait_until, Conn, RedisServer, Server};
use std::time::Duration;

fn used_memory(c: &mut Conn) -> i64 {
    memory_field(c, "used_memory")
}

/// A connection to `s` once warmed up: the backlog and the usual scratch
/// buffers exist already, and no per-command latency histogram will be
/// allocated on the way of what a test measures.
fn warmed(s: &Server) -> Conn {
    let mut c = s.conn();
    c.cmd(&["CONFIG", "SET", "latency-tracking", "no"]);
    c.cmd(&["SET", "warm", "up"]);
    c
}

fn memory_field(c: &mut Conn, field: &str) -> i64 {
    info_field(c, "memory", field)
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("{field}"))
}

/// maxmemory set 10 KB above used_memory with 4096 keys: the next key
/// would double the keyspace table (64 KB of buckets). Redis does not grow
/// the table then (dictExpandAllowed), so nothing is evicted.
fn rehash_stays_within_maxmemory(s: &Server) {
    let mut c = s.conn();
    c.cmd(&["CONFIG", "SET", "latency-tracking", "no"]);
    c.cmd(&["CONFIG", "SET", "maxmemory-policy", "allkeys-random"]);
    c.cmd(&["DEBUG", "POPULATE", "4096", "", "1"]);
    let limit = used_memory(&mut c) + 10 * 1024;
    c.cmd(&["CONFIG", "SET", "maxmemory", &limit.to_string()]);
    assert_eq!(c.cmd(&["SET", "k1", "v1"]), b"+OK\r\n", "{}", s.name);
    assert_eq!(c.cmd(&["SET", "k2", "v2"]), b"+OK\r\n", "{}", s.name);
    assert_eq!(
        c.cmd_int(&["DBSIZE"]),
        4098,
        "{}: keys were evicted",
        s.name
    );
    assert_eq!(
        info_field(&mut c, "stats", "evicted_keys").as_deref(),
        Some("0"),
        "{}",
        s.name
    );
}

#[test]
fn a_keyspace_rehash_does_not_push_memory_over_maxmemory() {
    rehash_stays_within_maxmemory(&Server::start(&[]));
    rehash_stays_within_maxmemory(&RedisServer::start(&[]));
}

/// A stopped replica's output buffer grows by megabytes: maxmemory does
/// not count it (mem_not_counted_for_evict follows what the buffer holds,
/// allocation slack included), so a master with maxmemory just above its
/// data evicts nothing.
fn replica_buffer_is_not_evicted_for(master: &Server, replica: &Server) {
    let mut m = master.conn();
    for j in 0..100 {
        m.cmd(&["SETRANGE", &format!("key:{j}"), "100000", "asdf"]);
    }
    m.cmd(&["CONFIG", "SET", "maxmemory-policy", "allkeys-random"]);
    m.cmd(&[
        "CONFIG",
        "SET",
        "client-output-buffer-limit",
        "replica 100000000 100000000 300",
    ]);
    m.cmd(&["CONFIG", "SET", "repl-backlog-size", "10240"]);
    m.cmd(&["CONFIG", "SET", "latency-tracking", "no"]);
    m.cmd(&["CONFIG", "SET", "slowlog-log-slower-than", "-1"]);
    // No diskless-sync delay (5 s by default): the link comes up at once.
    m.cmd(&["CONFIG", "SET", "repl-diskless-sync-delay", "0"]);
    let mut r = replica.conn();
    r.cmd(&["REPLICAOF", "127.0.0.1", &master.port.to_string()]);
    assert!(wait_until(Duration::from_secs(30), || {
        info_field(&mut r, "replication", "master_link_status").as_deref() == Some("up")
    }));
    let used = used_memory(&mut m);
    let not_counted = memory_field(&mut m, "mem_not_counted_for_evict");
    let limit = used - not_counted + 256 * 1024;
    m.cmd(&["CONFIG", "SET", "maxmemory", &limit.to_string()]);
    replica.signal(libc::SIGSTOP);
    let payload = "A".repeat(100);
    for _ in 0..50_000 {
        assert_eq!(m.cmd(&["SETRANGE", "key:0", "0", &payload]), b":100004\r\n");
    }
    let not_counted = memory_field(&mut m, "mem_not_counted_for_evict");
    replica.signal(libc::SIGCONT);
    assert!(
        not_counted > 2 * 1024 * 1024,
        "{}: {not_counted}",
        master.name
    );
    assert_eq!(
        m.cmd_int(&["DBSIZE"]),
        100,
        "{}: keys were evicted",
        master.name
    );
}

#[test]
fn a_stalled_replica_buffer_does_not_evict_keys() {
    replica_buffer_is_not_evicted_for(&Server::start(&[]), &Server::start(&[]));
    replica_buffer_is_not_evicted_for(&RedisServer::start(&[]), &RedisServer::start(&[]));
}

#[test]
fn a_huge_request_leaves_nothing_behind() {
    let s = Server::start(&[]);
    let mut c = warmed(&s);
    let before = used_memory(&mut c);
    let members: Vec<String> = (0..100_000).map(|i| i.to_string()).collect();
    let mut args: Vec<&[u8]> = vec![b"SADD", b"myset"];
    args.extend(members.iter().map(|m| m.as_bytes()));
    c.send(&args);
    assert_eq!(c.read_reply(), b":100000\r\n");
    let peak = used_memory(&mut c);
    assert!(peak > before + 1_000_000, "peak {peak}, before {before}");
    c.cmd(&["CONFIG", "RESETSTAT"]);
    assert_eq!(c.cmd(&["UNLINK", "myset"]), b":1\r\n");
    // Freed by the loop a little per pass (lazy free), then counted.
    assert!(wait_until(Duration::from_secs(10), || memory_field(
        &mut c,
        "lazyfree_pending_objects"
    ) == 0));
    assert_eq!(memory_field(&mut c, "lazyfreed_objects"), 1);
    let after = used_memory(&mut c);
    assert!(
        after < before + 256 * 1024,
        "before {before}, peak {peak}, after {after}"
    );
}

/// UNLINK and FLUSHALL ASYNC leave big values to the loop, which frees
/// them between other clients' commands; small values go at once, as
/// Redis's LAZYFREE_THRESHOLD decides.
#[test]
fn lazy_free_counts_as_redis_and_frees_everything() {
    let s = Server::start(&[]);
    let mut c = warmed(&s);
    let before = used_memory(&mut c);
    let pending = |c: &mut Conn| memory_field(c, "lazyfree_pending_objects");
    // Small values (effort <= 64) are not lazy-freed.
    c.cmd(&["SADD", "small", "a", "b", "c"]);
    c.cmd(&["RPUSH", "list", "x"]);
    assert_eq!(c.cmd(&["UNLINK", "small", "list", "nokey"]), b":2\r\n");
    assert_eq!(memory_field(&mut c, "lazyfreed_objects"), 0);
    // Two big values: a hash table hash and a 1,000-node list.
    c.cmd(&["CONFIG", "SET", "list-max-listpack-size", "1"]);
    for key in ["h", "l"] {
        for chunk in 0..20 {
            let mut args: Vec<String> =
                vec![if key == "h" { "HSET" } else { "RPUSH" }.into(), key.into()];
            for i in 0..50 {
                let n = chunk * 50 + i;
                args.push(format!("f{n}"));
                if key == "h" {
                    args.push(format!("v{n}"));
                }
            }
            let refs: Vec<&str> = args.iter().map(|a| a.as_str()).collect();
            c.cmd(&refs);
        }
    }
    assert_eq!(c.cmd(&["UNLINK", "h", "l"]), b":2\r\n");
    assert_eq!(c.cmd(&["EXISTS", "h", "l"]), b":0\r\n");
    assert!(wait_until(Duration::from_secs(10), || pending(&mut c) == 0));
    assert_eq!(memory_field(&mut c, "lazyfreed_objects"), 2);
    // DEL frees in place unless lazyfree-lazy-user-del says otherwise.
    c.cmd(&["DEBUG", "POPULATE", "2000", "k"]);
    c.cmd(&["SADD", "s", "a"]);
    for i in 0..100 {
        c.cmd(&["SADD", "s", &format!("m{i}")]);
    }
    c.cmd(&["DEL", "s"]);
    assert_eq!(memory_field(&mut c, "lazyfreed_objects"), 2);
    // FLUSHALL ASYNC: one object per key, keys gone at once for clients.
    c.cmd(&["SELECT", "1"]);
    c.cmd(&["DEBUG", "POPULATE", "500", "j"]);
    assert_eq!(c.cmd(&["FLUSHALL", "ASYNC"]), b"+OK\r\n");
    assert_eq!(c.cmd_int(&["DBSIZE"]), 0);
    assert_eq!(c.cmd(&["GET", "k:1"]), b"$-1\r\n");
    assert!(wait_until(Duration::from_secs(10), || pending(&mut c) == 0));
    // 2,000 + 500 keys and "warm".
    assert_eq!(memory_field(&mut c, "lazyfreed_objects"), 2 + 2501);
    let after = used_memory(&mut c);
    assert!(
        after < before + 256 * 1024,
        "before {before}, after {after}"
    );
    // lazyfree-lazy-user-flush makes a plain FLUSHDB asynchronous.
    c.cmd(&["CONFIG", "SET", "lazyfree-lazy-user-flush", "yes"]);
    c.cmd(&["DEBUG", "POPULATE", "100", "z"]);
    c.cmd(&["FLUSHDB"]);
    assert!(wait_until(Duration::from_secs(10), || pending(&mut c) == 0));
    assert_eq!(memory_field(&mut c, "lazyfreed_objects"), 2 + 2501 + 100);
    c.cmd(&["CONFIG", "RESETSTAT"]);
    assert_eq!(memory_field(&mut c, "lazyfreed_objects"), 0);
    // lazyfree-lazy-server-del: a big value overwritten by SET or RENAME;
    // lazyfree-lazy-expire: a big value that expires.
    let big_set = |c: &mut Conn, key: &str| {
        let members: Vec<String> = (0..200).map(|i| format!("m{i}")).collect();
        let mut args = vec!["SADD", key];
        args.extend(members.iter().map(|m| m.as_str()));
        c.cmd(&args);
    };
    c.cmd(&["CONFIG", "SET", "lazyfree-lazy-server-del", "yes"]);
    big_set(&mut c, "a");
    c.cmd(&["SET", "a", "x"]);
    big_set(&mut c, "b");
    c.cmd(&["SET", "c", "y"]);
    c.cmd(&["RENAME", "c", "b"]);
    assert!(wait_until(Duration::from_secs(10), || pending(&mut c) == 0));
    assert_eq!(memory_field(&mut c, "lazyfreed_objects"), 2);
    c.cmd(&["CONFIG", "SET", "lazyfree-lazy-server-del", "no"]);
    big_set(&mut c, "a2");
    c.cmd(&["SET", "a2", "x"]);
    c.cmd(&["CONFIG", "SET", "lazyfree-lazy-expire", "yes"]);
    big_set(&mut c, "e");
    c.cmd(&["PEXPIRE", "e", "1"]);
    // a, b and a2 remain once e expired (the active expire cycle).
    assert!(wait_until(Duration::from_secs(10), || c
        .cmd_int(&["DBSIZE"])
        == 3
        && pending(&mut c) == 0));
    assert_eq!(memory_field(&mut c, "lazyfreed_objects"), 3);
}

/// Values waiting to be lazy-freed are garbage: when maxmemory is reached
/// they are freed before any live key is evicted (Redis's lazyfree thread
/// frees them meanwhile).
#[test]
fn pending_lazy_frees_go_before_evicting_live_keys() {
    let s = Server::start(&[]);
    let mut c = s.conn();
    c.cmd(&["CONFIG", "SET", "latency-tracking", "no"]);
    c.cmd(&["CONFIG", "SET", "maxmemory-policy", "allkeys-lru"]);
    c.cmd(&["DEBUG", "POPULATE", "1000", "live"]);
    let r = c.cmd(&[
        "EVAL",
        "for i=1,200000 do redis.call('sadd', KEYS[1], 'member:' .. i) end return 1",
        "1",
        "big",
    ]);
    assert_eq!(r, b":1\r\n");
    let used = used_memory(&mut c);
    // Unlinked and limited in one transaction: the set is still allocated
    // (pending) when the limit applies.
    c.cmd(&["MULTI"]);
    c.cmd(&["UNLINK", "big"]);
    c.cmd(&[
        "CONFIG",
        "SET",
        "maxmemory",
        &(used - 2_000_000).to_string(),
    ]);
    let r = c.cmd(&["EXEC"]);
    assert!(
        r.starts_with(b"*2\r\n:1\r\n+OK"),
        "{}",
        String::from_utf8_lossy(&r)
    );
    assert_eq!(c.cmd(&["SET", "after", "1"]), b"+OK\r\n");
    assert_eq!(c.cmd_int(&["DBSIZE"]), 1001);
    assert_eq!(
        info_field(&mut c, "stats", "evicted_keys").as_deref(),
        Some("0")
    );
}

/// A big sorted set shrunk to a twentieth gives its memory back: the
/// skiplist's node arena is renumbered once half of it is free
/// (Redis frees each node as it goes).
fn shrunk_sorted_set_gives_memory_back(s: &Server) {
    let mut c = s.conn();
    let base = used_memory(&mut c);
    for batch in 0..200 {
        let mut args: Vec<String> = vec!["ZADD".into(), "z".into()];
        for i in 0..1000 {
            let n = batch * 1000 + i;
            args.push(n.to_string());
            args.push(format!("member:{n}"));
        }
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        assert_eq!(c.cmd_int(&refs), 1000, "{}", s.name);
    }
    let full = used_memory(&mut c) - base;
    // Popped one by one from both ends, then a range: every way a member
    // leaves.
    for _ in 0..500 {
        c.cmd(&["ZPOPMIN", "z"]);
        c.cmd(&["ZPOPMAX", "z"]);
    }
    c.cmd(&["ZREMRANGEBYRANK", "z", "0", "149999"]);
    for n in (160_000..199_000).step_by(2) {
        c.cmd(&["ZREM", "z", &format!("member:{n}")]);
    }
    let left = c.cmd_int(&["ZCARD", "z"]);
    assert!((20_000..30_000).contains(&left), "{}: {left}", s.name);
    let now = used_memory(&mut c) - base;
    assert!(
        now * 4 < full,
        "{}: {now} of {full} bytes kept for {left} of 200000 members",
        s.name
    );
    // Scores, ranks and a full ZSCAN still agree.
    assert_eq!(
        c.cmd(&["ZSCORE", "z", "member:199001"]),
        b"$6\r\n199001\r\n",
        "{}",
        s.name
    );
    assert_eq!(
        c.cmd_int(&["ZRANK", "z", "member:159999"]),
        9_499,
        "{}",
        s.name
    );
    let mut seen = std::collections::HashSet::new();
    let mut cursor = "0".to_string();
    loop {
        let r = c.cmd(&["ZSCAN", "z", &cursor, "COUNT", "500"]);
        let text = String::from_utf8(r).expect("utf8");
        let lines: Vec<&str> = text.split("\r\n").collect();
        cursor = lines[2].to_string();
        seen.extend(
            lines
                .iter()
                .filter(|l| l.starts_with("member:"))
                .map(|l| l.to_string()),
        );
        if cursor == "0" {
            break;
        }
    }
    assert_eq!(seen.len() as i64, left, "{}: ZSCAN", s.name);
}

#[test]
fn a_shrunk_sorted_set_gives_memory_back() {
    shrunk_sorted_set_gives_memory_back(&Server::start(&[]));
    shrunk_sorted_set_gives_memory_back(&RedisServer::start(&[]));
}

/// Freed pages go back to the kernel on an idle server: 300,000 keys,
/// FLUSHALL, then only /proc is read (no command runs allocator code in
/// the server) until RSS is back near where it started. mimalloc gives
/// freed pages back after a delay and only from its own calls, which the
/// server's cron makes (`alloc::cron_tick`).
#[test]
fn an_idle_server_gives_freed_memory_back() {
    let s = Server::start(&[]);
    let mut c = warmed(&s);
    let base = common::rss_kb(s.pid());
    c.cmd(&["DEBUG", "POPULATE", "300000", "key", "100"]);
    let loaded = common::rss_kb(s.pid());
    assert!(loaded > base + 30_000, "base {base} kB, loaded {loaded} kB");
    assert_eq!(c.cmd(&["FLUSHALL", "SYNC"]), b"+OK\r\n");
    let back = || common::rss_kb(s.pid()) < base + (loaded - base) / 4;
    assert!(
        wait_until(Duration::from_secs(10), back),
        "base {base} kB, loaded {loaded} kB, after FLUSHALL {} kB",
        common::rss_kb(s.pid())
    );
}
