//! Command metadata as Redis 7.0 reports it: ACL categories, key specs,
//! tips and documentation for every Redis command and subcommand (the data
//! is generated from the real server into `meta_data.rs` by
//! `tools/gen-command-meta.py`). This module owns the types, lookups by
//! name, key extraction from argv (Redis's getKeysFromCommandWithSpecs and
//! the native getkeys procs), channel extraction, and the COMMAND INFO /
//! COMMAND DOCS encoders.
//!
//! Execution still takes arity and flags from `cmd::table` (a test keeps
//! the two in agreement); the ACL and COMMAND use this metadata, which also
//! covers commands ferrodis does not have yet, so that ACL rules naming them
//! load and describe exactly as in Redis.

use super::meta_data::{ACL_CATEGORIES, META, META_LEN};
use crate::resp::Out;
use bytes::Bytes;
use std::collections::HashMap;
use std::sync::OnceLock;

pub const NO_PARENT: u16 = u16::MAX;

// Flags COMMAND INFO shows, in Redis's output order.
pub const F_WRITE: u32 = 1 << 0;
pub const F_READONLY: u32 = 1 << 1;
pub const F_DENYOOM: u32 = 1 << 2;
pub const F_MODULE: u32 = 1 << 3;
pub const F_ADMIN: u32 = 1 << 4;
pub const F_PUBSUB: u32 = 1 << 5;
pub const F_NOSCRIPT: u32 = 1 << 6;
pub const F_BLOCKING: u32 = 1 << 7;
pub const F_LOADING: u32 = 1 << 8;
pub const F_STALE: u32 = 1 << 9;
pub const F_SKIP_MONITOR: u32 = 1 << 10;
pub const F_SKIP_SLOWLOG: u32 = 1 << 11;
pub const F_ASKING: u32 = 1 << 12;
pub const F_FAST: u32 = 1 << 13;
pub const F_NO_AUTH: u32 = 1 << 14;
pub const F_NO_MANDATORY_KEYS: u32 = 1 << 15;
pub const F_NO_ASYNC_LOADING: u32 = 1 << 16;
pub const F_NO_MULTI: u32 = 1 << 17;
pub const F_MOVABLEKEYS: u32 = 1 << 18;
pub const F_ALLOW_BUSY: u32 = 1 << 19;
pub const FLAG_NAMES: [&str; 20] = [
    "write",
    "readonly",
    "denyoom",
    "module",
    "admin",
    "pubsub",
    "noscript",
    "blocking",
    "loading",
    "stale",
    "skip_monitor",
    "skip_slowlog",
    "asking",
    "fast",
    "no_auth",
    "no_mandatory_keys",
    "no_async_loading",
    "no_multi",
    "movablekeys",
    "allow_busy",
];

// Key spec flags (CMD_KEY_*), in Redis's output order.
pub const K_RO: u16 = 1 << 0;
pub const K_RW: u16 = 1 << 1;
pub const K_OW: u16 = 1 << 2;
pub const K_RM: u16 = 1 << 3;
pub const K_ACCESS: u16 = 1 << 4;
pub const K_UPDATE: u16 = 1 << 5;
pub const K_INSERT: u16 = 1 << 6;
pub const K_DELETE: u16 = 1 << 7;
pub const K_NOT_KEY: u16 = 1 << 8;
pub const K_INCOMPLETE: u16 = 1 << 9;
pub const K_VARIABLE_FLAGS: u16 = 1 << 10;
pub const KEY_FLAG_NAMES: [&str; 11] = [
    "RO",
    "RW",
    "OW",
    "RM",
    "access",
    "update",
    "insert",
    "delete",
    "not_key",
    "incomplete",
    "variable_flags",
];

// Argument flags and doc flags.
pub const A_OPTIONAL: u8 = 1 << 0;
pub const A_MULTIPLE: u8 = 1 << 1;
pub const A_MULTIPLE_TOKEN: u8 = 1 << 2;
const ARG_FLAG_NAMES: [&str; 3] = ["optional", "multiple", "multiple_token"];
pub const D_DEPRECATED: u8 = 1 << 0;
pub const D_SYSCMD: u8 = 1 << 1;
const DOC_FLAG_NAMES: [&str; 2] = ["deprecated", "syscmd"];

/// Where a key spec's keys begin.
#[derive(Clone, Copy, Debug)]
pub enum Bs {
    Unknown,
    Index(i32),
    /// (keyword, startfrom): search from `startfrom` (negative: from the
    /// end, backwards) for the keyword; keys follow it.
    Keyword(&'static str, i32),
}

/// How a key spec's keys are found from the beginning.
#[derive(Clone, Copy, Debug)]
pub enum Fk {
    Unknown,
    /// (lastkey, keystep, limit)
    Range(i32, i32, i32),
    /// (keynumidx, firstkey, keystep)
    Keynum(i32, i32, i32),
}

#[derive(Debug)]
pub struct KeySpec {
    pub notes: Option<&'static str>,
    pub flags: u16,
    pub bs: Bs,
    pub fk: Fk,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ArgType {
    Str,
    Integer,
    Double,
    Key,
    Pattern,
    UnixTime,
    PureToken,
    OneOf,
    Block,
}

impl ArgType {
    fn name(self) -> &'static str {
        match self {
            ArgType::Str => "string",
            ArgType::Integer => "integer",
            ArgType::Double => "double",
            ArgType::Key => "key",
            ArgType::Pattern => "pattern",
            ArgType::UnixTime => "unix-time",
            ArgType::PureToken => "pure-token",
            ArgType::OneOf => "oneof",
            ArgType::Block => "block",
        }
    }
}

#[derive(Debug)]
pub struct Arg {
    pub name: &'static str,
    pub typ: ArgType,
    /// -1: not a key.
    pub key_spec: i32,
    pub token: Option<&'static str>,
    pub summary: Option<&'static str>,
    pub since: Option<&'static str>,
    pub deprecated_since: Option<&'static str>,
    pub flags: u8,
    pub args: &'static [Arg],
}

#[derive(Debug)]
pub struct Doc {
    pub summary: Option<&'static str>,
    pub since: Option<&'static str>,
    pub group: &'static str,
    pub complexity: Option<&'static str>,
    pub doc_flags: u8,
    pub deprecated_since: Option<&'static str>,
    pub replaced_by: Option<&'static str>,
    pub history: &'static [(&'static str, &'static str)],
    pub args: Option<&'static [Arg]>,
}

impl Doc {
    pub const EMPTY: Doc = Doc {
        summary: None,
        since: None,
        group: "generic",
        complexity: None,
        doc_flags: 0,
        deprecated_since: None,
        replaced_by: None,
        history: &[],
        args: None,
    };
}

/// One Redis command or subcommand (`container|sub`).
#[derive(Debug)]
pub struct Meta {
    /// Full name, lowercase: `get`, `client|list`.
    pub name: &'static str,
    pub parent: u16,
    /// (first index in META, count) of the subcommands.
    pub subs: (u16, u16),
    pub arity: i32,
    pub flags: u32,
    /// Legacy (first key, last key, step) of COMMAND INFO.
    pub range: (i32, i32, i32),
    /// ACL category bits (bit n = ACL_CATEGORIES[n]).
    pub acl: u32,
    pub tips: &'static [&'static str],
    pub key_specs: &'static [KeySpec],
    pub doc: Doc,
}

/// A command's index in META: its ACL command id.
pub type MetaId = u16;

impl Meta {
    pub fn has_subcommands(&self) -> bool {
        self.subs.1 > 0
    }

    pub fn subcommands(&self) -> &'static [Meta] {
        let (start, n) = (self.subs.0 as usize, self.subs.1 as usize);
        &META[start..start + n]
    }

    pub fn is_sub(&self) -> bool {
        self.parent != NO_PARENT
    }

    pub fn id(&self) -> MetaId {
        // META is a flat array: the offset is the index.
        let base = META.as_ptr() as usize;
        ((self as *const Meta as usize - base) / std::mem::size_of::<Meta>()) as MetaId
    }

    pub fn arity_ok(&self, argc: usize) -> bool {
        let a = self.arity;
        (a > 0 && argc as i32 == a) || (a < 0 && argc as i32 >= -a)
    }

    /// The command's own part of the name (`list` for `client|list`).
    pub fn short_name(&self) -> &'static str {
        self.name.rsplit('|').next().unwrap_or(self.name)
    }

    pub(crate) fn all_key_flags(&self) -> u16 {
        self.key_specs.iter().fold(0, |f, s| f | s.flags)
    }

    /// Redis's doesCommandHaveKeys: a getkeys proc, or a key spec that is
    /// not NOT_KEY.
    pub fn has_keys(&self) -> bool {
        self.derived().has_keys
    }

    /// Facts about the command computed once (its key and channel rules).
    pub fn derived(&self) -> &'static Derived {
        static DERIVED: OnceLock<Vec<Derived>> = OnceLock::new();
        let all = DERIVED.get_or_init(|| META.iter().map(Derived::of).collect());
        &all[self.id() as usize]
    }
}

/// What the key and channel walks need about a command, precomputed: the
/// ACL check runs them on every command of a restricted user.
pub struct Derived {
    pub has_keys: bool,
    /// Key specs give the keys (some real key spec, no variable flags).
    pub specs_reliable: bool,
    pub getkeys: Option<GetKeysProc>,
    pub channels: Option<(u8, usize, i32)>,
}

impl Derived {
    fn of(m: &Meta) -> Derived {
        let real_key = m.key_specs.iter().any(|s| s.flags & K_NOT_KEY == 0);
        let varflags = m.all_key_flags() & K_VARIABLE_FLAGS != 0;
        let getkeys = getkeys_proc(m.name);
        Derived {
            has_keys: getkeys.is_some() || real_key,
            specs_reliable: real_key && !varflags,
            getkeys,
            channels: channel_spec(m.name),
        }
    }
}

pub fn all() -> &'static [Meta] {
    &META
}

pub fn by_id(id: MetaId) -> &'static Meta {
    &META[id as usize]
}

pub const COUNT: usize = META_LEN;

type NameIndex = HashMap<&'static str, MetaId, rustc_hash::FxBuildHasher>;

fn name_index() -> &'static NameIndex {
    static INDEX: OnceLock<NameIndex> = OnceLock::new();
    INDEX.get_or_init(|| {
        META.iter()
            .enumerate()
            .map(|(i, m)| (m.name, i as MetaId))
            .collect()
    })
}

/// Finds a command or subcommand by its full name (`get`, `client|list`),
/// case-insensitively.
pub fn find(name: &[u8]) -> Option<&'static Meta> {
    let mut buf = [0u8; 64];
    if name.len() > buf.len() {
        return None;
    }
    for (d, s) in buf.iter_mut().zip(name) {
        *d = s.to_ascii_lowercase();
    }
    let s = std::str::from_utf8(&buf[..name.len()]).ok()?;
    name_index().get(s).map(|&i| &META[i as usize])
}

/// A command or subcommand ACL rules may name: every Redis 7.0 command
/// (their handlers land over time), except that SENTINEL exists only in
/// Sentinel mode, and Sentinel mode knows only the commands it serves (as
/// Redis's command table in each mode).
pub fn find_for_acl(name: &[u8]) -> Option<&'static Meta> {
    let m = find(name)?;
    let top = if m.is_sub() { by_id(m.parent) } else { m };
    let sentinel_mode = crate::cmd::lookup_original("sentinel").is_some();
    let known = if sentinel_mode {
        crate::cmd::lookup_original(top.name).is_some()
    } else {
        top.name != "sentinel"
    };
    known.then_some(m)
}

/// A container's subcommand by its own name, case-insensitively.
pub fn find_sub(parent: &'static Meta, sub: &[u8]) -> Option<&'static Meta> {
    parent
        .subcommands()
        .iter()
        .find(|m| m.short_name().as_bytes().eq_ignore_ascii_case(sub))
}

/// Redis's lookupCommand over the whole Redis table: the subcommand when
/// the command has subcommands and argv has a second argument (None when
/// that subcommand does not exist), else the command.
pub fn resolve(argv: &[Bytes]) -> Option<&'static Meta> {
    let base = find(argv.first()?)?;
    if argv.len() == 1 || !base.has_subcommands() {
        return Some(base);
    }
    find_sub(base, &argv[1])
}

pub fn category_bit(name: &[u8]) -> Option<u32> {
    ACL_CATEGORIES
        .iter()
        .position(|c| c.as_bytes().eq_ignore_ascii_case(name))
        .map(|i| 1u32 << i)
}

pub fn categories() -> &'static [&'static str] {
    ACL_CATEGORIES
}

pub use super::meta_keys::*;

// ---- COMMAND INFO / COMMAND DOCS encoders ----

fn flag_set(o: &mut Out<'_>, flags: u32, names: &[&str]) {
    let n = (0..names.len()).filter(|i| flags & (1 << i) != 0).count();
    o.set(n);
    for (i, name) in names.iter().enumerate() {
        if flags & (1 << i) != 0 {
            o.simple(name);
        }
    }
}

pub fn reply_key_flags(o: &mut Out<'_>, flags: u16) {
    flag_set(o, flags as u32, &KEY_FLAG_NAMES);
}

/// One COMMAND INFO entry (Redis's addReplyCommandInfo). `subs_filter`
/// decides which subcommands exist here.
pub fn reply_info(o: &mut Out<'_>, m: &'static Meta, has: &dyn Fn(&Meta) -> bool) {
    o.array(10);
    o.bulk(m.name.as_bytes());
    o.int(m.arity as i64);
    flag_set(o, m.flags, &FLAG_NAMES);
    o.int(m.range.0 as i64);
    o.int(m.range.1 as i64);
    o.int(m.range.2 as i64);
    o.set(m.acl.count_ones() as usize);
    for (i, c) in ACL_CATEGORIES.iter().enumerate() {
        if m.acl & (1 << i) != 0 {
            o.simple(&format!("@{c}"));
        }
    }
    o.set(m.tips.len());
    for t in m.tips {
        o.bulk(t.as_bytes());
    }
    o.set(m.key_specs.len());
    for ks in m.key_specs {
        reply_key_spec(o, ks);
    }
    let subs: Vec<&'static Meta> = m.subcommands().iter().filter(|s| has(s)).collect();
    if !m.has_subcommands() {
        o.set(0);
    } else {
        o.array(subs.len());
        for s in subs {
            reply_info(o, s, has);
        }
    }
}

fn reply_key_spec(o: &mut Out<'_>, ks: &KeySpec) {
    o.map(3 + ks.notes.is_some() as usize);
    if let Some(n) = ks.notes {
        o.bulk(b"notes");
        o.bulk(n.as_bytes());
    }
    o.bulk(b"flags");
    reply_key_flags(o, ks.flags);
    o.bulk(b"begin_search");
    o.map(2);
    o.bulk(b"type");
    match ks.bs {
        Bs::Unknown => {
            o.bulk(b"unknown");
            o.bulk(b"spec");
            o.map(0);
        }
        Bs::Index(i) => {
            o.bulk(b"index");
            o.bulk(b"spec");
            o.map(1);
            o.bulk(b"index");
            o.int(i as i64);
        }
        Bs::Keyword(kw, from) => {
            o.bulk(b"keyword");
            o.bulk(b"spec");
            o.map(2);
            o.bulk(b"keyword");
            o.bulk(kw.as_bytes());
            o.bulk(b"startfrom");
            o.int(from as i64);
        }
    }
    o.bulk(b"find_keys");
    o.map(2);
    o.bulk(b"type");
    match ks.fk {
        Fk::Unknown => {
            o.bulk(b"unknown");
            o.bulk(b"spec");
            o.map(0);
        }
        Fk::Range(last, step, limit) => {
            o.bulk(b"range");
            o.bulk(b"spec");
            o.map(3);
            o.bulk(b"lastkey");
            o.int(last as i64);
            o.bulk(b"keystep");
            o.int(step as i64);
            o.bulk(b"limit");
            o.int(limit as i64);
        }
        Fk::Keynum(idx, first, step) => {
            o.bulk(b"keynum");
            o.bulk(b"spec");
            o.map(3);
            o.bulk(b"keynumidx");
            o.int(idx as i64);
            o.bulk(b"firstkey");
            o.int(first as i64);
            o.bulk(b"keystep");
            o.int(step as i64);
        }
    }
}

fn reply_args(o: &mut Out<'_>, args: &[Arg]) {
    o.array(args.len());
    for a in args {
        let nested = matches!(a.typ, ArgType::OneOf | ArgType::Block);
        let n = 2
            + (a.key_spec != -1) as usize
            + a.token.is_some() as usize
            + a.summary.is_some() as usize
            + a.since.is_some() as usize
            + a.deprecated_since.is_some() as usize
            + (a.flags != 0) as usize
            + nested as usize;
        o.map(n);
        o.bulk(b"name");
        o.bulk(a.name.as_bytes());
        o.bulk(b"type");
        o.bulk(a.typ.name().as_bytes());
        if a.key_spec != -1 {
            o.bulk(b"key_spec_index");
            o.int(a.key_spec as i64);
        }
        for (k, v) in [
            ("token", a.token),
            ("summary", a.summary),
            ("since", a.since),
            ("deprecated_since", a.deprecated_since),
        ] {
            if let Some(v) = v {
                o.bulk(k.as_bytes());
                o.bulk(v.as_bytes());
            }
        }
        if a.flags != 0 {
            o.bulk(b"flags");
            flag_set(o, a.flags as u32, &ARG_FLAG_NAMES);
        }
        if nested {
            o.bulk(b"arguments");
            reply_args(o, a.args);
        }
    }
}

/// One COMMAND DOCS value (Redis's addReplyCommandDocs).
pub fn reply_docs(o: &mut Out<'_>, m: &'static Meta, has: &dyn Fn(&Meta) -> bool) {
    let d = &m.doc;
    let n = 1
        + d.summary.is_some() as usize
        + d.since.is_some() as usize
        + d.complexity.is_some() as usize
        + (d.doc_flags != 0) as usize
        + d.deprecated_since.is_some() as usize
        + d.replaced_by.is_some() as usize
        + !d.history.is_empty() as usize
        + d.args.is_some() as usize
        + m.has_subcommands() as usize;
    o.map(n);
    if let Some(s) = d.summary {
        o.bulk(b"summary");
        o.bulk(s.as_bytes());
    }
    if let Some(s) = d.since {
        o.bulk(b"since");
        o.bulk(s.as_bytes());
    }
    o.bulk(b"group");
    o.bulk(d.group.as_bytes());
    if let Some(s) = d.complexity {
        o.bulk(b"complexity");
        o.bulk(s.as_bytes());
    }
    if d.doc_flags != 0 {
        o.bulk(b"doc_flags");
        flag_set(o, d.doc_flags as u32, &DOC_FLAG_NAMES);
    }
    if let Some(s) = d.deprecated_since {
        o.bulk(b"deprecated_since");
        o.bulk(s.as_bytes());
    }
    if let Some(s) = d.replaced_by {
        o.bulk(b"replaced_by");
        o.bulk(s.as_bytes());
    }
    if !d.history.is_empty() {
        o.bulk(b"history");
        o.set(d.history.len());
        for (since, what) in d.history {
            o.array(2);
            o.bulk(since.as_bytes());
            o.bulk(what.as_bytes());
        }
    }
    if let Some(args) = d.args {
        o.bulk(b"arguments");
        reply_args(o, args);
    }
    if m.has_subcommands() {
        o.bulk(b"subcommands");
        let subs: Vec<&'static Meta> = m.subcommands().iter().filter(|s| has(s)).collect();
        o.map(subs.len());
        for s in subs {
            o.bulk(s.name.as_bytes());
            reply_docs(o, s, has);
        }
    }
}
