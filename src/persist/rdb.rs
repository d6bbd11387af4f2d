//! RDB writer: the Redis 7.0 snapshot format (version 10) byte for byte.
//! Streams to any `io::Write` (a file, a pipe, a replica's socket) through a
//! buffer; never builds the whole file in memory. Also the value encoding
//! used by DUMP. The reader is in `rdb_load`.

use crate::db::{Keyspace, Value};
use crate::encoding::{
    crc64::crc64,
    listpack::{Listpack, LpValue},
    lzf,
};
use crate::types::list::Node;
use crate::types::{Hash, List, Set, ZSet};
use std::io::{self, Write};

/// The version we write (Redis 7.0).
pub const RDB_VERSION: u16 = 10;
/// The newest version we read (Redis 7.4).
pub const RDB_VERSION_MAX_READ: u32 = 12;

// Object types (Redis's RDB_TYPE_*).
pub const TYPE_STRING: u8 = 0;
pub const TYPE_LIST: u8 = 1;
pub const TYPE_SET: u8 = 2;
pub const TYPE_ZSET: u8 = 3;
pub const TYPE_HASH: u8 = 4;
pub const TYPE_ZSET_2: u8 = 5;
pub const TYPE_MODULE_PRE_GA: u8 = 6;
pub const TYPE_MODULE_2: u8 = 7;
pub const TYPE_HASH_ZIPMAP: u8 = 9;
pub const TYPE_LIST_ZIPLIST: u8 = 10;
pub const TYPE_SET_INTSET: u8 = 11;
pub const TYPE_ZSET_ZIPLIST: u8 = 12;
pub const TYPE_HASH_ZIPLIST: u8 = 13;
pub const TYPE_LIST_QUICKLIST: u8 = 14;
pub const TYPE_STREAM_LISTPACKS: u8 = 15;
pub const TYPE_HASH_LISTPACK: u8 = 16;
pub const TYPE_ZSET_LISTPACK: u8 = 17;
pub const TYPE_LIST_QUICKLIST_2: u8 = 18;
pub const TYPE_STREAM_LISTPACKS_2: u8 = 19;
pub const TYPE_SET_LISTPACK: u8 = 20;
pub const TYPE_STREAM_LISTPACKS_3: u8 = 21;

// Opcodes.
pub const OPCODE_SLOT_INFO: u8 = 244;
pub const OPCODE_FUNCTION2: u8 = 245;
pub const OPCODE_FUNCTION_PRE_GA: u8 = 246;
pub const OPCODE_MODULE_AUX: u8 = 247;
pub const OPCODE_IDLE: u8 = 248;
pub const OPCODE_FREQ: u8 = 249;
pub const OPCODE_AUX: u8 = 250;
pub const OPCODE_RESIZEDB: u8 = 251;
pub const OPCODE_EXPIRETIME_MS: u8 = 252;
pub const OPCODE_EXPIRETIME: u8 = 253;
pub const OPCODE_SELECTDB: u8 = 254;
pub const OPCODE_EOF: u8 = 255;

// Length / string encodings.
pub const ENC_INT8: u8 = 0;
pub const ENC_INT16: u8 = 1;
pub const ENC_INT32: u8 = 2;
pub const ENC_LZF: u8 = 3;

/// Quicklist node containers.
pub const QUICKLIST_NODE_PLAIN: u64 = 1;
pub const QUICKLIST_NODE_PACKED: u64 = 2;

/// Replication info saved with a snapshot (so a restarted replica can
/// partially resync, and so a full sync carries the stream position).
#[derive(Clone, Debug, Default)]
pub struct ReplAux {
    pub stream_db: i64,
    pub replid: String,
    pub offset: i64,
}

/// What goes in the header besides the data, and how to write.
#[derive(Clone, Debug)]
pub struct RdbAux {
    pub compression: bool,
    pub checksum: bool,
    pub repl: Option<ReplAux>,
    pub aof_base: bool,
    pub used_mem: u64,
    /// Microseconds slept after each key (Redis's hidden rdb-key-save-delay,
    /// for tests that need a save to take a while).
    pub key_save_delay_us: i64,
    /// The function libraries' codes (one RDB_OPCODE_FUNCTION2 record each).
    pub functions: Vec<bytes::Bytes>,
    /// No keys (a replica's `REPLCONF rdb-filter-only`, Redis's
    /// SLAVE_REQ_RDB_EXCLUDE_DATA).
    pub exclude_data: bool,
}

impl Default for RdbAux {
    fn default() -> Self {
        RdbAux {
            compression: true,
            checksum: true,
            repl: None,
            aof_base: false,
            used_mem: 0,
            key_save_delay_us: 0,
            functions: Vec::new(),
            exclude_data: false,
        }
    }
}

/// Low-level RDB encoder over any writer, keeping the running CRC64.
pub struct RdbWriter<W: Write> {
    w: W,
    crc: u64,
    checksum: bool,
    compression: bool,
    lzf_buf: Vec<u8>,
    pub written: u64,
}

impl<W: Write> RdbWriter<W> {
    pub fn new(w: W, compression: bool, checksum: bool) -> Self {
        RdbWriter {
            w,
            crc: 0,
            checksum,
            compression,
            lzf_buf: Vec::new(),
            written: 0,
        }
    }

    pub fn into_inner(self) -> W {
        self.w
    }

    pub fn raw(&mut self, b: &[u8]) -> io::Result<()> {
        if self.checksum {
            self.crc = crc64(self.crc, b);
        }
        self.written += b.len() as u64;
        self.w.write_all(b)
    }

    pub fn byte(&mut self, b: u8) -> io::Result<()> {
        self.raw(&[b])
    }

    /// rdbSaveLen: 6 bits, 14 bits, 32 bits or 64 bits (big endian).
    pub fn save_len(&mut self, n: u64) -> io::Result<()> {
        if n < (1 << 6) {
            self.byte(n as u8)
        } else if n < (1 << 14) {
            self.raw(&[0x40 | (n >> 8) as u8, n as u8])
        } else if n <= u32::MAX as u64 {
            let mut b = [0x80u8; 5];
            b[1..].copy_from_slice(&(n as u32).to_be_bytes());
            self.raw(&b)
        } else {
            let mut b = [0x81u8; 9];
            b[1..].copy_from_slice(&n.to_be_bytes());
            self.raw(&b)
        }
    }

    /// rdbSaveLongLongAsStringObject: integer encoding when it fits 32 bits,
    /// else the decimal string.
    pub fn int_string(&mut self, v: i64) -> io::Result<()> {
        if let Some((b, n)) = encode_integer(v) {
            return self.raw(&b[..n]);
        }
        let mut buf = [0u8; 20];
        let s = crate::encoding::numbers::ll2string(v, &mut buf);
        self.save_len(s.len() as u64)?;
        self.raw(s)
    }

    /// rdbSaveRawString: integer encoding for short decimal strings, LZF for
    /// long ones when it shrinks them, else length + bytes.
    pub fn string(&mut self, s: &[u8]) -> io::Result<()> {
        if s.len() <= 11 {
            if let Some(v) = crate::encoding::numbers::string2ll(s) {
                let mut buf = [0u8; 20];
                if crate::encoding::numbers::ll2string(v, &mut buf) == s {
                    if let Some((b, n)) = encode_integer(v) {
                        return self.raw(&b[..n]);
                    }
                }
            }
        }
        if self.compression && s.len() > 20 {
            let mut out = std::mem::take(&mut self.lzf_buf);
            out.clear();
            if let Some(clen) = lzf::compress(s, &mut out) {
                let r = (|| {
                    self.byte(0xC0 | ENC_LZF)?;
                    self.save_len(clen as u64)?;
                    self.save_len(s.len() as u64)?;
                    self.raw(&out[..clen])
                })();
                self.lzf_buf = out;
                return r;
            }
            self.lzf_buf = out;
        }
        self.save_len(s.len() as u64)?;
        self.raw(s)
    }

    pub fn aux(&mut self, key: &str, val: &[u8]) -> io::Result<()> {
        self.byte(OPCODE_AUX)?;
        self.string(key.as_bytes())?;
        self.string(val)
    }

    /// The object type byte of a value (what rdbSaveObjectType writes).
    pub fn value_type(v: &Value) -> u8 {
        match v {
            Value::Str(_) | Value::Raw(_) | Value::Int(_) => TYPE_STRING,
            Value::List(_) => TYPE_LIST_QUICKLIST_2,
            Value::Set(s) if s.as_intset().is_some() => TYPE_SET_INTSET,
            Value::Set(_) => TYPE_SET,
            Value::ZSet(z) if z.as_listpack().is_some() => TYPE_ZSET_LISTPACK,
            Value::ZSet(_) => TYPE_ZSET_2,
            Value::Hash(h) if h.as_listpack().is_some() => TYPE_HASH_LISTPACK,
            Value::Hash(_) => TYPE_HASH,
            Value::Stream(_) => TYPE_STREAM_LISTPACKS_2,
        }
    }

    /// rdbSaveObject: the value body (after its type byte).
    pub fn value(&mut self, v: &Value, list_max_listpack_size: i64) -> io::Result<()> {
        match v {
            Value::Str(s) | Value::Raw(s) => self.string(s.as_bytes()),
            Value::Int(n) => self.int_string(*n),
            Value::List(l) => self.list(l, list_max_listpack_size),
            Value::Set(s) => self.set(s),
            Value::ZSet(z) => self.zset(z),
            Value::Hash(h) => self.hash(h),
            Value::Stream(st) => self.stream(st),
        }
    }

    fn list(&mut self, l: &List, fill: i64) -> io::Result<()> {
        // Runs of listpack nodes are re-packed; a plain (large element)
        // node is written as a PLAIN container, as Redis 7.0 does.
        enum Out<'a> {
            Packed(Listpack),
            Plain(&'a [u8]),
        }
        let mut nodes: Vec<Out<'_>> = Vec::new();
        let mut run: Vec<&Node> = Vec::new();
        let flush = |run: &mut Vec<&Node>, nodes: &mut Vec<Out<'_>>| {
            let elements = run.drain(..).flat_map(|n| n.iter());
            nodes.extend(
                build_quicklist_nodes(elements, fill)
                    .into_iter()
                    .map(Out::Packed),
            );
        };
        for n in l.nodes() {
            match n {
                Node::Plain(b) => {
                    flush(&mut run, &mut nodes);
                    nodes.push(Out::Plain(b));
                }
                Node::Packed(_) => run.push(n),
            }
        }
        flush(&mut run, &mut nodes);
        self.save_len(nodes.len() as u64)?;
        for n in &nodes {
            match n {
                Out::Packed(lp) => {
                    self.save_len(QUICKLIST_NODE_PACKED)?;
                    self.string(lp.as_bytes())?;
                }
                Out::Plain(b) => {
                    self.save_len(QUICKLIST_NODE_PLAIN)?;
                    self.string(b)?;
                }
            }
        }
        Ok(())
    }

    fn set(&mut self, s: &Set) -> io::Result<()> {
        if let Some(is) = s.as_intset() {
            return self.string(&is.to_bytes());
        }
        self.save_len(s.len() as u64)?;
        for m in s.iter() {
            self.string(&m)?;
        }
        Ok(())
    }

    fn zset(&mut self, z: &ZSet) -> io::Result<()> {
        if let Some(lp) = z.as_listpack() {
            return self.string(lp.as_bytes());
        }
        self.save_len(z.len() as u64)?;
        for (m, score) in z.iter() {
            self.string(&m)?;
            self.raw(&score.to_le_bytes())?;
        }
        Ok(())
    }

    fn hash(&mut self, h: &Hash) -> io::Result<()> {
        if let Some(lp) = h.as_listpack() {
            return self.string(lp.as_bytes());
        }
        self.save_len(h.len() as u64)?;
        for (f, v) in h.iter() {
            self.string(&f)?;
            self.string(&v)?;
        }
        Ok(())
    }

    /// EOF opcode and the CRC64 trailer (zero when checksums are off).
    pub fn finish(&mut self) -> io::Result<()> {
        self.byte(OPCODE_EOF)?;
        let crc = if self.checksum { self.crc } else { 0 };
        self.raw(&crc.to_le_bytes())?;
        self.w.flush()
    }

    pub fn crc(&self) -> u64 {
        self.crc
    }
}

/// rdbEncodeInteger: the 2..5 byte integer encoding when `v` fits 32 bits.
fn encode_integer(v: i64) -> Option<([u8; 5], usize)> {
    let mut b = [0u8; 5];
    if (i8::MIN as i64..=i8::MAX as i64).contains(&v) {
        b[0] = 0xC0 | ENC_INT8;
        b[1] = v as i8 as u8;
        Some((b, 2))
    } else if (i16::MIN as i64..=i16::MAX as i64).contains(&v) {
        b[0] = 0xC0 | ENC_INT16;
        b[1..3].copy_from_slice(&(v as i16).to_le_bytes());
        Some((b, 3))
    } else if (i32::MIN as i64..=i32::MAX as i64).contains(&v) {
        b[0] = 0xC0 | ENC_INT32;
        b[1..5].copy_from_slice(&(v as i32).to_le_bytes());
        Some((b, 5))
    } else {
        None
    }
}

/// Splits a list into quicklist listpack nodes following
/// list-max-listpack-size (positive: entries per node; -1..-5: 4..64 KB).
fn build_quicklist_nodes<'a>(
    elements: impl Iterator<Item = LpValue<'a>>,
    fill: i64,
) -> Vec<Listpack> {
    const SIZES: [usize; 5] = [4096, 8192, 16384, 32768, 65536];
    let (max_count, max_bytes) = if fill > 0 {
        (fill as usize, 8192)
    } else {
        let i = ((-fill).clamp(1, 5) - 1) as usize;
        (usize::MAX, SIZES[i])
    };
    let mut nodes = Vec::new();
    let mut cur = Listpack::new();
    for e in elements.map(crate::types::list::lp_cow) {
        let full = cur.len() >= max_count
            || (fill <= 0 && cur.bytes_len() + e.len() + 11 > max_bytes)
            || (fill > 0 && cur.bytes_len() + e.len() > max_bytes && !cur.is_empty());
        if !cur.is_empty() && full {
            nodes.push(std::mem::take(&mut cur));
        }
        cur.push_back(&e);
    }
    if !cur.is_empty() {
        nodes.push(cur);
    }
    nodes
}

/// Writes a whole snapshot of `ks` to `out` (buffered), as rdbSaveRio:
/// header, AUX fields, every non-empty database, EOF and checksum.
pub fn write_rdb(ks: &Keyspace, out: &mut impl Write, aux: &RdbAux) -> io::Result<()> {
    write_rdb_with(ks, out, aux, -2, &mut |_| {})
}

/// Like [`write_rdb`], with the list node size and a per-key callback
/// (progress, key-save delay).
pub fn write_rdb_with(
    ks: &Keyspace,
    out: &mut impl Write,
    aux: &RdbAux,
    list_fill: i64,
    on_key: &mut dyn FnMut(u64),
) -> io::Result<()> {
    let buf = io::BufWriter::with_capacity(64 * 1024, out);
    let mut w = RdbWriter::new(buf, aux.compression, aux.checksum);
    w.raw(format!("REDIS{:04}", RDB_VERSION).as_bytes())?;
    w.aux("redis-ver", crate::REDIS_VERSION.as_bytes())?;
    w.aux("redis-bits", b"64")?;
    w.aux(
        "ctime",
        (crate::util::mstime() / 1000).to_string().as_bytes(),
    )?;
    w.aux("used-mem", aux.used_mem.to_string().as_bytes())?;
    if let Some(r) = &aux.repl {
        w.aux("repl-stream-db", r.stream_db.to_string().as_bytes())?;
        w.aux("repl-id", r.replid.as_bytes())?;
        w.aux("repl-offset", r.offset.to_string().as_bytes())?;
    }
    w.aux("aof-base", if aux.aof_base { b"1" } else { b"0" })?;
    for code in &aux.functions {
        w.byte(OPCODE_FUNCTION2)?;
        w.string(code)?;
    }
    let mut keys = 0u64;
    for (i, db) in ks.dbs.iter().enumerate() {
        if db.dict.is_empty() || aux.exclude_data {
            continue;
        }
        w.byte(OPCODE_SELECTDB)?;
        w.save_len(i as u64)?;
        w.byte(OPCODE_RESIZEDB)?;
        w.save_len(db.dict.len() as u64)?;
        w.save_len(db.expires.len() as u64)?;
        for (k, e) in db.dict.iter() {
            if let Some(&when) = db.expires.get(k) {
                w.byte(OPCODE_EXPIRETIME_MS)?;
                w.raw(&when.to_le_bytes())?;
            }
            w.byte(RdbWriter::<io::Sink>::value_type(e))?;
            w.string(k)?;
            w.value(e, list_fill)?;
            keys += 1;
            on_key(keys);
            super::fork::report_progress(keys);
            if aux.key_save_delay_us > 0 {
                std::thread::sleep(std::time::Duration::from_micros(
                    aux.key_save_delay_us as u64,
                ));
            }
        }
    }
    w.finish()
}

/// DUMP payload: the value's RDB encoding, the RDB version (2 bytes LE) and
/// a CRC64 (8 bytes LE) of everything before it.
pub fn dump_payload(v: &Value, compression: bool, list_fill: i64) -> Vec<u8> {
    let mut w = RdbWriter::new(Vec::new(), compression, false);
    // Writing to a Vec cannot fail.
    let _ = w.byte(RdbWriter::<io::Sink>::value_type(v));
    let _ = w.value(v, list_fill);
    let mut out = w.into_inner();
    out.extend_from_slice(&RDB_VERSION.to_le_bytes());
    let crc = crc64(0, &out);
    out.extend_from_slice(&crc.to_le_bytes());
    out
}

/// The bytes a value takes in an RDB file after its type byte (Redis's
/// rdbSavedObjectLen, DEBUG OBJECT's serializedlength).
pub fn saved_len(v: &Value, compression: bool, list_fill: i64) -> u64 {
    let mut w = RdbWriter::new(io::sink(), compression, false);
    // Writing to a sink cannot fail.
    let _ = w.value(v, list_fill);
    w.written
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths() {
        let mut w = RdbWriter::new(Vec::new(), false, false);
        w.save_len(10).unwrap();
        w.save_len(300).unwrap();
        w.save_len(70000).unwrap();
        w.save_len(1 << 40).unwrap();
        let b = w.into_inner();
        assert_eq!(&b[..3], &[10, 0x41, 0x2c]);
        assert_eq!(&b[3..8], &[0x80, 0, 1, 0x11, 0x70]);
        assert_eq!(b[8], 0x81);
    }

    #[test]
    fn strings() {
        let mut w = RdbWriter::new(Vec::new(), true, false);
        w.string(b"12").unwrap();
        w.string(b"-300").unwrap();
        w.string(b"012").unwrap();
        w.string(&[b'a'; 100]).unwrap();
        let b = w.into_inner();
        assert_eq!(&b[..2], &[0xC0, 12]);
        assert_eq!(&b[2..5], &[0xC1, 0xD4, 0xFE]);
        assert_eq!(&b[5..9], &[3, b'0', b'1', b'2']);
        assert_eq!(b[9], 0xC3);
    }
}
