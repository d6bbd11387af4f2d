//! `MemberIndex`: the member -> node half of a skiplist-encoded sorted set.
//!
//! Redis keeps a dict of member -> score beside the skiplist: a 24-byte
//! entry per member (plus its bucket) pointing at the skiplist's sds. Our
//! skiplist already holds member and score in an arena of nodes addressed by
//! u32, so the index is only an open-addressed table (`util/open_table.rs`)
//! of 8-byte slots, each 32 bits of the member's hash and the node's index:
//! 11-21 bytes a member instead of a 48-byte chunk and a bucket, and no
//! allocation per insert.
//!
//! The member bytes live in the skiplist: callers pass `eq`, which tells
//! whether the node at an index holds the member looked for.

use crate::util::open_table::{OpenTable, Slot};

/// Hash bits above, node below. Zero is free: no entry is zero, as node 0
/// is the skiplist's header, never indexed; u64::MAX is a tombstone, as
/// node u32::MAX is NIL, never indexed.
#[derive(Clone, Copy)]
struct NodeSlot(u64);

// SAFETY: all-zero is `free()`, and a u64 has no drop.
unsafe impl Slot for NodeSlot {
    #[inline]
    fn free() -> Self {
        NodeSlot(0)
    }
    #[inline]
    fn tomb() -> Self {
        NodeSlot(u64::MAX)
    }
    #[inline]
    fn is_free(&self) -> bool {
        self.0 == 0
    }
    #[inline]
    fn is_tomb(&self) -> bool {
        self.0 == u64::MAX
    }
    #[inline]
    fn hash(&self) -> u32 {
        (self.0 >> 32) as u32
    }
    #[inline]
    fn may_be(&self, h: u32) -> bool {
        self.hash() == h
    }
}

impl NodeSlot {
    #[inline]
    fn new(h: u32, node: u32) -> NodeSlot {
        NodeSlot((h as u64) << 32 | node as u64)
    }
    #[inline]
    fn node(self) -> u32 {
        self.0 as u32
    }
}

#[derive(Clone, Default)]
pub struct MemberIndex {
    table: OpenTable<NodeSlot>,
}

impl MemberIndex {
    #[cfg(test)]
    pub fn new() -> MemberIndex {
        MemberIndex::default()
    }

    pub fn len(&self) -> usize {
        self.table.len()
    }

    /// Slots of the live table (and of the draining one).
    #[cfg(test)]
    pub fn slots(&self) -> (usize, usize) {
        self.table.slots()
    }

    /// Bytes held by the tables.
    pub fn heap_bytes(&self) -> usize {
        self.table.heap_bytes()
    }

    /// The node whose member `eq` accepts.
    #[inline]
    pub fn find(&self, h: u32, eq: impl Fn(u32) -> bool) -> Option<u32> {
        self.table.find(h, |s| eq(s.node())).map(|s| s.node())
    }

    /// Records a member that is not present (the caller looked it up).
    pub fn insert(&mut self, h: u32, node: u32) {
        debug_assert!(node != 0 && node != u32::MAX);
        self.table.insert(h, NodeSlot::new(h, node));
    }

    /// Forgets the member `eq` accepts; returns its node.
    pub fn remove(&mut self, h: u32, eq: impl Fn(u32) -> bool) -> Option<u32> {
        self.table.remove(h, |s| eq(s.node())).map(|s| s.node())
    }

    /// Renumbers every entry's node (the skiplist renumbered its arena),
    /// in place: one sequential pass over the slots, hashes and positions
    /// unchanged (placing them into a new table cost a cache miss each).
    pub fn remap(&mut self, f: impl Fn(u32) -> u32) {
        for s in self.table.iter_mut() {
            *s = NodeSlot::new(s.hash(), f(s.node()));
        }
    }

    /// One SCAN step: calls `f` with the nodes of the entries the cursor
    /// covers, returns the next cursor (0: done).
    pub fn scan(&self, cursor: u64, mut f: impl FnMut(u32)) -> u64 {
        self.table.scan(cursor, |s| f(s.node()))
    }

    /// DEBUG HTSTATS-KEY text, as Redis's dict stats.
    pub fn stats(&self) -> String {
        self.table.stats()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Members are u64s stored in a Vec (the "arena"); the hash is chosen
    /// badly on purpose so that chains are long and cross the table end.
    fn h(m: u64) -> u32 {
        (m % 13) as u32 ^ 0xFFFF_FFF0
    }

    #[test]
    fn grows_shrinks_and_finds_every_member_meanwhile() {
        let mut idx = MemberIndex::new();
        // Node 0 is the header: never indexed.
        let mut arena: Vec<Option<u64>> = vec![None];
        let mut present = std::collections::HashMap::new();
        let mut rng = crate::util::Rng::seeded(7);
        for round in 0..20_000u64 {
            let x = rng.next_u64();
            let m = x % 3000;
            let grow = (round / 5000) % 2 == 0;
            let eq = |n: u32| arena[n as usize] == Some(m);
            let hit = idx.find(h(m), eq);
            assert_eq!(hit.is_some(), present.contains_key(&m), "member {m}");
            if let Some(n) = hit {
                assert_eq!(present[&m], n);
            }
            if grow || x.is_multiple_of(4) {
                if hit.is_none() {
                    arena.push(Some(m));
                    let n = (arena.len() - 1) as u32;
                    idx.insert(h(m), n);
                    present.insert(m, n);
                }
            } else if let Some(n) = hit {
                let arena_ref = &arena;
                assert_eq!(
                    idx.remove(h(m), |k| arena_ref[k as usize] == Some(m)),
                    Some(n)
                );
                arena[n as usize] = None;
                present.remove(&m);
            }
            assert_eq!(idx.len(), present.len());
        }
        for (&m, &n) in &present {
            assert_eq!(idx.find(h(m), |k| arena[k as usize] == Some(m)), Some(n));
        }
    }

    #[test]
    fn scan_returns_every_member_across_resizes() {
        let mut idx = MemberIndex::new();
        let hh = |n: u32| n.wrapping_mul(2_654_435_761);
        for n in 1..=300u32 {
            idx.insert(hh(n), n);
        }
        let mut seen = std::collections::HashSet::new();
        let mut cursor = 0;
        let mut steps = 0;
        loop {
            cursor = idx.scan(cursor, |n| {
                seen.insert(n);
            });
            steps += 1;
            // Grow while scanning (members 300.. are new: may or may not
            // be returned), then shrink by removing them again.
            if steps == 20 {
                for n in 301..2000u32 {
                    idx.insert(hh(n), n);
                }
            }
            if steps == 200 {
                for n in 301..2000u32 {
                    idx.remove(hh(n), |k| k == n);
                }
            }
            if cursor == 0 {
                break;
            }
            assert!(steps < 100_000);
        }
        for n in 1..=300u32 {
            assert!(seen.contains(&n), "member {n} missed");
        }
    }

    #[test]
    fn stats_read_as_redis_dict_stats() {
        let mut idx = MemberIndex::new();
        for n in 1..=6u32 {
            // Homes 1, 1, 1, 2, 2, 3 of 8 slots.
            idx.insert([1, 1, 1, 2, 2, 3][n as usize - 1], n);
        }
        let s = idx.stats();
        assert!(s.starts_with("Hash table 0 stats (main hash table):\n table size: 8\n"));
        assert!(s.contains(" number of elements: 6\n different slots: 3\n max chain length: 3\n"));
        assert!(
            s.contains("   0: 5 (62.50%)\n   1: 1 (12.50%)\n   2: 1 (12.50%)\n   3: 1 (12.50%)\n")
        );
    }

    #[test]
    fn shrinks_when_emptied() {
        let mut idx = MemberIndex::new();
        for n in 1..=1000u32 {
            idx.insert(n.wrapping_mul(2_654_435_761), n);
        }
        assert!(idx.slots().0 >= 1024);
        for n in 1..=995u32 {
            let hh = n.wrapping_mul(2_654_435_761);
            assert_eq!(idx.remove(hh, |k| k == n), Some(n));
        }
        for n in 996..=1000u32 {
            let hh = n.wrapping_mul(2_654_435_761);
            assert_eq!(idx.find(hh, |k| k == n), Some(n));
        }
        // Drained on the next writes.
        for n in 996..=1000u32 {
            let hh = n.wrapping_mul(2_654_435_761);
            idx.remove(hh, |k| k == n);
            idx.insert(hh, n);
        }
        assert!(idx.slots().0 <= 64, "{:?}", idx.slots());
    }
}
