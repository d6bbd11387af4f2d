//! The real redis tools against ferrodis: redis-cli (plain, --raw, -r,
//! --pipe mass insert, --scan) and redis-benchmark must work unmodified.

mod common;

use common::*;
use std::io::Write;
use std::process::{Command, Output, Stdio};

fn cli(port: u16, args: &[&str]) -> Output {
    Command::new(require_tool("redis-cli"))
        .args(["-p", &port.to_string()])
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("run redis-cli")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn redis_cli_commands() {
    let s = Server::start(&[]);
    assert_eq!(stdout(&cli(s.port, &["set", "a", "b"])), "OK\n");
    assert_eq!(stdout(&cli(s.port, &["get", "a"])), "b\n");
    assert_eq!(stdout(&cli(s.port, &["get", "nosuch"])), "\n");
    assert_eq!(
        stdout(&cli(s.port, &["--no-raw", "get", "nosuch"])),
        "(nil)\n"
    );
    assert_eq!(
        stdout(&cli(s.port, &["--no-raw", "incr", "n"])),
        "(integer) 1\n"
    );
    assert_eq!(stdout(&cli(s.port, &["set", "bin", "x\ny"])), "OK\n");
    assert_eq!(stdout(&cli(s.port, &["--raw", "get", "bin"])), "x\ny\n");
    assert_eq!(
        stdout(&cli(s.port, &["--no-raw", "get", "bin"])),
        "\"x\\ny\"\n"
    );
    assert_eq!(
        stdout(&cli(s.port, &["--no-raw", "mget", "a", "nosuch"])),
        "1) \"b\"\n2) (nil)\n"
    );
    let err = stdout(&cli(s.port, &["nosuchcmd"]));
    assert!(err.starts_with("ERR unknown command 'nosuchcmd'"), "{err}");
    // -r repeats the command.
    cli(s.port, &["-r", "100", "incr", "rep"]);
    assert_eq!(stdout(&cli(s.port, &["get", "rep"])), "100\n");
    // Interactive-style input on stdin.
    let mut child = Command::new(require_tool("redis-cli"))
        .args(["-p", &s.port.to_string()])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn redis-cli");
    if let Some(mut i) = child.stdin.take() {
        i.write_all(b"set x 1\nincrby x 41\nget x\n")
            .expect("stdin");
    }
    let out = child.wait_with_output().expect("redis-cli output");
    assert_eq!(String::from_utf8_lossy(&out.stdout), "OK\n42\n42\n");
}

#[test]
fn redis_cli_pipe_mass_insert_and_scan() {
    let s = Server::start(&[]);
    let mut proto = Vec::new();
    for i in 0..10_000 {
        proto.extend_from_slice(&multibulk(&[
            b"SET",
            format!("key:{i}").as_bytes(),
            format!("value:{i}").as_bytes(),
        ]));
    }
    let mut child = Command::new(require_tool("redis-cli"))
        .args(["-p", &s.port.to_string(), "--pipe"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn redis-cli --pipe");
    if let Some(mut i) = child.stdin.take() {
        i.write_all(&proto).expect("feed --pipe");
    }
    let out = child.wait_with_output().expect("redis-cli --pipe");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "{text}");
    assert!(text.contains("errors: 0, replies: 10000"), "{text}");
    let mut c = s.conn();
    assert_eq!(c.cmd_int(&["DBSIZE"]), 10_000);
    assert_eq!(c.cmd(&["GET", "key:9999"]), b"$10\r\nvalue:9999\r\n");
    c.cmd(&["SET", "other", "x"]);
    let out = cli(s.port, &["--scan", "--pattern", "key:99*"]);
    let mut keys: Vec<String> = stdout(&out).lines().map(str::to_string).collect();
    keys.sort();
    keys.dedup();
    assert_eq!(keys.len(), 111, "{keys:?}");
    assert!(keys.iter().all(|k| k.starts_with("key:99")));
    let all = stdout(&cli(s.port, &["--scan"]));
    let mut all: Vec<&str> = all.lines().collect();
    all.sort();
    all.dedup();
    assert_eq!(all.len(), 10_001);
}

#[test]
fn redis_benchmark_runs_against_ferrodis() {
    let s = Server::start(&[]);
    let out = Command::new(require_tool("redis-benchmark"))
        .args([
            "-p",
            &s.port.to_string(),
            "-q",
            "-n",
            "2000",
            "-t",
            "set,get",
            "-P",
            "16",
        ])
        .stdin(Stdio::null())
        .output()
        .expect("run redis-benchmark");
    let text = stdout(&out);
    assert!(out.status.success(), "{text}");
    for test in ["SET", "GET"] {
        let line = text
            .split(['\n', '\r'])
            .find(|l| l.starts_with(&format!("{test}: ")) && l.contains("requests per second"))
            .unwrap_or_else(|| panic!("no {test} result in: {text}"));
        let rps: f64 = line
            .split_whitespace()
            .nth(1)
            .and_then(|v| v.parse().ok())
            .unwrap_or(0.0);
        assert!(rps > 100.0, "{line}");
    }
    assert!(s.conn().cmd_int(&["DBSIZE"]) >= 1);
}

#[test]
fn redis_cli_rdb_and_functions_rdb() {
    // redis-cli --rdb takes a full snapshot; --functions-rdb one filtered to
    // the function libraries (REPLCONF rdb-filter-only functions), which
    // must never replace the server's own dump.
    let s = Server::start(&["--repl-diskless-sync", "no"]);
    let mut c = s.conn();
    c.cmd(&["DEBUG", "POPULATE", "1000"]);
    let lib = "#!lua name=lib1\nredis.register_function('func1', function() return 123 end)";
    assert_eq!(c.cmd(&["FUNCTION", "LOAD", lib]), b"$4\r\nlib1\r\n");
    for (flag, keys) in [("--rdb", 1000), ("--functions-rdb", 0)] {
        let file = s.dir.join(format!("cli{keys}.rdb"));
        let out = cli(s.port, &[flag, &file.to_string_lossy()]);
        let text = String::from_utf8_lossy(&out.stderr).into_owned() + &stdout(&out);
        assert!(
            text.contains("Transfer finished with success"),
            "{flag}: {text}"
        );
        // Load it into a fresh server.
        let dir = TempDir::new("cli-rdb");
        std::fs::copy(&file, dir.join("dump.rdb")).expect("copy");
        let d = Server::start(&["--dir", &dir.path.to_string_lossy()]);
        let mut dc = d.conn();
        assert_eq!(dc.cmd_int(&["DBSIZE"]), keys, "{flag}");
        let libs = String::from_utf8_lossy(&dc.cmd(&["FUNCTION", "LIST"])).into_owned();
        assert!(libs.contains("lib1"), "{flag}: {libs}");
    }
    // The server's own dump (written for the disk-based --rdb) was not
    // replaced by the filtered snapshot.
    let dir = TempDir::new("cli-dump");
    std::fs::copy(s.dir.join("dump.rdb"), dir.join("dump.rdb")).expect("dump.rdb");
    let d = Server::start(&["--dir", &dir.path.to_string_lossy()]);
    assert_eq!(d.conn().cmd_int(&["DBSIZE"]), 1000);
}
