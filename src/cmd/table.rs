//! The command table: one line a command, with Redis 7.0's arity, flags and
//! key positions. Arity is checked once, before any handler runs.

use super::flag::*;
use super::subcommands::*;
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
    Acl,
    /// Sentinel mode: SENTINEL, and its own INFO, ROLE and PUBLISH.
    Sentinel,
    SentinelInfo,
    SentinelRole,
    SentinelPublish,
    Module,
    // Scripting (script/): EVAL*, SCRIPT, FUNCTION, FCALL*.
    Eval,
    EvalSha,
    EvalRo,
    EvalShaRo,
    Script,
    Function,
    Fcall,
    FcallRo,
    /// The cluster family (`cmd::cluster`).
    Cluster(ClusterCmd),
}

/// Commands of the cluster family, carried out by `crate::cluster`.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum ClusterCmd {
    Cluster,
    Asking,
    ReadOnly,
    ReadWrite,
    Migrate,
    SSubscribe,
    SUnsubscribe,
    SPublish,
}

impl Srv {
    /// The scripting commands, whose flags depend on the script they run
    /// (or on the subcommand).
    pub fn is_scripting(self) -> bool {
        matches!(
            self,
            Srv::Eval
                | Srv::EvalSha
                | Srv::EvalRo
                | Srv::EvalShaRo
                | Srv::Script
                | Srv::Function
                | Srv::Fcall
                | Srv::FcallRo
        )
    }
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
    /// A container's subcommands (full names, `client|list`), each with its
    /// own arity and flags; empty for plain commands and for containers
    /// whose subcommands are still told apart by the handler alone.
    pub subs: &'static [CommandSpec],
}

impl CommandSpec {
    pub fn has(&self, f: u32) -> bool {
        self.flags & f != 0
    }

    /// A container with this subcommand table (const: table entries).
    pub const fn with_subs(self, subs: &'static [CommandSpec]) -> CommandSpec {
        CommandSpec { subs, ..self }
    }

    /// The subcommand named `sub`, case-insensitively.
    pub fn sub(&self, sub: &[u8]) -> Option<&'static CommandSpec> {
        self.subs.iter().find(|s| {
            let short = s.name.rsplit('|').next().unwrap_or(s.name);
            short.as_bytes().eq_ignore_ascii_case(sub)
        })
    }

    pub fn arity_ok(&self, argc: usize) -> bool {
        let a = self.arity;
        (a > 0 && argc as i32 == a) || (a < 0 && argc as i32 >= -a)
    }
}

/// A table entry. Every family's table is a list of these, one per line.
#[allow(clippy::too_many_arguments)]
pub const fn spec(
    name: &'static str,
    proc: Proc,
    arity: i32,
    flags: u32,
    first_key: i32,
    last_key: i32,
    key_step: i32,
    group: &'static str,
) -> CommandSpec {
    CommandSpec {
        name,
        proc,
        arity,
        flags,
        first_key,
        last_key,
        key_step,
        group,
        subs: &[],
    }
}

use Proc::{Db, Srv as S};

pub static COMMANDS: &[CommandSpec] = &[
    // ---- strings (t_string) ----
    spec(
        "get",
        Db(string::get),
        2,
        READONLY | FAST,
        1,
        1,
        1,
        "string",
    ),
    spec(
        "set",
        Db(string::set),
        -3,
        WRITE | DENYOOM,
        1,
        1,
        1,
        "string",
    ),
    spec(
        "setnx",
        Db(string::setnx),
        3,
        WRITE | DENYOOM | FAST,
        1,
        1,
        1,
        "string",
    ),
    spec(
        "setex",
        Db(string::setex),
        4,
        WRITE | DENYOOM,
        1,
        1,
        1,
        "string",
    ),
    spec(
        "psetex",
        Db(string::psetex),
        4,
        WRITE | DENYOOM,
        1,
        1,
        1,
        "string",
    ),
    spec(
        "mget",
        Db(string::mget),
        -2,
        READONLY | FAST,
        1,
        -1,
        1,
        "string",
    ),
    spec(
        "mset",
        Db(string::mset),
        -3,
        WRITE | DENYOOM,
        1,
        -1,
        2,
        "string",
    ),
    spec(
        "msetnx",
        Db(string::msetnx),
        -3,
        WRITE | DENYOOM,
        1,
        -1,
        2,
        "string",
    ),
    spec(
        "getset",
        Db(string::getset),
        3,
        WRITE | DENYOOM | FAST,
        1,
        1,
        1,
        "string",
    ),
    spec(
        "getdel",
        Db(string::getdel),
        2,
        WRITE | FAST,
        1,
        1,
        1,
        "string",
    ),
    spec(
        "getex",
        Db(string::getex),
        -2,
        WRITE | FAST,
        1,
        1,
        1,
        "string",
    ),
    spec(
        "append",
        Db(string::append),
        3,
        WRITE | DENYOOM | FAST,
        1,
        1,
        1,
        "string",
    ),
    spec(
        "strlen",
        Db(string::strlen),
        2,
        READONLY | FAST,
        1,
        1,
        1,
        "string",
    ),
    spec(
        "incr",
        Db(string::incr),
        2,
        WRITE | DENYOOM | FAST,
        1,
        1,
        1,
        "string",
    ),
    spec(
        "decr",
        Db(string::decr),
        2,
        WRITE | DENYOOM | FAST,
        1,
        1,
        1,
        "string",
    ),
    spec(
        "incrby",
        Db(string::incrby),
        3,
        WRITE | DENYOOM | FAST,
        1,
        1,
        1,
        "string",
    ),
    spec(
        "decrby",
        Db(string::decrby),
        3,
        WRITE | DENYOOM | FAST,
        1,
        1,
        1,
        "string",
    ),
    spec(
        "incrbyfloat",
        Db(string::incrbyfloat),
        3,
        WRITE | DENYOOM | FAST,
        1,
        1,
        1,
        "string",
    ),
    spec(
        "getrange",
        Db(string::getrange),
        4,
        READONLY,
        1,
        1,
        1,
        "string",
    ),
    spec(
        "substr",
        Db(string::getrange),
        4,
        READONLY,
        1,
        1,
        1,
        "string",
    ),
    spec(
        "setrange",
        Db(string::setrange),
        4,
        WRITE | DENYOOM,
        1,
        1,
        1,
        "string",
    ),
    spec("lcs", Db(string::lcs), -3, READONLY, 1, 2, 1, "string"),
    // ---- keyspace (db.c, expire.c) ----
    spec("del", Db(keys::del), -2, WRITE, 1, -1, 1, "generic"),
    spec(
        "unlink",
        Db(keys::unlink),
        -2,
        WRITE | FAST,
        1,
        -1,
        1,
        "generic",
    ),
    spec(
        "exists",
        Db(keys::exists),
        -2,
        READONLY | FAST,
        1,
        -1,
        1,
        "generic",
    ),
    spec(
        "type",
        Db(keys::type_),
        2,
        READONLY | FAST,
        1,
        1,
        1,
        "generic",
    ),
    spec("keys", Db(keys::keys), 2, READONLY, 0, 0, 0, "generic"),
    spec(
        "scan",
        Db(keys::scan),
        -2,
        READONLY | TOUCHES_ARBITRARY_KEYS,
        0,
        0,
        0,
        "generic",
    ),
    spec(
        "randomkey",
        Db(keys::randomkey),
        1,
        READONLY | TOUCHES_ARBITRARY_KEYS,
        0,
        0,
        0,
        "generic",
    ),
    spec(
        "dbsize",
        Db(keys::dbsize),
        1,
        READONLY | FAST,
        0,
        0,
        0,
        "server",
    ),
    spec("rename", Db(keys::rename), 3, WRITE, 1, 2, 1, "generic"),
    spec(
        "renamenx",
        Db(keys::renamenx),
        3,
        WRITE | FAST,
        1,
        2,
        1,
        "generic",
    ),
    spec(
        "copy",
        Db(keys::copy),
        -3,
        WRITE | DENYOOM,
        1,
        2,
        1,
        "generic",
    ),
    spec("move", Db(keys::move_), 3, WRITE | FAST, 1, 1, 1, "generic"),
    spec(
        "touch",
        Db(keys::touch),
        -2,
        READONLY | FAST,
        1,
        -1,
        1,
        "generic",
    ),
    spec("object", Db(keys::object), -2, 0, 0, 0, 0, "generic").with_subs(OBJECT_SUBS),
    spec(
        "expire",
        Db(keys::expire),
        -3,
        WRITE | FAST,
        1,
        1,
        1,
        "generic",
    ),
    spec(
        "pexpire",
        Db(keys::pexpire),
        -3,
        WRITE | FAST,
        1,
        1,
        1,
        "generic",
    ),
    spec(
        "expireat",
        Db(keys::expireat),
        -3,
        WRITE | FAST,
        1,
        1,
        1,
        "generic",
    ),
    spec(
        "pexpireat",
        Db(keys::pexpireat),
        -3,
        WRITE | FAST,
        1,
        1,
        1,
        "generic",
    ),
    spec("ttl", Db(keys::ttl), 2, READONLY | FAST, 1, 1, 1, "generic"),
    spec(
        "pttl",
        Db(keys::pttl),
        2,
        READONLY | FAST,
        1,
        1,
        1,
        "generic",
    ),
    spec(
        "expiretime",
        Db(keys::expiretime),
        2,
        READONLY | FAST,
        1,
        1,
        1,
        "generic",
    ),
    spec(
        "pexpiretime",
        Db(keys::pexpiretime),
        2,
        READONLY | FAST,
        1,
        1,
        1,
        "generic",
    ),
    spec(
        "persist",
        Db(keys::persist),
        2,
        WRITE | FAST,
        1,
        1,
        1,
        "generic",
    ),
    spec(
        "echo",
        Db(keys::echo),
        2,
        LOADING | STALE | FAST,
        0,
        0,
        0,
        "connection",
    ),
    spec(
        "time",
        Db(keys::time),
        1,
        LOADING | STALE | FAST,
        0,
        0,
        0,
        "server",
    ),
    // ---- server, connection, replication (carried out by `server`) ----
    spec(
        "ping",
        S(Srv::Ping),
        -1,
        FAST | SENTINEL,
        0,
        0,
        0,
        "connection",
    ),
    spec(
        "quit",
        S(Srv::Quit),
        -1,
        ALLOW_BUSY | NOSCRIPT | LOADING | STALE | FAST | NO_AUTH,
        0,
        0,
        0,
        "connection",
    ),
    spec(
        "reset",
        S(Srv::Reset),
        1,
        NOSCRIPT | LOADING | STALE | FAST | NO_AUTH | ALLOW_BUSY,
        0,
        0,
        0,
        "connection",
    ),
    spec(
        "info",
        S(Srv::Info),
        -1,
        LOADING | STALE | SENTINEL,
        0,
        0,
        0,
        "server",
    ),
    spec(
        "command",
        S(Srv::Command),
        -1,
        LOADING | STALE | SENTINEL,
        0,
        0,
        0,
        "server",
    )
    .with_subs(COMMAND_SUBS),
    spec(
        "client",
        S(Srv::Client),
        -2,
        SENTINEL,
        0,
        0,
        0,
        "connection",
    )
    .with_subs(CLIENT_SUBS),
    spec("config", S(Srv::Config), -2, 0, 0, 0, 0, "server").with_subs(CONFIG_SUBS),
    spec(
        "debug",
        S(Srv::Debug),
        -2,
        ADMIN | NOSCRIPT | LOADING | STALE,
        0,
        0,
        0,
        "server",
    ),
    spec(
        "auth",
        S(Srv::Auth),
        -2,
        NOSCRIPT | LOADING | STALE | FAST | NO_AUTH | SENTINEL | ALLOW_BUSY,
        0,
        0,
        0,
        "connection",
    ),
    spec(
        "hello",
        S(Srv::Hello),
        -1,
        NOSCRIPT | LOADING | STALE | FAST | NO_AUTH | SENTINEL | ALLOW_BUSY,
        0,
        0,
        0,
        "connection",
    ),
    spec(
        "select",
        S(Srv::Select),
        2,
        LOADING | STALE | FAST,
        0,
        0,
        0,
        "connection",
    ),
    spec("flushdb", S(Srv::FlushDb), -1, WRITE, 0, 0, 0, "server"),
    spec("flushall", S(Srv::FlushAll), -1, WRITE, 0, 0, 0, "server"),
    spec("swapdb", S(Srv::SwapDb), 3, WRITE | FAST, 0, 0, 0, "server"),
    spec(
        "monitor",
        S(Srv::Monitor),
        1,
        ADMIN | NOSCRIPT | LOADING | STALE,
        0,
        0,
        0,
        "server",
    ),
    spec("slowlog", S(Srv::Slowlog), -2, 0, 0, 0, 0, "server").with_subs(SLOWLOG_SUBS),
    spec("latency", S(Srv::Latency), -2, 0, 0, 0, 0, "server").with_subs(LATENCY_SUBS),
    spec("memory", S(Srv::Memory), -2, 0, 0, 0, 0, "server").with_subs(MEMORY_SUBS),
    spec(
        "lastsave",
        S(Srv::LastSave),
        1,
        LOADING | STALE | FAST,
        0,
        0,
        0,
        "server",
    ),
    spec(
        "save",
        S(Srv::Save),
        1,
        ADMIN | NOSCRIPT | NO_MULTI | NO_ASYNC_LOADING,
        0,
        0,
        0,
        "server",
    ),
    spec(
        "bgsave",
        S(Srv::BgSave),
        -1,
        ADMIN | NOSCRIPT | NO_ASYNC_LOADING,
        0,
        0,
        0,
        "server",
    ),
    spec(
        "bgrewriteaof",
        S(Srv::BgRewriteAof),
        1,
        ADMIN | NOSCRIPT | NO_ASYNC_LOADING,
        0,
        0,
        0,
        "server",
    ),
    spec(
        "shutdown",
        S(Srv::Shutdown),
        -1,
        ADMIN | NOSCRIPT | LOADING | STALE | NO_MULTI | SENTINEL | ALLOW_BUSY,
        0,
        0,
        0,
        "server",
    ),
    spec(
        "replicaof",
        S(Srv::ReplicaOf),
        3,
        ADMIN | NOSCRIPT | STALE | NO_ASYNC_LOADING,
        0,
        0,
        0,
        "server",
    ),
    spec(
        "slaveof",
        S(Srv::ReplicaOf),
        3,
        ADMIN | NOSCRIPT | STALE | NO_ASYNC_LOADING,
        0,
        0,
        0,
        "server",
    ),
    spec(
        "psync",
        S(Srv::Psync),
        -3,
        ADMIN | NOSCRIPT | NO_MULTI | NO_ASYNC_LOADING,
        0,
        0,
        0,
        "server",
    ),
    spec(
        "sync",
        S(Srv::Sync),
        1,
        ADMIN | NOSCRIPT | NO_MULTI | NO_ASYNC_LOADING,
        0,
        0,
        0,
        "server",
    ),
    spec(
        "replconf",
        S(Srv::Replconf),
        -1,
        ADMIN | NOSCRIPT | LOADING | STALE | ALLOW_BUSY,
        0,
        0,
        0,
        "server",
    ),
    spec("wait", S(Srv::Wait), 3, NOSCRIPT, 0, 0, 0, "generic"),
    spec(
        "role",
        S(Srv::Role),
        1,
        NOSCRIPT | LOADING | STALE | FAST | SENTINEL,
        0,
        0,
        0,
        "server",
    ),
    spec(
        "failover",
        S(Srv::Failover),
        -1,
        ADMIN | NOSCRIPT | STALE,
        0,
        0,
        0,
        "server",
    ),
    spec(
        "multi",
        S(Srv::Multi),
        1,
        NOSCRIPT | LOADING | STALE | FAST | ALLOW_BUSY,
        0,
        0,
        0,
        "transactions",
    ),
    spec(
        "exec",
        S(Srv::Exec),
        1,
        NOSCRIPT | LOADING | STALE | SKIP_SLOWLOG,
        0,
        0,
        0,
        "transactions",
    ),
    spec(
        "discard",
        S(Srv::Discard),
        1,
        NOSCRIPT | LOADING | STALE | FAST | ALLOW_BUSY,
        0,
        0,
        0,
        "transactions",
    ),
    spec(
        "watch",
        S(Srv::Watch),
        -2,
        NOSCRIPT | LOADING | STALE | FAST | ALLOW_BUSY,
        1,
        -1,
        1,
        "transactions",
    ),
    spec(
        "unwatch",
        S(Srv::Unwatch),
        1,
        NOSCRIPT | LOADING | STALE | FAST | ALLOW_BUSY,
        0,
        0,
        0,
        "transactions",
    ),
    spec(
        "subscribe",
        S(Srv::Subscribe),
        -2,
        PUBSUB | NOSCRIPT | LOADING | STALE,
        0,
        0,
        0,
        "pubsub",
    ),
    spec(
        "unsubscribe",
        S(Srv::Unsubscribe),
        -1,
        PUBSUB | NOSCRIPT | LOADING | STALE,
        0,
        0,
        0,
        "pubsub",
    ),
    spec(
        "psubscribe",
        S(Srv::PSubscribe),
        -2,
        PUBSUB | NOSCRIPT | LOADING | STALE,
        0,
        0,
        0,
        "pubsub",
    ),
    spec(
        "punsubscribe",
        S(Srv::PUnsubscribe),
        -1,
        PUBSUB | NOSCRIPT | LOADING | STALE,
        0,
        0,
        0,
        "pubsub",
    ),
    spec(
        "publish",
        S(Srv::Publish),
        3,
        PUBSUB | LOADING | STALE | FAST | MAY_REPLICATE | SENTINEL,
        0,
        0,
        0,
        "pubsub",
    ),
    spec("acl", S(Srv::Acl), -2, SENTINEL, 0, 0, 0, "server").with_subs(ACL_SUBS),
    spec("pubsub", S(Srv::Pubsub), -2, 0, 0, 0, 0, "pubsub").with_subs(PUBSUB_SUBS),
];

type Index = HashMap<Vec<u8>, &'static CommandSpec, rustc_hash::FxBuildHasher>;

static INDEX: OnceLock<Index> = OnceLock::new();

/// The commands this process serves: every command, or in Sentinel mode
/// Sentinel's own table.
static ACTIVE: OnceLock<Vec<&'static CommandSpec>> = OnceLock::new();

fn every_command() -> Vec<&'static CommandSpec> {
    COMMANDS
        .iter()
        .chain(crate::cmd::extra_commands())
        .collect()
}

fn active() -> &'static [&'static CommandSpec] {
    ACTIVE.get_or_init(every_command)
}

/// Sentinel mode: the server answers only `own` commands and the `shared`
/// ones of the normal table (Redis's sentinel command table). Must run at
/// startup, before renames and the first lookup.
pub fn install_sentinel_table(own: &'static [CommandSpec], shared: &[&str]) -> Result<(), String> {
    let list: Vec<&'static CommandSpec> = every_command()
        .into_iter()
        .filter(|c| shared.contains(&c.name))
        .chain(own.iter())
        .collect();
    ACTIVE
        .set(list)
        .map_err(|_| "commands were already looked up".to_string())
}

fn build_index() -> Index {
    active()
        .iter()
        .map(|&c| (c.name.as_bytes().to_vec(), c))
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

/// Every command served, for COMMAND and COMMAND COUNT.
pub fn all() -> impl Iterator<Item = &'static CommandSpec> {
    active().iter().copied()
}

/// What argv names, as Redis's lookupCommand + commandCheckExistence.
#[derive(Clone, Copy)]
pub enum Lookup {
    /// The command, or the subcommand of a container with a sub table.
    Found(&'static CommandSpec),
    /// A container called with a subcommand it does not have.
    UnknownSub(&'static CommandSpec),
    Unknown,
}

/// Resolves argv to the command to run: for a container with a subcommand
/// table and at least one argument, the subcommand.
pub fn lookup_argv<A: AsRef<[u8]>>(argv: &[A]) -> Lookup {
    let Some(base) = argv.first().and_then(|n| lookup(n.as_ref())) else {
        return Lookup::Unknown;
    };
    if argv.len() < 2 || base.subs.is_empty() {
        return Lookup::Found(base);
    }
    match base.sub(argv[1].as_ref()) {
        Some(sub) => Lookup::Found(sub),
        None => Lookup::UnknownSub(base),
    }
}

/// The command argv runs, if any (unknown commands and subcommands: None).
pub fn lookup_cmd<A: AsRef<[u8]>>(argv: &[A]) -> Option<&'static CommandSpec> {
    match lookup_argv(argv) {
        Lookup::Found(c) => Some(c),
        _ => None,
    }
}

/// A command by its original name (renames do not apply): ACL rules and
/// command metadata name commands as Redis defines them.
pub fn lookup_original(name: &str) -> Option<&'static CommandSpec> {
    static ORIG: OnceLock<HashMap<&'static str, &'static CommandSpec>> = OnceLock::new();
    ORIG.get_or_init(|| all().map(|c| (c.name, c)).collect())
        .get(name)
        .copied()
}
