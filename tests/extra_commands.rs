//! The Redis 7.0 commands of issue 8 that belong to no other family
//! (GEO*, LOLWUT, OBJECT FREQ, MEMORY, LATENCY HISTOGRAM, PFDEBUG, MODULE,
//! DEBUG PROTOCOL/LOADAOF/QUICKLIST-PACKED-THRESHOLD): what a byte-diff
//! script cannot show. Writes reach replicas (ferrodis and real Redis)
//! with equal DEBUG DIGESTs.

mod common;

use common::*;
use std::time::Duration;

const SYNC_TIMEOUT: Duration = Duration::from_secs(30);

fn s(r: &[u8]) -> String {
    String::from_utf8_lossy(r).into_owned()
}

fn offset(c: &mut Conn) -> i64 {
    info_field(c, "replication", "master_repl_offset")
        .and_then(|v| v.parse().ok())
        .unwrap_or(-1)
}

/// Attaches `replica` to `master` and waits for the link.
fn attach(master: &Server, replica: &Server) {
    let mut r = replica.conn();
    assert_eq!(
        s(&r.cmd(&["REPLICAOF", "127.0.0.1", &master.port.to_string()])),
        "+OK\r\n"
    );
    assert!(
        wait_until(SYNC_TIMEOUT, || info_field(
            &mut r,
            "replication",
            "master_link_status"
        )
        .as_deref()
            == Some("up")),
        "{} replica never linked",
        replica.name
    );
}

/// Waits until every replica applied the master's whole stream, then
/// compares DEBUG DIGEST everywhere.
fn assert_replicas_match(master: &Server, replicas: &[&Server]) {
    let mut m = master.conn();
    let want = offset(&mut m);
    let digest = s(&m.cmd(&["DEBUG", "DIGEST"]));
    assert_ne!(digest, format!("+{}\r\n", "0".repeat(40)), "empty dataset");
    for r in replicas {
        let mut rc = r.conn();
        assert!(
            wait_until(SYNC_TIMEOUT, || offset(&mut rc) >= want),
            "{} replica stuck behind offset {want}",
            r.name
        );
        assert_eq!(
            s(&rc.cmd(&["DEBUG", "DIGEST"])),
            digest,
            "{} replica",
            r.name
        );
    }
}

#[test]
fn geo_and_pfdebug_writes_reach_replicas_with_equal_digests() {
    let m = Server::start(&[]);
    let r1 = Server::start(&[]);
    let r2 = RedisServer::start(&[]);
    attach(&m, &r1);
    attach(&m, &r2);
    let mut c = m.conn();
    let cmds = [
        "GEOADD pts 13.361389 38.115556 Palermo 15.087269 37.502669 Catania",
        "GEOADD pts NX CH 2.35 48.85 Paris 13.36 38.11 Palermo",
        "GEOADD pts XX CH 13.4 38.2 Palermo 0 0 Nowhere",
        "GEOADD pts -179.99 10 west 179.99 10 east",
        "GEOSEARCHSTORE near pts FROMLONLAT 15 37 BYRADIUS 300 km",
        "GEOSEARCHSTORE dists pts FROMMEMBER Paris BYBOX 4000 4000 km STOREDIST DESC COUNT 2",
        "GEORADIUS pts 15 37 300 km STORE r1",
        "GEORADIUS pts 179.995 10 50 km STOREDIST r2",
        "GEORADIUSBYMEMBER pts Catania 1000 km STORE r3",
        "SET gone x",
        "GEOSEARCHSTORE gone pts FROMLONLAT 0 60 BYRADIUS 1 m",
        "GEOSEARCHSTORE r3 missing FROMLONLAT 0 0 BYRADIUS 1 km",
        // PFDEBUG's conversions change the value: they propagate.
        "PFADD hll a b c",
        "PFADD hll2 x",
        "PFDEBUG TODENSE hll",
        "PFDEBUG GETREG hll2",
    ];
    for line in cmds {
        let args: Vec<&str> = line.split(' ').collect();
        let r = c.cmd(&args);
        assert!(!r.starts_with(b"-"), "{line}: {}", s(&r));
    }
    assert_eq!(c.cmd_int(&["EXISTS", "gone", "r3"]), 0);
    assert_eq!(c.cmd_int(&["ZCARD", "near"]), 2);
    assert_eq!(c.cmd_int(&["ZCARD", "r2"]), 2);
    assert_eq!(s(&c.cmd(&["PFDEBUG", "ENCODING", "hll2"])), "+dense\r\n");
    assert_replicas_match(&m, &[&r1, &r2]);
}

// ---- latency tracking ----

/// The `cmdstat_<name>` line of INFO commandstats.
fn cmdstat(c: &mut Conn, name: &str) -> String {
    info_field(c, "commandstats", &format!("cmdstat_{name}")).unwrap_or_default()
}

#[test]
fn latency_histogram_and_latencystats_follow_latency_tracking() {
    let srv = Server::start(&[]);
    let mut c = srv.conn();
    c.cmd(&["CONFIG", "RESETSTAT"]);
    for _ in 0..3 {
        c.cmd(&["SET", "a", "b"]);
    }
    c.cmd(&["DEBUG", "SLEEP", "0.02"]);
    // LATENCY HISTOGRAM set debug: calls and cumulative counts per power
    // of two microseconds, ending with every call.
    let r = parse(&c.cmd(&["LATENCY", "HISTOGRAM", "set", "debug", "nosuch"]));
    let Value::Array(items) = r else {
        panic!("not a map: {r:?}")
    };
    assert_eq!(items.len(), 4, "{items:?}");
    for pair in items.chunks(2) {
        let Value::Array(body) = &pair[1] else {
            panic!("{pair:?}")
        };
        assert_eq!(body[0], Value::Bulk(b"calls".to_vec()));
        let calls = body[1].int();
        assert_eq!(body[2], Value::Bulk(b"histogram_usec".to_vec()));
        let Value::Array(buckets) = &body[3] else {
            panic!("{body:?}")
        };
        let counts: Vec<i64> = buckets.iter().skip(1).step_by(2).map(|v| v.int()).collect();
        assert!(counts.windows(2).all(|w| w[0] < w[1]), "{counts:?}");
        assert_eq!(counts.last().copied(), Some(calls));
        if pair[0] == Value::Bulk(b"debug".to_vec()) {
            assert_eq!(calls, 1);
            let usec = buckets[buckets.len() - 2].int();
            assert!(
                (16_000..=2_000_000).contains(&usec),
                "DEBUG SLEEP 0.02 in bucket {usec}"
            );
        } else {
            assert_eq!(pair[0], Value::Bulk(b"set".to_vec()));
            assert_eq!(calls, 3);
        }
    }
    // INFO latencystats with the configured percentiles.
    let line = info_field(&mut c, "latencystats", "latency_percentiles_usec_debug").unwrap();
    let p50: f64 = line
        .strip_prefix("p50=")
        .and_then(|l| l.split(',').next())
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("{line}"));
    assert!(p50 >= 20_000.0, "{line}");
    assert!(line.contains(",p99=") && line.contains(",p99.9="), "{line}");
    c.cmd(&[
        "CONFIG",
        "SET",
        "latency-tracking-info-percentiles",
        "0 12.5 100",
    ]);
    let line = info_field(&mut c, "latencystats", "latency_percentiles_usec_set").unwrap();
    assert!(
        line.starts_with("p0=") && line.contains(",p12.5=") && line.contains(",p100="),
        "{line}"
    );
    // Off: nothing reported, nothing recorded; RESETSTAT forgets.
    c.cmd(&["CONFIG", "SET", "latency-tracking", "no"]);
    assert_eq!(
        info_field(&mut c, "latencystats", "latency_percentiles_usec_set"),
        None
    );
    c.cmd(&["GET", "a"]);
    c.cmd(&["CONFIG", "SET", "latency-tracking", "yes"]);
    assert_eq!(
        info_field(&mut c, "latencystats", "latency_percentiles_usec_get"),
        None
    );
    c.cmd(&["CONFIG", "RESETSTAT"]);
    assert_eq!(s(&c.cmd(&["LATENCY", "HISTOGRAM", "set"])), "*0\r\n");
}

#[test]
fn blocked_commands_are_counted_once_when_served() {
    let srv = Server::start(&[]);
    let mut c = srv.conn();
    let mut b = srv.conn();
    c.cmd(&["CONFIG", "RESETSTAT"]);
    b.send(&[b"BLPOP", b"l1", b"0"]);
    assert!(wait_until(SYNC_TIMEOUT, || info_field(
        &mut c,
        "clients",
        "blocked_clients"
    )
    .as_deref()
        == Some("1")));
    c.cmd(&["LPUSH", "l1", "a"]);
    assert_eq!(
        parse(&b.read_reply()),
        parse(b"*2\r\n$2\r\nl1\r\n$1\r\na\r\n")
    );
    assert!(
        cmdstat(&mut c, "blpop").starts_with("calls=1,"),
        "{}",
        cmdstat(&mut c, "blpop")
    );
    // CLIENT UNBLOCK ... ERROR: a failed call and an UNBLOCKED error.
    let id = b.cmd_int(&["CLIENT", "ID"]);
    b.send(&[b"BLPOP", b"l1", b"0"]);
    assert!(wait_until(SYNC_TIMEOUT, || info_field(
        &mut c,
        "clients",
        "blocked_clients"
    )
    .as_deref()
        == Some("1")));
    assert_eq!(
        c.cmd_int(&["CLIENT", "UNBLOCK", &id.to_string(), "ERROR"]),
        1
    );
    assert!(s(&b.read_reply()).starts_with("-UNBLOCKED"));
    let st = cmdstat(&mut c, "blpop");
    assert!(
        st.starts_with("calls=2,") && st.ends_with("failed_calls=1"),
        "{st}"
    );
    assert_eq!(
        info_field(&mut c, "errorstats", "errorstat_UNBLOCKED").as_deref(),
        Some("count=1")
    );
    // Errors inside EXEC belong to the failing command, not to EXEC.
    c.cmd(&["MULTI"]);
    c.cmd(&["SET", "k", "v"]);
    c.cmd(&["INCR", "k"]);
    c.cmd(&["EXEC"]);
    assert!(
        cmdstat(&mut c, "exec").ends_with("failed_calls=0"),
        "{}",
        cmdstat(&mut c, "exec")
    );
    assert!(
        cmdstat(&mut c, "incr").ends_with("failed_calls=1"),
        "{}",
        cmdstat(&mut c, "incr")
    );
}

#[test]
fn pfselftest_passes() {
    let srv = Server::start(&[]);
    // Twenty million HLL updates: seconds in a debug build on a busy machine.
    let mut c = Conn::connect_with_timeout(srv.port, Duration::from_secs(300)).unwrap();
    assert_eq!(s(&c.cmd(&["PFSELFTEST"])), "+OK\r\n");
}

// ---- AOF loading ----

/// A command as RESP, as an AOF holds it.
fn resp(args: &[&str]) -> Vec<u8> {
    let a: Vec<&[u8]> = args.iter().map(|s| s.as_bytes()).collect();
    multibulk(&a)
}

/// Writes an AOF directory (manifest + one incr file) into `dir`.
fn write_aof(dir: &TempDir, incr: &[u8]) {
    let d = dir.join("appendonlydir");
    std::fs::create_dir_all(&d).unwrap();
    std::fs::write(
        d.join("appendonly.aof.manifest"),
        "file appendonly.aof.1.incr.aof seq 1 type i\n",
    )
    .unwrap();
    std::fs::write(d.join("appendonly.aof.1.incr.aof"), incr).unwrap();
}

/// Starts ferrodis on `dir` with the AOF on, expecting it to exit:
/// returns its log.
fn start_expecting_exit(dir: &TempDir, extra: &[&str]) -> String {
    let log_path = dir.join("server.log");
    let log = std::fs::File::create(&log_path).unwrap();
    let mut child = std::process::Command::new(ferrodis_bin())
        .args(["--port", &free_port().to_string(), "--bind", "127.0.0.1"])
        .args(["--save", "", "--appendonly", "yes", "--dir"])
        .arg(&dir.path)
        .args(extra)
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .spawn()
        .unwrap();
    let mut status = None;
    wait_until(Duration::from_secs(20), || {
        status = child.try_wait().ok().flatten();
        status.is_some()
    });
    if status.is_none() {
        let _ = child.kill();
        let _ = child.wait();
    }
    let text = std::fs::read_to_string(&log_path).unwrap_or_default();
    assert!(
        status.is_some_and(|s| !s.success()),
        "the server should have exited with an error:\n{text}"
    );
    text
}

fn last_line(log: &str) -> &str {
    log.lines().last().unwrap_or("")
}

#[test]
fn aof_load_errors_are_fatal_and_logged_as_redis_logs_them() {
    // An unknown command.
    let dir = TempDir::new("aof-unknown");
    let mut aof = resp(&["SET", "foo", "hello"]);
    aof.extend(resp(&["bla", "foo", "hello"]));
    write_aof(&dir, &aof);
    let log = start_expecting_exit(&dir, &["--aof-load-truncated", "yes"]);
    assert!(
        last_line(&log).contains(
            "Unknown command 'bla' reading the append only file appendonly.aof.1.incr.aof"
        ),
        "{log}"
    );
    // A format error.
    let dir = TempDir::new("aof-format");
    let mut aof = resp(&["SET", "foo", "hello"]);
    aof.extend_from_slice(b"!!!");
    write_aof(&dir, &aof);
    let log = start_expecting_exit(&dir, &["--aof-load-truncated", "yes"]);
    assert!(
        last_line(&log).contains("Bad file format reading the append only file"),
        "{log}"
    );
    // An unfinished MULTI without aof-load-truncated.
    let dir = TempDir::new("aof-multi");
    let mut aof = resp(&["SET", "foo", "hello"]);
    aof.extend(resp(&["MULTI"]));
    aof.extend(resp(&["SET", "bar", "world"]));
    write_aof(&dir, &aof);
    let log = start_expecting_exit(&dir, &["--aof-load-truncated", "no"]);
    assert!(
        log.contains(
            "Revert incomplete MULTI/EXEC transaction in AOF file appendonly.aof.1.incr.aof"
        ),
        "{log}"
    );
    assert!(
        last_line(&log).contains("Unexpected end of file reading the append only file"),
        "{log}"
    );
    // A short read without aof-load-truncated.
    let dir = TempDir::new("aof-short");
    let mut aof = resp(&["SET", "foo", "hello"]);
    let tail = resp(&["SET", "bar", "world"]);
    aof.extend_from_slice(&tail[..tail.len() - 1]);
    write_aof(&dir, &aof);
    let log = start_expecting_exit(&dir, &["--aof-load-truncated", "no"]);
    assert!(
        last_line(&log).contains("Unexpected end of file reading the append only file"),
        "{log}"
    );
}

#[test]
fn aof_truncated_tail_and_unfinished_multi_are_cut_with_aof_load_truncated() {
    let dir = TempDir::new("aof-trunc");
    let mut aof = resp(&["SET", "foo", "hello"]);
    aof.extend_from_slice(b"#TS:1628217470\r\n");
    aof.extend(resp(&["MULTI"]));
    aof.extend(resp(&["SET", "in", "1"]));
    aof.extend(resp(&["EXEC"]));
    let good = aof.len();
    aof.extend(resp(&["MULTI"]));
    aof.extend(resp(&["SET", "bar", "world"]));
    write_aof(&dir, &aof);
    let incr = dir.join("appendonlydir/appendonly.aof.1.incr.aof");
    let srv = Server::start(&["--appendonly", "yes", "--dir", dir.path.to_str().unwrap()]);
    let mut c = srv.conn();
    assert_eq!(s(&c.cmd(&["GET", "foo"])), "$5\r\nhello\r\n");
    assert_eq!(s(&c.cmd(&["GET", "in"])), "$1\r\n1\r\n");
    assert_eq!(c.cmd_int(&["EXISTS", "bar"]), 0);
    let log = srv.log();
    assert!(
        log.contains(
            "Revert incomplete MULTI/EXEC transaction in AOF file appendonly.aof.1.incr.aof"
        ),
        "{log}"
    );
    assert!(
        log.contains(&format!(
            "!!! Truncating the AOF appendonly.aof.1.incr.aof at offset {good} !!!"
        )),
        "{log}"
    );
    assert!(
        log.contains(
            "AOF appendonly.aof.1.incr.aof loaded anyway because aof-load-truncated is enabled"
        ),
        "{log}"
    );
    // New writes append after the cut; DEBUG LOADAOF reloads the same data.
    c.cmd(&["SET", "after", "x"]);
    c.cmd(&["RPUSH", "l", "a", "b"]);
    let digest = s(&c.cmd(&["DEBUG", "DIGEST"]));
    assert_eq!(s(&c.cmd(&["DEBUG", "LOADAOF"])), "+OK\r\n");
    assert_eq!(s(&c.cmd(&["DEBUG", "DIGEST"])), digest);
    assert!(srv
        .log()
        .contains("Append Only File loaded by DEBUG LOADAOF"));
    assert!(std::fs::metadata(&incr).unwrap().len() > good as u64);
}

#[test]
fn debug_loadaof_without_an_aof_keeps_the_data() {
    let srv = Server::start(&[]);
    let mut c = srv.conn();
    c.cmd(&["SET", "k", "v"]);
    assert_eq!(
        s(&c.cmd(&["DEBUG", "LOADAOF"])),
        "-ERR There is no append only file to load\r\n"
    );
    assert_eq!(s(&c.cmd(&["GET", "k"])), "$1\r\nv\r\n");
}

// ---- MEMORY, LOLWUT, MODULE ----

/// The keys of a flat RESP2 map reply, and the map itself.
fn flat_map(v: &Value) -> Vec<(String, Value)> {
    let Value::Array(items) = v else {
        panic!("not a flat map: {v:?}")
    };
    items
        .chunks(2)
        .map(|p| {
            (
                String::from_utf8_lossy(p[0].bytes()).into_owned(),
                p[1].clone(),
            )
        })
        .collect()
}

#[test]
fn memory_stats_fields_as_redis_and_values_from_our_accounting() {
    let srv = Server::start(&[]);
    let redis = RedisServer::start(&[]);
    for c in [&mut srv.conn(), &mut redis.conn()] {
        c.cmd(&["SET", "a", "1"]);
        c.cmd(&["SELECT", "3"]);
        c.cmd(&["SET", "b", "x"]);
        c.cmd(&["EXPIRE", "b", "100"]);
    }
    let ours = flat_map(&parse(&srv.conn().cmd(&["MEMORY", "STATS"])));
    let theirs = flat_map(&parse(&redis.conn().cmd(&["MEMORY", "STATS"])));
    let names = |m: &[(String, Value)]| m.iter().map(|(k, _)| k.clone()).collect::<Vec<_>>();
    assert_eq!(names(&ours), names(&theirs));
    let get = |k: &str| {
        ours.iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.clone())
            .unwrap_or_else(|| panic!("{k} missing"))
    };
    let total = get("total.allocated").int();
    let used: i64 = info_field(&mut srv.conn(), "memory", "used_memory")
        .unwrap()
        .parse()
        .unwrap();
    assert!((total - used).abs() < 1 << 20, "total {total} used {used}");
    assert!(get("peak.allocated").int() >= total);
    assert!(get("startup.allocated").int() > 0 && get("startup.allocated").int() <= total);
    assert_eq!(get("keys.count").int(), 2);
    let Value::Array(db3) = get("db.3") else {
        panic!()
    };
    assert!(db3[3].int() > 0, "the expires table of db 3 holds one key");
    assert_eq!(
        get("overhead.total").int() + get("dataset.bytes").int(),
        total,
        "overhead + dataset = total"
    );
    // DOCTOR on an almost empty instance, in Redis's words.
    let doctor = srv.conn().cmd(&["MEMORY", "DOCTOR"]);
    assert_eq!(doctor, redis.conn().cmd(&["MEMORY", "DOCTOR"]));
    // INFO memory agrees with MEMORY STATS.
    let mut c = srv.conn();
    let startup: i64 = info_field(&mut c, "memory", "used_memory_startup")
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(startup, get("startup.allocated").int());
}

#[test]
fn lolwut_versions_draw_what_redis_draws() {
    let srv = Server::start(&[]);
    let mut c = srv.conn();
    // Version 6: 80x20 cells of gray escape sequences, then the credits.
    let r = parse(&c.cmd(&["LOLWUT", "VERSION", "6"]));
    let text = String::from_utf8(r.bytes().to_vec()).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 22, "{text}");
    assert_eq!(lines[0].matches("\x1b[0m").count(), 80);
    assert!(
        lines[19].contains("\x1b[0;30;40m"),
        "the foreground is black"
    );
    assert_eq!(
        lines[21],
        "Original 8 bit image from Plaguemon by hikikomori. Redis ver. 7.0.15"
    );
    // Version 5 with random rows: 33 Braille cells a line, credits last.
    let r = parse(&c.cmd(&["LOLWUT", "VERSION", "5"]));
    let text = String::from_utf8(r.bytes().to_vec()).unwrap();
    assert!(text.ends_with("Georg Nees - schotter, plotter on paper, 1968. Redis ver. 7.0.15\n"));
    assert!(text.lines().next().unwrap().chars().count() == 66);
}

#[test]
fn module_load_fails_as_in_a_redis_without_modules() {
    let srv = Server::start(&["--enable-module-command", "yes"]);
    let mut c = srv.conn();
    assert_eq!(s(&c.cmd(&["MODULE", "LIST"])), "*0\r\n");
    let err = "-ERR Error loading the extension. Please check the server logs.\r\n";
    assert_eq!(s(&c.cmd(&["MODULE", "LOAD", "/nonexistent/x.so"])), err);
    assert_eq!(
        s(&c.cmd(&["MODULE", "LOADEX", "/x.so", "CONFIG", "a"])),
        err
    );
    assert_eq!(s(&c.cmd(&["MODULE", "LOADEX", "/x.so", "bogus"])), err);
    assert_eq!(
        s(&c.cmd(&["MODULE", "UNLOAD", "foo"])),
        "-ERR Error unloading module: no such module with that name\r\n"
    );
    let log = srv.log();
    assert!(log.contains("Module /nonexistent/x.so failed to load: /nonexistent/x.so: cannot open shared object file: No such file or directory"), "{log}");
    assert!(
        log.contains("CONFIG specified without name value pair"),
        "{log}"
    );
    assert!(
        log.contains("Syntax Error from arguments to loadex around bogus."),
        "{log}"
    );
}

#[test]
fn ttl_type_and_exists_are_no_access_touch_is() {
    let srv = Server::start(&[]);
    let mut c = srv.conn();
    c.cmd(&["SET", "foo", "bar"]);
    // The idle time can only grow while TTL, TYPE and EXISTS keep reading.
    let idle_grows = wait_until(Duration::from_secs(10), || {
        c.cmd(&["TTL", "foo"]);
        c.cmd(&["TYPE", "foo"]);
        c.cmd(&["EXISTS", "foo"]);
        c.cmd_int(&["OBJECT", "IDLETIME", "foo"]) >= 2
    });
    assert!(idle_grows);
    assert_eq!(c.cmd_int(&["TOUCH", "foo", "nokey"]), 1);
    assert!(c.cmd_int(&["OBJECT", "IDLETIME", "foo"]) < 2);
}

#[test]
fn latency_doctor_and_graph_report_a_command_spike() {
    let srv = Server::start(&[]);
    let mut c = srv.conn();
    c.cmd(&["CONFIG", "SET", "latency-monitor-threshold", "5"]);
    c.cmd(&["CONFIG", "SET", "slowlog-log-slower-than", "100000"]);
    c.cmd(&["DEBUG", "SLEEP", "0.02"]);
    let doctor = String::from_utf8(parse(&c.cmd(&["LATENCY", "DOCTOR"])).bytes().to_vec()).unwrap();
    assert!(doctor.starts_with("Dave, I have observed latency spikes in this Redis instance. You don't mind talking about it, do you Dave?\n\n1. command: 1 latency spikes (average "), "{doctor}");
    // slowlog-log-slower-than (100 ms) hides what the monitor (5 ms) sees.
    assert!(doctor.contains("\n\nI have a few advices for you:\n\n- Your current Slow Log configuration only logs events that are slower than your configured latency monitor threshold. Please use 'CONFIG SET slowlog-log-slower-than 5000'.\n- Check your Slow Log"), "{doctor}");
    let graph = String::from_utf8(
        parse(&c.cmd(&["LATENCY", "GRAPH", "command"]))
            .bytes()
            .to_vec(),
    )
    .unwrap();
    let lines: Vec<&str> = graph.split('\n').collect();
    assert!(
        lines[0].starts_with("command - high ") && lines[0].ends_with(" ms)"),
        "{graph}"
    );
    assert_eq!(lines[1], "-".repeat(80));
    // One sample: the lowest fill character, a blank line, then its age.
    assert_eq!(&lines[2..7], &[" ", " ", " ", "_", " "], "{graph}");
    assert!(
        lines[7..]
            .iter()
            .take_while(|l| !l.is_empty())
            .all(|l| l.len() == 1),
        "{graph}"
    );
}

#[test]
fn bgrewriteaof_with_the_aof_off_writes_a_base_debug_loadaof_reads() {
    let srv = Server::start(&[]);
    let mut c = srv.conn();
    c.cmd(&["CONFIG", "SET", "aof-use-rdb-preamble", "no"]);
    c.cmd(&["SET", "x", "10"]);
    c.cmd(&["EXPIRE", "x", "1000"]);
    c.cmd(&["RPUSH", "l", "a", "b"]);
    let digest = s(&c.cmd(&["DEBUG", "DIGEST"]));
    c.cmd(&["BGREWRITEAOF"]);
    assert!(wait_until(SYNC_TIMEOUT, || {
        info_field(&mut c, "persistence", "aof_rewrite_in_progress").as_deref() == Some("0")
            && info_field(&mut c, "persistence", "aof_last_bgrewrite_status").as_deref()
                == Some("ok")
            && srv
                .dir
                .join("appendonlydir/appendonly.aof.manifest")
                .exists()
    }));
    c.cmd(&["SET", "later", "not in the aof"]);
    assert_eq!(s(&c.cmd(&["DEBUG", "LOADAOF"])), "+OK\r\n");
    assert_eq!(s(&c.cmd(&["DEBUG", "DIGEST"])), digest);
    assert!(c.cmd_int(&["TTL", "x"]) > 900);
}

#[test]
fn debug_protocol_push_is_a_push_then_a_reply_as_in_redis() {
    let srv = Server::start(&[]);
    let redis = RedisServer::start(&[]);
    let mut replies = Vec::new();
    for port in [srv.port, redis.port] {
        let mut c = Conn::connect(port);
        c.cmd(&["HELLO", "3"]);
        c.send(&[b"DEBUG", b"PROTOCOL", b"push"]);
        let push = c.read_reply();
        let reply = c.read_reply();
        replies.push((push, reply));
    }
    assert_eq!(replies[0], replies[1]);
    assert_eq!(s(&replies[0].0), ">2\r\n$16\r\nserver-cpu-usage\r\n:42\r\n");
}
