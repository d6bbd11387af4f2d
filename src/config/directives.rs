//! The directive table: every configuration name Redis 7.0.15 knows, with
//! alias, flags, value kind, default (for directives ferrodis only stores)
//! and, for typed settings, the accessors into `Config`'s fields.

use super::table::{
    ConfEnum, Entry, Field, Kind, DENY_LOADING, HIDDEN, IMMUTABLE, INT_MAX, INT_MIN, LMAX, MULTI,
    PROTECTED,
};

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

/// cluster-announce-hostname (Redis's isValidAnnouncedHostname).
fn hostname_check(v: &str) -> Result<(), String> {
    if v.len() >= 256 {
        return Err("Hostnames must be less than 256 characters".into());
    }
    if !v
        .bytes()
        .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'.')
    {
        return Err("Hostnames may only contain alphanumeric characters, hyphens or dots".into());
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
#[rustfmt::skip]
pub static TABLE: &[Entry] = &[
    // NETWORK
    ent!("bind", N, MULTI, Kind::Special, "", SPECIAL),
    ent!("port", N, 0, Kind::Int(0, 65535), "", fnum!(port)),
    ent!("unixsocket", N, IMMUTABLE, NULLSTR, "", fstr!(unixsocket)),
    ent!("unixsocketperm", N, IMMUTABLE, Kind::Octal(0, 0o777), "", Field { get: |c| format!("{:o}", c.unixsocketperm), set: |c, v| c.unixsocketperm = u32::from_str_radix(v, 8).unwrap_or_default() }),
    ent!("protected-mode", N, 0, Kind::Bool, "", fbool!(protected_mode)),
    ent!("tcp-backlog", N, IMMUTABLE, Kind::Int(0, INT_MAX), "", fnum!(tcp_backlog)),
    ent!("timeout", N, 0, Kind::Int(0, INT_MAX), "", fnum!(timeout)),
    ent!("tcp-keepalive", N, 0, Kind::Int(0, INT_MAX), "", fnum!(tcp_keepalive)),
    ent!("socket-mark-id", N, IMMUTABLE, Kind::Int(0, u32::MAX as i64), "0"),
    ent!("bind-source-addr", N, 0, NULLSTR, ""),
    // GENERAL
    ent!("daemonize", N, IMMUTABLE, Kind::Bool, "", fbool!(daemonize)),
    ent!("supervised", N, IMMUTABLE, Kind::Enum(SUPERVISED), "", fstr!(supervised)),
    ent!("pidfile", N, IMMUTABLE, NULLSTR, "", fstr!(pidfile)),
    ent!("loglevel", N, 0, Kind::Enum(LOGLEVELS), "", fenum!(loglevel)),
    ent!("logfile", N, IMMUTABLE, STR, "", fstr!(logfile)),
    ent!("syslog-enabled", N, IMMUTABLE, Kind::Bool, "", fbool!(syslog_enabled)),
    ent!("syslog-ident", N, IMMUTABLE, STR, "redis"),
    ent!("syslog-facility", N, IMMUTABLE, Kind::Enum(FACILITY), "local0"),
    ent!("crash-log-enabled", N, 0, Kind::Bool, "", fbool!(crash_log_enabled)),
    ent!("crash-memcheck-enabled", N, 0, Kind::Bool, "yes"),
    ent!("databases", N, IMMUTABLE, Kind::Int(1, INT_MAX), "", fnum!(databases)),
    ent!("always-show-logo", N, IMMUTABLE, Kind::Bool, "", fbool!(always_show_logo)),
    ent!("set-proc-title", N, IMMUTABLE, Kind::Bool, "", fbool!(set_proc_title)),
    ent!("proc-title-template", N, 0, Kind::Str { nullable: false, check: Some(crate::util::proctitle::validate) }, "{title} {listen-addr} {server-mode}", fstr!(proc_title_template)),
    // SNAPSHOTTING
    ent!("save", N, MULTI, Kind::Special, "", SPECIAL),
    ent!("stop-writes-on-bgsave-error", N, 0, Kind::Bool, "", fbool!(stop_writes_on_bgsave_error)),
    ent!("rdbcompression", N, 0, Kind::Bool, "", fbool!(rdbcompression)),
    ent!("rdbchecksum", N, IMMUTABLE, Kind::Bool, "", fbool!(rdbchecksum)),
    ent!("sanitize-dump-payload", N, 0, Kind::Enum(SANITIZE), "no"),
    ent!("dbfilename", N, PROTECTED, Kind::Str { nullable: false, check: Some(|v| basename_check("dbfilename", "filename", v)) }, "", fstr!(dbfilename)),
    ent!("rdb-del-sync-files", N, 0, Kind::Bool, "", fbool!(rdb_del_sync_files)),
    ent!("dir", N, PROTECTED | DENY_LOADING, Kind::Special, "", SPECIAL),
    // REPLICATION
    ent!("replicaof", Some("slaveof"), IMMUTABLE | MULTI, Kind::Special, "", SPECIAL),
    ent!("masterauth", N, 0, NULLSTR, "", fstr!(masterauth)),
    ent!("masteruser", N, 0, NULLSTR, "", fstr!(masteruser)),
    ent!("replica-serve-stale-data", Some("slave-serve-stale-data"), 0, Kind::Bool, "", fbool!(replica_serve_stale_data)),
    ent!("replica-read-only", Some("slave-read-only"), 0, Kind::Bool, "", fbool!(replica_read_only)),
    ent!("repl-diskless-sync", N, 0, Kind::Bool, "", fbool!(repl_diskless_sync)),
    ent!("repl-diskless-sync-delay", N, 0, Kind::Int(0, INT_MAX), "", fnum!(repl_diskless_sync_delay)),
    ent!("repl-diskless-sync-max-replicas", N, 0, Kind::Int(0, INT_MAX), "", fnum!(repl_diskless_sync_max_replicas)),
    ent!("repl-diskless-load", N, 0, Kind::Enum(DLOAD), "", fenum!(repl_diskless_load)),
    ent!("repl-ping-replica-period", Some("repl-ping-slave-period"), 0, Kind::Int(1, INT_MAX), "", fnum!(repl_ping_replica_period)),
    ent!("repl-timeout", N, 0, Kind::Int(1, INT_MAX), "", fnum!(repl_timeout)),
    ent!("repl-disable-tcp-nodelay", N, 0, Kind::Bool, "", fbool!(repl_disable_tcp_nodelay)),
    ent!("repl-backlog-size", N, 0, Kind::Mem(1, LMAX as u64), "", fnum!(repl_backlog_size)),
    ent!("repl-backlog-ttl", N, 0, Kind::Int(0, LMAX), "", fnum!(repl_backlog_ttl)),
    ent!("replica-priority", Some("slave-priority"), 0, Kind::Int(0, INT_MAX), "", fnum!(replica_priority)),
    ent!("replica-announced", N, 0, Kind::Bool, "", fbool!(replica_announced)),
    ent!("min-replicas-to-write", Some("min-slaves-to-write"), 0, Kind::Int(0, INT_MAX), "", fnum!(min_replicas_to_write)),
    ent!("min-replicas-max-lag", Some("min-slaves-max-lag"), 0, Kind::Int(0, INT_MAX), "", fnum!(min_replicas_max_lag)),
    ent!("replica-announce-ip", Some("slave-announce-ip"), 0, NULLSTR, "", fstr!(replica_announce_ip)),
    ent!("replica-announce-port", Some("slave-announce-port"), 0, Kind::Int(0, 65535), "", fnum!(replica_announce_port)),
    ent!("replica-lazy-flush", Some("slave-lazy-flush"), 0, Kind::Bool, "no"),
    ent!("replica-ignore-maxmemory", Some("slave-ignore-maxmemory"), 0, Kind::Bool, "yes"),
    ent!("replica-ignore-disk-write-errors", N, 0, Kind::Bool, "no"),
    ent!("propagation-error-behavior", N, 0, Kind::Enum(PROPAGATION), "ignore"),
    // ferrodis: replication beyond Redis (README, "Replication safety and observability").
    ent!("replica-refuse-empty-sync", N, 0, Kind::Bool, "no"),
    ent!("replica-lag-alert-ms", N, 0, Kind::Int(0, INT_MAX), "0"),
    // SECURITY
    ent!("requirepass", N, 0, NULLSTR, "", fstr!(requirepass)),
    ent!("aclfile", N, IMMUTABLE, STR, "", fstr!(aclfile)),
    ent!("acllog-max-len", N, 0, Kind::Int(0, LMAX), "", fnum!(acllog_max_len)),
    ent!("acl-pubsub-default", N, 0, Kind::Enum(PUBSUB), "", Field {
        get: |c| if c.acl_pubsub_allchannels { "allchannels" } else { "resetchannels" }.to_string(),
        set: |c, v| c.acl_pubsub_allchannels = v == "allchannels",
    }),
    ent!("enable-protected-configs", N, IMMUTABLE, Kind::Enum(PROTECTED_ACTION), "no"),
    ent!("enable-debug-command", N, IMMUTABLE, Kind::Enum(PROTECTED_ACTION), "", fenum!(enable_debug_command)),
    ent!("enable-module-command", N, IMMUTABLE, Kind::Enum(PROTECTED_ACTION), "no"),
    // CLIENTS
    ent!("maxclients", N, 0, Kind::Int(1, u32::MAX as i64), "", fnum!(maxclients)),
    ent!("client-output-buffer-limit", N, MULTI, Kind::Special, "", SPECIAL),
    ent!("client-query-buffer-limit", N, 0, Kind::Mem(1024 * 1024, LMAX as u64), "", fnum!(client_query_buffer_limit)),
    ent!("proto-max-bulk-len", N, 0, Kind::Mem(1024 * 1024, LMAX as u64), "", fnum!(proto_max_bulk_len)),
    ent!("maxmemory-clients", N, 0, Kind::MemPct, "0"),
    // MEMORY MANAGEMENT
    ent!("maxmemory", N, 0, Kind::Mem(0, u64::MAX), "", fnum!(maxmemory)),
    ent!("maxmemory-policy", N, 0, Kind::Enum(POLICY), "", fenum!(maxmemory_policy)),
    ent!("maxmemory-samples", N, 0, Kind::Int(1, INT_MAX), "", fnum!(maxmemory_samples)),
    ent!("maxmemory-eviction-tenacity", N, 0, Kind::Int(0, 100), "10"),
    ent!("lazyfree-lazy-eviction", N, 0, Kind::Bool, "no"),
    ent!("lazyfree-lazy-expire", N, 0, Kind::Bool, "no"),
    ent!("lazyfree-lazy-server-del", N, 0, Kind::Bool, "no"),
    ent!("lazyfree-lazy-user-del", N, 0, Kind::Bool, "", fbool!(lazyfree_lazy_user_del)),
    ent!("lazyfree-lazy-user-flush", N, 0, Kind::Bool, "", fbool!(lazyfree_lazy_user_flush)),
    ent!("io-threads", N, IMMUTABLE, Kind::Int(1, 128), "1"),
    ent!("io-threads-do-reads", N, IMMUTABLE, Kind::Bool, "no"),
    ent!("oom-score-adj", N, 0, Kind::Enum(OOM), "no"),
    ent!("oom-score-adj-values", N, MULTI, Kind::Special, "0 200 800"),
    ent!("disable-thp", N, IMMUTABLE, Kind::Bool, "yes"),
    // APPEND ONLY MODE
    ent!("appendonly", N, DENY_LOADING, Kind::Bool, "", fbool!(appendonly)),
    ent!("appendfilename", N, IMMUTABLE, Kind::Str { nullable: false, check: Some(|v| basename_check("appendfilename", "filename", v)) }, "", fstr!(appendfilename)),
    ent!("appenddirname", N, IMMUTABLE, Kind::Str { nullable: false, check: Some(|v| basename_check("appenddirname", "dirname", v)) }, "", fstr!(appenddirname)),
    ent!("appendfsync", N, 0, Kind::Enum(FSYNC), "", fenum!(appendfsync)),
    ent!("no-appendfsync-on-rewrite", N, 0, Kind::Bool, "no"),
    ent!("auto-aof-rewrite-percentage", N, 0, Kind::Int(0, INT_MAX), "", fnum!(auto_aof_rewrite_percentage)),
    ent!("auto-aof-rewrite-min-size", N, 0, Kind::Mem(0, LMAX as u64), "", fnum!(auto_aof_rewrite_min_size)),
    ent!("aof-load-truncated", N, 0, Kind::Bool, "", fbool!(aof_load_truncated)),
    ent!("aof-use-rdb-preamble", N, 0, Kind::Bool, "", fbool!(aof_use_rdb_preamble)),
    ent!("aof-timestamp-enabled", N, 0, Kind::Bool, "no"),
    ent!("aof-rewrite-incremental-fsync", N, 0, Kind::Bool, "yes"),
    ent!("aof-disable-auto-gc", N, 0, Kind::Bool, "no"),
    ent!("rdb-save-incremental-fsync", N, 0, Kind::Bool, "yes"),
    // SHUTDOWN
    ent!("shutdown-timeout", N, 0, Kind::Int(0, INT_MAX), "10"),
    ent!("shutdown-on-sigint", N, MULTI, Kind::Words(SHUTDOWN), "default"),
    ent!("shutdown-on-sigterm", N, MULTI, Kind::Words(SHUTDOWN), "default"),
    // LUA / FUNCTIONS
    ent!("busy-reply-threshold", Some("lua-time-limit"), 0, Kind::Int(0, LMAX), "", fnum!(busy_reply_threshold)),
    ent!("lua-enable-deprecated-api", N, IMMUTABLE | HIDDEN, Kind::Bool, "no"),
    // REDIS CLUSTER
    ent!("cluster-enabled", N, IMMUTABLE, Kind::Bool, "no"),
    ent!("cluster-config-file", N, IMMUTABLE, STR, "nodes.conf"),
    ent!("cluster-node-timeout", N, 0, Kind::Int(0, LMAX), "15000"),
    ent!("cluster-port", N, IMMUTABLE, Kind::Int(0, 65535), "0"),
    ent!("cluster-replica-validity-factor", Some("cluster-slave-validity-factor"), 0, Kind::Int(0, INT_MAX), "10"),
    ent!("cluster-migration-barrier", N, 0, Kind::Int(0, INT_MAX), "1"),
    ent!("cluster-allow-replica-migration", N, 0, Kind::Bool, "yes"),
    ent!("cluster-require-full-coverage", N, 0, Kind::Bool, "yes"),
    ent!("cluster-replica-no-failover", Some("cluster-slave-no-failover"), 0, Kind::Bool, "no"),
    ent!("cluster-allow-reads-when-down", N, 0, Kind::Bool, "no"),
    ent!("cluster-allow-pubsubshard-when-down", N, 0, Kind::Bool, "yes"),
    ent!("cluster-link-sendbuf-limit", N, 0, Kind::Mem(0, u64::MAX), "0"),
    ent!("cluster-announce-ip", N, 0, NULLSTR, ""),
    ent!("cluster-announce-hostname", N, 0, Kind::Str { nullable: true, check: Some(hostname_check) }, ""),
    ent!("cluster-announce-port", N, 0, Kind::Int(0, 65535), "0"),
    ent!("cluster-announce-bus-port", N, 0, Kind::Int(0, 65535), "0"),
    ent!("cluster-announce-tls-port", N, 0, Kind::Int(0, 65535), "0"),
    ent!("cluster-preferred-endpoint-type", N, 0, Kind::Enum(ENDPOINT), "ip"),
    // SLOW LOG / LATENCY MONITOR
    ent!("slowlog-log-slower-than", N, 0, Kind::Int(-1, LMAX), "", fnum!(slowlog_log_slower_than)),
    ent!("slowlog-max-len", N, 0, Kind::Int(0, LMAX), "", fnum!(slowlog_max_len)),
    ent!("latency-monitor-threshold", N, 0, Kind::Int(0, LMAX), "", fnum!(latency_monitor_threshold)),
    ent!("latency-tracking", N, 0, Kind::Bool, "", fbool!(latency_tracking)),
    ent!("latency-tracking-info-percentiles", N, MULTI, Kind::Special, "50 99 99.9"),
    // EVENT NOTIFICATION
    ent!("notify-keyspace-events", N, 0, Kind::Special, "", SPECIAL),
    // ADVANCED CONFIG
    ent!("hash-max-listpack-entries", Some("hash-max-ziplist-entries"), 0, Kind::Int(0, LMAX), "", fnum!(hash_max_listpack_entries)),
    ent!("hash-max-listpack-value", Some("hash-max-ziplist-value"), 0, Kind::Mem(0, LMAX as u64), "", fnum!(hash_max_listpack_value)),
    ent!("list-max-listpack-size", Some("list-max-ziplist-size"), 0, Kind::Int(INT_MIN, INT_MAX), "", fnum!(list_max_listpack_size)),
    ent!("list-compress-depth", N, 0, Kind::Int(0, INT_MAX), "", fnum!(list_compress_depth)),
    ent!("set-max-intset-entries", N, 0, Kind::Int(0, LMAX), "", fnum!(set_max_intset_entries)),
    ent!("zset-max-listpack-entries", Some("zset-max-ziplist-entries"), 0, Kind::Int(0, LMAX), "", fnum!(zset_max_listpack_entries)),
    ent!("zset-max-listpack-value", Some("zset-max-ziplist-value"), 0, Kind::Mem(0, LMAX as u64), "", fnum!(zset_max_listpack_value)),
    ent!("hll-sparse-max-bytes", N, 0, Kind::Mem(0, LMAX as u64), "3000"),
    ent!("stream-node-max-bytes", N, 0, Kind::Mem(0, LMAX as u64), "", fnum!(stream_node_max_bytes)),
    ent!("stream-node-max-entries", N, 0, Kind::Int(0, LMAX), "", fnum!(stream_node_max_entries)),
    ent!("activerehashing", N, 0, Kind::Bool, "", fbool!(activerehashing)),
    // Redis clamps hz to 1..500 rather than refusing it.
    ent!("hz", N, 0, Kind::Int(0, INT_MAX), "", Field {
        get: |c| c.hz.to_string(),
        set: |c, v| c.hz = v.parse::<i64>().unwrap_or(10).clamp(1, 500) as u32,
    }),
    ent!("dynamic-hz", N, 0, Kind::Bool, "yes"),
    ent!("active-expire-effort", N, 0, Kind::Int(1, 10), "", fnum!(active_expire_effort)),
    ent!("lfu-log-factor", N, 0, Kind::Int(0, INT_MAX), "", fnum!(lfu_log_factor)),
    ent!("lfu-decay-time", N, 0, Kind::Int(0, INT_MAX), "", fnum!(lfu_decay_time)),
    ent!("tracking-table-max-keys", N, 0, Kind::Int(0, LMAX), "", fnum!(tracking_table_max_keys)),
    ent!("activedefrag", N, 0, Kind::Bool, "no"),
    ent!("active-defrag-ignore-bytes", N, 0, Kind::Mem(1, LMAX as u64), "104857600"),
    ent!("active-defrag-threshold-lower", N, 0, Kind::Int(0, 1000), "10"),
    ent!("active-defrag-threshold-upper", N, 0, Kind::Int(0, 1000), "100"),
    ent!("active-defrag-cycle-min", N, 0, Kind::Int(1, 99), "1"),
    ent!("active-defrag-cycle-max", N, 0, Kind::Int(1, 99), "25"),
    ent!("active-defrag-max-scan-fields", N, 0, Kind::Int(1, LMAX), "1000"),
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
    ent!("tls-session-cache-size", N, 0, Kind::Int(0, INT_MAX), "20480"),
    ent!("tls-session-cache-timeout", N, 0, Kind::Int(0, INT_MAX), "300"),
    // Hidden debugging knobs: only visible to an exact CONFIG GET.
    ent!("use-exit-on-panic", N, HIDDEN, Kind::Bool, "no"),
    ent!("rdb-key-save-delay", N, HIDDEN, Kind::Int(INT_MIN, INT_MAX), "0"),
    ent!("key-load-delay", N, HIDDEN, Kind::Int(INT_MIN, INT_MAX), "0"),
    ent!("watchdog-period", N, HIDDEN, Kind::Int(0, INT_MAX), "0", fnum!(watchdog_period)),
    ent!("loading-process-events-interval-bytes", N, HIDDEN, Kind::Int(1024, INT_MAX), "2097152"),
];
