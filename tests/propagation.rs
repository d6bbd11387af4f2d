//! The propagation rule (server/exec.rs), enforced: every write command of
//! the table, run on a ferrodis master, leaves its replicas (a ferrodis and
//! a real redis-server) with the same `DEBUG DIGEST` as the master's.
//!
//! The cases are the lines of `tests/propagation/*.txt` (syntax in the
//! README there). After each line the test waits until both replicas
//! processed the whole stream, then compares the digests, so a mismatch
//! names the command that caused it. A command flagged `write` or
//! `may-replicate` without a case fails the test.

mod common;

use common::*;
use ferrodis::cmd::flag;
use std::collections::BTreeSet;
use std::time::Duration;

const SYNC_TIMEOUT: Duration = Duration::from_secs(30);

fn offset(c: &mut Conn) -> i64 {
    info_field(c, "replication", "master_repl_offset")
        .and_then(|v| v.parse().ok())
        .unwrap_or(-1)
}

fn digest(c: &mut Conn) -> String {
    String::from_utf8_lossy(&c.cmd(&["DEBUG", "DIGEST"])).into_owned()
}

/// A server's offset and the digest of its dataset at that offset: the
/// offset read before and after the digest agree.
fn snapshot(c: &mut Conn) -> (i64, String) {
    loop {
        let before = offset(c);
        let d = digest(c);
        if offset(c) == before {
            return (before, d);
        }
    }
}

fn blocked(c: &mut Conn) -> i64 {
    info_field(c, "clients", "blocked_clients")
        .and_then(|v| v.parse().ok())
        .unwrap_or(-1)
}

/// One case line, parsed.
enum Step {
    Run(Vec<Vec<u8>>),
    Background(Vec<Vec<u8>>),
    Until(String, Vec<Vec<u8>>),
}

fn parse_line(line: &str) -> Step {
    let args = |s: &str| split_args(s).unwrap_or_else(|| panic!("bad quoting: {line}"));
    if let Some(rest) = line.strip_prefix("& ") {
        Step::Background(args(rest))
    } else if let Some(rest) = line.strip_prefix("~ ") {
        let (want, cmd) = rest
            .split_once(' ')
            .unwrap_or_else(|| panic!("`~ <reply> <command>` expected: {line}"));
        Step::Until(want.to_string(), args(cmd))
    } else {
        Step::Run(args(line))
    }
}

/// Every case line of every file, in file name order: (file, line, text).
fn cases() -> Vec<(String, usize, String)> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/propagation");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("tests/propagation")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "txt"))
        .collect();
    files.sort();
    let mut out = Vec::new();
    for f in files {
        let name = f
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let text = std::fs::read_to_string(&f).expect("read case file");
        for (i, l) in text.lines().enumerate() {
            let l = l.trim();
            if !l.is_empty() && !l.starts_with('#') {
                out.push((name.clone(), i + 1, l.to_string()));
            }
        }
    }
    out
}

/// The command a case runs, as the table names it: a container's
/// subcommand is `xgroup|create` (the write flag is the subcommand's).
fn command_name(step: &Step) -> String {
    let argv = match step {
        Step::Run(a) | Step::Background(a) | Step::Until(_, a) => a,
    };
    match ferrodis::cmd::table::lookup_cmd(argv) {
        Some(spec) => spec.name.to_string(),
        None => String::from_utf8_lossy(&argv[0]).to_ascii_lowercase(),
    }
}

#[test]
fn every_write_command_has_a_case() {
    let covered: BTreeSet<String> = cases()
        .iter()
        .map(|(_, _, l)| command_name(&parse_line(l)))
        .collect();
    let missing: Vec<&str> = ferrodis::cmd::table::all()
        .flat_map(|c| std::iter::once(c).chain(c.subs.iter()))
        .filter(|c| c.has(flag::WRITE) || c.has(flag::MAY_REPLICATE))
        .map(|c| c.name)
        .filter(|n| !covered.contains(*n))
        .collect();
    assert!(
        missing.is_empty(),
        "write commands without a case in tests/propagation/*.txt: {missing:?}"
    );
}

#[test]
fn replicas_digest_equals_master_after_every_write_command() {
    require_tool("redis-server");
    let master = Server::start(&[]);
    let mport = master.port.to_string();
    let ours = Server::start(&["--replicaof", "127.0.0.1", &mport]);
    let real = RedisServer::start(&["--replicaof", "127.0.0.1", &mport]);
    let mut m = master.conn();
    // Checks go through their own connection (the main one may be in MULTI).
    let mut check = master.conn();
    let mut side = master.conn();
    let mut replicas = [ours.conn(), real.conn()];
    let names = ["ferrodis replica", "redis-server replica"];
    for r in replicas.iter_mut() {
        assert!(
            wait_until(SYNC_TIMEOUT, || {
                info_field(r, "replication", "master_link_status").as_deref() == Some("up")
            }),
            "a replica never connected"
        );
    }
    let mut side_pending = false;
    let read_side = |side: &mut Conn, pending: &mut bool, at: &str| {
        if *pending {
            let r = side.try_read_reply();
            assert!(r.is_ok(), "{at}: the blocked command was never served");
            *pending = false;
        }
    };
    let all = cases();
    for (file, line, text) in &all {
        let at = format!("{file}:{line} `{text}`");
        match parse_line(text) {
            Step::Run(argv) => {
                let args: Vec<&[u8]> = argv.iter().map(Vec::as_slice).collect();
                m.send(&args);
                m.read_reply();
            }
            Step::Background(argv) => {
                read_side(&mut side, &mut side_pending, &at);
                let before = blocked(&mut check);
                let args: Vec<&[u8]> = argv.iter().map(Vec::as_slice).collect();
                side.send(&args);
                side_pending = true;
                assert!(
                    wait_until(SYNC_TIMEOUT, || blocked(&mut check) > before),
                    "{at}: the command did not block"
                );
            }
            Step::Until(want, argv) => {
                let args: Vec<&[u8]> = argv.iter().map(Vec::as_slice).collect();
                let ok = wait_until(SYNC_TIMEOUT, || {
                    m.send(&args);
                    escape(&m.read_reply()) == format!("{want}\\r\\n")
                });
                assert!(ok, "{at}: never replied {want}");
            }
        }
        let last_of_file = all
            .iter()
            .skip_while(|(f, l, _)| !(f == file && l == line))
            .nth(1)
            .is_none_or(|(f, _, _)| f != file);
        if last_of_file {
            read_side(&mut side, &mut side_pending, &at);
        }
        // Datasets are compared at equal offsets: the master may write
        // on its own meanwhile (an expired key's DEL, a PING), so a
        // replica that already applied more, or a master digest taken
        // after an unseen write, would differ for no fault of the replica.
        for (r, name) in replicas.iter_mut().zip(names) {
            let mut seen = (0, 0);
            let mut differ = None;
            let settled = wait_until(SYNC_TIMEOUT, || {
                let (mo, md) = snapshot(&mut check);
                let (ro, rd) = snapshot(r);
                seen = (ro, mo);
                if ro == mo && rd != md {
                    differ = Some((rd, md));
                }
                ro == mo
            });
            assert!(
                settled,
                "{at}: {name} never at the master's offset (replica {}, master {})",
                seen.0, seen.1
            );
            if let Some((rd, md)) = differ {
                assert_eq!(rd, md, "{at}: {name} differs from the master");
            }
        }
    }
}
