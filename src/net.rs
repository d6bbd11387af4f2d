//! `Client`: one connection's socket, query buffer, reply buffer, kind and flags.
//!
//! Knows nothing of commands, of the keyspace, of replication or of the
//! server's indexes (those live in `server::clients`). Reading appends to `query`;
//! replies are appended to `reply` and written by `flush` (one write per loop
//! iteration, the rest when the socket becomes writable again).

use bytes::BytesMut;
use mio::net::{TcpStream, UnixStream};
use std::io::{self, Read, Write};
use std::net::Shutdown;

/// Bytes read per read call (Redis's PROTO_IOBUF_LEN).
pub const IOBUF_LEN: usize = 16 * 1024;

/// The smallest reply buffer a client keeps (Redis's PROTO_REPLY_MIN_BYTES).
pub const REPLY_MIN: usize = 1024;

/// How often the reply buffer's peak restarts by default (Redis's
/// reply_buffer_peak_reset_time).
pub const REPLY_PEAK_RESET_MS: i64 = 5000;

pub enum Stream {
    Tcp(TcpStream),
    Unix(UnixStream),
}

impl Stream {
    pub fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Stream::Tcp(s) => s.read(buf),
            Stream::Unix(s) => s.read(buf),
        }
    }

    pub fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Stream::Tcp(s) => s.write(buf),
            Stream::Unix(s) => s.write(buf),
        }
    }

    pub fn write_vectored(&mut self, bufs: &[io::IoSlice<'_>]) -> io::Result<usize> {
        match self {
            Stream::Tcp(s) => s.write_vectored(bufs),
            Stream::Unix(s) => s.write_vectored(bufs),
        }
    }

    pub fn shutdown(&self) {
        let _ = match self {
            Stream::Tcp(s) => s.shutdown(Shutdown::Both),
            Stream::Unix(s) => s.shutdown(Shutdown::Both),
        };
    }

    pub fn source(&mut self) -> &mut dyn mio::event::Source {
        match self {
            Stream::Tcp(s) => s,
            Stream::Unix(s) => s,
        }
    }

    pub fn raw_fd(&self) -> i32 {
        use std::os::fd::AsRawFd;
        match self {
            Stream::Tcp(s) => s.as_raw_fd(),
            Stream::Unix(s) => s.as_raw_fd(),
        }
    }
}

/// A generational handle to a client: its slab slot and its id. Ids are
/// never reused, so a handle kept across events never names the next
/// client to take the slot (`server::clients::Clients::resolve`).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct ClientRef {
    pub key: usize,
    pub id: u64,
}

/// What the other end of a connection is.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Kind {
    Normal,
    /// A replica of ours (after SYNC/PSYNC).
    Replica,
    /// Our link to our own master.
    Master,
}

/// Client flags (a bit set, as Redis's client->flags).
pub mod flags {
    pub const MULTI: u32 = 1 << 0;
    pub const DIRTY_CAS: u32 = 1 << 1;
    pub const DIRTY_EXEC: u32 = 1 << 2;
    pub const CLOSE_AFTER_REPLY: u32 = 1 << 3;
    pub const CLOSE_ASAP: u32 = 1 << 4;
    pub const BLOCKED: u32 = 1 << 5;
    pub const MONITOR: u32 = 1 << 6;
    pub const PUBSUB: u32 = 1 << 7;
    pub const AUTHENTICATED: u32 = 1 << 8;
    pub const REPLY_OFF: u32 = 1 << 9;
    pub const REPLY_SKIP_NEXT: u32 = 1 << 10;
    pub const REPLY_SKIP: u32 = 1 << 11;
    pub const NO_EVICT: u32 = 1 << 12;
    pub const UNIX_SOCKET: u32 = 1 << 13;
    /// Queued in the server's pending-write list (before_sleep writes it).
    pub const PENDING_WRITE: u32 = 1 << 14;
    /// Registered for WRITABLE because a write was short.
    pub const WANT_WRITE: u32 = 1 << 15;
    pub const IN_CLOSE_LIST: u32 = 1 << 16;
    /// Closing only drops our descriptor, without shutting the connection
    /// down: a forked Lua debugging session goes on using it.
    pub const KEEP_SOCKET: u32 = 1 << 17;
    // Client-side caching (CLIENT TRACKING).
    pub const TRACKING: u32 = 1 << 18;
    pub const TRACKING_BCAST: u32 = 1 << 19;
    pub const TRACKING_OPTIN: u32 = 1 << 20;
    pub const TRACKING_OPTOUT: u32 = 1 << 21;
    /// CLIENT CACHING yes/no given for the next command.
    pub const TRACKING_CACHING: u32 = 1 << 22;
    pub const TRACKING_NOLOOP: u32 = 1 << 23;
    /// The redirection target disconnected.
    pub const TRACKING_BROKEN_REDIR: u32 = 1 << 24;
    /// Cluster: the next command may touch an importing slot (ASKING).
    pub const ASKING: u32 = 1 << 25;
    /// Cluster: reads are served by this replica (READONLY).
    pub const READONLY: u32 = 1 << 26;
}

pub struct Client {
    pub id: u64,
    pub stream: Stream,
    pub kind: Kind,
    pub flags: u32,
    pub addr: String,
    pub laddr: String,
    pub name: Option<Vec<u8>>,
    pub db: usize,
    /// The ACL user the client is authenticated as (the default user
    /// until AUTH/HELLO says otherwise).
    pub user: crate::acl::UserId,
    /// Protocol version: 2 or 3.
    pub resp: u8,
    pub query: BytesMut,
    /// Bytes allocated for `query` (its capacity counts only what follows
    /// the consumed front): qbuf + qbuf-free, as Redis's sdsalloc.
    pub query_alloc: usize,
    /// Most bytes buffered since the last clients cron (Redis's
    /// querybuf_peak): the cron shrinks a buffer far above it.
    pub query_peak: usize,
    /// Parser hint: do not parse again before this many bytes are buffered.
    pub query_need: usize,
    /// The last read stopped before the socket was drained (a complete
    /// big request to run first): read again after processing.
    pub more_to_read: bool,
    pub reply: Vec<u8>,
    /// How much of `reply` has been written already.
    pub sent: usize,
    /// Large replies that met a full socket, waiting to be written before
    /// `reply` (see `queue_reply`); empty for almost every client.
    pub queued: std::collections::VecDeque<Vec<u8>>,
    /// Bytes of the queue's first chunk already written.
    pub queued_sent: usize,
    /// Bytes in the queue not yet written.
    pub queued_len: usize,
    pub ctime_ms: i64,
    pub last_interaction_ms: i64,
    /// Name of the last command (for CLIENT LIST `cmd=`).
    pub last_cmd: &'static str,
    /// Commands queued by MULTI.
    pub mstate: Vec<Vec<bytes::Bytes>>,
    /// WATCHed keys (db, key).
    pub watched: Vec<(usize, crate::sds::Sds)>,
    /// Replication offset of this client's last write (for WAIT).
    pub woff: i64,
    pub stat_net_in: u64,
    pub stat_net_out: u64,
    /// When the pending output first exceeded the soft limit (0 = not over).
    pub obuf_soft_since_ms: i64,
    /// Pushes written during the current command under CLIENT REPLY
    /// OFF|SKIP (start, end in `reply`): they survive the reply's removal.
    pub push_spans: Vec<(usize, usize)>,
    /// CLIENT TRACKING REDIRECT target id (0: none).
    pub tracking_redirect: u64,
    /// BCAST prefixes, sorted.
    pub tracking_prefixes: Vec<Vec<u8>>,
    /// The command being executed: its request's bytes (Redis keeps them
    /// in the query buffer until the command returns) and the total
    /// length of its arguments (argv-mem).
    pub cur_request_len: usize,
    pub cur_argv_len: usize,
    /// Memory as last accounted for maxmemory-clients (tot-mem).
    pub mem_accounted: usize,
    /// Largest pending reply since the last CLIENT LIST-visible reset.
    pub reply_peak: usize,
    /// When `reply_peak` last restarted.
    pub reply_peak_since_ms: i64,
    /// The size Redis's static reply buffer would have: what `reply` goes
    /// back to once a burst is written (the part beyond it is Redis's
    /// reply list, freed once sent). Sized by the clients cron only.
    pub reply_base: usize,
    /// SCRIPT DEBUG mode: 0 off, 1 YES (forked session), 2 SYNC.
    pub lua_debug: u8,
}

impl Client {
    pub fn new(id: u64, stream: Stream, addr: String, laddr: String, now_ms: i64) -> Client {
        Client {
            id,
            stream,
            kind: Kind::Normal,
            flags: 0,
            addr,
            laddr,
            name: None,
            db: 0,
            user: crate::acl::DEFAULT_USER,
            resp: 2,
            // Allocated by the first read (an idle connection holds none).
            query: BytesMut::new(),
            query_alloc: 0,
            query_peak: 0,
            query_need: 0,
            more_to_read: false,
            reply: Vec::with_capacity(REPLY_MIN),
            sent: 0,
            queued: std::collections::VecDeque::new(),
            queued_sent: 0,
            queued_len: 0,
            ctime_ms: now_ms,
            last_interaction_ms: now_ms,
            last_cmd: "NULL",
            mstate: Vec::new(),
            watched: Vec::new(),
            woff: 0,
            stat_net_in: 0,
            stat_net_out: 0,
            obuf_soft_since_ms: 0,
            push_spans: Vec::new(),
            tracking_redirect: 0,
            tracking_prefixes: Vec::new(),
            cur_request_len: 0,
            cur_argv_len: 0,
            mem_accounted: 0,
            reply_peak: 0,
            reply_peak_since_ms: now_ms,
            reply_base: REPLY_MIN,
            lua_debug: 0,
        }
    }

    #[inline]
    pub fn has(&self, f: u32) -> bool {
        self.flags & f != 0
    }

    /// Reads until the socket would block or `max` bytes were read (a short
    /// read counts as "would block" unless `drain`: the caller knows the
    /// peer hung up and the final zero-length read must be seen).
    /// Returns Ok(false) when the peer closed the connection.
    pub fn read_some(&mut self, max: usize, drain: bool) -> io::Result<bool> {
        let mut total = 0;
        self.more_to_read = false;
        loop {
            let spare = self.query.capacity() - self.query.len();
            // Only the parser's figure, taken once it checked the request
            // (bulk length limits, unauthenticated clients): bytes it has
            // not seen never size an allocation.
            let need = self.query_need;
            if total > 0 && spare < IOBUF_LEN && !drain {
                // The buffer is full: run what it holds before reading
                // more (the consumed front is then reused) rather than
                // doubling it, e.g. one sized exactly for a big argument.
                // The socket may hold more.
                self.more_to_read = true;
                return Ok(true);
            }
            let missing = need.saturating_sub(self.query.len());
            let cap_before = self.query.capacity();
            if missing > 0 {
                // The request's size is known: room for exactly its rest
                // (a big argument: Redis's sdsMakeRoomForNonGreedy), so
                // that the buffer is never doubled near its end; it counts
                // in tot-mem. BytesMut's reserve may double: size exactly,
                // moving what is buffered once.
                if spare < missing {
                    let room = if missing > IOBUF_LEN {
                        missing
                    } else {
                        IOBUF_LEN
                    };
                    let mut exact = BytesMut::with_capacity(self.query.len() + room);
                    exact.extend_from_slice(&self.query);
                    self.query = exact;
                }
            } else if spare < IOBUF_LEN {
                self.query.reserve(IOBUF_LEN);
            }
            if self.query.capacity() != cap_before {
                // A new (or reclaimed) allocation starts at its front.
                self.query_alloc = self.query.capacity();
            }
            let len = self.query.len();
            let spare = self.query.spare_capacity_mut();
            let spare_len = spare.len();
            // read(2) straight into the spare capacity: no zero-fill, no copy,
            // and no reference to uninitialised memory is ever formed.
            let r = unsafe {
                libc::read(
                    self.stream.raw_fd(),
                    spare.as_mut_ptr() as *mut libc::c_void,
                    spare.len(),
                )
            };
            let r = if r < 0 {
                Err(io::Error::last_os_error())
            } else {
                Ok(r as usize)
            };
            match r {
                Ok(0) => return Ok(false),
                Ok(n) => {
                    let offered = spare_len;
                    // SAFETY: the kernel initialised n bytes past len.
                    unsafe { self.query.set_len(len + n) };
                    self.query_peak = self.query_peak.max(len + n);
                    total += n;
                    self.stat_net_in += n as u64;
                    // A short read means the socket is drained: with edge
                    // triggering, data arriving later raises a new event, so
                    // the extra read that would only return EAGAIN is skipped.
                    if total >= max || (n < offered && !drain) {
                        return Ok(true);
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(true),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
    }

    /// Redis's clientsCronResizeQueryBuffer, run from the clients cron:
    /// a buffer wasting over 4 KB is given back after 2 s of idleness,
    /// or trimmed to its recent peak when it is over 32 KB and more than
    /// twice that peak (never below an argument being received). The
    /// peak restarts from what is buffered now.
    pub fn resize_query_buffer(&mut self, now_ms: i64) {
        let len = self.query.len();
        if self.query_alloc.saturating_sub(len) > 4 * 1024 {
            let idle_secs = (now_ms - self.last_interaction_ms) / 1000;
            let target = if idle_secs > 2 {
                Some(len)
            } else if self.query_alloc > 32 * 1024 && self.query_alloc / 2 > self.query_peak {
                Some(len.max(self.query_peak).max(self.query_need))
            } else {
                None
            };
            if let Some(size) = target {
                let mut fresh = BytesMut::with_capacity(size);
                fresh.extend_from_slice(&self.query);
                self.query = fresh;
                self.query_alloc = self.query.capacity();
            }
        }
        self.query_peak = len.max(self.query_need);
    }

    /// Redis's clientsCronResizeOutputBuffer, run from the clients cron:
    /// an empty reply buffer whose recent peak used less than half of it
    /// shrinks to that peak (never under 1 KB), so a client that once got
    /// a big reply does not keep its buffer; the peak restarts every
    /// `peak_reset_ms` (-1: never).
    pub fn resize_reply_buffer(&mut self, now_ms: i64, peak_reset_ms: i64, resizing: bool) {
        let cap = self.reply.capacity();
        if resizing && self.reply.is_empty() && cap / 2 >= REPLY_MIN && self.reply_peak < cap / 2 {
            self.reply = Vec::with_capacity(REPLY_MIN.max(self.reply_peak + 1));
            self.reply_base = self.reply.capacity();
        } else if resizing && self.reply_peak >= self.reply_base && self.reply_base < IOBUF_LEN {
            // A peak that filled the static buffer doubles it (up to 16 KB).
            self.reply_base = (self.reply_base * 2).min(IOBUF_LEN);
            if self.reply.is_empty() && cap < self.reply_base {
                self.reply = Vec::with_capacity(self.reply_base);
            }
        }
        if peak_reset_ms >= 0 && now_ms - self.reply_peak_since_ms >= peak_reset_ms {
            self.reply_peak = self.reply.len() - self.sent;
            self.reply_peak_since_ms = now_ms;
        }
    }

    /// Drops the written front of a reply buffer the socket keeps only
    /// partly draining (a slow reader, a subscriber that never reads):
    /// without it the buffer grows by everything ever sent to it while
    /// little is pending. Moves the pending bytes once they are at most
    /// half of the buffer. Only between commands (marks into `reply` move).
    pub fn compact_reply(&mut self) {
        if self.sent >= IOBUF_LEN && self.sent * 2 >= self.reply.len() {
            self.reply.drain(..self.sent);
            self.sent = 0;
        }
    }

    /// Drops every reply not yet written and the buffers holding them (a
    /// client being closed for its memory).
    pub fn discard_output(&mut self) {
        self.reply = Vec::new();
        self.sent = 0;
        self.queued.clear();
        self.queued_sent = 0;
        self.queued_len = 0;
    }

    pub fn pending_reply(&self) -> usize {
        self.reply.len() - self.sent + self.queued_len
    }

    /// Sets the reply buffer aside, as it is, to be written before whatever
    /// comes next (Redis's reply list): the next large reply goes into a
    /// fresh buffer instead of growing this one, which would copy all that
    /// is already in it. Called between commands only, so marks into
    /// `reply` taken by a running command stay valid.
    pub fn queue_reply(&mut self) {
        if self.queued.is_empty() {
            self.queued_sent = self.sent;
        }
        let chunk = std::mem::replace(&mut self.reply, Vec::with_capacity(IOBUF_LEN));
        self.queued_len += chunk.len() - self.sent;
        self.sent = 0;
        self.queued.push_back(chunk);
    }

    /// Writes the pending reply buffer and then `tail` with one writev,
    /// without copying `tail` into the buffer; what the socket does not
    /// take is copied into the reply buffer, to go out as usual. Only
    /// while nothing is queued (the reply buffer is all that precedes).
    pub fn write_through(&mut self, tail: [&[u8]; 2]) -> io::Result<()> {
        debug_assert!(self.queued.is_empty());
        let mut done = 0usize;
        let total = self.reply.len() - self.sent + tail[0].len() + tail[1].len();
        // The peak is as if the reply had passed through the buffer: CLIENT
        // LIST rbp and the cron's sizing of the static buffer see it.
        self.reply_peak = self.reply_peak.max(total);
        while done < total {
            let mut skip = done;
            let mut iov = [io::IoSlice::new(&[]); 3];
            for (slot, part) in iov
                .iter_mut()
                .zip([&self.reply[self.sent..], tail[0], tail[1]])
            {
                if skip >= part.len() {
                    skip -= part.len();
                } else {
                    *slot = io::IoSlice::new(&part[skip..]);
                    skip = 0;
                }
            }
            match self.stream.write_vectored(&iov) {
                Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                Ok(n) => done += n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        self.stat_net_out += done as u64;
        let head = self.reply.len() - self.sent;
        if done < head {
            self.sent += done;
            self.reply.extend_from_slice(tail[0]);
            self.reply.extend_from_slice(tail[1]);
            return Ok(());
        }
        self.reply.clear();
        self.sent = 0;
        let mut skip = done - head;
        for part in tail {
            if skip >= part.len() {
                skip -= part.len();
            } else {
                self.reply.extend_from_slice(&part[skip..]);
                skip = 0;
            }
        }
        Ok(())
    }

    /// Writes as much of the reply buffer as the socket takes.
    /// Ok(true) = everything written.
    pub fn flush(&mut self) -> io::Result<bool> {
        while let Some(chunk) = self.queued.front() {
            match self.stream.write(&chunk[self.queued_sent..]) {
                Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                Ok(n) => {
                    self.queued_sent += n;
                    self.queued_len -= n;
                    self.stat_net_out += n as u64;
                    if self.queued_sent == chunk.len() {
                        self.queued.pop_front();
                        self.queued_sent = 0;
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(false),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        while self.sent < self.reply.len() {
            match self.stream.write(&self.reply[self.sent..]) {
                Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                Ok(n) => {
                    self.sent += n;
                    self.stat_net_out += n as u64;
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(false),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        let written = self.reply.len();
        self.reply_peak = self.reply_peak.max(written);
        self.reply.clear();
        self.sent = 0;
        // Once written, a buffer grown past its static size is given back
        // to it (Redis frees each reply-list block once written: written
        // output must not go on counting toward maxmemory, or a burst of
        // invalidations would make eviction evict for its own pushes),
        // except a buffer of 1 MB or more that replies keep filling half
        // of (a client reading 1 MB values reuses one buffer instead of
        // allocating, faulting in and freeing 1 MB per reply).
        let cap = self.reply.capacity();
        if cap > self.reply_base && (cap < 1024 * 1024 || cap > 2 * written) {
            self.reply = Vec::with_capacity(self.reply_base);
        }
        Ok(true)
    }
}
