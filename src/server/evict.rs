//! maxmemory: evicting keys by sampling, as Redis's evict.c does (pick
//! `maxmemory-samples` candidates, drop the best one, repeat while over the
//! limit). Evicted keys reach replicas and the AOF as DEL, and raise the
//! `evicted` keyspace event.

use super::Server;
use crate::config::MaxmemoryPolicy as P;
use crate::sds::Sds;
use bytes::Bytes;

/// How many keys one call may evict before giving the loop back.
const MAX_EVICTIONS_PER_CALL: usize = 1000;

impl Server {
    /// Frees memory until used_memory <= maxmemory. False when that was not
    /// possible (no candidate keys): the caller replies -OOM.
    pub fn perform_evictions(&mut self) -> bool {
        let max = self.cfg.maxmemory;
        if max == 0 {
            return true;
        }
        let mut used = super::info::used_memory();
        if used <= max {
            return true;
        }
        // What the replication buffer keeps beyond the backlog is not
        // counted, as in Redis 7.0.
        let not_counted = self.repl.buffer_not_counted(self.cfg.repl_backlog_size);
        used = used.saturating_sub(not_counted);
        if used <= max {
            return true;
        }
        let policy = self.cfg.maxmemory_policy;
        if policy == P::NoEviction {
            return false;
        }
        for _ in 0..MAX_EVICTIONS_PER_CALL {
            let Some((db, key)) = self.eviction_candidate(policy) else {
                return false;
            };
            self.ks.delete(db, &key);
            self.stats.evicted_keys += 1;
            let k = Bytes::copy_from_slice(&key);
            self.events.push(crate::cmd::Notification {
                class: crate::config::NOTIFY_EVICTED,
                event: "evicted",
                db,
                key: k.clone(),
                reply_at: None,
            });
            self.also_propagate(db, vec![Bytes::from_static(b"DEL"), k]);
            let not_counted = self.repl.buffer_not_counted(self.cfg.repl_backlog_size);
            if super::info::used_memory().saturating_sub(not_counted) <= max {
                return true;
            }
        }
        true
    }

    /// The best key to evict among `maxmemory-samples` random ones.
    fn eviction_candidate(&mut self, policy: P) -> Option<(usize, Sds)> {
        let volatile = matches!(
            policy,
            P::VolatileLru | P::VolatileLfu | P::VolatileRandom | P::VolatileTtl
        );
        let samples = self.cfg.maxmemory_samples.max(1) as usize;
        let clock = self.ks.lru_clock;
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
                let key = if volatile {
                    d.expires.random(|| rng.next_u64()).map(|(k, _)| k.clone())
                } else {
                    d.dict.random(|| rng.next_u64()).map(|(k, _)| k.clone())
                };
                let Some(key) = key else {
                    break;
                };
                // Higher score = better candidate.
                let score = match policy {
                    P::AllKeysRandom | P::VolatileRandom => return Some((db, key)),
                    P::VolatileTtl => {
                        let when = d.expires.get(&key).copied().unwrap_or(i64::MAX);
                        u64::MAX - when.max(0) as u64
                    }
                    P::AllKeysLfu | P::VolatileLfu => {
                        d.dict.get(&key).map_or(0, |e| 255 - (e.lru & 0xff) as u64)
                    }
                    _ => d
                        .dict
                        .get(&key)
                        .map_or(0, |e| crate::cmd::keys::idle_seconds(clock, e) as u64),
                };
                if best.as_ref().is_none_or(|b| score > b.0) {
                    best = Some((score, db, key));
                }
            }
        }
        best.map(|(_, db, k)| (db, k))
    }
}
