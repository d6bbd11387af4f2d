//! Client memory: CLIENT LIST / CLIENT INFO memory fields counted as Redis
//! 7.0 counts them (compared with real Redis where the numbers do not
//! depend on the allocator), and client eviction by `maxmemory-clients`
//! with `CLIENT NO-EVICT`.

mod common;

use common::*;
use std::time::Duration;

/// The `field=value` of the CLIENT LIST line of the client named `name`.
fn field(c: &mut Conn, name: &str, f: &str) -> Option<String> {
    let list = parse(&c.cmd(&["CLIENT", "LIST"])).text();
    let line = list
        .lines()
        .find(|l| l.contains(&format!(" name={name} ")))?;
    line.split(' ')
        .find_map(|kv| kv.strip_prefix(&format!("{f}=")))
        .map(str::to_string)
}

fn fields_of(line: &str, names: &[&str]) -> Vec<String> {
    names
        .iter()
        .map(|n| {
            line.split(' ')
                .find_map(|kv| kv.strip_prefix(&format!("{n}=")))
                .unwrap_or("?")
                .to_string()
        })
        .collect()
}

#[test]
fn memory_fields_match_redis() {
    let redis = RedisServer::start(&[]);
    let ours = Server::start(&[]);
    let mut results = Vec::new();
    for port in [redis.port, ours.port] {
        let mut c = Conn::connect(port);
        // The caller's own line: its request is still in the query buffer.
        let own = parse(&c.cmd(&["CLIENT", "INFO"])).text();
        let own = fields_of(
            &own,
            &["qbuf", "argv-mem", "multi-mem", "obl", "oll", "omem"],
        );
        // A transaction's queued arguments.
        c.cmd(&["MULTI"]);
        c.cmd(&["SET", "key", "0123456789"]);
        c.cmd(&["RPUSH", "l", "a", "b"]);
        let multi = parse(&c.cmd(&["CLIENT", "INFO"])).text();
        c.cmd(&["DISCARD"]);
        let multi = fields_of(&multi, &["multi", "multi-mem"]);
        // Another client with a partly received request: a complete first
        // argument, then part of a big one.
        let mut p = Conn::connect(port);
        p.cmd(&["CLIENT", "SETNAME", "partial"]);
        let big = 100_000;
        p.send_raw(format!("*3\r\n$3\r\nSET\r\n${big}\r\n").as_bytes());
        p.send_raw(&vec![b'x'; 60_000]);
        assert!(wait_until(Duration::from_secs(5), || field(
            &mut c, "partial", "qbuf"
        )
        .as_deref()
            == Some("60000")));
        let partial = [
            field(&mut c, "partial", "qbuf"),
            field(&mut c, "partial", "argv-mem"),
        ];
        // Output a client does not read.
        let mut r = Conn::connect(port);
        r.cmd(&["CLIENT", "SETNAME", "reader"]);
        c.cmd(&["SET", "big", &"v".repeat(50_000)]);
        let mut get = Vec::new();
        for _ in 0..100 {
            get.extend_from_slice(b"*2\r\n$3\r\nGET\r\n$3\r\nbig\r\n");
        }
        r.send_raw(&get);
        assert!(wait_until(Duration::from_secs(5), || field(
            &mut c, "reader", "oll"
        )
        .is_some_and(|v| v != "0")));
        let list = parse(&c.cmd(&["CLIENT", "LIST"])).text();
        let line = list
            .lines()
            .find(|l| l.contains(" name=reader "))
            .unwrap()
            .to_string();
        let f = fields_of(&line, &["obl", "omem", "tot-mem"]);
        let n: Vec<usize> = f.iter().map(|v| v.parse().unwrap()).collect();
        assert!(n[1] > 16 * 1024 && n[2] > n[1], "{line}");
        results.push((own, multi, partial));
    }
    assert_eq!(results[1], results[0]);
    assert_eq!(results[0].0, ["26", "10", "0", "0", "0", "0"]);
}

/// Fills a new client's query buffer with `n` bytes of an unfinished
/// argument; returns the connection.
fn partial_client(s: &Server, name: &str, n: usize) -> Conn {
    let mut c = s.conn();
    c.cmd(&["CLIENT", "SETNAME", name]);
    c.send_raw(format!("*2\r\n$3\r\nGET\r\n${}\r\n", n + 100).as_bytes());
    let chunk = vec![b'v'; 64 * 1024];
    let mut sent = 0;
    while sent < n {
        let k = chunk.len().min(n - sent);
        if c.try_send_raw(&chunk[..k]).is_err() {
            break;
        }
        sent += k;
    }
    c
}

#[test]
fn maxmemory_clients_evicts_clients() {
    let s = Server::start(&[]);
    let mut admin = s.conn();
    admin.cmd(&["CLIENT", "SETNAME", "admin"]);
    admin.cmd(&["CLIENT", "NO-EVICT", "ON"]);
    assert_eq!(
        admin.cmd(&["CONFIG", "SET", "maxmemory-clients", "3mb"]),
        b"+OK\r\n"
    );
    // A client holding 3 MB in its query buffer is disconnected.
    let _big = partial_client(&s, "big", 3 * 1024 * 1024);
    assert!(wait_until(Duration::from_secs(10), || field(
        &mut admin, "big", "id"
    )
    .is_none()));
    assert!(admin
        .cmd_str(&["INFO", "stats"])
        .contains("evicted_clients:1"));
    // NO-EVICT protects a client whatever its size.
    let mut kept = s.conn();
    kept.cmd(&["CLIENT", "SETNAME", "kept"]);
    kept.cmd(&["CLIENT", "NO-EVICT", "ON"]);
    let m = 4 * 1024 * 1024;
    kept.send_raw(format!("*2\r\n$3\r\nGET\r\n${}\r\n", m + 100).as_bytes());
    kept.send_raw(&vec![b'v'; m]);
    assert!(wait_until(Duration::from_secs(10), || field(
        &mut admin, "kept", "qbuf"
    )
    .is_some_and(|q| q.parse::<usize>().unwrap_or(0) >= m)));
    let tot: usize = field(&mut admin, "kept", "tot-mem")
        .unwrap()
        .parse()
        .unwrap();
    assert!(tot > m, "tot-mem {tot}");
    // A percentage is of maxmemory: 1% of 100 MB.
    admin.cmd(&["CONFIG", "SET", "maxmemory", "100mb"]);
    admin.cmd(&["CONFIG", "SET", "maxmemory-clients", "1%"]);
    let _mid = partial_client(&s, "mid", 1536 * 1024);
    assert!(wait_until(Duration::from_secs(10), || field(
        &mut admin, "mid", "id"
    )
    .is_none()));
    assert!(field(&mut admin, "kept", "id").is_some());
    // Lowering the limit evicts at once.
    let _small = partial_client(&s, "small", 300 * 1024);
    assert!(wait_until(Duration::from_secs(10), || field(
        &mut admin, "small", "qbuf"
    )
    .is_some_and(|q| q.parse::<usize>().unwrap_or(0) >= 300 * 1024)));
    admin.cmd(&["CONFIG", "SET", "maxmemory-clients", "100kb"]);
    assert!(field(&mut admin, "small", "id").is_none());
    admin.cmd(&["CONFIG", "SET", "maxmemory-clients", "0"]);
    admin.cmd(&["CONFIG", "SET", "maxmemory", "0"]);
}

/// The query buffer as Redis 7.0 sizes it: allocated by the first read
/// (16 KB), sized exactly for a big argument (a 1 MB argument under a
/// 3 MB maxmemory-clients limit does not get its client evicted: the
/// buffer is not doubled when the argument completes), and given back
/// after 2 s of idleness (qbuf + qbuf-free = 0).
#[test]
fn query_buffer_sized_and_given_back() {
    let s = Server::start(&[]);
    let mut admin = s.conn();
    admin.cmd(&["CLIENT", "SETNAME", "admin"]);
    admin.cmd(&["CLIENT", "NO-EVICT", "ON"]);
    admin.cmd(&["CONFIG", "SET", "maxmemory-clients", "3000000"]);
    let mut c = s.conn();
    c.cmd(&["CLIENT", "SETNAME", "c"]);
    let alloc = |admin: &mut Conn| -> usize {
        let q: usize = field(admin, "c", "qbuf").unwrap().parse().unwrap();
        let f: usize = field(admin, "c", "qbuf-free").unwrap().parse().unwrap();
        q + f
    };
    let first = alloc(&mut admin);
    assert!((16384..32768).contains(&first), "first buffer {first}");
    let big = "v".repeat(1_000_000);
    for _ in 0..3 {
        assert_eq!(c.cmd(&["MSET", "k", "v", "k2", &big]), b"+OK\r\n");
    }
    assert_eq!(c.cmd(&["STRLEN", "k2"]), b":1000000\r\n");
    assert!(admin
        .cmd_str(&["INFO", "stats"])
        .contains("evicted_clients:0"));
    // A big buffer is trimmed to its recent peak by the cron, an idle
    // one given back.
    assert!(wait_until(Duration::from_secs(10), || alloc(&mut admin) < 16384));
    assert_eq!(c.cmd(&["PING"]), b"+PONG\r\n");
    assert!(alloc(&mut admin) >= 16384);
    assert!(wait_until(Duration::from_secs(10), || alloc(&mut admin) == 0));
    assert_eq!(c.cmd(&["PING"]), b"+PONG\r\n");
}

/// The reply buffer as Redis 7.0 sizes it: 1 KB for an idle client, grown
/// by a big reply, shrunk back by the cron once the peak restarts
/// (DEBUG REPLYBUFFER PEAK-RESET-TIME), kept with RESIZING 0.
#[test]
fn reply_buffer_shrinks_after_a_big_reply() {
    let s = Server::start(&["--enable-debug-command", "yes"]);
    let mut admin = s.conn();
    let mut c = s.conn();
    c.cmd(&["CLIENT", "SETNAME", "c"]);
    let rbs = |admin: &mut Conn| -> usize { field(admin, "c", "rbs").unwrap().parse().unwrap() };
    assert_eq!(rbs(&mut admin), 1024);
    admin.cmd(&["SET", "big", &"x".repeat(100_000)]);
    assert_eq!(c.cmd(&["STRLEN", "big"]), b":100000\r\n");
    // Big replies fill the static buffer, which the clients cron doubles
    // up to 16 KB (as Redis's test of it, GETs until it is there).
    assert!(wait_until(Duration::from_secs(10), || {
        assert_eq!(c.cmd(&["GET", "big"]).len(), 100_000 + 11);
        rbs(&mut admin) == 16384
    }));
    admin.cmd(&["DEBUG", "REPLYBUFFER", "RESIZING", "0"]);
    admin.cmd(&["DEBUG", "REPLYBUFFER", "PEAK-RESET-TIME", "100"]);
    // Not resized while resizing is off, even past peak resets (an
    // absence: nothing to wait for but time).
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(rbs(&mut admin), 16384);
    admin.cmd(&["DEBUG", "REPLYBUFFER", "RESIZING", "1"]);
    assert!(wait_until(Duration::from_secs(10), || rbs(&mut admin) == 1024));
    assert_eq!(
        admin.cmd(&["DEBUG", "REPLYBUFFER", "PEAK-RESET-TIME", "x"]),
        b"-ERR value is not an integer or out of range\r\n"
    );
}

/// Many clients filling their output buffers at once (Redis's suite:
/// "eviction due to output buffers of many MGET clients"): with
/// maxmemory-clients below what is left under maxmemory, clients are
/// evicted and no key is, on both servers. An evicted client's buffers
/// are given back at once, not when its connection is closed at the end
/// of the loop's pass (keys were evicted for that memory meanwhile).
#[test]
fn many_clients_output_buffers_evict_clients_not_keys() {
    for redis in [true, false] {
        let s = start_either(redis, &[]);
        let mut c = s.conn();
        c.cmd(&["CONFIG", "SET", "maxmemory", "11mb"]);
        c.cmd(&["CONFIG", "SET", "maxmemory-policy", "allkeys-lru"]);
        c.cmd(&["CONFIG", "SET", "maxmemory-clients", "3mb"]);
        c.cmd(&["CLIENT", "NO-EVICT", "on"]);
        for j in 0..50 {
            c.cmd(&["SETRANGE", &j.to_string(), "100000", "x"]);
        }
        let port = s.port;
        let mut readers: Vec<Conn> = (0..20).map(|_| Conn::connect(port)).collect();
        // Pipelines of 20 MGETs of a 100 KB value, never read.
        let mget = multibulk(&[b"MGET", b"1"]).repeat(20);
        let evicted = wait_until(Duration::from_secs(20), || {
            for r in readers.iter_mut() {
                // A client that was evicted fails to take more: ignored.
                let _ = r.try_send_raw(&mget);
            }
            info_field(&mut c, "stats", "evicted_clients").is_some_and(|v| v != "0")
        });
        let who = if redis { "redis" } else { "ferrodis" };
        assert!(evicted, "{who}: no client evicted");
        assert_eq!(
            info_field(&mut c, "stats", "evicted_keys").as_deref(),
            Some("0"),
            "{who}"
        );
        assert_eq!(c.cmd_int(&["DBSIZE"]), 50, "{who}");
    }
}
