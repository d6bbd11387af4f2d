//! Sentinel processes for the Sentinel tests: ferrodis (`ferrodis-server
//! <conf> --sentinel`) or the real one (`redis-server <conf> --sentinel`),
//! each with its own config file in a temp dir, killed on drop (log printed
//! if the test failed), restartable on the same port and config.
#![allow(dead_code)]

use crate::common::*;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

pub struct Sentinel {
    pub port: u16,
    pub real: bool,
    pub dir: TempDir,
    child: Option<Child>,
}

impl Sentinel {
    /// Starts a Sentinel whose config is `body` (sentinel directives) after
    /// port, bind, dir and logfile lines.
    pub fn start(real: bool, body: &str) -> Sentinel {
        let dir = TempDir::new(if real { "rsentinel" } else { "fsentinel" });
        let port = free_port();
        let conf = format!(
            "port {port}\nbind 127.0.0.1\ndir {}\nlogfile {}\n{body}\n",
            dir.path.display(),
            dir.join("sentinel.log").display()
        );
        std::fs::write(dir.join("sentinel.conf"), conf).expect("write sentinel.conf");
        let mut s = Sentinel {
            port,
            real,
            dir,
            child: None,
        };
        s.spawn();
        s
    }

    pub fn conf_path(&self) -> PathBuf {
        self.dir.join("sentinel.conf")
    }

    fn spawn(&mut self) {
        let bin = if self.real {
            require_tool("redis-server")
        } else {
            PathBuf::from(ferrodis_bin())
        };
        let child = Command::new(bin)
            .arg(self.conf_path())
            .arg("--sentinel")
            .current_dir(&self.dir.path)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start sentinel");
        self.child = Some(child);
        assert!(
            wait_for_ping(self.port, Duration::from_secs(15)),
            "sentinel on port {} did not start:\n{}",
            self.port,
            self.log()
        );
    }

    /// Kills the process (SIGKILL) and starts it again with its config.
    pub fn restart(&mut self) {
        self.kill();
        self.spawn();
    }

    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    pub fn conn(&self) -> Conn {
        Conn::connect(self.port)
    }

    pub fn cmd(&self, args: &[&str]) -> Vec<u8> {
        self.conn().cmd(args)
    }

    pub fn pid(&self) -> u32 {
        self.child.as_ref().map_or(0, |c| c.id())
    }

    /// Whether the reply to `args` contains `text`.
    pub fn cmd_str_contains(&self, args: &[&str], text: &str) -> bool {
        String::from_utf8_lossy(&self.cmd(args)).contains(text)
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("sentinel.log")).unwrap_or_default()
    }

    /// SENTINEL GET-MASTER-ADDR-BY-NAME's port.
    pub fn master_port(&self, name: &str) -> Option<u16> {
        let r = Conn::try_connect(self.port)
            .and_then(|mut c| c.try_cmd(&["SENTINEL", "GET-MASTER-ADDR-BY-NAME", name]))
            .ok()?;
        match parse(&r) {
            Value::Array(a) if a.len() == 2 => a[1].text().parse().ok(),
            _ => None,
        }
    }

    /// One field of SENTINEL MASTER <name>.
    pub fn master_field(&self, name: &str, field: &str) -> Option<String> {
        let r = Conn::try_connect(self.port)
            .and_then(|mut c| c.try_cmd(&["SENTINEL", "MASTER", name]))
            .ok()?;
        let Value::Array(a) = parse(&r) else {
            return None;
        };
        a.chunks(2)
            .find(|kv| kv[0].text() == field)
            .map(|kv| kv[1].text())
    }

    /// The instances of SENTINEL REPLICAS|SENTINELS <name>, as field maps.
    pub fn instances(&self, what: &str, name: &str) -> Vec<Vec<(String, String)>> {
        let r = self.cmd(&["SENTINEL", what, name]);
        let Value::Array(list) = parse(&r) else {
            return Vec::new();
        };
        list.iter()
            .map(|i| {
                i.array()
                    .chunks(2)
                    .map(|kv| (kv[0].text(), kv[1].text()))
                    .collect()
            })
            .collect()
    }

    /// Speeds up the periodic work and shortens TILT (as the Sentinel
    /// suite does).
    pub fn fast_periods(&self) {
        let r = self.cmd(&[
            "SENTINEL",
            "DEBUG",
            "info-period",
            "500",
            "publish-period",
            "300",
            "ask-period",
            "200",
            // A stall of the loaded test machine may trigger TILT: keep it short.
            "tilt-period",
            "3000",
        ]);
        assert_eq!(r, b"+OK\r\n");
    }
}

impl Drop for Sentinel {
    fn drop(&mut self) {
        self.kill();
        if std::thread::panicking() {
            eprintln!(
                "---- {} sentinel log (port {}) ----\n{}",
                if self.real { "redis" } else { "ferrodis" },
                self.port,
                self.log()
            );
        }
    }
}

/// `role` of INFO replication (a fresh connection: Sentinel's CLIENT KILL
/// may close any of ours).
pub fn role(s: &Server) -> String {
    try_info_field(s.port, "replication", "role").unwrap_or_default()
}

/// A replica following `master_port` with its link up.
pub fn follows(s: &Server, master_port: u16) -> bool {
    follows_auth(s, master_port, None)
}

/// `follows` for a server with requirepass; a closed connection reads as
/// "not yet".
pub fn follows_auth(s: &Server, master_port: u16, pass: Option<&str>) -> bool {
    let Ok(mut c) = Conn::try_connect(s.port) else {
        return false;
    };
    if let Some(p) = pass {
        if c.try_cmd(&["AUTH", p]).is_err() {
            return false;
        }
    }
    let Ok(r) = c.try_cmd(&["INFO", "replication"]) else {
        return false;
    };
    let body = String::from_utf8_lossy(bulk_body(&r).unwrap_or_default()).into_owned();
    body.contains(&format!("master_port:{master_port}\r\n"))
        && body.contains("master_link_status:up\r\n")
}

/// A master and `n` replicas of it, all synced.
pub fn group(real: bool, n: usize, extra: &[&str]) -> (Server, Vec<Server>) {
    let start = |args: &[&str]| {
        let mut a = vec!["--repl-diskless-sync-delay", "0"];
        a.extend_from_slice(extra);
        a.extend_from_slice(args);
        if real {
            RedisServer::start(&a)
        } else {
            Server::start(&a)
        }
    };
    let pass = extra
        .iter()
        .position(|a| *a == "--requirepass")
        .and_then(|i| extra.get(i + 1))
        .copied();
    let m = start(&[]);
    let mp = m.port.to_string();
    let replicas: Vec<Server> = (0..n)
        .map(|_| start(&["--replicaof", "127.0.0.1", &mp]))
        .collect();
    for r in &replicas {
        assert!(
            wait_until(Duration::from_secs(20), || follows_auth(r, m.port, pass)),
            "replica {} never synced",
            r.port
        );
    }
    (m, replicas)
}

/// Sentinel config lines watching `name` at `port` with a short
/// down-after and failover timeout.
pub fn monitor(name: &str, port: u16, quorum: u32) -> String {
    format!(
        "sentinel monitor {name} 127.0.0.1 {port} {quorum}\n\
         sentinel down-after-milliseconds {name} 1000\n\
         sentinel failover-timeout {name} 10000\n"
    )
}

/// `n` ferrodis Sentinels watching "mymaster" at `port` with fast periods,
/// once each has seen the `replicas` and the other Sentinels.
pub fn sentinels_watching(n: usize, port: u16, quorum: u32, replicas: usize) -> Vec<Sentinel> {
    let sentinels: Vec<Sentinel> = (0..n)
        .map(|_| Sentinel::start(false, &monitor("mymaster", port, quorum)))
        .collect();
    let others = (n - 1).to_string();
    let replicas = replicas.to_string();
    for s in &sentinels {
        s.fast_periods();
        assert!(
            wait_until(Duration::from_secs(30), || {
                s.master_field("mymaster", "num-slaves").as_deref() == Some(replicas.as_str())
                    && s.master_field("mymaster", "num-other-sentinels").as_deref()
                        == Some(others.as_str())
            }),
            "sentinel {} did not discover the group",
            s.port
        );
    }
    sentinels
}
