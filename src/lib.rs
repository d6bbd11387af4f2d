//! ferrodis: a Redis 7.0 compatible server. One thread, one `mio::Poll`,
//! connections in a `Slab`, background saves in a forked child.
//!
//! Crate map, in reading order:
//! - `resp`: the request parser and the reply encoder (pure);
//! - `sds`, `dict`: the string and the chained hash table (keyspace,
//!   hashes); `util::open_table` the open-addressed one (hashtable sets'
//!   members, sorted sets' member index);
//! - `encoding`: byte-exact Redis formats (listpack, intset, LZF, CRC64...)
//!   and `encoding::numbers`, the one home of string<->number rules;
//! - `types`: list, hash, set, sorted set and stream values;
//! - `db`: the keyspace, values and expiry;
//! - `cmd`: the command table and the handlers, one file per family;
//! - `net`: a connection's buffers and flags;
//! - `persist`: RDB and AOF, and the single `fork()` site;
//! - `repl`: replication data (the backlog, a replica's bookkeeping, the
//!   link to our master); the state machines that drive it are in
//!   `server` (`replication`, `repl_master`, `repl_replica`, `repl_transfer`);
//! - `cluster`: Redis Cluster (the bus, slots, failover, MIGRATE);
//! - `server`: the loop that owns all of the above;
//! - `sentinel`: Sentinel mode (watching masters, failing over), which the
//!   server runs instead of a keyspace;
//! - `script`: Lua scripting (EVAL, SCRIPT) and Redis Functions;
//! - `util`: clocks, PRNG, the one glob matcher (`util::glob`) and
//!   argument splitter/quoter (`util::splitargs`), the open-addressed table
//!   and the chunked array;
//! - `config`, `logging`, `error`, `alloc` (memory accounting): shared
//!   plumbing.
#![cfg_attr(not(test), deny(clippy::unwrap_used))]

pub mod acl;
pub mod alloc;
pub mod cluster;
pub mod cmd;
pub mod config;
pub mod db;
pub mod dict;
pub mod encoding;
pub mod error;
pub mod lazyfree;
pub mod logging;
pub mod net;
pub mod persist;
pub mod repl;
pub mod resp;
pub mod script;
pub mod sds;
pub mod sentinel;
pub mod server;
pub mod types;
pub mod util;

/// The Redis version whose behaviour ferrodis reproduces.
pub const REDIS_VERSION: &str = "7.0.15";
