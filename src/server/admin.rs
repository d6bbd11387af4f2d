//! Server commands carried out with access to the whole server: the
//! dispatch of `Srv` tags, startup (`start`), CONFIG, COMMAND,
//! DEBUG, FLUSHDB/FLUSHALL/SWAPDB, SLOWLOG, LATENCY, MEMORY, MONITOR.

use super::Server;
use crate::cmd::{self, eq_ic, Srv};
use crate::error::{self, CmdError};
use crate::net::{flags, Kind};
use crate::resp::Out;
use bytes::Bytes;

/// Builds the server, listens, and runs the loop. Returns the exit code.
pub fn start(cfg: crate::config::Config, ready_pipe: Option<std::fs::File>) -> i32 {
    super::listen::install_signal_handlers();
    // disable-thp (default yes, as Redis 7.0): with transparent huge pages a
    // copy-on-write fault after fork copies 2 MB instead of 4 KB, which makes
    // writes during a background save slow and the child's memory balloon.
    if cfg.extra_value("disable-thp") != "no" {
        // SAFETY: prctl on our own process with integer arguments.
        unsafe { libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0) };
    }
    log::info!("oO0OoO0OoO0Oo ferrodis is starting oO0OoO0OoO0Oo");
    log::info!(
        "ferrodis version={}, redis compatibility={}, bits=64, pid={}, just started",
        env!("CARGO_PKG_VERSION"),
        crate::REDIS_VERSION,
        std::process::id()
    );
    if cfg.sentinel_mode {
        // Sentinel's own command table, before renames and lookups.
        if let Err(e) = crate::cmd::table::install_sentinel_table(
            crate::sentinel::table::COMMANDS,
            crate::sentinel::table::SHARED,
        ) {
            log::error!("{e}");
            return 1;
        }
    }
    if let Err(e) = crate::cmd::table::install_renames(&cfg.rename_commands) {
        log::error!("Fatal config error: {e}");
        return 1;
    }
    for d in cfg.ignored_directives_used() {
        log::info!(
            "Config directive '{d}' is accepted for compatibility and has no effect in ferrodis"
        );
    }
    if cfg.config_file.is_none() {
        log::warn!("Warning: no config file specified, using the default config. In order to specify a config file use ferrodis-server /path/to/redis.conf");
    } else {
        log::info!("Configuration loaded");
    }
    let mut server = match Server::new(cfg) {
        Ok(s) => s,
        Err(e) => {
            log::error!("Failed creating the event loop: {e}");
            return 1;
        }
    };
    if let Err(e) = server.acl_init() {
        log::error!("{e}");
        return 1;
    }
    server.recount_client_mem();
    let cluster = !server.cfg.sentinel_mode && crate::cluster::enabled(&server.cfg);
    if server.cfg.sentinel_mode {
        if let Err(code) = server.sentinel_init() {
            return code;
        }
        log::info!("Running mode=sentinel, port={}.", server.cfg.port);
    } else {
        log::info!(
            "Running mode={}, port={}.",
            if cluster { "cluster" } else { "standalone" },
            server.cfg.port
        );
        log::info!("Server initialized");
    }
    let _ = server.set_oom_score_adj();
    if let Err(e) = server.listen() {
        log::error!(
            "Failed listening on port {} (tcp), aborting: {e}",
            server.cfg.port
        );
        return 1;
    }
    super::listen::write_pidfile(&server.cfg.pidfile);
    server.update_proc_title(None);
    crate::alloc::mark_startup(super::info::used_memory());
    crate::alloc::refresh_allocator_stats(super::info::rss_bytes());
    if server.sentinel.is_some() {
        server.sentinel_is_running();
    } else {
        // Before loading, as Redis's logo shows it: a server that fails to
        // load its AOF or RDB has said which process it was.
        log::info!("PID: {}", std::process::id());
        if cluster {
            server.persist_chdir();
            if let Err(e) = server.cluster_init() {
                log::error!("{e}");
                return 1;
            }
        }
        server.load_data_on_startup();
        if cluster && !server.cluster_verify_config_with_data() {
            log::error!(
                "You can't have keys in a DB different than DB 0 when in Cluster mode. Exiting."
            );
            return 1;
        }
        server.repl_init_from_config();
        log::info!("Ready to accept connections");
    }
    if let Some(mut p) = ready_pipe {
        use std::io::Write;
        let _ = p.write_all(b"1");
    }
    match server.run() {
        Ok(()) => 0,
        Err(e) => {
            log::error!("Event loop failed: {e}");
            1
        }
    }
}

/// One SLOWLOG entry.
pub struct SlowEntry {
    pub id: u64,
    pub time: i64,
    pub usec: u64,
    pub argv: Vec<Vec<u8>>,
    pub addr: String,
    pub name: String,
}

#[derive(Default)]
pub struct Slowlog {
    pub entries: std::collections::VecDeque<SlowEntry>,
    pub next_id: u64,
}

impl Server {
    /// Carries out a `Proc::Srv` command.
    pub fn run_srv(&mut self, key: usize, tag: Srv, argv: &[Bytes]) {
        let r = match tag {
            Srv::Ping => self.cmd_ping(key, argv),
            Srv::Quit => self.cmd_quit(key),
            Srv::Reset => self.cmd_reset(key),
            Srv::Info => self.cmd_info(key, argv),
            Srv::Command => self.cmd_command(key, argv),
            Srv::Client => self.cmd_client(key, argv),
            Srv::Config => self.cmd_config(key, argv),
            Srv::Debug => self.cmd_debug(key, argv),
            Srv::Auth => self.cmd_auth(key, argv),
            Srv::Hello => self.cmd_hello(key, argv),
            Srv::Select => self.cmd_select(key, argv),
            Srv::FlushDb => self.cmd_flush(key, argv, false),
            Srv::FlushAll => self.cmd_flush(key, argv, true),
            Srv::SwapDb => self.cmd_swapdb(key, argv),
            Srv::Monitor => self.cmd_monitor(key),
            Srv::Slowlog => self.cmd_slowlog(key, argv),
            Srv::Latency => self.cmd_latency(key, argv),
            Srv::Memory => self.cmd_memory(key, argv),
            Srv::LastSave => {
                let t = self.lastsave;
                self.reply(key, |o| o.int(t));
                Ok(())
            }
            Srv::Save => self.cmd_save(key),
            Srv::BgSave => self.cmd_bgsave(key, argv),
            Srv::BgRewriteAof => self.cmd_bgrewriteaof(key),
            Srv::Shutdown => self.cmd_shutdown(key, argv),
            Srv::ReplicaOf => self.cmd_replicaof(key, argv),
            Srv::Psync => self.cmd_psync(key, argv),
            Srv::Sync => self.cmd_sync(key),
            Srv::Replconf => self.cmd_replconf(key, argv),
            Srv::Wait => self.cmd_wait(key, argv),
            Srv::Role => self.cmd_role(key),
            Srv::Failover => self.cmd_failover(key, argv),
            Srv::Multi => self.cmd_multi(key),
            Srv::Exec => self.cmd_exec(key),
            Srv::Discard => self.cmd_discard(key),
            Srv::Watch => self.cmd_watch(key, argv),
            Srv::Unwatch => self.cmd_unwatch(key),
            Srv::Subscribe => self.cmd_subscribe(key, argv, false),
            Srv::PSubscribe => self.cmd_subscribe(key, argv, true),
            Srv::Unsubscribe => self.cmd_unsubscribe(key, argv, false),
            Srv::PUnsubscribe => self.cmd_unsubscribe(key, argv, true),
            Srv::Publish => self.cmd_publish(key, argv),
            Srv::Pubsub => self.cmd_pubsub(key, argv),
            Srv::Acl => self.cmd_acl(key, argv),
            Srv::Sentinel | Srv::SentinelInfo | Srv::SentinelRole | Srv::SentinelPublish => {
                self.run_sentinel_srv(key, tag, argv)
            }
            Srv::Module => self.cmd_module(key, argv),
            Srv::Eval => self.cmd_eval(key, argv, false, false),
            Srv::EvalSha => self.cmd_eval(key, argv, true, false),
            Srv::EvalRo => self.cmd_eval(key, argv, false, true),
            Srv::EvalShaRo => self.cmd_eval(key, argv, true, true),
            Srv::Script => self.cmd_script(key, argv),
            Srv::Function => self.cmd_function(key, argv),
            Srv::Fcall => self.cmd_fcall(key, argv, false),
            Srv::FcallRo => self.cmd_fcall(key, argv, true),
            Srv::Cluster(c) => self.cluster_srv(key, c, argv),
        };
        if let Err(e) = r {
            self.reply_error(key, &e);
        }
    }

    /// Writes a reply to a client (nothing for the master link).
    /// Our master gets no replies, and a replica's output buffer is the
    /// replication stream: neither receives command replies.
    pub fn reply(&mut self, key: usize, f: impl FnOnce(&mut Out<'_>)) {
        if let Some(c) = self.clients.get_mut(key) {
            if c.kind != Kind::Normal {
                // A replica of ours must get no replies: it is dropped
                // (`replica_replied`).
                self.repl.replica_reply |= c.kind == Kind::Replica;
                return;
            }
            let resp = c.resp;
            f(&mut Out::new(&mut c.reply, resp));
        }
    }

    /// Writes a Pub/Sub push (a message, a (un)subscribe confirmation):
    /// it reaches the client even under CLIENT REPLY OFF|SKIP, as Redis's
    /// CLIENT_PUSHING replies do, so its span is kept for apply_reply_mode.
    pub fn reply_push(&mut self, key: usize, f: impl FnOnce(&mut Out<'_>)) {
        if let Some(c) = self.clients.get_mut(key) {
            if c.kind != Kind::Normal {
                return;
            }
            let start = c.reply.len();
            let resp = c.resp;
            f(&mut Out::new(&mut c.reply, resp));
            if c.has(flags::REPLY_OFF | flags::REPLY_SKIP) {
                c.push_spans.push((start, c.reply.len()));
            }
        }
    }

    /// A subcommand HELP reply: one status line per entry.
    pub fn reply_help(&mut self, key: usize, lines: &[&str]) {
        self.reply(key, |o| {
            o.array(lines.len());
            for l in lines {
                o.simple(l);
            }
        });
    }

    pub fn reply_ok(&mut self, key: usize) {
        self.reply(key, |o| o.ok());
    }

    fn cmd_flush(&mut self, key: usize, argv: &[Bytes], all: bool) -> Result<(), CmdError> {
        if argv.len() > 2
            || (argv.len() == 2 && !eq_ic(&argv[1], "async") && !eq_ic(&argv[1], "sync"))
        {
            return Err(error::SYNTAX.into());
        }
        let db = self.clients.get(key).map_or(0, |c| c.db);
        // getFlushCommandFlags: ASYNC, SYNC, else lazyfree-lazy-user-flush.
        let lazy = match argv.get(1) {
            Some(a) => eq_ic(a, "async"),
            None => self.cfg.lazyfree_lazy_user_flush,
        };
        let dbs = if all {
            0..self.ks.dbs.len()
        } else {
            db..db + 1
        };
        self.ks.signal_flushed(if all { None } else { Some(db) });
        let mut n = 0;
        for d in dbs {
            n += self.ks.dbs[d].len();
            if lazy {
                self.ks.flush_db_async(d);
            } else {
                self.ks.dbs[d].clear();
            }
        }
        self.dirty += n as u64 + 1;
        if all {
            self.after_flushall();
        }
        // Even an empty or just saved data set: replicas and the AOF
        // must flush too.
        self.force_propagation(true);
        self.reply_ok(key);
        Ok(())
    }

    fn cmd_swapdb(&mut self, key: usize, argv: &[Bytes]) -> Result<(), CmdError> {
        if self.cluster.is_some() {
            return Err("ERR SWAPDB is not allowed in cluster mode".into());
        }
        let parse = |a: &[u8]| -> Result<usize, CmdError> {
            let n = crate::encoding::numbers::string2ll(a)
                .ok_or(CmdError::from("ERR invalid first DB index"))?;
            Ok(n as usize)
        };
        let a = crate::encoding::numbers::string2ll(&argv[1])
            .ok_or(CmdError::from("ERR invalid first DB index"))?;
        let b = crate::encoding::numbers::string2ll(&argv[2])
            .ok_or(CmdError::from("ERR invalid second DB index"))?;
        let _ = parse;
        let n = self.ks.dbs.len() as i64;
        if a < 0 || a >= n || b < 0 || b >= n {
            return Err(error::DB_RANGE.into());
        }
        let (a, b) = (a as usize, b as usize);
        if a != b {
            // (As Redis 7.0, SWAPDB sends no invalidation.)
            self.ks.touch_all_watched_in_db(a, Some(b));
            self.ks.touch_all_watched_in_db(b, Some(a));
            self.ks.dbs.swap(a, b);
            // Keys that now exist in the other db may wake blocked clients.
            let keys: Vec<(usize, crate::sds::Sds)> = self
                .ks
                .blocking
                .keys()
                .filter(|(d, _)| *d == a || *d == b)
                .cloned()
                .collect();
            for (d, k) in keys {
                self.ks.signal_ready_if_blocked(d, &k);
            }
            self.dirty += 1;
        }
        self.reply_ok(key);
        Ok(())
    }

    fn cmd_monitor(&mut self, key: usize) -> Result<(), CmdError> {
        let Some(c) = self.clients.get_mut(key) else {
            return Ok(());
        };
        if c.kind != Kind::Normal || c.has(flags::MONITOR) {
            return Ok(());
        }
        c.flags |= flags::MONITOR;
        self.clients.add_monitor(key);
        self.reply_ok(key);
        Ok(())
    }

    /// Sends a command line to every MONITOR client, in Redis's format:
    /// `+1700000000.123456 [0 127.0.0.1:5555] "set" "k" "v"`.
    pub fn feed_monitors(&mut self, key: usize, db: usize, argv: &[Bytes]) {
        let addr = match self.clients.get(key) {
            // Commands a script runs show as the script's own client.
            Some(_) if self.scripts.run.is_some() => "lua".to_string(),
            Some(c) if c.has(flags::UNIX_SOCKET) => format!("unix:{}", self.cfg.unixsocket),
            Some(c) => c.addr.clone(),
            None => return,
        };
        let us = crate::util::ustime();
        let mut line = format!("{}.{:06} [{} {}]", us / 1_000_000, us % 1_000_000, db, addr);
        for a in argv {
            line.push(' ');
            crate::util::splitargs::repr_into(&mut line, a);
        }
        let monitors = self.clients.monitor_keys();
        for m in monitors {
            if m == key {
                continue;
            }
            self.reply(m, |o| o.simple(&line));
            self.mark_pending_write(m);
        }
    }

    pub fn slowlog_push(&mut self, key: usize, argv: &[Bytes], usec: u64) {
        let threshold = self.cfg.slowlog_log_slower_than;
        if threshold < 0 || usec < threshold as u64 {
            return;
        }
        let (addr, name) = match self.clients.get(key) {
            Some(c) => (
                c.addr.clone(),
                c.name
                    .as_deref()
                    .map(|n| String::from_utf8_lossy(n).into_owned())
                    .unwrap_or_default(),
            ),
            None => return,
        };
        // Like Redis: at most 32 arguments, each at most 128 bytes.
        let mut args: Vec<Vec<u8>> = Vec::new();
        for (i, a) in argv.iter().enumerate() {
            if i == 31 && argv.len() > 32 {
                args.push(format!("... ({} more arguments)", argv.len() - 31).into_bytes());
                break;
            }
            if a.len() > 128 {
                let mut v = a[..128].to_vec();
                v.extend_from_slice(format!("... ({} more bytes)", a.len() - 128).as_bytes());
                args.push(v);
            } else {
                args.push(a.to_vec());
            }
        }
        let id = self.slowlog.next_id;
        self.slowlog.next_id += 1;
        self.slowlog.entries.push_front(SlowEntry {
            id,
            time: self.ks.now_ms / 1000,
            usec,
            argv: args,
            addr,
            name,
        });
        while self.slowlog.entries.len() as u64 > self.cfg.slowlog_max_len {
            self.slowlog.entries.pop_back();
        }
    }

    fn cmd_slowlog(&mut self, key: usize, argv: &[Bytes]) -> Result<(), CmdError> {
        let sub = &argv[1][..];
        if eq_ic(sub, "help") && argv.len() == 2 {
            let lines = [
                "SLOWLOG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
                "GET [<count>]",
                "    Return top <count> entries from the slowlog (default: 10, -1 mean all).",
                "    Entries are made of:",
                "    id, timestamp, time in microseconds, arguments array, client IP and port,",
                "    client name",
                "LEN",
                "    Return the length of the slowlog.",
                "RESET",
                "    Reset the slowlog.",
                "HELP",
                "    Prints this help.",
            ];
            self.reply_help(key, &lines);
        } else if eq_ic(sub, "reset") && argv.len() == 2 {
            self.slowlog.entries.clear();
            self.reply_ok(key);
        } else if eq_ic(sub, "len") && argv.len() == 2 {
            let n = self.slowlog.entries.len() as i64;
            self.reply(key, |o| o.int(n));
        } else if eq_ic(sub, "get") && argv.len() <= 3 {
            let count = match argv.get(2) {
                None => 10,
                Some(a) => {
                    let n = crate::encoding::numbers::string2ll(a)
                        .ok_or(CmdError::from(error::NOT_INT))?;
                    if n < -1 {
                        return Err("ERR count should be greater than or equal to -1".into());
                    }
                    if n == -1 {
                        usize::MAX
                    } else {
                        n as usize
                    }
                }
            };
            let entries: Vec<&SlowEntry> = self.slowlog.entries.iter().take(count).collect();
            let c = match self.clients.get_mut(key) {
                Some(c) => c,
                None => return Ok(()),
            };
            let mut o = Out::new(&mut c.reply, c.resp);
            o.array(entries.len());
            for e in entries {
                o.array(6);
                o.int(e.id as i64);
                o.int(e.time);
                o.int(e.usec as i64);
                o.array(e.argv.len());
                for a in &e.argv {
                    o.bulk(a);
                }
                o.bulk(e.addr.as_bytes());
                o.bulk(e.name.as_bytes());
            }
        } else {
            return Err(unknown_subcommand(sub, "SLOWLOG"));
        }
        Ok(())
    }

    fn cmd_command(&mut self, key: usize, argv: &[Bytes]) -> Result<(), CmdError> {
        super::command::command_command(self, key, argv)
    }

    fn cmd_config(&mut self, key: usize, argv: &[Bytes]) -> Result<(), CmdError> {
        let sub = &argv[1][..];
        if eq_ic(sub, "get") && argv.len() >= 3 {
            let pats: Vec<&[u8]> = argv[2..].iter().map(|a| &a[..]).collect();
            let pairs = self.cfg.get(&pats);
            self.reply(key, |o| {
                o.map(pairs.len());
                for (k, v) in &pairs {
                    o.bulk(k.as_bytes());
                    o.bulk(v.as_bytes());
                }
            });
        } else if eq_ic(sub, "set") && argv.len() >= 4 && argv.len().is_multiple_of(2) {
            let pairs: Vec<(&[u8], &[u8])> = argv[2..]
                .chunks(2)
                .map(|p| (&p[0][..], &p[1][..]))
                .collect();
            let before = self.cfg.clone();
            let local = self.client_is_local(key);
            // (A replica loading its master's RDB asynchronously is loading
            // too, for these configs.)
            let loading = self.persist.loading || self.persist.async_loading;
            let changed = self
                .cfg
                .set_from(&pairs, local, loading)
                .map_err(CmdError::msg)?;
            // New listening addresses are the one change that can still fail:
            // on failure the old config (and its sockets) come back.
            if let Some(name) = changed.iter().find(|n| matches!(**n, "port" | "bind")) {
                if let Err(e) = self.rebind() {
                    log::warn!("Failed to bind to the new addresses: {e}");
                    self.cfg = before;
                    let _ = self.rebind();
                    // Redis's wording differs between its port and bind setters.
                    let why = if *name == "port" {
                        "Unable to listen on this port. Check server logs."
                    } else {
                        "Failed to bind to specified addresses."
                    };
                    return Err(CmdError::msg(format!(
                        "ERR CONFIG SET failed (possibly related to argument '{name}') - {why}"
                    )));
                }
            }
            if let Some(name) = changed
                .iter()
                .find(|n| matches!(**n, "oom-score-adj" | "oom-score-adj-values"))
            {
                if self.set_oom_score_adj().is_err() {
                    self.cfg = before;
                    let _ = self.set_oom_score_adj();
                    return Err(CmdError::msg(format!("ERR CONFIG SET failed (possibly related to argument '{name}') - Failed to set current oom_score_adj. Check server logs.")));
                }
            }
            self.apply_config_changes(&changed);
            self.reply_ok(key);
        } else if eq_ic(sub, "resetstat") && argv.len() == 2 {
            self.reset_stats();
            self.reply_ok(key);
        } else if eq_ic(sub, "rewrite") && argv.len() == 2 {
            let users = self.acl_rewrite_lines();
            self.cfg
                .rewrite(users.as_deref(), false)
                .map_err(CmdError::msg)?;
            log::info!("CONFIG REWRITE executed with success.");
            self.reply_ok(key);
        } else if eq_ic(sub, "help") && argv.len() == 2 {
            let lines = [
                "CONFIG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
                "GET <pattern>",
                "    Return parameters matching the glob-like <pattern> and their values.",
                "SET <directive> <value>",
                "    Set the configuration <directive> to <value>.",
                "RESETSTAT",
                "    Reset statistics reported by the INFO command.",
                "REWRITE",
                "    Rewrite the configuration file.",
                "HELP",
                "    Prints this help.",
            ];
            self.reply_help(key, &lines);
        } else {
            return Err(unknown_subcommand(sub, "CONFIG"));
        }
        Ok(())
    }

    /// Side effects of CONFIG SET on the running server.
    fn apply_config_changes(&mut self, changed: &[&'static str]) {
        for name in changed {
            match *name {
                "loglevel" => {
                    let f = match self.cfg.loglevel_name() {
                        "debug" => log::LevelFilter::Trace,
                        "verbose" => log::LevelFilter::Debug,
                        "notice" => log::LevelFilter::Info,
                        "warning" => log::LevelFilter::Warn,
                        _ => log::LevelFilter::Off,
                    };
                    log::set_max_level(f);
                }
                "appendonly" => self.persist_appendonly_changed(),
                "aof-disable-auto-gc" => self.aof_del_history_files(),
                "aof-timestamp-enabled" => self.aof_timestamps_changed(),
                "dir" => self.persist_chdir(),
                "maxmemory" => {
                    self.maxmemory_changed();
                    // A percentage maxmemory-clients follows maxmemory.
                    self.recount_client_mem();
                    self.evict_clients(None);
                }
                "maxmemory-policy" | "lfu-log-factor" | "lfu-decay-time" => self.update_lfu_mode(),
                "notify-keyspace-events" => self.sync_notify_classes(),
                "watchdog-period" => self.apply_watchdog(),
                "lazyfree-lazy-expire"
                | "lazyfree-lazy-server-del"
                | "latency-monitor-threshold" => self.sync_keyspace_switches(),
                "requirepass" | "acl-pubsub-default" => self.acl_config_changed(name),
                "maxmemory-clients" => {
                    self.recount_client_mem();
                    self.evict_clients(None);
                }
                "repl-backlog-size" => self.repl_resize_backlog(),
                "proc-title-template" => self.update_proc_title(None),
                n if n.starts_with("cluster-") => self.cluster_config_changed(),
                _ => {}
            }
        }
    }

    /// redisSetProcTitle: the expanded proc-title-template as the command
    /// line, {title} being `title` (a child's role) or argv[0].
    pub fn update_proc_title(&self, title: Option<&str>) {
        use crate::util::proctitle;
        if !self.cfg.set_proc_title {
            return;
        }
        let mode = if self.cfg.sentinel_mode {
            "[sentinel]"
        } else if self.cluster.is_some() || crate::cluster::enabled(&self.cfg) {
            "[cluster]"
        } else {
            ""
        };
        let unixsocket = self.cfg.unixsocket.as_str();
        let vars = proctitle::Vars {
            title: title.unwrap_or(proctitle::argv0()),
            bind: self.cfg.bind.first().map(String::as_str),
            port: self.cfg.port,
            unixsocket,
            config_file: self.cfg.config_file.as_deref(),
            mode,
        };
        if let Some(t) = proctitle::expand(&self.cfg.proc_title_template, &vars) {
            proctitle::set(&t);
        }
    }

    pub fn reset_stats(&mut self) {
        self.stats = super::Stats::default();
        self.cmdstats.clear();
        self.errorstats.clear();
        self.ks.stat_expired_keys = 0;
        self.ks.stat_keyspace_hits = 0;
        self.ks.stat_keyspace_misses = 0;
        self.ks.lazy.freed = 0;
    }

    fn cmd_debug(&mut self, key: usize, argv: &[Bytes]) -> Result<(), CmdError> {
        use crate::config::EnableDebug;
        let local = self.client_is_local(key);
        let allowed = match self.cfg.enable_debug_command {
            EnableDebug::Yes => true,
            EnableDebug::Local => local,
            EnableDebug::No => false,
        };
        if !allowed {
            return Err("ERR DEBUG command not allowed. If the enable-debug-command option is set to \"local\", you can run it from a local connection, otherwise you need to set this option in the configuration file, and then restart the server.".into());
        }
        super::info::debug_command(self, key, argv)
    }

    /// A unix-socket or loopback connection (Redis's islocalClient), for
    /// the `local` setting of enable-debug-command / enable-protected-configs.
    pub fn client_is_local(&self, key: usize) -> bool {
        self.clients.get(key).is_some_and(|c| {
            c.has(flags::UNIX_SOCKET) || c.addr.starts_with("127.") || c.addr.starts_with("[::1]")
        })
    }

    pub fn cmd_ping(&mut self, key: usize, argv: &[Bytes]) -> Result<(), CmdError> {
        if argv.len() > 2 {
            return Err(CmdError::arity("ping"));
        }
        let Some(c) = self.clients.get(key) else {
            return Ok(());
        };
        if c.resp == 2 && c.has(flags::PUBSUB) {
            let payload = argv.get(1).cloned().unwrap_or_default();
            self.reply(key, |o| {
                o.array(2);
                o.bulk(b"pong");
                o.bulk(&payload);
            });
        } else if let Some(p) = argv.get(1) {
            self.reply(key, |o| o.bulk(p));
        } else {
            self.reply(key, |o| o.simple("PONG"));
        }
        Ok(())
    }
}

pub use crate::error::unknown_subcommand;

/// Re-export for `main`.
pub use cmd::Srv as SrvTag;
