//! Server configuration: owns the typed settings (`Config`), the redis.conf
//! loader (file, stdin and command-line options, with Redis's quoting and
//! error texts), CONFIG GET/SET semantics (glob patterns, aliases, atomic
//! validation, exact error messages) and CONFIG REWRITE. Directives Redis
//! knows but ferrodis does not implement are accepted and stored as strings
//! ("ignored" directives) so existing redis.conf files keep loading.
//! Side effects (binding sockets, chdir, resizing structures) are the
//! server's job: `set` only reports which directives changed.

mod directives;
pub mod parse;
mod rewrite;
mod special;
mod table;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::fmt;

use crate::util::splitargs::{repr, split_args_str as split_args};
pub use parse::memtoull;
pub use parse::os_err;
pub use rewrite::RewriteOp;
use table::{lookup, normalize, Entry, Kind, DENY_LOADING, IMMUTABLE, MULTI, PROTECTED, TABLE};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogLevel {
    Debug,
    Verbose,
    Notice,
    Warning,
    Nothing,
}
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AppendFsync {
    Always,
    EverySec,
    No,
}
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DisklessLoad {
    Disabled,
    OnEmptyDb,
    SwapDb,
}
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MaxmemoryPolicy {
    VolatileLru,
    AllKeysLru,
    VolatileLfu,
    AllKeysLfu,
    VolatileRandom,
    AllKeysRandom,
    VolatileTtl,
    NoEviction,
}
/// enable-debug-command.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EnableDebug {
    No,
    Yes,
    Local,
}

#[derive(Clone, Copy, Default, Debug, PartialEq, Eq)]
pub struct ClientOutputBufferLimit {
    pub hard: u64,
    pub soft: u64,
    pub soft_seconds: u64,
}

pub const NOTIFY_KEYSPACE: u32 = 1 << 0;
pub const NOTIFY_KEYEVENT: u32 = 1 << 1;
pub const NOTIFY_GENERIC: u32 = 1 << 2;
pub const NOTIFY_STRING: u32 = 1 << 3;
pub const NOTIFY_LIST: u32 = 1 << 4;
pub const NOTIFY_SET: u32 = 1 << 5;
pub const NOTIFY_HASH: u32 = 1 << 6;
pub const NOTIFY_ZSET: u32 = 1 << 7;
pub const NOTIFY_EXPIRED: u32 = 1 << 8;
pub const NOTIFY_EVICTED: u32 = 1 << 9;
pub const NOTIFY_STREAM: u32 = 1 << 10;
pub const NOTIFY_KEY_MISS: u32 = 1 << 12;
pub const NOTIFY_MODULE: u32 = 1 << 13;
pub const NOTIFY_NEW: u32 = 1 << 14;
/// The `A` alias: g$lshzxetd.
pub const NOTIFY_ALL: u32 = NOTIFY_GENERIC
    | NOTIFY_STRING
    | NOTIFY_LIST
    | NOTIFY_SET
    | NOTIFY_HASH
    | NOTIFY_ZSET
    | NOTIFY_EXPIRED
    | NOTIFY_EVICTED
    | NOTIFY_STREAM
    | NOTIFY_MODULE;

/// Parse notify-keyspace-events classes; None on an unknown character.
pub fn keyspace_events_from_str(s: &str) -> Option<u32> {
    let mut flags = 0;
    for c in s.chars() {
        flags |= match c {
            'A' => NOTIFY_ALL,
            'g' => NOTIFY_GENERIC,
            '$' => NOTIFY_STRING,
            'l' => NOTIFY_LIST,
            's' => NOTIFY_SET,
            'h' => NOTIFY_HASH,
            'z' => NOTIFY_ZSET,
            'x' => NOTIFY_EXPIRED,
            'e' => NOTIFY_EVICTED,
            'K' => NOTIFY_KEYSPACE,
            'E' => NOTIFY_KEYEVENT,
            't' => NOTIFY_STREAM,
            'm' => NOTIFY_KEY_MISS,
            'd' => NOTIFY_MODULE,
            'n' => NOTIFY_NEW,
            _ => return None,
        };
    }
    Some(flags)
}

/// Format flags as Redis 7.0 does (`n` only without `A`, after `d`).
pub fn keyspace_events_to_string(flags: u32) -> String {
    let mut s = String::new();
    if flags & NOTIFY_ALL == NOTIFY_ALL {
        s.push('A');
    } else {
        for (f, c) in [
            (NOTIFY_GENERIC, 'g'),
            (NOTIFY_STRING, '$'),
            (NOTIFY_LIST, 'l'),
            (NOTIFY_SET, 's'),
            (NOTIFY_HASH, 'h'),
            (NOTIFY_ZSET, 'z'),
            (NOTIFY_EXPIRED, 'x'),
            (NOTIFY_EVICTED, 'e'),
            (NOTIFY_STREAM, 't'),
            (NOTIFY_MODULE, 'd'),
            (NOTIFY_NEW, 'n'),
        ] {
            if flags & f != 0 {
                s.push(c);
            }
        }
    }
    for (f, c) in [
        (NOTIFY_KEYSPACE, 'K'),
        (NOTIFY_KEYEVENT, 'E'),
        (NOTIFY_KEY_MISS, 'm'),
    ] {
        if flags & f != 0 {
            s.push(c);
        }
    }
    s
}

const COBL_CLASSES: [&str; 3] = ["normal", "slave", "pubsub"];
const REDIS_VERSION: &str = "7.0.15";

/// A `sentinel ...` line of the config file, kept for Sentinel to apply
/// once the whole file is read (arguments without the word "sentinel").
#[derive(Clone, Debug)]
pub struct SentinelLine {
    pub linenum: usize,
    pub line: String,
    pub argv: Vec<String>,
}

#[derive(Clone, Debug)]
pub struct Config {
    pub port: u16,
    pub bind: Vec<String>,
    pub unixsocket: String,
    pub unixsocketperm: u32,
    pub protected_mode: bool,
    pub tcp_backlog: i32,
    pub timeout: u64,
    pub tcp_keepalive: u64,
    pub maxclients: u64,
    pub daemonize: bool,
    pub pidfile: String,
    pub logfile: String,
    pub loglevel: LogLevel,
    pub databases: usize,
    pub requirepass: String,
    pub aclfile: String,
    pub acllog_max_len: u64,
    /// acl-pubsub-default allchannels (false: resetchannels).
    pub acl_pubsub_allchannels: bool,
    pub tracking_table_max_keys: u64,
    /// `user` lines of the config: (line number, line, arguments after
    /// `user`); the server validates and loads them at startup.
    pub user_lines: Vec<(usize, String, Vec<String>)>,
    pub hz: u32,
    pub dir: String,
    pub dbfilename: String,
    pub save: Vec<(u64, u64)>,
    pub stop_writes_on_bgsave_error: bool,
    pub rdbcompression: bool,
    pub rdbchecksum: bool,
    pub rdb_del_sync_files: bool,
    pub appendonly: bool,
    pub appendfilename: String,
    pub appenddirname: String,
    pub appendfsync: AppendFsync,
    pub auto_aof_rewrite_percentage: u64,
    pub auto_aof_rewrite_min_size: u64,
    pub aof_load_truncated: bool,
    pub aof_use_rdb_preamble: bool,
    pub replicaof: Option<(String, u16)>,
    pub masterauth: String,
    pub masteruser: String,
    pub replica_read_only: bool,
    pub replica_serve_stale_data: bool,
    pub repl_diskless_sync: bool,
    pub repl_diskless_sync_delay: u64,
    pub repl_diskless_sync_max_replicas: u64,
    pub repl_diskless_load: DisklessLoad,
    pub repl_backlog_size: u64,
    pub repl_backlog_ttl: u64,
    pub repl_timeout: u64,
    pub repl_ping_replica_period: u64,
    pub repl_disable_tcp_nodelay: bool,
    pub min_replicas_to_write: u64,
    pub min_replicas_max_lag: u64,
    pub replica_announce_ip: String,
    pub replica_announce_port: u16,
    pub replica_priority: u64,
    pub replica_announced: bool,
    /// normal, replica, pubsub.
    pub client_output_buffer_limit: [ClientOutputBufferLimit; 3],
    pub proto_max_bulk_len: u64,
    pub client_query_buffer_limit: u64,
    pub maxmemory: u64,
    pub maxmemory_policy: MaxmemoryPolicy,
    pub maxmemory_samples: u64,
    /// NOTIFY_* bit flags.
    pub notify_keyspace_events: u32,
    pub hash_max_listpack_entries: u64,
    pub hash_max_listpack_value: u64,
    pub set_max_intset_entries: u64,
    pub zset_max_listpack_entries: u64,
    pub zset_max_listpack_value: u64,
    pub list_max_listpack_size: i64,
    pub stream_node_max_bytes: u64,
    pub stream_node_max_entries: i64,
    pub list_compress_depth: u64,
    pub enable_debug_command: EnableDebug,
    pub slowlog_log_slower_than: i64,
    pub slowlog_max_len: u64,
    pub latency_monitor_threshold: u64,
    /// watchdog-period in ms (0: off; server/watchdog.rs).
    pub watchdog_period: u64,
    /// Per-command latency histograms (INFO latencystats, LATENCY HISTOGRAM).
    pub latency_tracking: bool,
    /// busy-reply-threshold (lua-time-limit), in milliseconds.
    pub busy_reply_threshold: u64,
    pub lazyfree_lazy_user_del: bool,
    pub lazyfree_lazy_user_flush: bool,
    pub activerehashing: bool,
    pub active_expire_effort: u64,
    pub lfu_log_factor: u64,
    pub lfu_decay_time: u64,
    pub always_show_logo: bool,
    pub set_proc_title: bool,
    pub proc_title_template: String,
    pub supervised: String,
    pub syslog_enabled: bool,
    pub crash_log_enabled: bool,
    /// Absolute path of the file loaded, for INFO and CONFIG REWRITE.
    pub config_file: Option<String>,
    /// `rename-command old new` lines, in order (new may be empty).
    pub rename_commands: Vec<(String, String)>,
    /// Running as a Sentinel (`--sentinel`): `sentinel` lines are kept in
    /// `sentinel_conf` instead of being refused.
    pub sentinel_mode: bool,
    pub sentinel_conf: Vec<SentinelLine>,
    /// Values of directives stored but not implemented, by canonical name.
    extra: BTreeMap<&'static str, String>,
    /// Not-implemented directives that appeared in the loaded config.
    ignored_used: Vec<String>,
    /// The first `save` line of a file replaces the defaults; later ones add.
    save_loaded: bool,
}

/// A fatal startup configuration error; Display is the text Redis prints.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError(pub String);

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}
impl std::error::Error for ConfigError {}

impl Default for Config {
    fn default() -> Self {
        Config::default()
    }
}

impl Config {
    /// Redis 7.0.15 defaults.
    #[allow(clippy::should_implement_trait)]
    pub fn default() -> Config {
        let mb = 1024 * 1024;
        let extra = TABLE
            .iter()
            .filter(|e| e.field.is_none())
            .map(|e| (e.name, e.default.to_string()))
            .collect();
        Config {
            port: 6379,
            bind: vec!["*".into(), "-::*".into()],
            unixsocket: String::new(),
            unixsocketperm: 0,
            protected_mode: true,
            tcp_backlog: 511,
            timeout: 0,
            tcp_keepalive: 300,
            maxclients: 10000,
            daemonize: false,
            pidfile: String::new(),
            logfile: String::new(),
            loglevel: LogLevel::Notice,
            databases: 16,
            requirepass: String::new(),
            aclfile: String::new(),
            acllog_max_len: 128,
            acl_pubsub_allchannels: false,
            tracking_table_max_keys: 1_000_000,
            user_lines: Vec::new(),
            hz: 10,
            dir: "./".into(),
            dbfilename: "dump.rdb".into(),
            save: vec![(3600, 1), (300, 100), (60, 10000)],
            stop_writes_on_bgsave_error: true,
            rdbcompression: true,
            rdbchecksum: true,
            rdb_del_sync_files: false,
            appendonly: false,
            appendfilename: "appendonly.aof".into(),
            appenddirname: "appendonlydir".into(),
            appendfsync: AppendFsync::EverySec,
            auto_aof_rewrite_percentage: 100,
            auto_aof_rewrite_min_size: 64 * mb,
            aof_load_truncated: true,
            aof_use_rdb_preamble: true,
            replicaof: None,
            masterauth: String::new(),
            masteruser: String::new(),
            replica_read_only: true,
            replica_serve_stale_data: true,
            repl_diskless_sync: true,
            repl_diskless_sync_delay: 5,
            repl_diskless_sync_max_replicas: 0,
            repl_diskless_load: DisklessLoad::Disabled,
            repl_backlog_size: mb,
            repl_backlog_ttl: 3600,
            repl_timeout: 60,
            repl_ping_replica_period: 10,
            repl_disable_tcp_nodelay: false,
            min_replicas_to_write: 0,
            min_replicas_max_lag: 10,
            replica_announce_ip: String::new(),
            replica_announce_port: 0,
            replica_priority: 100,
            replica_announced: true,
            client_output_buffer_limit: [
                ClientOutputBufferLimit::default(),
                ClientOutputBufferLimit {
                    hard: 256 * mb,
                    soft: 64 * mb,
                    soft_seconds: 60,
                },
                ClientOutputBufferLimit {
                    hard: 32 * mb,
                    soft: 8 * mb,
                    soft_seconds: 60,
                },
            ],
            proto_max_bulk_len: 512 * mb,
            client_query_buffer_limit: 1024 * mb,
            maxmemory: 0,
            maxmemory_policy: MaxmemoryPolicy::NoEviction,
            maxmemory_samples: 5,
            notify_keyspace_events: 0,
            hash_max_listpack_entries: 512,
            hash_max_listpack_value: 64,
            set_max_intset_entries: 512,
            zset_max_listpack_entries: 128,
            zset_max_listpack_value: 64,
            list_max_listpack_size: -2,
            stream_node_max_bytes: 4096,
            stream_node_max_entries: 100,
            list_compress_depth: 0,
            enable_debug_command: EnableDebug::No,
            slowlog_log_slower_than: 10000,
            slowlog_max_len: 128,
            latency_monitor_threshold: 0,
            watchdog_period: 0,
            busy_reply_threshold: 5000,
            latency_tracking: true,
            lazyfree_lazy_user_del: false,
            lazyfree_lazy_user_flush: false,
            activerehashing: true,
            active_expire_effort: 1,
            lfu_log_factor: 10,
            lfu_decay_time: 1,
            always_show_logo: false,
            set_proc_title: true,
            proc_title_template: "{title} {listen-addr} {server-mode}".into(),
            supervised: "no".into(),
            syslog_enabled: false,
            crash_log_enabled: true,
            config_file: None,
            rename_commands: Vec::new(),
            sentinel_mode: false,
            sentinel_conf: Vec::new(),
            extra,
            ignored_used: Vec::new(),
            save_loaded: false,
        }
    }

    /// Build the config from redis-server style arguments (without argv[0]):
    /// `[configfile|-] [--directive value ...]`.
    pub fn from_args(argv: &[String]) -> Result<Config, ConfigError> {
        Config::from_args_mode(argv, false)
    }

    /// `from_args` for a server that runs as a Sentinel (`sentinel`): port
    /// 26379 and protected-mode off by default, `sentinel` lines kept.
    pub fn from_args_mode(argv: &[String], sentinel: bool) -> Result<Config, ConfigError> {
        let mut cfg = Config::default();
        if sentinel {
            cfg.sentinel_mode = true;
            cfg.port = 26379; // Sentinel's own default port.
            cfg.protected_mode = false;
        }
        let mut j = 0;
        if let Some(first) = argv.first() {
            if !first.starts_with('-') {
                let abs = absolute_path(first);
                cfg.config_file = Some(abs);
                j = 1;
            }
        }
        let mut from_stdin = false;
        let mut options = String::new();
        let mut handled_last = true;
        let n = argv.len();
        while j < n {
            let a = &argv[j];
            let is_opt = |s: &str| s.starts_with("--");
            if a == "-" && (j == 0 || j == n - 1) {
                from_stdin = true;
            } else if handled_last && is_opt(a) {
                if !options.is_empty() {
                    options.push('\n');
                }
                options.push_str(&a[2..]);
                options.push(' ');
                if split_args(a).map_or(0, |v| v.len()) == 1 {
                    // A bare "--name": its values follow.
                    handled_last = false;
                    let next_is_opt = j + 1 < n && is_opt(&argv[j + 1]);
                    if a.eq_ignore_ascii_case("--save") && (next_is_opt || j == n - 1) {
                        // `--save` with no value means `save ""` (pre-7.0 compat).
                        options.push_str("\"\"");
                        handled_last = true;
                    }
                    if a.eq_ignore_ascii_case("--sentinel") && next_is_opt {
                        // A pseudo option with no value (pre-7.0 compat).
                        handled_last = true;
                    }
                } else {
                    handled_last = true;
                }
            } else {
                options.push_str(&repr(a.as_bytes()));
                options.push(' ');
                handled_last = true;
            }
            j += 1;
        }
        let mut text = String::new();
        if let Some(path) = &cfg.config_file {
            text = read_config_file(path)?;
        }
        if from_stdin {
            let mut s = String::new();
            std::io::Read::read_to_string(&mut std::io::stdin(), &mut s).map_err(|e| {
                ConfigError(format!(
                    "Error reading config from stdin: {}",
                    parse::os_err(&e)
                ))
            })?;
            text.push_str(&s);
        }
        text.push('\n');
        text.push_str(&options);
        cfg.load_text(&text)?;
        Ok(cfg)
    }

    /// Apply redis.conf text (as Redis's loadServerConfigFromString).
    pub fn load_text(&mut self, text: &str) -> Result<(), ConfigError> {
        for (i, raw) in text.split('\n').enumerate() {
            let line = raw.trim_matches(|c| matches!(c, ' ' | '\t' | '\r' | '\n'));
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let fail = |err: String| {
                ConfigError(format!(
                    "\n*** FATAL CONFIG FILE ERROR (Redis {REDIS_VERSION}) ***\n\
                     Reading the configuration file, at line {}\n>>> '{line}'\n{err}",
                    i + 1
                ))
            };
            let Some(mut argv) = split_args(line) else {
                return Err(fail("Unbalanced quotes in configuration line".into()));
            };
            if argv.is_empty() {
                continue;
            }
            argv[0] = argv[0].to_ascii_lowercase();
            let (name, args) = (argv[0].as_str(), &argv[1..]);
            if let Some((e, _)) = lookup(name) {
                if e.flags & MULTI == 0 && args.len() != 1 {
                    return Err(fail("wrong number of arguments".into()));
                }
                self.set_entry(e, args, true).map_err(fail)?;
                if e.field.is_none() {
                    self.note_ignored(e.name);
                }
                continue;
            }
            match (name, args.len()) {
                // Deprecated no-ops Redis still accepts.
                (
                    "list-max-ziplist-entries"
                    | "list-max-ziplist-value"
                    | "lua-replicate-commands",
                    1,
                ) => {}
                ("include", 1) => self.include(&args[0])?,
                ("rename-command", 2) => {
                    self.rename_commands
                        .push((args[0].clone(), args[1].clone()));
                }
                ("user", n) if n >= 1 => {
                    self.user_lines
                        .push((i + 1, line.to_string(), args.to_vec()));
                }
                ("loadmodule", n) if n >= 1 => self.note_ignored(name),
                ("sentinel", 0) => {}
                ("sentinel", _) if self.sentinel_mode => {
                    self.sentinel_conf.push(SentinelLine {
                        linenum: i + 1,
                        line: line.to_string(),
                        argv: args.to_vec(),
                    });
                }
                ("sentinel", _) => {
                    return Err(fail("sentinel directive while not in sentinel mode".into()));
                }
                _ => return Err(fail("Bad directive or wrong number of arguments".into())),
            }
        }
        let fatal = |err: String| {
            ConfigError(format!(
                "\n*** FATAL CONFIG FILE ERROR (Redis {REDIS_VERSION}) ***\n{err}"
            ))
        };
        if !self.logfile.is_empty() {
            // Redis checks the log file can be opened before going on.
            std::fs::OpenOptions::new()
                .append(true)
                .create(true)
                .open(&self.logfile)
                .map_err(|e| fatal(format!("Can't open the log file: {}", parse::os_err(&e))))?;
        }
        if self.replicaof.is_some() && self.extra_value("cluster-enabled") == "yes" {
            return Err(fatal(
                "replicaof directive not allowed in cluster mode".into(),
            ));
        }
        Ok(())
    }

    fn include(&mut self, pattern: &str) -> Result<(), ConfigError> {
        for path in expand_include(pattern) {
            let text = read_config_file(&path)?;
            self.load_text(&text)?;
        }
        Ok(())
    }

    fn note_ignored(&mut self, name: &str) {
        // Stored as strings but read by name where they take effect.
        const READ_BY_NAME: &[&str] = &[
            "disable-thp",
            "rdb-key-save-delay",
            "shutdown-timeout",
            "shutdown-on-sigint",
            "shutdown-on-sigterm",
            "oom-score-adj",
            "oom-score-adj-values",
            "bind-source-addr",
            "key-load-delay",
            "loading-process-events-interval-bytes",
            "propagation-error-behavior",
            "replica-refuse-empty-sync",
            "replica-lag-alert-ms",
        ];
        if READ_BY_NAME.contains(&name) {
            return;
        }
        if !self.ignored_used.iter().any(|n| n == name) {
            self.ignored_used.push(name.to_string());
        }
    }

    /// Directives from the config that ferrodis accepts but does not
    /// implement (stored only), for a startup log line.
    pub fn ignored_directives_used(&self) -> Vec<String> {
        // cluster-* directives are read by name by the cluster module.
        self.ignored_used
            .iter()
            .filter(|d| !d.starts_with("cluster-"))
            .cloned()
            .collect()
    }

    /// Current value of a stored-only directive ("" if unknown).
    pub fn extra_value(&self, name: &str) -> &str {
        self.extra.get(name).map_or("", String::as_str)
    }

    /// Validate and store one directive. `reading_file` selects the
    /// file-only quirk of `save` (first line replaces the defaults).
    fn set_entry(
        &mut self,
        e: &'static Entry,
        args: &[String],
        reading_file: bool,
    ) -> Result<(), String> {
        // Multi-argument directives also take their arguments as one
        // space-separated string (`--save "3600 1"`, `--shutdown-on-sigint
        // "now force"`), which Redis 7.0 splits the same way.
        let split: Vec<String>;
        let args = if e.flags & MULTI != 0 && args.len() == 1 && args[0].contains(' ') {
            split = args[0].split_whitespace().map(str::to_string).collect();
            &split[..]
        } else {
            args
        };
        if let Kind::Special = e.kind {
            return self.set_special(e.name, args, reading_file);
        }
        let v = normalize(e.kind, args)?;
        match &e.field {
            Some(f) => (f.set)(self, &v),
            None => {
                self.extra.insert(e.name, v);
            }
        }
        Ok(())
    }

    /// CONFIG GET with several glob patterns; each name appears once.
    pub fn get(&self, patterns: &[&[u8]]) -> Vec<(String, String)> {
        let mut out = Vec::new();
        let mut seen: Vec<&'static str> = Vec::new();
        for pat in patterns {
            let p = String::from_utf8_lossy(pat);
            if !p.contains(['[', '*', '?']) {
                // Exact lookup (hidden configs too); the reply uses the name as typed.
                if let Some((e, m)) = lookup(&p) {
                    if !seen.contains(&m) {
                        seen.push(m);
                        out.push((p.to_string(), self.value_of(e)));
                    }
                }
                continue;
            }
            for e in TABLE.iter().filter(|e| e.flags & table::HIDDEN == 0) {
                for name in std::iter::once(e.name).chain(e.alias) {
                    if !seen.contains(&name)
                        && crate::util::string_match(pat, name.as_bytes(), true)
                    {
                        seen.push(name);
                        out.push((name.to_string(), self.value_of(e)));
                    }
                }
            }
        }
        out
    }

    /// CONFIG SET name value [name value ...]: all or nothing. Returns the
    /// canonical names whose value changed.
    pub fn set(&mut self, pairs: &[(&[u8], &[u8])]) -> Result<Vec<&'static str>, String> {
        self.set_from(pairs, true, false)
    }

    /// `set` for a client: `local` (loopback or unix socket) matters for
    /// protected configs under `enable-protected-configs local`; while
    /// `loading`, configs that may not change then (dir, appendonly) make
    /// it fail with -LOADING, ahead of any other error (as Redis).
    pub fn set_from(
        &mut self,
        pairs: &[(&[u8], &[u8])],
        local: bool,
        loading: bool,
    ) -> Result<Vec<&'static str>, String> {
        let mut chosen: Vec<(&'static Entry, &'static str, String)> = Vec::new();
        let mut unknown: Option<String> = None;
        let mut failure: Option<(String, &str)> = None;
        let mut deny_loading = false;
        for (name, value) in pairs {
            let typed = String::from_utf8_lossy(name).into_owned();
            let Some((e, matched)) = lookup(&typed) else {
                if unknown.is_none() && failure.is_none() {
                    unknown = Some(typed);
                }
                continue;
            };
            if unknown.is_some() || failure.is_some() {
                continue;
            }
            if e.flags & IMMUTABLE != 0 {
                failure = Some((typed, "can't set immutable config"));
            } else if e.flags & PROTECTED != 0 && !self.protected_configs_allowed(local) {
                failure = Some((typed, "can't set protected config"));
            } else if loading && e.flags & DENY_LOADING != 0 {
                deny_loading = true;
                failure = Some((typed, ""));
            } else if chosen.iter().any(|(c, _, _)| std::ptr::eq(*c, e)) {
                failure = Some((typed, "duplicate parameter"));
            } else {
                chosen.push((e, matched, String::from_utf8_lossy(value).into_owned()));
            }
        }
        if deny_loading {
            return Err(crate::error::LOADING.to_string());
        }
        if let Some(name) = unknown {
            return Err(format!(
                "ERR Unknown option or number of arguments for CONFIG SET - '{name}'"
            ));
        }
        if let Some((name, why)) = failure {
            return Err(format!(
                "ERR CONFIG SET failed (possibly related to argument '{name}') - {why}"
            ));
        }
        let mut new = self.clone();
        let mut changed = Vec::new();
        for (e, matched, value) in &chosen {
            let args: Vec<String> = if e.flags & MULTI != 0 {
                // sdssplitlen(" "): empty input gives no arguments.
                if value.is_empty() {
                    vec![]
                } else {
                    value.split(' ').map(str::to_string).collect()
                }
            } else {
                vec![value.clone()]
            };
            let before = new.value_of(e);
            new.set_entry(e, &args, false).map_err(|why| {
                format!("ERR CONFIG SET failed (possibly related to argument '{matched}') - {why}")
            })?;
            if new.value_of(e) != before && !changed.contains(&e.name) {
                changed.push(e.name);
            }
        }
        *self = new;
        Ok(changed)
    }

    /// enable-protected-configs: "local" depends on the client, which this
    /// module cannot see; it is treated as allowed.
    fn protected_configs_allowed(&self, local: bool) -> bool {
        match self.extra_value("enable-protected-configs") {
            "yes" => true,
            "local" => local,
            _ => false,
        }
    }
}

fn absolute_path(p: &str) -> String {
    let path = std::path::Path::new(p);
    if path.is_absolute() {
        return p.to_string();
    }
    match std::env::current_dir() {
        Ok(cwd) => cwd.join(path).to_string_lossy().into_owned(),
        Err(_) => p.to_string(),
    }
}

fn read_config_file(path: &str) -> Result<String, ConfigError> {
    std::fs::read(path)
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .map_err(|e| {
            ConfigError(format!(
                "Fatal error, can't open config file '{path}': {}",
                parse::os_err(&e)
            ))
        })
}

/// `include` paths: a wildcard in the file name expands (sorted) and may
/// match nothing; a plain path is returned as is.
fn expand_include(pattern: &str) -> Vec<String> {
    if !pattern.contains(['*', '?', '[']) {
        return vec![pattern.to_string()];
    }
    let path = std::path::Path::new(pattern);
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => std::path::PathBuf::from("."),
    };
    let Some(file_pat) = path.file_name().map(|f| f.to_string_lossy().into_owned()) else {
        return vec![];
    };
    let Ok(rd) = std::fs::read_dir(&dir) else {
        return vec![];
    };
    let mut out: Vec<String> = rd
        .flatten()
        .filter(|d| {
            let n = d.file_name().to_string_lossy().into_owned();
            !n.starts_with('.')
                && crate::util::string_match(file_pat.as_bytes(), n.as_bytes(), false)
        })
        .map(|d| dir.join(d.file_name()).to_string_lossy().into_owned())
        .collect();
    out.sort();
    out
}

impl Config {
    /// The loglevel as its redis.conf name (for the logger).
    pub fn loglevel_name(&self) -> &'static str {
        match self.loglevel {
            LogLevel::Debug => "debug",
            LogLevel::Verbose => "verbose",
            LogLevel::Notice => "notice",
            LogLevel::Warning => "warning",
            LogLevel::Nothing => "nothing",
        }
    }
}
