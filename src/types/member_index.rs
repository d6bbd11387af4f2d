//! `MemberIndex`: the member -> node half of a skiplist-encoded sorted set.
//!
//! Redis keeps a dict of member -> score beside the skiplist: a 24-byte
//! entry per member (plus its bucket) pointing at the skiplist's sds. Our
//! skiplist already holds member and score in an arena of nodes addressed by
//! u32, so the index is only an open-addressed table of 8-byte slots, each
//! 32 bits of the member's hash and the node's index: 11-21 bytes a member
//! instead of a 48-byte chunk and a bucket, and no allocation per insert.
//!
//! Linear probing, at most 3/4 full, deletion by backward shift (no
//! tombstones in the live table). Resizing is incremental, as Redis's
//! rehash: the old table drains into the new one a few slots per write, and
//! lookups try the new table, then the old one, so no single command pays
//! for moving a big set's whole index. Moved and deleted slots of the old
//! table become tombstones, which keeps its probe chains intact.
//!
//! The member bytes live in the skiplist: callers pass `eq`, which tells
//! whether the node at an index holds the member looked for.

use crate::dict::{chain_stats, scan_step};

/// A free slot: zero, so that a new table is a zeroed allocation whose
/// pages the kernel maps lazily (filling 16 MB of a doubled big index by
/// hand stalled the command that grew it). No entry is zero: node 0 is
/// the skiplist's header, never indexed.
const EMPTY: u64 = 0;
/// A slot of the draining table whose entry moved or was deleted (node
/// u32::MAX is NIL, never indexed).
const TOMB: u64 = u64::MAX;
/// Smallest table.
const MIN_SLOTS: usize = 8;
/// Old-table slots moved per write while resizing (Redis moves one bucket
/// per step, visiting up to ten empty ones).
const DRAIN_STEP: usize = 16;

#[derive(Clone)]
struct Table {
    slots: Box<[u64]>,
    used: usize,
}

impl Table {
    fn with_slots(n: usize) -> Table {
        Table {
            slots: vec![EMPTY; n].into_boxed_slice(),
            used: 0,
        }
    }

    #[inline]
    fn mask(&self) -> usize {
        self.slots.len() - 1
    }

    /// Slot position and node of the entry `eq` accepts.
    #[inline]
    fn find(&self, h: u32, eq: &impl Fn(u32) -> bool) -> Option<(usize, u32)> {
        if self.slots.is_empty() {
            return None;
        }
        let mask = self.mask();
        let mut i = h as usize & mask;
        loop {
            let s = self.slots[i];
            if s == EMPTY {
                return None;
            }
            if s != TOMB && (s >> 32) as u32 == h && eq(s as u32) {
                return Some((i, s as u32));
            }
            i = (i + 1) & mask;
        }
    }

    /// Calls `f` with the node of every entry whose home slot is `home`:
    /// they sit between it and the next free slot.
    fn each_home(&self, home: usize, f: &mut impl FnMut(u32)) {
        let mask = self.mask();
        let mut i = home;
        loop {
            let s = self.slots[i];
            if s == EMPTY {
                return;
            }
            if s != TOMB && (s >> 32) as usize & mask == home {
                f(s as u32);
            }
            i = (i + 1) & mask;
            if i == home {
                return;
            }
        }
    }

    /// Places an entry known to be absent (the table has room).
    #[inline]
    fn place(&mut self, slot: u64) {
        let mask = self.mask();
        let mut i = (slot >> 32) as usize & mask;
        while self.slots[i] != EMPTY {
            i = (i + 1) & mask;
        }
        self.slots[i] = slot;
        self.used += 1;
    }

    /// Empties slot `i`, shifting back the entries after it whose probe
    /// chain passed through it.
    fn remove_at(&mut self, mut i: usize) {
        let mask = self.mask();
        let mut j = i;
        loop {
            j = (j + 1) & mask;
            let s = self.slots[j];
            if s == EMPTY {
                break;
            }
            let home = (s >> 32) as usize & mask;
            // The entry at j may move to i unless its home lies cyclically
            // in (i, j].
            let stays = if i <= j {
                i < home && home <= j
            } else {
                i < home || home <= j
            };
            if !stays {
                self.slots[i] = s;
                i = j;
            }
        }
        self.slots[i] = EMPTY;
        self.used -= 1;
    }
}

#[derive(Clone)]
pub struct MemberIndex {
    main: Table,
    /// The table draining into `main` and its next slot to move.
    old: Option<(Table, usize)>,
}

impl Default for MemberIndex {
    fn default() -> Self {
        MemberIndex::new()
    }
}

#[inline]
fn slot(h: u32, node: u32) -> u64 {
    (h as u64) << 32 | node as u64
}

impl MemberIndex {
    pub fn new() -> MemberIndex {
        MemberIndex {
            main: Table::with_slots(0),
            old: None,
        }
    }

    pub fn len(&self) -> usize {
        self.main.used + self.old.as_ref().map_or(0, |(t, _)| t.used)
    }

    /// Slots of the live table (and of the draining one).
    pub fn slots(&self) -> (usize, usize) {
        (
            self.main.slots.len(),
            self.old.as_ref().map_or(0, |(t, _)| t.slots.len()),
        )
    }

    /// Bytes held by the tables.
    pub fn heap_bytes(&self) -> usize {
        let (a, b) = self.slots();
        (a + b) * 8
    }

    /// The node whose member `eq` accepts.
    #[inline]
    pub fn find(&self, h: u32, eq: impl Fn(u32) -> bool) -> Option<u32> {
        if let Some((_, n)) = self.main.find(h, &eq) {
            return Some(n);
        }
        let (old, _) = self.old.as_ref()?;
        old.find(h, &eq).map(|(_, n)| n)
    }

    /// Records a member that is not present (the caller looked it up).
    pub fn insert(&mut self, h: u32, node: u32) {
        debug_assert!(node != 0 && node != u32::MAX);
        self.drain(DRAIN_STEP);
        if (self.main.used + 1) * 4 > self.main.slots.len() * 3 {
            // Full while still draining (only after many inserts in a row
            // into a shrunk table): finish the move first.
            self.drain(usize::MAX);
            let want = (self.main.slots.len() * 2).max(MIN_SLOTS);
            self.resize(want);
        }
        self.main.place(slot(h, node));
    }

    /// Forgets the member `eq` accepts; returns its node.
    pub fn remove(&mut self, h: u32, eq: impl Fn(u32) -> bool) -> Option<u32> {
        self.drain(DRAIN_STEP);
        let found = if let Some((i, n)) = self.main.find(h, &eq) {
            self.main.remove_at(i);
            Some(n)
        } else if let Some((old, _)) = self.old.as_mut() {
            old.find(h, &eq).map(|(i, n)| {
                old.slots[i] = TOMB;
                old.used -= 1;
                n
            })
        } else {
            None
        };
        if found.is_some() {
            self.shrink_if_sparse();
        }
        found
    }

    /// Starts moving to a smaller table when fewer than 1 slot in 8 is used
    /// (Redis shrinks a sorted set's dict below 10% fill).
    fn shrink_if_sparse(&mut self) {
        let n = self.main.slots.len();
        if self.old.is_some() || n <= MIN_SLOTS || self.main.used * 8 >= n {
            return;
        }
        let want = (self.main.used * 2).next_power_of_two().max(MIN_SLOTS);
        if want < n {
            self.resize(want);
        }
    }

    /// Makes a table of `n` slots the live one; the current one drains
    /// into it.
    fn resize(&mut self, n: usize) {
        debug_assert!(self.old.is_none());
        let prev = std::mem::replace(&mut self.main, Table::with_slots(n));
        if prev.used > 0 {
            self.old = Some((prev, 0));
        }
    }

    /// Moves up to `max` slots of the draining table.
    fn drain(&mut self, max: usize) {
        let Some((old, pos)) = self.old.as_mut() else {
            return;
        };
        let end = old.slots.len().min(pos.saturating_add(max));
        while *pos < end {
            let s = old.slots[*pos];
            if s != EMPTY && s != TOMB {
                old.slots[*pos] = TOMB;
                old.used -= 1;
                self.main.place(s);
            }
            *pos += 1;
        }
        if *pos == old.slots.len() || old.used == 0 {
            self.old = None;
        }
    }

    /// Renumbers every entry's node (the skiplist renumbered its arena),
    /// in place: one sequential pass over the slots, hashes and positions
    /// unchanged (placing them into a new table cost a cache miss each).
    pub fn remap(&mut self, f: impl Fn(u32) -> u32) {
        let tables = std::iter::once(&mut self.main).chain(self.old.as_mut().map(|(t, _)| t));
        for t in tables {
            for s in t.slots.iter_mut() {
                if *s != EMPTY && *s != TOMB {
                    *s = slot((*s >> 32) as u32, f(*s as u32));
                }
            }
        }
    }

    /// One SCAN step (Redis's dictScan over the entries grouped by home
    /// slot, both tables while resizing): calls `f` with the nodes of the
    /// entries the cursor covers, returns the next cursor (0: done).
    pub fn scan(&self, cursor: u64, mut f: impl FnMut(u32)) -> u64 {
        if self.len() == 0 {
            return 0;
        }
        let main = &self.main;
        let Some((old, _)) = self.old.as_ref() else {
            return scan_step(cursor, main.mask() as u64, None, |_, b| {
                main.each_home(b as usize, &mut f)
            });
        };
        let (small, large) = if old.slots.len() <= main.slots.len() {
            (old, main)
        } else {
            (main, old)
        };
        scan_step(
            cursor,
            small.mask() as u64,
            Some(large.mask() as u64),
            |big, b| (if big { large } else { small }).each_home(b as usize, &mut f),
        )
    }

    /// DEBUG HTSTATS-KEY text, as Redis's dict stats: a bucket's chain is
    /// the entries whose home slot it is. While resizing, the draining
    /// table is table 0 and the new one the rehashing target, as in Redis.
    pub fn stats(&self) -> String {
        let table = |idx: usize, t: &Table| {
            let mut chains = vec![0u64; t.slots.len()];
            let mask = t.slots.len().wrapping_sub(1);
            for &s in t.slots.iter() {
                if s != EMPTY && s != TOMB {
                    chains[(s >> 32) as usize & mask] += 1;
                }
            }
            chain_stats(idx, t.slots.len(), t.used, chains.into_iter())
        };
        match &self.old {
            Some((old, _)) => table(0, old) + &table(1, &self.main),
            None => table(0, &self.main),
        }
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
        let mut x: u64 = 7;
        for round in 0..20_000u64 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
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
