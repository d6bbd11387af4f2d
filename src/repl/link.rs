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
    /// The empty-sync guard's questions: INFO server, CONFIG GET save,
    /// CONFIG GET appendonly (replica-refuse-empty-sync yes only).
    ReceiveGuard,
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
    /// What the empty-sync guard learnt in this handshake: the master's
    /// run id, and whether it persists its data (None: it would not say).
    pub master_run_id: Option<String>,
    pub master_persists: Option<bool>,
    /// Guard replies still expected in this handshake.
    pub guard_replies: u8,
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

/// A reply of the master during the handshake (RESP2).
#[derive(Debug, Clone, PartialEq)]
pub enum Reply {
    Line(Vec<u8>),
    Error(Vec<u8>),
    Bulk(Option<Vec<u8>>),
    Array(Vec<Reply>),
}

/// Takes one complete RESP2 reply from the front of `buf`: None when more
/// bytes are needed, Err for a malformed one (`limit` caps lengths).
pub fn take_reply(buf: &mut bytes::BytesMut, limit: usize) -> Option<Result<Reply, ()>> {
    match parse_reply(buf, 0, limit, 0) {
        Ok(Some((r, used))) => {
            let _ = buf.split_to(used);
            Some(Ok(r))
        }
        Ok(None) => None,
        Err(()) => Some(Err(())),
    }
}

fn parse_reply(
    b: &[u8],
    at: usize,
    limit: usize,
    depth: usize,
) -> Result<Option<(Reply, usize)>, ()> {
    let Some(nl) = b[at..].iter().position(|&c| c == b'\n') else {
        return if b.len() - at > limit {
            Err(())
        } else {
            Ok(None)
        };
    };
    let end = at + nl;
    let line = &b[at..if end > at && b[end - 1] == b'\r' {
        end - 1
    } else {
        end
    }];
    let next = end + 1;
    let num = || {
        std::str::from_utf8(line.get(1..).unwrap_or_default())
            .ok()
            .and_then(|s| s.parse::<i64>().ok())
            .ok_or(())
    };
    match line.first() {
        Some(b'+') | Some(b':') => Ok(Some((Reply::Line(line.to_vec()), next))),
        Some(b'-') => Ok(Some((Reply::Error(line.to_vec()), next))),
        Some(b'$') => {
            let n = num()?;
            if n < 0 {
                return Ok(Some((Reply::Bulk(None), next)));
            }
            let n = usize::try_from(n).map_err(|_| ())?;
            if n > limit {
                return Err(());
            }
            if b.len() < next + n + 2 {
                return Ok(None);
            }
            Ok(Some((
                Reply::Bulk(Some(b[next..next + n].to_vec())),
                next + n + 2,
            )))
        }
        Some(b'*') => {
            let n = num()?;
            if depth > 4 || n > 1024 {
                return Err(());
            }
            let mut items = Vec::new();
            let mut pos = next;
            for _ in 0..n.max(0) {
                match parse_reply(b, pos, limit, depth + 1)? {
                    Some((r, p)) => {
                        items.push(r);
                        pos = p;
                    }
                    None => return Ok(None),
                }
            }
            Ok(Some((Reply::Array(items), pos)))
        }
        _ => Err(()),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replies_are_taken_whole_or_not_at_all() {
        let full = b"$5\r\nhello\r\n*2\r\n$4\r\nsave\r\n$0\r\n\r\n-NOPERM no\r\n";
        for cut in 0..full.len() {
            let mut b = bytes::BytesMut::from(&full[..cut]);
            let mut got = Vec::new();
            while let Some(r) = take_reply(&mut b, 1 << 20) {
                got.push(r.expect("well formed"));
            }
            assert!(got.len() <= 3);
        }
        let mut b = bytes::BytesMut::from(&full[..]);
        assert_eq!(
            take_reply(&mut b, 1 << 20),
            Some(Ok(Reply::Bulk(Some(b"hello".to_vec()))))
        );
        assert_eq!(
            take_reply(&mut b, 1 << 20),
            Some(Ok(Reply::Array(vec![
                Reply::Bulk(Some(b"save".to_vec())),
                Reply::Bulk(Some(Vec::new()))
            ])))
        );
        assert_eq!(
            take_reply(&mut b, 1 << 20),
            Some(Ok(Reply::Error(b"-NOPERM no".to_vec())))
        );
        assert!(b.is_empty());
        let mut bad = bytes::BytesMut::from(&b"$99999999999\r\n"[..]);
        assert_eq!(take_reply(&mut bad, 1 << 20), Some(Err(())));
        let mut bad = bytes::BytesMut::from(&b"?\r\n"[..]);
        assert_eq!(take_reply(&mut bad, 1 << 20), Some(Err(())));
    }
}
