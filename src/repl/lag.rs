//! When the stream's bytes were produced: a bounded ring of (first offset
//! of a write, unix ms) samples. It turns an acknowledged offset into a lag
//! in time ("the oldest write this replica has not acknowledged is N ms
//! old"), and lets REPL-DELAY hold back the bytes younger than its delay.
//! Pure: the caller passes the clock.

use std::collections::VecDeque;

/// Samples kept: at one per 5 ms under a continuous load, 20 s of history.
const CAPACITY: usize = 4096;

/// Sampling step when nothing needs more precision.
pub const STEP_MS: i64 = 5;

#[derive(Default)]
pub struct OffsetTimes {
    ring: VecDeque<(i64, i64)>,
}

impl OffsetTimes {
    /// Notes that the bytes from `first_offset` on were produced at `now`,
    /// unless the last sample is less than `min_gap_ms` old.
    pub fn record(&mut self, first_offset: i64, now: i64, min_gap_ms: i64) {
        if let Some(&(_, t)) = self.ring.back() {
            if now - t < min_gap_ms {
                return;
            }
        }
        self.ring.push_back((first_offset, now));
        if self.ring.len() > CAPACITY {
            self.ring.pop_front();
        }
    }

    /// When the byte at `offset` was produced, at the earliest the sample
    /// that covers it (an over-estimate of its age by at most one step).
    /// For bytes older than the ring, the oldest sample's time (a lower
    /// bound of their age).
    pub fn produced_at(&self, offset: i64) -> Option<i64> {
        let i = self.ring.partition_point(|&(o, _)| o <= offset);
        match i.checked_sub(1) {
            Some(i) => Some(self.ring[i].1),
            None => self.ring.front().map(|&(_, t)| t),
        }
    }

    /// The last offset of the bytes produced before `t` (what a delayed
    /// stream may send), or None when every recorded byte is that old.
    pub fn end_before(&self, t: i64) -> Option<i64> {
        let i = self.ring.partition_point(|&(_, time)| time < t);
        self.ring.get(i).map(|&(o, _)| o - 1)
    }

    /// Forgets everything (a new history).
    pub fn clear(&mut self) {
        self.ring.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_map_to_times() {
        let mut r = OffsetTimes::default();
        r.record(1, 1000, STEP_MS);
        r.record(100, 1002, STEP_MS); // too close: same sample
        r.record(200, 1010, STEP_MS);
        r.record(300, 1020, 0);
        assert_eq!(r.produced_at(150), Some(1000));
        assert_eq!(r.produced_at(250), Some(1010));
        assert_eq!(r.produced_at(10_000), Some(1020));
        assert_eq!(r.end_before(1005), Some(199));
        assert_eq!(r.end_before(1015), Some(299));
        assert_eq!(r.end_before(5000), None);
        for i in 0..30_000 {
            r.record(400 + i, 2000 + i, STEP_MS);
        }
        // Bytes older than the ring: the oldest time kept.
        assert!(r.produced_at(1).is_some_and(|t| t > 1020));
    }
}
