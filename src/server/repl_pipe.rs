//! Master side of a diskless full sync, as Redis 7.0 does it: the forked
//! child writes `$EOF:<mark>\r\n`, the RDB and the mark into a pipe; the
//! loop reads the pipe one chunk at a time and writes each chunk to every
//! replica of the transfer (rdbPipeReadHandler / rdbPipeWriteHandler). The
//! next chunk is read only when every replica took the current one, so the
//! slowest replica sets the pace and the child blocks on a full pipe
//! instead of the master buffering the payload. A replica that fails, or
//! stays blocked past repl-timeout, is dropped; when the last one goes the
//! child is killed. The loop sees every byte sent, which is what INFO's
//! sync progress reports.

use super::Server;
use crate::net::ClientRef;
use crate::repl::{RdbPipe, ReplicaState, RDB_PIPE_TOKEN};
use mio::{Interest, Token};
use std::io::{self, Read, Write};
use std::os::fd::AsRawFd;

/// Bytes read from the pipe at a time.
const PIPE_CHUNK: usize = 64 * 1024;

impl Server {
    /// Forks the child writing the EOF-framed RDB into a new pipe whose read
    /// end the loop watches; `replicas` receive it, with what `req` leaves
    /// out.
    pub(super) fn fork_rdb_to_pipe(
        &mut self,
        replicas: &[usize],
        req: crate::repl::RdbFilter,
    ) -> Result<i32, String> {
        // A socket pair rather than a pipe: the loop's poller takes it as it
        // is; the child's end blocks, so a slow transfer stalls the child.
        let (rd, wr) = std::os::unix::net::UnixStream::pair().map_err(|e| e.to_string())?;
        let mut aux = self.rdb_aux();
        aux.exclude_data = req.exclude_data;
        if req.exclude_functions {
            aux.functions.clear();
        }
        let mark = crate::util::random_hex40();
        let rd_fd = rd.as_raw_fd();
        // (In the parent the closure, and with it the child's end, is
        // dropped once the child is forked.)
        let pid = self.start_child(crate::persist::fork::ChildKind::ReplDiskless, move |s| {
            // The child keeps only its end: if the parent dies, its next
            // write fails and it exits.
            // SAFETY: closing the child's copy of a descriptor it never uses.
            unsafe { libc::close(rd_fd) };
            let r = (|| -> io::Result<()> {
                let mut w = io::BufWriter::with_capacity(PIPE_CHUNK, wr);
                w.write_all(format!("$EOF:{mark}\r\n").as_bytes())?;
                // The replica learns at once that its payload began.
                w.flush()?;
                crate::persist::rdb::write_rdb(&s.ks, &mut w, &aux)?;
                w.write_all(mark.as_bytes())?;
                w.flush()
            })();
            i32::from(r.is_err())
        })?;
        let _ = rd.set_nonblocking(true);
        let mut stream = mio::net::UnixStream::from_std(rd);
        let registered = self
            .poll
            .registry()
            .register(&mut stream, Token(RDB_PIPE_TOKEN), Interest::READABLE)
            .is_ok();
        let mut conns = Vec::new();
        for &k in replicas {
            if let Some(info) = self.clients.replica_mut(k) {
                info.pipe_written = 0;
                info.pipe_blocked_since_ms = 0;
                info.sync_sent_bytes = 0;
                info.rdb_size = 0;
            }
            conns.extend(self.clients.handle(k));
        }
        self.repl.pipe = Some(RdbPipe {
            file: stream,
            buf: Vec::with_capacity(PIPE_CHUNK),
            conns,
            eof: false,
            child_exit: None,
            registered,
        });
        Ok(pid)
    }

    /// Whether a replica is receiving a diskless payload.
    pub fn in_rdb_pipe(&self, key: usize) -> bool {
        let Some(h) = self.clients.handle(key) else {
            return false;
        };
        self.repl
            .pipe
            .as_ref()
            .is_some_and(|p| p.conns.contains(&h))
    }

    /// The pipe is readable (or the replicas drained the last chunk): read
    /// and hand out chunks until a replica blocks, the pipe is empty, or
    /// the child closed its end.
    pub fn rdb_pipe_readable(&mut self) {
        loop {
            let Some(p) = self.repl.pipe.as_mut() else {
                return;
            };
            if p.eof {
                return;
            }
            let buffered = p.buf.len();
            let waiting = p.conns.iter().any(|&h| {
                self.clients
                    .resolve(h)
                    .and_then(|k| self.clients.replica(k))
                    .is_some_and(|r| r.pipe_written < buffered)
            });
            if waiting {
                return;
            }
            p.buf.resize(PIPE_CHUNK, 0);
            let n = match p.file.read(&mut p.buf) {
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    p.buf.clear();
                    return;
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {
                    p.buf.clear();
                    continue;
                }
                Err(e) => {
                    log::warn!("Diskless rdb transfer, read error from the pipe: {e}");
                    0
                }
            };
            p.buf.truncate(n);
            if n == 0 {
                self.rdb_pipe_eof();
                return;
            }
            for h in p.conns.clone() {
                if let Some(info) = self
                    .clients
                    .resolve(h)
                    .and_then(|k| self.clients.replica_mut(k))
                {
                    info.pipe_written = 0;
                }
            }
            self.rdb_pipe_write_all();
        }
    }

    /// Writes the current chunk to every replica of the transfer.
    fn rdb_pipe_write_all(&mut self) {
        let conns = self
            .repl
            .pipe
            .as_ref()
            .map_or_else(Vec::new, |p| p.conns.clone());
        for h in conns {
            if let Some(k) = self.clients.resolve(h) {
                self.rdb_pipe_write_one(k);
            }
        }
    }

    /// Writes what a replica lacks of the current chunk (its own pending
    /// bytes, the +FULLRESYNC line, first). False when it was dropped.
    pub fn rdb_pipe_write_one(&mut self, key: usize) -> bool {
        let now = self.ks.now_ms;
        if now < self.repl.pause_until_ms {
            // DEBUG REPL-PAUSE: the payload waits too.
            return true;
        }
        let Some(p) = self.repl.pipe.as_ref() else {
            return true;
        };
        let Some((c, info)) = self.clients.with_replica_mut(key) else {
            return false;
        };
        if c.pending_reply() > 0 {
            match c.flush() {
                Ok(true) => {}
                Ok(false) => {
                    self.want_write(key, true);
                    return true;
                }
                Err(e) => {
                    log::warn!("Diskless rdb transfer, write error sending DB to replica: {e}");
                    self.close_async(key);
                    return false;
                }
            }
        }
        let fd = c.stream.raw_fd();
        while info.pipe_written < p.buf.len() {
            let chunk = &p.buf[info.pipe_written..];
            // SAFETY: write(2) from a live slice to a socket we own.
            let n = unsafe { libc::write(fd, chunk.as_ptr() as *const libc::c_void, chunk.len()) };
            if n > 0 {
                let n = n as usize;
                info.pipe_written += n;
                info.sync_sent_bytes += n as u64;
                c.stat_net_out += n as u64;
                self.stats.net_output_bytes += n as u64;
                self.stats.net_repl_output_bytes += n as u64;
                continue;
            }
            let e = io::Error::last_os_error();
            match e.kind() {
                io::ErrorKind::Interrupted => continue,
                io::ErrorKind::WouldBlock => {
                    if info.pipe_blocked_since_ms == 0 {
                        info.pipe_blocked_since_ms = now;
                    }
                    self.want_write(key, true);
                    return true;
                }
                _ => {
                    log::warn!("Diskless rdb transfer, write error sending DB to replica: {e}");
                    self.close_async(key);
                    return false;
                }
            }
        }
        info.pipe_blocked_since_ms = 0;
        true
    }

    /// A replica of the transfer is writable again: it goes on with the
    /// chunk, and once every replica has it the next one is read.
    pub fn rdb_pipe_replica_writable(&mut self, key: usize) {
        if self.rdb_pipe_write_one(key) {
            let done = self
                .clients
                .replica(key)
                .zip(self.repl.pipe.as_ref())
                .is_some_and(|(r, p)| r.pipe_written >= p.buf.len());
            if done {
                self.want_write(key, false);
            }
        }
        self.rdb_pipe_readable();
    }

    /// The child closed the pipe and every replica has all of it.
    fn rdb_pipe_eof(&mut self) {
        let still_up = self.repl.pipe.as_ref().map_or(0, |p| {
            p.conns
                .iter()
                .filter(|&&h| self.clients.resolve(h).is_some())
                .count()
        });
        log::warn!("Diskless rdb transfer, done reading from pipe, {still_up} replicas still up.");
        self.rdb_pipe_close_fd();
        let exit = self.repl.pipe.as_mut().and_then(|p| {
            p.eof = true;
            p.child_exit
        });
        if let Some(ok) = exit {
            self.repl_child_done(ok);
        }
    }

    fn rdb_pipe_close_fd(&mut self) {
        if let Some(p) = self.repl.pipe.as_mut() {
            if p.registered {
                let _ = self.poll.registry().deregister(&mut p.file);
                p.registered = false;
            }
        }
    }

    /// Ends the transfer (the child was reaped, or failed): the pipe goes.
    pub fn rdb_pipe_cleanup(&mut self) {
        self.rdb_pipe_close_fd();
        self.repl.pipe = None;
    }

    /// A replica left: it no longer paces the transfer.
    pub fn rdb_pipe_forget(&mut self, key: usize) {
        let Some(h) = self.clients.handle(key) else {
            return;
        };
        if let Some(p) = self.repl.pipe.as_mut() {
            p.conns.retain(|&x| x != h);
        }
    }

    /// Before sleeping: with no replica left the child is useless; with the
    /// survivors done with the chunk, the next one is read.
    pub fn rdb_pipe_before_sleep(&mut self) {
        let Some(p) = self.repl.pipe.as_mut() else {
            return;
        };
        let alive: Vec<ClientRef> = p.conns.clone();
        let alive: Vec<ClientRef> = alive
            .into_iter()
            .filter(|&h| {
                self.clients.resolve(h).is_some_and(|k| {
                    self.clients
                        .get(k)
                        .is_some_and(|c| !c.has(crate::net::flags::CLOSE_ASAP))
                })
            })
            .collect();
        let Some(p) = self.repl.pipe.as_mut() else {
            return;
        };
        p.conns = alive;
        if p.conns.is_empty() && !p.eof && p.child_exit.is_none() {
            log::warn!("Diskless rdb transfer, last replica dropped, killing fork child.");
            self.persist_kill_child();
            return;
        }
        if self.repl.pause_until_ms == 0 {
            self.rdb_pipe_write_all();
        }
        self.rdb_pipe_readable();
    }

    /// repl-timeout for replicas blocked in a diskless transfer.
    pub fn rdb_pipe_timeouts(&mut self) {
        let now = self.ks.now_ms;
        let timeout = self.cfg.repl_timeout as i64 * 1000;
        let Some(p) = self.repl.pipe.as_ref() else {
            return;
        };
        let stuck: Vec<usize> = p
            .conns
            .iter()
            .filter_map(|&h| self.clients.resolve(h))
            .filter(|&k| {
                self.clients.replica(k).is_some_and(|r| {
                    r.state == ReplicaState::WaitBgsaveEnd
                        && r.pipe_blocked_since_ms != 0
                        && now - r.pipe_blocked_since_ms > timeout
                })
            })
            .collect();
        for k in stuck {
            log::warn!(
                "Disconnecting timedout replica (full sync): {}",
                self.replica_name(k)
            );
            self.close_async(k);
        }
    }
}
