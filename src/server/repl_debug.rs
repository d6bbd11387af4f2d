//! DEBUG subcommands of replication: Redis's own (REPLICATE) and
//! ferrodis's fault injection and consistency checks (issue 13), all behind
//! enable-debug-command like the rest of DEBUG.

use super::Server;
use crate::cmd::eq_ic;
use crate::error::CmdError;
use bytes::Bytes;

type R = Result<(), CmdError>;

/// The help lines of the subcommands below.
pub const HELP: &[&str] = &[
    "REPLICATE <command> [<arg> ...]",
    "    Feed the command to the replication stream only (no SELECT, not run here).",
];

impl Server {
    /// Runs a replication DEBUG subcommand; None when `argv[1]` is not one.
    pub fn debug_repl(&mut self, key: usize, argv: &[Bytes]) -> Option<R> {
        let sub = &argv[1][..];
        if eq_ic(sub, "replicate") && argv.len() >= 3 {
            self.propagate_now_raw_command(&argv[2..]);
            self.reply_ok(key);
            return Some(Ok(()));
        }
        None
    }
}
