//! Redis's CRC64 (Jones polynomial 0xad93d23594c935a9, reflected in and
//! out, no final xor) as used for RDB trailers and DUMP payloads: the `crc`
//! crate's CRC_64_REDIS, slice-by-16. The tests check it against Redis's
//! test vector, a bit-at-a-time reference and a real DUMP payload.

/// Redis's CRC-64 as catalogued (CRC-64/REDIS: check 0xe9c6d914c4b8d9ca).
static CRC: crc::Crc<u64, crc::Table<16>> =
    crc::Crc::<u64, crc::Table<16>>::new(&crc::CRC_64_REDIS);

/// Continues a CRC: `crc64(0, data)` is Redis's `crc64(0, data, len)`, and
/// `crc64(crc64(0, a), b) == crc64(0, a ++ b)`.
pub fn crc64(crc: u64, data: &[u8]) -> u64 {
    // The algorithm is reflected, so the crate takes the running value's
    // bit-reversal as its initial register.
    let mut d = CRC.digest_with_initial(crc.reverse_bits());
    d.update(data);
    d.finalize()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Reflected form of the Jones polynomial.
    const POLY: u64 = 0x95ac_9329_ac4b_c9b5;

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
