//! The Redis 7.0 commands of issue 8 that belong to no other family
//! (GEO*, LOLWUT, OBJECT FREQ, MEMORY, LATENCY HISTOGRAM, PFDEBUG, MODULE,
//! DEBUG PROTOCOL/LOADAOF/QUICKLIST-PACKED-THRESHOLD): what a byte-diff
//! script cannot show. Writes reach replicas (ferrodis and real Redis)
//! with equal DEBUG DIGESTs.

mod common;

use common::*;
use std::time::Duration;

const SYNC_TIMEOUT: Duration = Duration::from_secs(30);

fn s(r: &[u8]) -> String {
    String::from_utf8_lossy(r).into_owned()
}

fn offset(c: &mut Conn) -> i64 {
    info_field(c, "replication", "master_repl_offset")
        .and_then(|v| v.parse().ok())
        .unwrap_or(-1)
}

/// Attaches `replica` to `master` and waits for the link.
fn attach(master: &Server, replica: &Server) {
    let mut r = replica.conn();
    assert_eq!(
        s(&r.cmd(&["REPLICAOF", "127.0.0.1", &master.port.to_string()])),
        "+OK\r\n"
    );
    assert!(
        wait_until(SYNC_TIMEOUT, || info_field(
            &mut r,
            "replication",
            "master_link_status"
        )
        .as_deref()
            == Some("up")),
        "{} replica never linked",
        replica.name
    );
}

/// Waits until every replica applied the master's whole stream, then
/// compares DEBUG DIGEST everywhere.
fn assert_replicas_match(master: &Server, replicas: &[&Server]) {
    let mut m = master.conn();
    let want = offset(&mut m);
    let digest = s(&m.cmd(&["DEBUG", "DIGEST"]));
    assert_ne!(digest, format!("+{}\r\n", "0".repeat(40)), "empty dataset");
    for r in replicas {
        let mut rc = r.conn();
        assert!(
            wait_until(SYNC_TIMEOUT, || offset(&mut rc) >= want),
            "{} replica stuck behind offset {want}",
            r.name
        );
        assert_eq!(
            s(&rc.cmd(&["DEBUG", "DIGEST"])),
            digest,
            "{} replica",
            r.name
        );
    }
}

#[test]
fn geo_writes_reach_replicas_with_equal_digests() {
    let m = Server::start(&[]);
    let r1 = Server::start(&[]);
    let r2 = RedisServer::start(&[]);
    attach(&m, &r1);
    attach(&m, &r2);
    let mut c = m.conn();
    let cmds: &[&[&str]] = &[
        &[
            "GEOADD",
            "pts",
            "13.361389",
            "38.115556",
            "Palermo",
            "15.087269",
            "37.502669",
            "Catania",
        ],
        &[
            "GEOADD", "pts", "NX", "CH", "2.35", "48.85", "Paris", "13.36", "38.11", "Palermo",
        ],
        &[
            "GEOADD", "pts", "XX", "CH", "13.4", "38.2", "Palermo", "0", "0", "Nowhere",
        ],
        &[
            "GEOADD", "pts", "-179.99", "10", "west", "179.99", "10", "east",
        ],
        &[
            "GEOSEARCHSTORE",
            "near",
            "pts",
            "FROMLONLAT",
            "15",
            "37",
            "BYRADIUS",
            "300",
            "km",
        ],
        &[
            "GEOSEARCHSTORE",
            "dists",
            "pts",
            "FROMMEMBER",
            "Paris",
            "BYBOX",
            "4000",
            "4000",
            "km",
            "STOREDIST",
            "DESC",
            "COUNT",
            "2",
        ],
        &["GEORADIUS", "pts", "15", "37", "300", "km", "STORE", "r1"],
        &[
            "GEORADIUS",
            "pts",
            "179.995",
            "10",
            "50",
            "km",
            "STOREDIST",
            "r2",
        ],
        &[
            "GEORADIUSBYMEMBER",
            "pts",
            "Catania",
            "1000",
            "km",
            "STORE",
            "r3",
        ],
        &["SET", "gone", "x"],
        &[
            "GEOSEARCHSTORE",
            "gone",
            "pts",
            "FROMLONLAT",
            "0",
            "60",
            "BYRADIUS",
            "1",
            "m",
        ],
        &[
            "GEOSEARCHSTORE",
            "r3",
            "missing",
            "FROMLONLAT",
            "0",
            "0",
            "BYRADIUS",
            "1",
            "km",
        ],
    ];
    for args in cmds {
        let r = c.cmd(args);
        assert!(!r.starts_with(b"-"), "{args:?}: {}", s(&r));
    }
    assert_eq!(c.cmd_int(&["EXISTS", "gone", "r3"]), 0);
    assert_eq!(c.cmd_int(&["ZCARD", "near"]), 2);
    assert_eq!(c.cmd_int(&["ZCARD", "r2"]), 2);
    assert_replicas_match(&m, &[&r1, &r2]);
}
