//! XREAD and XREADGROUP (xreadCommand), served at once when a stream has
//! entries past the requested ID, else blocked (`Effect::BlockStream`) in
//! the server's FIFO blocking machinery until an XADD makes a key ready;
//! then the server checks `check_ready` and re-runs the command for that
//! one key (`Ctx::serve`). Deliveries to a group are propagated as Redis
//! 7.0 does: XCLAIM ... FORCE JUSTID LASTID per entry, XGROUP SETID after
//! NOACK reads, XGROUP CREATECONSUMER for consumers NOACK creates.

use super::t_stream::{lookup, parse_strict_id, peek, reply_entry, reply_id, Deferred};
use super::{arg_i64, eq_ic, Ctx, Effect};
use crate::config::NOTIFY_STREAM;
use crate::db::{Keyspace, Value};
use crate::error::{self, err, CmdError, CmdResult};
use crate::resp::Out;
use crate::types::stream::{Stream, StreamId};
use bytes::Bytes;

/// XREAD's COUNT when a client blocks without one.
const BLOCKED_DEFAULT_COUNT: usize = 1000;

/// The consumer group side of a blocked XREADGROUP.
#[derive(Clone, Debug)]
pub struct GroupWait {
    pub group: Bytes,
    pub consumer: Bytes,
    pub noack: bool,
}

/// What a client blocked on streams waits for: per key (in the order of
/// the blocked keys) the ID entries must follow; for a group, the group's
/// last delivered ID at serving time instead.
#[derive(Clone, Debug)]
pub struct StreamWait {
    pub ids: Vec<StreamId>,
    pub count: usize,
    pub group: Option<GroupWait>,
}

/// A blocked client about to be served from one ready key.
#[derive(Clone, Debug)]
pub struct StreamServe {
    pub key: Bytes,
    pub gt: StreamId,
    pub count: usize,
    pub group: Option<GroupWait>,
}

/// What a ready key means for one client blocked on it.
pub enum Readiness {
    /// Nothing for this client yet: it stays blocked.
    Wait,
    Serve(StreamServe),
    /// Unblocked with this error (the key or the group is gone).
    Fail(&'static str),
}

/// serveClientsBlockedOnStreamKey / unblockDeletedStreamReadgroupClients:
/// what the client blocked on `key` (the `index`-th of its keys) gets now.
pub fn check_ready(
    ks: &Keyspace,
    db: usize,
    key: &[u8],
    index: usize,
    wait: &StreamWait,
) -> Readiness {
    let val = if ks.key_is_expired(db, key) {
        None
    } else {
        ks.db(db).dict.get(key)
    };
    let Some(Value::Stream(s)) = val else {
        return match wait.group {
            Some(_) => Readiness::Fail("UNBLOCKED the stream key no longer exists"),
            None => Readiness::Wait,
        };
    };
    let gt = match &wait.group {
        Some(g) => match s.cgroups.get(&g.group[..]) {
            Some(cg) => cg.last_id,
            None => {
                return Readiness::Fail(
                    "NOGROUP the consumer group this client was blocked on no longer exists",
                )
            }
        },
        None => wait.ids.get(index).copied().unwrap_or(StreamId::MAX),
    };
    if s.last_id > gt {
        Readiness::Serve(StreamServe {
            key: Bytes::copy_from_slice(key),
            gt,
            count: wait.count,
            group: wait.group.clone(),
        })
    } else {
        Readiness::Wait
    }
}

pub fn xread(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    xread_generic(ctx, argv, false)
}

pub fn xreadgroup(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    xread_generic(ctx, argv, true)
}

/// The propagated form of a delivery (streamPropagateXCLAIM).
fn xclaim_argv(
    key: &Bytes,
    group: &Bytes,
    consumer: &[u8],
    id: StreamId,
    time: i64,
    count: u64,
    last: StreamId,
) -> Vec<Bytes> {
    vec![
        Bytes::from_static(b"XCLAIM"),
        key.clone(),
        group.clone(),
        Bytes::copy_from_slice(consumer),
        Bytes::from_static(b"0"),
        id.to_bytes(),
        Bytes::from_static(b"TIME"),
        Bytes::from(time.to_string()),
        Bytes::from_static(b"RETRYCOUNT"),
        Bytes::from(count.to_string()),
        Bytes::from_static(b"FORCE"),
        Bytes::from_static(b"JUSTID"),
        Bytes::from_static(b"LASTID"),
        last.to_bytes(),
    ]
}

/// XGROUP SETID key group id ENTRIESREAD n (streamPropagateGroupID).
pub(super) fn setid_argv(
    key: &Bytes,
    group: &Bytes,
    last: StreamId,
    entries_read: i64,
) -> Vec<Bytes> {
    vec![
        Bytes::from_static(b"XGROUP"),
        Bytes::from_static(b"SETID"),
        key.clone(),
        group.clone(),
        last.to_bytes(),
        Bytes::from_static(b"ENTRIESREAD"),
        Bytes::from(entries_read.to_string()),
    ]
}

/// Finds or creates the consumer (refreshing its seen time), propagating
/// a creation as XGROUP CREATECONSUMER when `noack` (no XCLAIM will).
fn touch_consumer(ctx: &mut Ctx<'_>, key: &Bytes, group: &Bytes, consumer: &Bytes, noack: bool) {
    let now = ctx.now_ms();
    let Some(s) = peek(ctx.ks, ctx.db, key) else {
        return;
    };
    let Some(g) = s.cgroups.get_mut(&group[..]) else {
        return;
    };
    if let Some(c) = g.consumers.get_mut(&consumer[..]) {
        c.seen_time = now;
        return;
    }
    g.create_consumer(consumer, now);
    ctx.notify(NOTIFY_STREAM, "xgroup-createconsumer", key);
    if noack {
        ctx.propagate_as(vec![
            Bytes::from_static(b"XGROUP"),
            Bytes::from_static(b"CREATECONSUMER"),
            key.clone(),
            group.clone(),
            consumer.clone(),
        ]);
        ctx.dirty += 1;
    }
}

/// streamReplyWithRange from `start` to the end for a group's consumer
/// (or no group): replies the entries, then updates the group and
/// propagates the deliveries.
fn serve_key(ctx: &mut Ctx<'_>, key: &Bytes, start: StreamId, r: Reader<'_>) {
    let Reader { count, group } = r;
    let now = ctx.now_ms();
    let Some(s) = peek(ctx.ks, ctx.db, key) else {
        return;
    };
    let d = Deferred::new(&ctx.out);
    let mut ids = Vec::new();
    for e in s.range(start, StreamId::MAX, false) {
        reply_entry(&mut ctx.out, &e);
        ids.push(e.id);
        if ids.len() == count {
            break;
        }
    }
    d.array(&mut ctx.out, ids.len());
    let Some(gw) = group else {
        return;
    };
    let (added, mut ops) = (s.entries_added, Vec::new());
    let mut propagate_last_id = false;
    // Read counters depend on the stream, not on the group: compute them
    // before borrowing the group.
    let estimates: Vec<(bool, i64)> = ids
        .iter()
        .map(|&id| {
            (
                s.range_has_tombstones(id, StreamId::MAX),
                s.estimate_distance(id),
            )
        })
        .collect();
    let Some(g) = s.cgroups.get_mut(&gw.group[..]) else {
        return;
    };
    for (&id, &(tombstones, estimate)) in ids.iter().zip(&estimates) {
        if id > g.last_id {
            if g.entries_read != -1 && !tombstones {
                g.entries_read = g.entries_read.wrapping_add(1);
            } else if added > 0 {
                g.entries_read = estimate;
            }
            g.last_id = id;
            propagate_last_id |= gw.noack;
        }
        if !gw.noack {
            let nack = g.deliver(id, &gw.consumer, now);
            let (time, cnt) = (nack.delivery_time, nack.delivery_count);
            ops.push(xclaim_argv(
                key,
                &gw.group,
                &gw.consumer,
                id,
                time,
                cnt,
                g.last_id,
            ));
        }
    }
    if propagate_last_id {
        ops.push(setid_argv(key, &gw.group, g.last_id, g.entries_read));
    }
    ctx.dirty += ops.len() as u64;
    for op in ops {
        ctx.propagate_as(op);
    }
}

/// A consumer's own pending entries from `start` (the history, for an
/// XREADGROUP ID other than `>`): deleted entries come back with a null
/// body (streamReplyWithRangeFromConsumerPEL).
fn serve_history(
    out: &mut Out<'_>,
    s: &mut Stream,
    start: StreamId,
    count: usize,
    gw: &GroupWait,
    now: i64,
) {
    let owned: Vec<StreamId> = match s
        .cgroups
        .get(&gw.group[..])
        .and_then(|g| g.consumers.get(&gw.consumer[..]))
    {
        Some(c) => {
            let it = c.pel.range(start..).copied();
            if count == 0 {
                it.collect()
            } else {
                it.take(count).collect()
            }
        }
        None => Vec::new(),
    };
    out.array(owned.len());
    let mut delivered = Vec::new();
    for id in owned {
        match s.range(id, id, false).next() {
            Some(e) => {
                reply_entry(out, &e);
                delivered.push(id);
            }
            None => {
                out.array(2);
                reply_id(out, id);
                out.null_array();
            }
        }
    }
    if let Some(g) = s.cgroups.get_mut(&gw.group[..]) {
        for id in delivered {
            if let Some(n) = g.pel.get_mut(&id) {
                n.delivery_time = now;
                n.delivery_count += 1;
            }
        }
    }
}

/// How a read serves a key: its COUNT (0: all) and its group, if any.
#[derive(Clone, Copy)]
struct Reader<'a> {
    count: usize,
    group: Option<&'a GroupWait>,
}

/// Writes one key's part of the reply: `[key, entries]` (RESP2) or the
/// map pair (RESP3), serving history or new entries.
fn reply_key(ctx: &mut Ctx<'_>, key: &Bytes, gt: StreamId, history: bool, r: Reader<'_>) {
    let Reader { count, group } = r;
    if ctx.out.resp == 2 {
        ctx.out.array(2);
    }
    ctx.out.bulk(key);
    if let Some(gw) = group {
        touch_consumer(ctx, key, &gw.group, &gw.consumer, gw.noack);
    }
    let start = gt.incr().unwrap_or(StreamId::MIN);
    match group {
        Some(gw) if history => {
            let now = ctx.now_ms();
            if let Some(s) = peek(ctx.ks, ctx.db, key) {
                serve_history(&mut ctx.out, s, start, count, gw, now);
            }
        }
        _ => serve_key(ctx, key, start, r),
    }
}

/// A blocked client served from the key that became ready.
fn serve_blocked(ctx: &mut Ctx<'_>, req: StreamServe) -> CmdResult {
    if ctx.out.resp == 2 {
        ctx.out.array(1);
    } else {
        ctx.out.map(1);
    }
    let StreamServe {
        key,
        gt,
        count,
        group,
    } = req;
    let group = group.as_ref();
    reply_key(ctx, &key, gt, false, Reader { count, group });
    Ok(())
}

fn xread_generic(ctx: &mut Ctx<'_>, argv: &[Bytes], xreadgroup: bool) -> CmdResult {
    if let Some(req) = ctx.serve.take() {
        return serve_blocked(ctx, *req);
    }
    let argc = argv.len();
    let mut timeout: Option<i64> = None;
    let mut count: i64 = 0;
    let mut streams_arg = 0;
    let mut streams_count = 0;
    let mut noack = false;
    let mut group: Option<(Bytes, Bytes)> = None;
    let mut i = 1;
    while i < argc {
        let more = argc - i - 1;
        let o = &argv[i][..];
        if eq_ic(o, "block") && more > 0 {
            if ctx.from_script {
                return Err(CmdError::msg(format!(
                    "ERR {} command is not allowed with BLOCK option from scripts",
                    String::from_utf8_lossy(&argv[0])
                )));
            }
            i += 1;
            let t = crate::encoding::numbers::string2ll(&argv[i]).ok_or(CmdError::from(
                "ERR timeout is not an integer or out of range",
            ))?;
            if t < 0 {
                return err("ERR timeout is negative");
            }
            timeout = Some(if t > 0 {
                t.saturating_add(ctx.now_ms())
            } else {
                0
            });
        } else if eq_ic(o, "count") && more > 0 {
            i += 1;
            count = arg_i64(&argv[i])?.max(0);
        } else if eq_ic(o, "streams") && more > 0 {
            streams_arg = i + 1;
            streams_count = argc - streams_arg;
            if streams_count % 2 != 0 {
                return err("ERR Unbalanced XREAD list of streams: for each stream key an ID or '$' must be specified.");
            }
            streams_count /= 2;
            break;
        } else if eq_ic(o, "group") && more >= 2 {
            if !xreadgroup {
                return err("ERR The GROUP option is only supported by XREADGROUP. You called XREAD instead.");
            }
            group = Some((argv[i + 1].clone(), argv[i + 2].clone()));
            i += 2;
        } else if eq_ic(o, "noack") {
            if !xreadgroup {
                return err("ERR The NOACK option is only supported by XREADGROUP. You called XREAD instead.");
            }
            noack = true;
        } else {
            return err(error::SYNTAX);
        }
        i += 1;
    }
    if streams_arg == 0 {
        return err(error::SYNTAX);
    }
    if xreadgroup && group.is_none() {
        return err("ERR Missing GROUP option for XREADGROUP");
    }
    let keys = &argv[streams_arg..streams_arg + streams_count];
    let id_args = &argv[streams_arg + streams_count..];
    let mut ids = Vec::with_capacity(streams_count);
    for (key, id_arg) in keys.iter().zip(id_args) {
        let s = lookup(ctx.ks, ctx.db, key, false)?;
        if let Some((gname, _)) = &group {
            if s.as_ref()
                .is_none_or(|s| !s.cgroups.contains_key(&gname[..]))
            {
                return Err(CmdError::msg(format!(
                    "NOGROUP No such key '{}' or consumer group '{}' in XREADGROUP with GROUP option",
                    String::from_utf8_lossy(key),
                    String::from_utf8_lossy(gname)
                )));
            }
        }
        if &id_arg[..] == b"$" {
            if xreadgroup {
                return err("ERR The $ ID is meaningless in the context of XREADGROUP: you want to read the history of this consumer by specifying a proper ID, or use the > ID to get new messages. The $ ID would just return an empty result set.");
            }
            ids.push(s.map_or(StreamId::MIN, |s| s.last_id));
        } else if &id_arg[..] == b">" {
            if !xreadgroup {
                return err("ERR The > ID can be specified only when calling XREADGROUP using the GROUP <group> <consumer> option.");
            }
            ids.push(StreamId::MAX);
        } else {
            ids.push(parse_strict_id(id_arg, 0)?);
        }
    }
    let gw = group.map(|(group, consumer)| GroupWait {
        group,
        consumer,
        noack,
    });
    // Serve synchronously what can be.
    let count = count as usize;
    let mut d: Option<Deferred> = None;
    let mut served = 0;
    for (i, key) in keys.iter().enumerate() {
        let Some(s) = lookup(ctx.ks, ctx.db, key, false)? else {
            continue;
        };
        let mut gt = ids[i];
        let mut history = false;
        let sync = match &gw {
            // An ID other than `>`: the consumer's own history.
            Some(_) if gt != StreamId::MAX => {
                history = true;
                true
            }
            Some(gw) => {
                let last = s
                    .cgroups
                    .get(&gw.group[..])
                    .map_or(StreamId::MAX, |g| g.last_id);
                if s.length > 0 && s.last_valid_id() > last {
                    gt = last;
                    true
                } else {
                    false
                }
            }
            None => s.length > 0 && s.last_valid_id() > gt,
        };
        if !sync {
            continue;
        }
        if d.is_none() {
            d = Some(Deferred::new(&ctx.out));
        }
        served += 1;
        let group = gw.as_ref();
        reply_key(ctx, key, gt, history, Reader { count, group });
    }
    if let Some(d) = d {
        if ctx.out.resp == 2 {
            d.array(&mut ctx.out, served);
        } else {
            d.map(&mut ctx.out, served);
        }
        return Ok(());
    }
    match timeout {
        Some(deadline) if !ctx.no_block => {
            ctx.effect = Effect::BlockStream {
                keys: keys.to_vec(),
                deadline_ms: deadline,
                wait: Box::new(StreamWait {
                    ids,
                    count: if count > 0 {
                        count
                    } else {
                        BLOCKED_DEFAULT_COUNT
                    },
                    group: gw,
                }),
            };
        }
        _ => ctx.out.null_array(),
    }
    Ok(())
}
