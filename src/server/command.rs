//! COMMAND: introspection of the command table as Redis 7.0 answers it
//! (COMMAND, COUNT, INFO, DOCS, LIST [FILTERBY], GETKEYS[ANDFLAGS], HELP).
//! Everything comes from the generated metadata (`cmd::meta`), restricted
//! to the commands and subcommands ferrodis has.

use super::Server;
use crate::cmd::meta::{self, Meta};
use crate::cmd::{self, eq_ic, CommandSpec};
use crate::error::{self, CmdError};
use bytes::Bytes;

/// Whether ferrodis has this command or subcommand: a top-level command in
/// our table; a subcommand listed in its container's sub table, or any
/// subcommand of a container whose handler tells them apart itself.
pub fn have(m: &Meta) -> bool {
    if m.is_sub() {
        let parent = meta::by_id(m.parent);
        match cmd::lookup_original(parent.name) {
            Some(spec) => spec.subs.is_empty() || spec.sub(m.short_name().as_bytes()).is_some(),
            None => false,
        }
    } else {
        cmd::lookup_original(m.name).is_some()
    }
}

/// Our top-level commands with their metadata, in table order.
fn top_level() -> Vec<&'static Meta> {
    cmd::table::all()
        .filter_map(|c: &'static CommandSpec| meta::find(c.name.as_bytes()))
        .collect()
}

/// A name as COMMAND INFO / DOCS take it (`get`, `client|list`), if we have it.
fn find_named(name: &[u8]) -> Option<&'static Meta> {
    meta::find(name).filter(|m| have(m))
}

const HELP: &[&str] = &[
    "COMMAND <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "(no subcommand)",
    "    Return details about all Redis commands.",
    "COUNT",
    "    Return the total number of commands in this Redis server.",
    "LIST",
    "    Return a list of all commands in this Redis server.",
    "INFO [<command-name> ...]",
    "    Return details about multiple Redis commands.",
    "    If no command names are given, documentation details for all",
    "    commands are returned.",
    "DOCS [<command-name> ...]",
    "    Return documentation details about multiple Redis commands.",
    "    If no command names are given, documentation details for all",
    "    commands are returned.",
    "GETKEYS <full-command>",
    "    Return the keys from a full Redis command.",
    "GETKEYSANDFLAGS <full-command>",
    "    Return the keys and the access flags from a full Redis command.",
    "HELP",
    "    Prints this help.",
];

/// COMMAND and its subcommands.
pub fn command_command(s: &mut Server, key: usize, argv: &[Bytes]) -> Result<(), CmdError> {
    if argv.len() == 1 {
        let all = top_level();
        s.reply(key, |o| {
            o.array(all.len());
            for m in all {
                meta::reply_info(o, m, &have);
            }
        });
        return Ok(());
    }
    let sub = &argv[1][..];
    if eq_ic(sub, "count") {
        let n = top_level().len();
        s.reply(key, |o| o.int(n as i64));
    } else if eq_ic(sub, "info") {
        let found: Vec<Option<&'static Meta>> = if argv.len() == 2 {
            top_level().into_iter().map(Some).collect()
        } else {
            argv[2..].iter().map(|n| find_named(n)).collect()
        };
        s.reply(key, |o| {
            o.array(found.len());
            for m in found {
                match m {
                    Some(m) => meta::reply_info(o, m, &have),
                    None => o.null(),
                }
            }
        });
    } else if eq_ic(sub, "docs") {
        let found: Vec<&'static Meta> = if argv.len() == 2 {
            top_level()
        } else {
            argv[2..].iter().filter_map(|n| find_named(n)).collect()
        };
        s.reply(key, |o| {
            o.map(found.len());
            for m in found {
                o.bulk(m.name.as_bytes());
                meta::reply_docs(o, m, &have);
            }
        });
    } else if eq_ic(sub, "list") {
        let names = command_list(argv)?;
        s.reply(key, |o| {
            o.array(names.len());
            for n in names {
                o.bulk(n.as_bytes());
            }
        });
    } else if eq_ic(sub, "getkeys") || eq_ic(sub, "getkeysandflags") {
        let with_flags = eq_ic(sub, "getkeysandflags");
        let args = &argv[2..];
        let m = meta::resolve(args)
            .filter(|m| have(m))
            .ok_or(CmdError::from("ERR Invalid command specified"))?;
        if !m.has_keys() {
            return Err("ERR The command has no key arguments".into());
        }
        if !m.arity_ok(args.len()) {
            return Err("ERR Invalid number of arguments specified for command".into());
        }
        let mut keys = Vec::new();
        meta::get_keys(m, args, &mut keys);
        if keys.is_empty() && m.flags & meta::F_NO_MANDATORY_KEYS == 0 {
            return Err("ERR Invalid arguments specified for command".into());
        }
        s.reply(key, |o| {
            o.array(keys.len());
            for k in &keys {
                if with_flags {
                    o.array(2);
                    o.bulk(&args[k.pos]);
                    meta::reply_key_flags(o, k.flags);
                } else {
                    o.bulk(&args[k.pos]);
                }
            }
        });
    } else if eq_ic(sub, "help") {
        s.reply_help(key, HELP);
    } else {
        return Err(super::admin::unknown_subcommand(sub, "COMMAND"));
    }
    Ok(())
}

/// COMMAND LIST [FILTERBY MODULE name | ACLCAT cat | PATTERN pattern]:
/// every command and subcommand name (`parent|sub`) that passes the filter.
fn command_list(argv: &[Bytes]) -> Result<Vec<&'static str>, CmdError> {
    enum Filter {
        None,
        Module,
        AclCat(Option<u32>),
        Pattern(Bytes),
    }
    let mut filter = Filter::None;
    let mut i = 2;
    while i < argv.len() {
        let more = argv.len() - 1 - i;
        if eq_ic(&argv[i], "filterby") && more == 2 {
            let arg = &argv[i + 2];
            filter = if eq_ic(&argv[i + 1], "module") {
                Filter::Module
            } else if eq_ic(&argv[i + 1], "aclcat") {
                Filter::AclCat(meta::category_bit(arg))
            } else if eq_ic(&argv[i + 1], "pattern") {
                Filter::Pattern(arg.clone())
            } else {
                return Err(error::SYNTAX.into());
            };
            i += 3;
        } else {
            return Err(error::SYNTAX.into());
        }
    }
    let mut out = Vec::new();
    for m in top_level() {
        let subs = m.subcommands().iter().filter(|s| have(s));
        for m in std::iter::once(m).chain(subs) {
            let keep = match &filter {
                Filter::None => true,
                // No modules: no module has commands.
                Filter::Module => false,
                Filter::AclCat(bit) => bit.is_some_and(|b| m.acl & b != 0),
                Filter::Pattern(p) => crate::util::string_match(p, m.name.as_bytes(), true),
            };
            if keep {
                out.push(m.name);
            }
        }
    }
    Ok(out)
}
