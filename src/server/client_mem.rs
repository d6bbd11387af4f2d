//! Client memory: the CLIENT LIST / CLIENT INFO memory fields (qbuf,
//! qbuf-free, argv-mem, multi-mem, rbs, rbp, obl, oll, omem, tot-mem)
//! counted the way Redis 7.0 counts them, and client eviction by memory
//! (`maxmemory-clients`, `CLIENT NO-EVICT`).
//!
//! Redis keeps a 16 KB reply buffer plus a list of 16 KB blocks; ferrodis
//! has one buffer, reported in those terms (the first 16 KB of pending
//! output are `obl`, the rest `oll` blocks and `omem` bytes). Query
//! buffer bytes a partly received request has already "consumed" in
//! Redis's incremental parser count as argv-mem, not qbuf.

use super::Server;
use crate::net::{flags, Client, Kind};

/// Redis's PROTO_REPLY_CHUNK_BYTES.
const REPLY_CHUNK: usize = 16 * 1024;

/// The memory fields of one client.
pub struct ClientMem {
    pub qbuf: usize,
    pub qbuf_free: usize,
    pub argv_mem: usize,
    pub multi_mem: usize,
    pub rbs: usize,
    pub rbp: usize,
    pub obl: usize,
    pub oll: usize,
    pub omem: usize,
    pub tot_mem: usize,
}

/// Computes a client's memory fields (Redis's getClientMemoryUsage and
/// the CLIENT LIST accounting); `subscriptions`: its channels, shard
/// channels and patterns (`Server::pubsub_entries`).
pub fn client_mem(c: &Client, subscriptions: usize) -> ClientMem {
    // While its own command runs, Redis still holds the request in the
    // query buffer; an incomplete request is partly parsed already.
    let (qbuf, argv_mem) = if c.cur_request_len > 0 {
        (c.query.len() + c.cur_request_len, c.cur_argv_len)
    } else {
        let (consumed, argv) = crate::resp::partial_progress(&c.query);
        (c.query.len() - consumed, argv)
    };
    // The running request was split off the same allocation.
    let qbuf_free = c
        .query_alloc
        .saturating_sub(c.query.len() + c.cur_request_len);
    let multi_mem: usize = c
        .mstate
        .iter()
        .map(|argv| argv.iter().map(|a| a.len()).sum::<usize>())
        .sum();
    let pending = c.pending_reply();
    let obl = pending.min(REPLY_CHUNK);
    let rest = pending - obl;
    let oll = rest.div_ceil(REPLY_CHUNK);
    // Redis's reply list: `oll` blocks of 16 KB (what was pending, not
    // how far our buffer's capacity once grew; tot-mem counts that).
    let omem = oll * REPLY_CHUNK;
    let rbs = c.reply.capacity().min(REPLY_CHUNK);
    let rbp = c.reply_peak.min(REPLY_CHUNK).max(obl);
    // Per-structure overheads, as Redis adds them: argv pointers, queued
    // commands, watched keys, subscriptions and tracking prefixes.
    let ptr = std::mem::size_of::<usize>();
    let queued_overhead: usize = c.mstate.iter().map(|a| a.len() * ptr + 32).sum();
    let watched =
        c.watched.len() * (3 * ptr + 32) + c.watched.iter().map(|(_, k)| k.len()).sum::<usize>();
    let pubsub = subscriptions * (3 * ptr);
    let prefixes: usize = c.tracking_prefixes.iter().map(|p| p.len() + 4 * ptr).sum();
    let tot_mem = std::mem::size_of::<Client>()
        + c.query_alloc
        + c.reply.capacity().max(REPLY_CHUNK)
        + c.queued_len
        + argv_mem
        + multi_mem
        + queued_overhead
        + watched
        + pubsub
        + prefixes;
    ClientMem {
        qbuf,
        qbuf_free,
        argv_mem,
        multi_mem,
        rbs,
        rbp,
        obl,
        oll,
        omem,
        tot_mem,
    }
}

impl Server {
    /// The maxmemory-clients limit in bytes (0: no client eviction); a
    /// percentage is of maxmemory.
    pub fn maxmemory_clients(&self) -> u64 {
        let v = self.cfg.extra_value("maxmemory-clients");
        match v.strip_suffix('%') {
            Some(p) => p.parse::<u64>().unwrap_or(0) * self.cfg.maxmemory / 100,
            None => v.parse().unwrap_or(0),
        }
    }

    /// A client's channels, shard channels and patterns: what its
    /// subscriptions cost in client memory.
    pub(super) fn pubsub_entries(&self, key: usize) -> usize {
        self.clients.subscription_count(key) + self.clients.shard_subscriptions(key).len()
    }

    /// Redis's clientEvictionAllowed.
    fn evictable(c: &Client) -> bool {
        c.kind == Kind::Normal && !c.has(flags::NO_EVICT) && !c.has(flags::CLOSE_ASAP)
    }

    /// Re-accounts one client's memory (after its input or output changed).
    pub fn update_client_mem(&mut self, key: usize) {
        let subscriptions = self.pubsub_entries(key);
        let Some(c) = self.clients.get_mut(key) else {
            return;
        };
        let pending = c.pending_reply();
        if pending > c.reply_peak {
            c.reply_peak = pending;
        }
        if self.client_mem_limit == 0 {
            return;
        }
        let mem = if Self::evictable(c) {
            client_mem(c, subscriptions).tot_mem
        } else {
            0
        };
        self.client_mem_total = self.client_mem_total + mem - c.mem_accounted;
        c.mem_accounted = mem;
    }

    /// Drops a client from the accounting (it is being freed).
    pub fn forget_client_mem(&mut self, key: usize) {
        if let Some(c) = self.clients.get_mut(key) {
            self.client_mem_total -= c.mem_accounted;
            c.mem_accounted = 0;
        }
    }

    /// Recomputes every client's memory (cron, and when the limit or a
    /// client's NO-EVICT flag changes).
    pub fn recount_client_mem(&mut self) {
        self.client_mem_limit = self.maxmemory_clients();
        self.client_mem_total = 0;
        let keys: Vec<usize> = self.clients.iter().map(|(k, _)| k).collect();
        for k in keys {
            if let Some(c) = self.clients.get_mut(k) {
                c.mem_accounted = 0;
            }
            self.update_client_mem(k);
        }
    }

    /// Redis's evictClients: while clients together use more than
    /// maxmemory-clients, the largest evictable one is disconnected.
    /// Returns whether `current` was evicted.
    pub fn evict_clients(&mut self, current: Option<usize>) -> bool {
        let limit = self.client_mem_limit as usize;
        if limit == 0 {
            return false;
        }
        let mut evicted_current = false;
        while self.client_mem_total >= limit {
            let Some((victim, _)) = self
                .clients
                .iter()
                .filter(|(_, c)| Self::evictable(c) && c.mem_accounted > 0)
                .max_by_key(|(_, c)| c.mem_accounted)
                .map(|(k, c)| (k, c.mem_accounted))
            else {
                break;
            };
            let mut info = self.client_info_line(victim);
            if info.ends_with('\n') {
                info.pop();
            }
            log::info!("Evicting client: {info}");
            self.forget_client_mem(victim);
            self.stats.evicted_clients += 1;
            if Some(victim) == current {
                evicted_current = true;
            }
            self.close_async(victim);
            // Its memory goes now, as Redis frees an evicted client at
            // once: the connection itself is closed before the loop sleeps,
            // and meanwhile other clients' commands must not find used
            // memory still holding what was just given back (keys were
            // evicted for it). Nothing more is written to a closing client.
            if let Some(c) = self.clients.get_mut(victim) {
                c.discard_output();
            }
        }
        evicted_current
    }
}
