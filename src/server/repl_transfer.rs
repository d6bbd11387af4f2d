//! Replica side, the full sync's payload: receiving the `$<len>` or
//! `$EOF:<mark>` RDB into a temp file or memory (repl-diskless-load),
//! loading it into a fresh keyspace that replaces ours only once it loaded
//! completely, and keeping the master link alive meanwhile.

use super::Server;
use crate::repl::link::{take_line, Framing, KeepAliveReader, LinkState, Transfer};

impl Server {
    pub(super) fn begin_transfer(&mut self) {
        // repl-diskless-load: "disabled" stores the payload in a temp file
        // (kept as our dump afterwards); "on-empty-db" only skips the disk
        // when we hold no data; "swapdb" always loads from memory.
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
            mem: Vec::new(),
            tail: Vec::new(),
            last_io_ms: self.ks.now_ms,
        });
        self.repl.link.state = LinkState::Transfer;
    }

    /// Consumes payload bytes from the master's buffer.
    pub(super) fn read_transfer(&mut self, key: usize) {
        use std::io::Write;
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
                if let Some(mark) = line.strip_prefix(b"$EOF:") {
                    let Ok(mark): Result<[u8; 40], _> = mark.try_into() else {
                        self.close_async(key);
                        return;
                    };
                    log::info!("MASTER <-> REPLICA sync: receiving streamed RDB from master with EOF to disk");
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
                        "MASTER <-> REPLICA sync: receiving {total} bytes from master to disk"
                    );
                    t.framing = Some(Framing::Len { total });
                }
                break;
            }
        }
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
        let write_ok = match t.file.as_mut() {
            Some((f, _)) => f.write_all(&chunk).is_ok(),
            None => {
                t.mem.extend_from_slice(&chunk);
                true
            }
        };
        if !write_ok {
            log::warn!("Write error or short write writing to the DB dump file needed for MASTER <-> REPLICA synchronization");
            self.close_async(key);
            return;
        }
        if done {
            self.finish_full_sync(key);
        }
    }

    /// The whole RDB arrived: flush old data, load it, start streaming.
    fn finish_full_sync(&mut self, key: usize) {
        let Some(mut t) = self.repl.link.transfer.take() else {
            return;
        };
        let eof = matches!(t.framing, Some(Framing::Eof { .. }));
        log::info!("MASTER <-> REPLICA sync: Loading DB in memory");
        let lim = crate::types::Limits::from_config(&self.cfg);
        let started = std::time::Instant::now();
        // Load into a fresh keyspace and swap it in only on success: a bad
        // transfer never costs the data we had.
        let mut fresh = crate::db::Keyspace::new(self.ks.dbs.len());
        if self.ks.has_slot_index() {
            fresh.enable_slot_index();
        }
        let master_fd = self.clients.get(key).map_or(-1, |c| c.stream.raw_fd());
        fresh.expire_mode = crate::db::ExpireMode::ApplyingMaster;
        let result = match t.file.take() {
            Some((f, path)) => {
                drop(f);
                let r = std::fs::File::open(&path)
                    .map_err(|e| e.to_string())
                    .and_then(|f| {
                        let r = std::io::BufReader::with_capacity(64 * 1024, f);
                        crate::persist::load_rdb(
                            KeepAliveReader::new(r, master_fd),
                            &mut fresh,
                            &lim,
                            true,
                        )
                        .map_err(|e| e.to_string())
                    });
                if r.is_ok() {
                    // The payload becomes our dump, unless persistence is
                    // off and rdb-del-sync-files asks not to keep it.
                    if self.rdb_del_sync_files_applies() {
                        let _ = std::fs::remove_file(&path);
                    } else {
                        let target = std::path::Path::new(&self.cfg.dir).join(&self.cfg.dbfilename);
                        if std::fs::rename(&path, &target).is_err() {
                            let _ = std::fs::remove_file(&path);
                        }
                    }
                } else {
                    let _ = std::fs::remove_file(&path);
                }
                r
            }
            None => {
                let mut data = &t.mem[..];
                if eof && data.len() >= 40 {
                    data = &data[..data.len() - 40];
                }
                crate::persist::load_rdb(
                    KeepAliveReader::new(&mut data, master_fd),
                    &mut fresh,
                    &lim,
                    true,
                )
                .map_err(|e| e.to_string())
            }
        };
        let result = result.and_then(|mut info| {
            // The master's libraries replace ours, as its data does.
            let codes = std::mem::take(&mut info.functions);
            self.functions_load_rdb(codes)
                .map(|()| info)
                .map_err(|e| format!("Failed loading library: {e}"))
        });
        if let Err(e) = result {
            log::warn!("Failed trying to load the MASTER synchronization DB from disk: {e}");
            self.repl.psync_possible = false;
            self.close_async(key);
            return;
        }
        log::info!("MASTER <-> REPLICA sync: Flushing old data");
        self.ks.signal_flushed(None);
        // Swap the databases only: server-level bookkeeping (watchers,
        // blocked keys, stats) stays.
        for (old, new) in self.ks.dbs.iter_mut().zip(fresh.dbs.iter_mut()) {
            std::mem::swap(old, new);
        }
        drop(fresh);
        log::info!(
            "Done loading RDB, keys loaded: {}, elapsed: {:.3} seconds",
            self.ks.total_keys(),
            started.elapsed().as_secs_f64()
        );
        // Our history is now the master's.
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
