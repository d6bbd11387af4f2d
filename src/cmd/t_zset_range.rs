//! Sorted set commands, part two: ranges by rank, score and lex (ZRANGE in
//! all its spellings, ZRANGESTORE, ZCOUNT, ZLEXCOUNT, ZREMRANGEBY*), and
//! the parsing of Redis's range syntax (`(1.5`, `-inf`, `[a`, `-`, `+`).

use super::t_zset::{after_remove, zget};
use super::{arg_i64, eq_ic, Ctx};
use crate::config::{NOTIFY_GENERIC, NOTIFY_ZSET};
use crate::db::Value;
use crate::encoding::numbers::strtod_full;
use crate::error::{self, err, CmdResult};
use crate::types::zset::{LexBound, LexRange, ScoreRange};
use crate::types::{Limits, ZSet};
use bytes::Bytes;

const BAD_SCORE_RANGE: &str = "ERR min or max is not a float";
const BAD_LEX_RANGE: &str = "ERR min or max not valid string range item";

fn parse_score_item(b: &[u8]) -> Option<(f64, bool)> {
    match b.first() {
        Some(b'(') => strtod_full(&b[1..]).map(|v| (v, true)),
        _ => strtod_full(b).map(|v| (v, false)),
    }
}

/// zslParseRange.
pub fn parse_score_range(min: &[u8], max: &[u8]) -> Option<ScoreRange> {
    let (min, minex) = parse_score_item(min)?;
    let (max, maxex) = parse_score_item(max)?;
    Some(ScoreRange {
        min,
        max,
        minex,
        maxex,
    })
}

fn parse_lex_item(b: &[u8]) -> Option<LexBound> {
    match b.first()? {
        b'+' if b.len() == 1 => Some(LexBound::PosInf),
        b'-' if b.len() == 1 => Some(LexBound::NegInf),
        b'(' => Some(LexBound::Excl(b[1..].to_vec())),
        b'[' => Some(LexBound::Incl(b[1..].to_vec())),
        _ => None,
    }
}

/// zslParseLexRange.
pub fn parse_lex_range(min: &[u8], max: &[u8]) -> Option<LexRange> {
    Some(LexRange {
        min: parse_lex_item(min)?,
        max: parse_lex_item(max)?,
    })
}

/// Clamps a rank range as Redis does; None when empty. Inclusive result.
fn clamp_ranks(mut start: i64, mut end: i64, len: usize) -> Option<(usize, usize)> {
    let llen = len as i64;
    if start < 0 {
        start += llen;
    }
    if end < 0 {
        end += llen;
    }
    if start < 0 {
        start = 0;
    }
    if start > end || start >= llen {
        return None;
    }
    if end >= llen {
        end = llen - 1;
    }
    Some((start as usize, end as usize))
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum By {
    Auto,
    Rank,
    Score,
    Lex,
}

/// zrangeGenericCommand. `at` is the index of the source key; `store` the
/// destination of ZRANGESTORE.
fn zrange_generic(
    ctx: &mut Ctx<'_>,
    argv: &[Bytes],
    at: usize,
    store: Option<&Bytes>,
    mut by: By,
    rev: Option<bool>,
) -> CmdResult {
    let key = &argv[at];
    let (mut minidx, mut maxidx) = (at + 1, at + 2);
    let (mut withscores, mut offset, mut limit) = (false, 0i64, -1i64);
    let mut dir = rev;
    let mut j = at + 3;
    while j < argv.len() {
        let left = argv.len() - j - 1;
        let a = &argv[j][..];
        if store.is_none() && eq_ic(a, "withscores") {
            withscores = true;
        } else if eq_ic(a, "limit") && left >= 2 {
            offset = arg_i64(&argv[j + 1])?;
            limit = arg_i64(&argv[j + 2])?;
            j += 2;
        } else if dir.is_none() && eq_ic(a, "rev") {
            dir = Some(true);
        } else if by == By::Auto && eq_ic(a, "bylex") {
            by = By::Lex;
        } else if by == By::Auto && eq_ic(a, "byscore") {
            by = By::Score;
        } else {
            return err(error::SYNTAX);
        }
        j += 1;
    }
    let rev = dir.unwrap_or(false);
    if by == By::Auto {
        by = By::Rank;
    }
    if limit != -1 && by == By::Rank {
        return err(
            "ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX",
        );
    }
    if withscores && by == By::Lex {
        return err("ERR syntax error, WITHSCORES not supported in combination with BYLEX");
    }
    if rev && by != By::Rank {
        std::mem::swap(&mut minidx, &mut maxidx);
    }
    let (mut rstart, mut rend) = (0, 0);
    let mut srange = None;
    let mut lrange = None;
    match by {
        By::Score => {
            srange = Some(parse_score_range(&argv[minidx], &argv[maxidx]).ok_or(BAD_SCORE_RANGE)?)
        }
        By::Lex => {
            lrange = Some(parse_lex_range(&argv[minidx], &argv[maxidx]).ok_or(BAD_LEX_RANGE)?)
        }
        _ => {
            rstart = arg_i64(&argv[minidx])?;
            rend = arg_i64(&argv[maxidx])?;
        }
    }
    let Some(z) = zget(ctx.ks, ctx.db, key, false)? else {
        match store {
            Some(dst) => store_result(ctx, dst, None),
            None => ctx.out.array(0),
        }
        return Ok(());
    };
    // The ascending rank interval, then offset/limit along the direction.
    let (start, end, skip, take) = match by {
        By::Rank => match clamp_ranks(rstart, rend, z.len()) {
            None => (0, 0, 0, 0),
            Some((s, e)) => {
                let (s, e) = if rev {
                    (z.len() - 1 - e, z.len() - 1 - s)
                } else {
                    (s, e)
                };
                (s, e + 1, 0, usize::MAX)
            }
        },
        _ => {
            let (s, e) = match (&srange, &lrange) {
                (Some(r), _) => z.score_ranks(r),
                (_, Some(r)) => z.lex_ranks(r),
                _ => (0, 0),
            };
            if offset < 0 {
                (0, 0, 0, 0)
            } else {
                let take = if limit < 0 {
                    usize::MAX
                } else {
                    limit as usize
                };
                (s, e, offset.min(e as i64) as usize, take)
            }
        }
    };
    let n = (end - start).saturating_sub(skip).min(take);
    let items = z.range(start, end, rev).skip(skip).take(n);
    if let Some(dst) = store {
        let lim = Limits::from_config(ctx.cfg);
        let mut out = ZSet::new();
        for (m, s) in items {
            out.insert(&m, s, &lim);
        }
        store_result(ctx, dst, Some(out));
        return Ok(());
    }
    let resp3 = ctx.out.resp > 2;
    ctx.out.array(if withscores && !resp3 { n * 2 } else { n });
    for (m, s) in items {
        if withscores && resp3 {
            ctx.out.array(2);
        }
        ctx.out.bulk(&m);
        if withscores {
            ctx.out.double(s);
        }
    }
    Ok(())
}

/// Stores a computed sorted set at `dst` (or deletes `dst` when empty) and
/// replies with its size, as the *STORE commands do.
pub fn store_zset(ctx: &mut Ctx<'_>, dst: &Bytes, z: Option<ZSet>, event: &'static str) {
    match z.filter(|z| !z.is_empty()) {
        Some(z) => {
            let n = z.len();
            ctx.ks.set_key(ctx.db, dst, Value::ZSet(z), false);
            ctx.out.int(n as i64);
            ctx.notify(NOTIFY_ZSET, event, dst);
            ctx.dirty += 1;
        }
        None => {
            ctx.out.int(0);
            if ctx.ks.delete(ctx.db, dst) {
                ctx.written(dst, NOTIFY_GENERIC, "del");
            }
        }
    }
}

fn store_result(ctx: &mut Ctx<'_>, dst: &Bytes, z: Option<ZSet>) {
    store_zset(ctx, dst, z, "zrangestore");
}

pub fn zrange(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    zrange_generic(ctx, argv, 1, None, By::Auto, None)
}

pub fn zrangestore(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    zrange_generic(ctx, argv, 2, Some(&argv[1]), By::Auto, None)
}

pub fn zrevrange(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    zrange_generic(ctx, argv, 1, None, By::Rank, Some(true))
}

pub fn zrangebyscore(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    zrange_generic(ctx, argv, 1, None, By::Score, Some(false))
}

pub fn zrevrangebyscore(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    zrange_generic(ctx, argv, 1, None, By::Score, Some(true))
}

pub fn zrangebylex(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    zrange_generic(ctx, argv, 1, None, By::Lex, Some(false))
}

pub fn zrevrangebylex(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    zrange_generic(ctx, argv, 1, None, By::Lex, Some(true))
}

pub fn zcount(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    let r = parse_score_range(&argv[2], &argv[3]).ok_or(BAD_SCORE_RANGE)?;
    let n = zget(ctx.ks, ctx.db, &argv[1], false)?.map_or(0, |z| {
        let (a, b) = z.score_ranks(&r);
        b - a
    });
    ctx.out.int(n as i64);
    Ok(())
}

pub fn zlexcount(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    let r = parse_lex_range(&argv[2], &argv[3]).ok_or(BAD_LEX_RANGE)?;
    let n = zget(ctx.ks, ctx.db, &argv[1], false)?.map_or(0, |z| {
        let (a, b) = z.lex_ranks(&r);
        b - a
    });
    ctx.out.int(n as i64);
    Ok(())
}

fn zremrange_generic(ctx: &mut Ctx<'_>, argv: &[Bytes], by: By) -> CmdResult {
    let key = &argv[1];
    let (mut s, mut e) = (0, 0);
    let (mut srange, mut lrange) = (None, None);
    match by {
        By::Score => srange = Some(parse_score_range(&argv[2], &argv[3]).ok_or(BAD_SCORE_RANGE)?),
        By::Lex => lrange = Some(parse_lex_range(&argv[2], &argv[3]).ok_or(BAD_LEX_RANGE)?),
        _ => {
            s = arg_i64(&argv[2])?;
            e = arg_i64(&argv[3])?;
        }
    }
    let Some(z) = zget(ctx.ks, ctx.db, key, true)? else {
        ctx.out.int(0);
        return Ok(());
    };
    let (start, end) = match (&srange, &lrange) {
        (Some(r), _) => z.score_ranks(r),
        (_, Some(r)) => z.lex_ranks(r),
        _ => match clamp_ranks(s, e, z.len()) {
            Some((a, b)) => (a, b + 1),
            None => (0, 0),
        },
    };
    let n = z.remove_ranks(start, end);
    let event = match by {
        By::Score => "zremrangebyscore",
        By::Lex => "zremrangebylex",
        _ => "zremrangebyrank",
    };
    after_remove(ctx, key, event, n);
    ctx.out.int(n as i64);
    Ok(())
}

pub fn zremrangebyrank(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    zremrange_generic(ctx, argv, By::Rank)
}

pub fn zremrangebyscore(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    zremrange_generic(ctx, argv, By::Score)
}

pub fn zremrangebylex(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    zremrange_generic(ctx, argv, By::Lex)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges() {
        assert!(parse_score_range(b"(1.5", b"+inf").is_some());
        assert!(parse_score_range(b"x", b"1").is_none());
        assert!(parse_score_range(b"(nan", b"1").is_none());
        let r = parse_score_range(b"", b"1e400").expect("strtod");
        assert_eq!((r.min, r.max), (0.0, f64::INFINITY));
        assert!(parse_lex_range(b"-", b"+").is_some());
        assert!(parse_lex_range(b"+a", b"+").is_none());
        assert!(parse_lex_range(b"a", b"+").is_none());
        assert_eq!(clamp_ranks(-2, -1, 5), Some((3, 4)));
        assert_eq!(clamp_ranks(3, 1, 5), None);
    }
}
