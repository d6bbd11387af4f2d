//! Introspection: INFO (Redis 7.0's sections and field names), COMMAND,
//! DEBUG, and memory estimates.

use super::Server;
use crate::cmd::eq_ic;
use crate::db::Value;
use crate::error::{self, CmdError};
use crate::net::{flags, Kind};
use bytes::Bytes;
use std::fmt::Write;

/// Resident set size from /proc (bytes).
pub fn rss_bytes() -> u64 {
    std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| {
            s.split_whitespace()
                .nth(1)
                .and_then(|p| p.parse::<u64>().ok())
        })
        .map_or(0, |pages| pages * 4096)
}

/// Bytes allocated by the process (heap in use), from mallinfo2.
/// Bytes held by the process's allocations: the running total of the
/// counting allocator (O(1)), or mallinfo2 when it is not installed.
pub fn used_memory() -> u64 {
    if let Some(n) = crate::alloc::used() {
        return n;
    }
    // SAFETY: mallinfo2 only reads allocator statistics.
    let mi = unsafe { libc::mallinfo2() };
    (mi.uordblks + mi.hblkhd) as u64
}

pub fn human_bytes(n: u64) -> String {
    let d = n as f64;
    if n < 1024 {
        format!("{n}B")
    } else if n < 1024 * 1024 {
        format!("{:.2}K", d / 1024.0)
    } else if n < 1024 * 1024 * 1024 {
        format!("{:.2}M", d / (1024.0 * 1024.0))
    } else {
        format!("{:.2}G", d / (1024.0 * 1024.0 * 1024.0))
    }
}

const DEFAULT_SECTIONS: &[&str] = &[
    "server",
    "clients",
    "memory",
    "persistence",
    "stats",
    "replication",
    "cpu",
    "modules",
    "errorstats",
    "cluster",
    "keyspace",
];
const ALL_SECTIONS: &[&str] = &[
    "server",
    "clients",
    "memory",
    "persistence",
    "stats",
    "replication",
    "cpu",
    "modules",
    "commandstats",
    "errorstats",
    "cluster",
    "keyspace",
    "latencystats",
];

impl Server {
    pub fn cmd_info(&mut self, key: usize, argv: &[Bytes]) -> Result<(), CmdError> {
        let mut wanted: Vec<String> = Vec::new();
        for a in &argv[1..] {
            let s = String::from_utf8_lossy(a).to_ascii_lowercase();
            match s.as_str() {
                "all" | "everything" => wanted.extend(ALL_SECTIONS.iter().map(|s| s.to_string())),
                "default" => wanted.extend(DEFAULT_SECTIONS.iter().map(|s| s.to_string())),
                _ => wanted.push(s),
            }
        }
        if argv.len() == 1 {
            wanted = DEFAULT_SECTIONS.iter().map(|s| s.to_string()).collect();
        }
        let text = self.info_text(&wanted);
        self.reply(key, |o| o.verbatim(text.as_bytes()));
        Ok(())
    }

    /// The INFO text for the given (lowercase) section names.
    pub fn info_text(&mut self, wanted: &[String]) -> String {
        let mut out = String::new();
        for sec in ALL_SECTIONS {
            if !wanted.iter().any(|w| w == sec) {
                continue;
            }
            if !out.is_empty() {
                out.push_str("\r\n");
            }
            match *sec {
                "server" => self.info_server(&mut out),
                "clients" => self.info_clients(&mut out),
                "memory" => self.info_memory(&mut out),
                "persistence" => self.info_persistence(&mut out),
                "stats" => self.info_stats(&mut out),
                "replication" => self.info_replication(&mut out),
                "cpu" => info_cpu(&mut out),
                "modules" => out.push_str("# Modules\r\n"),
                "commandstats" => self.info_commandstats(&mut out),
                "errorstats" => self.info_errorstats(&mut out),
                "cluster" => self.info_cluster(&mut out),
                "keyspace" => self.info_keyspace(&mut out),
                "latencystats" => self.info_latencystats(&mut out),
                _ => {}
            }
        }
        out
    }

    fn info_server(&self, o: &mut String) {
        let uptime = (self.ks.now_ms - self.start_ms) / 1000;
        let os = os_name();
        let port = self.cfg.port;
        let _ = write!(
            o,
            "# Server\r\nredis_version:{}\r\nferrodis_version:{}\r\nredis_git_sha1:00000000\r\nredis_git_dirty:0\r\nredis_build_id:0\r\nredis_mode:{}\r\nos:{}\r\narch_bits:64\r\nmonotonic_clock:POSIX clock_gettime\r\nmultiplexing_api:epoll\r\natomicvar_api:c11-builtin\r\ngcc_version:0.0.0\r\nprocess_id:{}\r\nprocess_supervised:no\r\nrun_id:{}\r\ntcp_port:{}\r\nserver_time_usec:{}\r\nuptime_in_seconds:{}\r\nuptime_in_days:{}\r\nhz:{}\r\nconfigured_hz:{}\r\nlru_clock:{}\r\nexecutable:{}\r\nconfig_file:{}\r\nio_threads_active:0\r\n",
            crate::REDIS_VERSION,
            env!("CARGO_PKG_VERSION"),
            if self.sentinel.is_some() {
                "sentinel"
            } else if self.cluster.is_some() {
                "cluster"
            } else {
                "standalone"
            },
            os,
            std::process::id(),
            self.run_id,
            port,
            crate::util::ustime(),
            uptime,
            uptime / 86400,
            // A Sentinel varies its frequency at every tick.
            self.sentinel.as_ref().map_or(self.cfg.hz, |s| s.hz),
            self.cfg.hz,
            self.ks.lru_clock,
            self.executable,
            self.cfg.config_file.as_deref().unwrap_or(""),
        );
        if let Some(p) = &self.pending_shutdown {
            let left = (p.deadline_ms - self.ks.now_ms).max(0);
            let _ = write!(o, "shutdown_in_milliseconds:{left}\r\n");
        }
    }

    fn info_clients(&self, o: &mut String) {
        let connected = self
            .clients
            .iter()
            .filter(|(_, c)| c.kind != Kind::Replica)
            .count();
        let pubsub = self
            .clients
            .iter()
            .filter(|(_, c)| c.has(flags::PUBSUB))
            .count();
        let max_in = self
            .clients
            .iter()
            .map(|(_, c)| c.query_alloc)
            .max()
            .unwrap_or(0);
        let max_out = self
            .clients
            .iter()
            .map(|(_, c)| c.reply.len())
            .max()
            .unwrap_or(0);
        let _ = write!(
            o,
            "# Clients\r\nconnected_clients:{}\r\ncluster_connections:0\r\nmaxclients:{}\r\nclient_recent_max_input_buffer:{}\r\nclient_recent_max_output_buffer:{}\r\nblocked_clients:{}\r\ntracking_clients:{}\r\nclients_in_timeout_table:{}\r\n",
            connected,
            self.cfg.maxclients,
            max_in,
            max_out,
            // Blocked on keys, in WAIT, in SHUTDOWN (Redis counts every type).
            // Held by CLIENT PAUSE too (Redis's BLOCKED_POSTPONE).
            self.clients.blocked_count()
                + self.repl.waiters.len()
                + self.pending_shutdown.as_ref().map_or(0, |p| p.waiters.len())
                + self.clients.paused_count(),
            self.clients.tracking.clients,
            self.clients.blocked_count(),
        );
        let _ = pubsub;
    }

    fn info_memory(&self, o: &mut String) {
        let mh = self.memory_overhead();
        let used = mh.total_allocated;
        let rss = crate::alloc::allocator_stats().3;
        let _ = write!(
            o,
            "# Memory\r\nused_memory:{used}\r\nused_memory_human:{}\r\nused_memory_rss:{rss}\r\nused_memory_rss_human:{}\r\nused_memory_peak:{}\r\nused_memory_peak_human:{}\r\nused_memory_peak_perc:{:.2}%\r\nused_memory_overhead:{}\r\nused_memory_startup:{}\r\nused_memory_dataset:{}\r\nused_memory_dataset_perc:{:.2}%\r\nallocator_allocated:{}\r\nallocator_active:{}\r\nallocator_resident:{}\r\ntotal_system_memory:{}\r\ntotal_system_memory_human:{}\r\n{}maxmemory:{}\r\nmaxmemory_human:{}\r\nmaxmemory_policy:{}\r\nallocator_frag_ratio:{:.2}\r\nallocator_frag_bytes:{}\r\nallocator_rss_ratio:{:.2}\r\nallocator_rss_bytes:{}\r\nrss_overhead_ratio:{:.2}\r\nrss_overhead_bytes:{}\r\nmem_fragmentation_ratio:{:.2}\r\nmem_fragmentation_bytes:{}\r\nmem_not_counted_for_evict:{}\r\nmem_replication_backlog:{}\r\nmem_total_replication_buffers:{}\r\nmem_clients_slaves:{}\r\nmem_clients_normal:{}\r\nmem_cluster_links:{}\r\nmem_aof_buffer:{}\r\nmem_allocator:{}\r\nactive_defrag_running:0\r\nlazyfree_pending_objects:{}\r\nlazyfreed_objects:{}\r\n",
            human_bytes(used),
            human_bytes(rss),
            mh.peak_allocated,
            human_bytes(mh.peak_allocated),
            mh.peak_perc,
            mh.overhead_total,
            mh.startup_allocated,
            mh.dataset,
            mh.dataset_perc,
            mh.allocator_allocated,
            mh.allocator_active,
            mh.allocator_resident,
            total_system_memory(),
            human_bytes(total_system_memory()),
            self.info_scripting_memory(),
            self.cfg.maxmemory,
            human_bytes(self.cfg.maxmemory),
            self.cfg.get(&[b"maxmemory-policy"]).first().map_or("noeviction".to_string(), |p| p.1.clone()),
            mh.allocator_frag,
            mh.allocator_frag_bytes,
            mh.allocator_rss,
            mh.allocator_rss_bytes,
            mh.rss_extra,
            mh.rss_extra_bytes,
            mh.total_frag,
            mh.total_frag_bytes,
            self.memory_not_counted_for_evict(),
            mh.repl_backlog,
            self.repl.buffer_memory(),
            mh.clients_slaves,
            mh.clients_normal,
            self.cluster.as_deref().map_or(0, |c| c.links_memory),
            mh.aof_buffer,
            crate::alloc::allocator_name(),
            self.ks.lazy.pending(),
            self.ks.lazy.freed,
        );
    }

    /// The scripting lines of INFO memory (Lua VMs, caches, libraries).
    fn info_scripting_memory(&self) -> String {
        let sc = &self.scripts;
        let vm_eval = sc.eval.vm.memory() as u64;
        let vm_functions = sc.functions.vm.memory() as u64;
        let scripts_eval = sc.eval.cache_memory() as u64;
        let functions = sc.functions.memory_overhead() as u64;
        format!(
            "used_memory_lua:{vm_eval}\r\nused_memory_vm_eval:{vm_eval}\r\nused_memory_lua_human:{}\r\nused_memory_scripts_eval:{scripts_eval}\r\nnumber_of_cached_scripts:{}\r\nnumber_of_functions:{}\r\nnumber_of_libraries:{}\r\nused_memory_vm_functions:{vm_functions}\r\nused_memory_vm_total:{}\r\nused_memory_vm_total_human:{}\r\nused_memory_functions:{functions}\r\nused_memory_scripts:{}\r\nused_memory_scripts_human:{}\r\n",
            human_bytes(vm_eval),
            sc.eval.scripts.len(),
            sc.functions.function_count(),
            sc.functions.libraries.len(),
            vm_eval + vm_functions,
            human_bytes(vm_eval + vm_functions),
            scripts_eval + functions,
            human_bytes(scripts_eval + functions),
        )
    }

    fn info_stats(&self, o: &mut String) {
        let up = ((self.ks.now_ms - self.start_ms) / 1000).max(1) as u64;
        let s = &self.stats;
        let _ = write!(
            o,
            "# Stats\r\ntotal_connections_received:{}\r\ntotal_commands_processed:{}\r\ninstantaneous_ops_per_sec:{}\r\ntotal_net_input_bytes:{}\r\ntotal_net_output_bytes:{}\r\ntotal_net_repl_input_bytes:{}\r\ntotal_net_repl_output_bytes:{}\r\ninstantaneous_input_kbps:0.00\r\ninstantaneous_output_kbps:0.00\r\ninstantaneous_input_repl_kbps:0.00\r\ninstantaneous_output_repl_kbps:0.00\r\nrejected_connections:{}\r\nsync_full:{}\r\nsync_partial_ok:{}\r\nsync_partial_err:{}\r\nexpired_keys:{}\r\nexpired_stale_perc:0.00\r\nexpired_time_cap_reached_count:0\r\nexpire_cycle_cpu_milliseconds:0\r\nevicted_keys:{}\r\nevicted_clients:{}\r\ntotal_eviction_exceeded_time:0\r\ncurrent_eviction_exceeded_time:0\r\nkeyspace_hits:{}\r\nkeyspace_misses:{}\r\npubsub_channels:{}\r\npubsub_patterns:{}\r\npubsubshard_channels:{}\r\nlatest_fork_usec:{}\r\ntotal_forks:{}\r\nmigrate_cached_sockets:{}\r\nslave_expires_tracked_keys:{}\r\nactive_defrag_hits:0\r\nactive_defrag_misses:0\r\nactive_defrag_key_hits:0\r\nactive_defrag_key_misses:0\r\ntotal_active_defrag_time:0\r\ncurrent_active_defrag_time:0\r\ntracking_total_keys:{}\r\ntracking_total_items:{}\r\ntracking_total_prefixes:{}\r\nunexpected_error_replies:{}\r\ntotal_error_replies:{}\r\ndump_payload_sanitizations:0\r\ntotal_reads_processed:{}\r\ntotal_writes_processed:{}\r\nio_threaded_reads_processed:0\r\nio_threaded_writes_processed:0\r\nreply_buffer_shrinks:0\r\nreply_buffer_expands:0\r\n",
            s.numconnections,
            s.numcommands,
            s.numcommands / up,
            s.net_input_bytes,
            s.net_output_bytes,
            s.net_repl_input_bytes,
            s.net_repl_output_bytes,
            s.rejected_conn,
            s.sync_full,
            s.sync_partial_ok,
            s.sync_partial_err,
            self.ks.stat_expired_keys,
            s.evicted_keys,
            s.evicted_clients,
            self.ks.stat_keyspace_hits,
            self.ks.stat_keyspace_misses,
            self.clients.num_channels(),
            self.clients.num_patterns(),
            self.clients.num_shard_channels(),
            s.latest_fork_usec,
            s.total_forks,
            self.migrate_cache.map.len(),
            self.repl.replica_keys_with_expire.len(),
            self.clients.tracking.total_keys(),
            self.clients.tracking.total_items(),
            self.clients.tracking.total_prefixes(),
            s.unexpected_error_replies,
            s.total_error_replies,
            s.io_reads,
            s.io_writes,
        );
    }

    fn info_commandstats(&self, o: &mut String) {
        o.push_str("# Commandstats\r\n");
        let mut names: Vec<&&str> = self.cmdstats.keys().collect();
        names.sort();
        for n in names {
            let s = &self.cmdstats[*n];
            let per = if s.calls > 0 {
                s.usec as f64 / s.calls as f64
            } else {
                0.0
            };
            let _ = write!(o, "cmdstat_{}:calls={},usec={},usec_per_call={:.2},rejected_calls={},failed_calls={}\r\n", n, s.calls, s.usec, per, s.rejected, s.failed);
        }
    }

    fn info_errorstats(&self, o: &mut String) {
        o.push_str("# Errorstats\r\n");
        let mut names: Vec<&String> = self.errorstats.keys().collect();
        names.sort();
        for n in names {
            let _ = write!(o, "errorstat_{}:count={}\r\n", n, self.errorstats[n]);
        }
    }

    fn info_keyspace(&self, o: &mut String) {
        o.push_str("# Keyspace\r\n");
        for (i, d) in self.ks.dbs.iter().enumerate() {
            if !d.is_empty() {
                let _ = write!(
                    o,
                    "db{}:keys={},expires={},avg_ttl={}\r\n",
                    i,
                    d.len(),
                    d.expires.len(),
                    d.avg_ttl
                );
            }
        }
    }
}

/// "Linux 6.1.0 x86_64", from uname(2).
fn os_name() -> String {
    // SAFETY: uname fills the struct we own; the fields are NUL-terminated.
    unsafe {
        let mut u: libc::utsname = std::mem::zeroed();
        if libc::uname(&mut u) != 0 {
            return "Linux".into();
        }
        let f = |b: &[libc::c_char]| {
            std::ffi::CStr::from_ptr(b.as_ptr())
                .to_string_lossy()
                .into_owned()
        };
        format!("{} {} {}", f(&u.sysname), f(&u.release), f(&u.machine))
    }
}

fn total_system_memory() -> u64 {
    std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|s| {
            s.lines().next().and_then(|l| {
                l.split_whitespace()
                    .nth(1)
                    .and_then(|v| v.parse::<u64>().ok())
            })
        })
        .map_or(0, |kb| kb * 1024)
}

fn info_cpu(o: &mut String) {
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: getrusage fills the struct we own.
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut ru) };
    let t = |tv: libc::timeval| tv.tv_sec as f64 + tv.tv_usec as f64 / 1e6;
    let _ = write!(
        o,
        "# CPU\r\nused_cpu_sys:{:.6}\r\nused_cpu_user:{:.6}\r\nused_cpu_sys_children:0.000000\r\nused_cpu_user_children:0.000000\r\nused_cpu_sys_main_thread:{:.6}\r\nused_cpu_user_main_thread:{:.6}\r\n",
        t(ru.ru_stime),
        t(ru.ru_utime),
        t(ru.ru_stime),
        t(ru.ru_utime)
    );
}

/// DEBUG subcommands.
pub fn debug_command(s: &mut Server, key: usize, argv: &[Bytes]) -> Result<(), CmdError> {
    let sub = &argv[1][..];
    let db = s.clients.get(key).map_or(0, |c| c.db);
    if eq_ic(sub, "drop-cluster-packet-filter") && argv.len() == 3 {
        return s.cluster_debug_drop_filter(key, &argv[2]);
    }
    if eq_ic(sub, "clusterlink") && argv.len() == 5 && eq_ic(&argv[2], "kill") {
        return s.cluster_debug_kill_link(key, &argv[3], &argv[4]);
    }
    if eq_ic(sub, "sleep") && argv.len() == 3 {
        let secs =
            crate::encoding::numbers::string2d(&argv[2]).ok_or(CmdError::from(error::NOT_FLOAT))?;
        std::thread::sleep(std::time::Duration::from_secs_f64(secs.max(0.0)));
        s.reply_ok(key);
    } else if eq_ic(sub, "set-active-expire") && argv.len() == 3 {
        s.active_expire_enabled = crate::encoding::numbers::string2ll(&argv[2]).unwrap_or(1) != 0;
        s.reply_ok(key);
    } else if eq_ic(sub, "pause-cron") && argv.len() == 3 {
        s.cron_paused = crate::encoding::numbers::atoi(&argv[2]) != 0;
        s.reply_ok(key);
    } else if eq_ic(sub, "replybuffer") && argv.len() >= 3 {
        // DEBUG REPLYBUFFER PEAK-RESET-TIME <ms>|NEVER|RESET, RESIZING <0|1>.
        if eq_ic(&argv[2], "peak-reset-time") && argv.len() == 4 {
            s.reply_buffer_peak_reset_ms = if eq_ic(&argv[3], "never") {
                -1
            } else if eq_ic(&argv[3], "reset") {
                crate::net::REPLY_PEAK_RESET_MS
            } else {
                crate::encoding::numbers::string2ll(&argv[3])
                    .ok_or(CmdError::from(error::NOT_INT))?
            };
            s.reply_ok(key);
        } else if eq_ic(&argv[2], "resizing") && argv.len() == 4 {
            s.reply_buffer_resizing = crate::encoding::numbers::atoi(&argv[3]) != 0;
            s.reply_ok(key);
        } else {
            return Err(error::SYNTAX.into());
        }
    } else if eq_ic(sub, "log") && argv.len() == 3 {
        log::warn!("DEBUG LOG: {}", String::from_utf8_lossy(&argv[2]));
        s.reply_ok(key);
    } else if eq_ic(sub, "object") && argv.len() == 3 {
        let lru_clock = s.ks.lru_clock;
        let Some(node) = s.ks.db(db).dict.get_node(&argv[2]) else {
            return Err(error::NO_SUCH_KEY.into());
        };
        let (val, lru) = (node.val(), *node.meta());
        let idle = crate::cmd::keys::idle_seconds(lru_clock, lru);
        let ser =
            crate::persist::rdb::saved_len(val, s.cfg.rdbcompression, s.cfg.list_max_listpack_size);
        let text = format!(
            "Value at:0x0 refcount:1 encoding:{} serializedlength:{} lru:{} lru_seconds_idle:{}",
            val.encoding(),
            ser,
            lru,
            idle
        );
        s.reply(key, |o| o.simple(&text));
    } else if eq_ic(sub, "populate") && (3..=5).contains(&argv.len()) {
        let count = crate::encoding::numbers::string2ll(&argv[2])
            .filter(|&n| n >= 0)
            .ok_or(CmdError::from(error::MUST_POSITIVE))?;
        let prefix = argv.get(3).map_or(&b"key"[..], |p| &p[..]).to_vec();
        let size = match argv.get(4) {
            Some(a) => Some(
                crate::encoding::numbers::string2ll(a)
                    .filter(|&n| n >= 0)
                    .ok_or(CmdError::from(error::MUST_POSITIVE))? as usize,
            ),
            None => None,
        };
        for i in 0..count {
            let mut k = prefix.clone();
            k.push(b':');
            k.extend_from_slice(i.to_string().as_bytes());
            if s.ks.db(db).dict.contains_key(&k) {
                continue;
            }
            let mut v = format!("value:{i}").into_bytes();
            if let Some(sz) = size {
                v.resize(sz, 0);
            }
            s.ks.add(db, &k, Value::Str(crate::sds::Sds::from_vec(v)));
        }
        s.reply_ok(key);
    } else if eq_ic(sub, "set-disable-deny-scripts") && argv.len() == 3 {
        // Lets scripts run commands flagged noscript (tests only).
        s.scripts.disable_deny_script =
            crate::encoding::numbers::string2ll(&argv[2]).unwrap_or(0) != 0;
        s.reply_ok(key);
    } else if eq_ic(sub, "reload") {
        s.debug_reload(argv)?;
        s.reply_ok(key);
    } else if eq_ic(sub, "digest") && argv.len() == 2 {
        let d = s.debug_digest();
        s.reply(key, |o| o.simple(&d));
    } else if eq_ic(sub, "digest-value") {
        let ds: Vec<String> = argv[2..]
            .iter()
            .map(|k| s.debug_digest_value(db, k))
            .collect();
        s.reply(key, |o| {
            o.array(ds.len());
            for d in &ds {
                o.simple(d);
            }
        });
    } else if eq_ic(sub, "htstats") && argv.len() >= 3 {
        let id =
            crate::encoding::numbers::string2ll(&argv[2]).ok_or(CmdError::from(error::NOT_INT))?;
        if id < 0 || id as usize >= s.ks.dbs.len() {
            return Err("ERR Out of range database".into());
        }
        let d = s.ks.db(id as usize);
        let text = format!(
            "[Dictionary HT]\n{}[Expires HT]\n{}",
            d.dict.stats(),
            d.expires.stats()
        );
        s.reply(key, |o| o.verbatim(text.as_bytes()));
    } else if eq_ic(sub, "htstats-key") && argv.len() == 3 {
        let Some(e) = s.ks.db(db).dict.get(&argv[2]) else {
            return Err(error::NO_SUCH_KEY.into());
        };
        let text = match e {
            Value::Set(v) => v.as_table().map(|d| d.stats()),
            Value::Hash(v) => v.as_dict().map(|d| d.stats()),
            Value::ZSet(v) => v.dict_stats(),
            _ => None,
        }
        .ok_or(CmdError::from(
            "ERR The value stored at the specified key is not represented using an hash table",
        ))?;
        s.reply(key, |o| o.verbatim(text.as_bytes()));
    } else if eq_ic(sub, "set-skip-checksum-validation") && argv.len() == 3 {
        let on = crate::encoding::numbers::string2ll(&argv[2]).unwrap_or(0) != 0;
        crate::persist::rdb_load::SKIP_CHECKSUM.store(on, std::sync::atomic::Ordering::Relaxed);
        s.reply_ok(key);
    } else if eq_ic(sub, "panic") && argv.len() == 2 {
        // Redis ends the process here; ferrodis's command boundary catches
        // the panic (server/exec.rs): this is how tests exercise it.
        panic!("DEBUG PANIC");
    } else if eq_ic(sub, "change-repl-id") {
        s.repl.change_replid();
        s.reply_ok(key);
    } else if let Some(r) = s.debug_repl(key, argv) {
        r?;
    } else if eq_ic(sub, "help") {
        let mut lines = vec![
            "DEBUG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
            "SLEEP <seconds>",
            "SET-ACTIVE-EXPIRE <0|1>",
            "OBJECT <key>",
            "POPULATE <count> [<prefix>] [<size>]",
            "LOG <message>",
            "RELOAD",
            "DIGEST",
            "DIGEST-VALUE <key> [<key> ...]",
            "HTSTATS <dbid>",
            "HTSTATS-KEY <key>",
            "PAUSE-CRON <0|1>",
            "CONFIG-REWRITE-FORCE-ALL",
            "SET-SKIP-CHECKSUM-VALIDATION <0|1>",
            "CHANGE-REPL-ID",
            "PANIC",
            "    Panic inside the command (caught: the reply is an error, the server goes on).",
            "ASSERT",
            "    Crash by assertion failed.",
            "OOM",
            "    Crash the server simulating an out-of-memory error.",
            "SEGFAULT",
            "    Crash the server with sigsegv.",
            "ERROR <string>",
            "    Return a Redis protocol error with <string> as message. Useful for clients",
            "    unit tests to simulate Redis errors.",
            "LEAK <string>",
            "    Create a memory leak of the input string.",
            "STRINGMATCH-TEST",
            "    Run a fuzz tester against the stringmatchlen() function.",
        ];
        lines.extend_from_slice(super::repl_debug::HELP);
        lines.push("HELP");
        s.reply_help(key, &lines);
    } else {
        return super::debug::debug_more(s, key, argv);
    }
    Ok(())
}
