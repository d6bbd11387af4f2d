//! High availability with the real Redis Sentinel (`redis-server --sentinel`)
//! watching a ferrodis master and two ferrodis replicas: when the master
//! dies, Sentinel promotes a replica (REPLICAOF NO ONE inside MULTI, CONFIG
//! REWRITE, CLIENT KILL) and points the other replica at it.

mod common;

use common::*;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// A Sentinel process, killed on drop (log printed if the test failed).
struct Sentinel {
    port: u16,
    child: Child,
    dir: TempDir,
}

impl Sentinel {
    fn start(master_port: u16) -> Sentinel {
        Sentinel::start_with(master_port, "")
    }

    /// With extra `sentinel` lines (auth-user, auth-pass...).
    fn start_with(master_port: u16, extra: &str) -> Sentinel {
        let bin = require_tool("redis-server");
        let dir = TempDir::new("sentinel");
        let port = free_port();
        let conf = dir.join("sentinel.conf");
        std::fs::write(
            &conf,
            format!(
                "port {port}\nbind 127.0.0.1\ndir {}\nlogfile {}\n\
                 sentinel monitor mymaster 127.0.0.1 {master_port} 1\n\
                 sentinel down-after-milliseconds mymaster 1000\n\
                 sentinel failover-timeout mymaster 10000\n\
                 sentinel parallel-syncs mymaster 2\n{extra}",
                dir.path.display(),
                dir.join("sentinel.log").display()
            ),
        )
        .expect("write sentinel.conf");
        let child = Command::new(bin)
            .arg(&conf)
            .arg("--sentinel")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start sentinel");
        let s = Sentinel { port, child, dir };
        assert!(
            wait_until(Duration::from_secs(10), || Conn::try_connect(port).is_ok()),
            "sentinel did not start"
        );
        s
    }

    fn master_port(&self) -> Option<u16> {
        let mut c = Conn::connect(self.port);
        let r = c.cmd(&["SENTINEL", "GET-MASTER-ADDR-BY-NAME", "mymaster"]);
        let text = String::from_utf8_lossy(&r).into_owned();
        text.lines().rev().find_map(|l| l.parse::<u16>().ok())
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("sentinel.log")).unwrap_or_default()
    }
}

impl Drop for Sentinel {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::thread::panicking() {
            eprintln!("---- sentinel log ----\n{}", self.log());
        }
    }
}

#[test]
fn sentinel_fails_over_a_ferrodis_group() {
    let m = Server::start(&["--repl-diskless-sync-delay", "0"]);
    let mp = m.port.to_string();
    let r1 = Server::start(&[
        "--replicaof",
        "127.0.0.1",
        &mp,
        "--repl-diskless-sync-delay",
        "0",
    ]);
    let r2 = Server::start(&["--replicaof", "127.0.0.1", &mp]);
    m.conn().cmd(&["SET", "before", "failover"]);
    for r in [&r1, &r2] {
        let mut c = r.conn();
        assert!(wait_until(Duration::from_secs(20), || info_field(
            &mut c,
            "replication",
            "master_link_status"
        )
        .as_deref()
            == Some("up")));
    }
    let sentinel = Sentinel::start(m.port);
    let (_, other) = fail_over(m, &r1, &r2, &sentinel, &|s| s.conn());
    assert_eq!(other.conn().cmd(&["GET", "before"]), b"$8\r\nfailover\r\n");
}

/// Kills the master once Sentinel knows both replicas, and checks that a
/// replica is promoted, the other follows it, and writes flow again.
/// `conn` opens an (authenticated) connection. Returns (new master, other).
fn fail_over<'a>(
    m: Server,
    r1: &'a Server,
    r2: &'a Server,
    sentinel: &Sentinel,
    conn: &dyn Fn(&Server) -> Conn,
) -> (&'a Server, &'a Server) {
    // Sentinel discovers the replicas through INFO replication.
    assert!(
        wait_until(Duration::from_secs(20), || {
            let r = Conn::connect(sentinel.port).cmd(&["SENTINEL", "REPLICAS", "mymaster"]);
            let t = String::from_utf8_lossy(&r).into_owned();
            t.contains(&r1.port.to_string()) && t.contains(&r2.port.to_string())
        }),
        "sentinel never saw both replicas"
    );
    let old = m.port;
    drop(m);
    assert!(
        wait_until(Duration::from_secs(30), || sentinel
            .master_port()
            .is_some_and(|p| p != old)),
        "no failover happened"
    );
    let new_port = sentinel.master_port().expect("new master");
    let (new_master, other) = if new_port == r1.port {
        (r1, r2)
    } else {
        (r2, r1)
    };
    assert_eq!(new_port, new_master.port);
    let role = |s: &Server| info_field(&mut conn(s), "replication", "role").unwrap_or_default();
    assert!(wait_until(Duration::from_secs(10), || role(new_master) == "master"));
    // The other replica is reconfigured to follow the new master. Sentinel
    // ends each reconfiguration with CLIENT KILL TYPE normal, so every poll
    // uses a fresh connection.
    assert!(
        wait_until(Duration::from_secs(30), || {
            let mut oc = conn(other);
            info_field(&mut oc, "replication", "master_port").as_deref()
                == Some(new_port.to_string().as_str())
                && info_field(&mut oc, "replication", "master_link_status").as_deref() == Some("up")
        }),
        "the other replica never followed the new master"
    );
    assert!(wait_until(Duration::from_secs(10), || conn(new_master)
        .try_cmd(&["SET", "after", "failover"])
        .is_ok_and(|r| r == b"+OK\r\n")));
    assert!(wait_until(Duration::from_secs(10), || conn(other)
        .try_cmd(&["GET", "after"])
        .is_ok_and(|r| r == b"$8\r\nfailover\r\n")));
    (new_master, other)
}

/// The real Sentinel with `sentinel auth-user`: every node has only ACL
/// users (the default user is off), Sentinel connects as a user with the
/// permissions Redis documents for it, and replicas replicate as a user
/// limited to replication.
#[test]
fn sentinel_with_acl_users() {
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
    let r1 = Server::start(&[c, "--replicaof", "127.0.0.1", &mp]);
    let r2 = Server::start(&[c, "--replicaof", "127.0.0.1", &mp]);
    let admin = |s: &Server| {
        let mut conn = s.conn();
        assert_eq!(conn.cmd(&["AUTH", "admin", "adminpw"]), b"+OK\r\n");
        conn
    };
    assert!(admin(&m).cmd_str(&["PING"]).starts_with("+PONG"));
    assert!(m.conn().cmd_str(&["PING"]).starts_with("-NOAUTH"));
    admin(&m).cmd(&["SET", "before", "failover"]);
    for r in [&r1, &r2] {
        let mut rc = admin(r);
        assert!(wait_until(Duration::from_secs(20), || info_field(
            &mut rc,
            "replication",
            "master_link_status"
        )
        .as_deref()
            == Some("up")));
    }
    let sentinel = Sentinel::start_with(
        m.port,
        "sentinel auth-user mymaster sentinel-user\nsentinel auth-pass mymaster sentpw\n",
    );
    let (new_master, _) = fail_over(m, &r1, &r2, &sentinel, &admin);
    // Sentinel's user did only what it may: no NOPERM in the ACL log.
    let log = admin(new_master).cmd_str(&["ACL", "LOG"]);
    assert!(!log.contains("sentinel-user"), "{log}");
}
