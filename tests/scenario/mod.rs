//! Multi-connection differential scenarios: the same script of steps runs
//! against a real redis-server and against ferrodis, and every reply read
//! (command replies and pushed Pub/Sub messages alike) must be identical.
//!
//! One step per line:
//! - `N CMD args...`  connection N (0-9) sends CMD and reads one reply;
//! - `N !CMD args...` connection N sends CMD without reading (blocking calls);
//! - `N <`            connection N reads one more reply (a pushed message);
//! - `N << TEXT`       connection N reads replies up to one containing TEXT
//!   (an end marker published after an unknown number of messages);
//! - `sleep MS`       lets MS milliseconds pass: only for a TTL to run out
//!   untouched (what can be observed is waited for with `<` and `<<`);
//! - `wait-blocked N`  waits until `INFO clients` shows N blocked clients
//!   (asked on a side connection of its own): a command sent with `!` is
//!   blocked before the step that serves it;
//! - a `[nd]` prefix sends/reads without comparing, `[sort]` compares the
//!   elements of the top-level aggregate sorted;
//! - `#` comments and blank lines are ignored.
//!
//! A mismatched or missing reply never hangs: reads time out (10 s) and the
//! error text takes the reply's place.
#![allow(dead_code)]

use crate::common::{escape, sort_reply, split_args, Conn, RedisServer, Server};
use std::io::ErrorKind;
use std::time::{Duration, Instant};

/// How long `wait-blocked` waits before the scenario fails.
const BLOCKED_TIMEOUT: Duration = Duration::from_secs(20);

/// The replies one run of a script read, with the line they belong to.
pub type Trace = Vec<(String, Vec<u8>, bool)>;

fn read(c: &mut Conn) -> Vec<u8> {
    match c.try_read_reply() {
        Ok(r) => r,
        Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
            b"<timeout>".to_vec()
        }
        Err(_) => b"<closed>".to_vec(),
    }
}

/// Polls `INFO clients` on `side` (reconnected to `port` when closed) until
/// `blocked_clients` is `n`; panics after `BLOCKED_TIMEOUT`. Every poll is
/// an INFO call of its own (in commandstats, MONITOR...).
pub fn wait_blocked(side: &mut Option<Conn>, port: u16, n: u64) {
    let deadline = Instant::now() + BLOCKED_TIMEOUT;
    loop {
        let c = side.get_or_insert_with(|| Conn::connect(port));
        let last = match c.try_cmd(&["INFO", "clients"]) {
            Ok(r) => {
                let text = String::from_utf8_lossy(&r).into_owned();
                let blocked = text
                    .lines()
                    .find_map(|l| l.strip_prefix("blocked_clients:"))
                    .map(str::trim);
                if blocked == Some(n.to_string().as_str()) {
                    return;
                }
                blocked.unwrap_or("missing").to_string()
            }
            Err(e) => {
                *side = None;
                format!("side connection: {e}")
            }
        };
        assert!(
            Instant::now() < deadline,
            "port {port}: blocked_clients not {n} after {BLOCKED_TIMEOUT:?} (last: {last})"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Runs `script` on a server, returning every reply read.
pub fn run_on(port: u16, script: &str) -> Trace {
    let mut conns: Vec<Option<Conn>> = (0..10).map(|_| None).collect();
    // For `wait-blocked`, kept for the whole run: the same extra client on
    // both servers.
    let mut side: Option<Conn> = None;
    let mut trace = Vec::new();
    for (i, raw) in script.lines().enumerate() {
        let mut line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (mut compare, mut sort) = (true, false);
        loop {
            if let Some(r) = line.strip_prefix("[nd]") {
                compare = false;
                line = r.trim_start();
            } else if let Some(r) = line.strip_prefix("[sort]") {
                sort = true;
                line = r.trim_start();
            } else {
                break;
            }
        }
        if let Some(ms) = line.strip_prefix("sleep ") {
            std::thread::sleep(Duration::from_millis(ms.trim().parse().expect("sleep ms")));
            continue;
        }
        if let Some(n) = line.strip_prefix("wait-blocked ") {
            let n = n.trim().parse().expect("wait-blocked count");
            wait_blocked(&mut side, port, n);
            continue;
        }
        let (n, rest) = line.split_once(' ').unwrap_or((line, ""));
        let n: usize = n.parse().unwrap_or_else(|_| panic!("bad step {line:?}"));
        let c = conns[n].get_or_insert_with(|| Conn::connect(port));
        let at = format!("{}: {line}", i + 1);
        let rest = rest.trim();
        let reply = if rest == "<" {
            read(c)
        } else if let Some(marker) = rest.strip_prefix("<<") {
            // Each message is its own trace entry, for readable diffs.
            let marker = marker.trim().as_bytes();
            for k in 0..10_000 {
                let r = read(c);
                let done = r.starts_with(b"<") || r.windows(marker.len()).any(|w| w == marker);
                trace.push((format!("{at} #{k}"), r, compare));
                if done {
                    break;
                }
            }
            continue;
        } else {
            let (no_read, cmd) = match rest.strip_prefix('!') {
                Some(r) => (true, r),
                None => (false, rest),
            };
            let args = split_args(cmd).unwrap_or_else(|| panic!("bad quoting: {line}"));
            let a: Vec<&[u8]> = args.iter().map(|v| v.as_slice()).collect();
            if c.try_send_raw(&crate::common::multibulk(&a)).is_err() {
                b"<closed>".to_vec()
            } else if no_read {
                continue;
            } else {
                read(c)
            }
        };
        let reply = if sort { sort_reply(&reply) } else { reply };
        trace.push((at, reply, compare));
    }
    // Nothing more may be pending on any connection: a PING's reply must
    // come next (compared too, so extra pushes show up as a mismatch).
    for (n, c) in conns.iter_mut().enumerate() {
        if let Some(c) = c {
            if c.try_send_raw(b"*1\r\n$4\r\nPING\r\n").is_ok() {
                trace.push((format!("end: {n} PING"), read(c), true));
            }
        }
    }
    trace
}

/// Runs `script` against a fresh redis-server and a fresh ferrodis started
/// with `args` and panics with every difference.
pub fn check(name: &str, args: &[&str], script: &str) {
    let redis = RedisServer::start(args);
    let ferrodis = Server::start(args);
    check_on(name, redis.port, ferrodis.port, script);
}

pub fn check_on(name: &str, redis_port: u16, ferrodis_port: u16, script: &str) {
    let r = run_on(redis_port, script);
    let f = run_on(ferrodis_port, script);
    compare(name, &r, &f);
}

/// Panics with every difference between two runs' replies.
pub fn compare(name: &str, r: &Trace, f: &Trace) {
    let mut report = String::new();
    for (i, (at, rr, cmp)) in r.iter().enumerate() {
        let fr = f.get(i).map(|x| x.1.as_slice()).unwrap_or(b"<missing>");
        if *cmp && rr.as_slice() != fr {
            report.push_str(&format!(
                "{name} line {at}\n    redis:    {}\n    ferrodis: {}\n",
                escape(rr),
                escape(fr)
            ));
        }
    }
    if r.len() != f.len() {
        report.push_str(&format!("{name}: {} vs {} replies\n", r.len(), f.len()));
    }
    assert!(report.is_empty(), "scenario differences:\n{report}");
}
