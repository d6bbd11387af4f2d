//! A Jepsen-style fault suite for replication (issue 13, item 7), loopback
//! only and bounded in time. Writers record which writes were acknowledged
//! and which were acknowledged by `WAIT 1`; meanwhile a scheduler kills the
//! master with SIGKILL and promotes the most advanced replica (as Sentinel
//! would: REPLICAOF NO ONE, the others follow it), cuts and restores the
//! replicas' links through proxies, restarts replicas, and injects the
//! DEBUG REPL-* faults on ferrodis nodes. At the end: no WAIT-acknowledged
//! write is missing on the last master, every node's DEBUG DIGEST equals
//! the master's, and DEBUG DIGEST-AT-OFFSET taken along the way never found
//! a replica that silently diverged after a partial resync.
//!
//! Short form (part of `make test`): a few rounds per topology. Long form:
//! `make fault-suite` (FAULT_ROUNDS=<n>, default 40 per topology).

mod common;

use common::repl::*;
use common::*;
use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU16, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

// ---- a TCP proxy whose links can be cut ----

struct Proxy {
    port: u16,
    target: Arc<AtomicU16>,
    down: Arc<AtomicBool>,
    live: Arc<Mutex<Vec<TcpStream>>>,
}

impl Proxy {
    fn new(target: u16) -> Proxy {
        let l = TcpListener::bind("127.0.0.1:0").expect("proxy bind");
        let port = l.local_addr().expect("addr").port();
        let p = Proxy {
            port,
            target: Arc::new(AtomicU16::new(target)),
            down: Arc::new(AtomicBool::new(false)),
            live: Arc::new(Mutex::new(Vec::new())),
        };
        let (target, down, live) = (p.target.clone(), p.down.clone(), p.live.clone());
        thread::spawn(move || {
            for client in l.incoming() {
                let Ok(client) = client else { return };
                if down.load(Ordering::Relaxed) {
                    let _ = client.shutdown(Shutdown::Both);
                    continue;
                }
                let Ok(server) = TcpStream::connect(("127.0.0.1", target.load(Ordering::Relaxed)))
                else {
                    let _ = client.shutdown(Shutdown::Both);
                    continue;
                };
                if let Ok(mut v) = live.lock() {
                    v.extend(client.try_clone().ok());
                    v.extend(server.try_clone().ok());
                }
                for (mut from, mut to) in [
                    (
                        client.try_clone().expect("clone"),
                        server.try_clone().expect("clone"),
                    ),
                    (server, client),
                ] {
                    thread::spawn(move || {
                        let mut buf = [0u8; 16384];
                        while let Ok(n) = from.read(&mut buf) {
                            if n == 0 || to.write_all(&buf[..n]).is_err() {
                                break;
                            }
                        }
                        let _ = to.shutdown(Shutdown::Both);
                        let _ = from.shutdown(Shutdown::Both);
                    });
                }
            }
        });
        p
    }

    /// Cuts every link and refuses new ones until `restore`.
    fn cut(&self) {
        self.down.store(true, Ordering::Relaxed);
        if let Ok(mut v) = self.live.lock() {
            for s in v.drain(..) {
                let _ = s.shutdown(Shutdown::Both);
            }
        }
    }

    fn restore(&self) {
        self.down.store(false, Ordering::Relaxed);
    }

    fn retarget(&self, port: u16) {
        self.target.store(port, Ordering::Relaxed);
        self.cut();
        self.restore();
    }
}

// ---- the nodes ----

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Impl {
    Ferrodis,
    Redis,
}

struct Node {
    srv: Option<Server>,
    kind: Impl,
    port: u16,
    /// The proxy this node reaches its master through.
    proxy: Proxy,
}

fn start(kind: Impl, port: Option<u16>) -> Server {
    let args = [
        "--repl-diskless-sync-delay",
        "0",
        "--repl-backlog-size",
        "4mb",
    ];
    match (kind, port) {
        (Impl::Ferrodis, None) => Server::start(&args),
        (Impl::Ferrodis, Some(p)) => Server::start_on_port(p, &args),
        (Impl::Redis, None) => RedisServer::start(&args),
        (Impl::Redis, Some(p)) => RedisServer::start_on_port(p, &args),
    }
}

impl Node {
    fn conn(&self) -> Conn {
        Conn::connect(self.port)
    }

    fn try_cmd(&self, args: &[&str]) -> Option<Vec<u8>> {
        let mut c = Conn::try_connect(self.port).ok()?;
        c.try_cmd(args).ok()
    }

    fn replicate(&self, master_port: u16) {
        self.proxy.retarget(master_port);
        let p = self.proxy.port.to_string();
        self.try_cmd(&["REPLICAOF", "127.0.0.1", &p]);
    }

    fn offset(&self) -> i64 {
        let r = self.try_cmd(&["INFO", "replication"]).unwrap_or_default();
        let text = String::from_utf8_lossy(bulk_body(&r).unwrap_or_default()).into_owned();
        text.lines()
            .find_map(|l| l.strip_prefix("master_repl_offset:"))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(-1)
    }
}

// ---- the writers ----

#[derive(Default)]
struct Ledger {
    /// key -> value, acknowledged by the master.
    acked: HashMap<String, String>,
    /// key -> value, acknowledged by WAIT 1.
    wait_acked: HashMap<String, String>,
    /// counter -> highest value acknowledged by WAIT 1.
    counters: HashMap<String, i64>,
}

fn writer(id: usize, master: Arc<AtomicU16>, stop: Arc<AtomicBool>, ledger: Arc<Mutex<Ledger>>) {
    let mut i = 0u64;
    let mut conn: Option<(u16, Conn)> = None;
    while !stop.load(Ordering::Relaxed) {
        let port = master.load(Ordering::Relaxed);
        if conn.as_ref().is_none_or(|(p, _)| *p != port) {
            conn = Conn::connect_with_timeout(port, Duration::from_secs(2))
                .ok()
                .map(|c| (port, c));
            if conn.is_none() {
                thread::sleep(Duration::from_millis(20));
                continue;
            }
        }
        let Some((_, c)) = conn.as_mut() else {
            continue;
        };
        let key = format!("w{id}:{i}");
        let value = format!("v{i}");
        let ctr = format!("ctr{id}");
        let ok = c.try_cmd(&["SET", &key, &value]).ok();
        let incr = c.try_cmd(&["INCR", &ctr]).ok();
        match (ok.as_deref(), incr.as_deref().and_then(parse_int_reply)) {
            (Some(b"+OK\r\n"), Some(n)) => {
                if let Ok(mut l) = ledger.lock() {
                    l.acked.insert(key.clone(), value.clone());
                }
                // One WAIT for the last writes (every third round):
                // acknowledged by a replica. The others stay in flight.
                if !i.is_multiple_of(3) {
                    i += 1;
                    continue;
                }
                let waited = c
                    .try_cmd(&["WAIT", "1", "500"])
                    .ok()
                    .and_then(|r| parse_int_reply(&r));
                if waited.is_some_and(|w| w >= 1) {
                    if let Ok(mut l) = ledger.lock() {
                        l.wait_acked.insert(key, value);
                        let e = l.counters.entry(ctr).or_insert(0);
                        *e = (*e).max(n);
                    }
                }
            }
            _ => {
                // Refused (READONLY, NOREPLICAS...) or cut: reconnect.
                conn = None;
                thread::sleep(Duration::from_millis(10));
            }
        }
        i += 1;
    }
}

// ---- the scenario ----

struct Cluster {
    nodes: Vec<Node>,
    master: usize,
    master_port: Arc<AtomicU16>,
    log: Vec<String>,
}

impl Cluster {
    fn new(master_kind: Impl, replica_kind: Impl) -> Cluster {
        let m = start(master_kind, None);
        let mport = m.port;
        let mut nodes = vec![Node {
            port: mport,
            srv: Some(m),
            kind: master_kind,
            proxy: Proxy::new(mport),
        }];
        for _ in 0..2 {
            let s = start(replica_kind, None);
            let n = Node {
                port: s.port,
                srv: Some(s),
                kind: replica_kind,
                proxy: Proxy::new(mport),
            };
            n.replicate(mport);
            nodes.push(n);
        }
        Cluster {
            nodes,
            master: 0,
            master_port: Arc::new(AtomicU16::new(mport)),
            log: Vec::new(),
        }
    }

    fn master(&self) -> &Node {
        &self.nodes[self.master]
    }

    fn replicas(&self) -> impl Iterator<Item = (usize, &Node)> {
        let m = self.master;
        self.nodes.iter().enumerate().filter(move |(i, _)| *i != m)
    }

    /// Waits until every replica's link is up with the master's offset.
    fn settle(&self, timeout: Duration) -> bool {
        wait_until(timeout, || {
            let mo = self.master().offset();
            self.replicas().all(|(_, n)| {
                let r = n.try_cmd(&["INFO", "replication"]).unwrap_or_default();
                let t = String::from_utf8_lossy(bulk_body(&r).unwrap_or_default()).into_owned();
                t.contains("master_link_status:up") && n.offset() == mo
            })
        })
    }

    /// SIGKILL the master; promote the most advanced replica; the others
    /// (and the old master, restarted empty) follow it.
    fn kill_master_and_promote(&mut self) {
        let old = self.master;
        if let Some(s) = self.nodes[old].srv.as_mut() {
            s.signal(libc::SIGKILL);
            let _ = s.wait_exit(Duration::from_secs(10));
        }
        self.nodes[old].srv = None;
        // The stream stopped: the replicas' offsets are final.
        thread::sleep(Duration::from_millis(300));
        let best = self
            .replicas()
            .max_by_key(|(_, n)| n.offset())
            .map(|(i, _)| i)
            .expect("a replica");
        let offsets: Vec<i64> = self.replicas().map(|(_, n)| n.offset()).collect();
        self.nodes[best].try_cmd(&["REPLICAOF", "NO", "ONE"]);
        self.master = best;
        let mport = self.nodes[best].port;
        self.master_port.store(mport, Ordering::Relaxed);
        for i in 0..self.nodes.len() {
            if i != best && i != old {
                self.nodes[i].replicate(mport);
            }
        }
        // The old master comes back (no persistence: empty) as a replica.
        let kind = self.nodes[old].kind;
        let port = self.nodes[old].port;
        self.nodes[old].srv = Some(start(kind, Some(port)));
        self.nodes[old].replicate(mport);
        self.log.push(format!(
            "killed master {old}, promoted {best} (offsets {offsets:?})"
        ));
        // Every replica follows the new master before anything else fails.
        for (i, n) in self.replicas() {
            let up = wait_until(SYNC_TIMEOUT, || {
                let r = n.try_cmd(&["INFO", "replication"]).unwrap_or_default();
                String::from_utf8_lossy(&r).contains("master_link_status:up")
            });
            if !up {
                let info = n.try_cmd(&["INFO", "replication"]).unwrap_or_default();
                let role = n.try_cmd(&["ROLE"]).unwrap_or_default();
                let log = n.srv.as_ref().map(|s| s.log()).unwrap_or_default();
                let tail: Vec<&str> = log.lines().rev().take(15).collect();
                panic!(
                    "replica {i} never followed the new master\n{}\n{}\n{tail:#?}\n{:#?}",
                    String::from_utf8_lossy(&info),
                    String::from_utf8_lossy(&role),
                    self.log
                );
            }
        }
    }

    fn cut_link(&mut self, i: usize, ms: u64) {
        self.nodes[i].proxy.cut();
        thread::sleep(Duration::from_millis(ms));
        self.nodes[i].proxy.restore();
        self.log.push(format!("cut replica {i} for {ms} ms"));
    }

    fn restart_replica(&mut self, i: usize) {
        let (kind, port) = (self.nodes[i].kind, self.nodes[i].port);
        if let Some(s) = self.nodes[i].srv.as_mut() {
            s.signal(libc::SIGKILL);
            let _ = s.wait_exit(Duration::from_secs(10));
        }
        let target = self.master().offset();
        self.nodes[i].srv = Some(start(kind, Some(port)));
        let mport = self.master().port;
        self.nodes[i].replicate(mport);
        // Its data (and the WAIT acknowledgements it gave) went with it:
        // it counts again once it synced past that point.
        let n = &self.nodes[i];
        assert!(
            wait_until(SYNC_TIMEOUT, || n.offset() >= target),
            "restarted replica {i} never synced\n{:#?}",
            self.log
        );
        self.log.push(format!("restarted replica {i}"));
    }

    fn inject(&mut self, what: u64, replica: usize) {
        let m = self.master;
        let f = |n: &Node, args: &[&str]| {
            if n.kind == Impl::Ferrodis {
                n.try_cmd(args);
            }
        };
        match what % 4 {
            0 => f(&self.nodes[m], &["DEBUG", "REPL-PAUSE", "400"]),
            1 => {
                f(&self.nodes[m], &["DEBUG", "REPL-DELAY", "150"]);
                thread::sleep(Duration::from_millis(300));
                f(&self.nodes[m], &["DEBUG", "REPL-DELAY", "0"]);
            }
            2 => f(&self.nodes[replica], &["DEBUG", "REPL-PAUSE-APPLY", "300"]),
            _ => f(&self.nodes[m], &["DEBUG", "REPL-DROP"]),
        }
        self.log
            .push(format!("injected fault {} (replica {replica})", what % 4));
    }

    /// DIGEST-AT-OFFSET on a ferrodis master: no replica may be "diverged".
    fn check_digests_at_offset(&mut self) {
        if self.master().kind != Impl::Ferrodis {
            return;
        }
        let Some(r) = self
            .master()
            .try_cmd(&["DEBUG", "DIGEST-AT-OFFSET", "1000"])
        else {
            return;
        };
        let text = String::from_utf8_lossy(&r).into_owned();
        assert!(
            !text.contains("diverged"),
            "a replica diverged silently: {text}\n{:#?}",
            self.log
        );
    }
}

fn run_scenario(master_kind: Impl, replica_kind: Impl, rounds: u64) {
    let started = Instant::now();
    let mut cl = Cluster::new(master_kind, replica_kind);
    assert!(cl.settle(SYNC_TIMEOUT), "the initial sync failed");
    let stop = Arc::new(AtomicBool::new(false));
    let ledger = Arc::new(Mutex::new(Ledger::default()));
    let writers: Vec<_> = (0..3)
        .map(|id| {
            let (m, s, l) = (cl.master_port.clone(), stop.clone(), ledger.clone());
            thread::spawn(move || writer(id, m, s, l))
        })
        .collect();
    let mut rng = Rng(0x5eed ^ rounds ^ ((master_kind as u64) << 8) ^ ((replica_kind as u64) << 9));
    for round in 0..rounds {
        thread::sleep(Duration::from_millis(200));
        let replica = cl.replicas().map(|(i, _)| i).nth((rng.next() % 2) as usize);
        let replica = replica.unwrap_or(1);
        match rng.next() % 6 {
            0 if round > 0 => cl.kill_master_and_promote(),
            // The master dies while a replica is cut off: the promoted one
            // is ahead, the other continues partially from it.
            1 if round > 0 => {
                cl.nodes[replica].proxy.cut();
                thread::sleep(Duration::from_millis(200 + rng.next() % 300));
                cl.log.push(format!("cut replica {replica}, then:"));
                cl.kill_master_and_promote();
            }
            2 => cl.cut_link(replica, 300 + rng.next() % 700),
            3 => cl.restart_replica(replica),
            _ => cl.inject(rng.next(), replica),
        }
        cl.check_digests_at_offset();
    }
    // Always at least one failover per run.
    cl.kill_master_and_promote();
    thread::sleep(Duration::from_millis(300));
    stop.store(true, Ordering::Relaxed);
    for w in writers {
        w.join().expect("writer");
    }
    assert!(
        cl.settle(SYNC_TIMEOUT),
        "the replicas never caught up\n{:#?}",
        cl.log
    );
    // No write acknowledged by WAIT is missing on the last master.
    let l = ledger.lock().expect("ledger");
    assert!(
        !l.wait_acked.is_empty(),
        "no write was ever WAIT-acknowledged"
    );
    let mut m = cl.master().conn();
    let mut missing = Vec::new();
    for (k, v) in &l.wait_acked {
        let got = m.cmd(&["GET", k]);
        if got != format!("${}\r\n{v}\r\n", v.len()).into_bytes() {
            missing.push(k.clone());
        }
    }
    for (k, n) in &l.counters {
        let r = m.cmd(&["GET", k]);
        let got: i64 = String::from_utf8_lossy(bulk_body(&r).unwrap_or_default())
            .parse()
            .unwrap_or(0);
        if got < *n {
            missing.push(format!("{k}={got}<{n}"));
        }
    }
    assert!(
        missing.is_empty(),
        "{} WAIT-acknowledged writes lost: {:?}\n{:#?}",
        missing.len(),
        &missing[..missing.len().min(10)],
        cl.log
    );
    // Every node holds exactly the master's data.
    let digest = m.cmd(&["DEBUG", "DIGEST"]);
    for (i, n) in cl.replicas() {
        assert_eq!(
            n.conn().cmd(&["DEBUG", "DIGEST"]),
            digest,
            "node {i} differs from the master\n{:#?}",
            cl.log
        );
    }
    cl.check_digests_at_offset();
    eprintln!(
        "fault suite {master_kind:?} master, {replica_kind:?} replicas: {rounds} rounds, {} acknowledged / {} WAIT-acknowledged writes, {:.1} s\n{:#?}",
        l.acked.len(),
        l.wait_acked.len(),
        started.elapsed().as_secs_f64(),
        cl.log
    );
}

fn rounds(short: u64) -> u64 {
    std::env::var("FAULT_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(short)
}

#[test]
fn faults_ferrodis_master_ferrodis_replicas() {
    run_scenario(Impl::Ferrodis, Impl::Ferrodis, rounds(8));
}

#[test]
fn faults_redis_master_ferrodis_replicas() {
    run_scenario(Impl::Redis, Impl::Ferrodis, rounds(5));
}

#[test]
fn faults_ferrodis_master_redis_replicas() {
    run_scenario(Impl::Ferrodis, Impl::Redis, rounds(5));
}
