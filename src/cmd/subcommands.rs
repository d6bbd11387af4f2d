//! Subcommand tables of the containers whose subcommands ferrodis tells
//! apart before running them (arity and flags per subcommand, as Redis 7.0:
//! `cmd::meta_tests` checks them against the generated metadata). A
//! container listed here answers `unknown subcommand` for anything else.

use super::flag::*;
use super::table::{spec, CommandSpec, Proc::Srv as S, Srv};

#[rustfmt::skip]
pub static CLIENT_SUBS: &[CommandSpec] = &[
    spec("client|caching", S(Srv::Client), 3, NOSCRIPT | LOADING | STALE | SENTINEL, 0, 0, 0, "connection"),
    spec("client|getname", S(Srv::Client), 2, NOSCRIPT | LOADING | STALE | SENTINEL, 0, 0, 0, "connection"),
    spec("client|getredir", S(Srv::Client), 2, NOSCRIPT | LOADING | STALE | SENTINEL, 0, 0, 0, "connection"),
    spec("client|help", S(Srv::Client), 2, LOADING | STALE | SENTINEL, 0, 0, 0, "connection"),
    spec("client|id", S(Srv::Client), 2, NOSCRIPT | LOADING | STALE | SENTINEL, 0, 0, 0, "connection"),
    spec("client|info", S(Srv::Client), 2, NOSCRIPT | LOADING | STALE | SENTINEL, 0, 0, 0, "connection"),
    spec("client|kill", S(Srv::Client), -3, ADMIN | NOSCRIPT | LOADING | STALE | SENTINEL, 0, 0, 0, "connection"),
    spec("client|list", S(Srv::Client), -2, ADMIN | NOSCRIPT | LOADING | STALE | SENTINEL, 0, 0, 0, "connection"),
    spec("client|no-evict", S(Srv::Client), 3, ADMIN | NOSCRIPT | LOADING | STALE | SENTINEL, 0, 0, 0, "connection"),
    spec("client|pause", S(Srv::Client), -3, ADMIN | NOSCRIPT | LOADING | STALE | SENTINEL, 0, 0, 0, "connection"),
    spec("client|reply", S(Srv::Client), 3, NOSCRIPT | LOADING | STALE | SENTINEL, 0, 0, 0, "connection"),
    spec("client|setname", S(Srv::Client), 3, NOSCRIPT | LOADING | STALE | SENTINEL, 0, 0, 0, "connection"),
    spec("client|tracking", S(Srv::Client), -3, NOSCRIPT | LOADING | STALE | SENTINEL, 0, 0, 0, "connection"),
    spec("client|trackinginfo", S(Srv::Client), 2, NOSCRIPT | LOADING | STALE | SENTINEL, 0, 0, 0, "connection"),
    spec("client|unblock", S(Srv::Client), -3, ADMIN | NOSCRIPT | LOADING | STALE | SENTINEL, 0, 0, 0, "connection"),
    spec("client|unpause", S(Srv::Client), 2, ADMIN | NOSCRIPT | LOADING | STALE | SENTINEL, 0, 0, 0, "connection"),
];

#[rustfmt::skip]
pub static CONFIG_SUBS: &[CommandSpec] = &[
    spec("config|get", S(Srv::Config), -3, ADMIN | NOSCRIPT | LOADING | STALE, 0, 0, 0, "server"),
    spec("config|help", S(Srv::Config), 2, LOADING | STALE, 0, 0, 0, "server"),
    spec("config|resetstat", S(Srv::Config), 2, ADMIN | NOSCRIPT | LOADING | STALE, 0, 0, 0, "server"),
    spec("config|rewrite", S(Srv::Config), 2, ADMIN | NOSCRIPT | LOADING | STALE, 0, 0, 0, "server"),
    spec("config|set", S(Srv::Config), -4, ADMIN | NOSCRIPT | LOADING | STALE, 0, 0, 0, "server"),
];

#[rustfmt::skip]
pub static COMMAND_SUBS: &[CommandSpec] = &[
    spec("command|count", S(Srv::Command), 2, LOADING | STALE | SENTINEL, 0, 0, 0, "server"),
    spec("command|docs", S(Srv::Command), -2, LOADING | STALE | SENTINEL, 0, 0, 0, "server"),
    spec("command|getkeys", S(Srv::Command), -4, LOADING | STALE | SENTINEL, 0, 0, 0, "server"),
    spec("command|getkeysandflags", S(Srv::Command), -4, LOADING | STALE | SENTINEL, 0, 0, 0, "server"),
    spec("command|help", S(Srv::Command), 2, LOADING | STALE | SENTINEL, 0, 0, 0, "server"),
    spec("command|info", S(Srv::Command), -2, LOADING | STALE | SENTINEL, 0, 0, 0, "server"),
    spec("command|list", S(Srv::Command), -2, LOADING | STALE | SENTINEL, 0, 0, 0, "server"),
];

#[rustfmt::skip]
pub static SLOWLOG_SUBS: &[CommandSpec] = &[
    spec("slowlog|get", S(Srv::Slowlog), -2, ADMIN | LOADING | STALE, 0, 0, 0, "server"),
    spec("slowlog|help", S(Srv::Slowlog), 2, LOADING | STALE, 0, 0, 0, "server"),
    spec("slowlog|len", S(Srv::Slowlog), 2, ADMIN | LOADING | STALE, 0, 0, 0, "server"),
    spec("slowlog|reset", S(Srv::Slowlog), 2, ADMIN | LOADING | STALE, 0, 0, 0, "server"),
];

#[rustfmt::skip]
pub static ACL_SUBS: &[CommandSpec] = &[
    spec("acl|cat", S(Srv::Acl), -2, NOSCRIPT | LOADING | STALE | SENTINEL, 0, 0, 0, "server"),
    spec("acl|deluser", S(Srv::Acl), -3, ADMIN | NOSCRIPT | LOADING | STALE | SENTINEL, 0, 0, 0, "server"),
    spec("acl|dryrun", S(Srv::Acl), -4, ADMIN | NOSCRIPT | LOADING | STALE | SENTINEL, 0, 0, 0, "server"),
    spec("acl|genpass", S(Srv::Acl), -2, NOSCRIPT | LOADING | STALE | SENTINEL, 0, 0, 0, "server"),
    spec("acl|getuser", S(Srv::Acl), 3, ADMIN | NOSCRIPT | LOADING | STALE | SENTINEL, 0, 0, 0, "server"),
    spec("acl|help", S(Srv::Acl), 2, LOADING | STALE | SENTINEL, 0, 0, 0, "server"),
    spec("acl|list", S(Srv::Acl), 2, ADMIN | NOSCRIPT | LOADING | STALE | SENTINEL, 0, 0, 0, "server"),
    spec("acl|load", S(Srv::Acl), 2, ADMIN | NOSCRIPT | LOADING | STALE | SENTINEL, 0, 0, 0, "server"),
    spec("acl|log", S(Srv::Acl), -2, ADMIN | NOSCRIPT | LOADING | STALE | SENTINEL, 0, 0, 0, "server"),
    spec("acl|save", S(Srv::Acl), 2, ADMIN | NOSCRIPT | LOADING | STALE | SENTINEL, 0, 0, 0, "server"),
    spec("acl|setuser", S(Srv::Acl), -3, ADMIN | NOSCRIPT | LOADING | STALE | SENTINEL, 0, 0, 0, "server"),
    spec("acl|users", S(Srv::Acl), 2, ADMIN | NOSCRIPT | LOADING | STALE | SENTINEL, 0, 0, 0, "server"),
    spec("acl|whoami", S(Srv::Acl), 2, NOSCRIPT | LOADING | STALE | SENTINEL, 0, 0, 0, "server"),
];
