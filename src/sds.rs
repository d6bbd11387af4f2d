//! `Sds`: the binary-safe string used for keys and string values.
//!
//! Named after Redis's sds. 24 bytes: strings up to 22 bytes live inline (no
//! heap allocation at all, the common case for keys and small values); longer
//! ones own an exact-size heap slice. The inline form is what keeps a keyspace
//! entry at 64 bytes.
//!
//! Strings that grow in place (APPEND, SETRANGE, SETBIT, BITFIELD) switch to
//! a third form with spare capacity, grown like sdsMakeRoomFor: to twice the
//! needed length below 1 MB, by 1 MB above, so appending one byte a million
//! times costs amortised O(1) a byte instead of copying the whole string
//! each time. Its length is a u32 kept in the enum's padding, so the handle
//! stays 24 bytes; past 4 GiB a string falls back to the exact form. A copy
//! (`clone`) is exact again, as Redis's dupStringObject.

use std::borrow::Borrow;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::ops::Deref;

/// Longest string stored inline.
pub const INLINE_CAP: usize = 22;

/// sdsMakeRoomFor's limit: below it capacity doubles, above it grows by it.
const MAX_PREALLOC: usize = 1024 * 1024;

/// `repr(u8)` with tags 1-3: the first byte of every `Sds` is its tag and
/// is never 0, which is what lets `types/set_table.rs` keep members in a
/// zeroed table whose free slots are all-zero bytes.
#[repr(u8)]
enum Repr {
    Inline {
        len: u8,
        buf: [u8; INLINE_CAP],
    } = 1,
    /// Exactly the string's bytes.
    Heap(Box<[u8]>) = 2,
    /// The first `len` bytes of `buf` are the string; the rest is spare
    /// capacity, always zero.
    Grown {
        len: u32,
        buf: Box<[u8]>,
    } = 3,
}

/// A binary-safe byte string.
pub struct Sds(Repr);

impl Clone for Sds {
    fn clone(&self) -> Sds {
        match &self.0 {
            Repr::Grown { .. } => Sds::new(self.as_bytes()),
            Repr::Inline { len, buf } => Sds(Repr::Inline {
                len: *len,
                buf: *buf,
            }),
            Repr::Heap(b) => Sds(Repr::Heap(b.clone())),
        }
    }
}

impl Sds {
    /// The empty string.
    pub const fn empty() -> Sds {
        Sds(Repr::Inline {
            len: 0,
            buf: [0; INLINE_CAP],
        })
    }

    /// Copies `b` into a new string.
    pub fn new(b: &[u8]) -> Sds {
        if b.len() <= INLINE_CAP {
            let mut buf = [0u8; INLINE_CAP];
            buf[..b.len()].copy_from_slice(b);
            Sds(Repr::Inline {
                len: b.len() as u8,
                buf,
            })
        } else {
            Sds(Repr::Heap(b.into()))
        }
    }

    /// Takes ownership of `v` (inline when short, else without copying
    /// when the vector has no spare capacity).
    pub fn from_vec(v: Vec<u8>) -> Sds {
        if v.len() <= INLINE_CAP {
            Sds::new(&v)
        } else {
            Sds(Repr::Heap(v.into_boxed_slice()))
        }
    }

    /// The decimal form of an integer.
    pub fn from_i64(n: i64) -> Sds {
        let mut buf = [0u8; 20];
        Sds::new(crate::encoding::numbers::ll2string(n, &mut buf))
    }

    pub fn as_bytes(&self) -> &[u8] {
        match &self.0 {
            Repr::Inline { len, buf } => &buf[..*len as usize],
            Repr::Heap(b) => b,
            Repr::Grown { len, buf } => &buf[..*len as usize],
        }
    }

    /// Mutable access to the bytes (fixed length).
    pub fn as_bytes_mut(&mut self) -> &mut [u8] {
        match &mut self.0 {
            Repr::Inline { len, buf } => &mut buf[..*len as usize],
            Repr::Heap(b) => b,
            Repr::Grown { len, buf } => &mut buf[..*len as usize],
        }
    }

    /// Bytes available without reallocating.
    pub fn capacity(&self) -> usize {
        match &self.0 {
            Repr::Inline { .. } => INLINE_CAP,
            Repr::Heap(b) => b.len(),
            Repr::Grown { buf, .. } => buf.len(),
        }
    }

    /// Makes room for `newlen` bytes in total, with sdsMakeRoomFor's greedy
    /// growth; the bytes past the current length are zero.
    fn make_room_for(&mut self, newlen: usize) {
        if newlen <= self.capacity() {
            return;
        }
        let cap = if newlen < MAX_PREALLOC {
            newlen * 2
        } else {
            newlen + MAX_PREALLOC
        };
        let len = self.len();
        let mut v = std::mem::take(self).into_vec();
        if cap > u32::MAX as usize {
            // Too long for the grown form: exact, reallocated each time.
            v.resize(newlen, 0);
            v.truncate(len);
            self.0 = Repr::Heap(v.into_boxed_slice());
            return;
        }
        v.reserve_exact(cap - v.len());
        v.resize(cap, 0);
        self.0 = Repr::Grown {
            len: len as u32,
            buf: v.into_boxed_slice(),
        };
    }

    /// Sets the length within the capacity (the new bytes are already zero).
    fn set_len(&mut self, newlen: usize) {
        match &mut self.0 {
            Repr::Inline { len, .. } => *len = newlen as u8,
            Repr::Grown { len, .. } => *len = newlen as u32,
            Repr::Heap(b) => {
                if newlen != b.len() {
                    let mut v = std::mem::take(b).into_vec();
                    v.resize(newlen, 0);
                    *b = v.into_boxed_slice();
                }
            }
        }
    }

    /// sdscatlen: appends `add`, growing greedily (APPEND).
    pub fn append(&mut self, add: &[u8]) {
        let len = self.len();
        let newlen = len + add.len();
        self.make_room_for(newlen);
        if let Repr::Heap(_) = self.0 {
            // The exact form (over 4 GiB) reallocated to the exact size.
            let mut v = std::mem::take(self).into_vec();
            v.extend_from_slice(add);
            self.0 = Repr::Heap(v.into_boxed_slice());
            return;
        }
        self.set_len(newlen);
        self.as_bytes_mut()[len..].copy_from_slice(add);
    }

    /// sdsgrowzero: extends the string with zero bytes to `newlen` (no-op
    /// when already that long), growing greedily (SETRANGE, SETBIT).
    pub fn grow_zero(&mut self, newlen: usize) {
        let len = self.len();
        if newlen <= len {
            return;
        }
        self.make_room_for(newlen);
        if let Repr::Inline { buf, .. } = &mut self.0 {
            buf[len..newlen].fill(0);
        }
        self.set_len(newlen);
    }

    /// Replaces `remove` bytes at `at` with `insert`, exact-size (no
    /// spare room): inline, with no allocation, when the result fits, else
    /// one allocation of the new size (as Redis's intsetResize reallocs).
    /// The range must lie within the string.
    pub fn splice(&mut self, at: usize, remove: usize, insert: &[u8]) {
        let old = self.as_bytes();
        let tail = &old[at + remove..];
        let new_len = at + insert.len() + tail.len();
        if new_len <= INLINE_CAP {
            let mut buf = [0u8; INLINE_CAP];
            buf[..at].copy_from_slice(&old[..at]);
            buf[at..at + insert.len()].copy_from_slice(insert);
            buf[at + insert.len()..new_len].copy_from_slice(tail);
            self.0 = Repr::Inline {
                len: new_len as u8,
                buf,
            };
            return;
        }
        let mut v = Vec::with_capacity(new_len);
        v.extend_from_slice(&old[..at]);
        v.extend_from_slice(insert);
        v.extend_from_slice(tail);
        self.0 = Repr::Heap(v.into_boxed_slice());
    }

    pub fn len(&self) -> usize {
        self.as_bytes().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn into_vec(self) -> Vec<u8> {
        match self.0 {
            Repr::Inline { len, buf } => buf[..len as usize].to_vec(),
            Repr::Heap(b) => b.into_vec(),
            Repr::Grown { len, buf } => {
                let mut v = buf.into_vec();
                v.truncate(len as usize);
                v
            }
        }
    }

    /// Bytes of heap memory owned beyond the 24-byte handle (spare
    /// capacity included, as Redis's sdsAllocSize).
    pub fn heap_size(&self) -> usize {
        match &self.0 {
            Repr::Inline { .. } => 0,
            Repr::Heap(b) => b.len(),
            Repr::Grown { buf, .. } => buf.len(),
        }
    }
}

impl Default for Sds {
    fn default() -> Self {
        Sds::empty()
    }
}

impl Deref for Sds {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        self.as_bytes()
    }
}

impl AsRef<[u8]> for Sds {
    fn as_ref(&self) -> &[u8] {
        self.as_bytes()
    }
}

impl Borrow<[u8]> for Sds {
    fn borrow(&self) -> &[u8] {
        self.as_bytes()
    }
}

impl PartialEq for Sds {
    fn eq(&self, other: &Sds) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}
impl Eq for Sds {}

impl PartialOrd for Sds {
    fn partial_cmp(&self, other: &Sds) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Sds {
    fn cmp(&self, other: &Sds) -> std::cmp::Ordering {
        self.as_bytes().cmp(other.as_bytes())
    }
}

impl Hash for Sds {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.as_bytes().hash(state)
    }
}

impl fmt::Debug for Sds {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "\"{}\"", self.as_bytes().escape_ascii())
    }
}

impl From<&[u8]> for Sds {
    fn from(b: &[u8]) -> Sds {
        Sds::new(b)
    }
}

impl From<&str> for Sds {
    fn from(s: &str) -> Sds {
        Sds::new(s.as_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inline_and_heap() {
        assert_eq!(std::mem::size_of::<Sds>(), 24);
        let a = Sds::new(b"key:000001");
        assert_eq!(a.as_bytes(), b"key:000001");
        assert_eq!(a.heap_size(), 0);
        let long = vec![b'x'; 100];
        let b = Sds::from_vec(long.clone());
        assert_eq!(b.as_bytes(), &long[..]);
        assert_eq!(b.heap_size(), 100);
        assert_eq!(Sds::new(&[b'y'; 22]).heap_size(), 0);
        assert_eq!(Sds::new(&[b'y'; 23]).heap_size(), 23);
    }

    #[test]
    fn append_grows_greedily_and_stays_24_bytes() {
        let mut s = Sds::new(b"ab");
        let mut reallocs = 0;
        let mut cap = s.capacity();
        let mut want = b"ab".to_vec();
        for i in 0..100_000u32 {
            let c = [b'a' + (i % 26) as u8];
            s.append(&c);
            want.push(c[0]);
            if s.capacity() != cap {
                reallocs += 1;
                cap = s.capacity();
            }
        }
        assert_eq!(s.as_bytes(), &want[..]);
        // Doubling: about log2(100000 / 22) reallocations, not 100000.
        assert!(reallocs < 20, "{reallocs} reallocations");
        assert!(s.capacity() >= s.len() && s.capacity() <= 2 * s.len() + 2);
        assert_eq!(s.clone().heap_size(), s.len(), "a copy is exact");
        assert_eq!(s.clone(), s);
        assert_eq!(std::mem::size_of::<Sds>(), 24);
        // Past 1 MB, growth is by 1 MB.
        let mut big = Sds::new(&[]);
        big.grow_zero(3 << 20);
        assert_eq!(big.capacity(), (3 << 20) + (1 << 20));
        big.append(&vec![b'x'; (1 << 20) + 1]);
        assert_eq!(big.capacity(), (4 << 20) + 1 + (1 << 20));
    }

    #[test]
    fn grow_zero_and_inline() {
        let mut s = Sds::new(b"abc");
        s.grow_zero(10);
        assert_eq!(s.as_bytes(), b"abc\0\0\0\0\0\0\0");
        assert_eq!(s.heap_size(), 0);
        s.grow_zero(5);
        assert_eq!(s.len(), 10);
        s.grow_zero(30);
        assert_eq!(&s.as_bytes()[..3], b"abc");
        assert!(s.as_bytes()[3..].iter().all(|&b| b == 0));
        assert_eq!(s.capacity(), 60);
        s.as_bytes_mut()[29] = 7;
        s.append(b"z");
        assert_eq!(s.len(), 31);
        assert_eq!(&s.as_bytes()[29..], &[7, b'z']);
        assert_eq!(s.into_vec().len(), 31);
        let mut h = Sds::new(&[1u8; 40]);
        h.grow_zero(41);
        assert_eq!(h.len(), 41);
        assert_eq!(h.as_bytes()[40], 0);
    }

    #[test]
    fn splice_is_exact_and_inline_when_it_fits() {
        let mut s = Sds::new(b"abcdef");
        s.splice(2, 2, b"XYZ");
        assert_eq!(s.as_bytes(), b"abXYZef");
        assert_eq!(s.heap_size(), 0);
        s.splice(7, 0, &[b'1'; 16]);
        assert_eq!(s.len(), 23);
        assert_eq!(s.heap_size(), 23, "exact, on the heap past 22 bytes");
        s.splice(0, 2, b"");
        assert_eq!(&s.as_bytes()[..5], b"XYZef");
        assert_eq!(s.heap_size(), 0, "back inline");
        s.splice(s.len(), 0, b"!");
        assert_eq!(s.as_bytes().last(), Some(&b'!'));
    }

    #[test]
    fn ints() {
        assert_eq!(Sds::from_i64(i64::MIN).as_bytes(), b"-9223372036854775808");
        assert_eq!(Sds::from_i64(-42).as_bytes(), b"-42");
    }
}
