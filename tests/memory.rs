//! Memory that must not stay behind: one huge request (a 100,000-argument
//! SADD) grows the query buffer, the argument vector and the replication
//! scratch; once its key is deleted, used_memory is back near where it was
//! (Redis's lazyfree test checks the same through UNLINK).

mod common;

use common::{info_field, Conn, Server};

fn used_memory(c: &mut Conn) -> i64 {
    info_field(c, "memory", "used_memory")
        .and_then(|v| v.parse().ok())
        .expect("used_memory")
}

#[test]
fn a_huge_request_leaves_nothing_behind() {
    let s = Server::start(&[]);
    let mut c = s.conn();
    // Warm up: the backlog and the usual scratch buffers exist already;
    // no per-command latency histogram is allocated on the way.
    c.cmd(&["CONFIG", "SET", "latency-tracking", "no"]);
    c.cmd(&["SET", "warm", "up"]);
    let before = used_memory(&mut c);
    let members: Vec<String> = (0..100_000).map(|i| i.to_string()).collect();
    let mut args: Vec<&[u8]> = vec![b"SADD", b"myset"];
    args.extend(members.iter().map(|m| m.as_bytes()));
    c.send(&args);
    assert_eq!(c.read_reply(), b":100000\r\n");
    let peak = used_memory(&mut c);
    assert!(peak > before + 1_000_000, "peak {peak}, before {before}");
    assert_eq!(c.cmd(&["UNLINK", "myset"]), b":1\r\n");
    let after = used_memory(&mut c);
    assert!(
        after < before + 256 * 1024,
        "before {before}, peak {peak}, after {after}"
    );
}
