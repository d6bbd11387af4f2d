//! `Dict`: Redis's hash table, rebuilt in Rust.
//!
//! Owns keys (byte strings, embedded in each node: `node.rs`) mapped to
//! values of any type. Chained buckets, a size that
//! is a power of two, and incremental rehashing between two tables, as Redis's
//! dict.c does, because two of Redis's guarantees depend on that exact shape:
//! - `scan` uses the reverse-binary cursor, so a full iteration returns every
//!   element present for its whole duration, even across resizes;
//! - growing never stalls the loop: each write moves one bucket, cron moves more.
//!
//! Pure: no I/O, no clock. The hash is SipHash with a per-process random key.

mod node;

pub use node::{Fields, NodePtr};
use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;
use std::sync::OnceLock;

/// Start size of a table that receives its first element.
const INITIAL_SIZE: usize = 4;
/// Tables grow past a fill of 1 even while resizing is discouraged (a child
/// process is saving), once this ratio is reached.
const FORCE_RESIZE_RATIO: usize = 5;
/// Shrink when fewer than 1 in 10 buckets would be used.
const MIN_FILL_PERCENT: usize = 10;

static HASH_KEYS: OnceLock<RandomState> = OnceLock::new();

/// The process-wide keyed hash of a byte string.
#[inline]
pub fn hash_bytes(key: &[u8]) -> u64 {
    HASH_KEYS.get_or_init(RandomState::new).hash_one(key)
}

/// One step of Redis's dictScan cursor over a table of `mask + 1` buckets,
/// or over two while resizing (`small` the smaller table's mask, `large`
/// the bigger one's): calls `emit(in_large, bucket)` for the buckets the
/// cursor covers and returns the next cursor (0: done). The reverse-binary
/// increment is what makes a full scan return every element present
/// throughout, whatever resizes happen between calls.
pub fn scan_step(
    mut v: u64,
    small: u64,
    large: Option<u64>,
    mut emit: impl FnMut(bool, u64),
) -> u64 {
    emit(false, v & small);
    let Some(large) = large else {
        v |= !small;
        return v.reverse_bits().wrapping_add(1).reverse_bits();
    };
    loop {
        emit(true, v & large);
        v |= !large;
        v = v.reverse_bits().wrapping_add(1).reverse_bits();
        if v & (small ^ large) == 0 {
            return v;
        }
    }
}

/// Asks the CPU to bring the cache line at `p` in (no effect elsewhere).
#[inline(always)]
fn prefetch_line(p: *const u8) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: a prefetch never faults, whatever the address.
    unsafe {
        std::arch::x86_64::_mm_prefetch(p as *const i8, std::arch::x86_64::_MM_HINT_T0)
    };
    #[cfg(not(target_arch = "x86_64"))]
    let _ = p;
}

/// A bucket, or a node's link to the next one.
type Link<V, M> = Option<NodePtr<V, M>>;

/// One table: an exact-size bucket array (a boxed slice, not a Vec: tables
/// never grow in place, and the 8 bytes saved per table keep `Dict` at 56
/// bytes, one allocator size class below 80, for every small hash/set/zset).
struct Table<V, M> {
    buckets: Box<[Link<V, M>]>,
    used: usize,
}

impl<V, M> Table<V, M> {
    fn empty() -> Self {
        Table {
            buckets: Box::new([]),
            used: 0,
        }
    }

    /// A table of `size` empty buckets, from a zeroed allocation: a big
    /// table's pages are then mapped by the kernel as the rehash reaches
    /// them, as Redis's zcalloc'd tables, instead of all being written by
    /// the one command that grows the dict (26 ms for a SET doubling a
    /// 4,194,304-key keyspace, when the buckets were written one by one).
    fn with_size(size: usize) -> Self {
        if size == 0 {
            return Table::empty();
        }
        // SAFETY: `Option<NodePtr<V, M>>` is a nullable pointer (NodePtr is a
        // transparent NonNull) with None as null, so zeroed memory is `size` valid Nones.
        let buckets = unsafe { crate::alloc::zeroed_slice(size) };
        Table { buckets, used: 0 }
    }

    #[inline]
    fn mask(&self) -> u64 {
        (self.buckets.len() as u64).wrapping_sub(1)
    }

    fn find(&self, h: u64, key: &[u8]) -> Option<&NodePtr<V, M>> {
        if self.buckets.is_empty() {
            return None;
        }
        let mut cur = self.buckets[(h & self.mask()) as usize].as_ref();
        while let Some(n) = cur {
            if n.key() == key {
                return Some(n);
            }
            cur = n.next().as_ref();
        }
        None
    }

    fn find_mut(&mut self, h: u64, key: &[u8]) -> Option<&mut NodePtr<V, M>> {
        if self.buckets.is_empty() {
            return None;
        }
        let idx = (h & self.mask()) as usize;
        let mut cur = self.buckets[idx].as_mut();
        while let Some(n) = cur {
            if n.key() == key {
                return Some(n);
            }
            cur = n.next_mut().as_mut();
        }
        None
    }

    fn remove(&mut self, h: u64, key: &[u8]) -> Option<NodePtr<V, M>> {
        if self.buckets.is_empty() {
            return None;
        }
        let idx = (h & self.mask()) as usize;
        let mut link = &mut self.buckets[idx];
        loop {
            match link {
                None => return None,
                Some(n) if n.key() == key => {
                    let mut node = link.take()?;
                    *link = node.next_mut().take();
                    self.used -= 1;
                    return Some(node);
                }
                Some(n) => link = n.next_mut(),
            }
        }
    }

    fn push(&mut self, h: u64, mut node: NodePtr<V, M>) {
        let idx = (h & self.mask()) as usize;
        *node.next_mut() = self.buckets[idx].take();
        self.buckets[idx] = Some(node);
        self.used += 1;
    }
}

/// A hash table from byte-string keys to `V`.
pub struct Dict<V, M = ()> {
    ht: [Table<V, M>; 2],
    /// Next bucket of `ht[0]` to move into `ht[1]`; `NOT_REHASHING` when not
    /// rehashing (a sentinel rather than an `Option`: 8 bytes, not 16).
    rehash: usize,
}

const NOT_REHASHING: usize = usize::MAX;

impl<V, M> Default for Dict<V, M> {
    fn default() -> Self {
        Dict::new()
    }
}

impl<V, M> Dict<V, M> {
    pub fn new() -> Self {
        Dict {
            ht: [Table::empty(), Table::empty()],
            rehash: NOT_REHASHING,
        }
    }

    /// Next bucket to rehash, `None` when not rehashing.
    #[inline]
    fn rehash_idx(&self) -> Option<usize> {
        (self.rehash != NOT_REHASHING).then_some(self.rehash)
    }

    #[inline]
    fn set_rehash_idx(&mut self, idx: Option<usize>) {
        self.rehash = idx.unwrap_or(NOT_REHASHING);
    }

    #[inline]
    pub fn len(&self) -> usize {
        self.ht[0].used + self.ht[1].used
    }

    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Number of buckets (both tables), for INFO and memory accounting.
    pub fn buckets(&self) -> usize {
        self.ht[0].buckets.len() + self.ht[1].buckets.len()
    }

    pub fn is_rehashing(&self) -> bool {
        self.rehash != NOT_REHASHING
    }

    pub fn get(&self, key: &[u8]) -> Option<&V> {
        self.get_entry(key).map(|(_, v)| v)
    }

    pub fn get_entry(&self, key: &[u8]) -> Option<(&[u8], &V)> {
        let n = self.get_node(key)?;
        Some((n.key(), n.val()))
    }

    /// `get` for a key whose `hash_bytes` the caller has.
    pub fn get_hashed(&self, h: u64, key: &[u8]) -> Option<&V> {
        self.get_node_hashed(h, key).map(|n| n.val())
    }

    pub fn contains_key(&self, key: &[u8]) -> bool {
        self.get_entry(key).is_some()
    }

    pub fn get_mut(&mut self, key: &[u8]) -> Option<&mut V> {
        self.find_node_mut(hash_bytes(key), key)
            .map(|n| n.val_mut())
    }

    /// The node of `key` (hash `h`) for writing, after one incremental
    /// rehash step, as every write-side lookup.
    fn find_node_mut(&mut self, h: u64, key: &[u8]) -> Option<&mut NodePtr<V, M>> {
        if self.is_empty() {
            return None;
        }
        self.rehash_step();
        let rehashing = self.is_rehashing();
        // Disjoint borrows of the two tables: one walk of each chain.
        let [t0, t1] = &mut self.ht;
        match t0.find_mut(h, key) {
            Some(n) => Some(n),
            None if rehashing => t1.find_mut(h, key),
            None => None,
        }
    }

    /// Takes the node of `key` (hash `h`) out of its chain.
    fn take_node(&mut self, h: u64, key: &[u8]) -> Option<NodePtr<V, M>> {
        if self.is_empty() {
            return None;
        }
        self.rehash_step();
        match self.ht[0].remove(h, key) {
            Some(n) => Some(n),
            None if self.is_rehashing() => self.ht[1].remove(h, key),
            None => None,
        }
    }

    /// A hint that hash `h` will be looked up soon (the next pipelined
    /// requests, `server/exec.rs`): `chain` false brings its bucket into
    /// cache; `chain` true, once the bucket is there, the first node of its
    /// chain. Never a load that could wait for memory: the second stage
    /// reads only a bucket the first one fetched (else it waits no longer
    /// than the lookup would have).
    #[inline]
    pub fn prefetch(&self, h: u64, chain: bool) {
        // While rehashing, buckets below the rehash index have moved.
        let moved = self
            .rehash_idx()
            .is_some_and(|r| ((h & self.ht[0].mask()) as usize) < r);
        let t = &self.ht[usize::from(moved)];
        let Some(b) = t.buckets.get((h & t.mask()) as usize) else {
            return;
        };
        if !chain {
            prefetch_line(b as *const _ as *const u8);
        } else if let Some(n) = b.as_ref() {
            let p = n.addr();
            prefetch_line(p);
            prefetch_line(p.wrapping_add(64));
        }
    }

    /// Inserts or replaces; returns the previous value.
    pub fn insert(&mut self, key: &[u8], val: V) -> Option<V>
    where
        M: Default,
    {
        if let Some(v) = self.get_mut(key) {
            return Some(std::mem::replace(v, val));
        }
        self.insert_new(key, val);
        None
    }

    /// Inserts `key` unless present (one hash, one walk of the chain);
    /// gives the pair back when the key exists.
    pub fn insert_if_absent(&mut self, key: &[u8], val: V) -> Result<(), V>
    where
        M: Default,
    {
        let h = hash_bytes(key);
        if self.get_node_hashed(h, key).is_some() {
            return Err(val);
        }
        self.insert_node_hashed(h, key, val, M::default(), None, None);
        Ok(())
    }

    /// Makes room for `n` elements at once (RDB load: RESIZEDB), so that
    /// loading never rehashes. Grows only.
    pub fn reserve(&mut self, n: usize) {
        let want = n.max(INITIAL_SIZE).next_power_of_two();
        if self.is_rehashing() || want <= self.ht[0].buckets.len() {
            return;
        }
        self.start_rehash(want);
    }

    /// Inserts a key the caller knows is absent (saves a lookup).
    pub fn insert_new(&mut self, key: &[u8], val: V)
    where
        M: Default,
    {
        self.insert_node_within(key, val, M::default(), None, None);
    }

    /// `insert_new` for a table whose growth is bounded by memory (Redis's
    /// dictExpandAllowed, the keyspace's tables under maxmemory): while the
    /// fill is at most 1.618, the table does not grow when its new bucket
    /// array would take more than `room` bytes; chains get longer instead.
    pub fn insert_new_within(&mut self, key: &[u8], val: V, room: Option<u64>)
    where
        M: Default,
    {
        self.insert_node_within(key, val, M::default(), None, room);
    }

    /// `insert_new_within` with the node's field and, when given, its
    /// 4-byte tail (`node.rs`).
    pub fn insert_node_within(
        &mut self,
        key: &[u8],
        val: V,
        meta: M,
        tail: Option<u32>,
        room: Option<u64>,
    ) {
        self.insert_node_hashed(hash_bytes(key), key, val, meta, tail, room);
    }

    /// `insert_node_within` for a key whose `hash_bytes` the caller has.
    pub fn insert_node_hashed(
        &mut self,
        h: u64,
        key: &[u8],
        val: V,
        meta: M,
        tail: Option<u32>,
        room: Option<u64>,
    ) {
        self.rehash_step();
        self.expand_if_needed_within(room);
        let node = NodePtr::new(key, val, meta, tail);
        let t = if self.is_rehashing() { 1 } else { 0 };
        self.ht[t].push(h, node);
    }

    /// Returns the value for `key`, inserting `make()` first when absent.
    pub fn get_or_insert_with(&mut self, key: &[u8], make: impl FnOnce() -> V) -> &mut V
    where
        M: Default,
    {
        let h = hash_bytes(key);
        if self.get_node_hashed(h, key).is_none() {
            self.insert_node_hashed(h, key, make(), M::default(), None, None);
        }
        match self.find_node_mut(h, key) {
            Some(n) => n.val_mut(),
            None => unreachable!("key inserted above"),
        }
    }

    pub fn remove(&mut self, key: &[u8]) -> Option<V> {
        self.remove_hashed(hash_bytes(key), key)
    }

    /// `remove` for a key whose `hash_bytes` the caller has.
    pub fn remove_hashed(&mut self, h: u64, key: &[u8]) -> Option<V> {
        self.take_node(h, key).map(NodePtr::into_val)
    }

    /// `remove` (of a key whose `hash_bytes` the caller has), with the
    /// node's field and tail.
    pub fn remove_parts_hashed(&mut self, h: u64, key: &[u8]) -> Option<(V, M, Option<u32>)> {
        let node = self.take_node(h, key)?;
        let tail = node.tail();
        let (v, m) = node.into_parts();
        Some((v, m, tail))
    }

    /// The node holding `key` (its value, field and tail), for reading.
    pub fn get_node(&self, key: &[u8]) -> Option<&NodePtr<V, M>> {
        self.get_node_hashed(hash_bytes(key), key)
    }

    /// `get_node` for a key whose `hash_bytes` the caller has (a lookup
    /// that walks the chain twice hashes once).
    pub fn get_node_hashed(&self, h: u64, key: &[u8]) -> Option<&NodePtr<V, M>> {
        if self.is_empty() {
            return None;
        }
        match self.ht[0].find(h, key) {
            Some(n) => Some(n),
            None if self.is_rehashing() => self.ht[1].find(h, key),
            None => None,
        }
    }

    /// The value, field and tail of `key`'s node, for writing (one
    /// incremental rehash step first, as `get_mut`).
    pub fn get_fields(&mut self, key: &[u8]) -> Option<Fields<'_, V, M>> {
        self.get_fields_hashed(hash_bytes(key), key)
    }

    /// `get_fields` for a key whose `hash_bytes` the caller has.
    pub fn get_fields_hashed(&mut self, h: u64, key: &[u8]) -> Option<Fields<'_, V, M>> {
        self.find_node_mut(h, key).map(|n| n.fields())
    }

    /// Drops every element and frees the tables.
    pub fn clear(&mut self) {
        self.ht = [Table::empty(), Table::empty()];
        self.set_rehash_idx(None);
    }

    /// Takes all elements out, leaving the dict empty.
    pub fn take(&mut self) -> Dict<V, M> {
        std::mem::take(self)
    }

    // ---- resizing ----

    fn expand_if_needed_within(&mut self, room: Option<u64>) {
        if self.is_rehashing() {
            return;
        }
        let size = self.ht[0].buckets.len();
        if size == 0 {
            self.ht[0] = Table::with_size(INITIAL_SIZE);
            return;
        }
        let used = self.ht[0].used;
        if used >= size && (resize_allowed() || used / size > FORCE_RESIZE_RATIO) {
            let new_size = (used + 1).next_power_of_two();
            let more_mem = (new_size * std::mem::size_of::<Link<V, M>>()) as u64;
            // Redis's HASHTABLE_MAX_LOAD_FACTOR: past it, growing is a must.
            let bounded = room.is_some_and(|r| more_mem > r) && used * 1000 <= size * 1618;
            if !bounded {
                self.start_rehash(new_size);
            }
        }
    }

    fn start_rehash(&mut self, size: usize) {
        if self.is_rehashing() || size == self.ht[0].buckets.len() {
            return;
        }
        if self.ht[0].used == 0 {
            self.ht[0] = Table::with_size(size);
            return;
        }
        self.ht[1] = Table::with_size(size);
        self.set_rehash_idx(Some(0));
    }

    /// Shrinks the table when it is mostly empty (called from cron).
    pub fn shrink_if_needed(&mut self) {
        let size = self.ht[0].buckets.len();
        if self.is_rehashing() || size <= INITIAL_SIZE || !resize_allowed() {
            return;
        }
        let used = self.ht[0].used;
        if used * 100 / size < MIN_FILL_PERCENT {
            self.start_rehash(used.max(INITIAL_SIZE).next_power_of_two());
        }
    }

    /// One incremental rehash step, skipped while a child process saves:
    /// moving buckets writes to pages the child still shares (lookups and
    /// inserts work on both tables meanwhile). Once one table is
    /// FORCE_RESIZE_RATIO times the other, the step is taken anyway (Redis
    /// 7.0.15's dictRehash): a huge, nearly empty table must not stay.
    fn rehash_step(&mut self) {
        if self.is_rehashing() && self.rehash_allowed() {
            self.rehash(1);
        }
    }

    fn rehash_allowed(&self) -> bool {
        if resize_allowed() {
            return true;
        }
        let (s0, s1) = (self.ht[0].buckets.len(), self.ht[1].buckets.len());
        if s0 == 0 || s1 == 0 {
            return false;
        }
        s0.max(s1) / s0.min(s1) >= FORCE_RESIZE_RATIO
    }

    /// Moves up to `n` non-empty buckets (visiting at most 10*n empty ones).
    /// Returns true when more rehashing remains.
    pub fn rehash(&mut self, n: usize) -> bool {
        let Some(mut idx) = self.rehash_idx() else {
            return false;
        };
        let mut empty_visits = n * 10;
        let mut left = n;
        while left > 0 && self.ht[0].used > 0 {
            while idx < self.ht[0].buckets.len() && self.ht[0].buckets[idx].is_none() {
                idx += 1;
                empty_visits -= 1;
                if empty_visits == 0 {
                    self.set_rehash_idx(Some(idx));
                    return true;
                }
            }
            if idx >= self.ht[0].buckets.len() {
                break;
            }
            let mut chain = self.ht[0].buckets[idx].take();
            while let Some(mut node) = chain {
                chain = node.next_mut().take();
                let h = hash_bytes(node.key());
                self.ht[0].used -= 1;
                self.ht[1].push(h, node);
            }
            idx += 1;
            left -= 1;
        }
        if self.ht[0].used == 0 {
            self.ht[0] = std::mem::replace(&mut self.ht[1], Table::empty());
            self.set_rehash_idx(None);
            return false;
        }
        self.set_rehash_idx(Some(idx));
        true
    }

    // ---- iteration ----

    pub fn iter(&self) -> Iter<'_, V, M> {
        Iter {
            dict: self,
            table: 0,
            bucket: 0,
            node: None,
        }
    }

    /// One step of a SCAN iteration: calls `f` for the elements of the
    /// bucket(s) the cursor names and returns the next cursor (0 = done).
    pub fn scan(&self, cursor: u64, mut f: impl FnMut(&[u8], &V)) -> u64 {
        if self.is_empty() {
            return 0;
        }
        let emit = |t: &Table<V, M>, idx: u64, f: &mut dyn FnMut(&[u8], &V)| {
            let mut cur = t.buckets[idx as usize].as_ref();
            while let Some(n) = cur {
                f(n.key(), n.val());
                cur = n.next().as_ref();
            }
        };
        if !self.is_rehashing() {
            let t0 = &self.ht[0];
            return scan_step(cursor, t0.mask(), None, |_, b| emit(t0, b, &mut f));
        }
        let (small, large) = if self.ht[0].buckets.len() <= self.ht[1].buckets.len() {
            (&self.ht[0], &self.ht[1])
        } else {
            (&self.ht[1], &self.ht[0])
        };
        scan_step(cursor, small.mask(), Some(large.mask()), |big, b| {
            emit(if big { large } else { small }, b, &mut f)
        })
    }

    /// A random element, roughly uniform (random bucket, then random chain
    /// position, as Redis's dictGetRandomKey). `rnd` supplies random numbers.
    pub fn random(&self, rnd: impl FnMut() -> u64) -> Option<(&[u8], &V)> {
        self.random_node(rnd).map(|n| (n.key(), n.val()))
    }

    /// `random`, giving the node (its field too).
    pub fn random_node(&self, mut rnd: impl FnMut() -> u64) -> Option<&NodePtr<V, M>> {
        if self.is_empty() {
            return None;
        }
        let s0 = self.ht[0].buckets.len();
        let s1 = self.ht[1].buckets.len();
        let total = s0 + s1;
        // Sparse tables are shrunk by cron, so a bounded number of probes
        // finds a bucket almost always; the walk below is the fallback.
        for _ in 0..1000 {
            let i = (rnd() % total as u64) as usize;
            let bucket = if i < s0 {
                self.ht[0].buckets[i].as_ref()
            } else {
                self.ht[1].buckets[i - s0].as_ref()
            };
            if let Some(head) = bucket {
                let mut len = 0;
                let mut cur = Some(head);
                while let Some(n) = cur {
                    len += 1;
                    cur = n.next().as_ref();
                }
                let mut pick = rnd() % len;
                let mut cur = head;
                while pick > 0 {
                    cur = cur.next().as_ref()?;
                    pick -= 1;
                }
                return Some(cur);
            }
        }
        let skip = (rnd() % self.len() as u64) as usize;
        let (k, _) = self.iter().nth(skip)?;
        self.get_node(k)
    }
}

/// Elements sampled by `fair_random` (Redis's GETFAIR_NUM_ENTRIES).
const FAIR_SAMPLES: usize = 15;

impl<V, M> Dict<V, M> {
    /// Up to `out.len()` elements from random places (Redis 7.0.15's
    /// dictGetSomeKeys): after as many rehash steps, consecutive buckets
    /// from a random start, jumping elsewhere after a run of empty ones.
    /// A chain longer than the room left is reservoir-sampled, so that the
    /// end of a long chain gets its fair chance. Returns how many were stored.
    pub fn some_keys<'a>(
        &'a mut self,
        out: &mut [Option<(&'a [u8], &'a V)>],
        mut rnd: impl FnMut() -> u64,
    ) -> usize {
        let count = out.len().min(self.len());
        self.sample_steps(count);
        let this: &'a Self = self;
        this.sample(&mut out[..count], &mut rnd)
    }

    /// The rehash work dictGetSomeKeys does before sampling `count`.
    fn sample_steps(&mut self, count: usize) {
        for _ in 0..count {
            if !self.is_rehashing() {
                break;
            }
            self.rehash_step();
        }
    }

    fn sample<'a>(
        &'a self,
        out: &mut [Option<(&'a [u8], &'a V)>],
        rnd: &mut dyn FnMut() -> u64,
    ) -> usize {
        let count = out.len();
        if count == 0 {
            return 0;
        }
        let rehash_idx = self.rehash_idx();
        let tables = if rehash_idx.is_some() { 2 } else { 1 };
        let mut maxmask = self.ht[0].mask();
        if tables > 1 && self.ht[1].mask() > maxmask {
            maxmask = self.ht[1].mask();
        }
        let mut i = rnd() & maxmask;
        let mut emptylen = 0;
        let mut stored = 0usize;
        let mut maxsteps = count * 10;
        while stored < count && maxsteps > 0 {
            maxsteps -= 1;
            for j in 0..tables {
                // Buckets of ht[0] below the rehash index are empty; past
                // the end of ht[1] too (shrinking): jump to the index.
                if let Some(ri) = rehash_idx.filter(|&ri| j == 0 && (i as usize) < ri) {
                    if i as usize >= self.ht[1].buckets.len() {
                        i = ri as u64;
                    } else {
                        continue;
                    }
                }
                let t = &self.ht[j];
                if i as usize >= t.buckets.len() {
                    continue;
                }
                let Some(head) = t.buckets[i as usize].as_ref() else {
                    emptylen += 1;
                    if emptylen >= 5 && emptylen > count {
                        i = rnd() & maxmask;
                        emptylen = 0;
                    }
                    continue;
                };
                emptylen = 0;
                let mut cur = Some(head);
                while let Some(n) = cur {
                    if stored < count {
                        out[stored] = Some((n.key(), n.val()));
                    } else {
                        let r = (rnd() % (stored as u64 + 1)) as usize;
                        if r < count {
                            out[r] = Some((n.key(), n.val()));
                        }
                    }
                    stored += 1;
                    cur = n.next().as_ref();
                }
                if stored >= count {
                    return count;
                }
            }
            i = (i + 1) & maxmask;
        }
        stored.min(count)
    }

    /// A random element with a fair chance for each (Redis's
    /// dictGetFairRandomKey): one of a sample of FAIR_SAMPLES elements, so
    /// that members of long chains are not favoured less than lone ones.
    pub fn fair_random(&mut self, mut rnd: impl FnMut() -> u64) -> Option<(&[u8], &V)> {
        let count = FAIR_SAMPLES.min(self.len());
        self.sample_steps(count);
        let this: &Self = self;
        let mut picks = [None; FAIR_SAMPLES];
        let n = this.sample(&mut picks[..count], &mut rnd);
        if n == 0 {
            // An unlucky run of empty buckets: any element will do.
            return this.random(rnd);
        }
        picks[(rnd() % n as u64) as usize]
    }

    /// Redis's DEBUG HTSTATS text for this table (dictGetStats): the main
    /// table, then the rehashing target while rehashing.
    pub fn stats(&self) -> String {
        let mut s = self.ht[0].stats(0);
        if self.is_rehashing() {
            s.push_str(&self.ht[1].stats(1));
        }
        s
    }
}

impl<V, M> Table<V, M> {
    fn stats(&self, idx: usize) -> String {
        let chains = self.buckets.iter().map(|b| {
            let mut len = 0u64;
            let mut cur = b.as_ref();
            while let Some(n) = cur {
                len += 1;
                cur = n.next().as_ref();
            }
            len
        });
        chain_stats(idx, self.buckets.len(), self.used, chains)
    }
}

/// Redis's dictGetStatsHt text for table `idx` (0 the main table, 1 the
/// rehashing target) of `size` buckets holding `used` elements, given the
/// length of every bucket's chain: DEBUG HTSTATS and HTSTATS-KEY.
pub fn chain_stats(
    idx: usize,
    size: usize,
    used: usize,
    chains: impl Iterator<Item = u64>,
) -> String {
    use std::fmt::Write;
    const VECTLEN: usize = 50;
    let name = if idx == 0 {
        "main hash table"
    } else {
        "rehashing target"
    };
    if used == 0 {
        return format!(
            "Hash table {idx} stats ({name}):\nNo stats available for empty dictionaries\n"
        );
    }
    let mut clvector = [0u64; VECTLEN];
    let (mut slots, mut maxchain, mut total) = (0u64, 0u64, 0u64);
    for len in chains {
        clvector[(len as usize).min(VECTLEN - 1)] += 1;
        if len > 0 {
            slots += 1;
            maxchain = maxchain.max(len);
            total += len;
        }
    }
    let mut s = String::new();
    let _ = write!(
        s,
        "Hash table {idx} stats ({name}):\n table size: {size}\n number of elements: {used}\n different slots: {slots}\n max chain length: {maxchain}\n avg chain length (counted): {:.2}\n avg chain length (computed): {:.2}\n Chain length distribution:\n",
        total as f32 / slots as f32,
        used as f32 / slots as f32,
    );
    for (i, &n) in clvector.iter().enumerate().take(VECTLEN - 1) {
        if n != 0 {
            let _ = writeln!(s, "   {i}: {n} ({:.2}%)", n as f32 / size as f32 * 100.0);
        }
    }
    s
}

/// Whether tables may grow and shrink freely. Cleared while a forked child
/// is saving so that copy-on-write copies as few pages as possible.
static RESIZE_ALLOWED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(true);

pub fn set_resize_allowed(on: bool) {
    RESIZE_ALLOWED.store(on, std::sync::atomic::Ordering::Relaxed);
}

fn resize_allowed() -> bool {
    RESIZE_ALLOWED.load(std::sync::atomic::Ordering::Relaxed)
}

pub struct Iter<'a, V, M = ()> {
    dict: &'a Dict<V, M>,
    table: usize,
    bucket: usize,
    node: Option<&'a NodePtr<V, M>>,
}

impl<'a, V, M> Iterator for Iter<'a, V, M> {
    type Item = (&'a [u8], &'a V);

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(n) = self.node {
                self.node = n.next().as_ref();
                return Some((n.key(), n.val()));
            }
            let t = self.dict.ht.get(self.table)?;
            if self.bucket >= t.buckets.len() {
                self.table += 1;
                self.bucket = 0;
                continue;
            }
            self.node = t.buckets[self.bucket].as_ref();
            self.bucket += 1;
        }
    }
}

/// A dict being freed a few elements at a time (lazy freeing: UNLINK,
/// FLUSHALL ASYNC), so that dropping millions of nodes never holds the
/// event loop for long.
pub struct Drain<V, M = ()> {
    ht: [Table<V, M>; 2],
    /// Table and bucket to free next.
    table: usize,
    bucket: usize,
}

impl<V, M> Dict<V, M> {
    /// Turns the dict into a `Drain` (no element is freed yet).
    pub fn into_drain(mut self) -> Drain<V, M> {
        Drain {
            ht: std::mem::replace(&mut self.ht, [Table::empty(), Table::empty()]),
            table: 0,
            bucket: 0,
        }
    }
}

impl<V, M> Drain<V, M> {
    /// Frees whole buckets until about `budget` elements went; each value
    /// is handed to `each` (which may keep it to free it later). True when
    /// nothing is left.
    pub fn free_some(&mut self, budget: usize, mut each: impl FnMut(V)) -> bool {
        let mut left = budget.max(1);
        while self.table < 2 {
            let t = &mut self.ht[self.table];
            while self.bucket < t.buckets.len() {
                let mut cur = t.buckets[self.bucket].take();
                self.bucket += 1;
                while let Some(mut n) = cur {
                    cur = n.next_mut().take();
                    t.used -= 1;
                    each(n.into_val());
                    left = left.saturating_sub(1);
                }
                if left == 0 {
                    return false;
                }
            }
            // The bucket array itself goes now.
            self.ht[self.table] = Table::empty();
            self.table += 1;
            self.bucket = 0;
        }
        true
    }

    /// Elements not freed yet.
    pub fn len(&self) -> usize {
        self.ht[0].used + self.ht[1].used
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl<V, M> Drop for Drain<V, M> {
    fn drop(&mut self) {
        while !self.free_some(usize::MAX, drop) {}
    }
}

impl<V, M> Drop for Dict<V, M> {
    fn drop(&mut self) {
        // Unlink chains iteratively: a recursive drop of a long chain could
        // exhaust the stack.
        for t in &mut self.ht {
            for b in t.buckets.iter_mut() {
                let mut cur = b.take();
                while let Some(mut n) = cur {
                    cur = n.next_mut().take();
                }
            }
        }
    }
}

impl<V: Clone, M: Clone> Clone for Dict<V, M> {
    fn clone(&self) -> Self {
        let mut d = Dict::new();
        for t in &self.ht {
            for b in t.buckets.iter() {
                let mut cur = b.as_ref();
                while let Some(n) = cur {
                    d.insert_node_within(
                        n.key(),
                        n.val().clone(),
                        n.meta().clone(),
                        n.tail(),
                        None,
                    );
                    cur = n.next().as_ref();
                }
            }
        }
        d
    }
}

#[cfg(test)]
mod tests;
