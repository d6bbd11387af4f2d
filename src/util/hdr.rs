//! The HDR histogram Redis 7.0 keeps per command when `latency-tracking`
//! is on (deps/hdr_histogram with lowest 1 ns, highest 1 s, 2 significant
//! figures): the same bucket layout, percentile rule and logarithmic
//! iteration, so that `INFO latencystats` and `LATENCY HISTOGRAM` report
//! the same values Redis would for the same durations.

/// Redis's LATENCY_HISTOGRAM_MIN_VALUE / MAX_VALUE (nanoseconds).
pub const MIN_VALUE: i64 = 1;
pub const MAX_VALUE: i64 = 1_000_000_000;

// The layout hdr_init derives from (1, 1e9, 2): unit magnitude 0, 256
// sub-buckets (half 128), 23 buckets.
const SUB_BUCKET_HALF_COUNT_MAGNITUDE: u32 = 7;
const SUB_BUCKET_HALF_COUNT: i64 = 128;
const SUB_BUCKET_COUNT: i64 = 256;
const SUB_BUCKET_MASK: i64 = 255;
const COUNTS_LEN: usize = 24 * 128;

pub struct Histogram {
    counts: Box<[i64; COUNTS_LEN]>,
    total: i64,
}

impl Default for Histogram {
    fn default() -> Self {
        Histogram::new()
    }
}

fn bucket_index(v: i64) -> i64 {
    let pow2ceiling = 64 - i64::from((v | SUB_BUCKET_MASK).leading_zeros());
    pow2ceiling - (i64::from(SUB_BUCKET_HALF_COUNT_MAGNITUDE) + 1)
}

/// (bucket, sub-bucket) of a value.
fn indices(v: i64) -> (i64, i64) {
    let b = bucket_index(v);
    (b, v >> b)
}

fn counts_index_for(v: i64) -> i64 {
    let (b, s) = indices(v);
    ((b + 1) << SUB_BUCKET_HALF_COUNT_MAGNITUDE) + (s - SUB_BUCKET_HALF_COUNT)
}

fn value_at_index(idx: i64) -> i64 {
    let mut b = (idx >> SUB_BUCKET_HALF_COUNT_MAGNITUDE) - 1;
    let mut s = (idx & (SUB_BUCKET_HALF_COUNT - 1)) + SUB_BUCKET_HALF_COUNT;
    if b < 0 {
        s -= SUB_BUCKET_HALF_COUNT;
        b = 0;
    }
    s << b
}

fn lowest_equivalent(v: i64) -> i64 {
    let (b, s) = indices(v);
    s << b
}

fn range_size(b: i64, s: i64) -> i64 {
    let adjusted = if s >= SUB_BUCKET_COUNT { b + 1 } else { b };
    1 << adjusted
}

fn highest_equivalent(v: i64) -> i64 {
    let (b, s) = indices(v);
    (s << b) + range_size(b, s) - 1
}

impl Histogram {
    pub fn new() -> Histogram {
        Histogram {
            counts: Box::new([0; COUNTS_LEN]),
            total: 0,
        }
    }

    /// Records one duration in nanoseconds, clamped to the tracked range.
    pub fn record(&mut self, ns: i64) {
        let v = ns.clamp(MIN_VALUE, MAX_VALUE);
        let idx = counts_index_for(v);
        if let Some(c) = usize::try_from(idx)
            .ok()
            .and_then(|i| self.counts.get_mut(i))
        {
            *c += 1;
            self.total += 1;
        }
    }

    pub fn total_count(&self) -> i64 {
        self.total
    }

    /// hdr_value_at_percentile: the highest value equivalent to the one at
    /// that percentile (the lowest one for percentile 0).
    pub fn value_at_percentile(&self, percentile: f64) -> i64 {
        let requested = percentile.min(100.0);
        let want = ((requested / 100.0 * self.total as f64) + 0.5) as i64;
        let want = want.max(1);
        let mut acc = 0;
        let mut v = 0;
        for (idx, &c) in self.counts.iter().enumerate() {
            acc += c;
            if acc >= want {
                v = value_at_index(idx as i64);
                break;
            }
        }
        if percentile == 0.0 {
            lowest_equivalent(v)
        } else {
            highest_equivalent(v)
        }
    }

    /// LATENCY HISTOGRAM's buckets: a logarithmic iteration from 1024 ns
    /// with base 2, as (microseconds, cumulative count) pairs, only where
    /// the cumulative count grew (Redis's fillCommandCDF).
    pub fn cdf(&self) -> Vec<(i64, i64)> {
        let mut out = Vec::new();
        let mut it = LogIter {
            h: self,
            counts_index: -1,
            cumulative: 0,
            value: 0,
            highest_equivalent: 0,
            next_level: 1024,
            next_level_lowest: lowest_equivalent(1024),
        };
        let mut previous = 0;
        while it.next() {
            if it.cumulative > previous {
                out.push((it.highest_equivalent / 1000, it.cumulative));
            }
            previous = it.cumulative;
        }
        out
    }
}

/// hdr_iter_log: reports at 1024, 2048, 4096... ns.
struct LogIter<'a> {
    h: &'a Histogram,
    counts_index: i64,
    cumulative: i64,
    value: i64,
    highest_equivalent: i64,
    next_level: i64,
    next_level_lowest: i64,
}

impl LogIter<'_> {
    fn move_next(&mut self) -> bool {
        self.counts_index += 1;
        let Some(&count) = usize::try_from(self.counts_index)
            .ok()
            .and_then(|i| self.h.counts.get(i))
        else {
            return false;
        };
        self.cumulative += count;
        let value = value_at_index(self.counts_index);
        let (b, s) = indices(value);
        self.value = value;
        self.highest_equivalent = (s << b) + range_size(b, s) - 1;
        true
    }

    fn next(&mut self) -> bool {
        let more_counts = self.cumulative < self.h.total;
        let beyond_level = self.counts_index < COUNTS_LEN as i64
            && value_at_index(self.counts_index + 1) > self.next_level_lowest;
        if !(more_counts || beyond_level) {
            return false;
        }
        loop {
            if self.value >= self.next_level_lowest {
                self.next_level *= 2;
                self.next_level_lowest = lowest_equivalent(self.next_level);
                return true;
            }
            if !self.move_next() {
                return false;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_matches_hdr_init() {
        assert!(counts_index_for(MAX_VALUE) < COUNTS_LEN as i64);
        assert_eq!(counts_index_for(1), 1);
        assert_eq!(value_at_index(counts_index_for(8031)), 8000);
        assert_eq!(highest_equivalent(8031), 8031);
        assert_eq!(lowest_equivalent(8031), 8000);
    }

    #[test]
    fn percentiles_and_cdf_as_redis() {
        // Redis 7.0.15 after three SETs of ~8 us and 10 us:
        // p50=8.031 p99=10.047, LATENCY HISTOGRAM 8 2 16 3.
        let mut h = Histogram::new();
        for ns in [8010, 8020, 10040] {
            h.record(ns);
        }
        assert_eq!(h.value_at_percentile(50.0), 8031);
        assert_eq!(h.value_at_percentile(99.0), 10047);
        assert_eq!(h.value_at_percentile(0.0), 8000);
        assert_eq!(h.cdf(), vec![(8, 2), (16, 3)]);
        let mut h = Histogram::new();
        h.record(117_247);
        assert_eq!(h.cdf(), vec![(132, 1)]);
        h.record(0);
        h.record(i64::MAX);
        assert_eq!(h.total_count(), 3);
    }
}
