//! Sorted set commands, part three: the set algebra of
//! zunionInterDiffGenericCommand (ZUNION, ZINTER, ZDIFF, their STORE forms
//! and ZINTERCARD), with WEIGHTS and AGGREGATE; plain sets count as sorted
//! sets whose scores are all 1.

use super::t_zset_range::store_zset;
use super::{arg_i64, eq_ic, Ctx};
use crate::db::Value;
use crate::dict::Dict;
use crate::encoding::numbers::string2d;
use crate::error::{self, err, CmdError, CmdResult};

use crate::types::{Limits, Set, ZSet};
use bytes::Bytes;
use std::borrow::Cow;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Op {
    Union,
    Inter,
    Diff,
}

#[derive(Clone, Copy)]
enum Aggr {
    Sum,
    Min,
    Max,
}

enum Src<'a> {
    Missing,
    Z(&'a ZSet),
    S(&'a Set),
}

impl Src<'_> {
    fn len(&self) -> usize {
        match self {
            Src::Missing => 0,
            Src::Z(z) => z.len(),
            Src::S(s) => s.len(),
        }
    }

    fn find(&self, m: &[u8]) -> Option<f64> {
        match self {
            Src::Missing => None,
            Src::Z(z) => z.score(m),
            Src::S(s) => s.contains(m).then_some(1.0),
        }
    }

    fn iter(&self) -> Box<dyn Iterator<Item = (Cow<'_, [u8]>, f64)> + '_> {
        match self {
            Src::Missing => Box::new(std::iter::empty()),
            Src::Z(z) => z.iter(),
            Src::S(s) => Box::new(s.iter().map(|m| (m, 1.0))),
        }
    }
}

/// zunionInterAggregate.
fn aggregate(target: &mut f64, val: f64, a: Aggr) {
    match a {
        Aggr::Sum => {
            *target += val;
            if target.is_nan() {
                *target = 0.0;
            }
        }
        Aggr::Min => {
            if val < *target {
                *target = val
            }
        }
        Aggr::Max => {
            if val > *target {
                *target = val
            }
        }
    }
}

/// zunionInterDiffGenericCommand. `nk` is the index of numkeys.
fn zsetop_generic(
    ctx: &mut Ctx<'_>,
    argv: &[Bytes],
    dst: Option<&Bytes>,
    nk: usize,
    op: Op,
    card_only: bool,
    name: &str,
) -> CmdResult {
    let setnum = arg_i64(&argv[nk])?;
    if setnum < 1 {
        return Err(CmdError::msg(format!(
            "ERR at least 1 input key is needed for '{name}' command"
        )));
    }
    if setnum > (argv.len() - nk - 1) as i64 {
        return err(error::SYNTAX);
    }
    let setnum = setnum as usize;
    let keys = &argv[nk + 1..nk + 1 + setnum];
    // First pass: expiry and types (lookups need &mut); remember which exist.
    let mut exists = Vec::with_capacity(setnum);
    for k in keys {
        match ctx.ks.lookup_read(ctx.db, k).map(|e| e.val as &Value) {
            None => exists.push(false),
            Some(Value::ZSet(_)) | Some(Value::Set(_)) => exists.push(true),
            Some(_) => return err(error::WRONGTYPE),
        }
    }
    let mut weights = vec![1.0f64; setnum];
    let mut aggr = Aggr::Sum;
    let mut withscores = false;
    let mut limit = 0i64;
    let mut j = nk + 1 + setnum;
    while j < argv.len() {
        let remaining = argv.len() - j;
        let a = &argv[j][..];
        if op != Op::Diff && !card_only && remaining > setnum && eq_ic(a, "weights") {
            for (i, w) in weights.iter_mut().enumerate() {
                *w = string2d(&argv[j + 1 + i])
                    .ok_or(CmdError::from("ERR weight value is not a float"))?;
            }
            j += 1 + setnum;
        } else if op != Op::Diff && !card_only && remaining >= 2 && eq_ic(a, "aggregate") {
            let v = &argv[j + 1][..];
            aggr = if eq_ic(v, "sum") {
                Aggr::Sum
            } else if eq_ic(v, "min") {
                Aggr::Min
            } else if eq_ic(v, "max") {
                Aggr::Max
            } else {
                return err(error::SYNTAX);
            };
            j += 2;
        } else if dst.is_none() && !card_only && eq_ic(a, "withscores") {
            withscores = true;
            j += 1;
        } else if card_only && remaining >= 2 && eq_ic(a, "limit") {
            const NEG: &str = "ERR LIMIT can't be negative";
            limit = arg_i64(&argv[j + 1]).map_err(|_| CmdError::from(NEG))?;
            if limit < 0 {
                return err(NEG);
            }
            j += 2;
        } else {
            return err(error::SYNTAX);
        }
    }
    let lim = Limits::from_config(ctx.cfg);
    let dict = &ctx.ks.db(ctx.db).dict;
    let mut src: Vec<(Src<'_>, f64)> = keys
        .iter()
        .zip(&exists)
        .zip(&weights)
        .map(|((k, &ex), &w)| {
            let s = match dict.get(k).filter(|_| ex) {
                Some(Value::ZSet(z)) => Src::Z(z),
                Some(Value::Set(s)) => Src::S(s),
                _ => Src::Missing,
            };
            (s, w)
        })
        .collect();
    if op != Op::Diff {
        src.sort_by_key(|s| s.0.len());
    }
    let mut result = ZSet::new_skiplist();
    let mut cardinality = 0usize;
    match op {
        Op::Union => {
            let mut acc: Dict<f64> = Dict::new();
            for (s, w) in &src {
                for (m, sc) in s.iter() {
                    let mut v = w * sc;
                    if v.is_nan() {
                        v = 0.0;
                    }
                    match acc.get_mut(&m) {
                        Some(t) => aggregate(t, v, aggr),
                        None => acc.insert_new(&m, v),
                    }
                }
            }
            for (m, sc) in acc.iter() {
                result.insert(m, *sc, &lim);
            }
        }
        Op::Inter => {
            if let Some(((first, w0), rest)) = src.split_first() {
                'outer: for (m, sc) in first.iter() {
                    let mut score = w0 * sc;
                    if score.is_nan() {
                        score = 0.0;
                    }
                    for (s, w) in rest {
                        match s.find(&m) {
                            Some(v) => aggregate(&mut score, v * w, aggr),
                            None => continue 'outer,
                        }
                    }
                    if card_only {
                        cardinality += 1;
                        if limit > 0 && cardinality as i64 >= limit {
                            break;
                        }
                    } else {
                        result.insert(&m, score, &lim);
                    }
                }
            }
        }
        Op::Diff => {
            if let Some(((first, _), rest)) = src.split_first() {
                for (m, sc) in first.iter() {
                    if rest.iter().all(|(s, _)| s.find(&m).is_none()) {
                        result.insert(&m, sc, &lim);
                    }
                }
            }
        }
    }
    drop(src);
    if let Some(dst) = dst {
        result.convert_to_listpack_if_needed(&lim);
        let event = match op {
            Op::Union => "zunionstore",
            Op::Inter => "zinterstore",
            Op::Diff => "zdiffstore",
        };
        store_zset(ctx, dst, Some(result), event);
        return Ok(());
    }
    if card_only {
        ctx.out.int(cardinality as i64);
        return Ok(());
    }
    let resp3 = ctx.out.resp > 2;
    let n = result.len();
    ctx.out.array(if withscores && !resp3 { n * 2 } else { n });
    for (m, s) in result.iter() {
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

pub fn zunion(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    zsetop_generic(ctx, argv, None, 1, Op::Union, false, "zunion")
}

pub fn zinter(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    zsetop_generic(ctx, argv, None, 1, Op::Inter, false, "zinter")
}

pub fn zdiff(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    zsetop_generic(ctx, argv, None, 1, Op::Diff, false, "zdiff")
}

pub fn zintercard(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    zsetop_generic(ctx, argv, None, 1, Op::Inter, true, "zintercard")
}

pub fn zunionstore(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    zsetop_generic(
        ctx,
        argv,
        Some(&argv[1]),
        2,
        Op::Union,
        false,
        "zunionstore",
    )
}

pub fn zinterstore(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    zsetop_generic(
        ctx,
        argv,
        Some(&argv[1]),
        2,
        Op::Inter,
        false,
        "zinterstore",
    )
}

pub fn zdiffstore(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    zsetop_generic(ctx, argv, Some(&argv[1]), 2, Op::Diff, false, "zdiffstore")
}
