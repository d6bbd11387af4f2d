//! Refusing a command before it runs: the error reply and its counting
//! (errorstats, rejected calls), EXEC's abort wording, and the unknown
//! command / unknown subcommand texts, as Redis 7.0 words them.

use super::Server;
use crate::cmd::{self, CommandSpec, Proc};
use crate::error::CmdError;
use crate::net::{flags, Kind};
use crate::resp::Out;
use bytes::Bytes;

impl Server {
    /// Writes an error reply and counts it (errorstats, rejected/failed calls).
    pub fn reply_error(&mut self, key: usize, e: &CmdError) {
        if e.text() == crate::cmd::OUTPUT_LIMIT_STOP {
            // No reply: the client is closed for its output (see ReplyGuard).
            return;
        }
        self.stats.total_error_replies += 1;
        *self.errorstats.entry(e.code().to_string()).or_insert(0) += 1;
        if let Some(c) = self.clients.get_mut(key) {
            if c.kind != Kind::Normal {
                // An error on a replication link: the data sets may diverge.
                let master = c.kind == Kind::Master;
                self.log_link_error(key, e);
                if master {
                    return;
                }
            }
            let Some(c) = self.clients.get_mut(key) else {
                return;
            };
            let resp = c.resp;
            Out::new(&mut c.reply, resp).error(e.text());
        }
    }

    pub(super) fn reject(&mut self, key: usize, cmd: Option<&'static CommandSpec>, e: CmdError) {
        // Keys evicted by the checks were notified before the refusal.
        self.publish_pending_events(key, None);
        if let Some(cmd) = cmd {
            self.cmdstats.entry(cmd.name).or_default().rejected += 1;
        }
        self.prev_err_count = self.stats.total_error_replies + 1;
        if let Some(c) = self.clients.get_mut(key) {
            if c.has(flags::MULTI) {
                c.flags |= flags::DIRTY_EXEC;
            }
        }
        // A refused EXEC discards the transaction and says why (Redis's
        // execCommandAbort); messages without an error code lose "ERR ".
        if cmd.is_some_and(|c| matches!(c.proc, Proc::Srv(cmd::Srv::Exec))) {
            self.cmd_discard_silent(key);
            let text = e.text();
            let why = text.strip_prefix("ERR ").unwrap_or(text);
            let e = CmdError::msg(format!("EXECABORT Transaction discarded because of: {why}"));
            self.reply_error(key, &e);
            return;
        }
        self.reply_error(key, &e);
    }

    /// `ERR unknown subcommand 'x'. Try CMD HELP.` (a container called
    /// with a subcommand it does not have).
    pub(super) fn reject_unknown_sub(&mut self, key: usize, argv: &[Bytes]) {
        let e = CmdError::msg(format!(
            "ERR unknown subcommand '{}'. Try {} HELP.",
            truncate_lossy(&argv[1], 128),
            String::from_utf8_lossy(&argv[0]).to_ascii_uppercase()
        ));
        self.reject(key, None, e);
    }

    /// `ERR unknown command 'x', with args beginning with: ...`.
    pub(super) fn reject_unknown(&mut self, key: usize, argv: &[Bytes]) {
        // Redis's '%.*s' with 128 minus what is written so far, in bytes:
        // a huge argument is never converted whole.
        let mut args = String::new();
        for a in &argv[1..] {
            if args.len() >= 128 {
                break;
            }
            let s = truncate_lossy(a, 128 - args.len());
            args.push('\'');
            args.push_str(&s);
            args.push_str("' ");
        }
        let e = CmdError::msg(format!(
            "ERR unknown command '{}', with args beginning with: {args}",
            truncate_lossy(&argv[0], 128)
        ));
        self.reject(key, None, e);
    }
}

/// At most `n` bytes of an argument, as text (Redis's `%.128s`).
fn truncate_lossy(arg: &[u8], n: usize) -> String {
    String::from_utf8_lossy(&arg[..arg.len().min(n)]).into_owned()
}

/// A command's name as Redis 7.0 reports it in errors: `container|sub` for
/// commands with subcommands (those without a sub table in ours too).
pub fn full_name(name: &'static str, argv: &[Bytes]) -> String {
    let container = crate::cmd::meta::find(name.as_bytes()).is_some_and(|m| m.has_subcommands());
    match argv.get(1) {
        Some(sub) if container => {
            format!(
                "{name}|{}",
                String::from_utf8_lossy(sub).to_ascii_lowercase()
            )
        }
        _ => name.to_string(),
    }
}
