//! oom-score-adj: the process's /proc/self/oom_score_adj follows its role
//! (master, replica, background child) as Redis's setOOMScoreAdj does:
//! `relative` (or `yes`) adds the configured value to the score the process
//! started with, `absolute` writes it as is, `no` restores the original.

use super::Server;
use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};

pub use crate::persist::fork::OOM_PROC_FILE as PROC_FILE;

/// Process classes, the indexes of oom-score-adj-values.
pub const OOM_MASTER: usize = 0;
pub const OOM_REPLICA: usize = 1;
pub const OOM_BGCHILD: usize = 2;

/// Whether the score was changed by us, and the one we found then.
static ADJUSTED: AtomicBool = AtomicBool::new(false);
static BASE: AtomicI32 = AtomicI32::new(0);

/// The mode and the three values of the configuration.
fn settings(s: &Server) -> (String, [i32; 3]) {
    let mode = s.cfg.extra_value("oom-score-adj").to_string();
    let mut vals = [0, 200, 800];
    for (i, v) in s
        .cfg
        .extra_value("oom-score-adj-values")
        .split_whitespace()
        .take(3)
        .enumerate()
    {
        vals[i] = v.parse().unwrap_or(vals[i]);
    }
    (mode, vals)
}

fn read_score() -> std::io::Result<i32> {
    let text = std::fs::read_to_string(PROC_FILE)?;
    Ok(text.trim().parse().unwrap_or(0))
}

fn write_score(v: i32) -> std::io::Result<()> {
    std::fs::write(PROC_FILE, format!("{v}\n"))
}

impl Server {
    /// Applies oom-score-adj for the server's current role (startup,
    /// REPLICAOF, CONFIG SET). Err when /proc refused.
    pub fn set_oom_score_adj(&mut self) -> Result<(), String> {
        let class = if self.repl.is_replica() {
            OOM_REPLICA
        } else {
            OOM_MASTER
        };
        let (mode, vals) = settings(self);
        let value = |class: usize| {
            let mut v = vals[class];
            if mode != "absolute" {
                v += BASE.load(Ordering::Relaxed);
            }
            v.clamp(-1000, 1000)
        };
        let target = if mode != "no" {
            if !ADJUSTED.load(Ordering::Relaxed) {
                let base = read_score().map_err(|e| {
                    log::warn!("Unable to read oom_score_adj: {e}");
                    e.to_string()
                })?;
                BASE.store(base, Ordering::Relaxed);
                ADJUSTED.store(true, Ordering::Relaxed);
            }
            crate::persist::fork::set_child_oom_score(Some(value(OOM_BGCHILD)));
            value(class)
        } else if ADJUSTED.load(Ordering::Relaxed) {
            ADJUSTED.store(false, Ordering::Relaxed);
            crate::persist::fork::set_child_oom_score(None);
            BASE.load(Ordering::Relaxed)
        } else {
            return Ok(());
        };
        write_score(target).map_err(|e| {
            log::warn!("Unable to write oom_score_adj: {e}");
            e.to_string()
        })
    }
}
