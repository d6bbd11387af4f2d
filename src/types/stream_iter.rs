//! Reading a stream node's listpack in Redis's layout (see `stream`): the
//! master entry, the items with their delta-encoded IDs and flags, a
//! cursor over one node in either direction, and the iterator over a
//! stream's nodes between two IDs (Redis's streamIterator).

use super::stream::{Node, StreamId, FLAG_DELETED, FLAG_SAMEFIELDS};
use crate::encoding::listpack::{Listpack, LpValue};
use std::collections::btree_map::Range;

/// An integer element (counters, flags, deltas are always integers).
#[inline]
pub(super) fn int_at(lp: &Listpack, off: usize) -> i64 {
    lp.value_at(off).and_then(|v| v.as_i64()).unwrap_or(0)
}

/// Skips `n` elements from `off`; None when the listpack ends first.
#[inline]
pub(super) fn skip(lp: &Listpack, mut off: usize, n: usize) -> Option<usize> {
    for _ in 0..n {
        off = lp.next_offset(off)?;
    }
    Some(off)
}

/// The master entry of a node.
#[derive(Clone, Copy, Debug)]
pub struct Master {
    pub count: i64,
    pub deleted: i64,
    pub nfields: usize,
    /// Offset of the first master field (or of the terminator).
    pub fields_off: usize,
    /// Offset of the first item's flags, None when the node has none.
    pub first_entry: Option<usize>,
}

pub fn master(lp: &Listpack) -> Master {
    let count_off = lp.first_offset().unwrap_or(0);
    let del_off = lp.next_offset(count_off).unwrap_or(0);
    let nf_off = lp.next_offset(del_off).unwrap_or(0);
    let nfields = int_at(lp, nf_off).max(0) as usize;
    let fields_off = lp.next_offset(nf_off).unwrap_or(0);
    let term = skip(lp, fields_off, nfields);
    Master {
        count: int_at(lp, count_off),
        deleted: int_at(lp, del_off),
        nfields,
        fields_off,
        first_entry: term.and_then(|t| lp.next_offset(t)),
    }
}

/// One item of a node, located but not yet decoded field by field.
#[derive(Clone, Copy, Debug)]
pub struct Entry<'a> {
    pub id: StreamId,
    pub flags: i64,
    pub numfields: usize,
    pub flags_off: usize,
    lp: &'a Listpack,
    master_fields_off: usize,
    /// First field (or first value when SAMEFIELDS).
    data_off: usize,
}

impl<'a> Entry<'a> {
    pub fn deleted(&self) -> bool {
        self.flags & FLAG_DELETED != 0
    }

    /// The (field, value) pairs, in order.
    pub fn fields(&self) -> Fields<'a> {
        let same = self.flags & FLAG_SAMEFIELDS != 0;
        Fields {
            lp: self.lp,
            master: same.then_some(self.master_fields_off),
            at: Some(self.data_off),
            left: self.numfields,
        }
    }

    /// Offset of the entry's lp-count element.
    pub(super) fn lp_count_off(&self) -> Option<usize> {
        let n = if self.flags & FLAG_SAMEFIELDS != 0 {
            self.numfields
        } else {
            self.numfields * 2
        };
        skip(self.lp, self.data_off, n)
    }
}

pub struct Fields<'a> {
    lp: &'a Listpack,
    master: Option<usize>,
    at: Option<usize>,
    left: usize,
}

impl<'a> Iterator for Fields<'a> {
    type Item = (LpValue<'a>, LpValue<'a>);
    fn next(&mut self) -> Option<Self::Item> {
        if self.left == 0 {
            return None;
        }
        self.left -= 1;
        let field = match self.master.as_mut() {
            Some(m) => {
                let f = self.lp.value_at(*m)?;
                *m = self.lp.next_offset(*m)?;
                f
            }
            None => {
                let at = self.at?;
                let f = self.lp.value_at(at)?;
                self.at = self.lp.next_offset(at);
                f
            }
        };
        let at = self.at?;
        let v = self.lp.value_at(at)?;
        self.at = self.lp.next_offset(at);
        Some((field, v))
    }
}

/// Decodes the item whose flags are at `off`.
pub(super) fn read_entry<'a>(
    lp: &'a Listpack,
    off: usize,
    key: StreamId,
    m: &Master,
) -> Option<Entry<'a>> {
    let flags = int_at(lp, off);
    let o = lp.next_offset(off)?;
    let ms = int_at(lp, o) as u64;
    let o = lp.next_offset(o)?;
    let seq = int_at(lp, o) as u64;
    let mut o = lp.next_offset(o)?;
    let numfields = if flags & FLAG_SAMEFIELDS != 0 {
        m.nfields
    } else {
        let n = int_at(lp, o).max(0) as usize;
        o = lp.next_offset(o)?;
        n
    };
    Some(Entry {
        id: StreamId::new(key.ms.wrapping_add(ms), key.seq.wrapping_add(seq)),
        flags,
        numfields,
        flags_off: off,
        lp,
        master_fields_off: m.fields_off,
        data_off: o,
    })
}

/// Iterates a node's items forward from the first.
pub(super) struct NodeCursor<'a> {
    lp: &'a Listpack,
    key: StreamId,
    m: Master,
    /// Forward: the next item's flags; reverse: the next item's lp-count.
    pos: Option<usize>,
}

impl<'a> NodeCursor<'a> {
    pub(super) fn new(key: StreamId, node: &'a Node, rev: bool) -> NodeCursor<'a> {
        let m = master(&node.lp);
        let pos = if rev {
            node.lp.last_offset()
        } else {
            m.first_entry
        };
        NodeCursor {
            lp: &node.lp,
            key,
            m,
            pos,
        }
    }

    pub(super) fn next_fwd(&mut self) -> Option<Entry<'a>> {
        let off = self.pos?;
        let e = read_entry(self.lp, off, self.key, &self.m)?;
        self.pos = e.lp_count_off().and_then(|c| self.lp.next_offset(c));
        Some(e)
    }

    pub(super) fn next_rev(&mut self) -> Option<Entry<'a>> {
        let cnt_off = self.pos?;
        let n = int_at(self.lp, cnt_off);
        if n <= 0 {
            // The master entry's terminator: no more items.
            self.pos = None;
            return None;
        }
        let mut off = cnt_off;
        for _ in 0..n {
            off = self.lp.prev_offset(off)?;
        }
        let e = read_entry(self.lp, off, self.key, &self.m)?;
        self.pos = self.lp.prev_offset(off);
        Some(e)
    }
}

/// Items between two IDs (inclusive), forward or reverse; tombstones are
/// skipped unless asked for (streamIterator).
pub struct Iter<'a> {
    nodes: Range<'a, StreamId, Node>,
    rev: bool,
    start: StreamId,
    end: StreamId,
    skip_tombstones: bool,
    cur: Option<NodeCursor<'a>>,
    done: bool,
}

impl<'a> Iter<'a> {
    pub(super) fn new(
        nodes: Range<'a, StreamId, Node>,
        rev: bool,
        start: StreamId,
        end: StreamId,
        skip_tombstones: bool,
    ) -> Iter<'a> {
        Iter {
            nodes,
            rev,
            start,
            end,
            skip_tombstones,
            cur: None,
            done: start > end,
        }
    }
}

impl<'a> Iterator for Iter<'a> {
    type Item = Entry<'a>;
    fn next(&mut self) -> Option<Entry<'a>> {
        if self.done {
            return None;
        }
        loop {
            if self.cur.is_none() {
                let next = if self.rev {
                    self.nodes.next_back()
                } else {
                    self.nodes.next()
                };
                let Some((key, node)) = next else {
                    self.done = true;
                    return None;
                };
                self.cur = Some(NodeCursor::new(*key, node, self.rev));
            }
            let cur = self.cur.as_mut()?;
            let e = if self.rev {
                cur.next_rev()
            } else {
                cur.next_fwd()
            };
            let Some(e) = e else {
                self.cur = None;
                continue;
            };
            if self.skip_tombstones && e.deleted() {
                continue;
            }
            if self.rev {
                if e.id > self.end {
                    continue;
                }
                if e.id < self.start {
                    self.done = true;
                    return None;
                }
            } else {
                if e.id < self.start {
                    continue;
                }
                if e.id > self.end {
                    self.done = true;
                    return None;
                }
            }
            return Some(e);
        }
    }
}
