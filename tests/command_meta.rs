//! COMMAND INFO and COMMAND DOCS equal real Redis 7.0.15's for every
//! command and subcommand ferrodis has (nested order aside: Redis lists
//! subcommands in its dict's random order), in RESP2 and RESP3, and
//! COMMAND COUNT/LIST count what ferrodis has.

mod common;

use common::*;

#[test]
fn info_and_docs_match_redis_for_every_command() {
    let redis = RedisServer::start(&[]);
    let ours = Server::start(&[]);
    let (mut rc, mut fc) = (redis.conn(), ours.conn());
    let names: Vec<String> = parse(&fc.cmd(&["COMMAND", "LIST"]))
        .array()
        .iter()
        .map(Value::text)
        .collect();
    let top = names.iter().filter(|n| !n.contains('|')).count() as i64;
    assert_eq!(fc.cmd_int(&["COMMAND", "COUNT"]), top);
    assert!(names.len() > 200, "{} commands", names.len());
    let mut mismatches = Vec::new();
    for proto in ["2", "3"] {
        rc.cmd(&["HELLO", proto]);
        fc.cmd(&["HELLO", proto]);
        for name in &names {
            for sub in ["INFO", "DOCS"] {
                let r = deep_sort_reply(&rc.cmd(&["COMMAND", sub, name]));
                let f = deep_sort_reply(&fc.cmd(&["COMMAND", sub, name]));
                if r != f {
                    mismatches.push(format!(
                        "RESP{proto} COMMAND {sub} {name}\n    redis:    {}\n    ferrodis: {}",
                        escape(&r),
                        escape(&f)
                    ));
                }
            }
        }
    }
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
}
