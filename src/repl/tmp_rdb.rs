//! TEMPORARY strings-only RDB writer/loader so replication can be built and
//! tested before the persistence branch lands; replaced by `persist::rdb`.

use crate::db::{Keyspace, Value};
use crate::encoding::crc64::crc64;
use crate::types::Limits;
use std::io::{self, Read, Write};

pub struct RdbAux {
    pub repl_id: String,
    pub repl_offset: i64,
    pub repl_stream_db: i64,
}

#[derive(Default, Debug)]
pub struct RdbInfo {
    pub repl_id: Option<String>,
    pub repl_offset: Option<i64>,
    pub repl_stream_db: Option<i64>,
}

struct CrcWriter<'a, W: Write> {
    w: &'a mut W,
    crc: u64,
}

impl<W: Write> CrcWriter<'_, W> {
    fn put(&mut self, b: &[u8]) -> io::Result<()> {
        self.crc = crc64(self.crc, b);
        self.w.write_all(b)
    }
    fn len(&mut self, n: u64) -> io::Result<()> {
        if n < 64 {
            self.put(&[n as u8])
        } else if n < 16384 {
            self.put(&[0x40 | (n >> 8) as u8, n as u8])
        } else if n <= u32::MAX as u64 {
            self.put(&[0x80])?;
            self.put(&(n as u32).to_be_bytes())
        } else {
            self.put(&[0x81])?;
            self.put(&n.to_be_bytes())
        }
    }
    fn string(&mut self, s: &[u8]) -> io::Result<()> {
        self.len(s.len() as u64)?;
        self.put(s)
    }
}

pub fn write_rdb(ks: &Keyspace, out: &mut impl Write, aux: &RdbAux) -> io::Result<()> {
    let mut w = CrcWriter { w: out, crc: 0 };
    w.put(b"REDIS0010")?;
    for (k, v) in [
        ("redis-ver", crate::REDIS_VERSION.to_string()),
        ("redis-bits", "64".to_string()),
        ("repl-stream-db", aux.repl_stream_db.to_string()),
        ("repl-id", aux.repl_id.clone()),
        ("repl-offset", aux.repl_offset.to_string()),
    ] {
        w.put(&[0xFA])?;
        w.string(k.as_bytes())?;
        w.string(v.as_bytes())?;
    }
    let mut buf = [0u8; 20];
    for (i, db) in ks.dbs.iter().enumerate() {
        if db.is_empty() {
            continue;
        }
        w.put(&[0xFE])?;
        w.len(i as u64)?;
        w.put(&[0xFB])?;
        w.len(db.len() as u64)?;
        w.len(db.expires.len() as u64)?;
        for (k, e) in db.dict.iter() {
            let Some(s) = e.val.str_bytes(&mut buf) else {
                continue;
            };
            if let Some(t) = db.get_expire(k) {
                w.put(&[0xFC])?;
                w.put(&t.to_le_bytes())?;
            }
            w.put(&[0])?;
            w.string(k)?;
            w.string(s)?;
        }
    }
    w.put(&[0xFF])?;
    let crc = w.crc;
    w.w.write_all(&crc.to_le_bytes())
}

fn rd<const N: usize>(r: &mut impl Read) -> Result<[u8; N], String> {
    let mut b = [0u8; N];
    r.read_exact(&mut b).map_err(|e| e.to_string())?;
    Ok(b)
}

/// (length, or Err(special encoding type)).
fn rlen(r: &mut impl Read) -> Result<Result<u64, u8>, String> {
    let [b] = rd::<1>(r)?;
    Ok(match b >> 6 {
        0 => Ok((b & 0x3f) as u64),
        1 => Ok((((b & 0x3f) as u64) << 8) | rd::<1>(r)?[0] as u64),
        2 if b == 0x80 => Ok(u32::from_be_bytes(rd(r)?) as u64),
        2 if b == 0x81 => Ok(u64::from_be_bytes(rd(r)?)),
        2 => return Err("bad length".into()),
        _ => Err(b & 0x3f),
    })
}

fn rstring(r: &mut impl Read) -> Result<Vec<u8>, String> {
    match rlen(r)? {
        Ok(n) => {
            let mut v = Vec::new();
            r.take(n).read_to_end(&mut v).map_err(|e| e.to_string())?;
            if v.len() as u64 != n {
                return Err("short read".into());
            }
            Ok(v)
        }
        Err(0) => Ok((rd::<1>(r)?[0] as i8).to_string().into_bytes()),
        Err(1) => Ok(i16::from_le_bytes(rd(r)?).to_string().into_bytes()),
        Err(2) => Ok(i32::from_le_bytes(rd(r)?).to_string().into_bytes()),
        Err(3) => {
            let clen = rlen(r)?.map_err(|_| "bad lzf")?;
            let ulen = rlen(r)?.map_err(|_| "bad lzf")?;
            let mut c = Vec::new();
            r.take(clen)
                .read_to_end(&mut c)
                .map_err(|e| e.to_string())?;
            crate::encoding::lzf::decompress(&c, ulen as usize).map_err(|_| "bad lzf".to_string())
        }
        Err(_) => Err("unknown string encoding".into()),
    }
}

pub fn load_rdb(r: &mut impl Read, ks: &mut Keyspace, _lim: &Limits) -> Result<RdbInfo, String> {
    let magic = rd::<9>(r)?;
    if &magic[..5] != b"REDIS" {
        return Err("Wrong signature trying to load DB from file".into());
    }
    let mut info = RdbInfo::default();
    let mut db = 0usize;
    let mut expire: Option<i64> = None;
    loop {
        let [t] = rd::<1>(r)?;
        match t {
            0xFF => return Ok(info),
            0xFA => {
                let k = rstring(r)?;
                let v = rstring(r)?;
                let vs = String::from_utf8_lossy(&v).into_owned();
                match &k[..] {
                    b"repl-id" => info.repl_id = Some(vs),
                    b"repl-offset" => info.repl_offset = vs.parse().ok(),
                    b"repl-stream-db" => info.repl_stream_db = vs.parse().ok(),
                    _ => {}
                }
            }
            0xFE => {
                db = rlen(r)?.map_err(|_| "bad db")? as usize;
                if db >= ks.dbs.len() {
                    return Err("db out of range".into());
                }
            }
            0xFB => {
                rlen(r)?.map_err(|_| "bad resize")?;
                rlen(r)?.map_err(|_| "bad resize")?;
            }
            0xFC => expire = Some(i64::from_le_bytes(rd(r)?)),
            0xFD => expire = Some(u32::from_le_bytes(rd(r)?) as i64 * 1000),
            0xF8 | 0xF9 => {
                // LRU idle / LFU freq: skip.
                if t == 0xF8 {
                    rlen(r)?.map_err(|_| "bad idle")?;
                } else {
                    rd::<1>(r)?;
                }
            }
            0 => {
                let k = rstring(r)?;
                let v = rstring(r)?;
                ks.set_key(db, &k, Value::from_bytes(&v), false);
                if let Some(e) = expire.take() {
                    ks.db_mut(db).set_expire(&k, e);
                }
            }
            other => return Err(format!("temporary loader: unsupported type {other}")),
        }
    }
}

/// Forks; the child runs `f` and `_exit`s with its status. Returns the pid.
pub fn fork_child(f: impl FnOnce() -> i32) -> io::Result<i32> {
    use nix::unistd::{fork, ForkResult};
    // SAFETY: the process is single-threaded; the child only serializes
    // and leaves with _exit (no destructors, no poll loop).
    match unsafe { fork() } {
        Ok(ForkResult::Parent { child }) => Ok(child.as_raw()),
        Ok(ForkResult::Child) => {
            crate::logging::set_role(b'C');
            let code = f();
            // SAFETY: _exit skips atexit handlers and destructors, as a fork child must.
            unsafe { libc::_exit(code) }
        }
        Err(e) => Err(io::Error::other(e)),
    }
}
