//! Set commands (Redis 7.0's t_set.c): SADD/SREM/membership, SPOP and
//! SRANDMEMBER (counts; SPOP propagates as SREM or DEL), SMOVE, the
//! SINTER/SUNION/SDIFF algebra with their STORE forms, SINTERCARD, SSCAN.

use super::flag::*;
use super::keys::{parse_cursor, parse_scan_opts};
use super::t_list::arg_positive;
use super::table::spec;
use super::table::{CommandSpec, Proc};
use super::{arg_i64, Ctx};
use crate::config::{NOTIFY_GENERIC, NOTIFY_SET};
use crate::db::{Keyspace, Value};
use crate::error::{self, err, CmdError, CmdResult};
use crate::types::{Limits, Set};
use crate::util::string_match;
use bytes::Bytes;
use std::cell::Cell;

use Proc::Db;

pub static COMMANDS: &[CommandSpec] = &[
    spec("sadd", Db(sadd), -3, WRITE | DENYOOM | FAST, 1, 1, 1, "set"),
    spec("srem", Db(srem), -3, WRITE | FAST, 1, 1, 1, "set"),
    spec("smembers", Db(smembers), 2, READONLY, 1, 1, 1, "set"),
    spec(
        "sismember",
        Db(sismember),
        3,
        READONLY | FAST,
        1,
        1,
        1,
        "set",
    ),
    spec(
        "smismember",
        Db(smismember),
        -3,
        READONLY | FAST,
        1,
        1,
        1,
        "set",
    ),
    spec("scard", Db(scard), 2, READONLY | FAST, 1, 1, 1, "set"),
    spec("spop", Db(spop), -2, WRITE | FAST, 1, 1, 1, "set"),
    spec("srandmember", Db(srandmember), -2, READONLY, 1, 1, 1, "set"),
    spec("smove", Db(smove), 4, WRITE | FAST, 1, 2, 1, "set"),
    spec("sinter", Db(sinter), -2, READONLY, 1, -1, 1, "set"),
    spec("sintercard", Db(sintercard), -3, READONLY, 0, 0, 0, "set"),
    spec(
        "sinterstore",
        Db(sinterstore),
        -3,
        WRITE | DENYOOM,
        1,
        -1,
        1,
        "set",
    ),
    spec("sunion", Db(sunion), -2, READONLY, 1, -1, 1, "set"),
    spec(
        "sunionstore",
        Db(sunionstore),
        -3,
        WRITE | DENYOOM,
        1,
        -1,
        1,
        "set",
    ),
    spec("sdiff", Db(sdiff), -2, READONLY, 1, -1, 1, "set"),
    spec(
        "sdiffstore",
        Db(sdiffstore),
        -3,
        WRITE | DENYOOM,
        1,
        -1,
        1,
        "set",
    ),
    spec("sscan", Db(sscan), -3, READONLY, 1, 1, 1, "set"),
];

thread_local! {
    static RNG: Cell<u64> = Cell::new(crate::util::Rng::new().next_u64() | 1);
}

/// A fast random number (xorshift64*) for sampling members and fields.
pub(crate) fn rand_u64() -> u64 {
    RNG.with(|c| {
        let mut x = c.get();
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        c.set(x);
        x.wrapping_mul(0x2545F4914F6CDD1D)
    })
}

fn set_read<'a>(ks: &'a mut Keyspace, db: usize, key: &[u8]) -> Result<Option<&'a Set>, CmdError> {
    Ok(set_sample(ks, db, key)?.map(|s| &*s))
}

/// A set looked up for a read command that samples it (mutable all the
/// same: random sampling does rehash work, as in Redis).
fn set_sample<'a>(
    ks: &'a mut Keyspace,
    db: usize,
    key: &[u8],
) -> Result<Option<&'a mut Set>, CmdError> {
    match ks.lookup_read(db, key) {
        None => Ok(None),
        Some(e) => match e.val {
            Value::Set(s) => Ok(Some(s)),
            _ => err(error::WRONGTYPE),
        },
    }
}

fn set_mut<'a>(
    ks: &'a mut Keyspace,
    db: usize,
    key: &[u8],
) -> Result<Option<&'a mut Set>, CmdError> {
    match ks.lookup_write(db, key) {
        None => Ok(None),
        Some(e) => match e.val {
            Value::Set(s) => Ok(Some(s)),
            _ => err(error::WRONGTYPE),
        },
    }
}

pub fn sadd(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    let lim = Limits::from_config(ctx.cfg);
    let key = &argv[1];
    if set_mut(ctx.ks, ctx.db, key)?.is_none() {
        ctx.ks.add(ctx.db, key, Value::Set(Default::default()));
    }
    let Some(s) = set_mut(ctx.ks, ctx.db, key)? else {
        return Ok(());
    };
    let added = argv[2..].iter().filter(|m| s.add(m, &lim)).count();
    if added > 0 {
        ctx.written(key, NOTIFY_SET, "sadd");
        ctx.dirty += added as u64 - 1;
    }
    ctx.out.int(added as i64);
    Ok(())
}

pub fn srem(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    let key = &argv[1];
    let Some(s) = set_mut(ctx.ks, ctx.db, key)? else {
        ctx.out.int(0);
        return Ok(());
    };
    let mut deleted = 0u64;
    for m in &argv[2..] {
        if s.remove(m) {
            deleted += 1;
            if s.is_empty() {
                break;
            }
        }
    }
    let removed = s.is_empty();
    if deleted > 0 {
        if removed {
            ctx.ks.delete(ctx.db, key);
        }
        ctx.written(key, NOTIFY_SET, "srem");
        if removed {
            ctx.notify(NOTIFY_GENERIC, "del", key);
        }
        ctx.dirty += deleted - 1;
    }
    ctx.out.int(deleted as i64);
    Ok(())
}

pub fn smembers(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    let s = set_read(ctx.ks, ctx.db, &argv[1])?;
    ctx.out.set(s.map_or(0, |s| s.len()));
    if let Some(s) = s {
        for m in s.iter() {
            ctx.out.bulk(&m);
        }
    }
    Ok(())
}

pub fn sismember(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    let found = set_read(ctx.ks, ctx.db, &argv[1])?.is_some_and(|s| s.contains(&argv[2]));
    ctx.out.int(found as i64);
    Ok(())
}

pub fn smismember(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    let s = set_read(ctx.ks, ctx.db, &argv[1])?;
    ctx.out.array(argv.len() - 2);
    for m in &argv[2..] {
        ctx.out.int(s.is_some_and(|s| s.contains(m)) as i64);
    }
    Ok(())
}

pub fn scard(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    let n = set_read(ctx.ks, ctx.db, &argv[1])?.map_or(0, |s| s.len());
    ctx.out.int(n as i64);
    Ok(())
}

/// SPOP_MOVE_STRATEGY_MUL: when few members stay, rebuild from those.
const SPOP_MOVE_STRATEGY_MUL: usize = 5;

pub fn spop(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    if argv.len() > 3 {
        return err(error::SYNTAX);
    }
    let key = &argv[1];
    if argv.len() == 3 {
        return spop_with_count(ctx, key, &argv[2]);
    }
    let Some(s) = set_mut(ctx.ks, ctx.db, key)? else {
        ctx.out.null();
        return Ok(());
    };
    let Some(m) = s.pop_random(rand_u64) else {
        ctx.out.null();
        return Ok(());
    };
    let empty = s.is_empty();
    ctx.notify(NOTIFY_SET, "spop", key);
    let m = Bytes::from(m);
    ctx.propagate_as(vec![Bytes::from_static(b"SREM"), key.clone(), m.clone()]);
    ctx.out.bulk(&m);
    if empty {
        ctx.ks.delete(ctx.db, key);
        ctx.notify(NOTIFY_GENERIC, "del", key);
    }
    ctx.ks.signal_modified(ctx.db, key);
    ctx.dirty += 1;
    Ok(())
}

fn spop_with_count(ctx: &mut Ctx<'_>, key: &Bytes, arg: &[u8]) -> CmdResult {
    let count = arg_positive(arg, error::MUST_POSITIVE)? as usize;
    let lim = Limits::from_config(ctx.cfg);
    let Some(s) = set_mut(ctx.ks, ctx.db, key)? else {
        ctx.out.set(0);
        return Ok(());
    };
    if count == 0 {
        ctx.out.set(0);
        return Ok(());
    }
    let size = s.len();
    let srem = |m: &[u8]| {
        vec![
            Bytes::from_static(b"SREM"),
            key.clone(),
            Bytes::copy_from_slice(m),
        ]
    };
    let mut props: Vec<Vec<Bytes>> = Vec::new();
    if count >= size {
        ctx.out.set(size);
        for m in s.iter() {
            ctx.out.bulk(&m);
        }
        ctx.notify(NOTIFY_SET, "spop", key);
        ctx.ks.delete(ctx.db, key);
        ctx.notify(NOTIFY_GENERIC, "del", key);
        ctx.propagate_as(vec![Bytes::from_static(b"DEL"), key.clone()]);
        ctx.ks.signal_modified(ctx.db, key);
        ctx.dirty += count as u64;
        return Ok(());
    }
    ctx.out.set(count);
    let remaining = size - count;
    if remaining * SPOP_MOVE_STRATEGY_MUL > count {
        for _ in 0..count {
            if let Some(m) = s.pop_random(rand_u64) {
                ctx.out.bulk(&m);
                props.push(srem(&m));
            }
        }
    } else {
        // Move the members that stay into a new set, reply the rest.
        let mut newset = Set::new();
        for _ in 0..remaining {
            if let Some(m) = s.pop_random(rand_u64) {
                newset.add(&m, &lim);
            }
        }
        for m in s.iter() {
            ctx.out.bulk(&m);
            props.push(srem(&m));
        }
        *s = newset;
    }
    ctx.notify(NOTIFY_SET, "spop", key);
    for p in props {
        ctx.propagate_as(p);
    }
    ctx.ks.signal_modified(ctx.db, key);
    ctx.dirty += count as u64;
    Ok(())
}

/// SRANDMEMBER with a positive count below this share of the set picks
/// random members; above it, it draws from a copy (Redis's
/// SRANDMEMBER_SUB_STRATEGY_MUL).
const SRANDMEMBER_SUB_STRATEGY_MUL: usize = 3;

pub fn srandmember(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    if argv.len() > 3 {
        return err(error::SYNTAX);
    }
    if argv.len() == 2 {
        match set_sample(ctx.ks, ctx.db, &argv[1])?.and_then(|s| s.random(rand_u64)) {
            Some(m) => ctx.out.bulk(&m),
            None => ctx.out.null(),
        }
        return Ok(());
    }
    let l = arg_i64(&argv[2])?;
    if l == i64::MIN {
        return err("ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807");
    }
    let Some(s) = set_sample(ctx.ks, ctx.db, &argv[1])? else {
        ctx.out.array(0);
        return Ok(());
    };
    let count = l.unsigned_abs() as usize;
    let size = s.len();
    if count == 0 {
        ctx.out.array(0);
        return Ok(());
    }
    if l < 0 || count == 1 {
        let guard = super::ReplyGuard::new(ctx.cfg, &ctx.out, ctx.from_script);
        ctx.out.array(count);
        for _ in 0..count {
            if let Some(m) = s.random(rand_u64) {
                ctx.out.bulk(&m);
            }
            guard.check(&mut ctx.out)?;
        }
        return Ok(());
    }
    if count >= size {
        // The whole set (still an array in RESP3, unlike SPOP).
        ctx.out.array(size);
        for m in s.iter() {
            ctx.out.bulk(&m);
        }
        return Ok(());
    }
    if count * SRANDMEMBER_SUB_STRATEGY_MUL <= size {
        // Few of many (Redis's CASE 4): random picks until `count` distinct.
        let mut seen: std::collections::HashSet<Vec<u8>> = std::collections::HashSet::new();
        ctx.out.array(count);
        while seen.len() < count {
            let Some(m) = s.random(rand_u64) else {
                break;
            };
            if !seen.contains(m.as_ref()) {
                ctx.out.bulk(&m);
                seen.insert(m.into_owned());
            }
        }
        return Ok(());
    }
    // Many of the set (CASE 3): partial Fisher-Yates over positions.
    let all: Vec<_> = s.iter().collect();
    let mut idx: Vec<usize> = (0..size).collect();
    ctx.out.array(count);
    for i in 0..count {
        let j = i + (rand_u64() % (size - i) as u64) as usize;
        idx.swap(i, j);
        ctx.out.bulk(&all[idx[i]]);
    }
    Ok(())
}

pub fn smove(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    let (src, dst, m) = (&argv[1], &argv[2], &argv[3]);
    let lim = Limits::from_config(ctx.cfg);
    let dst_exists = ctx.ks.lookup_write(ctx.db, dst).is_some();
    if ctx.ks.lookup_write(ctx.db, src).is_none() {
        ctx.out.int(0);
        return Ok(());
    }
    set_mut(ctx.ks, ctx.db, src)?;
    set_mut(ctx.ks, ctx.db, dst)?;
    if src == dst {
        let found = set_read(ctx.ks, ctx.db, src)?.is_some_and(|s| s.contains(m));
        ctx.out.int(found as i64);
        return Ok(());
    }
    let Some(s) = set_mut(ctx.ks, ctx.db, src)? else {
        return Ok(());
    };
    if !s.remove(m) {
        ctx.out.int(0);
        return Ok(());
    }
    let empty = s.is_empty();
    ctx.notify(NOTIFY_SET, "srem", src);
    if empty {
        ctx.ks.delete(ctx.db, src);
        ctx.notify(NOTIFY_GENERIC, "del", src);
    }
    if !dst_exists {
        ctx.ks.add(ctx.db, dst, Value::Set(Default::default()));
    }
    ctx.ks.signal_modified(ctx.db, src);
    ctx.dirty += 1;
    if let Some(d) = set_mut(ctx.ks, ctx.db, dst)? {
        if d.add(m, &lim) {
            ctx.written(dst, NOTIFY_SET, "sadd");
        }
    }
    ctx.out.int(1);
    Ok(())
}

// ---- set algebra ----

/// Looks up every key as a set (None = missing); WRONGTYPE wins over a miss.
fn lookup_sets<'a>(
    ks: &'a mut Keyspace,
    db: usize,
    keys: &[Bytes],
) -> Result<Vec<Option<&'a Set>>, CmdError> {
    let mut found = Vec::with_capacity(keys.len());
    for k in keys {
        found.push(set_read(ks, db, k)?.is_some());
    }
    let d = &ks.db(db).dict;
    Ok(keys
        .iter()
        .zip(found)
        .map(|(k, f)| match d.get(k) {
            Some(Value::Set(s)) if f => Some(s),
            _ => None,
        })
        .collect())
}

/// Members of the intersection, iterating the smallest set; stops after
/// `limit` members (0 = no limit). None when a key is missing.
fn inter_members(sets: &[Option<&Set>], limit: usize) -> Vec<Vec<u8>> {
    let mut sets: Vec<&Set> = match sets.iter().copied().collect::<Option<Vec<_>>>() {
        Some(v) => v,
        None => return Vec::new(),
    };
    sets.sort_by_key(|s| s.len());
    let mut out = Vec::new();
    let Some((first, rest)) = sets.split_first() else {
        return out;
    };
    for m in first.iter() {
        if rest
            .iter()
            .all(|s| std::ptr::eq(*s, *first) || s.contains(&m))
        {
            out.push(m.into_owned());
            if limit != 0 && out.len() >= limit {
                break;
            }
        }
    }
    out
}

/// Stores `members` at `dst` (or deletes it when empty), as the STORE forms.
fn store_result(ctx: &mut Ctx<'_>, dst: &Bytes, members: Vec<Vec<u8>>, event: &'static str) {
    let lim = Limits::from_config(ctx.cfg);
    let mut s = Set::new();
    for m in &members {
        s.add(m, &lim);
    }
    if !s.is_empty() {
        let n = s.len();
        ctx.ks.set_key(ctx.db, dst, Value::Set(s), false);
        ctx.out.int(n as i64);
        ctx.notify(NOTIFY_SET, event, dst);
        ctx.dirty += 1;
    } else {
        ctx.out.int(0);
        if ctx.ks.delete(ctx.db, dst) {
            ctx.notify(NOTIFY_GENERIC, "del", dst);
            ctx.dirty += 1;
        }
    }
}

fn reply_members(ctx: &mut Ctx<'_>, members: &[Vec<u8>]) {
    ctx.out.set(members.len());
    for m in members {
        ctx.out.bulk(m);
    }
}

pub fn sinter(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    let sets = lookup_sets(ctx.ks, ctx.db, &argv[1..])?;
    let members = inter_members(&sets, 0);
    reply_members(ctx, &members);
    Ok(())
}

pub fn sinterstore(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    let sets = lookup_sets(ctx.ks, ctx.db, &argv[2..])?;
    let members = inter_members(&sets, 0);
    store_result(ctx, &argv[1], members, "sinterstore");
    Ok(())
}

pub fn sintercard(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    let numkeys = match crate::encoding::numbers::string2ll(&argv[1]) {
        Some(n) if n >= 1 => n as usize,
        _ => return err("ERR numkeys should be greater than 0"),
    };
    if numkeys > argv.len() - 2 {
        return err("ERR Number of keys can't be greater than number of args");
    }
    let mut limit = 0usize;
    let mut j = 2 + numkeys;
    while j < argv.len() {
        let more = argv.len() - 1 - j;
        if super::eq_ic(&argv[j], "limit") && more > 0 {
            j += 1;
            limit = arg_positive(&argv[j], "ERR LIMIT can't be negative")? as usize;
        } else {
            return err(error::SYNTAX);
        }
        j += 1;
    }
    let sets = lookup_sets(ctx.ks, ctx.db, &argv[2..2 + numkeys])?;
    let n = inter_members(&sets, limit).len();
    ctx.out.int(n as i64);
    Ok(())
}

/// SUNION / SDIFF members, built into a set as Redis does (so that the
/// reply order is that set's iteration order).
fn union_diff(ctx: &mut Ctx<'_>, keys: &[Bytes], diff: bool) -> Result<Set, CmdError> {
    let lim = Limits::from_config(ctx.cfg);
    let sets = lookup_sets(ctx.ks, ctx.db, keys)?;
    let mut out = Set::new();
    if !diff {
        for s in sets.iter().flatten() {
            for m in s.iter() {
                out.add(&m, &lim);
            }
        }
    } else if let Some(Some(first)) = sets.first() {
        let same = sets[1..]
            .iter()
            .any(|s| s.is_some_and(|s| std::ptr::eq(s, *first)));
        if !same {
            for m in first.iter() {
                if !sets[1..].iter().flatten().any(|s| s.contains(&m)) {
                    out.add(&m, &lim);
                }
            }
        }
    }
    Ok(out)
}

fn union_diff_reply(ctx: &mut Ctx<'_>, argv: &[Bytes], diff: bool) -> CmdResult {
    let s = union_diff(ctx, &argv[1..], diff)?;
    ctx.out.set(s.len());
    for m in s.iter() {
        ctx.out.bulk(&m);
    }
    Ok(())
}

fn union_diff_store(ctx: &mut Ctx<'_>, argv: &[Bytes], diff: bool) -> CmdResult {
    let s = union_diff(ctx, &argv[2..], diff)?;
    let dst = &argv[1];
    if !s.is_empty() {
        let n = s.len();
        ctx.ks.set_key(ctx.db, dst, Value::Set(s), false);
        ctx.out.int(n as i64);
        ctx.notify(
            NOTIFY_SET,
            if diff { "sdiffstore" } else { "sunionstore" },
            dst,
        );
        ctx.dirty += 1;
    } else {
        ctx.out.int(0);
        if ctx.ks.delete(ctx.db, dst) {
            ctx.dirty += 1;
            ctx.notify(NOTIFY_GENERIC, "del", dst);
        }
    }
    Ok(())
}

pub fn sunion(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    union_diff_reply(ctx, argv, false)
}
pub fn sdiff(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    union_diff_reply(ctx, argv, true)
}
pub fn sunionstore(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    union_diff_store(ctx, argv, false)
}
pub fn sdiffstore(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    union_diff_store(ctx, argv, true)
}

pub fn sscan(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    let mut cursor = parse_cursor(&argv[2])?;
    let Some(s) = set_read(ctx.ks, ctx.db, &argv[1])? else {
        ctx.out.raw(b"*2\r\n$1\r\n0\r\n*0\r\n");
        return Ok(());
    };
    let o = parse_scan_opts(argv, 3, false)?;
    let mut items: Vec<Vec<u8>> = Vec::new();
    match s.as_table() {
        Some(d) => {
            let mut budget = o.count * 10;
            loop {
                cursor = d.scan(cursor, |k| items.push(k.to_vec()));
                budget = budget.saturating_sub(1);
                if cursor == 0 || budget == 0 || items.len() >= o.count {
                    break;
                }
            }
        }
        None => {
            cursor = 0;
            items = s.iter().map(|m| m.into_owned()).collect();
        }
    }
    if let Some(p) = o.pattern {
        items.retain(|m| string_match(p, m, false));
    }
    ctx.out.array(2);
    ctx.out.bulk(cursor.to_string().as_bytes());
    ctx.out.array(items.len());
    for m in &items {
        ctx.out.bulk(m);
    }
    Ok(())
}
