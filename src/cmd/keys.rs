//! Keyspace commands (Redis's db.c, expire.c, object.c): DEL, EXISTS, TYPE,
//! KEYS, SCAN, RENAME, COPY, MOVE, OBJECT, the EXPIRE and TTL families, and
//! the trivial ECHO and TIME.

use super::{arg_i64, eq_ic, Ctx};
use crate::config::NOTIFY_GENERIC;
use crate::db::{ExpireMode, Value};
use crate::encoding::numbers::ll2string;
use crate::error::{self, err, CmdError, CmdResult};
use crate::util::string_match;
use bytes::Bytes;

pub fn del(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    let lazy = ctx.cfg.lazyfree_lazy_user_del;
    del_generic(ctx, argv, lazy)
}

/// UNLINK: DEL that leaves big values to the lazy-free queue.
pub fn unlink(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    del_generic(ctx, argv, true)
}

fn del_generic(ctx: &mut Ctx<'_>, argv: &[Bytes], lazy: bool) -> CmdResult {
    let mut n = 0;
    for key in &argv[1..] {
        ctx.ks.expire_if_needed(ctx.db, key);
        let deleted = if lazy {
            ctx.ks.delete_async(ctx.db, key)
        } else {
            ctx.ks.delete_now(ctx.db, key)
        };
        if deleted {
            ctx.notify(NOTIFY_GENERIC, "del", key);
            ctx.dirty += 1;
            n += 1;
        }
    }
    ctx.out.int(n);
    Ok(())
}

/// EXISTS does not count as an access; TOUCH does.
fn count_existing(ctx: &mut Ctx<'_>, argv: &[Bytes], touch: bool) -> CmdResult {
    let n = argv[1..]
        .iter()
        .filter(|k| {
            if touch {
                ctx.ks.lookup_read(ctx.db, k).is_some()
            } else {
                ctx.ks.lookup_read_notouch(ctx.db, k).is_some()
            }
        })
        .count();
    ctx.out.int(n as i64);
    Ok(())
}

pub fn exists(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    count_existing(ctx, argv, false)
}

pub fn touch(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    count_existing(ctx, argv, true)
}

pub fn type_(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    let t = ctx
        .ks
        .lookup_read_notouch(ctx.db, &argv[1])
        .map_or("none", |e| e.val.type_name());
    ctx.out.simple(t);
    Ok(())
}

/// Whether a key is logically expired, without deleting it.
fn is_expired(ctx: &Ctx<'_>, key: &[u8]) -> bool {
    ctx.ks.expire_mode != ExpireMode::ApplyingMaster
        && ctx
            .ks
            .db(ctx.db)
            .get_expire(key)
            .is_some_and(|t| t <= ctx.ks.now_ms)
}

pub fn keys(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    let pat = &argv[1][..];
    let all = pat == b"*";
    let mut found: Vec<Bytes> = Vec::new();
    // Past the output-buffer hard limit the client is closed without a
    // reply (Redis's keysCommand stops there too): no point going on.
    // (A script's client has no output limit.)
    let hard = if ctx.from_script {
        0
    } else {
        ctx.cfg.client_output_buffer_limit[0].hard as usize
    };
    let mut size = 0usize;
    for (k, _) in ctx.ks.db(ctx.db).dict.iter() {
        if (all || string_match(pat, k, false)) && !is_expired(ctx, k) {
            // Exactly its bulk's length: `$<len>\r\n<key>\r\n`.
            let mut digits = [0u8; 20];
            let n = crate::encoding::numbers::ll2string(k.len() as i64, &mut digits).len();
            size += k.len() + 5 + n;
            found.push(Bytes::copy_from_slice(k));
            if hard > 0 && size > hard {
                break;
            }
        }
    }
    ctx.out.array(found.len());
    for k in &found {
        ctx.out.bulk(k);
    }
    Ok(())
}

/// Parses a SCAN cursor like Redis (strtoul semantics: "-1" wraps).
pub fn parse_cursor(arg: &[u8]) -> Result<u64, CmdError> {
    crate::encoding::numbers::strtoul(arg).ok_or_else(|| "ERR invalid cursor".into())
}

/// Parsed MATCH / COUNT / TYPE options shared by SCAN, SSCAN, HSCAN, ZSCAN.
pub struct ScanOpts<'a> {
    pub pattern: Option<&'a [u8]>,
    pub count: usize,
    pub type_name: Option<String>,
}

pub fn parse_scan_opts(
    argv: &[Bytes],
    from: usize,
    allow_type: bool,
) -> Result<ScanOpts<'_>, CmdError> {
    let mut o = ScanOpts {
        pattern: None,
        count: 10,
        type_name: None,
    };
    let mut j = from;
    while j < argv.len() {
        let more = argv.len() - j - 1;
        if eq_ic(&argv[j], "count") && more >= 1 {
            let n = arg_i64(&argv[j + 1])?;
            if n < 1 {
                return err(error::SYNTAX);
            }
            o.count = n as usize;
        } else if eq_ic(&argv[j], "match") && more >= 1 {
            let p = &argv[j + 1][..];
            // "*" matches everything: skip the matcher.
            o.pattern = if p == b"*" { None } else { Some(p) };
        } else if allow_type && eq_ic(&argv[j], "type") && more >= 1 {
            o.type_name = Some(String::from_utf8_lossy(&argv[j + 1]).to_ascii_lowercase());
        } else {
            return err(error::SYNTAX);
        }
        j += 2;
    }
    Ok(o)
}

pub fn scan(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    let mut cursor = parse_cursor(&argv[1])?;
    let o = parse_scan_opts(argv, 2, true)?;
    let mut keys: Vec<Bytes> = Vec::new();
    let mut budget = o.count * 10;
    let dict = &ctx.ks.db(ctx.db).dict;
    loop {
        cursor = dict.scan(cursor, |k, e| {
            if o.type_name.as_deref().is_some_and(|t| t != e.type_name()) {
                return;
            }
            if o.pattern.is_some_and(|p| !string_match(p, k, false)) {
                return;
            }
            keys.push(Bytes::copy_from_slice(k));
        });
        budget = budget.saturating_sub(1);
        if cursor == 0 || budget == 0 || keys.len() >= o.count {
            break;
        }
    }
    // Expired keys are not returned (and are deleted on a master).
    keys.retain(|k| !ctx.ks.expire_if_needed(ctx.db, k));
    ctx.out.array(2);
    ctx.out.bulk(cursor.to_string().as_bytes());
    ctx.out.array(keys.len());
    for k in &keys {
        ctx.out.bulk(k);
    }
    Ok(())
}

/// RANDOMKEY (Redis's dbRandomKey): a fair random key; expired ones met on
/// the way are deleted (master) and another is drawn. On a replica, where
/// they are only read as missing, a keyspace of nothing but volatile keys
/// would loop forever: after 100 tries the last one drawn is returned.
pub fn randomkey(ctx: &mut Ctx<'_>, _argv: &[Bytes]) -> CmdResult {
    let mut rng = crate::util::Rng::new();
    let mut maxtries = 100;
    let d = ctx.ks.db(ctx.db);
    let allvolatile = d.dict.len() == d.expires.len();
    loop {
        let key = match ctx.ks.db_mut(ctx.db).dict.fair_random(|| rng.next_u64()) {
            None => {
                ctx.out.null();
                return Ok(());
            }
            Some((k, _)) => Bytes::copy_from_slice(k),
        };
        if ctx.ks.db(ctx.db).expires.contains_key(&key) {
            let replica = ctx.ks.expire_mode != ExpireMode::Master;
            if allvolatile && replica {
                maxtries -= 1;
                if maxtries == 0 {
                    ctx.out.bulk(&key);
                    return Ok(());
                }
            }
            if ctx.ks.expire_if_needed(ctx.db, &key) {
                continue;
            }
        }
        ctx.out.bulk(&key);
        return Ok(());
    }
}

pub fn dbsize(ctx: &mut Ctx<'_>, _argv: &[Bytes]) -> CmdResult {
    let n = ctx.ks.db(ctx.db).len();
    ctx.out.int(n as i64);
    Ok(())
}

fn rename_generic(ctx: &mut Ctx<'_>, argv: &[Bytes], nx: bool) -> CmdResult {
    let (src, dst) = (&argv[1], &argv[2]);
    if ctx.ks.lookup_write(ctx.db, src).is_none() {
        return err(error::NO_SUCH_KEY);
    }
    if src == dst {
        if nx {
            ctx.out.int(0);
        } else {
            ctx.out.ok();
        }
        return Ok(());
    }
    if ctx.ks.lookup_write(ctx.db, dst).is_some() {
        if nx {
            ctx.out.int(0);
            return Ok(());
        }
        ctx.ks.delete(ctx.db, dst);
    }
    let Some((entry, expire)) = ctx.ks.take(ctx.db, src) else {
        return err(error::NO_SUCH_KEY);
    };
    ctx.ks.add(ctx.db, dst, entry.val);
    if let Some(t) = expire {
        ctx.ks.db_mut(ctx.db).set_expire(dst, t);
    }
    ctx.ks.signal_modified(ctx.db, dst);
    ctx.notify(NOTIFY_GENERIC, "rename_from", src);
    ctx.notify(NOTIFY_GENERIC, "rename_to", dst);
    ctx.dirty += 1;
    if nx {
        ctx.out.int(1);
    } else {
        ctx.out.ok();
    }
    Ok(())
}

pub fn rename(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    rename_generic(ctx, argv, false)
}

pub fn renamenx(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    rename_generic(ctx, argv, true)
}

fn parse_db(ctx: &Ctx<'_>, arg: &[u8]) -> Result<usize, CmdError> {
    let n = arg_i64(arg)?;
    if n < 0 || n >= ctx.ks.dbs.len() as i64 || n > i32::MAX as i64 {
        return err(error::DB_RANGE);
    }
    Ok(n as usize)
}

pub fn copy(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    let (src, dst) = (&argv[1], &argv[2]);
    let mut dst_db = ctx.db;
    let mut replace = false;
    let mut j = 3;
    while j < argv.len() {
        if eq_ic(&argv[j], "replace") {
            replace = true;
        } else if eq_ic(&argv[j], "db") && j + 1 < argv.len() {
            dst_db = parse_db(ctx, &argv[j + 1])?;
            j += 1;
        } else {
            return err(error::SYNTAX);
        }
        j += 1;
    }
    if dst_db != ctx.db && crate::cluster::enabled(ctx.cfg) {
        return err("ERR Copying to another database is not allowed in cluster mode");
    }
    if src == dst && dst_db == ctx.db {
        return err(error::SAME_OBJECT);
    }
    let Some(e) = ctx.ks.lookup_write(ctx.db, src) else {
        ctx.out.int(0);
        return Ok(());
    };
    let val = e.val.deep_clone();
    let expire = ctx.ks.db(ctx.db).get_expire(src);
    if ctx.ks.lookup_write(dst_db, dst).is_some() {
        if !replace {
            ctx.out.int(0);
            return Ok(());
        }
        ctx.ks.delete(dst_db, dst);
    }
    ctx.ks.add(dst_db, dst, val);
    if let Some(t) = expire {
        ctx.ks.db_mut(dst_db).set_expire(dst, t);
    }
    ctx.ks.signal_modified(dst_db, dst);
    let saved = ctx.db;
    ctx.db = dst_db;
    ctx.notify(NOTIFY_GENERIC, "copy_to", dst);
    ctx.db = saved;
    ctx.dirty += 1;
    ctx.out.int(1);
    Ok(())
}

pub fn move_(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    if crate::cluster::enabled(ctx.cfg) {
        return err("ERR MOVE is not allowed in cluster mode");
    }
    let key = &argv[1];
    let dst_db = parse_db(ctx, &argv[2])?;
    if dst_db == ctx.db {
        return err(error::SAME_OBJECT);
    }
    if ctx.ks.lookup_write(ctx.db, key).is_none() || ctx.ks.lookup_write(dst_db, key).is_some() {
        ctx.out.int(0);
        return Ok(());
    }
    let Some((entry, expire)) = ctx.ks.take(ctx.db, key) else {
        ctx.out.int(0);
        return Ok(());
    };
    ctx.ks.add(dst_db, key, entry.val);
    if let Some(t) = expire {
        ctx.ks.db_mut(dst_db).set_expire(key, t);
    }
    ctx.ks.signal_modified(dst_db, key);
    ctx.notify(NOTIFY_GENERIC, "move_from", key);
    let saved = ctx.db;
    ctx.db = dst_db;
    ctx.notify(NOTIFY_GENERIC, "move_to", key);
    ctx.db = saved;
    ctx.dirty += 1;
    ctx.out.int(1);
    Ok(())
}

const OBJECT_HELP: &[&str] = &[
    "OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "ENCODING <key>",
    "    Return the kind of internal representation used in order to store the value",
    "    associated with a <key>.",
    "FREQ <key>",
    "    Return the access frequency index of the <key>. The returned integer is",
    "    proportional to the logarithm of the recent access frequency of the key.",
    "IDLETIME <key>",
    "    Return the idle time of the <key>, that is the approximated number of",
    "    seconds elapsed since the last access to the key.",
    "REFCOUNT <key>",
    "    Return the number of references of the value associated with the specified",
    "    <key>.",
    "HELP",
    "    Prints this help.",
];

/// Writes a subcommand HELP reply (status lines, as Redis's addReplyHelp).
pub fn reply_help(ctx: &mut Ctx<'_>, lines: &[&str]) {
    ctx.out.array(lines.len());
    for l in lines {
        ctx.out.simple(l);
    }
}

pub fn object(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    let sub = &argv[1][..];
    if argv.len() == 2 && eq_ic(sub, "help") {
        reply_help(ctx, OBJECT_HELP);
        return Ok(());
    }
    use crate::config::MaxmemoryPolicy as P;
    let lfu = matches!(ctx.cfg.maxmemory_policy, P::VolatileLfu | P::AllKeysLfu);
    let known = ["encoding", "refcount", "idletime", "freq"]
        .iter()
        .any(|s| eq_ic(sub, s));
    if argv.len() != 3 || !known {
        return Err(crate::error::unknown_subcommand(sub, "OBJECT"));
    }
    let lru_clock = ctx.ks.lru_clock;
    // Not an access (the clock stays), but a hit or a miss.
    let Some(e) = ctx.ks.lookup_object(ctx.db, &argv[2]) else {
        ctx.out.null();
        return Ok(());
    };
    let (val, lru) = (&*e.val, *e.lru);
    if eq_ic(sub, "encoding") {
        let enc = val.encoding();
        ctx.out.bulk(enc.as_bytes());
    } else if eq_ic(sub, "refcount") {
        let shared = matches!(val, Value::Int(n) if (0..10000).contains(n))
            && !matches!(
                ctx.cfg.maxmemory_policy,
                P::VolatileLfu | P::AllKeysLfu | P::VolatileLru | P::AllKeysLru
            );
        ctx.out.int(if shared { i32::MAX as i64 } else { 1 });
    } else if eq_ic(sub, "idletime") {
        if lfu {
            return err("ERR An LFU maxmemory policy is selected, idle time not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.");
        }
        let idle = idle_seconds(lru_clock, lru);
        ctx.out.int(idle as i64);
    } else {
        if !lfu {
            return err("ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.");
        }
        let decay = ctx.cfg.lfu_decay_time as u32;
        let minutes = ((ctx.ks.now_ms / 60_000) & 0xffff) as u32;
        ctx.out
            .int(crate::db::lfu_decayed(lru, minutes, decay) as i64);
    }
    Ok(())
}

/// Seconds since the entry was last accessed (24-bit LRU clock, wrapping).
pub fn idle_seconds(clock: u32, lru: u32) -> u32 {
    const MAX: u32 = (1 << 24) - 1;
    let lru = lru & MAX;
    if clock >= lru {
        clock - lru
    } else {
        clock + (MAX - lru)
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Unit {
    Seconds,
    Millis,
}

/// EXPIRE, PEXPIRE, EXPIREAT, PEXPIREAT (Redis's expireGenericCommand).
fn expire_generic(
    ctx: &mut Ctx<'_>,
    argv: &[Bytes],
    relative: bool,
    unit: Unit,
    name: &str,
) -> CmdResult {
    let key = &argv[1];
    let mut when = arg_i64(&argv[2])?;
    let (mut nx, mut xx, mut gt, mut lt) = (false, false, false, false);
    for opt in &argv[3..] {
        if eq_ic(opt, "nx") {
            nx = true;
        } else if eq_ic(opt, "xx") {
            xx = true;
        } else if eq_ic(opt, "gt") {
            gt = true;
        } else if eq_ic(opt, "lt") {
            lt = true;
        } else {
            return Err(CmdError::msg(format!(
                "ERR Unsupported option {}",
                String::from_utf8_lossy(opt)
            )));
        }
    }
    if nx && (xx || gt || lt) {
        return err("ERR NX and XX, GT or LT options at the same time are not compatible");
    }
    if gt && lt {
        return err("ERR GT and LT options at the same time are not compatible");
    }
    if unit == Unit::Seconds {
        if !(i64::MIN / 1000..=i64::MAX / 1000).contains(&when) {
            return Err(CmdError::invalid_expire(name));
        }
        when *= 1000;
    }
    if relative {
        let base = ctx.now_ms();
        if when > i64::MAX - base {
            return Err(CmdError::invalid_expire(name));
        }
        when += base;
    }
    if ctx.ks.lookup_write(ctx.db, key).is_none() {
        ctx.out.int(0);
        return Ok(());
    }
    let current = ctx.ks.db(ctx.db).get_expire(key);
    let refused = (nx && current.is_some())
        || (xx && current.is_none())
        || (gt && current.is_none_or(|c| when <= c))
        || (lt && current.is_some_and(|c| when >= c));
    if refused {
        ctx.out.int(0);
        return Ok(());
    }
    if when <= ctx.now_ms() && ctx.ks.expire_mode == ExpireMode::Master {
        // Already in the past: delete now, replicas get a DEL.
        ctx.ks.delete(ctx.db, key);
        ctx.written(key, NOTIFY_GENERIC, "del");
        ctx.propagate_as(vec![Bytes::from_static(b"DEL"), key.clone()]);
        ctx.out.int(1);
        return Ok(());
    }
    ctx.ks.db_mut(ctx.db).set_expire(key, when);
    ctx.written(key, NOTIFY_GENERIC, "expire");
    let mut b = [0u8; 20];
    let mut cmd = vec![
        Bytes::from_static(b"PEXPIREAT"),
        key.clone(),
        Bytes::copy_from_slice(ll2string(when, &mut b)),
    ];
    cmd.extend(argv[3..].iter().cloned());
    ctx.propagate_as(cmd);
    ctx.out.int(1);
    Ok(())
}

pub fn expire(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    expire_generic(ctx, argv, true, Unit::Seconds, "expire")
}

pub fn pexpire(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    expire_generic(ctx, argv, true, Unit::Millis, "pexpire")
}

pub fn expireat(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    expire_generic(ctx, argv, false, Unit::Seconds, "expireat")
}

pub fn pexpireat(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    expire_generic(ctx, argv, false, Unit::Millis, "pexpireat")
}

/// TTL, PTTL, EXPIRETIME, PEXPIRETIME (Redis's ttlGenericCommand).
fn ttl_generic(ctx: &mut Ctx<'_>, argv: &[Bytes], ms: bool, absolute: bool) -> CmdResult {
    let key = &argv[1];
    if ctx.ks.lookup_read_notouch(ctx.db, key).is_none() {
        ctx.out.int(-2);
        return Ok(());
    }
    match ctx.ks.db(ctx.db).get_expire(key) {
        None => ctx.out.int(-1),
        Some(t) => {
            let v = if absolute {
                t
            } else {
                (t - ctx.now_ms()).max(0)
            };
            ctx.out.int(if ms { v } else { (v + 500) / 1000 });
        }
    }
    Ok(())
}

pub fn ttl(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    ttl_generic(ctx, argv, false, false)
}

pub fn pttl(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    ttl_generic(ctx, argv, true, false)
}

pub fn expiretime(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    ttl_generic(ctx, argv, false, true)
}

pub fn pexpiretime(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    ttl_generic(ctx, argv, true, true)
}

pub fn persist(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    let key = &argv[1];
    if ctx.ks.lookup_write(ctx.db, key).is_none() {
        ctx.out.int(0);
        return Ok(());
    }
    if ctx.ks.db_mut(ctx.db).remove_expire(key) {
        ctx.written(key, NOTIFY_GENERIC, "persist");
        ctx.out.int(1);
    } else {
        ctx.out.int(0);
    }
    Ok(())
}

pub fn echo(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    ctx.out.bulk(&argv[1]);
    Ok(())
}

pub fn time(ctx: &mut Ctx<'_>, _argv: &[Bytes]) -> CmdResult {
    let us = crate::util::ustime();
    ctx.out.array(2);
    ctx.out.bulk_i64(us / 1_000_000);
    ctx.out.bulk_i64(us % 1_000_000);
    Ok(())
}
