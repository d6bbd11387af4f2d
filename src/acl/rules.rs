//! The ACL rule grammar (Redis 7.0's ACLSetUser / ACLSetSelector): flags,
//! passwords, command and category rules, key and channel patterns,
//! selectors; merging selectors split across arguments; and describing a
//! user back as rules (ACLDescribeUser, used by ACL LIST, ACL GETUSER,
//! ACL SAVE and CONFIG REWRITE).

use super::*;
use crate::cmd::meta::{self, Meta};

/// Why a rule was refused (Redis sets errno; the text is
/// ACLSetUserStringError's).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RuleError {
    /// EINVAL
    Syntax,
    /// ENOENT
    UnknownCommand,
    /// EEXIST
    KeyAfterAll,
    /// EISDIR
    ChannelAfterAll,
    /// ENODEV
    NoSuchPassword,
    /// EBADMSG
    BadHash,
    /// EALREADY
    Duplicate,
    /// ECHILD
    FirstArgOfSub,
}

impl RuleError {
    pub fn text(self) -> &'static str {
        match self {
            RuleError::UnknownCommand => "Unknown command or category name in ACL",
            RuleError::Syntax => "Syntax error",
            RuleError::KeyAfterAll => "Adding a pattern after the * pattern (or the 'allkeys' flag) is not valid and does not have any effect. Try 'resetkeys' to start with an empty list of patterns",
            RuleError::ChannelAfterAll => "Adding a pattern after the * pattern (or the 'allchannels' flag) is not valid and does not have any effect. Try 'resetchannels' to start with an empty list of channels",
            RuleError::NoSuchPassword => "The password you are trying to remove from the user does not exist",
            RuleError::BadHash => "The password hash must be exactly 64 characters and contain only lowercase hexadecimal characters",
            RuleError::Duplicate => "Duplicate user found. A user can only be defined once in config files",
            RuleError::FirstArgOfSub => "Allowing first-arg of a subcommand is not supported",
        }
    }
}

/// ACLStringHasSpaces: spaces and NUL are refused in names and patterns.
pub fn has_spaces(s: &[u8]) -> bool {
    s.iter()
        .any(|&c| c == 0 || matches!(c, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c))
}

/// The default user as created at startup: on, nopass, everything.
pub fn default_user(pubsub_default: u8) -> User {
    let mut u = User::new(b"default", pubsub_default);
    for op in ["+@all", "~*", "&*", "on", "nopass"] {
        let _ = set_user(&mut u, op.as_bytes(), pubsub_default);
    }
    u.refresh();
    u
}

fn eq(op: &[u8], s: &str) -> bool {
    op.eq_ignore_ascii_case(s.as_bytes())
}

/// ACLChangeSelectorPerm: a command's bit, and all its subcommands' bits.
fn change_perm(s: &mut Selector, m: &Meta, allow: bool) {
    let id = m.id();
    s.set_bit(id as usize, allow);
    s.firstargs.retain(|(i, _)| *i != id);
    for sub in m.subcommands() {
        s.set_bit(sub.id() as usize, allow);
    }
}

/// +@cat / -@cat over every command and subcommand in the category.
fn change_category(s: &mut Selector, cat: u32, allow: bool) {
    for m in meta::all() {
        if m.acl & cat != 0 {
            change_perm(s, m, allow);
        }
    }
}

fn is_valid_hash(h: &[u8]) -> bool {
    h.len() == 64 && h.iter().all(|c| matches!(c, b'0'..=b'9' | b'a'..=b'f'))
}

fn hash_of(h: &[u8]) -> [u8; 64] {
    let mut out = [0u8; 64];
    out.copy_from_slice(h);
    out
}

/// ACLSetSelector: one rule about commands, keys or channels.
pub fn set_selector(s: &mut Selector, op: &[u8]) -> Result<(), RuleError> {
    if eq(op, "allkeys") || op == b"~*" {
        s.flags |= SEL_ALLKEYS;
        s.patterns.clear();
    } else if eq(op, "resetkeys") {
        s.flags &= !SEL_ALLKEYS;
        s.patterns.clear();
    } else if eq(op, "allchannels") || op == b"&*" {
        s.flags |= SEL_ALLCHANNELS;
        s.channels.clear();
    } else if eq(op, "resetchannels") {
        s.flags &= !SEL_ALLCHANNELS;
        s.channels.clear();
    } else if eq(op, "allcommands") || eq(op, "+@all") {
        s.allowed = [u64::MAX; WORDS];
        s.flags |= SEL_ALLCOMMANDS;
        s.firstargs.clear();
    } else if eq(op, "nocommands") || eq(op, "-@all") {
        s.allowed = [0; WORDS];
        s.flags &= !SEL_ALLCOMMANDS;
        s.firstargs.clear();
    } else if op[0] == b'~' || op[0] == b'%' {
        if s.flags & SEL_ALLKEYS != 0 {
            return Err(RuleError::KeyAfterAll);
        }
        let mut flags = 0;
        let mut offset = 1;
        if op[0] == b'%' {
            // (As Debian's Redis 7.0.15 with the CVE-2024-51741 fix: `%`
            // needs R and/or W; `%RW` with no `~` matches no key.)
            let mut perm_ok = true;
            while offset < op.len() {
                let c = op[offset].to_ascii_uppercase();
                if c == b'R' && flags & KEY_READ == 0 {
                    flags |= KEY_READ;
                } else if c == b'W' && flags & KEY_WRITE == 0 {
                    flags |= KEY_WRITE;
                } else if op[offset] == b'~' {
                    offset += 1;
                    break;
                } else {
                    perm_ok = false;
                    break;
                }
                offset += 1;
            }
            if flags == 0 || !perm_ok {
                return Err(RuleError::Syntax);
            }
        } else {
            flags = KEY_ALL;
        }
        let pat = &op[offset.min(op.len())..];
        if has_spaces(pat) {
            return Err(RuleError::Syntax);
        }
        match s.patterns.iter_mut().find(|p| p.pattern == pat) {
            Some(p) => p.flags |= flags,
            None => s.patterns.push(KeyPattern {
                flags,
                pattern: pat.to_vec(),
            }),
        }
        s.flags &= !SEL_ALLKEYS;
    } else if op[0] == b'&' {
        if s.flags & SEL_ALLCHANNELS != 0 {
            return Err(RuleError::ChannelAfterAll);
        }
        let pat = &op[1..];
        if has_spaces(pat) {
            return Err(RuleError::Syntax);
        }
        if !s.channels.iter().any(|c| c == pat) {
            s.channels.push(pat.to_vec());
        }
        s.flags &= !SEL_ALLCHANNELS;
    } else if op[0] == b'+' && op.get(1) != Some(&b'@') {
        let name = &op[1..];
        match name.iter().rposition(|&c| c == b'|') {
            None => {
                let m = meta::find_for_acl(name).ok_or(RuleError::UnknownCommand)?;
                change_perm(s, m, true);
            }
            Some(bar) => {
                let (base, sub) = (&name[..bar], &name[bar + 1..]);
                let m = meta::find_for_acl(base).ok_or(RuleError::UnknownCommand)?;
                if m.is_sub() {
                    return Err(RuleError::FirstArgOfSub);
                }
                if sub.is_empty() {
                    return Err(RuleError::Syntax);
                }
                if m.has_subcommands() {
                    let sm = meta::find_for_acl(name).ok_or(RuleError::UnknownCommand)?;
                    change_perm(s, sm, true);
                } else {
                    // SELECT|0, DEBUG|OBJECT...: an allowed first argument.
                    ::log::warn!(
                        "Deprecation warning: Allowing a first arg of an otherwise blocked command is a misuse of ACL and may get disabled in the future (offender: +{})",
                        String::from_utf8_lossy(name)
                    );
                    let id = m.id();
                    match s.firstargs.iter_mut().find(|(i, _)| *i == id) {
                        Some((_, subs)) => {
                            if !subs.iter().any(|x| x.eq_ignore_ascii_case(sub)) {
                                subs.push(sub.to_vec());
                            }
                        }
                        None => s.firstargs.push((id, vec![sub.to_vec()])),
                    }
                }
            }
        }
    } else if op[0] == b'-' && op.get(1) != Some(&b'@') {
        let m = meta::find_for_acl(&op[1..]).ok_or(RuleError::UnknownCommand)?;
        change_perm(s, m, false);
    } else if (op[0] == b'+' || op[0] == b'-') && op.get(1) == Some(&b'@') {
        let cat = meta::category_bit(&op[2..]).ok_or(RuleError::UnknownCommand)?;
        change_category(s, cat, op[0] == b'+');
    } else {
        return Err(RuleError::Syntax);
    }
    Ok(())
}

/// ACLSetUser: one rule (`op` non-empty after merging selectors).
pub fn set_user(u: &mut User, op: &[u8], pubsub_default: u8) -> Result<(), RuleError> {
    if op.is_empty() {
        return Ok(());
    }
    if eq(op, "on") {
        u.flags = (u.flags | USER_ENABLED) & !USER_DISABLED;
    } else if eq(op, "off") {
        u.flags = (u.flags | USER_DISABLED) & !USER_ENABLED;
    } else if eq(op, "skip-sanitize-payload") {
        u.flags = (u.flags | USER_SKIP_SANITIZE) & !USER_SANITIZE;
    } else if eq(op, "sanitize-payload") {
        u.flags = (u.flags | USER_SANITIZE) & !USER_SKIP_SANITIZE;
    } else if eq(op, "nopass") {
        u.flags |= USER_NOPASS;
        u.passwords.clear();
    } else if eq(op, "resetpass") {
        u.flags &= !USER_NOPASS;
        u.passwords.clear();
    } else if op[0] == b'>' || op[0] == b'#' {
        let h = if op[0] == b'>' {
            hash_password(&op[1..])
        } else {
            if !is_valid_hash(&op[1..]) {
                return Err(RuleError::BadHash);
            }
            hash_of(&op[1..])
        };
        if !u.passwords.contains(&h) {
            u.passwords.push(h);
        }
        u.flags &= !USER_NOPASS;
    } else if op[0] == b'<' || op[0] == b'!' {
        let h = if op[0] == b'<' {
            hash_password(&op[1..])
        } else {
            if !is_valid_hash(&op[1..]) {
                return Err(RuleError::BadHash);
            }
            hash_of(&op[1..])
        };
        let Some(i) = u.passwords.iter().position(|p| *p == h) else {
            return Err(RuleError::NoSuchPassword);
        };
        u.passwords.remove(i);
    } else if op[0] == b'(' && op[op.len() - 1] == b')' {
        let mut s = Selector::new(0, pubsub_default);
        let inner = &op[1..op.len() - 1];
        let args = crate::util::splitargs::split_args(inner).ok_or(RuleError::Syntax)?;
        for a in args {
            set_selector(&mut s, &a)?;
        }
        u.selectors.push(s);
    } else if eq(op, "clearselectors") {
        u.selectors.truncate(1);
    } else if eq(op, "reset") {
        u.flags &= !USER_NOPASS;
        u.passwords.clear();
        let root = u.root_mut();
        root.flags &= !(SEL_ALLKEYS | SEL_ALLCHANNELS);
        root.patterns.clear();
        root.channels.clear();
        if pubsub_default & SEL_ALLCHANNELS != 0 {
            root.flags |= SEL_ALLCHANNELS;
        }
        u.flags = (u.flags | USER_DISABLED | USER_SANITIZE) & !(USER_ENABLED | USER_SKIP_SANITIZE);
        u.selectors.truncate(1);
        let root = u.root_mut();
        root.allowed = [0; WORDS];
        root.flags &= !SEL_ALLCOMMANDS;
        root.firstargs.clear();
    } else {
        set_selector(u.root_mut(), op)?;
    }
    Ok(())
}

/// ACLMergeSelectorArguments: `(` ... `)` spread over several arguments
/// become one. Err(index) of an unmatched opening argument.
pub fn merge_selector_args(args: &[Vec<u8>]) -> Result<Vec<Vec<u8>>, usize> {
    let mut out = Vec::with_capacity(args.len());
    let mut open: Option<(usize, Vec<u8>)> = None;
    for (j, op) in args.iter().enumerate() {
        if let Some((_, sel)) = open.as_mut() {
            sel.push(b' ');
            sel.extend_from_slice(op);
            if op.last() == Some(&b')') {
                if let Some((_, sel)) = open.take() {
                    out.push(sel);
                }
            }
            continue;
        }
        if op.first() == Some(&b'(') && op.last() != Some(&b')') {
            open = Some((j, op.clone()));
            continue;
        }
        out.push(op.clone());
    }
    match open {
        Some((j, _)) => Err(j),
        None => Ok(out),
    }
}

/// ACLStringSetUser: applies rules to a copy of `base` (or a new user),
/// all or nothing. Err is the full error message.
pub fn apply_rules(
    base: Option<&User>,
    name: &[u8],
    args: &[Vec<u8>],
    pubsub_default: u8,
) -> Result<User, String> {
    let merged = merge_selector_args(args).map_err(|j| {
        format!(
            "Unmatched parenthesis in acl selector starting at '{}'.",
            String::from_utf8_lossy(&args[j])
        )
    })?;
    let mut u = match base {
        Some(b) => b.clone(),
        None => User::new(name, pubsub_default),
    };
    for op in &merged {
        if let Err(e) = set_user(&mut u, op, pubsub_default) {
            return Err(format!(
                "Error in ACL SETUSER modifier '{}': {}",
                String::from_utf8_lossy(op),
                e.text()
            ));
        }
    }
    u.refresh();
    Ok(u)
}

// ---- describing a user back as rules ----

fn count_category(s: &Selector, cat: u32) -> (u32, u32) {
    let (mut on, mut off) = (0, 0);
    for m in meta::all() {
        if m.acl & cat != 0 {
            if s.bit(m.id() as usize) {
                on += 1;
            } else {
                off += 1;
            }
        }
    }
    (on, off)
}

/// ACLDescribeSelectorCommandRules: `+@all` or `-@all`, then the
/// categories that fit best, then single commands to make the bitmap
/// exact.
pub fn describe_commands(s: &Selector) -> String {
    let mut rules = String::new();
    let additive = !s.bit(FUTURE_BIT);
    let mut fake = Selector::new(0, 0);
    if additive {
        rules.push_str("-@all ");
    } else {
        rules.push_str("+@all ");
        fake.allowed = [u64::MAX; WORDS];
    }
    let mut temp = Selector::new(0, 0);
    temp.allowed = s.allowed;
    let cats = meta::categories();
    let mut applied = vec![false; cats.len()];
    loop {
        let mut best = None;
        let (mut mindiff, mut maxsame) = (u32::MAX, 0);
        for (j, _) in cats.iter().enumerate() {
            if applied[j] {
                continue;
            }
            let (on, off) = count_category(&temp, 1 << j);
            let (diff, same) = if additive { (off, on) } else { (on, off) };
            if same > diff && (diff < mindiff || (diff == mindiff && same > maxsame)) {
                best = Some(j);
                mindiff = diff;
                maxsame = same;
            }
        }
        let Some(j) = best else {
            break;
        };
        rules.push_str(if additive { "+@" } else { "-@" });
        rules.push_str(cats[j]);
        rules.push(' ');
        change_category(&mut fake, 1 << j, additive);
        change_category(&mut temp, 1 << j, !additive);
        applied[j] = true;
    }
    // Single commands (containers first, then their subcommands).
    for m in meta::all() {
        let id = m.id() as usize;
        let userbit = s.bit(id);
        if userbit != fake.bit(id) {
            rules.push(if userbit { '+' } else { '-' });
            rules.push_str(m.name);
            rules.push(' ');
            change_perm(&mut fake, m, userbit);
        }
        if !userbit {
            if let Some((_, subs)) = s.firstargs.iter().find(|(i, _)| *i as usize == id) {
                for sub in subs {
                    rules.push('+');
                    rules.push_str(m.name);
                    rules.push('|');
                    rules.push_str(&String::from_utf8_lossy(sub));
                    rules.push(' ');
                }
            }
        }
    }
    rules.pop();
    rules
}

fn pattern_string(p: &KeyPattern) -> String {
    let prefix = match p.flags {
        KEY_READ => "%R~",
        KEY_WRITE => "%W~",
        _ => "~",
    };
    format!("{prefix}{}", String::from_utf8_lossy(&p.pattern))
}

/// ACLDescribeSelector: keys, channels, commands.
pub fn describe_selector(s: &Selector) -> String {
    let mut out = String::new();
    if s.flags & SEL_ALLKEYS != 0 {
        out.push_str("~* ");
    } else {
        for p in &s.patterns {
            out.push_str(&pattern_string(p));
            out.push(' ');
        }
    }
    if s.flags & SEL_ALLCHANNELS != 0 {
        out.push_str("&* ");
    } else {
        out.push_str("resetchannels ");
        for c in &s.channels {
            out.push('&');
            out.push_str(&String::from_utf8_lossy(c));
            out.push(' ');
        }
    }
    out.push_str(&describe_commands(s));
    out
}

/// ACLDescribeUser: flags, password digests, then each selector.
pub fn describe_user(u: &User) -> String {
    let mut out = String::new();
    for (i, name) in USER_FLAG_NAMES.iter().enumerate() {
        if u.flags & (1 << i) != 0 {
            out.push_str(name);
            out.push(' ');
        }
    }
    for p in &u.passwords {
        out.push('#');
        out.push_str(&String::from_utf8_lossy(p));
        out.push(' ');
    }
    for (i, s) in u.selectors.iter().enumerate() {
        if i == 0 {
            out.push_str(&describe_selector(s));
        } else {
            out.push_str(&format!(" ({})", describe_selector(s)));
        }
    }
    out
}

/// The key patterns of a selector as ACL GETUSER shows them.
pub fn describe_keys(s: &Selector) -> String {
    if s.flags & SEL_ALLKEYS != 0 {
        return "~*".into();
    }
    s.patterns
        .iter()
        .map(pattern_string)
        .collect::<Vec<_>>()
        .join(" ")
}

/// The channel patterns of a selector as ACL GETUSER shows them.
pub fn describe_channels(s: &Selector) -> String {
    if s.flags & SEL_ALLCHANNELS != 0 {
        return "&*".into();
    }
    s.channels
        .iter()
        .map(|c| format!("&{}", String::from_utf8_lossy(c)))
        .collect::<Vec<_>>()
        .join(" ")
}
