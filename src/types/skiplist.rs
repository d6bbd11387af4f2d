//! zskiplist: the ordered half of a "skiplist"-encoded sorted set, as
//! Redis's t_zset.c. Nodes live in an arena (`Vec<Node>`) addressed by
//! index instead of pointers; every level keeps its span so that ranks are
//! O(log n). Elements are ordered by (score, member bytes).

use crate::sds::Sds;
use std::cell::Cell;
use std::cmp::Ordering;

const NIL: u32 = u32::MAX;
/// ZSKIPLIST_MAXLEVEL and ZSKIPLIST_P.
const MAX_LEVEL: usize = 32;
const HEADER: u32 = 0;

#[derive(Clone, Copy)]
struct Level {
    forward: u32,
    span: usize,
}

#[derive(Clone)]
struct Node {
    ele: Sds,
    score: f64,
    backward: u32,
    level: Vec<Level>,
}

#[derive(Clone)]
pub struct SkipList {
    nodes: Vec<Node>,
    free: Vec<u32>,
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

impl Default for SkipList {
    fn default() -> Self {
        SkipList::new()
    }
}

impl SkipList {
    pub fn new() -> SkipList {
        let header = Node {
            ele: Sds::new(b""),
            score: 0.0,
            backward: NIL,
            level: vec![
                Level {
                    forward: NIL,
                    span: 0
                };
                MAX_LEVEL
            ],
        };
        SkipList {
            nodes: vec![header],
            free: Vec::new(),
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
        let node = Node {
            ele,
            score,
            backward: NIL,
            level: vec![
                Level {
                    forward: NIL,
                    span: 0
                };
                lvl
            ],
        };
        match self.free.pop() {
            Some(i) => {
                self.nodes[i as usize] = node;
                i
            }
            None => {
                self.nodes.push(node);
                (self.nodes.len() - 1) as u32
            }
        }
    }

    #[inline]
    fn fwd(&self, x: u32, i: usize) -> u32 {
        self.nodes[x as usize].level[i].forward
    }

    /// Inserts a member that is not present (zslInsert).
    pub fn insert(&mut self, score: f64, ele: &[u8]) {
        let mut update = [HEADER; MAX_LEVEL];
        let mut rank = [0usize; MAX_LEVEL];
        let mut x = HEADER;
        for i in (0..self.level).rev() {
            rank[i] = if i == self.level - 1 { 0 } else { rank[i + 1] };
            loop {
                let f = self.fwd(x, i);
                if f == NIL {
                    break;
                }
                let n = &self.nodes[f as usize];
                if cmp(n.score, n.ele.as_bytes(), score, ele) == Ordering::Less {
                    rank[i] += self.nodes[x as usize].level[i].span;
                    x = f;
                } else {
                    break;
                }
            }
            update[i] = x;
        }
        let lvl = random_level();
        if lvl > self.level {
            for i in self.level..lvl {
                rank[i] = 0;
                update[i] = HEADER;
                self.nodes[HEADER as usize].level[i].span = self.length;
            }
            self.level = lvl;
        }
        let x = self.alloc(Sds::new(ele), score, lvl);
        for i in 0..lvl {
            let u = update[i] as usize;
            let ul = self.nodes[u].level[i];
            self.nodes[x as usize].level[i] = Level {
                forward: ul.forward,
                span: ul.span - (rank[0] - rank[i]),
            };
            self.nodes[u].level[i] = Level {
                forward: x,
                span: (rank[0] - rank[i]) + 1,
            };
        }
        for (i, u) in update.iter().enumerate().take(self.level).skip(lvl) {
            self.nodes[*u as usize].level[i].span += 1;
        }
        self.nodes[x as usize].backward = if update[0] == HEADER { NIL } else { update[0] };
        let f0 = self.fwd(x, 0);
        if f0 != NIL {
            self.nodes[f0 as usize].backward = x;
        } else {
            self.tail = x;
        }
        self.length += 1;
    }

    /// Unlinks node x given its predecessors at every level (zslDeleteNode).
    fn delete_node(&mut self, x: u32, update: &[u32; MAX_LEVEL]) {
        for (i, &u) in update.iter().enumerate().take(self.level) {
            let u = u as usize;
            if self.nodes[u].level[i].forward == x {
                let xl = self.nodes[x as usize].level[i];
                self.nodes[u].level[i].span += xl.span;
                self.nodes[u].level[i].span -= 1;
                self.nodes[u].level[i].forward = xl.forward;
            } else {
                self.nodes[u].level[i].span -= 1;
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
        let n = &mut self.nodes[x as usize];
        n.ele = Sds::new(b"");
        n.level = Vec::new();
        self.free.push(x);
    }

    /// Removes (score, ele); false when absent (zslDelete).
    pub fn delete(&mut self, score: f64, ele: &[u8]) -> bool {
        let mut update = [HEADER; MAX_LEVEL];
        let mut x = HEADER;
        for i in (0..self.level).rev() {
            loop {
                let f = self.fwd(x, i);
                if f == NIL {
                    break;
                }
                let n = &self.nodes[f as usize];
                if cmp(n.score, n.ele.as_bytes(), score, ele) == Ordering::Less {
                    x = f;
                } else {
                    break;
                }
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
                    rank += self.nodes[x as usize].level[i].span;
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
                let f = self.fwd(x, i);
                let span = self.nodes[x as usize].level[i].span;
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
    /// `removed` for each (zslDeleteRangeByRank).
    pub fn delete_range_by_rank(
        &mut self,
        start: usize,
        end: usize,
        mut removed: impl FnMut(&[u8]),
    ) -> usize {
        let mut update = [HEADER; MAX_LEVEL];
        let mut x = HEADER;
        let mut traversed = 0;
        for i in (0..self.level).rev() {
            loop {
                let f = self.fwd(x, i);
                let span = self.nodes[x as usize].level[i].span;
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
            removed(self.nodes[x as usize].ele.as_bytes());
            self.delete_node(x, &update);
            n += 1;
            traversed += 1;
            x = next;
        }
        n
    }

    pub fn mem_usage(&self) -> usize {
        self.nodes
            .iter()
            .map(|n| 40 + n.ele.heap_size() + n.level.len() * 16)
            .sum()
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
        let n = sl.delete_range_by_rank(3, 10, |_| {});
        assert_eq!(n, 7);
        model.drain(3..10);
        let got: Vec<(f64, Vec<u8>)> = sl.iter().map(|(e, s)| (s, e.to_vec())).collect();
        assert_eq!(got, model);
        for (r, (s, e)) in model.iter().enumerate() {
            assert_eq!(sl.rank(*s, e), Some(r));
        }
    }
}
