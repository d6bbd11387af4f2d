//! LZF (liblzf 3.x as vendored by Redis): compression of RDB strings.
//!
//! `compress` mirrors Redis's configuration (HLOG 16, VERY_FAST, zeroed
//! hash table) step by step, so it emits the same bytes Redis does and
//! refuses in exactly the same cases. `decompress` is the CHECK_INPUT
//! decoder: every literal run and back-reference is bounds-checked.
//!
//! Stream format: `000LLLLL` + L+1 literal bytes; `LLLooooo oooooooo`
//! back-reference of L+2 bytes at distance o+1; `111ooooo LLLLLLLL
//! oooooooo` back-reference of L+9 bytes.

use super::DecodeError;

const HLOG: u32 = 16;
const HSIZE: usize = 1 << HLOG;
const MAX_LIT: usize = 1 << 5;
const MAX_OFF: usize = 1 << 13;
const MAX_REF: usize = (1 << 8) + (1 << 3);
/// A 3-byte back-reference can expand to MAX_REF bytes: the most output a
/// valid stream can justify per input byte.
const MAX_EXPANSION: usize = MAX_REF / 3 + 1;

#[inline]
fn idx(h: u32) -> usize {
    // liblzf's VERY_FAST hash of the last 3 bytes (with stale high bits,
    // which matter for byte-identical output).
    ((h >> (3 * 8 - HLOG)).wrapping_sub(h.wrapping_mul(5)) as usize) & (HSIZE - 1)
}

/// Compresses `input`, appending the result to `out`, the way Redis's
/// `rdbSaveLzfStringObject` does: the output must fit in `input.len() - 4`
/// bytes, otherwise `None` (and `out` is left untouched) meaning "store the
/// string raw". Redis only tries this for strings longer than 20 bytes.
pub fn compress(input: &[u8], out: &mut Vec<u8>) -> Option<usize> {
    let in_len = input.len();
    if in_len <= 4 {
        return None;
    }
    let out_len = in_len - 4;
    let base = out.len();
    // Four bytes of slack keep the tail writes in bounds; the result is
    // still rejected if it ends up longer than out_len.
    out.resize(base + out_len + 4, 0);
    let res = compress_into(input, &mut out[base..], out_len);
    match res {
        Some(n) => out.truncate(base + n),
        None => out.truncate(base),
    }
    res
}

/// The hash table, kept between calls: zeroing 256 KB for every string
/// would cost far more than compressing a short one. Each entry carries the
/// generation of the call that wrote it; an entry from another call reads
/// as empty, so every call behaves as if the table were freshly zeroed
/// (INIT_HTAB semantics, hence Redis's exact output). The server is
/// single-threaded; the thread-local only avoids a global lock.
struct HashTable {
    slots: Vec<u64>,
    generation: u32,
}

thread_local! {
    static HTAB: std::cell::RefCell<HashTable> = const {
        std::cell::RefCell::new(HashTable { slots: Vec::new(), generation: 0 })
    };
}

impl HashTable {
    /// Starts a call: a new generation makes every old entry empty.
    fn begin(&mut self) {
        if self.slots.is_empty() {
            self.slots = vec![0; HSIZE];
        }
        self.generation = self.generation.wrapping_add(1);
        if self.generation == 0 {
            self.slots.fill(0);
            self.generation = 1;
        }
    }

    /// The stored position + 1 of this call, or 0 for an empty slot.
    #[inline]
    fn get(&self, slot: usize) -> usize {
        let e = self.slots[slot];
        if (e >> 32) as u32 == self.generation {
            (e & 0xffff_ffff) as usize
        } else {
            0
        }
    }

    #[inline]
    fn set(&mut self, slot: usize, pos_plus_one: usize) {
        self.slots[slot] = (u64::from(self.generation) << 32) | pos_plus_one as u64;
    }
}

fn compress_into(input: &[u8], o: &mut [u8], out_len: usize) -> Option<usize> {
    HTAB.with(|t| {
        let mut t = t.borrow_mut();
        t.begin();
        compress_with(input, o, out_len, &mut t)
    })
}

fn compress_with(
    input: &[u8],
    o: &mut [u8],
    out_len: usize,
    htab: &mut HashTable,
) -> Option<usize> {
    let in_len = input.len();
    let mut ip = 0usize;
    let mut op = 1usize; // byte 0 reserved for the first literal run length
    let mut lit = 0usize;
    let mut hval: u32 = (u32::from(input[0]) << 8) | u32::from(input[1]);
    while ip + 2 < in_len {
        hval = (hval << 8) | u32::from(input[ip + 2]);
        let slot = idx(hval);
        let stored = htab.get(slot);
        htab.set(slot, ip + 1);
        let matched = stored > 1 // ref must be > start of input
            && ip - stored < MAX_OFF // off = ip - ref - 1
            && input[stored - 1..stored + 2] == input[ip..ip + 3];
        if matched {
            let r = stored - 1;
            let off = ip - r - 1;
            let mut len = 2usize;
            let maxlen = (in_len - ip - len).min(MAX_REF);
            o[op - lit - 1] = (lit as u8).wrapping_sub(1); // close literal run
            op -= usize::from(lit == 0); // drop an empty run
            if op + 3 + 1 >= out_len {
                return None;
            }
            let mut done = false;
            if maxlen > 16 {
                for _ in 0..16 {
                    len += 1;
                    if input[r + len] != input[ip + len] {
                        done = true;
                        break;
                    }
                }
            }
            if !done {
                loop {
                    len += 1;
                    if !(len < maxlen && input[r + len] == input[ip + len]) {
                        break;
                    }
                }
            }
            len -= 2;
            ip += 1;
            if len < 7 {
                o[op] = ((off >> 8) + (len << 5)) as u8;
                op += 1;
            } else {
                o[op] = ((off >> 8) + (7 << 5)) as u8;
                o[op + 1] = (len - 7) as u8;
                op += 2;
            }
            o[op] = off as u8;
            op += 2; // and start a new literal run
            lit = 0;
            ip += len + 1;
            if ip >= in_len - 2 {
                break;
            }
            // VERY_FAST: hash the two positions before the new ip.
            ip -= 2;
            hval = (u32::from(input[ip]) << 8) | u32::from(input[ip + 1]);
            for _ in 0..2 {
                hval = (hval << 8) | u32::from(input[ip + 2]);
                htab.set(idx(hval), ip + 1);
                ip += 1;
            }
        } else {
            if op >= out_len {
                return None;
            }
            lit += 1;
            o[op] = input[ip];
            op += 1;
            ip += 1;
            if lit == MAX_LIT {
                o[op - lit - 1] = (lit - 1) as u8;
                lit = 0;
                op += 1;
            }
        }
    }
    if op + 3 > out_len {
        return None;
    }
    while ip < in_len {
        lit += 1;
        o[op] = input[ip];
        op += 1;
        ip += 1;
        if lit == MAX_LIT {
            o[op - lit - 1] = (lit - 1) as u8;
            lit = 0;
            op += 1;
        }
    }
    o[op - lit - 1] = (lit as u8).wrapping_sub(1);
    op -= usize::from(lit == 0);
    (op <= out_len).then_some(op)
}

/// Decompresses an LZF stream that must expand to exactly `expected_len`
/// bytes (Redis treats any other length as corruption). Rejects truncated
/// input, back-references before the start and output overruns, and
/// refuses up front lengths the input could not possibly produce.
pub fn decompress(input: &[u8], expected_len: usize) -> Result<Vec<u8>, DecodeError> {
    if expected_len > input.len().saturating_mul(MAX_EXPANSION) {
        return Err(DecodeError);
    }
    let mut out: Vec<u8> = Vec::with_capacity(expected_len);
    let mut ip = 0usize;
    while ip < input.len() {
        let ctrl = input[ip] as usize;
        ip += 1;
        if ctrl < 32 {
            let n = ctrl + 1;
            let lits = input.get(ip..ip + n).ok_or(DecodeError)?;
            if out.len() + n > expected_len {
                return Err(DecodeError);
            }
            out.extend_from_slice(lits);
            ip += n;
        } else {
            let mut len = ctrl >> 5;
            if len == 7 {
                len += *input.get(ip).ok_or(DecodeError)? as usize;
                ip += 1;
            }
            let lo = *input.get(ip).ok_or(DecodeError)? as usize;
            ip += 1;
            let dist = ((ctrl & 0x1f) << 8) + lo + 1;
            len += 2;
            if out.len() + len > expected_len {
                return Err(DecodeError);
            }
            let start = out.len().checked_sub(dist).ok_or(DecodeError)?;
            if dist >= len {
                out.extend_from_within(start..start + len);
            } else {
                // Overlapping copy: repeats the last `dist` bytes.
                for i in 0..len {
                    let b = out[start + i];
                    out.push(b);
                }
            }
        }
    }
    if out.len() != expected_len {
        return Err(DecodeError);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::encoding::crc64::crc64;
    use crate::encoding::TestRng;

    fn gen(kind: u32, n: usize) -> Vec<u8> {
        match kind {
            0 => (0..n)
                .map(|i| format!("key:{}:value:{};", i, i % 7))
                .collect::<String>()
                .into_bytes(),
            1 => {
                let mut x: u64 = 12345;
                (0..n)
                    .map(|_| {
                        x = (x * 1_103_515_245 + 12345) & 0x7fff_ffff;
                        97 + ((x >> 16) % 4) as u8
                    })
                    .collect()
            }
            _ => vec![b'a'; n],
        }
    }

    #[test]
    fn matches_redis_dump() {
        // (generator, n, input len, compressed len, crc64 of compressed),
        // from SET + DUMP on redis-server 7.0.15 with rdbcompression yes.
        let cases: &[(u32, usize, usize, usize, u64)] = &[
            (0, 50, 740, 301, 0x0d7a_b285_f93b_15e2),
            (0, 3000, 49890, 15215, 0x181f_d02c_45dd_d28c),
            (1, 5000, 5000, 3003, 0xabc6_4526_d7b0_ec91),
            (2, 21, 21, 6, 0x568c_6408_904e_d3d3),
            (2, 1000, 1000, 18, 0x7960_7ad5_6590_fc60),
            (2, 100_000, 100_000, 1143, 0x445d_c901_aab5_ca07),
        ];
        for &(kind, n, ilen, clen, crc) in cases {
            let input = gen(kind, n);
            assert_eq!(input.len(), ilen);
            let mut out = vec![0xAA]; // appends after existing bytes
            assert_eq!(compress(&input, &mut out), Some(clen), "kind {kind} n {n}");
            assert_eq!(crc64(0, &out[1..]), crc, "kind {kind} n {n}");
            assert_eq!(decompress(&out[1..], ilen).unwrap(), input);
        }
        // Redis stored these raw (no saving).
        assert_eq!(compress(&gen(1, 40), &mut Vec::new()), None);
        let mut out = Vec::new();
        compress(&gen(2, 1000), &mut out);
        assert_eq!(
            out,
            b"\x01\x61\x61\xe0\xff\x00\xe0\xff\x00\xe0\xff\x00\xe0\xc3\x00\x01\x61\x61"
        );
        // SET s abc*12 xyz*20: DUMP body
        let s = [b"abc".repeat(12), b"xyz".repeat(20)].concat();
        let mut out = Vec::new();
        assert_eq!(compress(&s, &mut out), Some(18));
        assert_eq!(out, b"\x03abca\xe0\x17\x02\x02xyz\xe0\x2e\x02\x01yz");
        // A stream node listpack that Redis stores raw: liblzf finds a
        // match 3 bytes before the end, then runs out of room (54 bytes
        // would need 56 of slack), so the result is None, not 54 bytes.
        let lp = b"\x3b\x00\x00\x00\x18\x00\x03\x01\x00\x01\x01\x01\x81\x61\x02\x00\x01\x02\x01\x00\x01\x00\x01\x01\x01\x04\x01\x00\x01\x00\x01\x01\x01\x02\x01\x81\x61\x02\x02\x01\x81\x62\x02\x03\x01\x08\x01\x02\x01\x01\x01\xdf\xff\x02\x05\x01\x04\x01\xff";
        assert_eq!(compress(lp, &mut Vec::new()), None);
        let mut out = vec![0u8; 64];
        let n = HTAB.with(|t| {
            let mut t = t.borrow_mut();
            t.begin();
            compress_with(lp, &mut out, 60, &mut t)
        });
        assert_eq!(n, Some(54));
        // With room to spare: the same bytes as liblzf.
        assert_eq!(&out[..54], b"\x11\x3b\x00\x00\x00\x18\x00\x03\x01\x00\x01\x01\x01\x81\x61\x02\x00\x01\x02\x20\x0a\x40\x0c\x00\x04\x20\x05\x40\x07\x00\x02\x40\x16\x20\x04\x04\x62\x02\x03\x01\x08\x20\x0d\x05\x01\x01\xdf\xff\x02\x05\x20\x1e\x00\xff");
    }

    #[test]
    fn roundtrip_random() {
        let mut r = TestRng::new(3);
        for _ in 0..300 {
            let n = r.below(3000) as usize + 5;
            let alpha = r.below(20) + 1;
            let input: Vec<u8> = (0..n).map(|_| b'a' + r.below(alpha) as u8).collect();
            let mut out = Vec::new();
            if let Some(c) = compress(&input, &mut out) {
                assert_eq!(c, out.len());
                assert!(c <= input.len() - 4);
                assert_eq!(decompress(&out, input.len()).unwrap(), input);
            } else {
                assert!(out.is_empty());
            }
        }
        assert_eq!(compress(b"aaaa", &mut Vec::new()), None);
    }

    #[test]
    fn rejects_malformed() {
        assert!(decompress(b"\x05ab", 6).is_err()); // truncated literal
        assert!(decompress(b"\x00a\x20\x05", 4).is_err()); // ref before start
        assert!(decompress(b"\x00a\x20\x00", 2).is_err()); // overrun
        assert!(decompress(b"\x00a\x20\x00", 9).is_err()); // too short
        assert!(decompress(b"\xe0", 50).is_err());
        assert!(decompress(b"\x00a", 1 << 40).is_err()); // absurd length
        assert_eq!(decompress(b"\x00a\x20\x00", 4).unwrap(), b"aaaa");
        assert_eq!(decompress(b"", 0).unwrap(), b"");
    }

    #[test]
    fn fuzz_never_panics() {
        let mut r = TestRng::new(11);
        let input = gen(0, 40);
        let mut good = Vec::new();
        compress(&input, &mut good).unwrap();
        for _ in 0..20000 {
            let mut b = good.clone();
            r.mutate(&mut b);
            let want = if r.below(2) == 0 {
                input.len()
            } else {
                r.below(2000) as usize
            };
            let _ = decompress(&b, want);
        }
    }
}
