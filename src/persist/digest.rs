//! DEBUG DIGEST and DEBUG DIGEST-VALUE: Redis 7.0's order-independent
//! dataset fingerprint (debug.c computeDatasetDigest / xorObjectDigest),
//! reproduced exactly so the same data gives the same digest in both.

use super::sha1::{sha1, Sha1};
use crate::db::{Db, Keyspace, Value};
use crate::encoding::numbers::fmt_g;

/// xorDigest: digest ^= SHA1(data).
fn xor_digest(digest: &mut [u8; 20], data: &[u8]) {
    let h = sha1(data);
    for (d, x) in digest.iter_mut().zip(h) {
        *d ^= x;
    }
}

/// mixDigest: digest = SHA1(digest ^ SHA1(data)).
fn mix_digest(digest: &mut [u8; 20], data: &[u8]) {
    xor_digest(digest, data);
    let mut s = Sha1::new();
    s.update(&digest[..]);
    *digest = s.finish();
}

/// xorObjectDigest: the value's type, content and whether it expires.
fn object_digest(digest: &mut [u8; 20], v: &Value, has_expire: bool) {
    let type_code: u32 = match v {
        Value::Str(_) | Value::Raw(_) | Value::Int(_) => 0,
        Value::List(_) => 1,
        Value::Set(_) => 2,
        Value::ZSet(_) => 3,
        Value::Hash(_) => 4,
        Value::Stream(_) => 6,
    };
    mix_digest(digest, &type_code.to_be_bytes());
    let mut buf = [0u8; 20];
    match v {
        Value::Str(_) | Value::Raw(_) | Value::Int(_) => {
            if let Some(b) = v.str_bytes(&mut buf) {
                mix_digest(digest, b);
            }
        }
        Value::List(l) => {
            for e in l.iter() {
                mix_digest(digest, &e);
            }
        }
        Value::Set(s) => {
            for m in s.iter() {
                xor_digest(digest, &m);
            }
        }
        Value::ZSet(z) => {
            for (m, score) in z.iter() {
                let mut ele = [0u8; 20];
                mix_digest(&mut ele, &m);
                mix_digest(&mut ele, fmt_g(score, 17).as_bytes());
                xor_digest(digest, &ele);
            }
        }
        Value::Hash(h) => {
            for (f, val) in h.iter() {
                let mut ele = [0u8; 20];
                mix_digest(&mut ele, &f);
                mix_digest(&mut ele, &val);
                xor_digest(digest, &ele);
            }
        }
        Value::Stream(s) => {
            use crate::types::stream::StreamId;
            let mut ibuf = [0u8; 41];
            let mut tmp = Vec::new();
            for e in s.range(StreamId::MIN, StreamId::MAX, false) {
                mix_digest(digest, e.id.fmt_sep(&mut ibuf, b'.'));
                for (f, v) in e.fields() {
                    tmp.clear();
                    f.write_to(&mut tmp);
                    mix_digest(digest, &tmp);
                    tmp.clear();
                    v.write_to(&mut tmp);
                    mix_digest(digest, &tmp);
                }
            }
        }
    }
    if has_expire {
        xor_digest(digest, b"!!expire!!");
    }
}

fn hex(d: &[u8; 20]) -> String {
    d.iter().map(|x| format!("{x:02x}")).collect()
}

/// computeDatasetDigest, as 40 hex digits (all zeros for an empty dataset).
pub fn dataset_digest(ks: &Keyspace) -> String {
    let mut fin = [0u8; 20];
    for (j, db) in ks.dbs.iter().enumerate() {
        if db.dict.is_empty() {
            continue;
        }
        mix_digest(&mut fin, &(j as u32).to_be_bytes());
        for (k, e) in db.dict.iter() {
            let mut d = [0u8; 20];
            mix_digest(&mut d, k);
            object_digest(&mut d, e, db.expires.contains_key(k));
            xor_digest(&mut fin, &d);
        }
    }
    hex(&fin)
}

/// DEBUG DIGEST-VALUE of one key (zeros when missing; expired keys count).
pub fn value_digest(db: &Db, key: &[u8]) -> String {
    let mut d = [0u8; 20];
    if let Some(e) = db.dict.get(key) {
        object_digest(&mut d, e, db.expires.contains_key(key));
    }
    hex(&d)
}
