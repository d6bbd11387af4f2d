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
        self.chunks.iter().map(Vec::capacity).sum()
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
                    Vec::with_capacity(CHUNK)
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

    /// Keeps the first `n` elements; whole chunks past them are freed and
    /// the last one gives back its spare room when mostly empty.
    pub fn truncate(&mut self, n: usize) {
        if n >= self.len {
            return;
        }
        let keep = n.div_ceil(CHUNK);
        self.chunks.truncate(keep);
        if let Some(c) = self.chunks.last_mut() {
            c.truncate(n - (keep - 1) * CHUNK);
            if c.len() * 2 < c.capacity() {
                c.shrink_to_fit();
            }
        }
        self.chunks.shrink_to_fit();
        self.len = n;
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
        c.truncate(CHUNK + 3);
        v.truncate(CHUNK + 3);
        assert!(c.iter().eq(v.iter()));
        assert_eq!(c.len(), CHUNK + 3);
        assert!(c.capacity() < 2 * CHUNK);
        c.truncate(0);
        assert_eq!(c.len(), 0);
        assert_eq!(c.capacity(), 0);
    }
}
