//! Collection values: the in-memory representations of lists, hashes, sets,
//! sorted sets and streams, with their compact encodings and conversion thresholds.
//! Pure data structures: no commands, no replies, no clock.
//!
//! The API every type keeps (persistence and commands rely on it):
//! `new`, `len`, `is_empty`, `encoding` (Redis's OBJECT ENCODING name),
//! `mem_usage`, element-level `iter()` and insertion taking `&Limits`, and for
//! the compact encodings direct access to the byte-exact blob
//! (`as_listpack`, `as_intset`) plus constructors from such blobs, so that
//! RDB save/load can copy them without re-encoding.

pub mod geohash;
pub mod hash;
pub mod hll;
pub mod list;
mod list_nodes;
mod member_index;
pub mod set;
pub mod set_table;
pub mod skiplist;
pub mod stream;
pub mod stream_cg;
pub mod stream_iter;
pub mod stream_meta;
pub mod zset;

pub use hash::Hash;
pub use list::List;
pub use set::Set;
pub use stream::Stream;
pub use zset::ZSet;

/// Encoding thresholds, from the config (Redis's *-max-listpack-* knobs).
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    pub hash_max_listpack_entries: usize,
    pub hash_max_listpack_value: usize,
    pub set_max_intset_entries: usize,
    pub zset_max_listpack_entries: usize,
    pub zset_max_listpack_value: usize,
    /// Positive: max entries per quicklist node; -1..-5: max node bytes 4k..64k.
    pub list_max_listpack_size: i64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            hash_max_listpack_entries: 128,
            hash_max_listpack_value: 64,
            set_max_intset_entries: 512,
            zset_max_listpack_entries: 128,
            zset_max_listpack_value: 64,
            list_max_listpack_size: -2,
        }
    }
}

impl Limits {
    pub fn from_config(c: &crate::config::Config) -> Limits {
        Limits {
            hash_max_listpack_entries: c.hash_max_listpack_entries as usize,
            hash_max_listpack_value: c.hash_max_listpack_value as usize,
            set_max_intset_entries: c.set_max_intset_entries as usize,
            zset_max_listpack_entries: c.zset_max_listpack_entries as usize,
            zset_max_listpack_value: c.zset_max_listpack_value as usize,
            list_max_listpack_size: c.list_max_listpack_size,
        }
    }
}
