//! Replication state: replication ID and offset, the backlog, the list of
//! our replicas (master side) and the link to our own master (replica side).
//! The server module drives it; this module owns the data and decisions.

pub mod backlog;

use crate::net::{Client, Kind};
use slab::Slab;

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
    Online,
}

impl ReplicaState {
    pub fn name(self) -> &'static str {
        match self {
            ReplicaState::WaitBgsaveStart | ReplicaState::WaitBgsaveEnd => "wait_bgsave",
            ReplicaState::SendBulk => "send_bulk",
            ReplicaState::Online => "online",
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
        }
    }

    pub fn is_replica(&self) -> bool {
        self.master_host.is_some()
    }

    pub fn link_up(&self) -> bool {
        self.master_link_up
    }

    /// Replicas whose last ACK is at most `max_lag` seconds old.
    pub fn good_replicas(&self, clients: &Slab<Client>, now_ms: i64, max_lag: u64) -> usize {
        clients
            .iter()
            .filter(|(_, c)| {
                c.kind == Kind::Replica
                    && c.repl.as_ref().is_some_and(|r| {
                        r.state == ReplicaState::Online
                            && (now_ms - r.ack_time_ms) / 1000 <= max_lag as i64
                    })
            })
            .count()
    }

    pub fn backlog_memory(&self) -> usize {
        self.backlog.as_ref().map_or(0, |b| b.capacity())
    }

    /// A new replication history: new ID, the old one kept as replid2.
    pub fn change_replid(&mut self) {
        self.replid = crate::util::random_hex40();
    }

    /// Keeps the current history as the secondary one (PSYNC2) and starts a
    /// new ID: used when a replica is promoted.
    pub fn shift_replid(&mut self) {
        self.replid2 = std::mem::replace(&mut self.replid, crate::util::random_hex40());
        self.second_replid_offset = self.master_repl_offset + 1;
    }
}
