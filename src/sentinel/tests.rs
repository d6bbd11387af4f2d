//! Unit tests of the Sentinel state machine without sockets: config
//! loading and rewriting, INFO and hello parsing (garbage included), votes,
//! the leader count and the choice of the replica to promote.

use super::*;
use crate::config::SentinelLine;

fn lines(text: &str) -> Vec<SentinelLine> {
    text.lines()
        .enumerate()
        .map(|(i, l)| SentinelLine {
            linenum: i + 1,
            line: l.to_string(),
            argv: l.split_whitespace().skip(1).map(String::from).collect(),
        })
        .collect()
}

fn sentinel(text: &str) -> Sentinel {
    let mut s = Sentinel::new();
    s.myid = "a".repeat(40);
    s.load_config(&lines(text)).expect("config");
    s
}

fn events(s: &mut Sentinel) -> Vec<String> {
    s.take_events()
        .into_iter()
        .map(|(c, m)| format!("{c} {m}"))
        .collect()
}

#[test]
fn directives_apply_in_any_order_with_redis_errors() {
    let s = sentinel(
        "sentinel known-replica m 127.0.0.1 7001\n\
         sentinel down-after-milliseconds m 5000\n\
         sentinel current-epoch 7\n\
         sentinel monitor m 127.0.0.1 7000 2\n\
         sentinel known-sentinel m 127.0.0.1 26380 bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb\n\
         sentinel config-epoch m 9",
    );
    let m = &s.masters[0];
    assert_eq!((m.ri.quorum, m.ri.down_after_period), (2, 5000));
    assert_eq!(m.slaves[0].name, "127.0.0.1:7001");
    assert_eq!(m.slaves[0].down_after_period, 5000);
    assert_eq!(
        m.sentinels[0].runid.as_deref(),
        Some("b".repeat(40).as_str())
    );
    assert_eq!((s.current_epoch, m.ri.config_epoch), (9, 9));
    let err = Sentinel::new()
        .load_config(&lines(
            "sentinel monitor m 127.0.0.1 7000 2\nsentinel parallel-syncs x 1",
        ))
        .unwrap_err();
    assert!(err.contains(
        "at line 2\n>>> 'sentinel parallel-syncs x 1'\nNo such master with specified name."
    ));
    for (conf, want) in [
        (
            "sentinel monitor m 127.0.0.1 7000 0",
            "Quorum must be 1 or greater.",
        ),
        (
            "sentinel monitor m host.invalid 7000 1",
            "Can't resolve instance hostname.",
        ),
        (
            "sentinel monitor m 127.0.0.1 99999 1",
            "Invalid port number.",
        ),
        (
            "sentinel myid short",
            "Malformed Sentinel id in myid option.",
        ),
        (
            "sentinel deny-scripts-reconfig maybe",
            "Please specify yes or no for the deny-scripts-reconfig options.",
        ),
        (
            "sentinel bogus",
            "Unrecognized sentinel configuration statement.",
        ),
    ] {
        let e = Sentinel::new().load_config(&lines(conf)).unwrap_err();
        assert!(e.ends_with(want), "{conf}: {e}");
    }
}

#[test]
fn rewrite_lists_the_state() {
    let mut s =
        sentinel("sentinel monitor m 127.0.0.1 7000 2\nsentinel known-replica m 127.0.0.1 7001");
    s.masters[0]
        .ri
        .renamed_commands
        .push(("CONFIG".into(), "XCONFIG".into()));
    let text: Vec<String> = s
        .rewrite_ops()
        .into_iter()
        .filter_map(|op| match op {
            crate::config::RewriteOp::Line { line, .. } => Some(line),
            _ => None,
        })
        .collect();
    for want in [
        format!("sentinel myid {}", "a".repeat(40)),
        "sentinel monitor m 127.0.0.1 7000 2".into(),
        "sentinel config-epoch m 0".into(),
        "sentinel known-replica m 127.0.0.1 7001".into(),
        "sentinel rename-command m CONFIG XCONFIG".into(),
        "sentinel current-epoch 0".into(),
    ] {
        assert!(text.contains(&want), "{want} missing from {text:?}");
    }
    // Mid-failover the promoted replica is the master, the old master a replica.
    let p = s.masters[0].slaves[0].uid;
    s.masters[0].ri.promoted_slave = Some(p);
    s.masters[0].ri.flags |= sri::FAILOVER_IN_PROGRESS;
    s.masters[0].ri.failover_state = FailoverState::ReconfSlaves;
    let lines: Vec<String> = s
        .rewrite_ops()
        .into_iter()
        .filter_map(|op| match op {
            crate::config::RewriteOp::Line { line, .. } => Some(line),
            _ => None,
        })
        .collect();
    assert!(lines.contains(&"sentinel monitor m 127.0.0.1 7001 2".to_string()));
    assert!(lines.contains(&"sentinel known-replica m 127.0.0.1 7000".to_string()));
}

#[test]
fn info_teaches_replicas_role_and_reboots() {
    let mut s = sentinel(
        "sentinel monitor m 127.0.0.1 7000 1\nsentinel master-reboot-down-after-period m 5000",
    );
    let id1 = "1".repeat(40);
    let id2 = "2".repeat(40);
    let info = format!(
        "# Server\r\nrun_id:{id1}\r\n# Replication\r\nrole:master\r\n\
         slave0:ip=127.0.0.1,port=7001,state=online,offset=1,lag=0\r\n\
         slave1:127.0.0.1,7002,online\r\nslave2:ip=,port=abc\r\nslave3:garbage\r\n"
    );
    s.refresh_instance_info(0, Which::Master, &info);
    let names: Vec<&str> = s.masters[0]
        .slaves
        .iter()
        .map(|r| r.name.as_str())
        .collect();
    assert_eq!(names, ["127.0.0.1:7001", "127.0.0.1:7002"]);
    assert!(events(&mut s)
        .iter()
        .any(|e| e.starts_with("+slave slave 127.0.0.1:7001")));
    s.refresh_instance_info(0, Which::Master, &info.replace(&id1, &id2));
    assert!(events(&mut s).contains(&"+reboot master m 127.0.0.1 7000".to_string()));
    assert!(s.masters[0].ri.has(sri::MASTER_REBOOT));
    // Nonsense never panics and leaves the role unknown.
    for junk in [
        "",
        "\r\n\r\n",
        "role:",
        "run_id:",
        "master_link_down_since_seconds:zz",
        "slave9",
        "role:slave\r\nmaster_port:-1",
    ] {
        s.refresh_instance_info(0, Which::Slave(0), junk);
        s.refresh_instance_info(0, Which::Master, junk);
    }
    // A replica's replication state.
    s.refresh_instance_info(
        0,
        Which::Slave(0),
        "role:slave\r\nmaster_host:127.0.0.1\r\nmaster_port:7000\r\nmaster_link_status:up\r\n\
         slave_priority:7\r\nslave_repl_offset:1234\r\nreplica_announced:0\r\n",
    );
    let r = &s.masters[0].slaves[0];
    assert_eq!(
        (
            r.slave_master_port,
            r.slave_master_link_up,
            r.slave_priority,
            r.slave_repl_offset,
            r.replica_announced
        ),
        (7000, true, 7, 1234, 0)
    );
}

#[test]
fn hello_messages_add_sentinels_and_newer_configs() {
    let mut s =
        sentinel("sentinel monitor m 127.0.0.1 7000 2\nsentinel known-replica m 127.0.0.1 7001");
    let other = "b".repeat(40);
    for junk in [
        &b""[..],
        b",,,,,,,",
        b"a,b,c",
        b"1,2,3,4,nosuch,6,7,8",
        b"\xff,\x00,x,y,m,z,w,v",
    ] {
        s.process_hello(junk);
    }
    assert!(s.masters[0]
        .sentinels
        .iter()
        .all(|x| x.runid.as_deref() != Some(other.as_str())));
    s.process_hello(format!("127.0.0.1,26380,{other},3,m,127.0.0.1,7000,0").as_bytes());
    assert!(s.masters[0]
        .sentinels
        .iter()
        .any(|x| x.runid.as_deref() == Some(other.as_str())));
    assert_eq!(s.current_epoch, 3);
    let ev = events(&mut s);
    assert!(ev
        .iter()
        .any(|e| e.starts_with(&format!("+sentinel sentinel {other} 127.0.0.1 26380 @ m"))));
    assert!(ev.contains(&"+new-epoch 3".to_string()));
    // A newer configuration: the master moved to the replica.
    s.process_hello(format!("127.0.0.1,26380,{other},4,m,127.0.0.1,7001,4").as_bytes());
    assert_eq!(s.masters[0].ri.addr.port, 7001);
    assert_eq!(s.masters[0].ri.config_epoch, 4);
    assert!(events(&mut s).contains(&"+switch-master m 127.0.0.1 7000 127.0.0.1 7001".to_string()));
    assert!(s.masters[0].slaves.iter().any(|r| r.addr.port == 7000));
    // An older one changes nothing.
    s.process_hello(format!("127.0.0.1,26380,{other},4,m,127.0.0.1,7000,2").as_bytes());
    assert_eq!(s.masters[0].ri.addr.port, 7001);
}

#[test]
fn one_vote_per_epoch_and_majority_leader() {
    let mut s = sentinel(
        "sentinel monitor m 127.0.0.1 7000 2\n\
         sentinel known-sentinel m 127.0.0.1 26380 bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb\n\
         sentinel known-sentinel m 127.0.0.1 26381 cccccccccccccccccccccccccccccccccccccccc",
    );
    let b = "b".repeat(40);
    assert_eq!(s.vote_leader(0, 1, &b), (Some(b.clone()), 1));
    // Already voted in epoch 1: the same answer for anyone else.
    assert_eq!(s.vote_leader(0, 1, "c"), (Some(b.clone()), 1));
    assert_eq!(s.vote_leader(0, 2, "c"), (Some("c".into()), 2));
    assert_eq!(s.current_epoch, 2);
    assert!(s.flush_pending, "votes must be persisted");
}

#[test]
fn replica_selection_order() {
    let mut s = sentinel(
        "sentinel monitor m 127.0.0.1 7000 1\n\
         sentinel known-replica m 127.0.0.1 7001\n\
         sentinel known-replica m 127.0.0.1 7002\n\
         sentinel known-replica m 127.0.0.1 7003\n\
         sentinel known-replica m 127.0.0.1 7004",
    );
    let now = crate::util::mstime();
    for (i, (prio, off, id)) in [(100, 10, "d"), (100, 30, "c"), (0, 99, "a"), (100, 30, "b")]
        .into_iter()
        .enumerate()
    {
        let r = &mut s.masters[0].slaves[i];
        r.slave_priority = prio;
        r.slave_repl_offset = off;
        r.runid = Some(id.repeat(40));
        r.info_refresh = now;
        let l = &mut s.links[r.link];
        l.disconnected = false;
        l.last_avail_time = now;
    }
    // Priority 0 never; then the largest offset; then the smallest run ID.
    assert_eq!(s.select_slave(0), Some(3));
    s.masters[0].slaves[3].flags |= sri::S_DOWN;
    assert_eq!(s.select_slave(0), Some(1));
    s.masters[0].slaves[1].slave_priority = 200;
    assert_eq!(s.select_slave(0), Some(0));
    s.masters[0].slaves[0].info_refresh = 0;
    assert_eq!(s.select_slave(0), Some(1));
}
