//! Collection values: the in-memory representations of lists, hashes, sets
//! and sorted sets, with their compact encodings and conversion thresholds.
//! Pure data structures: no commands, no replies, no clock.

pub mod hash;
pub mod list;
pub mod set;
pub mod zset;

pub use hash::Hash;
pub use list::List;
pub use set::Set;
pub use zset::ZSet;
