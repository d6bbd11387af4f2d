//! List commands (Redis 7.0's t_list.c): pushes, pops (with counts),
//! ranges, LINSERT/LSET/LREM/LTRIM/LPOS, LMOVE and LMPOP, and the blocking
//! forms BLPOP/BRPOP/BLMOVE/BRPOPLPUSH/BLMPOP.
//!
//! A blocking handler that finds data behaves like its non-blocking form
//! and propagates that form; without data it asks the server to block
//! (`Effect::Block`) and is run again when one of its keys gets data.

use super::flag::*;
use super::table::{spec, CommandSpec, Proc};
use super::{arg_i64, eq_ic, Ctx};
use crate::config::{NOTIFY_GENERIC, NOTIFY_LIST};
use crate::db::{Keyspace, Value};
use crate::encoding::listpack::LpValue;
use crate::encoding::longdouble::LongDouble;
use crate::error::{self, err, CmdError, CmdResult};
use crate::resp::Out;
use crate::types::{Limits, List};
use bytes::Bytes;

use super::t_list_blocking::{blmove, blmpop, blpop, brpop, brpoplpush};
use Proc::Db;

pub static COMMANDS: &[CommandSpec] = &[
    spec(
        "lpush",
        Db(lpush),
        -3,
        WRITE | DENYOOM | FAST,
        1,
        1,
        1,
        "list",
    ),
    spec(
        "rpush",
        Db(rpush),
        -3,
        WRITE | DENYOOM | FAST,
        1,
        1,
        1,
        "list",
    ),
    spec(
        "lpushx",
        Db(lpushx),
        -3,
        WRITE | DENYOOM | FAST,
        1,
        1,
        1,
        "list",
    ),
    spec(
        "rpushx",
        Db(rpushx),
        -3,
        WRITE | DENYOOM | FAST,
        1,
        1,
        1,
        "list",
    ),
    spec("lpop", Db(lpop), -2, WRITE | FAST, 1, 1, 1, "list"),
    spec("rpop", Db(rpop), -2, WRITE | FAST, 1, 1, 1, "list"),
    spec("llen", Db(llen), 2, READONLY | FAST, 1, 1, 1, "list"),
    spec("lrange", Db(lrange), 4, READONLY, 1, 1, 1, "list"),
    spec("lindex", Db(lindex), 3, READONLY, 1, 1, 1, "list"),
    spec("lset", Db(lset), 4, WRITE | DENYOOM, 1, 1, 1, "list"),
    spec("linsert", Db(linsert), 5, WRITE | DENYOOM, 1, 1, 1, "list"),
    spec("lrem", Db(lrem), 4, WRITE, 1, 1, 1, "list"),
    spec("ltrim", Db(ltrim), 4, WRITE, 1, 1, 1, "list"),
    spec("lpos", Db(lpos), -3, READONLY, 1, 1, 1, "list"),
    spec("lmove", Db(lmove), 5, WRITE | DENYOOM, 1, 2, 1, "list"),
    spec(
        "rpoplpush",
        Db(rpoplpush),
        3,
        WRITE | DENYOOM,
        1,
        2,
        1,
        "list",
    ),
    spec("lmpop", Db(lmpop), -4, WRITE, 0, 0, 0, "list"),
    spec(
        "blpop",
        Db(blpop),
        -3,
        WRITE | NOSCRIPT | BLOCKING,
        1,
        -2,
        1,
        "list",
    ),
    spec(
        "brpop",
        Db(brpop),
        -3,
        WRITE | NOSCRIPT | BLOCKING,
        1,
        -2,
        1,
        "list",
    ),
    spec(
        "blmove",
        Db(blmove),
        6,
        WRITE | DENYOOM | NOSCRIPT | BLOCKING,
        1,
        2,
        1,
        "list",
    ),
    spec(
        "brpoplpush",
        Db(brpoplpush),
        4,
        WRITE | DENYOOM | NOSCRIPT | BLOCKING,
        1,
        2,
        1,
        "list",
    ),
    spec("blmpop", Db(blmpop), -5, WRITE | BLOCKING, 0, 0, 0, "list"),
];

#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Where {
    Head,
    Tail,
}

impl Where {
    fn pop_event(self) -> &'static str {
        if self == Where::Head {
            "lpop"
        } else {
            "rpop"
        }
    }
    pub(super) fn push_event(self) -> &'static str {
        if self == Where::Head {
            "lpush"
        } else {
            "rpush"
        }
    }
    pub(super) fn pop_cmd(self) -> Bytes {
        Bytes::from_static(if self == Where::Head {
            b"LPOP"
        } else {
            b"RPOP"
        })
    }
    pub(super) fn word(self) -> Bytes {
        Bytes::from_static(if self == Where::Head {
            b"LEFT"
        } else {
            b"RIGHT"
        })
    }
}

// ---- shared helpers ----

/// The list at `key` for a write: Ok(None) when missing, WRONGTYPE otherwise.
pub(super) fn list_mut<'a>(
    ks: &'a mut Keyspace,
    db: usize,
    key: &[u8],
) -> Result<Option<&'a mut List>, CmdError> {
    match ks.lookup_write(db, key) {
        None => Ok(None),
        Some(e) => match e.val {
            Value::List(l) => Ok(Some(l)),
            _ => err(error::WRONGTYPE),
        },
    }
}

/// The list at `key` for a read.
pub(super) fn list_read<'a>(
    ks: &'a mut Keyspace,
    db: usize,
    key: &[u8],
) -> Result<Option<&'a List>, CmdError> {
    match ks.lookup_read(db, key) {
        None => Ok(None),
        Some(e) => match e.val as &Value {
            Value::List(l) => Ok(Some(l)),
            _ => err(error::WRONGTYPE),
        },
    }
}

pub(super) fn reply_value(out: &mut Out<'_>, v: LpValue<'_>) {
    match v {
        LpValue::Int(i) => out.bulk_i64(i),
        LpValue::Str(s) => out.bulk(s),
    }
}

/// A count argument for LPOP/RPOP/SPOP (getPositiveLongFromObjectOrReply).
pub(crate) fn arg_positive(arg: &[u8], msg: &'static str) -> Result<i64, CmdError> {
    match crate::encoding::numbers::string2ll(arg) {
        Some(n) if n >= 0 => Ok(n),
        _ => err(msg),
    }
}

/// LEFT / RIGHT.
pub(super) fn arg_where(arg: &[u8]) -> Result<Where, CmdError> {
    if eq_ic(arg, "left") {
        Ok(Where::Head)
    } else if eq_ic(arg, "right") {
        Ok(Where::Tail)
    } else {
        err(error::SYNTAX)
    }
}

/// Redis's getTimeoutFromObjectOrReply in seconds: an absolute unix-ms
/// deadline, 0 meaning forever (so does anything under a millisecond).
pub fn parse_timeout(arg: &[u8], now_ms: i64) -> Result<i64, CmdError> {
    let v = LongDouble::parse(arg).ok_or(CmdError::from(error::TIMEOUT_NOT_FLOAT))?;
    let ms = v.to_f64() * 1000.0;
    // C's (long long) conversion of an out-of-range value gives LLONG_MIN on x86.
    let tval = if ms.is_finite() && ms > -9.2e18 && ms < 9.2e18 {
        ms as i64
    } else {
        i64::MIN
    };
    if tval < 0 {
        return err("ERR timeout is negative");
    }
    Ok(if tval > 0 {
        tval.saturating_add(now_ms)
    } else {
        0
    })
}

/// Deletes the list at `key` when empty, with its "del" event.
pub(super) fn delete_if_empty(ctx: &mut Ctx<'_>, key: &Bytes) {
    let empty = matches!(
        ctx.ks.lookup_write(ctx.db, key).map(|e| e.val as &Value),
        Some(Value::List(l)) if l.is_empty()
    );
    if empty {
        ctx.ks.delete(ctx.db, key);
        ctx.notify(NOTIFY_GENERIC, "del", key);
    }
}

/// Redis's listElementsRemoved: the pop event, the delete of an emptied
/// list, WATCH invalidation and dirty += count.
pub(super) fn elements_removed(ctx: &mut Ctx<'_>, key: &Bytes, wh: Where, count: u64) {
    ctx.notify(NOTIFY_LIST, wh.pop_event(), key);
    delete_if_empty(ctx, key);
    ctx.ks.signal_modified(ctx.db, key);
    ctx.dirty += count;
}

/// Replies elements [start, start+n) of `l` in order, or reversed.
fn reply_range(out: &mut Out<'_>, l: &List, start: usize, n: usize, reverse: bool) {
    // Reply bytes per element, from the head node's bytes per element
    // plus RESP's framing (a long reply's buffer is sized from it).
    let per = l
        .nodes()
        .next()
        .map_or(0, |head| head.bytes_len() / head.len().max(1) + 8);
    out.array_sized(n, per);
    if reverse {
        let skip = l.len() - (start + n);
        for v in l.values().rev().skip(skip).take(n) {
            reply_value(out, v);
        }
    } else {
        for v in l.values_from(start).take(n) {
            reply_value(out, v);
        }
    }
}

/// Pops up to `count` elements from one end, replying them as an array
/// (tail pops reply tail first).
pub(super) fn pop_range_reply(ctx: &mut Ctx<'_>, key: &Bytes, wh: Where, count: usize) -> usize {
    let Ok(Some(l)) = list_mut(ctx.ks, ctx.db, key) else {
        return 0;
    };
    let n = count.min(l.len());
    let start = if wh == Where::Head { 0 } else { l.len() - n };
    reply_range(&mut ctx.out, l, start, n, wh == Where::Tail);
    l.remove_range(start, n);
    n
}

/// Pushes `v` into the list at `key`, creating it.
pub(super) fn push_one(ctx: &mut Ctx<'_>, key: &Bytes, v: &[u8], wh: Where) {
    let lim = Limits::from_config(ctx.cfg);
    match ctx.ks.lookup_write(ctx.db, key) {
        Some(e) => {
            if let Value::List(l) = e.val {
                if wh == Where::Head {
                    l.push_front(v, &lim)
                } else {
                    l.push_back(v, &lim)
                }
            }
            ctx.ks.signal_ready_if_blocked(ctx.db, key);
        }
        None => {
            let mut l = List::new();
            l.push_back(v, &lim);
            ctx.ks.add(ctx.db, key, Value::List(l));
        }
    }
}

// ---- pushes ----

fn push_generic(ctx: &mut Ctx<'_>, argv: &[Bytes], wh: Where, xx: bool) -> CmdResult {
    let key = &argv[1];
    let lim = Limits::from_config(ctx.cfg);
    let exists = list_mut(ctx.ks, ctx.db, key)?.is_some();
    if !exists {
        if xx {
            ctx.out.int(0);
            return Ok(());
        }
        ctx.ks.add(ctx.db, key, Value::List(List::new()));
    } else {
        ctx.ks.signal_ready_if_blocked(ctx.db, key);
    }
    let Some(l) = list_mut(ctx.ks, ctx.db, key)? else {
        return Ok(());
    };
    for v in &argv[2..] {
        if wh == Where::Head {
            l.push_front(v, &lim);
        } else {
            l.push_back(v, &lim);
        }
    }
    let len = l.len() as i64;
    ctx.out.int(len);
    ctx.written(key, NOTIFY_LIST, wh.push_event());
    ctx.dirty += argv.len() as u64 - 3;
    Ok(())
}

pub fn lpush(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    push_generic(ctx, argv, Where::Head, false)
}
pub fn rpush(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    push_generic(ctx, argv, Where::Tail, false)
}
pub fn lpushx(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    push_generic(ctx, argv, Where::Head, true)
}
pub fn rpushx(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    push_generic(ctx, argv, Where::Tail, true)
}

// ---- pops ----

fn pop_generic(ctx: &mut Ctx<'_>, argv: &[Bytes], wh: Where) -> CmdResult {
    if argv.len() > 3 {
        return Err(CmdError::arity(if wh == Where::Head {
            "lpop"
        } else {
            "rpop"
        }));
    }
    let count = match argv.get(2) {
        Some(a) => Some(arg_positive(a, error::MUST_POSITIVE)?),
        None => None,
    };
    let key = &argv[1];
    let Some(l) = list_mut(ctx.ks, ctx.db, key)? else {
        if count.is_some() {
            ctx.out.null_array();
        } else {
            ctx.out.null();
        }
        return Ok(());
    };
    match count {
        Some(0) => {
            ctx.out.array(0);
            return Ok(());
        }
        None => {
            let v = if wh == Where::Head {
                l.pop_front()
            } else {
                l.pop_back()
            };
            if let Some(v) = v {
                ctx.out.bulk(&v);
            }
            elements_removed(ctx, key, wh, 1);
        }
        Some(n) => {
            let n = pop_range_reply(ctx, key, wh, n as usize);
            elements_removed(ctx, key, wh, n as u64);
        }
    }
    Ok(())
}

pub fn lpop(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    pop_generic(ctx, argv, Where::Head)
}
pub fn rpop(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    pop_generic(ctx, argv, Where::Tail)
}

// ---- reads ----

pub fn llen(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    let n = list_read(ctx.ks, ctx.db, &argv[1])?.map_or(0, |l| l.len());
    ctx.out.int(n as i64);
    Ok(())
}

/// Clamps Redis-style [start, end] to a (start, count) range of `len`.
fn clamp_range(start: i64, end: i64, len: usize) -> Option<(usize, usize)> {
    let llen = len as i64;
    let mut s = if start < 0 { llen + start } else { start };
    let mut e = if end < 0 { llen + end } else { end };
    if s < 0 {
        s = 0;
    }
    if s > e || s >= llen {
        return None;
    }
    if e >= llen {
        e = llen - 1;
    }
    Some((s as usize, (e - s + 1) as usize))
}

pub fn lrange(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    let start = arg_i64(&argv[2])?;
    let end = arg_i64(&argv[3])?;
    let Some(l) = list_read(ctx.ks, ctx.db, &argv[1])? else {
        ctx.out.array(0);
        return Ok(());
    };
    match clamp_range(start, end, l.len()) {
        None => ctx.out.array(0),
        Some((s, n)) => reply_range(&mut ctx.out, l, s, n, false),
    }
    Ok(())
}

pub fn lindex(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    let Some(l) = list_read(ctx.ks, ctx.db, &argv[1])? else {
        ctx.out.null();
        return Ok(());
    };
    let idx = arg_i64(&argv[2])?;
    match l.resolve(idx).and_then(|i| l.get(i)) {
        Some(v) => reply_value(&mut ctx.out, v),
        None => ctx.out.null(),
    }
    Ok(())
}

pub fn lpos(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    let ele = &argv[2][..];
    let (mut rank, mut count, mut maxlen) = (1i64, -1i64, 0i64);
    let mut j = 3;
    while j < argv.len() {
        let more = argv.len() - 1 - j;
        if eq_ic(&argv[j], "rank") && more > 0 {
            j += 1;
            rank = arg_i64(&argv[j])?;
            if rank == 0 {
                return err("ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list");
            }
        } else if eq_ic(&argv[j], "count") && more > 0 {
            j += 1;
            count = arg_positive(&argv[j], "ERR COUNT can't be negative")?;
        } else if eq_ic(&argv[j], "maxlen") && more > 0 {
            j += 1;
            maxlen = arg_positive(&argv[j], "ERR MAXLEN can't be negative")?;
        } else {
            return err(error::SYNTAX);
        }
        j += 1;
    }
    let from_tail = rank < 0;
    if from_tail {
        // As C: -LLONG_MIN stays negative, so the first match qualifies.
        rank = rank.wrapping_neg();
    }
    let Some(l) = list_read(ctx.ks, ctx.db, &argv[1])? else {
        if count != -1 {
            ctx.out.array(0);
        } else {
            ctx.out.null();
        }
        return Ok(());
    };
    let llen = l.len();
    let mut found: Vec<i64> = Vec::new();
    let mut matches = 0i64;
    let limit = if maxlen == 0 {
        usize::MAX
    } else {
        maxlen as usize
    };
    let mut check = |index: usize, v: LpValue<'_>| -> bool {
        if !v.eq_bytes(ele) {
            return false;
        }
        matches += 1;
        if matches < rank {
            return false;
        }
        found.push(if from_tail {
            (llen - index - 1) as i64
        } else {
            index as i64
        });
        count == -1 || (count != 0 && matches - rank + 1 >= count)
    };
    if from_tail {
        for (i, v) in l.values().rev().take(limit).enumerate() {
            if check(i, v) {
                break;
            }
        }
    } else {
        for (i, v) in l.values().take(limit).enumerate() {
            if check(i, v) {
                break;
            }
        }
    }
    if count != -1 {
        ctx.out.array(found.len());
        for i in found {
            ctx.out.int(i);
        }
    } else {
        match found.first() {
            Some(&i) => ctx.out.int(i),
            None => ctx.out.null(),
        }
    }
    Ok(())
}

// ---- in-place writes ----

pub fn lset(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    let key = &argv[1];
    let lim = Limits::from_config(ctx.cfg);
    let Some(l) = list_mut(ctx.ks, ctx.db, key)? else {
        return err(error::NO_SUCH_KEY);
    };
    let idx = arg_i64(&argv[2])?;
    let Some(i) = l.resolve(idx) else {
        return err(error::INDEX_RANGE);
    };
    l.set(i, &argv[3], &lim);
    ctx.out.ok();
    ctx.written(key, NOTIFY_LIST, "lset");
    Ok(())
}

pub fn linsert(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    let after = if eq_ic(&argv[2], "after") {
        true
    } else if eq_ic(&argv[2], "before") {
        false
    } else {
        return err(error::SYNTAX);
    };
    let key = &argv[1];
    let lim = Limits::from_config(ctx.cfg);
    let Some(l) = list_mut(ctx.ks, ctx.db, key)? else {
        ctx.out.int(0);
        return Ok(());
    };
    let Some(pos) = l.values().position(|v| v.eq_bytes(&argv[3])) else {
        ctx.out.int(-1);
        return Ok(());
    };
    l.insert(pos + after as usize, &argv[4], &lim);
    let n = l.len() as i64;
    ctx.out.int(n);
    ctx.written(key, NOTIFY_LIST, "linsert");
    Ok(())
}

pub fn lrem(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    let count = arg_i64(&argv[2])?;
    let key = &argv[1];
    let Some(l) = list_mut(ctx.ks, ctx.db, key)? else {
        ctx.out.int(0);
        return Ok(());
    };
    let removed = l.remove_matching(&argv[3], count);
    ctx.out.int(removed as i64);
    if removed > 0 {
        ctx.notify(NOTIFY_LIST, "lrem", key);
        delete_if_empty(ctx, key);
        ctx.ks.signal_modified(ctx.db, key);
        ctx.dirty += removed as u64;
    }
    Ok(())
}

pub fn ltrim(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    let start = arg_i64(&argv[2])?;
    let end = arg_i64(&argv[3])?;
    let key = &argv[1];
    let Some(l) = list_mut(ctx.ks, ctx.db, key)? else {
        ctx.out.ok();
        return Ok(());
    };
    let len = l.len();
    let (ltrim, rtrim) = match clamp_range(start, end, len) {
        None => (len, 0),
        Some((s, n)) => (s, len - s - n),
    };
    l.remove_range(0, ltrim);
    let left = l.len();
    l.remove_range(left - rtrim, rtrim);
    ctx.notify(NOTIFY_LIST, "ltrim", key);
    delete_if_empty(ctx, key);
    ctx.ks.signal_modified(ctx.db, key);
    ctx.dirty += (ltrim + rtrim) as u64;
    ctx.out.ok();
    Ok(())
}

// ---- moves ----

/// LMOVE's body once the source is known to hold data (lmoveGenericCommand).
pub(super) fn lmove_generic(
    ctx: &mut Ctx<'_>,
    src: &Bytes,
    dst: &Bytes,
    from: Where,
    to: Where,
) -> CmdResult {
    let has_data = list_mut(ctx.ks, ctx.db, src)?.is_some_and(|l| !l.is_empty());
    if !has_data {
        ctx.out.null();
        return Ok(());
    }
    list_mut(ctx.ks, ctx.db, dst)?;
    let Some(l) = list_mut(ctx.ks, ctx.db, src)? else {
        return Ok(());
    };
    let v = if from == Where::Head {
        l.pop_front()
    } else {
        l.pop_back()
    };
    let Some(v) = v else { return Ok(()) };
    push_one(ctx, dst, &v, to);
    ctx.ks.signal_modified(ctx.db, dst);
    ctx.notify(NOTIFY_LIST, to.push_event(), dst);
    ctx.out.bulk(&v);
    ctx.notify(NOTIFY_LIST, from.pop_event(), src);
    delete_if_empty(ctx, src);
    ctx.ks.signal_modified(ctx.db, src);
    ctx.dirty += 1;
    Ok(())
}

pub fn lmove(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    let from = arg_where(&argv[3])?;
    let to = arg_where(&argv[4])?;
    lmove_generic(ctx, &argv[1], &argv[2], from, to)
}

pub fn rpoplpush(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    lmove_generic(ctx, &argv[1], &argv[2], Where::Tail, Where::Head)
}

/// Parsed LMPOP/BLMPOP arguments: keys, direction, count.
pub(super) fn parse_mpop(
    argv: &[Bytes],
    numkeys_idx: usize,
) -> Result<(&[Bytes], Where, usize), CmdError> {
    let numkeys = match crate::encoding::numbers::string2ll(&argv[numkeys_idx]) {
        Some(n) if n >= 1 => n as usize,
        _ => return err("ERR numkeys should be greater than 0"),
    };
    let where_idx = numkeys_idx.saturating_add(numkeys).saturating_add(1);
    if where_idx >= argv.len() {
        return err(error::SYNTAX);
    }
    let wh = arg_where(&argv[where_idx])?;
    let mut count = -1i64;
    let mut j = where_idx + 1;
    while j < argv.len() {
        let more = argv.len() - 1 - j;
        if count == -1 && eq_ic(&argv[j], "count") && more > 0 {
            j += 1;
            count = match crate::encoding::numbers::string2ll(&argv[j]) {
                Some(n) if n >= 1 => n,
                _ => return err("ERR count should be greater than 0"),
            };
        } else {
            return err(error::SYNTAX);
        }
        j += 1;
    }
    let count = if count == -1 { 1 } else { count as usize };
    Ok((&argv[numkeys_idx + 1..where_idx], wh, count))
}

/// Pops from the first non-empty list of `keys`: replies [key, [elements]]
/// and propagates [LR]POP key n. Ok(false) when every list is empty.
pub(super) fn mpop_serve(
    ctx: &mut Ctx<'_>,
    keys: &[Bytes],
    wh: Where,
    count: usize,
) -> Result<bool, CmdError> {
    for key in keys {
        let Some(l) = list_mut(ctx.ks, ctx.db, key)? else {
            continue;
        };
        if l.is_empty() {
            continue;
        }
        ctx.out.array(2);
        ctx.out.bulk(key);
        let n = pop_range_reply(ctx, key, wh, count);
        elements_removed(ctx, key, wh, n as u64);
        ctx.propagate_as(vec![wh.pop_cmd(), key.clone(), Bytes::from(n.to_string())]);
        return Ok(true);
    }
    Ok(false)
}

pub fn lmpop(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    let (keys, wh, count) = parse_mpop(argv, 1)?;
    if !mpop_serve(ctx, keys, wh, count)? {
        ctx.out.null_array();
    }
    Ok(())
}
