//! The server: the `mio::Poll`, the listeners, the client registry, the
//! keyspace, the config, replication and persistence state, and the loop.
//!
//! One thread. Each loop iteration: `before_sleep` (write pending replies,
//! close clients marked for it), poll, handle events (accept, read + execute,
//! write), then `cron` when its time has come. Submodules:
//! - `exec`: processCommand / call / propagation (start here);
//! - `conn`: connection commands (AUTH, HELLO, CLIENT, SELECT, RESET...);
//! - `admin`: startup, the `Srv` dispatch, CONFIG, SLOWLOG,
//!   MONITOR; `memory`: MEMORY and the overhead breakdown; `module`: MODULE; `info`: INFO, COMMAND, DEBUG (`debug`: its
//!   PROTOCOL, LOADAOF, QUICKLIST-PACKED-THRESHOLD); `latency`: LATENCY
//!   (`latency_report`: its DOCTOR and GRAPH texts);
//! - `clients`: the client registry (the slab and every per-client index:
//!   subscriptions, blocked keys, pauses, replicas, MONITOR);
//! - `multi`, `pubsub`, `blocking`: transactions, Pub/Sub, blocked clients;
//! - `evict`: maxmemory; `cron`: the periodic tasks (active expiry,
//!   timeouts, rehashing);
//! - `persistence`, `persistence_aof`: SAVE/BGSAVE, loading, the child's
//!   end, AOF (the fork itself is `persist::fork`);
//! - `replication` (the stream feed, REPLCONF, ROLE, INFO replication),
//!   `repl_master` (SYNC/PSYNC, full syncs, WAIT), `repl_replica` (the link
//!   to our master), `repl_transfer` (receiving and loading its RDB),
//!   `failover` (FAILOVER);
//! - `shutdown`: SHUTDOWN, signals, the wait for lagging replicas;
//! - `listen`: sockets, daemonize, pidfile, signals; `oom`: oom-score-adj;
//! - `sentinel_mode`: the server running a Sentinel instead of a keyspace.

pub mod acl_cmd;
pub mod admin;
pub mod blocking;
pub mod client_mem;
pub mod clients;
pub mod command;
pub mod conn;
pub mod cron;
pub mod debug;
pub mod evict;
pub mod exec;
pub mod failover;
pub mod info;
pub mod latency;
pub mod latency_report;
pub mod listen;
pub mod memory;
pub mod module;
pub mod multi;
pub mod oom;
pub mod persistence;
pub mod persistence_aof;
pub mod pubsub;
pub mod redact;
pub mod reject;
pub mod repl_buffer;
pub mod repl_debug;
pub mod repl_digest;
pub mod repl_guard;
pub mod repl_master;
pub mod repl_observe;
pub mod repl_pipe;
pub mod repl_replica;
pub mod repl_transfer;
pub mod replication;
pub mod sentinel_mode;
pub mod shutdown;
pub mod tracking;
pub mod watchdog;
pub mod while_blocked;

use crate::cmd::Notification;
use crate::config::Config;
use crate::db::Keyspace;
use crate::net::{flags, Client, Kind};
use crate::resp::Span;
pub use admin::start;

/// Redis's CLIENT_ID_AOF: the id of the client a script read from the AOF
/// runs as (never a connection's id).
pub const AOF_CLIENT_ID: u64 = u64::MAX;
use bytes::Bytes;
use mio::{Events, Interest, Poll, Token};
use std::collections::HashMap;
use std::io;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

/// Set by the SIGTERM/SIGINT handler; the loop shuts down when it sees it.
pub static SHUTDOWN_SIGNAL: AtomicBool = AtomicBool::new(false);
/// Which of the two it was (shutdown-on-sigterm or shutdown-on-sigint).
pub static LAST_SIGNAL: std::sync::atomic::AtomicI32 = std::sync::atomic::AtomicI32::new(0);

/// Listener tokens count down from the top so they never meet slab keys.
const LISTENER_TOKEN_BASE: usize = usize::MAX - 64;

/// Most bytes read from one client per event before others get a turn.
const MAX_READ_PER_EVENT: usize = 1024 * 1024;

#[derive(Default)]
pub struct CmdStat {
    pub calls: u64,
    pub usec: u64,
    pub rejected: u64,
    pub failed: u64,
    /// Latencies while `latency-tracking` is on (allocated on first use).
    pub histogram: Option<Box<crate::util::hdr::Histogram>>,
}

impl CmdStat {
    /// One finished call of `usec` (Redis's call() / updateStatsOnUnblock).
    pub fn record(&mut self, usec: u64, failed: bool, tracking: bool) {
        self.calls += 1;
        self.usec += usec;
        if failed {
            self.failed += 1;
        }
        if tracking {
            let ns = i64::try_from(usec.saturating_mul(1000)).unwrap_or(i64::MAX);
            self.histogram
                .get_or_insert_with(Default::default)
                .record(ns);
        }
    }
}

/// Counters behind INFO stats.
#[derive(Default)]
pub struct Stats {
    pub numconnections: u64,
    pub numcommands: u64,
    pub rejected_conn: u64,
    pub net_input_bytes: u64,
    pub net_output_bytes: u64,
    pub total_error_replies: u64,
    pub unexpected_error_replies: u64,
    pub evicted_keys: u64,
    pub evicted_clients: u64,
    pub sync_full: u64,
    pub sync_partial_ok: u64,
    pub sync_partial_err: u64,
    /// Replication stream bytes written to replicas and read from our master.
    pub net_repl_output_bytes: u64,
    pub net_repl_input_bytes: u64,
    pub expired_stale_perc: f64,
    pub expire_cycle_time_used: u64,
    pub io_reads: u64,
    pub io_writes: u64,
    pub total_forks: u64,
    pub latest_fork_usec: u64,
    pub pubsub_messages: u64,
    /// Error replies counted by commands a script ran (or refused): they
    /// do not make the script's own command count as failed.
    pub nested_error_replies: u64,
    /// The command's error reply was not counted (a script's error that a
    /// command inside already counted) but the command still failed.
    pub failed_uncounted: bool,
}

pub struct Server {
    pub cfg: Config,
    pub ks: Keyspace,
    poll: Poll,
    pub listeners: Vec<listen::Listener>,
    pub clients: clients::Clients,
    pub run_id: String,
    pub start_ms: i64,
    /// Writes since the last successful save.
    pub dirty: u64,
    pub stats: Stats,
    pub cmdstats: HashMap<&'static str, CmdStat, rustc_hash::FxBuildHasher>,
    /// Within a pipelined batch, the end of one command is the start of the
    /// next: one clock read per command instead of two.
    pub batch_clock_us: Option<u64>,
    /// A client's request after next, whose bucket `prefetch_ahead`
    /// fetched (its chain is fetched on the next step).
    pub prefetch_memo: Option<exec::PrefetchMemo>,
    /// This batch's pipeline is on one key: no more prefetching in it.
    pub prefetch_off: bool,
    /// The last two requests looked at were on the same key.
    pub prefetch_same_key: bool,
    pub errorstats: HashMap<String, u64>,
    /// Keyspace notifications raised by the current command.
    pub events: Vec<Notification>,
    /// Scratch for the parser's spans and the current argv.
    spans: Vec<Span>,
    argv: Vec<Bytes>,
    /// Reply sink for clients that get no replies (the master link).
    pub sink: Vec<u8>,
    /// Clients with replies waiting to be written.
    pending_write: Vec<usize>,
    /// Clients that still have unread input (read cap hit) or unparsed
    /// commands (they were unblocked).
    pending_input: Vec<usize>,
    /// Clients to free in before_sleep.
    close_list: Vec<usize>,
    pub rng: crate::util::Rng,
    pub prop: exec::PropState,
    pub slowlog: admin::Slowlog,
    pub clients_paused_until_ms: i64,
    pub pause_writes_only: bool,
    pub failover: Option<failover::Failover>,
    pub latency: latency::Latency,
    pub shutdown_asap: bool,
    /// An eviction cycle stopped at its time limit (or maxmemory was just
    /// lowered): evictions go on before the next sleep.
    pub evict_running: bool,
    /// A SHUTDOWN waiting for lagging replicas (shutdown-timeout).
    pub pending_shutdown: Option<shutdown::PendingShutdown>,
    /// DEBUG PAUSE-CRON.
    pub cron_paused: bool,
    /// DEBUG REPLYBUFFER: how often a client's reply-buffer peak restarts
    /// (ms, -1 never) and whether the cron resizes reply buffers at all.
    pub reply_buffer_peak_reset_ms: i64,
    pub reply_buffer_resizing: bool,
    pub cron_loops: u64,
    pub executable: String,
    pub lastsave: i64,
    pub repl: crate::repl::Repl,
    pub persist: crate::persist::State,
    /// The stream key a re-run blocked XREAD/XREADGROUP serves (`call`
    /// hands it to the handler).
    pub stream_serve: Option<Box<crate::cmd::t_stream_read::StreamServe>>,
    pub active_expire_enabled: bool,
    /// ACL users and the ACL LOG.
    pub acl: crate::acl::Acl,
    /// Scratch for the keys of the command being checked.
    pub acl_keys: Vec<crate::cmd::meta::KeyRef>,
    /// maxmemory-clients in bytes (0: off) and the memory evictable
    /// clients use together (kept only while the limit is on).
    pub client_mem_limit: u64,
    pub client_mem_total: usize,
    /// Cluster mode state (None when cluster-enabled is no).
    pub cluster: Option<Box<crate::cluster::ClusterCtx>>,
    /// MIGRATE's cached connections.
    pub migrate_cache: crate::cluster::migrate::Cache,
    /// Sentinel mode: the Sentinel state this server runs.
    pub sentinel: Option<Box<crate::sentinel::Sentinel>>,
    /// Time a blocked command already ran, handed to the call() that
    /// serves it (see `blocking`).
    pub blocked_prior_us: u64,
    /// total_error_replies when errors were last attributed to a command.
    pub prev_err_count: u64,
    /// Lua scripting and functions (script/).
    pub scripts: crate::script::Scripting,
    /// Slab key of the client whose script runs past the busy threshold:
    /// its input waits until the script ends (Redis's protectClient).
    pub protected_client: Option<usize>,
}

impl Server {
    pub fn new(cfg: Config) -> io::Result<Server> {
        let now = crate::util::mstime();
        let ks = Keyspace::new(cfg.databases);
        crate::script::lua::DEPRECATED_API.store(
            cfg.extra_value("lua-enable-deprecated-api") == "yes",
            std::sync::atomic::Ordering::Relaxed,
        );
        let mut s = Server {
            ks,
            poll: Poll::new()?,
            listeners: Vec::new(),
            clients: clients::Clients::new(),
            run_id: crate::util::random_hex40(),
            start_ms: now,
            dirty: 0,
            stats: Stats::default(),
            cmdstats: HashMap::default(),
            batch_clock_us: None,
            prefetch_memo: None,
            prefetch_off: false,
            prefetch_same_key: false,
            errorstats: HashMap::new(),
            events: Vec::new(),
            spans: Vec::with_capacity(16),
            argv: Vec::with_capacity(16),
            sink: Vec::new(),
            pending_write: Vec::with_capacity(1024),
            pending_input: Vec::new(),
            close_list: Vec::new(),
            rng: crate::util::Rng::new(),
            prop: exec::PropState::default(),
            slowlog: admin::Slowlog::default(),
            clients_paused_until_ms: 0,
            pause_writes_only: false,
            failover: None,
            latency: latency::Latency::default(),
            shutdown_asap: false,
            evict_running: false,
            pending_shutdown: None,
            cron_paused: false,
            reply_buffer_peak_reset_ms: crate::net::REPLY_PEAK_RESET_MS,
            reply_buffer_resizing: true,
            cron_loops: 0,
            executable: std::env::current_exe()
                .map(|p| p.display().to_string())
                .unwrap_or_default(),
            lastsave: now / 1000,
            repl: crate::repl::Repl::new(),
            persist: crate::persist::State::default(),
            stream_serve: None,
            active_expire_enabled: true,
            acl: crate::acl::Acl::new(),
            acl_keys: Vec::with_capacity(16),
            client_mem_limit: 0,
            client_mem_total: 0,
            cluster: None,
            migrate_cache: Default::default(),
            sentinel: None,
            blocked_prior_us: 0,
            prev_err_count: 0,
            scripts: crate::script::Scripting::new(),
            protected_client: None,
            cfg,
        };
        s.update_clock();
        s.update_lfu_mode();
        s.sync_notify_classes();
        s.sync_keyspace_switches();
        if s.cfg.watchdog_period > 0 {
            s.apply_watchdog();
        }
        Ok(s)
    }

    /// Follows the maxmemory-policy: LFU policies keep access counters.
    pub fn update_lfu_mode(&mut self) {
        use crate::config::MaxmemoryPolicy as P;
        self.ks.lfu = match self.cfg.maxmemory_policy {
            P::AllKeysLfu | P::VolatileLfu => Some((
                self.cfg.lfu_log_factor as u32,
                self.cfg.lfu_decay_time as u32,
            )),
            _ => None,
        };
    }

    /// Fixes the clock for the commands of this iteration.
    pub fn update_clock(&mut self) {
        let now = crate::util::mstime();
        self.ks.now_ms = now;
        self.ks.lru_clock = ((now / 1000) as u32) & ((1 << 24) - 1);
    }

    /// The poller's registry, for connections owned by other modules
    /// (cluster bus links).
    pub fn poll_registry(&self) -> &mio::Registry {
        self.poll.registry()
    }

    pub fn register_listener(&mut self, l: &mut listen::Listener) -> io::Result<Token> {
        let token = Token(LISTENER_TOKEN_BASE + self.listeners.len());
        self.poll
            .registry()
            .register(l.source(), token, Interest::READABLE)?;
        Ok(token)
    }

    pub fn deregister_listener(&mut self, l: &mut listen::Listener) -> io::Result<()> {
        self.poll.registry().deregister(l.source())
    }

    /// Adds a connection to the slab and the poller.
    pub fn add_client(
        &mut self,
        stream: crate::net::Stream,
        addr: String,
        laddr: String,
    ) -> io::Result<usize> {
        let id = self.clients.next_id();
        let now = self.ks.now_ms;
        let key = self.clients.vacant_key();
        let mut c = Client::new(id, stream, addr, laddr, now);
        if self.acl.default_needs_no_auth() {
            c.flags |= flags::AUTHENTICATED;
        }
        // Edge-triggered: register both interests once, no re-registration.
        self.poll.registry().register(
            c.stream.source(),
            Token(key),
            Interest::READABLE | Interest::WRITABLE,
        )?;
        self.clients.insert(c);
        self.stats.numconnections += 1;
        Ok(key)
    }

    pub fn client_by_id(&self, id: u64) -> Option<usize> {
        self.clients.key_by_id(id)
    }

    /// Marks a client to be freed before the next poll.
    pub fn close_async(&mut self, key: usize) {
        self.forget_client_mem(key);
        if let Some(c) = self.clients.get_mut(key) {
            if c.kind == Kind::Master {
                // The link is down from now: a client served later in this
                // same pass (INFO after the master hung up) must not read
                // "up" until the link is freed before the loop sleeps.
                self.repl.master_link_up = false;
            }
            if !c.has(flags::IN_CLOSE_LIST) {
                c.flags |= flags::CLOSE_ASAP | flags::IN_CLOSE_LIST;
                self.close_list.push(key);
            }
        }
    }

    /// Frees a client now: deregisters it and drops every reference to it
    /// (the registry clears its own indexes; WATCH and the keyspace's
    /// waiter counts are released here).
    pub fn free_client(&mut self, key: usize) {
        let Some(kind) = self.clients.get(key).map(|c| c.kind) else {
            return;
        };
        self.unwatch_all(key);
        self.forget_client_mem(key);
        match kind {
            Kind::Replica => self.repl_replica_gone(key),
            Kind::Master => self.repl_master_gone(key),
            Kind::Normal => {}
        }
        let Some(freed) = self.clients.remove(key) else {
            return;
        };
        self.sync_keyspace_tracking();
        if let Some(st) = freed.blocked {
            self.release_blocked_keys(&st);
        }
        let mut c = freed.client;
        let _ = self.poll.registry().deregister(c.stream.source());
        if !c.has(flags::KEEP_SOCKET) {
            c.stream.shutdown();
        }
        self.pending_write.retain(|&k| k != key);
        self.pending_input.retain(|&k| k != key);
    }

    /// Asks for (or stops asking for) WRITABLE events on a client's socket.
    pub fn want_write(&mut self, key: usize, on: bool) {
        let Some(c) = self.clients.get_mut(key) else {
            return;
        };
        if c.has(flags::WANT_WRITE) == on {
            return;
        }
        let interest = if on {
            Interest::READABLE | Interest::WRITABLE
        } else {
            Interest::READABLE
        };
        if self
            .poll
            .registry()
            .reregister(c.stream.source(), Token(key), interest)
            .is_ok()
        {
            c.flags ^= flags::WANT_WRITE;
        }
    }

    /// Queues a client for writing in before_sleep.
    #[inline]
    pub fn mark_pending_write(&mut self, key: usize) {
        if let Some(c) = self.clients.get_mut(key) {
            if !c.has(flags::PENDING_WRITE) {
                c.flags |= flags::PENDING_WRITE;
                self.pending_write.push(key);
            }
        }
    }

    /// The main loop. Returns when the server shuts down.
    pub fn run(&mut self) -> io::Result<()> {
        let mut events = Events::with_capacity(1024);
        let mut next_cron = crate::util::monotonic_us();
        loop {
            self.before_sleep();
            let now = crate::util::monotonic_us();
            let timeout =
                if !self.pending_input.is_empty() || self.evict_running || self.ks.lazy.busy() {
                    Duration::ZERO
                } else if self.clients_paused_until_ms != 0 {
                    let left = (self
                        .clients_paused_until_ms
                        .saturating_sub(crate::util::mstime()))
                    .max(0) as u64;
                    let left = left.saturating_mul(1000);
                    Duration::from_micros(next_cron.saturating_sub(now).min(left))
                } else {
                    Duration::from_micros(next_cron.saturating_sub(now))
                };
            // Held replication data (DEBUG REPL-PAUSE/DELAY) is handed on
            // within a few ms of its time.
            let timeout = if self.repl_timer_pending() {
                timeout.min(Duration::from_millis(2))
            } else {
                timeout
            };
            self.poll_and_dispatch(&mut events, timeout)?;
            if crate::util::monotonic_us() >= next_cron {
                self.cron();
                let hz = self.sentinel.as_ref().map_or(self.cfg.hz, |s| s.hz);
                let hz = hz.clamp(1, 500) as u64;
                next_cron = crate::util::monotonic_us() + 1_000_000 / hz;
            }
        }
    }

    /// Waits up to `timeout` for events and handles them: accepts, reads
    /// and executes, writes, Sentinel's links, then clients with input left.
    fn poll_and_dispatch(&mut self, events: &mut Events, timeout: Duration) -> io::Result<()> {
        match self.poll.poll(events, Some(timeout)) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
        self.update_clock();
        for ev in events.iter() {
            let t = ev.token().0;
            if t >= LISTENER_TOKEN_BASE {
                self.accept(t - LISTENER_TOKEN_BASE);
                continue;
            }
            if t == crate::repl::RDB_PIPE_TOKEN {
                self.rdb_pipe_readable();
                continue;
            }
            if (crate::cluster::BUS_LISTENER_TOKEN..crate::cluster::TOKEN_END).contains(&t) {
                let readable = ev.is_readable() || ev.is_read_closed() || ev.is_error();
                self.cluster_event(t, readable, ev.is_writable());
                continue;
            }
            if t >= crate::sentinel::TOKEN_BASE {
                let hangup = ev.is_read_closed() || ev.is_error();
                self.sentinel_conn_event(
                    t - crate::sentinel::TOKEN_BASE,
                    ev.is_readable() || hangup,
                    ev.is_writable(),
                );
                continue;
            }
            if ev.is_writable() {
                if self.link_in_handshake(t) {
                    self.repl_link_writable(t);
                }
                self.handle_writable(t);
            }
            if ev.is_readable() || ev.is_read_closed() || ev.is_error() {
                // A hang-up in the same edge as data: read to the end,
                // no further event will announce it.
                self.handle_readable(t, ev.is_read_closed() || ev.is_error());
            }
        }
        let pending = std::mem::take(&mut self.pending_input);
        for key in pending {
            self.handle_readable(key, false);
        }
        Ok(())
    }

    fn handle_writable(&mut self, key: usize) {
        let Some(c) = self.clients.get_mut(key) else {
            return;
        };
        if c.kind == Kind::Replica {
            self.replica_writable(key);
            return;
        }
        if c.pending_reply() == 0 {
            if !self.link_connecting(key) {
                self.want_write(key, false);
            }
            return;
        }
        match c.flush() {
            Ok(done) => {
                if done && c.has(flags::CLOSE_AFTER_REPLY) {
                    self.close_async(key);
                }
                if done {
                    self.want_write(key, false);
                }
            }
            Err(_) => self.close_async(key),
        }
    }

    /// A replica's socket is writable: the RDB file goes on, or its part
    /// of the shared replication stream.
    fn replica_writable(&mut self, key: usize) {
        let bulk = self
            .clients
            .replica(key)
            .is_some_and(|r| r.rdb_file.is_some());
        if bulk {
            self.send_bulk_to_replicas();
            return;
        }
        if self.in_rdb_pipe(key) {
            self.rdb_pipe_replica_writable(key);
            return;
        }
        match self.write_replica(key) {
            Ok(done) => self.want_write(key, !done),
            Err(_) => self.close_async(key),
        }
    }

    /// Reads what the socket has and executes every complete command.
    fn handle_readable(&mut self, key: usize, drain: bool) {
        let Some(c) = self.clients.get_mut(key) else {
            return;
        };
        if c.has(flags::CLOSE_ASAP | flags::CLOSE_AFTER_REPLY) {
            return;
        }
        if self.repl_apply_paused(key) {
            // DEBUG REPL-PAUSE-APPLY: the stream waits in the socket.
            return;
        }
        let Some(c) = self.clients.get_mut(key) else {
            return;
        };
        let before = c.query.len();
        let r = if self.repl_link_read_paused(key) {
            // A slow load: its unparsed input waits in the socket.
            if !self.pending_input.contains(&key) {
                self.pending_input.push(key);
            }
            Ok(true)
        } else {
            match self.clients.get_mut(key) {
                Some(c) => c.read_some(MAX_READ_PER_EVENT, drain),
                None => return,
            }
        };
        let Some(c) = self.clients.get_mut(key) else {
            return;
        };
        let read = c.query.len() - before;
        self.stats.net_input_bytes += read as u64;
        if read > 0 {
            self.stats.io_reads += 1;
        }
        match r {
            Ok(open) => {
                if read >= MAX_READ_PER_EVENT || c.more_to_read {
                    // There may be more: come back after the others had a turn.
                    self.pending_input.push(key);
                }
                if self.link_in_handshake(key) {
                    self.repl_link_readable(key);
                } else {
                    self.process_input(key);
                }
                self.check_query_limit(key);
                if !open {
                    self.close_async(key);
                }
            }
            Err(_) => self.close_async(key),
        }
    }

    /// client-query-buffer-limit, checked after every read whatever the
    /// client's state (a blocked, paused or MULTI client keeps reading but
    /// executes nothing), as Redis's readQueryFromClient does. What is left
    /// after executing the complete commands counts: a long pipeline of
    /// small commands passes, one unfinished huge command or a client that
    /// cannot run what it sends is closed. The master link is exempt.
    fn check_query_limit(&mut self, key: usize) {
        let Some(c) = self.clients.get(key) else {
            return;
        };
        if c.kind == Kind::Master
            || (c.query.len() as u64) <= self.cfg.client_query_buffer_limit
            || c.has(flags::CLOSE_ASAP)
        {
            return;
        }
        let head = crate::util::splitargs::repr(&c.query[..c.query.len().min(64)]);
        log::warn!(
            "Closing client that reached max query buffer length: {} (qbuf initial bytes: {head})",
            self.client_info_line(key).trim_end()
        );
        self.close_async(key);
    }

    /// Ends a CLIENT PAUSE (timeout or UNPAUSE): held commands run now.
    pub fn check_pause_end(&mut self) {
        if self.clients_paused_until_ms != 0
            && crate::util::mstime() >= self.clients_paused_until_ms
        {
            self.unpause_clients();
        }
    }

    pub fn unpause_clients(&mut self) {
        self.clients_paused_until_ms = 0;
        self.resume_paused_clients();
    }

    /// Held clients get another look (a pause ended); those another pause
    /// still covers are held again.
    pub fn resume_paused_clients(&mut self) {
        let held = self.clients.take_paused();
        self.pending_input.extend(held);
    }

    /// client-output-buffer-limit for normal and pubsub clients (replicas
    /// are checked as the stream is fed): a client whose unsent output
    /// passes the hard limit, or stays over the soft one for its seconds,
    /// is closed.
    pub fn check_output_limits(&mut self, key: usize) {
        let now = self.ks.now_ms;
        let Some(c) = self.clients.get_mut(key) else {
            return;
        };
        if c.kind != Kind::Normal {
            return;
        }
        let class = if c.has(flags::PUBSUB) { 2 } else { 0 };
        let limit = self.cfg.client_output_buffer_limit[class];
        let size = c.pending_reply() as u64;
        // (CVE-2025-21605, as Debian's Redis 7.0.15: a client that has not
        // authenticated may not hold more than 1 KB of replies.)
        if size > 1024 && !c.has(flags::AUTHENTICATED) && !self.acl.default_needs_no_auth() {
            log::warn!("Client id={} addr={} scheduled to be closed ASAP for overcoming of output buffer limits.", c.id, c.addr);
            self.close_async(key);
            return;
        }
        let over_hard = limit.hard > 0 && size > limit.hard;
        let over_soft = limit.soft > 0 && size > limit.soft;
        let expired = if over_soft {
            if c.obuf_soft_since_ms == 0 {
                c.obuf_soft_since_ms = now;
            }
            now - c.obuf_soft_since_ms > limit.soft_seconds as i64 * 1000
        } else {
            c.obuf_soft_since_ms = 0;
            false
        };
        if over_hard || expired {
            log::warn!("Client id={} addr={} scheduled to be closed ASAP for overcoming of output buffer limits.", c.id, c.addr);
            self.close_async(key);
        }
    }

    /// Writes what a client has pending: a replica from the shared
    /// replication buffer too. None when there was nothing to write.
    fn write_pending(&mut self, key: usize) -> Option<io::Result<bool>> {
        let c = self.clients.get_mut(key)?;
        if c.kind == Kind::Replica {
            return Some(self.write_replica(key));
        }
        if c.pending_reply() == 0 {
            return None;
        }
        let sent_before = c.stat_net_out;
        let r = c.flush();
        self.stats.net_output_bytes += c.stat_net_out - sent_before;
        Some(r)
    }

    /// Writes what a client has pending, as far as the socket takes it; a
    /// short write asks for WRITABLE events and checks the output buffer
    /// limits.
    fn write_reply(&mut self, key: usize) {
        let Some(r) = self.write_pending(key) else {
            return;
        };
        self.stats.io_writes += 1;
        match r {
            Ok(true) => {
                if let Some(c) = self.clients.get_mut(key) {
                    c.obuf_soft_since_ms = 0;
                    if c.has(flags::CLOSE_AFTER_REPLY) {
                        self.close_async(key);
                    }
                }
            }
            Ok(false) => {
                if let Some(c) = self.clients.get_mut(key) {
                    c.compact_reply();
                }
                self.want_write(key, true);
                self.check_output_limits(key);
            }
            Err(_) => self.close_async(key),
        }
    }

    /// A large reply (a big value, a long range) is written as soon as its
    /// command ends instead of after the whole pipelined batch, so that the
    /// buffer is reused for the next one; when the socket is full it is
    /// queued as it is and the next reply starts a fresh buffer. Either
    /// way a pipeline of big replies never grows (and copies) one buffer
    /// to hold them all: each value is copied once, into its reply. The
    /// early write happens only when nothing waits for the AOF (a reply
    /// never overtakes its write's record) and the client's class has no
    /// output limit.
    pub(crate) fn write_large_reply(&mut self, key: usize) {
        const LARGE_REPLY: usize = 64 * 1024;
        let Some(c) = self.clients.get(key) else {
            return;
        };
        if c.reply.len() - c.sent < LARGE_REPLY
            || c.kind != Kind::Normal
            || c.has(flags::CLOSE_ASAP | flags::CLOSE_AFTER_REPLY)
        {
            return;
        }
        // With an output limit for its class, a client over it must get
        // nothing (Redis writes only before sleeping): no early write then.
        let class = if c.has(flags::PUBSUB) { 2 } else { 0 };
        let limit = self.cfg.client_output_buffer_limit[class];
        let limited = limit.hard > 0 || limit.soft > 0;
        if !limited && !c.has(flags::WANT_WRITE) && self.persist.aof.buf.is_empty() {
            self.write_reply(key);
        }
        if let Some(c) = self.clients.get_mut(key) {
            if c.reply.len() - c.sent >= LARGE_REPLY {
                c.queue_reply();
            }
        }
    }

    /// Writes pending replies and frees clients marked for closing.
    pub fn before_sleep(&mut self) {
        if self.cluster.is_some() {
            self.cluster_before_sleep();
        }
        if self.ks.lazy.busy() {
            self.ks.lazy.step();
        }
        self.check_pause_end();
        if self.evict_running {
            self.perform_evictions();
            self.after_command();
        }
        if self.ks.tracking {
            self.tracking_process(None);
            self.tracking_send_pending();
            self.tracking_broadcast();
        }
        // The AOF is written before any reply goes out (appendfsync always).
        self.persist_before_sleep();
        self.handle_blocked_timeouts_fast();
        self.repl_before_sleep();
        let pending = std::mem::take(&mut self.pending_write);
        for &key in &pending {
            let Some(c) = self.clients.get_mut(key) else {
                continue;
            };
            c.flags &= !flags::PENDING_WRITE;
            // Nothing more goes to a client that is closing (a replica
            // killed inside MULTI does not get the transaction's stream).
            if c.has(flags::CLOSE_ASAP) {
                continue;
            }
            self.write_reply(key);
        }
        if self.client_mem_limit > 0 {
            // Output left unsent counts against maxmemory-clients.
            for &key in &pending {
                self.update_client_mem(key);
            }
            self.evict_clients(None);
        }
        let mut pending = pending;
        pending.clear();
        if self.pending_write.is_empty() {
            self.pending_write = pending;
        }
        let closing = std::mem::take(&mut self.close_list);
        for key in closing {
            self.free_client(key);
        }
        // Blocks no replica needs any more go, ten times the feeding pace.
        if self.repl.backlog.is_some() {
            self.trim_repl_buffer(10 * crate::repl::backlog::TRIM_BLOCKS_PER_CALL);
        }
        if self.cluster.is_some() {
            self.cluster_flush_pending();
        }
    }
}
