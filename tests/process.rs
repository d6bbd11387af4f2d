//! The process and its sockets as Redis 7.0 manages them: oom-score-adj
//! following the role (master, replica, background child), CONFIG SET
//! port/bind failures worded as Redis and leaving the old sockets
//! listening, `bind ""` with only the unix socket, and bind-source-addr
//! for the connection to a master, and the process title (proc-title-template).

mod common;

use common::{info_field, wait_until, Conn, RedisServer, Server};
use std::time::Duration;

fn oom_score(pid: u32) -> i32 {
    try_oom_score(pid).expect("oom_score_adj")
}

/// None when the process is gone (a child reaped after it was listed).
fn try_oom_score(pid: u32) -> Option<i32> {
    std::fs::read_to_string(format!("/proc/{pid}/oom_score_adj"))
        .ok()?
        .trim()
        .parse()
        .ok()
}

#[test]
fn oom_score_adj_follows_the_role() {
    let s = Server::start(&[]);
    let pid = s.pid();
    let base = oom_score(pid);
    let mut c = s.conn();
    assert_eq!(
        c.cmd(&["CONFIG", "SET", "oom-score-adj-values", "10 20 30"]),
        b"+OK\r\n"
    );
    // Not enabled yet: the values alone change nothing.
    assert_eq!(oom_score(pid), base);
    assert_eq!(
        c.cmd(&["CONFIG", "SET", "oom-score-adj", "yes"]),
        b"+OK\r\n"
    );
    assert_eq!(oom_score(pid), base + 10);
    c.cmd(&["CONFIG", "SET", "oom-score-adj-values", "15 20 30"]);
    assert_eq!(oom_score(pid), base + 15);
    c.cmd(&["REPLICAOF", "127.0.0.1", "1"]);
    assert_eq!(oom_score(pid), base + 20);
    c.cmd(&["REPLICAOF", "NO", "ONE"]);
    assert_eq!(oom_score(pid), base + 15);
    // A background child takes the third value.
    c.cmd(&["SET", "k", "v"]);
    // The child lives 10 s (it dies with the server, PR_SET_PDEATHSIG).
    c.cmd(&["CONFIG", "SET", "rdb-key-save-delay", "10000000"]);
    assert_eq!(c.cmd(&["BGSAVE"]), b"+Background saving started\r\n");
    let child = || -> Option<u32> {
        let text = std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children")).ok()?;
        text.split_whitespace().next()?.parse().ok()
    };
    assert!(wait_until(Duration::from_secs(10), || child()
        .and_then(try_oom_score)
        .is_some_and(|score| score == base + 30)));
    c.cmd(&["CONFIG", "SET", "rdb-key-save-delay", "0"]);
    // absolute: the value itself; no: the score we started with.
    c.cmd(&["CONFIG", "SET", "oom-score-adj", "absolute"]);
    assert_eq!(oom_score(pid), 15);
    c.cmd(&["CONFIG", "SET", "oom-score-adj", "no"]);
    assert_eq!(oom_score(pid), base);
    let e = c.cmd(&["CONFIG", "SET", "oom-score-adj-values", "2001 0 0"]);
    assert!(
        e.starts_with(b"-ERR CONFIG SET failed (possibly related to argument 'oom-score-adj-values') - Invalid oom-score-adj-values, elements must be between -2000 and 2000."),
        "{}",
        String::from_utf8_lossy(&e)
    );
}

#[test]
fn config_set_port_and_bind_failures_keep_listening() {
    let s = Server::start(&[]);
    let other = Server::start(&[]);
    let mut c = s.conn();
    let e = c.cmd(&["CONFIG", "SET", "port", &other.port.to_string()]);
    assert_eq!(
        String::from_utf8_lossy(&e),
        "-ERR CONFIG SET failed (possibly related to argument 'port') - Unable to listen on this port. Check server logs.\r\n"
    );
    let e = c.cmd(&["CONFIG", "SET", "bind", "999.999.999.999"]);
    assert_eq!(
        String::from_utf8_lossy(&e),
        "-ERR CONFIG SET failed (possibly related to argument 'bind') - Failed to bind to specified addresses.\r\n"
    );
    assert_eq!(Conn::connect(s.port).cmd(&["PING"]), b"+PONG\r\n");
}

#[test]
fn bind_nothing_but_the_unix_socket() {
    let dir = common::TempDir::new("bind-empty");
    let sock = dir.join("s.sock");
    let sock_s = sock.to_string_lossy().into_owned();
    let s = Server::start(&["--unixsocket", &sock_s]);
    let mut u = Conn::connect_unix(&sock);
    assert_eq!(u.cmd(&["CONFIG", "SET", "bind", ""]), b"+OK\r\n");
    assert!(Conn::try_connect(s.port).is_err(), "TCP still listening");
    assert_eq!(u.cmd(&["CONFIG", "SET", "bind", "127.0.0.1"]), b"+OK\r\n");
    assert_eq!(Conn::connect(s.port).cmd(&["PING"]), b"+PONG\r\n");
}

#[test]
fn bind_source_addr_is_used_to_reach_the_master() {
    let m = Server::start(&["--protected-mode", "no"]);
    let r = Server::start(&["--bind-source-addr", "127.0.0.2"]);
    let mut rc = r.conn();
    rc.cmd(&["REPLICAOF", "127.0.0.1", &m.port.to_string()]);
    assert!(wait_until(Duration::from_secs(20), || info_field(
        &mut m.conn(),
        "replication",
        "slave0"
    )
    .is_some_and(|v| v.contains("state=online"))));
    let slave0 = info_field(&mut m.conn(), "replication", "slave0").unwrap_or_default();
    assert!(slave0.starts_with("ip=127.0.0.2,"), "{slave0}");
}

/// A crash (DEBUG SEGFAULT, DEBUG ASSERT, DEBUG OOM, or SIGABRT from
/// outside) writes Redis's bug report with a stack trace to the log, then
/// the process dies of that signal (integration/logging's checks); the
/// deliberate ones report what failed instead of a signal, as Redis's
/// assertions and panics do (corrupt-dump's checks count both lines).
#[test]
fn crashes_are_reported_in_the_log() {
    use std::os::unix::process::ExitStatusExt;
    let cases = [
        ("SEGFAULT", libc::SIGSEGV, ""),
        ("ASSERT", libc::SIGABRT, "=== ASSERTION FAILED ==="),
        (
            "OOM",
            libc::SIGABRT,
            "Guru Meditation: Redis aborting for OUT OF MEMORY",
        ),
        ("", libc::SIGABRT, ""),
    ];
    for (how, sig, first) in cases {
        let mut s = Server::start(&[]);
        if how.is_empty() {
            s.signal(libc::SIGABRT);
        } else {
            let mut c = s.conn();
            // No reply: the connection drops with the process.
            c.send(&[b"DEBUG", how.as_bytes()]);
        }
        let st = s
            .wait_exit(Duration::from_secs(20))
            .expect("the server did not die");
        assert_eq!(st.signal(), Some(sig), "{how}: {st:?}");
        let log = s.log();
        let signalled = format!("crashed by signal: {sig}");
        let what = if first.is_empty() { &signalled } else { first };
        assert_eq!(log.matches(what).count(), 1, "{how}: {log}");
        assert_eq!(log.contains(&signalled), first.is_empty(), "{how}: {log}");
        assert!(log.contains("------ STACK TRACE ------"), "{how}: {log}");
        assert!(log.contains("=== REDIS BUG REPORT END."), "{how}: {log}");
    }
}

/// watchdog-period: a loop stuck past the period logs Redis's watchdog
/// report with the stack it is stuck in; 0 turns it off; a period under
/// two cron ticks is raised to two, as redis-server does.
#[test]
fn watchdog_reports_a_stuck_loop() {
    let s = Server::start(&["--enable-debug-command", "yes"]);
    let r = RedisServer::start(&[]);
    let mut c = s.conn();
    let mut rc = r.conn();
    for p in ["50", "0", "1000"] {
        let set = ["CONFIG", "SET", "watchdog-period", p];
        let get = ["CONFIG", "GET", "watchdog-period"];
        assert_eq!(c.cmd(&set), rc.cmd(&set), "{p}");
        assert_eq!(c.cmd(&get), rc.cmd(&get), "{p}");
    }
    c.cmd(&["CONFIG", "SET", "watchdog-period", "200"]);
    assert_eq!(c.cmd(&["DEBUG", "SLEEP", "1"]), b"+OK\r\n");
    let log = s.log();
    let at = log.find("--- WATCHDOG TIMER EXPIRED ---").expect(&log);
    let report = &log[at..log[at..].find("--------\n").map_or(log.len(), |e| at + e)];
    // The stack it is stuck in: DEBUG SLEEP's sleep, under the loop's
    // frames (one `binary(+offset)[address]` line each).
    assert!(report.contains("nanosleep"), "{report}");
    assert!(report.matches(")[0x").count() > 5, "{report}");
    // Off: the same stall says nothing.
    c.cmd(&["CONFIG", "SET", "watchdog-period", "0"]);
    assert_eq!(c.cmd(&["DEBUG", "SLEEP", "0.5"]), b"+OK\r\n");
    assert_eq!(s.log().matches("WATCHDOG TIMER EXPIRED").count(), 1);
    assert_eq!(c.cmd(&["PING"]), b"+PONG\r\n");
}

fn cmdline(pid: u32) -> String {
    let raw = std::fs::read(format!("/proc/{pid}/cmdline")).expect("cmdline");
    let end = raw.iter().position(|&b| b == 0).unwrap_or(raw.len());
    String::from_utf8_lossy(&raw[..end]).into_owned()
}

/// The command line shows proc-title-template expanded (ps, pgrep -f and
/// /proc/<pid>/cmdline see "ferrodis-server 127.0.0.1:<port>"); CONFIG SET
/// changes it and refuses a bad template with Redis's reply.
#[test]
fn process_title_follows_the_template() {
    let s = Server::start(&[]);
    let r = RedisServer::start(&[]);
    let title = cmdline(s.pid());
    let (exe, addr) = title.split_once(' ').expect("title with an address");
    assert!(exe.ends_with("ferrodis-server"), "{title}");
    assert!(addr.ends_with(&format!(":{}", s.port)), "{title}");
    let mut c = s.conn();
    let t = "TEST {title} {listen-addr} {port} {tls-port} {unixsocket} {config-file}";
    assert_eq!(
        c.cmd(&["CONFIG", "SET", "proc-title-template", t]),
        b"+OK\r\n"
    );
    let words: Vec<String> = cmdline(s.pid()).split(' ').map(String::from).collect();
    assert_eq!(words[0], "TEST");
    assert!(words[1].ends_with("ferrodis-server"));
    assert_eq!(words[3], s.port.to_string());
    assert_eq!(words[4], "0");
    let bad = ["CONFIG", "SET", "proc-title-template", "{invalid-var}"];
    assert_eq!(c.cmd(&bad), r.conn().cmd(&bad));
    assert!(c.cmd_str(&bad).contains("template format is invalid"));
    // The title is unchanged by the refused template.
    assert_eq!(cmdline(s.pid()).split(' ').next(), Some("TEST"));
}
