//! Redis's CRC64 (Jones polynomial 0xad93d23594c935a9, reflected in and
//! out, no final xor) as used for RDB trailers and DUMP payloads.
//! Slice-by-8 with tables built at compile time.

/// Reflected form of the Jones polynomial.
const POLY: u64 = 0x95ac_9329_ac4b_c9b5;

const fn make_tables() -> [[u64; 256]; 8] {
    let mut t = [[0u64; 256]; 8];
    let mut i = 0;
    while i < 256 {
        let mut c = i as u64;
        let mut k = 0;
        while k < 8 {
            c = if c & 1 == 1 { (c >> 1) ^ POLY } else { c >> 1 };
            k += 1;
        }
        t[0][i] = c;
        i += 1;
    }
    let mut i = 0;
    while i < 256 {
        let mut j = 1;
        while j < 8 {
            let prev = t[j - 1][i];
            t[j][i] = (prev >> 8) ^ t[0][(prev & 0xff) as usize];
            j += 1;
        }
        i += 1;
    }
    t
}

static TABLES: [[u64; 256]; 8] = make_tables();

/// Continues a CRC: `crc64(0, data)` is Redis's `crc64(0, data, len)`, and
/// `crc64(crc64(0, a), b) == crc64(0, a ++ b)`.
pub fn crc64(crc: u64, data: &[u8]) -> u64 {
    let t = &TABLES;
    let mut c = crc;
    let mut chunks = data.chunks_exact(8);
    for ch in &mut chunks {
        let mut w = [0u8; 8];
        w.copy_from_slice(ch);
        let v = c ^ u64::from_le_bytes(w);
        c = t[7][(v & 0xff) as usize]
            ^ t[6][((v >> 8) & 0xff) as usize]
            ^ t[5][((v >> 16) & 0xff) as usize]
            ^ t[4][((v >> 24) & 0xff) as usize]
            ^ t[3][((v >> 32) & 0xff) as usize]
            ^ t[2][((v >> 40) & 0xff) as usize]
            ^ t[1][((v >> 48) & 0xff) as usize]
            ^ t[0][(v >> 56) as usize];
    }
    for &b in chunks.remainder() {
        c = t[0][((c ^ u64::from(b)) & 0xff) as usize] ^ (c >> 8);
    }
    c
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bitwise(data: &[u8]) -> u64 {
        let mut c = 0u64;
        for &b in data {
            c ^= u64::from(b);
            for _ in 0..8 {
                c = if c & 1 == 1 { (c >> 1) ^ POLY } else { c >> 1 };
            }
        }
        c
    }

    #[test]
    fn check_value() {
        assert_eq!(crc64(0, b"123456789"), 0xe9c6_d914_c4b8_d9ca);
        assert_eq!(crc64(0, b""), 0);
    }

    #[test]
    fn slicing_matches_bitwise_and_chains() {
        let data: Vec<u8> = (0..1000u32).map(|i| (i * 31 + 7) as u8).collect();
        for n in [0, 1, 7, 8, 9, 63, 64, 65, 999, 1000] {
            assert_eq!(crc64(0, &data[..n]), bitwise(&data[..n]));
        }
        let whole = crc64(0, &data);
        assert_eq!(crc64(crc64(0, &data[..333]), &data[333..]), whole);
    }

    #[test]
    fn dump_payload_trailer() {
        // DUMP of a list on redis-server 7.0.15: the last 8 bytes are the
        // little-endian CRC64 of everything before them.
        let payload: &[u8] = b"\x10\x11\x11\x00\x00\x00\x04\x00\x81f\x02\x01\x01\x81g\x02\x02\x01\xff\n\x00\xdc\xe0\x88\xc5x\xacl+";
        let (body, crc) = payload.split_at(payload.len() - 8);
        let mut w = [0u8; 8];
        w.copy_from_slice(crc);
        assert_eq!(crc64(0, body), u64::from_le_bytes(w));
    }
}
