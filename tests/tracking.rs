//! Client-side caching (CLIENT TRACKING) against real Redis 7.0.15: replies
//! and invalidation messages, RESP3 pushes and RESP2 redirection, across
//! connections, for every kind of write (commands, MULTI, expiry,
//! eviction, flushes), BCAST prefixes, OPTIN/OPTOUT, NOLOOP, the table
//! limit, and INFO fields.

mod common;
mod scenario;

use common::*;
use scenario::check;

#[test]
fn resp3_invalidation_after_reads() {
    check(
        "resp3-basic",
        &[],
        "[nd] 1 HELLO 3\n\
         [nd] 1 CLIENT ID\n\
         1 CLIENT TRACKING ON\n\
         0 MSET a 1 b 2 c 3\n\
         1 GET a\n\
         1 MGET b c nosuch\n\
         0 SET a 10\n\
         1 <\n\
         0 DEL b c\n\
         1 <\n\
         1 <\n\
         # Already invalidated: no second message.\n\
         0 SET a 11\n\
         0 INCR nosuch\n\
         1 <\n\
         # The client's own write: invalidation after its reply.\n\
         1 GET a\n\
         1 SET a 12\n\
         1 <\n\
         1 HSET h f 1\n\
         1 HGET h f\n\
         1 HDEL h f\n\
         1 <\n\
         1 CLIENT TRACKING OFF\n\
         1 GET a\n\
         0 SET a 13\n\
         1 PING\n",
    );
}

/// Scenarios that need a redirection to a client id: the id differs
/// between the two servers, so each script is built per server.
fn check_with_redirect(name: &str, args: &[&str], script: impl Fn(i64) -> String) {
    let redis = RedisServer::start(args);
    let ours = Server::start(args);
    // Connection 2 is the redirection target in every script: it is the
    // second connection opened (0 and 1 come first), so ask its id first.
    let ids: Vec<i64> = [redis.port, ours.port]
        .iter()
        .map(|&p| {
            let mut c0 = Conn::connect(p);
            let id = c0.cmd_int(&["CLIENT", "ID"]);
            drop(c0);
            id
        })
        .collect();
    let r = scenario::run_on(redis.port, &script(ids[0] + 3));
    let f = scenario::run_on(ours.port, &script(ids[1] + 3));
    scenario::compare(name, &r, &f);
}

#[test]
fn redirection_resp2_and_resp3() {
    // Connections open in order 0, 1, 2: 2 has id (first id + 3) since
    // the id probe used one id before.
    check_with_redirect("redirect", &[], |rid| {
        format!(
            "0 PING\n\
             1 PING\n\
             2 SUBSCRIBE __redis__:invalidate\n\
             1 CLIENT TRACKING ON REDIRECT {rid}\n\
             [nd] 1 CLIENT GETREDIR\n\
             0 MSET a 1 b 2\n\
             1 MGET a b\n\
             0 SET a 2\n\
             2 <\n\
             0 FLUSHALL\n\
             2 <\n\
             # Switching the target to RESP3: pushes instead of messages.\n\
             [nd] 2 HELLO 3\n\
             1 GET b\n\
             0 SET b 3\n\
             2 <\n\
             [nd] 1 CLIENT TRACKINGINFO\n\
             1 CLIENT TRACKING ON REDIRECT 99999\n\
             1 CLIENT TRACKING ON REDIRECT {rid} REDIRECT {rid}\n\
             1 CLIENT TRACKING ON PREFIX x\n\
             # The target leaves: a RESP3 client is told.\n\
             [nd] 3 HELLO 3\n\
             3 CLIENT TRACKING ON REDIRECT {rid}\n\
             3 GET c\n\
             2 QUIT\n\
             0 SET c 1\n\
             [nd] 3 <\n\
             [nd] 3 CLIENT TRACKINGINFO\n"
        )
    });
}

#[test]
fn bcast_prefixes_and_noloop() {
    check(
        "bcast",
        &[],
        "[nd] 1 HELLO 3\n\
         1 CLIENT TRACKING ON BCAST PREFIX user: PREFIX obj:\n\
         1 CLIENT TRACKINGINFO\n\
         0 SET user:1 a\n\
         0 SET other x\n\
         0 MSET obj:2 b user:3 c\n\
         1 PING\n\
         1 <\n\
         1 <\n\
         1 CLIENT TRACKING ON BCAST PREFIX use\n\
         1 CLIENT TRACKING ON BCAST PREFIX a PREFIX ab\n\
         1 CLIENT TRACKING ON PREFIX a\n\
         1 CLIENT TRACKING ON OPTIN\n\
         1 CLIENT TRACKING ON BCAST OPTIN\n\
         1 CLIENT TRACKING OFF\n\
         1 CLIENT TRACKING ON BCAST NOLOOP\n\
         1 SET mine 1\n\
         0 SET theirs 1\n\
         1 PING\n\
         1 <\n\
         [nd] 2 HELLO 3\n\
         2 CLIENT TRACKING ON BCAST\n\
         0 SET k1 v\n\
         2 PING\n\
         2 <\n\
         [nd] 0 INFO stats\n",
    );
}

#[test]
fn optin_optout_and_caching() {
    check(
        "optin",
        &[],
        "[nd] 1 HELLO 3\n\
         1 CLIENT CACHING YES\n\
         1 CLIENT TRACKING ON OPTIN\n\
         1 CLIENT CACHING NO\n\
         1 CLIENT CACHING MAYBE\n\
         0 MSET a 1 b 2\n\
         1 GET a\n\
         1 CLIENT CACHING YES\n\
         1 CLIENT TRACKINGINFO\n\
         1 GET b\n\
         1 CLIENT TRACKINGINFO\n\
         0 MSET a 3 b 4\n\
         1 <\n\
         1 CLIENT TRACKING ON OPTOUT\n\
         1 CLIENT TRACKING OFF\n\
         1 CLIENT TRACKING ON OPTOUT\n\
         1 CLIENT CACHING NO\n\
         1 GET a\n\
         1 GET b\n\
         0 MSET a 5 b 6\n\
         1 <\n\
         1 CLIENT TRACKING ON OPTIN OPTOUT\n\
         # CACHING applies to a whole transaction.\n\
         1 CLIENT TRACKING OFF\n\
         1 CLIENT TRACKING ON OPTIN\n\
         1 CLIENT CACHING YES\n\
         1 MULTI\n\
         1 GET a\n\
         1 GET b\n\
         1 EXEC\n\
         0 MSET a 7 b 8\n\
         1 <\n\
         1 <\n\
         1 CLIENT GETREDIR\n",
    );
}

#[test]
fn every_write_path_invalidates() {
    check(
        "write-paths",
        &[],
        "[nd] 1 HELLO 3\n\
         1 CLIENT TRACKING ON\n\
         0 DEBUG SET-ACTIVE-EXPIRE 0\n\
         # TTLs long enough for the GET to come first on a slow machine.\n\
         0 SET e1 v PX 1000\n\
         1 GET e1\n\
         sleep 1500\n\
         # Lazy expiry by another client's read.\n\
         0 GET e1\n\
         1 <\n\
         0 DEBUG SET-ACTIVE-EXPIRE 1\n\
         0 SET e2 v PX 1000\n\
         1 GET e2\n\
         # Active expiry (the read waits for it).\n\
         1 <\n\
         # MULTI: messages to the transaction's own client follow EXEC.\n\
         0 MSET m1 1 m2 2\n\
         1 MGET m1 m2\n\
         1 MULTI\n\
         1 INCR m1\n\
         1 GET m2\n\
         1 EXEC\n\
         1 <\n\
         0 MULTI\n\
         0 SET m2 x\n\
         0 DEL m1\n\
         0 EXEC\n\
         1 <\n\
         # Flushes: a null for everything.\n\
         1 GET f1\n\
         0 FLUSHDB\n\
         1 <\n\
         1 GET f2\n\
         0 FLUSHALL ASYNC\n\
         1 <\n\
         1 FLUSHALL\n\
         1 <\n\
         # SWAPDB invalidates nothing in Redis 7.0.\n\
         0 SWAPDB 0 1\n\
         1 MULTI\n\
         1 SET q 1\n\
         1 FLUSHDB\n\
         1 EXEC\n\
         1 <\n\
         # RENAME and blocking pops.\n\
         0 SET r1 a\n\
         1 GET r1\n\
         1 GET r2\n\
         0 RENAME r1 r2\n\
         1 <\n\
         1 <\n\
         0 RPUSH list2 a\n\
         1 LRANGE list2 0 -1\n\
         1 !BLMOVE list1 list2 LEFT LEFT 0\n\
         wait-blocked 1\n\
         0 RPUSH list1 foo\n\
         1 <\n\
         1 <\n",
    );
}

#[test]
fn eviction_invalidates_before_the_reply() {
    check(
        "eviction",
        &["--maxmemory-policy", "volatile-random"],
        "[nd] 1 HELLO 3\n\
         1 CLIENT TRACKING ON\n\
         1 SETEX volatile-key 10000 x\n\
         1 GET volatile-key\n\
         0 CONFIG SET maxmemory 1\n\
         1 GET nothing\n\
         1 <\n\
         0 CONFIG SET maxmemory 0\n",
    );
}

#[test]
fn tracking_table_limit_and_info() {
    check(
        "table-limit",
        &[],
        "[nd] 1 HELLO 3\n\
         1 CLIENT TRACKING ON\n\
         [nd] 0 INFO clients\n\
         [nd] 0 INFO stats\n\
         1 MGET k1 k2 k3 k4\n\
         0 CONFIG SET tracking-table-max-keys 1\n\
         [nd] 1 PING\n\
         [nd] 1 <\n\
         [nd] 1 <\n\
         [nd] 1 <\n\
         0 CONFIG SET tracking-table-max-keys 0\n\
         1 CLIENT TRACKING OFF\n",
    );
    // The table size and items as INFO counts them.
    let s = Server::start(&[]);
    let mut a = s.conn();
    let mut b = s.conn();
    a.cmd(&["HELLO", "3"]);
    b.cmd(&["HELLO", "3"]);
    a.cmd(&["CLIENT", "TRACKING", "ON"]);
    b.cmd(&["CLIENT", "TRACKING", "ON", "BCAST", "PREFIX", "p:"]);
    a.cmd(&["MGET", "x", "y", "z"]);
    b.cmd(&["MGET", "x", "y"]);
    let mut c = s.conn();
    assert_eq!(
        info_field(&mut c, "clients", "tracking_clients").as_deref(),
        Some("2")
    );
    assert_eq!(
        info_field(&mut c, "stats", "tracking_total_keys").as_deref(),
        Some("3")
    );
    assert_eq!(
        info_field(&mut c, "stats", "tracking_total_items").as_deref(),
        Some("3")
    );
    assert_eq!(
        info_field(&mut c, "stats", "tracking_total_prefixes").as_deref(),
        Some("1")
    );
    c.cmd(&["CONFIG", "SET", "tracking-table-max-keys", "1"]);
    c.cmd(&["PING"]);
    assert_eq!(
        info_field(&mut c, "stats", "tracking_total_keys").as_deref(),
        Some("1")
    );
    drop(b);
    assert!(wait_until(
        std::time::Duration::from_secs(5),
        || info_field(&mut c, "clients", "tracking_clients").as_deref() == Some("1")
    ));
    assert_eq!(
        info_field(&mut c, "stats", "tracking_total_prefixes").as_deref(),
        Some("0")
    );
}

#[test]
fn scripts_track_their_declared_keys_after_a_read() {
    check(
        "scripts",
        &[],
        "[nd] 1 HELLO 3\n\
         1 CLIENT TRACKING ON\n\
         0 MSET s1 1 s2 1\n\
         # No read: nothing tracked.\n\
         1 EVAL \"redis.call('set', 's3', 'x')\" 2 s1 s2\n\
         0 MSET s1 2 s2 2\n\
         1 PING\n\
         # A read: every declared key is tracked.\n\
         1 EVAL \"return redis.call('get', 's3')\" 2 s1 s2\n\
         0 MSET s2 3 s1 3\n\
         1 <\n\
         1 <\n\
         1 EVAL_RO \"return redis.call('get', 's1')\" 2 s1 s2\n\
         0 MSET s2 4 s1 4\n\
         1 <\n\
         1 <\n\
         # NOLOOP: the script's own writes send nothing back.\n\
         1 CLIENT TRACKING ON NOLOOP\n\
         1 GET s1\n\
         1 EVAL \"return redis.call('set', KEYS[1], '5')\" 1 s1\n\
         1 PING\n",
    );
}
