//! Streams in RDB files and DUMP payloads: the writer emits Redis 7.0's
//! RDB_TYPE_STREAM_LISTPACKS_2 (node listpacks as they are, then the
//! stream's IDs and counters, then consumer groups with their PELs); the
//! reader takes types 15 (Redis 5.0-6.2), 19 (7.0) and 21 (7.2, consumers
//! with an active time) and refuses any corrupt payload with an error,
//! validating every node deeply as Redis's sanitize-dump-payload does.

use super::rdb::{
    RdbWriter, TYPE_STREAM_LISTPACKS, TYPE_STREAM_LISTPACKS_2, TYPE_STREAM_LISTPACKS_3,
};
use super::rdb_load::{RdbError, RdbReader};
use crate::encoding::listpack::Listpack;
use crate::types::stream::{Stream, StreamId};
use crate::types::stream_cg::{Group, Nack};
use crate::types::stream_meta::{validate_node, validate_stream};
use std::io::{self, Read, Write};
use std::rc::Rc;

impl<W: Write> RdbWriter<W> {
    /// rdbSaveObject for a stream (type 19).
    pub fn stream(&mut self, s: &Stream) -> io::Result<()> {
        self.save_len(s.node_count() as u64)?;
        for (key, node) in s.nodes() {
            self.string(&key.to_be_bytes())?;
            self.string(node.lp.as_bytes())?;
        }
        self.save_len(s.length)?;
        for id in [s.last_id, s.first_id, s.max_deleted_entry_id] {
            self.save_len(id.ms)?;
            self.save_len(id.seq)?;
        }
        self.save_len(s.entries_added)?;
        self.save_len(s.cgroups.len() as u64)?;
        for (name, g) in &s.cgroups {
            self.string(name)?;
            self.save_len(g.last_id.ms)?;
            self.save_len(g.last_id.seq)?;
            // -1 (unknown) is written as the unsigned length Redis writes.
            self.save_len(g.entries_read as u64)?;
            self.save_len(g.pel.len() as u64)?;
            for (id, nack) in &g.pel {
                self.raw(&id.to_be_bytes())?;
                self.raw(&nack.delivery_time.to_le_bytes())?;
                self.save_len(nack.delivery_count)?;
            }
            self.save_len(g.consumers.len() as u64)?;
            for (cname, c) in &g.consumers {
                self.string(cname)?;
                self.raw(&c.seen_time.to_le_bytes())?;
                self.save_len(c.pel.len() as u64)?;
                for id in &c.pel {
                    self.raw(&id.to_be_bytes())?;
                }
            }
        }
        Ok(())
    }
}

type R<T> = Result<T, RdbError>;

fn corrupt<T, Rd: Read>(r: &RdbReader<Rd>, what: &str) -> R<T> {
    Err(RdbError::Corrupt {
        offset: r.pos,
        what: what.to_string(),
    })
}

fn raw_id<Rd: Read>(r: &mut RdbReader<Rd>) -> R<StreamId> {
    let mut b = [0u8; 16];
    r.exact(&mut b)?;
    Ok(StreamId::from_be_bytes(&b))
}

fn ms_time<Rd: Read>(r: &mut RdbReader<Rd>) -> R<i64> {
    let mut b = [0u8; 8];
    r.exact(&mut b)?;
    Ok(i64::from_le_bytes(b))
}

fn len_id<Rd: Read>(r: &mut RdbReader<Rd>) -> R<StreamId> {
    let ms = r.load_len()?;
    let seq = r.load_len()?;
    Ok(StreamId::new(ms, seq))
}

/// rdbLoadObject for the stream types.
pub fn load_stream<Rd: Read>(r: &mut RdbReader<Rd>, t: u8) -> R<Stream> {
    let mut s = Stream::new();
    let nodes = r.load_len()?;
    for _ in 0..nodes {
        let key = r.string()?;
        let Ok(key) = <[u8; 16]>::try_from(key.as_slice()) else {
            return corrupt(r, "Stream node key entry is not the size of a stream ID");
        };
        let bytes = r.string()?;
        let Ok(lp) = Listpack::from_bytes(bytes) else {
            return corrupt(r, "Stream listpack integrity check failed.");
        };
        if validate_node(&lp).is_none() {
            return corrupt(r, "Stream listpack integrity check failed.");
        }
        if lp.is_empty() {
            return corrupt(r, "Empty listpack inside stream");
        }
        if !s.insert_node(StreamId::from_be_bytes(&key), lp) {
            return corrupt(r, "Listpack re-added with existing key");
        }
    }
    s.length = r.load_len()?;
    s.last_id = len_id(r)?;
    if t == TYPE_STREAM_LISTPACKS {
        // Redis 5.0-6.2 kept neither: derive them as Redis 7.0 does.
        s.entries_added = s.length;
        s.first_id = s.edge_id(true, true);
    } else {
        s.first_id = len_id(r)?;
        s.max_deleted_entry_id = len_id(r)?;
        s.entries_added = r.load_len()?;
    }
    if s.length > 0 && s.node_count() == 0 {
        return corrupt(r, "Stream length inconsistent with rax entries");
    }
    if !validate_stream(&s) {
        return corrupt(r, "Stream length inconsistent with its nodes");
    }
    let groups = r.load_len()?;
    for _ in 0..groups {
        let name = r.string()?;
        let last_id = len_id(r)?;
        let entries_read = if t == TYPE_STREAM_LISTPACKS {
            s.estimate_distance(last_id)
        } else {
            r.load_len()? as i64
        };
        if s.cgroups.contains_key(name.as_slice()) {
            return corrupt(r, "Duplicated consumer group name");
        }
        let mut g = Group::new(last_id, entries_read);
        let pel = r.load_len()?;
        for _ in 0..pel {
            let id = raw_id(r)?;
            let delivery_time = ms_time(r)?;
            let delivery_count = r.load_len()?;
            let nack = Nack {
                delivery_time,
                delivery_count,
                consumer: None,
            };
            if g.pel.insert(id, nack).is_some() {
                return corrupt(
                    r,
                    "Duplicated global PEL entry loading stream consumer group",
                );
            }
        }
        let consumers = r.load_len()?;
        for _ in 0..consumers {
            let cname = r.string()?;
            let seen_time = ms_time(r)?;
            if t == TYPE_STREAM_LISTPACKS_3 {
                // Redis 7.2's active time: not kept by 7.0.
                ms_time(r)?;
            }
            let Some(c) = g.create_consumer(&cname, seen_time) else {
                return corrupt(r, "Duplicate stream consumer detected.");
            };
            let owner: Rc<[u8]> = c.name.clone();
            let n = r.load_len()?;
            let mut ids = Vec::new();
            for _ in 0..n {
                ids.push(raw_id(r)?);
            }
            for id in ids {
                let Some(nack) = g.pel.get_mut(&id) else {
                    return corrupt(r, "Consumer entry not found in group global PEL");
                };
                // The installed (Debian-patched) 7.0.15 checks this before
                // its "Duplicated consumer PEL entry" one, which it thus
                // never reaches: an entry twice in one consumer's PEL or
                // in two consumers' PELs both fail here.
                if nack.consumer.is_some() {
                    return corrupt(
                        r,
                        "Stream consumer PEL entry already has a consumer assigned",
                    );
                }
                nack.consumer = Some(owner.clone());
                if let Some(c) = g.consumers.get_mut(&owner[..]) {
                    c.pel.insert(id);
                }
            }
        }
        if g.pel.values().any(|n| n.consumer.is_none()) {
            return corrupt(r, "Stream CG PEL entry without consumer");
        }
        s.cgroups.insert(name.into_boxed_slice(), g);
    }
    Ok(s)
}

/// Whether `t` is one of the stream object types.
pub fn is_stream_type(t: u8) -> bool {
    matches!(
        t,
        TYPE_STREAM_LISTPACKS | TYPE_STREAM_LISTPACKS_2 | TYPE_STREAM_LISTPACKS_3
    )
}

/// The commands an AOF rewrite without an RDB preamble writes to rebuild
/// a stream (Redis's rewriteStreamObject): XADD per entry (or the XADD
/// MAXLEN 0 trick for an empty stream), XSETID with the counters, then
/// each group with XGROUP CREATE, its PEL as XCLAIM ... FORCE and idle
/// consumers as XGROUP CREATECONSUMER.
pub fn aof_commands(key: &bytes::Bytes, s: &Stream) -> Vec<Vec<bytes::Bytes>> {
    use bytes::Bytes;
    let st = Bytes::from_static;
    let num = |n: i64| Bytes::from(n.to_string());
    let mut out = Vec::new();
    if s.length > 0 {
        for e in s.range(StreamId::MIN, StreamId::MAX, false) {
            let mut argv = vec![st(b"XADD"), key.clone(), e.id.to_bytes()];
            for (f, v) in e.fields() {
                argv.push(Bytes::from(f.to_vec()));
                argv.push(Bytes::from(v.to_vec()));
            }
            out.push(argv);
        }
    } else {
        out.push(vec![
            st(b"XADD"),
            key.clone(),
            st(b"MAXLEN"),
            st(b"0"),
            StreamId::new(0, 1).to_bytes(),
            st(b"x"),
            st(b"y"),
        ]);
    }
    out.push(vec![
        st(b"XSETID"),
        key.clone(),
        s.last_id.to_bytes(),
        st(b"ENTRIESADDED"),
        num(s.entries_added as i64),
        st(b"MAXDELETEDID"),
        s.max_deleted_entry_id.to_bytes(),
    ]);
    for (name, g) in &s.cgroups {
        let gname = Bytes::copy_from_slice(name);
        out.push(vec![
            st(b"XGROUP"),
            st(b"CREATE"),
            key.clone(),
            gname.clone(),
            g.last_id.to_bytes(),
            st(b"ENTRIESREAD"),
            num(g.entries_read),
        ]);
        for (cname, c) in &g.consumers {
            let cname = Bytes::copy_from_slice(cname);
            if c.pel.is_empty() {
                out.push(vec![
                    st(b"XGROUP"),
                    st(b"CREATECONSUMER"),
                    key.clone(),
                    gname.clone(),
                    cname,
                ]);
                continue;
            }
            for id in &c.pel {
                let Some(nack) = g.pel.get(id) else { continue };
                out.push(vec![
                    st(b"XCLAIM"),
                    key.clone(),
                    gname.clone(),
                    cname.clone(),
                    st(b"0"),
                    id.to_bytes(),
                    st(b"TIME"),
                    num(nack.delivery_time),
                    st(b"RETRYCOUNT"),
                    num(nack.delivery_count as i64),
                    st(b"JUSTID"),
                    st(b"FORCE"),
                ]);
            }
        }
    }
    out
}
