//! Legacy ziplist DECODER (RDB types list/hash/zset-ziplist and the
//! quicklist v1 nodes). Redis 7 never writes ziplists; it only converts
//! them on load, so this module only reads them, with full bounds checks.
//!
//! Layout: zlbytes u32 LE | zltail u32 LE (offset of last entry) | zllen
//! u16 LE (65535 = unknown) | entries | 0xFF. Entry: prevlen (1 byte, or
//! 0xFE + u32 LE) | encoding (+ length) | payload.

use super::numbers::i64_to_vec;
use super::{rd_u16, rd_u32, DecodeError};

const HDR: usize = 10;

/// Decodes every entry of a ziplist; integers come back in decimal.
pub fn decode(b: &[u8]) -> Result<Vec<Vec<u8>>, DecodeError> {
    let mut out = Vec::new();
    decode_into(b, &mut out)?;
    Ok(out)
}

/// Like [`decode`] but appends to `out` (quicklist v1: one call per node)
/// and returns the number of entries added. On error `out` may hold a
/// partial result.
pub fn decode_into(b: &[u8], out: &mut Vec<Vec<u8>>) -> Result<usize, DecodeError> {
    let e = DecodeError;
    let total = rd_u32(b, 0).ok_or(e)? as usize;
    let tail = rd_u32(b, 4).ok_or(e)? as usize;
    let hdr_count = rd_u16(b, 8).ok_or(e)? as usize;
    if total != b.len() || total < HDR + 1 || b[total - 1] != 0xFF {
        return Err(e);
    }
    let end = total - 1;
    let mut off = HDR;
    let mut prev_size = 0usize;
    let mut last = HDR;
    let mut count = 0usize;
    while off < end {
        let start = off;
        // prevlen must describe the previous entry exactly.
        let (prevlen, pl_size) = match *b.get(off).ok_or(e)? {
            0xFE => (rd_u32(b, off + 1).ok_or(e)? as usize, 5),
            0xFF => return Err(e),
            n => (n as usize, 1),
        };
        if prevlen != prev_size {
            return Err(e);
        }
        off += pl_size;
        let c = *b.get(off).ok_or(e)?;
        let (value, size): (Vec<u8>, usize) = match c >> 6 {
            0 => string_at(b, off + 1, (c & 0x3F) as usize, 1)?,
            1 => {
                let n = (((c & 0x3F) as usize) << 8) | *b.get(off + 1).ok_or(e)? as usize;
                string_at(b, off + 2, n, 2)?
            }
            2 => {
                let s = b.get(off + 1..off + 5).ok_or(e)?;
                let n = u32::from_be_bytes([s[0], s[1], s[2], s[3]]) as usize;
                string_at(b, off + 5, n, 5)?
            }
            _ => {
                let (n, v) = match c {
                    0xC0 => (2, None),
                    0xD0 => (4, None),
                    0xE0 => (8, None),
                    0xF0 => (3, None),
                    0xFE => (1, None),
                    0xF1..=0xFD => (0, Some(i64::from(c & 0x0F) - 1)),
                    _ => return Err(e),
                };
                let v = match v {
                    Some(v) => v,
                    None => {
                        let s = b.get(off + 1..off + 1 + n).ok_or(e)?;
                        let mut w = [0u8; 8];
                        w[..n].copy_from_slice(s);
                        let sh = 64 - 8 * n as u32;
                        ((u64::from_le_bytes(w) << sh) as i64) >> sh
                    }
                };
                (i64_to_vec(v), 1 + n)
            }
        };
        off += size;
        if off > end {
            return Err(e);
        }
        prev_size = off - start;
        last = start;
        out.push(value);
        count += 1;
    }
    if tail != last || (hdr_count != 0xFFFF && hdr_count != count) {
        return Err(e);
    }
    Ok(count)
}

fn string_at(
    b: &[u8],
    start: usize,
    n: usize,
    hdr: usize,
) -> Result<(Vec<u8>, usize), DecodeError> {
    let s = b
        .get(start..start.checked_add(n).ok_or(DecodeError)?)
        .ok_or(DecodeError)?;
    Ok((s.to_vec(), hdr + n))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::encoding::TestRng;

    fn unhex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    /// A ziplist that redis-server 7.0.15 loaded from an RDB (as a list
    /// ziplist and as a quicklist v1 node) and listed back as EXPECTED.
    const ZL: &str = "7a0100006f0100000e00000568656c6c6f07fd02f102feff03fe7f03c0800004c02c0104f0ff7fff05f070110105e000f2052a010000000a412c787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878fe2f0100000006fe0d03e00000000000000080ff";

    fn expected() -> Vec<Vec<u8>> {
        let mut v: Vec<Vec<u8>> = [
            "hello",
            "12",
            "0",
            "-1",
            "127",
            "128",
            "300",
            "-32769",
            "70000",
            "5000000000",
        ]
        .iter()
        .map(|s| s.as_bytes().to_vec())
        .collect();
        v.push(vec![b'x'; 300]);
        v.push(Vec::new());
        v.push(b"13".to_vec());
        v.push(b"-9223372036854775808".to_vec());
        v
    }

    #[test]
    fn decodes_redis_accepted_ziplist() {
        assert_eq!(decode(&unhex(ZL)).unwrap(), expected());
        let empty = [11, 0, 0, 0, 10, 0, 0, 0, 0, 0, 0xFF];
        assert_eq!(decode(&empty).unwrap(), Vec::<Vec<u8>>::new());
    }

    #[test]
    fn rejects_malformed() {
        let good = unhex(ZL);
        let mut b = good.clone();
        b[8] = 3; // wrong count
        assert!(decode(&b).is_err());
        let mut b = good.clone();
        b[4] = 0; // wrong tail
        assert!(decode(&b).is_err());
        let mut b = good.clone();
        b.pop();
        assert!(decode(&b).is_err());
        let mut b = good;
        b[11] = 0x80; // 32-bit string length far past the end
        assert!(decode(&b).is_err());
    }

    #[test]
    fn fuzz_never_panics() {
        let mut r = TestRng::new(99);
        let good = unhex(ZL);
        for _ in 0..20000 {
            let mut b = good.clone();
            r.mutate(&mut b);
            if r.below(2) == 0 && b.len() >= 4 {
                let n = b.len() as u32;
                b[..4].copy_from_slice(&n.to_le_bytes());
            }
            let _ = decode(&b);
        }
    }
}
