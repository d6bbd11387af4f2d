//! Stream consumer group commands (t_stream.c): XGROUP (CREATE, SETID,
//! DESTROY, CREATECONSUMER, DELCONSUMER, HELP), XACK, XPENDING, XCLAIM and
//! XAUTOCLAIM. Claims propagate as Redis 7.0 does: one
//! `XCLAIM key group consumer 0 id TIME t RETRYCOUNT n FORCE JUSTID LASTID l`
//! per entry claimed or dropped, XGROUP SETID when only the last ID moved.

use super::t_stream::{
    lookup, parse_id, parse_range_end, parse_range_start, parse_strict_id, peek, reply_entry,
    reply_id, Deferred,
};
use super::t_stream_read::setid_argv;
use super::{arg_i64, eq_ic, Ctx};
use crate::config::NOTIFY_STREAM;
use crate::db::Value;
use crate::error::{self, err, unknown_subcommand, CmdError, CmdResult};
use crate::types::stream::{Stream, StreamId};
use crate::types::stream_cg::{Group, Nack};
use bytes::Bytes;

fn nogroup(key: &[u8], group: &[u8]) -> CmdError {
    CmdError::msg(format!(
        "NOGROUP No such key '{}' or consumer group '{}'",
        String::from_utf8_lossy(key),
        String::from_utf8_lossy(group)
    ))
}

/// `ERR unknown subcommand or wrong number of arguments for 'X'. Try CMD HELP.`
pub(super) fn subcommand_syntax(argv: &[Bytes]) -> CmdError {
    let sub: String = String::from_utf8_lossy(&argv[1])
        .chars()
        .take(128)
        .collect();
    CmdError::msg(format!(
        "ERR unknown subcommand or wrong number of arguments for '{}'. Try {} HELP.",
        sub,
        String::from_utf8_lossy(&argv[0]).to_ascii_uppercase()
    ))
}

/// Checks a container's subcommand and its arity, as Redis does before
/// running it.
pub(super) fn check_subcommand(argv: &[Bytes], name: &str, subs: &[(&str, i32)]) -> CmdResult {
    let sub = &argv[1];
    let found = subs.iter().find(|(s, _)| eq_ic(sub, s));
    let ok = found.is_some_and(|&(_, a)| {
        let n = argv.len() as i32;
        (a > 0 && n == a) || (a < 0 && n >= -a)
    });
    if ok {
        Ok(())
    } else {
        Err(unknown_subcommand(sub, name))
    }
}

/// The propagated XCLAIM that records a NACK's state (streamPropagateXCLAIM).
fn xclaim_op(key: &Bytes, group: &Bytes, id_arg: Bytes, nack: &Nack, last: StreamId) -> Vec<Bytes> {
    vec![
        Bytes::from_static(b"XCLAIM"),
        key.clone(),
        group.clone(),
        Bytes::copy_from_slice(nack.consumer.as_deref().unwrap_or(b"")),
        Bytes::from_static(b"0"),
        id_arg,
        Bytes::from_static(b"TIME"),
        Bytes::from(nack.delivery_time.to_string()),
        Bytes::from_static(b"RETRYCOUNT"),
        Bytes::from(nack.delivery_count.to_string()),
        Bytes::from_static(b"FORCE"),
        Bytes::from_static(b"JUSTID"),
        Bytes::from_static(b"LASTID"),
        last.to_bytes(),
    ]
}

const XGROUP_HELP: &[&str] = &[
    "CREATE <key> <groupname> <id|$> [option]",
    "    Create a new consumer group. Options are:",
    "    * MKSTREAM",
    "      Create the empty stream if it does not exist.",
    "    * ENTRIESREAD entries_read",
    "      Set the group's entries_read counter (internal use).",
    "CREATECONSUMER <key> <groupname> <consumer>",
    "    Create a new consumer in the specified group.",
    "DELCONSUMER <key> <groupname> <consumer>",
    "    Remove the specified consumer.",
    "DESTROY <key> <groupname>",
    "    Remove the specified group.",
    "SETID <key> <groupname> <id|$> [ENTRIESREAD entries_read]",
    "    Set the current group ID and entries_read counter.",
];

/// addReplyHelp: the header, the lines, and the HELP footer.
pub(super) fn reply_help(ctx: &mut Ctx<'_>, argv: &[Bytes], lines: &[&str]) {
    ctx.out.array(lines.len() + 3);
    let cmd = String::from_utf8_lossy(&argv[0]).to_ascii_uppercase();
    ctx.out.simple(&format!(
        "{cmd} <subcommand> [<arg> [value] [opt] ...]. Subcommands are:"
    ));
    for l in lines {
        ctx.out.simple(l);
    }
    ctx.out.simple("HELP");
    ctx.out.simple("    Prints this help.");
}

pub fn xgroup(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    check_subcommand(
        argv,
        "XGROUP",
        &[
            ("create", -5),
            ("setid", -5),
            ("destroy", 4),
            ("createconsumer", 5),
            ("delconsumer", 5),
            ("help", 2),
        ],
    )?;
    let sub = &argv[1];
    let argc = argv.len();
    let mut mkstream = false;
    let mut entries_read: i64 = -1;
    let mut exists = false;
    let mut group_exists = false;
    if argc >= 4 {
        let create = eq_ic(sub, "create");
        let setid = eq_ic(sub, "setid");
        let mut i = 5;
        while i < argc {
            if create && eq_ic(&argv[i], "mkstream") {
                mkstream = true;
                i += 1;
            } else if (create || setid) && eq_ic(&argv[i], "entriesread") && i + 1 < argc {
                entries_read = arg_i64(&argv[i + 1])?;
                if entries_read < 0 && entries_read != -1 {
                    return err("ERR value for ENTRIESREAD must be positive or -1");
                }
                i += 2;
            } else {
                return Err(subcommand_syntax(argv));
            }
        }
        if let Some(s) = lookup(ctx.ks, ctx.db, &argv[2], true)? {
            exists = true;
            group_exists = s.cgroups.contains_key(&argv[3][..]);
        }
    }
    if argc >= 4 && !mkstream {
        if !exists {
            return err("ERR The XGROUP subcommand requires the key to exist. Note that for CREATE you may want to use the MKSTREAM option to create an empty stream automatically.");
        }
        if !group_exists
            && (eq_ic(sub, "setid") || eq_ic(sub, "createconsumer") || eq_ic(sub, "delconsumer"))
        {
            return Err(CmdError::msg(format!(
                "NOGROUP No such consumer group '{}' for key name '{}'",
                String::from_utf8_lossy(&argv[3]),
                String::from_utf8_lossy(&argv[2])
            )));
        }
    }
    let now = ctx.now_ms();
    if argc == 2 && eq_ic(sub, "help") {
        reply_help(ctx, argv, XGROUP_HELP);
    } else if eq_ic(sub, "create") && (5..=8).contains(&argc) {
        let key = &argv[2];
        let id = if &argv[4][..] == b"$" {
            // (Looked up above; later steps peek without counting access.)
            peek(ctx.ks, ctx.db, key).map_or(StreamId::MIN, |s| s.last_id)
        } else {
            parse_strict_id(&argv[4], 0)?
        };
        if !exists {
            ctx.ks
                .add(ctx.db, key, Value::Stream(Box::new(Stream::new())));
            ctx.ks.signal_modified(ctx.db, key);
        }
        let Some(s) = peek(ctx.ks, ctx.db, key) else {
            return Ok(());
        };
        if s.cgroups.contains_key(&argv[3][..]) {
            return err("BUSYGROUP Consumer Group name already exists");
        }
        s.cgroups.insert(
            argv[3].to_vec().into_boxed_slice(),
            Group::new(id, entries_read),
        );
        ctx.out.ok();
        ctx.dirty += 1;
        ctx.notify(NOTIFY_STREAM, "xgroup-create", key);
    } else {
        let (setid, destroy) = (eq_ic(sub, "setid"), eq_ic(sub, "destroy"));
        let create_c = eq_ic(sub, "createconsumer");
        let known = (setid && (argc == 5 || argc == 7))
            || (destroy && argc == 4)
            || ((create_c || eq_ic(sub, "delconsumer")) && argc == 5);
        if !known {
            return Err(subcommand_syntax(argv));
        }
        let key = &argv[2];
        // The key exists (checked above); what changed gives the event.
        let Some(s) = lookup(ctx.ks, ctx.db, key, true)? else {
            return Ok(());
        };
        let (event, reply) = if setid {
            let id = if &argv[4][..] == b"$" {
                s.last_id
            } else {
                parse_id(&argv[4], 0)?
            };
            if let Some(g) = s.cgroups.get_mut(&argv[3][..]) {
                g.last_id = id;
                g.entries_read = entries_read;
            }
            (Some("xgroup-setid"), None)
        } else if destroy {
            let gone = s.cgroups.remove(&argv[3][..]).is_some();
            (gone.then_some("xgroup-destroy"), Some(gone as i64))
        } else if create_c {
            let created = s
                .cgroups
                .get_mut(&argv[3][..])
                .is_some_and(|g| g.create_consumer(&argv[4], now).is_some());
            (
                created.then_some("xgroup-createconsumer"),
                Some(created as i64),
            )
        } else {
            let pending = s
                .cgroups
                .get_mut(&argv[3][..])
                .and_then(|g| g.delete_consumer(&argv[4]));
            (
                pending.map(|_| "xgroup-delconsumer"),
                Some(pending.unwrap_or(0) as i64),
            )
        };
        match reply {
            Some(n) => ctx.out.int(n),
            None => ctx.out.ok(),
        }
        if let Some(event) = event {
            ctx.dirty += 1;
            ctx.notify(NOTIFY_STREAM, event, key);
            if destroy {
                // Its blocked XREADGROUP clients get -NOGROUP.
                ctx.ks.signal_ready_if_blocked(ctx.db, key);
            }
        }
    }
    Ok(())
}

/// XACK key group id [id ...]
pub fn xack(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    let has_group = lookup(ctx.ks, ctx.db, &argv[1], false)?
        .is_some_and(|s| s.cgroups.contains_key(&argv[2][..]));
    if !has_group {
        ctx.out.int(0);
        return Ok(());
    }
    let ids = argv[3..]
        .iter()
        .map(|a| parse_strict_id(a, 0))
        .collect::<Result<Vec<_>, _>>()?;
    let mut acked = 0;
    if let Some(g) = peek(ctx.ks, ctx.db, &argv[1]).and_then(|s| s.cgroups.get_mut(&argv[2][..])) {
        acked = ids.into_iter().filter(|&id| g.ack(id)).count();
    }
    ctx.dirty += acked as u64;
    ctx.out.int(acked as i64);
    Ok(())
}

/// XPENDING key group [[IDLE min-idle-time] start end count [consumer]]
pub fn xpending(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    let argc = argv.len();
    if argc != 3 && !(6..=9).contains(&argc) {
        return err(error::SYNTAX);
    }
    let mut range = None;
    let mut minidle = 0;
    let mut consumer: Option<&Bytes> = None;
    if argc >= 6 {
        let mut startidx = 3;
        if eq_ic(&argv[3], "idle") {
            minidle = arg_i64(&argv[4])?;
            if argc < 8 {
                return err(error::SYNTAX);
            }
            startidx += 2;
        }
        let count = arg_i64(&argv[startidx + 2])?.max(0);
        let start = parse_range_start(&argv[startidx])?;
        let end = parse_range_end(&argv[startidx + 1])?;
        if startidx + 3 < argc {
            consumer = Some(&argv[startidx + 3]);
        }
        range = Some((start, end, count));
    }
    let (key, gname) = (&argv[1], &argv[2]);
    let now = ctx.now_ms();
    let Some(s) = lookup(ctx.ks, ctx.db, key, false)? else {
        return Err(nogroup(key, gname));
    };
    let Some(g) = s.cgroups.get(&gname[..]) else {
        return Err(nogroup(key, gname));
    };
    let out = &mut ctx.out;
    let Some((start, end, mut count)) = range else {
        out.array(4);
        out.int(g.pel.len() as i64);
        match (g.pel.keys().next(), g.pel.keys().next_back()) {
            (Some(&first), Some(&last)) => {
                reply_id(out, first);
                reply_id(out, last);
                let busy: Vec<_> = g.consumers.values().filter(|c| !c.pel.is_empty()).collect();
                out.array(busy.len());
                for c in busy {
                    out.array(2);
                    out.bulk(&c.name);
                    out.bulk_i64(c.pel.len() as i64);
                }
            }
            _ => {
                out.null();
                out.null();
                out.null_array();
            }
        }
        return Ok(());
    };
    let ids: Box<dyn Iterator<Item = StreamId> + '_> = match consumer {
        Some(name) => match g.consumers.get(&name[..]) {
            Some(c) => Box::new(c.pel.range(start..).copied()),
            None => {
                out.array(0);
                return Ok(());
            }
        },
        None => Box::new(g.pel.range(start..).map(|(id, _)| *id)),
    };
    let d = Deferred::new(out);
    let mut n = 0;
    for id in ids {
        if count == 0 || id > end {
            break;
        }
        let Some(nack) = g.pel.get(&id) else { continue };
        if minidle != 0 && now.saturating_sub(nack.delivery_time) < minidle {
            continue;
        }
        n += 1;
        count -= 1;
        out.array(4);
        reply_id(out, id);
        out.bulk(nack.consumer.as_deref().unwrap_or(b""));
        out.int((now.saturating_sub(nack.delivery_time)).max(0));
        out.int(nack.delivery_count as i64);
    }
    d.array(out, n);
    Ok(())
}

/// Finds or creates `name` in the group for a claim (refreshing its seen
/// time); a creation is a write and an event.
fn claim_consumer(ctx: &mut Ctx<'_>, key: &Bytes, gname: &[u8], name: &[u8], now: i64) {
    let mut created = false;
    if let Some(s) = peek(ctx.ks, ctx.db, key) {
        if let Some(g) = s.cgroups.get_mut(gname) {
            match g.consumers.get_mut(name) {
                Some(c) => c.seen_time = now,
                None => created = g.create_consumer(name, now).is_some(),
            }
        }
    }
    if created {
        ctx.dirty += 1;
        ctx.notify(NOTIFY_STREAM, "xgroup-createconsumer", key);
    }
}

/// The claims of one XCLAIM or XAUTOCLAIM: the consumer they go to, how
/// many were replied, and the XCLAIMs that replicate them.
struct Claim<'a> {
    key: &'a Bytes,
    gname: &'a Bytes,
    cname: &'a Bytes,
    justid: bool,
    now: i64,
    consumer_ready: bool,
    replied: usize,
    ops: Vec<Vec<Bytes>>,
}

impl<'a> Claim<'a> {
    fn new(key: &'a Bytes, gname: &'a Bytes, cname: &'a Bytes, justid: bool, now: i64) -> Self {
        Claim {
            key,
            gname,
            cname,
            justid,
            now,
            consumer_ready: false,
            replied: 0,
            ops: Vec::new(),
        }
    }

    /// Gives the pending entry `id` to the consumer (created at the first
    /// claim): its delivery time becomes `time`, its count `retry` or one
    /// more (none with JUSTID); the reply gets the entry (or its ID) and
    /// `ops` the XCLAIM that replicates the NACK.
    fn claim(
        &mut self,
        ctx: &mut Ctx<'_>,
        id: StreamId,
        id_arg: Bytes,
        time: i64,
        retry: Option<u64>,
    ) {
        if !self.consumer_ready {
            claim_consumer(ctx, self.key, self.gname, self.cname, self.now);
            self.consumer_ready = true;
        }
        let Some(s) = peek(ctx.ks, ctx.db, self.key) else {
            return;
        };
        let s: &mut Stream = s;
        if let Some(g) = s.cgroups.get_mut(&self.gname[..]) {
            g.assign(id, self.cname);
            if let Some(nack) = g.pel.get_mut(&id) {
                nack.delivery_time = time;
                match retry {
                    Some(n) => nack.delivery_count = n,
                    None if !self.justid => nack.delivery_count += 1,
                    None => {}
                }
                self.ops
                    .push(xclaim_op(self.key, self.gname, id_arg, nack, g.last_id));
            }
        }
        if self.justid {
            reply_id(&mut ctx.out, id);
        } else if let Some(e) = s.range(id, id, false).next() {
            reply_entry(&mut ctx.out, &e);
        }
        self.replied += 1;
    }

    /// Propagates what was claimed (and dropped).
    fn finish(self, ctx: &mut Ctx<'_>) {
        ctx.dirty += self.ops.len() as u64;
        for op in self.ops {
            ctx.propagate_as(op);
        }
    }
}

/// XCLAIM key group consumer min-idle-time id [id ...] [IDLE ms]
/// [TIME unix-time-milliseconds] [RETRYCOUNT count] [FORCE] [JUSTID] [LASTID id]
pub fn xclaim(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    let (key, gname, cname) = (&argv[1], &argv[2], &argv[3]);
    let has_group =
        lookup(ctx.ks, ctx.db, key, false)?.is_some_and(|s| s.cgroups.contains_key(&gname[..]));
    if !has_group {
        return Err(nogroup(key, gname));
    }
    let minidle = crate::encoding::numbers::string2ll(&argv[4])
        .ok_or(CmdError::from(
            "ERR Invalid min-idle-time argument for XCLAIM",
        ))?
        .max(0);
    let mut j = 5;
    let mut ids = Vec::new();
    while j < argv.len() {
        match parse_strict_id(&argv[j], 0) {
            Ok(id) => ids.push((id, j)),
            Err(_) => break,
        }
        j += 1;
    }
    let now = ctx.now_ms();
    let (mut force, mut justid) = (false, false);
    let mut retrycount: i64 = -1;
    let mut deliverytime: i64 = -1;
    let mut last_id = StreamId::MIN;
    let int_opt = |a: &[u8], what: &'static str| {
        crate::encoding::numbers::string2ll(a).ok_or(CmdError::from(what))
    };
    while j < argv.len() {
        let more = argv.len() - 1 - j;
        let opt = &argv[j][..];
        if eq_ic(opt, "force") {
            force = true;
        } else if eq_ic(opt, "justid") {
            justid = true;
        } else if eq_ic(opt, "idle") && more > 0 {
            j += 1;
            deliverytime = now.saturating_sub(int_opt(
                &argv[j],
                "ERR Invalid IDLE option argument for XCLAIM",
            )?);
        } else if eq_ic(opt, "time") && more > 0 {
            j += 1;
            deliverytime = int_opt(&argv[j], "ERR Invalid TIME option argument for XCLAIM")?;
        } else if eq_ic(opt, "retrycount") && more > 0 {
            j += 1;
            retrycount = int_opt(
                &argv[j],
                "ERR Invalid RETRYCOUNT option argument for XCLAIM",
            )?;
        } else if eq_ic(opt, "lastid") && more > 0 {
            j += 1;
            last_id = parse_strict_id(&argv[j], 0)?;
        } else {
            return Err(CmdError::msg(format!(
                "ERR Unrecognized XCLAIM option '{}'",
                String::from_utf8_lossy(opt)
            )));
        }
        j += 1;
    }
    let mut propagate_last_id = false;
    if let Some(g) = peek(ctx.ks, ctx.db, key).and_then(|s| s.cgroups.get_mut(&gname[..])) {
        if last_id > g.last_id {
            g.last_id = last_id;
            propagate_last_id = true;
        }
    }
    // A TIME from the future is refused against the real clock (Redis's
    // mstime()): a replica applying a backlog of XCLAIMs in one loop
    // iteration has an older cached time than the master that stamped them.
    if deliverytime < 0 || deliverytime > now.max(crate::util::mstime()) {
        deliverytime = now;
    }
    let d = Deferred::new(&ctx.out);
    let mut c = Claim::new(key, gname, cname, justid, now);
    for (id, j) in ids {
        let Some(s) = peek(ctx.ks, ctx.db, key) else {
            break;
        };
        let exists = s.entry_exists(id);
        let Some(g) = s.cgroups.get_mut(&gname[..]) else {
            break;
        };
        if !exists {
            if let Some(nack) = g.pel.get(&id) {
                c.ops
                    .push(xclaim_op(key, gname, argv[j].clone(), nack, g.last_id));
                propagate_last_id = false;
                g.ack(id);
            }
            continue;
        }
        if force && !g.pel.contains_key(&id) {
            g.pel.insert(
                id,
                Nack {
                    delivery_time: now,
                    delivery_count: 1,
                    consumer: None,
                },
            );
        }
        let Some(nack) = g.pel.get(&id) else { continue };
        if nack.consumer.is_some()
            && minidle != 0
            && now.saturating_sub(nack.delivery_time) < minidle
        {
            continue;
        }
        let retry = (retrycount >= 0).then_some(retrycount as u64);
        c.claim(ctx, id, argv[j].clone(), deliverytime, retry);
        propagate_last_id = false;
    }
    if propagate_last_id {
        if let Some(g) = peek(ctx.ks, ctx.db, key).and_then(|s| s.cgroups.get(&gname[..])) {
            c.ops
                .push(setid_argv(key, gname, g.last_id, g.entries_read));
        }
    }
    d.array(&mut ctx.out, c.replied);
    c.finish(ctx);
    Ok(())
}

/// XAUTOCLAIM key group consumer min-idle-time start [COUNT count] [JUSTID]
pub fn xautoclaim(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    let (key, gname, cname) = (&argv[1], &argv[2], &argv[3]);
    let minidle = crate::encoding::numbers::string2ll(&argv[4])
        .ok_or(CmdError::from(
            "ERR Invalid min-idle-time argument for XAUTOCLAIM",
        ))?
        .max(0);
    let start = parse_range_start(&argv[5])?;
    let mut count: i64 = 100;
    let mut justid = false;
    let mut j = 6;
    while j < argv.len() {
        let more = argv.len() - 1 - j;
        if eq_ic(&argv[j], "count") && more > 0 {
            let max = i64::MAX / 16;
            count = match crate::encoding::numbers::string2ll(&argv[j + 1]) {
                Some(c) if (1..=max).contains(&c) => c,
                _ => return err("ERR COUNT must be > 0"),
            };
            j += 1;
        } else if eq_ic(&argv[j], "justid") {
            justid = true;
        } else {
            return err(error::SYNTAX);
        }
        j += 1;
    }
    let has_group =
        lookup(ctx.ks, ctx.db, key, false)?.is_some_and(|s| s.cgroups.contains_key(&gname[..]));
    if !has_group {
        return Err(nogroup(key, gname));
    }
    // Redis allocates COUNT IDs up front and fails when it cannot.
    if count > 1 << 32 {
        return err("ERR Insufficient memory, failed allocating transient memory, COUNT too high.");
    }
    let now = ctx.now_ms();
    let mut attempts = count * 10;
    ctx.out.array(3);
    let cursor_at = ctx.out.buf.len();
    let d = Deferred::new(&ctx.out);
    let mut deleted = Vec::new();
    let mut cur = Some(start);
    let mut c = Claim::new(key, gname, cname, justid, now);
    while attempts > 0 && count > 0 {
        attempts -= 1;
        let Some(from) = cur else { break };
        let Some(s) = peek(ctx.ks, ctx.db, key) else {
            break;
        };
        let Some(g) = s.cgroups.get(&gname[..]) else {
            break;
        };
        let Some((&id, nack)) = g.pel.range(from..).next() else {
            cur = None;
            break;
        };
        cur = id.incr();
        if !s.entry_exists(id) {
            c.ops
                .push(xclaim_op(key, gname, id.to_bytes(), nack, g.last_id));
            if let Some(g) = s.cgroups.get_mut(&gname[..]) {
                g.ack(id);
            }
            deleted.push(id);
            count -= 1;
            continue;
        }
        if minidle != 0 && now.saturating_sub(nack.delivery_time) < minidle {
            continue;
        }
        c.claim(ctx, id, id.to_bytes(), now, None);
        count -= 1;
    }
    d.array(&mut ctx.out, c.replied);
    // The cursor: the next pending entry after the last one examined.
    let next = match (cur, peek(ctx.ks, ctx.db, key)) {
        (Some(from), Some(s)) => s
            .cgroups
            .get(&gname[..])
            .and_then(|g| g.pel.range(from..).next().map(|(id, _)| *id)),
        _ => None,
    };
    let mut b = [0u8; 41];
    let cursor = next.unwrap_or(StreamId::MIN);
    let text = cursor.fmt_buf(&mut b);
    let mut hdr = Vec::with_capacity(50);
    hdr.push(b'$');
    crate::encoding::numbers::write_i64(text.len() as i64, &mut hdr);
    hdr.extend_from_slice(b"\r\n");
    hdr.extend_from_slice(text);
    hdr.extend_from_slice(b"\r\n");
    ctx.out.buf.splice(cursor_at..cursor_at, hdr);
    ctx.out.array(deleted.len());
    for id in deleted {
        reply_id(&mut ctx.out, id);
    }
    c.finish(ctx);
    Ok(())
}
