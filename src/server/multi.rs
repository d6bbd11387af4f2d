//! Transactions: MULTI, EXEC, DISCARD, WATCH, UNWATCH. Queued commands run
//! through `call()` inside EXEC, so their propagation is collected and sent
//! wrapped in MULTI/EXEC as one block.

use super::Server;
use crate::cmd;
use crate::db::Watcher;
use crate::error::CmdError;
use crate::net::flags;
use crate::sds::Sds;
use bytes::Bytes;

type R = Result<(), CmdError>;

impl Server {
    pub fn cmd_multi(&mut self, key: usize) -> R {
        let Some(c) = self.clients.get_mut(key) else {
            return Ok(());
        };
        if c.has(flags::MULTI) {
            return Err("ERR MULTI calls can not be nested".into());
        }
        c.flags |= flags::MULTI;
        self.reply_ok(key);
        Ok(())
    }

    /// Queues a command inside MULTI (argv is copied out of the query buffer).
    pub fn queue_multi(&mut self, key: usize, argv: &[Bytes]) {
        if let Some(c) = self.clients.get_mut(key) {
            c.mstate
                .push(argv.iter().map(|a| Bytes::copy_from_slice(a)).collect());
        }
        self.reply(key, |o| o.simple("QUEUED"));
    }

    /// Leaves MULTI state without a reply (DISCARD, RESET, after EXEC).
    pub fn cmd_discard_silent(&mut self, key: usize) {
        if let Some(c) = self.clients.get_mut(key) {
            c.mstate.clear();
            c.flags &= !(flags::MULTI | flags::DIRTY_CAS | flags::DIRTY_EXEC);
        }
        self.unwatch_all(key);
    }

    pub fn cmd_discard(&mut self, key: usize) -> R {
        if !self.clients.get(key).is_some_and(|c| c.has(flags::MULTI)) {
            return Err("ERR DISCARD without MULTI".into());
        }
        self.cmd_discard_silent(key);
        self.reply_ok(key);
        Ok(())
    }

    pub fn cmd_exec(&mut self, key: usize) -> R {
        let Some(c) = self.clients.get_mut(key) else {
            return Ok(());
        };
        if !c.has(flags::MULTI) {
            return Err("ERR EXEC without MULTI".into());
        }
        // A watched key that expired since WATCH counts as modified.
        if self.watched_key_expired(key) {
            if let Some(c) = self.clients.get_mut(key) {
                c.flags |= flags::DIRTY_CAS;
            }
        }
        let Some(c) = self.clients.get_mut(key) else {
            return Ok(());
        };
        if c.has(flags::DIRTY_EXEC) {
            self.cmd_discard_silent(key);
            return Err("EXECABORT Transaction discarded because of previous errors.".into());
        }
        if c.has(flags::DIRTY_CAS) {
            self.cmd_discard_silent(key);
            self.reply(key, |o| o.null_array());
            return Ok(());
        }
        let queued = std::mem::take(&mut c.mstate);
        c.flags &= !flags::MULTI;
        // Each queued command propagates itself; EXEC's argv never does.
        self.prevent_propagation();
        self.unwatch_all(key);
        self.reply(key, |o| o.array(queued.len()));
        for argv in &queued {
            let Some(spec) = cmd::table::lookup_cmd(argv) else {
                continue;
            };
            // Permissions may have changed since the command was queued.
            if let Err(d) = self.acl_check_command(key, spec, argv, crate::acl::log::Context::Multi)
            {
                self.reply_error(key, &crate::error::CmdError::msg(d.exec_error()));
                continue;
            }
            // A write on a replica turned read-only after queueing, or a
            // command refused by state checks, fails here like in Redis.
            if self.repl.is_replica()
                && self.cfg.replica_read_only
                && spec.has(cmd::flag::WRITE)
                && self
                    .clients
                    .get(key)
                    .is_some_and(|c| c.kind != crate::net::Kind::Master)
            {
                self.reply_error(key, &crate::error::READONLY.into());
                continue;
            }
            self.call(key, spec, argv);
        }
        self.cmd_discard_silent(key);
        Ok(())
    }

    pub fn cmd_watch(&mut self, key: usize, argv: &[Bytes]) -> R {
        let Some(c) = self.clients.get_mut(key) else {
            return Ok(());
        };
        if c.has(flags::MULTI) {
            return Err("ERR WATCH inside MULTI is not allowed".into());
        }
        // No point in watching when EXEC is already bound to fail.
        if c.has(flags::DIRTY_CAS) {
            self.reply_ok(key);
            return Ok(());
        }
        let (db, id) = (c.db, c.id);
        for k in &argv[1..] {
            let entry = (db, Sds::new(k));
            if c.watched.contains(&entry) {
                continue;
            }
            c.watched.push(entry.clone());
            // Redis 7.0 records whether the key is already logically expired:
            // its later deletion is then no change.
            let expired = self.ks.key_is_expired(db, k);
            self.ks.watched.entry(entry).or_default().push(Watcher {
                client_id: id,
                expired,
            });
        }
        self.reply_ok(key);
        Ok(())
    }

    pub fn cmd_unwatch(&mut self, key: usize) -> R {
        self.unwatch_all(key);
        if let Some(c) = self.clients.get_mut(key) {
            c.flags &= !flags::DIRTY_CAS;
        }
        self.reply_ok(key);
        Ok(())
    }

    /// Redis's isWatchedKeyExpired: a watched key (not already expired at
    /// WATCH time) whose TTL has passed.
    fn watched_key_expired(&self, key: usize) -> bool {
        let Some(c) = self.clients.get(key) else {
            return false;
        };
        c.watched.iter().any(|entry| {
            let was_expired = self
                .ks
                .watched
                .get(entry)
                .is_some_and(|v| v.iter().any(|w| w.client_id == c.id && w.expired));
            !was_expired && self.ks.key_is_expired(entry.0, &entry.1)
        })
    }

    /// Drops every WATCH of a client.
    pub fn unwatch_all(&mut self, key: usize) {
        let Some(c) = self.clients.get_mut(key) else {
            return;
        };
        let id = c.id;
        for entry in c.watched.drain(..) {
            if let Some(v) = self.ks.watched.get_mut(&entry) {
                v.retain(|w| w.client_id != id);
                if v.is_empty() {
                    self.ks.watched.remove(&entry);
                }
            }
        }
    }
}
