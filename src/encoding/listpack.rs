//! Redis 7.0 listpack, byte-for-byte: the compact encoding of small lists,
//! hashes, zsets and quicklist nodes.
//!
//! Layout: total-bytes u32 LE | num-elements u16 LE (65535 = unknown) |
//! entries | 0xFF. Each entry is `encoding+data` followed by a backlen
//! (the size of `encoding+data`, 1-5 bytes, readable right-to-left) so the
//! list can be walked in both directions without per-entry allocation.

use super::numbers::{string2ll, write_i64};
use super::{rd_u16, rd_u32, DecodeError};

const HDR: usize = 6;
const EOF: u8 = 0xFF;
/// Header value meaning "count this yourself" (count >= 65535).
const NUMELE_UNKNOWN: usize = 65535;
/// Redis refuses to grow a listpack past 1GB (LISTPACK_MAX_SAFETY_SIZE).
pub const MAX_SAFETY_SIZE: usize = 1 << 30;

/// One decoded entry. Integers stay integers: no formatting on the hot path.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LpValue<'a> {
    Int(i64),
    Str(&'a [u8]),
}

impl LpValue<'_> {
    /// The entry as bytes (integers in decimal, as Redis replies them).
    pub fn to_vec(&self) -> Vec<u8> {
        let mut v = Vec::new();
        self.write_to(&mut v);
        v
    }

    /// Appends the byte form of the entry to `out`.
    pub fn write_to(&self, out: &mut Vec<u8>) {
        match *self {
            LpValue::Int(i) => write_i64(i, out),
            LpValue::Str(s) => out.extend_from_slice(s),
        }
    }

    /// Equality with a byte string, comparing integers numerically (a
    /// canonical decimal string is the only spelling of a stored integer).
    pub fn eq_bytes(&self, b: &[u8]) -> bool {
        match *self {
            LpValue::Int(i) => string2ll(b) == Some(i),
            LpValue::Str(s) => s == b,
        }
    }

    /// Integer view: stored ints, or strings that are strict integers.
    pub fn as_i64(&self) -> Option<i64> {
        match *self {
            LpValue::Int(i) => Some(i),
            LpValue::Str(s) => string2ll(s),
        }
    }
}

/// A fully encoded entry kept on the stack (plus the borrowed string
/// payload) so inserts never allocate a temporary.
struct Enc<'a> {
    hdr: [u8; 9],
    hdr_len: usize,
    data: &'a [u8],
    back: [u8; 5],
    back_len: usize,
}

impl<'a> Enc<'a> {
    fn total(&self) -> usize {
        self.hdr_len + self.data.len() + self.back_len
    }

    fn finish(mut self) -> Self {
        let l = self.hdr_len + self.data.len();
        self.back_len = encode_backlen(&mut self.back, l);
        self
    }

    fn int(v: i64) -> Enc<'static> {
        let mut hdr = [0u8; 9];
        let hdr_len = if (0..=127).contains(&v) {
            hdr[0] = v as u8;
            1
        } else if (-4096..=4095).contains(&v) {
            let u = if v < 0 { (1 << 13) + v } else { v } as u16;
            hdr[0] = 0xC0 | (u >> 8) as u8;
            hdr[1] = u as u8;
            2
        } else if (-32768..=32767).contains(&v) {
            hdr[0] = 0xF1;
            hdr[1..3].copy_from_slice(&(v as i16).to_le_bytes());
            3
        } else if (-8_388_608..=8_388_607).contains(&v) {
            hdr[0] = 0xF2;
            hdr[1..4].copy_from_slice(&(v as i32).to_le_bytes()[..3]);
            4
        } else if (i64::from(i32::MIN)..=i64::from(i32::MAX)).contains(&v) {
            hdr[0] = 0xF3;
            hdr[1..5].copy_from_slice(&(v as i32).to_le_bytes());
            5
        } else {
            hdr[0] = 0xF4;
            hdr[1..9].copy_from_slice(&v.to_le_bytes());
            9
        };
        Enc {
            hdr,
            hdr_len,
            data: &[],
            back: [0; 5],
            back_len: 0,
        }
        .finish()
    }

    /// Like Redis `lpEncodeGetType`: strings that are strict integers are
    /// stored as integers.
    fn of(v: &'a [u8]) -> Enc<'a> {
        if let Some(i) = string2ll(v) {
            return Enc::int(i);
        }
        let mut hdr = [0u8; 9];
        let n = v.len();
        let hdr_len = if n < 64 {
            hdr[0] = 0x80 | n as u8;
            1
        } else if n < 4096 {
            hdr[0] = 0xE0 | (n >> 8) as u8;
            hdr[1] = n as u8;
            2
        } else {
            hdr[0] = 0xF0;
            hdr[1..5].copy_from_slice(&(n as u32).to_le_bytes());
            5
        };
        Enc {
            hdr,
            hdr_len,
            data: v,
            back: [0; 5],
            back_len: 0,
        }
        .finish()
    }
}

/// Redis `lpEncodeBacklen` (including its `< 16383` boundary quirk).
fn encode_backlen(buf: &mut [u8; 5], l: usize) -> usize {
    let l = l as u64;
    if l <= 127 {
        buf[0] = l as u8;
        return 1;
    }
    let n = backlen_size(l as usize);
    // Most significant group first (high bit clear), then groups with the
    // continuation bit set, low 7 bits last.
    for (i, b) in buf.iter_mut().take(n).enumerate() {
        let shift = 7 * (n - 1 - i);
        let g = ((l >> shift) & 127) as u8;
        *b = if i == 0 { (l >> shift) as u8 } else { g | 128 };
    }
    n
}

/// Bytes of the backlen of an entry whose encoding+data is `l` bytes
/// (lpEncodeBacklen's thresholds).
#[inline]
fn backlen_size(l: usize) -> usize {
    if l <= 127 {
        1
    } else if l < 16383 {
        2
    } else if l < 2_097_151 {
        3
    } else if l < 268_435_455 {
        4
    } else {
        5
    }
}

/// Size of `encoding+data` for the entry at `off`, bounds-checked.
fn entry_len(b: &[u8], off: usize) -> Option<usize> {
    let c = *b.get(off)?;
    Some(match c {
        0x00..=0x7F => 1,
        0x80..=0xBF => 1 + (c & 0x3F) as usize,
        0xC0..=0xDF => 2,
        0xE0..=0xEF => 2 + ((((c & 0x0F) as usize) << 8) | *b.get(off + 1)? as usize),
        0xF0 => 5usize.checked_add(rd_u32(b, off + 1)? as usize)?,
        0xF1 => 3,
        0xF2 => 4,
        0xF3 => 5,
        0xF4 => 9,
        _ => return None,
    })
}

/// Decodes the entry at `off`; `None` if it does not fit in `b`.
fn decode(b: &[u8], off: usize) -> Option<LpValue<'_>> {
    decode_entry(b, off).map(|(v, _)| v)
}

/// Decodes the entry at `off` and gives the size of its encoding+data
/// (one pass over the encoding byte, for iteration); `None` if it does not
/// fit in `b`.
#[inline]
fn decode_entry(b: &[u8], off: usize) -> Option<(LpValue<'_>, usize)> {
    let c = *b.get(off)?;
    let p = off + 1;
    let int = |n: usize| -> Option<(LpValue<'_>, usize)> {
        let s = b.get(p..p + n)?;
        let mut w = [0u8; 8];
        w[..n].copy_from_slice(s);
        let u = u64::from_le_bytes(w);
        let sh = 64 - 8 * n as u32;
        Some((LpValue::Int(((u << sh) as i64) >> sh), 1 + n)) // sign-extend
    };
    let str_at = |start: usize, n: usize| {
        let end = start.checked_add(n)?;
        b.get(start..end).map(|s| (LpValue::Str(s), end - off))
    };
    match c {
        0x00..=0x7F => Some((LpValue::Int(i64::from(c)), 1)),
        0x80..=0xBF => str_at(p, (c & 0x3F) as usize),
        0xC0..=0xDF => {
            let u = ((u16::from(c & 0x1F)) << 8) | u16::from(*b.get(p)?);
            let v = if u >= 1 << 12 {
                i64::from(u) - (1 << 13)
            } else {
                i64::from(u)
            };
            Some((LpValue::Int(v), 2))
        }
        0xE0..=0xEF => {
            let n = (((c & 0x0F) as usize) << 8) | *b.get(p)? as usize;
            str_at(p + 1, n)
        }
        0xF0 => str_at(p + 4, rd_u32(b, p)? as usize),
        0xF1 => int(2),
        0xF2 => int(3),
        0xF3 => int(4),
        0xF4 => int(8),
        _ => None,
    }
}

/// Reads the backlen whose last byte is at `end - 1`; returns
/// (encoding+data size, backlen bytes).
fn decode_backlen(b: &[u8], end: usize) -> Option<(usize, usize)> {
    let mut val = 0usize;
    let mut i = 0;
    loop {
        let c = *b.get(end.checked_sub(i + 1)?)?;
        val |= ((c & 127) as usize) << (7 * i);
        i += 1;
        if c & 128 == 0 {
            return Some((val, i));
        }
        if i >= 5 {
            return None;
        }
    }
}

/// An owned, always-valid listpack: the buffer alone (24 bytes, so that a
/// hash, set or sorted set in a compact encoding fits inside `db::Value`
/// without a box of its own). The element count is the header's, as
/// Redis's lpLength: exact below 65535, counted by a walk at and above it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Listpack {
    buf: Vec<u8>,
}

impl Default for Listpack {
    fn default() -> Self {
        Self::new()
    }
}

impl Listpack {
    pub fn new() -> Self {
        Listpack {
            buf: vec![7, 0, 0, 0, 0, 0, EOF],
        }
    }

    /// Takes ownership of serialized bytes after full validation (header,
    /// every entry's encoding and backlen, terminator, element count).
    pub fn from_bytes(b: Vec<u8>) -> Result<Self, DecodeError> {
        let count = validate(&b).ok_or(DecodeError)?;
        let mut lp = Listpack { buf: b };
        lp.set_count(count);
        Ok(lp)
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.buf
    }
    pub fn into_bytes(self) -> Vec<u8> {
        self.buf
    }
    pub fn len(&self) -> usize {
        let n = rd_u16(&self.buf, 4).unwrap_or(0) as usize;
        if n < NUMELE_UNKNOWN {
            return n;
        }
        self.walk_count()
    }
    pub fn is_empty(&self) -> bool {
        self.buf.len() == HDR + 1
    }

    /// Counts the entries (a header at 65535 does not know).
    fn walk_count(&self) -> usize {
        let eof = self.eof_off();
        let mut off = HDR;
        let mut n = 0;
        while off < eof {
            off += self.entry_size(off);
            n += 1;
        }
        n
    }

    /// Writes an element count to the header (65535 and above: unknown).
    fn set_count(&mut self, n: usize) {
        let n = n.min(NUMELE_UNKNOWN) as u16;
        self.buf[4..6].copy_from_slice(&n.to_le_bytes());
    }
    pub fn bytes_len(&self) -> usize {
        self.buf.len()
    }
    /// Drops growth slack (small collections are stored exact-size).
    pub fn shrink_to_fit(&mut self) {
        self.buf.shrink_to_fit();
    }

    /// Redis `lpSafeToAdd`: whether `add` more bytes keep us under 1GB.
    pub fn safe_to_add(&self, add: usize) -> bool {
        self.buf.len().saturating_add(add) <= MAX_SAFETY_SIZE
    }

    fn eof_off(&self) -> usize {
        self.buf.len() - 1
    }

    /// Writes the total byte length to the header.
    fn sync_header(&mut self) {
        let total = self.buf.len() as u32;
        self.buf[0..4].copy_from_slice(&total.to_le_bytes());
    }

    /// Replaces `old_len` bytes at `off` with the encoded entry `e`
    /// (old_len == 0 inserts), moving the tail once.
    fn splice(&mut self, off: usize, old_len: usize, e: &Enc) {
        let new_len = e.total();
        let total = self.buf.len();
        // Exact-size like Redis's lpInsert (one realloc per change, no
        // growth slack): most listpacks are small and many, and slack would
        // cost more than the reallocs.
        if new_len > old_len {
            self.buf.reserve_exact(new_len - old_len);
            self.buf.resize(total + (new_len - old_len), 0);
            self.buf.copy_within(off + old_len..total, off + new_len);
        } else if new_len < old_len {
            self.buf.copy_within(off + old_len..total, off + new_len);
            self.buf.truncate(total - (old_len - new_len));
            self.buf.shrink_to_fit();
        }
        let mut p = off;
        self.buf[p..p + e.hdr_len].copy_from_slice(&e.hdr[..e.hdr_len]);
        p += e.hdr_len;
        self.buf[p..p + e.data.len()].copy_from_slice(e.data);
        p += e.data.len();
        self.buf[p..p + e.back_len].copy_from_slice(&e.back[..e.back_len]);
    }

    fn insert_enc(&mut self, off: usize, e: &Enc) {
        let n = self.len();
        self.splice(off, 0, e);
        self.set_count(n + 1);
        self.sync_header();
    }

    pub fn push_back(&mut self, v: &[u8]) {
        self.insert_enc(self.eof_off(), &Enc::of(v));
    }
    pub fn push_front(&mut self, v: &[u8]) {
        self.insert_enc(HDR, &Enc::of(v));
    }
    pub fn push_back_int(&mut self, v: i64) {
        self.insert_enc(self.eof_off(), &Enc::int(v));
    }
    pub fn push_front_int(&mut self, v: i64) {
        self.insert_enc(HDR, &Enc::int(v));
    }

    /// Size in bytes of the whole entry (with backlen) at a valid offset.
    fn entry_size(&self, off: usize) -> usize {
        let l = entry_len(&self.buf, off).unwrap_or(0);
        l + backlen_size(l)
    }

    /// Offset of the first entry, `None` when empty.
    pub fn first_offset(&self) -> Option<usize> {
        (!self.is_empty()).then_some(HDR)
    }

    /// Offset of the last entry, `None` when empty.
    pub fn last_offset(&self) -> Option<usize> {
        if self.is_empty() {
            return None;
        }
        self.prev_offset(self.eof_off())
    }

    /// Offset of the entry after the one at `off`, `None` at the end.
    pub fn next_offset(&self, off: usize) -> Option<usize> {
        let n = off.checked_add(self.entry_size(off))?;
        (n < self.eof_off()).then_some(n)
    }

    /// Offset of the entry before `off` (`off` may be the terminator).
    pub fn prev_offset(&self, off: usize) -> Option<usize> {
        if off <= HDR || off > self.eof_off() {
            return None;
        }
        let (l, bl) = decode_backlen(&self.buf, off)?;
        off.checked_sub(l + bl).filter(|&p| p >= HDR)
    }

    /// The entry at a byte offset obtained from the offset methods.
    pub fn value_at(&self, off: usize) -> Option<LpValue<'_>> {
        if off >= self.eof_off() {
            return None;
        }
        decode(&self.buf, off)
    }

    /// Byte offset of entry `index` (0-based), walking from the nearer end.
    pub fn seek(&self, index: usize) -> Option<usize> {
        let count = self.len();
        if index >= count {
            return None;
        }
        if index <= count / 2 {
            let mut off = HDR;
            for _ in 0..index {
                off += self.entry_size(off);
            }
            Some(off)
        } else {
            let mut off = self.eof_off();
            for _ in index..count {
                off = self.prev_offset(off)?;
            }
            Some(off)
        }
    }

    /// Element `index`; negative indexes count from the end (-1 = last).
    pub fn get(&self, index: isize) -> Option<LpValue<'_>> {
        let i = if index < 0 {
            self.len().checked_sub(index.unsigned_abs())?
        } else {
            index as usize
        };
        self.value_at(self.seek(i)?)
    }

    pub fn iter(&self) -> Iter<'_> {
        Iter {
            buf: &self.buf,
            front: HDR,
            back: self.eof_off(),
            remaining: self.len(),
        }
    }

    /// Inserts before element `index`; `index >= len()` appends.
    pub fn insert(&mut self, index: usize, v: &[u8]) {
        let off = self.seek(index).unwrap_or(self.eof_off());
        self.insert_enc(off, &Enc::of(v));
    }

    /// Replaces element `index` in place; out of range is a no-op.
    pub fn replace(&mut self, index: usize, v: &[u8]) {
        if let Some(off) = self.seek(index) {
            self.replace_at(off, v);
        }
    }

    /// An empty listpack whose buffer can take `cap` bytes before growing.
    pub fn with_capacity(cap: usize) -> Self {
        let mut buf = Vec::with_capacity(cap.max(HDR + 1));
        buf.extend_from_slice(&[7, 0, 0, 0, 0, 0, EOF]);
        Listpack { buf }
    }

    /// Bytes the buffer holds before it must grow.
    pub fn capacity(&self) -> usize {
        self.buf.capacity()
    }

    /// Room for `add` more bytes with amortized (doubling) growth, so a
    /// run of appends does not reallocate on each one.
    pub fn reserve(&mut self, add: usize) {
        self.buf.reserve(add);
    }

    /// Replaces the entry at a valid byte offset with an integer; returns
    /// the offset of the following entry.
    pub fn replace_int_at(&mut self, off: usize, v: i64) -> usize {
        let old = self.entry_size(off);
        let e = Enc::int(v);
        if e.total() == old {
            // Same encoded size (a stream's flags or counters, mostly):
            // overwrite in place, no shrink or move.
            let mut p = off;
            self.buf[p..p + e.hdr_len].copy_from_slice(&e.hdr[..e.hdr_len]);
            p += e.hdr_len;
            self.buf[p..p + e.back_len].copy_from_slice(&e.back[..e.back_len]);
            return off + old;
        }
        self.splice(off, old, &e);
        self.sync_header();
        off + e.total()
    }

    /// Replaces the entry at a valid byte offset; returns the offset of
    /// the following entry position (useful while walking).
    pub fn replace_at(&mut self, off: usize, v: &[u8]) -> usize {
        let old = self.entry_size(off);
        let e = Enc::of(v);
        self.splice(off, old, &e);
        self.sync_header();
        off + e.total()
    }

    pub fn remove(&mut self, index: usize) {
        self.remove_range(index, 1);
    }

    /// Removes up to `count` elements starting at `start`.
    pub fn remove_range(&mut self, start: usize, count: usize) {
        let Some(off) = self.seek(start) else { return };
        let len = self.len();
        let n = count.min(len - start);
        let mut end = off;
        for _ in 0..n {
            end += self.entry_size(end);
        }
        self.buf.drain(off..end);
        self.buf.shrink_to_fit();
        self.set_count(len - n);
        self.sync_header();
    }

    /// Index of the first entry equal to `v` among entries 0, skip+1,
    /// 2*(skip+1)...; `skip = 1` searches hash fields / zset members.
    /// Like Redis `lpFind`, `v` is parsed as an integer at most once and
    /// integer entries are compared numerically.
    pub fn find(&self, v: &[u8], skip: usize) -> Option<usize> {
        let mut vint: Option<Option<i64>> = None;
        let b = &self.buf[..];
        let eof = self.eof_off();
        let mut off = HDR;
        let mut idx = 0;
        while off < eof {
            let c = b[off];
            let hit = if (0x80..=0xBF).contains(&c) || (0xE0..=0xF0).contains(&c) {
                // String entry: slice compare (length first, then bytes).
                matches!(decode(b, off), Some(LpValue::Str(s)) if s == v)
            } else {
                let want = *vint.get_or_insert_with(|| string2ll(v));
                match (want, decode(b, off)) {
                    (Some(w), Some(LpValue::Int(i))) => w == i,
                    _ => false,
                }
            };
            if hit {
                return Some(idx);
            }
            for _ in 0..=skip {
                off += self.entry_size(off);
                idx += 1;
                if off >= eof {
                    break;
                }
            }
        }
        None
    }
}

/// Double-ended iterator over entries, walking by byte offsets.
pub struct Iter<'a> {
    buf: &'a [u8],
    front: usize,
    /// Offset just past the last unvisited entry.
    back: usize,
    remaining: usize,
}

impl<'a> Iterator for Iter<'a> {
    type Item = LpValue<'a>;
    fn next(&mut self) -> Option<LpValue<'a>> {
        if self.remaining == 0 {
            return None;
        }
        let (v, l) = decode_entry(self.buf, self.front)?;
        self.front += l + backlen_size(l);
        self.remaining -= 1;
        Some(v)
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.remaining, Some(self.remaining))
    }
}

impl<'a> DoubleEndedIterator for Iter<'a> {
    fn next_back(&mut self) -> Option<LpValue<'a>> {
        if self.remaining == 0 {
            return None;
        }
        let (l, bl) = decode_backlen(self.buf, self.back)?;
        let start = self.back.checked_sub(l + bl)?;
        let v = decode(self.buf, start)?;
        self.back = start;
        self.remaining -= 1;
        Some(v)
    }
}

impl ExactSizeIterator for Iter<'_> {}

/// Full structural validation (Redis `lpValidateIntegrity` deep mode).
/// Returns the element count.
fn validate(b: &[u8]) -> Option<usize> {
    if b.len() < HDR + 1 || rd_u32(b, 0)? as usize != b.len() {
        return None;
    }
    let hdr_count = rd_u16(b, 4)? as usize;
    let eof = b.len() - 1;
    if *b.last()? != EOF {
        return None;
    }
    let mut off = HDR;
    let mut count = 0usize;
    while off < eof {
        let l = entry_len(b, off)?;
        let bl = backlen_size(l);
        let end = off.checked_add(l)?.checked_add(bl)?;
        if end > eof {
            return None;
        }
        decode(b, off)?;
        let mut want = [0u8; 5];
        encode_backlen(&mut want, l);
        if b.get(off + l..end)? != &want[..bl] {
            return None;
        }
        off = end;
        count += 1;
    }
    if hdr_count != NUMELE_UNKNOWN && hdr_count != count {
        return None;
    }
    Some(count)
}

#[cfg(test)]
#[path = "listpack_tests.rs"]
mod tests;
