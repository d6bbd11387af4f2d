//! The latency monitor (LATENCY LATEST/HISTORY/RESET/DOCTOR/GRAPH): events
//! slower than `latency-monitor-threshold` ms are sampled once a second per
//! event, keeping the last 160 samples and the all-time maximum, as Redis's
//! latency.c does (the DOCTOR and GRAPH texts: `latency_report`). Also the per-command latency histograms of
//! `latency-tracking` (`util::hdr`): LATENCY HISTOGRAM and INFO latencystats.

use super::Server;
use crate::cmd::eq_ic;
use crate::error::CmdError;
use bytes::Bytes;
use std::collections::{BTreeMap, VecDeque};

const HISTORY_LEN: usize = 160;

#[derive(Default)]
pub struct Series {
    /// (unix seconds, milliseconds), oldest first.
    pub(super) samples: VecDeque<(i64, u64)>,
    pub(super) max: u64,
}

#[derive(Default)]
pub struct Latency {
    pub(super) events: BTreeMap<&'static str, Series>,
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
            let Some(text) = self.latency_graph(&name) else {
                return Err(CmdError::msg(format!(
                    "ERR No samples available for event '{name}'"
                )));
            };
            self.reply(key, |o| o.verbatim(text.as_bytes()));
        } else if eq_ic(sub, "histogram") {
            let names = self.histogram_names(&argv[2..]);
            type Row<'a> = (&'a str, i64, Vec<(i64, i64)>);
            let rows: Vec<Row> = names
                .iter()
                .filter_map(|n| {
                    let h = self.cmdstats.get(n)?.histogram.as_ref()?;
                    Some((*n, h.total_count(), h.cdf()))
                })
                .collect();
            self.reply(key, |o| {
                o.map(rows.len());
                for (name, calls, cdf) in &rows {
                    o.bulk(name.as_bytes());
                    o.map(2);
                    o.bulk(b"calls");
                    o.int(*calls);
                    o.bulk(b"histogram_usec");
                    o.map(cdf.len());
                    for (usec, count) in cdf {
                        o.int(*usec);
                        o.int(*count);
                    }
                }
            });
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

    /// The commands LATENCY HISTOGRAM reports on: every one with data, or
    /// for each name asked (a command, `container|sub`, or a container,
    /// which means all its subcommands too) the ones with data. Unknown
    /// names are skipped, as Redis does.
    fn histogram_names(&self, asked: &[Bytes]) -> Vec<&'static str> {
        let mut with_data: Vec<&'static str> = self
            .cmdstats
            .iter()
            .filter(|(_, s)| s.histogram.is_some())
            .map(|(n, _)| *n)
            .collect();
        with_data.sort_unstable();
        if asked.is_empty() {
            return with_data;
        }
        let mut out = Vec::new();
        for a in asked {
            let a = String::from_utf8_lossy(a).to_ascii_lowercase();
            for n in &with_data {
                let sub_of = n
                    .strip_prefix(a.as_str())
                    .is_some_and(|r| r.starts_with('|'));
                if *n == a || sub_of {
                    out.push(*n);
                }
            }
        }
        out
    }

    /// INFO latencystats: the configured percentiles of every command with
    /// a histogram, in microseconds with 3 decimals.
    pub fn info_latencystats(&self, o: &mut String) {
        o.push_str("# Latencystats\r\n");
        if !self.cfg.latency_tracking {
            return;
        }
        // CONFIG GET's rendering of the percentiles is also INFO's label.
        let labels = self.cfg.extra_value("latency-tracking-info-percentiles");
        for name in self.histogram_names(&[]) {
            let Some(h) = self.cmdstats.get(name).and_then(|s| s.histogram.as_ref()) else {
                continue;
            };
            let fields: Vec<String> = labels
                .split_whitespace()
                .map(|p| {
                    let v = h.value_at_percentile(p.parse().unwrap_or(0.0));
                    format!("p{p}={:.3}", v as f64 / 1000.0)
                })
                .collect();
            o.push_str(&format!(
                "latency_percentiles_usec_{name}:{}\r\n",
                fields.join(",")
            ));
        }
    }
}
