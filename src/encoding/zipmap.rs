//! Legacy zipmap DECODER (RDB_TYPE_HASH_ZIPMAP, Redis < 2.6 hashes).
//!
//! Layout: zmlen (1 byte, 254 = unknown) | entries | 0xFF. Entry: key
//! length | key | value length | free (1 byte) | value | `free` unused
//! bytes. Lengths are 1 byte if < 254, else 254 + u32 (little endian).

use super::{rd_u32, DecodeError};

/// Decodes a zipmap into a flat `[field, value, field, value, ...]` list.
/// Duplicate fields are not rejected here (the caller builds the hash).
pub fn decode(b: &[u8]) -> Result<Vec<Vec<u8>>, DecodeError> {
    let e = DecodeError;
    let zmlen = *b.first().ok_or(e)? as usize;
    let mut out = Vec::new();
    let mut off = 1usize;
    loop {
        let c = *b.get(off).ok_or(e)?;
        if c == 0xFF {
            off += 1;
            break;
        }
        let (klen, n) = read_len(b, off)?;
        off += n;
        let key = take(b, off, klen)?;
        off += klen;
        let (vlen, n) = read_len(b, off)?;
        off += n;
        let free = *b.get(off).ok_or(e)? as usize;
        off += 1;
        let val = take(b, off, vlen)?;
        off = off.checked_add(vlen + free).ok_or(e)?;
        out.push(key.to_vec());
        out.push(val.to_vec());
    }
    // Nothing may follow the terminator, and a known count must match.
    if off != b.len() || (zmlen < 254 && zmlen * 2 != out.len()) {
        return Err(e);
    }
    Ok(out)
}

fn read_len(b: &[u8], off: usize) -> Result<(usize, usize), DecodeError> {
    match *b.get(off).ok_or(DecodeError)? {
        n @ 0..=253 => Ok((n as usize, 1)),
        _ => Ok((rd_u32(b, off + 1).ok_or(DecodeError)? as usize, 5)),
    }
}

fn take(b: &[u8], off: usize, n: usize) -> Result<&[u8], DecodeError> {
    b.get(off..off.checked_add(n).ok_or(DecodeError)?)
        .ok_or(DecodeError)
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

    /// A zipmap (every value with 2 free bytes) that redis-server 7.0.15
    /// loaded from an RDB as {name: ferrodis, k*300: v, e: ""}.
    const ZM: &str = "03046e616d650802666572726f6469737a7afe2c0100006b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b0102767a7a016500027a7aff";

    #[test]
    fn decodes_redis_accepted_zipmap() {
        let got = decode(&unhex(ZM)).unwrap();
        let want: Vec<Vec<u8>> = vec![
            b"name".to_vec(),
            b"ferrodis".to_vec(),
            vec![b'k'; 300],
            b"v".to_vec(),
            b"e".to_vec(),
            Vec::new(),
        ];
        assert_eq!(got, want);
        assert_eq!(decode(&[0, 0xFF]).unwrap(), Vec::<Vec<u8>>::new());
    }

    #[test]
    fn rejects_malformed() {
        let good = unhex(ZM);
        let mut b = good.clone();
        b[0] = 2;
        assert!(decode(&b).is_err());
        let mut b = good.clone();
        b[0] = 254; // unknown count is accepted
        assert!(decode(&b).is_ok());
        let mut b = good.clone();
        b.pop();
        assert!(decode(&b).is_err());
        let mut b = good;
        b.push(0);
        assert!(decode(&b).is_err());
    }

    #[test]
    fn fuzz_never_panics() {
        let mut r = TestRng::new(17);
        let good = unhex(ZM);
        for _ in 0..20000 {
            let mut b = good.clone();
            r.mutate(&mut b);
            let _ = decode(&b);
        }
    }
}
