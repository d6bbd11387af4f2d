//! Sentinel: ferrodis's own (`ferrodis-server --sentinel`) and the real
//! redis-sentinel, watching ferrodis groups. Short scenarios for `make
//! test` (the long ones are in sentinel_long.rs, `make sentinel-long`):
//! failover of a ferrodis group by three ferrodis Sentinels with writes
//! acknowledged by WAIT kept, SENTINEL FAILOVER and RESET, the config
//! rewrite surviving restarts, authentication, bad input, redis-py's
//! Sentinel client following a failover, and replies byte for byte as
//! redis-sentinel 7.0.

mod common;
mod sentinel_common;

use common::*;
use sentinel_common::*;
use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::time::Duration;

const T: Duration = Duration::from_secs(30);

fn num(s: &Sentinel, field: &str) -> i64 {
    s.master_field("mymaster", field)
        .and_then(|v| v.parse().ok())
        .unwrap_or(-1)
}

/// Three ferrodis Sentinels, a ferrodis master and two replicas: the master
/// is killed with SIGKILL, a replica is promoted, the other follows it,
/// every Sentinel hands out the new address, writes acknowledged by WAIT 1
/// are on the new master, and the old master rejoins as a replica.
#[test]
fn ferrodis_sentinels_fail_over_a_ferrodis_group() {
    let (m, replicas) = group(false, 2, &[]);
    let old = m.port;
    let sentinels = sentinels_watching(3, old, 2, 2);
    let mut c = m.conn();
    let mut acked = Vec::new();
    for i in 0..300 {
        let k = format!("k{i}");
        assert_eq!(c.cmd(&["SET", &k, &i.to_string()]), b"+OK\r\n");
        if i % 10 == 9 && c.cmd_int(&["WAIT", "1", "2000"]) >= 1 {
            acked.push(i);
        }
    }
    assert!(!acked.is_empty(), "no write was acknowledged by a replica");
    drop(c);
    drop(m);
    for s in &sentinels {
        assert!(
            wait_until(T, || s.master_port("mymaster").is_some_and(|p| p != old)),
            "sentinel {} never switched master",
            s.port
        );
    }
    let new = sentinels[0].master_port("mymaster").expect("new master");
    assert!(sentinels
        .iter()
        .all(|s| s.master_port("mymaster") == Some(new)));
    let (promoted, other) = if replicas[0].port == new {
        (&replicas[0], &replicas[1])
    } else {
        (&replicas[1], &replicas[0])
    };
    assert_eq!(promoted.port, new);
    assert!(wait_until(T, || role(promoted) == "master"));
    assert!(
        wait_until(T, || follows(other, new)),
        "the other replica never followed the new master"
    );
    let mut pc = promoted.conn();
    for &i in &acked {
        let last = i;
        // Every write up to an acknowledged WAIT survived the failover.
        for j in (last - 9)..=last {
            let want = j.to_string();
            let r = pc.cmd(&["GET", &format!("k{j}")]);
            assert_eq!(
                r,
                format!("${}\r\n{want}\r\n", want.len()).as_bytes(),
                "k{j} lost"
            );
        }
    }
    // The old master comes back empty, as a master: it is made a replica.
    let back = Server::start(&[
        "--port",
        &old.to_string(),
        "--repl-diskless-sync-delay",
        "0",
    ]);
    assert!(
        wait_until(T, || follows(&back, new)),
        "the old master did not rejoin as a replica"
    );
    let events = sentinels.iter().map(|s| s.log()).collect::<String>();
    for e in [
        "+sdown master",
        "+odown master",
        "+elected-leader",
        "+promoted-slave",
        "+switch-master",
        "+convert-to-slave",
    ] {
        assert!(events.contains(e), "no {e} event logged");
    }
}

/// SENTINEL FAILOVER without agreement, the config file keeping the state
/// across restarts (ID, replicas, epochs, the new master), SENTINEL RESET.
#[test]
fn forced_failover_config_rewrite_and_reset() {
    let (m, replicas) = group(false, 2, &[]);
    // Scripts record their arguments (one line per run).
    let scripts = TempDir::new("scripts");
    let script = |name: &str| {
        let path = scripts.join(name);
        let out = scripts.join(format!("{name}.out"));
        std::fs::write(
            &path,
            format!("#!/bin/sh\necho \"$@\" >> {}\n", out.display()),
        )
        .expect("script");
        std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o755))
            .expect("chmod");
        (path.display().to_string(), out)
    };
    let (notify, notify_out) = script("notify.sh");
    let (reconf, reconf_out) = script("reconf.sh");
    // No failover of its own: only the forced one.
    let body = monitor("mymaster", m.port, 1).replace(" 1000\n", " 60000\n")
        + &format!(
            "sentinel notification-script mymaster {notify}\nsentinel client-reconfig-script mymaster {reconf}\n"
        );
    let mut s = Sentinel::start(false, &body);
    s.fast_periods();
    assert!(wait_until(T, || num(&s, "num-slaves") == 2));
    let myid = s.cmd(&["SENTINEL", "MYID"]);
    let conf = std::fs::read_to_string(s.conf_path()).expect("conf");
    for r in &replicas {
        assert!(
            conf.contains(&format!(
                "sentinel known-replica mymaster 127.0.0.1 {}",
                r.port
            )),
            "{conf}"
        );
    }
    // What it learned survives a restart, before any INFO.
    s.restart();
    assert_eq!(s.cmd(&["SENTINEL", "MYID"]), myid);
    assert_eq!(num(&s, "num-slaves"), 2);
    s.fast_periods();
    assert!(wait_until(T, || num(&s, "info-refresh") >= 0
        && s.master_field("mymaster", "flags").as_deref()
            == Some("master")));
    assert_eq!(s.cmd(&["SENTINEL", "FAILOVER", "mymaster"]), b"+OK\r\n");
    assert_eq!(
        s.cmd(&["SENTINEL", "FAILOVER", "mymaster"]),
        b"-INPROG Failover already in progress\r\n"
    );
    assert!(wait_until(T, || s
        .master_port("mymaster")
        .is_some_and(|p| p != m.port)));
    let new = s.master_port("mymaster").expect("new master");
    assert!(replicas.iter().any(|r| r.port == new));
    assert!(wait_until(T, || num(&s, "config-epoch") == 1));
    // The client-reconfig script ran as the leader, the notification
    // script for the warnings (with the event and its text).
    let want = format!("mymaster leader start 127.0.0.1 {} 127.0.0.1 {new}", m.port);
    assert!(
        wait_until(T, || std::fs::read_to_string(&reconf_out)
            .is_ok_and(|t| t.contains(&want))),
        "client-reconfig-script not run with {want}"
    );
    assert!(wait_until(T, || std::fs::read_to_string(&notify_out)
        .is_ok_and(|t| t.contains("+switch-master mymaster 127.0.0.1")
            && t.contains("+elected-leader master mymaster"))));
    assert!(s.cmd_str_contains(&["INFO", "sentinel"], "sentinel_running_scripts:"));
    // The other replica and the old master (still up) follow the new one.
    for r in replicas.iter().filter(|r| r.port != new).chain([&m]) {
        assert!(
            wait_until(T, || follows(r, new)),
            "{} did not follow",
            r.port
        );
    }
    s.restart();
    assert_eq!(s.master_port("mymaster"), Some(new));
    assert_eq!(num(&s, "config-epoch"), 1);
    let conf = std::fs::read_to_string(s.conf_path()).expect("conf");
    assert!(
        conf.contains(&format!("sentinel monitor mymaster 127.0.0.1 {new} 1")),
        "{conf}"
    );
    assert!(conf.contains("sentinel current-epoch 1"), "{conf}");
    // RESET forgets the replicas; they are found again from INFO.
    s.fast_periods();
    assert!(wait_until(T, || num(&s, "num-slaves") == 2));
    // RESET and the check in one write, answered in one go: asked apart,
    // the timer could find the replicas again in between.
    let mut c = s.conn();
    let mut req = multibulk(&[b"SENTINEL", b"RESET", b"mymas*"]);
    req.extend(multibulk(&[b"SENTINEL", b"MASTER", b"mymaster"]));
    c.send_raw(&req);
    assert_eq!(c.read_reply(), b":1\r\n");
    let after = parse(&c.read_reply());
    let slaves = after
        .array()
        .chunks(2)
        .find(|kv| kv[0].text() == "num-slaves")
        .and_then(|kv| kv[1].text().parse::<i64>().ok());
    assert!(slaves.is_some_and(|n| n < 2), "{after:?}");
    assert!(wait_until(T, || num(&s, "num-slaves") == 2));
    drop(m);
}

/// requirepass on the Sentinels (clients and the other Sentinels must
/// authenticate) and on the watched group (auth-pass).
#[test]
fn auth_on_sentinels_and_on_the_group() {
    let pw = ["--requirepass", "grouppw", "--masterauth", "grouppw"];
    let (m, _replicas) = group(false, 2, &pw);
    let body = format!(
        "requirepass sentinelpw\n{}sentinel auth-pass mymaster grouppw\n",
        monitor("mymaster", m.port, 2)
    );
    let s1 = Sentinel::start(false, &body);
    let s2 = Sentinel::start(false, &body);
    let mut c = s1.conn();
    assert!(c.cmd_str(&["SENTINEL", "MASTERS"]).starts_with("-NOAUTH"));
    assert_eq!(
        c.cmd(&["AUTH", "wrong"]),
        b"-WRONGPASS invalid username-password pair or user is disabled.\r\n"
    );
    assert_eq!(c.cmd(&["AUTH", "sentinelpw"]), b"+OK\r\n");
    let field = |c: &mut Conn, f: &str| -> String {
        let r = c.cmd(&["SENTINEL", "MASTER", "mymaster"]);
        parse(&r)
            .array()
            .chunks(2)
            .find(|kv| kv[0].text() == f)
            .map(|kv| kv[1].text())
            .unwrap_or_default()
    };
    assert!(
        wait_until(T, || field(&mut c, "num-slaves") == "2"
            && field(&mut c, "num-other-sentinels") == "1"
            && field(&mut c, "flags") == "master"),
        "sentinels did not authenticate to the group and to each other"
    );
    let mut c2 = s2.conn();
    assert_eq!(c2.cmd(&["AUTH", "sentinelpw"]), b"+OK\r\n");
    assert!(wait_until(T, || field(&mut c2, "num-other-sentinels") == "1"));
    // Without the group's password the links stay disconnected.
    assert_eq!(
        c.cmd(&["SENTINEL", "SET", "mymaster", "auth-pass", "nope"]),
        b"+OK\r\n"
    );
    assert!(wait_until(T, || field(&mut c, "flags").contains("disconnected")));
    assert_eq!(
        c.cmd(&["SENTINEL", "SET", "mymaster", "auth-pass", "grouppw"]),
        b"+OK\r\n"
    );
    assert!(wait_until(T, || field(&mut c, "flags") == "master"));
    assert!(s1.log().contains("+set master mymaster 127.0.0.1"));
    assert!(
        s1.log().contains("auth-pass ******"),
        "the password was logged"
    );
}

/// A fake instance answering garbage: every reply is nonsense INFO, then
/// bytes that are not RESP.
fn nonsense_server() -> (u16, std::sync::Arc<std::sync::atomic::AtomicBool>) {
    use std::sync::atomic::{AtomicBool, Ordering};
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = l.local_addr().expect("addr").port();
    l.set_nonblocking(true).expect("nonblocking");
    let stop = std::sync::Arc::new(AtomicBool::new(false));
    let st = stop.clone();
    std::thread::spawn(move || {
        let junk: &[&[u8]] = &[
            b"$63\r\nrole:slave\r\nrun_id:short\r\nmaster_port:abc\r\nslave0:ip=,port=-5\r\n\r\n",
            b"+PONG\r\n$-7\r\n",
            b"*3\r\n$7\r\nmessage\r\n:1\r\n$3\r\nxyz\r\n",
            b"\x00\xff garbage \r\n",
        ];
        let mut conns = Vec::new();
        let mut n = 0usize;
        while !st.load(Ordering::Relaxed) {
            if let Ok((s, _)) = l.accept() {
                let _ = s.set_nonblocking(true);
                conns.push(s);
            }
            for s in &mut conns {
                let mut buf = [0u8; 4096];
                if matches!(std::io::Read::read(s, &mut buf), Ok(k) if k > 0) {
                    let _ = s.write_all(junk[n % junk.len()]);
                    n += 1;
                }
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    });
    (port, stop)
}

/// Garbage hello messages, an instance answering nonsense, an address that
/// refuses connections: logged or ignored, the Sentinel keeps serving.
#[test]
fn bad_input_never_crashes_a_sentinel() {
    let (m, _r) = group(false, 1, &[]);
    let (junk_port, stop) = nonsense_server();
    let body = format!(
        "{}{}{}",
        monitor("mymaster", m.port, 1),
        monitor("junk", junk_port, 1),
        monitor("refused", 1, 1)
    );
    let s = Sentinel::start(false, &body);
    // Events reach Pub/Sub subscribers of their channel.
    let mut events = s.conn();
    assert_eq!(
        events.cmd(&["PSUBSCRIBE", "+sdown"]),
        b"*3\r\n$10\r\npsubscribe\r\n$6\r\n+sdown\r\n:1\r\n"
    );
    s.fast_periods();
    assert!(wait_until(T, || num(&s, "num-slaves") == 1));
    let refused = (0..10).any(|_| {
        let msg = parse(&events.read_reply());
        let m = msg.array();
        assert_eq!(
            (m[0].text().as_str(), m[2].text().as_str()),
            ("pmessage", "+sdown")
        );
        m[3].text() == "master refused 127.0.0.1 1"
    });
    assert!(refused, "no +sdown event for the refused master");
    let mut mc = m.conn();
    for hello in [
        "a,b,c",
        "x,y,z,w,mymaster,q,r,s",
        "127.0.0.1,notaport,0123456789012345678901234567890123456789,5,mymaster,127.0.0.1,abc,xyz",
        ",,,,,,,",
        "1,2,3,4,nosuchmaster,6,7,8",
    ] {
        mc.cmd(&["PUBLISH", "__sentinel__:hello", hello]);
    }
    mc.send(&[
        b"PUBLISH",
        b"__sentinel__:hello",
        b"\xff\xfe,\x00,\x80,,mymaster,,,",
    ]);
    mc.read_reply();
    // Hello messages straight to the Sentinel are checked the same way.
    assert_eq!(
        s.cmd(&["PUBLISH", "__sentinel__:hello", "garbage"]),
        b":1\r\n"
    );
    assert_eq!(
        s.cmd(&["PUBLISH", "other", "x"]),
        b"-ERR Only HELLO messages are accepted by Sentinel instances.\r\n"
    );
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(s.cmd(&["PING"]), b"+PONG\r\n");
    assert_eq!(
        s.master_field("mymaster", "flags").as_deref(),
        Some("master")
    );
    assert!(wait_until(T, || s
        .master_field("refused", "flags")
        .is_some_and(|f| f.contains("s_down"))));
    assert!(s.master_field("junk", "flags").is_some());
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    // A bad address in the config is a clean fatal error.
    let dir = TempDir::new("badconf");
    std::fs::write(dir.join("s.conf"), "sentinel monitor m 999.1.1.1 6379 1\n").expect("write");
    let out = Command::new(ferrodis_bin())
        .arg(dir.join("s.conf"))
        .arg("--sentinel")
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("Can't resolve instance hostname."), "{err}");
}

/// A Sentinel stopped for longer than tilt-trigger enters TILT mode (it
/// keeps watching but does not act) and leaves it after tilt-period.
#[test]
fn tilt_after_a_stall() {
    let s = Sentinel::start(false, &monitor("mymaster", free_port(), 1));
    assert_eq!(
        s.cmd(&[
            "SENTINEL",
            "DEBUG",
            "tilt-period",
            "1000",
            "tilt-trigger",
            "500"
        ]),
        b"+OK\r\n"
    );
    let pid = s.pid();
    // SAFETY: signals to the Sentinel process this test started.
    unsafe { libc::kill(pid as libc::pid_t, libc::SIGSTOP) };
    std::thread::sleep(Duration::from_millis(1500));
    unsafe { libc::kill(pid as libc::pid_t, libc::SIGCONT) };
    assert!(wait_until(T, || s
        .log()
        .contains("+tilt #tilt mode entered")));
    assert!(wait_until(T, || s
        .log()
        .contains("-tilt #tilt mode exited")));
    let r = s.cmd(&["INFO", "sentinel"]);
    assert!(String::from_utf8_lossy(&r).contains("sentinel_tilt:0"));
}

/// The program started under the name ferrodis-sentinel is a Sentinel;
/// SIGTERM ends it.
#[test]
fn started_as_ferrodis_sentinel() {
    let dir = TempDir::new("sname");
    let link = dir.join("ferrodis-sentinel");
    std::os::unix::fs::symlink(ferrodis_bin(), &link).expect("symlink");
    let port = free_port();
    std::fs::write(dir.join("s.conf"), format!("port {port}\nbind 127.0.0.1\n")).expect("write");
    let mut child = Command::new(&link)
        .arg(dir.join("s.conf"))
        .current_dir(&dir.path)
        .stdout(Stdio::null())
        .spawn()
        .expect("spawn");
    let ok = wait_for_ping(port, Duration::from_secs(10));
    let info = ok.then(|| info_field(&mut Conn::connect(port), "server", "redis_mode"));
    let role = ok.then(|| Conn::connect(port).cmd(&["ROLE"]));
    // SIGTERM ends a Sentinel as it ends a server (it was ignored: the
    // signal is acted upon in cron, which returned early in this mode).
    // SAFETY: signalling our own child.
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    let mut status = None;
    wait_until(Duration::from_secs(10), || {
        status = child.try_wait().ok().flatten();
        status.is_some()
    });
    if status.is_none() {
        let _ = child.kill();
        let _ = child.wait();
    }
    assert!(status.is_some_and(|s| s.success()), "SIGTERM: {status:?}");
    assert_eq!(info, Some(Some("sentinel".into())));
    assert_eq!(
        role.as_deref(),
        Some(&b"*2\r\n$8\r\nsentinel\r\n*0\r\n"[..])
    );
    let conf = std::fs::read_to_string(dir.join("s.conf")).expect("conf");
    assert!(conf.contains("sentinel myid "), "no ID saved: {conf}");
}

/// redis-py's Sentinel client finds the master through ferrodis Sentinels
/// and follows a failover.
#[test]
fn redis_py_sentinel_client_follows_a_failover() {
    let py = require_tool("python3");
    let check = Command::new(&py)
        .args(["-c", "import redis.sentinel"])
        .status()
        .expect("python3");
    assert!(
        check.success(),
        "redis-py is missing: run make deps (pip install redis)"
    );
    let (m, replicas) = group(false, 2, &[]);
    let old = m.port;
    let sentinels = sentinels_watching(2, old, 1, 2);
    let script = format!(
        r#"
import sys, time
from redis.sentinel import Sentinel
s = Sentinel([('127.0.0.1', {}), ('127.0.0.1', {})], socket_timeout=1)
print("master", s.discover_master('mymaster')[1], flush=True)
m = s.master_for('mymaster', socket_timeout=1)
m.set('py', 'before')
print("ready", flush=True)
sys.stdin.readline()
deadline = time.time() + 30
while time.time() < deadline:
    try:
        m.set('py', 'after')
        break
    except Exception:
        time.sleep(0.2)
print("master", s.discover_master('mymaster')[1], flush=True)
print("value", m.get('py').decode(), flush=True)
"#,
        sentinels[0].port, sentinels[1].port
    );
    let mut child = Command::new(&py)
        .args(["-c", &script])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("python3");
    let mut out = BufReader::new(child.stdout.take().expect("stdout"));
    let mut line = String::new();
    let mut next = |out: &mut BufReader<_>| {
        line.clear();
        out.read_line(&mut line).expect("read");
        line.trim().to_string()
    };
    assert_eq!(next(&mut out), format!("master {old}"));
    assert_eq!(next(&mut out), "ready");
    drop(m);
    let mut stdin = child.stdin.take().expect("stdin");
    stdin.write_all(b"go\n").expect("write");
    let moved = next(&mut out);
    let value = next(&mut out);
    let _ = child.wait();
    let new: u16 = moved.trim_start_matches("master ").parse().unwrap_or(0);
    assert!(
        replicas.iter().any(|r| r.port == new),
        "redis-py saw {moved}"
    );
    assert_eq!(value, "value after");
}

/// The real redis-sentinel watching a ferrodis group fails it over.
#[test]
fn real_sentinel_fails_over_a_ferrodis_group() {
    let (m, replicas) = group(false, 2, &[]);
    let old = m.port;
    let s = Sentinel::start(true, &monitor("mymaster", old, 1));
    s.fast_periods();
    assert!(
        wait_until(T, || num(&s, "num-slaves") == 2),
        "no replicas seen"
    );
    drop(m);
    assert!(wait_until(T, || s
        .master_port("mymaster")
        .is_some_and(|p| p != old)));
    let new = s.master_port("mymaster").expect("new master");
    let (promoted, other) = if replicas[0].port == new {
        (&replicas[0], &replicas[1])
    } else {
        (&replicas[1], &replicas[0])
    };
    assert!(wait_until(T, || role(promoted) == "master"));
    assert!(wait_until(T, || follows(other, new)));
}

/// The same requests to redis-sentinel 7.0 and to a ferrodis Sentinel
/// with the same configuration get the same bytes back (RESP2 and RESP3).
#[test]
fn replies_match_redis_sentinel() {
    let down = free_port();
    let spare = free_port();
    let body = format!(
        "sentinel myid 0123456789abcdef0123456789abcdef01234567\n\
         sentinel monitor m 127.0.0.1 {down} 2\n\
         sentinel down-after-milliseconds m 60000\n"
    );
    let real = Sentinel::start(true, &body);
    let ours = Sentinel::start(false, &body);
    let d = down.to_string();
    let sp = spare.to_string();
    let script: Vec<Vec<&str>> = vec![
        vec!["SENTINEL", "HELP"],
        vec!["SENTINEL", "FOO"],
        vec!["SENTINEL"],
        vec!["SENTINEL", "MASTERS", "x"],
        vec!["SENTINEL", "MASTER", "nosuch"],
        vec!["SENTINEL", "REPLICAS", "nosuch"],
        vec!["SENTINEL", "SLAVES", "m"],
        vec!["SENTINEL", "SENTINELS", "m"],
        vec!["SENTINEL", "MYID"],
        vec!["SENTINEL", "GET-MASTER-ADDR-BY-NAME", "m"],
        vec!["SENTINEL", "GET-MASTER-ADDR-BY-NAME", "nosuch"],
        vec!["SENTINEL", "CKQUORUM", "m"],
        vec!["SENTINEL", "CKQUORUM", "nosuch"],
        vec![
            "SENTINEL",
            "IS-MASTER-DOWN-BY-ADDR",
            "127.0.0.1",
            &d,
            "0",
            "*",
        ],
        vec![
            "SENTINEL",
            "IS-MASTER-DOWN-BY-ADDR",
            "127.0.0.1",
            "x",
            "0",
            "*",
        ],
        vec![
            "SENTINEL",
            "IS-MASTER-DOWN-BY-ADDR",
            "10.9.9.9",
            "1",
            "0",
            "*",
        ],
        vec!["SENTINEL", "FAILOVER", "m"],
        vec!["SENTINEL", "FAILOVER", "nosuch"],
        vec!["SENTINEL", "SET", "m", "quorum", "0"],
        vec!["SENTINEL", "SET", "m", "down-after-milliseconds", "abc"],
        vec!["SENTINEL", "SET", "m", "fakeoption", "fakevalue"],
        vec!["SENTINEL", "SET", "m", "fakeoption"],
        vec!["SENTINEL", "SET", "m", "notification-script", "/bin/true"],
        vec!["SENTINEL", "SET", "nosuch", "quorum", "1"],
        vec!["SENTINEL", "SET", "m", "rename-command", "PING", ""],
        vec![
            "SENTINEL",
            "SET",
            "m",
            "master-reboot-down-after-period",
            "-1",
        ],
        vec!["SENTINEL", "CONFIG", "GET", "*"],
        vec!["SENTINEL", "CONFIG", "GET", "announce*"],
        vec!["SENTINEL", "CONFIG", "SET", "foo", "bar"],
        vec!["SENTINEL", "CONFIG", "SET", "announce-port", "x"],
        vec!["SENTINEL", "CONFIG", "SET", "resolve-hostnames", "maybe"],
        vec!["SENTINEL", "CONFIG", "GET"],
        vec!["SENTINEL", "CONFIG", "X"],
        vec!["SENTINEL", "DEBUG"],
        vec!["SENTINEL", "DEBUG", "foo", "1"],
        vec!["SENTINEL", "DEBUG", "info-period", "-1"],
        vec!["SENTINEL", "DEBUG", "info-period"],
        vec!["SENTINEL", "SIMULATE-FAILURE", "help"],
        vec!["SENTINEL", "SIMULATE-FAILURE", "foo"],
        vec!["SENTINEL", "PENDING-SCRIPTS"],
        vec!["SENTINEL", "MONITOR", "m", "127.0.0.1", "1", "1"],
        vec!["SENTINEL", "MONITOR", "x", "foo.bar", "1", "1"],
        vec!["SENTINEL", "MONITOR", "x", "127.0.0.1", "abc", "1"],
        vec!["SENTINEL", "MONITOR", "x", "127.0.0.1", "70000", "1"],
        vec!["SENTINEL", "MONITOR", "x", "127.0.0.1", "1", "0"],
        vec!["SENTINEL", "MONITOR", "x", "127.0.0.1", "1", "abc"],
        vec!["SENTINEL", "MONITOR", "x", "127.0.0.1", &sp, "1"],
        vec!["SENTINEL", "REMOVE", "x"],
        vec!["SENTINEL", "REMOVE", "nosuch"],
        vec!["SENTINEL", "RESET", "nosuch"],
        vec!["SENTINEL", "INFO-CACHE", "nosuch"],
        vec!["SENTINEL", "FLUSHCONFIG"],
        vec!["ROLE"],
        vec!["PUBLISH", "foo", "bar"],
        vec!["GET", "x"],
        vec!["PING"],
        vec!["PING", "hi"],
        vec!["INFO", "memory"],
        vec!["SUBSCRIBE", "+sdown"],
        vec!["PING"],
        vec!["SENTINEL", "MYID"],
        vec!["UNSUBSCRIBE"],
    ];
    for proto in ["2", "3"] {
        let mut a = real.conn();
        let mut b = ours.conn();
        a.cmd(&["HELLO", proto]);
        b.cmd(&["HELLO", proto]);
        for req in &script {
            let ra = a.cmd(req);
            let rb = b.cmd(req);
            assert_eq!(
                escape(&rb),
                escape(&ra),
                "RESP{proto} {req:?}: ferrodis differs from redis-sentinel"
            );
        }
    }
}

/// A master that restarts within master-reboot-down-after-period, slowly
/// loading its data set (and answering -LOADING meanwhile), is recognised
/// by its new run ID and failed over, as with redis-server.
#[test]
fn rebooting_master_is_recognised() {
    let data = TempDir::new("reboot");
    let dir = data.path.display().to_string();
    let m = Server::start(&["--dir", &dir, "--repl-diskless-sync-delay", "0"]);
    let port = m.port.to_string();
    assert_eq!(m.conn().cmd(&["DEBUG", "POPULATE", "3000"]), b"+OK\r\n");
    assert_eq!(m.conn().cmd(&["SAVE"]), b"+OK\r\n");
    let r = Server::start(&[
        "--replicaof",
        "127.0.0.1",
        &port,
        "--repl-diskless-sync-delay",
        "0",
    ]);
    assert!(wait_until(T, || follows(&r, m.port)));
    // Only the reboot can make it down: down-after is long.
    let body = monitor("mymaster", m.port, 1).replace(" 1000\n", " 60000\n")
        + "sentinel master-reboot-down-after-period mymaster 1000\n";
    let s = Sentinel::start(false, &body);
    s.fast_periods();
    assert!(wait_until(T, || num(&s, "num-slaves") == 1
        && num(&s, "info-refresh") >= 0));
    let first_id = s.master_field("mymaster", "runid").unwrap_or_default();
    assert_eq!(first_id.len(), 40);
    let mport = m.port;
    drop(m);
    let back = std::process::Command::new(ferrodis_bin())
        .args([
            "--port",
            &port,
            "--dir",
            &dir,
            "--bind",
            "127.0.0.1",
            "--enable-debug-command",
            "yes",
        ])
        .args([
            // 3000 keys at 5 ms each: -LOADING for 15 s, time enough for
            // the failover to start even on a slow machine (or after TILT).
            "--key-load-delay",
            "5000",
            "--loading-process-events-interval-bytes",
            "1024",
        ])
        .args(["--logfile", &format!("{dir}/back.log")])
        .spawn()
        .expect("restart the master");
    struct Kill(std::process::Child);
    impl Drop for Kill {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let _back = Kill(back);
    // While it loads it answers -LOADING, and INFO with a new run ID.
    assert!(wait_until(T, || Conn::try_connect(mport)
        .and_then(|mut c| c.try_cmd(&["PING"]))
        .is_ok_and(|r| r.starts_with(b"-LOADING"))));
    assert!(wait_until(T, || s
        .log()
        .contains("+reboot master mymaster")));
    assert!(
        wait_until(T, || s.master_port("mymaster") == Some(r.port)),
        "no failover after the reboot"
    );
    assert_ne!(
        s.master_field("mymaster", "runid").unwrap_or_default(),
        first_id
    );
}

/// A notification script that asks to be retried (exit 1) runs again after
/// script-retry-delay; one that outlives script-max-runtime is killed;
/// SENTINEL PENDING-SCRIPTS and INFO show the queue.
#[test]
fn scripts_are_retried_and_timed_out() {
    let dir = TempDir::new("scripts2");
    let runs = dir.join("runs");
    let retry = dir.join("retry.sh");
    let slow = dir.join("slow.sh");
    std::fs::write(
        &retry,
        format!("#!/bin/sh\necho \"$1\" >> {}\nexit 1\n", runs.display()),
    )
    .expect("write");
    std::fs::write(&slow, "#!/bin/sh\nsleep 30\n").expect("write");
    for p in [&retry, &slow] {
        std::fs::set_permissions(p, std::os::unix::fs::PermissionsExt::from_mode(0o755))
            .expect("chmod");
    }
    let body = format!(
        "{}sentinel notification-script a {}\n{}sentinel notification-script b {}\n",
        monitor("a", 1, 1),
        retry.display(),
        monitor("b", 2, 1),
        slow.display()
    );
    let s = Sentinel::start(false, &body);
    assert_eq!(
        s.cmd(&[
            "SENTINEL",
            "DEBUG",
            "script-retry-delay",
            "200",
            "script-max-runtime",
            "500"
        ]),
        b"+OK\r\n"
    );
    // +sdown of the unreachable masters runs the scripts.
    assert!(
        wait_until(T, || std::fs::read_to_string(&runs).is_ok_and(|t| t
            .lines()
            .filter(|l| *l == "+sdown")
            .count()
            >= 2)),
        "the script asking for a retry did not run again"
    );
    assert!(
        wait_until(T, || s.log().contains("-script-timeout")),
        "the slow script was not killed"
    );
    let pending = String::from_utf8_lossy(&s.cmd(&["SENTINEL", "PENDING-SCRIPTS"])).into_owned();
    assert!(pending.contains("retry-num"), "{pending}");
    assert!(s.cmd_str_contains(&["INFO", "sentinel"], "sentinel_scripts_queue_length:"));
}

/// `sentinel auth-user` with the real redis-sentinel and with a ferrodis
/// Sentinel: every node of the ferrodis group has only ACL users (the
/// default user is off), the Sentinel connects as a user with the
/// permissions Redis documents for it, and the replicas replicate as a
/// user limited to replication (masteruser/masterauth). After the failover
/// no command of the Sentinel's user was refused (empty ACL LOG).
#[test]
fn sentinel_with_acl_users() {
    for real in [true, false] {
        sentinel_with_acl_users_run(real);
    }
}

fn sentinel_with_acl_users_run(real: bool) {
    let dir = TempDir::new("sentinel-acl");
    let conf = dir.join("node.conf");
    std::fs::write(
        &conf,
        "user default off\n\
         user admin on >adminpw ~* &* +@all\n\
         user repl on >replpw +psync +replconf +ping\n\
         user sentinel-user on >sentpw allchannels +multi +slaveof +ping +exec +subscribe +config|rewrite +role +publish +info +client|setname +client|kill +script|kill\n\
         masteruser repl\n\
         masterauth replpw\n",
    )
    .expect("write node.conf");
    let c = conf.to_str().expect("utf-8 path");
    let m = Server::start(&[c, "--repl-diskless-sync-delay", "0"]);
    let mp = m.port.to_string();
    let replicas: Vec<Server> = (0..2)
        .map(|_| Server::start(&[c, "--replicaof", "127.0.0.1", &mp]))
        .collect();
    let admin = |port: u16| -> Option<Conn> {
        let mut conn = Conn::try_connect(port).ok()?;
        (conn.try_cmd(&["AUTH", "admin", "adminpw"]).ok()? == b"+OK\r\n").then_some(conn)
    };
    let field = |port: u16, f: &str| -> String {
        admin(port)
            .and_then(|mut c| c.try_cmd(&["INFO", "replication"]).ok())
            .map(|r| String::from_utf8_lossy(bulk_body(&r).unwrap_or_default()).into_owned())
            .and_then(|b| {
                b.lines()
                    .find_map(|l| l.strip_prefix(&format!("{f}:")).map(str::to_string))
            })
            .unwrap_or_default()
    };
    assert!(m.conn().cmd_str(&["PING"]).starts_with("-NOAUTH"));
    let mut mc = admin(m.port).expect("admin");
    assert_eq!(mc.cmd(&["SET", "before", "failover"]), b"+OK\r\n");
    for r in &replicas {
        assert!(
            wait_until(T, || field(r.port, "master_link_status") == "up"),
            "replica {} never synced as the repl user",
            r.port
        );
    }
    let s = Sentinel::start(
        real,
        &format!(
            "{}sentinel auth-user mymaster sentinel-user\nsentinel auth-pass mymaster sentpw\n",
            monitor("mymaster", m.port, 1)
        ),
    );
    s.fast_periods();
    assert!(
        wait_until(T, || num(&s, "num-slaves") == 2),
        "no replicas seen"
    );
    let old = m.port;
    drop(mc);
    drop(m);
    assert!(
        wait_until(T, || s.master_port("mymaster").is_some_and(|p| p != old)),
        "no failover happened"
    );
    let new = s.master_port("mymaster").expect("new master");
    let (promoted, other) = if replicas[0].port == new {
        (&replicas[0], &replicas[1])
    } else {
        (&replicas[1], &replicas[0])
    };
    assert!(wait_until(T, || field(promoted.port, "role") == "master"));
    assert!(
        wait_until(T, || field(other.port, "master_port") == new.to_string()
            && field(other.port, "master_link_status") == "up"),
        "the other replica never followed the new master as the repl user"
    );
    assert!(wait_until(T, || admin(new).is_some_and(|mut c| c
        .try_cmd(&["SET", "after", "failover"])
        .is_ok_and(|r| r == b"+OK\r\n"))));
    assert!(wait_until(T, || admin(other.port).is_some_and(|mut c| c
        .try_cmd(&["GET", "after"])
        .is_ok_and(|r| r == b"$8\r\nfailover\r\n"))));
    for n in [promoted, other] {
        let log = admin(n.port).expect("admin").cmd_str(&["ACL", "LOG"]);
        assert!(!log.contains("sentinel-user"), "{log}");
    }
}
