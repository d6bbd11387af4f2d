//! Executing commands: turning a client's query buffer into argv
//! (processInputBuffer), the checks before a command runs (processCommand),
//! running it (call), and propagating what it changed to replicas and the
//! AOF, as Redis 7.0 does (several operations of one command are wrapped in
//! MULTI/EXEC).
//!
//! The propagation rule, the same for every command (keyspace handlers and
//! server commands alike), applied by `call()` once the command returns:
//! - if the server's `dirty` counter grew, the command is propagated: its
//!   argv, or the form it chose instead (`Ctx::propagate_as`, Redis's
//!   rewriteClientCommandVector: SET EX -> SET PXAT, SPOP -> SREM...);
//! - a command that must be propagated even when it changed no data calls
//!   `force_propagation` (Redis's forceCommandPropagation: PUBLISH to
//!   replicas only, FLUSHALL/FLUSHDB to both, even on an empty or just
//!   saved data set); a command whose effects are propagated one by one (EXEC, a
//!   script) calls `prevent_propagation` so that its own argv is not;
//! - effects that are not the command itself (keys expired or evicted on
//!   the way, a script's writes) go through `also_propagate`.
//!
//! A panic cannot take the server down: `call()` runs every command inside
//! `catch_unwind` (the command boundary). A command that panics replies
//! `-ERR` (what it had replied so far is dropped), the panic and the
//! command's name are logged, and the server goes on with the keyspace as
//! the command left it (it is propagated by the same rule, so replicas that
//! hit the same bug end up with the same data). This was chosen over proving
//! by construction that no handler can panic (every `argv[N]` within the
//! table's arity, every slice in bounds, every decoder total): that proof
//! would have to be redone for every new handler, while the boundary covers
//! them all at the cost of nothing on the normal path (unwinding tables
//! only; `panic = "unwind"` in the release profile). A panic elsewhere
//! (the loop, cron, a forked child) still ends the process.
//!
//! Everything queued by one top-level command is sent when it ends, wrapped
//! in MULTI/EXEC when there is more than one operation. A test runs every
//! write command of the table against a master and checks its replica's
//! DEBUG DIGEST (tests/propagation.rs).

use super::Server;
use crate::cmd::{self, CommandSpec, Ctx, Effect, Proc};
use crate::db::ExpireMode;
use crate::error::{self, CmdError};
use crate::net::{flags, Kind};
use crate::resp::{self, Limits, Out, Parsed};
use crate::util::splitargs;
use bytes::Bytes;
use std::panic::{catch_unwind, AssertUnwindSafe};

/// Keyspaces with fewer keys than this stay in cache: no prefetching.
const PREFETCH_MIN_KEYS: usize = 8192;

/// What `prefetch_ahead` learnt of a client's request after next: its
/// length, its key's span and the key's hash.
pub struct PrefetchMemo {
    client: usize,
    len: usize,
    key: resp::Span,
    hash: u64,
}

/// One operation waiting to be propagated.
pub struct PropOp {
    pub db: usize,
    pub argv: Vec<Bytes>,
    /// False for operations that go to replicas only (PUBLISH).
    pub aof: bool,
    /// False for operations a script kept from replicas (redis.set_repl).
    pub repl: bool,
}

/// What the running command asked of the propagation rule (one per call()
/// frame: EXEC's commands each have their own).
#[derive(Default, Clone, Copy)]
pub struct CallProp {
    /// Propagate even though no data changed: to replicas, to the AOF.
    pub force_repl: bool,
    pub force_aof: bool,
    /// Never propagate this command's own argv.
    pub prevent: bool,
}

/// Argument vectors larger than this are not kept for the next command.
const SCRATCH_KEEP: usize = 1024;
/// A request this large leaves the query buffer re-created once drained.
const BIG_REQUEST: usize = 64 * 1024;

/// Propagation state of the command being executed (Redis's also_propagate).
pub struct PropState {
    /// Operations to propagate once the top-level command finishes.
    pub ops: Vec<PropOp>,
    /// Nesting depth of call() (EXEC runs commands inside call()).
    pub depth: u32,
    pub call: CallProp,
    /// Where operations go now (a script's redis.set_repl: REPL_AOF |
    /// REPL_REPLICA, see script::run).
    pub repl_flags: u8,
    /// The top-level command may touch arbitrary keys (SCAN, RANDOMKEY):
    /// the lazy expiries it causes go out one by one, not as a MULTI.
    pub no_wrap: bool,
}

impl Default for PropState {
    fn default() -> Self {
        PropState {
            ops: Vec::new(),
            depth: 0,
            call: CallProp::default(),
            repl_flags: crate::script::run::REPL_ALL,
            no_wrap: false,
        }
    }
}

impl Server {
    /// Executes every complete request in a client's query buffer.
    pub fn process_input(&mut self, key: usize) {
        self.batch_clock_us = None;
        self.prefetch_memo = None;
        self.prefetch_off = false;
        self.prefetch_same_key = false;
        self.process_input_batch(key);
        self.batch_clock_us = None;
    }

    /// Pipelined requests: while one runs, the keyspace entries of the next
    /// two are brought toward the cache (the bucket of the one after next;
    /// the chain's first node of the next, whose bucket the previous step
    /// fetched), so that their lookups do not each wait for memory. Only
    /// hints: the key is taken to be the second argument, whatever the
    /// command; a wrong guess costs a hash and a prefetch. Nothing is done
    /// for a keyspace small enough to stay in cache, nor for a request on
    /// the same key as the one before it (it is in cache).
    fn prefetch_ahead(&mut self, key: usize) {
        let Some(c) = self.clients.get(key) else {
            return;
        };
        let dict = &self.ks.db(c.db).dict;
        if dict.len() < PREFETCH_MIN_KEYS {
            self.prefetch_memo = None;
            return;
        }
        let q = &c.query[..];
        // The next request: known from the previous step (its bucket is
        // on its way: now its chain), or peeked now (its bucket only).
        let (len1, k1) = match self.prefetch_memo.take() {
            Some(m) if m.client == key => {
                dict.prefetch(m.hash, true);
                (m.len, m.key)
            }
            _ => {
                let Some((k, len)) = resp::peek_key(q) else {
                    return;
                };
                if let Some(k) = q.get(k.0..k.1) {
                    dict.prefetch(crate::dict::hash_bytes(k), false);
                }
                (len, k)
            }
        };
        let (Some(rest), Some(key1)) = (q.get(len1..), q.get(k1.0..k1.1)) else {
            return;
        };
        let Some((k2, len2)) = resp::peek_key(rest) else {
            return;
        };
        let key2 = &rest[k2.0..k2.1];
        if key2 == key1 {
            // A pipeline on one key (LPUSH mylist ...): it stays in cache;
            // the second time in a row, stop looking for this batch.
            if self.prefetch_same_key {
                self.prefetch_off = true;
            }
            self.prefetch_same_key = true;
            return;
        }
        self.prefetch_same_key = false;
        let h2 = crate::dict::hash_bytes(key2);
        dict.prefetch(h2, false);
        self.prefetch_memo = Some(PrefetchMemo {
            client: key,
            len: len2,
            key: k2,
            hash: h2,
        });
    }

    fn process_input_batch(&mut self, key: usize) {
        loop {
            let Some(c) = self.clients.get_mut(key) else {
                return;
            };
            if c.has(flags::CLOSE_AFTER_REPLY | flags::CLOSE_ASAP | flags::BLOCKED) {
                break;
            }
            if c.query.is_empty() || c.query.len() < c.query_need {
                break;
            }
            let limits = Limits {
                proto_max_bulk_len: self.cfg.proto_max_bulk_len,
                authenticated: c.has(flags::AUTHENTICATED)
                    || c.kind == Kind::Master
                    || self.acl.default_needs_no_auth(),
            };
            let is_inline = c.query[0] != b'*';
            match resp::parse_request(&c.query, limits, &mut self.spans) {
                Ok(Parsed::Incomplete { need }) => {
                    // (client-query-buffer-limit is checked after the read.)
                    c.query_need = need;
                    break;
                }
                Err(e) => {
                    log::debug!(
                        "Protocol error ({}) from client: id={} addr={}",
                        e.0,
                        c.id,
                        c.addr
                    );
                    let msg = format!("ERR Protocol error: {}", e.0);
                    Out::new(&mut c.reply, c.resp).error(&msg);
                    c.flags |= flags::CLOSE_AFTER_REPLY;
                    c.query.clear();
                    self.stats.total_error_replies += 1;
                    self.mark_pending_write(key);
                    break;
                }
                Ok(Parsed::Request { consumed }) => {
                    c.query_need = 0;
                    // CLIENT PAUSE: leave the command in the buffer until the
                    // pause ends (all commands, or only those that may
                    // write; an EXEC as its queued commands). A shutdown
                    // waiting for replicas pauses writes too. Our master's
                    // stream waits as well; replicas never do; a command
                    // refused for its arity is answered at once.
                    if (self.clients_paused_until_ms != 0 || self.pending_shutdown.is_some())
                        && c.kind != Kind::Replica
                        && !self.spans.is_empty()
                    {
                        // The name and, for a container, the subcommand.
                        let name: Vec<&[u8]> = self
                            .spans
                            .iter()
                            .take(2)
                            .map(|&(a, b)| &c.query[a..b])
                            .collect();
                        let spec =
                            cmd::table::lookup_cmd(&name).filter(|s| s.arity_ok(self.spans.len()));
                        // A script is judged by the flags it declares.
                        let script_argv: Option<Vec<Bytes>> = spec
                            .filter(|s| matches!(s.proc, Proc::Srv(t) if t.is_scripting()))
                            .map(|_| {
                                self.spans
                                    .iter()
                                    .map(|&(a, b)| Bytes::copy_from_slice(&c.query[a..b]))
                                    .collect()
                            });
                        if self.pause_holds(key, spec, script_argv.as_deref()) {
                            self.clients.hold_paused(key);
                            break;
                        }
                    }
                    let Some(c) = self.clients.get_mut(key) else {
                        return;
                    };
                    let frame = c.query.split_to(consumed).freeze();
                    if !c.query.is_empty() && !self.prefetch_off {
                        self.prefetch_ahead(key);
                    }
                    let Some(c) = self.clients.get_mut(key) else {
                        return;
                    };
                    let mut argv = std::mem::take(&mut self.argv);
                    argv.clear();
                    for &(a, b) in &self.spans {
                        if is_inline && splitargs::needs_unquote(&frame[a..b]) {
                            argv.push(Bytes::from(splitargs::unquote(&frame[a..b])));
                        } else {
                            argv.push(frame.slice(a..b));
                        }
                    }
                    c.last_interaction_ms = self.ks.now_ms;
                    if argv.is_empty() {
                        // An empty line: replicas and masters use "\n" as a
                        // keep-alive (a loading replica's counts as an ACK's
                        // time, as in Redis).
                        self.argv = argv;
                        let now = self.ks.now_ms;
                        if let Some(r) = self.clients.replica_mut(key) {
                            r.ack_time_ms = now;
                        }
                        continue;
                    }
                    let from_master = c.kind == Kind::Master;
                    let from_replica = c.kind == Kind::Replica;
                    // (Not part of the stream: moves no offset, not proxied.)
                    let marker = from_master && super::repl_digest::is_digest_marker(&argv);
                    let reply_mark = c.reply.len();
                    self.repl.replica_reply = false;
                    // (Pushes delivered between commands are not this one's.)
                    c.push_spans.clear();
                    c.cur_request_len = consumed;
                    c.cur_argv_len = argv.iter().map(|a| a.len()).sum();
                    self.clients.tracking.defer_pending = true;
                    self.process_command(key, &argv);
                    self.clients.tracking.defer_pending = false;
                    if let Some(c) = self.clients.get_mut(key) {
                        c.cur_request_len = 0;
                        c.cur_argv_len = 0;
                        if c.pending_reply() > 0 {
                            // Output limits apply as replies grow (Redis
                            // checks each append): over the hard limit the
                            // client is closed before anything more is read
                            // or written.
                            self.check_output_limits(key);
                        }
                    }
                    if self.cluster.is_some() {
                        self.cluster_reset_asking(key, &argv);
                    }
                    self.apply_reply_mode(key, reply_mark, &argv[0]);
                    if from_replica {
                        self.replica_replied(key, reply_mark, &argv);
                    }
                    // Invalidations the command caused for this client
                    // follow its reply (pushes ignore CLIENT REPLY).
                    self.tracking_send_pending();
                    self.reset_caching_flag(key, &argv);
                    self.write_large_reply(key);
                    argv.clear();
                    if argv.capacity() > SCRATCH_KEEP {
                        // One huge command must not pin its argv forever.
                        argv = Vec::with_capacity(16);
                        self.spans = Vec::with_capacity(16);
                    }
                    self.argv = argv;
                    if from_master && !marker {
                        // Applied: proxy the exact bytes to our sub-replicas.
                        self.repl_master_applied(&frame);
                    }
                    if frame.len() > BIG_REQUEST {
                        // The frame shared the query buffer's allocation:
                        // once drained, start a small one so the big one
                        // is freed with the frame (Redis resizes idle
                        // query buffers the same way).
                        drop(frame);
                        if let Some(c) = self.clients.get_mut(key) {
                            if c.query.is_empty() {
                                c.query = bytes::BytesMut::with_capacity(crate::net::IOBUF_LEN);
                            }
                        }
                    }
                }
            }
        }
        if self.clients.get(key).is_some_and(|c| c.pending_reply() > 0) {
            self.mark_pending_write(key);
        }
        // What is left in the query buffer counts for maxmemory-clients.
        self.update_client_mem(key);
    }

    /// Whether a pause holds this command back: every command under
    /// CLIENT PAUSE ALL, those that may write otherwise (EXEC judged by
    /// what it queued). Unknown commands and arity errors are answered.
    fn pause_holds(
        &self,
        key: usize,
        spec: Option<&'static CommandSpec>,
        script_argv: Option<&[Bytes]>,
    ) -> bool {
        let Some(spec) = spec else {
            return false;
        };
        let all = self.clients_paused_until_ms != 0 && !self.pause_writes_only;
        let fl = match (&spec.proc, script_argv) {
            (Proc::Srv(cmd::Srv::Exec), _) => self.queued_flags(key, spec.flags),
            (Proc::Srv(_), Some(argv)) => self.script_command_flags(spec, argv),
            _ => spec.flags,
        };
        all || fl & (cmd::flag::WRITE | cmd::flag::MAY_REPLICATE) != 0
    }

    /// CLIENT REPLY OFF|SKIP: drops what the command replied; SKIP covers
    /// exactly one command after CLIENT REPLY SKIP (Redis's resetClient).
    /// Pushes (Pub/Sub confirmations and messages, written with
    /// `reply_push`) are kept, as Redis sends them whatever the reply mode
    /// (CLIENT_PUSHING).
    fn apply_reply_mode(&mut self, key: usize, mark: usize, name: &[u8]) {
        let Some(c) = self.clients.get_mut(key) else {
            return;
        };
        if c.flags & (flags::REPLY_OFF | flags::REPLY_SKIP | flags::REPLY_SKIP_NEXT) == 0 {
            return;
        }
        let pushes = cmd::lookup(name).is_some_and(is_subscription);
        if !pushes && c.has(flags::REPLY_OFF | flags::REPLY_SKIP) && c.reply.len() > mark {
            // Drop the command's replies but keep its pushes, in order.
            let from = mark.max(c.sent);
            let mut end = from;
            for (a, b) in std::mem::take(&mut c.push_spans) {
                if a >= end && b <= c.reply.len() {
                    c.reply.copy_within(a..b, end);
                    end += b - a;
                }
            }
            c.reply.truncate(end);
        }
        c.push_spans.clear();
        c.flags &= !flags::REPLY_SKIP;
        if c.has(flags::REPLY_SKIP_NEXT) {
            c.flags = (c.flags & !flags::REPLY_SKIP_NEXT) | flags::REPLY_SKIP;
        }
    }

    /// The flags EXEC's pre-checks use: any flag of a queued command
    /// (Redis's mstate.cmd_flags: one write makes EXEC a write), but STALE
    /// and LOADING only when every queued command has them (cmd_inv_flags:
    /// one GET makes EXEC refused on a stale replica).
    fn queued_flags(&self, key: usize, exec_flags: u32) -> u32 {
        const ALL_MUST: u32 = cmd::flag::STALE | cmd::flag::LOADING;
        let (any, all) = self.clients.get(key).map_or((0, ALL_MUST), |c| {
            c.mstate
                .iter()
                .filter_map(|argv| cmd::table::lookup_cmd(argv).map(|spec| (spec, argv)))
                .fold((0, ALL_MUST), |(any, all), (spec, argv)| {
                    // A script counts with the flags it declared.
                    let f = match spec.proc {
                        Proc::Srv(t) if t.is_scripting() => self.script_command_flags(spec, argv),
                        _ => spec.flags,
                    };
                    (any | f, all & f)
                })
        });
        (exec_flags | (any & !ALL_MUST)) & (!ALL_MUST | all)
    }

    /// Redis's processCommand: lookup, arity, auth, state checks, then call
    /// (or queue, inside MULTI).
    pub fn process_command(&mut self, key: usize, argv: &[Bytes]) {
        let cmd = match cmd::table::lookup_argv(argv) {
            cmd::table::Lookup::Found(cmd) => cmd,
            cmd::table::Lookup::UnknownSub(_) => {
                self.reject_unknown_sub(key, argv);
                return;
            }
            cmd::table::Lookup::Unknown => {
                self.reject_unknown(key, argv);
                return;
            }
        };
        if let Some(c) = self.clients.get_mut(key) {
            c.last_cmd = cmd.name;
        }
        if !cmd.arity_ok(argv.len()) {
            self.reject(key, Some(cmd), CmdError::arity(cmd.name));
            return;
        }
        self.process_known_command(key, cmd, argv);
        if matches!(cmd.proc, Proc::Srv(t) if t.is_scripting()) {
            // The body EVAL's flag lookup held for its run is let go once
            // the command is done, run or refused.
            self.scripts.eval.body_sha.take();
        }
    }

    /// processCommand once the command is known and its arity right.
    fn process_known_command(&mut self, key: usize, cmd: &'static CommandSpec, argv: &[Bytes]) {
        let Some(c) = self.clients.get(key) else {
            return;
        };
        let is_master = c.kind == Kind::Master;
        // Redis's authRequired: judged on every command, so clients that
        // connected while the default user had a password may go on once
        // it is nopass again.
        if !c.has(flags::AUTHENTICATED)
            && !cmd.has(cmd::flag::NO_AUTH)
            && !is_master
            && !self.acl.default_needs_no_auth()
        {
            self.reject(key, Some(cmd), error::NOAUTH.into());
            return;
        }
        let in_multi = c.has(flags::MULTI);
        let queues = in_multi
            && !matches!(
                cmd.proc,
                Proc::Srv(
                    cmd::Srv::Exec
                        | cmd::Srv::Discard
                        | cmd::Srv::Multi
                        | cmd::Srv::Watch
                        | cmd::Srv::Quit
                        | cmd::Srv::Reset
                )
            );
        if in_multi && cmd.has(cmd::flag::NO_MULTI) {
            self.reject(
                key,
                Some(cmd),
                "ERR Command not allowed inside a transaction".into(),
            );
            return;
        }
        // Permissions: the one ACL check (see acl_check_command).
        let ctx = if in_multi {
            crate::acl::log::Context::Multi
        } else {
            crate::acl::log::Context::Toplevel
        };
        if let Err(d) = self.acl_check_command(key, cmd, argv, ctx) {
            let e = Server::acl_toplevel_error(cmd, argv, d);
            self.reject(key, Some(cmd), e);
            return;
        }
        // EXEC is checked with the flags of what it is about to run, a
        // script with the flags it declared.
        let flags_now = match cmd.proc {
            Proc::Srv(cmd::Srv::Exec) => self.queued_flags(key, cmd.flags),
            Proc::Srv(t) if t.is_scripting() => self.script_command_flags(cmd, argv),
            _ => cmd.flags,
        };
        // Cluster: the command must hash to a slot this node serves.
        if self.cluster.is_some() && !is_master {
            if let Err(r) = self.cluster_check_query(key, cmd, argv) {
                let e = self.cluster_redirect_error(&r);
                if matches!(cmd.proc, Proc::Srv(cmd::Srv::Exec)) {
                    self.cmdstats.entry(cmd.name).or_default().rejected += 1;
                    self.cmd_discard_silent(key);
                    self.reply_error(key, &e);
                } else {
                    self.reject(key, Some(cmd), e);
                }
                return;
            }
        }
        // A script running past busy-reply-threshold: -BUSY for the others
        // (first: nothing may be evicted under the running script).
        if self.script_timed_out() {
            // A slow script read from the AOF: -LOADING comes first, as in
            // Redis's processCommand.
            if self.persist.loading && !cmd.has(cmd::flag::LOADING) {
                self.reject(key, Some(cmd), error::LOADING.into());
                return;
            }
            if let Some(e) = self.script_busy_refusal(cmd, argv) {
                self.reject(key, Some(cmd), e);
                return;
            }
        }
        // Then Redis's order: OOM, disk errors, NOREPLICAS, READONLY, the
        // Pub/Sub context, MASTERDOWN, LOADING.
        // Clients over maxmemory-clients go before any key is evicted; the
        // current one with them if need be (no reply then).
        if self.client_mem_limit > 0 {
            self.update_client_mem(key);
            if self.evict_clients(Some(key)) {
                return;
            }
        }
        let ping = matches!(cmd.proc, Proc::Srv(cmd::Srv::Ping));
        let denied = self.deny_write_reason(flags_now, ping, queues, is_master);
        if self.ks.tracking {
            // Keys evicted above: invalidated before the command runs.
            self.tracking_process(None);
            self.tracking_limit_used_slots();
        }
        if let Some(e) = denied {
            self.reject(key, Some(cmd), e);
            return;
        }
        let Some(c) = self.clients.get(key) else {
            return;
        };
        if c.kind == Kind::Replica
            && flags_now & (cmd::flag::WRITE | cmd::flag::READONLY | cmd::flag::MAY_REPLICATE) != 0
        {
            self.reject(
                key,
                Some(cmd),
                "ERR Replica can't interact with the keyspace".into(),
            );
            return;
        }
        let is_write = flags_now & cmd::flag::WRITE != 0;
        if self.repl.is_replica() && self.cfg.replica_read_only && !is_master && is_write {
            self.reject(key, Some(cmd), error::READONLY.into());
            return;
        }
        if c.resp == 2
            && c.has(flags::PUBSUB)
            && !is_subscription(cmd)
            && !matches!(
                cmd.proc,
                Proc::Srv(cmd::Srv::Ping | cmd::Srv::Quit | cmd::Srv::Reset)
            )
        {
            let e = CmdError::msg(format!(
                "ERR Can't execute '{}': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context",
                super::reject::full_name(cmd.name, argv)
            ));
            self.reject(key, Some(cmd), e);
            return;
        }
        if self.repl.is_replica()
            && !is_master
            && !self.repl.link_up()
            && !self.cfg.replica_serve_stale_data
            && flags_now & cmd::flag::STALE == 0
        {
            self.reject(key, Some(cmd), error::MASTERDOWN.into());
            return;
        }
        if self.persist.loading && !cmd.has(cmd::flag::LOADING) {
            self.reject(key, Some(cmd), error::LOADING.into());
            return;
        }
        if let Some(e) = self.loading_refusal(argv, is_master) {
            self.reject(key, Some(cmd), e);
            return;
        }
        // Queued only once every state check passed, as in Redis.
        if queues {
            self.queue_multi(key, argv);
            return;
        }
        self.call(key, cmd, argv);
    }

    /// OOM / MISCONF / NOREPLICAS checks (None = allowed).
    fn deny_write_reason(
        &mut self,
        flags_now: u32,
        ping: bool,
        queueing: bool,
        from_master: bool,
    ) -> Option<CmdError> {
        // The keyspace tables grow only within maxmemory (Redis's
        // dictExpandAllowed), on a replica too.
        crate::db::set_expand_ceiling(self.keyspace_expand_ceiling());
        if from_master {
            return None;
        }
        // Queueing under OOM is refused whatever the command (unbounded memory).
        // Evictions run before every command (Redis's processCommand):
        // only commands that may grow memory are refused when they fail.
        let denyoom = flags_now & cmd::flag::DENYOOM != 0 || queueing;
        if self.cfg.maxmemory > 0 && !self.perform_evictions() && denyoom {
            return Some(error::OOM.into());
        }
        let is_write = flags_now & cmd::flag::WRITE != 0;
        // A failed background save refuses writes, and PING too: that is
        // how a watching Sentinel sees the instance is unwell (Redis's
        // writeCommandsDeniedByDiskError, replicas included).
        if (is_write || ping)
            && self.persist.bgsave_failed()
            && self.cfg.stop_writes_on_bgsave_error
            && !self.cfg.save.is_empty()
        {
            return Some(error::MISCONF.into());
        }
        if !is_write {
            return None;
        }
        if !self.repl.is_replica()
            && self.cfg.min_replicas_to_write > 0
            && self.good_replicas(self.ks.now_ms, self.cfg.min_replicas_max_lag)
                < self.cfg.min_replicas_to_write as usize
        {
            return Some(error::NOREPLICAS.into());
        }
        None
    }

    /// Runs one command and propagates its effects (Redis's call()).
    pub fn call(&mut self, key: usize, cmd: &'static CommandSpec, argv: &[Bytes]) {
        let start = match self.batch_clock_us.take() {
            Some(t) if self.prop.depth == 0 => t,
            _ => crate::util::monotonic_us(),
        };
        // (The common single command is propagated from inside.)
        let offset_before = self.repl.master_repl_offset;
        if self.prop.depth == 0 {
            self.prop.no_wrap = cmd.has(cmd::flag::TOUCHES_ARBITRARY_KEYS);
        }
        self.prop.depth += 1;
        let all_keys_readable = self
            .clients
            .get(key)
            .is_none_or(|c| self.acl_all_keys_readable(c, cmd, argv));
        let Some(c) = self.clients.get_mut(key) else {
            self.prop.depth -= 1;
            return;
        };
        let is_master = c.kind == Kind::Master;
        // While writes are paused the dataset stays still: expired keys
        // read as missing but are not deleted (Redis's expireIfNeeded).
        let paused = self.clients_paused_until_ms != 0 || self.pending_shutdown.is_some();
        self.ks.expire_mode = if !self.repl.is_replica() && !paused {
            ExpireMode::Master
        } else if !self.repl.is_replica() {
            ExpireMode::Replica
        } else if is_master {
            ExpireMode::ApplyingMaster
        } else {
            ExpireMode::Replica
        };
        let db_before = c.db;
        let reply_mark = (c.kind == Kind::Normal).then_some(c.reply.len());
        let nested_before = self.stats.nested_error_replies;
        let dirty_before = self.dirty;
        let outer_call = std::mem::take(&mut self.prop.call);
        // A client writing on a writable replica: note the keys it touches
        // (those left with a TTL are expired by this replica itself).
        let track_written = self.ks.expire_mode == ExpireMode::Replica
            && cmd.has(cmd::flag::WRITE)
            && self.ks.written_keys.is_none();
        if track_written {
            self.ks.written_keys = Some(Vec::new());
        }
        let mut rewritten = Vec::new();
        let mut ok = true;
        match cmd.proc {
            Proc::Db(handler) => {
                let in_multi = self.prop.depth > 1;
                // Straight from the keyspace to the socket only where the
                // reply buffer is all that precedes the value and nothing
                // may still drop or hold the reply: a top-level command of
                // a normal client without output limit, CLIENT REPLY
                // changes or AOF data waiting to be written first.
                let direct_ok = self.prop.depth == 1
                    && c.kind == Kind::Normal
                    && c.queued.is_empty()
                    && !c.has(
                        flags::REPLY_OFF
                            | flags::REPLY_SKIP
                            | flags::REPLY_SKIP_NEXT
                            | flags::WANT_WRITE
                            | flags::PUBSUB
                            | flags::CLOSE_ASAP
                            | flags::CLOSE_AFTER_REPLY,
                    )
                    && self.persist.aof.buf.is_empty()
                    && {
                        let l = self.cfg.client_output_buffer_limit[0];
                        l.hard == 0 && l.soft == 0
                    };
                let (reply, resp) = if c.kind != Kind::Normal {
                    self.sink.clear();
                    (&mut self.sink, 2)
                } else {
                    (&mut c.reply, c.resp)
                };
                let mut ctx = Ctx {
                    ks: &mut self.ks,
                    cfg: &self.cfg,
                    db: db_before,
                    out: Out::new(reply, resp),
                    client_id: c.id,
                    dirty: 0,
                    rewritten: Vec::new(),
                    events: &mut self.events,
                    effect: Effect::None,
                    no_block: in_multi || is_master,
                    must_obey: is_master,
                    serve: self.stream_serve.take(),
                    all_keys_readable,
                    from_script: in_multi && self.scripts.run.is_some(),
                    direct_ok,
                    direct_bulk: false,
                };
                let reply_start = ctx.out.buf.len();
                let r = match catch_unwind(AssertUnwindSafe(|| handler(&mut ctx, argv))) {
                    Ok(r) => r,
                    Err(_) => {
                        ctx.out.buf.truncate(reply_start);
                        Err(command_panicked(cmd.name))
                    }
                };
                self.dirty += ctx.dirty;
                rewritten = std::mem::take(&mut ctx.rewritten);
                let effect = std::mem::take(&mut ctx.effect);
                let direct_bulk = ctx.direct_bulk;
                drop(ctx);
                let mut write_failed = false;
                if direct_bulk {
                    let val = self.ks.dbs[db_before].dict.get(&argv[1][..]);
                    let mut buf = [0u8; 20];
                    if let Some(v) = val.and_then(|e| e.str_bytes(&mut buf)) {
                        self.stats.io_writes += 1;
                        write_failed = c.write_through([v, b"\r\n"]).is_err();
                    }
                }
                if c.kind == Kind::Replica && !self.sink.is_empty() {
                    self.repl.replica_reply = true;
                }
                if write_failed {
                    self.close_async(key);
                }
                if let Err(e) = r {
                    ok = false;
                    self.reply_error(key, &e);
                }
                match effect {
                    Effect::Block { keys, deadline_ms } => {
                        self.block_client(key, cmd, argv, keys, deadline_ms, None);
                    }
                    Effect::BlockStream {
                        keys,
                        deadline_ms,
                        wait,
                    } => {
                        self.block_client(key, cmd, argv, keys, deadline_ms, Some(wait));
                    }
                    Effect::None => {}
                }
            }
            Proc::Srv(tag) => {
                if catch_unwind(AssertUnwindSafe(|| self.run_srv(key, tag, argv))).is_err() {
                    if let (Some(mark), Some(c)) = (reply_mark, self.clients.get_mut(key)) {
                        c.reply.truncate(mark.max(c.sent));
                    }
                    ok = false;
                    self.reply_error(key, &command_panicked(cmd.name));
                }
            }
        }
        if track_written {
            if let Some(keys) = self.ks.written_keys.take() {
                self.remember_replica_keys_with_expire(keys);
            }
        }
        // Keys expired on the way were deleted before the command acted.
        self.propagate_expired();
        let this_call = std::mem::replace(&mut self.prop.call, outer_call);
        let db = self.clients.get(key).map_or(db_before, |c| c.db);
        let dirty = self.dirty.saturating_sub(dirty_before);
        self.propagate_command(db, argv, dirty, this_call, rewritten);
        if !self.ks.key_events.is_empty() {
            cmd::take_key_events(&mut self.ks, &mut self.events, None);
        }
        if self.ks.tracking {
            self.tracking_after_call(key, cmd, argv);
        }
        self.publish_pending_events(key, reply_mark);
        // Errors since the last attribution belong to this command; those
        // of commands it ran itself (EXEC, redis.call) were attributed to
        // them already (Redis's incrCommandStatsOnError and its
        // prev_err_count), and those of commands a script was refused
        // (counted, attributed to none) are not its own either.
        let refused = self
            .stats
            .nested_error_replies
            .saturating_sub(nested_before);
        let own_errors = self
            .stats
            .total_error_replies
            .saturating_sub(self.prev_err_count)
            .saturating_sub(refused);
        if own_errors > 0 || std::mem::take(&mut self.stats.failed_uncounted) {
            ok = false;
        }
        self.prev_err_count = self.stats.total_error_replies;
        let end = crate::util::monotonic_us();
        let dur = end.saturating_sub(start);
        if self.prop.depth == 1 {
            self.batch_clock_us = Some(end);
        }
        // A command that blocked is counted once, when it is finally served
        // (or times out), with the time of every attempt (Redis's c->duration
        // and updateStatsOnUnblock).
        let prior = std::mem::take(&mut self.blocked_prior_us);
        let blocked = match self.clients.blocked_state_mut(key) {
            Some(b) if self.prop.depth == 1 => {
                b.duration_us += prior + dur;
                true
            }
            _ => false,
        };
        if !blocked {
            let tracking = self.cfg.latency_tracking;
            let st = self.cmdstats.entry(cmd.name).or_default();
            st.record(prior + dur, !ok, tracking);
        }
        self.stats.numcommands += 1;
        self.prop.depth -= 1;
        if self.prop.depth == 0 {
            self.flush_propagation();
            self.prop.no_wrap = false;
            // WAIT counts acknowledgements up to this client's last write.
            if self.repl.master_repl_offset != offset_before {
                let off = self.repl.master_repl_offset;
                if let Some(c) = self.clients.get_mut(key) {
                    c.woff = off;
                }
            }
        }
        // Passwords never reach MONITOR or SLOWLOG (Redis's
        // redactClientCommandArgument); looked for only when either will
        // see the command.
        let threshold = self.cfg.slowlog_log_slower_than;
        let slow = !blocked
            && !cmd.has(cmd::flag::SKIP_SLOWLOG)
            && threshold >= 0
            && prior + dur >= threshold as u64;
        let monitor =
            self.clients.has_monitors() && !cmd.has(cmd::flag::SKIP_MONITOR) && !is_master;
        let redacted = if slow || monitor {
            super::redact::redact_args(cmd, argv)
        } else {
            None
        };
        let argv = redacted.as_deref().unwrap_or(argv);
        if monitor {
            self.feed_monitors(key, db_before, argv);
        }
        if self.prop.depth == 0 {
            self.after_command();
        }
        let event = if cmd.has(cmd::flag::FAST) {
            "fast-command"
        } else {
            "command"
        };
        self.latency_add(event, dur / 1000);
        if slow {
            self.slowlog_push(key, argv, prior + dur);
        }
    }

    /// Work that follows every top-level command: propagation, WATCH
    /// invalidation, keyspace notifications, serving blocked clients.
    pub fn after_command(&mut self) {
        self.flush_propagation();
        if self.ks.tracking {
            self.tracking_process(None);
            if !self.clients.tracking.defer_pending {
                self.tracking_send_pending();
            }
        }
        if !self.ks.dirty_cas.is_empty() {
            let ids = std::mem::take(&mut self.ks.dirty_cas);
            for id in ids {
                if let Some(k) = self.client_by_id(id) {
                    self.clients[k].flags |= flags::DIRTY_CAS;
                }
            }
        }
        if !self.ks.key_events.is_empty() {
            cmd::take_key_events(&mut self.ks, &mut self.events, None);
        }
        if !self.events.is_empty() {
            let events = std::mem::take(&mut self.events);
            for ev in &events {
                self.publish_keyspace_event(ev);
            }
        }
        if !self.ks.ready.is_empty() {
            self.handle_clients_blocked_on_keys();
        }
    }

    /// The switches the keyspace reads: lazyfree-lazy-expire /
    /// -server-del, and whether latency monitoring times expired keys'
    /// deletions.
    pub fn sync_keyspace_switches(&mut self) {
        self.ks.lazy_expire = self.cfg.extra_value("lazyfree-lazy-expire") == "yes";
        self.ks.lazy_server_del = self.cfg.extra_value("lazyfree-lazy-server-del") == "yes";
        self.ks.time_expire_del = self.cfg.latency_monitor_threshold > 0;
    }

    /// The notification classes the keyspace raises itself (new, keymiss,
    /// expired), derived from notify-keyspace-events at startup and on
    /// CONFIG SET.
    pub fn sync_notify_classes(&mut self) {
        use crate::config::{
            NOTIFY_EXPIRED, NOTIFY_KEYEVENT, NOTIFY_KEYSPACE, NOTIFY_KEY_MISS, NOTIFY_NEW,
        };
        let nke = self.cfg.notify_keyspace_events;
        self.ks.notify_classes = if nke & (NOTIFY_KEYSPACE | NOTIFY_KEYEVENT) != 0 {
            nke & (NOTIFY_NEW | NOTIFY_KEY_MISS | NOTIFY_EXPIRED)
        } else {
            0
        };
    }

    /// Keys deleted by lazy or active expiry reach replicas and the AOF as DEL.
    pub fn propagate_expired(&mut self) {
        if self.ks.expired.is_empty() {
            return;
        }
        // (The `expired` event was raised by the keyspace when deleting.)
        let expired = std::mem::take(&mut self.ks.expired);
        let del_ms = std::mem::take(&mut self.ks.expire_del_ms);
        self.latency_add("expire-del", del_ms);
        for (db, key) in expired {
            let k = Bytes::copy_from_slice(&key);
            self.also_propagate(db, vec![Bytes::from_static(b"DEL"), k]);
        }
    }

    /// The propagation rule (see the module header), applied once a
    /// command returned: `dirty` is how much the server's dirty counter grew.
    fn propagate_command(
        &mut self,
        db: usize,
        argv: &[Bytes],
        dirty: u64,
        call: CallProp,
        rewritten: Vec<Vec<Bytes>>,
    ) {
        if call.prevent
            || (dirty == 0 && !call.force_repl && !call.force_aof)
            || !self.propagation_has_target()
        {
            return;
        }
        // (An AOF-only operation is not a case any command needs.)
        let aof = dirty > 0 || call.force_aof;
        if !rewritten.is_empty() {
            for op in rewritten {
                self.queue_propagation(db, op, aof);
            }
        } else if aof
            && self.prop.depth == 1
            && self.prop.ops.is_empty()
            && self.prop.repl_flags == crate::script::run::REPL_ALL
        {
            // The common case: one top-level command, nothing queued before
            // it, so no MULTI wrapping can be needed: argv goes out in
            // place, no copy.
            self.propagate_single(db, argv, true);
        } else {
            self.queue_propagation(db, argv.to_vec(), aof);
        }
    }

    /// The running command's own argv must reach replicas (and the AOF
    /// when `aof`) even if it changed no data (forceCommandPropagation).
    pub fn force_propagation(&mut self, aof: bool) {
        self.prop.call.force_repl = true;
        self.prop.call.force_aof |= aof;
    }

    /// The running command's own argv is not propagated: its effects are,
    /// one by one (EXEC, scripts; Redis's preventCommandPropagation).
    pub fn prevent_propagation(&mut self) {
        self.prop.call.prevent = true;
    }

    /// Queues one operation, an effect of the running command (expired or
    /// evicted keys, a script's writes), for propagation after the
    /// top-level command; right away when no command runs (active expiry).
    pub fn also_propagate(&mut self, db: usize, argv: Vec<Bytes>) {
        self.queue_propagation(db, argv, true);
    }

    /// Whether propagated commands go anywhere: an AOF, or a replication
    /// stream (a backlog) we produce, and not while loading (commands read
    /// from the AOF are not written again). When not, nothing is queued
    /// (Redis's shouldPropagate; no copy of argv per write).
    #[inline]
    fn propagation_has_target(&self) -> bool {
        !self.persist.loading
            && (self.persist.aof.state != crate::persist::aof::AofState::Off
                || (!self.repl.is_replica() && self.repl.backlog.is_some()))
    }

    fn queue_propagation(&mut self, db: usize, argv: Vec<Bytes>, aof: bool) {
        if !self.propagation_has_target() {
            return;
        }
        let target = self.prop.repl_flags;
        let aof = aof && target & crate::script::run::REPL_AOF != 0;
        let repl = target & crate::script::run::REPL_REPLICA != 0;
        if !aof && !repl {
            return;
        }
        self.prop.ops.push(PropOp {
            db,
            argv,
            aof,
            repl,
        });
        if self.prop.depth == 0 {
            self.flush_propagation();
        }
    }

    /// Sends the queued operations to the backlog, replicas and AOF, wrapped
    /// in MULTI/EXEC when there are several (Redis 7.0 propagatePendingCommands).
    pub fn flush_propagation(&mut self) {
        if self.prop.ops.is_empty() {
            return;
        }
        let mut ops = std::mem::take(&mut self.prop.ops);
        let wrap = ops.len() > 1 && !self.repl.is_replica() && !self.prop.no_wrap;
        if wrap {
            self.propagate_now(ops[0].db, &[Bytes::from_static(b"MULTI")], true, true);
        }
        for op in &ops {
            if op.repl {
                self.propagate_single(op.db, &op.argv, op.aof);
            } else if op.aof {
                self.persist_feed_aof(op.db, &op.argv);
            }
        }
        if wrap {
            // No SELECT before EXEC: it follows the last operation's db.
            let last = ops[ops.len() - 1].db;
            self.propagate_now(last, &[Bytes::from_static(b"EXEC")], true, true);
        }
        // Keep the allocation for the next command.
        ops.clear();
        if self.prop.ops.is_empty() {
            self.prop.ops = ops;
        }
    }

    /// One operation that needs no MULTI wrapping. A replica re-feeds its
    /// master's stream verbatim to its own replicas: only its AOF gets the
    /// commands it applied.
    fn propagate_single(&mut self, db: usize, argv: &[Bytes], aof: bool) {
        if self.repl.is_replica() {
            if aof {
                self.persist_feed_aof(db, argv);
            }
        } else {
            self.propagate_now(db, argv, aof, true);
        }
    }

    /// Encodes one command (with a SELECT first when the db changes) and
    /// feeds it to the replication stream and (unless `aof` is false) the
    /// AOF.
    fn propagate_now(&mut self, db: usize, argv: &[Bytes], aof: bool, repl: bool) {
        if aof {
            self.persist_feed_aof(db, argv);
        }
        if repl {
            self.repl_feed(db, argv);
        }
    }
}

/// (P)SUBSCRIBE and (P)UNSUBSCRIBE: what they reply are pushes.
fn is_subscription(spec: &CommandSpec) -> bool {
    matches!(
        spec.proc,
        Proc::Srv(
            cmd::Srv::Subscribe
                | cmd::Srv::Unsubscribe
                | cmd::Srv::PSubscribe
                | cmd::Srv::PUnsubscribe
                | cmd::Srv::Cluster(
                    cmd::table::ClusterCmd::SSubscribe | cmd::table::ClusterCmd::SUnsubscribe
                )
        )
    )
}

/// The reply (and log line) for a command that panicked: a bug, caught at
/// the command boundary (the panic hook logged where it happened).
fn command_panicked(name: &str) -> CmdError {
    log::error!(
        "=== BUG === command '{name}' panicked (see the line above); its reply is an error and the server goes on"
    );
    CmdError::msg(format!(
        "ERR internal error in '{name}': the command panicked (a bug, see the server log)"
    ))
}
