//! The latency monitor (LATENCY LATEST/HISTORY/RESET/DOCTOR/GRAPH): events
//! slower than `latency-monitor-threshold` ms are sampled once a second per
//! event, keeping the last 160 samples and the all-time maximum, as Redis's
//! latency.c does.

use super::Server;
use crate::cmd::eq_ic;
use crate::error::CmdError;
use bytes::Bytes;
use std::collections::{BTreeMap, VecDeque};

const HISTORY_LEN: usize = 160;

#[derive(Default)]
pub struct Series {
    /// (unix seconds, milliseconds), oldest first.
    samples: VecDeque<(i64, u64)>,
    max: u64,
}

#[derive(Default)]
pub struct Latency {
    events: BTreeMap<&'static str, Series>,
}

impl Server {
    /// Records `ms` for `event` when monitoring is on and it crosses the
    /// threshold (Redis's latencyAddSampleIfNeeded).
    pub fn latency_add(&mut self, event: &'static str, ms: u64) {
        let threshold = self.cfg.latency_monitor_threshold;
        if threshold == 0 || ms < threshold {
            return;
        }
        self.latency_record(event, ms);
    }

    /// Records a sample whatever latency-monitor-threshold says (events
    /// with a threshold of their own, like replica-lag).
    pub fn latency_record(&mut self, event: &'static str, ms: u64) {
        let now = self.ks.now_ms / 1000;
        let s = self.latency.events.entry(event).or_default();
        s.max = s.max.max(ms);
        match s.samples.back_mut() {
            // One sample per second: keep the worst.
            Some((t, v)) if *t == now => *v = (*v).max(ms),
            _ => {
                s.samples.push_back((now, ms));
                if s.samples.len() > HISTORY_LEN {
                    s.samples.pop_front();
                }
            }
        }
    }

    pub fn cmd_latency(&mut self, key: usize, argv: &[Bytes]) -> Result<(), CmdError> {
        let sub = &argv[1][..];
        let n = argv.len();
        if eq_ic(sub, "latest") && n == 2 {
            let rows: Vec<(&str, i64, u64, u64)> = self
                .latency
                .events
                .iter()
                .filter_map(|(e, s)| s.samples.back().map(|&(t, v)| (*e, t, v, s.max)))
                .collect();
            self.reply(key, |o| {
                o.array(rows.len());
                for (e, t, v, max) in &rows {
                    o.array(4);
                    o.bulk(e.as_bytes());
                    o.int(*t);
                    o.int(*v as i64);
                    o.int(*max as i64);
                }
            });
        } else if eq_ic(sub, "history") && n == 3 {
            let samples: Vec<(i64, u64)> = self
                .latency
                .events
                .iter()
                .find(|(e, _)| e.as_bytes() == &argv[2][..])
                .map(|(_, s)| s.samples.iter().copied().collect())
                .unwrap_or_default();
            self.reply(key, |o| {
                o.array(samples.len());
                for (t, v) in &samples {
                    o.array(2);
                    o.int(*t);
                    o.int(*v as i64);
                }
            });
        } else if eq_ic(sub, "reset") {
            let removed = if n == 2 {
                let c = self.latency.events.len();
                self.latency.events.clear();
                c
            } else {
                let before = self.latency.events.len();
                let names: Vec<&[u8]> = argv[2..].iter().map(|a| &a[..]).collect();
                self.latency
                    .events
                    .retain(|e, _| !names.contains(&e.as_bytes()));
                before - self.latency.events.len()
            };
            self.reply(key, |o| o.int(removed as i64));
        } else if eq_ic(sub, "doctor") && n == 2 {
            let text = self.latency_doctor();
            self.reply(key, |o| o.verbatim(text.as_bytes()));
        } else if eq_ic(sub, "graph") && n == 3 {
            let name = String::from_utf8_lossy(&argv[2]).into_owned();
            let Some(s) = self
                .latency
                .events
                .get(name.as_str())
                .filter(|s| !s.samples.is_empty())
            else {
                return Err(CmdError::msg(format!(
                    "ERR No samples available for event '{name}'"
                )));
            };
            let hi = s.samples.iter().map(|x| x.1).max().unwrap_or(0);
            let lo = s.samples.iter().map(|x| x.1).min().unwrap_or(0);
            let mut text = format!(
                "{name} - high {hi} ms, low {lo} ms (all time high {} ms)\n{}\n",
                s.max,
                "-".repeat(80)
            );
            for &(_, v) in &s.samples {
                let bar = if hi > 0 { (v * 10).div_ceil(hi) } else { 0 } as usize;
                text.push_str(&format!("{:>4} |{}\n", v, "#".repeat(bar)));
            }
            self.reply(key, |o| o.verbatim(text.as_bytes()));
        } else if eq_ic(sub, "histogram") {
            self.reply(key, |o| o.map(0));
        } else if eq_ic(sub, "help") && n == 2 {
            let lines = [
                "LATENCY <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
                "DOCTOR",
                "    Return a human readable latency analysis report.",
                "GRAPH <event>",
                "    Return an ASCII latency graph for the <event> class.",
                "HISTORY <event>",
                "    Return time-latency samples for the <event> class.",
                "LATEST",
                "    Return the latest latency samples for all events.",
                "RESET [<event> ...]",
                "    Reset latency data of one or more <event> classes.",
                "    (default: reset all data for all event classes)",
                "HISTOGRAM [COMMAND ...]",
                "    Return a cumulative distribution of latencies in the format of a histogram for the specified command names.",
                "    If no commands are specified then all histograms are replied.",
                "HELP",
                "    Prints this help.",
            ];
            self.reply_help(key, &lines);
        } else {
            return Err(crate::error::unknown_subcommand(sub, "LATENCY"));
        }
        Ok(())
    }

    /// LATENCY DOCTOR's report, in Redis's words.
    fn latency_doctor(&self) -> String {
        let spikes: Vec<_> = self
            .latency
            .events
            .iter()
            .filter(|(_, s)| !s.samples.is_empty())
            .collect();
        if spikes.is_empty() {
            return "Dave, no latency spike was observed during the lifetime of this Redis instance, not in the slightest bit. I honestly think you ought to sit down calmly, take a stress pill, and think things over.\n".into();
        }
        let mut t = String::from("Dave, I have observed latency spikes in this Redis instance. You don't mind talking about it, do you Dave?\n\n");
        for (i, (e, s)) in spikes.iter().enumerate() {
            let n = s.samples.len() as u64;
            let avg = s.samples.iter().map(|x| x.1).sum::<u64>() / n.max(1);
            let mad = s.samples.iter().map(|x| x.1.abs_diff(avg)).sum::<u64>() / n.max(1);
            let period = match (s.samples.front(), s.samples.back()) {
                (Some(a), Some(b)) if n > 1 => (b.0 - a.0) as f64 / n as f64,
                _ => 0.0,
            };
            t.push_str(&format!(
                "{}. {}: {} latency spikes (average {}ms, mean deviation {}ms, period {:.2} sec). Worst all time event {}ms.\n",
                i + 1,
                e,
                n,
                avg,
                mad,
                period,
                s.max
            ));
        }
        t.push_str("\nI have a few advices for you:\n\n- Check your Slow Log to understand what are the commands you are running which are too slow to execute. Please check https://redis.io/commands/slowlog for more information.\n");
        t
    }
}
