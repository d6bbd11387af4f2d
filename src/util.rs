//! Small shared helpers: clocks, a fast PRNG, Redis's glob matcher, random
//! hex ids, and number formatting that must match Redis byte for byte.

pub mod hdr;
pub mod pqsort;

use std::time::{SystemTime, UNIX_EPOCH};

/// Wall clock in unix microseconds.
pub fn ustime() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_micros() as i64)
        .unwrap_or(0)
}

/// Wall clock in unix milliseconds.
pub fn mstime() -> i64 {
    ustime() / 1000
}

/// Monotonic clock in microseconds (for durations).
pub fn monotonic_us() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes into the struct we own.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    ts.tv_sec as u64 * 1_000_000 + ts.tv_nsec as u64 / 1000
}

/// xorshift64*: fast, good enough for sampling and random keys.
pub struct Rng(u64);

impl Rng {
    pub fn new() -> Rng {
        let mut seed = [0u8; 8];
        let ok = std::fs::File::open("/dev/urandom")
            .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut seed))
            .is_ok();
        let s = if ok {
            u64::from_le_bytes(seed)
        } else {
            ustime() as u64 ^ ((std::process::id() as u64) << 32)
        };
        Rng(s | 1)
    }

    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545F4914F6CDD1D)
    }

    /// Uniform in 0..n (n > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        if n == 0 {
            0
        } else {
            self.next_u64() % n
        }
    }
}

impl Default for Rng {
    fn default() -> Self {
        Rng::new()
    }
}

/// 40 random hex characters (run ids, replication ids).
pub fn random_hex40() -> String {
    let mut buf = [0u8; 20];
    let ok = std::fs::File::open("/dev/urandom")
        .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut buf))
        .is_ok();
    if !ok {
        let mut r = Rng(ustime() as u64 | 1);
        for b in buf.iter_mut() {
            *b = r.next_u64() as u8;
        }
    }
    buf.iter().map(|b| format!("{b:02x}")).collect()
}

/// Redis's glob matcher (stringmatchlen): `*`, `?`, `[...]` with ranges and
/// `^` negation, `\` escapes. `nocase` folds ASCII case.
pub fn string_match(pattern: &[u8], s: &[u8], nocase: bool) -> bool {
    match_impl(pattern, s, nocase, 0)
}

fn match_impl(mut p: &[u8], mut s: &[u8], nocase: bool, depth: u32) -> bool {
    // Deep nesting of `*` is how patterns explode; Redis caps it too.
    if depth > 1000 {
        return false;
    }
    let eq = |a: u8, b: u8| {
        if nocase {
            a.eq_ignore_ascii_case(&b)
        } else {
            a == b
        }
    };
    while !p.is_empty() && !s.is_empty() {
        match p[0] {
            b'*' => {
                while p.len() > 1 && p[1] == b'*' {
                    p = &p[1..];
                }
                if p.len() == 1 {
                    return true;
                }
                for i in 0..s.len() {
                    if match_impl(&p[1..], &s[i..], nocase, depth + 1) {
                        return true;
                    }
                }
                return false;
            }
            b'?' => {
                s = &s[1..];
            }
            b'[' => {
                p = &p[1..];
                let not = p.first() == Some(&b'^');
                if not {
                    p = &p[1..];
                }
                let mut matched = false;
                loop {
                    if p.is_empty() {
                        break;
                    }
                    if p[0] == b'\\' && p.len() >= 2 {
                        p = &p[1..];
                        if p[0] == s[0] {
                            matched = true;
                        }
                    } else if p[0] == b']' {
                        break;
                    } else if p.len() >= 3 && p[1] == b'-' {
                        let (mut start, mut end) = (p[0], p[2]);
                        let mut c = s[0];
                        if start > end {
                            std::mem::swap(&mut start, &mut end);
                        }
                        if nocase {
                            start = start.to_ascii_lowercase();
                            end = end.to_ascii_lowercase();
                            c = c.to_ascii_lowercase();
                        }
                        p = &p[2..];
                        if c >= start && c <= end {
                            matched = true;
                        }
                    } else if eq(p[0], s[0]) {
                        matched = true;
                    }
                    p = &p[1..];
                }
                if not {
                    matched = !matched;
                }
                if !matched {
                    return false;
                }
                s = &s[1..];
                // p points at ']' (or the end, for a malformed pattern).
                if p.is_empty() {
                    return s.is_empty();
                }
            }
            b'\\' if p.len() >= 2 => {
                p = &p[1..];
                if !eq(p[0], s[0]) {
                    return false;
                }
                s = &s[1..];
            }
            c => {
                if !eq(c, s[0]) {
                    return false;
                }
                s = &s[1..];
            }
        }
        p = &p[1..];
        if s.is_empty() {
            while p.first() == Some(&b'*') {
                p = &p[1..];
            }
            break;
        }
    }
    p.is_empty() && s.is_empty()
}

/// Formats a float the way INCRBYFLOAT and HINCRBYFLOAT reply: fixed
/// notation with up to 17 decimals, trailing zeros and dot removed.
pub fn fmt_long_double(v: f64) -> String {
    if v.is_infinite() {
        return if v > 0.0 { "inf".into() } else { "-inf".into() };
    }
    // %.17Lf on an 80-bit long double shows ~19 significant digits; the
    // shortest round-trip form of the f64 gives what those digits read as.
    let s = format!("{v}");
    if s.contains('e') || s.contains('E') {
        let s = format!("{v:.17}");
        return trim_zeros(&s);
    }
    trim_zeros(&s)
}

fn trim_zeros(s: &str) -> String {
    if s.contains('.') {
        let t = s.trim_end_matches('0').trim_end_matches('.');
        if t == "-0" {
            return "0".into();
        }
        t.to_string()
    } else if s == "-0" {
        "0".into()
    } else {
        s.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn glob() {
        assert!(string_match(b"*", b"anything", false));
        assert!(string_match(b"h?llo", b"hello", false));
        assert!(string_match(b"h[ae]llo", b"hallo", false));
        assert!(!string_match(b"h[^e]llo", b"hello", false));
        assert!(string_match(b"h[a-b]llo", b"hbllo", false));
        assert!(string_match(b"key:*", b"key:1", false));
        assert!(!string_match(b"key:*", b"kez:1", false));
        assert!(string_match(b"a\\*b", b"a*b", false));
        assert!(string_match(
            b"*ziplist*",
            b"HASH-MAX-ZIPLIST-ENTRIES",
            true
        ));
        assert!(string_match(b"a*", b"a", false));
        assert!(!string_match(b"a?", b"a", false));
    }

    #[test]
    fn long_double() {
        assert_eq!(fmt_long_double(20.5), "20.5");
        assert_eq!(fmt_long_double(3000.0), "3000");
        assert_eq!(fmt_long_double(-0.0), "0");
        assert_eq!(fmt_long_double(1e20), "100000000000000000000");
    }
}

/// A fast non-cryptographic hasher (the Fx multiply-rotate) for tables
/// whose keys clients cannot choose: the command index and per-command
/// statistics. The keyspace keeps the keyed SipHash of `dict`.
#[derive(Default, Clone, Copy)]
pub struct FxHasher(u64);

const FX_SEED: u64 = 0x51_7c_c1_b7_27_22_0a_95;

impl FxHasher {
    #[inline]
    fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(FX_SEED);
    }
}

impl std::hash::Hasher for FxHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let mut w = [0u8; 8];
            w.copy_from_slice(c);
            self.add(u64::from_le_bytes(w));
        }
        for &b in chunks.remainder() {
            self.add(u64::from(b));
        }
    }

    #[inline]
    fn write_u8(&mut self, i: u8) {
        self.add(u64::from(i));
    }

    #[inline]
    fn write_usize(&mut self, i: usize) {
        self.add(i as u64);
    }

    #[inline]
    fn finish(&self) -> u64 {
        self.0
    }
}

pub type FxBuildHasher = std::hash::BuildHasherDefault<FxHasher>;
