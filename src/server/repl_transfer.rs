//! Replica side, the full sync's payload: the `$<len>` or `$EOF:<mark>`
//! RDB is either stored in a temp file and then loaded from it a chunk per
//! loop iteration (repl-diskless-load disabled, or on-empty-db with data),
//! or parsed straight from the socket as it arrives (diskless: nothing is
//! buffered but the unfinished record). Either way it loads into a keyspace
//! of its own that replaces ours only once it loaded completely; meanwhile
//! clients get -LOADING, or with swapdb in the same history (async loading)
//! keep reading the old data set. The loop never blocks on a sync.

use super::Server;
use crate::persist::rdb_stream::IncrementalLoad;
use crate::persist::RdbError;
use crate::repl::link::{take_line, Framing, LinkState, Loading, Transfer};
use std::io::{Read, Write};

/// What a loading step leaves to do.
enum Step {
    /// More input is buffered: go on after the other clients.
    More,
    /// Wait for the socket.
    Wait,
    Done,
}

/// Unparsed stream bytes past which a loading replica stops reading its
/// master's socket until the loader caught up.
const LOAD_READ_AHEAD: usize = 4 * 1024 * 1024;

impl Server {
    pub(super) fn begin_transfer(&mut self) {
        // repl-diskless-load: "disabled" stores the payload in a temp file
        // (kept as our dump afterwards); "on-empty-db" only skips the disk
        // when we hold no data; "swapdb" always parses from the socket.
        let disk = match self.cfg.repl_diskless_load {
            crate::config::DisklessLoad::Disabled => true,
            crate::config::DisklessLoad::OnEmptyDb => self.ks.total_keys() > 0,
            crate::config::DisklessLoad::SwapDb => false,
        };
        let file = if disk {
            let name = format!("temp-{}.{}.rdb", self.ks.now_ms / 1000, std::process::id());
            let path = std::path::Path::new(&self.cfg.dir)
                .join(name)
                .display()
                .to_string();
            match std::fs::File::create(&path) {
                Ok(f) => Some((f, path)),
                Err(e) => {
                    log::warn!(
                        "Opening the temp file needed for MASTER <-> REPLICA synchronization: {e}"
                    );
                    None
                }
            }
        } else {
            None
        };
        self.repl.link.transfer = Some(Transfer {
            framing: None,
            read: 0,
            file,
            tail: Vec::new(),
            last_io_ms: self.ks.now_ms,
            start_ms: self.ks.now_ms,
            load: None,
        });
        self.repl.link.state = LinkState::Transfer;
    }

    /// -LOADING during async loading for the commands that would fight the
    /// load (Redis's no_async_loading flag: REPLICAOF, SYNC, SAVE...); plain
    /// loading refuses every command without the loading flag (in
    /// `process_command`).
    pub fn loading_refusal(
        &self,
        argv: &[bytes::Bytes],
        from_master: bool,
    ) -> Option<crate::error::CmdError> {
        if from_master || !self.persist.async_loading {
            return None;
        }
        crate::cmd::meta::resolve(argv)
            .filter(|m| m.flags & crate::cmd::meta::F_NO_ASYNC_LOADING != 0)
            .map(|_| crate::error::LOADING.into())
    }

    /// The load of a full sync under way, if any.
    pub fn sync_loading(&self) -> Option<&Loading> {
        self.repl.link.transfer.as_ref()?.load.as_deref()
    }

    /// INFO persistence's loading_* lines while a sync's RDB loads.
    pub fn info_sync_loading(&self, o: &mut String) {
        use std::fmt::Write as _;
        let Some(l) = self.sync_loading() else {
            return;
        };
        let now = crate::util::mstime();
        let loaded = l.loader.loaded_bytes();
        let perc = if l.total > 0 {
            loaded as f64 * 100.0 / l.total as f64
        } else {
            0.0
        };
        let elapsed = ((now - l.start_ms) / 1000).max(0);
        let eta = if l.total > 0 && loaded > 0 && elapsed > 0 {
            let rate = loaded / elapsed as u64;
            (l.total.saturating_sub(loaded) / rate.max(1)) as i64
        } else {
            1
        };
        let _ = write!(
            o,
            "loading_start_time:{}\r\nloading_total_bytes:{}\r\nloading_rdb_used_mem:0\r\nloading_loaded_bytes:{loaded}\r\nloading_loaded_perc:{perc:.2}\r\nloading_eta_seconds:{eta}\r\n",
            l.start_ms / 1000,
            l.total,
        );
    }

    /// Whether the master link's socket should wait: the loader has enough
    /// unparsed bytes buffered (flow control for a slow load).
    pub fn repl_link_read_paused(&self, key: usize) -> bool {
        if self.repl.link.key != Some(key) || self.repl.link.state != LinkState::Transfer {
            return false;
        }
        let Some(l) = self.sync_loading() else {
            return false;
        };
        let buffered = self.clients.get(key).map_or(0, |c| c.query.len());
        l.file.is_none() && buffered >= LOAD_READ_AHEAD && !l.loader.needs_more(buffered)
    }

    /// Reads the payload header, then hands the bytes to the disk writer or
    /// the loader.
    pub(super) fn read_transfer(&mut self, key: usize) {
        let now = self.ks.now_ms;
        let Some(c) = self.clients.get_mut(key) else {
            return;
        };
        let Some(t) = self.repl.link.transfer.as_mut() else {
            return;
        };
        if t.framing.is_none() {
            loop {
                let Some(line) = take_line(&mut c.query) else {
                    if c.query.len() > crate::resp::INLINE_MAX_SIZE {
                        log::warn!("Bad protocol from MASTER: bulk header too long");
                        self.close_async(key);
                    }
                    return;
                };
                if line.is_empty() {
                    // Newlines keep the link alive while the master saves.
                    t.last_io_ms = now;
                    continue;
                }
                if line.first() == Some(&b'-') {
                    log::warn!(
                        "MASTER aborted replication with an error: {}",
                        String::from_utf8_lossy(&line)
                    );
                    self.close_async(key);
                    return;
                }
                if line.first() != Some(&b'$') {
                    log::warn!("Bad protocol from MASTER, the first byte is not '$' (we received '{}'), are you sure the host and port are right?", String::from_utf8_lossy(&line));
                    self.close_async(key);
                    return;
                }
                let to = if t.file.is_some() { "disk" } else { "parser" };
                if let Some(mark) = line.strip_prefix(b"$EOF:") {
                    let Ok(mark): Result<[u8; 40], _> = mark.try_into() else {
                        self.close_async(key);
                        return;
                    };
                    log::info!(
                        "MASTER <-> REPLICA sync: receiving streamed RDB from master with EOF to {to}"
                    );
                    t.framing = Some(Framing::Eof { mark });
                } else {
                    let Some(total) = std::str::from_utf8(&line[1..])
                        .ok()
                        .and_then(|s| s.parse::<u64>().ok())
                    else {
                        self.close_async(key);
                        return;
                    };
                    log::info!(
                        "MASTER <-> REPLICA sync: receiving {total} bytes from master to {to}"
                    );
                    t.framing = Some(Framing::Len { total });
                }
                t.last_io_ms = now;
                break;
            }
            if t.file.is_none() {
                self.start_load(key, None);
            }
        }
        let diskless = self
            .repl
            .link
            .transfer
            .as_ref()
            .is_some_and(|t| t.file.is_none());
        if diskless || self.loading_from_file() {
            self.load_step(key);
        } else {
            self.transfer_to_disk(key);
        }
    }

    fn loading_from_file(&self) -> bool {
        self.sync_loading().is_some_and(|l| l.file.is_some())
    }

    /// Disk-based: appends what arrived to the temp file; once complete,
    /// the load from the file starts.
    fn transfer_to_disk(&mut self, key: usize) {
        let now = self.ks.now_ms;
        let Some(c) = self.clients.get_mut(key) else {
            return;
        };
        let Some(t) = self.repl.link.transfer.as_mut() else {
            return;
        };
        let take = match &t.framing {
            Some(Framing::Len { total }) => ((total - t.read) as usize).min(c.query.len()),
            // Stop right after the mark: whatever follows is stream.
            Some(Framing::Eof { mark }) => {
                find_eof_mark(&t.tail, &c.query, mark).unwrap_or(c.query.len())
            }
            None => c.query.len(),
        };
        if take == 0 && !matches!(t.framing, Some(Framing::Len { total: 0 })) {
            return;
        }
        let chunk = c.query.split_to(take);
        t.read += take as u64;
        t.last_io_ms = now;
        let done = match &t.framing {
            Some(Framing::Len { total }) => t.read >= *total,
            Some(Framing::Eof { mark }) => {
                t.tail.extend_from_slice(&chunk);
                if t.tail.len() > 40 {
                    t.tail.drain(..t.tail.len() - 40);
                }
                t.tail.len() == 40 && t.tail[..] == mark[..]
            }
            None => false,
        };
        let write_ok = t
            .file
            .as_mut()
            .is_some_and(|(f, _)| f.write_all(&chunk).is_ok());
        if !write_ok {
            log::warn!("Write error or short write writing to the DB dump file needed for MASTER <-> REPLICA synchronization");
            self.close_async(key);
            return;
        }
        if done {
            let file = t
                .file
                .as_ref()
                .and_then(|(_, path)| std::fs::File::open(path).ok());
            if file.is_none() {
                log::warn!("Failed trying to load the MASTER synchronization DB from disk: can't open the received file");
                self.close_async(key);
                return;
            }
            self.start_load(key, file);
            self.load_step(key);
        }
    }

    /// The load begins: into a keyspace of its own, with -LOADING for the
    /// clients, or reads from the old data set (async loading).
    fn start_load(&mut self, key: usize, file: Option<std::fs::File>) {
        let swapdb = self.cfg.repl_diskless_load == crate::config::DisklessLoad::SwapDb;
        // Same history as the master's (only the backlog was missing): the
        // old data is an earlier point of the same data set, worth serving.
        let async_mode =
            file.is_none() && swapdb && self.repl.link.fullsync_replid == self.repl.replid;
        let lim = crate::types::Limits::from_config(&self.cfg);
        let mut loader = IncrementalLoad::new(lim, true, self.ks.now_ms);
        loader.key_load_delay = self.cfg.extra_value("key-load-delay").parse().unwrap_or(0);
        let mut ks = crate::db::Keyspace::new(self.ks.dbs.len());
        if self.ks.has_slot_index() {
            ks.enable_slot_index();
        }
        ks.expire_mode = crate::db::ExpireMode::ApplyingMaster;
        ks.now_ms = self.ks.now_ms;
        let total = match (&file, self.repl.link.transfer.as_ref()) {
            (Some(f), _) => f.metadata().map_or(0, |m| m.len()),
            (None, Some(t)) => match t.framing {
                Some(Framing::Len { total }) => total,
                _ => 0,
            },
            _ => 0,
        };
        log::info!("MASTER <-> REPLICA sync: Loading DB in memory");
        if async_mode {
            log::info!("MASTER <-> REPLICA sync: Loading DB in memory while serving the old data set (async loading)");
        }
        self.persist.loading = !async_mode;
        self.persist.async_loading = async_mode;
        let now = self.ks.now_ms;
        if let Some(t) = self.repl.link.transfer.as_mut() {
            t.load = Some(Box::new(Loading {
                loader,
                ks,
                async_mode,
                file,
                file_buf: Vec::new(),
                file_eof: false,
                total,
                start_ms: now,
            }));
        }
        let _ = key;
    }

    /// Feeds the loader up to loading-process-events-interval-bytes, then
    /// gives the loop back (coming again while there is more to parse).
    fn load_step(&mut self, key: usize) {
        let budget = self
            .cfg
            .extra_value("loading-process-events-interval-bytes")
            .parse::<usize>()
            .unwrap_or(2 * 1024 * 1024)
            .max(1024);
        match self.feed_loader(key, budget) {
            Ok(Step::More) => {
                // More to parse now (budget used up): come back after the
                // other clients had a turn.
                if !self.pending_input.contains(&key) {
                    self.pending_input.push(key);
                }
            }
            Ok(Step::Wait) => {}
            Ok(Step::Done) => self.finish_full_sync(key),
            Err(e) => self.load_failed(key, &e),
        }
    }

    fn feed_loader(&mut self, key: usize, budget: usize) -> Result<Step, RdbError> {
        let now = crate::util::mstime();
        let (Some(c), Some(t)) = (self.clients.get_mut(key), self.repl.link.transfer.as_mut())
        else {
            return Ok(Step::Wait);
        };
        let Some(l) = t.load.as_mut() else {
            return Ok(Step::Wait);
        };
        if l.file.is_some() {
            feed_from_file(l, budget)?;
            t.last_io_ms = now;
            if l.loader.done() {
                return Ok(Step::Done);
            }
            return Ok(if !l.file_eof || !l.file_buf.is_empty() {
                Step::More
            } else {
                Step::Wait
            });
        }
        if !l.loader.done() {
            // From the socket: never past the payload's end. An EOF-framed
            // payload has arrived whole when the buffer ends with the mark
            // (the master streams nothing after it before our ACK): the
            // loader must then parse what waits even short of its doubling
            // threshold, or a big last record would wait for bytes that
            // never come.
            let (avail, end) = match t.framing {
                Some(Framing::Len { total }) => {
                    let avail = ((total - t.read) as usize).min(c.query.len());
                    (avail, t.read + avail as u64 == total)
                }
                Some(Framing::Eof { mark }) if c.query.ends_with(&mark) => {
                    (c.query.len() - mark.len(), true)
                }
                _ => (c.query.len(), false),
            };
            let n = l.loader.feed(&c.query[..avail], &mut l.ks, budget, end)?;
            let _ = c.query.split_to(n);
            t.read += n as u64;
            if n > 0 {
                t.last_io_ms = now;
            }
            if !l.loader.done() {
                return Ok(if n >= budget && !c.query.is_empty() {
                    Step::More
                } else {
                    Step::Wait
                });
            }
        }
        // The RDB ended: an EOF-framed payload ends with the mark.
        match t.framing {
            Some(Framing::Eof { mark }) => {
                if c.query.len() < 40 {
                    return Ok(Step::Wait);
                }
                if c.query[..40] != mark[..] {
                    return Err(RdbError::Unsupported(
                        "Replication stream EOF marker is broken".into(),
                    ));
                }
                let _ = c.query.split_to(40);
                t.read += 40;
            }
            Some(Framing::Len { total }) if t.read != total => {
                return Err(RdbError::Unsupported(
                    "the RDB ended before the payload's announced length".into(),
                ));
            }
            _ => {}
        }
        Ok(Step::Done)
    }

    /// A load that cannot complete: the old data set stays ours.
    fn load_failed(&mut self, key: usize, e: &RdbError) {
        let from_file = self.loading_from_file();
        self.abandon_load(e);
        if from_file {
            log::warn!(
                "Failed trying to load the MASTER synchronization DB from disk, check server logs."
            );
        } else {
            log::warn!("Failed trying to load the MASTER synchronization DB from socket, check server logs.");
        }
        self.repl.psync_possible = false;
        self.close_async(key);
    }

    /// Drops a load in progress (a failure, or the link went away), with
    /// the lines Redis logs for it; the old data set stays.
    pub fn abandon_load(&mut self, e: &RdbError) {
        let Some(t) = self.repl.link.transfer.as_mut() else {
            return;
        };
        let Some(l) = t.load.take() else {
            return;
        };
        let what = match e {
            RdbError::ShortRead => "Unexpected EOF reading RDB file".to_string(),
            other => other.to_string(),
        };
        let offset = l.loader.loaded_bytes();
        if matches!(e, RdbError::ShortRead) {
            log::warn!("Internal error in RDB reading offset {offset}, function at rdb_load.rs -> {what}. Failure loading rdb format from socket, assuming connection error, resuming operation.");
        } else {
            log::warn!("Internal error in RDB reading offset {offset}, function at rdb_load.rs -> {what}. Failure loading rdb format");
        }
        if l.async_mode {
            log::warn!("MASTER <-> REPLICA sync: Discarding the half-loaded data set, the old one is served on");
        }
        self.persist.loading = false;
        self.persist.async_loading = false;
        drop(l);
    }

    /// The whole RDB loaded: it replaces our data set, streaming starts.
    fn finish_full_sync(&mut self, key: usize) {
        let Some(mut t) = self.repl.link.transfer.take() else {
            return;
        };
        let Some(l) = t.load.take() else {
            return;
        };
        let l = *l;
        self.persist.loading = false;
        self.persist.async_loading = false;
        let elapsed = (crate::util::mstime() - l.start_ms).max(0) as f64 / 1000.0;
        let Loading {
            loader,
            ks: mut fresh,
            ..
        } = l;
        let mut info = loader.into_info();
        if self.guard_refuses(info.keys_loaded) {
            // Our data set stays; the link stays down until told otherwise.
            self.remove_sync_file(&mut t, false);
            self.close_async(key);
            return;
        }
        // The master's libraries replace ours, as its data does.
        let codes = std::mem::take(&mut info.functions);
        if let Err(e) = self.functions_load_rdb(codes) {
            log::warn!(
                "Failed trying to load the MASTER synchronization DB: Failed loading library: {e}"
            );
            self.repl.psync_possible = false;
            self.remove_sync_file(&mut t, false);
            self.close_async(key);
            return;
        }
        self.remove_sync_file(&mut t, true);
        log::info!("MASTER <-> REPLICA sync: Flushing old data");
        self.ks.signal_flushed(None);
        // Swap the databases only: server-level bookkeeping (watchers,
        // blocked keys, stats) stays.
        for (old, new) in self.ks.dbs.iter_mut().zip(fresh.dbs.iter_mut()) {
            std::mem::swap(old, new);
        }
        // replica-lazy-flush: the old data set is freed by the loop.
        if self.cfg.extra_value("replica-lazy-flush") == "yes" {
            for d in fresh.dbs.iter_mut() {
                let (keys, expires) = (d.dict.take(), d.expires.take());
                self.ks.lazy.free_db(keys, expires);
            }
        }
        drop(fresh);
        self.persist.rdb_last_load_keys_loaded = info.keys_loaded;
        self.persist.rdb_last_load_keys_expired = info.keys_expired;
        log::info!(
            "Done loading RDB, keys loaded: {}, keys expired: {}, elapsed: {elapsed:.3} seconds",
            info.keys_loaded,
            info.keys_expired
        );
        // Our history is now the master's.
        self.repl.synced_run_id = self.repl.link.master_run_id.clone();
        self.repl.replica_keys_with_expire.clear();
        self.repl.replid = std::mem::take(&mut self.repl.link.fullsync_replid);
        self.repl.master_repl_offset = self.repl.link.fullsync_offset.max(0);
        self.repl.clear_replid2();
        self.repl.backlog = None;
        self.create_backlog();
        // Our sub-replicas hold the old data set: they must resync.
        self.disconnect_replicas();
        log::info!("MASTER <-> REPLICA sync: Finished with success");
        // After a full sync the master selects a db before its next command.
        self.link_established(key, 0);
    }

    /// A disk-based transfer's file becomes our dump, unless persistence
    /// is off and rdb-del-sync-files asks not to keep it (or it failed).
    fn remove_sync_file(&mut self, t: &mut Transfer, ok: bool) {
        let Some((f, path)) = t.file.take() else {
            return;
        };
        drop(f);
        if ok && !self.rdb_del_sync_files_applies() {
            let target = std::path::Path::new(&self.cfg.dir).join(&self.cfg.dbfilename);
            if std::fs::rename(&path, &target).is_ok() {
                return;
            }
        }
        let _ = std::fs::remove_file(&path);
    }
}

/// Disk-based load: reads the next piece of the file and feeds it.
fn feed_from_file(l: &mut Loading, budget: usize) -> Result<(), RdbError> {
    // Read on while a record longer than what is buffered waits for more.
    if !l.file_eof && (l.file_buf.len() < budget || l.loader.needs_more(l.file_buf.len())) {
        let have = l.file_buf.len();
        l.file_buf.resize(have + budget, 0);
        let mut got = 0;
        if let Some(f) = l.file.as_mut() {
            while have + got < l.file_buf.len() {
                match f.read(&mut l.file_buf[have + got..]) {
                    Ok(0) => {
                        l.file_eof = true;
                        break;
                    }
                    Ok(n) => got += n,
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                    Err(e) => return Err(RdbError::Io(e)),
                }
            }
        }
        l.file_buf.truncate(have + got);
    }
    let n = l.loader.feed(&l.file_buf, &mut l.ks, budget, l.file_eof)?;
    l.file_buf.drain(..n);
    Ok(())
}

/// Where an EOF-framed payload ends in `data`, given the `tail` (last <= 40
/// bytes) already consumed: the count of `data` bytes up to and including
/// the mark, if it is there.
fn find_eof_mark(tail: &[u8], data: &[u8], mark: &[u8; 40]) -> Option<usize> {
    // A mark straddling what was consumed and what arrived.
    let mut boundary = tail.to_vec();
    boundary.extend_from_slice(&data[..data.len().min(mark.len())]);
    if let Some(p) = boundary.windows(mark.len()).position(|w| w == mark) {
        return Some((p + mark.len()).saturating_sub(tail.len()));
    }
    data.windows(mark.len())
        .position(|w| w == mark)
        .map(|p| p + mark.len())
}

#[cfg(test)]
mod tests {
    use super::find_eof_mark;

    #[test]
    fn eof_mark_found_across_reads_and_before_stream_bytes() {
        let mark = [b'a'; 40];
        let mut data = b"RDB...".to_vec();
        data.extend_from_slice(&mark);
        data.extend_from_slice(b"*1\r\n$4\r\nPING\r\n");
        assert_eq!(find_eof_mark(&[], &data, &mark), Some(46));
        // Split inside the mark: 10 bytes already consumed.
        assert_eq!(find_eof_mark(&mark[..10], &data[16..], &mark), Some(30));
        assert_eq!(find_eof_mark(&[], b"no mark here", &mark), None);
    }
}
