//! Error replies: every error line the server sends, byte for byte as Redis 7.0.
//!
//! Handlers return `CmdError`; `cmd::call` writes it as `-<text>\r\n` and counts
//! it in `INFO errorstats` under its first word.

use std::borrow::Cow;

pub const WRONGTYPE: &str = "WRONGTYPE Operation against a key holding the wrong kind of value";
pub const SYNTAX: &str = "ERR syntax error";
pub const NOT_INT: &str = "ERR value is not an integer or out of range";
pub const NOT_FLOAT: &str = "ERR value is not a valid float";
pub const OVERFLOW: &str = "ERR increment or decrement would overflow";
pub const NO_SUCH_KEY: &str = "ERR no such key";
pub const INDEX_RANGE: &str = "ERR index out of range";
pub const DB_RANGE: &str = "ERR DB index is out of range";
pub const MUST_POSITIVE: &str = "ERR value is out of range, must be positive";
pub const NOAUTH: &str = "NOAUTH Authentication required.";
pub const WRONGPASS: &str = "WRONGPASS invalid username-password pair or user is disabled.";
pub const READONLY: &str = "READONLY You can't write against a read only replica.";
pub const STRING_TOO_LONG: &str = "ERR string exceeds maximum allowed size (proto-max-bulk-len)";
pub const BIT_OFFSET: &str = "ERR bit offset is not an integer or out of range";
pub const TIMEOUT_NOT_FLOAT: &str = "ERR timeout is not a float or out of range";
pub const OOM: &str = "OOM command not allowed when used memory > 'maxmemory'.";
pub const MASTERDOWN: &str =
    "MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'.";
pub const MISCONF: &str = "MISCONF Redis is configured to save RDB snapshots, but it's currently unable to persist to disk. Commands that may modify the data set are disabled, because this instance is configured to report errors during writes if RDB snapshotting fails (stop-writes-on-bgsave-error option). Please check the Redis logs for details about the RDB error.";
pub const LOADING: &str = "LOADING Redis is loading the dataset in memory";
pub const NOREPLICAS: &str = "NOREPLICAS Not enough good replicas to write.";
pub const BUSYKEY: &str = "BUSYKEY Target key name already exists.";
pub const SAME_OBJECT: &str = "ERR source and destination objects are the same";

/// An error reply. Static texts cost nothing; formatted ones allocate,
/// which only happens on the error path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CmdError(pub Cow<'static, str>);

impl CmdError {
    pub fn text(&self) -> &str {
        &self.0
    }

    /// `ERR wrong number of arguments for 'x' command`.
    pub fn arity(name: &str) -> CmdError {
        CmdError(Cow::Owned(format!(
            "ERR wrong number of arguments for '{}' command",
            name.to_ascii_lowercase()
        )))
    }

    /// `ERR invalid expire time in 'x' command`.
    pub fn invalid_expire(name: &str) -> CmdError {
        CmdError(Cow::Owned(format!(
            "ERR invalid expire time in '{}' command",
            name.to_ascii_lowercase()
        )))
    }

    pub fn msg(text: String) -> CmdError {
        CmdError(Cow::Owned(text))
    }

    /// The first word, the key `INFO errorstats` counts under.
    pub fn code(&self) -> &str {
        self.0.split(' ').next().unwrap_or("ERR")
    }
}

impl From<&'static str> for CmdError {
    fn from(s: &'static str) -> CmdError {
        CmdError(Cow::Borrowed(s))
    }
}

/// Redis 7.0's subcommands of each container command.
const SUBCOMMANDS: &[(&str, &[&str])] = &[
    (
        "OBJECT",
        &["encoding", "freq", "help", "idletime", "refcount"],
    ),
    ("CONFIG", &["get", "help", "resetstat", "rewrite", "set"]),
    (
        "CLIENT",
        &[
            "caching",
            "getname",
            "getredir",
            "help",
            "id",
            "info",
            "kill",
            "list",
            "no-evict",
            "pause",
            "reply",
            "setname",
            "tracking",
            "trackinginfo",
            "unblock",
            "unpause",
        ],
    ),
    (
        "COMMAND",
        &[
            "count",
            "docs",
            "getkeys",
            "getkeysandflags",
            "help",
            "info",
            "list",
        ],
    ),
    ("SLOWLOG", &["get", "help", "len", "reset"]),
    (
        "XGROUP",
        &[
            "create",
            "createconsumer",
            "delconsumer",
            "destroy",
            "help",
            "setid",
        ],
    ),
    ("XINFO", &["consumers", "groups", "help", "stream"]),
    (
        "LATENCY",
        &[
            "doctor",
            "graph",
            "help",
            "histogram",
            "history",
            "latest",
            "reset",
        ],
    ),
    ("MODULE", &["help", "list", "load", "loadex", "unload"]),
    (
        "MEMORY",
        &["doctor", "help", "malloc-stats", "purge", "stats", "usage"],
    ),
    (
        "PUBSUB",
        &[
            "channels",
            "help",
            "numpat",
            "numsub",
            "shardchannels",
            "shardnumsub",
        ],
    ),
];

/// The error for a subcommand that did not run, worded as Redis 7.0: a
/// known subcommand with the wrong arguments gets the arity error
/// (`'config|get'`), anything else `unknown subcommand 'x'. Try CMD HELP.`
pub fn unknown_subcommand(sub: &[u8], cmd: &str) -> CmdError {
    let lower = String::from_utf8_lossy(sub).to_ascii_lowercase();
    let known = SUBCOMMANDS
        .iter()
        .find(|(c, _)| *c == cmd)
        .is_some_and(|(_, subs)| subs.contains(&lower.as_str()));
    if known {
        return CmdError::msg(format!(
            "ERR wrong number of arguments for '{}|{}' command",
            cmd.to_ascii_lowercase(),
            lower
        ));
    }
    CmdError::msg(format!(
        "ERR unknown subcommand '{}'. Try {} HELP.",
        String::from_utf8_lossy(sub),
        cmd
    ))
}

/// Redis's addReplySubcommandSyntaxError (argv: the whole command).
pub fn subcommand_syntax_error(argv: &[bytes::Bytes]) -> CmdError {
    let sub = &argv[1][..argv[1].len().min(128)];
    CmdError::msg(format!(
        "ERR unknown subcommand or wrong number of arguments for '{}'. Try {} HELP.",
        String::from_utf8_lossy(sub),
        String::from_utf8_lossy(&argv[0]).to_ascii_uppercase()
    ))
}

pub type CmdResult = Result<(), CmdError>;

/// Shorthand for `Err(CmdError::from(text))`.
pub fn err<T>(text: &'static str) -> Result<T, CmdError> {
    Err(CmdError(Cow::Borrowed(text)))
}
