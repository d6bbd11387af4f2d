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
    /// Payload bytes received so far.
    pub read: u64,
    /// Disk-based transfer: the temp file and its path (None: diskless,
    /// the payload is parsed as it arrives).
    pub file: Option<(std::fs::File, String)>,
    /// Last 40 bytes seen (EOF-mark detection across reads, disk-based).
    pub tail: Vec<u8>,
    pub last_io_ms: i64,
    pub start_ms: i64,
    /// The load under way: from the socket (diskless) as bytes arrive, or
    /// from the temp file once it is complete.
    pub load: Option<Box<Loading>>,
}

/// An RDB being loaded into a keyspace of its own, which replaces ours only
/// once it loaded completely.
pub struct Loading {
    pub loader: crate::persist::rdb_stream::IncrementalLoad,
    pub ks: crate::db::Keyspace,
    /// swapdb with the same replication history: reads are served from the
    /// old data meanwhile (INFO async_loading).
    pub async_mode: bool,
    /// Disk-based: the received file, read a chunk per loop iteration.
    pub file: Option<std::fs::File>,
    pub file_buf: Vec<u8>,
    pub file_eof: bool,
    /// Payload size when known (for progress), 0 otherwise.
    pub total: u64,
    pub start_ms: i64,
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
