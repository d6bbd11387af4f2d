//! The master side of the shared replication buffer (`repl::backlog`):
//! feeding the stream into it once, attaching replicas to it, writing each
//! replica's part to its socket straight from the shared blocks (writev),
//! the replica output-buffer limits and trimming, and the memory figures
//! INFO and CLIENT LIST report for it (Redis 7.0's replication buffer).

use super::Server;
use crate::net::Kind;
use crate::repl::backlog::{Pos, TRIM_BLOCKS_PER_CALL};
use crate::repl::ReplicaState;
use bytes::Bytes;
use std::io;

/// Slices handed to one writev(2).
const IOV_MAX_BATCH: usize = 32;

/// writev(2) of `bufs` to `fd`, retrying on EINTR.
fn writev(fd: i32, bufs: &[&[u8]]) -> io::Result<usize> {
    // On the stack: no allocation per write (at most IOV_MAX_BATCH slices).
    let mut iov = [libc::iovec {
        iov_base: std::ptr::null_mut(),
        iov_len: 0,
    }; IOV_MAX_BATCH];
    let count = bufs.len().min(IOV_MAX_BATCH);
    for (v, b) in iov.iter_mut().zip(&bufs[..count]) {
        v.iov_base = b.as_ptr() as *mut libc::c_void;
        v.iov_len = b.len();
    }
    loop {
        // SAFETY: the first `count` iovecs point into live slices of `bufs`.
        let n = unsafe { libc::writev(fd, iov.as_ptr(), count as libc::c_int) };
        if n >= 0 {
            return Ok(n as usize);
        }
        let e = io::Error::last_os_error();
        if e.kind() != io::ErrorKind::Interrupted {
            return Err(e);
        }
    }
}

impl Server {
    /// Appends one command to the replication stream (SELECT first when the
    /// db changes), advancing master_repl_offset.
    pub fn repl_feed(&mut self, db: usize, argv: &[Bytes]) {
        if self.repl.backlog.is_none() {
            return;
        }
        let mut buf = std::mem::take(&mut self.sink);
        buf.clear();
        if self.repl.slave_seldb != Some(db) {
            let mut b = [0u8; 20];
            let n = crate::encoding::numbers::ll2string(db as i64, &mut b);
            crate::persist::aof::cat_command(
                &mut buf,
                &[Bytes::from_static(b"SELECT"), Bytes::copy_from_slice(n)],
            );
            self.repl.slave_seldb = Some(db);
        }
        crate::persist::aof::cat_command(&mut buf, argv);
        self.repl_feed_raw(&buf);
        self.sink = buf;
    }

    /// Feeds raw stream bytes to the shared buffer. Replicas that receive
    /// the stream (all but those still waiting for their save to start)
    /// reference the bytes; online ones are scheduled for writing.
    pub fn repl_feed_raw(&mut self, data: &[u8]) {
        let Some(b) = self.repl.backlog.as_mut() else {
            return;
        };
        let (start, added) = b.feed(data);
        // Every sample while REPL-DELAY holds bytes back; coarser otherwise.
        let step = if self.repl.delay_ms > 0 {
            0
        } else {
            crate::repl::lag::STEP_MS
        };
        self.repl
            .produced
            .record(self.repl.master_repl_offset + 1, self.ks.now_ms, step);
        self.repl.master_repl_offset += data.len() as i64;
        // Indexing (not iterating) the replica list lets each step borrow
        // self, and allocates nothing per write.
        for i in 0..self.clients.replica_count() {
            let Some(k) = self.clients.replica_at(i) else {
                continue;
            };
            let Some(info) = self.clients.replica_mut(k) else {
                continue;
            };
            if info.state == ReplicaState::WaitBgsaveStart {
                // Not yet told the fork offset: the RDB will contain this.
                continue;
            }
            info.repl_pos.get_or_insert(start);
            if info.state == ReplicaState::Online {
                self.mark_pending_write(k);
            }
            // Limits are checked when the buffer grows by a block.
            if added {
                self.check_replica_output_limit(k);
            }
        }
        if added {
            self.trim_repl_buffer(TRIM_BLOCKS_PER_CALL);
        }
    }

    /// Drops backlog blocks beyond repl-backlog-size that no replica needs.
    pub fn trim_repl_buffer(&mut self, max_blocks: usize) {
        let held = self
            .clients
            .replicas()
            .filter_map(|(_, _, r)| r.repl_pos.map(|p| p.id))
            .min();
        if let Some(b) = self.repl.backlog.as_mut() {
            b.trim(max_blocks, held);
        }
    }

    /// Writes a replica's pending bytes: its own (protocol lines, `$len`
    /// headers) first, then, once online, its part of the shared stream.
    /// Ok(true) when everything was written.
    pub fn write_replica(&mut self, key: usize) -> io::Result<bool> {
        let Some((c, info)) = self.clients.with_replica_mut(key) else {
            return match self.clients.get_mut(key) {
                Some(c) => c.flush(),
                None => Ok(true),
            };
        };
        let now = self.ks.now_ms;
        let fd = c.stream.raw_fd();
        let mut slices = Vec::with_capacity(IOV_MAX_BATCH);
        loop {
            let before = c.stat_net_out;
            let flushed = c.pending_reply() == 0 || c.flush()?;
            self.stats.net_output_bytes += c.stat_net_out - before;
            if !flushed {
                return Ok(false);
            }
            if info.state != ReplicaState::Online {
                return Ok(true);
            }
            let Some(b) = self.repl.backlog.as_ref() else {
                return Ok(true);
            };
            // DEBUG REPL-PAUSE holds the stream; REPL-DELAY sends only what
            // is older than its delay (the loop comes back for the rest).
            if now < self.repl.pause_until_ms {
                return Ok(true);
            }
            let mut end = if self.repl.delay_ms > 0 {
                self.repl
                    .produced
                    .end_before(now - self.repl.delay_ms)
                    .unwrap_or(self.repl.master_repl_offset)
            } else {
                i64::MAX
            };
            // A DIGEST-AT-OFFSET marker goes exactly after the byte at its
            // offset: the stream stops there, the marker follows.
            let next = info
                .repl_pos
                .map_or(self.repl.master_repl_offset + 1, |p| b.offset_of(p));
            if let Some(&(moff, _)) = info.markers.first() {
                if next > moff {
                    let (_, bytes) = info.markers.remove(0);
                    c.reply.extend_from_slice(&bytes);
                    continue;
                }
                end = end.min(moff);
            }
            let Some(mut pos) = info.repl_pos else {
                return Ok(true);
            };
            b.chunks(pos, IOV_MAX_BATCH, &mut slices);
            if end != i64::MAX {
                let mut allowed = (end - b.offset_of(pos) + 1).max(0) as usize;
                slices.retain_mut(|s| {
                    let keep = s.len().min(allowed);
                    allowed -= keep;
                    *s = &s[..keep];
                    keep > 0
                });
            }
            if slices.is_empty() {
                return Ok(true);
            }
            let r = writev(fd, &slices);
            match r {
                Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                Ok(n) => {
                    pos = b.advance(pos, n);
                    info.repl_pos = Some(pos);
                    c.stat_net_out += n as u64;
                    self.stats.net_output_bytes += n as u64;
                    self.stats.net_repl_output_bytes += n as u64;
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(false),
                Err(e) => return Err(e),
            }
        }
    }

    /// The shared replication buffer blocks a replica still references, as
    /// Redis counts a replica's output buffer (getClientOutputBufferMemory
    /// Usage): every block from its position to the last, whole.
    pub fn replica_shared_memory(&self, key: usize) -> u64 {
        match (
            self.repl.backlog.as_ref(),
            self.clients.replica(key).and_then(|r| r.repl_pos),
        ) {
            (Some(b), Some(p))
                if self
                    .clients
                    .get(key)
                    .is_some_and(|c| c.kind == Kind::Replica) =>
            {
                b.mem_from(p)
            }
            _ => 0,
        }
    }

    /// A client's output-buffer memory for its limits: its own buffer,
    /// and for a replica the shared blocks it references.
    pub fn client_output_memory(&self, key: usize) -> u64 {
        let own = self.clients.get(key).map_or(0, |c| c.reply.capacity()) as u64;
        own + self.replica_shared_memory(key)
    }

    /// client-output-buffer-limit replica <hard> <soft> <seconds>. A hard
    /// limit below repl-backlog-size is raised to it: a replica that could
    /// continue from the backlog must not be dropped for holding it
    /// (Redis 7.0's checkClientOutputBufferLimits).
    pub fn check_replica_output_limit(&mut self, key: usize) {
        let limit = self.cfg.client_output_buffer_limit[1];
        let used = self.client_output_memory(key);
        let now = self.ks.now_ms;
        let mut hard = limit.hard;
        if hard > 0 && hard < self.cfg.repl_backlog_size {
            hard = self.cfg.repl_backlog_size;
        }
        let Some(info) = self.clients.replica_mut(key) else {
            return;
        };
        let mut over = hard > 0 && used > hard;
        if !over && limit.soft > 0 && used > limit.soft {
            if info.soft_limit_since_ms == 0 {
                info.soft_limit_since_ms = now;
            } else if now - info.soft_limit_since_ms > limit.soft_seconds as i64 * 1000 {
                over = true;
            }
        } else if !over {
            info.soft_limit_since_ms = 0;
        }
        if over
            && !self
                .clients
                .get(key)
                .is_some_and(|c| c.has(crate::net::flags::CLOSE_ASAP))
        {
            log::warn!(
                "Client {} scheduled to be closed ASAP for overcoming of output buffer limits.",
                self.client_info_line(key).trim_end()
            );
            self.close_async(key);
        }
    }

    /// (mem_replication_backlog, mem_clients_slaves): the shared buffer
    /// counts as backlog up to repl-backlog-size, the rest as replicas'.
    pub fn repl_memory_split(&self) -> (u64, u64) {
        let mem = self.repl.buffer_memory() as u64;
        let size = self.cfg.repl_backlog_size;
        if self.clients.has_replicas() && mem > size {
            (size, mem - size)
        } else {
            (mem, 0)
        }
    }

    /// Where a replica attaching to a running save's buffered stream
    /// starts: the same position as a replica already waiting on it.
    pub fn replica_position(&self, key: usize) -> Option<Pos> {
        self.clients.replica(key).and_then(|r| r.repl_pos)
    }
}
