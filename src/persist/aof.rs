//! Multi-part AOF (Redis 7.0): in `appenddirname`, a manifest
//! (`<appendfilename>.manifest`) listing one base file (an RDB preamble
//! `.base.rdb`, or commands `.base.aof`), history files awaiting deletion
//! and the incremental files (`.incr.aof`) commands are appended to.
//! This module owns the manifest, the append buffer and the file handles;
//! the server drives it (`server/persistence_aof.rs`).

use bytes::Bytes;
use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum AofState {
    #[default]
    Off,
    On,
    /// Enabled at runtime: commands go to a temp incr file until the first
    /// rewrite produces a base.
    WaitRewrite,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AofFile {
    pub name: String,
    pub seq: u64,
    /// 'b' base, 'h' history, 'i' incremental.
    pub kind: char,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Manifest {
    pub base: Option<AofFile>,
    pub history: Vec<AofFile>,
    pub incrs: Vec<AofFile>,
    pub cur_base_seq: u64,
    pub cur_incr_seq: u64,
}

impl Manifest {
    /// Parses manifest text (`file <name> seq <n> type <b|h|i>` lines) with
    /// Redis 7.0's strictness (aofLoadManifestFromFile): an empty file, a
    /// blank line, a line over 1024 bytes, a missing key or an odd number of
    /// tokens are fatal. The error is Redis's report, ready to be logged.
    pub fn parse(text: &str) -> Result<Manifest, String> {
        const MAX_LINE: usize = 1024;
        let fail = |linenum: usize, line: Option<&str>, err: &str| {
            let mut s = String::from("\n*** FATAL AOF MANIFEST FILE ERROR ***\n");
            if let Some(l) = line {
                s.push_str(&format!(
                    "Reading the manifest file, at line {linenum}\n>>> '{l}'\n"
                ));
            }
            s.push_str(err);
            s
        };
        if text.is_empty() {
            return Err(fail(0, None, "Found an empty AOF manifest"));
        }
        let mut m = Manifest::default();
        let mut maxseq = 0;
        let mut rest = text;
        let mut linenum = 0;
        while !rest.is_empty() {
            linenum += 1;
            let (raw, next) = match rest.find('\n') {
                Some(i) if i < MAX_LINE => (&rest[..i], &rest[i + 1..]),
                // (fgets reads 1024 bytes: a longer line has no newline in them)
                _ if rest.starts_with('#') => match rest.find('\n') {
                    Some(i) => (&rest[..i], &rest[i + 1..]),
                    None => (rest, ""),
                },
                _ => {
                    return Err(fail(
                        linenum,
                        None,
                        "The AOF manifest file contains too long line",
                    ))
                }
            };
            rest = next;
            if raw.starts_with('#') {
                continue;
            }
            let line = raw.trim_matches(|c| matches!(c, ' ' | '\t' | '\r' | '\n'));
            let invalid = || {
                Err(fail(
                    linenum,
                    Some(line),
                    "Invalid AOF manifest file format",
                ))
            };
            if line.is_empty() {
                return invalid();
            }
            let Some(toks) = crate::util::splitargs::split_args_str(line) else {
                return invalid();
            };
            // (At least 6 tokens, in pairs: more keys may come in later versions.)
            if toks.len() < 6 || toks.len() % 2 != 0 {
                return invalid();
            }
            let (mut name, mut seq, mut kind) = (None, 0u64, None);
            for kv in toks.chunks(2) {
                if kv[0].eq_ignore_ascii_case("file") {
                    if kv[1].contains('/') {
                        return Err(fail(
                            linenum,
                            Some(line),
                            "File can't be a path, just a filename",
                        ));
                    }
                    name = Some(kv[1].clone());
                } else if kv[0].eq_ignore_ascii_case("seq") {
                    seq = crate::encoding::numbers::string2ll(kv[1].as_bytes())
                        .map_or(0, |v| v.max(0) as u64);
                } else if kv[0].eq_ignore_ascii_case("type") {
                    kind = kv[1].chars().next();
                }
            }
            let (Some(name), true, Some(kind)) = (name, seq != 0, kind) else {
                return invalid();
            };
            let f = AofFile { name, seq, kind };
            match kind {
                'b' => {
                    if m.base.is_some() {
                        return Err(fail(
                            linenum,
                            Some(line),
                            "Found duplicate base file information",
                        ));
                    }
                    m.cur_base_seq = seq;
                    m.base = Some(f);
                }
                'h' => m.history.push(f),
                'i' => {
                    if seq <= maxseq {
                        return Err(fail(
                            linenum,
                            Some(line),
                            "Found a non-monotonic sequence number",
                        ));
                    }
                    maxseq = seq;
                    m.cur_incr_seq = seq;
                    m.incrs.push(f);
                }
                _ => return Err(fail(linenum, Some(line), "Unknown AOF file type")),
            }
        }
        Ok(m)
    }

    pub fn render(&self) -> String {
        let mut s = String::new();
        for f in self.base.iter().chain(&self.history).chain(&self.incrs) {
            let name = if f.name.contains([' ', '"', '\'', '\\']) || f.name.is_empty() {
                format!("{:?}", f.name)
            } else {
                f.name.clone()
            };
            s.push_str(&format!("file {name} seq {} type {}\n", f.seq, f.kind));
        }
        s
    }

    /// A new base name; the old base becomes history (the newest history
    /// first, as Redis lists it).
    pub fn new_base(&mut self, prefix: &str, rdb: bool) -> String {
        if let Some(mut b) = self.base.take() {
            b.kind = 'h';
            self.history.insert(0, b);
        }
        self.cur_base_seq += 1;
        let name = format!(
            "{prefix}.{}.base.{}",
            self.cur_base_seq,
            if rdb { "rdb" } else { "aof" }
        );
        self.base = Some(AofFile {
            name: name.clone(),
            seq: self.cur_base_seq,
            kind: 'b',
        });
        name
    }

    /// A new incremental file name, appended to the list.
    pub fn new_incr(&mut self, prefix: &str) -> String {
        self.cur_incr_seq += 1;
        let name = format!("{prefix}.{}.incr.aof", self.cur_incr_seq);
        self.incrs.push(AofFile {
            name: name.clone(),
            seq: self.cur_incr_seq,
            kind: 'i',
        });
        name
    }

    /// After a rewrite: the incr files the new base covers become history
    /// (Redis's markRewrittenIncrAofAsHistory): all of them, but the one
    /// being appended to when `keep_last` (the AOF is on).
    pub fn mark_rewritten_incrs_as_history(&mut self, keep_last: bool) {
        let keep = if keep_last { self.incrs.pop() } else { None };
        for mut f in self.incrs.drain(..).rev() {
            f.kind = 'h';
            self.history.insert(0, f);
        }
        self.incrs.extend(keep);
    }

    /// A Redis < 7.0 AOF (`name`, one file in the server directory) taken
    /// as the base of this manifest (Redis's aofUpgradePrepare).
    pub fn adopt_old_style(&mut self, name: &str) {
        self.base = Some(AofFile {
            name: name.to_string(),
            seq: 1,
            kind: 'b',
        });
        self.cur_base_seq = 1;
    }

    /// Writes the manifest atomically (temp file, fsync, rename).
    pub fn persist(&self, dir: &Path, prefix: &str) -> io::Result<()> {
        let tmp = dir.join(format!("temp-{prefix}.manifest"));
        let mut f = File::create(&tmp)?;
        f.write_all(self.render().as_bytes())?;
        f.sync_all()?;
        std::fs::rename(&tmp, dir.join(format!("{prefix}.manifest")))?;
        if let Ok(d) = File::open(dir) {
            let _ = d.sync_all();
        }
        Ok(())
    }

    /// Deletes history files and forgets them.
    pub fn delete_history(&mut self, dir: &Path) {
        for f in self.history.drain(..) {
            let _ = std::fs::remove_file(dir.join(&f.name));
            log::info!("Removing the history file {} in the background", f.name);
        }
    }
}

/// The AOF as the running server holds it.
pub struct Aof {
    pub state: AofState,
    pub manifest: Manifest,
    /// The incremental file being appended to.
    pub file: Option<File>,
    /// Commands not yet written (flushed before replies go out).
    pub buf: Vec<u8>,
    pub seldb: Option<usize>,
    pub last_fsync_ms: i64,
    pub fsync_pending: bool,
    pub current_size: u64,
    pub base_size: u64,
    pub rewrite_scheduled: bool,
    pub last_rewrite_ok: bool,
    pub last_rewrite_time_sec: i64,
    pub rewrites: u64,
    pub consecutive_failures: u64,
    pub last_write_ok: bool,
    /// Automatic rewrites after repeated failures (Redis's
    /// aofRewriteLimited): the current delay in minutes and the unix time
    /// before which none starts (0: not limited).
    pub limit_delay_min: u64,
    pub limit_until: i64,
    /// aof-timestamp-enabled, and the unix time of the last `#TS:`
    /// annotation written.
    pub timestamps: bool,
    pub cur_timestamp: i64,
    /// DEBUG AOF-FLUSH-SLEEP: microseconds slept before each write.
    pub flush_sleep_us: u64,
}

impl Default for Aof {
    fn default() -> Self {
        Aof {
            state: AofState::Off,
            manifest: Manifest::default(),
            file: None,
            buf: Vec::new(),
            seldb: None,
            last_fsync_ms: 0,
            fsync_pending: false,
            current_size: 0,
            base_size: 0,
            rewrite_scheduled: false,
            last_rewrite_ok: true,
            last_rewrite_time_sec: -1,
            rewrites: 0,
            consecutive_failures: 0,
            last_write_ok: true,
            limit_delay_min: 0,
            limit_until: 0,
            timestamps: false,
            cur_timestamp: 0,
            flush_sleep_us: 0,
        }
    }
}

/// Consecutive failed rewrites from which automatic ones are delayed.
const REWRITE_LIMIT_THRESHOLD: u64 = 3;
/// The longest delay between automatic rewrites that keep failing.
const REWRITE_LIMIT_MAX_MINUTES: u64 = 60;

impl Aof {
    /// Redis's aofRewriteLimited: after repeated failures an automatic
    /// rewrite waits 1, 2, 4... up to 60 minutes (`now` in seconds).
    pub fn rewrite_limited(&mut self, now: i64) -> bool {
        if self.consecutive_failures < REWRITE_LIMIT_THRESHOLD {
            self.limit_delay_min = 0;
            self.limit_until = 0;
            return false;
        }
        if self.limit_until != 0 {
            if now < self.limit_until {
                return true;
            }
            self.limit_until = 0;
            return false;
        }
        self.limit_delay_min = (self.limit_delay_min * 2).clamp(1, REWRITE_LIMIT_MAX_MINUTES);
        self.limit_until = now + self.limit_delay_min as i64 * 60;
        log::warn!("Background AOF rewrite has repeatedly failed and triggered the limit, will retry in {} minutes", self.limit_delay_min);
        true
    }
}

/// Appends argv as a RESP multibulk (the AOF's and the replication
/// stream's one encoder; no allocation).
pub fn cat_command(out: &mut Vec<u8>, argv: &[Bytes]) {
    let mut o = crate::resp::Out::new(out, 2);
    o.array(argv.len());
    for a in argv {
        o.bulk(a);
    }
}

impl Aof {
    /// `now_s`: the unix time, for the `#TS:` annotation written before
    /// the first command of each second when aof-timestamp-enabled
    /// (Redis's genAofTimestampAnnotationIfNeeded).
    pub fn feed(&mut self, db: usize, argv: &[Bytes], now_s: i64) {
        if self.timestamps && self.cur_timestamp < now_s {
            self.buf
                .extend_from_slice(format!("#TS:{now_s}\r\n").as_bytes());
            self.cur_timestamp = now_s;
        }
        if self.seldb != Some(db) {
            cat_command(
                &mut self.buf,
                &[Bytes::from_static(b"SELECT"), Bytes::from(db.to_string())],
            );
            self.seldb = Some(db);
        }
        cat_command(&mut self.buf, argv);
    }

    /// Writes the buffer to the incr file; fsyncs when `fsync`.
    pub fn flush(&mut self, fsync: bool, now_ms: i64) {
        let Some(f) = self.file.as_mut() else {
            self.buf.clear();
            return;
        };
        if !self.buf.is_empty() {
            if self.flush_sleep_us > 0 {
                std::thread::sleep(std::time::Duration::from_micros(self.flush_sleep_us));
            }
            match f.write_all(&self.buf) {
                Ok(()) => {
                    if !self.last_write_ok {
                        log::warn!("AOF write error looks solved, Redis can write again.");
                    }
                    self.last_write_ok = true;
                    self.current_size += self.buf.len() as u64;
                    self.fsync_pending = true;
                }
                Err(e) => {
                    log::warn!("Error writing to the AOF file: {e}");
                    self.last_write_ok = false;
                }
            }
            self.buf.clear();
        }
        if fsync && self.fsync_pending {
            let _ = f.sync_data();
            self.fsync_pending = false;
            self.last_fsync_ms = now_ms;
        }
    }

    pub fn open_append(path: &Path) -> io::Result<File> {
        OpenOptions::new().create(true).append(true).open(path)
    }
}

/// The directory of the AOF files.
pub fn aof_dir(dir: &str, dirname: &str) -> PathBuf {
    Path::new(dir).join(dirname)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manifest_roundtrip() {
        let mut m = Manifest::default();
        m.new_base("appendonly.aof", true);
        m.new_incr("appendonly.aof");
        let t = m.render();
        assert_eq!(
            t,
            "file appendonly.aof.1.base.rdb seq 1 type b\nfile appendonly.aof.1.incr.aof seq 1 type i\n"
        );
        assert_eq!(Manifest::parse(&t).unwrap(), m);
        m.new_incr("appendonly.aof");
        m.new_base("appendonly.aof", true);
        m.mark_rewritten_incrs_as_history(true);
        assert_eq!(m.incrs.len(), 1);
        assert_eq!(m.history.len(), 2);
        assert!(Manifest::parse("file x seq").is_err());
    }

    #[test]
    fn manifest_errors_as_redis() {
        let err = |t: &str| Manifest::parse(t).err().unwrap_or_default();
        let ok = "file a.1.base.aof seq 1 type b\n";
        assert!(err("").ends_with("Found an empty AOF manifest"));
        let blank = format!("{ok}\n{ok}");
        assert!(err(&blank).ends_with("Invalid AOF manifest file format"));
        assert!(err(&blank).contains("at line 2"));
        assert!(err("filx a seq 1 type b\n").ends_with("Invalid AOF manifest file format"));
        assert!(err("file a type b\n").ends_with("Invalid AOF manifest file format"));
        assert!(err("file a seq 1 type b k\n").ends_with("Invalid AOF manifest file format"));
        assert!(err("file a seq 0 type b\n").ends_with("Invalid AOF manifest file format"));
        assert!(err("file a seq 1 type x\n").ends_with("Unknown AOF file type"));
        assert!(err("file d/a seq 1 type b\n").ends_with("File can't be a path, just a filename"));
        let long = format!("{}\n", ok.trim_end().repeat(40));
        assert!(err(&long).ends_with("The AOF manifest file contains too long line"));
        // A last line without its newline reads as one too long, as fgets.
        assert!(err(ok.trim_end()).ends_with("The AOF manifest file contains too long line"));
        // Comments are skipped; keys are case-insensitive; more pairs allowed.
        let m = Manifest::parse(&format!("# c\nFILE a seq 1 TYPE b extra v\n{ok}"));
        assert!(m.is_err(), "two bases");
        let m = Manifest::parse("# c\nFILE a seq 1 TYPE b extra v\n").expect("parses");
        assert_eq!(m.base.map(|b| b.name), Some("a".to_string()));
    }
}
