//! Subcommand tables of Redis 7.0's containers (CLIENT, CONFIG, COMMAND,
//! SLOWLOG, ACL, OBJECT, MEMORY, SCRIPT, FUNCTION, LATENCY, PUBSUB, MODULE,
//! CLUSTER; XGROUP and XINFO are in `t_stream`): the subcommand is resolved
//! before the command runs, as lookupCommand does, so arity, flags (write,
//! allow-busy, noscript...), INFO commandstats (cmdstat_cluster|info) and
//! errors are the subcommand's. Arity, flags and key ranges are Redis's:
//! `cmd::meta_tests` checks them against the generated metadata. A
//! container answers `unknown subcommand` for anything else.

use super::flag::*;
use super::table::{spec, ClusterCmd as C, CommandSpec, Proc, Proc::Srv as S, Srv};

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

#[rustfmt::skip]
pub static OBJECT_SUBS: &[CommandSpec] = &[
    spec("object|encoding", Proc::Db(super::keys::object), 3, READONLY, 2, 2, 1, "generic"),
    spec("object|freq", Proc::Db(super::keys::object), 3, READONLY, 2, 2, 1, "generic"),
    spec("object|help", Proc::Db(super::keys::object), 2, LOADING | STALE, 0, 0, 0, "generic"),
    spec("object|idletime", Proc::Db(super::keys::object), 3, READONLY, 2, 2, 1, "generic"),
    spec("object|refcount", Proc::Db(super::keys::object), 3, READONLY, 2, 2, 1, "generic"),
];

#[rustfmt::skip]
pub static MEMORY_SUBS: &[CommandSpec] = &[
    spec("memory|doctor", S(Srv::Memory), 2, 0, 0, 0, 0, "server"),
    spec("memory|help", S(Srv::Memory), 2, LOADING | STALE, 0, 0, 0, "server"),
    spec("memory|malloc-stats", S(Srv::Memory), 2, 0, 0, 0, 0, "server"),
    spec("memory|purge", S(Srv::Memory), 2, 0, 0, 0, 0, "server"),
    spec("memory|stats", S(Srv::Memory), 2, 0, 0, 0, 0, "server"),
    spec("memory|usage", S(Srv::Memory), -3, READONLY, 2, 2, 1, "server"),
];

#[rustfmt::skip]
pub static SCRIPT_SUBS: &[CommandSpec] = &[
    spec("script|debug", S(Srv::Script), 3, NOSCRIPT, 0, 0, 0, "scripting"),
    spec("script|exists", S(Srv::Script), -3, NOSCRIPT, 0, 0, 0, "scripting"),
    spec("script|flush", S(Srv::Script), -2, NOSCRIPT, 0, 0, 0, "scripting"),
    spec("script|help", S(Srv::Script), 2, LOADING | STALE, 0, 0, 0, "scripting"),
    spec("script|kill", S(Srv::Script), 2, NOSCRIPT | ALLOW_BUSY, 0, 0, 0, "scripting"),
    spec("script|load", S(Srv::Script), 3, NOSCRIPT | STALE, 0, 0, 0, "scripting"),
];

#[rustfmt::skip]
pub static FUNCTION_SUBS: &[CommandSpec] = &[
    spec("function|delete", S(Srv::Function), 3, WRITE | NOSCRIPT, 0, 0, 0, "scripting"),
    spec("function|dump", S(Srv::Function), 2, NOSCRIPT, 0, 0, 0, "scripting"),
    spec("function|flush", S(Srv::Function), -2, WRITE | NOSCRIPT, 0, 0, 0, "scripting"),
    spec("function|help", S(Srv::Function), 2, LOADING | STALE, 0, 0, 0, "scripting"),
    spec("function|kill", S(Srv::Function), 2, NOSCRIPT | ALLOW_BUSY, 0, 0, 0, "scripting"),
    spec("function|list", S(Srv::Function), -2, NOSCRIPT, 0, 0, 0, "scripting"),
    spec("function|load", S(Srv::Function), -3, WRITE | DENYOOM | NOSCRIPT, 0, 0, 0, "scripting"),
    spec("function|restore", S(Srv::Function), -3, WRITE | DENYOOM | NOSCRIPT, 0, 0, 0, "scripting"),
    spec("function|stats", S(Srv::Function), 2, NOSCRIPT | ALLOW_BUSY, 0, 0, 0, "scripting"),
];

#[rustfmt::skip]
pub static LATENCY_SUBS: &[CommandSpec] = &[
    spec("latency|doctor", S(Srv::Latency), 2, ADMIN | NOSCRIPT | LOADING | STALE, 0, 0, 0, "server"),
    spec("latency|graph", S(Srv::Latency), 3, ADMIN | NOSCRIPT | LOADING | STALE, 0, 0, 0, "server"),
    spec("latency|help", S(Srv::Latency), 2, LOADING | STALE, 0, 0, 0, "server"),
    spec("latency|histogram", S(Srv::Latency), -2, ADMIN | NOSCRIPT | LOADING | STALE, 0, 0, 0, "server"),
    spec("latency|history", S(Srv::Latency), 3, ADMIN | NOSCRIPT | LOADING | STALE, 0, 0, 0, "server"),
    spec("latency|latest", S(Srv::Latency), 2, ADMIN | NOSCRIPT | LOADING | STALE, 0, 0, 0, "server"),
    spec("latency|reset", S(Srv::Latency), -2, ADMIN | NOSCRIPT | LOADING | STALE, 0, 0, 0, "server"),
];

#[rustfmt::skip]
pub static PUBSUB_SUBS: &[CommandSpec] = &[
    spec("pubsub|channels", S(Srv::Pubsub), -2, PUBSUB | LOADING | STALE, 0, 0, 0, "pubsub"),
    spec("pubsub|help", S(Srv::Pubsub), 2, LOADING | STALE, 0, 0, 0, "pubsub"),
    spec("pubsub|numpat", S(Srv::Pubsub), 2, PUBSUB | LOADING | STALE, 0, 0, 0, "pubsub"),
    spec("pubsub|numsub", S(Srv::Pubsub), -2, PUBSUB | LOADING | STALE, 0, 0, 0, "pubsub"),
    spec("pubsub|shardchannels", S(Srv::Pubsub), -2, PUBSUB | LOADING | STALE, 0, 0, 0, "pubsub"),
    spec("pubsub|shardnumsub", S(Srv::Pubsub), -2, PUBSUB | LOADING | STALE, 0, 0, 0, "pubsub"),
];

#[rustfmt::skip]
pub static MODULE_SUBS: &[CommandSpec] = &[
    spec("module|help", S(Srv::Module), 2, LOADING | STALE, 0, 0, 0, "server"),
    spec("module|list", S(Srv::Module), 2, ADMIN | NOSCRIPT, 0, 0, 0, "server"),
    spec("module|load", S(Srv::Module), -3, ADMIN | NOSCRIPT | NO_ASYNC_LOADING, 0, 0, 0, "server"),
    spec("module|loadex", S(Srv::Module), -3, ADMIN | NOSCRIPT | NO_ASYNC_LOADING, 0, 0, 0, "server"),
    spec("module|unload", S(Srv::Module), 3, ADMIN | NOSCRIPT | NO_ASYNC_LOADING, 0, 0, 0, "server"),
];

#[rustfmt::skip]
pub static CLUSTER_SUBS: &[CommandSpec] = &[
    spec("cluster|addslots", S(Srv::Cluster(C::Cluster)), -3, ADMIN | STALE | NO_ASYNC_LOADING, 0, 0, 0, "cluster"),
    spec("cluster|addslotsrange", S(Srv::Cluster(C::Cluster)), -4, ADMIN | STALE | NO_ASYNC_LOADING, 0, 0, 0, "cluster"),
    spec("cluster|bumpepoch", S(Srv::Cluster(C::Cluster)), 2, ADMIN | STALE | NO_ASYNC_LOADING, 0, 0, 0, "cluster"),
    spec("cluster|count-failure-reports", S(Srv::Cluster(C::Cluster)), 3, ADMIN | STALE, 0, 0, 0, "cluster"),
    spec("cluster|countkeysinslot", S(Srv::Cluster(C::Cluster)), 3, STALE, 0, 0, 0, "cluster"),
    spec("cluster|delslots", S(Srv::Cluster(C::Cluster)), -3, ADMIN | STALE | NO_ASYNC_LOADING, 0, 0, 0, "cluster"),
    spec("cluster|delslotsrange", S(Srv::Cluster(C::Cluster)), -4, ADMIN | STALE | NO_ASYNC_LOADING, 0, 0, 0, "cluster"),
    spec("cluster|failover", S(Srv::Cluster(C::Cluster)), -2, ADMIN | STALE | NO_ASYNC_LOADING, 0, 0, 0, "cluster"),
    spec("cluster|flushslots", S(Srv::Cluster(C::Cluster)), 2, ADMIN | STALE | NO_ASYNC_LOADING, 0, 0, 0, "cluster"),
    spec("cluster|forget", S(Srv::Cluster(C::Cluster)), 3, ADMIN | STALE | NO_ASYNC_LOADING, 0, 0, 0, "cluster"),
    spec("cluster|getkeysinslot", S(Srv::Cluster(C::Cluster)), 4, STALE, 0, 0, 0, "cluster"),
    spec("cluster|help", S(Srv::Cluster(C::Cluster)), 2, LOADING | STALE, 0, 0, 0, "cluster"),
    spec("cluster|info", S(Srv::Cluster(C::Cluster)), 2, STALE, 0, 0, 0, "cluster"),
    spec("cluster|keyslot", S(Srv::Cluster(C::Cluster)), 3, STALE, 0, 0, 0, "cluster"),
    spec("cluster|links", S(Srv::Cluster(C::Cluster)), 2, STALE, 0, 0, 0, "cluster"),
    spec("cluster|meet", S(Srv::Cluster(C::Cluster)), -4, ADMIN | STALE | NO_ASYNC_LOADING, 0, 0, 0, "cluster"),
    spec("cluster|myid", S(Srv::Cluster(C::Cluster)), 2, STALE, 0, 0, 0, "cluster"),
    spec("cluster|nodes", S(Srv::Cluster(C::Cluster)), 2, STALE, 0, 0, 0, "cluster"),
    spec("cluster|replicas", S(Srv::Cluster(C::Cluster)), 3, ADMIN | STALE, 0, 0, 0, "cluster"),
    spec("cluster|replicate", S(Srv::Cluster(C::Cluster)), 3, ADMIN | STALE | NO_ASYNC_LOADING, 0, 0, 0, "cluster"),
    spec("cluster|reset", S(Srv::Cluster(C::Cluster)), -2, ADMIN | NOSCRIPT | STALE, 0, 0, 0, "cluster"),
    spec("cluster|saveconfig", S(Srv::Cluster(C::Cluster)), 2, ADMIN | STALE | NO_ASYNC_LOADING, 0, 0, 0, "cluster"),
    spec("cluster|set-config-epoch", S(Srv::Cluster(C::Cluster)), 3, ADMIN | STALE | NO_ASYNC_LOADING, 0, 0, 0, "cluster"),
    spec("cluster|setslot", S(Srv::Cluster(C::Cluster)), -4, ADMIN | STALE | NO_ASYNC_LOADING, 0, 0, 0, "cluster"),
    spec("cluster|shards", S(Srv::Cluster(C::Cluster)), 2, STALE, 0, 0, 0, "cluster"),
    spec("cluster|slaves", S(Srv::Cluster(C::Cluster)), 3, ADMIN | STALE, 0, 0, 0, "cluster"),
    spec("cluster|slots", S(Srv::Cluster(C::Cluster)), 2, STALE, 0, 0, 0, "cluster"),
];
