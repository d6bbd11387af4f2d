//! Server side of persistence: SAVE/BGSAVE/LASTSAVE, save points, loading at
//! startup, reaping the forked child, DEBUG RELOAD/DIGEST, INFO persistence.
//! The AOF side (feeding, fsync, rewrite, loading) is in `persistence_aof`.
//!
//! Files: the server `chdir`s to `dir` at startup and on CONFIG SET dir (as
//! Redis does), and also builds absolute paths from `cfg.dir`, so a failed
//! chdir cannot make it write elsewhere.

use super::Server;
use crate::error::CmdError;
use crate::persist::fork::{self, ChildExit, ChildKind};
use crate::persist::{rdb, RdbAux, RdbError, RdbInfo, ReplAux, BGSAVE_RETRY_DELAY};
use crate::types::Limits;
use bytes::Bytes;
use std::fmt::Write as _;
use std::fs::File;
use std::path::{Path, PathBuf};

type R = Result<(), CmdError>;

/// Writes a snapshot to `dir/temp-<pid>.rdb`, fsyncs, renames it over
/// `dir/filename` and fsyncs the directory (Redis's rdbSave). Runs in the
/// parent (SAVE) or in a child (BGSAVE).
pub fn rdb_save_file(
    ks: &crate::db::Keyspace,
    dir: &Path,
    filename: &str,
    aux: &RdbAux,
    list_fill: i64,
) -> Result<(), String> {
    let tmp = dir.join(format!("temp-{}.rdb", std::process::id()));
    let mut f = File::create(&tmp).map_err(|e| {
        log::warn!(
            "Failed opening the temp RDB file {} (in server root dir {}) for saving: {e}",
            tmp.file_name().map_or("".into(), |n| n.to_string_lossy()),
            dir.display()
        );
        e.to_string()
    })?;
    let r = rdb::write_rdb_with(ks, &mut f, aux, list_fill, &mut |_| {}).and_then(|_| f.sync_all());
    if let Err(e) = r {
        log::warn!("Write error saving DB on disk: {e}");
        let _ = std::fs::remove_file(&tmp);
        return Err(e.to_string());
    }
    drop(f);
    let dst = dir.join(filename);
    if let Err(e) = std::fs::rename(&tmp, &dst) {
        log::warn!(
            "Error moving temp DB file {} on the final destination {filename} (in server root dir {}): {e}",
            tmp.display(),
            dir.display()
        );
        let _ = std::fs::remove_file(&tmp);
        return Err(e.to_string());
    }
    if let Ok(d) = File::open(dst.parent().unwrap_or(dir)) {
        let _ = d.sync_all();
    }
    log::info!("DB saved on disk");
    Ok(())
}

fn unix_secs() -> i64 {
    crate::util::mstime() / 1000
}

impl Server {
    // ---- paths and options ----

    pub fn rdb_path(&self) -> PathBuf {
        Path::new(&self.cfg.dir).join(&self.cfg.dbfilename)
    }

    /// chdir to `dir` (at startup and after CONFIG SET dir).
    pub fn persist_chdir(&mut self) {
        if let Err(e) = std::env::set_current_dir(&self.cfg.dir) {
            log::warn!("Can't chdir to '{}': {e}", self.cfg.dir);
        }
    }

    /// The replication position saved with a snapshot (rdbPopulateSaveInfo).
    /// Replication may refine this.
    pub fn rdb_save_info(&self) -> Option<ReplAux> {
        if self.repl.is_replica() || self.repl.backlog.is_some() {
            // A replica saves the db its master's stream is in; a master
            // the db its own stream last selected.
            let stream_db = if self.repl.is_replica() {
                match self.repl.link.key.and_then(|k| self.clients.get(k)) {
                    Some(c) => c.db,
                    None => self.repl.link.master_db,
                }
            } else {
                self.repl.slave_seldb.unwrap_or(0)
            };
            Some(ReplAux {
                stream_db: stream_db as i64,
                replid: self.repl.replid.clone(),
                offset: self.repl.master_repl_offset,
            })
        } else {
            None
        }
    }

    pub fn rdb_aux(&self) -> RdbAux {
        RdbAux {
            compression: self.cfg.rdbcompression,
            checksum: self.cfg.rdbchecksum,
            repl: self.rdb_save_info(),
            aof_base: false,
            used_mem: super::info::used_memory(),
            key_save_delay_us: self
                .cfg
                .extra_value("rdb-key-save-delay")
                .parse()
                .unwrap_or(0),
            functions: self.scripts.functions.codes(),
            exclude_data: false,
        }
    }

    // ---- loading ----

    pub fn load_data_on_startup(&mut self) {
        self.persist_chdir();
        if self.cfg.appendonly {
            self.aof_load_on_startup();
            return;
        }
        let start = std::time::Instant::now();
        let f = match File::open(self.rdb_path()) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return,
            Err(e) => {
                log::warn!("Fatal error loading the DB: {e}. Exiting.");
                std::process::exit(1);
            }
        };
        match self.rdb_load_serving(f) {
            Ok(_) => log::info!(
                "DB loaded from disk: {:.3} seconds",
                start.elapsed().as_secs_f64()
            ),
            Err(e) => {
                report_load_error(&e);
                std::process::exit(1);
            }
        }
    }

    /// Loads an RDB stream into the (already emptied) keyspace and records
    /// the load statistics. Replication uses it for a full sync.
    pub fn rdb_load_reader(&mut self, r: impl std::io::Read) -> Result<RdbInfo, RdbError> {
        self.persist.loading = true;
        self.update_clock();
        let lim = Limits::from_config(&self.cfg);
        let keep_expired = self.repl.is_replica() || self.cfg.replicaof.is_some();
        let r = crate::persist::load_rdb(
            std::io::BufReader::with_capacity(64 * 1024, r),
            &mut self.ks,
            &lim,
            keep_expired,
        );
        self.persist.loading = false;
        self.loaded(r?)
    }

    /// The startup load: clients are served every
    /// loading-process-events-interval-bytes of the file (LOADING-flagged
    /// commands run, the others get -LOADING), as Redis does, so a
    /// restarting server answers PING and INFO (with its new run_id) while
    /// it loads. The keyspace being loaded is set aside meanwhile.
    fn rdb_load_serving(&mut self, f: File) -> Result<RdbInfo, RdbError> {
        let every = self
            .cfg
            .extra_value("loading-process-events-interval-bytes")
            .parse::<u64>()
            .unwrap_or(2 * 1024 * 1024)
            .max(1024);
        let delay = self
            .cfg
            .extra_value("key-load-delay")
            .parse::<i64>()
            .unwrap_or(0);
        self.persist.loading = true;
        self.update_clock();
        let lim = Limits::from_config(&self.cfg);
        let keep_expired = self.cfg.replicaof.is_some();
        let placeholder = crate::db::Keyspace::new(self.ks.dbs.len());
        let mut ks = std::mem::replace(&mut self.ks, placeholder);
        let r = {
            let this = &mut *self;
            let reader = ProgressReader {
                inner: std::io::BufReader::with_capacity(64 * 1024, f),
                every,
                since: 0,
                tick: || this.process_events_while_blocked(),
            };
            crate::persist::rdb_load::load_rdb_slowly(reader, &mut ks, &lim, keep_expired, delay)
        };
        self.ks = ks;
        self.update_clock();
        self.persist.loading = false;
        self.loaded(r?)
    }

    /// Records a finished load (the functions it carried, INFO fields,
    /// the replication position).
    fn loaded(&mut self, mut info: RdbInfo) -> Result<RdbInfo, RdbError> {
        let codes = std::mem::take(&mut info.functions);
        self.functions_load_rdb(codes)
            .map_err(|e| RdbError::Unsupported(format!("Failed loading library: {e}")))?;
        self.persist.rdb_last_load_keys_loaded = info.keys_loaded;
        self.persist.rdb_last_load_keys_expired = info.keys_expired;
        if info.empty_keys_skipped > 0 {
            log::info!(
                "Done loading RDB, keys loaded: {}, keys expired: {}, empty keys skipped: {}.",
                info.keys_loaded,
                info.keys_expired,
                info.empty_keys_skipped
            );
        } else {
            log::info!(
                "Done loading RDB, keys loaded: {}, keys expired: {}.",
                info.keys_loaded,
                info.keys_expired
            );
        }
        self.persist.last_load_info = Some(info.clone());
        Ok(info)
    }

    fn empty_keyspace(&mut self) {
        self.ks.signal_flushed(None);
        for d in &mut self.ks.dbs {
            d.clear();
        }
    }

    // ---- saving ----

    /// SAVE, SHUTDOWN, FLUSHALL with save points: a synchronous snapshot.
    pub fn save_rdb_foreground(&mut self) -> Result<(), String> {
        let aux = self.rdb_aux();
        let dir = PathBuf::from(&self.cfg.dir);
        // (rdb-key-save-delay slows a foreground save too, as in Redis.)
        let r = rdb_save_file(
            &self.ks,
            &dir,
            &self.cfg.dbfilename,
            &aux,
            self.cfg.list_max_listpack_size,
        );
        match r {
            Ok(()) => {
                self.dirty = 0;
                self.lastsave = unix_secs();
                self.persist.last_bgsave_ok = true;
                Ok(())
            }
            // A failed foreground save leaves rdb_last_bgsave_status as it
            // was (Redis's rdbSave): no MISCONF for writes or PING after it.
            Err(e) => Err(e),
        }
    }

    /// Forks a child running `f` on the parent's snapshot, with the
    /// bookkeeping every child needs (stats, no resizing, no LRU updates).
    /// Returns the child's pid. Replication uses it for its full syncs.
    pub fn start_child(
        &mut self,
        kind: ChildKind,
        f: impl FnOnce(&Server) -> i32,
    ) -> Result<i32, String> {
        if self.persist.child.is_some() {
            return Err("another child process is active".into());
        }
        let start = crate::util::monotonic_us();
        let me: &Server = self;
        let (pid, info) = fork::fork_child(kind, || {
            // The child's role as its title, as Redis names its children.
            me.update_proc_title(Some(match kind {
                ChildKind::Aof => "redis-aof-rewrite",
                ChildKind::ReplDiskless => "redis-rdb-to-slaves",
                ChildKind::Rdb | ChildKind::ReplDisk | ChildKind::Ldb => "redis-rdb-bgsave",
            }));
            f(me)
        })
        .map_err(|e| e.to_string())?;
        self.stats.latest_fork_usec = crate::util::monotonic_us().saturating_sub(start);
        self.latency_add("fork", self.stats.latest_fork_usec / 1000);
        self.stats.total_forks += 1;
        self.persist.child = Some(fork::Child {
            pid,
            kind,
            start_time: unix_secs(),
            info: Some(info),
            keys_total: self.ks.dbs.iter().map(|d| d.dict.len() as u64).sum(),
            progress: fork::Progress::default(),
        });
        crate::dict::set_resize_allowed(false);
        self.ks.update_lru = false;
        Ok(pid.as_raw())
    }

    /// BGSAVE and save points (rdbSaveBackground).
    pub fn rdb_save_background(&mut self) -> Result<(), String> {
        if self.persist.child.is_some() {
            return Err("child active".into());
        }
        self.persist.dirty_before_bgsave = self.dirty;
        self.persist.lastbgsave_try = unix_secs();
        self.persist.bgsave_tried = true;
        let aux = self.rdb_aux();
        let dir = PathBuf::from(&self.cfg.dir);
        let file = self.cfg.dbfilename.clone();
        let fill = self.cfg.list_max_listpack_size;
        let r = self.start_child(ChildKind::Rdb, move |s| {
            match rdb_save_file(&s.ks, &dir, &file, &aux, fill) {
                Ok(()) => 0,
                Err(_) => 1,
            }
        });
        match r {
            Ok(pid) => {
                log::info!("Background saving started by pid {pid}");
                Ok(())
            }
            Err(e) => {
                self.persist.last_bgsave_ok = false;
                log::warn!("Can't save in background: fork: {e}");
                Err(e)
            }
        }
    }

    // ---- the child's end ----

    /// Reaps a finished child (never blocks).
    fn check_child_done(&mut self) {
        let Some(c) = &self.persist.child else {
            return;
        };
        let Some(exit) = fork::try_reap(c.pid) else {
            return;
        };
        if let Some(mut c) = self.persist.child.take() {
            let cow = fork::read_cow(&mut c);
            self.child_finished(c, exit, cow);
        }
    }

    fn child_finished(&mut self, c: fork::Child, exit: ChildExit, cow: u64) {
        crate::dict::set_resize_allowed(true);
        self.ks.update_lru = true;
        let now = unix_secs();
        match c.kind {
            // Debugging sessions are never the persistence child.
            ChildKind::Ldb => {}
            ChildKind::Rdb | ChildKind::ReplDisk | ChildKind::ReplDiskless => {
                let disk = c.kind != ChildKind::ReplDiskless;
                self.persist.rdb_last_bgsave_time_sec = now - c.start_time;
                self.persist.rdb_last_cow_size = cow;
                match exit {
                    ChildExit::Code(0) => {
                        if disk {
                            log::info!("Background saving terminated with success");
                            self.dirty =
                                self.dirty.saturating_sub(self.persist.dirty_before_bgsave);
                            self.lastsave = now;
                            self.persist.last_bgsave_ok = true;
                            self.persist.rdb_saves += 1;
                        } else {
                            log::info!("Background RDB transfer terminated with success");
                        }
                    }
                    ChildExit::Code(_) => {
                        if disk {
                            log::warn!("Background saving error");
                            self.persist.last_bgsave_ok = false;
                        } else {
                            log::warn!("Background transfer error");
                        }
                    }
                    ChildExit::Signal(sig) => {
                        if disk {
                            log::warn!("Background saving terminated by signal {sig}");
                            let tmp = Path::new(&self.cfg.dir).join(format!("temp-{}.rdb", c.pid));
                            let _ = std::fs::remove_file(tmp);
                            if sig != libc::SIGUSR1 {
                                self.persist.last_bgsave_ok = false;
                            }
                        } else {
                            log::warn!("Background transfer terminated by signal {sig}");
                        }
                    }
                }
            }
            ChildKind::Aof => {
                self.persist.aof.last_rewrite_time_sec = now - c.start_time;
                self.aof_rewrite_done(c.pid.as_raw(), exit, cow);
            }
        }
        self.persist.child_done = Some((c.kind, exit.ok()));
        self.on_child_done(c.kind, exit.ok());
    }

    /// Called whenever a child ends, after the persistence bookkeeping.
    /// Replication extends this to go on with full syncs.
    pub fn on_child_done(&mut self, kind: ChildKind, ok: bool) {
        if matches!(kind, ChildKind::ReplDisk | ChildKind::ReplDiskless) {
            self.repl_child_done(ok);
        }
    }

    /// Kills the running child, if any, and waits for it (SHUTDOWN,
    /// FLUSHALL, CONFIG SET appendonly no).
    pub fn persist_kill_child(&mut self) {
        match self.persist.child_kind() {
            None => return,
            Some(ChildKind::Aof) => log::warn!("There is a child rewriting the AOF. Killing it!"),
            _ => log::warn!("There is a child saving an .rdb. Killing it!"),
        }
        self.persist_kill_child_now();
    }

    /// Kills the AOF rewrite child if there is one (Redis's
    /// killAppendOnlyChild, when the AOF is switched off or on again).
    pub fn aof_kill_child(&mut self) {
        if let Some(c) = self
            .persist
            .child
            .as_ref()
            .filter(|c| c.kind == ChildKind::Aof)
        {
            log::info!("Killing running AOF rewrite child: {}", c.pid);
            self.persist_kill_child_now();
        }
    }

    fn persist_kill_child_now(&mut self) {
        let Some(c) = self.persist.child.take() else {
            return;
        };
        fork::kill_and_wait(c.pid);
        self.child_finished(c, ChildExit::Signal(libc::SIGUSR1), 0);
    }

    // ---- cron ----

    pub fn persist_cron(&mut self) {
        let now_s = unix_secs();
        if let Some(c) = self.persist.child.as_mut() {
            fork::read_child_info(c, now_s);
        }
        self.check_child_done();
        if self.persist.child.is_none() {
            let now = unix_secs();
            let retry_ok = now - self.persist.lastbgsave_try > BGSAVE_RETRY_DELAY
                || self.persist.last_bgsave_ok;
            if self.persist.bgsave_scheduled && retry_ok {
                if self.rdb_save_background().is_ok() {
                    self.persist.bgsave_scheduled = false;
                }
            } else if retry_ok {
                let points = self.cfg.save.clone();
                for (secs, changes) in points {
                    if self.dirty >= changes && now - self.lastsave > secs as i64 {
                        log::info!("{changes} changes in {secs} seconds. Saving...");
                        let _ = self.rdb_save_background();
                        break;
                    }
                }
            }
        }
        self.aof_cron();
    }

    // ---- commands ----

    pub fn cmd_save(&mut self, key: usize) -> R {
        if self
            .persist
            .child_kind()
            .is_some_and(|k| k != ChildKind::Aof)
        {
            return Err("ERR Background save already in progress".into());
        }
        match self.save_rdb_foreground() {
            Ok(()) => {
                self.persist.rdb_saves += 1;
                self.reply_ok(key);
                Ok(())
            }
            Err(_) => Err("ERR".into()),
        }
    }

    pub fn cmd_bgsave(&mut self, key: usize, argv: &[Bytes]) -> R {
        let mut schedule = false;
        if argv.len() > 1 {
            if argv.len() == 2 && crate::cmd::eq_ic(&argv[1], "schedule") {
                schedule = true;
            } else {
                return Err(crate::error::SYNTAX.into());
            }
        }
        // Inside EXEC nothing forks: the save starts from cron.
        let in_exec = self.in_exec();
        match self.persist.child_kind() {
            Some(ChildKind::Aof) | None if in_exec => {
                self.persist.bgsave_scheduled = true;
                self.reply(key, |o| o.simple("Background saving scheduled"));
                Ok(())
            }
            Some(ChildKind::Aof) => {
                if schedule {
                    self.persist.bgsave_scheduled = true;
                    self.reply(key, |o| o.simple("Background saving scheduled"));
                    Ok(())
                } else {
                    Err("ERR Another child process is active (AOF?): can't BGSAVE right now. Use BGSAVE SCHEDULE in order to schedule a BGSAVE whenever possible.".into())
                }
            }
            Some(_) => Err("ERR Background save already in progress".into()),
            None => match self.rdb_save_background() {
                Ok(()) => {
                    self.reply(key, |o| o.simple("Background saving started"));
                    Ok(())
                }
                Err(_) => Err("ERR".into()),
            },
        }
    }

    /// FLUSHALL: kill a saving child, and with save points write the empty
    /// dataset at once.
    pub fn after_flushall(&mut self) {
        if self
            .persist
            .child_kind()
            .is_some_and(|k| k != ChildKind::Aof)
        {
            self.persist_kill_child();
        }
        // Redis 7.0 saves at once and the save resets `dirty` (FLUSHALL is
        // propagated regardless).
        if !self.cfg.save.is_empty() && self.save_rdb_foreground().is_ok() {
            self.persist.rdb_saves += 1;
        }
    }

    /// DEBUG RELOAD [MERGE] [NOFLUSH] [NOSAVE].
    pub fn debug_reload(&mut self, argv: &[Bytes]) -> R {
        let (mut merge, mut noflush, mut nosave) = (false, false, false);
        for a in argv.iter().skip(2) {
            if a.eq_ignore_ascii_case(b"merge") {
                merge = true;
            } else if a.eq_ignore_ascii_case(b"noflush") {
                noflush = true;
            } else if a.eq_ignore_ascii_case(b"nosave") {
                nosave = true;
            } else {
                return Err(
                    "ERR DEBUG RELOAD only supports the MERGE, NOFLUSH and NOSAVE options.".into(),
                );
            }
        }
        if !nosave && self.save_rdb_foreground().is_err() {
            return Err("ERR".into());
        }
        if !noflush {
            self.empty_keyspace();
        }
        let f = File::open(self.rdb_path())
            .map_err(|_| CmdError::from("ERR Error trying to load the RDB dump"))?;
        // The libraries in the dump: replace ours, or join them (an existing
        // library is an error, unless MERGE replaces it).
        self.scripts.rdb_load_policy = match (noflush, merge) {
            (false, _) => crate::script::RdbFunctions::Replace,
            (true, false) => crate::script::RdbFunctions::Append,
            (true, true) => crate::script::RdbFunctions::Merge,
        };
        crate::persist::rdb_load::ALLOW_DUP.store(merge, std::sync::atomic::Ordering::Relaxed);
        let r = self.rdb_load_reader(f);
        crate::persist::rdb_load::ALLOW_DUP.store(false, std::sync::atomic::Ordering::Relaxed);
        self.scripts.rdb_load_policy = crate::script::RdbFunctions::Replace;
        if let Err(e) = r {
            log::warn!("{e}");
            return Err("ERR Error trying to load the RDB dump".into());
        }
        log::info!("DB reloaded by DEBUG RELOAD");
        Ok(())
    }

    pub fn debug_digest(&mut self) -> String {
        crate::persist::digest::dataset_digest(&self.ks)
    }

    pub fn debug_digest_value(&mut self, db: usize, key: &[u8]) -> String {
        crate::persist::digest::value_digest(&self.ks.dbs[db], key)
    }

    pub fn info_persistence(&self, o: &mut String) {
        let p = &self.persist;
        let now = unix_secs();
        let rdb_child = p.child.as_ref().filter(|c| c.kind != ChildKind::Aof);
        let aof_child = p.child.as_ref().filter(|c| c.kind == ChildKind::Aof);
        // What the running child reported (Redis's sendChildInfo).
        let (pr, total) = p
            .child
            .as_ref()
            .map_or((fork::Progress::default(), 0), |c| {
                (c.progress, c.keys_total)
            });
        let _ = write!(
            o,
            "# Persistence\r\nloading:{}\r\nasync_loading:{}\r\ncurrent_cow_peak:{}\r\ncurrent_cow_size:{}\r\ncurrent_cow_size_age:{}\r\ncurrent_fork_perc:{:.2}\r\ncurrent_save_keys_processed:{}\r\ncurrent_save_keys_total:{}\r\nrdb_changes_since_last_save:{}\r\nrdb_bgsave_in_progress:{}\r\nrdb_last_save_time:{}\r\nrdb_last_bgsave_status:{}\r\nrdb_last_bgsave_time_sec:{}\r\nrdb_current_bgsave_time_sec:{}\r\nrdb_saves:{}\r\nrdb_last_cow_size:{}\r\nrdb_last_load_keys_expired:{}\r\nrdb_last_load_keys_loaded:{}\r\n",
            u8::from(p.loading),
            u8::from(p.async_loading),
            pr.cow_peak,
            pr.cow,
            if pr.updated > 0 { (now - pr.updated).max(0) } else { 0 },
            if total > 0 { pr.keys as f64 * 100.0 / total as f64 } else { 0.0 },
            pr.keys,
            total,
            self.dirty,
            u8::from(rdb_child.is_some()),
            self.lastsave,
            if p.last_bgsave_ok { "ok" } else { "err" },
            p.rdb_last_bgsave_time_sec,
            rdb_child.map_or(-1, |c| now - c.start_time),
            p.rdb_saves,
            p.rdb_last_cow_size,
            p.rdb_last_load_keys_expired,
            p.rdb_last_load_keys_loaded,
        );
        self.info_aof(o, aof_child.map(|c| now - c.start_time));
        self.info_sync_loading(o);
    }
}

/// The log lines Redis writes before refusing to start on a bad RDB.
fn report_load_error(e: &RdbError) {
    match e {
        RdbError::ShortRead => {
            log::warn!("Short read or OOM loading DB. Unrecoverable error, aborting now.");
            log::warn!("Internal error in RDB reading offset 0, function at rdb_load.rs -> Unexpected EOF reading RDB file");
            log::warn!("Terminating server after rdb file reading failure.");
        }
        RdbError::Checksum { .. } => {
            log::warn!("{e} Aborting now.");
            log::warn!(
                "Internal error in RDB reading offset 0, function at rdb_load.rs -> RDB CRC error"
            );
            log::warn!("Terminating server after rdb file reading failure.");
        }
        RdbError::Corrupt { .. } => {
            log::warn!("{e}");
            log::warn!("Terminating server after rdb file reading failure.");
        }
        _ => log::warn!("Fatal error loading the DB: {e}. Exiting."),
    }
}

/// A reader that calls `tick` every `every` bytes consumed.
struct ProgressReader<Rd, F> {
    inner: Rd,
    every: u64,
    since: u64,
    tick: F,
}

impl<Rd: std::io::Read, F: FnMut()> std::io::Read for ProgressReader<Rd, F> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.since += n as u64;
        if self.since >= self.every {
            self.since = 0;
            (self.tick)();
        }
        Ok(n)
    }
}
