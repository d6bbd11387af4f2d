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

/// Every container's subcommands are told apart before they run, as
/// Redis 7.0's lookupCommand does: INFO commandstats names the subcommand
/// (cmdstat_cluster|info, cmdstat_object|encoding), an unknown one or a
/// wrong arity is refused with the container's or subcommand's name.
#[test]
fn containers_resolve_their_subcommands_as_redis() {
    require_tool("redis-server");
    let f = Server::start(&[]);
    let r = RedisServer::start(&[]);
    let script: &[&[&str]] = &[
        &["SET", "x", "1"],
        &["OBJECT", "ENCODING", "x"],
        &["OBJECT", "FREQ", "x"],
        &["OBJECT", "foo"],
        &["OBJECT", "ENCODING"],
        &["MEMORY", "USAGE", "nokey"],
        &["MEMORY", "foo"],
        &["SCRIPT", "EXISTS", "a"],
        &["SCRIPT", "foo"],
        &["FUNCTION", "LIST"],
        &["FUNCTION", "foo", "x"],
        &["PUBSUB", "CHANNELS"],
        &["PUBSUB", "NUMSUB", "a"],
        &["PUBSUB", "foo"],
        &["LATENCY", "LATEST"],
        &["LATENCY", "foo"],
        &["CLUSTER", "INFO"],
        &["CLUSTER", "KEYSLOT"],
        &["CLUSTER", "foo"],
        &["MODULE", "LIST"],
        &["MODULE", "foo"],
        &["OBJECT"],
    ];
    let names = |s: &Server| -> Vec<String> {
        let mut c = s.conn();
        let mut replies = Vec::new();
        for args in script {
            replies.push(String::from_utf8_lossy(&c.cmd(args)).into_owned());
        }
        let info = c.cmd_str(&["INFO", "commandstats"]);
        let mut stats: Vec<String> = info
            .lines()
            .filter_map(|l| l.split(':').next())
            .filter(|n| n.starts_with("cmdstat_") && *n != "cmdstat_info")
            .map(String::from)
            .collect();
        stats.sort();
        replies.extend(stats);
        replies
    };
    let (a, b) = (names(&f), names(&r));
    assert_eq!(a, b);
    assert!(a.iter().any(|n| n == "cmdstat_cluster|info"));
}
