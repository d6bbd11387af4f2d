//! HyperLogLog commands (Redis's hyperloglog.c command half): PFADD,
//! PFCOUNT, PFMERGE, and the PFDEBUG / PFSELFTEST debugging commands. The values are plain strings in Redis's exact HLL
//! format (see `types::hll`), so they survive DUMP/RESTORE and RDB both ways.

use super::flag::*;
use super::{CommandSpec, Ctx, Proc};
use crate::cmd::table::spec;
use crate::config::NOTIFY_STRING;
use crate::db::Value;
use crate::error::{err, CmdError, CmdResult};
use crate::sds::Sds;
use crate::types::hll;
use bytes::Bytes;

const NOT_HLL: &str = "WRONGTYPE Key is not a valid HyperLogLog string value.";
const CORRUPT: &str = "INVALIDOBJ Corrupted HLL object detected";

fn sparse_max(ctx: &Ctx<'_>) -> usize {
    let v = ctx.cfg.extra_value("hll-sparse-max-bytes");
    v.trim().parse::<usize>().unwrap_or(3000)
}

/// isHLLObjectOrReply on a value: the error for non-HLL values.
fn check_hll(v: &Value) -> Result<(), CmdError> {
    match v {
        Value::Str(s) | Value::Raw(s) if hll::is_valid(s.as_bytes()) => Ok(()),
        Value::Str(_) | Value::Raw(_) | Value::Int(_) => err(NOT_HLL),
        _ => err(crate::error::WRONGTYPE),
    }
}

/// Takes an HLL value's bytes out of the keyspace for modification
/// (dbUnshareStringValue); the caller puts them back as a raw string.
fn take_bytes(v: &mut Value) -> Vec<u8> {
    match std::mem::replace(v, Value::Int(0)) {
        Value::Str(s) | Value::Raw(s) => s.into_vec(),
        _ => Vec::new(),
    }
}

pub fn pfadd(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    let key = &argv[1];
    let max = sparse_max(ctx);
    let mut updated = 0u64;
    let mut bytes = match ctx.ks.lookup_write(ctx.db, key) {
        None => {
            updated += 1;
            ctx.ks
                .add(ctx.db, key, Value::Raw(Sds::from_vec(hll::create())));
            hll::create()
        }
        Some(e) => {
            check_hll(e.val)?;
            take_bytes(e.val)
        }
    };
    let mut failed = false;
    for ele in &argv[2..] {
        match hll::add(&mut bytes, ele, max) {
            Ok(true) => updated += 1,
            Ok(false) => {}
            Err(hll::Corrupt) => {
                failed = true;
                break;
            }
        }
    }
    if updated > 0 && !failed {
        hll::invalidate_cache(&mut bytes);
    }
    if let Some(e) = ctx.ks.lookup_write(ctx.db, key) {
        *e.val = Value::Raw(Sds::from_vec(bytes));
    }
    if failed {
        return err(CORRUPT);
    }
    if updated > 0 {
        ctx.written(key, NOTIFY_STRING, "pfadd");
        ctx.dirty += updated - 1;
    }
    ctx.out.int((updated > 0) as i64);
    Ok(())
}

pub fn pfcount(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    if argv.len() > 2 {
        let mut max = vec![0u8; hll::REGISTERS];
        for k in &argv[1..] {
            let Some(e) = ctx.ks.lookup_read(ctx.db, k) else {
                continue;
            };
            check_hll(e.val)?;
            if let Value::Str(s) | Value::Raw(s) = &e.val {
                hll::merge(&mut max, s.as_bytes()).map_err(|_| CmdError::from(CORRUPT))?;
            }
        }
        ctx.out.int(hll::count_raw(&max) as i64);
        return Ok(());
    }
    let key = &argv[1];
    let Some(e) = ctx.ks.lookup_read(ctx.db, key) else {
        ctx.out.int(0);
        return Ok(());
    };
    check_hll(e.val)?;
    let mut bytes = take_bytes(e.val);
    let (card, recomputed) = match hll::cached(&bytes) {
        Some(c) => (Ok(c), false),
        None => (hll::count(&bytes), true),
    };
    if let Ok(c) = card {
        if recomputed {
            hll::set_cache(&mut bytes, c);
        }
    }
    *e.val = Value::Raw(Sds::from_vec(bytes));
    let card = card.map_err(|_| CmdError::from(CORRUPT))?;
    if recomputed {
        // The cache lives in the value: replicas must see the change too.
        ctx.ks.signal_modified(ctx.db, key);
        ctx.dirty += 1;
    }
    ctx.out.int(card as i64);
    Ok(())
}

pub fn pfmerge(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    let mut max = vec![0u8; hll::REGISTERS];
    let mut use_dense = false;
    for k in &argv[1..] {
        let Some(e) = ctx.ks.lookup_read(ctx.db, k) else {
            continue;
        };
        check_hll(e.val)?;
        if let Value::Str(s) | Value::Raw(s) = &e.val {
            use_dense |= s.as_bytes()[4] == hll::DENSE;
            hll::merge(&mut max, s.as_bytes()).map_err(|_| CmdError::from(CORRUPT))?;
        }
    }
    let key = &argv[1];
    let mut bytes = match ctx.ks.lookup_write(ctx.db, key) {
        None => {
            ctx.ks
                .add(ctx.db, key, Value::Raw(Sds::from_vec(Vec::new())));
            hll::create()
        }
        Some(e) => take_bytes(e.val),
    };
    let converted = !use_dense || hll::to_dense(&mut bytes).is_ok();
    if converted {
        let limit = sparse_max(ctx);
        for (i, &m) in max.iter().enumerate() {
            if m != 0 {
                hll::set_register(&mut bytes, i, m, limit);
            }
        }
        hll::invalidate_cache(&mut bytes);
    }
    if let Some(e) = ctx.ks.lookup_write(ctx.db, key) {
        *e.val = Value::Raw(Sds::from_vec(bytes));
    }
    if !converted {
        return err(CORRUPT);
    }
    ctx.written(key, NOTIFY_STRING, "pfadd");
    ctx.out.ok();
    Ok(())
}

/// PFDEBUG GETREG|DECODE|ENCODING|TODENSE key
pub fn pfdebug(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    let sub = &argv[1][..];
    let key = &argv[2];
    let Some(e) = ctx.ks.lookup_write(ctx.db, key) else {
        return err("ERR The specified key does not exist");
    };
    check_hll(e.val)?;
    let bytes = match &e.val {
        Value::Str(s) | Value::Raw(s) => s.as_bytes(),
        _ => return err(crate::error::WRONGTYPE),
    };
    let sparse = bytes[4] == hll::SPARSE;
    let eq = |kw: &str| sub.eq_ignore_ascii_case(kw.as_bytes());
    if eq("getreg") || eq("todense") {
        if sparse {
            // The conversion changes the value: it is written back and
            // the command propagated (Redis's "force propagation").
            let mut b = take_bytes(e.val);
            let r = hll::to_dense(&mut b);
            *e.val = Value::Raw(Sds::from_vec(b));
            r.map_err(|_| CmdError::from(CORRUPT))?;
            ctx.dirty += 1;
        }
        if eq("todense") {
            ctx.out.int(i64::from(sparse));
            return Ok(());
        }
        let regs = match ctx.ks.lookup_read(ctx.db, key).map(|e| e.val as &Value) {
            Some(Value::Str(s) | Value::Raw(s)) => hll::registers(s.as_bytes()),
            _ => Err(hll::Corrupt),
        }
        .map_err(|_| CmdError::from(CORRUPT))?;
        ctx.out.array(regs.len());
        for r in regs {
            ctx.out.int(i64::from(r));
        }
    } else if eq("decode") {
        let Some(text) = hll::decode_sparse(bytes) else {
            return err("ERR HLL encoding is not sparse");
        };
        ctx.out.bulk(text.as_bytes());
    } else if eq("encoding") {
        ctx.out.simple(if sparse { "sparse" } else { "dense" });
    } else {
        return Err(CmdError::msg(format!(
            "ERR Unknown PFDEBUG subcommand '{}'",
            String::from_utf8_lossy(sub)
        )));
    }
    Ok(())
}

/// PFSELFTEST: Redis's internal consistency test of the HLL code.
pub fn pfselftest(ctx: &mut Ctx<'_>, _argv: &[Bytes]) -> CmdResult {
    let mut rng = crate::util::Rng::new();
    match hll::selftest(sparse_max(ctx), &mut rng) {
        Ok(()) => ctx.out.ok(),
        Err(e) => return Err(CmdError::msg(e)),
    }
    Ok(())
}

const GROUP: &str = "hyperloglog";

#[rustfmt::skip]
pub static COMMANDS: &[CommandSpec] = &[
    spec("pfadd", Proc::Db(pfadd), -2, WRITE | DENYOOM | FAST, 1, 1, 1, GROUP),
    spec("pfcount", Proc::Db(pfcount), -2, READONLY | MAY_REPLICATE, 1, -1, 1, GROUP),
    spec("pfmerge", Proc::Db(pfmerge), -2, WRITE | DENYOOM, 1, -1, 1, GROUP),
    spec("pfdebug", Proc::Db(pfdebug), 3, WRITE | DENYOOM | ADMIN, 2, 2, 1, GROUP),
    spec("pfselftest", Proc::Db(pfselftest), 1, ADMIN, 0, 0, 0, GROUP),
];
