//! ACL: users, their selectors (Redis 7.0's ACL v2), password checks, and
//! the permission check every command goes through. Pure: no clients, no
//! sockets; the server applies the effects (disconnecting clients of a
//! deleted or changed user) and calls `check_command` from its one place
//! in processCommand (and from EXEC and scripts).
//!
//! Submodules: `rules` (the rule grammar of ACL SETUSER, `user` lines and
//! ACL files, and describing a user back as rules), `log` (ACL LOG),
//! `file` (ACL LOAD / ACL SAVE).
//!
//! Passwords are kept as SHA-256 hex digests, as Redis does, and compared
//! in constant time. Command permissions are bitmaps indexed by the
//! command's id in the generated Redis 7.0 metadata (`cmd::meta`), which
//! covers every Redis command: rules written for real Redis load and
//! describe identically here.

pub mod file;
pub mod log;
pub mod rules;

use crate::cmd::meta::{self, KeyRef, Meta, K_ACCESS, K_DELETE, K_INSERT, K_UPDATE};
use bytes::Bytes;
use std::collections::BTreeMap;

// User flags, in ACLDescribeUser's order.
pub const USER_ENABLED: u8 = 1 << 0;
pub const USER_DISABLED: u8 = 1 << 1;
pub const USER_NOPASS: u8 = 1 << 2;
pub const USER_SKIP_SANITIZE: u8 = 1 << 3;
pub const USER_SANITIZE: u8 = 1 << 4;
pub const USER_FLAG_NAMES: [&str; 5] = [
    "on",
    "off",
    "nopass",
    "skip-sanitize-payload",
    "sanitize-payload",
];

// Selector flags.
pub const SEL_ROOT: u8 = 1 << 0;
pub const SEL_ALLKEYS: u8 = 1 << 1;
pub const SEL_ALLCOMMANDS: u8 = 1 << 2;
pub const SEL_ALLCHANNELS: u8 = 1 << 3;

// Key pattern permissions.
pub const KEY_READ: u8 = 1 << 0;
pub const KEY_WRITE: u8 = 1 << 1;
pub const KEY_ALL: u8 = KEY_READ | KEY_WRITE;

/// Words of a command bitmap: every command id plus the "future
/// commands" bit that only +@all sets.
pub const WORDS: usize = (meta::COUNT + 1).div_ceil(64);
pub const FUTURE_BIT: usize = WORDS * 64 - 1;

/// A user's id: its slot in `Acl::users`; the default user is 0.
pub type UserId = u32;
pub const DEFAULT_USER: UserId = 0;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyPattern {
    pub flags: u8,
    pub pattern: Vec<u8>,
}

/// One set of permissions: the root selector of a user, or one of its
/// `(...)` selectors. A command is allowed when any selector allows it.
#[derive(Clone, Debug)]
pub struct Selector {
    pub flags: u8,
    pub allowed: [u64; WORDS],
    /// `+cmd|firstarg` rules of commands without subcommands: the first
    /// arguments allowed while the command's own bit is off.
    pub firstargs: Vec<(meta::MetaId, Vec<Vec<u8>>)>,
    pub patterns: Vec<KeyPattern>,
    pub channels: Vec<Vec<u8>>,
}

impl Selector {
    pub fn new(flags: u8, pubsub_default: u8) -> Selector {
        Selector {
            flags: flags | pubsub_default,
            allowed: [0; WORDS],
            firstargs: Vec::new(),
            patterns: Vec::new(),
            channels: Vec::new(),
        }
    }

    pub fn bit(&self, id: usize) -> bool {
        self.allowed[id / 64] & (1 << (id % 64)) != 0
    }

    pub fn set_bit(&mut self, id: usize, on: bool) {
        if on {
            self.allowed[id / 64] |= 1 << (id % 64);
        } else {
            self.allowed[id / 64] &= !(1 << (id % 64));
            self.flags &= !SEL_ALLCOMMANDS;
        }
    }

    fn unrestricted(&self) -> bool {
        self.flags & (SEL_ALLCOMMANDS | SEL_ALLKEYS | SEL_ALLCHANNELS)
            == (SEL_ALLCOMMANDS | SEL_ALLKEYS | SEL_ALLCHANNELS)
    }

    /// Redis's ACLSelectorCheckKey: some pattern with the needed
    /// permissions matches the key.
    pub fn check_key(&self, key: &[u8], keyspec_flags: u16) -> bool {
        if self.flags & SEL_ALLKEYS != 0 {
            return true;
        }
        let need = key_permission(keyspec_flags);
        self.patterns
            .iter()
            .any(|p| p.flags & need == need && crate::util::string_match(&p.pattern, key, false))
    }

    /// Some pattern `*` grants the needed permissions on every key.
    fn unrestricted_key_access(&self, keyspec_flags: u16) -> bool {
        if self.flags & SEL_ALLKEYS != 0 {
            return true;
        }
        let need = key_permission(keyspec_flags);
        self.patterns
            .iter()
            .any(|p| p.flags & need == need && p.pattern == b"*")
    }

    fn command_allowed(&self, m: &Meta, argv: &[Bytes]) -> bool {
        if self.flags & SEL_ALLCOMMANDS != 0 || m.flags & meta::F_NO_AUTH != 0 {
            return true;
        }
        let id = m.id();
        if self.bit(id as usize) {
            return true;
        }
        let idx = if m.is_sub() { 2 } else { 1 };
        let Some(arg) = argv.get(idx) else {
            return false;
        };
        self.firstargs
            .iter()
            .find(|(i, _)| *i == id)
            .is_some_and(|(_, subs)| subs.iter().any(|s| s.eq_ignore_ascii_case(arg)))
    }

    /// Redis's ACLSelectorCheckCmd. `keys` caches the command's keys
    /// between selectors (computed on first use).
    fn check_command(
        &self,
        m: &Meta,
        argv: &[Bytes],
        keys: &mut KeyCache<'_>,
    ) -> Result<(), Denied> {
        if !self.command_allowed(m, argv) {
            return Err(Denied::Command);
        }
        let d = m.derived();
        if self.flags & SEL_ALLKEYS == 0 && d.has_keys {
            if !keys.ready {
                meta::get_keys(m, argv, keys.keys);
                keys.ready = true;
            }
            for k in keys.keys.iter() {
                if !self.check_key(&argv[k.pos], k.flags) {
                    return Err(Denied::Key(k.pos));
                }
            }
        }
        if self.flags & SEL_ALLCHANNELS == 0 {
            if let Some((flags, start, count)) = d.channels {
                if flags & (meta::CH_PUBLISH | meta::CH_SUBSCRIBE) != 0 {
                    let stop = if count < 0 {
                        argv.len()
                    } else {
                        (start + count as usize).min(argv.len())
                    };
                    let pattern = flags & meta::CH_PATTERN != 0;
                    for (pos, ch) in argv.iter().enumerate().take(stop).skip(start) {
                        if !channel_allowed(&self.channels, ch, pattern) {
                            return Err(Denied::Channel(pos));
                        }
                    }
                }
            }
        }
        Ok(())
    }
}

/// A command's keys, found once and shared by the selectors checked.
pub struct KeyCache<'a> {
    keys: &'a mut Vec<KeyRef>,
    ready: bool,
}

/// The ACL permissions a key spec's flags need.
fn key_permission(keyspec_flags: u16) -> u8 {
    let mut need = 0;
    if keyspec_flags & K_ACCESS != 0 {
        need |= KEY_READ;
    }
    if keyspec_flags & (K_INSERT | K_DELETE | K_UPDATE) != 0 {
        need |= KEY_WRITE;
    }
    need
}

/// Redis's ACLCheckChannelAgainstList: a channel is matched against the
/// patterns; a PSUBSCRIBE pattern only literally.
pub fn channel_allowed(list: &[Vec<u8>], channel: &[u8], is_pattern: bool) -> bool {
    list.iter().any(|p| {
        if is_pattern {
            p.as_slice() == channel
        } else {
            crate::util::string_match(p, channel, false)
        }
    })
}

#[derive(Clone, Debug)]
pub struct User {
    pub name: Vec<u8>,
    pub flags: u8,
    /// SHA-256 hex digests.
    pub passwords: Vec<[u8; 64]>,
    /// selectors[0] is the root selector.
    pub selectors: Vec<Selector>,
    /// Some selector allows every command, key and channel: the check is
    /// skipped (the default user's common case).
    pub unrestricted: bool,
}

impl User {
    pub fn new(name: &[u8], pubsub_default: u8) -> User {
        User {
            name: name.to_vec(),
            flags: USER_DISABLED,
            passwords: Vec::new(),
            selectors: vec![Selector::new(SEL_ROOT, pubsub_default)],
            unrestricted: false,
        }
    }

    pub fn name_str(&self) -> String {
        String::from_utf8_lossy(&self.name).into_owned()
    }

    pub fn root(&self) -> &Selector {
        &self.selectors[0]
    }

    pub fn root_mut(&mut self) -> &mut Selector {
        &mut self.selectors[0]
    }

    pub fn refresh(&mut self) {
        self.unrestricted = self.selectors.iter().any(Selector::unrestricted);
    }

    pub fn nopass(&self) -> bool {
        self.flags & USER_NOPASS != 0
    }

    pub fn enabled(&self) -> bool {
        self.flags & USER_DISABLED == 0
    }

    /// ACLCheckUserCredentials past the lookup: enabled, and nopass or a
    /// password whose digest matches (compared in constant time).
    pub fn password_ok(&self, pass: &[u8]) -> bool {
        if !self.enabled() {
            return false;
        }
        if self.nopass() {
            return true;
        }
        let hashed = hash_password(pass);
        // Every stored digest is compared, whatever matched before.
        self.passwords
            .iter()
            .fold(false, |ok, p| ok | constant_time_eq(&hashed, p))
    }

    /// Redis's ACLCheckAllUserCommandPerm: Ok when some selector allows
    /// the command with these arguments; otherwise the most relevant
    /// refusal (a key or channel over the command itself, the later
    /// argument among equals).
    pub fn check_command(&self, m: &Meta, argv: &[Bytes]) -> Result<(), Denied> {
        self.check_command_with(m, argv, &mut Vec::new())
    }

    /// `check_command` with a reusable buffer for the keys (no allocation
    /// per command on the hot path).
    pub fn check_command_with(
        &self,
        m: &Meta,
        argv: &[Bytes],
        scratch: &mut Vec<KeyRef>,
    ) -> Result<(), Denied> {
        if self.unrestricted {
            return Ok(());
        }
        let mut keys = KeyCache {
            keys: scratch,
            ready: false,
        };
        let mut worst = Denied::Command;
        for s in &self.selectors {
            match s.check_command(m, argv, &mut keys) {
                Ok(()) => return Ok(()),
                Err(d) => {
                    if d.rank() > worst.rank()
                        || (d.rank() == worst.rank() && d.pos() > worst.pos())
                    {
                        worst = d;
                    }
                }
            }
        }
        Err(worst)
    }

    /// ACLUserCheckKeyPerm: some selector grants `flags` on the key.
    pub fn check_key(&self, key: &[u8], keyspec_flags: u16) -> bool {
        self.selectors
            .iter()
            .any(|s| s.check_key(key, keyspec_flags))
    }

    /// ACLUserCheckChannelPerm.
    pub fn check_channel(&self, channel: &[u8], is_pattern: bool) -> bool {
        self.selectors.iter().any(|s| {
            s.flags & SEL_ALLCHANNELS != 0 || channel_allowed(&s.channels, channel, is_pattern)
        })
    }

    /// ACLUserCheckCmdWithUnrestrictedKeyAccess (SORT BY/GET): some
    /// selector allows the command and `flags` on every key.
    pub fn check_command_all_keys(&self, m: &Meta, argv: &[Bytes], keyspec_flags: u16) -> bool {
        let mut scratch = Vec::new();
        let mut keys = KeyCache {
            keys: &mut scratch,
            ready: false,
        };
        self.selectors.iter().any(|s| {
            s.check_command(m, argv, &mut keys).is_ok() && s.unrestricted_key_access(keyspec_flags)
        })
    }
}

/// Why a command was refused (Redis's ACL_DENIED_*), with the argv index
/// of the key or channel at fault.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Denied {
    Command,
    Key(usize),
    Channel(usize),
}

impl Denied {
    fn rank(self) -> u8 {
        match self {
            Denied::Command => 1,
            Denied::Key(_) => 2,
            Denied::Channel(_) => 4,
        }
    }

    fn pos(self) -> usize {
        match self {
            Denied::Command => 0,
            Denied::Key(p) | Denied::Channel(p) => p,
        }
    }

    /// The `-NOPERM` error processCommand replies (`fullname`: the
    /// command's full name).
    pub fn toplevel_error(self, fullname: &str) -> String {
        match self {
            Denied::Command => format!(
                "NOPERM this user has no permissions to run the '{fullname}' command"
            ),
            Denied::Key(_) => {
                "NOPERM this user has no permissions to access one of the keys used as arguments"
                    .to_string()
            }
            Denied::Channel(_) => "NOPERM this user has no permissions to access one of the channels used as arguments".to_string(),
        }
    }

    /// Redis's getAclErrorMessage (scripts: "The user executing the
    /// script " + this).
    pub fn message(self) -> &'static str {
        match self {
            Denied::Command => "can't run this command or subcommand",
            Denied::Key(_) => {
                "can't access at least one of the keys mentioned in the command arguments"
            }
            Denied::Channel(_) => "can't publish to the channel mentioned in the command",
        }
    }

    /// The error EXEC replies for a queued command the user may no
    /// longer run.
    pub fn exec_error(self) -> String {
        let reason = match self {
            Denied::Command => "no permission to execute the command or subcommand",
            Denied::Key(_) => "no permission to touch the specified keys",
            Denied::Channel(_) => "no permission to access one of the channels used as arguments",
        };
        format!("NOPERM ACLs rules changed between the moment the transaction was accumulated and the EXEC call. This command is no longer allowed for the following reason: {reason}")
    }
}

pub fn hash_password(pass: &[u8]) -> [u8; 64] {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(pass);
    let mut hex = [0u8; 64];
    const HEX: &[u8; 16] = b"0123456789abcdef";
    for (i, b) in digest.iter().enumerate() {
        hex[i * 2] = HEX[(b >> 4) as usize];
        hex[i * 2 + 1] = HEX[(b & 15) as usize];
    }
    hex
}

/// Equal-length comparison whose time does not depend on where the
/// inputs differ.
pub fn constant_time_eq(a: &[u8; 64], b: &[u8; 64]) -> bool {
    let mut diff = 0u8;
    for i in 0..64 {
        diff |= a[i] ^ b[i];
    }
    std::hint::black_box(diff) == 0
}

/// The user registry.
pub struct Acl {
    /// Slots by UserId (freed slots are reused).
    users: Vec<Option<User>>,
    by_name: BTreeMap<Vec<u8>, UserId>,
    pub log: log::AclLog,
    /// `acl-pubsub-default`: SEL_ALLCHANNELS or 0.
    pub pubsub_default: u8,
}

impl Default for Acl {
    fn default() -> Self {
        Acl::new()
    }
}

impl Acl {
    pub fn new() -> Acl {
        let mut acl = Acl {
            users: Vec::new(),
            by_name: BTreeMap::new(),
            log: log::AclLog::default(),
            pubsub_default: 0,
        };
        let u = rules::default_user(0);
        acl.users.push(Some(u));
        acl.by_name.insert(b"default".to_vec(), DEFAULT_USER);
        acl
    }

    pub fn user(&self, id: UserId) -> &User {
        // Clients only hold ids of live users (deleting a user moves its
        // clients to the default user).
        self.users
            .get(id as usize)
            .and_then(Option::as_ref)
            .or_else(|| self.users[0].as_ref())
            .expect("the default user always exists")
    }

    pub fn default_user(&self) -> &User {
        self.user(DEFAULT_USER)
    }

    pub fn default_user_mut(&mut self) -> &mut User {
        self.users[0]
            .as_mut()
            .expect("the default user always exists")
    }

    pub fn find(&self, name: &[u8]) -> Option<UserId> {
        self.by_name.get(name).copied()
    }

    /// Users in name order (Redis's rax order).
    pub fn users(&self) -> impl Iterator<Item = (UserId, &User)> {
        self.by_name
            .values()
            .filter_map(|&id| self.users[id as usize].as_ref().map(|u| (id, u)))
    }

    /// Adds or replaces a user by name; returns its id.
    pub fn put(&mut self, mut u: User) -> UserId {
        u.refresh();
        if let Some(id) = self.find(&u.name) {
            self.users[id as usize] = Some(u);
            return id;
        }
        let id = match self.users.iter().position(Option::is_none) {
            Some(free) => {
                self.users[free] = Some(u);
                free
            }
            None => {
                self.users.push(Some(u));
                self.users.len() - 1
            }
        } as UserId;
        let name = self.users[id as usize]
            .as_ref()
            .map(|u| u.name.clone())
            .unwrap_or_default();
        self.by_name.insert(name, id);
        id
    }

    /// Removes a user (never the default one); its id may be reused.
    pub fn remove(&mut self, name: &[u8]) -> Option<UserId> {
        let id = self.by_name.remove(name)?;
        self.users[id as usize] = None;
        Some(id)
    }

    /// Replaces every user at once (ACL LOAD): the default user keeps its
    /// id. Returns the ids that no longer name the same user.
    pub fn replace_all(&mut self, users: Vec<User>) -> Vec<UserId> {
        let gone: Vec<UserId> = self
            .by_name
            .values()
            .copied()
            .filter(|&id| id != DEFAULT_USER)
            .collect();
        let default = users.iter().find(|u| u.name == b"default").cloned();
        self.users.truncate(1);
        self.by_name.retain(|_, id| *id == DEFAULT_USER);
        let mut d = default.unwrap_or_else(|| rules::default_user(self.pubsub_default));
        d.refresh();
        self.users[0] = Some(d);
        for u in users.into_iter().filter(|u| u.name != b"default") {
            self.put(u);
        }
        gone
    }

    /// ACLUpdateDefaultUserPassword (requirepass): resetpass, then the
    /// password or nopass.
    pub fn set_default_password(&mut self, pass: &str) {
        let u = self.default_user_mut();
        u.flags &= !USER_NOPASS;
        u.passwords.clear();
        if pass.is_empty() {
            u.flags |= USER_NOPASS;
        } else {
            u.passwords.push(hash_password(pass.as_bytes()));
        }
    }

    /// Whether new connections start authenticated (the default user is
    /// enabled and needs no password).
    pub fn default_needs_no_auth(&self) -> bool {
        let d = self.default_user();
        d.nopass() && d.enabled()
    }
}
