//! `SetTable`: the members of a hashtable-encoded set, held in the slots
//! of an open-addressed table (`util/open_table.rs`).
//!
//! Redis's set dict costs a 24-byte dictEntry and an sds allocation per
//! member plus its bucket; a chained dict of `Sds` keys a 32-byte node per
//! member (a 48-byte malloc chunk) plus its bucket. Here each slot is an
//! `Sds`: a member of up to 22 bytes lives in its slot with no allocation
//! at all (24 bytes a slot, 32-64 bytes a member at the table's 3/8-3/4
//! fill), a longer one keeps only its exact heap bytes. No hash is stored:
//! lookups compare the members along the probe run, and moves (resize,
//! backward shift) hash the member again.

use crate::dict::hash_bytes;
use crate::sds::Sds;
use crate::util::open_table::{OpenTable, Slot};
use std::mem::MaybeUninit;

/// The 32 hash bits a member is placed by.
#[inline]
fn member_hash(m: &[u8]) -> u32 {
    hash_bytes(m) as u32
}

/// An `Sds`, or nothing: `Sds`'s first byte is its tag, 1-3 (`sds.rs`), so
/// all-zero bytes mark a free slot and a first byte of 0xFF a tombstone.
#[repr(transparent)]
pub struct MemberSlot(MaybeUninit<Sds>);

const TOMB_BYTE: u8 = 0xFF;

impl MemberSlot {
    #[inline]
    fn first_byte(&self) -> u8 {
        // SAFETY: byte 0 is initialized in every state: zeroed, tomb
        // (written below) or an `Sds`'s tag.
        unsafe { *(self.0.as_ptr() as *const u8) }
    }

    #[inline]
    fn new(s: Sds) -> MemberSlot {
        MemberSlot(MaybeUninit::new(s))
    }

    /// The member (entries only).
    #[inline]
    pub fn sds(&self) -> &Sds {
        debug_assert!(self.is_entry());
        // SAFETY: an entry slot holds an initialized `Sds`.
        unsafe { self.0.assume_init_ref() }
    }

    #[inline]
    pub fn bytes(&self) -> &[u8] {
        self.sds().as_bytes()
    }

    /// The member, moved out (entries only).
    fn into_sds(self) -> Sds {
        debug_assert!(self.is_entry());
        let me = std::mem::ManuallyDrop::new(self);
        // SAFETY: an entry slot holds an initialized `Sds`, read once;
        // `me` is never dropped.
        unsafe { me.0.assume_init_read() }
    }
}

// SAFETY: all-zero bytes are `free()` (first byte 0), whose drop does
// nothing (only entries drop their `Sds`).
unsafe impl Slot for MemberSlot {
    #[inline]
    fn free() -> Self {
        MemberSlot(MaybeUninit::zeroed())
    }
    #[inline]
    fn tomb() -> Self {
        let mut m = MaybeUninit::<Sds>::zeroed();
        // SAFETY: writing byte 0 of our own zeroed storage.
        unsafe { *(m.as_mut_ptr() as *mut u8) = TOMB_BYTE };
        MemberSlot(m)
    }
    #[inline]
    fn is_free(&self) -> bool {
        self.first_byte() == 0
    }
    #[inline]
    fn is_tomb(&self) -> bool {
        self.first_byte() == TOMB_BYTE
    }
    #[inline]
    fn hash(&self) -> u32 {
        member_hash(self.bytes())
    }
    #[inline]
    fn may_be(&self, _h: u32) -> bool {
        true
    }
}

impl Drop for MemberSlot {
    fn drop(&mut self) {
        if self.is_entry() {
            // SAFETY: an entry slot holds an initialized `Sds`, dropped once.
            unsafe { self.0.assume_init_drop() }
        }
    }
}

impl Clone for MemberSlot {
    fn clone(&self) -> Self {
        if self.is_entry() {
            MemberSlot::new(self.sds().clone())
        } else if self.is_tomb() {
            MemberSlot::tomb()
        } else {
            MemberSlot::free()
        }
    }
}

#[derive(Clone, Default)]
pub struct SetTable {
    t: OpenTable<MemberSlot>,
}

impl SetTable {
    pub fn len(&self) -> usize {
        self.t.len()
    }

    pub fn is_empty(&self) -> bool {
        self.t.is_empty()
    }

    /// Sizes an empty table for `n` members (RDB load, conversion).
    pub fn reserve(&mut self, n: usize) {
        self.t.reserve(n);
    }

    pub fn contains(&self, m: &[u8]) -> bool {
        self.t.find(member_hash(m), |s| s.bytes() == m).is_some()
    }

    /// Adds a member; true when it is new.
    pub fn add(&mut self, m: &[u8]) -> bool {
        let h = member_hash(m);
        if self.t.find(h, |s| s.bytes() == m).is_some() {
            return false;
        }
        self.t.insert(h, MemberSlot::new(Sds::new(m)));
        true
    }

    /// Adds a member known to be absent.
    pub fn add_new(&mut self, m: Sds) {
        self.t.insert(member_hash(&m), MemberSlot::new(m));
    }

    /// Removes a member; true when it existed.
    pub fn remove(&mut self, m: &[u8]) -> bool {
        self.t.remove(member_hash(m), |s| s.bytes() == m).is_some()
    }

    /// Removes and returns a uniformly random member.
    pub fn pop_random(&mut self, rnd: impl FnMut() -> u64) -> Option<Sds> {
        self.t.take_random(rnd).map(MemberSlot::into_sds)
    }

    /// A uniformly random member (may move some of a draining table).
    pub fn random(&mut self, rnd: impl FnMut() -> u64) -> Option<&[u8]> {
        self.t.random(rnd).map(MemberSlot::bytes)
    }

    pub fn iter(&self) -> impl Iterator<Item = &[u8]> + '_ {
        self.t.iter().map(MemberSlot::bytes)
    }

    /// One SSCAN step (Redis's reverse-binary cursor over home slots).
    pub fn scan(&self, cursor: u64, mut f: impl FnMut(&[u8])) -> u64 {
        self.t.scan(cursor, |s| f(s.bytes()))
    }

    /// DEBUG HTSTATS-KEY text.
    pub fn stats(&self) -> String {
        self.t.stats()
    }

    /// The bucket count Redis's dict would have for this many members
    /// (MEMORY USAGE keeps Redis's estimate).
    pub fn redis_buckets(&self) -> usize {
        self.len().next_power_of_two().max(4)
    }

    /// Takes up to `max` members out, from slot `*pos` on (lazy freeing);
    /// returns how many.
    pub fn free_some(&mut self, pos: &mut usize, max: usize) -> usize {
        self.t.free_some(pos, max)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slot_states_are_told_apart_by_the_sds_tag() {
        for len in [0usize, 1, 22, 23, 100] {
            let s = MemberSlot::new(Sds::new(&vec![b'a'; len]));
            assert!(s.is_entry() && !s.is_free() && !s.is_tomb(), "len {len}");
            assert_eq!(s.bytes().len(), len);
        }
        let mut grown = Sds::new(b"x");
        grown.append(&[b'y'; 40]);
        assert!(MemberSlot::new(grown).is_entry());
        assert!(MemberSlot::free().is_free());
        assert!(MemberSlot::tomb().is_tomb());
        assert_eq!(std::mem::size_of::<MemberSlot>(), 24);
    }

    #[test]
    fn adds_removes_pops_and_scans() {
        let mut t = SetTable::default();
        let mut model = std::collections::HashSet::new();
        let mut rng = crate::util::Rng::seeded(99);
        for round in 0..30_000u64 {
            let x = rng.next_u64();
            // Short (inline) and long (heap) members.
            let m = if x.is_multiple_of(3) {
                format!("a-long-member-name-that-is-on-the-heap:{}", x % 2000)
            } else {
                format!("m{}", x % 2000)
            };
            let grow = (round / 7000) % 2 == 0;
            if grow || x.is_multiple_of(4) {
                assert_eq!(t.add(m.as_bytes()), model.insert(m.clone()));
            } else {
                assert_eq!(t.remove(m.as_bytes()), model.remove(&m));
            }
            assert_eq!(t.len(), model.len());
            if round % 997 == 0 {
                let mut n = x;
                if let Some(p) = t.pop_random(|| {
                    n = n.wrapping_mul(6364136223846793005).wrapping_add(1);
                    n >> 11
                }) {
                    assert!(model.remove(std::str::from_utf8(&p).unwrap()));
                }
            }
        }
        let all: std::collections::HashSet<String> = t
            .iter()
            .map(|m| String::from_utf8(m.to_vec()).unwrap())
            .collect();
        assert_eq!(all, model);
        let mut seen = std::collections::HashSet::new();
        let mut cursor = 0;
        loop {
            cursor = t.scan(cursor, |m| {
                seen.insert(m.to_vec());
            });
            if cursor == 0 {
                break;
            }
        }
        assert_eq!(seen.len(), model.len());
        let c = t.clone();
        assert_eq!(c.len(), t.len());
        let mut pos = 0;
        while t.free_some(&mut pos, 100) > 0 {}
        assert_eq!(t.len(), 0);
        assert_eq!(c.iter().count(), model.len());
    }

    #[test]
    fn a_live_table_full_while_draining_takes_everything_at_once() {
        let mut t = SetTable::default();
        for i in 0..1000 {
            t.add(format!("m{i}").as_bytes());
        }
        // 8 live slots while 1,000 members still drain: the next inserts
        // fill it long before the old table is drained.
        t.t.force_resize(8);
        for i in 1000..1100 {
            assert!(t.add(format!("m{i}").as_bytes()));
        }
        assert_eq!(t.len(), 1100);
        for i in 0..1100 {
            assert!(t.contains(format!("m{i}").as_bytes()), "m{i}");
        }
        assert_eq!(t.iter().count(), 1100);
    }

    #[test]
    fn random_is_uniform() {
        let mut t = SetTable::default();
        for i in 0..10 {
            t.add(format!("m{i}").as_bytes());
        }
        let mut counts = std::collections::HashMap::new();
        let mut n = 1u64;
        for _ in 0..20_000 {
            let m = t
                .random(|| {
                    n = n
                        .wrapping_mul(6364136223846793005)
                        .wrapping_add(1442695040888963407);
                    n >> 17
                })
                .unwrap()
                .to_vec();
            *counts.entry(m).or_insert(0) += 1;
        }
        assert_eq!(counts.len(), 10);
        assert!(
            counts.values().all(|&c| (1600..2400).contains(&c)),
            "{counts:?}"
        );
    }
}
