//! Directives with their own syntax: bind, save, replicaof, dir,
//! notify-keyspace-events, client-output-buffer-limit, oom-score-adj-values
//! and latency-tracking-info-percentiles (parsing, validation with Redis's
//! error texts, and the value CONFIG GET shows).

use super::table::{c_long, Entry, Kind};
use super::{
    keyspace_events_from_str, keyspace_events_to_string, parse, ClientOutputBufferLimit, Config,
    COBL_CLASSES,
};

impl Config {
    pub(super) fn set_special(
        &mut self,
        name: &str,
        args: &[String],
        reading_file: bool,
    ) -> Result<(), String> {
        let arg0 = args.first().map(String::as_str).unwrap_or("");
        match name {
            "bind" => {
                if args.len() > 16 {
                    return Err("Too many bind addresses specified.".into());
                }
                self.bind = if args.len() == 1 && arg0.is_empty() {
                    vec![]
                } else {
                    args.to_vec()
                };
            }
            "save" => {
                // `save ""` always clears, even after earlier lines of a file.
                let args = if args.len() == 1 && arg0.is_empty() {
                    self.save.clear();
                    &[][..]
                } else {
                    args
                };
                if args.len() % 2 == 1 {
                    return Err("Invalid save parameters".into());
                }
                let mut points = Vec::new();
                for pair in args.chunks(2) {
                    let s = c_long(&pair[0]).filter(|s| *s >= 1);
                    let c = c_long(&pair[1]).filter(|c| *c >= 0);
                    match (s, c) {
                        (Some(s), Some(c)) => points.push((s as u64, c as u64)),
                        _ => return Err("Invalid save parameters".into()),
                    }
                }
                if !reading_file || !self.save_loaded {
                    self.save.clear();
                }
                if reading_file {
                    self.save_loaded = true;
                }
                self.save.extend(points);
            }
            "replicaof" => {
                if args.len() != 2 {
                    return Err("wrong number of arguments".into());
                }
                if arg0.eq_ignore_ascii_case("no") && args[1].eq_ignore_ascii_case("one") {
                    self.replicaof = None;
                } else {
                    let port = c_long(&args[1])
                        .filter(|p| (0..=65535).contains(p))
                        .ok_or("Invalid master port")?;
                    self.replicaof = Some((arg0.to_string(), port as u16));
                }
            }
            "dir" => {
                // Redis chdir()s here; we validate and keep the absolute path.
                let p = std::fs::canonicalize(arg0).map_err(|e| parse::os_err(&e))?;
                if !p.is_dir() {
                    return Err("Not a directory".into());
                }
                self.dir = p.to_string_lossy().into_owned();
            }
            "notify-keyspace-events" => {
                self.notify_keyspace_events = keyspace_events_from_str(arg0)
                    .ok_or("Invalid event class character. Use 'Ag$lshzxeKEtmdn'.")?;
            }
            "client-output-buffer-limit" => {
                if !args.len().is_multiple_of(4) {
                    return Err("Wrong number of arguments in buffer limit configuration.".into());
                }
                let mut new = self.client_output_buffer_limit;
                for ch in args.chunks(4) {
                    let class = match ch[0].to_ascii_lowercase().as_str() {
                        "normal" => 0,
                        "slave" | "replica" => 1,
                        "pubsub" => 2,
                        _ => {
                            return Err(
                                "Invalid client class specified in buffer limit configuration."
                                    .into(),
                            )
                        }
                    };
                    let hard = parse::memtoull(&ch[1]);
                    let soft = parse::memtoull(&ch[2]);
                    let secs = c_long(&ch[3]).filter(|s| *s >= 0);
                    match (hard, soft, secs) {
                        (Some(hard), Some(soft), Some(secs)) => {
                            new[class] = ClientOutputBufferLimit { hard, soft, soft_seconds: secs as u64 };
                        }
                        _ => {
                            return Err("Error in hard, soft or soft_seconds setting in buffer limit configuration.".into())
                        }
                    }
                }
                self.client_output_buffer_limit = new;
            }
            "oom-score-adj-values" => {
                if args.len() != 3 {
                    return Err("wrong number of arguments".into());
                }
                let mut vals = Vec::new();
                for a in args {
                    match c_long(a).filter(|v| (-2000..=2000).contains(v)) {
                        Some(v) => vals.push(v.to_string()),
                        None => {
                            return Err("Invalid oom-score-adj-values, elements must be between -2000 and 2000.".into())
                        }
                    }
                }
                self.extra.insert("oom-score-adj-values", vals.join(" "));
            }
            "latency-tracking-info-percentiles" => {
                let args = if args.len() == 1 && arg0.is_empty() {
                    &[][..]
                } else {
                    args
                };
                let mut vals = Vec::new();
                for a in args {
                    let v: f64 = a
                        .parse()
                        .map_err(|_| "Invalid latency-tracking-info-percentiles parameters")?;
                    if !(0.0..=100.0).contains(&v) {
                        return Err("latency-tracking-info-percentiles parameters should sit between [0.0,100.0]".into());
                    }
                    vals.push(format_double(v));
                }
                self.extra
                    .insert("latency-tracking-info-percentiles", vals.join(" "));
            }
            _ => return Err("unknown special config".into()),
        }
        Ok(())
    }

    /// The value CONFIG GET shows for an entry.
    pub(super) fn value_of(&self, e: &Entry) -> String {
        if let (Kind::Special, _) | (_, None) = (e.kind, &e.field) {
            return match e.name {
                "bind" => self.bind.join(" "),
                "save" => {
                    let v: Vec<String> =
                        self.save.iter().map(|(s, c)| format!("{s} {c}")).collect();
                    v.join(" ")
                }
                "replicaof" => self
                    .replicaof
                    .as_ref()
                    .map_or(String::new(), |(h, p)| format!("{h} {p}")),
                "dir" => std::fs::canonicalize(&self.dir)
                    .map_or_else(|_| self.dir.clone(), |p| p.to_string_lossy().into_owned()),
                "notify-keyspace-events" => keyspace_events_to_string(self.notify_keyspace_events),
                "client-output-buffer-limit" => {
                    let v: Vec<String> = COBL_CLASSES
                        .iter()
                        .zip(self.client_output_buffer_limit.iter())
                        .map(|(n, l)| format!("{n} {} {} {}", l.hard, l.soft, l.soft_seconds))
                        .collect();
                    v.join(" ")
                }
                _ => self.extra_value(e.name).to_string(),
            };
        }
        e.field.as_ref().map_or(String::new(), |f| (f.get)(self))
    }
}

/// `%f` then trailing zeros (and a trailing dot) removed, as Redis prints
/// latency percentiles.
fn format_double(v: f64) -> String {
    let s = format!("{v:.6}");
    let s = s.trim_end_matches('0');
    s.trim_end_matches('.').to_string()
}
