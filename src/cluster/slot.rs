//! Hash slots: CRC16 (XMODEM, as Redis's crc16.c), `key_hash_slot` with
//! `{hash tag}` rules, and the 16384-bit slot bitmaps the bus carries.
//! Pure: used by the keyspace's per-slot index and by the cluster.

/// Number of hash slots.
pub const SLOTS: usize = 16384;
/// Bytes of a slot bitmap.
pub const SLOT_BYTES: usize = SLOTS / 8;

/// CRC16-CCITT (XMODEM): polynomial 0x1021, init 0, no reflection.
pub fn crc16(buf: &[u8]) -> u16 {
    static TABLE: std::sync::OnceLock<[u16; 256]> = std::sync::OnceLock::new();
    let t = TABLE.get_or_init(|| {
        let mut t = [0u16; 256];
        for (i, e) in t.iter_mut().enumerate() {
            let mut c = (i as u16) << 8;
            for _ in 0..8 {
                c = if c & 0x8000 != 0 {
                    (c << 1) ^ 0x1021
                } else {
                    c << 1
                };
            }
            *e = c;
        }
        t
    });
    let mut crc: u16 = 0;
    for &b in buf {
        crc = (crc << 8) ^ t[(((crc >> 8) as u8) ^ b) as usize];
    }
    crc
}

/// The hash slot of a key: CRC16 of the key, or of the part between the
/// first `{` and the next `}` when that part is not empty.
#[inline]
pub fn key_hash_slot(key: &[u8]) -> usize {
    let part = match key.iter().position(|&c| c == b'{') {
        Some(s) => match key[s + 1..].iter().position(|&c| c == b'}') {
            Some(0) | None => key,
            Some(e) => &key[s + 1..s + 1 + e],
        },
        None => key,
    };
    (crc16(part) & 0x3FFF) as usize
}

/// A slot bitmap as the bus carries it (bit `slot % 8` of byte `slot / 8`).
pub type Bitmap = [u8; SLOT_BYTES];

#[inline]
pub fn test_bit(map: &Bitmap, slot: usize) -> bool {
    map[slot / 8] & (1 << (slot & 7)) != 0
}

#[inline]
pub fn set_bit(map: &mut Bitmap, slot: usize) {
    map[slot / 8] |= 1 << (slot & 7);
}

#[inline]
pub fn clear_bit(map: &mut Bitmap, slot: usize) {
    map[slot / 8] &= !(1 << (slot & 7));
}

/// Contiguous ranges of set bits: (start, end) inclusive.
pub fn ranges(map: &Bitmap) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut start = None;
    for s in 0..SLOTS {
        match (test_bit(map, s), start) {
            (true, None) => start = Some(s),
            (false, Some(b)) => {
                out.push((b, s - 1));
                start = None;
            }
            _ => {}
        }
    }
    if let Some(b) = start {
        out.push((b, SLOTS - 1));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc16_reference_values() {
        // The reference check value of CRC16/XMODEM.
        assert_eq!(crc16(b"123456789"), 0x31C3);
        // Values from the Redis Cluster specification and CLUSTER KEYSLOT.
        assert_eq!(key_hash_slot(b"foo"), 12182);
        assert_eq!(key_hash_slot(b"bar"), 5061);
        assert_eq!(key_hash_slot(b"somekey"), 11058);
    }

    #[test]
    fn hash_tags() {
        assert_eq!(
            key_hash_slot(b"{user1000}.following"),
            key_hash_slot(b"user1000")
        );
        assert_eq!(key_hash_slot(b"foo{}{bar}"), key_hash_slot(b"foo{}{bar}"));
        assert_ne!(key_hash_slot(b"foo{}{bar}"), key_hash_slot(b"bar"));
        assert_eq!(key_hash_slot(b"foo{{bar}}zap"), key_hash_slot(b"{bar"));
        assert_eq!(key_hash_slot(b"foo{bar}{zap}"), key_hash_slot(b"bar"));
        assert_eq!(key_hash_slot(b"{"), key_hash_slot(b"{"));
        assert_eq!(key_hash_slot(b""), 0);
    }

    #[test]
    fn bitmap_ranges() {
        let mut m = [0u8; SLOT_BYTES];
        for s in [0, 1, 2, 10, 16383] {
            set_bit(&mut m, s);
        }
        assert_eq!(ranges(&m), vec![(0, 2), (10, 10), (16383, 16383)]);
        clear_bit(&mut m, 1);
        assert!(!test_bit(&m, 1));
        assert_eq!(ranges(&m)[0], (0, 0));
    }
}
