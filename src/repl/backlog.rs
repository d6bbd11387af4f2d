//! Replication backlog: ring of the latest stream bytes, addressed by the
//! global replication offset. Pure: no I/O, no clock.

pub struct Backlog {
    buf: Vec<u8>,
    /// Next write position in `buf`.
    idx: usize,
    /// Bytes of valid history (<= buf.len()).
    histlen: usize,
    /// Replication offset of the first byte of history.
    pub offset: i64,
}

impl Backlog {
    /// A backlog whose first byte will have offset `next_offset`.
    pub fn new(size: usize, next_offset: i64) -> Backlog {
        Backlog {
            buf: vec![0; size.max(16 * 1024)],
            idx: 0,
            histlen: 0,
            offset: next_offset,
        }
    }

    pub fn capacity(&self) -> usize {
        self.buf.len()
    }

    pub fn histlen(&self) -> usize {
        self.histlen
    }

    /// Appends stream bytes, overwriting the oldest.
    pub fn feed(&mut self, mut data: &[u8]) {
        let cap = self.buf.len();
        while !data.is_empty() {
            let room = cap - self.idx;
            let n = room.min(data.len());
            self.buf[self.idx..self.idx + n].copy_from_slice(&data[..n]);
            self.idx = (self.idx + n) % cap;
            self.histlen += n;
            data = &data[n..];
        }
        if self.histlen > cap {
            self.offset += (self.histlen - cap) as i64;
            self.histlen = cap;
        }
    }

    /// Whether the bytes from `from` (a replication offset) up to the end
    /// are still here.
    pub fn covers(&self, from: i64) -> bool {
        from >= self.offset && from <= self.offset + self.histlen as i64
    }

    /// Copies the history from offset `from` to the end into `out`.
    pub fn copy_from(&self, from: i64, out: &mut Vec<u8>) -> bool {
        if !self.covers(from) {
            return false;
        }
        let cap = self.buf.len();
        let skip = (from - self.offset) as usize;
        let len = self.histlen - skip;
        let start = (self.idx + cap - self.histlen + skip) % cap;
        let first = len.min(cap - start);
        out.extend_from_slice(&self.buf[start..start + first]);
        out.extend_from_slice(&self.buf[..len - first]);
        true
    }

    /// Changes the size, keeping as much recent history as fits.
    pub fn resize(&mut self, size: usize) {
        let end = self.offset + self.histlen as i64;
        let mut hist = Vec::new();
        self.copy_from(self.offset, &mut hist);
        let size = size.max(16 * 1024);
        let keep = hist.len().min(size);
        let mut b = Backlog::new(size, end - keep as i64);
        b.feed(&hist[hist.len() - keep..]);
        *self = b;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ring_wraps_and_addresses_by_offset() {
        let mut b = Backlog::new(16 * 1024, 1);
        let data: Vec<u8> = (0..40_000u32).map(|i| (i % 251) as u8).collect();
        b.feed(&data);
        assert_eq!(b.histlen(), 16 * 1024);
        let end = 1 + 40_000i64;
        assert!(b.covers(end));
        assert!(!b.covers(1));
        let mut out = Vec::new();
        assert!(b.copy_from(end - 100, &mut out));
        assert_eq!(&out[..], &data[data.len() - 100..]);
        b.resize(32 * 1024);
        out.clear();
        assert!(b.copy_from(end - 100, &mut out));
        assert_eq!(&out[..], &data[data.len() - 100..]);
    }
}
