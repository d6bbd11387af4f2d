//! DUMP and RESTORE (Redis's cluster.c): a value serialized in the RDB
//! format, followed by the RDB version (2 bytes LE) and a CRC64 (8 bytes
//! LE). Payloads move between ferrodis and Redis 7.0 in both directions.

use super::{arg_i64, eq_ic, Ctx};
use crate::cmd::table::CommandSpec;
use crate::cmd::table::{spec, Proc};
use crate::config::NOTIFY_GENERIC;
use crate::error::{self, err, CmdResult};
use crate::persist::{rdb, rdb_load};
use crate::types::Limits;
use bytes::Bytes;

use super::flag::*;

pub static COMMANDS: &[CommandSpec] = &[
    spec("dump", Proc::Db(dump), 2, READONLY, 1, 1, 1, "generic"),
    spec(
        "restore",
        Proc::Db(restore),
        -4,
        WRITE | DENYOOM,
        1,
        1,
        1,
        "generic",
    ),
];

/// DUMP key: the serialized value, or nil.
pub fn dump(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    let compression = ctx.cfg.rdbcompression;
    let fill = ctx.cfg.list_max_listpack_size;
    match ctx.lookup_read(&argv[1]) {
        None => ctx.out.null(),
        Some(e) => {
            let p = rdb::dump_payload(e.val, compression, fill);
            ctx.out.bulk(&p);
        }
    }
    Ok(())
}

/// RESTORE key ttl payload [REPLACE] [ABSTTL] [IDLETIME s] [FREQ f]
pub fn restore(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    let (mut replace, mut absttl) = (false, false);
    let (mut lru_idle, mut lfu_freq): (i64, i64) = (-1, -1);
    let mut j = 4;
    while j < argv.len() {
        let additional = argv.len() - j - 1;
        let a = &argv[j][..];
        if eq_ic(a, "replace") {
            replace = true;
        } else if eq_ic(a, "absttl") {
            absttl = true;
        } else if eq_ic(a, "idletime") && additional >= 1 && lfu_freq == -1 {
            lru_idle = arg_i64(&argv[j + 1])?;
            if lru_idle < 0 {
                return err("ERR Invalid IDLETIME value, must be >= 0");
            }
            j += 1;
        } else if eq_ic(a, "freq") && additional >= 1 && lru_idle == -1 {
            lfu_freq = arg_i64(&argv[j + 1])?;
            if !(0..=255).contains(&lfu_freq) {
                return err("ERR Invalid FREQ value, must be >= 0 and <= 255");
            }
            j += 1;
        } else {
            return err(error::SYNTAX);
        }
        j += 1;
    }
    let key = &argv[1];
    if !replace && ctx.ks.exists(ctx.db, key) {
        return err(error::BUSYKEY);
    }
    let mut ttl = arg_i64(&argv[2])?;
    if ttl < 0 {
        return err("ERR Invalid TTL value, must be >= 0");
    }
    if !rdb_load::verify_dump_payload(&argv[3]) {
        return err("ERR DUMP payload version or checksum are wrong");
    }
    let lim = Limits::from_config(ctx.cfg);
    let val = match rdb_load::load_dump_payload(&argv[3], &lim) {
        Ok(Some(v)) => v,
        Ok(None) => return err("ERR Bad data format"),
        Err(e) => {
            // Logged at verbose level in RESTORE's context, as Redis's
            // rdbReportError (a corrupt RDB file is fatal instead).
            log::debug!("{e}");
            return err("ERR Bad data format");
        }
    };
    let deleted = replace && ctx.ks.delete(ctx.db, key);
    let now = ctx.now_ms();
    if ttl > 0 && !absttl {
        ttl = ttl.saturating_add(now);
    }
    let is_master = ctx.ks.expire_mode == crate::db::ExpireMode::Master;
    if ttl > 0 && ttl <= now && is_master {
        if deleted {
            ctx.written(key, NOTIFY_GENERIC, "del");
            ctx.propagate_as(vec![Bytes::from_static(b"DEL"), key.clone()]);
        }
        ctx.out.ok();
        return Ok(());
    }
    ctx.ks.add(ctx.db, key, val);
    if ttl > 0 {
        ctx.ks.db_mut(ctx.db).set_expire(key, ttl);
    }
    use crate::config::MaxmemoryPolicy as P;
    let lfu = matches!(ctx.cfg.maxmemory_policy, P::VolatileLfu | P::AllKeysLfu);
    let clock = ctx.ks.lru_clock;
    if let Some(e) = ctx.ks.dbs[ctx.db].dict.get_fields(key) {
        if lfu && lfu_freq >= 0 {
            let minutes = ((now / 1000 / 60) & 0xffff) as u32;
            *e.meta = (minutes << 8) | lfu_freq as u32;
        } else if !lfu && lru_idle >= 0 {
            const MAX: i64 = (1 << 24) - 1;
            let mut abs = clock as i64 - lru_idle;
            if abs < 0 {
                abs = (clock as i64 + MAX / 2) % MAX;
            }
            *e.meta = abs as u32;
        }
    }
    ctx.written(key, NOTIFY_GENERIC, "restore");
    if ttl > 0 && !absttl {
        let mut v = argv.to_vec();
        v[2] = Bytes::from(ttl.to_string());
        v.push(Bytes::from_static(b"ABSTTL"));
        ctx.propagate_as(v);
    }
    ctx.out.ok();
    Ok(())
}
