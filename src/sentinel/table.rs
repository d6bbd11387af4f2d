//! Sentinel's command table (Redis 7.0's sentinel mode serves 15
//! commands): its own SENTINEL, INFO, ROLE and PUBLISH, and the connection
//! and Pub/Sub commands shared with the server.

use crate::cmd::flag::*;
use crate::cmd::table::{spec, CommandSpec, Proc, Srv};

/// Commands of the normal table a Sentinel serves as they are.
pub const SHARED: &[&str] = &[
    "acl",
    "auth",
    "client",
    "command",
    "hello",
    "ping",
    "psubscribe",
    "punsubscribe",
    "shutdown",
    "subscribe",
    "unsubscribe",
];

pub static COMMANDS: &[CommandSpec] = &[
    spec(
        "sentinel",
        Proc::Srv(Srv::Sentinel),
        -2,
        ADMIN | SENTINEL,
        0,
        0,
        0,
        "sentinel",
    ),
    spec(
        "info",
        Proc::Srv(Srv::SentinelInfo),
        -1,
        LOADING | STALE | SENTINEL,
        0,
        0,
        0,
        "sentinel",
    ),
    spec(
        "role",
        Proc::Srv(Srv::SentinelRole),
        1,
        NOSCRIPT | LOADING | STALE | FAST | SENTINEL,
        0,
        0,
        0,
        "sentinel",
    ),
    spec(
        "publish",
        Proc::Srv(Srv::SentinelPublish),
        3,
        PUBSUB | LOADING | STALE | FAST | SENTINEL,
        0,
        0,
        0,
        "sentinel",
    ),
];
