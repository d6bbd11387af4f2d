//! The empty-master guard (issue 13, item 1): `replica-refuse-empty-sync`.
//!
//! The failure it prevents (redis#2087): a master without persistence
//! (`save ""`, `appendonly no`) restarts, automatically, with an empty data
//! set and a new run id. Its replicas reconnect, cannot continue their old
//! history, ask for a full sync, receive the empty data set, and flush
//! theirs: every copy is gone. With the guard on, a replica that holds data
//! refuses a full sync whose payload is empty when the master's run id
//! changed since our last sync and the master does not persist (or would
//! not say): it logs why, keeps serving its data, stops reconnecting and
//! reports `master_sync_refused_empty:1`. `REPLICAOF` (again), `DEBUG
//! REPL-ACCEPT-EMPTY` or `CONFIG SET replica-refuse-empty-sync no`
//! accepts the empty data set.
//!
//! What the master is learnt in the handshake: with the guard on, the
//! replica asks `INFO server` (run_id), `CONFIG GET save` and `CONFIG GET
//! appendonly` before its REPLCONFs; a master that refuses them is taken
//! for one without persistence. Default `no` (Redis's behaviour and
//! handshake, byte for byte); the shipped redis.conf sets `yes`.

use super::Server;
use crate::repl::link::Reply;

impl Server {
    pub fn guard_enabled(&self) -> bool {
        self.cfg.extra_value("replica-refuse-empty-sync") == "yes"
    }

    /// The guard's questions, sent with the handshake.
    pub(super) fn guard_ask(&mut self) {
        self.repl.link.master_run_id = None;
        self.repl.link.master_persists = None;
        self.repl.link.guard_replies = 3;
        self.send_to_master(&[b"INFO", b"server"]);
        self.send_to_master(&[b"CONFIG", b"GET", b"save"]);
        self.send_to_master(&[b"CONFIG", b"GET", b"appendonly"]);
    }

    /// One answer to the guard's questions (in the order asked).
    pub(super) fn guard_answer(&mut self, reply: Reply) {
        let n = self.repl.link.guard_replies;
        self.repl.link.guard_replies = n.saturating_sub(1);
        match (n, reply) {
            (3, Reply::Bulk(Some(text))) => {
                let text = String::from_utf8_lossy(&text);
                self.repl.link.master_run_id = text
                    .lines()
                    .find_map(|l| l.strip_prefix("run_id:"))
                    .map(|v| v.trim().to_string());
            }
            (2, Reply::Array(items)) => {
                // save "" (or nothing): no snapshots.
                let saves = matches!(items.get(1), Some(Reply::Bulk(Some(v))) if !v.is_empty());
                self.repl.link.master_persists = Some(saves);
            }
            (1, Reply::Array(items)) => {
                let aof = matches!(items.get(1), Some(Reply::Bulk(Some(v))) if v.eq_ignore_ascii_case(b"yes"));
                if let Some(p) = self.repl.link.master_persists.as_mut() {
                    *p |= aof;
                }
            }
            (_, Reply::Error(e)) => {
                log::info!(
                    "(Non critical) Master does not answer the empty-sync guard: {}",
                    String::from_utf8_lossy(&e)
                );
                if n <= 2 {
                    self.repl.link.master_persists = None;
                }
            }
            _ => {}
        }
    }

    /// At the end of a full sync: whether its payload must be refused.
    /// `loaded_keys` is what the payload held; our data is still in place.
    pub(super) fn guard_refuses(&mut self, loaded_keys: u64) -> bool {
        if !self.guard_enabled() || std::mem::take(&mut self.repl.accept_empty_once) {
            return false;
        }
        let ours = self.ks.total_keys();
        if loaded_keys > 0 || ours == 0 {
            return false;
        }
        let (Some(before), Some(now)) = (
            self.repl.synced_run_id.as_deref(),
            self.repl.link.master_run_id.as_deref(),
        ) else {
            return false;
        };
        if before == now || self.repl.link.master_persists == Some(true) {
            return false;
        }
        log::warn!("Refusing the empty full sync from MASTER (replica-refuse-empty-sync yes): its run id changed from {before} to {now} and it does not persist its data, so it most likely restarted empty; our {ours} keys are kept. REPLICAOF again, DEBUG REPL-ACCEPT-EMPTY or CONFIG SET replica-refuse-empty-sync no accepts the empty data set.");
        self.repl.refused_empty = true;
        true
    }

    /// DEBUG REPL-ACCEPT-EMPTY: the next empty full sync is accepted.
    pub fn repl_accept_empty(&mut self) {
        self.repl.accept_empty_once = true;
        self.repl_lift_refusal();
    }

    /// The refusal is over: reconnect at once.
    pub fn repl_lift_refusal(&mut self) {
        if std::mem::take(&mut self.repl.refused_empty) && self.repl.is_replica() {
            log::info!("The empty-sync guard lets the next sync through");
            if self.repl.link.key.is_none() {
                self.repl_connect_master();
            }
        }
    }

    /// Once a second: the config turned the guard off meanwhile.
    pub fn guard_cron(&mut self) {
        if self.repl.refused_empty && !self.guard_enabled() {
            self.repl_lift_refusal();
        }
    }
}
