//! Small shared helpers: clocks, a fast PRNG, random hex ids, and the Fx
//! hasher. Submodules own one Redis primitive each:
//! - `glob`: `stringmatchlen`, the only glob matcher;
//! - `splitargs`: `sdssplitargs` and `sdscatrepr`, the only argument
//!   splitter and quoter (inline requests, redis.conf, AOF, MONITOR, REWRITE).
//!
//! Numbers (string2ll, ll2string, strtod, `%.17g`) live in
//! `encoding::numbers`.

pub mod glob;
pub mod splitargs;

pub use glob::string_match;

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

    /// A deterministic generator (tests, reproducible fuzzing).
    pub fn seeded(seed: u64) -> Rng {
        Rng(seed | 1)
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
