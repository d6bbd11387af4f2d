//! SHUTDOWN as Redis 7.0 does it: the command and its flags (NOSAVE, SAVE,
//! NOW, FORCE, ABORT), SIGTERM/SIGINT (shutdown-on-sigterm/-sigint), the
//! wait of up to shutdown-timeout seconds for lagging replicas (writes
//! paused, GETACK sent, the caller blocked), and the final steps before
//! exit (prepareForShutdown / finishShutdown / abortShutdown).

use super::Server;
use crate::cmd::eq_ic;
use crate::error::{self, CmdError};
use crate::net::{flags, Kind};
use bytes::Bytes;
use std::sync::atomic::Ordering;

/// SHUTDOWN's flags (Redis's SHUTDOWN_NOSAVE, _SAVE, _NOW, _FORCE).
#[derive(Clone, Copy, Default, Debug, PartialEq, Eq)]
pub struct ShutdownFlags {
    pub nosave: bool,
    pub save: bool,
    pub now: bool,
    pub force: bool,
}

impl ShutdownFlags {
    /// The flags of shutdown-on-sigterm / shutdown-on-sigint ("default",
    /// or words among save, nosave, now, force).
    fn from_config(words: &str) -> ShutdownFlags {
        let mut f = ShutdownFlags::default();
        for w in words.split_whitespace() {
            match w {
                "save" => f.save = true,
                "nosave" => f.nosave = true,
                "now" => f.now = true,
                "force" => f.force = true,
                _ => {}
            }
        }
        f
    }
}

/// A shutdown waiting for lagging replicas (Redis's shutdown_mstime != 0).
pub struct PendingShutdown {
    /// Unix ms after which the server exits whatever the replicas say.
    pub deadline_ms: i64,
    pub flags: ShutdownFlags,
    /// Clients blocked in SHUTDOWN (slab key, client id).
    pub waiters: Vec<(usize, u64)>,
}

/// What `prepare_shutdown` decided.
#[derive(PartialEq, Eq)]
pub enum Prepared {
    /// Everything is saved: exit now.
    Exit,
    /// Waiting for replicas; `shutdown_cron` finishes it.
    Waiting,
    /// Refused (a save failed, or a shutdown is already under way).
    Failed,
}

type R = Result<(), CmdError>;

impl Server {
    pub fn cmd_shutdown(&mut self, key: usize, argv: &[Bytes]) -> R {
        let mut f = ShutdownFlags::default();
        let mut abort = false;
        for a in &argv[1..] {
            if eq_ic(a, "nosave") {
                f.nosave = true;
            } else if eq_ic(a, "save") {
                f.save = true;
            } else if eq_ic(a, "now") {
                f.now = true;
            } else if eq_ic(a, "force") {
                f.force = true;
            } else if eq_ic(a, "abort") {
                abort = true;
            } else {
                return Err(error::SYNTAX.into());
            }
        }
        if (abort && f != ShutdownFlags::default()) || (f.nosave && f.save) {
            return Err(error::SYNTAX.into());
        }
        if abort {
            if !self.abort_shutdown() {
                return Err("ERR No shutdown in progress.".into());
            }
            self.reply_ok(key);
            return Ok(());
        }
        // Blocked until the shutdown ends: by exiting, or with an error.
        let id = self.clients.get(key).map_or(0, |c| c.id);
        if let Some(c) = self.clients.get_mut(key) {
            c.flags |= flags::BLOCKED;
        }
        match self.prepare_shutdown(f) {
            Prepared::Exit => std::process::exit(0),
            Prepared::Waiting => {
                if let Some(p) = self.pending_shutdown.as_mut() {
                    p.waiters.push((key, id));
                }
            }
            Prepared::Failed => {
                // A shutdown already waiting for replicas keeps this
                // client blocked too (Redis answers it when that one ends).
                match self.pending_shutdown.as_mut() {
                    Some(p) => p.waiters.push((key, id)),
                    None => {
                        self.unblock_shutdown_waiter(key);
                        return Err("ERR Errors trying to SHUTDOWN. Check logs.".into());
                    }
                }
            }
        }
        Ok(())
    }

    /// SIGTERM/SIGINT seen by cron (Redis's serverCron with shutdown_asap):
    /// true when the process must exit now. The signal stays pending while
    /// the shutdown waits for replicas: a second SIGINT then exits at once.
    fn shutdown_on_signal(&mut self) -> bool {
        let signaled = super::SHUTDOWN_SIGNAL.load(Ordering::Relaxed);
        if !(signaled || self.shutdown_asap) || self.pending_shutdown.is_some() {
            return false;
        }
        super::SHUTDOWN_SIGNAL.store(true, Ordering::Relaxed);
        let sig = super::LAST_SIGNAL.load(Ordering::Relaxed);
        let (name, conf) = if sig == libc::SIGINT {
            ("SIGINT", "shutdown-on-sigint")
        } else {
            ("SIGTERM", "shutdown-on-sigterm")
        };
        log::warn!("Received {name} scheduling shutdown...");
        let f = ShutdownFlags::from_config(self.cfg.extra_value(conf));
        self.prepare_shutdown(f) == Prepared::Exit
    }

    /// Redis's prepareForShutdown: waits for lagging replicas unless NOW
    /// (or shutdown-timeout is 0), else finishes at once.
    pub fn prepare_shutdown(&mut self, f: ShutdownFlags) -> Prepared {
        if self.pending_shutdown.is_some() {
            return Prepared::Failed;
        }
        log::warn!("User requested shutdown...");
        let timeout: i64 = self
            .cfg
            .extra_value("shutdown-timeout")
            .parse()
            .unwrap_or(10);
        if !f.now && timeout != 0 && !self.replicas_caught_up() {
            self.pending_shutdown = Some(PendingShutdown {
                deadline_ms: crate::util::mstime() + timeout * 1000,
                flags: f,
                waiters: Vec::new(),
            });
            if self.clients_paused_until_ms == 0 {
                self.repl.getack_pending = true;
            }
            log::info!("Waiting for replicas before shutting down.");
            return Prepared::Waiting;
        }
        if self.finish_shutdown(f) {
            Prepared::Exit
        } else {
            Prepared::Failed
        }
    }

    /// Every replica acknowledged the whole stream (isReadyToShutdown).
    fn replicas_caught_up(&self) -> bool {
        let offset = self.repl.master_repl_offset;
        self.clients
            .replicas()
            .all(|(_, _, r)| r.ack_offset == offset)
    }

    /// From cron: a signal starts a shutdown; a waiting shutdown ends when
    /// the replicas caught up or the time is up. True when the process
    /// must exit.
    pub fn shutdown_cron(&mut self) -> bool {
        if self.shutdown_on_signal() {
            return true;
        }
        let Some(p) = &self.pending_shutdown else {
            return false;
        };
        if crate::util::mstime() < p.deadline_ms && !self.replicas_caught_up() {
            return false;
        }
        let f = p.flags;
        self.finish_shutdown(f)
    }

    /// Redis's finishShutdown: logs lagging replicas, stops the child,
    /// flushes the AOF, saves when asked or configured, removes the pid
    /// file and socket. False (the shutdown cancelled) when the save
    /// failed without FORCE.
    fn finish_shutdown(&mut self, f: ShutdownFlags) -> bool {
        let offset = self.repl.master_repl_offset;
        let now = self.ks.now_ms;
        let (mut replicas, mut lagging) = (0, 0);
        for k in self.clients.replica_keys() {
            replicas += 1;
            let Some(r) = self.clients.replica(k) else {
                continue;
            };
            if r.ack_offset != offset {
                lagging += 1;
                let online = r.state == crate::repl::ReplicaState::Online;
                let lag = if online {
                    (now - r.ack_time_ms) / 1000
                } else {
                    0
                };
                let (behind, state) = (offset - r.ack_offset, r.state.name());
                log::warn!(
                    "Lagging replica {} reported offset {behind} behind master, lag={lag}, state={state}.",
                    self.replica_name(k)
                );
            }
        }
        if replicas > 0 {
            log::info!(
                "{} of {replicas} replicas are in sync when shutting down.",
                replicas - lagging
            );
        }
        // The first AOF is still being written: exiting would lose data.
        if self.persist.child_kind() == Some(crate::persist::ChildKind::Aof)
            && self.persist.aof.state == crate::persist::aof::AofState::WaitRewrite
        {
            if f.force {
                log::warn!("Writing initial AOF. Exit anyway.");
            } else {
                log::warn!("Writing initial AOF, can't exit.");
                log::warn!(
                    "Errors trying to shut down the server. Check the logs for more information."
                );
                self.cancel_shutdown();
                return false;
            }
        }
        self.persist_kill_child();
        self.persist_flush_aof_on_shutdown();
        // A Sentinel, or a server still loading, saves nothing (Redis
        // turns SAVE into NOSAVE there).
        let save = self.sentinel.is_none()
            && !self.persist.loading
            && ((!self.cfg.save.is_empty() && !f.nosave) || f.save);
        if save {
            log::info!("Saving the final RDB snapshot before exiting.");
            if let Err(e) = self.save_rdb_foreground() {
                if f.force {
                    log::warn!("Error trying to save the DB. Exit anyway. ({e})");
                } else {
                    log::warn!("Error trying to save the DB, can't exit. ({e})");
                    log::warn!("Errors trying to shut down the server. Check the logs for more information.");
                    self.cancel_shutdown();
                    return false;
                }
            }
        }
        if !self.cfg.pidfile.is_empty() {
            log::info!("Removing the pid file.");
            let _ = std::fs::remove_file(&self.cfg.pidfile);
        }
        if !self.cfg.unixsocket.is_empty() {
            log::info!("Removing the unix socket file.");
            let _ = std::fs::remove_file(&self.cfg.unixsocket);
        }
        // Best effort: what replicas have not received yet.
        for (_, c) in self.clients.iter_mut() {
            if c.kind == Kind::Replica {
                let _ = c.flush();
            }
        }
        // No connection may be accepted any more (closeListeningSockets).
        self.listeners.clear();
        if self.sentinel.is_some() {
            log::warn!("Sentinel is now ready to exit, bye bye...");
        } else {
            log::warn!("ferrodis is now ready to exit, bye bye...");
        }
        true
    }

    /// SHUTDOWN ABORT (abortShutdown): false when nothing was under way.
    fn abort_shutdown(&mut self) -> bool {
        if self.pending_shutdown.is_some() {
            self.cancel_shutdown();
        } else if self.shutdown_asap || super::SHUTDOWN_SIGNAL.load(Ordering::Relaxed) {
            // A signal asked for it but it has not started yet.
            self.shutdown_asap = false;
            super::SHUTDOWN_SIGNAL.store(false, Ordering::Relaxed);
        } else {
            return false;
        }
        log::info!("Shutdown manually aborted.");
        true
    }

    /// Ends a shutdown that will not happen: its blocked clients get an
    /// error and held writes run (cancelShutdown).
    fn cancel_shutdown(&mut self) {
        self.shutdown_asap = false;
        super::SHUTDOWN_SIGNAL.store(false, Ordering::Relaxed);
        let waiters = self
            .pending_shutdown
            .take()
            .map(|p| p.waiters)
            .unwrap_or_default();
        for (key, id) in waiters {
            if self.clients.get(key).is_some_and(|c| c.id == id) {
                self.reply(key, |o| {
                    o.error("ERR Errors trying to SHUTDOWN. Check logs.")
                });
                self.unblock_shutdown_waiter(key);
            }
        }
        self.resume_paused_clients();
    }

    fn unblock_shutdown_waiter(&mut self, key: usize) {
        if let Some(c) = self.clients.get_mut(key) {
            c.flags &= !flags::BLOCKED;
        }
        self.mark_pending_write(key);
        self.pending_input.push(key);
    }
}
