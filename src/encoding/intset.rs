//! Redis intset, byte-for-byte: the sorted-integer encoding of small sets.
//!
//! Redis's layout: encoding u32 LE (2, 4 or 8 bytes per element) | length
//! u32 LE | sorted, unique little-endian integers. Adding a value that
//! needs a wider encoding upgrades every element (never downgraded, like
//! Redis).
//!
//! Held as the width byte followed by the elements, in an `Sds`: the
//! 8-byte header is rebuilt when the bytes leave (`to_bytes`, for RDB and
//! DUMP), and a set of up to 10 16-bit integers (5 of 32 bits, 2 of 64)
//! stays inline, with no allocation of its own, as a short string does.

use super::{rd_u16, rd_u32, rd_u64, DecodeError};
use crate::sds::Sds;

const HDR: usize = 8;

/// Smallest element width (in bytes) able to hold `v`.
fn value_encoding(v: i64) -> usize {
    if v < i64::from(i32::MIN) || v > i64::from(i32::MAX) {
        8
    } else if v < i64::from(i16::MIN) || v > i64::from(i16::MAX) {
        4
    } else {
        2
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Intset {
    /// Byte 0: the element width; then the elements.
    data: Sds,
}

impl Default for Intset {
    fn default() -> Self {
        Self::new()
    }
}

impl Intset {
    pub fn new() -> Self {
        Intset {
            data: Sds::new(&[2]),
        }
    }

    /// Validates like Redis `intsetValidateIntegrity(deep)`: known
    /// encoding, exact size, strictly ascending and (as Redis requires of
    /// RDB payloads) not empty.
    pub fn from_bytes(b: Vec<u8>) -> Result<Self, DecodeError> {
        let enc = rd_u32(&b, 0).ok_or(DecodeError)? as usize;
        let len = rd_u32(&b, 4).ok_or(DecodeError)? as usize;
        if !matches!(enc, 2 | 4 | 8) || len == 0 {
            return Err(DecodeError);
        }
        let size = len.checked_mul(enc).and_then(|n| n.checked_add(HDR));
        if size != Some(b.len()) {
            return Err(DecodeError);
        }
        let mut data = b;
        // The width byte goes where the header's last byte was.
        data.drain(..HDR - 1);
        data[0] = enc as u8;
        let s = Intset {
            data: Sds::from_vec(data),
        };
        let mut prev: Option<i64> = None;
        for v in s.iter() {
            if prev.is_some_and(|p| p >= v) {
                return Err(DecodeError);
            }
            prev = Some(v);
        }
        Ok(s)
    }

    /// Redis's bytes: header, then the elements.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut b = Vec::with_capacity(self.bytes_len());
        b.extend_from_slice(&(self.encoding() as u32).to_le_bytes());
        b.extend_from_slice(&(self.len() as u32).to_le_bytes());
        b.extend_from_slice(&self.data[1..]);
        b
    }

    /// Size of Redis's bytes (header included).
    pub fn bytes_len(&self) -> usize {
        HDR + self.data.len() - 1
    }

    /// Bytes per element: 2, 4 or 8.
    pub fn encoding(&self) -> usize {
        self.data[0] as usize
    }

    pub fn len(&self) -> usize {
        (self.data.len() - 1) / self.encoding()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn read(&self, enc: usize, i: usize) -> Option<i64> {
        let off = 1 + i * enc;
        match enc {
            2 => rd_u16(&self.data, off).map(|v| i64::from(v as i16)),
            4 => rd_u32(&self.data, off).map(|v| i64::from(v as i32)),
            _ => rd_u64(&self.data, off).map(|v| v as i64),
        }
    }

    /// `v` in little-endian, its first `enc` bytes the element's.
    fn le_bytes(enc: usize, v: i64) -> [u8; 8] {
        let mut b = [0u8; 8];
        match enc {
            2 => b[..2].copy_from_slice(&(v as i16).to_le_bytes()),
            4 => b[..4].copy_from_slice(&(v as i32).to_le_bytes()),
            _ => b = v.to_le_bytes(),
        }
        b
    }

    /// Element at sorted position `i`.
    pub fn get(&self, i: usize) -> Option<i64> {
        if i >= self.len() {
            return None;
        }
        self.read(self.encoding(), i)
    }

    /// Element for a caller-supplied random number (SRANDMEMBER/SPOP):
    /// `get(r % len)`, `None` when empty.
    pub fn random(&self, r: u64) -> Option<i64> {
        let n = self.len() as u64;
        if n == 0 {
            return None;
        }
        self.get((r % n) as usize)
    }

    pub fn min(&self) -> Option<i64> {
        self.get(0)
    }
    pub fn max(&self) -> Option<i64> {
        self.len().checked_sub(1).and_then(|i| self.get(i))
    }

    /// `Ok(pos)` if present, else `Err(insertion pos)`.
    fn search(&self, v: i64) -> Result<usize, usize> {
        let enc = self.encoding();
        let (mut lo, mut hi) = (0usize, self.len());
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            let cur = self.read(enc, mid).unwrap_or(i64::MAX);
            match cur.cmp(&v) {
                std::cmp::Ordering::Less => lo = mid + 1,
                std::cmp::Ordering::Greater => hi = mid,
                std::cmp::Ordering::Equal => return Ok(mid),
            }
        }
        Err(lo)
    }

    pub fn contains(&self, v: i64) -> bool {
        value_encoding(v) <= self.encoding() && self.search(v).is_ok()
    }

    /// Inserts `v`; returns false if it was already present.
    pub fn add(&mut self, v: i64) -> bool {
        let venc = value_encoding(v);
        let enc = self.encoding();
        let n = self.len();
        if venc > enc {
            // A value needing a wider encoding is below or above every
            // current element, so it goes first or last.
            let mut nb = Vec::with_capacity(1 + (n + 1) * venc);
            nb.push(venc as u8);
            let widened = self.iter().map(|x| Self::le_bytes(venc, x));
            if v < 0 {
                nb.extend_from_slice(&Self::le_bytes(venc, v)[..venc]);
            }
            for b in widened {
                nb.extend_from_slice(&b[..venc]);
            }
            if v >= 0 {
                nb.extend_from_slice(&Self::le_bytes(venc, v)[..venc]);
            }
            self.data = Sds::from_vec(nb);
            return true;
        }
        match self.search(v) {
            Ok(_) => false,
            Err(pos) => {
                self.data
                    .splice(1 + pos * enc, 0, &Self::le_bytes(enc, v)[..enc]);
                true
            }
        }
    }

    /// Removes `v`; returns false if it was absent.
    pub fn remove(&mut self, v: i64) -> bool {
        if value_encoding(v) > self.encoding() {
            return false;
        }
        match self.search(v) {
            Ok(pos) => {
                let enc = self.encoding();
                self.data.splice(1 + pos * enc, enc, &[]);
                true
            }
            Err(_) => false,
        }
    }

    pub fn iter(&self) -> impl DoubleEndedIterator<Item = i64> + ExactSizeIterator + '_ {
        let enc = self.encoding();
        (0..self.len()).map(move |i| self.read(enc, i).unwrap_or(0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::encoding::TestRng;

    #[test]
    fn matches_redis_sadd() {
        // DUMP payload bodies from redis-server 7.0.15 (after 0x0b and the
        // RDB string length). SADD s2 1 70000:
        let s2 = b"\x04\x00\x00\x00\x02\x00\x00\x00\x01\x00\x00\x00\x70\x11\x01\x00";
        let mut s = Intset::new();
        assert!(s.add(1));
        assert!(s.add(70000));
        assert_eq!(s.to_bytes(), s2);
        // SADD s3 1 5000000000 -3: upgrade 2 -> 8 then insert at front.
        let s3 = b"\x08\x00\x00\x00\x03\x00\x00\x00\xfd\xff\xff\xff\xff\xff\xff\xff\
\x01\x00\x00\x00\x00\x00\x00\x00\x00\xf2\x05\x2a\x01\x00\x00\x00";
        let mut s = Intset::new();
        for v in [1, 5_000_000_000, -3] {
            assert!(s.add(v));
        }
        assert!(!s.add(1));
        assert_eq!(s.to_bytes(), s3);
        let parsed = Intset::from_bytes(s3.to_vec()).unwrap();
        assert_eq!(
            parsed.iter().collect::<Vec<_>>(),
            vec![-3, 1, 5_000_000_000]
        );
    }

    #[test]
    fn model_check() {
        let mut r = TestRng::new(5);
        let mut s = Intset::new();
        let mut model = std::collections::BTreeSet::new();
        for _ in 0..5000 {
            let v = (r.next() as i64) >> (r.below(64) as u32);
            let v = if r.below(3) == 0 { v % 50 } else { v };
            if r.below(3) == 0 {
                assert_eq!(s.remove(v), model.remove(&v));
            } else {
                assert_eq!(s.add(v), model.insert(v));
            }
            assert_eq!(s.contains(v), model.contains(&v));
        }
        assert_eq!(
            s.iter().collect::<Vec<_>>(),
            model.iter().copied().collect::<Vec<_>>()
        );
        assert_eq!(s.iter().next_back(), model.iter().next_back().copied());
        assert_eq!(s.min(), model.iter().next().copied());
        assert_eq!(s.max(), model.iter().next_back().copied());
        assert!(s.random(12345).is_some_and(|v| model.contains(&v)));
        let again = Intset::from_bytes(s.to_bytes()).unwrap();
        assert_eq!(again, s);
    }

    #[test]
    fn small_sets_stay_inline() {
        let mut s = Intset::new();
        for v in 1000..1010 {
            assert!(s.add(v));
        }
        assert_eq!(s.len(), 10);
        assert_eq!(s.data.heap_size(), 0, "10 small integers fit inline");
        assert!(s.add(1010));
        assert!(s.data.heap_size() > 0);
        assert!(s.remove(1010));
        assert_eq!(s.data.heap_size(), 0);
        assert_eq!(s.bytes_len(), 8 + 20);
        assert_eq!(
            s.iter().collect::<Vec<_>>(),
            (1000..1010).collect::<Vec<_>>()
        );
    }

    #[test]
    fn rejects_malformed() {
        assert!(Intset::from_bytes(vec![]).is_err());
        assert!(Intset::from_bytes(Intset::new().to_bytes()).is_err()); // empty
        let mut s = Intset::new();
        s.add(1);
        s.add(2);
        let mut b = s.to_bytes();
        b.swap(8, 10); // 2,1: unsorted
        assert!(Intset::from_bytes(b).is_err());
        let mut b = s.to_bytes();
        b[0] = 3;
        assert!(Intset::from_bytes(b).is_err());
        let mut b = s.to_bytes();
        b[4] = 0xff; // length beyond the buffer
        assert!(Intset::from_bytes(b).is_err());
    }

    #[test]
    fn fuzz_never_panics() {
        let mut r = TestRng::new(77);
        let mut s = Intset::new();
        for v in [-70000i64, 3, 9, 1 << 40] {
            s.add(v);
        }
        for _ in 0..20000 {
            let mut b = s.to_bytes();
            r.mutate(&mut b);
            if let Ok(x) = Intset::from_bytes(b) {
                let n = x.iter().count();
                assert_eq!(n, x.len());
                let _ = x.contains(3);
            }
        }
    }
}
