//! maxmemory: evicting keys by sampling, as Redis's evict.c does (pick
//! `maxmemory-samples` candidates, drop the best one, repeat while over the
//! limit). Evicted keys reach replicas and the AOF as DEL, and raise the
//! `evicted` keyspace event.

use super::Server;
use crate::config::MaxmemoryPolicy as P;
use crate::sds::Sds;
use bytes::Bytes;

impl Server {
    /// Memory maxmemory does not count (Redis's
    /// freeMemoryGetNotCountedMemory): what the shared replication buffer
    /// holds beyond the backlog (kept for replicas) and the AOF buffer, so
    /// that feeding replicas or the AOF never evicts keys.
    pub fn memory_not_counted_for_evict(&self) -> u64 {
        let aof = if self.persist.aof.state == crate::persist::aof::AofState::Off {
            0
        } else {
            self.persist.aof.buf.capacity() as u64
        };
        self.repl.buffer_not_counted(self.cfg.repl_backlog_size) + aof
    }

    /// Memory over maxmemory that eviction must free (0: within the limit).
    fn memory_to_free(&self) -> u64 {
        let max = self.cfg.maxmemory;
        let used = super::info::used_memory();
        if max == 0 || used <= max {
            return 0;
        }
        used.saturating_sub(self.memory_not_counted_for_evict())
            .saturating_sub(max)
    }

    /// The used_memory up to which the keyspace tables may grow (Redis's
    /// dictExpandAllowed); 0 without maxmemory.
    pub fn keyspace_expand_ceiling(&self) -> u64 {
        if self.cfg.maxmemory == 0 {
            return 0;
        }
        self.cfg.maxmemory + self.memory_not_counted_for_evict()
    }

    /// Redis's evictionTimeLimitUs: maxmemory-eviction-tenacity (0..100)
    /// as the time one eviction cycle may take.
    fn eviction_time_limit_us(&self) -> u64 {
        let t: u64 = self
            .cfg
            .extra_value("maxmemory-eviction-tenacity")
            .parse()
            .unwrap_or(10);
        if t <= 10 {
            50 * t
        } else if t < 100 {
            (500.0 * 1.15f64.powi(t as i32 - 10)) as u64
        } else {
            u64::MAX
        }
    }

    /// Redis's performEvictions: frees memory until used_memory is within
    /// maxmemory, each evicted key propagated on its own as a DEL (UNLINK
    /// with lazyfree-lazy-eviction). A cycle stops at its time limit and
    /// goes on before the next sleep (`evict_running`). False when memory
    /// is over the limit and nothing can be evicted: the caller replies
    /// -OOM to commands that may grow memory.
    pub fn perform_evictions(&mut self) -> bool {
        // Loading, a replica ignoring maxmemory, paused writes: the data
        // set stays as it is.
        let replica_ignores =
            self.repl.is_replica() && self.cfg.extra_value("replica-ignore-maxmemory") != "no";
        if self.persist.loading
            || replica_ignores
            || self.clients_paused_until_ms != 0
            || self.pending_shutdown.is_some()
        {
            return true;
        }
        // What to free is fixed at the start and what each deletion freed
        // is measured around the deletion alone (Redis's mem_tofree and
        // delta): the invalidations, notifications and propagation an
        // eviction causes must not make it evict more (a feedback loop
        // that would drain the data set).
        let mut to_free = self.memory_to_free();
        if to_free == 0 {
            self.evict_running = false;
            return true;
        }
        let limit_us = self.eviction_time_limit_us();
        let start = crate::util::monotonic_us();
        // Values waiting to be lazy-freed (UNLINK, FLUSHALL ASYNC) are
        // garbage: free them before evicting live keys or refusing writes
        // (Redis's lazyfree thread frees them meanwhile, and eviction
        // waits for it when nothing else is left to evict).
        while to_free > 0
            && self.ks.lazy.busy()
            && crate::util::monotonic_us().saturating_sub(start) <= limit_us
        {
            self.ks.lazy.step();
            to_free = self.memory_to_free();
        }
        if to_free == 0 {
            self.evict_running = false;
            return true;
        }
        if self.ks.lazy.busy() {
            // Garbage is left: go on freeing it from the loop, as an
            // eviction in progress (writes are not refused meanwhile).
            self.evict_running = true;
            return true;
        }
        let policy = self.cfg.maxmemory_policy;
        if policy == P::NoEviction {
            return false;
        }
        let lazy = self.cfg.extra_value("lazyfree-lazy-eviction") == "yes";
        let mut freed = 0u64;
        let mut mem_freed = 0u64;
        loop {
            let Some((db, key)) = self.eviction_candidate(policy) else {
                self.evict_running = false;
                return false;
            };
            let before = super::info::used_memory();
            self.ks.delete_unsignalled(db, &key);
            mem_freed += before.saturating_sub(super::info::used_memory());
            self.ks.signal_modified(db, &key);
            self.stats.evicted_keys += 1;
            let k = Bytes::copy_from_slice(&key);
            self.events.push(crate::cmd::Notification {
                class: crate::config::NOTIFY_EVICTED,
                event: "evicted",
                db,
                key: k.clone(),
                reply_at: None,
            });
            let cmd: &'static [u8] = if lazy { b"UNLINK" } else { b"DEL" };
            self.also_propagate(db, vec![Bytes::from_static(cmd), k]);
            // Each deletion is a unit of its own, never a MULTI.
            self.flush_propagation();
            freed += 1;
            if mem_freed >= to_free {
                self.evict_running = false;
                return true;
            }
            if freed.is_multiple_of(16)
                && crate::util::monotonic_us().saturating_sub(start) > limit_us
            {
                // Over the time limit: go on later (Redis's eviction
                // time proc), memory is not "failed" meanwhile.
                self.evict_running = true;
                return true;
            }
        }
    }

    /// CONFIG SET maxmemory: evictions start from the loop, not inside the
    /// command (a MULTI that sets it runs to its end first), as Redis 7.0's
    /// startEvictionTimeProc.
    pub fn maxmemory_changed(&mut self) {
        let max = self.cfg.maxmemory;
        if max == 0 {
            return;
        }
        let used = super::info::used_memory().saturating_sub(self.memory_not_counted_for_evict());
        if max < used {
            log::warn!("WARNING: the new maxmemory value set via CONFIG SET ({max}) is smaller than the current memory usage ({used}). This will result in key eviction and/or the inability to accept new write commands depending on the maxmemory-policy.");
        }
        self.evict_running = true;
    }

    /// The best key to evict among `maxmemory-samples` random ones.
    fn eviction_candidate(&mut self, policy: P) -> Option<(usize, Sds)> {
        let volatile = matches!(
            policy,
            P::VolatileLru | P::VolatileLfu | P::VolatileRandom | P::VolatileTtl
        );
        let samples = self.cfg.maxmemory_samples.max(1) as usize;
        let clock = self.ks.lru_clock;
        // Higher score = better candidate.
        let idle = |lru: u32| match policy {
            P::AllKeysLfu | P::VolatileLfu => 255 - (lru & 0xff) as u64,
            _ => crate::cmd::keys::idle_seconds(clock, lru) as u64,
        };
        let mut best: Option<(u64, usize, Sds)> = None;
        for db in 0..self.ks.dbs.len() {
            let d = &self.ks.dbs[db];
            let pool_empty = if volatile {
                d.expires.is_empty()
            } else {
                d.dict.is_empty()
            };
            if pool_empty {
                continue;
            }
            for _ in 0..samples {
                let rng = &mut self.rng;
                // A sample is scored where it lies; only the best so far is
                // copied out (no allocation or second lookup per sample).
                let sample = if volatile {
                    d.expires.random(|| rng.next_u64()).map(|(k, &when)| {
                        let score = match policy {
                            P::VolatileTtl => u64::MAX - when.max(0) as u64,
                            P::VolatileRandom => 0,
                            _ => d.dict.get_node(k).map_or(0, |n| idle(*n.meta())),
                        };
                        (k, score)
                    })
                } else {
                    d.dict
                        .random_node(|| rng.next_u64())
                        .map(|n| (n.key(), idle(*n.meta())))
                };
                let Some((key, score)) = sample else {
                    break;
                };
                if matches!(policy, P::AllKeysRandom | P::VolatileRandom) {
                    return Some((db, Sds::new(key)));
                }
                if best.as_ref().is_none_or(|b| score > b.0) {
                    best = Some((score, db, Sds::new(key)));
                }
            }
        }
        best.map(|(_, db, k)| (db, k))
    }
}
