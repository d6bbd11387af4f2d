//! Clients blocked on keys (BLPOP and friends): registration, FIFO serving
//! when a key receives data, timeouts, CLIENT UNBLOCK.
//!
//! A blocked client keeps its command. When one of its keys becomes ready the
//! command runs again through `call()`; the handler either serves it (and
//! chooses what to propagate, e.g. LPOP) or asks to block again.
//!
//! Stream readers (XREAD, XREADGROUP) wait for entries past an ID: a ready
//! key is checked against what each of them waits for (`check_ready`) and
//! only those that can be served are, from that one key (`Ctx::serve`);
//! XREADGROUP clients whose key or group went away get an error.

use super::Server;
use crate::cmd::t_stream_read::{check_ready, Readiness, StreamWait};
use crate::cmd::CommandSpec;
use crate::net::flags;
use crate::sds::Sds;
use bytes::Bytes;

/// What a blocked client waits for; kept in its registry slot.
pub struct BlockState {
    pub cmd: &'static CommandSpec,
    pub argv: Vec<Bytes>,
    pub db: usize,
    pub keys: Vec<Sds>,
    /// Absolute unix ms; 0 = forever.
    pub deadline_ms: i64,
    /// For XREAD / XREADGROUP: what each key must have to serve the client.
    pub stream: Option<Box<StreamWait>>,
    /// Time spent running the command so far (its statistics wait for
    /// the command to be served).
    pub duration_us: u64,
}

impl Server {
    /// Blocks a client after its handler asked to (Effect::Block).
    pub fn block_client(
        &mut self,
        key: usize,
        cmd: &'static CommandSpec,
        argv: &[Bytes],
        keys: Vec<Bytes>,
        deadline_ms: i64,
        stream: Option<Box<StreamWait>>,
    ) {
        let Some(c) = self.clients.get_mut(key) else {
            return;
        };
        let db = c.db;
        c.flags |= flags::BLOCKED;
        let keys: Vec<Sds> = keys.iter().map(|k| Sds::new(k)).collect();
        for k in &keys {
            *self.ks.blocking.entry((db, k.clone())).or_insert(0) += 1;
        }
        self.clients.block(
            key,
            BlockState {
                cmd,
                argv: argv.iter().map(|a| Bytes::copy_from_slice(a)).collect(),
                db,
                keys,
                deadline_ms,
                stream,
                duration_us: 0,
            },
        );
    }

    /// Forgets a client's blocking registration (no reply).
    pub fn blocking_remove(&mut self, key: usize) -> Option<Box<BlockState>> {
        let st = self.clients.unblock(key)?;
        if let Some(c) = self.clients.get_mut(key) {
            c.flags &= !flags::BLOCKED;
        }
        self.release_blocked_keys(&st);
        Some(st)
    }

    /// The keyspace's count of waiters per key (what makes a push signal
    /// the key as ready) drops the keys of an unblocked or freed client.
    pub fn release_blocked_keys(&mut self, st: &BlockState) {
        for k in &st.keys {
            let e = (st.db, k.clone());
            if let Some(n) = self.ks.blocking.get_mut(&e) {
                *n -= 1;
                if *n == 0 {
                    self.ks.blocking.remove(&e);
                }
            }
        }
    }

    /// The reply a blocked command gives on timeout: the null array for
    /// every list/zset pop, BLMOVE and BRPOPLPUSH included (Redis 7.0's
    /// replyToBlockedClientTimedOut; only their MULTI form replies a null bulk).
    fn timeout_reply(&mut self, key: usize, _cmd: &CommandSpec) {
        self.reply(key, |o| o.null_array());
        self.mark_pending_write(key);
    }

    /// Serves clients blocked on keys that received data, in FIFO order.
    pub fn handle_clients_blocked_on_keys(&mut self) {
        // Outside any command the clock is the real one (Redis's
        // fixed_time_expire is 0 here): a key that expired while the last
        // command ran (EXEC with DEBUG SLEEP) is gone, and its DEL goes out.
        self.update_clock();
        // Serving may make more keys ready (BLMOVE pushes): loop until quiet.
        while !self.ks.ready.is_empty() {
            let ready = std::mem::take(&mut self.ks.ready);
            for (db, k) in ready {
                let queue = self.clients.blocked_on(db, &k);
                for ckey in queue {
                    let Some(b) = self.clients.blocked_state(ckey) else {
                        continue;
                    };
                    if b.stream.is_some() {
                        self.serve_stream_client(ckey, db, &k);
                        continue;
                    }
                    let want = waited_type(b.cmd.name);
                    if !self.ks.exists(db, &k) {
                        // Found expired: its DEL goes out; stream clients
                        // later in the queue are still answered.
                        self.propagate_expired();
                        continue;
                    }
                    // As Redis 7.0, a key of another type (SET over a key a
                    // BLPOP waits on) leaves its clients blocked.
                    let have = self.ks.db(db).dict.get(&k).map(|e| e.type_name());
                    if Some(want) != have {
                        continue;
                    }
                    let Some(st) = self.blocking_remove(ckey) else {
                        continue;
                    };
                    let (cmd, argv) = (st.cmd, st.argv.clone());
                    self.blocked_prior_us = st.duration_us;
                    self.call(ckey, cmd, &argv);
                    // Blocked again (no data for it after all): keep its deadline.
                    if let Some(b) = self.clients.blocked_state_mut(ckey) {
                        b.deadline_ms = st.deadline_ms;
                    }
                    self.mark_pending_write(ckey);
                    // The unblocked client may have more commands buffered.
                    self.pending_input.push(ckey);
                }
            }
        }
    }

    /// A stream key a reader waits on is ready (new entries, deleted,
    /// overwritten, its group destroyed): serve the reader from it, fail
    /// it, or leave it waiting (serveClientsBlockedOnStreamKey).
    fn serve_stream_client(&mut self, ckey: usize, db: usize, key: &Sds) {
        let Some(b) = self.clients.blocked_state(ckey) else {
            return;
        };
        let Some(wait) = b.stream.as_ref() else {
            return;
        };
        // The wait ID of the first occurrence of the key, as Redis keeps.
        let index = b.keys.iter().position(|x| x == key).unwrap_or(0);
        match check_ready(&self.ks, db, key.as_bytes(), index, wait) {
            Readiness::Wait => {}
            Readiness::Fail(msg) => {
                let Some(st) = self.blocking_remove(ckey) else {
                    return;
                };
                self.reply_error(ckey, &msg.into());
                self.prev_err_count = self.stats.total_error_replies;
                self.stats_on_unblock(&st, true);
                self.mark_pending_write(ckey);
                self.pending_input.push(ckey);
            }
            Readiness::Serve(req) => {
                let Some(st) = self.blocking_remove(ckey) else {
                    return;
                };
                self.stream_serve = Some(Box::new(req));
                self.blocked_prior_us = st.duration_us;
                self.call(ckey, st.cmd, &st.argv);
                self.stream_serve = None;
                self.mark_pending_write(ckey);
                self.pending_input.push(ckey);
            }
        }
    }

    /// Replies to blocked clients whose timeout passed.
    pub fn handle_blocked_timeouts_fast(&mut self) {
        if self.clients.blocked_count() == 0 {
            return;
        }
        let now = crate::util::mstime();
        let expired: Vec<usize> = self
            .clients
            .blocked_clients()
            .filter(|(_, b)| b.deadline_ms != 0 && b.deadline_ms <= now)
            .map(|(k, _)| k)
            .collect();
        for key in expired {
            if let Some(st) = self.blocking_remove(key) {
                self.timeout_reply(key, st.cmd);
                self.stats_on_unblock(&st, false);
                self.pending_input.push(key);
            }
        }
    }

    /// CLIENT UNBLOCK: true when the client was blocked.
    pub fn unblock_by_id(&mut self, id: u64, with_error: bool) -> bool {
        let Some(key) = self.client_by_id(id) else {
            return false;
        };
        let Some(st) = self.blocking_remove(key) else {
            return false;
        };
        if with_error {
            let e = crate::error::CmdError::from("UNBLOCKED client unblocked via CLIENT UNBLOCK");
            self.reply_error(key, &e);
            self.prev_err_count = self.stats.total_error_replies;
        } else {
            self.timeout_reply(key, st.cmd);
        }
        self.stats_on_unblock(&st, with_error);
        self.mark_pending_write(key);
        self.pending_input.push(key);
        true
    }
}

impl Server {
    /// A blocked command ends without being served (timeout, CLIENT
    /// UNBLOCK): it is counted now (Redis's updateStatsOnUnblock).
    fn stats_on_unblock(&mut self, st: &BlockState, failed: bool) {
        let tracking = self.cfg.latency_tracking;
        self.cmdstats
            .entry(st.cmd.name)
            .or_default()
            .record(st.duration_us, failed, tracking);
    }
}

/// The value type a blocking command waits for.
fn waited_type(cmd: &str) -> &'static str {
    if cmd.starts_with("bz") {
        "zset"
    } else if cmd.starts_with('x') {
        "stream"
    } else {
        "list"
    }
}
