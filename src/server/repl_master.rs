//! Master side of replication: SYNC/PSYNC, the partial-or-full decision, the
//! full sync through a forked child (RDB to disk then sent with sendfile, or
//! diskless: the child writes the EOF-framed RDB straight to the sockets),
//! buffering the stream of replicas that are syncing, ACKs and WAIT.

use super::Server;
use crate::error::CmdError;
use crate::net::{flags, Kind};
use crate::repl::{ReplChild, ReplicaInfo, ReplicaState};
use bytes::Bytes;

type R = Result<(), CmdError>;

impl Server {
    /// Slab keys of our replicas whose sync state matches `pred`.
    pub fn replicas_where(&self, pred: impl Fn(&ReplicaInfo) -> bool) -> Vec<usize> {
        self.clients
            .replicas()
            .filter(|(_, _, r)| pred(r))
            .map(|(k, _, _)| k)
            .collect()
    }

    /// How many of our replicas have a sync state matching `pred`.
    pub fn count_replicas(&self, pred: impl Fn(&ReplicaInfo) -> bool) -> usize {
        self.clients.replicas().filter(|(_, _, r)| pred(r)).count()
    }

    /// The replica-info of a client, created on first use (REPLCONF comes
    /// before PSYNC).
    pub fn replica_info(&mut self, key: usize) -> Option<&mut ReplicaInfo> {
        self.clients.replica_or_default(key)
    }

    /// Online replicas whose last ACK is at most `max_lag` seconds old
    /// (min-replicas-to-write).
    pub fn good_replicas(&self, now_ms: i64, max_lag: u64) -> usize {
        self.count_replicas(|r| {
            r.state == ReplicaState::Online && (now_ms - r.ack_time_ms) / 1000 <= max_lag as i64
        })
    }

    pub fn cmd_sync(&mut self, key: usize) -> R {
        self.sync_common(key, None)
    }

    pub fn cmd_psync(&mut self, key: usize, argv: &[Bytes]) -> R {
        let replid = String::from_utf8_lossy(&argv[1]).into_owned();
        let Some(offset) = crate::encoding::numbers::string2ll(&argv[2]) else {
            log::warn!(
                "Replica {} asks for synchronization but with a wrong offset",
                self.replica_name(key)
            );
            return Err(crate::error::NOT_INT.into());
        };
        if argv.len() > 3 {
            if argv.len() > 4 || !crate::cmd::eq_ic(&argv[3], "failover") {
                return Err(crate::error::SYNTAX.into());
            }
            // Our master hands its role over to us (FAILOVER on its side).
            if !self.repl.is_replica() {
                return Err("ERR PSYNC FAILOVER can't be sent to a master.".into());
            }
            if replid != self.repl.replid {
                return Err("ERR PSYNC FAILOVER replid must match my replid.".into());
            }
            log::info!("Failover request received for replid {replid}.");
            self.replication_unset_master();
        }
        self.sync_common(key, Some((replid, offset)))
    }

    fn sync_common(&mut self, key: usize, psync: Option<(String, i64)>) -> R {
        let Some(c) = self.clients.get(key) else {
            return Ok(());
        };
        if c.kind == Kind::Replica {
            return Ok(());
        }
        if self.repl.is_replica() && !self.repl.link_up() {
            return Err("NOMASTERLINK Can't SYNC while not connected with my master".into());
        }
        if c.pending_reply() > 0 {
            return Err("ERR SYNC and PSYNC are invalid with pending output".into());
        }
        // A filtered snapshot is never written to disk (it would replace
        // the real dump): the replica must take it over the socket.
        if self
            .clients
            .replica(key)
            .is_some_and(|r| r.req.any() && !r.capa_eof)
        {
            return Err("ERR Filtered replica requires EOF capability".into());
        }
        let addr = c.addr.clone();
        let name = self.replica_name(key);
        log::info!("Replica {name} asks for synchronization");
        if let Some((replid, offset)) = &psync {
            if self.try_partial_resync(key, replid, *offset) {
                return Ok(());
            }
            if replid != "?" {
                self.stats.sync_partial_err += 1;
            }
        }
        let _ = addr;
        self.stats.sync_full += 1;
        // Become a replica client: no more command replies, stream only.
        let info = self.replica_info(key);
        if let Some(info) = info {
            info.state = ReplicaState::WaitBgsaveStart;
            info.old_sync = psync.is_none();
            info.repl_pos = None;
        }
        self.clients.add_replica(key);
        if let Some(c) = self.clients.get_mut(key) {
            c.kind = Kind::Replica;
            // repl-disable-tcp-nodelay: fewer, bigger packets to replicas.
            if let (true, crate::net::Stream::Tcp(s)) =
                (self.cfg.repl_disable_tcp_nodelay, &c.stream)
            {
                let _ = s.set_nodelay(false);
            }
        }
        if self.repl.backlog.is_none() {
            // A new backlog starts a new history.
            self.repl.change_replid();
            self.repl.clear_replid2();
            self.create_backlog();
        }
        log::info!("Full resync requested by replica {name}");
        self.maybe_start_sync_save(key);
        Ok(())
    }

    pub fn create_backlog(&mut self) {
        let size = self.cfg.repl_backlog_size as usize;
        self.repl.backlog = Some(crate::repl::backlog::Backlog::new(
            size,
            self.repl.master_repl_offset + 1,
        ));
        log::info!(
            "Replication backlog created, my new replication IDs are '{}' and '{}'",
            self.repl.replid,
            self.repl.replid2
        );
    }

    /// Answers +CONTINUE and sends the backlog tail when possible.
    fn try_partial_resync(&mut self, key: usize, replid: &str, offset: i64) -> bool {
        let name = self.replica_name(key);
        if !self.repl.can_continue(replid, offset) {
            if replid != "?" {
                if replid != self.repl.replid && replid != self.repl.replid2 {
                    log::info!("Partial resynchronization not accepted: Replication ID mismatch (Replica asked for '{replid}', my replication IDs are '{}' and '{}')", self.repl.replid, self.repl.replid2);
                } else {
                    log::info!("Unable to partial resync with replica {name} for lack of backlog (Replica request was: {offset}).");
                }
            }
            return false;
        }
        let psync2 = self.clients.replica(key).is_some_and(|r| r.capa_psync2);
        let line = if psync2 {
            format!("+CONTINUE {}\r\n", self.repl.replid)
        } else {
            "+CONTINUE\r\n".to_string()
        };
        // The replica references the backlog from its offset on: nothing
        // is copied, however long the history it needs.
        let pos = self.repl.backlog.as_ref().and_then(|b| b.pos_at(offset));
        let sent = self
            .repl
            .backlog
            .as_ref()
            .zip(pos)
            .map_or(0, |(b, p)| b.pending_from(p));
        let now = self.ks.now_ms;
        if let Some(info) = self.replica_info(key) {
            info.state = ReplicaState::Online;
            info.ack_time_ms = now;
            info.repl_pos = pos;
        }
        self.clients.add_replica(key);
        if let Some(c) = self.clients.get_mut(key) {
            c.kind = Kind::Replica;
            c.reply.extend_from_slice(line.as_bytes());
        }
        self.mark_pending_write(key);
        self.stats.sync_partial_ok += 1;
        log::info!("Partial resynchronization request from {name} accepted. Sending {sent} bytes of backlog starting from offset {offset}.");
        true
    }

    /// Attaches a replica to a save in progress, or starts one, or waits.
    fn maybe_start_sync_save(&mut self, key: usize) {
        let capa_eof = self.clients.replica(key).is_some_and(|r| r.capa_eof);
        let filtered = self.clients.replica(key).is_some_and(|r| r.req.any());
        if let Some(child) = self.repl.child {
            // A disk save for replicas is running: share it if another
            // replica waits on it (its buffered stream is ours too).
            if !child.diskless && !filtered {
                let donor = self
                    .clients
                    .replicas()
                    .find(|(k, _, r)| *k != key && r.state == ReplicaState::WaitBgsaveEnd);
                if let Some((_, _, d)) = donor {
                    let (pos, off) = (d.repl_pos, d.psync_offset);
                    self.setup_full_resync(key, off);
                    if let Some(info) = self.replica_info(key) {
                        info.repl_pos = pos;
                    }
                    log::info!("Waiting for end of BGSAVE for SYNC");
                    return;
                }
            }
            log::info!(
                "Can't attach the replica to the current BGSAVE. Waiting for next BGSAVE for SYNC"
            );
            return;
        }
        if self.persist.child_pid().is_some() {
            // A user BGSAVE or AOF rewrite runs; cron starts ours afterwards.
            return;
        }
        if (self.cfg.repl_diskless_sync || filtered) && capa_eof {
            // (A filtered RDB goes through a socket even when diskless sync
            // is off, then without waiting for more replicas.)
            let delay = if self.cfg.repl_diskless_sync {
                self.cfg.repl_diskless_sync_delay as i64 * 1000
            } else {
                0
            };
            if delay == 0 {
                // No replicas to wait for: start now, not at the next cron.
                self.start_sync_save(true);
            } else if self.repl.diskless_start_at_ms.is_none() {
                self.repl.diskless_start_at_ms = Some(self.ks.now_ms + delay);
                log::info!("Delay next BGSAVE for diskless SYNC");
            }
            return;
        }
        self.start_sync_save(false);
    }

    /// Sends +FULLRESYNC (PSYNC replicas) and marks the replica as waiting
    /// for the end of the save.
    fn setup_full_resync(&mut self, key: usize, offset: i64) {
        let replid = self.repl.replid.clone();
        let Some((c, info)) = self.clients.with_replica_mut(key) else {
            return;
        };
        if !info.old_sync {
            c.reply
                .extend_from_slice(format!("+FULLRESYNC {replid} {offset}\r\n").as_bytes());
        }
        info.state = ReplicaState::WaitBgsaveEnd;
        info.psync_offset = offset;
        info.repl_pos = None;
        info.acked_early = false;
        self.mark_pending_write(key);
    }

    /// Forks the child that produces the RDB for every replica waiting to
    /// start (Redis's startBgsaveForReplication).
    pub fn start_sync_save(&mut self, diskless: bool) {
        self.repl.diskless_start_at_ms = None;
        let max = self.cfg.repl_diskless_sync_max_replicas as usize;
        let mut waiting: Vec<usize> = self.replicas_where(|r| {
            r.state == ReplicaState::WaitBgsaveStart
                && (!diskless || r.capa_eof)
                && (diskless || !(r.req.any() && r.capa_eof))
        });
        // One save serves replicas that asked for the same RDB (the first
        // waiting one's filters; the others wait for the next save).
        let req = waiting
            .first()
            .and_then(|&k| self.clients.replica(k))
            .map(|r| r.req)
            .unwrap_or_default();
        waiting.retain(|&k| self.clients.replica(k).is_some_and(|r| r.req == req));
        if diskless && max > 0 {
            waiting.truncate(max);
        }
        if waiting.is_empty() {
            return;
        }
        // Everything after the fork point must start with a SELECT.
        self.repl.slave_seldb = None;
        let offset = self.repl.master_repl_offset;
        for &k in &waiting {
            self.setup_full_resync(k, offset);
        }
        // The +FULLRESYNC lines must reach the sockets before the child
        // writes to them (diskless) or the bulk follows (disk).
        for &k in &waiting {
            if let Some(c) = self.clients.get_mut(k) {
                let _ = c.flush();
            }
        }
        let result = if diskless {
            log::info!("Starting BGSAVE for SYNC with target: replicas sockets");
            self.fork_rdb_to_pipe(&waiting, req)
        } else {
            log::info!("Starting BGSAVE for SYNC with target: disk");
            self.fork_rdb_to_disk()
        };
        match result {
            Ok(pid) => {
                log::info!("Background RDB transfer started by pid {pid}");
                self.repl.child = Some(ReplChild {
                    pid,
                    diskless,
                    started_ms: self.ks.now_ms,
                });
            }
            Err(e) => {
                log::warn!("BGSAVE for replication failed: {e}");
                for k in waiting {
                    self.close_async(k);
                }
            }
        }
    }

    /// The replication child exited: hand the RDB to the replicas waiting
    /// for it, or drop them on failure.
    pub fn repl_child_done(&mut self, ok: bool) {
        let Some(child) = self.repl.child else {
            return;
        };
        if child.diskless {
            // The child may exit before the loop read all it wrote: the
            // transfer ends when the pipe runs dry.
            if let Some(p) = self.repl.pipe.as_mut() {
                if ok && !p.eof {
                    p.child_exit = Some(ok);
                    return;
                }
            }
            self.rdb_pipe_cleanup();
        }
        self.repl.child = None;
        let waiting: Vec<usize> = self.replicas_where(|r| r.state == ReplicaState::WaitBgsaveEnd);
        if !ok {
            log::warn!("Background transfer error");
            for k in waiting {
                self.close_async(k);
            }
            return;
        }
        for k in waiting {
            if child.diskless {
                log::info!("Streamed RDB transfer with replica {} succeeded (socket). Waiting for REPLCONF ACK from replica to enable streaming", self.replica_name(k));
                let early = self.clients.replica_mut(k).is_some_and(|info| {
                    info.state = ReplicaState::WaitAck;
                    info.acked_early
                });
                if early {
                    self.replica_online(k);
                }
            } else {
                self.replica_send_rdb_file(k);
            }
        }
        // Replicas that arrived during this save need another one.
        let more = self.count_replicas(|r| r.state == ReplicaState::WaitBgsaveStart) > 0;
        if more {
            let diskless = self.cfg.repl_diskless_sync;
            if diskless {
                self.repl.diskless_start_at_ms.get_or_insert(self.ks.now_ms);
            } else {
                self.start_sync_save(false);
            }
        }
    }

    /// Disk-based: open the RDB and announce its size; before_sleep streams
    /// the file with sendfile.
    fn replica_send_rdb_file(&mut self, key: usize) {
        let path = std::path::Path::new(&self.cfg.dir).join(&self.cfg.dbfilename);
        let file = match std::fs::File::open(&path) {
            Ok(f) => f,
            Err(e) => {
                log::warn!("SYNC failed. Can't open/stat DB after BGSAVE: {e}");
                self.close_async(key);
                return;
            }
        };
        let size = file.metadata().map(|m| m.len()).unwrap_or(0);
        let Some((c, info)) = self.clients.with_replica_mut(key) else {
            return;
        };
        c.reply.extend_from_slice(format!("${size}\r\n").as_bytes());
        info.state = ReplicaState::SendBulk;
        info.rdb_file = Some(file);
        info.rdb_off = 0;
        info.rdb_size = size;
        info.sync_sent_bytes = 0;
        self.mark_pending_write(key);
    }

    /// Pushes RDB file bytes to replicas in SendBulk with sendfile(2).
    pub fn send_bulk_to_replicas(&mut self) {
        if self.ks.now_ms < self.repl.pause_until_ms {
            return;
        }
        let sending: Vec<usize> = self.replicas_where(|r| r.state == ReplicaState::SendBulk);
        for k in sending {
            let Some((c, info)) = self.clients.with_replica_mut(k) else {
                continue;
            };
            // The "$<size>" header goes first.
            if c.pending_reply() > 0 {
                match c.flush() {
                    Ok(true) => {}
                    Ok(false) => {
                        self.want_write(k, true);
                        continue;
                    }
                    Err(_) => {
                        self.close_async(k);
                        continue;
                    }
                }
            }
            let fd = c.stream.raw_fd();
            let Some(file) = info.rdb_file.as_ref() else {
                continue;
            };
            use std::os::fd::AsRawFd;
            let mut failed = false;
            let mut blocked = false;
            while info.rdb_off < info.rdb_size {
                let mut off = info.rdb_off as libc::off_t;
                let left = (info.rdb_size - info.rdb_off) as usize;
                // SAFETY: sendfile between two descriptors we own.
                let n =
                    unsafe { libc::sendfile(fd, file.as_raw_fd(), &mut off, left.min(1 << 20)) };
                if n > 0 {
                    info.rdb_off += n as u64;
                    info.sync_sent_bytes = info.rdb_off;
                    self.stats.net_output_bytes += n as u64;
                    self.stats.net_repl_output_bytes += n as u64;
                    continue;
                }
                let err = std::io::Error::last_os_error();
                if n < 0 && err.kind() == std::io::ErrorKind::WouldBlock {
                    blocked = true;
                    break;
                }
                if n < 0 && err.kind() == std::io::ErrorKind::Interrupted {
                    continue;
                }
                failed = true;
                break;
            }
            if blocked {
                self.want_write(k, true);
            } else if failed {
                log::warn!("Write error sending DB to replica");
                self.close_async(k);
            } else if info.rdb_off >= info.rdb_size {
                info.rdb_file = None;
                log::info!(
                    "Synchronization with replica {} succeeded",
                    self.replica_name(k)
                );
                self.replica_online(k);
                self.remove_rdb_used_to_sync();
            }
        }
    }

    /// The RDB is through: the buffered stream follows, then the live one.
    pub fn replica_online(&mut self, key: usize) {
        let now = self.ks.now_ms;
        if let Some(info) = self.clients.replica_mut(key) {
            info.state = ReplicaState::Online;
            info.ack_time_ms = now;
        }
        self.mark_pending_write(key);
    }

    /// rdb-del-sync-files: with no save points and no AOF, a dump that only
    /// existed to sync replicas is deleted once no replica needs it.
    pub fn rdb_del_sync_files_applies(&self) -> bool {
        self.cfg.rdb_del_sync_files && self.cfg.save.is_empty() && !self.cfg.appendonly
    }

    fn remove_rdb_used_to_sync(&mut self) {
        if !self.rdb_del_sync_files_applies() {
            return;
        }
        let busy = !self
            .replicas_where(|r| {
                matches!(
                    r.state,
                    ReplicaState::WaitBgsaveStart
                        | ReplicaState::WaitBgsaveEnd
                        | ReplicaState::SendBulk
                )
            })
            .is_empty();
        if !busy && self.persist.child_pid().is_none() {
            log::info!(
                "Removing the RDB file used to feed replicas in a persistence-less instance"
            );
            let _ = std::fs::remove_file(
                std::path::Path::new(&self.cfg.dir).join(&self.cfg.dbfilename),
            );
        }
    }

    /// The address a replica is known by: the IP it announced
    /// (replica-announce-ip) or the one it connected from.
    pub fn replica_ip(&self, key: usize) -> String {
        if let Some(ip) = self
            .clients
            .replica(key)
            .and_then(|r| r.announced_ip.clone())
        {
            return ip;
        }
        self.clients.get(key).map_or_else(String::new, |c| {
            c.addr
                .rsplit_once(':')
                .map_or(c.addr.as_str(), |(h, _)| h)
                .to_string()
        })
    }

    /// "ip:port" of a replica, as Redis names them in logs.
    pub fn replica_name(&self, key: usize) -> String {
        match self.clients.get(key) {
            Some(c) => {
                let ip = c
                    .addr
                    .rsplit_once(':')
                    .map_or(c.addr.as_str(), |(h, _)| h)
                    .to_string();
                match self.clients.replica(key).map_or(0, |r| r.listening_port) {
                    0 => format!("{ip}:<unknown-replica-port>"),
                    port => format!("{ip}:{port}"),
                }
            }
            None => "?".into(),
        }
    }

    /// Starts the diskless save once its delay passed; starts saves for
    /// replicas that waited for another child to finish.
    pub fn repl_master_cron(&mut self) {
        let now = self.ks.now_ms;
        if self.repl.child.is_none() && self.persist.child_pid().is_none() {
            if let Some(at) = self.repl.diskless_start_at_ms {
                let max = self.cfg.repl_diskless_sync_max_replicas as usize;
                let waiting = self.count_replicas(|r| r.state == ReplicaState::WaitBgsaveStart);
                if now >= at || (max > 0 && waiting >= max) {
                    self.start_sync_save(true);
                }
            } else {
                let diskless = self.cfg.repl_diskless_sync;
                let waiting = self.count_replicas(|r| {
                    r.state == ReplicaState::WaitBgsaveStart
                        && !((diskless || r.req.any()) && r.capa_eof)
                }) > 0;
                if waiting {
                    self.start_sync_save(false);
                } else if self.count_replicas(|r| r.state == ReplicaState::WaitBgsaveStart) > 0 {
                    self.repl.diskless_start_at_ms = Some(now);
                }
            }
        }
        // Newlines keep replicas that wait for a disk save from timing out.
        let disk_child = !self.repl.child.is_some_and(|ch| ch.diskless);
        let waiting: Vec<usize> = self.replicas_where(|r| {
            r.state == ReplicaState::WaitBgsaveStart
                || (r.state == ReplicaState::WaitBgsaveEnd && disk_child)
        });
        for k in waiting {
            if let Some(c) = self.clients.get_mut(k) {
                c.reply.push(b'\n');
            }
            self.mark_pending_write(k);
        }
        // PING the replicas every repl-ping-replica-period seconds.
        let has_replicas = self.clients.has_replicas();
        // As Redis's replicationCron: on the calls of this once-a-second
        // cron (counted from 0, the call at startup) that are multiples of
        // the period, not "a period after the first replica came" (which
        // would PING a new replica at once).
        let period = self.cfg.repl_ping_replica_period.max(1) as i64;
        let call = self.repl.cron_calls;
        self.repl.cron_calls += 1;
        // (Not during a FAILOVER's pause: it waits for the offset to match;
        // nor during a cluster manual failover's.)
        let failover_pause = self.failover.is_some() && self.clients_paused_until_ms != 0;
        if has_replicas
            && !self.repl.is_replica()
            && !failover_pause
            && !self.cluster_manual_failover_paused()
            && call % period == 0
        {
            self.propagate_now_raw_command(&[Bytes::from_static(b"PING")]);
        }
        // Drop replicas that stopped acknowledging.
        let timeout = self.cfg.repl_timeout as i64 * 1000;
        let dead: Vec<usize> = self.replicas_where(|r| {
            r.state == ReplicaState::Online && !r.old_sync && now - r.ack_time_ms > timeout
        });
        for k in dead {
            log::warn!(
                "Disconnecting timedout replica (streaming sync): {}",
                self.replica_name(k)
            );
            self.close_async(k);
        }
        self.rdb_pipe_timeouts();
        // Output limits once a second as well: a soft limit expires even
        // when no new stream arrives.
        for k in self.clients.replica_keys() {
            self.check_replica_output_limit(k);
        }
        // Free the backlog after repl-backlog-ttl without replicas.
        if !self.repl.is_replica() && self.repl.backlog.is_some() && self.cfg.repl_backlog_ttl > 0 {
            if has_replicas {
                self.repl.no_replicas_since_ms = 0;
            } else if self.repl.no_replicas_since_ms == 0 {
                self.repl.no_replicas_since_ms = now;
            } else if now - self.repl.no_replicas_since_ms > self.cfg.repl_backlog_ttl as i64 * 1000
            {
                self.repl.change_replid();
                self.repl.clear_replid2();
                self.repl.backlog = None;
                log::info!(
                    "Replication backlog freed after {} seconds without connected replicas.",
                    self.cfg.repl_backlog_ttl
                );
            }
        }
    }

    /// Feeds a command to the stream without a SELECT (PING, GETACK).
    pub fn propagate_now_raw_command(&mut self, argv: &[Bytes]) {
        if self.repl.backlog.is_none() {
            return;
        }
        let mut buf = Vec::new();
        crate::persist::aof::cat_command(&mut buf, argv);
        self.repl_feed_raw(&buf);
    }

    /// Forks a child writing the RDB to `temp-<pid>.rdb` and renaming it
    /// over the dump file (a BGSAVE that replicas wait for).
    fn fork_rdb_to_disk(&mut self) -> Result<i32, String> {
        let aux = self.rdb_aux();
        let dir = std::path::PathBuf::from(&self.cfg.dir);
        let file = self.cfg.dbfilename.clone();
        let fill = self.cfg.list_max_listpack_size;
        self.persist.dirty_before_bgsave = self.dirty;
        self.start_child(crate::persist::fork::ChildKind::ReplDisk, move |s| {
            match super::persistence::rdb_save_file(&s.ks, &dir, &file, &aux, fill) {
                Ok(()) => 0,
                Err(_) => 1,
            }
        })
    }

    // ---- WAIT ----

    pub fn cmd_wait(&mut self, key: usize, argv: &[Bytes]) -> R {
        if self.repl.is_replica() {
            return Err("ERR WAIT cannot be used with replica instances. Please also note that since Redis 4.0 if a replica is configured to be writable (which is not the default) writes to replicas are just local and are not propagated.".into());
        }
        let n = crate::encoding::numbers::string2ll(&argv[1])
            .ok_or(CmdError::from(crate::error::NOT_INT))?;
        let timeout = crate::encoding::numbers::string2ll(&argv[2]).ok_or(CmdError::from(
            "ERR timeout is not an integer or out of range",
        ))?;
        if timeout < 0 {
            return Err("ERR timeout is negative".into());
        }
        let Some(c) = self.clients.get(key) else {
            return Ok(());
        };
        let offset = c.woff;
        let acked = self.replicas_acked(offset);
        if acked >= n.max(0) as usize || c.has(flags::MULTI) {
            self.reply(key, |o| o.int(acked as i64));
            return Ok(());
        }
        let Some(client) = self.clients.handle(key) else {
            return Ok(());
        };
        let deadline = if timeout == 0 {
            0
        } else {
            self.ks.now_ms + timeout
        };
        self.repl.waiters.push(crate::repl::Waiter {
            client,
            numreplicas: n as usize,
            offset,
            deadline_ms: deadline,
        });
        if let Some(c) = self.clients.get_mut(key) {
            c.flags |= flags::BLOCKED;
        }
        self.repl.getack_pending = true;
        Ok(())
    }

    fn replicas_acked(&self, offset: i64) -> usize {
        self.count_replicas(|r| r.state == ReplicaState::Online && r.ack_offset >= offset)
    }

    /// Replies to WAIT clients that are satisfied or timed out.
    pub fn process_waiters(&mut self) {
        if self.repl.waiters.is_empty() {
            return;
        }
        let now = crate::util::mstime();
        let waiters = std::mem::take(&mut self.repl.waiters);
        for w in waiters {
            let Some(key) = self.clients.resolve(w.client) else {
                continue;
            };
            let acked = self.replicas_acked(w.offset);
            if acked >= w.numreplicas || (w.deadline_ms != 0 && now >= w.deadline_ms) {
                if let Some(c) = self.clients.get_mut(key) {
                    c.flags &= !flags::BLOCKED;
                }
                self.reply(key, |o| o.int(acked as i64));
                self.mark_pending_write(key);
                self.pending_input.push(key);
            } else {
                self.repl.waiters.push(w);
            }
        }
    }
}
