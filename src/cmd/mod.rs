//! Commands: the static command table, the handler context, and the shared
//! argument helpers. Handlers are grouped by family like Redis's `t_*.c`.
//!
//! A handler sees the keyspace, the config (read only) and a reply writer,
//! never sockets, the poller or other clients. Commands that act on the
//! server itself (INFO, CLIENT, BGSAVE, REPLICAOF, SUBSCRIBE...) are table
//! entries with `Proc::Srv(tag)`: the server module carries them out.
//! Handlers know nothing of replication: `server` propagates a command when
//! the handler's `dirty` count grew, in the form the handler chose. A
//! handler that panics is caught at the command boundary (`server::exec`):
//! its client gets an error and the server goes on.
//!
//! Why `fn(&mut Ctx, &[Bytes]) -> Result<(), CmdError>` and not a returned
//! `Reply` value (the first design of the project's architecture notes
//! sketched one): replies are encoded straight into
//! the client's output buffer through `ctx.out` (RESP2 or RESP3 decided
//! there), so a GET or an LRANGE never builds an intermediate reply tree —
//! no allocation per command on the hot path. Errors still travel as values.

pub mod bitops;
pub mod cluster;
pub mod dump;
pub mod geo;
pub mod hyperloglog;
pub mod keys;
pub mod lolwut;
pub mod meta;
pub mod meta_data;
pub mod meta_keys;
#[cfg(test)]
mod meta_tests;
pub mod scripting;
pub mod sort;
pub mod string;
pub mod subcommands;
pub mod t_hash;
pub mod t_list;
pub mod t_list_blocking;
pub mod t_set;
pub mod t_stream;
pub mod t_stream_cg;
pub mod t_stream_info;
pub mod t_stream_read;
pub mod t_zset;
pub mod t_zset_ops;
pub mod t_zset_range;
pub mod table;

use crate::config::Config;
use crate::db::{EntryMut, Keyspace, Value};
use crate::encoding::numbers::string2ll;
use crate::error::{self, CmdError, CmdResult};
use crate::resp::Out;
use bytes::Bytes;

pub use table::{lookup, lookup_original, CommandSpec, Proc, Srv, COMMANDS};

pub type Handler = fn(&mut Ctx<'_>, &[Bytes]) -> CmdResult;

/// Command flags (as Redis's CMD_*).
pub mod flag {
    pub const WRITE: u32 = 1 << 0;
    pub const READONLY: u32 = 1 << 1;
    pub const DENYOOM: u32 = 1 << 2;
    pub const ADMIN: u32 = 1 << 3;
    pub const PUBSUB: u32 = 1 << 4;
    pub const NOSCRIPT: u32 = 1 << 5;
    pub const BLOCKING: u32 = 1 << 6;
    pub const LOADING: u32 = 1 << 7;
    pub const STALE: u32 = 1 << 8;
    pub const SKIP_MONITOR: u32 = 1 << 9;
    pub const SKIP_SLOWLOG: u32 = 1 << 10;
    pub const FAST: u32 = 1 << 11;
    pub const NO_AUTH: u32 = 1 << 12;
    pub const MAY_REPLICATE: u32 = 1 << 13;
    pub const NO_MULTI: u32 = 1 << 14;
    pub const ALLOW_BUSY: u32 = 1 << 15;
    pub const SENTINEL: u32 = 1 << 16;
    /// Internal (not shown by COMMAND): may delete expired keys anywhere
    /// (Redis's CMD_TOUCHES_ARBITRARY_KEYS).
    pub const TOUCHES_ARBITRARY_KEYS: u32 = 1 << 28;
    pub const NO_MANDATORY_KEYS: u32 = 1 << 17;
    pub const NO_ASYNC_LOADING: u32 = 1 << 18;
    /// Served for an importing slot without ASKING (RESTORE-ASKING).
    pub const ASKING: u32 = 1 << 19;
    pub const ONLY_SENTINEL: u32 = 1 << 20;
    pub const PROTECTED: u32 = 1 << 21;
}

/// A keyspace notification raised by a write: (type flag, event, db, key).
pub struct Notification {
    pub class: u32,
    pub event: &'static str,
    pub db: usize,
    pub key: Bytes,
    /// Length of the notifying client's reply buffer when raised: a
    /// subscribed writer gets the message at that point of its reply, as
    /// Redis publishes synchronously (None: before the command's reply).
    pub reply_at: Option<usize>,
}

/// What a keyspace handler asks the server to do after it returns.
#[derive(Default)]
pub enum Effect {
    #[default]
    None,
    /// Block the client on keys (blocking pops) until data or timeout.
    Block {
        keys: Vec<Bytes>,
        /// Absolute unix ms; 0 = forever.
        deadline_ms: i64,
    },
    /// Block on stream keys (XREAD / XREADGROUP BLOCK) until one of them
    /// has entries past what the client waits for.
    BlockStream {
        keys: Vec<Bytes>,
        deadline_ms: i64,
        wait: Box<t_stream_read::StreamWait>,
    },
}

/// Everything a keyspace handler may touch.
pub struct Ctx<'a> {
    pub ks: &'a mut Keyspace,
    pub cfg: &'a Config,
    /// The client's selected database.
    pub db: usize,
    pub out: Out<'a>,
    pub client_id: u64,
    /// Changes made by this command; > 0 means "propagate".
    pub dirty: u64,
    /// When non-empty, these commands are propagated instead of argv (the
    /// deterministic rewrite: SET EX -> SET PXAT, SPOP -> SREM...).
    pub rewritten: Vec<Vec<Bytes>>,
    pub events: &'a mut Vec<Notification>,
    pub effect: Effect,
    /// True when running inside MULTI/EXEC or from the master link: blocking
    /// commands must not block there.
    pub no_block: bool,
    /// The command comes from the master link or the AOF: it is applied as
    /// written, without the checks that protect clients (mustObeyClient).
    pub must_obey: bool,
    /// Set when the server re-runs a blocked XREAD/XREADGROUP for the one
    /// stream key that became ready.
    pub serve: Option<Box<t_stream_read::StreamServe>>,
    /// The client's ACL user may read every key (SORT BY/GET patterns
    /// need it); true where no user applies.
    pub all_keys_readable: bool,
    /// Called by a script (redis.call): replies must not depend on a set's
    /// internal order (SORT BY nosort of a set sorts).
    pub from_script: bool,
    /// The server can write a big string value straight from the keyspace
    /// to this client's socket (`Server::call` decides when that is safe).
    pub direct_ok: bool,
    /// Set by GET when it wrote only a bulk header and left the value
    /// (argv[1]'s, at least DIRECT_MIN bytes) to be written that way.
    pub direct_bulk: bool,
}

/// Values at least this long are written from the keyspace to the socket
/// without a copy into the reply buffer (when `Ctx::direct_ok`).
pub const DIRECT_MIN: usize = 64 * 1024;

/// Moves the notifications the keyspace raised (`new`, `keymiss`; only
/// recorded while enabled) to the command's event list.
pub fn take_key_events(
    ks: &mut crate::db::Keyspace,
    events: &mut Vec<Notification>,
    reply_at: Option<usize>,
) {
    for (class, event, db, key) in ks.key_events.drain(..) {
        events.push(Notification {
            class,
            event,
            db,
            key: Bytes::copy_from_slice(&key),
            reply_at,
        });
    }
}

impl<'a> Ctx<'a> {
    /// A write happened to `key`: WATCH invalidation, the keyspace event,
    /// and the dirty counter (Redis's signalModifiedKey + notify + dirty++).
    pub fn written(&mut self, key: &Bytes, class: u32, event: &'static str) {
        self.ks.signal_modified(self.db, key);
        self.notify(class, event, key);
        self.dirty += 1;
    }

    /// Raises a keyspace notification when the class is enabled.
    pub fn notify(&mut self, class: u32, event: &'static str, key: &Bytes) {
        // What the keyspace raised so far (new keys, misses) comes first.
        let reply_at = Some(self.out.buf.len());
        if !self.ks.key_events.is_empty() {
            take_key_events(self.ks, self.events, reply_at);
        }
        let enabled = self.cfg.notify_keyspace_events;
        if enabled & class != 0
            && enabled & (crate::config::NOTIFY_KEYSPACE | crate::config::NOTIFY_KEYEVENT) != 0
        {
            self.events.push(Notification {
                class,
                event,
                db: self.db,
                key: key.clone(),
                reply_at,
            });
        }
    }

    /// Propagate `cmd` (in addition to other rewritten commands) instead of
    /// the command as received.
    pub fn propagate_as(&mut self, cmd: Vec<Bytes>) {
        self.rewritten.push(cmd);
    }

    pub fn lookup_read(&mut self, key: &[u8]) -> Option<EntryMut<'_>> {
        self.ks.lookup_read(self.db, key)
    }

    pub fn lookup_write(&mut self, key: &[u8]) -> Option<EntryMut<'_>> {
        self.ks.lookup_write(self.db, key)
    }

    pub fn now_ms(&self) -> i64 {
        self.ks.now_ms
    }
}

// ---- argument helpers shared by all families ----

/// Case-insensitive comparison of an argument with an ASCII keyword.
#[inline]
pub fn eq_ic(arg: &[u8], kw: &str) -> bool {
    arg.eq_ignore_ascii_case(kw.as_bytes())
}

/// An integer argument, or `ERR value is not an integer or out of range`.
pub fn arg_i64(arg: &[u8]) -> Result<i64, CmdError> {
    string2ll(arg).ok_or_else(|| error::NOT_INT.into())
}

/// A float argument as Redis's getDoubleFromObject (`string2d`), or
/// `ERR value is not a valid float`.
pub fn arg_f64(arg: &[u8]) -> Result<f64, CmdError> {
    crate::encoding::numbers::string2d(arg).ok_or_else(|| error::NOT_FLOAT.into())
}

/// The string value of a key for a read: Ok(None) when missing,
/// WRONGTYPE when the key holds another type. Integers are formatted into `buf`.
pub fn get_string<'b>(
    ks: &'b mut Keyspace,
    db: usize,
    key: &[u8],
    buf: &'b mut [u8; 20],
) -> Result<Option<&'b [u8]>, CmdError> {
    match ks.lookup_read(db, key) {
        None => Ok(None),
        Some(e) => match e.val.str_bytes(buf) {
            Some(b) => Ok(Some(b)),
            None => Err(error::WRONGTYPE.into()),
        },
    }
}

/// The value at `key` as one type (`pick` says which): Ok(None) when the
/// key is missing, WRONGTYPE when it holds another type. It takes the
/// keyspace alone, so a caller can write replies while holding the value.
pub fn lookup_as<'a, T: ?Sized>(
    ks: &'a mut Keyspace,
    db: usize,
    key: &[u8],
    write: bool,
    pick: for<'b> fn(&'b mut Value) -> Option<&'b mut T>,
) -> Result<Option<&'a mut T>, CmdError> {
    let e = if write {
        ks.lookup_write(db, key)
    } else {
        ks.lookup_read(db, key)
    };
    match e {
        None => Ok(None),
        Some(e) => pick(e.val).map(Some).ok_or_else(|| error::WRONGTYPE.into()),
    }
}

/// Checks the type of an existing value.
pub fn check_type(v: &Value, name: &str) -> CmdResult {
    if v.type_name() == name {
        Ok(())
    } else {
        Err(error::WRONGTYPE.into())
    }
}

/// Command tables of the data-type families, chained after the core table.
pub fn extra_commands() -> impl Iterator<Item = &'static CommandSpec> {
    dump::COMMANDS
        .iter()
        .chain(t_list::COMMANDS.iter())
        .chain(t_hash::COMMANDS.iter())
        .chain(t_set::COMMANDS.iter())
        .chain(t_zset::COMMANDS.iter())
        .chain(bitops::COMMANDS.iter())
        .chain(hyperloglog::COMMANDS.iter())
        .chain(sort::COMMANDS.iter())
        .chain(t_stream::COMMANDS.iter())
        .chain(geo::COMMANDS.iter())
        .chain(lolwut::COMMANDS.iter())
        .chain(cluster::COMMANDS.iter())
        .chain(scripting::COMMANDS.iter())
}

/// The reply a client-given count can make a command build (random members
/// with repetitions: SRANDMEMBER, HRANDFIELD, ZRANDMEMBER with a negative
/// count; KEYS) stops where the client would be closed anyway: at the
/// normal clients' output-buffer hard limit, the command ends early and the
/// server closes the client without sending it anything, as Redis 7.0 does
/// (its loops stop once the client is marked to be closed). With no hard
/// limit the reply stops at proto-max-bulk-len with an error instead: in
/// Redis 7.0 `SRANDMEMBER s -4611686018427387904` grows until the OOM
/// killer ends the server, taking the whole data set with it.
pub struct ReplyGuard {
    start: usize,
    ceiling: usize,
    /// The client is closed over the ceiling (a hard limit is set).
    closes: bool,
}

pub const REPLY_TOO_BIG: &str =
    "ERR the reply for this count would exceed the client output buffer limit";

/// Not an error reply: the command stopped because its client is over its
/// output-buffer hard limit and will be closed without a reply.
pub const OUTPUT_LIMIT_STOP: &str = "<output buffer limit reached>";

impl ReplyGuard {
    /// `from_script`: a script's replies go to no socket and have no
    /// output limit (Redis never limits its fake client): only the
    /// proto-max-bulk-len ceiling applies, never a silent cut.
    pub fn new(cfg: &Config, out: &Out<'_>, from_script: bool) -> ReplyGuard {
        let hard = if from_script {
            0
        } else {
            cfg.client_output_buffer_limit[0].hard
        };
        let ceiling = if hard > 0 {
            hard
        } else {
            cfg.proto_max_bulk_len
        };
        ReplyGuard {
            start: out.buf.len(),
            ceiling: usize::try_from(ceiling).unwrap_or(usize::MAX),
            closes: hard > 0,
        }
    }

    /// Call inside the loop; on Err, return it. Over a hard limit the
    /// partial reply stays (the server closes the client for it); without
    /// one it is removed and an error replied.
    #[inline]
    pub fn check(&self, out: &mut Out<'_>) -> CmdResult {
        if out.buf.len() - self.start > self.ceiling {
            if self.closes {
                return Err(OUTPUT_LIMIT_STOP.into());
            }
            out.buf.truncate(self.start);
            return Err(REPLY_TOO_BIG.into());
        }
        Ok(())
    }
}
