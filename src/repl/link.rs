//! The replica side's link to its master: the handshake state machine and
//! the bulk transfer bookkeeping. Pure data; the server drives the I/O.

/// Where the link to our master is (Redis's REPL_STATE_*).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LinkState {
    /// Not a replica.
    #[default]
    None,
    /// Must connect (retried from cron).
    Connect,
    /// Non-blocking connect in progress.
    Connecting,
    /// Sent PING, waiting for +PONG.
    ReceivePong,
    /// Handshake replies still expected, in order.
    ReceiveAuth,
    ReceivePort,
    ReceiveIp,
    ReceiveCapa,
    /// Sent PSYNC (or SYNC), waiting for the answer.
    ReceivePsync,
    /// Receiving the RDB payload.
    Transfer,
    /// Streaming.
    Connected,
}

/// How the RDB payload is framed.
#[derive(Debug, Clone)]
pub enum Framing {
    /// `$<len>`: `left` bytes remain.
    Len { total: u64 },
    /// `$EOF:<mark>`: ends with the 40-byte mark.
    Eof { mark: [u8; 40] },
}

/// An RDB transfer in progress.
pub struct Transfer {
    pub framing: Option<Framing>,
    pub read: u64,
    /// Disk-based load: the temp file and its path. Otherwise in memory.
    pub file: Option<(std::fs::File, String)>,
    pub mem: Vec<u8>,
    /// Last 40 bytes seen (EOF-mark detection across reads).
    pub tail: Vec<u8>,
    pub last_io_ms: i64,
}

#[derive(Default)]
pub struct Link {
    pub state: LinkState,
    /// Slab key of the connection to the master.
    pub key: Option<usize>,
    /// The master's replid and offset announced with +FULLRESYNC.
    pub fullsync_replid: String,
    pub fullsync_offset: i64,
    pub transfer: Option<Transfer>,
    pub handshake_start_ms: i64,
    pub down_since_ms: i64,
    /// When the last data came from the master before the link went down
    /// (a link closed late, e.g. by CLIENT KILL inside a long EXEC, still
    /// dates its data from then: cluster replica validity).
    pub last_master_data_ms: i64,
    pub last_attempt_ms: i64,
    /// Used SYNC instead of PSYNC (master refused PSYNC).
    pub old_sync: bool,
    /// The db the master's stream had selected when the link went down: a
    /// partial resync continues there (the master does not SELECT again).
    pub master_db: usize,
}

impl Link {
    /// ROLE's state word.
    pub fn role_state(&self) -> &'static str {
        match self.state {
            LinkState::None | LinkState::Connect => "connect",
            LinkState::Connecting => "connecting",
            LinkState::Transfer => "sync",
            LinkState::Connected => "connected",
            _ => "handshake",
        }
    }
}

/// Takes one line (without CR LF) from the front of `buf`, if complete.
pub fn take_line(buf: &mut bytes::BytesMut) -> Option<Vec<u8>> {
    let nl = buf.iter().position(|&c| c == b'\n')?;
    let line = buf.split_to(nl + 1);
    let mut v = line[..nl].to_vec();
    if v.last() == Some(&b'\r') {
        v.pop();
    }
    Some(v)
}

/// Wraps the RDB reader of a full sync: while loading, a newline goes to the
/// master at most once a second (Redis's replica does the same), so a long
/// load never looks like a dead link to it.
pub struct KeepAliveReader<R> {
    inner: R,
    master_fd: i32,
    last: std::time::Instant,
}

impl<R> KeepAliveReader<R> {
    pub fn new(inner: R, master_fd: i32) -> Self {
        KeepAliveReader {
            inner,
            master_fd,
            last: std::time::Instant::now(),
        }
    }
}

impl<R: std::io::Read> std::io::Read for KeepAliveReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.master_fd >= 0 && self.last.elapsed() >= std::time::Duration::from_secs(1) {
            self.last = std::time::Instant::now();
            // One byte on a non-blocking socket: it goes out or is dropped,
            // never blocks the load.
            // SAFETY: write(2) of a static one-byte buffer to a descriptor we own.
            unsafe { libc::write(self.master_fd, b"\n".as_ptr() as *const libc::c_void, 1) };
        }
        self.inner.read(buf)
    }
}
