//! The directive table: every configuration name Redis 7.0.15 knows, with its
//! alias, flags, value kind, default (for directives ferrodis only stores),
//! and, for typed settings, the accessors into `Config`'s fields.

use super::parse::{memtoull, string2ll, strtoll_full};
use super::{AppendFsync, Config, DisklessLoad, EnableDebug, LogLevel, MaxmemoryPolicy};

/// CONFIG SET refuses it ("can't set immutable config").
pub const IMMUTABLE: u8 = 1;
/// CONFIG SET refuses it unless enable-protected-configs allows it.
pub const PROTECTED: u8 = 2;
/// Not matched by CONFIG GET patterns, only by its exact name.
pub const HIDDEN: u8 = 4;
/// Takes several arguments (file) or a space-separated value (CONFIG SET).
pub const MULTI: u8 = 8;

const INT_MAX: i64 = i32::MAX as i64;
const INT_MIN: i64 = i32::MIN as i64;
const LMAX: i64 = i64::MAX;

/// How a value is validated, normalized and written back by REWRITE.
#[derive(Clone, Copy)]
pub enum Kind {
    Bool,
    Int(i64, i64),
    Mem(u64, u64),
    /// Memory value or "N%" (maxmemory-clients).
    MemPct,
    Octal(i64, i64),
    Enum(&'static [&'static str]),
    /// Several words from a fixed set (shutdown-on-sig*).
    Words(&'static [&'static str]),
    /// `nullable`: an empty string means "unset" (REWRITE drops the line).
    Str {
        nullable: bool,
        check: Option<fn(&str) -> Result<(), String>>,
    },
    /// Custom parser/formatter in mod.rs.
    Special,
}

/// Accessors for a typed setting. `set` receives an already normalized value.
pub struct Field {
    pub get: fn(&Config) -> String,
    pub set: fn(&mut Config, &str),
}

pub struct Entry {
    pub name: &'static str,
    pub alias: Option<&'static str>,
    pub flags: u8,
    pub kind: Kind,
    /// Default of a stored-only directive (typed ones take Config::default()).
    pub default: &'static str,
    /// None: the value lives in Config's generic map ("ignored" directive).
    pub field: Option<Field>,
}

/// Enums that map to/from their Redis names.
pub trait ConfEnum: Sized + Copy + PartialEq + 'static {
    const NAMES: &'static [(&'static str, Self)];
    fn name(self) -> &'static str
    where
        Self: PartialEq,
    {
        Self::NAMES
            .iter()
            .find(|(_, v)| *v == self)
            .map_or("unknown", |(n, _)| n)
    }
    fn from_name(s: &str) -> Option<Self> {
        Self::NAMES
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(s))
            .map(|(_, v)| *v)
    }
}

impl ConfEnum for LogLevel {
    const NAMES: &'static [(&'static str, Self)] = &[
        ("debug", LogLevel::Debug),
        ("verbose", LogLevel::Verbose),
        ("notice", LogLevel::Notice),
        ("warning", LogLevel::Warning),
    ];
}
impl ConfEnum for AppendFsync {
    const NAMES: &'static [(&'static str, Self)] = &[
        ("everysec", AppendFsync::EverySec),
        ("always", AppendFsync::Always),
        ("no", AppendFsync::No),
    ];
}
impl ConfEnum for DisklessLoad {
    const NAMES: &'static [(&'static str, Self)] = &[
        ("disabled", DisklessLoad::Disabled),
        ("on-empty-db", DisklessLoad::OnEmptyDb),
        ("swapdb", DisklessLoad::SwapDb),
    ];
}
impl ConfEnum for MaxmemoryPolicy {
    const NAMES: &'static [(&'static str, Self)] = &[
        ("volatile-lru", MaxmemoryPolicy::VolatileLru),
        ("volatile-lfu", MaxmemoryPolicy::VolatileLfu),
        ("volatile-random", MaxmemoryPolicy::VolatileRandom),
        ("volatile-ttl", MaxmemoryPolicy::VolatileTtl),
        ("allkeys-lru", MaxmemoryPolicy::AllKeysLru),
        ("allkeys-lfu", MaxmemoryPolicy::AllKeysLfu),
        ("allkeys-random", MaxmemoryPolicy::AllKeysRandom),
        ("noeviction", MaxmemoryPolicy::NoEviction),
    ];
}
impl ConfEnum for EnableDebug {
    const NAMES: &'static [(&'static str, Self)] = &[
        ("no", EnableDebug::No),
        ("yes", EnableDebug::Yes),
        ("local", EnableDebug::Local),
    ];
}

const LOGLEVELS: &[&str] = &["debug", "verbose", "notice", "warning"];
const FSYNC: &[&str] = &["everysec", "always", "no"];
const DLOAD: &[&str] = &["disabled", "on-empty-db", "swapdb"];
const POLICY: &[&str] = &[
    "volatile-lru",
    "volatile-lfu",
    "volatile-random",
    "volatile-ttl",
    "allkeys-lru",
    "allkeys-lfu",
    "allkeys-random",
    "noeviction",
];
const PROTECTED_ACTION: &[&str] = &["no", "yes", "local"];
const SUPERVISED: &[&str] = &["upstart", "systemd", "auto", "no"];
const FACILITY: &[&str] = &[
    "user", "local0", "local1", "local2", "local3", "local4", "local5", "local6", "local7",
];
const OOM: &[&str] = &["no", "yes", "relative", "absolute"];
const PUBSUB: &[&str] = &["allchannels", "resetchannels"];
const SANITIZE: &[&str] = &["no", "yes", "clients"];
const ENDPOINT: &[&str] = &["ip", "hostname", "unknown-endpoint"];
const TLSAUTH: &[&str] = &["no", "yes", "optional"];
const PROPAGATION: &[&str] = &["ignore", "panic", "panic-on-replicas"];
const SHUTDOWN: &[&str] = &["default", "save", "nosave", "now", "force"];

const NULLSTR: Kind = Kind::Str {
    nullable: true,
    check: None,
};
const STR: Kind = Kind::Str {
    nullable: false,
    check: None,
};

fn basename_check(what: &'static str, kind: &'static str, v: &str) -> Result<(), String> {
    if v.is_empty() && what != "dbfilename" {
        return Err(format!("{what} can't be empty"));
    }
    if v.contains('/') {
        return Err(format!("{what} can't be a path, just a {kind}"));
    }
    Ok(())
}

fn yn(b: bool) -> String {
    if b { "yes" } else { "no" }.to_string()
}

macro_rules! ent {
    ($name:expr, $alias:expr, $flags:expr, $kind:expr, $def:expr) => {
        Entry {
            name: $name,
            alias: $alias,
            flags: $flags,
            kind: $kind,
            default: $def,
            field: None,
        }
    };
    ($name:expr, $alias:expr, $flags:expr, $kind:expr, $def:expr, $field:expr) => {
        Entry {
            name: $name,
            alias: $alias,
            flags: $flags,
            kind: $kind,
            default: $def,
            field: Some($field),
        }
    };
}
macro_rules! fbool {
    ($f:ident) => {
        Field {
            get: |c| yn(c.$f),
            set: |c, v| c.$f = v == "yes",
        }
    };
}
macro_rules! fnum {
    ($f:ident) => {
        Field {
            get: |c| c.$f.to_string(),
            set: |c, v| c.$f = v.parse().unwrap_or_default(),
        }
    };
}
macro_rules! fstr {
    ($f:ident) => {
        Field {
            get: |c| c.$f.clone(),
            set: |c, v| c.$f = v.to_string(),
        }
    };
}
macro_rules! fenum {
    ($f:ident) => {
        Field {
            get: |c| c.$f.name().to_string(),
            set: |c, v| {
                if let Some(x) = ConfEnum::from_name(v) {
                    c.$f = x;
                }
            },
        }
    };
}
const SPECIAL: Field = Field {
    get: |_| String::new(),
    set: |_, _| {},
};

const N: Option<&str> = None;

/// Every directive, in the order CONFIG REWRITE appends them.
pub static TABLE: &[Entry] = &[
    // NETWORK
    ent!("bind", N, MULTI, Kind::Special, "", SPECIAL),
    ent!("port", N, 0, Kind::Int(0, 65535), "", fnum!(port)),
    ent!("unixsocket", N, IMMUTABLE, NULLSTR, "", fstr!(unixsocket)),
    ent!(
        "unixsocketperm",
        N,
        IMMUTABLE,
        Kind::Octal(0, 0o777),
        "",
        Field {
            get: |c| format!("{:o}", c.unixsocketperm),
            set: |c, v| c.unixsocketperm = u32::from_str_radix(v, 8).unwrap_or_default(),
        }
    ),
    ent!(
        "protected-mode",
        N,
        0,
        Kind::Bool,
        "",
        fbool!(protected_mode)
    ),
    ent!(
        "tcp-backlog",
        N,
        IMMUTABLE,
        Kind::Int(0, INT_MAX),
        "",
        fnum!(tcp_backlog)
    ),
    ent!("timeout", N, 0, Kind::Int(0, INT_MAX), "", fnum!(timeout)),
    ent!(
        "tcp-keepalive",
        N,
        0,
        Kind::Int(0, INT_MAX),
        "",
        fnum!(tcp_keepalive)
    ),
    ent!(
        "socket-mark-id",
        N,
        IMMUTABLE,
        Kind::Int(0, u32::MAX as i64),
        "0"
    ),
    ent!("bind-source-addr", N, 0, NULLSTR, ""),
    // GENERAL
    ent!("daemonize", N, IMMUTABLE, Kind::Bool, "", fbool!(daemonize)),
    ent!(
        "supervised",
        N,
        IMMUTABLE,
        Kind::Enum(SUPERVISED),
        "",
        fstr!(supervised)
    ),
    ent!("pidfile", N, IMMUTABLE, NULLSTR, "", fstr!(pidfile)),
    ent!(
        "loglevel",
        N,
        0,
        Kind::Enum(LOGLEVELS),
        "",
        fenum!(loglevel)
    ),
    ent!("logfile", N, IMMUTABLE, STR, "", fstr!(logfile)),
    ent!(
        "syslog-enabled",
        N,
        IMMUTABLE,
        Kind::Bool,
        "",
        fbool!(syslog_enabled)
    ),
    ent!("syslog-ident", N, IMMUTABLE, STR, "redis"),
    ent!(
        "syslog-facility",
        N,
        IMMUTABLE,
        Kind::Enum(FACILITY),
        "local0"
    ),
    ent!(
        "crash-log-enabled",
        N,
        0,
        Kind::Bool,
        "",
        fbool!(crash_log_enabled)
    ),
    ent!("crash-memcheck-enabled", N, 0, Kind::Bool, "yes"),
    ent!(
        "databases",
        N,
        IMMUTABLE,
        Kind::Int(1, INT_MAX),
        "",
        fnum!(databases)
    ),
    ent!(
        "always-show-logo",
        N,
        IMMUTABLE,
        Kind::Bool,
        "",
        fbool!(always_show_logo)
    ),
    ent!(
        "set-proc-title",
        N,
        IMMUTABLE,
        Kind::Bool,
        "",
        fbool!(set_proc_title)
    ),
    ent!(
        "proc-title-template",
        N,
        0,
        STR,
        "{title} {listen-addr} {server-mode}"
    ),
    // SNAPSHOTTING
    ent!("save", N, MULTI, Kind::Special, "", SPECIAL),
    ent!(
        "stop-writes-on-bgsave-error",
        N,
        0,
        Kind::Bool,
        "",
        fbool!(stop_writes_on_bgsave_error)
    ),
    ent!(
        "rdbcompression",
        N,
        0,
        Kind::Bool,
        "",
        fbool!(rdbcompression)
    ),
    ent!(
        "rdbchecksum",
        N,
        IMMUTABLE,
        Kind::Bool,
        "",
        fbool!(rdbchecksum)
    ),
    ent!("sanitize-dump-payload", N, 0, Kind::Enum(SANITIZE), "no"),
    ent!(
        "dbfilename",
        N,
        PROTECTED,
        Kind::Str {
            nullable: false,
            check: Some(|v| basename_check("dbfilename", "filename", v))
        },
        "",
        fstr!(dbfilename)
    ),
    ent!(
        "rdb-del-sync-files",
        N,
        0,
        Kind::Bool,
        "",
        fbool!(rdb_del_sync_files)
    ),
    ent!("dir", N, PROTECTED, Kind::Special, "", SPECIAL),
    // REPLICATION
    ent!(
        "replicaof",
        Some("slaveof"),
        IMMUTABLE | MULTI,
        Kind::Special,
        "",
        SPECIAL
    ),
    ent!("masterauth", N, 0, NULLSTR, "", fstr!(masterauth)),
    ent!("masteruser", N, 0, NULLSTR, "", fstr!(masteruser)),
    ent!(
        "replica-serve-stale-data",
        Some("slave-serve-stale-data"),
        0,
        Kind::Bool,
        "",
        fbool!(replica_serve_stale_data)
    ),
    ent!(
        "replica-read-only",
        Some("slave-read-only"),
        0,
        Kind::Bool,
        "",
        fbool!(replica_read_only)
    ),
    ent!(
        "repl-diskless-sync",
        N,
        0,
        Kind::Bool,
        "",
        fbool!(repl_diskless_sync)
    ),
    ent!(
        "repl-diskless-sync-delay",
        N,
        0,
        Kind::Int(0, INT_MAX),
        "",
        fnum!(repl_diskless_sync_delay)
    ),
    ent!(
        "repl-diskless-sync-max-replicas",
        N,
        0,
        Kind::Int(0, INT_MAX),
        "",
        fnum!(repl_diskless_sync_max_replicas)
    ),
    ent!(
        "repl-diskless-load",
        N,
        0,
        Kind::Enum(DLOAD),
        "",
        fenum!(repl_diskless_load)
    ),
    ent!(
        "repl-ping-replica-period",
        Some("repl-ping-slave-period"),
        0,
        Kind::Int(1, INT_MAX),
        "",
        fnum!(repl_ping_replica_period)
    ),
    ent!(
        "repl-timeout",
        N,
        0,
        Kind::Int(1, INT_MAX),
        "",
        fnum!(repl_timeout)
    ),
    ent!(
        "repl-disable-tcp-nodelay",
        N,
        0,
        Kind::Bool,
        "",
        fbool!(repl_disable_tcp_nodelay)
    ),
    ent!(
        "repl-backlog-size",
        N,
        0,
        Kind::Mem(1, LMAX as u64),
        "",
        fnum!(repl_backlog_size)
    ),
    ent!(
        "repl-backlog-ttl",
        N,
        0,
        Kind::Int(0, LMAX),
        "",
        fnum!(repl_backlog_ttl)
    ),
    ent!(
        "replica-priority",
        Some("slave-priority"),
        0,
        Kind::Int(0, INT_MAX),
        "",
        fnum!(replica_priority)
    ),
    ent!(
        "replica-announced",
        N,
        0,
        Kind::Bool,
        "",
        fbool!(replica_announced)
    ),
    ent!(
        "min-replicas-to-write",
        Some("min-slaves-to-write"),
        0,
        Kind::Int(0, INT_MAX),
        "",
        fnum!(min_replicas_to_write)
    ),
    ent!(
        "min-replicas-max-lag",
        Some("min-slaves-max-lag"),
        0,
        Kind::Int(0, INT_MAX),
        "",
        fnum!(min_replicas_max_lag)
    ),
    ent!(
        "replica-announce-ip",
        Some("slave-announce-ip"),
        0,
        NULLSTR,
        "",
        fstr!(replica_announce_ip)
    ),
    ent!(
        "replica-announce-port",
        Some("slave-announce-port"),
        0,
        Kind::Int(0, 65535),
        "",
        fnum!(replica_announce_port)
    ),
    ent!(
        "replica-lazy-flush",
        Some("slave-lazy-flush"),
        0,
        Kind::Bool,
        "no"
    ),
    ent!(
        "replica-ignore-maxmemory",
        Some("slave-ignore-maxmemory"),
        0,
        Kind::Bool,
        "yes"
    ),
    ent!("replica-ignore-disk-write-errors", N, 0, Kind::Bool, "no"),
    ent!(
        "propagation-error-behavior",
        N,
        0,
        Kind::Enum(PROPAGATION),
        "ignore"
    ),
    // SECURITY
    ent!("requirepass", N, 0, NULLSTR, "", fstr!(requirepass)),
    ent!("aclfile", N, IMMUTABLE, STR, ""),
    ent!("acllog-max-len", N, 0, Kind::Int(0, LMAX), "128"),
    ent!(
        "acl-pubsub-default",
        N,
        0,
        Kind::Enum(PUBSUB),
        "resetchannels"
    ),
    ent!(
        "enable-protected-configs",
        N,
        IMMUTABLE,
        Kind::Enum(PROTECTED_ACTION),
        "no"
    ),
    ent!(
        "enable-debug-command",
        N,
        IMMUTABLE,
        Kind::Enum(PROTECTED_ACTION),
        "",
        fenum!(enable_debug_command)
    ),
    ent!(
        "enable-module-command",
        N,
        IMMUTABLE,
        Kind::Enum(PROTECTED_ACTION),
        "no"
    ),
    // CLIENTS
    ent!(
        "maxclients",
        N,
        0,
        Kind::Int(1, u32::MAX as i64),
        "",
        fnum!(maxclients)
    ),
    ent!(
        "client-output-buffer-limit",
        N,
        MULTI,
        Kind::Special,
        "",
        SPECIAL
    ),
    ent!(
        "client-query-buffer-limit",
        N,
        0,
        Kind::Mem(1024 * 1024, LMAX as u64),
        "",
        fnum!(client_query_buffer_limit)
    ),
    ent!(
        "proto-max-bulk-len",
        N,
        0,
        Kind::Mem(1024 * 1024, LMAX as u64),
        "",
        fnum!(proto_max_bulk_len)
    ),
    ent!("maxmemory-clients", N, 0, Kind::MemPct, "0"),
    // MEMORY MANAGEMENT
    ent!(
        "maxmemory",
        N,
        0,
        Kind::Mem(0, u64::MAX),
        "",
        fnum!(maxmemory)
    ),
    ent!(
        "maxmemory-policy",
        N,
        0,
        Kind::Enum(POLICY),
        "",
        fenum!(maxmemory_policy)
    ),
    ent!(
        "maxmemory-samples",
        N,
        0,
        Kind::Int(1, INT_MAX),
        "",
        fnum!(maxmemory_samples)
    ),
    ent!("maxmemory-eviction-tenacity", N, 0, Kind::Int(0, 100), "10"),
    ent!("lazyfree-lazy-eviction", N, 0, Kind::Bool, "no"),
    ent!("lazyfree-lazy-expire", N, 0, Kind::Bool, "no"),
    ent!("lazyfree-lazy-server-del", N, 0, Kind::Bool, "no"),
    ent!(
        "lazyfree-lazy-user-del",
        N,
        0,
        Kind::Bool,
        "",
        fbool!(lazyfree_lazy_user_del)
    ),
    ent!("lazyfree-lazy-user-flush", N, 0, Kind::Bool, "no"),
    ent!("io-threads", N, IMMUTABLE, Kind::Int(1, 128), "1"),
    ent!("io-threads-do-reads", N, IMMUTABLE, Kind::Bool, "no"),
    ent!("oom-score-adj", N, 0, Kind::Enum(OOM), "no"),
    ent!("oom-score-adj-values", N, MULTI, Kind::Special, "0 200 800"),
    ent!("disable-thp", N, IMMUTABLE, Kind::Bool, "yes"),
    // APPEND ONLY MODE
    ent!("appendonly", N, 0, Kind::Bool, "", fbool!(appendonly)),
    ent!(
        "appendfilename",
        N,
        IMMUTABLE,
        Kind::Str {
            nullable: false,
            check: Some(|v| basename_check("appendfilename", "filename", v))
        },
        "",
        fstr!(appendfilename)
    ),
    ent!(
        "appenddirname",
        N,
        IMMUTABLE,
        Kind::Str {
            nullable: false,
            check: Some(|v| basename_check("appenddirname", "dirname", v))
        },
        "",
        fstr!(appenddirname)
    ),
    ent!(
        "appendfsync",
        N,
        0,
        Kind::Enum(FSYNC),
        "",
        fenum!(appendfsync)
    ),
    ent!("no-appendfsync-on-rewrite", N, 0, Kind::Bool, "no"),
    ent!(
        "auto-aof-rewrite-percentage",
        N,
        0,
        Kind::Int(0, INT_MAX),
        "",
        fnum!(auto_aof_rewrite_percentage)
    ),
    ent!(
        "auto-aof-rewrite-min-size",
        N,
        0,
        Kind::Mem(0, LMAX as u64),
        "",
        fnum!(auto_aof_rewrite_min_size)
    ),
    ent!(
        "aof-load-truncated",
        N,
        0,
        Kind::Bool,
        "",
        fbool!(aof_load_truncated)
    ),
    ent!(
        "aof-use-rdb-preamble",
        N,
        0,
        Kind::Bool,
        "",
        fbool!(aof_use_rdb_preamble)
    ),
    ent!("aof-timestamp-enabled", N, 0, Kind::Bool, "no"),
    ent!("aof-rewrite-incremental-fsync", N, 0, Kind::Bool, "yes"),
    ent!("aof-disable-auto-gc", N, 0, Kind::Bool, "no"),
    ent!("rdb-save-incremental-fsync", N, 0, Kind::Bool, "yes"),
    // SHUTDOWN
    ent!("shutdown-timeout", N, 0, Kind::Int(0, INT_MAX), "10"),
    ent!(
        "shutdown-on-sigint",
        N,
        MULTI,
        Kind::Words(SHUTDOWN),
        "default"
    ),
    ent!(
        "shutdown-on-sigterm",
        N,
        MULTI,
        Kind::Words(SHUTDOWN),
        "default"
    ),
    // LUA / FUNCTIONS
    ent!(
        "busy-reply-threshold",
        Some("lua-time-limit"),
        0,
        Kind::Int(0, LMAX),
        "5000"
    ),
    // REDIS CLUSTER
    ent!("cluster-enabled", N, IMMUTABLE, Kind::Bool, "no"),
    ent!("cluster-config-file", N, IMMUTABLE, STR, "nodes.conf"),
    ent!("cluster-node-timeout", N, 0, Kind::Int(0, LMAX), "15000"),
    ent!("cluster-port", N, IMMUTABLE, Kind::Int(0, 65535), "0"),
    ent!(
        "cluster-replica-validity-factor",
        Some("cluster-slave-validity-factor"),
        0,
        Kind::Int(0, INT_MAX),
        "10"
    ),
    ent!(
        "cluster-migration-barrier",
        N,
        0,
        Kind::Int(0, INT_MAX),
        "1"
    ),
    ent!("cluster-allow-replica-migration", N, 0, Kind::Bool, "yes"),
    ent!("cluster-require-full-coverage", N, 0, Kind::Bool, "yes"),
    ent!(
        "cluster-replica-no-failover",
        Some("cluster-slave-no-failover"),
        0,
        Kind::Bool,
        "no"
    ),
    ent!("cluster-allow-reads-when-down", N, 0, Kind::Bool, "no"),
    ent!(
        "cluster-allow-pubsubshard-when-down",
        N,
        0,
        Kind::Bool,
        "yes"
    ),
    ent!(
        "cluster-link-sendbuf-limit",
        N,
        0,
        Kind::Mem(0, u64::MAX),
        "0"
    ),
    ent!("cluster-announce-ip", N, 0, NULLSTR, ""),
    ent!("cluster-announce-hostname", N, 0, NULLSTR, ""),
    ent!("cluster-announce-port", N, 0, Kind::Int(0, 65535), "0"),
    ent!("cluster-announce-bus-port", N, 0, Kind::Int(0, 65535), "0"),
    ent!("cluster-announce-tls-port", N, 0, Kind::Int(0, 65535), "0"),
    ent!(
        "cluster-preferred-endpoint-type",
        N,
        0,
        Kind::Enum(ENDPOINT),
        "ip"
    ),
    // SLOW LOG / LATENCY MONITOR
    ent!(
        "slowlog-log-slower-than",
        N,
        0,
        Kind::Int(-1, LMAX),
        "",
        fnum!(slowlog_log_slower_than)
    ),
    ent!(
        "slowlog-max-len",
        N,
        0,
        Kind::Int(0, LMAX),
        "",
        fnum!(slowlog_max_len)
    ),
    ent!(
        "latency-monitor-threshold",
        N,
        0,
        Kind::Int(0, LMAX),
        "",
        fnum!(latency_monitor_threshold)
    ),
    ent!("latency-tracking", N, 0, Kind::Bool, "yes"),
    ent!(
        "latency-tracking-info-percentiles",
        N,
        MULTI,
        Kind::Special,
        "50 99 99.9"
    ),
    // EVENT NOTIFICATION
    ent!("notify-keyspace-events", N, 0, Kind::Special, "", SPECIAL),
    // ADVANCED CONFIG
    ent!(
        "hash-max-listpack-entries",
        Some("hash-max-ziplist-entries"),
        0,
        Kind::Int(0, LMAX),
        "",
        fnum!(hash_max_listpack_entries)
    ),
    ent!(
        "hash-max-listpack-value",
        Some("hash-max-ziplist-value"),
        0,
        Kind::Mem(0, LMAX as u64),
        "",
        fnum!(hash_max_listpack_value)
    ),
    ent!(
        "list-max-listpack-size",
        Some("list-max-ziplist-size"),
        0,
        Kind::Int(INT_MIN, INT_MAX),
        "",
        fnum!(list_max_listpack_size)
    ),
    ent!(
        "list-compress-depth",
        N,
        0,
        Kind::Int(0, INT_MAX),
        "",
        fnum!(list_compress_depth)
    ),
    ent!(
        "set-max-intset-entries",
        N,
        0,
        Kind::Int(0, LMAX),
        "",
        fnum!(set_max_intset_entries)
    ),
    ent!(
        "zset-max-listpack-entries",
        Some("zset-max-ziplist-entries"),
        0,
        Kind::Int(0, LMAX),
        "",
        fnum!(zset_max_listpack_entries)
    ),
    ent!(
        "zset-max-listpack-value",
        Some("zset-max-ziplist-value"),
        0,
        Kind::Mem(0, LMAX as u64),
        "",
        fnum!(zset_max_listpack_value)
    ),
    ent!(
        "hll-sparse-max-bytes",
        N,
        0,
        Kind::Mem(0, LMAX as u64),
        "3000"
    ),
    ent!(
        "stream-node-max-bytes",
        N,
        0,
        Kind::Mem(0, LMAX as u64),
        "4096"
    ),
    ent!("stream-node-max-entries", N, 0, Kind::Int(0, LMAX), "100"),
    ent!(
        "activerehashing",
        N,
        0,
        Kind::Bool,
        "",
        fbool!(activerehashing)
    ),
    ent!(
        "hz",
        N,
        0,
        Kind::Int(0, INT_MAX),
        "",
        Field {
            get: |c| c.hz.to_string(),
            // Redis clamps hz to 1..500 rather than refusing it.
            set: |c, v| c.hz = v.parse::<i64>().unwrap_or(10).clamp(1, 500) as u32,
        }
    ),
    ent!("dynamic-hz", N, 0, Kind::Bool, "yes"),
    ent!(
        "active-expire-effort",
        N,
        0,
        Kind::Int(1, 10),
        "",
        fnum!(active_expire_effort)
    ),
    ent!(
        "lfu-log-factor",
        N,
        0,
        Kind::Int(0, INT_MAX),
        "",
        fnum!(lfu_log_factor)
    ),
    ent!(
        "lfu-decay-time",
        N,
        0,
        Kind::Int(0, INT_MAX),
        "",
        fnum!(lfu_decay_time)
    ),
    ent!(
        "tracking-table-max-keys",
        N,
        0,
        Kind::Int(0, LMAX),
        "1000000"
    ),
    ent!("activedefrag", N, 0, Kind::Bool, "no"),
    ent!(
        "active-defrag-ignore-bytes",
        N,
        0,
        Kind::Mem(1, LMAX as u64),
        "104857600"
    ),
    ent!(
        "active-defrag-threshold-lower",
        N,
        0,
        Kind::Int(0, 1000),
        "10"
    ),
    ent!(
        "active-defrag-threshold-upper",
        N,
        0,
        Kind::Int(0, 1000),
        "100"
    ),
    ent!("active-defrag-cycle-min", N, 0, Kind::Int(1, 99), "1"),
    ent!("active-defrag-cycle-max", N, 0, Kind::Int(1, 99), "25"),
    ent!(
        "active-defrag-max-scan-fields",
        N,
        0,
        Kind::Int(1, LMAX),
        "1000"
    ),
    ent!("jemalloc-bg-thread", N, 0, Kind::Bool, "yes"),
    ent!("server_cpulist", N, IMMUTABLE, NULLSTR, ""),
    ent!("bio_cpulist", N, IMMUTABLE, NULLSTR, ""),
    ent!("aof_rewrite_cpulist", N, IMMUTABLE, NULLSTR, ""),
    ent!("bgsave_cpulist", N, IMMUTABLE, NULLSTR, ""),
    ent!("ignore-warnings", N, 0, STR, ""),
    // TLS
    ent!("tls-port", N, 0, Kind::Int(0, 65535), "0"),
    ent!("tls-cert-file", N, 0, NULLSTR, ""),
    ent!("tls-key-file", N, 0, NULLSTR, ""),
    ent!("tls-key-file-pass", N, 0, NULLSTR, ""),
    ent!("tls-client-cert-file", N, 0, NULLSTR, ""),
    ent!("tls-client-key-file", N, 0, NULLSTR, ""),
    ent!("tls-client-key-file-pass", N, 0, NULLSTR, ""),
    ent!("tls-dh-params-file", N, 0, NULLSTR, ""),
    ent!("tls-ca-cert-file", N, 0, NULLSTR, ""),
    ent!("tls-ca-cert-dir", N, 0, NULLSTR, ""),
    ent!("tls-auth-clients", N, 0, Kind::Enum(TLSAUTH), "yes"),
    ent!("tls-replication", N, 0, Kind::Bool, "no"),
    ent!("tls-cluster", N, 0, Kind::Bool, "no"),
    ent!("tls-protocols", N, 0, NULLSTR, ""),
    ent!("tls-ciphers", N, 0, NULLSTR, ""),
    ent!("tls-ciphersuites", N, 0, NULLSTR, ""),
    ent!("tls-prefer-server-ciphers", N, 0, Kind::Bool, "no"),
    ent!("tls-session-caching", N, 0, Kind::Bool, "yes"),
    ent!(
        "tls-session-cache-size",
        N,
        0,
        Kind::Int(0, INT_MAX),
        "20480"
    ),
    ent!(
        "tls-session-cache-timeout",
        N,
        0,
        Kind::Int(0, INT_MAX),
        "300"
    ),
    // Hidden debugging knobs: only visible to an exact CONFIG GET.
    ent!("use-exit-on-panic", N, HIDDEN, Kind::Bool, "no"),
    ent!(
        "rdb-key-save-delay",
        N,
        HIDDEN,
        Kind::Int(INT_MIN, INT_MAX),
        "0"
    ),
    ent!(
        "key-load-delay",
        N,
        HIDDEN,
        Kind::Int(INT_MIN, INT_MAX),
        "0"
    ),
    ent!("watchdog-period", N, HIDDEN, Kind::Int(0, INT_MAX), "0"),
    ent!(
        "loading-process-events-interval-bytes",
        N,
        HIDDEN,
        Kind::Int(1024, INT_MAX),
        "2097152"
    ),
];

/// Find an entry by primary name or alias (case-insensitive). The returned
/// name is the spelling matched (Redis reports errors with it).
pub fn lookup(name: &str) -> Option<(&'static Entry, &'static str)> {
    TABLE.iter().find_map(|e| {
        if e.name.eq_ignore_ascii_case(name) {
            Some((e, e.name))
        } else {
            e.alias
                .filter(|a| a.eq_ignore_ascii_case(name))
                .map(|a| (e, a))
        }
    })
}

fn bounds<T: std::fmt::Display + PartialOrd>(v: T, lo: T, hi: T) -> Result<(), String> {
    if v < lo || v > hi {
        Err(format!("argument must be between {lo} and {hi} inclusive"))
    } else {
        Ok(())
    }
}

fn one_of(list: &[&str]) -> String {
    format!(
        "argument(s) must be one of the following: {}",
        list.join(", ")
    )
}

/// Validate one value of a non-special kind, returning its canonical form.
pub fn normalize(kind: Kind, args: &[String]) -> Result<String, String> {
    if let Kind::Words(list) = kind {
        // An empty list of flags is what Redis accepts as "default".
        let mut out = Vec::new();
        for a in args {
            match list.iter().find(|w| w.eq_ignore_ascii_case(a)) {
                Some(w) => out.push(*w),
                None => return Err(one_of(list)),
            }
        }
        return Ok(if out.is_empty() {
            "default".into()
        } else {
            out.join(" ")
        });
    }
    let v = args.first().map(String::as_str).unwrap_or("");
    match kind {
        Kind::Bool => {
            if v.eq_ignore_ascii_case("yes") {
                Ok("yes".into())
            } else if v.eq_ignore_ascii_case("no") {
                Ok("no".into())
            } else {
                Err("argument must be 'yes' or 'no'".into())
            }
        }
        Kind::Int(lo, hi) => {
            let n = string2ll(v).ok_or("argument couldn't be parsed into an integer")?;
            bounds(n, lo, hi)?;
            Ok(n.to_string())
        }
        Kind::Mem(lo, hi) => {
            let n = memtoull(v).ok_or("argument must be a memory value")?;
            bounds(n, lo, hi)?;
            Ok(n.to_string())
        }
        Kind::MemPct => {
            if let Some(n) = memtoull(v) {
                bounds(n, 0, i64::MAX as u64)?;
                return Ok(n.to_string());
            }
            let pct = v
                .strip_suffix('%')
                .filter(|p| !p.is_empty())
                .and_then(string2ll)
                .filter(|n| *n >= 0);
            match pct {
                // Redis stores percentages as negative numbers, bound -100.
                Some(n) => bounds(-n, -100, i64::MAX).map(|_| format!("{n}%")),
                None => Err("argument must be a memory or percent value".into()),
            }
        }
        Kind::Octal(lo, hi) => {
            let n = parse_octal(v).ok_or("argument couldn't be parsed as an octal number")?;
            bounds(n, lo, hi)?;
            Ok(format!("{n:o}"))
        }
        Kind::Enum(list) => list
            .iter()
            .find(|n| n.eq_ignore_ascii_case(v))
            .map(|n| n.to_string())
            .ok_or_else(|| one_of(list)),
        Kind::Str { check, .. } => {
            if let Some(f) = check {
                f(v)?;
            }
            Ok(v.to_string())
        }
        Kind::Words(_) | Kind::Special => Ok(v.to_string()),
    }
}

/// `strtoll(v, &end, 8)` with a full-consumption check.
fn parse_octal(v: &str) -> Option<i64> {
    let t = v.trim_start();
    let (neg, d) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    if d.is_empty() {
        return if v.is_empty() { Some(0) } else { None };
    }
    let n = i64::from_str_radix(d, 8).ok()?;
    if !d.bytes().all(|c| (b'0'..=b'7').contains(&c)) {
        return None;
    }
    Some(if neg { -n } else { n })
}

/// `strtol`-style integer used by the multi-argument special directives.
pub fn c_long(v: &str) -> Option<i64> {
    strtoll_full(v)
}
