//! Pub/Sub and keyspace notifications compared with a real Redis 7.0.15:
//! every scenario runs against both servers (several connections each) and
//! every reply and pushed message must be byte-identical. Plus PUBLISH
//! reaching a replica's subscribers.

mod common;
mod scenario;

use common::{info_field, wait_until, Server};
use scenario::check;
use std::time::Duration;

#[test]
fn subscribe_reply_shapes_resp2() {
    check(
        "resp2",
        &[],
        r#"
0 SUBSCRIBE a b a
0 <
0 <
0 PSUBSCRIBE p* q?
0 <
0 GET x
0 SET x 1
0 MULTI
0 PUBSUB CHANNELS
0 CONFIG SET maxmemory 0
0 PING
0 PING hello
0 SUBSCRIBE c
1 PUBLISH a hi
0 <
1 PUBLISH pz there
0 <
1 PUBLISH nobody x
1 PUBLISH "" x
0 UNSUBSCRIBE a nosuch
0 <
# with no argument, the order is Redis's dict order (random seed)
[nd] 0 UNSUBSCRIBE
[nd] 0 <
0 UNSUBSCRIBE c
0 PUNSUBSCRIBE
0 <
0 UNSUBSCRIBE
0 PUNSUBSCRIBE
0 GET x
0 PSUBSCRIBE x*
0 RESET
0 GET x
1 PUBLISH xyz gone
0 UNSUBSCRIBE
0 PUNSUBSCRIBE nothing
0 SUBSCRIBE
0 PSUBSCRIBE
"#,
    );
}

#[test]
fn subscribe_reply_shapes_resp3() {
    check(
        "resp3",
        &[],
        r#"
[nd] 0 HELLO 3
0 SUBSCRIBE a b
0 <
0 PSUBSCRIBE p*
0 GET x
0 SET x 1
0 PING
0 PING hi
1 PUBLISH a m1
0 <
1 PUBLISH pp m2
0 <
0 HGETALL nosuch
[nd] 0 UNSUBSCRIBE
[nd] 0 <
0 PUNSUBSCRIBE p*
0 UNSUBSCRIBE
# HELLO 2 while subscribed, then the RESP2 restrictions apply
0 SUBSCRIBE a
[nd] 0 HELLO 2
0 GET x
0 RESET
"#,
    );
}

#[test]
fn fan_out_order_and_counts() {
    check(
        "fanout",
        &[],
        r#"
0 SUBSCRIBE news
1 SUBSCRIBE news sport
1 <
2 PSUBSCRIBE n*
3 SUBSCRIBE news
3 PSUBSCRIBE new?
4 PUBLISH news one
4 PUBLISH news two
4 PUBLISH sport three
4 PUBLISH nx four
0 <
0 <
1 <
1 <
1 <
2 <
2 <
2 <
3 <
3 <
3 <
3 <
[sort] 4 PUBSUB CHANNELS
[sort] 4 PUBSUB CHANNELS n*
4 PUBSUB CHANNELS nomatch*
4 PUBSUB NUMSUB news sport none
4 PUBSUB NUMSUB
4 PUBSUB NUMPAT
4 PUBSUB NUMPAT extra
4 PUBSUB SHARDCHANNELS
4 PUBSUB SHARDNUMSUB x
4 PUBSUB nosuch
4 PUBSUB
1 UNSUBSCRIBE news
4 PUBSUB NUMSUB news
2 PUNSUBSCRIBE
4 PUBSUB NUMPAT
[nd] 4 HELLO 3
4 PUBSUB NUMSUB news sport
# a message too big for one read, and binary payloads
4 PUBLISH news "\x00\r\nbin\xff"
0 <
3 <
3 <
# 1 left news: the reply to its PING comes first (a read waiting for
# nothing would only time out)
1 PING
"#,
    );
}

#[test]
fn client_kill_subscribed_and_blocked() {
    check(
        "kill",
        &[],
        r#"
0 SUBSCRIBE ch
1 PSUBSCRIBE c*
2 !BLPOP l 0
wait-blocked 1
3 PUBSUB NUMSUB ch
3 CLIENT KILL TYPE pubsub
3 PUBSUB NUMSUB ch
3 PUBSUB NUMPAT
3 PUBLISH ch x
3 CLIENT KILL TYPE normal SKIPME yes
3 LPUSH l a
3 LLEN l
0 <
"#,
    );
}

/// A long sequence over every type with notifications for everything: the
/// exact event stream (order, channel, payload) must match.
const EVENTS_SCRIPT: &str = r#"
0 PSUBSCRIBE __key*__:*
0 SUBSCRIBE end
1 SET s v
1 SET s v2 EX 100
1 APPEND s x
1 INCR n
1 INCRBY n 5
1 DECR n
1 INCRBYFLOAT f 1.5
1 SETRANGE s 0 ab
1 GETDEL s
1 MSET a 1 b 2
1 SETNX a 3
1 GETEX a PX 100000
1 GETEX a PERSIST
1 EXPIRE a 100
1 PEXPIREAT a 99999999999999
1 PERSIST a
1 RENAME a a2
1 COPY a2 a3
1 MOVE a3 2
1 DEL a2 b nosuch
1 RPUSH l a b c d
1 LPUSH l z
1 LINSERT l BEFORE a y
1 LSET l 0 q
1 LTRIM l 0 3
1 LPOP l
1 RPOPLPUSH l l2
1 LMOVE l2 l LEFT RIGHT
1 LREM l 0 b
1 RPOP l 10
1 HSET h f 1 g 2
1 HINCRBY h f 2
1 HINCRBYFLOAT h f 0.5
1 HDEL h f g
1 SADD st a b c
1 SREM st a
1 SMOVE st st2 b
1 SPOP st
1 SINTERSTORE si st2 st2
1 SUNIONSTORE su st2 nosuch
1 ZADD z 1 a 2 b 3 c
1 ZINCRBY z 1 a
1 ZREM z a
1 ZPOPMIN z
1 ZREMRANGEBYSCORE z 0 10
1 ZADD z2 1 x
1 ZUNIONSTORE zu 1 z2
1 ZINTERSTORE zi 1 nosuch
1 SETBIT bm 3 1
1 BITOP OR bo bm bm
1 PFADD hl a b
1 PFMERGE hl2 hl
1 SORT l2 STORE sorted
1 SET t 1 PX 50
sleep 150
1 GET t
1 SET t2 1
1 SWAPDB 0 1
1 SWAPDB 0 1
1 FLUSHDB
1 SELECT 3
1 SET in3 1
1 DEL in3
1 SELECT 0
1 MULTI
1 SET m 1
1 DEL m
1 EXEC
1 PUBLISH end __end__
0 << __end__
"#;

#[test]
fn keyspace_events_match_redis() {
    let script = format!("0 CONFIG SET notify-keyspace-events KEA\n{EVENTS_SCRIPT}");
    check("events", &[], &script);
}

#[test]
fn keyspace_events_active_expiry_and_eviction() {
    check(
        "expiry-evict",
        &[],
        r#"
1 CONFIG SET notify-keyspace-events Exe
0 PSUBSCRIBE __key*__:*
0 SUBSCRIBE end
1 SET t 1 PX 20
# The expired event, sent by active expiry.
0 <
1 SET victim 1
1 CONFIG SET maxmemory-policy allkeys-random
1 CONFIG SET maxmemory 1
1 SET other 1
1 CONFIG SET maxmemory 0
1 PUBLISH end __end__
0 << __end__
"#,
    );
}

#[test]
fn keyspace_event_flag_selection() {
    let mut script = String::new();
    for flags in [
        "Kx", "E$", "Kl", "Eg", "K$lshz", "Exg", "KEA", "Et", "En", "Em", "KEmn", "A", "K", "",
        "KA",
    ] {
        script.push_str(&format!(
            "1 CONFIG SET notify-keyspace-events \"{flags}\"\n1 CONFIG GET notify-keyspace-events\n"
        ));
        script.push_str(
            r#"
0 PSUBSCRIBE __key*__:*
0 SUBSCRIBE end
1 SET s 1
1 GET nokey
1 SET newkey 1
1 EXPIRE s 100
1 RPUSH l a
1 HSET h f v
1 SADD st m
1 ZADD z 1 m
1 DEL s l h st z newkey
1 SET t 1 PX 1
sleep 20
1 GET t
1 PUBLISH end __end__
0 << __end__
0 UNSUBSCRIBE
0 PUNSUBSCRIBE
"#,
        );
    }
    check("flags", &[], &script);
}

#[test]
fn keyspace_event_reaches_the_writer_first_resp3() {
    check(
        "self",
        &[],
        r#"
0 CONFIG SET notify-keyspace-events KA
[nd] 0 HELLO 3
0 SUBSCRIBE __keyspace@0__:k
0 SET k 1
0 <
0 DEL k
0 <
0 RPUSH k a b
0 <
"#,
    );
}

#[test]
fn publish_reaches_replica_subscribers() {
    // No 5 s diskless-sync delay before the link comes up.
    let m = Server::start(&["--repl-diskless-sync-delay", "0"]);
    let port = m.port.to_string();
    let s = Server::start(&["--replicaof", "127.0.0.1", &port]);
    assert!(wait_until(Duration::from_secs(30), || {
        let mut c = s.conn();
        info_field(&mut c, "replication", "master_link_status").as_deref() == Some("up")
    }));
    let mut sub = s.conn();
    assert_eq!(
        sub.cmd(&["SUBSCRIBE", "ch"]),
        b"*3\r\n$9\r\nsubscribe\r\n$2\r\nch\r\n:1\r\n"
    );
    let mut psub = s.conn();
    psub.cmd(&["PSUBSCRIBE", "c*"]);
    let mut mc = m.conn();
    // Nobody listens on the master itself.
    assert_eq!(mc.cmd_int(&["PUBLISH", "ch", "hello"]), 0);
    assert_eq!(
        sub.read_reply(),
        b"*3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$5\r\nhello\r\n"
    );
    assert_eq!(
        psub.read_reply(),
        b"*4\r\n$8\r\npmessage\r\n$2\r\nc*\r\n$2\r\nch\r\n$5\r\nhello\r\n"
    );
    // Inside a transaction too.
    mc.cmd(&["MULTI"]);
    mc.cmd(&["SET", "k", "v"]);
    mc.cmd(&["PUBLISH", "ch", "tx"]);
    mc.cmd(&["EXEC"]);
    assert_eq!(
        sub.read_reply(),
        b"*3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$2\r\ntx\r\n"
    );
}

/// client-output-buffer-limit pubsub: a subscriber that never reads is
/// disconnected once its pending output passes the hard limit; the
/// publisher and the server carry on.
#[test]
fn slow_subscriber_is_dropped_at_the_output_buffer_limit() {
    let s = common::Server::start(&["--client-output-buffer-limit", "pubsub 1mb 0 0"]);
    let mut sub = s.conn();
    sub.cmd(&["SUBSCRIBE", "flood"]);
    let mut publisher = s.conn();
    let payload = "x".repeat(100_000);
    let mut gone = false;
    for _ in 0..400 {
        publisher.cmd(&["PUBLISH", "flood", &payload]);
        if publisher.cmd(&["PUBSUB", "NUMSUB", "flood"]) == b"*2\r\n$5\r\nflood\r\n:0\r\n" {
            gone = true;
            break;
        }
    }
    assert!(gone, "the subscriber was never dropped");
    assert!(s.log().contains("overcoming of output buffer limits"));
    assert_eq!(publisher.cmd(&["PING"]), b"+PONG\r\n");
}

/// Pub/Sub confirmations and messages are pushes: CLIENT REPLY OFF does not
/// silence them (Redis's CLIENT_PUSHING; the unit/pubsub test of the same
/// name hung before).
#[test]
fn pubsub_pushes_despite_client_reply_off() {
    check(
        "reply-off",
        &[],
        r#"
[nd] 0 HELLO 3
0 !CLIENT REPLY OFF
0 SUBSCRIBE channel
0 PSUBSCRIBE ch*
0 !CLIENT REPLY OFF
1 PUBLISH channel hello
0 <
0 <
0 !CLIENT REPLY OFF
0 UNSUBSCRIBE channel
0 PUNSUBSCRIBE ch*
0 CLIENT REPLY ON
0 PING
"#,
    );
}

#[test]
fn pushes_reach_clients_under_client_reply_off() {
    // Pub/Sub pushes are not replies: CLIENT REPLY OFF|SKIP do not drop
    // them (Redis's CLIENT_PUSHING), in RESP3 and RESP2 alike.
    check(
        "reply-off-resp3",
        &[],
        r#"
[nd] 0 HELLO 3
0 !CLIENT REPLY OFF
0 SUBSCRIBE ch
0 PSUBSCRIBE c*
0 !SET k v
0 !GET k
1 PUBLISH ch hello
0 <
0 <
0 PUBLISH ch self
0 <
0 UNSUBSCRIBE ch
0 PUNSUBSCRIBE
0 CLIENT REPLY ON
0 GET k
0 !CLIENT REPLY SKIP
0 SUBSCRIBE other
0 GET k
"#,
    );
    check(
        "reply-skip-resp2",
        &[],
        r#"
0 !CLIENT REPLY SKIP
0 SUBSCRIBE a
1 PUBLISH a msg
0 <
0 !CLIENT REPLY OFF
0 UNSUBSCRIBE a
0 PING
"#,
    );
}
