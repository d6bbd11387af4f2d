//! DEBUG subcommands of replication: Redis's own (REPLICATE) and ferrodis's
//! fault injection (issue 13, item 6), all behind enable-debug-command like
//! the rest of DEBUG. A test script can make a replica lag or break:
//!
//! - `DEBUG REPL-PAUSE <ms>`: the master sends nothing to its replicas for
//!   that long (stream, full-sync payload), as a stalled network would; the
//!   stream accumulates in the replication buffer meanwhile. 0 ends it.
//! - `DEBUG REPL-DROP`: every replication link of this server is closed
//!   (its replicas', and its own to its master), as a partition would.
//! - `DEBUG REPL-DELAY <ms>`: every byte of the stream reaches replicas
//!   that long after it was produced (a long-distance link). 0 ends it.
//! - `DEBUG REPL-PAUSE-APPLY <ms>`, on a replica: its master's stream is
//!   received but not applied for that long (a replica stuck on a slow
//!   command); it goes on acknowledging the offset it applied.
//! - `DEBUG REPL-ACCEPT-EMPTY`: lifts the empty-sync guard once (see
//!   `repl_guard`).
//! - `DEBUG DIGEST-AT-OFFSET [timeout-ms]`: see `repl_digest`.

use super::Server;
use crate::cmd::eq_ic;
use crate::error::CmdError;
use crate::net::Kind;
use bytes::Bytes;

type R = Result<(), CmdError>;

/// The help lines of the subcommands below.
pub const HELP: &[&str] = &[
    "REPLICATE <command> [<arg> ...]",
    "    Feed the command to the replication stream only (no SELECT, not run here).",
    "REPL-PAUSE <ms>",
    "    Send nothing to the replicas for <ms> milliseconds (0 ends the pause).",
    "REPL-DROP",
    "    Close every replication link (to our replicas and to our master).",
    "REPL-DELAY <ms>",
    "    Deliver the replication stream <ms> milliseconds late (0 ends it).",
    "REPL-PAUSE-APPLY <ms>",
    "    On a replica: do not apply the master's stream for <ms> milliseconds.",
    "REPL-ACCEPT-EMPTY",
    "    Accept the empty full sync refused by replica-refuse-empty-sync, once.",
    "DIGEST-AT-OFFSET [<timeout-ms>]",
    "    Digest of every ferrodis replica at the master's current offset, beside the master's.",
];

fn ms_arg(a: &[u8]) -> Result<i64, CmdError> {
    crate::encoding::numbers::string2ll(a)
        .filter(|&n| n >= 0)
        .ok_or_else(|| crate::error::MUST_POSITIVE.into())
}

impl Server {
    /// Runs a replication DEBUG subcommand; None when `argv[1]` is not one.
    pub fn debug_repl(&mut self, key: usize, argv: &[Bytes]) -> Option<R> {
        let sub = &argv[1][..];
        let r = if eq_ic(sub, "replicate") && argv.len() >= 3 {
            self.propagate_now_raw_command(&argv[2..]);
            self.reply_ok(key);
            Ok(())
        } else if eq_ic(sub, "repl-pause") && argv.len() == 3 {
            ms_arg(&argv[2]).map(|ms| {
                self.repl.pause_until_ms = if ms == 0 { 0 } else { self.ks.now_ms + ms };
                log::warn!("DEBUG REPL-PAUSE: nothing goes to the replicas for {ms} ms");
                self.repl_wake_writers();
                self.reply_ok(key);
            })
        } else if eq_ic(sub, "repl-delay") && argv.len() == 3 {
            ms_arg(&argv[2]).map(|ms| {
                self.repl.delay_ms = ms;
                log::warn!("DEBUG REPL-DELAY: the replication stream is delivered {ms} ms late");
                self.repl_wake_writers();
                self.reply_ok(key);
            })
        } else if eq_ic(sub, "repl-pause-apply") && argv.len() == 3 {
            ms_arg(&argv[2]).map(|ms| {
                self.repl.pause_apply_until_ms = if ms == 0 { 0 } else { self.ks.now_ms + ms };
                log::warn!("DEBUG REPL-PAUSE-APPLY: our master's stream waits {ms} ms");
                self.repl_resume_apply();
                self.reply_ok(key);
            })
        } else if eq_ic(sub, "repl-drop") && argv.len() == 2 {
            let links: Vec<usize> = self
                .clients
                .iter()
                .filter(|(_, c)| c.kind != Kind::Normal)
                .map(|(k, _)| k)
                .collect();
            log::warn!(
                "DEBUG REPL-DROP: closing {} replication link(s)",
                links.len()
            );
            for k in links {
                self.close_async(k);
            }
            self.reply_ok(key);
            Ok(())
        } else if eq_ic(sub, "repl-accept-empty") && argv.len() == 2 {
            self.repl_accept_empty();
            self.reply_ok(key);
            Ok(())
        } else if eq_ic(sub, "digest-at-offset") && argv.len() <= 3 {
            let timeout = match argv.get(2) {
                Some(a) => ms_arg(a),
                None => Ok(5000),
            };
            timeout.and_then(|t| self.cmd_digest_at_offset(key, t))
        } else {
            return None;
        };
        Some(r)
    }

    /// Pause or delay changed: replicas may have something to send now.
    pub fn repl_wake_writers(&mut self) {
        for k in self.clients.replica_keys() {
            self.mark_pending_write(k);
        }
    }

    /// Whether the loop must come back soon for held replication data
    /// (a pause or delay that ends, stream waiting to be applied).
    pub fn repl_timer_pending(&self) -> bool {
        let r = &self.repl;
        r.pause_until_ms != 0 || r.delay_ms > 0 || r.pause_apply_until_ms != 0
    }

    /// Before sleeping: ends expired pauses and hands held data on.
    pub fn repl_fault_tick(&mut self) {
        if !self.repl_timer_pending() {
            return;
        }
        let now = crate::util::mstime();
        if self.repl.pause_until_ms != 0 && now >= self.repl.pause_until_ms {
            self.repl.pause_until_ms = 0;
            log::warn!("DEBUG REPL-PAUSE ended");
            self.repl_wake_writers();
        }
        if self.repl.delay_ms > 0 {
            self.repl_wake_writers();
        }
        if self.repl.pause_apply_until_ms != 0 && now >= self.repl.pause_apply_until_ms {
            self.repl.pause_apply_until_ms = 0;
            self.repl_resume_apply();
        }
    }

    /// Whether our master's stream must wait (REPL-PAUSE-APPLY).
    pub fn repl_apply_paused(&self, key: usize) -> bool {
        self.repl.pause_apply_until_ms != 0
            && self.repl.link.key == Some(key)
            && self.repl.link.state == crate::repl::link::LinkState::Connected
    }

    fn repl_resume_apply(&mut self) {
        if let Some(k) = self.repl.link.key {
            if !self.pending_input.contains(&k) {
                self.pending_input.push(k);
            }
        }
    }
}
