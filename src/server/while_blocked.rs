//! Serving clients while a script runs too long (Redis's
//! processEventsWhileBlocked): the Lua count hook calls in here between
//! instructions, so the loop keeps accepting, reading and answering (-BUSY,
//! SCRIPT KILL, FUNCTION STATS...). The client running the script, and our
//! master's link, are left alone until the script ends. The startup load of
//! the data set calls in here too (clients get -LOADING meanwhile).

use super::{Server, LISTENER_TOKEN_BASE};
use crate::net::{flags, Kind};
use mio::Events;
use std::time::Duration;

impl Server {
    /// One pass (up to a few polls) of the loop without blocking.
    pub fn process_events_while_blocked(&mut self) {
        let mut events = Events::with_capacity(128);
        let mut deferred = Vec::new();
        for _ in 0..4 {
            if self.poll.poll(&mut events, Some(Duration::ZERO)).is_err() {
                break;
            }
            if events.is_empty() {
                break;
            }
            for ev in events.iter() {
                let t = ev.token().0;
                if t >= LISTENER_TOKEN_BASE {
                    self.accept(t - LISTENER_TOKEN_BASE);
                    continue;
                }
                if t == crate::repl::RDB_PIPE_TOKEN {
                    self.rdb_pipe_readable();
                    continue;
                }
                let held = self.protected_client == Some(t)
                    || self.clients.get(t).is_some_and(|c| c.kind == Kind::Master);
                if held {
                    deferred.push(t);
                    continue;
                }
                if ev.is_writable() {
                    self.handle_writable(t);
                }
                if ev.is_readable() || ev.is_read_closed() || ev.is_error() {
                    self.handle_readable(t, ev.is_read_closed() || ev.is_error());
                }
            }
            self.write_pending_while_blocked();
            self.free_closed_while_blocked();
        }
        for k in deferred {
            if !self.pending_input.contains(&k) {
                self.pending_input.push(k);
            }
        }
    }

    /// The reply-writing part of before_sleep, skipping the script's caller.
    fn write_pending_while_blocked(&mut self) {
        let pending = std::mem::take(&mut self.pending_write);
        let mut keep = Vec::new();
        for key in pending {
            if self.protected_client == Some(key) {
                keep.push(key);
                continue;
            }
            let Some(c) = self.clients.get_mut(key) else {
                continue;
            };
            c.flags &= !flags::PENDING_WRITE;
            let Some(r) = self.write_pending(key) else {
                continue;
            };
            match r {
                Ok(true) => {}
                Ok(false) => self.want_write(key, true),
                Err(_) => self.close_async(key),
            }
        }
        self.pending_write.extend(keep);
    }

    /// Frees the clients marked for closing (a replica that went away must
    /// leave INFO while the script runs), except the script's caller.
    fn free_closed_while_blocked(&mut self) {
        let closing = std::mem::take(&mut self.close_list);
        let mut keep = Vec::new();
        for key in closing {
            if self.protected_client == Some(key) {
                keep.push(key);
            } else {
                self.free_client(key);
            }
        }
        self.close_list.extend(keep);
    }

    /// The caller of a script that timed out: no events for it meanwhile.
    /// Every other client is read once now: the loop's poll may already
    /// have taken their (edge-triggered) events before the script started,
    /// and their input would otherwise wait for the script to end.
    pub fn script_protect(&mut self, key: usize) {
        self.protected_client = Some(key);
        let others: Vec<usize> = self
            .clients
            .iter()
            .filter(|(k, c)| *k != key && c.kind == Kind::Normal)
            .map(|(k, _)| k)
            .collect();
        for k in others {
            self.handle_readable(k, false);
        }
        self.write_pending_while_blocked();
    }

    /// The script ended: the caller's buffered input is looked at again.
    pub fn script_unprotect(&mut self, key: usize) {
        self.protected_client = None;
        if !self.pending_input.contains(&key) {
            self.pending_input.push(key);
        }
        let masters: Vec<usize> = self
            .clients
            .iter()
            .filter(|(_, c)| c.kind == Kind::Master)
            .map(|(k, _)| k)
            .collect();
        for k in masters {
            if !self.pending_input.contains(&k) {
                self.pending_input.push(k);
            }
        }
    }
}
