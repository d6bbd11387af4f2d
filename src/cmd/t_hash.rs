//! Hash commands (Redis 7.0's t_hash.c): HSET/HMSET/HSETNX, reads,
//! HDEL, counters (HINCRBYFLOAT propagates as HSET), HRANDFIELD, HSCAN.

use super::flag::*;
use super::keys::{parse_cursor, parse_scan_opts};
use super::t_set::rand_u64;
use super::table::spec;
use super::table::{CommandSpec, Proc};
use super::{arg_i64, eq_ic, Ctx};
use crate::config::{NOTIFY_GENERIC, NOTIFY_HASH};
use crate::db::{Keyspace, Value};
use crate::encoding::longdouble::LongDouble;
use crate::encoding::numbers::string2ll;
use crate::error::{self, err, CmdError, CmdResult};
use crate::resp::Out;
use crate::types::hash::Pair;
use crate::types::{Hash, Limits};
use crate::util::string_match;
use bytes::Bytes;

use Proc::Db;

pub static COMMANDS: &[CommandSpec] = &[
    spec(
        "hset",
        Db(hset),
        -4,
        WRITE | DENYOOM | FAST,
        1,
        1,
        1,
        "hash",
    ),
    spec(
        "hmset",
        Db(hset),
        -4,
        WRITE | DENYOOM | FAST,
        1,
        1,
        1,
        "hash",
    ),
    spec(
        "hsetnx",
        Db(hsetnx),
        4,
        WRITE | DENYOOM | FAST,
        1,
        1,
        1,
        "hash",
    ),
    spec("hget", Db(hget), 3, READONLY | FAST, 1, 1, 1, "hash"),
    spec("hmget", Db(hmget), -3, READONLY | FAST, 1, 1, 1, "hash"),
    spec("hgetall", Db(hgetall), 2, READONLY, 1, 1, 1, "hash"),
    spec("hkeys", Db(hkeys), 2, READONLY, 1, 1, 1, "hash"),
    spec("hvals", Db(hvals), 2, READONLY, 1, 1, 1, "hash"),
    spec("hdel", Db(hdel), -3, WRITE | FAST, 1, 1, 1, "hash"),
    spec("hlen", Db(hlen), 2, READONLY | FAST, 1, 1, 1, "hash"),
    spec("hexists", Db(hexists), 3, READONLY | FAST, 1, 1, 1, "hash"),
    spec("hstrlen", Db(hstrlen), 3, READONLY | FAST, 1, 1, 1, "hash"),
    spec(
        "hincrby",
        Db(hincrby),
        4,
        WRITE | DENYOOM | FAST,
        1,
        1,
        1,
        "hash",
    ),
    spec(
        "hincrbyfloat",
        Db(hincrbyfloat),
        4,
        WRITE | DENYOOM | FAST,
        1,
        1,
        1,
        "hash",
    ),
    spec("hrandfield", Db(hrandfield), -2, READONLY, 1, 1, 1, "hash"),
    spec("hscan", Db(hscan), -3, READONLY, 1, 1, 1, "hash"),
];

fn hash_read<'a>(
    ks: &'a mut Keyspace,
    db: usize,
    key: &[u8],
) -> Result<Option<&'a Hash>, CmdError> {
    Ok(hash_sample(ks, db, key)?.map(|h| &*h))
}

/// A hash looked up for a read command that samples it (mutable all the
/// same: random sampling does rehash work, as in Redis).
fn hash_sample<'a>(
    ks: &'a mut Keyspace,
    db: usize,
    key: &[u8],
) -> Result<Option<&'a mut Hash>, CmdError> {
    match ks.lookup_read(db, key) {
        None => Ok(None),
        Some(e) => match e.val {
            Value::Hash(h) => Ok(Some(h)),
            _ => err(error::WRONGTYPE),
        },
    }
}

fn hash_mut<'a>(
    ks: &'a mut Keyspace,
    db: usize,
    key: &[u8],
) -> Result<Option<&'a mut Hash>, CmdError> {
    match ks.lookup_write(db, key) {
        None => Ok(None),
        Some(e) => match e.val {
            Value::Hash(h) => Ok(Some(h)),
            _ => err(error::WRONGTYPE),
        },
    }
}

/// hashTypeLookupWriteOrCreate.
fn hash_or_create<'a>(ctx: &'a mut Ctx<'_>, key: &[u8]) -> Result<&'a mut Hash, CmdError> {
    if hash_mut(ctx.ks, ctx.db, key)?.is_none() {
        ctx.ks.add(ctx.db, key, Value::Hash(Default::default()));
    }
    match hash_mut(ctx.ks, ctx.db, key)? {
        Some(h) => Ok(h),
        None => err(error::WRONGTYPE),
    }
}

pub fn hset(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    if argv.len() % 2 == 1 {
        let name = String::from_utf8_lossy(&argv[0]).to_ascii_lowercase();
        return Err(CmdError::arity(&name));
    }
    let lim = Limits::from_config(ctx.cfg);
    let key = &argv[1];
    let h = hash_or_create(ctx, key)?;
    h.try_conversion(argv[2..].iter().map(|a| a.len()), &lim);
    let mut created = 0;
    for p in argv[2..].chunks(2) {
        created += h.set(&p[0], &p[1], &lim) as i64;
    }
    h.shrink();
    if argv[0].len() > 1 && argv[0][1].eq_ignore_ascii_case(&b's') {
        ctx.out.int(created);
    } else {
        ctx.out.ok();
    }
    ctx.written(key, NOTIFY_HASH, "hset");
    ctx.dirty += (argv.len() as u64 - 2) / 2 - 1;
    Ok(())
}

pub fn hsetnx(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    let lim = Limits::from_config(ctx.cfg);
    let key = &argv[1];
    let h = hash_or_create(ctx, key)?;
    if h.contains(&argv[2]) {
        ctx.out.int(0);
        return Ok(());
    }
    h.set(&argv[2], &argv[3], &lim);
    ctx.out.int(1);
    ctx.written(key, NOTIFY_HASH, "hset");
    Ok(())
}

pub fn hget(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    let h = hash_read(ctx.ks, ctx.db, &argv[1])?;
    match h.and_then(|h| h.get(&argv[2])) {
        Some(v) => ctx.out.bulk(&v),
        None => ctx.out.null(),
    }
    Ok(())
}

pub fn hmget(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    let h = hash_read(ctx.ks, ctx.db, &argv[1])?;
    ctx.out.array(argv.len() - 2);
    for f in &argv[2..] {
        match h.and_then(|h| h.get(f)) {
            Some(v) => ctx.out.bulk(&v),
            None => ctx.out.null(),
        }
    }
    Ok(())
}

/// HGETALL / HKEYS / HVALS (genericHgetallCommand).
fn getall_generic(ctx: &mut Ctx<'_>, argv: &[Bytes], keys: bool, vals: bool) -> CmdResult {
    let h = hash_read(ctx.ks, ctx.db, &argv[1])?;
    let n = h.map_or(0, |h| h.len());
    if keys && vals {
        ctx.out.map(n);
    } else {
        ctx.out.array(n);
    }
    if let Some(h) = h {
        for (f, v) in h.iter() {
            if keys {
                ctx.out.bulk(&f);
            }
            if vals {
                ctx.out.bulk(&v);
            }
        }
    }
    Ok(())
}

pub fn hgetall(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    getall_generic(ctx, argv, true, true)
}
pub fn hkeys(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    getall_generic(ctx, argv, true, false)
}
pub fn hvals(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    getall_generic(ctx, argv, false, true)
}

pub fn hdel(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    let key = &argv[1];
    let Some(h) = hash_mut(ctx.ks, ctx.db, key)? else {
        ctx.out.int(0);
        return Ok(());
    };
    let mut deleted = 0;
    for f in &argv[2..] {
        if h.remove(f) {
            deleted += 1;
            if h.is_empty() {
                break;
            }
        }
    }
    let removed = h.is_empty();
    if deleted > 0 {
        if removed {
            ctx.ks.delete(ctx.db, key);
        }
        ctx.written(key, NOTIFY_HASH, "hdel");
        if removed {
            ctx.notify(NOTIFY_GENERIC, "del", key);
        }
        ctx.dirty += deleted as u64 - 1;
    }
    ctx.out.int(deleted);
    Ok(())
}

pub fn hlen(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    let n = hash_read(ctx.ks, ctx.db, &argv[1])?.map_or(0, |h| h.len());
    ctx.out.int(n as i64);
    Ok(())
}

pub fn hexists(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    let found = hash_read(ctx.ks, ctx.db, &argv[1])?.is_some_and(|h| h.contains(&argv[2]));
    ctx.out.int(found as i64);
    Ok(())
}

pub fn hstrlen(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    let n = hash_read(ctx.ks, ctx.db, &argv[1])?
        .and_then(|h| h.get(&argv[2]).map(|v| v.len()))
        .unwrap_or(0);
    ctx.out.int(n as i64);
    Ok(())
}

pub fn hincrby(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    let incr = arg_i64(&argv[3])?;
    let lim = Limits::from_config(ctx.cfg);
    let key = &argv[1];
    let h = hash_or_create(ctx, key)?;
    let old = match h.get(&argv[2]) {
        Some(v) => string2ll(&v).ok_or(CmdError::from("ERR hash value is not an integer"))?,
        None => 0,
    };
    let new = old
        .checked_add(incr)
        .ok_or(CmdError::from(error::OVERFLOW))?;
    h.set(&argv[2], new.to_string().as_bytes(), &lim);
    ctx.out.int(new);
    ctx.written(key, NOTIFY_HASH, "hincrby");
    Ok(())
}

pub fn hincrbyfloat(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    let incr = LongDouble::parse(&argv[3]).ok_or(CmdError::from(error::NOT_FLOAT))?;
    if !incr.is_finite() {
        return err("ERR value is NaN or Infinity");
    }
    let lim = Limits::from_config(ctx.cfg);
    let key = &argv[1];
    let h = hash_or_create(ctx, key)?;
    let old = match h.get(&argv[2]) {
        Some(v) => LongDouble::parse(&v).ok_or(CmdError::from("ERR hash value is not a float"))?,
        None => LongDouble::from_i64(0),
    };
    let new = old
        .checked_add(incr)
        .filter(|v| v.is_finite())
        .ok_or(CmdError::from(
            "ERR increment would produce NaN or Infinity",
        ))?;
    let text = new.to_human_string();
    h.set(&argv[2], &text, &lim);
    ctx.out.bulk(&text);
    ctx.written(key, NOTIFY_HASH, "hincrbyfloat");
    ctx.propagate_as(vec![
        Bytes::from_static(b"HSET"),
        key.clone(),
        argv[2].clone(),
        Bytes::from(text),
    ]);
    Ok(())
}

/// One HRANDFIELD element: the field, and the value when asked (a pair
/// array in RESP3).
fn reply_field(out: &mut Out<'_>, f: &[u8], v: &[u8], withvalues: bool) {
    if withvalues && out.resp > 2 {
        out.array(2);
    }
    out.bulk(f);
    if withvalues {
        out.bulk(v);
    }
}

pub fn hrandfield(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    if argv.len() < 3 {
        let Some(h) = hash_sample(ctx.ks, ctx.db, &argv[1])? else {
            ctx.out.null();
            return Ok(());
        };
        match h.random(rand_u64) {
            Some((f, _)) => ctx.out.bulk(&f),
            None => ctx.out.null(),
        }
        return Ok(());
    }
    let l = arg_i64(&argv[2])?;
    if l == i64::MIN {
        return err("ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807");
    }
    let withvalues = match argv.len() {
        3 => false,
        4 if eq_ic(&argv[3], "withvalues") => {
            if !(-(i64::MAX / 2)..=i64::MAX / 2).contains(&l) {
                return err("ERR value is out of range");
            }
            true
        }
        _ => return err(error::SYNTAX),
    };
    let Some(h) = hash_sample(ctx.ks, ctx.db, &argv[1])? else {
        ctx.out.array(0);
        return Ok(());
    };
    let size = h.len();
    let count = l.unsigned_abs() as usize;
    let uniq = l >= 0;
    if count == 0 {
        ctx.out.array(0);
        return Ok(());
    }
    let resp2_flat = withvalues && ctx.out.resp == 2;
    if !uniq || count == 1 {
        let guard = super::ReplyGuard::new(ctx.cfg, &ctx.out, ctx.from_script);
        ctx.out.array(if resp2_flat { count * 2 } else { count });
        for _ in 0..count {
            if let Some((f, v)) = h.random(rand_u64) {
                reply_field(&mut ctx.out, &f, &v, withvalues);
            }
            guard.check(&mut ctx.out)?;
        }
        return Ok(());
    }
    let n = count.min(size);
    ctx.out.array(if resp2_flat { n * 2 } else { n });
    if count >= size {
        for (f, v) in h.iter() {
            reply_field(&mut ctx.out, &f, &v, withvalues);
        }
    } else {
        for (f, v) in sample_unique(h, count) {
            reply_field(&mut ctx.out, &f, &v, withvalues);
        }
    }
    Ok(())
}

/// `count` distinct random pairs (count < len).
fn sample_unique(h: &Hash, count: usize) -> Vec<Pair<'_>> {
    let size = h.len();
    let mut all: Vec<Option<Pair<'_>>> = h.iter().map(Some).collect();
    // Partial Fisher-Yates over indexes: O(size) memory, bounded by the hash.
    let mut idx: Vec<usize> = (0..size).collect();
    for i in 0..count {
        let j = i + (rand_u64() % (size - i) as u64) as usize;
        idx.swap(i, j);
    }
    idx[..count].iter().filter_map(|&i| all[i].take()).collect()
}

pub fn hscan(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    let mut cursor = parse_cursor(&argv[2])?;
    let Some(h) = hash_read(ctx.ks, ctx.db, &argv[1])? else {
        ctx.out.raw(b"*2\r\n$1\r\n0\r\n*0\r\n");
        return Ok(());
    };
    let o = parse_scan_opts(argv, 3, false)?;
    let mut items: Vec<(Vec<u8>, Vec<u8>)> = Vec::new();
    match h.as_dict() {
        Some(d) => {
            let mut budget = o.count * 10;
            loop {
                cursor = d.scan(cursor, |k, v| items.push((k.to_vec(), v.to_vec())));
                budget = budget.saturating_sub(1);
                if cursor == 0 || budget == 0 || items.len() >= o.count {
                    break;
                }
            }
        }
        None => {
            cursor = 0;
            items = h
                .iter()
                .map(|(f, v)| (f.into_owned(), v.into_owned()))
                .collect();
        }
    }
    if let Some(p) = o.pattern {
        items.retain(|(f, _)| string_match(p, f, false));
    }
    ctx.out.array(2);
    ctx.out.bulk(cursor.to_string().as_bytes());
    ctx.out.array(items.len() * 2);
    for (f, v) in &items {
        ctx.out.bulk(f);
        ctx.out.bulk(v);
    }
    Ok(())
}
