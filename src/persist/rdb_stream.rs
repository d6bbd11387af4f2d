//! Incremental RDB loading: the loader is fed bytes as they arrive (from a
//! replica's socket during a diskless sync, or a file read a chunk per loop
//! iteration) and parses every record they complete, keeping the rest for
//! the next call. The loop never blocks on it and the payload is never
//! buffered whole: at most one unfinished record waits in the caller's
//! buffer.
//!
//! Each record is parsed from the start of what is buffered; a short read
//! leaves the state untouched (see `rdb_load::load_record`) and the record
//! is tried again once the buffer doubled, so even a huge value costs
//! O(size) in parsing attempts overall.

use super::rdb_load::{debug_delay, load_checksum, load_header, load_record, LoadState, RdbReader};
use super::{RdbError, RdbInfo};
use crate::db::Keyspace;
use crate::types::Limits;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Header,
    Records,
    Checksum,
    Done,
}

pub struct IncrementalLoad {
    phase: Phase,
    st: Option<LoadState>,
    version: u32,
    /// Offset and running CRC64 of the bytes consumed so far.
    pos: u64,
    crc: u64,
    /// A record is retried when at least this many bytes are buffered.
    retry_at: usize,
    lim: Limits,
    keep_expired: bool,
    /// Microseconds slept after each key (the key-load-delay directive tests
    /// use to make loading slow; negative: 1 µs every -N keys).
    pub key_load_delay: i64,
    now: i64,
}

impl IncrementalLoad {
    pub fn new(lim: Limits, keep_expired: bool, now: i64) -> IncrementalLoad {
        IncrementalLoad {
            phase: Phase::Header,
            st: None,
            version: 0,
            pos: 0,
            crc: 0,
            retry_at: 0,
            lim,
            keep_expired,
            key_load_delay: 0,
            now,
        }
    }

    /// The RDB ended (EOF opcode and checksum read).
    pub fn done(&self) -> bool {
        self.phase == Phase::Done
    }

    /// Whether the unfinished record needs more than `avail` bytes.
    pub fn needs_more(&self, avail: usize) -> bool {
        avail < self.retry_at
    }

    /// Bytes consumed so far.
    pub fn loaded_bytes(&self) -> u64 {
        self.pos
    }

    pub fn keys_loaded(&self) -> u64 {
        self.st.as_ref().map_or(0, |s| s.info.keys_loaded)
    }

    /// What the load found (once done).
    pub fn into_info(self) -> RdbInfo {
        self.st.map(|s| s.info).unwrap_or_default()
    }

    /// Parses the complete records at the front of `buf` into `ks`, up to
    /// about `budget` bytes. Returns how many bytes were consumed (the
    /// caller drops them; the rest must be offered again with more).
    /// `end` says no more bytes will come: an unfinished record is then a
    /// short read.
    pub fn feed(
        &mut self,
        buf: &[u8],
        ks: &mut Keyspace,
        budget: usize,
        end: bool,
    ) -> Result<usize, RdbError> {
        let mut used = 0;
        while self.phase != Phase::Done && used < budget.max(1) {
            let avail = buf.len() - used;
            if avail == 0 || (avail < self.retry_at && !end) {
                break;
            }
            let mut r = RdbReader::resume(&buf[used..], self.pos, self.crc);
            let keys_before = self.keys_loaded();
            let step = match self.phase {
                Phase::Header => load_header(&mut r).map(|v| {
                    self.version = v;
                    self.st = Some(LoadState::new(v, self.now, self.keep_expired));
                    Phase::Records
                }),
                Phase::Records => match self.st.as_mut() {
                    Some(st) => load_record(&mut r, ks, &self.lim, st).map(|eof| {
                        if eof {
                            Phase::Checksum
                        } else {
                            Phase::Records
                        }
                    }),
                    None => Err(RdbError::ShortRead),
                },
                Phase::Checksum => load_checksum(&mut r, self.version).map(|()| Phase::Done),
                Phase::Done => Ok(Phase::Done),
            };
            match step {
                Ok(next) => {
                    used += (r.pos - self.pos) as usize;
                    self.pos = r.pos;
                    self.crc = r.crc();
                    self.phase = next;
                    self.retry_at = 0;
                    if self.key_load_delay != 0 && self.keys_loaded() > keys_before {
                        debug_delay(self.key_load_delay, self.keys_loaded());
                    }
                }
                Err(RdbError::ShortRead) if !end => {
                    // Wait for the buffer to double before parsing again.
                    self.retry_at = avail.saturating_mul(2).max(avail + 1);
                    break;
                }
                Err(e) => return Err(e),
            }
        }
        Ok(used)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::Value;
    use crate::persist::RdbAux;

    fn sample() -> (Keyspace, Vec<u8>) {
        let mut ks = Keyspace::new(16);
        for i in 0..2000 {
            let v = if i % 100 == 0 {
                vec![b'x'; 300_000]
            } else {
                format!("value-{i}").into_bytes()
            };
            ks.add(
                i % 3,
                format!("key:{i}").as_bytes(),
                Value::Str(crate::sds::Sds::from_vec(v)),
            );
        }
        let mut out = Vec::new();
        crate::persist::write_rdb(&ks, &mut out, &RdbAux::default()).expect("write");
        (ks, out)
    }

    fn digest(ks: &mut Keyspace) -> String {
        crate::persist::digest::dataset_digest(ks)
    }

    /// Fed in uneven pieces, with a small budget, the load ends with the
    /// same data as a one-shot load and never holds more than one record.
    #[test]
    fn pieces_of_any_size_load_the_same_data() {
        let (mut want, rdb) = sample();
        for piece in [1usize, 7, 4096, 65536, 1 << 20] {
            let mut ks = Keyspace::new(16);
            let mut l = IncrementalLoad::new(Limits::default(), true, 0);
            let mut buf: Vec<u8> = Vec::new();
            let mut fed = 0;
            let mut max_buf = 0;
            while !l.done() {
                if fed < rdb.len() {
                    let n = piece.min(rdb.len() - fed);
                    buf.extend_from_slice(&rdb[fed..fed + n]);
                    fed += n;
                }
                max_buf = max_buf.max(buf.len());
                let used = l
                    .feed(&buf, &mut ks, 64 * 1024, fed == rdb.len())
                    .expect("load");
                buf.drain(..used);
            }
            assert!(buf.is_empty());
            assert_eq!(l.loaded_bytes() as usize, rdb.len());
            assert_eq!(digest(&mut ks), digest(&mut want), "piece {piece}");
            assert!(max_buf < 700_000, "piece {piece}: buffered {max_buf}");
        }
    }

    #[test]
    fn truncated_or_corrupt_input_is_an_error() {
        let (_, rdb) = sample();
        let mut ks = Keyspace::new(16);
        let mut l = IncrementalLoad::new(Limits::default(), true, 0);
        let half = &rdb[..rdb.len() / 2];
        let used = l.feed(half, &mut ks, usize::MAX, false).expect("partial");
        assert!(used > 0 && !l.done());
        assert!(matches!(
            l.feed(&half[used..], &mut ks, usize::MAX, true),
            Err(RdbError::ShortRead)
        ));
        let mut bad = rdb.clone();
        let n = bad.len();
        bad[n - 3] ^= 0xff;
        let mut l = IncrementalLoad::new(Limits::default(), true, 0);
        let mut ks = Keyspace::new(16);
        assert!(matches!(
            l.feed(&bad, &mut ks, usize::MAX, true),
            Err(RdbError::Checksum { .. })
        ));
    }
}
