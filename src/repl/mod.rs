//! Replication data: replication ID and offset, the backlog, a replica's
//! bookkeeping (`ReplicaInfo`, kept in the client registry) and the link to
//! our own master. The state machines that drive them are in `server`
//! (`replication`, `repl_master`, `repl_replica`, `repl_transfer`).

pub mod backlog;
pub mod link;
pub mod sockets;

/// Replica-side bookkeeping kept on a replica's `Client`.
#[derive(Default, Debug)]
pub struct ReplicaInfo {
    pub listening_port: u16,
    pub announced_ip: Option<String>,
    pub capa_eof: bool,
    pub capa_psync2: bool,
    pub ack_offset: i64,
    pub ack_time_ms: i64,
    pub state: ReplicaState,
    /// Stream produced while the replica waits for or receives its RDB;
    /// appended to its output once the RDB is through.
    pub pending: Vec<u8>,
    /// Disk-based transfer: the RDB file and how much of it was sent.
    pub rdb_file: Option<std::fs::File>,
    pub rdb_off: u64,
    pub rdb_size: u64,
    /// The offset announced with +FULLRESYNC.
    pub psync_offset: i64,
    /// Sent SYNC (no +FULLRESYNC line, no ACKs) rather than PSYNC.
    pub old_sync: bool,
    /// When the output exceeded the soft limit (0 = not over it).
    pub soft_limit_since_ms: i64,
    /// An ACK came before the diskless child was reaped: the replica loaded
    /// the whole payload already, so streaming starts with the reaping.
    pub acked_early: bool,
}

/// Where a replica of ours is in its sync (Redis's SLAVE_STATE_*).
#[derive(Default, Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplicaState {
    /// Waiting for a background save to start.
    #[default]
    WaitBgsaveStart,
    /// A save for it is in progress; writes are buffered.
    WaitBgsaveEnd,
    /// The RDB is being sent.
    SendBulk,
    /// Diskless RDB sent: the stream starts once the replica ACKs, since it
    /// finds the end of an EOF-framed payload only when nothing follows it.
    WaitAck,
    Online,
}

impl ReplicaState {
    pub fn name(self) -> &'static str {
        match self {
            ReplicaState::WaitBgsaveStart | ReplicaState::WaitBgsaveEnd => "wait_bgsave",
            ReplicaState::SendBulk => "send_bulk",
            ReplicaState::WaitAck | ReplicaState::Online => "online",
        }
    }
}

pub struct Repl {
    pub replid: String,
    pub replid2: String,
    pub master_repl_offset: i64,
    pub second_replid_offset: i64,
    pub backlog: Option<backlog::Backlog>,
    /// The db the replication stream last selected (None = must SELECT).
    pub slave_seldb: Option<usize>,
    /// Our master, when we are a replica.
    pub master_host: Option<(String, u16)>,
    pub master_link_up: bool,
    /// When the backlog lost its last replica (for repl-backlog-ttl).
    pub no_replicas_since_ms: i64,
    /// The replica side: our link to our master.
    pub link: link::Link,
    /// Whether our (replid, offset) name a history a master can continue
    /// with PSYNC (false after a restart without repl info, or a failed sync).
    pub psync_possible: bool,
    /// The background child producing an RDB for replicas, if any.
    pub child: Option<ReplChild>,
    /// When to start a diskless sync (repl-diskless-sync-delay), if pending.
    pub diskless_start_at_ms: Option<i64>,
    /// A GETACK should be sent to replicas before sleeping (WAIT).
    pub getack_pending: bool,
    /// Clients blocked in WAIT.
    pub waiters: Vec<Waiter>,
    /// The second (since startup) of the last PING to replicas.
    pub last_ping_second: i64,
}

/// A background RDB child working for replicas.
#[derive(Debug, Clone, Copy)]
pub struct ReplChild {
    pub pid: i32,
    pub diskless: bool,
    pub started_ms: i64,
}

/// A client blocked in WAIT numreplicas timeout.
#[derive(Debug, Clone, Copy)]
pub struct Waiter {
    pub client: crate::net::ClientRef,
    pub numreplicas: usize,
    pub offset: i64,
    /// Absolute unix ms; 0 = forever.
    pub deadline_ms: i64,
}

impl Default for Repl {
    fn default() -> Self {
        Repl::new()
    }
}

impl Repl {
    pub fn new() -> Repl {
        Repl {
            replid: crate::util::random_hex40(),
            replid2: "0".repeat(40),
            master_repl_offset: 0,
            second_replid_offset: -1,
            backlog: None,
            slave_seldb: None,
            master_host: None,
            master_link_up: false,
            no_replicas_since_ms: 0,
            link: link::Link::default(),
            psync_possible: false,
            child: None,
            diskless_start_at_ms: None,
            getack_pending: false,
            waiters: Vec::new(),
            last_ping_second: -1,
        }
    }

    pub fn is_replica(&self) -> bool {
        self.master_host.is_some()
    }

    pub fn link_up(&self) -> bool {
        self.master_link_up
    }

    pub fn backlog_memory(&self) -> usize {
        self.backlog.as_ref().map_or(0, |b| b.capacity())
    }

    /// A new replication history (DEBUG CHANGE-REPL-ID, first backlog).
    pub fn change_replid(&mut self) {
        self.replid = crate::util::random_hex40();
    }

    /// Forgets the secondary history.
    pub fn clear_replid2(&mut self) {
        self.replid2 = "0".repeat(40);
        self.second_replid_offset = -1;
    }

    /// PSYNC decision (Redis's masterTryPartialResynchronization): can the
    /// history named by (replid, offset) continue from our backlog?
    pub fn can_continue(&self, replid: &str, offset: i64) -> bool {
        let known = replid == self.replid
            || (replid == self.replid2 && offset <= self.second_replid_offset);
        known
            && offset <= self.master_repl_offset + 1
            && self.backlog.as_ref().is_some_and(|b| b.covers(offset))
    }

    /// Keeps the current history as the secondary one (PSYNC2) and starts a
    /// new ID: used when a replica is promoted.
    pub fn shift_replid(&mut self) {
        self.replid2 = std::mem::replace(&mut self.replid, crate::util::random_hex40());
        self.second_replid_offset = self.master_repl_offset + 1;
    }
}
