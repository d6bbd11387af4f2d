//! Sorted set commands (Redis's t_zset.c), part one: ZADD and friends,
//! single-member reads, pops (including the blocking ones), ZRANDMEMBER,
//! ZSCAN, and the command table of the whole family. Ranges live in
//! `t_zset_range.rs`, the set algebra in `t_zset_ops.rs`.

use super::flag::*;
use super::keys::{parse_cursor, parse_scan_opts};
use super::{arg_i64, eq_ic, t_zset_ops as ops, t_zset_range as rng};
use super::{CommandSpec, Ctx, Effect, Proc};
use crate::cmd::table::spec;
use crate::config::{NOTIFY_GENERIC, NOTIFY_ZSET};
use crate::db::{Keyspace, Value};
use crate::encoding::numbers::d2string;
use crate::error::{self, err, CmdError, CmdResult};
use crate::types::{Limits, ZSet};
use crate::util::{string_match, Rng};
use bytes::Bytes;

/// The sorted set at `key`: Ok(None) when missing, WRONGTYPE for other types.
pub fn zget<'a>(
    ks: &'a mut Keyspace,
    db: usize,
    key: &[u8],
    write: bool,
) -> Result<Option<&'a mut ZSet>, CmdError> {
    super::lookup_as(ks, db, key, write, |v| match v {
        Value::ZSet(z) => Some(z),
        _ => None,
    })
}

/// After removing `n` members from `key`: the event, deleting the key when
/// it became empty, WATCH invalidation and the dirty count.
pub fn after_remove(ctx: &mut Ctx<'_>, key: &Bytes, event: &'static str, n: usize) {
    if n == 0 {
        return;
    }
    ctx.notify(NOTIFY_ZSET, event, key);
    let empty = matches!(
        ctx.ks.lookup_write(ctx.db, key).map(|e| e.val as &Value),
        Some(Value::ZSet(z)) if z.is_empty()
    );
    if empty {
        ctx.ks.delete(ctx.db, key);
        ctx.notify(NOTIFY_GENERIC, "del", key);
    }
    ctx.ks.signal_modified(ctx.db, key);
    ctx.dirty += n as u64;
}

/// A score as Redis writes it into a listpack or a ZSCAN reply.
pub fn score_string(s: f64) -> String {
    if s == 0.0 && s.is_sign_negative() {
        "-0".into()
    } else {
        d2string(s)
    }
}

// ---- ZADD / ZINCRBY ----

const Z_INCR: u32 = 1;
const Z_NX: u32 = 2;
const Z_XX: u32 = 4;
const Z_GT: u32 = 8;
const Z_LT: u32 = 16;
const Z_CH: u32 = 32;

enum AddOut {
    Nop,
    Added(f64),
    Updated(f64),
    Same(f64),
}

/// zsetAdd: applies one (score, member) under the ZADD flags.
/// Err(()) when an increment produces NaN.
fn zset_add(z: &mut ZSet, score: f64, member: &[u8], f: u32, lim: &Limits) -> Result<AddOut, ()> {
    match z.score(member) {
        Some(cur) => {
            if f & Z_NX != 0 {
                return Ok(AddOut::Nop);
            }
            let mut score = score;
            if f & Z_INCR != 0 {
                score += cur;
                if score.is_nan() {
                    return Err(());
                }
            }
            if (f & Z_LT != 0 && score >= cur) || (f & Z_GT != 0 && score <= cur) {
                return Ok(AddOut::Nop);
            }
            if score != cur {
                z.insert(member, score, lim);
                Ok(AddOut::Updated(score))
            } else {
                Ok(AddOut::Same(score))
            }
        }
        None if f & Z_XX != 0 => Ok(AddOut::Nop),
        None => {
            z.insert(member, score, lim);
            Ok(AddOut::Added(score))
        }
    }
}

fn zadd_generic(ctx: &mut Ctx<'_>, argv: &[Bytes], mut flags: u32) -> CmdResult {
    let key = &argv[1];
    let mut idx = 2;
    while idx < argv.len() {
        let a = &argv[idx][..];
        let f = if eq_ic(a, "nx") {
            Z_NX
        } else if eq_ic(a, "xx") {
            Z_XX
        } else if eq_ic(a, "ch") {
            Z_CH
        } else if eq_ic(a, "incr") {
            Z_INCR
        } else if eq_ic(a, "gt") {
            Z_GT
        } else if eq_ic(a, "lt") {
            Z_LT
        } else {
            break;
        };
        flags |= f;
        idx += 1;
    }
    let elements = argv.len() - idx;
    if !elements.is_multiple_of(2) || elements == 0 {
        return err(error::SYNTAX);
    }
    if flags & Z_NX != 0 && flags & Z_XX != 0 {
        return err("ERR XX and NX options at the same time are not compatible");
    }
    let gt_lt_nx = [Z_GT, Z_LT, Z_NX]
        .iter()
        .filter(|&&x| flags & x != 0)
        .count();
    if gt_lt_nx > 1 {
        return err("ERR GT, LT, and/or NX options at the same time are not compatible");
    }
    if flags & Z_INCR != 0 && elements > 2 {
        return err("ERR INCR option supports a single increment-element pair");
    }
    let mut scores = Vec::with_capacity(elements / 2);
    for p in argv[idx..].chunks(2) {
        scores.push(
            crate::encoding::numbers::string2d(&p[0]).ok_or(CmdError::from(error::NOT_FLOAT))?,
        );
    }
    let lim = Limits::from_config(ctx.cfg);
    if zget(ctx.ks, ctx.db, key, true)?.is_none() {
        if flags & Z_XX != 0 {
            reply_zadd(ctx, flags, 0, 0, None);
            return Ok(());
        }
        ctx.ks.add(ctx.db, key, Value::ZSet(Default::default()));
    }
    let Some(z) = zget(ctx.ks, ctx.db, key, true)? else {
        return Ok(());
    };
    let (mut added, mut updated) = (0usize, 0usize);
    let mut newscore = None;
    let mut failed = false;
    for (p, &score) in argv[idx..].chunks(2).zip(&scores) {
        match zset_add(z, score, &p[1], flags, &lim) {
            Err(()) => {
                failed = true;
                break;
            }
            Ok(AddOut::Nop) => {}
            Ok(AddOut::Added(s)) => {
                added += 1;
                newscore = Some(s);
            }
            Ok(AddOut::Updated(s)) => {
                updated += 1;
                newscore = Some(s);
            }
            Ok(AddOut::Same(s)) => newscore = Some(s),
        }
    }
    let empty = z.is_empty();
    if empty {
        // Only possible when a NaN stopped the very first insert.
        ctx.ks.delete(ctx.db, key);
    }
    if added + updated > 0 {
        let ev = if flags & Z_INCR != 0 { "zincr" } else { "zadd" };
        ctx.written(key, NOTIFY_ZSET, ev);
        ctx.dirty += (added + updated - 1) as u64;
    }
    if failed {
        return err("ERR resulting score is not a number (NaN)");
    }
    reply_zadd(ctx, flags, added, updated, newscore);
    Ok(())
}

fn reply_zadd(ctx: &mut Ctx<'_>, flags: u32, added: usize, updated: usize, ns: Option<f64>) {
    if flags & Z_INCR != 0 {
        match ns {
            Some(s) => ctx.out.double(s),
            None => ctx.out.null(),
        }
    } else if flags & Z_CH != 0 {
        ctx.out.int((added + updated) as i64);
    } else {
        ctx.out.int(added as i64);
    }
}

pub fn zadd(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    zadd_generic(ctx, argv, 0)
}

pub fn zincrby(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    zadd_generic(ctx, argv, Z_INCR)
}

// ---- removal and single-member reads ----

pub fn zrem(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    let key = &argv[1];
    let Some(z) = zget(ctx.ks, ctx.db, key, true)? else {
        ctx.out.int(0);
        return Ok(());
    };
    let mut n = 0;
    for m in &argv[2..] {
        if z.remove(m) {
            n += 1;
            if z.is_empty() {
                break;
            }
        }
    }
    after_remove(ctx, key, "zrem", n);
    ctx.out.int(n as i64);
    Ok(())
}

pub fn zcard(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    let n = zget(ctx.ks, ctx.db, &argv[1], false)?.map_or(0, |z| z.len());
    ctx.out.int(n as i64);
    Ok(())
}

pub fn zscore(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    match zget(ctx.ks, ctx.db, &argv[1], false)?.and_then(|z| z.score(&argv[2])) {
        Some(s) => ctx.out.double(s),
        None => ctx.out.null(),
    }
    Ok(())
}

pub fn zmscore(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    let z = zget(ctx.ks, ctx.db, &argv[1], false)?;
    ctx.out.array(argv.len() - 2);
    for m in &argv[2..] {
        match z.as_ref().and_then(|z| z.score(m)) {
            Some(s) => ctx.out.double(s),
            None => ctx.out.null(),
        }
    }
    Ok(())
}

fn zrank_generic(ctx: &mut Ctx<'_>, argv: &[Bytes], rev: bool) -> CmdResult {
    let r = zget(ctx.ks, ctx.db, &argv[1], false)?.and_then(|z| {
        z.rank(&argv[2])
            .map(|r| if rev { z.len() - 1 - r } else { r })
    });
    match r {
        Some(r) => ctx.out.int(r as i64),
        None => ctx.out.null(),
    }
    Ok(())
}

pub fn zrank(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    zrank_generic(ctx, argv, false)
}

pub fn zrevrank(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    zrank_generic(ctx, argv, true)
}

// ---- pops ----

/// How a pop replies (genericZpopCommand's emitkey / use_nested_array).
#[derive(Clone, Copy)]
struct PopStyle {
    emit_key: bool,
    nested: bool,
    nil_when_empty: bool,
}

/// genericZpopCommand: pops up to `count` (-1: one, flat) from the first
/// non-empty key. Returns the key served, if any.
fn zpop_generic(
    ctx: &mut Ctx<'_>,
    keys: &[Bytes],
    max: bool,
    count: i64,
    st: PopStyle,
) -> Result<Option<(Bytes, usize)>, CmdError> {
    let mut found = None;
    for k in keys {
        if zget(ctx.ks, ctx.db, k, true)?.is_some() {
            found = Some(k.clone());
            break;
        }
    }
    let Some(key) = found else {
        if st.nil_when_empty {
            ctx.out.null_array();
        } else {
            ctx.out.array(0);
        }
        return Ok(None);
    };
    if count == 0 {
        ctx.out.array(0);
        return Ok(None);
    }
    let count = if count == -1 { 1 } else { count as usize };
    let Some(z) = zget(ctx.ks, ctx.db, &key, true)? else {
        return Ok(None);
    };
    let len = z.len();
    let n = count.min(len);
    let (start, end) = if max { (len - n, len) } else { (0, n) };
    let popped: Vec<(Vec<u8>, f64)> = z
        .range(start, end, max)
        .map(|(m, s)| (m.into_owned(), s))
        .collect();
    z.remove_ranks(start, end);
    match (st.nested, st.emit_key) {
        (false, false) => ctx.out.array(n * 2),
        (true, false) => ctx.out.array(n),
        (false, true) => {
            ctx.out.array(n * 2 + 1);
            ctx.out.bulk(&key);
        }
        (true, true) => {
            ctx.out.array(2);
            ctx.out.bulk(&key);
            ctx.out.array(n);
        }
    }
    for (m, s) in &popped {
        if st.nested {
            ctx.out.array(2);
        }
        ctx.out.bulk(m);
        ctx.out.double(*s);
    }
    after_remove(ctx, &key, if max { "zpopmax" } else { "zpopmin" }, n);
    Ok(Some((key, n)))
}

fn zpop_minmax(ctx: &mut Ctx<'_>, argv: &[Bytes], max: bool) -> CmdResult {
    if argv.len() > 3 {
        return err(error::SYNTAX);
    }
    let mut count = -1;
    if argv.len() == 3 {
        count = arg_i64(&argv[2]).map_err(|_| CmdError::from(error::MUST_POSITIVE))?;
        if count < 0 {
            return err(error::MUST_POSITIVE);
        }
    }
    let st = PopStyle {
        emit_key: false,
        nested: ctx.out.resp > 2 && count != -1,
        nil_when_empty: false,
    };
    zpop_generic(ctx, &argv[1..2], max, count, st)?;
    Ok(())
}

pub fn zpopmin(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    zpop_minmax(ctx, argv, false)
}

pub fn zpopmax(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    zpop_minmax(ctx, argv, true)
}

fn pop_name(max: bool) -> Bytes {
    Bytes::from_static(if max { b"ZPOPMAX" } else { b"ZPOPMIN" })
}

/// blockingGenericZpopCommand: serve from the first non-empty key, else
/// reply null (no blocking allowed) or block.
fn blocking_zpop(
    ctx: &mut Ctx<'_>,
    keys: &[Bytes],
    max: bool,
    timeout: &[u8],
    count: i64,
    st: PopStyle,
) -> CmdResult {
    let deadline = super::t_list::parse_timeout(timeout, ctx.now_ms())?;
    for k in keys {
        let Some(z) = zget(ctx.ks, ctx.db, k, true)? else {
            continue;
        };
        if z.is_empty() {
            continue;
        }
        if let Some((key, n)) = zpop_generic(ctx, std::slice::from_ref(k), max, count, st)? {
            // BZMPOP: as ZPOPMIN/ZPOPMAX with the count actually popped.
            let mut p = vec![pop_name(max), key];
            if count != -1 {
                p.push(Bytes::from(n.to_string()));
            }
            ctx.propagate_as(p);
        }
        return Ok(());
    }
    if ctx.no_block {
        ctx.out.null_array();
        return Ok(());
    }
    ctx.effect = Effect::Block {
        keys: keys.to_vec(),
        deadline_ms: deadline,
    };
    Ok(())
}

fn bzpop_minmax(ctx: &mut Ctx<'_>, argv: &[Bytes], max: bool) -> CmdResult {
    let st = PopStyle {
        emit_key: true,
        nested: false,
        nil_when_empty: false,
    };
    let n = argv.len();
    blocking_zpop(ctx, &argv[1..n - 1], max, &argv[n - 1], -1, st)
}

pub fn bzpopmin(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    bzpop_minmax(ctx, argv, false)
}

pub fn bzpopmax(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    bzpop_minmax(ctx, argv, true)
}

/// zmpopGenericCommand: `[timeout] numkeys key... MIN|MAX [COUNT n]`.
fn zmpop_generic(ctx: &mut Ctx<'_>, argv: &[Bytes], numkeys_idx: usize, block: bool) -> CmdResult {
    const NK: &str = "ERR numkeys should be greater than 0";
    let numkeys = arg_i64(&argv[numkeys_idx]).map_err(|_| CmdError::from(NK))?;
    if numkeys < 1 {
        return err(NK);
    }
    let where_idx = numkeys_idx + 1 + numkeys as usize;
    if numkeys as u64 >= argv.len() as u64 || where_idx >= argv.len() {
        return err(error::SYNTAX);
    }
    let max = if eq_ic(&argv[where_idx], "min") {
        false
    } else if eq_ic(&argv[where_idx], "max") {
        true
    } else {
        return err(error::SYNTAX);
    };
    let mut count = -1i64;
    let mut j = where_idx + 1;
    while j < argv.len() {
        if count == -1 && eq_ic(&argv[j], "count") && j + 1 < argv.len() {
            const C: &str = "ERR count should be greater than 0";
            count = arg_i64(&argv[j + 1]).map_err(|_| CmdError::from(C))?;
            if count < 1 {
                return err(C);
            }
            j += 2;
        } else {
            return err(error::SYNTAX);
        }
    }
    if count == -1 {
        count = 1;
    }
    let st = PopStyle {
        emit_key: true,
        nested: true,
        nil_when_empty: true,
    };
    let keys = &argv[numkeys_idx + 1..where_idx];
    if block {
        return blocking_zpop(ctx, keys, max, &argv[1], count, st);
    }
    if let Some((key, n)) = zpop_generic(ctx, keys, max, count, st)? {
        // As ZPOPMIN/ZPOPMAX with the count actually popped (Redis 7.0).
        ctx.propagate_as(vec![pop_name(max), key, Bytes::from(n.to_string())]);
    }
    Ok(())
}

pub fn zmpop(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    zmpop_generic(ctx, argv, 1, false)
}

pub fn bzmpop(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    zmpop_generic(ctx, argv, 2, true)
}

// ---- ZRANDMEMBER ----

pub fn zrandmember(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    if argv.len() < 3 {
        let Some(z) = zget(ctx.ks, ctx.db, &argv[1], false)? else {
            ctx.out.null();
            return Ok(());
        };
        let r = Rng::new().below(z.len() as u64) as usize;
        match z.range(r, r + 1, false).next() {
            Some((m, _)) => ctx.out.bulk(&m),
            None => ctx.out.null(),
        }
        return Ok(());
    }
    let l = arg_i64(&argv[2])?;
    if l == i64::MIN {
        return err(
            "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807",
        );
    }
    if argv.len() > 4 || (argv.len() == 4 && !eq_ic(&argv[3], "withscores")) {
        return err(error::SYNTAX);
    }
    let withscores = argv.len() == 4;
    if withscores && !(-(i64::MAX / 2)..=i64::MAX / 2).contains(&l) {
        return err("ERR value is out of range");
    }
    let Some(z) = zget(ctx.ks, ctx.db, &argv[1], false)? else {
        ctx.out.array(0);
        return Ok(());
    };
    let size = z.len();
    if l == 0 || size == 0 {
        ctx.out.array(0);
        return Ok(());
    }
    let resp3 = ctx.out.resp > 2;
    let emit = |out: &mut crate::resp::Out<'_>, m: &[u8], s: f64| {
        if withscores && resp3 {
            out.array(2);
        }
        out.bulk(m);
        if withscores {
            out.double(s);
        }
    };
    let header = |out: &mut crate::resp::Out<'_>, n: usize| {
        out.array(if withscores && !resp3 { n * 2 } else { n });
    };
    let mut rng = Rng::new();
    if l < 0 || l == 1 {
        // With repetitions, in random order.
        let n = l.unsigned_abs() as usize;
        let guard = super::ReplyGuard::new(ctx.cfg, &ctx.out, ctx.from_script);
        header(&mut ctx.out, n);
        for _ in 0..n {
            let r = rng.below(size as u64) as usize;
            if let Some((m, s)) = z.range(r, r + 1, false).next() {
                emit(&mut ctx.out, &m, s);
            }
            guard.check(&mut ctx.out)?;
        }
        return Ok(());
    }
    let count = l as usize;
    if count >= size {
        header(&mut ctx.out, size);
        for (m, s) in z.iter() {
            emit(&mut ctx.out, &m, s);
        }
        return Ok(());
    }
    // Distinct members: a partial Fisher-Yates over the ranks.
    let mut ranks: Vec<usize> = (0..size).collect();
    for i in 0..count {
        let j = i + rng.below((size - i) as u64) as usize;
        ranks.swap(i, j);
    }
    header(&mut ctx.out, count);
    for &r in &ranks[..count] {
        if let Some((m, s)) = z.range(r, r + 1, false).next() {
            emit(&mut ctx.out, &m, s);
        }
    }
    Ok(())
}

// ---- ZSCAN ----

pub fn zscan(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    let cursor = parse_cursor(&argv[2])?;
    let Some(z) = zget(ctx.ks, ctx.db, &argv[1], false)? else {
        ctx.out.array(2);
        ctx.out.bulk(b"0");
        ctx.out.array(0);
        return Ok(());
    };
    let o = parse_scan_opts(argv, 3, false)?;
    let mut items: Vec<(Vec<u8>, Vec<u8>)> = Vec::new();
    let next = if let Some(lp) = z.as_listpack() {
        let mut it = lp.iter();
        while let (Some(m), Some(s)) = (it.next(), it.next()) {
            items.push((m.to_vec(), s.to_vec()));
        }
        0
    } else {
        let mut cursor = cursor;
        let mut budget = o.count * 10;
        loop {
            cursor = z
                .scan_dict(cursor, |m, s| {
                    items.push((m.to_vec(), score_string(s).into_bytes()))
                })
                .unwrap_or(0);
            budget = budget.saturating_sub(1);
            if cursor == 0 || budget == 0 || items.len() >= o.count {
                break;
            }
        }
        cursor
    };
    if let Some(p) = o.pattern {
        items.retain(|(m, _)| string_match(p, m, false));
    }
    ctx.out.array(2);
    ctx.out.bulk(next.to_string().as_bytes());
    ctx.out.array(items.len() * 2);
    for (m, s) in &items {
        ctx.out.bulk(m);
        ctx.out.bulk(s);
    }
    Ok(())
}

// ---- the table ----

const GROUP: &str = "sorted_set";

#[rustfmt::skip]
pub static COMMANDS: &[CommandSpec] = &[
    spec("zadd", Proc::Db(zadd), -4, WRITE | DENYOOM | FAST, 1, 1, 1, GROUP),
    spec("zincrby", Proc::Db(zincrby), 4, WRITE | DENYOOM | FAST, 1, 1, 1, GROUP),
    spec("zrem", Proc::Db(zrem), -3, WRITE | FAST, 1, 1, 1, GROUP),
    spec("zcard", Proc::Db(zcard), 2, READONLY | FAST, 1, 1, 1, GROUP),
    spec("zscore", Proc::Db(zscore), 3, READONLY | FAST, 1, 1, 1, GROUP),
    spec("zmscore", Proc::Db(zmscore), -3, READONLY | FAST, 1, 1, 1, GROUP),
    spec("zrank", Proc::Db(zrank), 3, READONLY | FAST, 1, 1, 1, GROUP),
    spec("zrevrank", Proc::Db(zrevrank), 3, READONLY | FAST, 1, 1, 1, GROUP),
    spec("zcount", Proc::Db(rng::zcount), 4, READONLY | FAST, 1, 1, 1, GROUP),
    spec("zlexcount", Proc::Db(rng::zlexcount), 4, READONLY | FAST, 1, 1, 1, GROUP),
    spec("zrange", Proc::Db(rng::zrange), -4, READONLY, 1, 1, 1, GROUP),
    spec("zrangestore", Proc::Db(rng::zrangestore), -5, WRITE | DENYOOM, 1, 2, 1, GROUP),
    spec("zrangebyscore", Proc::Db(rng::zrangebyscore), -4, READONLY, 1, 1, 1, GROUP),
    spec("zrevrangebyscore", Proc::Db(rng::zrevrangebyscore), -4, READONLY, 1, 1, 1, GROUP),
    spec("zrangebylex", Proc::Db(rng::zrangebylex), -4, READONLY, 1, 1, 1, GROUP),
    spec("zrevrangebylex", Proc::Db(rng::zrevrangebylex), -4, READONLY, 1, 1, 1, GROUP),
    spec("zrevrange", Proc::Db(rng::zrevrange), -4, READONLY, 1, 1, 1, GROUP),
    spec("zremrangebyrank", Proc::Db(rng::zremrangebyrank), 4, WRITE, 1, 1, 1, GROUP),
    spec("zremrangebyscore", Proc::Db(rng::zremrangebyscore), 4, WRITE, 1, 1, 1, GROUP),
    spec("zremrangebylex", Proc::Db(rng::zremrangebylex), 4, WRITE, 1, 1, 1, GROUP),
    spec("zpopmin", Proc::Db(zpopmin), -2, WRITE | FAST, 1, 1, 1, GROUP),
    spec("zpopmax", Proc::Db(zpopmax), -2, WRITE | FAST, 1, 1, 1, GROUP),
    spec("zmpop", Proc::Db(zmpop), -4, WRITE, 0, 0, 0, GROUP),
    spec("bzpopmin", Proc::Db(bzpopmin), -3, WRITE | NOSCRIPT | BLOCKING | FAST, 1, -2, 1, GROUP),
    spec("bzpopmax", Proc::Db(bzpopmax), -3, WRITE | NOSCRIPT | BLOCKING | FAST, 1, -2, 1, GROUP),
    spec("bzmpop", Proc::Db(bzmpop), -5, WRITE | BLOCKING, 0, 0, 0, GROUP),
    spec("zrandmember", Proc::Db(zrandmember), -2, READONLY, 1, 1, 1, GROUP),
    spec("zunion", Proc::Db(ops::zunion), -3, READONLY, 0, 0, 0, GROUP),
    spec("zinter", Proc::Db(ops::zinter), -3, READONLY, 0, 0, 0, GROUP),
    spec("zdiff", Proc::Db(ops::zdiff), -3, READONLY, 0, 0, 0, GROUP),
    spec("zunionstore", Proc::Db(ops::zunionstore), -4, WRITE | DENYOOM, 1, 1, 1, GROUP),
    spec("zinterstore", Proc::Db(ops::zinterstore), -4, WRITE | DENYOOM, 1, 1, 1, GROUP),
    spec("zdiffstore", Proc::Db(ops::zdiffstore), -4, WRITE | DENYOOM, 1, 1, 1, GROUP),
    spec("zintercard", Proc::Db(ops::zintercard), -3, READONLY, 0, 0, 0, GROUP),
    spec("zscan", Proc::Db(zscan), -3, READONLY, 1, 1, 1, GROUP),
];
