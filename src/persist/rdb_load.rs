//! RDB reader: versions 1 to 12 (Redis 2.x to 7.4), every type and legacy
//! encoding (zipmap, ziplist, intset, quicklist v1 and v2, listpacks).
//! Input is untrusted: corrupt or truncated data gives an `RdbError`, never a
//! panic, and allocations grow with the bytes actually read, never with a
//! length read from the input.

use super::rdb::*;
use crate::db::{Keyspace, Value};
use crate::encoding::{crc64::crc64, intset::Intset, listpack::Listpack, lzf, ziplist, zipmap};
use crate::sds::Sds;
use crate::types::{Hash, Limits, List, Set, ZSet};
use std::fmt;
use std::io::{self, Read};

#[derive(Debug)]
pub enum RdbError {
    /// The input ended early (a truncated file or a closed socket).
    ShortRead,
    Io(io::Error),
    /// Malformed content at a byte offset.
    Corrupt {
        offset: u64,
        what: String,
    },
    Checksum {
        expected: u64,
        got: u64,
    },
    Version(u32),
    /// Valid but not something ferrodis can hold (streams, modules...).
    Unsupported(String),
}

impl fmt::Display for RdbError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RdbError::ShortRead => f.write_str("Short read or OOM loading DB"),
            RdbError::Io(e) => write!(f, "{e}"),
            RdbError::Corrupt { offset, what } => {
                write!(f, "Internal error in RDB reading offset {offset}, function at rdb_load.rs -> {what}")
            }
            RdbError::Checksum { expected, got } => write!(
                f,
                "Wrong RDB checksum expected: ({expected:x}) got ({got:x})."
            ),
            RdbError::Version(v) => write!(f, "Can't handle RDB format version {v}"),
            RdbError::Unsupported(s) => write!(f, "{s}"),
        }
    }
}

impl std::error::Error for RdbError {}

impl From<io::Error> for RdbError {
    fn from(e: io::Error) -> Self {
        if e.kind() == io::ErrorKind::UnexpectedEof {
            RdbError::ShortRead
        } else {
            RdbError::Io(e)
        }
    }
}

type R<T> = Result<T, RdbError>;

/// Redis's RDBFLAGS_ALLOW_DUP (DEBUG RELOAD MERGE): a key already in the
/// keyspace is replaced by the dump's instead of failing the load. Set only
/// around that one load, on the loop thread.
pub static ALLOW_DUP: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// DEBUG SET-SKIP-CHECKSUM-VALIDATION: RESTORE payloads and RDB files are
/// not checked against their CRC64 (Redis's skip_checksum_validation).
pub static SKIP_CHECKSUM: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

fn skip_checksum() -> bool {
    SKIP_CHECKSUM.load(std::sync::atomic::Ordering::Relaxed)
}

/// What a load found besides the data.
#[derive(Debug, Default, Clone)]
pub struct RdbInfo {
    pub version: u32,
    pub redis_ver: Option<String>,
    pub ctime: Option<i64>,
    pub repl_id: Option<String>,
    pub repl_offset: Option<i64>,
    pub repl_stream_db: Option<i64>,
    pub aof_base: bool,
    pub keys_loaded: u64,
    pub keys_expired: u64,
    /// Function library codes (RDB_OPCODE_FUNCTION2), for the server to load.
    pub functions: Vec<Vec<u8>>,
    /// Empty aggregates found and dropped.
    pub empty_keys_skipped: u64,
    /// Keys skipped because they had expired (db, key), when the load did
    /// not keep them: a master that restarts propagates their deletion.
    pub expired_keys: Vec<(usize, Vec<u8>)>,
}

/// An RDB object type's name, as redis-check-rdb prints it.
fn rdb_type_name(t: u8) -> &'static str {
    const NAMES: [&str; 20] = [
        "string",
        "list-linked",
        "set-hashtable",
        "zset-v1",
        "hash-hashtable",
        "zset-v2",
        "module-pre-release",
        "module-value",
        "",
        "hash-zipmap",
        "list-ziplist",
        "set-intset",
        "zset-ziplist",
        "hash-ziplist",
        "quicklist",
        "stream",
        "hash-listpack",
        "zset-listpack",
        "quicklist-v2",
        "stream-v2",
    ];
    NAMES.get(t as usize).copied().unwrap_or("unknown")
}

/// A byte reader keeping the offset and the running CRC64.
pub struct RdbReader<Rd: Read> {
    r: Rd,
    pub pos: u64,
    crc: u64,
    /// Microseconds to sleep after each key (see `load_rdb_slowly`).
    pub key_load_delay: i64,
}

/// Chunk by which a long string's buffer grows while it is read.
const READ_CHUNK: usize = 1 << 20;

impl<Rd: Read> RdbReader<Rd> {
    pub fn new(r: Rd) -> Self {
        RdbReader {
            r,
            pos: 0,
            crc: 0,
            key_load_delay: 0,
        }
    }

    pub fn into_inner(self) -> Rd {
        self.r
    }

    /// A reader that goes on from an earlier one's position and running
    /// checksum (an incremental load resumes at each record).
    pub fn resume(r: Rd, pos: u64, crc: u64) -> Self {
        RdbReader {
            r,
            pos,
            crc,
            key_load_delay: 0,
        }
    }

    /// The CRC64 of everything read so far.
    pub fn crc(&self) -> u64 {
        self.crc
    }

    fn corrupt<T>(&self, what: impl Into<String>) -> R<T> {
        Err(RdbError::Corrupt {
            offset: self.pos,
            what: what.into(),
        })
    }

    pub fn exact(&mut self, buf: &mut [u8]) -> R<()> {
        self.r.read_exact(buf)?;
        self.crc = crc64(self.crc, buf);
        self.pos += buf.len() as u64;
        Ok(())
    }

    pub fn u8(&mut self) -> R<u8> {
        let mut b = [0u8; 1];
        self.exact(&mut b)?;
        Ok(b[0])
    }

    fn arr<const N: usize>(&mut self) -> R<[u8; N]> {
        let mut b = [0u8; N];
        self.exact(&mut b)?;
        Ok(b)
    }

    /// `n` bytes, allocating as they arrive rather than trusting `n`.
    pub fn bytes(&mut self, n: u64) -> R<Vec<u8>> {
        let n = usize::try_from(n).map_err(|_| RdbError::ShortRead)?;
        let mut v = Vec::with_capacity(n.min(READ_CHUNK));
        while v.len() < n {
            let take = (n - v.len()).min(READ_CHUNK);
            let start = v.len();
            v.resize(start + take, 0);
            self.r.read_exact(&mut v[start..])?;
            self.crc = crc64(self.crc, &v[start..]);
            self.pos += take as u64;
        }
        Ok(v)
    }

    /// rdbLoadLenByRef: (length, is_encoded).
    fn len_enc(&mut self) -> R<(u64, bool)> {
        let b = self.u8()?;
        match b >> 6 {
            0 => Ok(((b & 0x3F) as u64, false)),
            1 => {
                let b2 = self.u8()?;
                Ok(((((b & 0x3F) as u64) << 8) | b2 as u64, false))
            }
            2 if b == 0x80 => Ok((u32::from_be_bytes(self.arr()?) as u64, false)),
            2 if b == 0x81 => Ok((u64::from_be_bytes(self.arr()?), false)),
            2 => self.corrupt(format!("Unknown length encoding {b} in rdbLoadLen()")),
            _ => Ok(((b & 0x3F) as u64, true)),
        }
    }

    pub fn load_len(&mut self) -> R<u64> {
        match self.len_enc()? {
            (n, false) => Ok(n),
            _ => self.corrupt("Unexpected encoded length"),
        }
    }

    /// rdbGenericLoadStringObject: plain, integer-encoded or LZF strings.
    pub fn string(&mut self) -> R<Vec<u8>> {
        let (n, enc) = self.len_enc()?;
        if !enc {
            return self.bytes(n);
        }
        match n as u8 {
            ENC_INT8 => Ok((self.u8()? as i8).to_string().into_bytes()),
            ENC_INT16 => Ok(i16::from_le_bytes(self.arr()?).to_string().into_bytes()),
            ENC_INT32 => Ok(i32::from_le_bytes(self.arr()?).to_string().into_bytes()),
            ENC_LZF => {
                let clen = self.load_len()?;
                let len = self.load_len()?;
                let c = self.bytes(clen)?;
                if len == 0 {
                    return self.corrupt("Invalid LZF compressed string");
                }
                match lzf::decompress(&c, len as usize) {
                    Ok(v) => Ok(v),
                    Err(_) => self.corrupt("Invalid LZF compressed string"),
                }
            }
            _ => self.corrupt(format!("Unknown RDB string encoding type {n}")),
        }
    }

    /// Old-style zset score: a length byte then text (253 nan, 254 inf, 255 -inf).
    fn double_text(&mut self) -> R<f64> {
        let n = self.u8()?;
        match n {
            253 => self.corrupt("Zset with NAN score detected"),
            254 => Ok(f64::INFINITY),
            255 => Ok(f64::NEG_INFINITY),
            _ => {
                let b = self.bytes(n as u64)?;
                match std::str::from_utf8(&b)
                    .ok()
                    .and_then(|s| s.parse::<f64>().ok())
                {
                    Some(v) if !v.is_nan() => Ok(v),
                    _ => self.corrupt("Invalid double value"),
                }
            }
        }
    }

    fn double_bin(&mut self) -> R<f64> {
        let v = f64::from_le_bytes(self.arr()?);
        if v.is_nan() {
            return self.corrupt("Zset with NAN score detected");
        }
        Ok(v)
    }

    /// rdbLoadObject: a value of type `t`. Ok(None) for an empty collection
    /// (Redis skips those keys).
    pub fn object(&mut self, t: u8, lim: &Limits) -> R<Option<Value>> {
        let v = match t {
            TYPE_STRING => Value::from_bytes(&self.string()?),
            TYPE_LIST => {
                let n = self.load_len()?;
                let mut l = List::new();
                for _ in 0..n {
                    l.push_back(&self.string()?, lim);
                }
                Value::List(l)
            }
            TYPE_SET => {
                let n = self.load_len()?;
                let mut s = Set::with_capacity(n as usize, lim);
                for _ in 0..n {
                    let m = self.string()?;
                    if !s.add(&m, lim) {
                        return self.corrupt("Duplicate set members detected");
                    }
                }
                Value::Set(s)
            }
            TYPE_ZSET | TYPE_ZSET_2 => {
                let n = self.load_len()?;
                let mut z = ZSet::new();
                for _ in 0..n {
                    let m = self.string()?;
                    let score = if t == TYPE_ZSET {
                        self.double_text()?
                    } else {
                        self.double_bin()?
                    };
                    if z.score(&m).is_some() {
                        return self.corrupt("Duplicate zset fields detected");
                    }
                    z.insert(&m, score, lim);
                }
                Value::ZSet(z)
            }
            TYPE_HASH => {
                let n = self.load_len()?;
                let mut h = Hash::new();
                for _ in 0..n {
                    let f = self.string()?;
                    let v = self.string()?;
                    if !h.set(&f, &v, lim) {
                        return self.corrupt("Duplicate hash fields detected");
                    }
                }
                Value::Hash(h)
            }
            TYPE_LIST_QUICKLIST | TYPE_LIST_QUICKLIST_2 => {
                let n = self.load_len()?;
                let mut l = List::new();
                for _ in 0..n {
                    let container = if t == TYPE_LIST_QUICKLIST_2 {
                        self.load_len()?
                    } else {
                        QUICKLIST_NODE_PACKED
                    };
                    let blob = self.string()?;
                    // (Redis's rdbLoadObject refuses an empty node.)
                    if blob.is_empty() {
                        return self.corrupt("Quicklist integrity check failed: empty node");
                    }
                    if container == QUICKLIST_NODE_PLAIN {
                        l.push_back_plain(&blob);
                        continue;
                    } else if container != QUICKLIST_NODE_PACKED {
                        return self.corrupt(format!(
                            "Quicklist integrity check failed: unknown container {container}"
                        ));
                    }
                    if t == TYPE_LIST_QUICKLIST {
                        let items = self.check(
                            ziplist::decode(&blob),
                            "Quicklist ziplist integrity check failed.",
                        )?;
                        for i in items {
                            l.push_back(&i, lim);
                        }
                    } else {
                        let lp = self.check(
                            Listpack::from_bytes(blob),
                            "Quicklist listpack integrity check failed.",
                        )?;
                        for i in lp.iter() {
                            l.push_back(&i.to_vec(), lim);
                        }
                    }
                }
                Value::List(l)
            }
            TYPE_LIST_ZIPLIST => {
                let blob = self.string()?;
                let items = self.check(
                    ziplist::decode(&blob),
                    "List ziplist integrity check failed.",
                )?;
                let mut l = List::new();
                for i in items {
                    l.push_back(&i, lim);
                }
                Value::List(l)
            }
            TYPE_SET_INTSET => {
                let blob = self.string()?;
                let is = self.check(Intset::from_bytes(blob), "Intset integrity check failed.")?;
                Value::Set(Set::from_intset(is, lim))
            }
            TYPE_SET_LISTPACK => {
                let blob = self.string()?;
                let lp = self.check(
                    Listpack::from_bytes(blob),
                    "Set listpack integrity check failed.",
                )?;
                let mut s = Set::new();
                for i in lp.iter() {
                    if !s.add(&i.to_vec(), lim) {
                        return self.corrupt("Duplicate set members detected");
                    }
                }
                Value::Set(s)
            }
            TYPE_HASH_ZIPMAP | TYPE_HASH_ZIPLIST | TYPE_ZSET_ZIPLIST => {
                let blob = self.string()?;
                // Redis's names for each check (rdbLoadObject).
                let what = match t {
                    TYPE_HASH_ZIPMAP => "Zipmap integrity check failed.",
                    TYPE_HASH_ZIPLIST => "Hash ziplist integrity check failed.",
                    _ => "Zset ziplist integrity check failed.",
                };
                let items = if t == TYPE_HASH_ZIPMAP {
                    self.check(zipmap::decode(&blob), what)?
                } else {
                    self.check(ziplist::decode(&blob), what)?
                };
                if items.len() % 2 != 0 {
                    return self.corrupt(what);
                }
                self.pairs_value(
                    t == TYPE_ZSET_ZIPLIST,
                    items.chunks(2).map(|p| (p[0].clone(), p[1].clone())),
                    lim,
                    what,
                )?
            }
            TYPE_HASH_LISTPACK | TYPE_ZSET_LISTPACK => {
                let raw = self.string()?;
                let what = if t == TYPE_HASH_LISTPACK {
                    "Hash listpack integrity check failed."
                } else {
                    "Zset listpack integrity check failed."
                };
                let blob = self.check(Listpack::from_bytes(raw), what)?;
                if blob.len() % 2 != 0 {
                    return self.corrupt(what);
                }
                let items: Vec<Vec<u8>> = blob.iter().map(|v| v.to_vec()).collect();
                self.pairs_value(
                    t == TYPE_ZSET_LISTPACK,
                    items.chunks(2).map(|p| (p[0].clone(), p[1].clone())),
                    lim,
                    what,
                )?
            }
            TYPE_STREAM_LISTPACKS | TYPE_STREAM_LISTPACKS_2 | TYPE_STREAM_LISTPACKS_3 => {
                Value::Stream(Box::new(super::rdb_type_stream::load_stream(self, t)?))
            }
            TYPE_MODULE_PRE_GA | TYPE_MODULE_2 => {
                return Err(RdbError::Unsupported(
                    "The RDB file contains module data I can't load: ferrodis has no modules"
                        .into(),
                ))
            }
            _ => return self.corrupt(format!("Unknown RDB encoding type {t}")),
        };
        let empty = match &v {
            Value::List(l) => l.is_empty(),
            Value::Set(s) => s.is_empty(),
            Value::ZSet(z) => z.is_empty(),
            Value::Hash(h) => h.is_empty(),
            _ => false,
        };
        Ok(if empty { None } else { Some(v) })
    }

    fn check<T, E>(&self, r: Result<T, E>, what: &str) -> R<T> {
        r.or_else(|_| self.corrupt(what))
    }

    /// A hash or sorted set from (field, value) / (member, score) pairs,
    /// refusing duplicates and bad scores as Redis's deep integrity check
    /// does (reported as that check's failure, `what`).
    fn pairs_value(
        &self,
        zset: bool,
        pairs: impl Iterator<Item = (Vec<u8>, Vec<u8>)>,
        lim: &Limits,
        what: &str,
    ) -> R<Value> {
        if zset {
            let mut z = ZSet::new();
            for (m, s) in pairs {
                let score = match crate::encoding::numbers::string2d(&s) {
                    Some(v) if !v.is_nan() => v,
                    _ => return self.corrupt(what),
                };
                if z.score(&m).is_some() {
                    return self.corrupt(what);
                }
                z.insert(&m, score, lim);
            }
            Ok(Value::ZSet(z))
        } else {
            let mut h = Hash::new();
            for (f, v) in pairs {
                if !h.set(&f, &v, lim) {
                    return self.corrupt(what);
                }
            }
            Ok(Value::Hash(h))
        }
    }

    /// Skips a module value (rdbLoadCheckModuleValue) up to its EOF opcode.
    fn skip_module_value(&mut self) -> R<()> {
        loop {
            match self.load_len()? {
                0 => return Ok(()), // RDB_MODULE_OPCODE_EOF
                1 | 2 => {
                    self.load_len()?;
                }
                3 => {
                    self.arr::<4>()?;
                }
                4 => {
                    self.arr::<8>()?;
                }
                5 => {
                    self.string()?;
                }
                op => return self.corrupt(format!("Unknown module opcode {op}")),
            }
        }
    }
}

/// Loads a snapshot into `ks` (which the caller emptied as needed).
/// `keep_expired`: a replica keeps keys whose time passed (its master's
/// DEL will come); a master drops them. Returns the AUX fields replication
/// needs. Stops right after the trailer, so a reader positioned on an AOF
/// with an RDB preamble can go on with the commands that follow.
pub fn load_rdb<Rd: Read>(
    reader: Rd,
    ks: &mut Keyspace,
    lim: &Limits,
    keep_expired: bool,
) -> Result<RdbInfo, RdbError> {
    let mut r = RdbReader::new(reader);
    load_from(&mut r, ks, lim, keep_expired)
}

/// `load_rdb` sleeping `key_load_delay` microseconds after each key (the
/// hidden key-load-delay directive tests use to make loading slow; a
/// negative value sleeps 1 µs once every -N keys on average).
pub fn load_rdb_slowly<Rd: Read>(
    reader: Rd,
    ks: &mut Keyspace,
    lim: &Limits,
    keep_expired: bool,
    key_load_delay: i64,
) -> Result<RdbInfo, RdbError> {
    let mut r = RdbReader::new(reader);
    r.key_load_delay = key_load_delay;
    load_from(&mut r, ks, lim, keep_expired)
}

/// Where a load is between records: the selected db, an expire read for
/// the next key, what was found so far.
pub struct LoadState {
    pub info: RdbInfo,
    pub db: usize,
    pub expire: i64,
    pub now: i64,
    /// Keep keys already expired (a replica: its master deletes them).
    pub keep_expired: bool,
    /// Keys skipped because they expired, when asked for (a master that
    /// restarts propagates their deletion).
    pub expired: Option<Vec<(usize, Vec<u8>)>>,
}

impl LoadState {
    pub fn new(version: u32, now: i64, keep_expired: bool) -> LoadState {
        LoadState {
            info: RdbInfo {
                version,
                ..Default::default()
            },
            db: 0,
            expire: -1,
            now,
            keep_expired,
            expired: None,
        }
    }
}

/// The RDB header: `REDIS` and a version we can read.
pub fn load_header<Rd: Read>(r: &mut RdbReader<Rd>) -> R<u32> {
    let magic: [u8; 9] = r.arr()?;
    if &magic[..5] != b"REDIS" {
        return r.corrupt("Wrong signature trying to load DB from file");
    }
    let version = std::str::from_utf8(&magic[5..])
        .ok()
        .and_then(|s| s.parse::<u32>().ok())
        .unwrap_or(0);
    if !(1..=RDB_VERSION_MAX_READ).contains(&version) {
        return Err(RdbError::Version(version));
    }
    Ok(version)
}

/// The checksum after the EOF opcode (version 5 and later).
pub fn load_checksum<Rd: Read>(r: &mut RdbReader<Rd>, version: u32) -> R<()> {
    if version >= 5 {
        let computed = r.crc;
        let mut b = [0u8; 8];
        r.r.read_exact(&mut b)?;
        r.pos += 8;
        let expected = u64::from_le_bytes(b);
        if expected != 0 && expected != computed && !skip_checksum() {
            return Err(RdbError::Checksum {
                expected,
                got: computed,
            });
        }
    }
    Ok(())
}

pub fn load_from<Rd: Read>(
    r: &mut RdbReader<Rd>,
    ks: &mut Keyspace,
    lim: &Limits,
    keep_expired: bool,
) -> Result<RdbInfo, RdbError> {
    let version = load_header(r)?;
    let mut st = LoadState::new(version, ks.now_ms, keep_expired);
    if !keep_expired {
        st.expired = Some(Vec::new());
    }
    while !load_record(r, ks, lim, &mut st)? {}
    load_checksum(r, version)?;
    st.info.expired_keys = st.expired.take().unwrap_or_default();
    Ok(st.info)
}

/// Reads one record (an opcode with its fields, or a key with its value)
/// into `ks`. True at the EOF opcode. Nothing changes before the record
/// was read whole: a short read leaves `st` and `ks` as they were, so an
/// incremental load can retry the record once more bytes arrived.
pub fn load_record<Rd: Read>(
    r: &mut RdbReader<Rd>,
    ks: &mut Keyspace,
    lim: &Limits,
    st: &mut LoadState,
) -> R<bool> {
    let t = r.u8()?;
    match t {
        OPCODE_EXPIRETIME => {
            st.expire = i32::from_le_bytes(r.arr()?) as i64 * 1000;
            return Ok(false);
        }
        OPCODE_EXPIRETIME_MS => {
            st.expire = i64::from_le_bytes(r.arr()?);
            return Ok(false);
        }
        OPCODE_FREQ => {
            r.u8()?;
            return Ok(false);
        }
        OPCODE_IDLE => {
            r.load_len()?;
            return Ok(false);
        }
        OPCODE_EOF => return Ok(true),
        OPCODE_SELECTDB => {
            let n = r.load_len()?;
            if n as usize >= ks.dbs.len() {
                return Err(RdbError::Unsupported(format!("FATAL: Data file was created with a Redis server configured to handle more than {} databases. Exiting", ks.dbs.len())));
            }
            st.db = n as usize;
            return Ok(false);
        }
        OPCODE_RESIZEDB => {
            // Size the tables once, as Redis does, so loading never
            // rehashes. The hint comes from the file: cap it, the tables
            // still grow past the cap if the keys really come.
            const MAX_HINT: u64 = 1 << 24;
            let keys = r.load_len()?;
            let expires = r.load_len()?;
            if let Some(d) = ks.dbs.get_mut(st.db) {
                d.dict.reserve(keys.min(MAX_HINT) as usize);
                d.expires.reserve(expires.min(MAX_HINT) as usize);
            }
            return Ok(false);
        }
        OPCODE_SLOT_INFO => {
            r.load_len()?;
            r.load_len()?;
            r.load_len()?;
            return Ok(false);
        }
        OPCODE_AUX => {
            let k = r.string()?;
            let v = r.string()?;
            let s = String::from_utf8_lossy(&v).into_owned();
            match &k[..] {
                b"redis-ver" => {
                    log::info!("Loading RDB produced by version {s}");
                    st.info.redis_ver = Some(s);
                }
                b"ctime" => {
                    st.info.ctime = s.parse().ok();
                    if let Some(c) = st.info.ctime {
                        let age = (st.now / 1000 - c).max(0);
                        log::info!("RDB age {age} seconds");
                    }
                }
                b"used-mem" => {
                    if let Ok(m) = s.parse::<u64>() {
                        log::info!(
                            "RDB memory usage when created {:.2} Mb",
                            m as f64 / (1024.0 * 1024.0)
                        );
                    }
                }
                b"repl-id" => st.info.repl_id = Some(s),
                b"repl-offset" => st.info.repl_offset = s.parse().ok(),
                b"repl-stream-db" => st.info.repl_stream_db = s.parse().ok(),
                b"aof-base" => st.info.aof_base = s == "1",
                b"lua" => {}
                _ => log::debug!(
                    "Unrecognized RDB AUX field: '{}'",
                    String::from_utf8_lossy(&k)
                ),
            }
            return Ok(false);
        }
        OPCODE_MODULE_AUX => {
            let _module_id = r.load_len()?;
            let _when_opcode = r.load_len()?;
            let _when = r.load_len()?;
            r.skip_module_value()?;
            log::warn!("Skipping module AUX data in the RDB file (ferrodis has no modules)");
            return Ok(false);
        }
        OPCODE_FUNCTION2 => {
            st.info.functions.push(r.string()?);
            return Ok(false);
        }
        OPCODE_FUNCTION_PRE_GA => {
            return Err(RdbError::Unsupported(
                "Pre-release function format not supported".into(),
            ))
        }
        _ => {}
    }
    let key = r.string()?;
    let val = match r.object(t, lim) {
        Ok(v) => v,
        // A short read may only mean more bytes are to come.
        Err(e @ RdbError::ShortRead) => return Err(e),
        Err(e) => {
            // What redis-check-rdb tells (Redis runs it on a bad file).
            log::warn!("--- RDB ERROR DETECTED ---");
            log::warn!("[offset {}] {e}", r.pos);
            log::warn!("[additional info] While doing: read-object-value");
            log::warn!(
                "[additional info] Reading key '{}'",
                String::from_utf8_lossy(&key)
            );
            log::warn!("[additional info] Reading type {t} ({})", rdb_type_name(t));
            log::warn!("[info] {} keys read", st.info.keys_loaded);
            return Err(e);
        }
    };
    let when = std::mem::replace(&mut st.expire, -1);
    let Some(val) = val else {
        // Old bugs could save empty aggregates: skipped, not fatal.
        st.info.empty_keys_skipped += 1;
        if st.info.empty_keys_skipped <= 10 {
            log::info!(
                "rdbLoadObject skipping empty key: {}",
                String::from_utf8_lossy(&key)
            );
        }
        return Ok(false);
    };
    if !st.keep_expired && when != -1 && when < st.now {
        st.info.keys_expired += 1;
        if let Some(v) = st.expired.as_mut() {
            v.push((st.db, key));
        }
        return Ok(false);
    }
    let db = st.db;
    let d = &mut ks.dbs[db];
    let k = Sds::from_vec(key);
    let entry = crate::db::Entry::new(val, ks.lru_clock);
    if let Err((k, entry)) = d.insert_loaded(k.clone(), entry) {
        if !ALLOW_DUP.load(std::sync::atomic::Ordering::Relaxed) {
            return r.corrupt(format!(
                "RDB has duplicated key '{}' in DB {db}",
                String::from_utf8_lossy(&k)
            ));
        }
        // DEBUG RELOAD MERGE: the dump's value replaces ours (the key,
        // and its place in the slot index, stay).
        if let Some(e) = d.dict.get_fields(&k) {
            *e.val = entry.val;
            *e.meta = entry.lru;
        }
        d.expires.remove(&k);
    }
    if when != -1 {
        d.expires.insert(&k, when);
    }
    st.info.keys_loaded += 1;
    if r.key_load_delay != 0 {
        debug_delay(r.key_load_delay, st.info.keys_loaded);
    }
    Ok(false)
}

/// Redis's debugDelay: sleep `usec`, or for a negative value 1 µs once
/// every -usec calls (here: keys) on average.
pub fn debug_delay(usec: i64, n: u64) {
    let usec = if usec < 0 {
        u64::from(n.is_multiple_of(usec.unsigned_abs()))
    } else {
        usec as u64
    };
    if usec > 0 {
        std::thread::sleep(std::time::Duration::from_micros(usec));
    }
}

/// RESTORE: checks a DUMP payload's footer (Redis 7.0 verifyDumpPayload).
pub fn verify_dump_payload(p: &[u8]) -> bool {
    if p.len() < 10 {
        return false;
    }
    let footer = &p[p.len() - 10..];
    let ver = u16::from_le_bytes([footer[0], footer[1]]);
    if ver > RDB_VERSION {
        return false;
    }
    if skip_checksum() {
        return true;
    }
    let crc = crc64(0, &p[..p.len() - 8]);
    crc.to_le_bytes() == footer[2..]
}

/// RESTORE: the value inside a verified DUMP payload; Ok(None) when it is
/// an empty aggregate (which Redis refuses as well).
pub fn load_dump_payload(p: &[u8], lim: &Limits) -> R<Option<Value>> {
    let body = p.get(..p.len().saturating_sub(10)).unwrap_or_default();
    let mut r = RdbReader::new(body);
    let t = r.u8()?;
    r.object(t, lim)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::Keyspace;

    fn roundtrip(ks: &Keyspace, compression: bool) -> Keyspace {
        let mut out = Vec::new();
        let aux = RdbAux {
            compression,
            ..Default::default()
        };
        write_rdb(ks, &mut out, &aux).unwrap();
        let mut ks2 = Keyspace::new(16);
        load_rdb(&out[..], &mut ks2, &Limits::default(), false).unwrap();
        ks2
    }

    #[test]
    fn roundtrip_all_types() {
        let lim = Limits::default();
        let mut ks = Keyspace::new(16);
        ks.add(0, b"s", Value::from_bytes(b"hello"));
        ks.add(0, b"i", Value::Int(123456789012));
        ks.add(0, b"big", Value::from_bytes(&[b'x'; 5000]));
        ks.add(3, b"e", Value::from_bytes(b"v"));
        ks.dbs[3].set_expire(b"e", 4_000_000_000_000);
        let mut l = List::new();
        for i in 0..3000 {
            l.push_back(format!("elem{i}").as_bytes(), &lim);
        }
        ks.add(1, b"l", Value::List(l));
        let mut s = Set::new();
        s.add(b"a", &lim);
        s.add(b"1", &lim);
        ks.add(1, b"set", Value::Set(s));
        let mut z = ZSet::new();
        z.insert(b"m", 1.5, &lim);
        z.insert(b"n", f64::INFINITY, &lim);
        ks.add(1, b"z", Value::ZSet(z));
        let mut h = Hash::new();
        h.set(b"f", b"v", &lim);
        ks.add(1, b"h", Value::Hash(h));
        for c in [true, false] {
            let ks2 = roundtrip(&ks, c);
            assert_eq!(
                crate::persist::digest::dataset_digest(&ks),
                crate::persist::digest::dataset_digest(&ks2)
            );
            assert_eq!(ks2.total_keys(), 8);
            assert_eq!(ks2.dbs[3].get_expire(b"e"), Some(4_000_000_000_000));
        }
    }

    #[test]
    fn corrupt_never_panics() {
        let lim = Limits::default();
        let mut ks = Keyspace::new(16);
        for i in 0..50 {
            ks.add(
                0,
                format!("k{i}").as_bytes(),
                Value::from_bytes(&vec![b'a' + (i % 26) as u8; i * 7]),
            );
        }
        let mut l = List::new();
        l.push_back(b"x", &lim);
        ks.add(0, b"l", Value::List(l));
        let mut out = Vec::new();
        write_rdb(&ks, &mut out, &RdbAux::default()).unwrap();
        let mut rng = crate::encoding::TestRng::new(42);
        for _ in 0..3000 {
            let mut b = out.clone();
            rng.mutate(&mut b);
            let mut ks2 = Keyspace::new(16);
            let _ = load_rdb(&b[..], &mut ks2, &lim, false);
        }
        for cut in 0..out.len() {
            let mut ks2 = Keyspace::new(16);
            assert!(load_rdb(&out[..cut], &mut ks2, &lim, false).is_err());
        }
    }

    #[test]
    fn dump_roundtrip() {
        let v = Value::from_bytes(b"hello world");
        let p = dump_payload(&v, true, -2);
        assert!(verify_dump_payload(&p));
        let back = load_dump_payload(&p, &Limits::default()).unwrap().unwrap();
        let mut b = [0u8; 20];
        assert_eq!(back.str_bytes(&mut b).unwrap(), b"hello world");
    }
}
