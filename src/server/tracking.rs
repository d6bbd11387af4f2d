//! Client-side caching (Redis 7.0's tracking.c): CLIENT TRACKING, CACHING,
//! GETREDIR, TRACKINGINFO; the table of keys clients may cache and the
//! invalidation messages sent when those keys change (RESP3 push, or a
//! `__redis__:invalidate` Pub/Sub message to a RESP2 redirection client);
//! BCAST prefixes; the tracking-table-max-keys limit.
//!
//! Every write path reaches us through the keyspace's single modified-key
//! signal (`Keyspace::signal_modified`, queued in `ks.modified` while some
//! client tracks): commands, MULTI/EXEC, scripts, lazy and active expiry,
//! evictions; flushes and SWAPDB set `ks.flushed`. The server drains the
//! queue after each command (`tracking_process`), from cron, and after
//! evictions. Messages for the client whose command caused them wait until
//! after its reply (`pending`), as Redis does.

use super::Server;
use crate::cmd::eq_ic;
use crate::cmd::meta::{self, KeyRef};
use crate::error::{self, CmdError};
use crate::net::flags;
use crate::sds::Sds;
use bytes::Bytes;
use std::collections::{BTreeMap, HashMap};

/// A BCAST prefix: the keys modified under it since the last broadcast
/// (with the id of the client that last modified each, 0 for none), and
/// the clients subscribed to it.
#[derive(Default)]
pub(crate) struct Bcast {
    keys: BTreeMap<Vec<u8>, u64>,
    pub(crate) clients: Vec<u64>,
}

/// What one invalidation carries.
enum Payload<'a> {
    Key(&'a [u8]),
    /// Every key (flushes): a null in the tracking client's protocol.
    All(u8),
    /// A RESP array of keys, already encoded (BCAST).
    Proto(&'a [u8]),
}

#[derive(Default)]
pub struct Tracking {
    /// Key -> ids of the clients that may cache it. Clients choose these
    /// keys: the keyed SipHash of std (as the keyspace), not Fx.
    table: HashMap<Sds, Vec<u64>>,
    total_items: u64,
    pub(crate) prefixes: BTreeMap<Vec<u8>, Bcast>,
    /// Clients with tracking on.
    pub clients: usize,
    /// Invalidations for the client whose command is running, sent after
    /// its reply: (slab key, key or None for "everything").
    pub(crate) pending: Vec<(usize, Option<Sds>)>,
    /// Set while a client's input is processed: its pending messages wait
    /// for its reply mode (CLIENT REPLY) to be applied first.
    pub defer_pending: bool,
    /// A script being run read a key: its declared keys are remembered
    /// when it returns.
    pub script_read: bool,
    limit_rounds: u32,
    rng: u64,
}

impl Tracking {
    /// disableTracking's bookkeeping for a client leaving tracking (OFF,
    /// RESET, or freed: called by the registry): out of its BCAST prefixes,
    /// flags cleared, one tracking client less. Entries of the key table
    /// naming it are dropped lazily (ids are never reused).
    pub fn forget(&mut self, c: &mut crate::net::Client) {
        if !c.has(flags::TRACKING) {
            return;
        }
        let id = c.id;
        for p in std::mem::take(&mut c.tracking_prefixes) {
            if let Some(bs) = self.prefixes.get_mut(&p) {
                bs.clients.retain(|&x| x != id);
                if bs.clients.is_empty() {
                    self.prefixes.remove(&p);
                }
            }
        }
        c.flags &= !TRACKING_FLAGS;
        self.clients -= 1;
    }

    pub fn total_keys(&self) -> usize {
        self.table.len()
    }

    pub fn total_items(&self) -> u64 {
        self.total_items
    }

    pub fn total_prefixes(&self) -> usize {
        self.prefixes.len()
    }
}

const TRACKING_FLAGS: u32 = flags::TRACKING
    | flags::TRACKING_BCAST
    | flags::TRACKING_OPTIN
    | flags::TRACKING_OPTOUT
    | flags::TRACKING_CACHING
    | flags::TRACKING_NOLOOP
    | flags::TRACKING_BROKEN_REDIR;

impl Server {
    /// The slab key of a connected client by id.
    pub fn client_key_by_id(&self, id: u64) -> Option<usize> {
        self.clients.key_by_id(id)
    }

    /// Whether the keyspace queues modified keys for us.
    pub(super) fn sync_keyspace_tracking(&mut self) {
        // While some client tracks, or the table still has entries (a
        // change drops them, a flush empties it, as Redis's table lives on
        // after its clients left).
        self.ks.tracking =
            self.clients.tracking.clients > 0 || self.clients.tracking.total_keys() > 0;
        if !self.ks.tracking {
            self.ks.modified.clear();
            self.ks.flushed = false;
        }
    }

    /// disableTracking (CLIENT TRACKING OFF, RESET).
    pub fn tracking_disable(&mut self, key: usize) {
        self.clients.untrack(key);
        self.sync_keyspace_tracking();
    }

    /// enableTracking (options already validated).
    fn tracking_enable(&mut self, key: usize, redirect: u64, options: u32, prefixes: &[Bytes]) {
        let Some(was) = self.clients.get(key).map(|c| c.has(flags::TRACKING)) else {
            return;
        };
        if !was {
            self.clients.tracking.clients += 1;
        }
        let Some(c) = self.clients.get_mut(key) else {
            return;
        };
        c.flags |= flags::TRACKING;
        c.flags &= !(flags::TRACKING_BROKEN_REDIR
            | flags::TRACKING_BCAST
            | flags::TRACKING_OPTIN
            | flags::TRACKING_OPTOUT
            | flags::TRACKING_NOLOOP);
        c.tracking_redirect = redirect;
        let id = c.id;
        if options & flags::TRACKING_BCAST != 0 {
            c.flags |= flags::TRACKING_BCAST;
            let empty = [Bytes::new()];
            let list = if prefixes.is_empty() {
                &empty[..]
            } else {
                prefixes
            };
            for p in list {
                let bs = self
                    .clients
                    .tracking
                    .prefixes
                    .entry(p.to_vec())
                    .or_default();
                if !bs.clients.contains(&id) {
                    bs.clients.push(id);
                    if let Some(c) = self.clients.get_mut(key) {
                        if let Err(i) = c.tracking_prefixes.binary_search_by(|x| x[..].cmp(p)) {
                            c.tracking_prefixes.insert(i, p.to_vec());
                        }
                    }
                }
            }
        }
        if let Some(c) = self.clients.get_mut(key) {
            c.flags |=
                options & (flags::TRACKING_OPTIN | flags::TRACKING_OPTOUT | flags::TRACKING_NOLOOP);
        }
        self.sync_keyspace_tracking();
    }

    /// Client-side caching after a command: invalidations for what it
    /// changed, and the keys a tracking client just read.
    pub(super) fn tracking_after_call(
        &mut self,
        key: usize,
        cmd: &'static crate::cmd::CommandSpec,
        argv: &[Bytes],
    ) {
        self.tracking_process(Some(key));
        let reader = self
            .clients
            .get(key)
            .is_some_and(|c| c.has(flags::TRACKING) && !c.has(flags::TRACKING_BCAST));
        if !reader {
            return;
        }
        if self.scripts.run.is_some() {
            // Inside a script a read makes the script's own declared keys
            // cached, once the script returns (Redis: the caller's argv).
            if cmd.has(crate::cmd::flag::READONLY) {
                self.clients.tracking.script_read = true;
            }
            return;
        }
        let script_read = std::mem::take(&mut self.clients.tracking.script_read);
        let ro_script = matches!(
            cmd.proc,
            crate::cmd::Proc::Srv(
                crate::cmd::Srv::EvalRo | crate::cmd::Srv::EvalShaRo | crate::cmd::Srv::FcallRo
            )
        );
        if script_read || (cmd.has(crate::cmd::flag::READONLY) && !ro_script) {
            self.tracking_remember_keys(key, cmd, argv);
        }
    }

    /// CLIENT CACHING yes/no applies to the next command (or transaction)
    /// only: cleared after any other command outside MULTI (Redis's
    /// resetClient).
    pub(super) fn reset_caching_flag(&mut self, key: usize, argv: &[Bytes]) {
        if let Some(c) = self.clients.get_mut(key) {
            if c.has(flags::TRACKING_CACHING) && !c.has(flags::MULTI) && !eq_ic(&argv[0], "client")
            {
                c.flags &= !flags::TRACKING_CACHING;
            }
        }
    }

    /// trackingRememberKeys: after a read-only command of a tracking
    /// client (not BCAST), the keys it read may now be cached by it.
    /// Public for the scripting engine (keys a script declared).
    pub fn tracking_remember_keys(
        &mut self,
        key: usize,
        spec: &crate::cmd::CommandSpec,
        argv: &[Bytes],
    ) {
        let Some(c) = self.clients.get(key) else {
            return;
        };
        let f = c.flags;
        let optin = f & flags::TRACKING_OPTIN != 0;
        let optout = f & flags::TRACKING_OPTOUT != 0;
        let caching = f & flags::TRACKING_CACHING != 0;
        if (optin && !caching) || (optout && caching) {
            return;
        }
        let id = c.id;
        let Some(m) = super::acl_cmd::meta_for(spec, argv) else {
            return;
        };
        if m.flags & meta::F_PUBSUB != 0 {
            return;
        }
        let mut keys: Vec<KeyRef> = Vec::new();
        meta::legacy_keys(m, argv, &mut keys);
        for k in keys {
            let ids = self
                .clients
                .tracking
                .table
                .entry(Sds::new(&argv[k.pos]))
                .or_default();
            if !ids.contains(&id) {
                ids.push(id);
                self.clients.tracking.total_items += 1;
            }
        }
        self.ks.tracking = true;
    }

    /// Drains the keyspace's modified keys (and flushes) into invalidation
    /// messages. `current`: the client running a command, whose own
    /// messages wait until after its reply.
    pub fn tracking_process(&mut self, current: Option<usize>) {
        if self.ks.flushed {
            self.ks.flushed = false;
            self.tracking_flush(current);
        }
        if self.ks.modified.is_empty() {
            return;
        }
        let modified = std::mem::take(&mut self.ks.modified);
        let current_id = current
            .and_then(|k| self.clients.get(k))
            .map_or(0, |c| c.id);
        for (k, by_command) in &modified {
            let modifier = if *by_command { current_id } else { 0 };
            self.tracking_invalidate_key(k, current, modifier, true);
        }
        let mut modified = modified;
        modified.clear();
        if self.ks.modified.is_empty() {
            self.ks.modified = modified;
        }
        self.sync_keyspace_tracking();
    }

    /// trackingInvalidateKey.
    fn tracking_invalidate_key(
        &mut self,
        key: &[u8],
        current: Option<usize>,
        modifier: u64,
        bcast: bool,
    ) {
        if bcast && !self.clients.tracking.prefixes.is_empty() {
            for (p, bs) in self.clients.tracking.prefixes.iter_mut() {
                if key.starts_with(p) {
                    bs.keys.insert(key.to_vec(), modifier);
                }
            }
        }
        let Some(ids) = self.clients.tracking.table.remove(key) else {
            return;
        };
        self.clients.tracking.total_items -= ids.len() as u64;
        for id in ids {
            let Some(target) = self.client_key_by_id(id) else {
                continue;
            };
            let Some(t) = self.clients.get(target) else {
                continue;
            };
            if !t.has(flags::TRACKING) || t.has(flags::TRACKING_BCAST) {
                continue;
            }
            let is_current = current == Some(target);
            if t.has(flags::TRACKING_NOLOOP) && is_current {
                continue;
            }
            if is_current {
                self.clients
                    .tracking
                    .pending
                    .push((target, Some(Sds::new(key))));
            } else {
                self.send_tracking_message(target, Payload::Key(key));
            }
        }
    }

    /// trackingInvalidateKeysOnFlush: a null (every key) to each tracking
    /// client; the table is emptied.
    fn tracking_flush(&mut self, current: Option<usize>) {
        let targets: Vec<(usize, u8)> = self
            .clients
            .iter()
            .filter(|(_, c)| c.has(flags::TRACKING))
            .map(|(k, c)| (k, c.resp))
            .collect();
        for (k, resp) in targets {
            if current == Some(k) {
                self.clients.tracking.pending.push((k, None));
            } else {
                self.send_tracking_message(k, Payload::All(resp));
            }
        }
        self.clients.tracking.table.clear();
        self.clients.tracking.total_items = 0;
    }

    /// Sends the messages that waited for the reply of the command that
    /// caused them (trackingHandlePendingKeyInvalidations).
    pub fn tracking_send_pending(&mut self) {
        if self.clients.tracking.pending.is_empty() {
            return;
        }
        let pending = std::mem::take(&mut self.clients.tracking.pending);
        for (k, key) in pending {
            match key {
                Some(key) => self.send_tracking_message(k, Payload::Key(&key)),
                None => {
                    let resp = self.clients.get(k).map_or(2, |c| c.resp);
                    self.send_tracking_message(k, Payload::All(resp));
                }
            }
        }
    }

    /// sendTrackingMessage: to the client itself in RESP3, or to its
    /// redirection (push in RESP3, `__redis__:invalidate` message when the
    /// RESP2 target is subscribed).
    fn send_tracking_message(&mut self, key: usize, payload: Payload<'_>) {
        let Some(c) = self.clients.get(key) else {
            return;
        };
        let mut target = key;
        let mut redirected = false;
        if c.tracking_redirect != 0 {
            let redir = c.tracking_redirect;
            match self.clients.key_by_id(redir) {
                Some(t) if self.clients.contains(t) => {
                    target = t;
                    redirected = true;
                }
                _ => {
                    let resp = c.resp;
                    if let Some(c) = self.clients.get_mut(key) {
                        c.flags |= flags::TRACKING_BROKEN_REDIR;
                    }
                    if resp > 2 {
                        self.reply(key, |o| {
                            o.push(2);
                            o.bulk(b"tracking-redir-broken");
                            o.int(redir as i64);
                        });
                        self.mark_pending_write(key);
                    }
                    return;
                }
            }
        }
        let Some(t) = self.clients.get(target) else {
            return;
        };
        let (resp, subscribed) = (t.resp, t.has(flags::PUBSUB));
        if resp <= 2 && !(redirected && subscribed) {
            return;
        }
        // Straight into the output buffer: a push is sent whatever CLIENT
        // REPLY says.
        let Some(t) = self.clients.get_mut(target) else {
            return;
        };
        let mut o = crate::resp::Out::new(&mut t.reply, t.resp);
        if resp > 2 {
            o.push(2);
            o.bulk(b"invalidate");
        } else {
            o.array(3);
            o.bulk(b"message");
            o.bulk(b"__redis__:invalidate");
        }
        match payload {
            Payload::Key(k) => {
                o.array(1);
                o.bulk(k);
            }
            Payload::All(null_resp) => {
                let null: &[u8] = if null_resp > 2 { b"_\r\n" } else { b"$-1\r\n" };
                o.raw(null);
            }
            Payload::Proto(p) => o.raw(p),
        }
        self.mark_pending_write(target);
    }

    /// trackingBroadcastInvalidationMessages (before sleeping): each BCAST
    /// prefix's modified keys, as one array, to each of its clients (NOLOOP
    /// clients without the keys they changed themselves).
    pub fn tracking_broadcast(&mut self) {
        if self.clients.tracking.clients == 0 || self.clients.tracking.prefixes.is_empty() {
            return;
        }
        let mut sends: Vec<(u64, Vec<u8>)> = Vec::new();
        let mut noloop_ids: Vec<u64> = Vec::new();
        for bs in self.clients.tracking.prefixes.values() {
            for &id in &bs.clients {
                let noloop = self
                    .clients
                    .key_by_id(id)
                    .and_then(|k| self.clients.get(k))
                    .is_some_and(|c| c.has(flags::TRACKING_NOLOOP));
                if noloop {
                    noloop_ids.push(id);
                }
            }
        }
        for bs in self.clients.tracking.prefixes.values_mut() {
            if bs.keys.is_empty() {
                continue;
            }
            let keys = std::mem::take(&mut bs.keys);
            let common = bcast_reply(&keys, None);
            for &id in &bs.clients {
                if noloop_ids.contains(&id) {
                    if let Some(p) = bcast_reply(&keys, Some(id)) {
                        sends.push((id, p));
                    }
                } else if let Some(p) = &common {
                    sends.push((id, p.clone()));
                }
            }
        }
        for (id, proto) in sends {
            if let Some(k) = self.client_key_by_id(id) {
                self.send_tracking_message(k, Payload::Proto(&proto));
            }
        }
    }

    /// trackingLimitUsedSlots: over tracking-table-max-keys, random keys
    /// are dropped from the table (their clients get invalidations), with
    /// more effort each time the limit is still exceeded.
    pub fn tracking_limit_used_slots(&mut self) {
        let max = self.cfg.tracking_table_max_keys as usize;
        if max == 0 || self.clients.tracking.table.len() <= max {
            self.clients.tracking.limit_rounds = 0;
            return;
        }
        let mut effort = 100 * (self.clients.tracking.limit_rounds as usize + 1);
        while effort > 0 && !self.clients.tracking.table.is_empty() {
            effort -= 1;
            // A random key: a random starting point in the table.
            self.clients.tracking.rng ^= self.clients.tracking.rng << 13;
            self.clients.tracking.rng ^= self.clients.tracking.rng >> 7;
            self.clients.tracking.rng ^= self.clients.tracking.rng << 17;
            if self.clients.tracking.rng == 0 {
                self.clients.tracking.rng = 0x9E37_79B9_7F4A_7C15;
            }
            let n = (self.clients.tracking.rng % self.clients.tracking.table.len() as u64) as usize;
            let Some(k) = self.clients.tracking.table.keys().nth(n).cloned() else {
                break;
            };
            self.tracking_invalidate_key(&k, None, 0, false);
            if self.clients.tracking.table.len() <= max {
                self.clients.tracking.limit_rounds = 0;
                return;
            }
        }
        self.clients.tracking.limit_rounds += 1;
    }

    /// CLIENT TRACKING|CACHING|GETREDIR|TRACKINGINFO.
    pub fn client_tracking_command(&mut self, key: usize, argv: &[Bytes]) -> Result<(), CmdError> {
        let sub = &argv[1][..];
        if eq_ic(sub, "tracking") {
            return self.client_tracking(key, argv);
        }
        let Some(c) = self.clients.get_mut(key) else {
            return Ok(());
        };
        if eq_ic(sub, "caching") {
            if !c.has(flags::TRACKING) {
                return Err("ERR CLIENT CACHING can be called only when the client is in tracking mode with OPTIN or OPTOUT mode enabled".into());
            }
            if eq_ic(&argv[2], "yes") {
                if !c.has(flags::TRACKING_OPTIN) {
                    return Err("ERR CLIENT CACHING YES is only valid when tracking is enabled in OPTIN mode.".into());
                }
            } else if eq_ic(&argv[2], "no") {
                if !c.has(flags::TRACKING_OPTOUT) {
                    return Err("ERR CLIENT CACHING NO is only valid when tracking is enabled in OPTOUT mode.".into());
                }
            } else {
                return Err(error::SYNTAX.into());
            }
            c.flags |= flags::TRACKING_CACHING;
            self.reply_ok(key);
        } else if eq_ic(sub, "getredir") {
            let r = if c.has(flags::TRACKING) {
                c.tracking_redirect as i64
            } else {
                -1
            };
            self.reply(key, |o| o.int(r));
        } else {
            // TRACKINGINFO
            let f = c.flags;
            let mut names: Vec<&str> = vec![if f & flags::TRACKING != 0 {
                "on"
            } else {
                "off"
            }];
            if f & flags::TRACKING_BCAST != 0 {
                names.push("bcast");
            }
            if f & flags::TRACKING_OPTIN != 0 {
                names.push("optin");
                if f & flags::TRACKING_CACHING != 0 {
                    names.push("caching-yes");
                }
            }
            if f & flags::TRACKING_OPTOUT != 0 {
                names.push("optout");
                if f & flags::TRACKING_CACHING != 0 {
                    names.push("caching-no");
                }
            }
            if f & flags::TRACKING_NOLOOP != 0 {
                names.push("noloop");
            }
            if f & flags::TRACKING_BROKEN_REDIR != 0 {
                names.push("broken_redirect");
            }
            let redir = if f & flags::TRACKING != 0 {
                c.tracking_redirect as i64
            } else {
                -1
            };
            let prefixes = c.tracking_prefixes.clone();
            self.reply(key, |o| {
                o.map(3);
                o.bulk(b"flags");
                o.set(names.len());
                for n in &names {
                    o.bulk(n.as_bytes());
                }
                o.bulk(b"redirect");
                o.int(redir);
                o.bulk(b"prefixes");
                o.array(prefixes.len());
                for p in &prefixes {
                    o.bulk(p);
                }
            });
        }
        Ok(())
    }

    fn client_tracking(&mut self, key: usize, argv: &[Bytes]) -> Result<(), CmdError> {
        let mut redir: i64 = 0;
        let mut options = 0u32;
        let mut prefixes: Vec<Bytes> = Vec::new();
        let mut j = 3;
        while j < argv.len() {
            let more = argv.len() - 1 - j;
            let a = &argv[j][..];
            if eq_ic(a, "redirect") && more > 0 {
                j += 1;
                if redir != 0 {
                    return Err("ERR A client can only redirect to a single other client".into());
                }
                redir = crate::cmd::arg_i64(&argv[j])?;
                if u64::try_from(redir)
                    .ok()
                    .and_then(|id| self.client_key_by_id(id))
                    .is_none()
                {
                    return Err("ERR The client ID you want redirect to does not exist".into());
                }
            } else if eq_ic(a, "bcast") {
                options |= flags::TRACKING_BCAST;
            } else if eq_ic(a, "optin") {
                options |= flags::TRACKING_OPTIN;
            } else if eq_ic(a, "optout") {
                options |= flags::TRACKING_OPTOUT;
            } else if eq_ic(a, "noloop") {
                options |= flags::TRACKING_NOLOOP;
            } else if eq_ic(a, "prefix") && more > 0 {
                j += 1;
                prefixes.push(argv[j].clone());
            } else {
                return Err(error::SYNTAX.into());
            }
            j += 1;
        }
        let Some(c) = self.clients.get(key) else {
            return Ok(());
        };
        if eq_ic(&argv[2], "on") {
            if options & flags::TRACKING_BCAST == 0 && !prefixes.is_empty() {
                return Err("ERR PREFIX option requires BCAST mode to be enabled".into());
            }
            if c.has(flags::TRACKING)
                && c.has(flags::TRACKING_BCAST) != (options & flags::TRACKING_BCAST != 0)
            {
                return Err("ERR You can't switch BCAST mode on/off before disabling tracking for this client, and then re-enabling it with a different mode.".into());
            }
            if options & flags::TRACKING_BCAST != 0
                && options & (flags::TRACKING_OPTIN | flags::TRACKING_OPTOUT) != 0
            {
                return Err("ERR OPTIN and OPTOUT are not compatible with BCAST".into());
            }
            if options & flags::TRACKING_OPTIN != 0 && options & flags::TRACKING_OPTOUT != 0 {
                return Err("ERR You can't specify both OPTIN mode and OPTOUT mode".into());
            }
            if (options & flags::TRACKING_OPTIN != 0 && c.has(flags::TRACKING_OPTOUT))
                || (options & flags::TRACKING_OPTOUT != 0 && c.has(flags::TRACKING_OPTIN))
            {
                return Err("ERR You can't switch OPTIN/OPTOUT mode before disabling tracking for this client, and then re-enabling it with a different mode.".into());
            }
            if options & flags::TRACKING_BCAST != 0 {
                check_prefix_collisions(&c.tracking_prefixes, &prefixes)?;
            }
            self.tracking_enable(key, redir as u64, options, &prefixes);
        } else if eq_ic(&argv[2], "off") {
            self.tracking_disable(key);
        } else {
            return Err(error::SYNTAX.into());
        }
        self.reply_ok(key);
        Ok(())
    }
}

/// checkPrefixCollisionsOrReply: no prefix may be a prefix of another
/// (existing or given).
fn check_prefix_collisions(existing: &[Vec<u8>], given: &[Bytes]) -> Result<(), CmdError> {
    let overlap = |a: &[u8], b: &[u8]| {
        let n = a.len().min(b.len());
        a[..n] == b[..n]
    };
    let s = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    for (i, p) in given.iter().enumerate() {
        if let Some(e) = existing.iter().find(|e| overlap(e, p)) {
            return Err(CmdError::msg(format!(
                "ERR Prefix '{}' overlaps with an existing prefix '{}'. Prefixes for a single client must not overlap.",
                s(p),
                s(e)
            )));
        }
        if let Some(q) = given[i + 1..].iter().find(|q| overlap(p, q)) {
            return Err(CmdError::msg(format!(
                "ERR Prefix '{}' overlaps with another provided prefix '{}'. Prefixes for a single client must not overlap.",
                s(p),
                s(q)
            )));
        }
    }
    Ok(())
}

/// trackingBuildBroadcastReply: the keys as a RESP array, without those
/// `exclude` modified last; None when that leaves nothing.
fn bcast_reply(keys: &BTreeMap<Vec<u8>, u64>, exclude: Option<u64>) -> Option<Vec<u8>> {
    let kept: Vec<&Vec<u8>> = keys
        .iter()
        .filter(|(_, &m)| exclude.is_none_or(|x| m != x))
        .map(|(k, _)| k)
        .collect();
    if kept.is_empty() && exclude.is_some() {
        return None;
    }
    let mut out = Vec::with_capacity(kept.len() * 16 + 8);
    out.extend_from_slice(format!("*{}\r\n", kept.len()).as_bytes());
    for k in kept {
        out.extend_from_slice(format!("${}\r\n", k.len()).as_bytes());
        out.extend_from_slice(k);
        out.extend_from_slice(b"\r\n");
    }
    Some(out)
}
