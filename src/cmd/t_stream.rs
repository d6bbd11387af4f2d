//! Stream commands (t_stream.c), part one: the command table of the whole
//! family, stream ID parsing, the shared lookup and reply helpers, and
//! XADD, XRANGE, XREVRANGE, XLEN, XDEL, XTRIM, XSETID. Reading (XREAD,
//! XREADGROUP, blocking) is in `t_stream_read`, consumer groups in
//! `t_stream_cg`, XINFO in `t_stream_info`.
//!
//! What is propagated is always deterministic, as in Redis 7.0: XADD with
//! the ID it generated, approximate trimming (`~`) as the exact length or
//! first ID it left.

use super::flag::*;
use super::table::{spec, CommandSpec, Proc::Db};
use super::{arg_i64, eq_ic, t_stream_cg as cg, t_stream_info as info, t_stream_read as rd};
use super::{Ctx, Handler};
use crate::config::NOTIFY_STREAM;
use crate::db::{Keyspace, Value};
use crate::encoding::listpack::LpValue;
use crate::error::{self, err, CmdError, CmdResult};
use crate::resp::Out;
use crate::types::stream::{Entry, NodeLimits, Stream, StreamId, TrimArgs, TrimStrategy};
use bytes::Bytes;

const GROUP: &str = "stream";

const fn x(
    name: &'static str,
    h: Handler,
    arity: i32,
    flags: u32,
    keys: (i32, i32, i32),
) -> CommandSpec {
    spec(name, Db(h), arity, flags, keys.0, keys.1, keys.2, GROUP)
}

pub static COMMANDS: &[CommandSpec] = &[
    x("xadd", xadd, -5, WRITE | DENYOOM | FAST, (1, 1, 1)),
    x("xrange", xrange, -4, READONLY, (1, 1, 1)),
    x("xrevrange", xrevrange, -4, READONLY, (1, 1, 1)),
    x("xlen", xlen, 2, READONLY | FAST, (1, 1, 1)),
    x("xdel", xdel, -3, WRITE | FAST, (1, 1, 1)),
    x("xtrim", xtrim, -4, WRITE, (1, 1, 1)),
    x("xsetid", xsetid, -3, WRITE | DENYOOM | FAST, (1, 1, 1)),
    x("xread", rd::xread, -4, READONLY | BLOCKING, (0, 0, 0)),
    x(
        "xreadgroup",
        rd::xreadgroup,
        -7,
        WRITE | BLOCKING,
        (0, 0, 0),
    ),
    x("xgroup", cg::xgroup, -2, 0, (0, 0, 0)).with_subs(XGROUP_SUBS),
    x("xack", cg::xack, -4, WRITE | FAST, (1, 1, 1)),
    x("xpending", cg::xpending, -3, READONLY, (1, 1, 1)),
    x("xclaim", cg::xclaim, -6, WRITE | FAST, (1, 1, 1)),
    x("xautoclaim", cg::xautoclaim, -6, WRITE | FAST, (1, 1, 1)),
    x("xinfo", info::xinfo, -2, 0, (0, 0, 0)).with_subs(XINFO_SUBS),
];

/// XGROUP's and XINFO's subcommands, told apart before they run (arity,
/// flags, command statistics as `xgroup|create`); one handler each.
#[rustfmt::skip]
static XGROUP_SUBS: &[CommandSpec] = &[
    x("xgroup|create", cg::xgroup, -5, WRITE | DENYOOM, (2, 2, 1)),
    x("xgroup|createconsumer", cg::xgroup, 5, WRITE | DENYOOM, (2, 2, 1)),
    x("xgroup|delconsumer", cg::xgroup, 5, WRITE, (2, 2, 1)),
    x("xgroup|destroy", cg::xgroup, 4, WRITE, (2, 2, 1)),
    x("xgroup|help", cg::xgroup, 2, LOADING | STALE, (0, 0, 0)),
    x("xgroup|setid", cg::xgroup, -5, WRITE, (2, 2, 1)),
];

#[rustfmt::skip]
static XINFO_SUBS: &[CommandSpec] = &[
    x("xinfo|consumers", info::xinfo, 4, READONLY, (2, 2, 1)),
    x("xinfo|groups", info::xinfo, 3, READONLY, (2, 2, 1)),
    x("xinfo|help", info::xinfo, 2, LOADING | STALE, (0, 0, 0)),
    x("xinfo|stream", info::xinfo, -3, READONLY, (2, 2, 1)),
];

// ---- stream IDs ----

pub(super) const INVALID_ID: &str = "ERR Invalid stream ID specified as stream command argument";

/// Parses `<ms>-<seq>`, `<ms>` (sequence `missing_seq`), `-` and `+` (unless
/// `strict`), and `<ms>-*` when `seq_star` (the second value false then)
/// (streamGenericParseIDOrReply).
pub(super) fn parse_id_generic(
    arg: &[u8],
    missing_seq: u64,
    strict: bool,
    seq_star: bool,
) -> Result<(StreamId, bool), CmdError> {
    if arg.len() > 127 {
        return err(INVALID_ID);
    }
    // The C string ends at the first NUL.
    let arg = arg.split(|&c| c == 0).next().unwrap_or(&[]);
    if strict && (arg == b"-" || arg == b"+") {
        return err(INVALID_ID);
    }
    match arg {
        b"-" => return Ok((StreamId::MIN, true)),
        b"+" => return Ok((StreamId::MAX, true)),
        _ => {}
    }
    let (ms_part, seq_part) = match arg.iter().position(|&c| c == b'-') {
        Some(p) => (&arg[..p], Some(&arg[p + 1..])),
        None => (arg, None),
    };
    let ms = crate::encoding::numbers::string2ull(ms_part).ok_or(CmdError::from(INVALID_ID))?;
    let (seq, given) = match seq_part {
        Some(b"*") if seq_star => (0, false),
        Some(s) => (
            crate::encoding::numbers::string2ull(s).ok_or(CmdError::from(INVALID_ID))?,
            true,
        ),
        None => (missing_seq, true),
    };
    Ok((StreamId::new(ms, seq), given))
}

/// An ID where `-` and `+` are accepted.
pub(super) fn parse_id(arg: &[u8], missing_seq: u64) -> Result<StreamId, CmdError> {
    parse_id_generic(arg, missing_seq, false, false).map(|(id, _)| id)
}

/// An ID where `-` and `+` are refused.
pub(super) fn parse_strict_id(arg: &[u8], missing_seq: u64) -> Result<StreamId, CmdError> {
    parse_id_generic(arg, missing_seq, true, false).map(|(id, _)| id)
}

/// A range bound: `(` makes it exclusive (then strict).
fn parse_interval_id(arg: &[u8], missing_seq: u64) -> Result<(StreamId, bool), CmdError> {
    if arg.len() > 1 && arg[0] == b'(' {
        Ok((parse_strict_id(&arg[1..], missing_seq)?, true))
    } else {
        Ok((parse_id(arg, missing_seq)?, false))
    }
}

/// The start of a range: exclusive bounds move to the next ID.
pub(super) fn parse_range_start(arg: &[u8]) -> Result<StreamId, CmdError> {
    let (id, ex) = parse_interval_id(arg, 0)?;
    if ex {
        return id
            .incr()
            .ok_or_else(|| "ERR invalid start ID for the interval".into());
    }
    Ok(id)
}

/// The end of a range: exclusive bounds move to the previous ID.
pub(super) fn parse_range_end(arg: &[u8]) -> Result<StreamId, CmdError> {
    let (id, ex) = parse_interval_id(arg, u64::MAX)?;
    if ex {
        return id
            .decr()
            .ok_or_else(|| "ERR invalid end ID for the interval".into());
    }
    Ok(id)
}

// ---- lookups ----

/// The stream at `key`: None when missing, WRONGTYPE for another type.
/// Takes the keyspace alone so the caller can write replies meanwhile.
pub(super) fn lookup<'a>(
    ks: &'a mut Keyspace,
    db: usize,
    key: &[u8],
    write: bool,
) -> Result<Option<&'a mut Stream>, CmdError> {
    super::lookup_as(ks, db, key, write, |v| match v {
        Value::Stream(s) => Some(&mut **s),
        _ => None,
    })
}

/// The stream at `key` without counting an access (the command looked
/// it up already): for the later steps of a command.
pub(super) fn peek<'a>(ks: &'a mut Keyspace, db: usize, key: &[u8]) -> Option<&'a mut Stream> {
    match ks.db_mut(db).dict.get_mut(key) {
        Some(Value::Stream(s)) => Some(s),
        _ => None,
    }
}

/// The stream at `key` for a read.
pub(super) fn stream_read<'a>(
    ctx: &'a mut Ctx<'_>,
    key: &[u8],
) -> Result<Option<&'a mut Stream>, CmdError> {
    lookup(ctx.ks, ctx.db, key, false)
}

/// The stream at `key` for a write.
pub(super) fn stream_write<'a>(
    ctx: &'a mut Ctx<'_>,
    key: &[u8],
) -> Result<Option<&'a mut Stream>, CmdError> {
    lookup(ctx.ks, ctx.db, key, true)
}

pub(super) fn node_limits(ctx: &Ctx<'_>) -> NodeLimits {
    NodeLimits {
        max_bytes: ctx.cfg.stream_node_max_bytes,
        max_entries: ctx.cfg.stream_node_max_entries,
    }
}

// ---- replies ----

/// A reply length known only once the elements are written (Redis's
/// addReplyDeferredLen): the header goes in at the mark afterwards.
pub(super) struct Deferred(usize);

impl Deferred {
    pub fn new(out: &Out<'_>) -> Deferred {
        Deferred(out.buf.len())
    }

    fn put(self, out: &mut Out<'_>, prefix: u8, n: usize) {
        let mut hdr = Vec::with_capacity(24);
        hdr.push(prefix);
        crate::encoding::numbers::write_i64(n as i64, &mut hdr);
        hdr.extend_from_slice(b"\r\n");
        out.buf.splice(self.0..self.0, hdr);
    }

    pub fn array(self, out: &mut Out<'_>, n: usize) {
        self.put(out, b'*', n);
    }

    /// A map of `n` pairs (a flat array in RESP2).
    pub fn map(self, out: &mut Out<'_>, n: usize) {
        if out.resp >= 3 {
            self.put(out, b'%', n);
        } else {
            self.put(out, b'*', 2 * n);
        }
    }
}

pub(super) fn reply_id(out: &mut Out<'_>, id: StreamId) {
    let mut b = [0u8; 41];
    out.bulk(id.fmt_buf(&mut b));
}

#[inline]
pub(super) fn reply_lp(out: &mut Out<'_>, v: LpValue<'_>) {
    match v {
        LpValue::Int(i) => out.bulk_i64(i),
        LpValue::Str(s) => out.bulk(s),
    }
}

/// `[id, [field, value, ...]]`.
pub(super) fn reply_entry(out: &mut Out<'_>, e: &Entry<'_>) {
    out.array(2);
    reply_id(out, e.id);
    out.array(e.numfields * 2);
    for (f, v) in e.fields() {
        reply_lp(out, f);
        reply_lp(out, v);
    }
}

/// The entries in [start, end] as an array (at most `count`, 0: all);
/// returns how many (streamReplyWithRange without a group).
pub(super) fn reply_range(
    out: &mut Out<'_>,
    s: &Stream,
    start: StreamId,
    end: StreamId,
    count: usize,
    rev: bool,
) -> usize {
    let d = Deferred::new(out);
    let mut n = 0;
    for e in s.range(start, end, rev) {
        reply_entry(out, &e);
        n += 1;
        if n == count {
            break;
        }
    }
    d.array(out, n);
    n
}

// ---- XADD / XTRIM options ----

/// XADD's and XTRIM's options (streamAddTrimArgs).
pub(super) struct AddTrimArgs {
    /// XADD's ID when not `*`, and whether its sequence was given.
    id: Option<(StreamId, bool)>,
    nomkstream: bool,
    trim: TrimArgs,
    /// Index of the MAXLEN/MINID value, rewritten after approximate trimming.
    trim_arg_idx: usize,
    /// XADD: the index of the ID argument.
    idpos: usize,
}

/// streamParseAddOrTrimArgsOrReply.
fn parse_add_trim(ctx: &Ctx<'_>, argv: &[Bytes], xadd: bool) -> Result<AddTrimArgs, CmdError> {
    let mut a = AddTrimArgs {
        id: None,
        nomkstream: false,
        trim: TrimArgs {
            strategy: TrimStrategy::None,
            approx: false,
            limit: 0,
        },
        trim_arg_idx: 0,
        idpos: 0,
    };
    let mut limit_given = false;
    let argc = argv.len();
    let mut i = 2;
    const BOTH: &str =
        "ERR syntax error, MAXLEN and MINID options at the same time are not compatible";
    while i < argc {
        let more = argc - 1 - i;
        let opt = &argv[i][..];
        if xadd && opt.first() == Some(&b'*') && opt.get(1).is_none_or(|&c| c == 0) {
            break;
        } else if (eq_ic(opt, "maxlen") || eq_ic(opt, "minid")) && more > 0 {
            let maxlen = eq_ic(opt, "maxlen");
            if a.trim.strategy != TrimStrategy::None {
                return err(BOTH);
            }
            a.trim.approx = false;
            let next = &argv[i + 1][..];
            if more >= 2 && next == b"~" {
                a.trim.approx = true;
                i += 1;
            } else if more >= 2 && next == b"=" {
                i += 1;
            }
            let v = &argv[i + 1];
            a.trim.strategy = if maxlen {
                let n = arg_i64(v)?;
                if n < 0 {
                    return err("ERR The MAXLEN argument must be >= 0.");
                }
                TrimStrategy::MaxLen(n as u64)
            } else {
                TrimStrategy::MinId(parse_strict_id(v, 0)?)
            };
            i += 1;
            a.trim_arg_idx = i;
        } else if eq_ic(opt, "limit") && more > 0 {
            a.trim.limit = arg_i64(&argv[i + 1])?;
            if a.trim.limit < 0 {
                return err("ERR The LIMIT argument must be >= 0.");
            }
            limit_given = true;
            i += 1;
        } else if xadd && eq_ic(opt, "nomkstream") {
            a.nomkstream = true;
        } else if xadd {
            a.id = Some(parse_id_generic(opt, 0, true, true)?);
            break;
        } else {
            return err(error::SYNTAX);
        }
        i += 1;
    }
    a.idpos = i;
    if a.trim.limit != 0 && a.trim.strategy == TrimStrategy::None {
        return err(
            "ERR syntax error, LIMIT cannot be used without specifying a trimming strategy",
        );
    }
    if !xadd && a.trim.strategy == TrimStrategy::None {
        return err("ERR syntax error, XTRIM must be called with a trimming strategy");
    }
    if ctx.must_obey {
        // What a master or the AOF sent was already made exact.
        a.trim.limit = 0;
    } else if limit_given {
        if !a.trim.approx {
            return err("ERR syntax error, LIMIT cannot be used without the special ~ option");
        }
    } else if a.trim.approx {
        // At most 100 nodes' worth of work, whatever the config.
        let mut limit = ctx.cfg.stream_node_max_entries.wrapping_mul(100);
        if limit <= 0 {
            limit = 10000;
        }
        a.trim.limit = limit.min(1_000_000);
    } else {
        a.trim.limit = 0;
    }
    Ok(a)
}

/// After an approximate trim, what replicas and the AOF get instead of
/// `~ <n>`: `= <the length or first ID it left>`.
fn rewrite_trim(argv: &mut [Bytes], a: &AddTrimArgs, s: &Stream) {
    argv[a.trim_arg_idx - 1] = Bytes::from_static(b"=");
    argv[a.trim_arg_idx] = match a.trim.strategy {
        TrimStrategy::MaxLen(_) => Bytes::from(s.length.to_string()),
        _ => s.edge_id(true, false).to_bytes(),
    };
}

// ---- commands ----

/// XADD key [NOMKSTREAM] [MAXLEN|MINID [=|~] threshold [LIMIT count]] *|id field value [field value ...]
pub fn xadd(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    let a = parse_add_trim(ctx, argv, true)?;
    let field_pos = a.idpos + 1;
    if argv.len() < field_pos + 2 || (argv.len() - field_pos) % 2 == 1 {
        return Err(CmdError::arity("xadd"));
    }
    if let Some((id, true)) = a.id {
        if id.is_zero() {
            return err("ERR The ID specified in XADD must be greater than 0-0");
        }
    }
    let key = &argv[1];
    if stream_write(ctx, key)?.is_none() {
        if a.nomkstream {
            ctx.out.null();
            return Ok(());
        }
        ctx.ks
            .add(ctx.db, key, Value::Stream(Box::new(Stream::new())));
    }
    let now = ctx.now_ms() as u64;
    let lim = node_limits(ctx);
    // Looked up (and its access counted) above: the later steps peek.
    let Some(s) = peek(ctx.ks, ctx.db, key) else {
        return Ok(());
    };
    if s.last_id == StreamId::MAX {
        return err("ERR The stream has exhausted the last possible ID, unable to add more items");
    }
    // streamAppendItem: the ID.
    let id = match a.id {
        Some((id, true)) => Some(id),
        Some((id, false)) if s.last_id.ms == id.ms => {
            // <ms>-*: the next sequence in the same millisecond. Past the
            // last one Redis fails without setting errno: its reply is the
            // "too large" one.
            if s.last_id.seq == u64::MAX {
                return err("ERR Elements are too large to be stored");
            }
            Some(StreamId::new(id.ms, s.last_id.seq + 1))
        }
        Some((id, false)) => Some(id),
        None if now > s.last_id.ms => Some(StreamId::new(now, 0)),
        None => s.last_id.incr(),
    };
    let id =
        match id {
            Some(id) if id > s.last_id => id,
            _ => return err(
                "ERR The ID specified in XADD is equal or smaller than the target stream top item",
            ),
        };
    let fv = &argv[field_pos..];
    let total: usize = fv.iter().map(|f| f.len()).sum();
    if total > crate::types::stream::LISTPACK_MAX_SIZE {
        return err("ERR Elements are too large to be stored");
    }
    s.append(id, fv, lim);
    reply_id(&mut ctx.out, id);
    ctx.written(key, NOTIFY_STREAM, "xadd");
    let mut rewritten: Option<Vec<Bytes>> = None;
    if a.trim.strategy != TrimStrategy::None {
        let Some(s) = peek(ctx.ks, ctx.db, key) else {
            return Ok(());
        };
        let deleted = s.trim(&a.trim);
        if a.trim.approx {
            let mut v = argv.to_vec();
            rewrite_trim(&mut v, &a, s);
            rewritten = Some(v);
        }
        if deleted > 0 {
            ctx.notify(NOTIFY_STREAM, "xtrim", key);
        }
    }
    if !matches!(a.id, Some((_, true))) {
        let v = rewritten.get_or_insert_with(|| argv.to_vec());
        v[a.idpos] = id.to_bytes();
    }
    if let Some(v) = rewritten {
        ctx.propagate_as(v);
    }
    ctx.ks.signal_ready_if_blocked(ctx.db, key);
    Ok(())
}

fn xrange_generic(ctx: &mut Ctx<'_>, argv: &[Bytes], rev: bool) -> CmdResult {
    let (start_arg, end_arg) = if rev {
        (&argv[3], &argv[2])
    } else {
        (&argv[2], &argv[3])
    };
    let start = parse_range_start(start_arg)?;
    let end = parse_range_end(end_arg)?;
    let mut count: i64 = -1;
    let mut j = 4;
    while j < argv.len() {
        if eq_ic(&argv[j], "count") && j + 1 < argv.len() {
            count = arg_i64(&argv[j + 1])?.max(0);
            j += 2;
        } else {
            return err(error::SYNTAX);
        }
    }
    let Some(s) = lookup(ctx.ks, ctx.db, &argv[1], false)? else {
        ctx.out.array(0);
        return Ok(());
    };
    if count == 0 {
        ctx.out.null_array();
        return Ok(());
    }
    let count = if count < 0 { 0 } else { count as usize };
    reply_range(&mut ctx.out, s, start, end, count, rev);
    Ok(())
}

pub fn xrange(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    xrange_generic(ctx, argv, false)
}

pub fn xrevrange(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    xrange_generic(ctx, argv, true)
}

pub fn xlen(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    let n = stream_read(ctx, &argv[1])?.map_or(0, |s| s.length);
    ctx.out.int(n as i64);
    Ok(())
}

/// XDEL key id [id ...]
pub fn xdel(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    let key = &argv[1];
    if stream_write(ctx, key)?.is_none() {
        ctx.out.int(0);
        return Ok(());
    }
    let ids = argv[2..]
        .iter()
        .map(|a| parse_strict_id(a, 0))
        .collect::<Result<Vec<_>, _>>()?;
    let Some(s) = peek(ctx.ks, ctx.db, key) else {
        return Ok(());
    };
    let mut deleted = 0u64;
    let mut first_entry = false;
    for id in ids {
        if s.delete(id) {
            if id == s.first_id {
                first_entry = true;
            }
            if id > s.max_deleted_entry_id {
                s.max_deleted_entry_id = id;
            }
            deleted += 1;
        }
    }
    if deleted > 0 {
        if s.length == 0 {
            s.first_id = StreamId::MIN;
        } else if first_entry {
            s.first_id = s.edge_id(true, true);
        }
        ctx.written(key, NOTIFY_STREAM, "xdel");
        ctx.dirty += deleted - 1;
    }
    ctx.out.int(deleted as i64);
    Ok(())
}

/// XTRIM key MAXLEN|MINID [=|~] threshold [LIMIT count]
pub fn xtrim(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    let a = parse_add_trim(ctx, argv, false)?;
    let key = &argv[1];
    let Some(s) = stream_write(ctx, key)? else {
        ctx.out.int(0);
        return Ok(());
    };
    let deleted = s.trim(&a.trim);
    if deleted > 0 {
        if a.trim.approx {
            let mut v = argv.to_vec();
            rewrite_trim(&mut v, &a, s);
            ctx.propagate_as(v);
        }
        ctx.notify(NOTIFY_STREAM, "xtrim", key);
        ctx.ks.signal_modified(ctx.db, key);
        ctx.dirty += deleted as u64;
    }
    ctx.out.int(deleted);
    Ok(())
}

/// XSETID key last-id [ENTRIESADDED entries-added] [MAXDELETEDID max-deleted-id]
pub fn xsetid(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    let id = parse_strict_id(&argv[2], 0)?;
    let mut entries_added: i64 = -1;
    let mut max_xdel = StreamId::MIN;
    let mut i = 3;
    while i < argv.len() {
        let more = argv.len() - 1 - i;
        if eq_ic(&argv[i], "entriesadded") && more > 0 {
            entries_added = arg_i64(&argv[i + 1])?;
            if entries_added < 0 {
                return err("ERR entries_added must be positive");
            }
        } else if eq_ic(&argv[i], "maxdeletedid") && more > 0 {
            max_xdel = parse_strict_id(&argv[i + 1], 0)?;
            if id < max_xdel {
                return err("ERR The ID specified in XSETID is smaller than the provided max_deleted_entry_id");
            }
        } else {
            return err(error::SYNTAX);
        }
        i += 2;
    }
    let key = &argv[1];
    let Some(s) = stream_write(ctx, key)? else {
        return err(error::NO_SUCH_KEY);
    };
    if s.length > 0 {
        if id < s.last_valid_id() {
            return err(
                "ERR The ID specified in XSETID is smaller than the target stream top item",
            );
        }
        if entries_added != -1 && s.length > entries_added as u64 {
            return err("ERR The entries_added specified in XSETID is smaller than the target stream length");
        }
    }
    s.last_id = id;
    if entries_added != -1 {
        s.entries_added = entries_added as u64;
    }
    if !max_xdel.is_zero() {
        s.max_deleted_entry_id = max_xdel;
    }
    ctx.out.ok();
    ctx.dirty += 1;
    ctx.notify(NOTIFY_STREAM, "xsetid", key);
    Ok(())
}
