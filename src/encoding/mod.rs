//! Byte-exact Redis 7.0 encodings: listpack, intset, LZF, CRC64, the legacy
//! ziplist/zipmap decoders and Redis's number parsing/formatting rules.
//!
//! Everything here is pure and dependency-free. Decoders treat their input as
//! untrusted (it may come from an RDB file or a RESTORE payload): they return
//! `Err`/`None` on malformed bytes and never allocate more than the input size
//! could justify.

pub mod crc64;
pub mod intset;
pub mod listpack;
pub mod longdouble;
pub mod lzf;
pub mod numbers;
pub mod ziplist;
pub mod zipmap;

/// Malformed encoded bytes (the only error any decoder here reports).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DecodeError;

impl std::fmt::Display for DecodeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("malformed encoded data")
    }
}

impl std::error::Error for DecodeError {}

/// Little-endian u16 at `off`, or `None` when out of bounds.
#[inline]
pub(crate) fn rd_u16(b: &[u8], off: usize) -> Option<u16> {
    let s = b.get(off..off.checked_add(2)?)?;
    Some(u16::from_le_bytes([s[0], s[1]]))
}

/// Little-endian u32 at `off`, or `None` when out of bounds.
#[inline]
pub(crate) fn rd_u32(b: &[u8], off: usize) -> Option<u32> {
    let s = b.get(off..off.checked_add(4)?)?;
    Some(u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
}

/// Little-endian u64 at `off`, or `None` when out of bounds.
#[inline]
pub(crate) fn rd_u64(b: &[u8], off: usize) -> Option<u64> {
    let s = b.get(off..off.checked_add(8)?)?;
    let mut a = [0u8; 8];
    a.copy_from_slice(s);
    Some(u64::from_le_bytes(a))
}

/// Deterministic PRNG for the fuzz-style tests (the server's xorshift64*,
/// seeded).
#[cfg(test)]
pub(crate) struct TestRng(pub crate::util::Rng);

#[cfg(test)]
impl TestRng {
    pub fn new(seed: u64) -> TestRng {
        TestRng(crate::util::Rng::seeded(seed))
    }
    pub fn next(&mut self) -> u64 {
        self.0.next_u64()
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.0.below(n)
    }
    /// Flip/insert/delete a few random bytes of `b`.
    pub fn mutate(&mut self, b: &mut Vec<u8>) {
        let rounds = 1 + self.below(4);
        for _ in 0..rounds {
            let len = b.len() as u64;
            match self.below(4) {
                0 if len > 0 => {
                    let i = self.below(len) as usize;
                    b[i] ^= 1 << self.below(8);
                }
                1 if len > 0 => {
                    let i = self.below(len) as usize;
                    b[i] = self.next() as u8;
                }
                2 => {
                    let i = self.below(len + 1) as usize;
                    b.insert(i, self.next() as u8);
                }
                _ if len > 0 => {
                    let i = self.below(len) as usize;
                    b.remove(i);
                }
                _ => {}
            }
        }
    }
}
