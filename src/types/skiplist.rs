//! zskiplist: the ordered half of a "skiplist"-encoded sorted set, as
//! Redis's t_zset.c. Nodes live in an arena (`ChunkedVec<Node>`)
//! addressed by index instead of pointers; every level keeps its span so
//! that ranks are O(log n). Elements are ordered by (score, member bytes).
//! A node keeps its index for the member's life (the member index of
//! `member_index.rs` points at it) until a sparse arena is renumbered.
//! A free node's score is NaN, which no member's score is.
//!
//! Layout: a search hop reads the current node's forward link at the
//! level it is on and the next node's score. One node is one 64-byte cache
//! line holding the score, the member (inline up to 22 bytes) and levels
//! 0..3, so a hop costs one cache miss as in Redis, where the levels are a
//! flexible array inside the node. The levels above (one node in 64 has
//! any) live in a side table; those nodes are few and every search passes
//! them, so they stay cached. (Before: each node kept its levels in a
//! `Vec`, a second miss per hop; ZADD into a 100,000-member set cost 1.7x
//! Redis's CPU per request.)

use crate::sds::Sds;
use crate::util::chunked_vec::ChunkedVec;
use std::cell::Cell;
use std::cmp::Ordering;

const NIL: u32 = u32::MAX;
/// ZSKIPLIST_MAXLEVEL and ZSKIPLIST_P.
const MAX_LEVEL: usize = 32;
const HEADER: u32 = 0;

/// One level of a node: the next node at this level and the number of
/// level-0 steps it skips (u32: node indexes are u32 too).
#[derive(Clone, Copy, Default)]
struct Level {
    forward: u32,
    span: u32,
}

const NIL_LEVEL: Level = Level {
    forward: NIL,
    span: 0,
};

/// Levels kept inside the node.
const INLINE_LEVELS: usize = 3;
/// Levels kept in the side table for a taller node.
const TALL_LEVELS: usize = MAX_LEVEL - INLINE_LEVELS;

#[derive(Clone)]
#[repr(align(64))]
struct Node {
    score: f64,
    ele: Sds,
    backward: u32,
    /// Index of this node's levels 3.. in `SkipList::tall`, NIL when the
    /// node is at most 3 levels high.
    tall: u32,
    level: [Level; INLINE_LEVELS],
}

const _: () = assert!(std::mem::size_of::<Node>() == 64);

/// Largest set `renumber` runs on: it moves and remaps at most 64Ki
/// members (and reads the arena's free bits, 1/512 of the arena). A
/// bigger set keeps its arena (inserts reuse its free nodes, the end is
/// trimmed) until it shrinks to this.
const RENUMBER_MAX: usize = 1 << 16;

/// What `renumber` moved: each live node at or past `keep` went to a free
/// node below it; the others kept their number.
pub struct Renumbered {
    keep: u32,
    moved_to: Vec<u32>,
}

impl Renumbered {
    /// The new number of node `n`.
    #[inline]
    pub fn map(&self, n: u32) -> u32 {
        if n == NIL || n < self.keep {
            n
        } else {
            self.moved_to
                .get((n - self.keep) as usize)
                .copied()
                .unwrap_or(NIL)
        }
    }
}

#[derive(Clone)]
pub struct SkipList {
    /// The node arena (chunked: growing a big set never copies it).
    nodes: ChunkedVec<Node>,
    free: Vec<u32>,
    /// One bit per node, set while it is free (exact, unlike `free`): the
    /// renumbering finds holes and live nodes from it without reading the
    /// arena.
    free_bits: Vec<u64>,
    /// Levels 3.. of the nodes taller than 3 (the header is one).
    tall: Vec<[Level; TALL_LEVELS]>,
    free_tall: Vec<u32>,
    tail: u32,
    length: usize,
    level: usize,
}

thread_local! {
    static SEED: Cell<u64> = const { Cell::new(0x9E37_79B9_7F4A_7C15) };
}

/// Random level with P = 1/4, as zslRandomLevel.
fn random_level() -> usize {
    SEED.with(|s| {
        let mut lvl = 1;
        loop {
            let mut x = s.get();
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            s.set(x);
            if (x >> 40) & 0xFFFF < 0xFFFF / 4 && lvl < MAX_LEVEL {
                lvl += 1;
            } else {
                return lvl;
            }
        }
    })
}

/// (score, member) order of the sorted set.
#[inline]
fn cmp(s1: f64, e1: &[u8], s2: f64, e2: &[u8]) -> Ordering {
    s1.partial_cmp(&s2)
        .unwrap_or(Ordering::Equal)
        .then_with(|| e1.cmp(e2))
}

/// Node n comes before (score, ele): compares the member only on equal
/// scores, so a hop reads nothing but the score in the common case.
#[inline]
fn before(n: &Node, score: f64, ele: &[u8]) -> bool {
    n.score < score || (n.score == score && n.ele.as_bytes() < ele)
}

impl Default for SkipList {
    fn default() -> Self {
        SkipList::new()
    }
}

impl SkipList {
    pub fn new() -> SkipList {
        let header = Node {
            ele: Sds::empty(),
            score: 0.0,
            backward: NIL,
            tall: 0,
            level: [NIL_LEVEL; INLINE_LEVELS],
        };
        SkipList {
            nodes: {
                let mut a = ChunkedVec::new();
                a.push(header);
                a
            },
            free: Vec::new(),
            free_bits: Vec::new(),
            tall: vec![[NIL_LEVEL; TALL_LEVELS]],
            free_tall: Vec::new(),
            tail: NIL,
            length: 0,
            level: 1,
        }
    }

    pub fn len(&self) -> usize {
        self.length
    }

    pub fn is_empty(&self) -> bool {
        self.length == 0
    }

    fn alloc(&mut self, ele: Sds, score: f64, lvl: usize) -> u32 {
        let tall = if lvl > INLINE_LEVELS {
            match self.free_tall.pop() {
                Some(t) => {
                    self.tall[t as usize] = [NIL_LEVEL; TALL_LEVELS];
                    t
                }
                None => {
                    self.tall.push([NIL_LEVEL; TALL_LEVELS]);
                    (self.tall.len() - 1) as u32
                }
            }
        } else {
            NIL
        };
        let node = Node {
            ele,
            score,
            backward: NIL,
            tall,
            level: [NIL_LEVEL; INLINE_LEVELS],
        };
        let i = match self.take_free() {
            Some(i) => {
                self.nodes[i as usize] = node;
                i as usize
            }
            None => {
                self.nodes.push(node);
                self.nodes.len() - 1
            }
        };
        self.set_free(i, false);
        i as u32
    }

    #[inline]
    fn is_free(&self, i: usize) -> bool {
        self.free_bits
            .get(i / 64)
            .is_some_and(|w| w >> (i % 64) & 1 == 1)
    }

    #[inline]
    fn set_free(&mut self, i: usize, free: bool) {
        let w = i / 64;
        if w >= self.free_bits.len() {
            if !free {
                return;
            }
            self.free_bits.resize(w + 1, 0);
        }
        if free {
            self.free_bits[w] |= 1 << (i % 64);
        } else {
            self.free_bits[w] &= !(1 << (i % 64));
        }
    }

    /// Indices in `from..to` whose free bit equals `free`, ascending.
    fn scan_bits(&self, from: usize, to: usize, free: bool) -> impl Iterator<Item = usize> + '_ {
        let words = from / 64..to.div_ceil(64);
        words.flat_map(move |w| {
            let word = self.free_bits.get(w).copied().unwrap_or(0);
            let mut bits = if free { word } else { !word };
            // Only the bits of `from..to` in this word.
            let lo = (w * 64).max(from) - w * 64;
            let hi = ((w + 1) * 64).min(to) - w * 64;
            bits &= (u64::MAX << lo) & (u64::MAX >> (64 - hi));
            std::iter::from_fn(move || {
                (bits != 0).then(|| {
                    let b = bits.trailing_zeros() as usize;
                    bits &= bits - 1;
                    w * 64 + b
                })
            })
        })
    }

    /// A free node from the free list. The list may hold stale entries
    /// (nodes cut off the arena's end, or reused since): those are dropped.
    fn take_free(&mut self) -> Option<u32> {
        while let Some(i) = self.free.pop() {
            if (i as usize) < self.nodes.len() && self.is_free(i as usize) {
                return Some(i);
            }
        }
        None
    }

    /// Cuts free nodes off the arena's end (after deletes).
    pub fn trim(&mut self) {
        while self.nodes.len() > 1 && self.is_free(self.nodes.len() - 1) {
            self.nodes.pop();
            let i = self.nodes.len();
            self.set_free(i, false);
        }
        // Stale entries (nodes cut off the end) are dropped from the list
        // once they outnumber the free nodes twice over: amortized, never
        // a pass per delete.
        let free_nodes = self.nodes.len() - 1 - self.length;
        if self.free.len() > 2 * free_nodes + 1024 {
            let len = self.nodes.len();
            self.free.retain(|&i| (i as usize) < len);
        }
        // A chunk of a past renumbering's cut goes back per delete.
        self.nodes.release_spare(1);
    }

    /// Whether the arena is worth renumbering: more than half of it is
    /// free nodes, and the set is small enough (`RENUMBER_MAX`) for one
    /// pass.
    pub fn sparse(&self) -> bool {
        let len = self.nodes.len();
        len > 64 && self.length * 2 < len && self.length <= RENUMBER_MAX
    }

    /// Gives a sparse arena's memory back: every live node at or past the
    /// set's final size moves into a free node below it (holes and live
    /// nodes found from the free bits, lowest hole first), the links are
    /// remapped in one pass over the remaining nodes, and the arena is cut
    /// (its free tail forgotten, not dropped node by node). O(members +
    /// arena / 64); run once half the arena is free, so a shrunk set keeps
    /// at most twice its nodes.
    pub fn renumber(&mut self) -> Renumbered {
        let len = self.nodes.len();
        let keep = self.length + 1;
        let mut moved_to = vec![NIL; len.saturating_sub(keep)];
        let movers: Vec<usize> = self.scan_bits(keep, len, false).collect();
        let holes: Vec<usize> = self.scan_bits(1, keep, true).collect();
        debug_assert_eq!(movers.len(), holes.len());
        for (&t, &y) in movers.iter().zip(&holes) {
            self.nodes.swap(t, y);
            moved_to[t - keep] = y as u32;
        }
        let r = Renumbered {
            keep: keep as u32,
            moved_to,
        };
        // Past `keep` only free nodes remain: their members are empty
        // inline strings, nothing to drop.
        self.nodes.truncate_forgetting(keep);
        self.free_bits = vec![0; keep.div_ceil(64)];
        self.free = Vec::new();
        // The side table of tall levels is rebuilt too, with only the live
        // nodes' (the header's first, as it comes first).
        let mut tall = Vec::with_capacity(self.tall.len() - self.free_tall.len());
        for i in 0..keep {
            let n = &mut self.nodes[i];
            n.backward = r.map(n.backward);
            for l in n.level.iter_mut() {
                l.forward = r.map(l.forward);
            }
            if n.tall != NIL {
                let mut levels = self.tall[n.tall as usize];
                for l in levels.iter_mut() {
                    l.forward = r.map(l.forward);
                }
                n.tall = tall.len() as u32;
                tall.push(levels);
            }
        }
        self.tall = tall;
        self.free_tall = Vec::new();
        self.tail = r.map(self.tail);
        r
    }

    #[inline]
    fn fwd(&self, x: u32, i: usize) -> u32 {
        self.lv(x, i).forward
    }

    /// Level i of node x (which must be at least i + 1 high).
    #[inline]
    fn lv(&self, x: u32, i: usize) -> Level {
        let n = &self.nodes[x as usize];
        if i < INLINE_LEVELS {
            n.level[i]
        } else {
            self.tall[n.tall as usize][i - INLINE_LEVELS]
        }
    }

    #[inline]
    fn lv_mut(&mut self, x: u32, i: usize) -> &mut Level {
        let n = &mut self.nodes[x as usize];
        if i < INLINE_LEVELS {
            &mut n.level[i]
        } else {
            &mut self.tall[n.tall as usize][i - INLINE_LEVELS]
        }
    }

    /// Inserts a member that is not present (zslInsert); returns its node,
    /// whose index stays the same until the member is deleted.
    pub fn insert(&mut self, score: f64, ele: &[u8]) -> u32 {
        let mut update = [HEADER; MAX_LEVEL];
        let mut rank = [0u32; MAX_LEVEL];
        let mut x = HEADER;
        for i in (0..self.level).rev() {
            rank[i] = if i == self.level - 1 { 0 } else { rank[i + 1] };
            loop {
                let l = self.lv(x, i);
                if l.forward == NIL || !before(&self.nodes[l.forward as usize], score, ele) {
                    break;
                }
                rank[i] += l.span;
                x = l.forward;
            }
            update[i] = x;
        }
        self.insert_at(&mut update, &mut rank, score, Sds::new(ele))
    }

    /// Links a new node after `update[i]` at every level; `rank[i]` is the
    /// 1-based rank of `update[i]` (the header's is 0).
    fn insert_at(
        &mut self,
        update: &mut [u32; MAX_LEVEL],
        rank: &mut [u32; MAX_LEVEL],
        score: f64,
        ele: Sds,
    ) -> u32 {
        let lvl = random_level();
        if lvl > self.level {
            for i in self.level..lvl {
                rank[i] = 0;
                update[i] = HEADER;
                self.lv_mut(HEADER, i).span = self.length as u32;
            }
            self.level = lvl;
        }
        let x = self.alloc(ele, score, lvl);
        for i in 0..lvl {
            let u = update[i];
            let ul = self.lv(u, i);
            *self.lv_mut(x, i) = Level {
                forward: ul.forward,
                span: ul.span - (rank[0] - rank[i]),
            };
            *self.lv_mut(u, i) = Level {
                forward: x,
                span: (rank[0] - rank[i]) + 1,
            };
        }
        for (i, &u) in update.iter().enumerate().take(self.level).skip(lvl) {
            self.lv_mut(u, i).span += 1;
        }
        self.nodes[x as usize].backward = if update[0] == HEADER { NIL } else { update[0] };
        let f0 = self.fwd(x, 0);
        if f0 != NIL {
            self.nodes[f0 as usize].backward = x;
        } else {
            self.tail = x;
        }
        self.length += 1;
        x
    }

    /// Moves a present member from score `old` to `new` (zslUpdateScore).
    /// The search for its node and the one for its new place run in
    /// lockstep, so the cache misses of the two walks overlap instead of
    /// adding up; a node whose neighbours stay the same keeps its place.
    pub fn update_score(&mut self, old: f64, ele: &[u8], new: f64) {
        let mut upd_old = [HEADER; MAX_LEVEL];
        let mut rank_old = [0u32; MAX_LEVEL];
        let mut upd_new = [HEADER; MAX_LEVEL];
        let mut rank_new = [0u32; MAX_LEVEL];
        let (mut xo, mut xn) = (HEADER, HEADER);
        let (mut ro, mut rn) = (0u32, 0u32);
        for i in (0..self.level).rev() {
            loop {
                let lo = self.lv(xo, i);
                let ln = self.lv(xn, i);
                let go = lo.forward != NIL && before(&self.nodes[lo.forward as usize], old, ele);
                let gn = ln.forward != NIL && before(&self.nodes[ln.forward as usize], new, ele);
                if go {
                    ro += lo.span;
                    xo = lo.forward;
                }
                if gn {
                    rn += ln.span;
                    xn = ln.forward;
                }
                if !go && !gn {
                    break;
                }
            }
            upd_old[i] = xo;
            rank_old[i] = ro;
            upd_new[i] = xn;
            rank_new[i] = rn;
        }
        let x = self.fwd(xo, 0);
        if x == NIL || self.nodes[x as usize].ele.as_bytes() != ele {
            debug_assert!(false, "update_score of an absent member");
            return;
        }
        // Same neighbours: just the score changes.
        if upd_new[0] == x || upd_new[0] == upd_old[0] {
            self.nodes[x as usize].score = new;
            return;
        }
        // Unlink the node, then fix the new place's predecessors and ranks
        // for its absence, and link it again (its member moves along).
        let x_rank = rank_old[0] + 1;
        self.delete_node_keep(x, &upd_old);
        for i in 0..self.level.max(1) {
            if upd_new[i] == x {
                upd_new[i] = upd_old[i];
                rank_new[i] = rank_old[i];
            } else if x_rank <= rank_new[i] {
                rank_new[i] -= 1;
            }
        }
        let ele = std::mem::take(&mut self.nodes[x as usize].ele);
        self.release(x);
        // The free list hands x straight back: a member keeps its node
        // (the member index relies on it).
        let moved = self.insert_at(&mut upd_new, &mut rank_new, new, ele);
        debug_assert_eq!(moved, x);
    }

    /// Unlinks node x given its predecessors at every level (zslDeleteNode).
    fn delete_node(&mut self, x: u32, update: &[u32; MAX_LEVEL]) {
        self.delete_node_keep(x, update);
        self.release(x);
    }

    /// Returns an unlinked node's slots to the free lists.
    fn release(&mut self, x: u32) {
        let n = &mut self.nodes[x as usize];
        n.ele = Sds::empty();
        // No member's score is NaN: it marks a free node for `node`.
        n.score = f64::NAN;
        if n.tall != NIL {
            self.free_tall.push(n.tall);
            n.tall = NIL;
        }
        self.free.push(x);
        self.set_free(x as usize, true);
    }

    /// Unlinks node x (its slots stay allocated).
    fn delete_node_keep(&mut self, x: u32, update: &[u32; MAX_LEVEL]) {
        for (i, &u) in update.iter().enumerate().take(self.level) {
            if self.lv(u, i).forward == x {
                let xl = self.lv(x, i);
                let ul = self.lv_mut(u, i);
                ul.span += xl.span;
                ul.span -= 1;
                ul.forward = xl.forward;
            } else {
                self.lv_mut(u, i).span -= 1;
            }
        }
        let f0 = self.fwd(x, 0);
        let back = self.nodes[x as usize].backward;
        if f0 != NIL {
            self.nodes[f0 as usize].backward = back;
        } else {
            self.tail = back;
        }
        while self.level > 1 && self.fwd(HEADER, self.level - 1) == NIL {
            self.level -= 1;
        }
        self.length -= 1;
    }

    /// Removes (score, ele); false when absent (zslDelete).
    pub fn delete(&mut self, score: f64, ele: &[u8]) -> bool {
        let mut update = [HEADER; MAX_LEVEL];
        let mut x = HEADER;
        for i in (0..self.level).rev() {
            loop {
                let f = self.fwd(x, i);
                if f == NIL || !before(&self.nodes[f as usize], score, ele) {
                    break;
                }
                x = f;
            }
            update[i] = x;
        }
        let x = self.fwd(x, 0);
        if x != NIL {
            let n = &self.nodes[x as usize];
            if n.score == score && n.ele.as_bytes() == ele {
                self.delete_node(x, &update);
                return true;
            }
        }
        false
    }

    /// Number of leading elements for which `pred(score, member)` holds;
    /// `pred` must be true on a prefix of the order (then false).
    pub fn count_while(&self, pred: impl Fn(f64, &[u8]) -> bool) -> usize {
        let mut x = HEADER;
        let mut rank = 0;
        for i in (0..self.level).rev() {
            loop {
                let f = self.fwd(x, i);
                if f == NIL {
                    break;
                }
                let n = &self.nodes[f as usize];
                if pred(n.score, n.ele.as_bytes()) {
                    rank += self.lv(x, i).span as usize;
                    x = f;
                } else {
                    break;
                }
            }
        }
        rank
    }

    /// 0-based rank of (score, ele), None when absent (zslGetRank).
    pub fn rank(&self, score: f64, ele: &[u8]) -> Option<usize> {
        let n = self.count_while(|s, e| cmp(s, e, score, ele) != Ordering::Greater);
        let at = self.node_at(n.checked_sub(1)?)?;
        let node = &self.nodes[at as usize];
        (node.ele.as_bytes() == ele).then_some(n - 1)
    }

    /// The node at a 0-based rank (zslGetElementByRank).
    fn node_at(&self, rank: usize) -> Option<u32> {
        if rank >= self.length {
            return None;
        }
        let want = rank + 1;
        let mut x = HEADER;
        let mut traversed = 0;
        for i in (0..self.level).rev() {
            loop {
                let Level { forward: f, span } = self.lv(x, i);
                let span = span as usize;
                if f != NIL && traversed + span <= want {
                    traversed += span;
                    x = f;
                } else {
                    break;
                }
            }
            if traversed == want {
                return Some(x);
            }
        }
        None
    }

    /// Iterates from a 0-based rank, forwards or backwards.
    pub fn iter_from(&self, rank: usize, rev: bool) -> Iter<'_> {
        Iter {
            sl: self,
            cur: self.node_at(rank).unwrap_or(NIL),
            rev,
        }
    }

    pub fn iter(&self) -> Iter<'_> {
        Iter {
            sl: self,
            cur: self.fwd(HEADER, 0),
            rev: false,
        }
    }

    /// Removes the elements of 0-based ranks start..end (exclusive), calling
    /// `removed` with each one's member and node (zslDeleteRangeByRank).
    pub fn delete_range_by_rank(
        &mut self,
        start: usize,
        end: usize,
        mut removed: impl FnMut(&[u8], u32),
    ) -> usize {
        let mut update = [HEADER; MAX_LEVEL];
        let mut x = HEADER;
        let mut traversed = 0;
        for i in (0..self.level).rev() {
            loop {
                let Level { forward: f, span } = self.lv(x, i);
                let span = span as usize;
                if f != NIL && traversed + span <= start {
                    traversed += span;
                    x = f;
                } else {
                    break;
                }
            }
            update[i] = x;
        }
        let mut n = 0;
        let mut x = self.fwd(x, 0);
        while x != NIL && traversed < end {
            let next = self.fwd(x, 0);
            removed(self.nodes[x as usize].ele.as_bytes(), x);
            self.delete_node(x, &update);
            n += 1;
            traversed += 1;
            x = next;
        }
        n
    }

    /// Member and score of node `n`; None for the header, a free node or
    /// an index past the arena.
    #[inline]
    pub fn node(&self, n: usize) -> Option<(&[u8], f64)> {
        let node = self.nodes.get(n).filter(|_| n != HEADER as usize)?;
        (!node.score.is_nan()).then(|| (node.ele.as_bytes(), node.score))
    }

    #[cfg(test)]
    pub fn debug_sizes(&self) -> String {
        format!(
            "nodes {}/{} free {} tall {}",
            self.nodes.len(),
            self.nodes.capacity(),
            self.free.len(),
            self.tall.capacity()
        )
    }

    pub fn mem_usage(&self) -> usize {
        self.nodes.capacity() * std::mem::size_of::<Node>()
            + self.tall.capacity() * std::mem::size_of::<[Level; TALL_LEVELS]>()
            + self.nodes.iter().map(|n| n.ele.heap_size()).sum::<usize>()
    }
}

pub struct Iter<'a> {
    sl: &'a SkipList,
    cur: u32,
    rev: bool,
}

impl<'a> Iterator for Iter<'a> {
    type Item = (&'a [u8], f64);
    fn next(&mut self) -> Option<(&'a [u8], f64)> {
        if self.cur == NIL {
            return None;
        }
        let n = &self.sl.nodes[self.cur as usize];
        self.cur = if self.rev {
            n.backward
        } else {
            n.level[0].forward
        };
        Some((n.ele.as_bytes(), n.score))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renumber_keeps_order_links_and_members() {
        let mut sl = SkipList::new();
        let mut nodes = std::collections::HashMap::new();
        for i in 0..10_000u32 {
            let ele = format!("m{i}").into_bytes();
            nodes.insert(ele.clone(), sl.insert(f64::from(i % 97), &ele));
        }
        // Keep every 61st member: the live ones are spread over the arena.
        for i in 0..10_000u32 {
            if i % 61 != 0 {
                assert!(sl.delete(f64::from(i % 97), format!("m{i}").as_bytes()));
            }
        }
        sl.trim();
        assert!(sl.sparse());
        let r = sl.renumber();
        assert_eq!(sl.nodes.len(), sl.len() + 1, "the arena is cut to the set");
        assert!(!sl.sparse());
        let mut want: Vec<(f64, Vec<u8>)> = (0..10_000u32)
            .filter(|i| i % 61 == 0)
            .map(|i| (f64::from(i % 97), format!("m{i}").into_bytes()))
            .collect();
        want.sort_by(|a, b| cmp(a.0, &a.1, b.0, &b.1));
        let got: Vec<(f64, Vec<u8>)> = sl.iter().map(|(e, s)| (s, e.to_vec())).collect();
        assert_eq!(got, want);
        let back: Vec<Vec<u8>> = sl
            .iter_from(want.len() - 1, true)
            .map(|x| x.0.to_vec())
            .collect();
        assert_eq!(back.len(), want.len());
        for (rank, (score, ele)) in want.iter().enumerate() {
            assert_eq!(sl.rank(*score, ele), Some(rank));
            let n = r.map(nodes[ele]);
            assert_eq!(sl.node(n as usize), Some((&ele[..], *score)));
        }
        // The freed nodes are gone, new ones go at the end and work.
        sl.insert(0.5, b"new");
        assert_eq!(
            sl.rank(0.5, b"new"),
            Some(want.iter().filter(|w| w.0 < 0.5).count())
        );
    }

    #[test]
    fn insert_rank_delete() {
        let mut sl = SkipList::new();
        let mut model: Vec<(f64, Vec<u8>)> = Vec::new();
        let mut seed = 7u64;
        for i in 0..2000u64 {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let score = (seed % 100) as f64;
            let ele = format!("m{}", seed % 500).into_bytes();
            if let Some(p) = model.iter().position(|(_, e)| *e == ele) {
                let (s, e) = model.remove(p);
                assert!(sl.delete(s, &e));
            } else if i % 3 != 0 {
                sl.insert(score, &ele);
                model.push((score, ele));
            }
            model.sort_by(|a, b| cmp(a.0, &a.1, b.0, &b.1));
            assert_eq!(sl.len(), model.len());
        }
        let got: Vec<(f64, Vec<u8>)> = sl.iter().map(|(e, s)| (s, e.to_vec())).collect();
        assert_eq!(got, model);
        for (r, (s, e)) in model.iter().enumerate() {
            assert_eq!(sl.rank(*s, e), Some(r));
            assert_eq!(sl.iter_from(r, false).next().map(|x| x.0), Some(&e[..]));
        }
        let back: Vec<Vec<u8>> = sl
            .iter_from(model.len() - 1, true)
            .map(|x| x.0.to_vec())
            .collect();
        assert_eq!(back.len(), model.len());
        let n = sl.delete_range_by_rank(3, 10, |_, _| {});
        assert_eq!(n, 7);
        model.drain(3..10);
        let got: Vec<(f64, Vec<u8>)> = sl.iter().map(|(e, s)| (s, e.to_vec())).collect();
        assert_eq!(got, model);
        for (r, (s, e)) in model.iter().enumerate() {
            assert_eq!(sl.rank(*s, e), Some(r));
        }
    }

    #[test]
    fn tall_nodes_reused() {
        // Enough members for nodes above the inline levels (1 in 64), and
        // deletes + re-inserts that reuse freed nodes and tall slots.
        let mut sl = SkipList::new();
        for i in 0..20_000u32 {
            sl.insert((i % 977) as f64, format!("e{i}").as_bytes());
        }
        assert!(sl.tall.len() > 100, "tall nodes: {}", sl.tall.len());
        for i in (0..20_000u32).step_by(2) {
            assert!(sl.delete((i % 977) as f64, format!("e{i}").as_bytes()));
        }
        for i in 0..5_000u32 {
            sl.insert(-(i as f64), format!("n{i}").as_bytes());
        }
        assert_eq!(sl.len(), 15_000);
        let all: Vec<(f64, Vec<u8>)> = sl.iter().map(|(e, s)| (s, e.to_vec())).collect();
        for w in all.windows(2) {
            assert_eq!(cmp(w[0].0, &w[0].1, w[1].0, &w[1].1), Ordering::Less);
        }
        for (r, (s, e)) in all.iter().enumerate().step_by(97) {
            assert_eq!(sl.rank(*s, e), Some(r));
        }
        assert!(sl.nodes.len() <= 20_001, "freed nodes are reused");
    }

    #[test]
    fn update_score_matches_delete_insert() {
        let mut a = SkipList::new();
        let mut b = SkipList::new();
        let mut scores = vec![0f64; 3000];
        let mut seed = 99u64;
        let mut next = || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for (i, sc) in scores.iter_mut().enumerate() {
            *sc = (next() % 500) as f64;
            let e = format!("m{i}");
            a.insert(*sc, e.as_bytes());
            b.insert(*sc, e.as_bytes());
        }
        for round in 0..20_000 {
            let i = (next() % 3000) as usize;
            let e = format!("m{i}");
            // Small moves (often in place), big moves, equal scores.
            let new = match round % 3 {
                0 => scores[i] + 0.5,
                1 => (next() % 500) as f64,
                _ => scores[i],
            };
            a.update_score(scores[i], e.as_bytes(), new);
            assert!(b.delete(scores[i], e.as_bytes()));
            b.insert(new, e.as_bytes());
            scores[i] = new;
            if round % 1000 == 0 {
                let ga: Vec<(Vec<u8>, f64)> = a.iter().map(|(e, s)| (e.to_vec(), s)).collect();
                let gb: Vec<(Vec<u8>, f64)> = b.iter().map(|(e, s)| (e.to_vec(), s)).collect();
                assert_eq!(ga, gb);
                for (r, (e, s)) in ga.iter().enumerate().step_by(37) {
                    assert_eq!(a.rank(*s, e), Some(r));
                }
                let back: Vec<Vec<u8>> = a
                    .iter_from(a.len() - 1, true)
                    .map(|x| x.0.to_vec())
                    .collect();
                let fwd: Vec<Vec<u8>> = ga.iter().rev().map(|x| x.0.clone()).collect();
                assert_eq!(back, fwd, "backward links");
            }
        }
        assert_eq!(a.len(), 3000);
        assert!(a.nodes.len() <= 3001);
    }
}
