//! `Sds`: the binary-safe string used for keys and string values.
//!
//! Named after Redis's sds. 24 bytes: strings up to 22 bytes live inline (no
//! heap allocation at all, the common case for keys and small values); longer
//! ones own an exact-size heap slice. The inline form is what keeps a keyspace
//! entry at 64 bytes.

use std::borrow::Borrow;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::ops::Deref;

/// Longest string stored inline.
pub const INLINE_CAP: usize = 22;

#[derive(Clone)]
enum Repr {
    Inline { len: u8, buf: [u8; INLINE_CAP] },
    Heap(Box<[u8]>),
}

/// A binary-safe, immutable-by-default byte string.
#[derive(Clone)]
pub struct Sds(Repr);

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
        }
    }

    /// Mutable access to the bytes (fixed length).
    pub fn as_bytes_mut(&mut self) -> &mut [u8] {
        match &mut self.0 {
            Repr::Inline { len, buf } => &mut buf[..*len as usize],
            Repr::Heap(b) => b,
        }
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
        }
    }

    /// Bytes of heap memory owned beyond the 24-byte handle.
    pub fn heap_size(&self) -> usize {
        match &self.0 {
            Repr::Inline { .. } => 0,
            Repr::Heap(b) => b.len(),
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
    fn ints() {
        assert_eq!(Sds::from_i64(i64::MIN).as_bytes(), b"-9223372036854775808");
        assert_eq!(Sds::from_i64(-42).as_bytes(), b"-42");
    }
}
