//! XINFO STREAM [FULL [COUNT n]], XINFO GROUPS, XINFO CONSUMERS and XINFO
//! HELP, with Redis 7.0's fields in Redis's order (radix-tree-nodes is the
//! node count Redis's radix tree would have, see `types::stream_meta`).

use super::t_stream::{lookup, reply_entry, reply_id, reply_range};
use super::t_stream_cg::{check_subcommand, reply_help, subcommand_syntax};
use super::{arg_i64, eq_ic, Ctx};
use crate::error::{self, err, CmdError, CmdResult};
use crate::resp::Out;
use crate::types::stream::{Stream, StreamId};
use crate::types::stream_cg::Group;
use bytes::Bytes;

const XINFO_HELP: &[&str] = &[
    "CONSUMERS <key> <groupname>",
    "    Show consumers of <groupname>.",
    "GROUPS <key>",
    "    Show the stream consumer groups.",
    "STREAM <key> [FULL [COUNT <count>]",
    "    Show information about the stream.",
];

/// A group's last delivered ID, read counter and lag (XINFO GROUPS and
/// XINFO STREAM FULL).
fn group_progress(out: &mut Out<'_>, s: &Stream, g: &Group) {
    out.bulk(b"last-delivered-id");
    reply_id(out, g.last_id);
    out.bulk(b"entries-read");
    int_or_null(out, (g.entries_read != -1).then_some(g.entries_read));
    out.bulk(b"lag");
    int_or_null(out, s.group_lag(g));
}

/// A map field with an integer value.
fn field_int(out: &mut Out<'_>, name: &[u8], v: i64) {
    out.bulk(name);
    out.int(v);
}

fn int_or_null(out: &mut Out<'_>, v: Option<i64>) {
    match v {
        Some(n) => out.int(n),
        None => out.null(),
    }
}

pub fn xinfo(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    check_subcommand(
        argv,
        "XINFO",
        &[("consumers", 4), ("groups", 3), ("help", 2), ("stream", -3)],
    )?;
    let sub = &argv[1];
    if eq_ic(sub, "help") {
        reply_help(ctx, argv, XINFO_HELP);
        return Ok(());
    }
    let now = ctx.now_ms();
    let key = &argv[2];
    let Some(s) = lookup(ctx.ks, ctx.db, key, false)? else {
        return err(error::NO_SUCH_KEY);
    };
    let out = &mut ctx.out;
    if eq_ic(sub, "consumers") && argv.len() == 4 {
        let Some(g) = s.cgroups.get(&argv[3][..]) else {
            return Err(CmdError::msg(format!(
                "NOGROUP No such consumer group '{}' for key name '{}'",
                String::from_utf8_lossy(&argv[3]),
                String::from_utf8_lossy(key)
            )));
        };
        out.array(g.consumers.len());
        for c in g.consumers.values() {
            out.map(3);
            out.bulk(b"name");
            out.bulk(&c.name);
            field_int(out, b"pending", c.pel.len() as i64);
            field_int(out, b"idle", (now - c.seen_time).max(0));
        }
    } else if eq_ic(sub, "groups") && argv.len() == 3 {
        out.array(s.cgroups.len());
        for (name, g) in &s.cgroups {
            out.map(6);
            out.bulk(b"name");
            out.bulk(name);
            field_int(out, b"consumers", g.consumers.len() as i64);
            field_int(out, b"pending", g.pel.len() as i64);
            group_progress(out, s, g);
        }
    } else if eq_ic(sub, "stream") {
        stream_info(out, s, argv)?;
    } else {
        return Err(subcommand_syntax(argv));
    }
    Ok(())
}

/// XINFO STREAM key [FULL [COUNT count]] (xinfoReplyWithStreamInfo).
fn stream_info(out: &mut Out<'_>, s: &Stream, argv: &[Bytes]) -> CmdResult {
    let opts = &argv[3..];
    let mut full = false;
    let mut count: i64 = 10;
    if !opts.is_empty() {
        if (opts.len() != 1 && opts.len() != 3) || !eq_ic(&opts[0], "full") {
            return Err(subcommand_syntax(argv));
        }
        full = true;
        if opts.len() == 3 {
            if !eq_ic(&opts[1], "count") {
                return Err(subcommand_syntax(argv));
            }
            count = arg_i64(&opts[2])?;
            if count < 0 {
                count = 10;
            }
        }
    }
    out.map(if full { 9 } else { 10 });
    field_int(out, b"length", s.length as i64);
    field_int(out, b"radix-tree-keys", s.node_count() as i64);
    field_int(out, b"radix-tree-nodes", s.rax_node_count() as i64);
    out.bulk(b"last-generated-id");
    reply_id(out, s.last_id);
    out.bulk(b"max-deleted-entry-id");
    reply_id(out, s.max_deleted_entry_id);
    field_int(out, b"entries-added", s.entries_added as i64);
    out.bulk(b"recorded-first-entry-id");
    reply_id(out, s.first_id);
    if !full {
        field_int(out, b"groups", s.cgroups.len() as i64);
        for (name, rev) in [(&b"first-entry"[..], false), (&b"last-entry"[..], true)] {
            out.bulk(name);
            match s.range(StreamId::MIN, StreamId::MAX, rev).next() {
                Some(e) => reply_entry(out, &e),
                None => out.null(),
            }
        }
        return Ok(());
    }
    let count = count as usize;
    out.bulk(b"entries");
    reply_range(out, s, StreamId::MIN, StreamId::MAX, count, false);
    out.bulk(b"groups");
    out.array(s.cgroups.len());
    for (name, g) in &s.cgroups {
        out.map(7);
        out.bulk(b"name");
        out.bulk(name);
        group_progress(out, s, g);
        field_int(out, b"pel-count", g.pel.len() as i64);
        out.bulk(b"pending");
        reply_pel(out, g, g.pel.keys(), count, true);
        out.bulk(b"consumers");
        out.array(g.consumers.len());
        for c in g.consumers.values() {
            out.map(4);
            out.bulk(b"name");
            out.bulk(&c.name);
            field_int(out, b"seen-time", c.seen_time);
            field_int(out, b"pel-count", c.pel.len() as i64);
            out.bulk(b"pending");
            reply_pel(out, g, c.pel.iter(), count, false);
        }
    }
    Ok(())
}

/// A PEL as XINFO STREAM FULL shows it: at most `count` entries (0: all),
/// each [id, (owner,) delivery time, deliveries].
fn reply_pel<'a>(
    out: &mut Out<'_>,
    g: &Group,
    ids: impl ExactSizeIterator<Item = &'a StreamId>,
    count: usize,
    owner: bool,
) {
    let shown = if count == 0 {
        ids.len()
    } else {
        ids.len().min(count)
    };
    out.array(shown);
    for id in ids.take(shown) {
        let nack = g.pel.get(id);
        out.array(if owner { 4 } else { 3 });
        reply_id(out, *id);
        if owner {
            out.bulk(nack.and_then(|n| n.consumer.as_deref()).unwrap_or(b""));
        }
        out.int(nack.map_or(0, |n| n.delivery_time));
        out.int(nack.map_or(0, |n| n.delivery_count as i64));
    }
}
