//! The global replication buffer (Redis 7.0's `repl_buffer_blocks` and
//! `repl_backlog`): the replication stream is stored ONCE, in a list of
//! blocks addressed by the global replication offset. The backlog is the
//! history from the first block to the end; every replica keeps only a
//! position (`Pos`) in the same blocks, so a second replica costs a
//! position, not a copy of the stream. Pure: no I/O, no clock.
//!
//! Trimming (Redis's incrementalTrimReplicationBacklog): once the history
//! is longer than `repl-backlog-size`, whole blocks are dropped from the
//! front, but never a block some replica still has to send: the backlog
//! outgrows its configured size while a slow or syncing replica holds old
//! blocks, and a replica that reconnects can continue from any of them.

use std::collections::VecDeque;

/// Smallest block (Redis's PROTO_REPLY_CHUNK_BYTES): small writes share it.
pub const MIN_BLOCK: usize = 16 * 1024;

/// Bookkeeping counted per block on top of its bytes (Redis counts its
/// block header and list node the same way).
pub const BLOCK_OVERHEAD: usize = 48;

/// Blocks trimmed per call when data is fed; the loop trims ten times as
/// many before sleeping.
pub const TRIM_BLOCKS_PER_CALL: usize = 10;

/// Smallest backlog (Redis's CONFIG_REPL_BACKLOG_MIN_SIZE).
pub const MIN_SIZE: usize = 16 * 1024;

struct Block {
    /// Replication offset of the block's first byte.
    repl_offset: i64,
    /// The bytes; the capacity is the block's size, fixed at creation.
    buf: Vec<u8>,
}

/// A reader's position: a block (by id) and a byte index within it. A
/// position at the end of a full block means "the next block".
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pos {
    pub id: u64,
    pub at: usize,
}

pub struct Backlog {
    blocks: VecDeque<Block>,
    /// Id of `blocks[0]`; ids grow by one per block and are never reused.
    first_id: u64,
    /// Bytes of history: every byte of every block (the backlog always
    /// references the first block from its start).
    histlen: u64,
    /// Replication offset of the next byte to be fed.
    next_offset: i64,
    /// Bytes allocated for blocks, with their overhead.
    mem: usize,
    /// repl-backlog-size: the history kept when no replica needs more.
    limit: usize,
}

impl Backlog {
    /// An empty backlog whose first byte will have offset `next_offset`.
    pub fn new(limit: usize, next_offset: i64) -> Backlog {
        Backlog {
            blocks: VecDeque::new(),
            first_id: 0,
            histlen: 0,
            next_offset,
            mem: 0,
            limit: limit.max(MIN_SIZE),
        }
    }

    /// repl-backlog-size as configured (INFO repl_backlog_size).
    pub fn limit(&self) -> usize {
        self.limit
    }

    /// Bytes of history (may exceed the limit while replicas hold blocks).
    pub fn histlen(&self) -> u64 {
        self.histlen
    }

    /// Replication offset of the first byte of history.
    pub fn offset(&self) -> i64 {
        self.next_offset - self.histlen as i64
    }

    /// Memory of the blocks (INFO mem_total_replication_buffers), with
    /// the block deque's spare slots: it doubles as blocks pile up behind
    /// a stalled replica, and that memory must not count as data for
    /// maxmemory (it made a 10 MB backlog of a stopped replica evict keys).
    pub fn memory(&self) -> usize {
        self.mem + (self.blocks.capacity() - self.blocks.len()) * std::mem::size_of::<Block>()
    }

    pub fn block_count(&self) -> usize {
        self.blocks.len()
    }

    fn block(&self, id: u64) -> Option<&Block> {
        let i = id.checked_sub(self.first_id)?;
        self.blocks.get(usize::try_from(i).ok()?)
    }

    /// Appends stream bytes. Returns where they start (a replica that
    /// starts receiving the stream now references it) and whether a new
    /// block was created (the time to check output limits and trim).
    pub fn feed(&mut self, mut data: &[u8]) -> (Pos, bool) {
        let mut start = None;
        let mut added = false;
        let tail_id = (self.first_id + self.blocks.len() as u64).saturating_sub(1);
        if let Some(tail) = self.blocks.back_mut() {
            let room = tail.buf.capacity() - tail.buf.len();
            if room > 0 && !data.is_empty() {
                let n = room.min(data.len());
                start = Some(Pos {
                    id: tail_id,
                    at: tail.buf.len(),
                });
                tail.buf.extend_from_slice(&data[..n]);
                data = &data[n..];
                self.histlen += n as u64;
                self.next_offset += n as i64;
            }
        }
        while !data.is_empty() {
            // At least MIN_BLOCK so small writes share a block, at most
            // limit/16 so no huge block outlives the little of it still
            // needed (Redis 7.0.15's feedReplicationBuffer).
            let cap = (self.limit / 16).max(MIN_BLOCK);
            let size = data.len().max(MIN_BLOCK).min(cap);
            let n = size.min(data.len());
            let mut buf = Vec::with_capacity(size);
            buf.extend_from_slice(&data[..n]);
            self.mem += buf.capacity() + BLOCK_OVERHEAD;
            let id = self.first_id + self.blocks.len() as u64;
            self.blocks.push_back(Block {
                repl_offset: self.next_offset,
                buf,
            });
            start.get_or_insert(Pos { id, at: 0 });
            added = true;
            data = &data[n..];
            self.histlen += n as u64;
            self.next_offset += n as i64;
        }
        let start = start.unwrap_or_else(|| self.end_pos());
        (start, added)
    }

    /// The position right after the last byte fed.
    pub fn end_pos(&self) -> Pos {
        match self.blocks.back() {
            Some(b) => Pos {
                id: self.first_id + self.blocks.len() as u64 - 1,
                at: b.buf.len(),
            },
            None => Pos {
                id: self.first_id,
                at: 0,
            },
        }
    }

    /// Whether the history from offset `from` to the end is here (a
    /// partial resync from `from` is possible).
    pub fn covers(&self, from: i64) -> bool {
        from >= self.offset() && from <= self.next_offset
    }

    /// The position of replication offset `from` (a PSYNC continuing
    /// there), if the history covers it.
    pub fn pos_at(&self, from: i64) -> Option<Pos> {
        if !self.covers(from) {
            return None;
        }
        if from == self.next_offset {
            return Some(self.end_pos());
        }
        // The last block starting at or before `from`.
        let i = self.blocks.partition_point(|b| b.repl_offset <= from);
        let i = i.checked_sub(1)?;
        let b = &self.blocks[i];
        Some(Pos {
            id: self.first_id + i as u64,
            at: (from - b.repl_offset) as usize,
        })
    }

    /// Replication offset of a position.
    pub fn offset_of(&self, p: Pos) -> i64 {
        match self.block(p.id) {
            Some(b) => b.repl_offset + p.at as i64,
            None if p.id >= self.first_id + self.blocks.len() as u64 => self.next_offset,
            None => self.offset(),
        }
    }

    /// Bytes from `p` to the end of the stream.
    pub fn pending_from(&self, p: Pos) -> u64 {
        (self.next_offset - self.offset_of(p)).max(0) as u64
    }

    /// What a replica at `p` costs, as Redis counts a replica's output
    /// buffer (getClientOutputBufferMemoryUsage): every block from its
    /// block to the last, whole, with their overhead.
    pub fn mem_from(&self, p: Pos) -> u64 {
        let Some(first) = self.block(p.id) else {
            return 0;
        };
        let Some(last) = self.blocks.back() else {
            return 0;
        };
        let last_id = self.first_id + self.blocks.len() as u64 - 1;
        let bytes = last.repl_offset + last.buf.capacity() as i64 - first.repl_offset;
        bytes.max(0) as u64 + (last_id - p.id + 1) * BLOCK_OVERHEAD as u64
    }

    /// Up to `max` slices of stream from `p` on, for one writev.
    pub fn chunks<'a>(&'a self, p: Pos, max: usize, out: &mut Vec<&'a [u8]>) {
        out.clear();
        let Some(start) = p.id.checked_sub(self.first_id) else {
            return;
        };
        let mut at = p.at;
        for b in self.blocks.iter().skip(start as usize) {
            if out.len() >= max {
                break;
            }
            if at < b.buf.len() {
                out.push(&b.buf[at..]);
            }
            at = 0;
        }
    }

    /// The position `n` bytes after `p`.
    pub fn advance(&self, mut p: Pos, mut n: usize) -> Pos {
        while let Some(b) = self.block(p.id) {
            let left = b.buf.len() - p.at.min(b.buf.len());
            if n < left || (n == left && b.buf.len() < b.buf.capacity()) {
                p.at += n;
                return p;
            }
            // This block is done (or we end exactly at its full end).
            n -= left;
            if self.block(p.id + 1).is_none() {
                p.at = b.buf.len();
                return p;
            }
            p = Pos {
                id: p.id + 1,
                at: 0,
            };
        }
        p
    }

    /// Drops blocks from the front while the history exceeds the limit,
    /// the first block is referenced by no replica (`held` = the oldest
    /// block id any replica still references) and dropping it leaves more
    /// than the limit. At most `max_blocks`; at least one block stays.
    pub fn trim(&mut self, max_blocks: usize, held: Option<u64>) -> usize {
        let mut n = 0;
        while n < max_blocks
            && self.histlen > self.limit as u64
            && self.blocks.len() > 1
            && held.is_none_or(|h| h > self.first_id)
        {
            let size = self.blocks[0].buf.len() as u64;
            if self.histlen - size <= self.limit as u64 {
                break;
            }
            if let Some(b) = self.blocks.pop_front() {
                self.mem -= b.buf.capacity() + BLOCK_OVERHEAD;
            }
            self.first_id += 1;
            self.histlen -= size;
            n += 1;
        }
        n
    }

    /// Changes repl-backlog-size; the history shrinks as trimming allows.
    pub fn set_limit(&mut self, limit: usize) {
        self.limit = limit.max(MIN_SIZE);
    }

    /// Copies the history from offset `from` to the end (tests, debugging).
    pub fn copy_from(&self, from: i64, out: &mut Vec<u8>) -> bool {
        let Some(mut p) = self.pos_at(from) else {
            return false;
        };
        let mut v = Vec::new();
        loop {
            self.chunks(p, 64, &mut v);
            if v.is_empty() {
                return true;
            }
            let n: usize = v.iter().map(|s| s.len()).sum();
            for s in &v {
                out.extend_from_slice(s);
            }
            p = self.advance(p, n);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data(n: usize, seed: u32) -> Vec<u8> {
        (0..n as u32).map(|i| ((i + seed) % 251) as u8).collect()
    }

    #[test]
    fn addressed_by_offset_across_blocks() {
        let mut b = Backlog::new(16 * 1024, 1);
        let d = data(40_000, 0);
        for c in d.chunks(1000) {
            b.feed(c);
        }
        let end = 1 + 40_000i64;
        assert!(b.block_count() >= 3);
        let mut out = Vec::new();
        assert!(b.copy_from(end - 100, &mut out));
        assert_eq!(&out[..], &d[d.len() - 100..]);
        out.clear();
        assert!(b.copy_from(1, &mut out));
        assert_eq!(out, d);
        assert_eq!(b.pending_from(b.end_pos()), 0);
        assert_eq!(b.offset_of(b.end_pos()), end);
    }

    #[test]
    fn trim_keeps_the_limit_and_what_replicas_hold() {
        let mut b = Backlog::new(16 * 1024, 1);
        let held = b.feed(&data(100, 1)).0;
        for _ in 0..100 {
            b.feed(&data(1000, 2));
        }
        // A replica at the start holds every block.
        assert_eq!(b.trim(1000, Some(held.id)), 0);
        assert!(b.histlen() > 100_000);
        assert!(b.covers(1));
        // Released: trimmed down to just over the limit, a few at a time.
        let before = b.memory();
        assert_eq!(b.trim(2, None), 2);
        assert!(b.memory() < before);
        b.trim(1000, None);
        assert!(b.histlen() > 16 * 1024 && b.histlen() <= 2 * 16 * 1024);
        assert!(!b.covers(1));
        let mut out = Vec::new();
        assert!(b.copy_from(b.offset(), &mut out));
        assert_eq!(out.len() as u64, b.histlen());
    }

    #[test]
    fn advance_and_chunks_walk_the_stream_once() {
        let mut b = Backlog::new(1 << 20, 1);
        let d = data(200_000, 3);
        let p0 = b.feed(&d[..10]).0;
        b.feed(&d[10..]);
        let mut p = p0;
        let mut got = Vec::new();
        let mut v = Vec::new();
        loop {
            b.chunks(p, 2, &mut v);
            if v.is_empty() {
                break;
            }
            // Write a little less than offered, as a socket would.
            let n = v[0].len().min(7000);
            got.extend_from_slice(&v[0][..n]);
            p = b.advance(p, n);
        }
        assert_eq!(got, d);
        assert_eq!(b.pending_from(p), 0);
        // Blocks are capped at limit/16.
        assert!(b.mem_from(p0) as usize >= d.len());
        // More data continues from the same position.
        b.feed(b"xyz");
        assert_eq!(b.pending_from(p), 3);
    }

    #[test]
    fn big_writes_are_split_in_blocks_of_limit_over_16() {
        let mut b = Backlog::new(16 * 1024, 1);
        let (_, added) = b.feed(&data(256 * 1024, 0));
        assert!(added);
        assert_eq!(b.block_count(), 16);
        let p = b.end_pos();
        assert!(b.mem_from(p) < 20 * 1024);
    }
}
