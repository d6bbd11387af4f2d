//! serverCron: the periodic work, run `hz` times a second. Active expiry,
//! client timeouts, incremental rehashing and table shrinking, background
//! save bookkeeping, replication heartbeats.

use super::Server;
use crate::net::{flags, Kind};
use crate::sds::Sds;

/// Keys sampled per database per round (Redis's ACTIVE_EXPIRE_CYCLE_KEYS_PER_LOOP).
const EXPIRE_KEYS_PER_LOOP: usize = 20;
/// A round repeats while more than this percentage of sampled keys expired.
const EXPIRE_ACCEPTABLE_STALE: usize = 10;
/// Share of each cron period the expiry cycle may use.
const EXPIRE_SLOW_TIME_PERC: u64 = 25;

impl Server {
    pub fn cron(&mut self) {
        // The loop is alive: the watchdog's alarm is pushed back a period.
        if self.cfg.watchdog_period > 0 {
            super::watchdog::schedule(self.cfg.watchdog_period);
        }
        // DEBUG PAUSE-CRON 1: no periodic work at all (tests).
        if self.cron_paused {
            return;
        }
        self.cron_loops += 1;
        self.update_clock();
        crate::alloc::update_peak(super::info::used_memory());
        crate::alloc::cron_tick();
        crate::alloc::refresh_allocator_stats(super::info::rss_bytes());
        if self.sentinel.is_some() {
            // A Sentinel has no data set, persistence or replication.
            self.clients_cron();
            self.sentinel_cron();
            if self.shutdown_cron() {
                std::process::exit(0);
            }
            return;
        }
        // No deletions while writes are paused (they would be propagated).
        if self.active_expire_enabled
            && !self.repl.is_replica()
            && self.clients_paused_until_ms == 0
            && self.pending_shutdown.is_none()
        {
            let start = crate::util::monotonic_us();
            self.active_expire_cycle();
            let ms = (crate::util::monotonic_us() - start) / 1000;
            self.latency_add("expire-cycle", ms);
        }
        self.databases_cron();
        self.clients_cron();
        if self.ks.tracking {
            // Over tracking-table-max-keys: drop keys, more each tick.
            self.tracking_limit_used_slots();
        }
        self.persist_cron();
        if !self.scripts.ldb.children.is_empty() {
            self.ldb_reap_children();
        }
        self.repl_cron_tick();
        self.repl_cron();
        if self.cluster.is_some() {
            self.cluster_cron_maybe();
        }
        if !self.migrate_cache.map.is_empty() {
            self.cluster_migrate_cron();
        }
        self.after_command();
        // SIGTERM/SIGINT are acted upon here, as in Redis's serverCron (a
        // SHUTDOWN ABORT can still cancel them until then).
        if self.shutdown_cron() {
            std::process::exit(0);
        }
    }

    /// Samples keys with an expiry and deletes those whose time passed,
    /// within a CPU budget, resuming where the previous cycle stopped.
    fn active_expire_cycle(&mut self) {
        let effort = self.cfg.active_expire_effort.clamp(1, 10) as usize - 1;
        let per_loop = EXPIRE_KEYS_PER_LOOP + EXPIRE_KEYS_PER_LOOP / 4 * effort;
        let hz = self.cfg.hz.clamp(1, 500) as u64;
        let budget_us = 1_000_000 * (EXPIRE_SLOW_TIME_PERC + 2 * effort as u64) / hz / 100;
        let start = crate::util::monotonic_us();
        let now = self.ks.now_ms;
        for db in 0..self.ks.dbs.len() {
            loop {
                let d = &mut self.ks.dbs[db];
                if d.expires.is_empty() {
                    break;
                }
                let mut sampled = 0usize;
                let mut due: Vec<Sds> = Vec::new();
                let mut cursor = d.expires_cursor;
                // Scan buckets until enough keys were looked at.
                let mut buckets = 0;
                while sampled < per_loop && buckets < per_loop * 20 {
                    cursor = d.expires.scan(cursor, |k, &when| {
                        sampled += 1;
                        if when <= now {
                            due.push(Sds::new(k));
                        }
                    });
                    buckets += 1;
                    if cursor == 0 {
                        break;
                    }
                }
                d.expires_cursor = cursor;
                let expired = due.len();
                for k in due {
                    self.ks.delete_expired(db, &k);
                }
                self.propagate_expired();
                if sampled == 0 || expired * 100 / sampled <= EXPIRE_ACCEPTABLE_STALE {
                    break;
                }
                if crate::util::monotonic_us() - start > budget_us {
                    return;
                }
            }
        }
    }

    /// Rehash and shrink the keyspace tables a little every cycle.
    fn databases_cron(&mut self) {
        if self.persist.child_pid().is_some() {
            return;
        }
        for d in &mut self.ks.dbs {
            d.dict.shrink_if_needed();
            d.expires.shrink_if_needed();
            if d.dict.is_rehashing() {
                d.dict.rehash(100);
            }
            if d.expires.is_rehashing() {
                d.expires.rehash(100);
            }
        }
    }

    /// Closes idle clients past `timeout` and shrinks idle query buffers.
    fn clients_cron(&mut self) {
        let now = self.ks.now_ms;
        let timeout_ms = self.cfg.timeout as i64 * 1000;
        let mut idle: Vec<usize> = Vec::new();
        let (peak_reset, resizing) = (self.reply_buffer_peak_reset_ms, self.reply_buffer_resizing);
        for (k, c) in self.clients.iter_mut() {
            if timeout_ms > 0
                && c.kind == Kind::Normal
                && !c.has(flags::BLOCKED | flags::PUBSUB | flags::MONITOR)
                && now - c.last_interaction_ms > timeout_ms
            {
                idle.push(k);
                continue;
            }
            c.resize_query_buffer(now);
            c.resize_reply_buffer(now, peak_reset, resizing);
        }
        for k in idle {
            log::debug!("Closing idle client");
            self.close_async(k);
        }
        // The soft output limit also runs out when no traffic comes to
        // check it (Redis's clientsCron).
        let waiting: Vec<usize> = self
            .clients
            .iter()
            .filter(|(_, c)| c.kind == Kind::Normal && c.pending_reply() > 0)
            .map(|(k, _)| k)
            .collect();
        for k in waiting {
            self.check_output_limits(k);
        }
        if self.client_mem_limit > 0 {
            self.recount_client_mem();
            self.evict_clients(None);
        }
    }
}
