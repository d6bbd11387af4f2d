//! The long Sentinel scenarios (`make sentinel-long`; ignored by `make
//! test`): a failover under a continuous write load, and a mixed quorum of
//! two real redis-sentinel processes and one ferrodis Sentinel watching a
//! real Redis group and a ferrodis group, where the ferrodis Sentinel wins
//! one election and loses the other.

mod common;
mod sentinel_common;

use common::*;
use sentinel_common::*;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::Arc;
use std::time::Duration;

const T: Duration = Duration::from_secs(60);

/// A writer keeps writing while the master is killed with SIGKILL; every
/// write acknowledged by `WAIT 1` before the kill is on the new master.
#[test]
#[ignore]
fn failover_under_write_load_keeps_acknowledged_writes() {
    let (m, replicas) = group(false, 2, &[]);
    let old = m.port;
    let sentinels = sentinels_watching(3, old, 2, 2);
    let acked = Arc::new(AtomicI64::new(-1));
    let stop = Arc::new(AtomicBool::new(false));
    let writer = {
        let (acked, stop) = (acked.clone(), stop.clone());
        std::thread::spawn(move || {
            let Ok(mut c) = Conn::try_connect(old) else {
                return 0;
            };
            let mut i: i64 = 0;
            while !stop.load(Ordering::Relaxed) {
                let k = format!("k{i}");
                if !c
                    .try_cmd(&["SET", &k, &i.to_string()])
                    .is_ok_and(|r| r == b"+OK\r\n")
                {
                    break;
                }
                if i % 50 == 49 {
                    match c.try_cmd(&["WAIT", "1", "1000"]) {
                        Ok(r) if parse_int_reply(&r).unwrap_or(0) >= 1 => {
                            acked.store(i, Ordering::SeqCst)
                        }
                        Ok(_) => {}
                        Err(_) => break,
                    }
                }
                i += 1;
            }
            i
        })
    };
    assert!(
        wait_until(T, || acked.load(Ordering::SeqCst) > 5000),
        "writes too slow"
    );
    drop(m);
    let written = writer.join().expect("writer");
    stop.store(true, Ordering::Relaxed);
    let acked = acked.load(Ordering::SeqCst);
    assert!(acked > 0 && written > acked);
    for s in &sentinels {
        assert!(wait_until(T, || s
            .master_port("mymaster")
            .is_some_and(|p| p != old)));
    }
    let new = sentinels[0].master_port("mymaster").expect("new master");
    let promoted = replicas
        .iter()
        .find(|r| r.port == new)
        .expect("a replica was promoted");
    assert!(wait_until(T, || role(promoted) == "master"));
    let mut c = promoted.conn();
    for i in 0..=acked {
        let want = i.to_string();
        assert_eq!(
            c.cmd(&["GET", &format!("k{i}")]),
            format!("${}\r\n{want}\r\n", want.len()).as_bytes(),
            "acknowledged write k{i} lost (acked up to {acked}, written {written})"
        );
    }
    for r in replicas.iter().filter(|r| r.port != new) {
        assert!(wait_until(T, || follows(r, new)));
    }
}

/// Two real redis-sentinel processes and one ferrodis Sentinel watch a real
/// Redis group ("realgrp") and a ferrodis group ("fergrp"). The ferrodis
/// Sentinel alone has quorum 1 and a short down-after for fergrp: it wins
/// that election. For realgrp one real Sentinel has them: it wins, and the
/// ferrodis Sentinel votes for it and follows its new configuration.
#[test]
#[ignore]
fn mixed_quorum_with_real_sentinels() {
    let (rm, rreplicas) = group(true, 2, &[]);
    let (fm, freplicas) = group(false, 2, &[]);
    let watch = |name: &str, port: u16, quorum: u32, down: u32| {
        format!(
            "sentinel monitor {name} 127.0.0.1 {port} {quorum}\n\
             sentinel down-after-milliseconds {name} {down}\n\
             sentinel failover-timeout {name} 20000\n"
        )
    };
    let leader_real = Sentinel::start(
        true,
        &(watch("realgrp", rm.port, 1, 1000) + &watch("fergrp", fm.port, 2, 6000)),
    );
    let other_real = Sentinel::start(
        true,
        &(watch("realgrp", rm.port, 2, 6000) + &watch("fergrp", fm.port, 2, 6000)),
    );
    let ours = Sentinel::start(
        false,
        &(watch("realgrp", rm.port, 2, 6000) + &watch("fergrp", fm.port, 1, 1000)),
    );
    let all = [&leader_real, &other_real, &ours];
    for s in all {
        s.fast_periods();
        for g in ["realgrp", "fergrp"] {
            assert!(
                wait_until(T, || s.master_field(g, "num-other-sentinels").as_deref()
                    == Some("2")
                    && s.master_field(g, "num-slaves").as_deref() == Some("2")),
                "sentinel {} ({}) did not discover {g}",
                s.port,
                if s.real { "redis" } else { "ferrodis" }
            );
        }
    }
    let (rold, fold) = (rm.port, fm.port);
    drop(rm);
    drop(fm);
    for s in all {
        for (g, old) in [("realgrp", rold), ("fergrp", fold)] {
            assert!(
                wait_until(T, || s.master_port(g).is_some_and(|p| p != old)),
                "sentinel {} never switched {g}",
                s.port
            );
        }
    }
    let rnew = ours.master_port("realgrp").expect("realgrp");
    let fnew = ours.master_port("fergrp").expect("fergrp");
    for s in all {
        assert_eq!(s.master_port("realgrp"), Some(rnew));
        assert_eq!(s.master_port("fergrp"), Some(fnew));
    }
    assert!(rreplicas.iter().any(|r| r.port == rnew));
    assert!(freplicas.iter().any(|r| r.port == fnew));
    let ours_log = ours.log();
    assert!(
        ours_log.contains("+elected-leader master fergrp"),
        "ferrodis did not lead fergrp"
    );
    assert!(
        !ours_log.contains("+elected-leader master realgrp"),
        "ferrodis led realgrp"
    );
    assert!(leader_real.log().contains("+elected-leader master realgrp"));
    assert!(ours_log.contains("+switch-master realgrp"));
    for r in rreplicas.iter().filter(|r| r.port != rnew) {
        assert!(wait_until(T, || follows(r, rnew)));
    }
    for r in freplicas.iter().filter(|r| r.port != fnew) {
        assert!(wait_until(T, || follows(r, fnew)));
    }
}
