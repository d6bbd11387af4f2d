//! `OpenTable`: an open-addressed hash table of fixed-size slots, with
//! Redis's incremental resizing and SCAN guarantee.
//!
//! Used where a chained dict's per-entry allocation is the cost: a
//! skiplist sorted set's member index (8-byte slots of hash bits and node
//! number, `types/member_index.rs`) and a hashtable set (members stored in
//! the slots themselves, `types/set_table.rs`).
//!
//! Linear probing, at most 3/4 full, deletion by backward shift (no
//! tombstones in the live table). Resizing is incremental, as Redis's
//! rehash: the old table drains into the new one a few slots per write, and
//! lookups try the new table, then the old one, so no single command pays
//! for moving a big table. Moved and deleted slots of the draining table
//! become tombstones, which keeps its probe chains intact. Tables are
//! zeroed allocations (a free slot is all-zero bytes), so a doubled big
//! table's pages are mapped by the kernel as entries reach them instead of
//! all being written by the one command that grew it.

use crate::dict::{chain_stats, scan_step};

/// One slot of an `OpenTable`: free, a tombstone, or an entry.
///
/// # Safety
/// A slot whose bytes are all zero must be a valid free slot, whose drop
/// does nothing (tables are zeroed allocations).
pub unsafe trait Slot: Sized {
    /// A free slot (all-zero bytes).
    fn free() -> Self;
    fn tomb() -> Self;
    fn is_free(&self) -> bool;
    fn is_tomb(&self) -> bool;
    /// The 32 bits of hash the entry was placed by (entries only).
    fn hash(&self) -> u32;
    /// A cheap filter before the caller's `eq`: false when the entry
    /// cannot be the one hash `h` looks for.
    fn may_be(&self, h: u32) -> bool;
    #[inline]
    fn is_entry(&self) -> bool {
        !self.is_free() && !self.is_tomb()
    }
}

/// Smallest table.
const MIN_SLOTS: usize = 8;
/// Old-table slots moved per write while resizing (Redis moves one bucket
/// per step, visiting up to ten empty ones).
const DRAIN_STEP: usize = 16;

struct Table<S> {
    slots: Box<[S]>,
    used: usize,
}

impl<S: Slot + Clone> Clone for Table<S> {
    fn clone(&self) -> Self {
        Table {
            slots: self.slots.clone(),
            used: self.used,
        }
    }
}

impl<S: Slot> Table<S> {
    fn with_slots(n: usize) -> Table<S> {
        // SAFETY: `Slot` guarantees zeroed bytes are valid free slots.
        let slots = unsafe { crate::alloc::zeroed_slice(n) };
        Table { slots, used: 0 }
    }

    #[inline]
    fn mask(&self) -> usize {
        self.slots.len().wrapping_sub(1)
    }

    /// Position of the entry `eq` accepts.
    #[inline]
    fn find(&self, h: u32, eq: &impl Fn(&S) -> bool) -> Option<usize> {
        if self.used == 0 {
            return None;
        }
        let mask = self.mask();
        let mut i = h as usize & mask;
        loop {
            let s = &self.slots[i];
            if s.is_free() {
                return None;
            }
            if !s.is_tomb() && s.may_be(h) && eq(s) {
                return Some(i);
            }
            i = (i + 1) & mask;
        }
    }

    /// Calls `f` with every entry whose home slot is `home`: they sit
    /// between it and the next free slot.
    fn each_home(&self, home: usize, f: &mut impl FnMut(&S)) {
        let mask = self.mask();
        let mut i = home;
        loop {
            let s = &self.slots[i];
            if s.is_free() {
                return;
            }
            if !s.is_tomb() && s.hash() as usize & mask == home {
                f(s);
            }
            i = (i + 1) & mask;
            if i == home {
                return;
            }
        }
    }

    /// Places an entry known to be absent (the table has room).
    #[inline]
    fn place(&mut self, h: u32, s: S) {
        let mask = self.mask();
        let mut i = h as usize & mask;
        while !self.slots[i].is_free() {
            i = (i + 1) & mask;
        }
        self.slots[i] = s;
        self.used += 1;
    }

    /// Takes the entry at `i` out of the draining table, leaving a
    /// tombstone (its probe chains stay intact).
    fn tomb_at(&mut self, i: usize) -> S {
        self.used -= 1;
        std::mem::replace(&mut self.slots[i], S::tomb())
    }

    /// Takes the entry at `i` out of the live table, shifting back the
    /// entries after it whose probe chain passed through it.
    fn remove_at(&mut self, i: usize) -> S {
        let mask = self.mask();
        let out = std::mem::replace(&mut self.slots[i], S::free());
        let mut hole = i;
        let mut j = i;
        loop {
            j = (j + 1) & mask;
            let s = &self.slots[j];
            if s.is_free() {
                break;
            }
            let home = s.hash() as usize & mask;
            // The entry at j may move to the hole unless its home lies
            // cyclically in (hole, j].
            let stays = if hole <= j {
                hole < home && home <= j
            } else {
                hole < home || home <= j
            };
            if !stays {
                self.slots.swap(hole, j);
                hole = j;
            }
        }
        self.used -= 1;
        out
    }
}

pub struct OpenTable<S> {
    main: Table<S>,
    /// The table draining into `main`, the slot its drain started at and
    /// how many slots it has moved. The drain starts after a free slot and
    /// wraps around, so a probe run that wraps past the table's end moves
    /// as a whole, after the runs before it (in SCAN order, the entries
    /// of the last home slots stay together in the old table).
    old: Option<(Table<S>, u32, u32)>,
}

impl<S: Slot + Clone> Clone for OpenTable<S> {
    fn clone(&self) -> Self {
        OpenTable {
            main: self.main.clone(),
            old: self.old.clone(),
        }
    }
}

impl<S: Slot> Default for OpenTable<S> {
    fn default() -> Self {
        OpenTable::new()
    }
}

impl<S: Slot> OpenTable<S> {
    pub fn new() -> OpenTable<S> {
        OpenTable {
            main: Table::with_slots(0),
            old: None,
        }
    }

    pub fn len(&self) -> usize {
        self.main.used + self.old.as_ref().map_or(0, |(t, _, _)| t.used)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Slots of the live table (and of the draining one).
    pub fn slots(&self) -> (usize, usize) {
        (
            self.main.slots.len(),
            self.old.as_ref().map_or(0, |(t, _, _)| t.slots.len()),
        )
    }

    /// Bytes held by the tables.
    pub fn heap_bytes(&self) -> usize {
        let (a, b) = self.slots();
        (a + b) * std::mem::size_of::<S>()
    }

    /// The entry `eq` accepts.
    #[inline]
    pub fn find(&self, h: u32, eq: impl Fn(&S) -> bool) -> Option<&S> {
        if let Some(i) = self.main.find(h, &eq) {
            return Some(&self.main.slots[i]);
        }
        let (old, _, _) = self.old.as_ref()?;
        old.find(h, &eq).map(|i| &old.slots[i])
    }

    /// Sizes an empty table for `n` entries (loading a known count).
    pub fn reserve(&mut self, n: usize) {
        if self.is_empty() && self.old.is_none() {
            let want = (n * 4 / 3 + 1).next_power_of_two().max(MIN_SLOTS);
            if want > self.main.slots.len() {
                self.main = Table::with_slots(want);
            }
        }
    }

    /// Adds an entry that is not present (the caller looked it up).
    pub fn insert(&mut self, h: u32, s: S) {
        debug_assert!(s.is_entry());
        if self.old.is_some() && (self.len() + 1) * 4 > self.main.slots.len() * 3 {
            // The live table could not hold everything while the old one
            // still drains into it (the resize thresholds keep this out of
            // reach but for the last inserts before a drain ends): all of
            // it moves at once into a table that does.
            let want = (self.len() + 1)
                .saturating_mul(2)
                .next_power_of_two()
                .max(MIN_SLOTS);
            let prev = std::mem::replace(&mut self.main, Table::with_slots(want));
            for e in prev.slots.into_vec().into_iter().filter(S::is_entry) {
                self.main.place(e.hash(), e);
            }
            self.drain(usize::MAX);
        }
        self.drain(DRAIN_STEP);
        if (self.main.used + 1) * 4 > self.main.slots.len() * 3 {
            debug_assert!(self.old.is_none());
            let want = (self.main.slots.len() * 2).max(MIN_SLOTS);
            self.resize(want);
        }
        self.main.place(h, s);
    }

    /// Takes out the entry `eq` accepts.
    pub fn remove(&mut self, h: u32, eq: impl Fn(&S) -> bool) -> Option<S> {
        self.drain(DRAIN_STEP);
        let found = if let Some(i) = self.main.find(h, &eq) {
            Some(self.main.remove_at(i))
        } else if let Some((old, _, _)) = self.old.as_mut() {
            old.find(h, &eq).map(|i| old.tomb_at(i))
        } else {
            None
        };
        if found.is_some() {
            self.shrink_if_sparse();
        }
        found
    }

    /// Starts moving to a smaller table when fewer than 1 slot in 8 is used
    /// (Redis shrinks a dict below 10% fill).
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

    /// Starts a resize to `n` slots, whatever the fill (tests: a live
    /// table too small for what is still draining).
    #[cfg(test)]
    pub fn force_resize(&mut self, n: usize) {
        if self.old.is_none() {
            self.resize(n);
        }
    }

    /// Makes a table of `n` slots the live one; the current one drains
    /// into it.
    fn resize(&mut self, n: usize) {
        debug_assert!(self.old.is_none());
        let prev = std::mem::replace(&mut self.main, Table::with_slots(n));
        if prev.used > 0 {
            // A table at most 3/4 full has a free slot.
            let free = prev.slots.iter().position(S::is_free).unwrap_or(0);
            let start = ((free + 1) & prev.mask()) as u32;
            self.old = Some((prev, start, 0));
        }
    }

    /// Moves up to `max` slots of the draining table.
    fn drain(&mut self, max: usize) {
        let Some((old, start, done)) = self.old.as_mut() else {
            return;
        };
        let (n, mask) = (old.slots.len(), old.mask());
        let end = n.min((*done as usize).saturating_add(max));
        for d in *done as usize..end {
            let i = (*start as usize + d) & mask;
            if old.slots[i].is_entry() {
                let s = old.tomb_at(i);
                self.main.place(s.hash(), s);
            }
        }
        *done = end as u32;
        if end == n || old.used == 0 {
            self.old = None;
        }
    }

    /// Every entry, in slot order (the draining table's after the live
    /// one's).
    pub fn iter(&self) -> impl Iterator<Item = &S> + '_ {
        let old = self
            .old
            .as_ref()
            .map(|(t, _, _)| &t.slots[..])
            .unwrap_or(&[]);
        self.main.slots.iter().chain(old).filter(|s| s.is_entry())
    }

    /// Every entry, mutably: the caller must not change what `hash`
    /// returns (entries stay where that hash placed them).
    pub fn iter_mut(&mut self) -> impl Iterator<Item = &mut S> + '_ {
        let old = match self.old.as_mut() {
            Some((t, _, _)) => &mut t.slots[..],
            None => &mut [],
        };
        self.main
            .slots
            .iter_mut()
            .chain(old)
            .filter(|s| s.is_entry())
    }

    /// A uniformly random entry: random slots until one holds an entry
    /// (the live table is at least 1/8 full once grown; a draining one is
    /// sampled only where it has not drained yet, where its entries are). Each
    /// run of 64 misses moves more of a draining table, so a sparse one
    /// left behind by a shrink cannot make the search long.
    pub fn random(&mut self, rnd: impl FnMut() -> u64) -> Option<&S> {
        match self.random_pos(rnd)? {
            (false, i) => Some(&self.main.slots[i]),
            (true, i) => self.old.as_ref().map(|(t, _, _)| &t.slots[i]),
        }
    }

    /// Takes a uniformly random entry out (SPOP): where `random` found it,
    /// without looking it up again.
    pub fn take_random(&mut self, rnd: impl FnMut() -> u64) -> Option<S> {
        let taken = match self.random_pos(rnd)? {
            (false, i) => self.main.remove_at(i),
            (true, i) => self.old.as_mut()?.0.tomb_at(i),
        };
        self.shrink_if_sparse();
        Some(taken)
    }

    /// Where a uniformly random entry is: (in the draining table, slot).
    fn random_pos(&mut self, mut rnd: impl FnMut() -> u64) -> Option<(bool, usize)> {
        if self.is_empty() {
            return None;
        }
        // As Redis's dictGetRandomKey, sampling does rehash work.
        self.drain(DRAIN_STEP);
        let mut misses = 0u32;
        loop {
            let a = self.main.slots.len();
            let (b, from) = self.old.as_ref().map_or((0, 0), |(t, start, done)| {
                (t.slots.len() - *done as usize, (*start + *done) as usize)
            });
            let r = (rnd() % (a + b) as u64) as usize;
            if r < a {
                if self.main.slots[r].is_entry() {
                    return Some((false, r));
                }
            } else {
                let (old, _, _) = self.old.as_ref()?;
                let i = (from + r - a) & old.mask();
                if old.slots[i].is_entry() {
                    return Some((true, i));
                }
            }
            misses += 1;
            if misses.is_multiple_of(64) {
                self.drain(4096);
            }
        }
    }

    /// Takes entries out, `max` at most per call, resuming at slot `*pos`
    /// (of the live table, then the draining one) where the last call
    /// stopped: lazy freeing of a big table. Returns how many were taken,
    /// 0 when none are left.
    pub fn free_some(&mut self, pos: &mut usize, max: usize) -> usize {
        let mut n = 0;
        let main_len = self.main.slots.len();
        while n < max {
            let (t, i) = if *pos < main_len {
                (&mut self.main, *pos)
            } else {
                match self.old.as_mut() {
                    Some((t, _, _)) if *pos - main_len < t.slots.len() => (t, *pos - main_len),
                    _ => break,
                }
            };
            if t.slots[i].is_entry() {
                t.tomb_at(i);
                n += 1;
            }
            *pos += 1;
        }
        n
    }

    /// One SCAN step (Redis's dictScan over the entries grouped by home
    /// slot, both tables while resizing): calls `f` with the entries the
    /// cursor covers, returns the next cursor (0: done).
    pub fn scan(&self, cursor: u64, mut f: impl FnMut(&S)) -> u64 {
        if self.is_empty() {
            return 0;
        }
        let main = &self.main;
        let Some((old, _, _)) = self.old.as_ref() else {
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
        let table = |idx: usize, t: &Table<S>| {
            let mut chains = vec![0u64; t.slots.len()];
            let mask = t.mask();
            for s in t.slots.iter().filter(|s| s.is_entry()) {
                chains[s.hash() as usize & mask] += 1;
            }
            chain_stats(idx, t.slots.len(), t.used, chains.into_iter())
        };
        match &self.old {
            Some((old, _, _)) => table(0, old) + &table(1, &self.main),
            None => table(0, &self.main),
        }
    }
}
