//! Small shared helpers: clocks, a fast PRNG and random hex ids (tables
//! whose keys clients cannot choose hash with `rustc_hash::FxBuildHasher`;
//! the keyspace keeps the keyed SipHash of `dict`). Submodules own one Redis primitive each:
//! - `glob`: `stringmatchlen`, the only glob matcher;
//! - `splitargs`: `sdssplitargs` and `sdscatrepr`, the only argument
//!   splitter and quoter (inline requests, redis.conf, AOF, MONITOR, REWRITE);
//! - `pqsort`: Redis's partial quicksort (GEO searches with COUNT);
//! - `hdr`: the HDR histogram of per-command latencies;
//! - `open_table`: the open-addressed table with incremental resize and
//!   SCAN (sorted-set member index, hashtable sets);
//! - `chunked_vec`: a growable array that never moves in bulk.
//!
//! Numbers (string2ll, ll2string, strtod, `%.17g`) live in
//! `encoding::numbers`.

pub mod chunked_vec;
pub mod glob;
pub mod hdr;
pub mod open_table;
pub mod pqsort;
pub mod proctitle;
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
