//! The texts of the latency monitor: LATENCY DOCTOR's report (Redis's
//! createLatencyReport, with its advices, word for word) and LATENCY
//! GRAPH's ASCII chart (Redis's sparkline.c, 80 columns, 4 rows, filled).

use super::latency::Series;
use super::Server;

/// analyzeLatencyForEvent: (samples, avg, mean absolute deviation, period).
fn analyze(s: &Series, now: i64) -> (u64, u64, u64, i64) {
    let n = s.samples.len() as u64;
    if n == 0 {
        return (0, 0, 0, 0);
    }
    let avg = s.samples.iter().map(|x| x.1).sum::<u64>() / n;
    let oldest = s.samples.iter().map(|x| x.0).min().unwrap_or(now);
    let period = match now - oldest {
        0 => 1,
        p => p,
    };
    let mad = s.samples.iter().map(|x| x.1.abs_diff(avg)).sum::<u64>() / n;
    (n, avg, mad, period)
}

/// Bytes of anonymous huge pages the process uses (/proc/self/smaps).
fn anon_huge_pages() -> u64 {
    std::fs::read_to_string("/proc/self/smaps").map_or(0, |t| {
        t.lines()
            .filter_map(|l| l.strip_prefix("AnonHugePages:"))
            .filter_map(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            .sum::<u64>()
            * 1024
    })
}

/// The advices, in Redis's order (a flag per advice).
#[derive(Default)]
struct Advice {
    better_vm: bool,
    slowlog_enabled: bool,
    slowlog_tuning: bool,
    slowlog_inspect: bool,
    disk_contention: bool,
    scheduler: bool,
    data_writeback: bool,
    no_appendfsync: bool,
    local_disk: bool,
    ssd: bool,
    write_load_info: bool,
    hz: bool,
    large_objects: bool,
    mass_eviction: bool,
    relax_fsync_policy: bool,
    disable_thp: bool,
}

impl Server {
    /// LATENCY DOCTOR.
    pub fn latency_doctor(&self) -> String {
        if self.latency.events.is_empty() && self.cfg.latency_monitor_threshold == 0 {
            return "I'm sorry, Dave, I can't do that. Latency monitoring is disabled in this Redis instance. You may use \"CONFIG SET latency-monitor-threshold <milliseconds>.\" in order to enable it. If we weren't in a deep space mission I'd suggest to take a look at https://redis.io/topics/latency-monitor.\n".into();
        }
        let now = crate::util::mstime() / 1000;
        let mut report = String::new();
        let mut a = Advice::default();
        let mut advices = 0;
        let mut eventnum = 0;
        for (event, s) in &self.latency.events {
            eventnum += 1;
            if eventnum == 1 {
                report.push_str("Dave, I have observed latency spikes in this Redis instance. You don't mind talking about it, do you Dave?\n\n");
            }
            let (n, avg, mad, period) = analyze(s, now);
            report.push_str(&format!(
                "{eventnum}. {event}: {n} latency spikes (average {avg}ms, mean deviation {mad}ms, period {:.2} sec). Worst all time event {}ms.",
                period as f64 / n.max(1) as f64,
                s.max
            ));
            match *event {
                "fork" => {
                    let rate = self.fork_rate_gb_per_sec();
                    let quality = if rate < 10.0 {
                        "terrible"
                    } else if rate < 25.0 {
                        "poor"
                    } else if rate < 100.0 {
                        "good"
                    } else {
                        "excellent"
                    };
                    if rate < 25.0 {
                        a.better_vm = true;
                        advices += 1;
                    }
                    report.push_str(&format!(" Fork rate is {rate:.2} GB/sec ({quality})."));
                }
                "command" => {
                    let slower = self.cfg.slowlog_log_slower_than;
                    if slower < 0 {
                        a.slowlog_enabled = true;
                        advices += 1;
                    } else if (slower / 1000) as u64 > self.cfg.latency_monitor_threshold {
                        a.slowlog_tuning = true;
                        advices += 1;
                    }
                    a.slowlog_inspect = true;
                    a.large_objects = true;
                    advices += 2;
                }
                "fast-command" => {
                    a.scheduler = true;
                    advices += 1;
                }
                "aof-write-pending-fsync" => {
                    (a.local_disk, a.disk_contention, a.ssd, a.data_writeback) =
                        (true, true, true, true);
                    advices += 4;
                }
                "aof-write-active-child" => {
                    (a.no_appendfsync, a.data_writeback, a.ssd) = (true, true, true);
                    advices += 3;
                }
                "aof-write-alone" => {
                    (a.local_disk, a.data_writeback, a.ssd) = (true, true, true);
                    advices += 3;
                }
                "aof-fsync-always" => {
                    a.relax_fsync_policy = true;
                    advices += 1;
                }
                "aof-fstat" | "rdb-unlink-temp-file" => {
                    (a.disk_contention, a.local_disk) = (true, true);
                    advices += 2;
                }
                "aof-rewrite-diff-write" | "aof-rename" => {
                    (a.write_load_info, a.data_writeback, a.ssd, a.local_disk) =
                        (true, true, true, true);
                    advices += 4;
                }
                "expire-cycle" => {
                    (a.hz, a.large_objects) = (true, true);
                    advices += 2;
                }
                "eviction-del" => {
                    a.large_objects = true;
                    advices += 1;
                }
                "eviction-cycle" => {
                    a.mass_eviction = true;
                    advices += 1;
                }
                _ => {}
            }
            report.push('\n');
        }
        if anon_huge_pages() > 0 {
            a.disable_thp = true;
            advices += 1;
        }
        if eventnum == 0 && advices == 0 {
            report.push_str("Dave, no latency spike was observed during the lifetime of this Redis instance, not in the slightest bit. I honestly think you ought to sit down calmly, take a stress pill, and think things over.\n");
        } else if eventnum > 0 && advices == 0 {
            report.push_str("\nWhile there are latency events logged, I'm not able to suggest any easy fix. Please use the Redis community to get some help, providing this report in your help request.\n");
        } else {
            self.push_advices(&mut report, &a);
        }
        report
    }

    fn push_advices(&self, r: &mut String, a: &Advice) {
        let threshold_us = self.cfg.latency_monitor_threshold * 1000;
        r.push_str("\nI have a few advices for you:\n\n");
        if a.better_vm {
            r.push_str("- If you are using a virtual machine, consider upgrading it with a faster one using a hypervisior that provides less latency during fork() calls. Xen is known to have poor fork() performance. Even in the context of the same VM provider, certain kinds of instances can execute fork faster than others.\n");
        }
        if a.slowlog_enabled {
            r.push_str(&format!("- There are latency issues with potentially slow commands you are using. Try to enable the Slow Log Redis feature using the command 'CONFIG SET slowlog-log-slower-than {threshold_us}'. If the Slow log is disabled Redis is not able to log slow commands execution for you.\n"));
        }
        if a.slowlog_tuning {
            r.push_str(&format!("- Your current Slow Log configuration only logs events that are slower than your configured latency monitor threshold. Please use 'CONFIG SET slowlog-log-slower-than {threshold_us}'.\n"));
        }
        if a.slowlog_inspect {
            r.push_str("- Check your Slow Log to understand what are the commands you are running which are too slow to execute. Please check https://redis.io/commands/slowlog for more information.\n");
        }
        if a.scheduler {
            r.push_str("- The system is slow to execute Redis code paths not containing system calls. This usually means the system does not provide Redis CPU time to run for long periods. You should try to:\n  1) Lower the system load.\n  2) Use a computer / VM just for Redis if you are running other software in the same system.\n  3) Check if you have a \"noisy neighbour\" problem.\n  4) Check with 'redis-cli --intrinsic-latency 100' what is the intrinsic latency in your system.\n  5) Check if the problem is allocator-related by recompiling Redis with MALLOC=libc, if you are using Jemalloc. However this may create fragmentation problems.\n");
        }
        if a.local_disk {
            r.push_str("- It is strongly advised to use local disks for persistence, especially if you are using AOF. Remote disks provided by platform-as-a-service providers are known to be slow.\n");
        }
        if a.ssd {
            r.push_str("- SSD disks are able to reduce fsync latency, and total time needed for snapshotting and AOF log rewriting (resulting in smaller memory usage). With extremely high write load SSD disks can be a good option. However Redis should perform reasonably with high load using normal disks. Use this advice as a last resort.\n");
        }
        if a.data_writeback {
            r.push_str("- Mounting ext3/4 filesystems with data=writeback can provide a performance boost compared to data=ordered, however this mode of operation provides less guarantees, and sometimes it can happen that after a hard crash the AOF file will have a half-written command at the end and will require to be repaired before Redis restarts.\n");
        }
        if a.disk_contention {
            r.push_str("- Try to lower the disk contention. This is often caused by other disk intensive processes running in the same computer (including other Redis instances).\n");
        }
        if a.no_appendfsync {
            r.push_str("- Assuming from the point of view of data safety this is viable in your environment, you could try to enable the 'no-appendfsync-on-rewrite' option, so that fsync will not be performed while there is a child rewriting the AOF file or producing an RDB file (the moment where there is high disk contention).\n");
        }
        if a.relax_fsync_policy && self.cfg.appendfsync == crate::config::AppendFsync::Always {
            r.push_str("- Your fsync policy is set to 'always'. It is very hard to get good performances with such a setup, if possible try to relax the fsync policy to 'onesec'.\n");
        }
        if a.write_load_info {
            r.push_str("- Latency during the AOF atomic rename operation or when the final difference is flushed to the AOF file at the end of the rewrite, sometimes is caused by very high write load, causing the AOF buffer to get very large. If possible try to send less commands to accomplish the same work, or use Lua scripts to group multiple operations into a single EVALSHA call.\n");
        }
        if a.hz && self.cfg.hz < 100 {
            r.push_str("- In order to make the Redis keys expiring process more incremental, try to set the 'hz' configuration parameter to 100 using 'CONFIG SET hz 100'.\n");
        }
        if a.large_objects {
            r.push_str("- Deleting, expiring or evicting (because of maxmemory policy) large objects is a blocking operation. If you have very large objects that are often deleted, expired, or evicted, try to fragment those objects into multiple smaller objects.\n");
        }
        if a.mass_eviction {
            r.push_str("- Sudden changes to the 'maxmemory' setting via 'CONFIG SET', or allocation of large objects via sets or sorted sets intersections, STORE option of SORT, Redis Cluster large keys migrations (RESTORE command), may create sudden memory pressure forcing the server to block trying to evict keys. \n");
        }
        if a.disable_thp {
            r.push_str("- I detected a non zero amount of anonymous huge pages used by your process. This creates very serious latency events in different conditions, especially when Redis is persisting on disk. To disable THP support use the command 'echo never > /sys/kernel/mm/transparent_hugepage/enabled', make sure to also add it into /etc/rc.local so that the command will be executed again after a reboot. Note that even if you have already disabled THP, you still need to restart the Redis process to get rid of the huge pages already created.\n");
        }
    }

    /// GB copied per second by the last fork (Redis's stat_fork_rate, here
    /// from the memory in use now).
    fn fork_rate_gb_per_sec(&self) -> f64 {
        let usec = self.stats.latest_fork_usec.max(1) as f64;
        super::info::used_memory() as f64 * 1_000_000.0 / usec / (1024.0 * 1024.0 * 1024.0)
    }

    /// LATENCY GRAPH: the header, a rule, and the sparkline of the samples
    /// labelled with how long ago each happened. None without samples.
    pub fn latency_graph(&self, event: &str) -> Option<String> {
        let s = self
            .latency
            .events
            .get(event)
            .filter(|s| !s.samples.is_empty())?;
        let now = crate::util::mstime() / 1000;
        let mut seq = Sequence::default();
        for &(t, v) in &s.samples {
            let elapsed = now - t;
            let label = if elapsed < 60 {
                format!("{elapsed}s")
            } else if elapsed < 3600 {
                format!("{}m", elapsed / 60)
            } else if elapsed < 3600 * 24 {
                format!("{}h", elapsed / 3600)
            } else {
                format!("{}d", elapsed / (3600 * 24))
            };
            seq.add(v as f64, label);
        }
        let (lo, hi) = (seq.min as u64, seq.max as u64);
        let mut g = format!(
            "{event} - high {hi} ms, low {lo} ms (all time high {} ms)\n",
            s.max
        );
        g.push_str(&"-".repeat(GRAPH_COLS));
        g.push('\n');
        seq.render(&mut g, GRAPH_COLS, 4);
        Some(g)
    }
}

const GRAPH_COLS: usize = 80;
/// SPARKLINE_FILL's characters: low, middle, high; '|' below the top.
const CHARSET_FILL: &[u8] = b"_o#";
const LABEL_MARGIN_TOP: usize = 1;

/// sparkline.c's sequence of labelled samples.
#[derive(Default)]
struct Sequence {
    samples: Vec<(f64, String)>,
    min: f64,
    max: f64,
    labels: usize,
}

impl Sequence {
    fn add(&mut self, value: f64, label: String) {
        if self.samples.is_empty() {
            (self.min, self.max) = (value, value);
        } else if value < self.min {
            self.min = value;
        } else if value > self.max {
            self.max = value;
        }
        if !label.is_empty() {
            self.labels += 1;
        }
        self.samples.push((value, label));
    }

    /// sparklineRender: chunks of `columns` samples.
    fn render(&self, out: &mut String, columns: usize, rows: usize) {
        let mut j = 0;
        while j < self.samples.len() {
            let len = (self.samples.len() - j).min(columns);
            if j != 0 {
                out.push('\n');
            }
            self.render_range(out, rows, j, len);
            j += columns;
        }
    }

    /// sparklineRenderRange with SPARKLINE_FILL: the bars, a blank line,
    /// then the labels written vertically.
    fn render_range(&self, out: &mut String, rows: usize, offset: usize, len: usize) {
        let relmax = if self.max - self.min == 0.0 {
            1.0
        } else {
            self.max - self.min
        };
        let steps = (CHARSET_FILL.len() * rows) as i64;
        let mut row = 0;
        loop {
            let mut more = false;
            let mut chars = vec![b' '; len];
            for (j, c) in chars.iter_mut().enumerate() {
                let (value, label) = &self.samples[j + offset];
                let relval = value - self.min;
                // C: (int)(relval*steps) / relmax, truncated again.
                let step =
                    ((((relval * steps as f64) as i64) as f64 / relmax) as i64).clamp(0, steps - 1);
                if row < rows {
                    let charidx = step - ((rows - row - 1) * CHARSET_FILL.len()) as i64;
                    more = true;
                    if (0..CHARSET_FILL.len() as i64).contains(&charidx) {
                        *c = CHARSET_FILL[charidx as usize];
                    } else if charidx >= CHARSET_FILL.len() as i64 {
                        *c = b'|';
                    }
                } else {
                    if self.labels > 0 && row - rows < LABEL_MARGIN_TOP {
                        more = true;
                        break;
                    }
                    let label_char = row - rows - LABEL_MARGIN_TOP;
                    if let Some(&ch) = label.as_bytes().get(label_char) {
                        more = true;
                        *c = ch;
                    }
                }
            }
            if !more {
                break;
            }
            row += 1;
            out.push_str(&String::from_utf8_lossy(&chars));
            out.push('\n');
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sparkline_as_redis_draws_it() {
        // LATENCY GRAPH command of Redis 7.0.15 after spikes of 20, 43
        // and 64 ms, 3, 2 and 1 seconds ago.
        let mut seq = Sequence::default();
        for (v, l) in [(20.0, "3s"), (43.0, "2s"), (64.0, "1s")] {
            seq.add(v, l.to_string());
        }
        let mut out = String::new();
        seq.render(&mut out, GRAPH_COLS, 4);
        assert_eq!(out, "  #\n _|\n ||\n_||\n   \n321\nsss\n");
        // One sample: the lowest bar, its label.
        let mut seq = Sequence::default();
        seq.add(7.0, "12s".into());
        let mut out = String::new();
        seq.render(&mut out, GRAPH_COLS, 4);
        assert_eq!(out, " \n \n \n_\n \n1\n2\ns\n");
    }
}
