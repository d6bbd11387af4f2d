//! `ChunkedVec`: a growable array that never moves its elements in bulk.
//!
//! A `Vec` doubles by reallocating: past the allocator's mmap threshold
//! that is a copy of the whole buffer in the one call that pushes, e.g. a
//! ZADD that grows a 1,000,000-member sorted set's node arena from 64 to
//! 128 MB stalled the loop for 67 ms. Here the elements live in chunks of
//! `CHUNK`: only the last chunk grows (by doubling, so a small array costs
//! what a `Vec` costs), and a full chunk is never touched again by growth.
//! Indexing costs one more load, from a chunk table small enough to stay
//! in cache.

use std::ops::{Index, IndexMut};

/// Elements per chunk (a power of two).
const CHUNK_BITS: u32 = 12;
const CHUNK: usize = 1 << CHUNK_BITS;
const MASK: usize = CHUNK - 1;

#[derive(Clone)]
pub struct ChunkedVec<T> {
    /// Every chunk but the last holds exactly `CHUNK` elements.
    chunks: Vec<Vec<T>>,
    len: usize,
    /// Emptied chunks cut off by `truncate_forgetting`, given back to the
    /// allocator a few at a time (`release_spare`): freeing a cut of
    /// hundreds of megabytes at once stalled the command that made it.
    spare: Vec<Vec<T>>,
}

impl<T> Default for ChunkedVec<T> {
    fn default() -> Self {
        ChunkedVec::new()
    }
}

impl<T> ChunkedVec<T> {
    pub const fn new() -> Self {
        ChunkedVec {
            chunks: Vec::new(),
            len: 0,
            spare: Vec::new(),
        }
    }

    #[inline]
    pub fn len(&self) -> usize {
        self.len
    }

    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Elements the chunks can hold without allocating.
    pub fn capacity(&self) -> usize {
        self.chunks
            .iter()
            .chain(&self.spare)
            .map(Vec::capacity)
            .sum()
    }

    /// Frees up to `n` of the chunks a cut left (see `spare`).
    pub fn release_spare(&mut self, n: usize) {
        if self.spare.is_empty() {
            return;
        }
        self.spare.truncate(self.spare.len().saturating_sub(n));
        if self.spare.is_empty() {
            self.spare = Vec::new();
        }
    }

    pub fn push(&mut self, v: T) {
        match self.chunks.last_mut() {
            Some(c) if c.len() < CHUNK => {
                if c.len() == c.capacity() {
                    // Doubling, but never past a chunk.
                    let want = (c.capacity() * 2).clamp(4, CHUNK);
                    c.reserve_exact(want - c.len());
                }
                c.push(v)
            }
            _ => {
                // A new chunk: whole when it follows a full one, else
                // (the first) grown like a Vec.
                let mut c = if self.chunks.is_empty() {
                    Vec::new()
                } else {
                    // A chunk a cut left, before a new allocation.
                    self.spare
                        .pop()
                        .filter(|c| c.capacity() >= CHUNK)
                        .unwrap_or_else(|| Vec::with_capacity(CHUNK))
                };
                c.push(v);
                self.chunks.push(c);
            }
        }
        self.len += 1;
    }

    pub fn pop(&mut self) -> Option<T> {
        let c = self.chunks.last_mut()?;
        let v = c.pop()?;
        if c.is_empty() {
            self.chunks.pop();
        }
        self.len -= 1;
        Some(v)
    }

    #[inline]
    pub fn get(&self, i: usize) -> Option<&T> {
        self.chunks.get(i >> CHUNK_BITS)?.get(i & MASK)
    }

    pub fn last(&self) -> Option<&T> {
        self.chunks.last()?.last()
    }

    pub fn iter(&self) -> impl Iterator<Item = &T> + '_ {
        self.chunks.iter().flatten()
    }

    /// Swaps elements `a` and `b` (both in range).
    pub fn swap(&mut self, a: usize, b: usize) {
        let (ca, cb) = (a >> CHUNK_BITS, b >> CHUNK_BITS);
        if ca == cb {
            self.chunks[ca].swap(a & MASK, b & MASK);
            return;
        }
        let (lo, hi, ilo, ihi) = if ca < cb {
            (ca, cb, a & MASK, b & MASK)
        } else {
            (cb, ca, b & MASK, a & MASK)
        };
        let (left, right) = self.chunks.split_at_mut(hi);
        std::mem::swap(&mut left[lo][ilo], &mut right[0][ihi]);
    }

    /// Keeps the first `n` elements and forgets the rest without running
    /// their destructors (memory-safe; a leak for elements that own
    /// anything, so only for ones that own nothing): cutting a long tail of
    /// such elements costs per chunk, not per element.
    pub fn truncate_forgetting(&mut self, n: usize) {
        if n >= self.len {
            return;
        }
        let keep = n.div_ceil(CHUNK);
        for mut c in self.chunks.drain(keep..) {
            // SAFETY: shrinking the length only forgets elements.
            unsafe { c.set_len(0) };
            self.spare.push(c);
        }
        if let Some(c) = self.chunks.last_mut() {
            let k = n - (keep - 1) * CHUNK;
            // SAFETY: as above; k <= len.
            unsafe { c.set_len(k.min(c.len())) };
        }
        self.len = n;
        self.shrink_last();
    }

    /// Gives back a mostly empty last chunk's spare room.
    fn shrink_last(&mut self) {
        if let Some(c) = self.chunks.last_mut() {
            if c.len() * 2 < c.capacity() {
                c.shrink_to_fit();
            }
        }
        self.chunks.shrink_to_fit();
    }
}

impl<T> Index<usize> for ChunkedVec<T> {
    type Output = T;
    #[inline]
    fn index(&self, i: usize) -> &T {
        &self.chunks[i >> CHUNK_BITS][i & MASK]
    }
}

impl<T> IndexMut<usize> for ChunkedVec<T> {
    #[inline]
    fn index_mut(&mut self, i: usize) -> &mut T {
        &mut self.chunks[i >> CHUNK_BITS][i & MASK]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn behaves_as_a_vec_across_chunks() {
        let mut c = ChunkedVec::new();
        let mut v = Vec::new();
        for i in 0..3 * CHUNK + 17 {
            c.push(i);
            v.push(i);
        }
        assert_eq!(c.len(), v.len());
        assert_eq!(c.get(CHUNK), Some(&CHUNK));
        assert_eq!(c[2 * CHUNK + 5], 2 * CHUNK + 5);
        c[CHUNK - 1] = 7;
        v[CHUNK - 1] = 7;
        assert!(c.iter().eq(v.iter()));
        for _ in 0..CHUNK + 20 {
            assert_eq!(c.pop(), v.pop());
        }
        assert_eq!(c.len(), v.len());
        assert_eq!(c.last(), v.last());
        assert_eq!(c.get(c.len()), None);
        // Every chunk but the last is full: capacity is whole chunks plus
        // the last one's.
        assert!(c.capacity() >= c.len() && c.capacity() <= c.len() + CHUNK);
        c.swap(1, 2 * CHUNK - 5);
        v.swap(1, 2 * CHUNK - 5);
        c.swap(7, 9);
        v.swap(7, 9);
        assert!(c.iter().eq(v.iter()));
        c.truncate_forgetting(CHUNK + 3);
        v.truncate(CHUNK + 3);
        assert!(c.iter().eq(v.iter()));
        assert_eq!(c.len(), CHUNK + 3);
        assert!(c.capacity() < 2 * CHUNK);
        c.truncate_forgetting(0);
        assert_eq!(c.len(), 0);
        assert!(c.capacity() > 0, "cut chunks are kept until released");
        c.release_spare(usize::MAX);
        assert_eq!(c.capacity(), 0);
    }
}
