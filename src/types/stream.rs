//! Stream values, as Redis 7.0's t_stream.c lays them out: an ordered map
//! (Redis: a radix tree) from each node's master entry ID to a listpack in
//! Redis's exact stream layout, so that RDB and DUMP payloads carry the
//! same bytes as Redis's and load back as they are.
//!
//! A node's listpack starts with the master entry
//! `count | deleted | num-fields | field... | 0`, then one entry per item:
//! `flags | ms-delta | seq-delta | [num-fields | field...] value... | lp-count`
//! (IDs relative to the node key; fields omitted when they are the master's,
//! flag SAMEFIELDS; deleted items stay as tombstones, flag DELETED, until
//! the whole node goes). Nodes are bounded by `stream-node-max-bytes` and
//! `stream-node-max-entries`.
//!
//! This file owns IDs, nodes, appending, deletion and trimming;
//! reading nodes is in `stream_iter`, consumer groups in `stream_cg`, the
//! radix-tree figures, memory accounting and payload validation in
//! `stream_meta`.

use super::stream_cg::Group;
pub use super::stream_iter::{master, Entry, Fields, Iter, Master};
use super::stream_iter::{read_entry, NodeCursor};
use crate::alloc::jemalloc_usable;
use crate::encoding::listpack::Listpack;
use crate::encoding::numbers::ull2string;
use std::collections::BTreeMap;
use std::fmt;

pub const FLAG_DELETED: i64 = 1;
pub const FLAG_SAMEFIELDS: i64 = 2;
/// Redis never preallocates more than this for a new node.
const MAX_PREALLOC: usize = 4096;
/// A node never grows past 1GB whatever the config says.
pub const LISTPACK_MAX_SIZE: usize = 1 << 30;

/// A stream entry ID: milliseconds and sequence, ordered as a 128-bit
/// big-endian number.
#[derive(Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub struct StreamId {
    pub ms: u64,
    pub seq: u64,
}

impl StreamId {
    pub const MIN: StreamId = StreamId { ms: 0, seq: 0 };
    pub const MAX: StreamId = StreamId {
        ms: u64::MAX,
        seq: u64::MAX,
    };

    pub const fn new(ms: u64, seq: u64) -> StreamId {
        StreamId { ms, seq }
    }

    pub fn is_zero(&self) -> bool {
        self.ms == 0 && self.seq == 0
    }

    /// The next ID, or None past the last possible one (streamIncrID).
    pub fn incr(self) -> Option<StreamId> {
        if self.seq < u64::MAX {
            Some(StreamId::new(self.ms, self.seq + 1))
        } else if self.ms < u64::MAX {
            Some(StreamId::new(self.ms + 1, 0))
        } else {
            None
        }
    }

    /// The previous ID, or None before 0-0 (streamDecrID).
    pub fn decr(self) -> Option<StreamId> {
        if self.seq > 0 {
            Some(StreamId::new(self.ms, self.seq - 1))
        } else if self.ms > 0 {
            Some(StreamId::new(self.ms - 1, u64::MAX))
        } else {
            None
        }
    }

    /// The 16-byte big-endian form (radix tree keys, RDB PELs).
    pub fn to_be_bytes(self) -> [u8; 16] {
        let mut b = [0u8; 16];
        b[..8].copy_from_slice(&self.ms.to_be_bytes());
        b[8..].copy_from_slice(&self.seq.to_be_bytes());
        b
    }

    pub fn from_be_bytes(b: &[u8; 16]) -> StreamId {
        let mut ms = [0u8; 8];
        let mut seq = [0u8; 8];
        ms.copy_from_slice(&b[..8]);
        seq.copy_from_slice(&b[8..]);
        StreamId::new(u64::from_be_bytes(ms), u64::from_be_bytes(seq))
    }

    /// `<ms>-<seq>` into `buf`, returning the used part (no allocation).
    pub fn fmt_buf(self, buf: &mut [u8; 41]) -> &[u8] {
        self.fmt_sep(buf, b'-')
    }

    /// `<ms><sep><seq>` into `buf` (DEBUG DIGEST writes `<ms>.<seq>`).
    pub fn fmt_sep(self, buf: &mut [u8; 41], sep: u8) -> &[u8] {
        let mut d = [0u8; 20];
        let ms = ull2string(self.ms, &mut d);
        let n = ms.len();
        buf[..n].copy_from_slice(ms);
        buf[n] = sep;
        let seq = ull2string(self.seq, &mut d);
        buf[n + 1..n + 1 + seq.len()].copy_from_slice(seq);
        &buf[..n + 1 + seq.len()]
    }

    pub fn to_bytes(self) -> bytes::Bytes {
        let mut b = [0u8; 41];
        bytes::Bytes::copy_from_slice(self.fmt_buf(&mut b))
    }
}

impl fmt::Display for StreamId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.ms, self.seq)
    }
}

/// Node bounds from the config (stream-node-max-bytes / -entries).
#[derive(Clone, Copy, Debug)]
pub struct NodeLimits {
    pub max_bytes: u64,
    pub max_entries: i64,
}

impl Default for NodeLimits {
    fn default() -> Self {
        NodeLimits {
            max_bytes: 4096,
            max_entries: 100,
        }
    }
}

/// One node: a listpack in Redis's stream layout.
#[derive(Clone, Debug)]
pub struct Node {
    pub lp: Listpack,
}

impl Node {
    /// The node is closed (a new one starts): no spare room (lpShrinkToFit).
    /// The bytes move to an exact-size copy rather than shrinking in place:
    /// the freed buffer, sized like a full node, is what the next node's
    /// allocation reuses, so the heap does not fill with split remainders.
    fn close(&mut self) {
        if self.lp.capacity() > self.lp.bytes_len() {
            self.lp = self.lp.clone();
        }
    }

    /// Replaces an integer element, following Redis's reallocation of the
    /// last node (`tail_alloc`, see `Stream`) when this is that node.
    fn replace_int(&mut self, tail_alloc: &mut u32, off: usize, v: i64) -> usize {
        let before = self.lp.bytes_len();
        let next = self.lp.replace_int_at(off, v);
        track(tail_alloc, before, self.lp.bytes_len());
        next
    }
}

/// Redis's lpInsert reallocates a listpack when it grows past its
/// allocation or shrinks; a last node still holding Redis's preallocation
/// (`alloc` non-zero) is then sized exactly, like every other node.
fn track(alloc: &mut u32, before: usize, now: usize) {
    if *alloc != 0 && (now > *alloc as usize || now < before) {
        *alloc = 0;
    }
}

/// How XADD/XTRIM trim (streamAddTrimArgs).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TrimStrategy {
    None,
    MaxLen(u64),
    MinId(StreamId),
}

#[derive(Clone, Copy, Debug)]
pub struct TrimArgs {
    pub strategy: TrimStrategy,
    /// Only whole nodes are removed.
    pub approx: bool,
    /// At most this many entries removed (0: no limit).
    pub limit: i64,
}

/// A stream value.
#[derive(Clone, Debug, Default)]
pub struct Stream {
    pub(crate) nodes: BTreeMap<StreamId, Node>,
    pub length: u64,
    pub last_id: StreamId,
    /// The first live entry (0-0 when empty).
    pub first_id: StreamId,
    pub max_deleted_entry_id: StreamId,
    /// Entries ever added.
    pub entries_added: u64,
    /// Consumer groups by name (byte order, as Redis's radix tree).
    pub cgroups: BTreeMap<Box<[u8]>, Group>,
    /// The allocation Redis would hold for the last node while that still
    /// has Redis's preallocation (4KB when created), else 0: every other
    /// node is allocated exactly, in jemalloc's size classes. MEMORY USAGE
    /// reports these as Redis does; our own buffers never preallocate so.
    pub(crate) tail_alloc: u32,
}

impl Stream {
    pub fn new() -> Stream {
        Stream::default()
    }

    pub fn len(&self) -> u64 {
        self.length
    }

    pub fn is_empty(&self) -> bool {
        self.length == 0
    }

    /// Number of nodes (radix-tree-keys).
    pub fn node_count(&self) -> usize {
        self.nodes.len()
    }

    pub fn nodes(&self) -> impl DoubleEndedIterator<Item = (&StreamId, &Node)> {
        self.nodes.iter()
    }

    /// Adds a node as read from a payload; false when the key is taken.
    pub fn insert_node(&mut self, key: StreamId, lp: Listpack) -> bool {
        if self.nodes.contains_key(&key) {
            return false;
        }
        self.nodes.insert(key, Node { lp });
        true
    }

    /// Items with IDs in [start, end].
    pub fn range(&self, start: StreamId, end: StreamId, rev: bool) -> Iter<'_> {
        self.iter_generic(start, end, rev, true)
    }

    pub fn iter_generic(
        &self,
        start: StreamId,
        end: StreamId,
        rev: bool,
        skip_tombstones: bool,
    ) -> Iter<'_> {
        let nodes = if rev {
            self.nodes.range(..=end)
        } else {
            // The node holding `start` is the last one keyed at or before it.
            let from = self
                .nodes
                .range(..=start)
                .next_back()
                .map_or(StreamId::MIN, |(k, _)| *k);
            self.nodes.range(from..)
        };
        Iter::new(nodes, rev, start, end, skip_tombstones)
    }

    /// Whether a live entry has this ID (streamEntryExists).
    pub fn entry_exists(&self, id: StreamId) -> bool {
        self.range(id, id, false).next().is_some()
    }

    /// The first or last entry ID, tombstones included or not; when there
    /// is none, MAX for the first and MIN for the last (streamGetEdgeID).
    pub fn edge_id(&self, first: bool, skip_tombstones: bool) -> StreamId {
        let found = self
            .iter_generic(StreamId::MIN, StreamId::MAX, !first, skip_tombstones)
            .next()
            .map(|e| e.id);
        found.unwrap_or(if first { StreamId::MAX } else { StreamId::MIN })
    }

    /// The last live entry (streamLastValidID), MIN when empty.
    pub fn last_valid_id(&self) -> StreamId {
        self.range(StreamId::MIN, StreamId::MAX, true)
            .next()
            .map_or(StreamId::MIN, |e| e.id)
    }

    /// Appends an item with `id` (greater than `last_id`, checked by the
    /// caller) and the field/value pairs `fv` (streamAppendItem).
    pub fn append<B: AsRef<[u8]>>(&mut self, id: StreamId, fv: &[B], lim: NodeLimits) {
        let numfields = fv.len() / 2;
        let totelelen: usize = fv.iter().map(|x| x.as_ref().len()).sum();
        let node_max = match lim.max_bytes {
            0 => LISTPACK_MAX_SIZE,
            n => (n as usize).min(LISTPACK_MAX_SIZE),
        };
        let mut tail = self.nodes.last_entry();
        // A new node after a full one is sized like it; the first node of
        // a stream starts small (most streams are small).
        let mut closed_len = 0;
        if let Some(t) = tail.as_mut() {
            let lp = &t.get().lp;
            let m = master(lp);
            let full = lp.bytes_len() + totelelen >= node_max
                || (lim.max_entries > 0 && m.count + m.deleted >= lim.max_entries);
            if full {
                closed_len = lp.bytes_len();
                t.get_mut().close();
                self.tail_alloc = 0;
                tail = None;
            }
        }
        let mut flags = 0;
        let (key, node) = match tail {
            Some(t) => {
                let key = *t.key();
                let node = t.into_mut();
                let m = master(&node.lp);
                let first = node.lp.first_offset().unwrap_or(0);
                node.replace_int(&mut self.tail_alloc, first, m.count + 1);
                let m = master(&node.lp);
                if m.nfields == numfields {
                    let mut off = Some(m.fields_off);
                    let same = fv.chunks(2).all(|p| {
                        let hit = off
                            .and_then(|o| node.lp.value_at(o))
                            .is_some_and(|v| v.eq_bytes(p[0].as_ref()));
                        off = off.and_then(|o| node.lp.next_offset(o));
                        hit
                    });
                    if same {
                        flags |= FLAG_SAMEFIELDS;
                    }
                }
                (key, node)
            }
            None => {
                let prealloc = match lim.max_bytes {
                    n if n > 0 && (n as usize) < MAX_PREALLOC => n as usize,
                    _ => MAX_PREALLOC,
                };
                let need = if closed_len > 0 {
                    closed_len + closed_len / 32
                } else {
                    32 + totelelen * 2 + numfields * 8
                };
                let mut lp = Listpack::with_capacity(need.min(node_max).max(64));
                lp.push_back_int(1);
                lp.push_back_int(0);
                lp.push_back_int(numfields as i64);
                for p in fv.chunks(2) {
                    lp.push_back(p[0].as_ref());
                }
                lp.push_back_int(0);
                self.tail_alloc = jemalloc_usable(prealloc.max(7)) as u32;
                let node = self.nodes.entry(id).or_insert(Node { lp });
                flags |= FLAG_SAMEFIELDS;
                (id, node)
            }
        };
        let lp = &mut node.lp;
        let before = lp.bytes_len();
        let same = flags & FLAG_SAMEFIELDS != 0;
        lp.reserve(16 + totelelen + numfields * 6);
        lp.push_back_int(flags);
        lp.push_back_int(id.ms.wrapping_sub(key.ms) as i64);
        lp.push_back_int(id.seq.wrapping_sub(key.seq) as i64);
        if !same {
            lp.push_back_int(numfields as i64);
        }
        for p in fv.chunks(2) {
            if !same {
                lp.push_back(p[0].as_ref());
            }
            lp.push_back(p[1].as_ref());
        }
        let mut lp_count = numfields as i64 + 3;
        if !same {
            lp_count += numfields as i64 + 1;
        }
        lp.push_back_int(lp_count);
        track(&mut self.tail_alloc, before, lp.bytes_len());
        self.length += 1;
        self.entries_added += 1;
        self.last_id = id;
        if self.length == 1 {
            self.first_id = id;
        }
    }

    /// Marks the live entry `id` deleted; false when there is none
    /// (streamDeleteItem). Does not touch first_id / max_deleted_entry_id.
    pub fn delete(&mut self, id: StreamId) -> bool {
        let last = self.nodes.keys().next_back().copied();
        let Some((&key, node)) = self.nodes.range_mut(..=id).next_back() else {
            return false;
        };
        let mut other = 0;
        let alloc = if Some(key) == last {
            &mut self.tail_alloc
        } else {
            &mut other
        };
        let m = master(&node.lp);
        let mut pos = m.first_entry;
        let mut found = None;
        while let Some(off) = pos {
            let Some(e) = read_entry(&node.lp, off, key, &m) else {
                break;
            };
            if e.id == id && !e.deleted() {
                found = Some((off, e.flags));
                break;
            }
            if e.id > id {
                break;
            }
            pos = e.lp_count_off().and_then(|c| node.lp.next_offset(c));
        }
        let Some((off, flags)) = found else {
            return false;
        };
        self.length = self.length.saturating_sub(1);
        if m.count == 1 {
            // The new last node, if this was it, is an exact one.
            *alloc = 0;
            self.nodes.remove(&key);
            return true;
        }
        node.replace_int(alloc, off, flags | FLAG_DELETED);
        let first = node.lp.first_offset().unwrap_or(0);
        let next = node.replace_int(alloc, first, m.count - 1);
        node.replace_int(alloc, next, m.deleted + 1);
        true
    }

    /// Trims by strategy; returns the number of entries removed
    /// (streamTrim), updating first_id.
    pub fn trim(&mut self, args: &TrimArgs) -> i64 {
        if args.strategy == TrimStrategy::None {
            return 0;
        }
        let mut deleted: i64 = 0;
        loop {
            if let TrimStrategy::MaxLen(max) = args.strategy {
                if self.length <= max {
                    break;
                }
            }
            let single = self.nodes.len() == 1;
            let Some(mut first) = self.nodes.first_entry() else {
                break;
            };
            let key = *first.key();
            let node = first.get_mut();
            let mut other = 0;
            let alloc = if single {
                &mut self.tail_alloc
            } else {
                &mut other
            };
            let m = master(&node.lp);
            let entries = m.count;
            if args.limit != 0 && deleted + entries > args.limit {
                break;
            }
            let remove_node = match args.strategy {
                TrimStrategy::MaxLen(max) => self.length.saturating_sub(entries as u64) >= max,
                TrimStrategy::MinId(min) => {
                    let mut c = NodeCursor::new(key, node, true);
                    // The node's last item, tombstone or not.
                    let last = c.next_rev().map_or(StreamId::MIN, |e| e.id);
                    last < min
                }
                TrimStrategy::None => false,
            };
            if remove_node {
                *alloc = 0;
                first.remove();
                self.length = self.length.saturating_sub(entries as u64);
                deleted += entries;
                continue;
            }
            if args.approx {
                break;
            }
            // Mark entries deleted inside this node until done.
            let mut from_lp: i64 = 0;
            let mut pos = m.first_entry;
            while let Some(off) = pos {
                let Some(e) = read_entry(&node.lp, off, key, &m) else {
                    break;
                };
                let stop = match args.strategy {
                    TrimStrategy::MaxLen(max) => self.length <= max,
                    TrimStrategy::MinId(min) => e.id >= min,
                    TrimStrategy::None => true,
                };
                if stop {
                    break;
                }
                let (flags, was_deleted) = (e.flags, e.deleted());
                let cnt = e.lp_count_off();
                if !was_deleted {
                    // Same encoded size (0/2 -> 1/3): later offsets hold.
                    node.replace_int(alloc, off, flags | FLAG_DELETED);
                    from_lp += 1;
                    self.length = self.length.saturating_sub(1);
                }
                pos = cnt.and_then(|c| node.lp.next_offset(c));
            }
            deleted += from_lp;
            let first_off = node.lp.first_offset().unwrap_or(0);
            let next = node.replace_int(alloc, first_off, entries - from_lp);
            node.replace_int(alloc, next, m.deleted + from_lp);
            break;
        }
        if self.length == 0 {
            self.first_id = StreamId::MIN;
        } else if deleted > 0 {
            self.first_id = self.edge_id(true, true);
        }
        deleted
    }

    /// Whether a tombstone may lie in [start, end] (streamRangeHasTombstones;
    /// the caller checked start is below last_id).
    pub fn range_has_tombstones(&self, start: StreamId, end: StreamId) -> bool {
        if self.length == 0 || self.max_deleted_entry_id.is_zero() {
            return false;
        }
        if self.first_id > self.max_deleted_entry_id {
            return false;
        }
        start <= self.max_deleted_entry_id && self.max_deleted_entry_id <= end
    }

    /// The logical read counter of `id`, or -1 when it cannot be known
    /// (streamEstimateDistanceFromFirstEverEntry).
    pub fn estimate_distance(&self, id: StreamId) -> i64 {
        if self.entries_added == 0 {
            return 0;
        }
        if self.length == 0 && id <= self.last_id {
            return self.entries_added as i64;
        }
        if id == self.last_id {
            return self.entries_added as i64;
        } else if id > self.last_id {
            return -1;
        }
        if self.max_deleted_entry_id.is_zero() || self.max_deleted_entry_id < self.first_id {
            if id < self.first_id {
                return self.entries_added.wrapping_sub(self.length) as i64;
            } else if id == self.first_id {
                return self.entries_added.wrapping_sub(self.length).wrapping_add(1) as i64;
            }
        }
        -1
    }

    /// The consumer group lag (None when unknown: fragmentation).
    pub fn group_lag(&self, g: &Group) -> Option<i64> {
        if self.entries_added == 0 {
            return Some(0);
        }
        if g.entries_read != -1 && !self.range_has_tombstones(g.last_id, StreamId::MAX) {
            return Some((self.entries_added as i64).wrapping_sub(g.entries_read));
        }
        let read = self.estimate_distance(g.last_id);
        (read != -1).then(|| (self.entries_added as i64).wrapping_sub(read))
    }

    /// A copy with exactly sized nodes, as Redis's streamDup.
    pub fn dup(&self) -> Stream {
        let mut s = self.clone();
        s.tail_alloc = 0;
        s
    }
}
