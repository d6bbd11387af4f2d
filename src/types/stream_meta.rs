//! Figures and checks about a stream that Redis derives from its own
//! structures: the radix tree's node count (XINFO STREAM
//! radix-tree-nodes, MEMORY USAGE), MEMORY USAGE itself, and the deep
//! validation of a node listpack read from an RDB file or a DUMP payload
//! (Redis's streamValidateListpackIntegrity, always in deep mode here).

use super::stream::{master, Stream, StreamId, FLAG_DELETED, FLAG_SAMEFIELDS};
use crate::alloc::jemalloc_usable;
use crate::encoding::listpack::Listpack;

/// The number of nodes of a Redis radix tree (rax) holding `keys`, sorted
/// and distinct 16-byte keys. A rax built and pruned by raxInsert and
/// raxRemove always has the compressed-trie shape this counts: one node
/// per key end, per branching point and per run of single-child bytes,
/// a branching node keeping the first byte of each child's run.
pub fn rax_nodes(keys: &[[u8; 16]]) -> usize {
    if keys.is_empty() {
        return 1;
    }
    count_from(keys, 0)
}

/// Nodes of the subtree whose node starts at byte `d` of `keys` (which
/// share their first `d` bytes).
fn count_from(keys: &[[u8; 16]], d: usize) -> usize {
    if d == 16 {
        return 1;
    }
    let (first, last) = (&keys[0], &keys[keys.len() - 1]);
    let common = (d..16).take_while(|&i| first[i] == last[i]).count();
    if common > 0 {
        // A compressed node holding the shared run, then what follows.
        return 1 + count_from(keys, d + common);
    }
    // A branching node: one child per distinct byte at `d`.
    let mut n = 1;
    let mut i = 0;
    while i < keys.len() {
        let b = keys[i][d];
        let j = i + keys[i..].iter().take_while(|k| k[d] == b).count();
        n += count_from(&keys[i..j], d + 1);
        i = j;
    }
    n
}

/// Redis's streamRadixTreeMemoryUsage (numele IDs, ~244 bytes a node).
fn rax_memory(numele: usize, numnodes: usize) -> usize {
    numele * 16 + numnodes * 4 + numnodes * 8 * 30
}

fn id_keys<'a>(ids: impl Iterator<Item = &'a StreamId>) -> Vec<[u8; 16]> {
    ids.map(|id| id.to_be_bytes()).collect()
}

impl Stream {
    /// radix-tree-nodes of XINFO STREAM.
    pub fn rax_node_count(&self) -> usize {
        rax_nodes(&id_keys(self.nodes.keys()))
    }

    /// The value part of MEMORY USAGE, as Redis's objectComputeSize
    /// computes it for a stream (`samples` listpacks averaged).
    pub fn memory_usage(&self, samples: usize) -> usize {
        // robj + struct stream.
        let mut size = 16 + 80;
        size += rax_memory(self.nodes.len(), self.rax_node_count());
        let last = self.nodes.keys().next_back().copied();
        // What Redis allocates for a node (zmalloc_size of its listpack).
        let alloc = |k: &StreamId, n: &super::stream::Node| {
            if Some(*k) == last && self.tail_alloc != 0 {
                self.tail_alloc as usize
            } else {
                jemalloc_usable(n.lp.bytes_len())
            }
        };
        let sampled: Vec<usize> = self
            .nodes
            .iter()
            .take(samples)
            .map(|(k, n)| alloc(k, n))
            .collect();
        let lpsize: usize = sampled.iter().sum();
        if self.nodes.len() <= sampled.len() {
            size += lpsize;
        } else {
            let avg = if sampled.is_empty() {
                lpsize
            } else {
                lpsize / sampled.len()
            };
            size += avg * (self.nodes.len() - 1);
            size += self
                .nodes
                .iter()
                .next_back()
                .map_or(0, |(k, n)| alloc(k, n));
        }
        for g in self.cgroups.values() {
            // streamCG, its PEL and a streamNACK per pending entry.
            size += 40;
            size += rax_memory(g.pel.len(), rax_nodes(&id_keys(g.pel.keys())));
            size += 24 * g.pel.len();
            for c in g.consumers.values() {
                size += 24 + c.name.len();
                size += rax_memory(c.pel.len(), rax_nodes(&id_keys(c.pel.iter())));
            }
        }
        size
    }
}

/// What Redis counts for the key itself in MEMORY USAGE: the key's sds
/// allocation and the dict entry.
pub fn key_memory_usage(key_len: usize) -> usize {
    crate::alloc::sds_zmalloc_size(key_len) + 24
}

/// Deep check of a node listpack read from a payload: a valid listpack
/// holding a master entry and exactly `count + deleted` well-formed items
/// (streamValidateListpackIntegrity). Returns the node's live count.
pub fn validate_node(lp: &Listpack) -> Option<i64> {
    let int = |off: usize| lp.value_at(off).and_then(|v| v.as_i64());
    let mut p = lp.first_offset()?;
    let count = int(p)?;
    p = lp.next_offset(p)?;
    let deleted = int(p)?;
    p = lp.next_offset(p)?;
    let master_fields = int(p)?;
    if count < 0 || deleted < 0 || master_fields < 0 {
        return None;
    }
    for _ in 0..master_fields {
        p = lp.next_offset(p)?;
    }
    p = lp.next_offset(p)?;
    if int(p)? != 0 {
        return None;
    }
    let mut next = lp.next_offset(p);
    let total = count.checked_add(deleted)?;
    // Stricter than Redis: the live items must be `count` exactly, which
    // every stream Redis writes satisfies and the stream's arithmetic
    // relies on.
    let mut live = 0;
    for _ in 0..total {
        p = next?;
        let flags = int(p)?;
        if flags & FLAG_DELETED == 0 {
            live += 1;
        }
        p = lp.next_offset(p)?;
        int(p)?;
        p = lp.next_offset(p)?;
        int(p)?;
        p = lp.next_offset(p)?;
        let mut fields = master_fields;
        let mut extra = 3;
        if flags & FLAG_SAMEFIELDS == 0 {
            fields = int(p)?;
            if fields < 0 {
                return None;
            }
            p = lp.next_offset(p)?;
            for _ in 0..fields {
                p = lp.next_offset(p)?;
            }
            extra += fields + 1;
        }
        for _ in 0..fields {
            p = lp.next_offset(p)?;
        }
        if int(p)? != fields + extra {
            return None;
        }
        next = lp.next_offset(p);
    }
    if next.is_some() || live != count {
        return None;
    }
    Some(count)
}

/// Checks a whole stream read from a payload beyond its nodes: its length
/// is the sum of the nodes' live counts (stream arithmetic relies on it).
pub fn validate_stream(s: &Stream) -> bool {
    let live: u64 = s.nodes.values().map(|n| master(&n.lp).count as u64).sum();
    live == s.length
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::stream::NodeLimits;

    fn key(ms: u64, seq: u64) -> [u8; 16] {
        StreamId::new(ms, seq).to_be_bytes()
    }

    #[test]
    fn rax_node_counts_as_redis() {
        // (keys, XINFO STREAM radix-tree-nodes on redis-server 7.0.15)
        assert_eq!(rax_nodes(&[]), 1);
        assert_eq!(rax_nodes(&[key(1, 1)]), 2);
        // Diverging at the last byte: compressed root, branch, two leaves.
        assert_eq!(rax_nodes(&[key(1, 1), key(1, 2)]), 4);
        // Diverging in the middle: both tails are compressed nodes too.
        assert_eq!(rax_nodes(&[key(1, 1), key(2, 1)]), 6);
        // Diverging at the first byte: the root branches.
        assert_eq!(rax_nodes(&[key(1, 0), key(1 << 63, 0)]), 5);
        assert_eq!(rax_nodes(&[key(1, 1), key(1, 2), key(1, 3)]), 5);
    }

    #[test]
    fn node_validation() {
        let mut s = Stream::new();
        let lim = NodeLimits::default();
        s.append(StreamId::new(1, 0), &[b"a", b"1"], lim);
        s.append(StreamId::new(2, 0), &[b"b", b"2", b"c", b"3"], lim);
        assert!(s.delete(StreamId::new(1, 0)));
        let (_, node) = s.nodes().next().expect("node");
        assert_eq!(validate_node(&node.lp), Some(1));
        assert!(validate_stream(&s));
        // A live count that disagrees with the flags is refused.
        let mut lp = node.lp.clone();
        let first = lp.first_offset().expect("count");
        lp.replace_int_at(first, 2);
        assert_eq!(validate_node(&lp), None);
        s.length = 5;
        assert!(!validate_stream(&s));
    }
}
