//! Integration tests for the issue-2 core that a line-by-line differential
//! script cannot express: framing, connection state, process lifecycle,
//! config loading, introspection. Where the exact shape matters, the real
//! redis-server is asked too and the two are compared.

mod common;

use common::*;
use std::io::Write;
use std::process::{Command, Stdio};
use std::time::Duration;

const T: Duration = Duration::from_secs(10);

// ---- protocol ----

#[test]
fn pipelining_10k_commands_in_one_write() {
    let s = Server::start(&[]);
    let mut c = s.conn();
    let mut req = Vec::new();
    for _ in 0..10_000 {
        req.extend_from_slice(&multibulk(&[b"INCR", b"counter"]));
    }
    c.send_raw(&req);
    for i in 1..=10_000 {
        assert_eq!(c.read_reply(), format!(":{i}\r\n").into_bytes());
    }
    assert_eq!(c.cmd(&["GET", "counter"]), b"$5\r\n10000\r\n");
}

#[test]
fn request_split_at_every_byte_boundary() {
    let s = Server::start(&[]);
    let mut c = s.conn();
    let req = multibulk(&[b"SET", b"key", b"some value"]);
    for i in 1..req.len() {
        c.send_raw(&req[..i]);
        std::thread::sleep(Duration::from_millis(1));
        c.send_raw(&req[i..]);
        assert_eq!(c.read_reply(), b"+OK\r\n", "split at {i}");
    }
    // One byte a write, inline then multibulk.
    for chunk in [&b"GET key\r\n"[..], &multibulk(&[b"GET", b"key"])] {
        for b in chunk {
            c.send_raw(&[*b]);
        }
        assert_eq!(c.read_reply(), b"$10\r\nsome value\r\n");
    }
}

#[test]
fn inline_commands() {
    let s = Server::start(&[]);
    let mut c = s.conn();
    c.send_raw(b"SET a b\r\n");
    assert_eq!(c.read_reply(), b"+OK\r\n");
    c.send_raw(b"GET a\n");
    assert_eq!(c.read_reply(), b"$1\r\nb\r\n");
    c.send_raw(b"set q \"x y\\n\"\r\nget q\r\n");
    assert_eq!(c.read_reply(), b"+OK\r\n");
    assert_eq!(c.read_reply(), b"$4\r\nx y\n\r\n");
    // Empty lines are ignored; unbalanced quotes are a protocol error.
    c.send_raw(b"\r\n\r\nPING\r\n");
    assert_eq!(c.read_reply(), b"+PONG\r\n");
    c.send_raw(b"SET \"a b\r\n");
    assert_eq!(
        c.read_reply(),
        b"-ERR Protocol error: unbalanced quotes in request\r\n"
    );
    assert!(c.is_closed());
}

#[test]
fn protocol_errors_close_the_connection() {
    let s = Server::start(&[]);
    for (req, err) in [
        (&b"*abc\r\n"[..], "invalid multibulk length"),
        (b"*1\r\n$x\r\n", "invalid bulk length"),
        (b"*1\r\n+foo\r\n", "expected '$', got '+'"),
    ] {
        let mut c = s.conn();
        c.send_raw(req);
        let want = format!("-ERR Protocol error: {err}\r\n");
        assert_eq!(c.read_reply(), want.as_bytes());
        assert!(c.is_closed(), "connection must be closed after {err}");
    }
    assert_eq!(s.conn().cmd(&["PING"]), b"+PONG\r\n");
}

#[test]
fn proto_max_bulk_len_and_query_buffer_limit() {
    let s = Server::start(&[
        "--proto-max-bulk-len",
        "1mb",
        "--client-query-buffer-limit",
        "1mb",
    ]);
    let mut c = s.conn();
    c.send_raw(b"*2\r\n$3\r\nGET\r\n$2000000\r\n");
    assert_eq!(
        c.read_reply(),
        b"-ERR Protocol error: invalid bulk length\r\n"
    );
    assert!(c.is_closed());
    // An inline request growing past the query buffer limit: closed.
    let mut c = s.conn();
    let chunk = vec![b'a'; 64 * 1024];
    let mut closed = false;
    for _ in 0..40 {
        if c.try_send_raw(&chunk).is_err() {
            closed = true;
            break;
        }
    }
    assert!(closed || c.is_closed());
    assert_eq!(s.conn().cmd(&["PING"]), b"+PONG\r\n");
}

// ---- authentication and HELLO ----

#[test]
fn requirepass_auth_and_hello_auth() {
    let s = Server::start(&["--requirepass", "secret"]);
    let mut c = s.conn();
    assert_eq!(
        c.cmd(&["GET", "a"]),
        b"-NOAUTH Authentication required.\r\n"
    );
    let wrongpass = b"-WRONGPASS invalid username-password pair or user is disabled.\r\n";
    assert_eq!(c.cmd(&["AUTH", "nope"]), wrongpass);
    assert_eq!(c.cmd(&["AUTH", "default", "nope"]), wrongpass);
    assert_eq!(c.cmd(&["AUTH", "secret"]), b"+OK\r\n");
    assert_eq!(c.cmd(&["SET", "a", "1"]), b"+OK\r\n");
    let mut c = s.conn();
    assert_eq!(c.cmd(&["AUTH", "default", "secret"]), b"+OK\r\n");
    let mut c = s.conn();
    assert_eq!(c.cmd(&["HELLO", "3", "AUTH", "default", "nope"]), wrongpass);
    assert!(c
        .cmd(&["HELLO", "3", "AUTH", "default", "secret"])
        .starts_with(b"%7\r\n"));
    assert_eq!(c.cmd(&["GET", "a"]), b"$1\r\n1\r\n");
    let mut c = s.conn();
    assert!(c.cmd(&["HELLO"]).starts_with(b"-NOAUTH"));
    // AUTH without requirepass.
    let open = Server::start(&[]);
    assert_eq!(
        open.conn().cmd(&["AUTH", "x"]),
        b"-ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?\r\n"
    );
}

#[test]
fn hello_reply_shape_and_noproto() {
    let s = Server::start(&[]);
    let mut c = s.conn();
    let r = parse(&c.cmd(&["HELLO", "3"]));
    let Value::Map(m) = r else {
        panic!("HELLO 3 must reply a map: {r:?}")
    };
    let keys: Vec<String> = m.iter().map(|(k, _)| k.text()).collect();
    assert_eq!(
        keys,
        ["server", "version", "proto", "id", "mode", "role", "modules"]
    );
    assert_eq!(m[0].1.text(), "redis");
    assert_eq!(m[1].1.text(), "7.0.15");
    assert_eq!(m[2].1, Value::Int(3));
    assert_eq!(m[4].1.text(), "standalone");
    assert_eq!(m[5].1.text(), "master");
    assert_eq!(c.cmd(&["GET", "nosuch"]), b"_\r\n");
    let r = parse(&c.cmd(&["HELLO", "2"]));
    assert_eq!(r.array().len(), 14);
    assert_eq!(c.cmd(&["GET", "nosuch"]), b"$-1\r\n");
    for v in ["4", "1", "0", "abc"] {
        let r = c.cmd(&["HELLO", v]);
        assert!(
            r == b"-NOPROTO unsupported protocol version\r\n"
                || r == b"-ERR Protocol version is not an integer or out of range\r\n",
            "HELLO {v}: {}",
            escape(&r)
        );
    }
    assert_eq!(
        c.cmd(&["HELLO", "4"]),
        b"-NOPROTO unsupported protocol version\r\n"
    );
    // Same answers as the real server.
    let redis = RedisServer::start(&[]);
    let mut rc = redis.conn();
    for v in ["4", "1", "abc"] {
        assert_eq!(c.cmd(&["HELLO", v]), rc.cmd(&["HELLO", v]), "HELLO {v}");
    }
}

#[test]
fn maxclients_rejects_extra_connections() {
    let s = Server::start(&["--maxclients", "2"]);
    let mut c1 = s.conn();
    assert!(wait_until(T, || {
        info_field(&mut c1, "clients", "connected_clients").as_deref() == Some("1")
    }));
    let mut c2 = s.conn();
    assert_eq!(c2.cmd(&["PING"]), b"+PONG\r\n");
    let mut c3 = s.conn();
    assert_eq!(c3.read_reply(), b"-ERR max number of clients reached\r\n");
    assert!(c3.is_closed());
    assert!(wait_until(T, || {
        info_field(&mut c1, "stats", "rejected_connections").as_deref() == Some("1")
    }));
}

// ---- CLIENT, MONITOR ----

#[test]
fn client_subcommands() {
    let s = Server::start(&[]);
    let mut c = s.conn();
    let mut other = s.conn();
    assert_eq!(c.cmd(&["CLIENT", "GETNAME"]), b"$-1\r\n");
    assert_eq!(c.cmd(&["CLIENT", "SETNAME", "worker-1"]), b"+OK\r\n");
    assert_eq!(c.cmd(&["CLIENT", "GETNAME"]), b"$8\r\nworker-1\r\n");
    assert_eq!(
        c.cmd(&["CLIENT", "SETNAME", "bad name"]),
        b"-ERR Client names cannot contain spaces, newlines or special characters.\r\n"
    );
    let id = c.cmd_int(&["CLIENT", "ID"]);
    let other_id = other.cmd_int(&["CLIENT", "ID"]);
    assert!(other_id > id);
    let info = parse(&c.cmd(&["CLIENT", "INFO"])).text();
    assert!(
        info.starts_with(&format!("id={id} addr=127.0.0.1:")),
        "{info}"
    );
    assert!(
        info.contains(" name=worker-1 ") && info.ends_with('\n'),
        "{info}"
    );
    let list = parse(&c.cmd(&["CLIENT", "LIST"])).text();
    assert_eq!(list.lines().count(), 2, "{list}");
    // Same field names, in the same order, as Redis.
    let redis = RedisServer::start(&[]);
    let rlist = parse(&redis.conn().cmd(&["CLIENT", "LIST"])).text();
    let names = |l: &str| -> Vec<String> {
        l.split(' ')
            .map(|kv| kv.split('=').next().unwrap_or("").to_string())
            .collect()
    };
    assert_eq!(
        names(list.lines().next().unwrap_or("")),
        names(rlist.trim_end())
    );
    // CLIENT REPLY OFF/ON
    c.send(&[b"CLIENT", b"REPLY", b"OFF"]);
    c.send(&[b"SET", b"silent", b"1"]);
    c.send(&[b"CLIENT", b"REPLY", b"ON"]);
    assert_eq!(c.read_reply(), b"+OK\r\n");
    assert_eq!(c.cmd(&["GET", "silent"]), b"$1\r\n1\r\n");
    // CLIENT REPLY SKIP silences exactly the next command.
    c.send(&[b"CLIENT", b"REPLY", b"SKIP"]);
    c.send(&[b"INCR", b"skipped"]);
    c.send(&[b"INCR", b"skipped"]);
    assert_eq!(c.read_reply(), b":2\r\n");
    // CLIENT KILL by id and by address.
    assert_eq!(
        c.cmd_int(&["CLIENT", "KILL", "ID", &other_id.to_string()]),
        1
    );
    assert!(other.is_closed());
    assert_eq!(c.cmd_int(&["CLIENT", "KILL", "ID", "999999"]), 0);
    let mut third = s.conn();
    let tinfo = parse(&third.cmd(&["CLIENT", "INFO"])).text();
    let addr = tinfo
        .split(' ')
        .find_map(|kv| kv.strip_prefix("addr="))
        .expect("addr field")
        .to_string();
    assert_eq!(c.cmd(&["CLIENT", "KILL", &addr]), b"+OK\r\n");
    assert!(third.is_closed());
    assert_eq!(
        c.cmd(&["CLIENT", "KILL", "127.0.0.1:1"]),
        b"-ERR No such client\r\n"
    );
}

#[test]
fn monitor_output_format() {
    let s = Server::start(&[]);
    let mut m = s.conn();
    assert_eq!(m.cmd(&["MONITOR"]), b"+OK\r\n");
    let mut c = s.conn();
    c.cmd(&["SET", "foo", "bar baz\n"]);
    c.cmd(&["SELECT", "2"]);
    c.cmd(&["GET", "x"]);
    let line = m.read_line();
    // +1700000000.123456 [0 127.0.0.1:54321] "SET" "foo" "bar baz\n"
    let rest = line.strip_prefix('+').expect("status line");
    let (ts, rest) = rest.split_once(' ').expect("timestamp");
    let (secs, usecs) = ts.split_once('.').expect("secs.usecs");
    assert!(secs.parse::<u64>().is_ok() && usecs.len() == 6, "{line}");
    assert!(rest.starts_with("[0 127.0.0.1:"), "{line}");
    assert!(rest.ends_with("] \"SET\" \"foo\" \"bar baz\\n\""), "{line}");
    let line = m.read_line();
    assert!(line.ends_with("] \"SELECT\" \"2\""), "{line}");
    let line = m.read_line();
    assert!(
        line.contains(" [2 127.0.0.1:") && line.ends_with("] \"GET\" \"x\""),
        "{line}"
    );
}

// ---- keyspace iteration and expiry ----

fn scan_all(c: &mut Conn, during: &mut dyn FnMut(&mut Conn)) -> Vec<Vec<u8>> {
    let mut cursor = "0".to_string();
    let mut seen = Vec::new();
    loop {
        let r = parse(&c.cmd(&["SCAN", &cursor, "COUNT", "10"]));
        let a = r.array();
        cursor = a[0].text();
        seen.extend(a[1].array().iter().map(|v| v.bytes().to_vec()));
        during(c);
        if cursor == "0" {
            return seen;
        }
    }
}

#[test]
fn scan_returns_every_key_present_throughout() {
    let s = Server::start(&[]);
    let mut c = s.conn();
    let mut req = Vec::new();
    for i in 0..2000 {
        req.extend_from_slice(&multibulk(&[b"SET", format!("orig:{i}").as_bytes(), b"v"]));
    }
    c.send_raw(&req);
    for _ in 0..2000 {
        c.read_reply();
    }
    let mut n = 0;
    // Insert 20 keys per iteration: forces rehashing while the scan runs.
    let seen = scan_all(&mut c, &mut |c| {
        let mut req = Vec::new();
        for _ in 0..20 {
            n += 1;
            req.extend_from_slice(&multibulk(&[b"SET", format!("new:{n}").as_bytes(), b"v"]));
        }
        c.send_raw(&req);
        for _ in 0..20 {
            c.read_reply();
        }
    });
    let set: std::collections::HashSet<Vec<u8>> = seen.into_iter().collect();
    for i in 0..2000 {
        assert!(
            set.contains(format!("orig:{i}").as_bytes()),
            "orig:{i} missed"
        );
    }
    // MATCH and TYPE filters.
    let r = parse(&c.cmd(&["SCAN", "0", "MATCH", "orig:1*", "COUNT", "100000"]));
    assert_eq!(r.array()[1].array().len(), 1111);
    let r = parse(&c.cmd(&["SCAN", "0", "TYPE", "hash", "COUNT", "100000"]));
    assert_eq!(r.array()[1].array().len(), 0);
    assert_eq!(c.cmd(&["SCAN", "abc"]), b"-ERR invalid cursor\r\n");
}

#[test]
fn active_expiry_removes_keys_without_access() {
    let s = Server::start(&["--hz", "100"]);
    let mut c = s.conn();
    assert_eq!(c.cmd(&["DEBUG", "SET-ACTIVE-EXPIRE", "0"]), b"+OK\r\n");
    for i in 0..100 {
        c.cmd(&["SET", &format!("k{i}"), "v", "PX", "100"]);
    }
    // Set last, so expired last: once it reads as gone (a lazy delete of
    // that key alone) every k<i> has expired too.
    c.cmd(&["SET", "probe", "v", "PX", "100"]);
    c.cmd(&["SET", "keep", "v"]);
    assert!(wait_until(T, || c.cmd_int(&["EXISTS", "probe"]) == 0));
    // Disabled: expired keys are still counted by DBSIZE.
    assert_eq!(c.cmd_int(&["DBSIZE"]), 101);
    assert_eq!(c.cmd(&["DEBUG", "SET-ACTIVE-EXPIRE", "1"]), b"+OK\r\n");
    assert!(wait_until(T, || c.cmd_int(&["DBSIZE"]) == 1));
    let expired: i64 = info_field(&mut c, "stats", "expired_keys")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    assert!(expired >= 100, "expired_keys={expired}");
}

// ---- process lifecycle ----

#[test]
fn shutdown_nosave_exits_and_removes_pidfile() {
    let tmp = TempDir::new("pid");
    let pidfile = tmp.join("ferrodis.pid");
    let mut s = Server::start(&["--pidfile", pidfile.to_str().unwrap_or("")]);
    assert!(wait_until(T, || pidfile.exists()));
    let pid: u32 = std::fs::read_to_string(&pidfile)
        .unwrap_or_default()
        .trim()
        .parse()
        .unwrap_or(0);
    assert_eq!(pid, s.pid());
    let mut c = s.conn();
    c.send(&[b"SHUTDOWN", b"NOSAVE"]);
    assert!(c.is_closed());
    let st = s.wait_exit(T).expect("server exits after SHUTDOWN");
    assert!(st.success(), "{st}");
    assert!(!pidfile.exists());
}

#[test]
fn sigterm_exits_cleanly() {
    let mut s = Server::start(&[]);
    s.conn().cmd(&["SET", "a", "b"]);
    s.signal(libc::SIGTERM);
    let st = s.wait_exit(T).expect("server exits on SIGTERM");
    assert!(st.success(), "{st}");
    assert!(s.log().contains("bye bye"), "{}", s.log());
}

#[test]
fn daemonize_with_pidfile_and_logfile() {
    let tmp = TempDir::new("daemon");
    let port = free_port();
    let pidfile = tmp.join("d.pid");
    let logfile = tmp.join("d.log");
    let st = Command::new(ferrodis_bin())
        .args([
            "--port",
            &port.to_string(),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
        ])
        .args(["--daemonize", "yes"])
        .arg("--pidfile")
        .arg(&pidfile)
        .arg("--logfile")
        .arg(&logfile)
        .arg("--dir")
        .arg(&tmp.path)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("run ferrodis --daemonize yes");
    assert!(st.success(), "{st}");
    // The parent exits only once the child listens: no waiting needed.
    let mut c = Conn::connect(port);
    let pid: i32 = std::fs::read_to_string(&pidfile)
        .unwrap_or_default()
        .trim()
        .parse()
        .unwrap_or(0);
    let reported = info_field(&mut c, "server", "process_id").unwrap_or_default();
    assert!(pid > 1);
    assert_eq!(reported, pid.to_string());
    // SAFETY: signalling the daemon this test started.
    unsafe {
        libc::kill(pid, libc::SIGTERM);
    }
    assert!(wait_until(T, || !pidfile.exists()));
    let log = std::fs::read_to_string(&logfile).unwrap_or_default();
    assert!(log.contains("Ready to accept connections"), "{log}");
}

// ---- configuration ----

#[test]
fn config_file_with_port_override() {
    let tmp = TempDir::new("conf");
    let conf = tmp.join("test.conf");
    std::fs::write(
        &conf,
        "port 1\nmaxmemory 3mb\ndatabases 4\n# comment\n\nhz 20\n",
    )
    .expect("write conf");
    let s = Server::start(&[conf.to_str().unwrap_or("")]);
    let mut c = s.conn();
    assert_eq!(
        c.cmd(&["CONFIG", "GET", "maxmemory"]),
        b"*2\r\n$9\r\nmaxmemory\r\n$7\r\n3145728\r\n"
    );
    assert_eq!(
        c.cmd(&["CONFIG", "GET", "port"]),
        format!(
            "*2\r\n$4\r\nport\r\n${}\r\n{}\r\n",
            s.port.to_string().len(),
            s.port
        )
        .into_bytes()
    );
    assert_eq!(c.cmd(&["SELECT", "3"]), b"+OK\r\n");
    assert_eq!(
        c.cmd(&["SELECT", "4"]),
        b"-ERR DB index is out of range\r\n"
    );
    let cf = info_field(&mut c, "server", "config_file").unwrap_or_default();
    assert!(cf.ends_with("test.conf"), "{cf}");
}

#[test]
fn config_from_stdin() {
    let tmp = TempDir::new("stdin");
    let port = free_port();
    let mut child = Command::new(ferrodis_bin())
        .args(["-", "--save", "", "--dir"])
        .arg(&tmp.path)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn ferrodis -");
    let conf = format!("port {port}\nbind 127.0.0.1\nmaxmemory 5mb\n");
    if let Some(mut stdin) = child.stdin.take() {
        stdin.write_all(conf.as_bytes()).expect("write stdin");
    }
    let up = wait_for_ping(port, T);
    let mm = up.then(|| Conn::connect(port).cmd(&["CONFIG", "GET", "maxmemory"]));
    let _ = child.kill();
    let _ = child.wait();
    assert!(up, "server configured from stdin did not start");
    assert_eq!(
        mm.unwrap_or_default(),
        b"*2\r\n$9\r\nmaxmemory\r\n$7\r\n5242880\r\n"
    );
}

#[test]
fn bad_directive_is_a_fatal_config_error() {
    let tmp = TempDir::new("bad");
    let conf = tmp.join("bad.conf");
    std::fs::write(&conf, "port 7000\nnosuchdirective yes\n").expect("write conf");
    let out = Command::new(ferrodis_bin())
        .arg(&conf)
        .stdin(Stdio::null())
        .output()
        .expect("run ferrodis");
    assert!(!out.status.success());
    let text =
        String::from_utf8_lossy(&out.stderr).into_owned() + &String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("*** FATAL CONFIG FILE ERROR (Redis 7.0.15) ***"),
        "{text}"
    );
    assert!(
        text.contains("Reading the configuration file, at line 2"),
        "{text}"
    );
    assert!(text.contains(">>> 'nosuchdirective yes'"), "{text}");
    assert!(
        text.contains("Bad directive or wrong number of arguments"),
        "{text}"
    );
    // Bad values on the command line too.
    let out = Command::new(ferrodis_bin())
        .args(["--port", "notaport"])
        .stdin(Stdio::null())
        .output()
        .expect("run ferrodis");
    assert!(!out.status.success());
    let text = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(text.contains("*** FATAL CONFIG FILE ERROR"), "{text}");
    assert!(text.contains(">>> 'port \"notaport\"'"), "{text}");
    assert!(
        text.contains("argument couldn't be parsed into an integer"),
        "{text}"
    );
}

#[test]
fn unixsocket() {
    let tmp = TempDir::new("sock");
    let sock = tmp.join("s.sock");
    let s = Server::start(&[
        "--unixsocket",
        sock.to_str().unwrap_or(""),
        "--unixsocketperm",
        "700",
    ]);
    let mut c = Conn::connect_unix(&sock);
    assert_eq!(c.cmd(&["SET", "u", "1"]), b"+OK\r\n");
    assert_eq!(s.conn().cmd(&["GET", "u"]), b"$1\r\n1\r\n");
    let info = parse(&c.cmd(&["CLIENT", "INFO"])).text();
    assert!(info.contains("addr=") && info.contains("flags=U"), "{info}");
}

// ---- introspection ----

fn info_names(c: &mut Conn, section: &str) -> Vec<String> {
    let body = parse(&c.cmd(&["INFO", section])).text();
    body.lines()
        .filter(|l| !l.is_empty())
        .map(|l| l.split(':').next().unwrap_or("").to_string())
        .collect()
}

#[test]
fn info_sections_and_fields() {
    let s = Server::start(&[]);
    let mut c = s.conn();
    assert_eq!(
        info_field(&mut c, "server", "redis_version").as_deref(),
        Some("7.0.15")
    );
    let run_id = info_field(&mut c, "server", "run_id").unwrap_or_default();
    assert!(
        run_id.len() == 40 && run_id.bytes().all(|b| b.is_ascii_hexdigit()),
        "{run_id}"
    );
    assert_eq!(
        info_field(&mut c, "server", "tcp_port"),
        Some(s.port.to_string())
    );
    assert_eq!(
        info_field(&mut c, "server", "process_id"),
        Some(s.pid().to_string())
    );
    // Every field the real server reports in the default sections exists.
    let redis = RedisServer::start(&[]);
    let mut rc = redis.conn();
    let mut missing = Vec::new();
    for section in [
        "server",
        "clients",
        "memory",
        "persistence",
        "stats",
        "replication",
        "cpu",
    ] {
        let ours = info_names(&mut c, section);
        for name in info_names(&mut rc, section) {
            if !ours.contains(&name) {
                missing.push(format!("{section}/{name}"));
            }
        }
    }
    assert!(missing.is_empty(), "INFO fields missing: {missing:?}");
    // Section headers of plain INFO, in Redis's order.
    let headers = |c: &mut Conn| -> Vec<String> {
        parse(&c.cmd(&["INFO"]))
            .text()
            .lines()
            .filter(|l| l.starts_with('#'))
            .map(str::to_string)
            .collect()
    };
    c.cmd(&["SET", "x", "1"]);
    rc.cmd(&["SET", "x", "1"]);
    assert_eq!(headers(&mut c), headers(&mut rc));
    assert_eq!(
        info_field(&mut c, "keyspace", "db0").as_deref(),
        Some("keys=1,expires=0,avg_ttl=0")
    );
}

#[test]
fn command_introspection() {
    let s = Server::start(&[]);
    let mut c = s.conn();
    assert!(c.cmd_int(&["COMMAND", "COUNT"]) > 50);
    assert_eq!(
        c.cmd(&["COMMAND", "GETKEYS", "SET", "a", "b"]),
        b"*1\r\n$1\r\na\r\n"
    );
    assert_eq!(
        c.cmd(&["COMMAND", "GETKEYS", "MSET", "a", "1", "b", "2"]),
        b"*2\r\n$1\r\na\r\n$1\r\nb\r\n"
    );
    assert_eq!(
        c.cmd(&["COMMAND", "GETKEYS", "PING", "x"]),
        b"-ERR The command has no key arguments\r\n"
    );
    // COMMAND GETKEYS has arity -4 in Redis 7.0.
    assert_eq!(
        c.cmd(&["COMMAND", "GETKEYS", "PING"]),
        b"-ERR wrong number of arguments for 'command|getkeys' command\r\n"
    );
    let redis = RedisServer::start(&[]);
    let mut rc = redis.conn();
    // COMMAND INFO: name, arity, flags and key positions as Redis.
    for name in ["get", "set", "mset", "del", "expire", "ping"] {
        let ours = parse(&c.cmd(&["COMMAND", "INFO", name]));
        let theirs = parse(&rc.cmd(&["COMMAND", "INFO", name]));
        let (o, t) = (ours.array()[0].array(), theirs.array()[0].array());
        assert_eq!(&o[..6], &t[..6], "COMMAND INFO {name}");
    }
    // Redis 7.0 answers a null bulk for an unknown name (addReplyNull).
    assert_eq!(c.cmd(&["COMMAND", "INFO", "nosuch"]), b"*1\r\n$-1\r\n");
    assert_eq!(rc.cmd(&["COMMAND", "INFO", "nosuch"]), b"*1\r\n$-1\r\n");
    let docs = parse(&c.cmd(&["COMMAND", "DOCS", "get"]));
    assert_eq!(docs.array()[0].text(), "get");
}

#[test]
fn slowlog_and_latency() {
    let s = Server::start(&[]);
    let mut c = s.conn();
    assert_eq!(
        c.cmd(&["CONFIG", "SET", "slowlog-log-slower-than", "0"]),
        b"+OK\r\n"
    );
    assert_eq!(c.cmd(&["SLOWLOG", "RESET"]), b"+OK\r\n");
    c.cmd(&["CLIENT", "SETNAME", "slowpoke"]);
    c.cmd(&["SET", "slow", "value"]);
    assert!(c.cmd_int(&["SLOWLOG", "LEN"]) >= 1);
    // SLOWLOG GET lists newest first; SLOWLOG LEN itself was logged since.
    let r = parse(&c.cmd(&["SLOWLOG", "GET", "2"]));
    let e = r.array()[1].array();
    assert_eq!(e.len(), 6, "{e:?}");
    assert!(e[1].int() > 1_600_000_000);
    assert!(e[2].int() >= 0);
    let args: Vec<String> = e[3].array().iter().map(Value::text).collect();
    assert_eq!(args, ["SET", "slow", "value"]);
    assert!(e[4].text().starts_with("127.0.0.1:"));
    assert_eq!(e[5].text(), "slowpoke");
    // With the monitor off (threshold 0) nothing is recorded.
    assert_eq!(c.cmd(&["LATENCY", "LATEST"]), b"*0\r\n");
    assert_eq!(c.cmd(&["LATENCY", "RESET"]), b":0\r\n");
    // A slow command crosses a 1 ms threshold: LATEST, HISTORY, DOCTOR.
    c.cmd(&["CONFIG", "SET", "latency-monitor-threshold", "1"]);
    c.cmd(&["DEBUG", "POPULATE", "200000"]);
    c.cmd(&["KEYS", "*"]);
    let latest = parse(&c.cmd(&["LATENCY", "LATEST"]));
    let row = latest.array()[0].array();
    assert_eq!(row[0].text(), "command");
    assert!(row[2].int() >= 1 && row[3].int() >= row[2].int(), "{row:?}");
    // One sample a second: DEBUG POPULATE (admin commands count too, as
    // in Redis) and KEYS may fall in the same second or in two; on a
    // loaded machine LATENCY LATEST itself may take over 1 ms, a second
    // later.
    let samples = parse(&c.cmd(&["LATENCY", "HISTORY", "command"]))
        .array()
        .len();
    assert!((1..=3).contains(&samples), "{samples}");
    let doctor = String::from_utf8_lossy(&c.cmd(&["LATENCY", "DOCTOR"])).into_owned();
    assert!(
        doctor.contains(&format!("1. command: {samples} latency spikes")),
        "{doctor}"
    );
    assert_eq!(c.cmd(&["LATENCY", "RESET", "command"]), b":1\r\n");
    assert_eq!(c.cmd(&["LATENCY", "LATEST"]), b"*0\r\n");
}

/// An expired key whose freeing is slow is sampled twice, as in Redis 7.0:
/// `expire-del` (the one deletion) and `expire-cycle` (the cycle it ran in).
#[test]
fn slow_expired_key_deletion_is_a_latency_event() {
    let s = Server::start(&[]);
    let mut c = s.conn();
    c.cmd(&["CONFIG", "SET", "latency-monitor-threshold", "1"]);
    // 150,000 fields too long to sit inline: one allocation each, freed
    // in well over the 1 ms threshold (a debug build takes some seconds
    // to fill it on a loaded machine: a connection that waits longer).
    let fill = "for i = 1, tonumber(ARGV[1]) do \
                redis.call('hset', KEYS[1], 'field-long-enough-to-be-allocated-' .. i, i) end";
    let mut filler = Conn::connect_with_timeout(s.port, Duration::from_secs(120)).expect("connect");
    assert_eq!(
        filler.cmd(&["EVAL", fill, "1", "big", "150000"]),
        b"$-1\r\n"
    );
    c.cmd(&["LATENCY", "RESET"]);
    c.cmd(&["PEXPIRE", "big", "1"]);
    assert!(
        wait_until(Duration::from_secs(10), || c.cmd(&["DBSIZE"]) == b":0\r\n"),
        "the key never expired"
    );
    let latest = parse(&c.cmd(&["LATENCY", "LATEST"]));
    let events: Vec<String> = latest.array().iter().map(|r| r.array()[0].text()).collect();
    for want in ["expire-del", "expire-cycle"] {
        assert!(
            events.iter().any(|e| e == want),
            "{want} missing: {events:?}"
        );
    }
}

#[test]
fn config_set_port_and_bind_rebind_or_roll_back() {
    let s = Server::start(&[]);
    let mut c = s.conn();
    let new_port = free_port();
    assert_eq!(
        c.cmd(&["CONFIG", "SET", "port", &new_port.to_string()]),
        b"+OK\r\n"
    );
    let mut moved = Conn::connect(new_port);
    assert_eq!(moved.cmd(&["PING"]), b"+PONG\r\n");
    assert!(
        Conn::try_connect(s.port).is_err(),
        "the old port must be closed"
    );
    // An address we cannot bind: Redis's error, and the old sockets stay.
    assert_eq!(
        moved.cmd(&["CONFIG", "SET", "bind", "192.0.2.1"]),
        b"-ERR CONFIG SET failed (possibly related to argument 'bind') - Failed to bind to specified addresses.\r\n".to_vec()
    );
    assert_eq!(Conn::connect(new_port).cmd(&["PING"]), b"+PONG\r\n");
    assert_eq!(
        moved.cmd(&["CONFIG", "GET", "bind"]),
        b"*2\r\n$4\r\nbind\r\n$9\r\n127.0.0.1\r\n".to_vec()
    );
}

/// Big replies of a pipeline that the client reads only once all is sent:
/// the server writes them early or queues them as they are when the socket
/// is full (net::Client::queue_reply); every reply must still arrive whole
/// and in order, small ones between them included, CLIENT REPLY SKIP must
/// still drop its big reply, with and without an AOF waiting to be written.
#[test]
fn large_replies_in_a_pipeline_arrive_whole_and_in_order() {
    for aof in ["no", "yes"] {
        let s = Server::start(&["--appendonly", aof]);
        let mut c = s.conn();
        // 16 MB of replies: more than the kernel buffers of both ends hold.
        let values: Vec<Vec<u8>> = (0..16u8)
            .map(|i| {
                (0..1024 * 1024)
                    .map(|j| b'a' + ((j / 7 + i as usize) % 26) as u8)
                    .collect()
            })
            .collect();
        for (i, v) in values.iter().enumerate() {
            let key = format!("big:{i}");
            c.send(&[b"SET", key.as_bytes(), v]);
            assert_eq!(c.read_reply(), b"+OK\r\n");
        }
        let mut req = Vec::new();
        for i in 0..values.len() {
            let key = format!("big:{i}");
            req.extend_from_slice(&multibulk(&[b"GET", key.as_bytes()]));
            req.extend_from_slice(&multibulk(&[b"INCR", b"n"]));
            if i == 3 {
                req.extend_from_slice(&multibulk(&[b"CLIENT", b"REPLY", b"SKIP"]));
                req.extend_from_slice(&multibulk(&[b"GET", b"big:0"]));
            }
        }
        req.extend_from_slice(&multibulk(&[b"LRANGE", b"nolist", b"0", b"-1"]));
        c.send_raw(&req);
        for (i, v) in values.iter().enumerate() {
            let mut want = format!("${}\r\n", v.len()).into_bytes();
            want.extend_from_slice(v);
            want.extend_from_slice(b"\r\n");
            let got = c.read_reply();
            assert!(
                got == want,
                "GET big:{i} (appendonly {aof}): {} bytes",
                got.len()
            );
            assert_eq!(c.read_reply(), format!(":{}\r\n", i + 1).into_bytes());
        }
        assert_eq!(c.read_reply(), b"*0\r\n");
        assert_eq!(c.cmd(&["PING"]), b"+PONG\r\n");
    }
}

/// Pipelines over a keyspace big enough for the lookahead prefetch (8,192
/// keys and up): mixed commands, keys in other databases (SELECT inside
/// the pipeline), repeated keys, binary keys, a command without a key,
/// inline requests and MULTI/EXEC, all sent at once and split at every
/// 7th byte by the socket writes; every reply byte-identical to
/// redis-server's.
#[test]
fn pipelines_on_a_big_keyspace_match_redis() {
    let ours = common::Server::start(&[]);
    let theirs = common::RedisServer::start(&[]);
    let mut rng = common::Rng(0xF00D);
    let mut pipe = Vec::new();
    let mut requests = 12_000 + 3000 + 1;
    for i in 0..12_000 {
        pipe.extend(common::multibulk(&[
            b"SET",
            format!("k:{i}").as_bytes(),
            b"v",
        ]));
    }
    for n in 0..3000 {
        let k = format!("k:{}", rng.below(14_000));
        let args: Vec<Vec<u8>> = match n % 11 {
            0 => vec![b"GET".to_vec(), k.into_bytes()],
            1 => vec![
                b"INCR".to_vec(),
                format!("c:{}", rng.below(50)).into_bytes(),
            ],
            2 => vec![b"SELECT".to_vec(), rng.below(3).to_string().into_bytes()],
            3 => vec![b"DEL".to_vec(), k.into_bytes()],
            4 => vec![b"PING".to_vec()],
            5 => vec![b"SET".to_vec(), vec![0, 255, b'\r', b'\n'], k.into_bytes()],
            6 => vec![b"GET".to_vec(), vec![0, 255, b'\r', b'\n']],
            7 => vec![b"MULTI".to_vec()],
            8 => vec![b"EXEC".to_vec()],
            9 => vec![b"APPEND".to_vec(), k.clone().into_bytes(), k.into_bytes()],
            _ => vec![b"EXISTS".to_vec(), k.clone().into_bytes(), k.into_bytes()],
        };
        let refs: Vec<&[u8]> = args.iter().map(|a| a.as_slice()).collect();
        pipe.extend(common::multibulk(&refs));
        if n % 97 == 0 {
            pipe.extend_from_slice(format!("GET k:{n}\r\n").as_bytes());
            requests += 1;
        }
    }
    pipe.extend(common::multibulk(&[b"DBSIZE"]));
    let run = |port_conn: &mut common::Conn| {
        for chunk in pipe.chunks(7 * 4096 + 7) {
            port_conn.send_raw(chunk);
        }
        (0..requests)
            .map(|_| port_conn.read_reply())
            .collect::<Vec<_>>()
    };
    let (a, b) = (run(&mut ours.conn()), run(&mut theirs.conn()));
    assert_eq!(a.len(), b.len());
    for (i, (x, y)) in a.iter().zip(&b).enumerate() {
        assert_eq!(common::escape(x), common::escape(y), "reply {i}");
    }
}

/// OBJECT is a read that is no access (hits and misses counted, the clock
/// untouched); MEMORY USAGE reads the dict itself (no count, no touch, no
/// expiry), as redis-server 7.0 does.
#[test]
fn object_and_memory_usage_count_and_touch_as_redis() {
    fn run(c: &mut Conn) -> Vec<String> {
        c.cmd(&["CONFIG", "SET", "maxmemory-policy", "allkeys-lfu"]);
        c.cmd(&["DEBUG", "SET-ACTIVE-EXPIRE", "0"]);
        c.cmd(&["SET", "k", "v"]);
        c.cmd(&["SET", "gone", "v", "PX", "1"]);
        std::thread::sleep(Duration::from_millis(20));
        c.cmd(&["CONFIG", "RESETSTAT"]);
        let mut seen = Vec::new();
        for _ in 0..3 {
            // A first access would raise the LFU counter from 5 at once.
            let r = c.cmd(&["MEMORY", "USAGE", "k"]);
            seen.push(format!("usage k is an integer: {}", r.starts_with(b":")));
        }
        let r = c.cmd(&["MEMORY", "USAGE", "gone"]);
        seen.push(format!("usage of an expired key: {}", r.starts_with(b":")));
        let exact: [(&str, [&str; 3]); 4] = [
            ("usage nokey", ["MEMORY", "USAGE", "nokey"]),
            ("freq", ["OBJECT", "FREQ", "k"]),
            ("gone", ["OBJECT", "ENCODING", "gone"]),
            ("nokey", ["OBJECT", "FREQ", "nokey"]),
        ];
        for (label, cmd) in exact {
            seen.push(format!("{label}: {}", escape(&c.cmd(&cmd))));
        }
        for f in ["keyspace_hits", "keyspace_misses", "expired_keys"] {
            seen.push(format!("{f}: {:?}", info_field(c, "stats", f)));
        }
        seen
    }
    let ours = Server::start(&[]);
    let redis = RedisServer::start(&[]);
    let mine = run(&mut ours.conn());
    assert_eq!(mine, run(&mut redis.conn()));
    assert!(mine.contains(&"freq: :5\\r\\n".to_string()), "{mine:?}");
}
