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
    /// Parses manifest text (`file <name> seq <n> type <b|h|i>` lines).
    pub fn parse(text: &str) -> Result<Manifest, String> {
        let mut m = Manifest::default();
        for line in text.lines() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let toks = crate::util::splitargs::split_args_str(line)
                .ok_or_else(|| "Invalid AOF manifest file format".to_string())?;
            if toks.len() % 2 != 0 {
                return Err("Invalid AOF manifest file format".into());
            }
            let (mut name, mut seq, mut kind) = (None, None, None);
            for kv in toks.chunks(2) {
                match kv[0].as_str() {
                    "file" => name = Some(kv[1].clone()),
                    "seq" => seq = kv[1].parse::<u64>().ok(),
                    "type" => kind = kv[1].chars().next(),
                    _ => {}
                }
            }
            let (Some(name), Some(seq), Some(kind)) = (name, seq, kind) else {
                return Err("Invalid AOF manifest file format".into());
            };
            if name.contains('/') {
                return Err("File can't be a path, just a filename".into());
            }
            let f = AofFile { name, seq, kind };
            match kind {
                'b' => {
                    if m.base.is_some() {
                        return Err("Found duplicate base file information".into());
                    }
                    m.cur_base_seq = seq;
                    m.base = Some(f);
                }
                'h' => m.history.push(f),
                'i' => {
                    if seq <= m.cur_incr_seq {
                        return Err("Found a non-monotonic sequence number".into());
                    }
                    m.cur_incr_seq = seq;
                    m.incrs.push(f);
                }
                _ => return Err("Unknown AOF file type".into()),
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

    /// A new base name; the old base becomes history.
    pub fn new_base(&mut self, prefix: &str, rdb: bool) -> String {
        if let Some(mut b) = self.base.take() {
            b.kind = 'h';
            self.history.push(b);
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

    /// After a rewrite: every incr file but the last is covered by the new
    /// base and becomes history.
    pub fn mark_rewritten_incrs_as_history(&mut self) {
        let keep = self.incrs.pop();
        for mut f in self.incrs.drain(..) {
            f.kind = 'h';
            self.history.push(f);
        }
        self.incrs.extend(keep);
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
        }
    }
}

/// Appends argv as a RESP multibulk.
pub fn cat_command(out: &mut Vec<u8>, argv: &[Bytes]) {
    out.extend_from_slice(format!("*{}\r\n", argv.len()).as_bytes());
    for a in argv {
        out.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
        out.extend_from_slice(a);
        out.extend_from_slice(b"\r\n");
    }
}

impl Aof {
    pub fn feed(&mut self, db: usize, argv: &[Bytes]) {
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
        m.mark_rewritten_incrs_as_history();
        assert_eq!(m.incrs.len(), 1);
        assert_eq!(m.history.len(), 2);
        assert!(Manifest::parse("file x seq").is_err());
    }
}
