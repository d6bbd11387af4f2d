//! The command table: one line a command, with Redis 7.0's arity, flags and
//! key positions. Arity is checked once, before any handler runs.

use super::flag::*;
use super::{keys, string, Handler};
use std::collections::HashMap;
use std::sync::OnceLock;

/// Commands carried out by the server module itself.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Srv {
    Ping,
    Quit,
    Reset,
    Info,
    Command,
    Client,
    Config,
    Debug,
    Auth,
    Hello,
    Select,
    FlushDb,
    FlushAll,
    SwapDb,
    Monitor,
    Slowlog,
    Latency,
    Memory,
    LastSave,
    Save,
    BgSave,
    BgRewriteAof,
    Shutdown,
    ReplicaOf,
    Psync,
    Sync,
    Replconf,
    Wait,
    Role,
    Failover,
    Multi,
    Exec,
    Discard,
    Watch,
    Unwatch,
    Subscribe,
    Unsubscribe,
    PSubscribe,
    PUnsubscribe,
    Publish,
    Pubsub,
}

pub enum Proc {
    Db(Handler),
    Srv(Srv),
}

pub struct CommandSpec {
    pub name: &'static str,
    pub proc: Proc,
    /// N > 0: exactly N arguments (with the name); -N: at least N.
    pub arity: i32,
    pub flags: u32,
    pub first_key: i32,
    pub last_key: i32,
    pub key_step: i32,
    pub group: &'static str,
}

impl CommandSpec {
    pub fn has(&self, f: u32) -> bool {
        self.flags & f != 0
    }

    pub fn arity_ok(&self, argc: usize) -> bool {
        let a = self.arity;
        (a > 0 && argc as i32 == a) || (a < 0 && argc as i32 >= -a)
    }
}

macro_rules! c {
    ($name:literal, $proc:expr, $arity:expr, $flags:expr, $fk:expr, $lk:expr, $st:expr, $group:literal) => {
        CommandSpec {
            name: $name,
            proc: $proc,
            arity: $arity,
            flags: $flags,
            first_key: $fk,
            last_key: $lk,
            key_step: $st,
            group: $group,
        }
    };
}

use Proc::{Db, Srv as S};

pub static COMMANDS: &[CommandSpec] = &[
    // ---- strings (t_string) ----
    c!(
        "get",
        Db(string::get),
        2,
        READONLY | FAST,
        1,
        1,
        1,
        "string"
    ),
    c!(
        "set",
        Db(string::set),
        -3,
        WRITE | DENYOOM,
        1,
        1,
        1,
        "string"
    ),
    c!(
        "setnx",
        Db(string::setnx),
        3,
        WRITE | DENYOOM | FAST,
        1,
        1,
        1,
        "string"
    ),
    c!(
        "setex",
        Db(string::setex),
        4,
        WRITE | DENYOOM,
        1,
        1,
        1,
        "string"
    ),
    c!(
        "psetex",
        Db(string::psetex),
        4,
        WRITE | DENYOOM,
        1,
        1,
        1,
        "string"
    ),
    c!(
        "mget",
        Db(string::mget),
        -2,
        READONLY | FAST,
        1,
        -1,
        1,
        "string"
    ),
    c!(
        "mset",
        Db(string::mset),
        -3,
        WRITE | DENYOOM,
        1,
        -1,
        2,
        "string"
    ),
    c!(
        "msetnx",
        Db(string::msetnx),
        -3,
        WRITE | DENYOOM,
        1,
        -1,
        2,
        "string"
    ),
    c!(
        "getset",
        Db(string::getset),
        3,
        WRITE | DENYOOM | FAST,
        1,
        1,
        1,
        "string"
    ),
    c!(
        "getdel",
        Db(string::getdel),
        2,
        WRITE | FAST,
        1,
        1,
        1,
        "string"
    ),
    c!(
        "getex",
        Db(string::getex),
        -2,
        WRITE | FAST,
        1,
        1,
        1,
        "string"
    ),
    c!(
        "append",
        Db(string::append),
        3,
        WRITE | DENYOOM | FAST,
        1,
        1,
        1,
        "string"
    ),
    c!(
        "strlen",
        Db(string::strlen),
        2,
        READONLY | FAST,
        1,
        1,
        1,
        "string"
    ),
    c!(
        "incr",
        Db(string::incr),
        2,
        WRITE | DENYOOM | FAST,
        1,
        1,
        1,
        "string"
    ),
    c!(
        "decr",
        Db(string::decr),
        2,
        WRITE | DENYOOM | FAST,
        1,
        1,
        1,
        "string"
    ),
    c!(
        "incrby",
        Db(string::incrby),
        3,
        WRITE | DENYOOM | FAST,
        1,
        1,
        1,
        "string"
    ),
    c!(
        "decrby",
        Db(string::decrby),
        3,
        WRITE | DENYOOM | FAST,
        1,
        1,
        1,
        "string"
    ),
    c!(
        "incrbyfloat",
        Db(string::incrbyfloat),
        3,
        WRITE | DENYOOM | FAST,
        1,
        1,
        1,
        "string"
    ),
    c!(
        "getrange",
        Db(string::getrange),
        4,
        READONLY,
        1,
        1,
        1,
        "string"
    ),
    c!(
        "substr",
        Db(string::getrange),
        4,
        READONLY,
        1,
        1,
        1,
        "string"
    ),
    c!(
        "setrange",
        Db(string::setrange),
        4,
        WRITE | DENYOOM,
        1,
        1,
        1,
        "string"
    ),
    c!("lcs", Db(string::lcs), -3, READONLY, 1, 2, 1, "string"),
    // ---- keyspace (db.c, expire.c) ----
    c!("del", Db(keys::del), -2, WRITE, 1, -1, 1, "generic"),
    c!(
        "unlink",
        Db(keys::del),
        -2,
        WRITE | FAST,
        1,
        -1,
        1,
        "generic"
    ),
    c!(
        "exists",
        Db(keys::exists),
        -2,
        READONLY | FAST,
        1,
        -1,
        1,
        "generic"
    ),
    c!(
        "type",
        Db(keys::type_),
        2,
        READONLY | FAST,
        1,
        1,
        1,
        "generic"
    ),
    c!("keys", Db(keys::keys), 2, READONLY, 0, 0, 0, "generic"),
    c!("scan", Db(keys::scan), -2, READONLY, 0, 0, 0, "generic"),
    c!(
        "randomkey",
        Db(keys::randomkey),
        1,
        READONLY,
        0,
        0,
        0,
        "generic"
    ),
    c!(
        "dbsize",
        Db(keys::dbsize),
        1,
        READONLY | FAST,
        0,
        0,
        0,
        "server"
    ),
    c!("rename", Db(keys::rename), 3, WRITE, 1, 2, 1, "generic"),
    c!(
        "renamenx",
        Db(keys::renamenx),
        3,
        WRITE | FAST,
        1,
        2,
        1,
        "generic"
    ),
    c!(
        "copy",
        Db(keys::copy),
        -3,
        WRITE | DENYOOM,
        1,
        2,
        1,
        "generic"
    ),
    c!("move", Db(keys::move_), 3, WRITE | FAST, 1, 1, 1, "generic"),
    c!(
        "touch",
        Db(keys::touch),
        -2,
        READONLY | FAST,
        1,
        -1,
        1,
        "generic"
    ),
    c!("object", Db(keys::object), -2, READONLY, 2, 2, 1, "generic"),
    c!(
        "expire",
        Db(keys::expire),
        -3,
        WRITE | FAST,
        1,
        1,
        1,
        "generic"
    ),
    c!(
        "pexpire",
        Db(keys::pexpire),
        -3,
        WRITE | FAST,
        1,
        1,
        1,
        "generic"
    ),
    c!(
        "expireat",
        Db(keys::expireat),
        -3,
        WRITE | FAST,
        1,
        1,
        1,
        "generic"
    ),
    c!(
        "pexpireat",
        Db(keys::pexpireat),
        -3,
        WRITE | FAST,
        1,
        1,
        1,
        "generic"
    ),
    c!("ttl", Db(keys::ttl), 2, READONLY | FAST, 1, 1, 1, "generic"),
    c!(
        "pttl",
        Db(keys::pttl),
        2,
        READONLY | FAST,
        1,
        1,
        1,
        "generic"
    ),
    c!(
        "expiretime",
        Db(keys::expiretime),
        2,
        READONLY | FAST,
        1,
        1,
        1,
        "generic"
    ),
    c!(
        "pexpiretime",
        Db(keys::pexpiretime),
        2,
        READONLY | FAST,
        1,
        1,
        1,
        "generic"
    ),
    c!(
        "persist",
        Db(keys::persist),
        2,
        WRITE | FAST,
        1,
        1,
        1,
        "generic"
    ),
    c!("echo", Db(keys::echo), 2, FAST, 0, 0, 0, "connection"),
    c!(
        "time",
        Db(keys::time),
        1,
        LOADING | STALE | FAST,
        0,
        0,
        0,
        "server"
    ),
    // ---- server, connection, replication (carried out by `server`) ----
    c!(
        "ping",
        S(Srv::Ping),
        -1,
        FAST | SENTINEL,
        0,
        0,
        0,
        "connection"
    ),
    c!(
        "quit",
        S(Srv::Quit),
        -1,
        ALLOW_BUSY | NOSCRIPT | LOADING | STALE | FAST | NO_AUTH,
        0,
        0,
        0,
        "connection"
    ),
    c!(
        "reset",
        S(Srv::Reset),
        1,
        NOSCRIPT | LOADING | STALE | FAST | NO_AUTH,
        0,
        0,
        0,
        "connection"
    ),
    c!(
        "info",
        S(Srv::Info),
        -1,
        LOADING | STALE | SENTINEL,
        0,
        0,
        0,
        "server"
    ),
    c!(
        "command",
        S(Srv::Command),
        -1,
        LOADING | STALE | SENTINEL,
        0,
        0,
        0,
        "server"
    ),
    c!(
        "client",
        S(Srv::Client),
        -2,
        NOSCRIPT | LOADING | STALE | SENTINEL,
        0,
        0,
        0,
        "connection"
    ),
    c!(
        "config",
        S(Srv::Config),
        -2,
        ADMIN | NOSCRIPT | LOADING | STALE,
        0,
        0,
        0,
        "server"
    ),
    c!(
        "debug",
        S(Srv::Debug),
        -2,
        ADMIN | NOSCRIPT | LOADING | STALE,
        0,
        0,
        0,
        "server"
    ),
    c!(
        "auth",
        S(Srv::Auth),
        -2,
        NOSCRIPT | LOADING | STALE | FAST | NO_AUTH | SENTINEL,
        0,
        0,
        0,
        "connection"
    ),
    c!(
        "hello",
        S(Srv::Hello),
        -1,
        NOSCRIPT | LOADING | STALE | FAST | NO_AUTH | SENTINEL,
        0,
        0,
        0,
        "connection"
    ),
    c!(
        "select",
        S(Srv::Select),
        2,
        LOADING | STALE | FAST,
        0,
        0,
        0,
        "connection"
    ),
    c!("flushdb", S(Srv::FlushDb), -1, WRITE, 0, 0, 0, "server"),
    c!("flushall", S(Srv::FlushAll), -1, WRITE, 0, 0, 0, "server"),
    c!("swapdb", S(Srv::SwapDb), 3, WRITE | FAST, 0, 0, 0, "server"),
    c!(
        "monitor",
        S(Srv::Monitor),
        1,
        ADMIN | NOSCRIPT | LOADING | STALE,
        0,
        0,
        0,
        "server"
    ),
    c!(
        "slowlog",
        S(Srv::Slowlog),
        -2,
        ADMIN | LOADING | STALE,
        0,
        0,
        0,
        "server"
    ),
    c!(
        "latency",
        S(Srv::Latency),
        -2,
        ADMIN | NOSCRIPT | LOADING | STALE,
        0,
        0,
        0,
        "server"
    ),
    c!("memory", S(Srv::Memory), -2, READONLY, 0, 0, 0, "server"),
    c!(
        "lastsave",
        S(Srv::LastSave),
        1,
        LOADING | STALE | FAST,
        0,
        0,
        0,
        "server"
    ),
    c!(
        "save",
        S(Srv::Save),
        1,
        ADMIN | NOSCRIPT | NO_MULTI,
        0,
        0,
        0,
        "server"
    ),
    c!(
        "bgsave",
        S(Srv::BgSave),
        -1,
        ADMIN | NOSCRIPT,
        0,
        0,
        0,
        "server"
    ),
    c!(
        "bgrewriteaof",
        S(Srv::BgRewriteAof),
        1,
        ADMIN | NOSCRIPT,
        0,
        0,
        0,
        "server"
    ),
    c!(
        "shutdown",
        S(Srv::Shutdown),
        -1,
        ADMIN | NOSCRIPT | LOADING | STALE | NO_MULTI | SENTINEL | ALLOW_BUSY,
        0,
        0,
        0,
        "server"
    ),
    c!(
        "replicaof",
        S(Srv::ReplicaOf),
        3,
        ADMIN | NOSCRIPT | STALE,
        0,
        0,
        0,
        "server"
    ),
    c!(
        "slaveof",
        S(Srv::ReplicaOf),
        3,
        ADMIN | NOSCRIPT | STALE,
        0,
        0,
        0,
        "server"
    ),
    c!(
        "psync",
        S(Srv::Psync),
        -3,
        ADMIN | NOSCRIPT | NO_MULTI,
        0,
        0,
        0,
        "server"
    ),
    c!(
        "sync",
        S(Srv::Sync),
        1,
        ADMIN | NOSCRIPT | NO_MULTI,
        0,
        0,
        0,
        "server"
    ),
    c!(
        "replconf",
        S(Srv::Replconf),
        -1,
        ADMIN | NOSCRIPT | LOADING | STALE | ALLOW_BUSY,
        0,
        0,
        0,
        "server"
    ),
    c!("wait", S(Srv::Wait), 3, NOSCRIPT, 0, 0, 0, "generic"),
    c!(
        "role",
        S(Srv::Role),
        1,
        NOSCRIPT | LOADING | STALE | FAST | SENTINEL,
        0,
        0,
        0,
        "server"
    ),
    c!(
        "failover",
        S(Srv::Failover),
        -1,
        ADMIN | NOSCRIPT | STALE,
        0,
        0,
        0,
        "server"
    ),
    c!(
        "multi",
        S(Srv::Multi),
        1,
        NOSCRIPT | LOADING | STALE | FAST | ALLOW_BUSY,
        0,
        0,
        0,
        "transactions"
    ),
    c!(
        "exec",
        S(Srv::Exec),
        1,
        NOSCRIPT | LOADING | STALE | SKIP_SLOWLOG,
        0,
        0,
        0,
        "transactions"
    ),
    c!(
        "discard",
        S(Srv::Discard),
        1,
        NOSCRIPT | LOADING | STALE | FAST | ALLOW_BUSY,
        0,
        0,
        0,
        "transactions"
    ),
    c!(
        "watch",
        S(Srv::Watch),
        -2,
        NOSCRIPT | LOADING | STALE | FAST | ALLOW_BUSY,
        1,
        -1,
        1,
        "transactions"
    ),
    c!(
        "unwatch",
        S(Srv::Unwatch),
        1,
        NOSCRIPT | LOADING | STALE | FAST | ALLOW_BUSY,
        0,
        0,
        0,
        "transactions"
    ),
    c!(
        "subscribe",
        S(Srv::Subscribe),
        -2,
        PUBSUB | NOSCRIPT | LOADING | STALE,
        0,
        0,
        0,
        "pubsub"
    ),
    c!(
        "unsubscribe",
        S(Srv::Unsubscribe),
        -1,
        PUBSUB | NOSCRIPT | LOADING | STALE,
        0,
        0,
        0,
        "pubsub"
    ),
    c!(
        "psubscribe",
        S(Srv::PSubscribe),
        -2,
        PUBSUB | NOSCRIPT | LOADING | STALE,
        0,
        0,
        0,
        "pubsub"
    ),
    c!(
        "punsubscribe",
        S(Srv::PUnsubscribe),
        -1,
        PUBSUB | NOSCRIPT | LOADING | STALE,
        0,
        0,
        0,
        "pubsub"
    ),
    c!(
        "publish",
        S(Srv::Publish),
        3,
        PUBSUB | LOADING | STALE | FAST | MAY_REPLICATE | SENTINEL,
        0,
        0,
        0,
        "pubsub"
    ),
    c!(
        "pubsub",
        S(Srv::Pubsub),
        -2,
        PUBSUB | LOADING | STALE,
        0,
        0,
        0,
        "pubsub"
    ),
];

static INDEX: OnceLock<HashMap<Vec<u8>, &'static CommandSpec>> = OnceLock::new();

fn build_index() -> HashMap<Vec<u8>, &'static CommandSpec> {
    COMMANDS
        .iter()
        .chain(crate::cmd::extra_commands())
        .map(|c| (c.name.as_bytes().to_vec(), c))
        .collect()
}

/// Applies `rename-command old new` (new = "" disables the command). Must
/// run once at startup, before the first lookup.
pub fn install_renames(renames: &[(String, String)]) -> Result<(), String> {
    let mut index = build_index();
    for (from, to) in renames {
        let Some(spec) = index.remove(from.to_ascii_lowercase().as_bytes()) else {
            return Err(format!("No such command in rename-command: '{from}'"));
        };
        if !to.is_empty() {
            index.insert(to.to_ascii_lowercase().into_bytes(), spec);
        }
    }
    INDEX
        .set(index)
        .map_err(|_| "commands were already looked up".to_string())
}

/// Finds a command by name, case-insensitively, without allocating.
pub fn lookup(name: &[u8]) -> Option<&'static CommandSpec> {
    let index = INDEX.get_or_init(build_index);
    let mut buf = [0u8; 64];
    if name.len() > buf.len() {
        return None;
    }
    for (d, s) in buf.iter_mut().zip(name) {
        *d = s.to_ascii_lowercase();
    }
    index.get(&buf[..name.len()]).copied()
}

/// Every command, for COMMAND and COMMAND COUNT.
pub fn all() -> impl Iterator<Item = &'static CommandSpec> {
    COMMANDS.iter().chain(crate::cmd::extra_commands())
}
