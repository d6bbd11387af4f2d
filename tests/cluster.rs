//! Cluster mode (issue 14): nodes formed with CLUSTER MEET/ADDSLOTS, the
//! bus (gossip, failure detection, failover), redirections, nodes.conf,
//! MIGRATE, sharded Pub/Sub, a bus fuzzer, and a mixed cluster with the
//! real redis-server. Short scenarios only (node-timeout 500-1000 ms); the
//! long ones (redis-cli --cluster under load, redis-py) are in
//! `make cluster-suite`.

mod common;

use common::*;
use std::io::{Read, Write};
use std::time::{Duration, Instant};

/// A cluster node under test.
struct Node {
    srv: Server,
    bus: u16,
}

fn start_node(redis: bool, timeout_ms: u32, extra: &[&str]) -> Node {
    let bus = free_port();
    let bus_s = bus.to_string();
    let t = timeout_ms.to_string();
    let mut args = vec![
        "--cluster-enabled",
        "yes",
        "--cluster-node-timeout",
        &t,
        "--cluster-port",
        &bus_s,
        "--repl-diskless-sync-delay",
        "0",
    ];
    args.extend_from_slice(extra);
    let srv = if redis {
        RedisServer::start(&args)
    } else {
        Server::start(&args)
    };
    Node { srv, bus }
}

fn id_of(n: &Node) -> String {
    let r = n.srv.conn().cmd(&["CLUSTER", "MYID"]);
    String::from_utf8_lossy(bulk_body(&r).expect("myid")).into_owned()
}

fn info_field(n: &Node, field: &str) -> String {
    let r = n.srv.conn().cmd(&["CLUSTER", "INFO"]);
    let text = String::from_utf8_lossy(&r).into_owned();
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("{field}:")))
        .map(|v| v.trim().to_string())
        .unwrap_or_default()
}

/// Masters get equal slot ranges, everyone meets the first node, and each
/// replica replicates its master. Waits until every node says ok.
fn form(masters: &[&Node], replicas: &[(&Node, usize)]) {
    let per = 16384 / masters.len();
    for (i, m) in masters.iter().enumerate() {
        let a = i * per;
        let b = if i + 1 == masters.len() {
            16383
        } else {
            a + per - 1
        };
        let r = m
            .srv
            .conn()
            .cmd(&["CLUSTER", "ADDSLOTSRANGE", &a.to_string(), &b.to_string()]);
        assert_eq!(r, b"+OK\r\n");
        let r = m
            .srv
            .conn()
            .cmd(&["CLUSTER", "SET-CONFIG-EPOCH", &(i + 1).to_string()]);
        assert_eq!(r, b"+OK\r\n");
    }
    let first = masters[0];
    let all: Vec<&Node> = masters
        .iter()
        .copied()
        .chain(replicas.iter().map(|(n, _)| *n))
        .collect();
    for n in &all[1..] {
        let r = n.srv.conn().cmd(&[
            "CLUSTER",
            "MEET",
            "127.0.0.1",
            &first.srv.port.to_string(),
            &first.bus.to_string(),
        ]);
        assert_eq!(r, b"+OK\r\n");
    }
    let total = all.len().to_string();
    assert!(
        wait_until(Duration::from_secs(20), || all
            .iter()
            .all(|n| info_field(n, "cluster_known_nodes") == total)),
        "nodes did not all meet"
    );
    for (r, m) in replicas {
        let id = id_of(masters[*m]);
        assert!(
            wait_until(Duration::from_secs(10), || r.srv.conn().cmd(&[
                "CLUSTER",
                "REPLICATE",
                &id
            ]) == b"+OK\r\n"),
            "CLUSTER REPLICATE"
        );
    }
    assert!(
        wait_until(Duration::from_secs(20), || all
            .iter()
            .all(|n| info_field(n, "cluster_state") == "ok")),
        "cluster_state did not become ok"
    );
}

fn slot_owner_port(n: &Node, key: &str) -> u16 {
    let r = n.srv.conn().cmd_str(&["GET", key]);
    if let Some(rest) = r.strip_prefix("-MOVED ") {
        let addr = rest.split_whitespace().nth(1).expect("addr");
        return addr
            .rsplit(':')
            .next()
            .and_then(|p| p.trim().parse().ok())
            .expect("port");
    }
    n.srv.port
}

#[test]
fn cluster_forms_redirects_and_migrates_slots() {
    let a = start_node(false, 1000, &[]);
    let b = start_node(false, 1000, &[]);
    let c = start_node(false, 1000, &[]);
    form(&[&a, &b, &c], &[]);
    let mut ca = a.srv.conn();
    // foo is in slot 12182 (node c); bar in 5061 (node a).
    assert_eq!(ca.cmd_int(&["CLUSTER", "KEYSLOT", "foo"]), 12182);
    assert_eq!(
        ca.cmd_str(&["SET", "foo", "1"]),
        format!("-MOVED 12182 127.0.0.1:{}\r\n", c.srv.port)
    );
    assert_eq!(ca.cmd_str(&["SET", "bar", "1"]), "+OK\r\n");
    assert_eq!(
        ca.cmd_str(&["MSET", "bar", "1", "zap", "2"]),
        "-CROSSSLOT Keys in request don't hash to the same slot\r\n"
    );
    assert_eq!(
        ca.cmd_str(&["MSET", "{bar}1", "1", "{bar}2", "2"]),
        "+OK\r\n"
    );
    assert_eq!(
        ca.cmd_str(&["SELECT", "1"]),
        "-ERR SELECT is not allowed in cluster mode\r\n"
    );
    assert_eq!(ca.cmd_str(&["SELECT", "0"]), "+OK\r\n");
    assert_eq!(ca.cmd_int(&["CLUSTER", "COUNTKEYSINSLOT", "5061"]), 3);
    let keys = parse(&ca.cmd(&["CLUSTER", "GETKEYSINSLOT", "5061", "10"]));
    let mut names: Vec<String> = keys.array().iter().map(|v| v.text()).collect();
    names.sort();
    assert_eq!(names, vec!["bar", "{bar}1", "{bar}2"]);
    // A transaction touching another node's slot is refused at EXEC time.
    ca.cmd(&["MULTI"]);
    assert!(ca.cmd_str(&["GET", "foo"]).starts_with("-MOVED"));
    assert!(ca.cmd_str(&["EXEC"]).starts_with("-EXECABORT"));
    // Move slot 5061 from a to b by hand: ASK, TRYAGAIN, ASKING, MIGRATE.
    let (ida, idb) = (id_of(&a), id_of(&b));
    let mut cb = b.srv.conn();
    assert_eq!(
        cb.cmd_str(&["CLUSTER", "SETSLOT", "5061", "IMPORTING", &ida]),
        "+OK\r\n"
    );
    assert_eq!(
        ca.cmd_str(&["CLUSTER", "SETSLOT", "5061", "MIGRATING", &idb]),
        "+OK\r\n"
    );
    let port_b = b.srv.port.to_string();
    assert_eq!(
        ca.cmd_str(&["MIGRATE", "127.0.0.1", &port_b, "bar", "0", "5000"]),
        "+OK\r\n"
    );
    assert_eq!(
        ca.cmd_str(&["GET", "bar"]),
        format!("-ASK 5061 127.0.0.1:{}\r\n", b.srv.port)
    );
    assert_eq!(
        ca.cmd_str(&["MGET", "{bar}1", "bar"]),
        "-TRYAGAIN Multiple keys request during rehashing of slot\r\n"
    );
    assert!(cb.cmd_str(&["GET", "bar"]).starts_with("-MOVED 5061"));
    assert_eq!(cb.cmd_str(&["ASKING"]), "+OK\r\n");
    assert_eq!(cb.cmd_str(&["GET", "bar"]), "$1\r\n1\r\n");
    assert_eq!(
        ca.cmd_str(&[
            "MIGRATE",
            "127.0.0.1",
            &port_b,
            "",
            "0",
            "5000",
            "KEYS",
            "{bar}1",
            "{bar}2"
        ]),
        "+OK\r\n"
    );
    assert_eq!(ca.cmd_int(&["CLUSTER", "COUNTKEYSINSLOT", "5061"]), 0);
    assert_eq!(
        cb.cmd_str(&["CLUSTER", "SETSLOT", "5061", "NODE", &idb]),
        "+OK\r\n"
    );
    assert_eq!(
        ca.cmd_str(&["CLUSTER", "SETSLOT", "5061", "NODE", &idb]),
        "+OK\r\n"
    );
    assert_eq!(
        ca.cmd_str(&["GET", "bar"]),
        format!("-MOVED 5061 127.0.0.1:{}\r\n", b.srv.port)
    );
    assert_eq!(cb.cmd_int(&["CLUSTER", "COUNTKEYSINSLOT", "5061"]), 3);
    // Every node learns the new owner (b bumped its epoch).
    assert!(wait_until(Duration::from_secs(10), || slot_owner_port(
        &c, "bar"
    ) == b.srv.port));
    let r = c.srv.conn().cmd(&["CLUSTER", "NODES"]);
    let nodes = String::from_utf8_lossy(bulk_body(&r).expect("bulk")).into_owned();
    assert_eq!(nodes.lines().count(), 3, "{nodes}");
    // Scripts: declared keys redirect like any command; undeclared keys
    // must be local and in the script's one slot. "b" is slot 3300 (a).
    assert_eq!(ca.cmd_int(&["CLUSTER", "KEYSLOT", "b"]), 3300);
    let get = "return redis.call('get', KEYS[1])";
    assert!(ca
        .cmd_str(&["EVAL", get, "1", "foo"])
        .starts_with("-MOVED 12182"));
    let e = ca.cmd_str(&["EVAL", "return redis.call('get','foo')", "0"]);
    assert!(
        e.contains("Script attempted to access a non local key in a cluster node script"),
        "{e}"
    );
    let two = "redis.call('set', KEYS[1], 1) return redis.call('set', 'b', 1)";
    let e = ca.cmd_str(&["EVAL", two, "1", "{t}x"]);
    assert!(
        e.starts_with("-MOVED") || e.contains("do not hash to the same slot"),
        "{e}"
    );
    assert_eq!(ca.cmd_int(&["CLUSTER", "KEYSLOT", "hello"]), 866);
    // Scripts with a shebang stay in one slot; old-style ones may cross
    // slots of this node (Redis 7.0's compatibility rule).
    let cross = "redis.call('set','hello',1) return redis.call('set','b',1)";
    let e = ca.cmd_str(&["EVAL", &format!("#!lua\n{cross}"), "0"]);
    assert!(
        e.contains("Script attempted to access keys that do not hash to the same slot"),
        "{e}"
    );
    assert_eq!(ca.cmd_str(&["EVAL", cross, "0"]), "+OK\r\n");
}

#[test]
fn nodes_conf_is_reloaded_and_a_corrupt_one_refused() {
    let mut a = start_node(false, 1000, &[]);
    let mut c = a.srv.conn();
    assert_eq!(
        c.cmd_str(&["CLUSTER", "ADDSLOTSRANGE", "0", "99"]),
        "+OK\r\n"
    );
    assert_eq!(c.cmd_str(&["CLUSTER", "SET-CONFIG-EPOCH", "7"]), "+OK\r\n");
    assert_eq!(c.cmd_str(&["CLUSTER", "SAVECONFIG"]), "+OK\r\n");
    let id = id_of(&a);
    let dir = a.srv.dir.path.clone();
    let conf = std::fs::read_to_string(dir.join("nodes.conf")).expect("nodes.conf");
    assert!(conf.contains(&format!("{id} ")), "{conf}");
    assert!(
        conf.contains("myself,master - 0 0 7 connected 0-99"),
        "{conf}"
    );
    assert!(
        conf.ends_with("vars currentEpoch 7 lastVoteEpoch 0\n"),
        "{conf}"
    );
    // A second node on the same file is refused (flock).
    let out = run_until_exit(&dir);
    assert!(
        out.contains("is already used by a different Redis Cluster node"),
        "{out}"
    );
    // Restart on the same directory: same identity, slots and epoch. The
    // killed process holds the file's lock until it is gone: wait for it.
    a.srv.signal(9);
    assert!(a.srv.wait_exit(Duration::from_secs(30)).is_some());
    let mut b = start_node(false, 1000, &["--dir", dir.to_str().expect("utf8")]);
    assert_eq!(id_of(&b), id);
    assert_eq!(info_field(&b, "cluster_my_epoch"), "7");
    assert_eq!(info_field(&b, "cluster_slots_assigned"), "100");
    b.srv.signal(9);
    assert!(b.srv.wait_exit(Duration::from_secs(30)).is_some());
    // A corrupt file: the node refuses to start, with Redis's message.
    std::fs::write(dir.join("nodes.conf"), "this is not a cluster config\n").expect("write");
    let out = run_until_exit(&dir);
    assert!(
        out.contains("Unrecoverable error: corrupted cluster config file."),
        "{out}"
    );
    drop(a);
}

/// Starts a cluster node on `dir` that is expected to exit; its output.
fn run_until_exit(dir: &std::path::Path) -> String {
    let mut child = std::process::Command::new(ferrodis_bin())
        .args([
            "--port",
            &free_port().to_string(),
            "--cluster-enabled",
            "yes",
        ])
        .args(["--cluster-port", &free_port().to_string()])
        .arg("--dir")
        .arg(dir)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn");
    wait_exit_output(&mut child)
}

fn wait_exit_output(child: &mut std::process::Child) -> String {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Ok(Some(_)) = child.try_wait() {
            break;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("the server did not exit");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let mut s = String::new();
    if let Some(mut o) = child.stdout.take() {
        let _ = o.read_to_string(&mut s);
    }
    if let Some(mut e) = child.stderr.take() {
        let _ = e.read_to_string(&mut s);
    }
    s
}

/// Random and truncated bus messages: the node keeps serving, the link is
/// closed, a log line says why.
#[test]
fn bus_fuzz_random_and_truncated_messages() {
    let a = start_node(false, 1000, &[]);
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    let mut rnd = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    // A well-formed header to corrupt: PING, protocol 1, no gossip.
    let mut base = vec![0u8; 2256];
    base[0..4].copy_from_slice(b"RCmb");
    base[4..8].copy_from_slice(&2256u32.to_be_bytes());
    base[8..10].copy_from_slice(&1u16.to_be_bytes());
    base[40..80].copy_from_slice(&[b'a'; 40]);
    for round in 0..60 {
        let mut msg = base.clone();
        match round % 4 {
            0 => {
                // Random bytes.
                let n = (rnd() % 4000) as usize + 1;
                msg = (0..n).map(|_| rnd() as u8).collect();
            }
            1 => {
                // Claims more gossip entries and extensions than it carries.
                msg[14..16].copy_from_slice(&((rnd() % 500) as u16 + 1).to_be_bytes());
                msg[2214..2216].copy_from_slice(&(rnd() as u16).to_be_bytes());
                msg[2253] = 4;
            }
            2 => {
                // A type with a fixed body, but the wrong length.
                msg[12..14].copy_from_slice(&((rnd() % 11) as u16).to_be_bytes());
                let extra = (rnd() % 100) as usize;
                msg.extend((0..extra).map(|_| rnd() as u8));
                let l = msg.len() as u32;
                msg[4..8].copy_from_slice(&l.to_be_bytes());
            }
            _ => {
                // Truncated: the announced length is never reached.
                let cut = (rnd() as usize) % msg.len();
                msg.truncate(cut.max(9));
            }
        }
        let mut s = std::net::TcpStream::connect(("127.0.0.1", a.bus)).expect("bus connect");
        s.set_read_timeout(Some(Duration::from_secs(5)))
            .expect("timeout");
        let _ = s.write_all(&msg);
        if round % 4 == 3 {
            // The peer hangs up mid-message.
            drop(s);
        } else {
            let mut buf = [0u8; 4096];
            // Either closed by the node, or answered and then closed.
            let mut closed = false;
            for _ in 0..10 {
                match s.read(&mut buf) {
                    Ok(0) | Err(_) => {
                        closed = true;
                        break;
                    }
                    Ok(_) => {}
                }
            }
            assert!(closed, "round {round}: the link stayed open");
        }
        assert_eq!(a.srv.conn().cmd(&["PING"]), b"+PONG\r\n", "round {round}");
    }
    let log = a.srv.log();
    assert!(
        log.contains("Bad message length or signature")
            && log.contains("Closing the cluster bus link"),
        "{log}"
    );
    // CLUSTER INFO counts what it received.
    assert!(
        info_field(&a, "cluster_stats_messages_received")
            .parse::<u64>()
            .unwrap_or(0)
            > 0
    );
}

/// kill -9 a master: its replica is promoted, every node agrees, writes
/// acknowledged by WAIT survive.
#[test]
fn failover_after_kill_keeps_acknowledged_writes() {
    let (a, b, c, r) = three_masters_and_a_replica();
    let mut ca = a.srv.conn();
    // Keys of a's slots (0-5460): {bar} is slot 5061.
    for i in 0..200 {
        assert_eq!(
            ca.cmd_str(&["SET", &format!("{{bar}}{i}"), &i.to_string()]),
            "+OK\r\n"
        );
    }
    assert_eq!(ca.cmd_int(&["WAIT", "1", "5000"]), 1);
    let ida = id_of(&a);
    let idr = id_of(&r);
    a.srv.signal(9);
    // node-timeout (1 s) + FAIL propagation + election delay (0.5-1 s),
    // plus a retry (2-4 s each) per failed election on a loaded machine:
    // no bound on the time, only on a promotion happening.
    assert!(
        wait_until(Duration::from_secs(30), || r
            .srv
            .conn()
            .cmd_str(&["ROLE"])
            .contains("master")),
        "replica not promoted"
    );
    for n in [&b, &c, &r] {
        assert!(
            wait_until(Duration::from_secs(10), || {
                let nodes = n.srv.conn().cmd_str(&["CLUSTER", "NODES"]);
                nodes
                    .lines()
                    .any(|l| l.starts_with(&idr) && l.contains("master") && l.contains(" 0-5460"))
                    && nodes
                        .lines()
                        .any(|l| l.starts_with(&ida) && l.contains("fail"))
            }),
            "node {} does not agree",
            n.srv.port
        );
        assert!(wait_until(Duration::from_secs(10), || info_field(
            n,
            "cluster_state"
        ) == "ok"));
    }
    let mut cr = r.srv.conn();
    for i in 0..200 {
        assert_eq!(
            cr.cmd_str(&["GET", &format!("{{bar}}{i}")]),
            format!("${}\r\n{i}\r\n", i.to_string().len())
        );
    }
}

/// Masters a, b, c (a serves slots 0-5460) and r, a synced replica of a.
fn three_masters_and_a_replica() -> (Node, Node, Node, Node) {
    let a = start_node(false, 1000, &[]);
    let b = start_node(false, 1000, &[]);
    let c = start_node(false, 1000, &[]);
    let r = start_node(false, 1000, &[]);
    form(&[&a, &b, &c], &[(&r, 0)]);
    assert!(wait_until(Duration::from_secs(10), || {
        info_field_raw(&r, "replication", "master_link_status") == "up"
    }));
    (a, b, c, r)
}

fn info_field_raw(n: &Node, section: &str, field: &str) -> String {
    let mut c = n.srv.conn();
    common::info_field(&mut c, section, field).unwrap_or_default()
}

/// CLUSTER FAILOVER (manual): the replica waits for the master's paused
/// offset, so no acknowledged write is lost; the old master follows.
#[test]
fn manual_failover_loses_no_write() {
    let (a, _b, _c, r) = three_masters_and_a_replica();
    let mut ca = a.srv.conn();
    for i in 0..100 {
        ca.cmd(&["SET", &format!("{{bar}}{i}"), "x"]);
    }
    assert_eq!(r.srv.conn().cmd_str(&["CLUSTER", "FAILOVER"]), "+OK\r\n");
    // Writes keep coming; those the old master accepted must survive.
    let mut acked = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(15);
    let mut i = 100;
    while Instant::now() < deadline {
        let key = format!("{{bar}}{i}");
        let reply = ca.cmd_str(&["SET", &key, "y"]);
        if reply == "+OK\r\n" {
            acked.push(key);
        } else {
            assert!(reply.starts_with("-MOVED"), "{reply}");
            break;
        }
        i += 1;
    }
    assert!(r.srv.conn().cmd_str(&["ROLE"]).contains("master"));
    assert!(wait_until(Duration::from_secs(10), || a
        .srv
        .conn()
        .cmd_str(&["ROLE"])
        .contains("slave")));
    let mut cr = r.srv.conn();
    for k in &acked {
        assert_eq!(cr.cmd_str(&["GET", k]), "$1\r\ny\r\n", "lost {k}");
    }
    assert!(r.srv.log().contains("Failover election won"));
}

#[test]
fn sharded_pubsub_reaches_the_whole_shard() {
    let (a, b, c, r) = three_masters_and_a_replica();
    // Channel "bar" is slot 5061 (master a, replica r).
    let mut sub_r = r.srv.conn();
    assert_eq!(
        sub_r.cmd_str(&["SSUBSCRIBE", "bar"]),
        "*3\r\n$10\r\nssubscribe\r\n$3\r\nbar\r\n:1\r\n"
    );
    let mut sub_a = a.srv.conn();
    sub_a.cmd(&["SSUBSCRIBE", "bar"]);
    assert!(b
        .srv
        .conn()
        .cmd_str(&["SSUBSCRIBE", "bar"])
        .starts_with("-MOVED 5061"));
    assert_eq!(
        a.srv.conn().cmd_str(&["SSUBSCRIBE", "bar", "foo"]),
        "-CROSSSLOT Keys in request don't hash to the same slot\r\n"
    );
    let mut pa = a.srv.conn();
    assert_eq!(pa.cmd_int(&["SPUBLISH", "bar", "hello"]), 1);
    let expect = b"*3\r\n$8\r\nsmessage\r\n$3\r\nbar\r\n$5\r\nhello\r\n".to_vec();
    assert_eq!(sub_a.read_reply(), expect);
    assert_eq!(sub_r.read_reply(), expect);
    assert_eq!(
        parse(&pa.cmd(&["PUBSUB", "SHARDCHANNELS"])).array().len(),
        1
    );
    assert_eq!(
        pa.cmd_str(&["PUBSUB", "SHARDNUMSUB", "bar"]),
        "*2\r\n$3\r\nbar\r\n:1\r\n"
    );
    // Plain PUBLISH reaches subscribers on every node, over the bus.
    let mut sub_c = c.srv.conn();
    sub_c.cmd(&["SUBSCRIBE", "news"]);
    let mut sub_r2 = r.srv.conn();
    sub_r2.cmd(&["SUBSCRIBE", "news"]);
    assert_eq!(pa.cmd_int(&["PUBLISH", "news", "hi"]), 0);
    let expect = b"*3\r\n$7\r\nmessage\r\n$4\r\nnews\r\n$2\r\nhi\r\n".to_vec();
    assert_eq!(sub_c.read_reply(), expect);
    assert_eq!(sub_r2.read_reply(), expect);
    // Losing the slot unsubscribes its subscribers.
    let idb = id_of(&b);
    let ida = id_of(&a);
    let mut cb = b.srv.conn();
    cb.cmd(&["CLUSTER", "SETSLOT", "5061", "IMPORTING", &ida]);
    pa.cmd(&["CLUSTER", "SETSLOT", "5061", "MIGRATING", &idb]);
    assert_eq!(
        cb.cmd_str(&["CLUSTER", "SETSLOT", "5061", "NODE", &idb]),
        "+OK\r\n"
    );
    assert_eq!(
        pa.cmd_str(&["CLUSTER", "SETSLOT", "5061", "NODE", &idb]),
        "+OK\r\n"
    );
    assert_eq!(
        sub_a.read_reply(),
        b"*3\r\n$12\r\nsunsubscribe\r\n$3\r\nbar\r\n:0\r\n".to_vec()
    );
}

/// MIGRATE without cluster mode: COPY, REPLACE, AUTH, KEYS; the source's
/// replica ends with the same digest (MIGRATE propagates as DEL).
#[test]
fn migrate_options_and_replica_digest() {
    let src = Server::start(&["--repl-diskless-sync-delay", "0"]);
    let dst = Server::start(&["--requirepass", "pw"]);
    let rep = Server::start(&["--replicaof", "127.0.0.1", &src.port.to_string()]);
    let mut s = src.conn();
    let dport = dst.port.to_string();
    for i in 0..20 {
        s.cmd(&["RPUSH", &format!("l{i}"), "a", "b", "c"]);
    }
    s.cmd(&["SET", "ttl", "v", "PX", "100000"]);
    assert_eq!(
        s.cmd_str(&["MIGRATE", "127.0.0.1", &dport, "l0", "0", "5000"]),
        "-ERR Target instance replied with error: NOAUTH Authentication required.\r\n"
    );
    assert_eq!(
        s.cmd_str(&[
            "MIGRATE",
            "127.0.0.1",
            &dport,
            "l0",
            "0",
            "5000",
            "AUTH",
            "pw"
        ]),
        "+OK\r\n"
    );
    assert_eq!(s.cmd_int(&["EXISTS", "l0"]), 0);
    assert_eq!(
        s.cmd_str(&[
            "MIGRATE",
            "127.0.0.1",
            &dport,
            "l1",
            "0",
            "5000",
            "COPY",
            "AUTH2",
            "default",
            "pw"
        ]),
        "+OK\r\n"
    );
    assert_eq!(s.cmd_int(&["EXISTS", "l1"]), 1);
    assert!(s
        .cmd_str(&[
            "MIGRATE",
            "127.0.0.1",
            &dport,
            "l1",
            "0",
            "5000",
            "AUTH",
            "pw"
        ])
        .contains("BUSYKEY"));
    assert_eq!(
        s.cmd_str(&[
            "MIGRATE",
            "127.0.0.1",
            &dport,
            "l1",
            "0",
            "5000",
            "REPLACE",
            "AUTH",
            "pw"
        ]),
        "+OK\r\n"
    );
    assert_eq!(
        s.cmd_str(&[
            "MIGRATE",
            "127.0.0.1",
            &dport,
            "",
            "3",
            "5000",
            "AUTH",
            "pw",
            "KEYS",
            "l2",
            "l3",
            "nokey",
            "ttl"
        ]),
        "+OK\r\n"
    );
    assert_eq!(
        s.cmd_str(&["MIGRATE", "127.0.0.1", &dport, "nokey", "0", "5000"]),
        "+NOKEY\r\n"
    );
    let mut d = dst.conn();
    d.cmd(&["AUTH", "pw"]);
    assert_eq!(d.cmd_int(&["LLEN", "l0"]), 3);
    d.cmd(&["SELECT", "3"]);
    assert_eq!(d.cmd_int(&["EXISTS", "l2", "l3", "ttl"]), 3);
    assert!(d.cmd_int(&["PTTL", "ttl"]) > 90_000);
    assert_eq!(
        common::info_field(&mut s, "stats", "migrate_cached_sockets").as_deref(),
        Some("1")
    );
    // The replica sees the DELs: same digest as the master.
    assert!(wait_until(Duration::from_secs(10), || {
        let mut r = rep.conn();
        r.cmd(&["DEBUG", "DIGEST"]) == s.cmd(&["DEBUG", "DIGEST"])
    }));
    // A refused connection is an IOERR.
    let closed = free_port().to_string();
    assert_eq!(
        s.cmd_str(&["MIGRATE", "127.0.0.1", &closed, "l5", "0", "500"]),
        "-IOERR error or timeout connecting to the client\r\n"
    );
}

/// Real redis-server 7.0 nodes and ferrodis nodes in one cluster: they
/// meet, agree, move a slot both ways, and replicate each other.
#[test]
fn mixed_cluster_with_real_redis() {
    require_tool("redis-server");
    let r1 = start_node(true, 1000, &[]);
    let f1 = start_node(false, 1000, &[]);
    let r2 = start_node(true, 1000, &[]);
    let fr = start_node(false, 1000, &[]);
    let rr = start_node(true, 1000, &[]);
    // Masters r1, f1, r2; a ferrodis replica of r1, a Redis replica of f1.
    form(&[&r1, &f1, &r2], &[(&fr, 0), (&rr, 1)]);
    let (id_r1, id_f1) = (id_of(&r1), id_of(&f1));
    // bar (5061) is r1's: move it to f1 and back with MIGRATE.
    let mut c1 = r1.srv.conn();
    let mut cf = f1.srv.conn();
    for i in 0..50 {
        c1.cmd(&["SET", &format!("{{bar}}{i}"), "v"]);
    }
    {
        let (from, to, cfrom, cto, port_to) = (&id_r1, &id_f1, &mut c1, &mut cf, f1.srv.port);
        assert_eq!(
            cto.cmd_str(&["CLUSTER", "SETSLOT", "5061", "IMPORTING", from]),
            "+OK\r\n"
        );
        assert_eq!(
            cfrom.cmd_str(&["CLUSTER", "SETSLOT", "5061", "MIGRATING", to]),
            "+OK\r\n"
        );
        let keys = parse(&cfrom.cmd(&["CLUSTER", "GETKEYSINSLOT", "5061", "100"]));
        let names: Vec<String> = keys.array().iter().map(|v| v.text()).collect();
        let mut args = vec!["MIGRATE", "127.0.0.1"];
        let p = port_to.to_string();
        args.push(&p);
        args.extend(["", "0", "5000", "KEYS"]);
        args.extend(names.iter().map(|s| s.as_str()));
        assert_eq!(cfrom.cmd_str(&args), "+OK\r\n");
        assert_eq!(
            cto.cmd_str(&["CLUSTER", "SETSLOT", "5061", "NODE", to]),
            "+OK\r\n"
        );
        assert_eq!(
            cfrom.cmd_str(&["CLUSTER", "SETSLOT", "5061", "NODE", to]),
            "+OK\r\n"
        );
    }
    assert_eq!(cf.cmd_int(&["CLUSTER", "COUNTKEYSINSLOT", "5061"]), 50);
    // Back from ferrodis to Redis.
    assert_eq!(
        c1.cmd_str(&["CLUSTER", "SETSLOT", "5061", "IMPORTING", &id_f1]),
        "+OK\r\n"
    );
    assert_eq!(
        cf.cmd_str(&["CLUSTER", "SETSLOT", "5061", "MIGRATING", &id_r1]),
        "+OK\r\n"
    );
    let keys = parse(&cf.cmd(&["CLUSTER", "GETKEYSINSLOT", "5061", "100"]));
    for k in keys.array() {
        let k = k.text();
        assert_eq!(
            cf.cmd_str(&[
                "MIGRATE",
                "127.0.0.1",
                &r1.srv.port.to_string(),
                &k,
                "0",
                "5000"
            ]),
            "+OK\r\n"
        );
    }
    assert_eq!(
        c1.cmd_str(&["CLUSTER", "SETSLOT", "5061", "NODE", &id_r1]),
        "+OK\r\n"
    );
    assert_eq!(
        cf.cmd_str(&["CLUSTER", "SETSLOT", "5061", "NODE", &id_r1]),
        "+OK\r\n"
    );
    assert_eq!(c1.cmd_int(&["CLUSTER", "COUNTKEYSINSLOT", "5061"]), 50);
    // Everyone agrees on the owner of 5061; replicas are in sync.
    for n in [&r1, &f1, &r2, &fr, &rr] {
        assert!(
            wait_until(Duration::from_secs(10), || slot_owner_port(n, "{bar}1")
                == r1.srv.port
                || n.srv.port == fr.srv.port),
            "node {} disagrees",
            n.srv.port
        );
    }
    assert!(wait_until(Duration::from_secs(10), || fr
        .srv
        .conn()
        .cmd_int(&["DBSIZE"])
        == 50));
    cf.cmd(&["SET", "{zap}1", "from-ferrodis"]);
    let slot_zap = cf.cmd_int(&["CLUSTER", "KEYSLOT", "{zap}1"]);
    let owner = slot_owner_port(&f1, "{zap}1");
    if owner == f1.srv.port {
        assert!(
            wait_until(Duration::from_secs(10), || {
                let mut c = rr.srv.conn();
                c.cmd(&["READONLY"]);
                c.cmd_str(&["GET", "{zap}1"]) == "$13\r\nfrom-ferrodis\r\n"
            }),
            "slot {slot_zap}"
        );
    }
}

/// Replies of a one-node cluster, byte for byte against redis-server 7.0
/// (node ids and ports masked): the reports, the errors, RESP2 and RESP3.
#[test]
fn cluster_replies_match_redis() {
    require_tool("redis-server");
    let f = start_node(false, 1000, &[]);
    let r = start_node(true, 1000, &[]);
    let script: &[&[&str]] = &[
        &["CLUSTER", "ADDSLOTSRANGE", "0", "100", "200", "300"],
        &["CLUSTER", "ADDSLOTS", "5000", "5001"],
        &["CLUSTER", "SET-CONFIG-EPOCH", "3"],
        &["CLUSTER", "SLOTS"],
        &["CLUSTER", "SHARDS"],
        &["CLUSTER", "NODES"],
        &["CLUSTER", "LINKS"],
        &["CLUSTER", "INFO"],
        &["INFO", "cluster"],
        &["CLUSTER", "MYID"],
        &["CLUSTER", "KEYSLOT", "{user1}:a"],
        &["CLUSTER", "COUNTKEYSINSLOT", "5"],
        &["CLUSTER", "COUNTKEYSINSLOT", "99999"],
        &["CLUSTER", "GETKEYSINSLOT", "1", "-1"],
        &["CLUSTER", "GETKEYSINSLOT", "1", "10"],
        &["CLUSTER", "ADDSLOTS", "16384"],
        &["CLUSTER", "ADDSLOTS", "0"],
        &["CLUSTER", "ADDSLOTS", "7", "7"],
        &["CLUSTER", "DELSLOTS", "9000"],
        &["CLUSTER", "ADDSLOTSRANGE", "5", "4"],
        &["CLUSTER", "ADDSLOTSRANGE", "5"],
        &["CLUSTER", "ADDSLOTSRANGE", "5", "6", "7"],
        &["CLUSTER", "DELSLOTSRANGE", "5000", "5001"],
        &["CLUSTER", "SETSLOT", "1", "foo"],
        &[
            "CLUSTER",
            "SETSLOT",
            "1",
            "MIGRATING",
            "0000000000000000000000000000000000000000",
        ],
        &[
            "CLUSTER",
            "SETSLOT",
            "9000",
            "MIGRATING",
            "0000000000000000000000000000000000000000",
        ],
        &[
            "CLUSTER",
            "SETSLOT",
            "1",
            "IMPORTING",
            "0000000000000000000000000000000000000000",
        ],
        &["CLUSTER", "SETSLOT", "99999", "STABLE"],
        &["CLUSTER", "SETSLOT", "1", "NODE", "abc"],
        &["CLUSTER", "MEET", "1.2.3", "5"],
        &["CLUSTER", "MEET", "1.2.3.4", "abc"],
        &["CLUSTER", "MEET", "1.2.3.4", "5", "x"],
        &[
            "CLUSTER",
            "FORGET",
            "0000000000000000000000000000000000000000",
        ],
        &[
            "CLUSTER",
            "REPLICATE",
            "0000000000000000000000000000000000000000",
        ],
        &[
            "CLUSTER",
            "REPLICAS",
            "0000000000000000000000000000000000000000",
        ],
        &[
            "CLUSTER",
            "COUNT-FAILURE-REPORTS",
            "0000000000000000000000000000000000000000",
        ],
        &["CLUSTER", "FAILOVER"],
        &["CLUSTER", "FAILOVER", "bogus"],
        &["CLUSTER", "RESET", "bogus"],
        &["CLUSTER", "SET-CONFIG-EPOCH", "-1"],
        &["CLUSTER", "SET-CONFIG-EPOCH", "5"],
        &["CLUSTER", "BUMPEPOCH"],
        &["CLUSTER", "FOO"],
        &["CLUSTER", "ADDSLOTS"],
        &["CLUSTER", "INFO", "x"],
        &["CLUSTER", "HELP"],
        &["SELECT", "1"],
        &["SELECT", "0"],
        &["MOVE", "k", "1"],
        &["SWAPDB", "0", "1"],
        &["REPLICAOF", "127.0.0.1", "1"],
        &["READONLY"],
        &["READWRITE"],
        &["ASKING"],
        &["SET", "{x}a", "1"],
        // Keys found as getNodeByQuery finds them (getkeys procs, legacy
        // ranges, subcommands): each reply depends on which keys count.
        &["MEMORY", "USAGE", "foo"],
        &["MEMORY", "USAGE", "{x}a"],
        &["OBJECT", "ENCODING", "foo"],
        &["EVAL", "return 1", "99", "a"],
        &["EVAL", "return 1", "2", "{x}a", "foo"],
        &["GEORADIUSBYMEMBER", "{x}a", "m", "1", "km", "STORE", "foo"],
        &["XREADGROUP", "GROUP", "g", "c", "STREAMS", "foo", "0"],
        &["ZUNIONSTORE", "{x}d", "2", "{x}a", "{x}b"],
        &["SORT", "{x}a", "STORE", "foo"],
        &["COPY", "{x}a", "{x}b", "DB", "1"],
        &["CLUSTER", "COUNTKEYSINSLOT", "16287"],
        &["CLUSTER", "GETKEYSINSLOT", "16287", "5"],
        &["SPUBLISH", "ch", "m"],
        &["PUBSUB", "SHARDNUMSUB", "ch"],
    ];
    let (idf, idr) = (id_of(&f), id_of(&r));
    let mask = |raw: &[u8], n: &Node, id: &str| -> String {
        String::from_utf8_lossy(raw)
            .replace(id, "<id>")
            .replace(&n.bus.to_string(), "<bus>")
            .replace(&n.srv.port.to_string(), "<port>")
    };
    for resp in ["2", "3"] {
        let mut cf = f.srv.conn();
        let mut cr = r.srv.conn();
        cf.cmd(&["HELLO", resp]);
        cr.cmd(&["HELLO", resp]);
        for args in script {
            if resp == "3"
                && args.len() > 1
                && matches!(
                    args[1],
                    "ADDSLOTSRANGE" | "ADDSLOTS" | "SET-CONFIG-EPOCH" | "BUMPEPOCH"
                )
            {
                continue;
            }
            let a = mask(&cf.cmd(args), &f, &idf);
            let b = mask(&cr.cmd(args), &r, &idr);
            // Ports of different lengths would change bulk lengths.
            if f.srv.port.to_string().len() != r.srv.port.to_string().len()
                || f.bus.to_string().len() != r.bus.to_string().len()
            {
                assert_eq!(
                    a.lines().next().map(|l| l.chars().next()),
                    b.lines().next().map(|l| l.chars().next())
                );
                continue;
            }
            assert_eq!(a, b, "RESP{resp} {args:?}");
        }
    }
}

/// Sharded Pub/Sub without cluster mode: RESP3 pushes survive CLIENT REPLY
/// OFF, and SPUBLISH reaches a replica's subscribers through replication.
#[test]
fn sharded_pubsub_standalone() {
    let m = Server::start(&["--repl-diskless-sync-delay", "0"]);
    let r = Server::start(&["--replicaof", "127.0.0.1", &m.port.to_string()]);
    assert!(wait_until(Duration::from_secs(10), || {
        let mut c = r.conn();
        common::info_field(&mut c, "replication", "master_link_status").as_deref() == Some("up")
    }));
    let mut sub = m.conn();
    sub.cmd(&["HELLO", "3"]);
    sub.send(&[b"CLIENT", b"REPLY", b"OFF"]);
    sub.send(&[b"SSUBSCRIBE", b"ch"]);
    assert_eq!(
        sub.read_reply(),
        b">3\r\n$10\r\nssubscribe\r\n$2\r\nch\r\n:1\r\n".to_vec()
    );
    let mut sub_r = r.conn();
    sub_r.cmd(&["SSUBSCRIBE", "ch"]);
    assert_eq!(m.conn().cmd_int(&["SPUBLISH", "ch", "hi"]), 1);
    assert_eq!(
        sub.read_reply(),
        b">3\r\n$8\r\nsmessage\r\n$2\r\nch\r\n$2\r\nhi\r\n".to_vec()
    );
    assert_eq!(
        sub_r.read_reply(),
        b"*3\r\n$8\r\nsmessage\r\n$2\r\nch\r\n$2\r\nhi\r\n".to_vec()
    );
    sub.send(&[b"SUNSUBSCRIBE"]);
    assert_eq!(
        sub.read_reply(),
        b">3\r\n$12\r\nsunsubscribe\r\n$2\r\nch\r\n:0\r\n".to_vec()
    );
    let mut c = m.conn();
    assert_eq!(
        c.cmd_str(&["PUBSUB", "SHARDNUMSUB", "ch"]),
        "*2\r\n$2\r\nch\r\n:0\r\n"
    );
}
