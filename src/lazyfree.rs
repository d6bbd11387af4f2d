//! Lazy freeing (Redis's lazyfree.c) without a background thread: UNLINK,
//! DEL under lazyfree-lazy-user-del and FLUSHDB/FLUSHALL ASYNC hand values
//! whose freeing is much work to this queue, and the event loop frees them
//! a bounded number of elements per pass (`step`), between serving clients.
//! The process stays single-threaded (fork safety); what Redis's bio thread
//! buys, that one command freeing millions of elements does not hold every
//! other client, is kept. INFO's lazyfree_pending_objects and
//! lazyfreed_objects count as Redis's do (a value is one object, a flushed
//! database one object per key).

use crate::db::Value;
use crate::dict::Drain;
use crate::sds::Sds;
use crate::types::{Hash, Set};
use std::collections::VecDeque;

/// LAZYFREE_THRESHOLD: values cheaper to free than this are freed at once.
pub const THRESHOLD: usize = 64;

/// Elements freed per `step` (about half a millisecond of frees).
const STEP_BUDGET: usize = 8192;

/// lazyfreeGetFreeEffort: roughly the number of allocations behind a value.
pub fn free_effort(v: &Value) -> usize {
    match v {
        Value::List(l) => l.node_count(),
        Value::Hash(Hash::Table(d)) => d.len(),
        Value::Set(Set::Table(d)) => d.len(),
        Value::ZSet(z) if z.as_listpack().is_none() => z.len(),
        Value::Stream(s) => {
            // Every node is an allocation; so are a group and its PEL
            // entries (the first group's PEL stands for all, as in Redis).
            let groups = s.cgroups.len();
            let pel = s.cgroups.values().next().map_or(0, |g| g.pel.len());
            s.node_count() + groups * (1 + pel)
        }
        _ => 1,
    }
}

/// What is left to free, with the number of objects it counts for once
/// freed (0 for a big value taken out of a flushed database, which counts
/// among that database's keys).
enum Job {
    /// A value freed in one go (its elements are few large allocations,
    /// or its type frees quickly).
    Whole {
        _value: Value,
        objects: usize,
    },
    Hash(Drain<Sds>, usize),
    /// A set's table, the slot its freeing resumes at, and its count.
    Set(Box<crate::types::set_table::SetTable>, usize, usize),
    /// A flushed database's keys (`count` objects) and expires.
    Keys {
        keys: Drain<Value, u32>,
        expires: Drain<i64>,
        count: usize,
    },
}

fn job_for(v: Value, objects: usize) -> Job {
    match v {
        Value::Hash(Hash::Table(d)) => Job::Hash(d.into_drain(), objects),
        Value::Set(Set::Table(d)) => Job::Set(d, 0, objects),
        v => Job::Whole { _value: v, objects },
    }
}

#[derive(Default)]
pub struct LazyFree {
    jobs: VecDeque<Job>,
    /// lazyfree_pending_objects.
    pending: usize,
    /// lazyfreed_objects (CONFIG RESETSTAT clears it).
    pub freed: u64,
}

impl LazyFree {
    pub fn pending(&self) -> usize {
        self.pending
    }

    /// Whether the loop has freeing left to do.
    pub fn busy(&self) -> bool {
        !self.jobs.is_empty()
    }

    /// dbAsyncDelete's decision: frees `v` now when that is cheap, else
    /// queues it. Returns whether it was queued.
    pub fn free_value(&mut self, v: Value) -> bool {
        if free_effort(&v) <= THRESHOLD {
            drop(v);
            return false;
        }
        self.pending += 1;
        self.jobs.push_back(job_for(v, 1));
        true
    }

    /// emptyDbAsync: a database's dicts, freed in the background.
    pub fn free_db(
        &mut self,
        keys: crate::dict::Dict<Value, u32>,
        expires: crate::dict::Dict<i64>,
    ) {
        let count = keys.len();
        if count == 0 {
            return;
        }
        self.pending += count;
        self.jobs.push_back(Job::Keys {
            keys: keys.into_drain(),
            expires: expires.into_drain(),
            count,
        });
    }

    /// Frees up to about STEP_BUDGET elements (one pass of the loop).
    pub fn step(&mut self) {
        let mut budget = STEP_BUDGET;
        let mut big: Vec<Value> = Vec::new();
        while budget > 0 {
            let Some(job) = self.jobs.front_mut() else {
                return;
            };
            let before = budget;
            let (done, objects) = match job {
                Job::Whole { objects, .. } => (true, *objects),
                Job::Hash(d, n) => (free_counted(d, &mut budget), *n),
                Job::Set(t, pos, n) => {
                    budget = budget.saturating_sub(t.free_some(pos, budget));
                    (t.is_empty(), *n)
                }
                Job::Keys {
                    keys,
                    expires,
                    count,
                } => {
                    // A big value among the keys becomes a job of its own,
                    // freed next, rather than inside this step.
                    let left = keys.len();
                    let done = keys.free_some(budget, |v| {
                        if free_effort(&v) > THRESHOLD {
                            big.push(v);
                        }
                    });
                    budget = budget.saturating_sub(left - keys.len());
                    let done = done && free_counted(expires, &mut budget);
                    (done, *count)
                }
            };
            budget = budget.min(before.saturating_sub(1));
            if !big.is_empty() {
                for v in big.drain(..) {
                    self.jobs.push_front(job_for(v, 0));
                }
                continue;
            }
            if !done {
                return;
            }
            self.jobs.pop_front();
            self.pending -= objects;
            self.freed += objects as u64;
        }
    }
}

/// `Drain::free_some` within `budget`, which it lowers by what it freed.
fn free_counted<V>(d: &mut Drain<V>, budget: &mut usize) -> bool {
    let left = d.len();
    let done = d.free_some(*budget, drop);
    *budget = budget.saturating_sub(left - d.len());
    done
}
