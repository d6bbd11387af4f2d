//! Replication data: replication ID and offset, the backlog, a replica's
//! bookkeeping (`ReplicaInfo`, kept in the client registry) and the link to
//! our own master. The state machines that drive them are in `server`
//! (`replication`, `repl_master`, `repl_replica`, `repl_transfer`).

pub mod backlog;
pub mod lag;
pub mod link;

/// Replica-side bookkeeping kept on a replica's `Client`.
#[derive(Default, Debug)]
pub struct ReplicaInfo {
    pub listening_port: u16,
    pub announced_ip: Option<String>,
    pub capa_eof: bool,
    pub capa_psync2: bool,
    /// What `REPLCONF rdb-filter-only` leaves out of its RDB (Redis's
    /// slave_req): replicas share a save only when these are equal.
    pub req: RdbFilter,
    pub ack_offset: i64,
    pub ack_time_ms: i64,
    pub state: ReplicaState,
    /// Where this replica is in the shared replication buffer (None until
    /// stream bytes exist for it: a replica waiting for its RDB holds the
    /// stream produced since the fork; it is written once it is online).
    pub repl_pos: Option<backlog::Pos>,
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
    /// Diskless transfer: bytes of the current pipe chunk written to this
    /// replica, and when a write last went through (repl-timeout).
    pub pipe_written: usize,
    pub pipe_blocked_since_ms: i64,
    /// Full sync payload bytes sent so far, and the total when known
    /// (disk-based: the file size).
    pub sync_sent_bytes: u64,
    /// Announced `REPLCONF capa digest-at` (a ferrodis replica).
    pub capa_digest: bool,
    /// DIGEST-AT-OFFSET markers to write into its stream: (offset, bytes),
    /// each exactly after the byte at that offset.
    pub markers: Vec<(i64, Vec<u8>)>,
}

/// The parts of the RDB a replica asked to leave out.
#[derive(Default, Debug, Clone, Copy, PartialEq, Eq)]
pub struct RdbFilter {
    pub exclude_data: bool,
    pub exclude_functions: bool,
}

impl RdbFilter {
    /// Any filter: the RDB is made for this replica alone, through a socket.
    pub fn any(self) -> bool {
        self.exclude_data || self.exclude_functions
    }
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
    /// Keys with a TTL that clients of this writable replica wrote: the
    /// replica expires them itself (its master knows nothing of them).
    pub replica_keys_with_expire: std::collections::HashSet<(usize, crate::sds::Sds)>,
    /// The disk save for replicas lost the last replica waiting for it:
    /// killed before the loop sleeps.
    pub kill_child_asap: bool,
    /// A diskless transfer in progress: the child's RDB comes through this
    /// pipe and is written to every replica by the loop.
    pub pipe: Option<RdbPipe>,
    /// Calls of the once-a-second replication cron so far (PING period).
    pub cron_calls: i64,
    /// When the stream's bytes were produced (lag in time, REPL-DELAY).
    pub produced: lag::OffsetTimes,
    /// Fault injection (DEBUG REPL-*): the stream to replicas is held until
    /// then; delayed by that many ms; our master's stream is not applied
    /// until then.
    pub pause_until_ms: i64,
    pub delay_ms: i64,
    pub pause_apply_until_ms: i64,
    /// Replicas whose lag crossed replica-lag-alert-ms (logged once).
    pub lag_alerted: bool,
    /// The empty-sync guard refused our master's payload: the link stays
    /// down until REPLICAOF, DEBUG REPL-ACCEPT-EMPTY or the config says yes.
    pub refused_empty: bool,
    /// DEBUG REPL-ACCEPT-EMPTY: the next empty full sync goes through.
    pub accept_empty_once: bool,
    /// Our master's run id at our last successful sync, when it told.
    pub synced_run_id: Option<String>,
    /// DEBUG DIGEST-AT-OFFSET calls waiting for replicas.
    pub digest_requests: Vec<DigestRequest>,
    pub digest_seq: u64,
    /// The running command made a reply for a replica of ours.
    pub replica_reply: bool,
}

/// A replica asked for its digest: (replica, its name, its answer as
/// (offset, digest) once it came).
pub type DigestTarget = (crate::net::ClientRef, String, Option<(i64, String)>);

/// A DEBUG DIGEST-AT-OFFSET call waiting for its replicas.
pub struct DigestRequest {
    pub id: u64,
    pub client: crate::net::ClientRef,
    pub offset: i64,
    pub deadline_ms: i64,
    pub master_digest: String,
    pub replicas: Vec<DigestTarget>,
    /// Replicas that cannot answer (no capability: real Redis).
    pub unsupported: Vec<String>,
}

/// A background RDB child working for replicas.
#[derive(Debug, Clone, Copy)]
pub struct ReplChild {
    pub pid: i32,
    pub diskless: bool,
    pub started_ms: i64,
}

/// Token of the diskless transfer's pipe in the poller (just below the
/// listeners' range).
pub const RDB_PIPE_TOKEN: usize = usize::MAX - 65;

/// The read end of a diskless child's pipe and the chunk being written to
/// the replicas (Redis 7.0's rdb_pipe_*): the next chunk is read only once
/// every replica took this one, so the slowest replica sets the pace.
pub struct RdbPipe {
    pub file: mio::net::UnixStream,
    pub buf: Vec<u8>,
    /// Replicas still receiving the payload.
    pub conns: Vec<crate::net::ClientRef>,
    /// The child closed its end and everything read was written.
    pub eof: bool,
    /// The child was reaped before the pipe ran dry: its result.
    pub child_exit: Option<bool>,
    pub registered: bool,
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
            replica_keys_with_expire: Default::default(),
            kill_child_asap: false,
            pipe: None,
            cron_calls: 0,
            produced: lag::OffsetTimes::default(),
            pause_until_ms: 0,
            delay_ms: 0,
            pause_apply_until_ms: 0,
            lag_alerted: false,
            refused_empty: false,
            accept_empty_once: false,
            synced_run_id: None,
            digest_requests: Vec::new(),
            digest_seq: 0,
            replica_reply: false,
        }
    }

    pub fn is_replica(&self) -> bool {
        self.master_host.is_some()
    }

    pub fn link_up(&self) -> bool {
        self.master_link_up
    }

    /// Memory of the shared replication buffer (backlog and replicas).
    pub fn buffer_memory(&self) -> usize {
        self.backlog.as_ref().map_or(0, |b| b.memory())
    }

    /// What the replication buffer holds beyond repl-backlog-size (and its
    /// block overhead): memory kept for replicas, not counted for
    /// maxmemory (Redis 7.0's freeMemoryGetNotCountedMemory).
    pub fn buffer_not_counted(&self, backlog_size: u64) -> u64 {
        let mem = self.buffer_memory() as u64;
        let blocks = backlog_size / backlog::MIN_BLOCK as u64 + 1;
        let counted = backlog_size + blocks * backlog::BLOCK_OVERHEAD as u64;
        mem.saturating_sub(counted)
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
