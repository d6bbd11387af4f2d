//! String commands (Redis's t_string.c): GET/SET and their options, counters,
//! ranges, APPEND, LCS.

use super::{arg_i64, eq_ic, get_string, Ctx};
use crate::config::{NOTIFY_GENERIC, NOTIFY_STRING};
use crate::db::Value;
use crate::encoding::numbers::ll2string;
use crate::encoding::numbers::string2ll;
use crate::error::{self, err, CmdError, CmdResult};
use crate::sds::Sds;
use bytes::Bytes;

const SET_NX: u32 = 1 << 0;
const SET_XX: u32 = 1 << 1;
const SET_GET: u32 = 1 << 2;
const SET_KEEPTTL: u32 = 1 << 3;
const SET_EX: u32 = 1 << 4;
const SET_PX: u32 = 1 << 5;
const SET_EXAT: u32 = 1 << 6;
const SET_PXAT: u32 = 1 << 7;
const SET_PERSIST: u32 = 1 << 8;
const ANY_EXPIRE: u32 = SET_KEEPTTL | SET_EX | SET_PX | SET_EXAT | SET_PXAT | SET_PERSIST;

#[derive(PartialEq, Eq, Clone, Copy)]
enum Cmd {
    Set,
    GetEx,
}

/// Parses SET/GETEX options into flags and an absolute expiry (unix ms).
/// Mirrors parseExtendedStringArgumentsOrReply, including which combinations
/// are syntax errors.
fn parse_options(
    argv: &[Bytes],
    from: usize,
    cmd: Cmd,
    now_ms: i64,
) -> Result<(u32, Option<i64>), CmdError> {
    let mut flags = 0u32;
    let mut expire_arg: Option<&Bytes> = None;
    let mut j = from;
    while j < argv.len() {
        let opt = &argv[j][..];
        let next = argv.get(j + 1);
        if eq_ic(opt, "nx") && flags & SET_XX == 0 && cmd == Cmd::Set {
            flags |= SET_NX;
        } else if eq_ic(opt, "xx") && flags & SET_NX == 0 && cmd == Cmd::Set {
            flags |= SET_XX;
        } else if eq_ic(opt, "get") && cmd == Cmd::Set {
            flags |= SET_GET;
        } else if eq_ic(opt, "keepttl") && flags & ANY_EXPIRE & !SET_KEEPTTL == 0 && cmd == Cmd::Set
        {
            flags |= SET_KEEPTTL;
        } else if eq_ic(opt, "persist")
            && flags & ANY_EXPIRE & !SET_PERSIST == 0
            && cmd == Cmd::GetEx
        {
            flags |= SET_PERSIST;
        } else if let (Some(f), Some(n)) = (expire_flag(opt), next) {
            // As in Redis, repeating the same option is allowed (last wins).
            if flags & ANY_EXPIRE & !f != 0 {
                return err(error::SYNTAX);
            }
            flags |= f;
            expire_arg = Some(n);
            j += 1;
        } else {
            return err(error::SYNTAX);
        }
        j += 1;
    }
    let Some(arg) = expire_arg else {
        return Ok((flags, None));
    };
    let name = if cmd == Cmd::Set { "set" } else { "getex" };
    let v = arg_i64(arg)?;
    let seconds = flags & (SET_EX | SET_EXAT) != 0;
    if v <= 0 || (seconds && v > i64::MAX / 1000) {
        return Err(CmdError::invalid_expire(name));
    }
    let mut ms = if seconds { v * 1000 } else { v };
    if flags & (SET_EX | SET_PX) != 0 {
        if ms > i64::MAX - now_ms {
            return Err(CmdError::invalid_expire(name));
        }
        ms += now_ms;
    }
    Ok((flags, Some(ms)))
}

fn expire_flag(opt: &[u8]) -> Option<u32> {
    if eq_ic(opt, "ex") {
        Some(SET_EX)
    } else if eq_ic(opt, "px") {
        Some(SET_PX)
    } else if eq_ic(opt, "exat") {
        Some(SET_EXAT)
    } else if eq_ic(opt, "pxat") {
        Some(SET_PXAT)
    } else {
        None
    }
}

fn int_bytes(n: i64) -> Bytes {
    let mut b = [0u8; 20];
    Bytes::copy_from_slice(ll2string(n, &mut b))
}

/// The body shared by SET, SETNX, SETEX, PSETEX (Redis's setGenericCommand).
fn set_generic(
    ctx: &mut Ctx<'_>,
    key: &Bytes,
    val: &Bytes,
    flags: u32,
    expire: Option<i64>,
    nx_reply_int: bool,
) -> CmdResult {
    if flags & SET_GET != 0 {
        let mut buf = [0u8; 20];
        match get_string(ctx.ks, ctx.db, key, &mut buf)? {
            Some(old) => ctx.out.bulk(old),
            None => ctx.out.null(),
        }
    }
    let found = ctx.ks.lookup_write(ctx.db, key).is_some();
    if (flags & SET_NX != 0 && found) || (flags & SET_XX != 0 && !found) {
        if flags & SET_GET == 0 {
            if nx_reply_int {
                ctx.out.int(0);
            } else {
                ctx.out.null();
            }
        }
        return Ok(());
    }
    ctx.ks
        .set_key_bytes(ctx.db, key, val, flags & SET_KEEPTTL != 0);
    ctx.dirty += 1;
    ctx.notify(NOTIFY_STRING, "set", key);
    if let Some(when) = expire {
        ctx.ks.db_mut(ctx.db).set_expire(key, when);
        ctx.notify(NOTIFY_GENERIC, "expire", key);
        // Replicas must get an absolute time, whatever the client sent.
        ctx.propagate_as(vec![
            Bytes::from_static(b"SET"),
            key.clone(),
            val.clone(),
            Bytes::from_static(b"PXAT"),
            int_bytes(when),
        ]);
    } else if flags & SET_GET != 0 {
        let mut cmd = vec![Bytes::from_static(b"SET"), key.clone(), val.clone()];
        if flags & SET_NX != 0 {
            cmd.push(Bytes::from_static(b"NX"));
        }
        if flags & SET_XX != 0 {
            cmd.push(Bytes::from_static(b"XX"));
        }
        if flags & SET_KEEPTTL != 0 {
            cmd.push(Bytes::from_static(b"KEEPTTL"));
        }
        ctx.propagate_as(cmd);
    }
    if flags & SET_GET == 0 {
        if nx_reply_int {
            ctx.out.int(1);
        } else {
            ctx.out.ok();
        }
    }
    Ok(())
}

pub fn get(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    let mut buf = [0u8; 20];
    match ctx.ks.lookup_read(ctx.db, &argv[1]) {
        None => ctx.out.null(),
        Some(e) => match e.val.str_bytes(&mut buf) {
            // A big value goes from the keyspace to the socket (the
            // server writes it after this returns): no copy into the reply.
            Some(b) if ctx.direct_ok && b.len() >= super::DIRECT_MIN => {
                ctx.out.bulk_header(b.len());
                ctx.direct_bulk = true;
            }
            Some(b) => ctx.out.bulk(b),
            None => return err(error::WRONGTYPE),
        },
    }
    Ok(())
}

pub fn set(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    let (flags, expire) = parse_options(argv, 3, Cmd::Set, ctx.now_ms())?;
    set_generic(ctx, &argv[1], &argv[2], flags, expire, false)
}

pub fn setnx(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    set_generic(ctx, &argv[1], &argv[3 - 1], SET_NX, None, true)
}

fn setex_generic(ctx: &mut Ctx<'_>, argv: &[Bytes], unit_ms: i64, name: &str) -> CmdResult {
    let v = arg_i64(&argv[2])?;
    if v <= 0 || (unit_ms == 1000 && v > i64::MAX / 1000) {
        return Err(CmdError::invalid_expire(name));
    }
    let ms = v * unit_ms;
    let now = ctx.now_ms();
    if ms > i64::MAX - now {
        return Err(CmdError::invalid_expire(name));
    }
    set_generic(ctx, &argv[1], &argv[3], 0, Some(now + ms), false)
}

pub fn setex(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    setex_generic(ctx, argv, 1000, "setex")
}

pub fn psetex(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    setex_generic(ctx, argv, 1, "psetex")
}

pub fn getset(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    set_generic(ctx, &argv[1], &argv[2], SET_GET, None, false)?;
    ctx.rewritten.clear();
    ctx.propagate_as(vec![
        Bytes::from_static(b"SET"),
        argv[1].clone(),
        argv[2].clone(),
    ]);
    Ok(())
}

pub fn mget(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    ctx.out.array(argv.len() - 1);
    let mut buf = [0u8; 20];
    for key in &argv[1..] {
        match ctx
            .ks
            .lookup_read(ctx.db, key)
            .and_then(|e| e.val.str_bytes(&mut buf))
        {
            Some(b) => ctx.out.bulk(b),
            None => ctx.out.null(),
        }
    }
    Ok(())
}

fn mset_generic(ctx: &mut Ctx<'_>, argv: &[Bytes], nx: bool) -> CmdResult {
    if argv.len().is_multiple_of(2) {
        return Err(CmdError::arity(if nx { "msetnx" } else { "mset" }));
    }
    if nx
        && argv[1..]
            .chunks(2)
            .any(|kv| ctx.ks.lookup_write(ctx.db, &kv[0]).is_some())
    {
        ctx.out.int(0);
        return Ok(());
    }
    for kv in argv[1..].chunks(2) {
        ctx.ks.set_key_bytes(ctx.db, &kv[0], &kv[1], false);
        ctx.notify(NOTIFY_STRING, "set", &kv[0]);
    }
    ctx.dirty += (argv.len() as u64 - 1) / 2;
    if nx {
        ctx.out.int(1);
    } else {
        ctx.out.ok();
    }
    Ok(())
}

pub fn mset(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    mset_generic(ctx, argv, false)
}

pub fn msetnx(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    mset_generic(ctx, argv, true)
}

pub fn getdel(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    let key = &argv[1];
    let mut buf = [0u8; 20];
    match get_string(ctx.ks, ctx.db, key, &mut buf)? {
        None => {
            ctx.out.null();
            return Ok(());
        }
        Some(v) => ctx.out.bulk(v),
    }
    ctx.ks.delete(ctx.db, key);
    ctx.notify(NOTIFY_GENERIC, "del", key);
    ctx.dirty += 1;
    ctx.propagate_as(vec![Bytes::from_static(b"DEL"), key.clone()]);
    Ok(())
}

pub fn getex(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    let key = &argv[1];
    let (flags, expire) = parse_options(argv, 2, Cmd::GetEx, ctx.now_ms())?;
    let mut buf = [0u8; 20];
    match get_string(ctx.ks, ctx.db, key, &mut buf)? {
        None => {
            ctx.out.null();
            return Ok(());
        }
        Some(v) => ctx.out.bulk(v),
    }
    if let Some(when) = expire {
        if when <= ctx.now_ms() && ctx.ks.expire_mode == crate::db::ExpireMode::Master {
            ctx.ks.delete(ctx.db, key);
            ctx.written(key, NOTIFY_GENERIC, "del");
            ctx.propagate_as(vec![Bytes::from_static(b"DEL"), key.clone()]);
        } else {
            ctx.ks.db_mut(ctx.db).set_expire(key, when);
            ctx.written(key, NOTIFY_GENERIC, "expire");
            ctx.propagate_as(vec![
                Bytes::from_static(b"PEXPIREAT"),
                key.clone(),
                int_bytes(when),
            ]);
        }
    } else if flags & SET_PERSIST != 0 && ctx.ks.db_mut(ctx.db).remove_expire(key) {
        ctx.written(key, NOTIFY_GENERIC, "persist");
        ctx.propagate_as(vec![Bytes::from_static(b"PERSIST"), key.clone()]);
    }
    Ok(())
}

pub fn strlen(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    let mut buf = [0u8; 20];
    let n = get_string(ctx.ks, ctx.db, &argv[1], &mut buf)?.map_or(0, |s| s.len());
    ctx.out.int(n as i64);
    Ok(())
}

fn check_len(ctx: &Ctx<'_>, len: u64) -> CmdResult {
    if len > ctx.cfg.proto_max_bulk_len {
        return err(error::STRING_TOO_LONG);
    }
    Ok(())
}

pub fn append(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    let (key, add) = (&argv[1], &argv[2]);
    let max = ctx.cfg.proto_max_bulk_len;
    let newlen = match ctx.ks.lookup_write(ctx.db, key) {
        None => {
            // A new key stores the argument as SET would (int, embstr).
            ctx.ks.add(ctx.db, key, Value::from_bytes(add));
            add.len()
        }
        Some(e) => {
            let s = unshare_string(e.val)?;
            if (s.len() + add.len()) as u64 > max {
                return err(error::STRING_TOO_LONG);
            }
            // sdscatlen: amortised growth, no copy of what is there.
            s.append(add);
            s.len()
        }
    };
    ctx.written(key, NOTIFY_STRING, "append");
    ctx.out.int(newlen as i64);
    Ok(())
}

/// Redis's dbUnshareStringValue: the value as a raw string that may be
/// modified in place (an int or embstr value becomes an exact raw copy
/// first); WRONGTYPE for other types.
pub(crate) fn unshare_string(val: &mut Value) -> Result<&mut Sds, CmdError> {
    if !matches!(val, Value::Raw(_)) {
        let mut buf = [0u8; 20];
        let cur = val
            .str_bytes(&mut buf)
            .ok_or(CmdError::from(error::WRONGTYPE))?;
        *val = Value::Raw(Sds::new(cur));
    }
    match val {
        Value::Raw(s) => Ok(s),
        _ => err(error::WRONGTYPE),
    }
}

/// The integer held by a key for INCR and friends (0 when missing).
fn current_int(ctx: &mut Ctx<'_>, key: &[u8]) -> Result<i64, CmdError> {
    match ctx.ks.lookup_write(ctx.db, key) {
        None => Ok(0),
        Some(e) => match e.val as &Value {
            Value::Int(n) => Ok(*n),
            Value::Str(s) | Value::Raw(s) => string2ll(s).ok_or_else(|| error::NOT_INT.into()),
            _ => err(error::WRONGTYPE),
        },
    }
}

fn incr_generic(ctx: &mut Ctx<'_>, key: &Bytes, by: i64) -> CmdResult {
    let cur = current_int(ctx, key)?;
    let n = cur.checked_add(by).ok_or(CmdError::from(error::OVERFLOW))?;
    match ctx.ks.lookup_write(ctx.db, key) {
        Some(e) => *e.val = Value::Int(n),
        None => ctx.ks.add(ctx.db, key, Value::Int(n)),
    }
    ctx.written(key, NOTIFY_STRING, "incrby");
    ctx.out.int(n);
    Ok(())
}

pub fn incr(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    incr_generic(ctx, &argv[1], 1)
}

pub fn decr(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    incr_generic(ctx, &argv[1], -1)
}

pub fn incrby(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    let by = arg_i64(&argv[2])?;
    incr_generic(ctx, &argv[1], by)
}

pub fn decrby(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    let by = arg_i64(&argv[2])?;
    if by == i64::MIN {
        return err("ERR decrement would overflow");
    }
    incr_generic(ctx, &argv[1], -by)
}

pub fn incrbyfloat(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    // Redis adds in an x87 `long double`: the software model reproduces its
    // rounding and its `%.17Lf` output ("5005.60000000000000009").
    use crate::encoding::longdouble::LongDouble;
    let key = &argv[1];
    let mut buf = [0u8; 20];
    let cur = match ctx.ks.lookup_write(ctx.db, key) {
        None => LongDouble::from_i64(0),
        Some(e) => {
            let s = e
                .val
                .str_bytes(&mut buf)
                .ok_or(CmdError::from(error::WRONGTYPE))?;
            LongDouble::parse(s).ok_or(CmdError::from(error::NOT_FLOAT))?
        }
    };
    let by = LongDouble::parse(&argv[2]).ok_or(CmdError::from(error::NOT_FLOAT))?;
    let n = match cur.checked_add(by) {
        Some(n) if n.is_finite() => n,
        _ => return err("ERR increment would produce NaN or Infinity"),
    };
    let text = Bytes::from(n.to_human_string());
    match ctx.ks.lookup_write(ctx.db, key) {
        Some(e) => *e.val = Value::Str(Sds::new(&text)),
        None => ctx.ks.add(ctx.db, key, Value::Str(Sds::new(&text))),
    }
    ctx.written(key, NOTIFY_STRING, "incrbyfloat");
    ctx.out.bulk(&text);
    // Float formatting may differ between machines: replicas get the result.
    ctx.propagate_as(vec![
        Bytes::from_static(b"SET"),
        key.clone(),
        text,
        Bytes::from_static(b"KEEPTTL"),
    ]);
    Ok(())
}

pub fn getrange(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    let mut start = arg_i64(&argv[2])?;
    let mut end = arg_i64(&argv[3])?;
    let mut buf = [0u8; 20];
    let Some(s) = get_string(ctx.ks, ctx.db, &argv[1], &mut buf)? else {
        ctx.out.bulk(b"");
        return Ok(());
    };
    let len = s.len() as i64;
    if start < 0 && end < 0 && start > end {
        ctx.out.bulk(b"");
        return Ok(());
    }
    if start < 0 {
        start += len;
    }
    if end < 0 {
        end += len;
    }
    start = start.max(0);
    end = end.max(0);
    if end >= len {
        end = len - 1;
    }
    if start > end || len == 0 {
        ctx.out.bulk(b"");
        return Ok(());
    }
    let piece = s[start as usize..=end as usize].to_vec();
    ctx.out.bulk(&piece);
    Ok(())
}

pub fn setrange(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    let key = &argv[1];
    let offset = arg_i64(&argv[2])?;
    let val = &argv[3];
    if offset < 0 {
        return err("ERR offset is out of range");
    }
    let offset = offset as u64;
    let max = ctx.cfg.proto_max_bulk_len;
    let exists = ctx.ks.lookup_write(ctx.db, key).is_some();
    if !exists {
        if val.is_empty() {
            ctx.out.int(0);
            return Ok(());
        }
        check_len(ctx, offset + val.len() as u64)?;
        let mut v = vec![0u8; offset as usize + val.len()];
        v[offset as usize..].copy_from_slice(val);
        let n = v.len();
        ctx.ks.add(ctx.db, key, Value::Raw(Sds::from_vec(v)));
        ctx.written(key, NOTIFY_STRING, "setrange");
        ctx.out.int(n as i64);
        return Ok(());
    }
    let Some(e) = ctx.ks.lookup_write(ctx.db, key) else {
        return Ok(());
    };
    let mut buf = [0u8; 20];
    let cur_len = e
        .val
        .str_bytes(&mut buf)
        .ok_or(CmdError::from(error::WRONGTYPE))?
        .len();
    if val.is_empty() {
        ctx.out.int(cur_len as i64);
        return Ok(());
    }
    if offset + val.len() as u64 > max {
        return err(error::STRING_TOO_LONG);
    }
    // sdsgrowzero on the unshared value: amortised growth, in place.
    let s = unshare_string(e.val)?;
    let end = offset as usize + val.len();
    s.grow_zero(end);
    s.as_bytes_mut()[offset as usize..end].copy_from_slice(val);
    let n = s.len();
    ctx.written(key, NOTIFY_STRING, "setrange");
    ctx.out.int(n as i64);
    Ok(())
}

/// LCS key1 key2 [LEN] [IDX] [MINMATCHLEN n] [WITHMATCHLEN]
pub fn lcs(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    let fetch = |ctx: &mut Ctx<'_>, key: &[u8]| -> Result<Vec<u8>, CmdError> {
        let mut buf = [0u8; 20];
        match ctx.ks.lookup_read(ctx.db, key) {
            None => Ok(Vec::new()),
            Some(e) => e
                .val
                .str_bytes(&mut buf)
                .map(|b| b.to_vec())
                .ok_or_else(|| "ERR The specified keys must contain string values".into()),
        }
    };
    let a = fetch(ctx, &argv[1])?;
    let b = fetch(ctx, &argv[2])?;
    let (mut getlen, mut getidx, mut withlen, mut minlen) = (false, false, false, 0i64);
    let mut j = 3;
    while j < argv.len() {
        let opt = &argv[j][..];
        if eq_ic(opt, "idx") {
            getidx = true;
        } else if eq_ic(opt, "len") {
            getlen = true;
        } else if eq_ic(opt, "withmatchlen") {
            withlen = true;
        } else if eq_ic(opt, "minmatchlen") && j + 1 < argv.len() {
            minlen = arg_i64(&argv[j + 1])?.max(0);
            j += 1;
        } else {
            return err(error::SYNTAX);
        }
        j += 1;
    }
    if getidx && getlen {
        return err("ERR If you want both the length and indexes, please just use IDX.");
    }
    let (alen, blen) = (a.len(), b.len());
    if (alen as u64 + 1) * (blen as u64 + 1) >= (u32::MAX / 4) as u64 {
        return err("ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len");
    }
    let w = blen + 1;
    let mut dp = vec![0u32; (alen + 1) * w];
    for i in 1..=alen {
        for k in 1..=blen {
            dp[i * w + k] = if a[i - 1] == b[k - 1] {
                dp[(i - 1) * w + k - 1] + 1
            } else {
                dp[(i - 1) * w + k].max(dp[i * w + k - 1])
            };
        }
    }
    let total = dp[alen * w + blen] as usize;
    if getlen {
        ctx.out.int(total as i64);
        return Ok(());
    }
    // Walk back from the end collecting the common string and, for IDX,
    // the ranges of each contiguous match (as Redis does).
    let mut result = vec![0u8; total];
    let mut idx = total;
    let (mut i, mut k) = (alen, blen);
    // Current contiguous match, as (a_start, a_end, b_start, b_end).
    let mut matches: Vec<(usize, usize, usize, usize)> = Vec::new();
    let mut cur: Option<(usize, usize, usize, usize)> = None;
    let mut emit = |m: Option<(usize, usize, usize, usize)>| {
        if let Some(m) = m {
            if (m.1 - m.0 + 1) as i64 >= minlen {
                matches.push(m);
            }
        }
    };
    while i > 0 && k > 0 {
        if a[i - 1] == b[k - 1] {
            idx -= 1;
            result[idx] = a[i - 1];
            cur = match cur {
                // Walking backwards: extend the range while it stays contiguous.
                Some((as_, ae, bs, be)) if as_ == i && bs == k => Some((i - 1, ae, k - 1, be)),
                other => {
                    emit(other);
                    Some((i - 1, i - 1, k - 1, k - 1))
                }
            };
            i -= 1;
            k -= 1;
        } else {
            if dp[(i - 1) * w + k] > dp[i * w + k - 1] {
                i -= 1;
            } else {
                k -= 1;
            }
            emit(cur.take());
        }
    }
    emit(cur);
    if !getidx {
        ctx.out.bulk(&result);
        return Ok(());
    }
    ctx.out.map(2);
    ctx.out.bulk(b"matches");
    ctx.out.array(matches.len());
    for &(as_, ae, bs, be) in &matches {
        ctx.out.array(if withlen { 3 } else { 2 });
        ctx.out.array(2);
        ctx.out.int(as_ as i64);
        ctx.out.int(ae as i64);
        ctx.out.array(2);
        ctx.out.int(bs as i64);
        ctx.out.int(be as i64);
        if withlen {
            ctx.out.int((ae - as_ + 1) as i64);
        }
    }
    ctx.out.bulk(b"len");
    ctx.out.int(total as i64);
    Ok(())
}
