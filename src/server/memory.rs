//! MEMORY STATS|DOCTOR|MALLOC-STATS|PURGE|USAGE|HELP, and the breakdown of
//! used memory they share with INFO memory (Redis's getMemoryOverheadData):
//! the bytes held are `alloc`'s running total; the structures counted as
//! overhead (client buffers, the backlog, the AOF buffer, the main and
//! expire tables of each database) are measured from what they hold, the
//! rest is the dataset. Allocator figures are glibc's mallinfo2 and the
//! process RSS (ferrodis runs on the system allocator), sampled by cron.

use super::Server;
use crate::cmd::eq_ic;
use crate::db::Value;
use crate::error::{self, unknown_subcommand, CmdError};
use crate::net::Kind;
use bytes::Bytes;

/// Redis's struct redisMemOverhead (ratios are `float` there: kept as f32
/// so that replies print the same digits).
pub struct MemOverhead {
    pub peak_allocated: u64,
    pub total_allocated: u64,
    pub startup_allocated: u64,
    pub repl_backlog: u64,
    pub clients_slaves: u64,
    pub clients_normal: u64,
    pub aof_buffer: u64,
    /// (db index, main table overhead, expires table overhead).
    pub dbs: Vec<(usize, u64, u64)>,
    pub overhead_total: u64,
    pub total_keys: u64,
    pub bytes_per_key: u64,
    pub dataset: u64,
    pub dataset_perc: f32,
    pub peak_perc: f32,
    pub allocator_allocated: u64,
    pub allocator_active: u64,
    pub allocator_resident: u64,
    pub allocator_frag: f32,
    pub allocator_frag_bytes: i64,
    pub allocator_rss: f32,
    pub allocator_rss_bytes: i64,
    pub rss_extra: f32,
    pub rss_extra_bytes: i64,
    pub total_frag: f32,
    pub total_frag_bytes: i64,
}

/// Redis 7.0's objectComputeSize (MEMORY USAGE): the value's size as Redis
/// lays it out (robj 16, dict 56, dictEntry 24, quicklist and its nodes 40
/// bytes, zskiplist 32, allocations in jemalloc's classes), sampling the
/// first `samples` elements of a big collection as Redis does; so that
/// MEMORY USAGE answers what redis-server answers for the same data.
pub fn object_compute_size(v: &Value, samples: usize) -> usize {
    use crate::alloc::{jemalloc_usable as zsize, sds_grown_zmalloc_size, sds_zmalloc_size as sds};
    use crate::types::{Hash, Set};
    const ROBJ: usize = 16;
    const DICT: usize = 56;
    const ENTRY: usize = 24;
    // asize += (double)elesize/samples*count, truncated as size_t.
    let avg = |elesize: usize, n: usize, count: usize| -> usize {
        if n == 0 {
            0
        } else {
            (elesize as f64 / n as f64 * count as f64) as usize
        }
    };
    let samples = samples.max(1);
    match v {
        Value::Int(_) => ROBJ,
        Value::Str(s) if s.len() <= 44 && s.heap_size() <= s.len() => zsize(ROBJ + 3 + s.len() + 1),
        // A string grown in place has sdsMakeRoomFor's spare room (ours
        // grows by the same rule; a short one appended to in our inline
        // form counts as exact).
        Value::Raw(s) | Value::Str(s) if s.heap_size() > s.len() => {
            sds_grown_zmalloc_size(s.heap_size()) + ROBJ
        }
        Value::Str(s) | Value::Raw(s) => sds(s.len()) + ROBJ,
        Value::List(l) => {
            let (mut elesize, mut n) = (0, 0);
            for node in l.nodes().take(samples) {
                // sizeof(quicklistNode) is 40 on 64-bit builds.
                elesize += 40 + zsize(node.bytes_len());
                n += 1;
            }
            ROBJ + 40 + avg(elesize, n, l.node_count())
        }
        Value::Set(Set::Intset(is)) => ROBJ + zsize(is.bytes_len()),
        Value::Set(Set::Table(d)) => {
            let (mut elesize, mut n) = (0, 0);
            for k in d.iter().take(samples) {
                elesize += ENTRY + sds(k.len());
                n += 1;
            }
            ROBJ + DICT + 8 * d.redis_buckets() + avg(elesize, n, d.len())
        }
        Value::Hash(Hash::Listpack(lp)) => ROBJ + zsize(lp.bytes_len()),
        Value::Hash(Hash::Table(d)) => {
            let (mut elesize, mut n) = (0, 0);
            for (k, v) in d.iter().take(samples) {
                elesize += sds(k.len()) + sds(v.len()) + ENTRY;
                n += 1;
            }
            ROBJ + DICT + 8 * d.buckets() + avg(elesize, n, d.len())
        }
        Value::ZSet(z) => match (z.as_listpack(), z.dict_buckets()) {
            (Some(lp), _) => ROBJ + zsize(lp.bytes_len()),
            (None, buckets) => {
                // zset + zskiplist + dict + buckets + the 32-level header.
                let mut size = ROBJ + 16 + 32 + DICT + 8 * buckets.unwrap_or(0);
                size += zsize(24 + 32 * 16);
                let (mut elesize, mut n) = (0, 0);
                for (m, _) in z.iter().take(samples) {
                    // A node of one level (Redis's are random: 1.33 on
                    // average).
                    elesize += sds(m.len()) + ENTRY + zsize(24 + 16);
                    n += 1;
                }
                size + avg(elesize, n, z.len())
            }
        },
        Value::Stream(s) => s.memory_usage(samples),
    }
}

fn ratio(a: u64, b: u64) -> f32 {
    if b == 0 {
        0.0
    } else {
        a as f32 / b as f32
    }
}

/// The bytes of a table of `len` entries over `buckets` buckets.
/// (Each node counted without its key bytes, as Redis counts dictEntry.)
fn table_overhead<V, M>(len: usize, buckets: usize) -> u64 {
    (buckets * std::mem::size_of::<usize>() + len * crate::dict::NodePtr::<V, M>::alloc_size(0))
        as u64
}

impl Server {
    /// Memory held by the clients of one kind: their buffers and structs.
    fn clients_memory(&self, replicas: bool) -> u64 {
        self.clients
            .iter()
            .filter(|(_, c)| (c.kind == Kind::Replica) == replicas)
            .map(|(_, c)| {
                (std::mem::size_of::<crate::net::Client>()
                    + c.reply.capacity()
                    + c.queued_len
                    + c.query_alloc) as u64
            })
            .sum()
    }

    /// getMemoryOverheadData.
    pub fn memory_overhead(&self) -> MemOverhead {
        let total = super::info::used_memory();
        let peak = crate::alloc::update_peak(total);
        let startup = crate::alloc::startup();
        let (allocated, active, resident, rss) = crate::alloc::allocator_stats();
        // The shared replication buffer counts as backlog up to
        // repl-backlog-size, the rest as the replicas' (Redis 7.0).
        let (backlog, replicas_share) = self.repl_memory_split();
        let slaves = self.clients_memory(true) + replicas_share;
        let normal = self.clients_memory(false);
        let aof = if self.persist.aof.state == crate::persist::aof::AofState::Off {
            0
        } else {
            self.persist.aof.buf.capacity() as u64
        };
        let mut overhead = startup + backlog + slaves + normal + aof;
        let mut dbs = Vec::new();
        let mut keys = 0u64;
        for (i, db) in self.ks.dbs.iter().enumerate() {
            if db.dict.is_empty() {
                continue;
            }
            keys += db.dict.len() as u64;
            let main = table_overhead::<crate::db::Value, u32>(db.dict.len(), db.dict.buckets());
            let expires = table_overhead::<i64, ()>(db.expires.len(), db.expires.buckets());
            overhead += main + expires;
            dbs.push((i, main, expires));
        }
        let net = if total > startup { total - startup } else { 1 };
        let dataset = total.saturating_sub(overhead);
        MemOverhead {
            peak_allocated: peak,
            total_allocated: total,
            startup_allocated: startup,
            repl_backlog: backlog,
            clients_slaves: slaves,
            clients_normal: normal,
            aof_buffer: aof,
            dbs,
            overhead_total: overhead,
            total_keys: keys,
            bytes_per_key: net.checked_div(keys).unwrap_or(0),
            dataset,
            dataset_perc: dataset as f32 * 100.0 / net as f32,
            peak_perc: total as f32 * 100.0 / peak.max(1) as f32,
            allocator_allocated: allocated,
            allocator_active: active,
            allocator_resident: resident,
            allocator_frag: ratio(active, allocated),
            allocator_frag_bytes: active as i64 - allocated as i64,
            allocator_rss: ratio(resident, active),
            allocator_rss_bytes: resident as i64 - active as i64,
            rss_extra: ratio(rss, resident),
            rss_extra_bytes: rss as i64 - resident as i64,
            total_frag: ratio(rss, total),
            total_frag_bytes: rss as i64 - total as i64,
        }
    }

    /// MEMORY <subcommand>.
    pub fn cmd_memory(&mut self, key: usize, argv: &[Bytes]) -> Result<(), CmdError> {
        let sub = &argv[1][..];
        let n = argv.len();
        if eq_ic(sub, "usage") && n >= 3 {
            let db = self.clients.get(key).map_or(0, |c| c.db);
            if n == 5 && !eq_ic(&argv[3], "samples") || n == 4 || n > 5 {
                return Err(error::SYNTAX.into());
            }
            let samples = match argv.get(4) {
                Some(n) => match crate::encoding::numbers::string2ll(n) {
                    Some(n) if n < 0 => return Err(error::SYNTAX.into()),
                    Some(0) => usize::MAX,
                    Some(n) => n as usize,
                    None => return Err(error::NOT_INT.into()),
                },
                None => 5,
            };
            // As Redis's memoryCommand: the dict itself, so neither an
            // access, a hit or miss, nor an expiry.
            let size = self.ks.db(db).dict.get(&argv[2]).map(|v| {
                object_compute_size(v, samples)
                    + crate::types::stream_meta::key_memory_usage(argv[2].len())
            });
            self.reply(key, |o| match size {
                None => o.null(),
                Some(n) => o.int(n as i64),
            });
        } else if eq_ic(sub, "stats") && n == 2 {
            let mh = self.memory_overhead();
            self.reply(key, |o| reply_stats(o, &mh));
        } else if eq_ic(sub, "doctor") && n == 2 {
            let report = self.memory_doctor();
            self.reply(key, |o| o.verbatim(report.as_bytes()));
        } else if eq_ic(sub, "malloc-stats") && n == 2 {
            // What Redis built on libc malloc answers.
            self.reply(key, |o| {
                o.bulk(b"Stats not supported for the current allocator")
            });
        } else if eq_ic(sub, "purge") && n == 2 {
            // glibc's counterpart of jemalloc's arena purge.
            // SAFETY: malloc_trim only returns free memory to the system.
            unsafe { libc::malloc_trim(0) };
            self.reply_ok(key);
        } else if eq_ic(sub, "help") && n == 2 {
            let lines = [
                "MEMORY <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
                "DOCTOR",
                "    Return memory problems reports.",
                "MALLOC-STATS",
                "    Return internal statistics report from the memory allocator.",
                "PURGE",
                "    Attempt to purge dirty pages for reclamation by the allocator.",
                "STATS",
                "    Return information about the memory usage of the server.",
                "USAGE <key> [SAMPLES <count>]",
                "    Return memory in bytes used by <key> and its value. Nested values are",
                "    sampled up to <count> times (default: 5, 0 means sample all).",
                "HELP",
                "    Prints this help.",
            ];
            self.reply_help(key, &lines);
        } else {
            return Err(unknown_subcommand(sub, "MEMORY"));
        }
        Ok(())
    }

    /// getMemoryDoctorReport, word for word.
    fn memory_doctor(&self) -> String {
        let mh = self.memory_overhead();
        const MB10: i64 = 10 << 20;
        if mh.total_allocated < 5 * 1024 * 1024 {
            return "Hi Sam, this instance is empty or is using very little memory, my issues detector can't be used in these conditions. Please, leave for your mission on Earth and fill it with some data. The new Sam and I will be back to our programming as soon as I finished rebooting.\n".into();
        }
        let replicas = self
            .clients
            .iter()
            .filter(|(_, c)| c.kind == Kind::Replica)
            .count() as u64;
        let normal = (self.clients.len() as u64).saturating_sub(replicas).max(1);
        let mut issues: Vec<String> = Vec::new();
        if ratio(mh.peak_allocated, mh.total_allocated) > 1.5 {
            issues.push(" * Peak memory: In the past this instance used more than 150% the memory that is currently using. The allocator is normally not able to release memory after a peak, so you can expect to see a big fragmentation ratio, however this is actually harmless and is only due to the memory peak, and if the Redis instance Resident Set Size (RSS) is currently bigger than expected, the memory will be used as soon as you fill the Redis instance with more data. If the memory peak was only occasional and you want to try to reclaim memory, please try the MEMORY PURGE command, otherwise the only other option is to shutdown and restart the instance.\n\n".into());
        }
        if mh.total_frag > 1.4 && mh.total_frag_bytes > MB10 {
            issues.push(" * High total RSS: This instance has a memory fragmentation and RSS overhead greater than 1.4 (this means that the Resident Set Size of the Redis process is much larger than the sum of the logical allocations Redis performed). This problem is usually due either to a large peak memory (check if there is a peak memory entry above in the report) or may result from a workload that causes the allocator to fragment memory a lot. If the problem is a large peak memory, then there is no issue. Otherwise, make sure you are using the Jemalloc allocator and not the default libc malloc. Note: The currently used allocator is \"libc\".\n\n".into());
        }
        if mh.allocator_frag > 1.1 && mh.allocator_frag_bytes > MB10 {
            issues.push(" * High allocator fragmentation: This instance has an allocator external fragmentation greater than 1.1. This problem is usually due either to a large peak memory (check if there is a peak memory entry above in the report) or may result from a workload that causes the allocator to fragment memory a lot. You can try enabling 'activedefrag' config option.\n\n".into());
        }
        if mh.allocator_rss > 1.1 && mh.allocator_rss_bytes > MB10 {
            issues.push(" * High allocator RSS overhead: This instance has an RSS memory overhead is greater than 1.1 (this means that the Resident Set Size of the allocator is much larger than the sum what the allocator actually holds). This problem is usually due to a large peak memory (check if there is a peak memory entry above in the report), you can try the MEMORY PURGE command to reclaim it.\n\n".into());
        }
        if mh.rss_extra > 1.1 && mh.rss_extra_bytes > MB10 {
            issues.push(" * High process RSS overhead: This instance has non-allocator RSS memory overhead is greater than 1.1 (this means that the Resident Set Size of the Redis process is much larger than the RSS the allocator holds). This problem may be due to Lua scripts or Modules.\n\n".into());
        }
        if replicas > 0 && mh.clients_slaves / replicas > 10 * 1024 * 1024 {
            issues.push(" * Big replica buffers: The replica output buffers in this instance are greater than 10MB for each replica (on average). This likely means that there is some replica instance that is struggling receiving data, either because it is too slow or because of networking issues. As a result, data piles on the master output buffers. Please try to identify what replica is not receiving data correctly and why. You can use the INFO output in order to check the replicas delays and the CLIENT LIST command to check the output buffers of each replica.\n\n".into());
        }
        if mh.clients_normal / normal > 200 * 1024 {
            issues.push(" * Big client buffers: The clients output buffers in this instance are greater than 200K per client (on average). This may result from different causes, like Pub/Sub clients subscribed to channels bot not receiving data fast enough, so that data piles on the Redis instance output buffer, or clients sending commands with large replies or very large sequences of commands in the same pipeline. Please use the CLIENT LIST command in order to investigate the issue if it causes problems in your instance, or to understand better why certain clients are using a big amount of memory.\n\n".into());
        }
        if issues.is_empty() {
            return "Hi Sam, I can't find any memory issue in your instance. I can only account for what occurs on this base.\n".into();
        }
        let mut s = String::from(
            "Sam, I detected a few issues in this Redis instance memory implants:\n\n",
        );
        for i in issues {
            s.push_str(&i);
        }
        s.push_str("I'm here to keep you safe, Sam. I want to help you.\n");
        s
    }
}

/// MEMORY STATS: Redis 7.0's fields, in its order.
fn reply_stats(o: &mut crate::resp::Out<'_>, mh: &MemOverhead) {
    let int = |o: &mut crate::resp::Out<'_>, k: &str, v: i64| {
        o.bulk(k.as_bytes());
        o.int(v);
    };
    let dbl = |o: &mut crate::resp::Out<'_>, k: &str, v: f32| {
        o.bulk(k.as_bytes());
        o.double(f64::from(v));
    };
    o.map(27 + mh.dbs.len());
    int(o, "peak.allocated", mh.peak_allocated as i64);
    int(o, "total.allocated", mh.total_allocated as i64);
    int(o, "startup.allocated", mh.startup_allocated as i64);
    int(o, "replication.backlog", mh.repl_backlog as i64);
    int(o, "clients.slaves", mh.clients_slaves as i64);
    int(o, "clients.normal", mh.clients_normal as i64);
    int(o, "cluster.links", 0);
    int(o, "aof.buffer", mh.aof_buffer as i64);
    int(o, "lua.caches", 0);
    int(o, "functions.caches", 0);
    for &(db, main, expires) in &mh.dbs {
        o.bulk(format!("db.{db}").as_bytes());
        o.map(3);
        int(o, "overhead.hashtable.main", main as i64);
        int(o, "overhead.hashtable.expires", expires as i64);
        int(o, "overhead.hashtable.slot-to-keys", 0);
    }
    int(o, "overhead.total", mh.overhead_total as i64);
    int(o, "keys.count", mh.total_keys as i64);
    int(o, "keys.bytes-per-key", mh.bytes_per_key as i64);
    int(o, "dataset.bytes", mh.dataset as i64);
    dbl(o, "dataset.percentage", mh.dataset_perc);
    dbl(o, "peak.percentage", mh.peak_perc);
    int(o, "allocator.allocated", mh.allocator_allocated as i64);
    int(o, "allocator.active", mh.allocator_active as i64);
    int(o, "allocator.resident", mh.allocator_resident as i64);
    dbl(o, "allocator-fragmentation.ratio", mh.allocator_frag);
    int(o, "allocator-fragmentation.bytes", mh.allocator_frag_bytes);
    dbl(o, "allocator-rss.ratio", mh.allocator_rss);
    int(o, "allocator-rss.bytes", mh.allocator_rss_bytes);
    dbl(o, "rss-overhead.ratio", mh.rss_extra);
    int(o, "rss-overhead.bytes", mh.rss_extra_bytes);
    dbl(o, "fragmentation", mh.total_frag);
    int(o, "fragmentation.bytes", mh.total_frag_bytes);
}
