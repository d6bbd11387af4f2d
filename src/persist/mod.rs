//! Persistence: RDB encode/decode (Redis-compatible), AOF, and the single
//! `fork()` site. This module owns the background-child bookkeeping; the
//! server module (`server/persistence.rs`) drives it.
//!
//! - `rdb`: the RDB writer (version 10, as Redis 7.0) and DUMP payloads;
//! - `rdb_load`: the RDB reader (versions 1..=12) and RESTORE payloads;
//! - `rdb_stream`: the same reader fed incrementally (a replica's sync);
//! - `rdb_type_stream`: the stream type (RDB_TYPE_STREAM_LISTPACKS*) in both directions;
//! - `fork`: `fork_child`, reaping, CoW accounting;
//! - `aof`: multi-part AOF (manifest, base, incremental files);
//! - `digest`, `sha1`: DEBUG DIGEST as Redis computes it.

pub mod aof;
pub mod digest;
pub mod fork;
pub mod rdb;
pub mod rdb_load;
pub mod rdb_stream;
pub mod rdb_type_stream;
pub mod sha1;

pub use fork::{Child, ChildExit, ChildKind};
pub use rdb::{write_rdb, RdbAux, ReplAux};
pub use rdb_load::{load_rdb, RdbError, RdbInfo};

/// Seconds to wait before retrying a failed background save (Redis's
/// CONFIG_BGSAVE_RETRY_DELAY).
pub const BGSAVE_RETRY_DELAY: i64 = 5;

/// Background save / rewrite bookkeeping.
pub struct State {
    /// The running child, if any (at most one, as Redis).
    pub child: Option<Child>,
    /// Set when a child finished: which kind and whether it succeeded.
    /// Replication takes it (`Option::take`) to go on with a full sync.
    pub child_done: Option<(ChildKind, bool)>,
    pub last_bgsave_ok: bool,
    pub bgsave_tried: bool,
    /// Unix seconds of the last BGSAVE attempt (for the retry delay).
    pub lastbgsave_try: i64,
    pub bgsave_scheduled: bool,
    /// `dirty` when the current RDB child was forked.
    pub dirty_before_bgsave: u64,
    pub rdb_last_bgsave_time_sec: i64,
    pub rdb_saves: u64,
    pub rdb_last_cow_size: u64,
    pub aof_last_cow_size: u64,
    pub loading: bool,
    /// A replica loads its master's RDB while serving the old data set.
    pub async_loading: bool,
    pub rdb_last_load_keys_loaded: u64,
    pub rdb_last_load_keys_expired: u64,
    /// AUX fields of the last RDB loaded (replication id and offset).
    pub last_load_info: Option<RdbInfo>,
    pub aof: aof::Aof,
}

impl Default for State {
    fn default() -> Self {
        State {
            child: None,
            child_done: None,
            last_bgsave_ok: true,
            bgsave_tried: false,
            lastbgsave_try: 0,
            bgsave_scheduled: false,
            dirty_before_bgsave: 0,
            rdb_last_bgsave_time_sec: -1,
            rdb_saves: 0,
            rdb_last_cow_size: 0,
            aof_last_cow_size: 0,
            loading: false,
            async_loading: false,
            rdb_last_load_keys_loaded: 0,
            rdb_last_load_keys_expired: 0,
            last_load_info: None,
            aof: aof::Aof::default(),
        }
    }
}

impl State {
    pub fn child_pid(&self) -> Option<i32> {
        self.child.as_ref().map(|c| c.pid.as_raw())
    }

    pub fn child_kind(&self) -> Option<ChildKind> {
        self.child.as_ref().map(|c| c.kind)
    }

    /// Whether the last background save failed (writes are refused with
    /// MISCONF when stop-writes-on-bgsave-error is on and save points exist).
    pub fn bgsave_failed(&self) -> bool {
        !self.last_bgsave_ok
    }
}
