//! Blocking list commands (BLPOP, BRPOP, BLMOVE, BRPOPLPUSH, BLMPOP): serve
//! at once like their non-blocking forms when a key has data (and propagate
//! that form), otherwise ask the server to block the client
//! (`Effect::Block`) or, inside MULTI or from the master link, reply the
//! timeout value straight away.

use super::t_list::*;
use super::{Ctx, Effect};
use crate::error::CmdResult;
use bytes::Bytes;

/// Blocks on `keys` or, where blocking is not allowed, replies the timeout.
fn block_or_timeout(ctx: &mut Ctx<'_>, keys: &[Bytes], deadline_ms: i64, null_bulk: bool) {
    if ctx.no_block {
        if null_bulk {
            ctx.out.null();
        } else {
            ctx.out.null_array();
        }
        return;
    }
    ctx.effect = Effect::Block {
        keys: keys.to_vec(),
        deadline_ms,
    };
}

fn bpop_generic(ctx: &mut Ctx<'_>, argv: &[Bytes], wh: Where) -> CmdResult {
    let deadline = parse_timeout(&argv[argv.len() - 1], ctx.now_ms())?;
    let keys = &argv[1..argv.len() - 1];
    for key in keys {
        let Some(l) = list_mut(ctx.ks, ctx.db, key)? else {
            continue;
        };
        let v = if wh == Where::Head {
            l.pop_front()
        } else {
            l.pop_back()
        };
        let Some(v) = v else { continue };
        ctx.out.array(2);
        ctx.out.bulk(key);
        ctx.out.bulk(&v);
        elements_removed(ctx, key, wh, 1);
        ctx.propagate_as(vec![wh.pop_cmd(), key.clone()]);
        return Ok(());
    }
    block_or_timeout(ctx, keys, deadline, false);
    Ok(())
}

pub fn blpop(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    bpop_generic(ctx, argv, Where::Head)
}
pub fn brpop(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    bpop_generic(ctx, argv, Where::Tail)
}

fn blmove_generic(
    ctx: &mut Ctx<'_>,
    argv: &[Bytes],
    from: Where,
    to: Where,
    deadline: i64,
) -> CmdResult {
    let (src, dst) = (&argv[1], &argv[2]);
    if list_mut(ctx.ks, ctx.db, src)?.is_none() {
        block_or_timeout(ctx, std::slice::from_ref(src), deadline, true);
        return Ok(());
    }
    let dirty = ctx.dirty;
    lmove_generic(ctx, src, dst, from, to)?;
    if ctx.dirty > dirty {
        ctx.propagate_as(vec![
            Bytes::from_static(b"LMOVE"),
            src.clone(),
            dst.clone(),
            from.word(),
            to.word(),
        ]);
    }
    Ok(())
}

pub fn blmove(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    let from = arg_where(&argv[3])?;
    let to = arg_where(&argv[4])?;
    let deadline = parse_timeout(&argv[5], ctx.now_ms())?;
    blmove_generic(ctx, argv, from, to, deadline)
}

pub fn brpoplpush(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    let deadline = parse_timeout(&argv[3], ctx.now_ms())?;
    let dirty = ctx.dirty;
    let (src, dst) = (&argv[1], &argv[2]);
    if list_mut(ctx.ks, ctx.db, src)?.is_none() {
        block_or_timeout(ctx, std::slice::from_ref(src), deadline, true);
        return Ok(());
    }
    lmove_generic(ctx, src, dst, Where::Tail, Where::Head)?;
    if ctx.dirty > dirty {
        ctx.propagate_as(vec![
            Bytes::from_static(b"RPOPLPUSH"),
            src.clone(),
            dst.clone(),
        ]);
    }
    Ok(())
}

pub fn blmpop(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    let (keys, wh, count) = parse_mpop(argv, 2)?;
    let deadline = parse_timeout(&argv[1], ctx.now_ms())?;
    if !mpop_serve(ctx, keys, wh, count)? {
        block_or_timeout(ctx, keys, deadline, false);
    }
    Ok(())
}
