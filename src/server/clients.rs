//! The client registry: the slab of connections and every index that
//! points at a client (Redis keeps these scattered over `server.*` lists and
//! dicts; here they live together so they are registered and freed in one
//! place).
//!
//! Owned here, per client and by the server's side:
//! - pub/sub: channel -> subscribers, pattern -> subscribers, shard
//!   channel -> subscribers (SSUBSCRIBE), and each client's own lists;
//! - blocked clients: (db, key) -> clients waiting on it, first come first
//!   served, and each client's `BlockState` (the keyspace keeps only the
//!   count of waiters per key, Redis's `db->blocking_keys`, fed from the
//!   `BlockState` that [`Clients::unblock`] and [`Clients::remove`] hand back);
//! - clients holding commands during CLIENT PAUSE;
//! - our replicas and their `ReplicaInfo` (sync state, ACKs, buffered stream);
//! - MONITOR clients;
//! - the id -> slot map (CLIENT KILL ID, CLIENT UNBLOCK, WATCH invalidation).
//!
//! - client-side caching (CLIENT TRACKING): the table of keys tracking
//!   clients may cache, BCAST prefixes, the invalidations waiting for the
//!   reply of the command that caused them (`super::tracking`).
//!
//! Identity: a slab key names a slot, and a slot is reused once its client
//! is freed. Lists that outlive the current event hold a [`ClientRef`]
//! (slot + client id, ids are never reused), which resolves to nothing once
//! its client is gone. [`Clients::remove`] is the only way out of the slab
//! and it clears the client from every index above.

use super::blocking::BlockState;
use crate::net::Client;
pub use crate::net::ClientRef;
use crate::repl::ReplicaInfo;
use crate::sds::Sds;
use rustc_hash::FxBuildHasher;
use slab::Slab;
use std::collections::{HashMap, VecDeque};

/// One slot: the connection and the server-side state that belongs to it.
struct Slot {
    client: Client,
    /// Pub/Sub channels, patterns and shard channels, in subscription order.
    channels: Vec<Vec<u8>>,
    patterns: Vec<Vec<u8>>,
    shard_channels: Vec<Vec<u8>>,
    /// Set while blocked on keys (BLPOP and friends).
    blocked: Option<Box<BlockState>>,
    /// Replica-side bookkeeping: created by REPLCONF, used once it syncs.
    replica: Option<Box<ReplicaInfo>>,
}

/// What a freed client was still registered with, for the indexes that
/// live outside the registry (the keyspace's waiter counts, replication).
#[must_use = "the keyspace's waiter counts must be released"]
pub struct Freed {
    pub client: Client,
    pub blocked: Option<Box<BlockState>>,
    pub replica: Option<Box<ReplicaInfo>>,
}

pub struct Clients {
    slab: Slab<Slot>,
    by_id: HashMap<u64, usize, FxBuildHasher>,
    next_id: u64,
    channels: HashMap<Vec<u8>, Vec<ClientRef>>,
    patterns: HashMap<Vec<u8>, Vec<ClientRef>>,
    shard_channels: HashMap<Vec<u8>, Vec<ClientRef>>,
    blocked_on: HashMap<(usize, Sds), VecDeque<ClientRef>>,
    blocked: usize,
    paused: Vec<ClientRef>,
    monitors: Vec<ClientRef>,
    replicas: Vec<ClientRef>,
    pub tracking: super::tracking::Tracking,
}

/// A name (channel, pattern, shard channel) -> its subscribers.
type Subscribers = HashMap<Vec<u8>, Vec<ClientRef>>;

/// Which subscription table: SUBSCRIBE, PSUBSCRIBE or SSUBSCRIBE.
#[derive(Clone, Copy)]
enum SubKind {
    Channel,
    Pattern,
    Shard,
}

impl SubKind {
    fn of(pattern: bool) -> SubKind {
        if pattern {
            SubKind::Pattern
        } else {
            SubKind::Channel
        }
    }
}

impl Default for Clients {
    fn default() -> Self {
        Clients::new()
    }
}

/// Removes `r` from a subscriber list; true when the list became empty.
fn drop_ref(list: &mut Vec<ClientRef>, r: ClientRef) -> bool {
    list.retain(|&x| x != r);
    list.is_empty()
}

impl Clients {
    pub fn new() -> Clients {
        Clients {
            slab: Slab::with_capacity(1024),
            by_id: HashMap::default(),
            next_id: 1,
            channels: HashMap::new(),
            patterns: HashMap::new(),
            shard_channels: HashMap::new(),
            blocked_on: HashMap::new(),
            blocked: 0,
            paused: Vec::new(),
            monitors: Vec::new(),
            replicas: Vec::new(),
            tracking: super::tracking::Tracking::default(),
        }
    }

    // ---- the slab ----

    /// A new client id (CLIENT ID): never reused.
    pub fn next_id(&mut self) -> u64 {
        let id = self.next_id;
        self.next_id += 1;
        id
    }

    /// The slot the next `insert` will use (to register the socket first).
    pub fn vacant_key(&self) -> usize {
        self.slab.vacant_key()
    }

    pub fn insert(&mut self, client: Client) -> usize {
        let id = client.id;
        let key = self.slab.insert(Slot {
            client,
            channels: Vec::new(),
            patterns: Vec::new(),
            shard_channels: Vec::new(),
            blocked: None,
            replica: None,
        });
        self.by_id.insert(id, key);
        key
    }

    /// Takes a client out of the slab and out of every index.
    pub fn remove(&mut self, key: usize) -> Option<Freed> {
        let r = self.handle(key)?;
        self.unsubscribe_all(key);
        let blocked = self.unblock(key);
        self.paused.retain(|&x| x != r);
        self.monitors.retain(|&x| x != r);
        self.replicas.retain(|&x| x != r);
        self.untrack(key);
        self.tracking.pending.retain(|(k, _)| *k != key);
        let slot = self.slab.remove(key);
        self.by_id.remove(&slot.client.id);
        Some(Freed {
            client: slot.client,
            blocked,
            replica: slot.replica,
        })
    }

    #[inline]
    pub fn get(&self, key: usize) -> Option<&Client> {
        self.slab.get(key).map(|s| &s.client)
    }

    #[inline]
    pub fn get_mut(&mut self, key: usize) -> Option<&mut Client> {
        self.slab.get_mut(key).map(|s| &mut s.client)
    }

    pub fn contains(&self, key: usize) -> bool {
        self.slab.contains(key)
    }

    pub fn len(&self) -> usize {
        self.slab.len()
    }

    pub fn is_empty(&self) -> bool {
        self.slab.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = (usize, &Client)> {
        self.slab.iter().map(|(k, s)| (k, &s.client))
    }

    pub fn iter_mut(&mut self) -> impl Iterator<Item = (usize, &mut Client)> {
        self.slab.iter_mut().map(|(k, s)| (k, &mut s.client))
    }

    /// The generational handle of the client now in `key`.
    pub fn handle(&self, key: usize) -> Option<ClientRef> {
        self.get(key).map(|c| ClientRef { key, id: c.id })
    }

    /// The slot of a handle's client, None once that client is gone.
    pub fn resolve(&self, r: ClientRef) -> Option<usize> {
        self.get(r.key).filter(|c| c.id == r.id).map(|_| r.key)
    }

    /// Takes a client out of client-side caching (its flags, prefixes).
    pub fn untrack(&mut self, key: usize) {
        if let Some(slot) = self.slab.get_mut(key) {
            self.tracking.forget(&mut slot.client);
        }
    }

    /// The slot of the client with this id.
    pub fn key_by_id(&self, id: u64) -> Option<usize> {
        self.by_id.get(&id).copied()
    }

    fn resolve_all(&self, refs: &[ClientRef]) -> Vec<usize> {
        refs.iter().filter_map(|&r| self.resolve(r)).collect()
    }

    // ---- pub/sub ----

    /// Subscribes `key` to a channel or pattern; false if it already was.
    pub fn subscribe(&mut self, key: usize, name: &[u8], pattern: bool) -> bool {
        self.subscribe_kind(key, name, SubKind::of(pattern))
    }

    /// Unsubscribes `key` from a channel or pattern; false if it was not.
    pub fn unsubscribe(&mut self, key: usize, name: &[u8], pattern: bool) -> bool {
        self.unsubscribe_kind(key, name, SubKind::of(pattern))
    }

    /// SSUBSCRIBE one shard channel; false if it already was.
    pub fn shard_subscribe(&mut self, key: usize, name: &[u8]) -> bool {
        self.subscribe_kind(key, name, SubKind::Shard)
    }

    /// SUNSUBSCRIBE one shard channel; false if it was not.
    pub fn shard_unsubscribe(&mut self, key: usize, name: &[u8]) -> bool {
        self.unsubscribe_kind(key, name, SubKind::Shard)
    }

    fn lists(&mut self, key: usize, kind: SubKind) -> (&mut Vec<Vec<u8>>, &mut Subscribers) {
        let slot = &mut self.slab[key];
        match kind {
            SubKind::Channel => (&mut slot.channels, &mut self.channels),
            SubKind::Pattern => (&mut slot.patterns, &mut self.patterns),
            SubKind::Shard => (&mut slot.shard_channels, &mut self.shard_channels),
        }
    }

    fn subscribe_kind(&mut self, key: usize, name: &[u8], kind: SubKind) -> bool {
        let Some(r) = self.handle(key) else {
            return false;
        };
        let (list, map) = self.lists(key, kind);
        if list.iter().any(|x| x == name) {
            return false;
        }
        list.push(name.to_vec());
        map.entry(name.to_vec()).or_default().push(r);
        true
    }

    fn unsubscribe_kind(&mut self, key: usize, name: &[u8], kind: SubKind) -> bool {
        let Some(r) = self.handle(key) else {
            return false;
        };
        let (list, map) = self.lists(key, kind);
        let Some(i) = list.iter().position(|x| x == name) else {
            return false;
        };
        list.remove(i);
        if map.get_mut(name).is_some_and(|v| drop_ref(v, r)) {
            map.remove(name);
        }
        true
    }

    /// Drops every subscription of a client (close, RESET).
    pub fn unsubscribe_all(&mut self, key: usize) {
        let Some(slot) = self.slab.get_mut(key) else {
            return;
        };
        let r = ClientRef {
            key,
            id: slot.client.id,
        };
        for (names, map) in [
            (std::mem::take(&mut slot.channels), &mut self.channels),
            (std::mem::take(&mut slot.patterns), &mut self.patterns),
            (
                std::mem::take(&mut slot.shard_channels),
                &mut self.shard_channels,
            ),
        ] {
            for name in names {
                if map.get_mut(&name).is_some_and(|v| drop_ref(v, r)) {
                    map.remove(&name);
                }
            }
        }
    }

    /// A client's channels (or patterns), in subscription order.
    pub fn subscriptions(&self, key: usize, pattern: bool) -> &[Vec<u8>] {
        match self.slab.get(key) {
            Some(s) if pattern => &s.patterns,
            Some(s) => &s.channels,
            None => &[],
        }
    }

    /// Channels plus patterns a client is subscribed to.
    pub fn subscription_count(&self, key: usize) -> usize {
        self.slab
            .get(key)
            .map_or(0, |s| s.channels.len() + s.patterns.len())
    }

    /// Slots of a channel's subscribers, in subscription order.
    pub fn channel_subscribers(&self, channel: &[u8]) -> Vec<usize> {
        self.channels
            .get(channel)
            .map_or_else(Vec::new, |v| self.resolve_all(v))
    }

    /// Patterns matching `channel` with their subscribers' slots.
    pub fn pattern_subscribers(&self, channel: &[u8]) -> Vec<(Vec<u8>, Vec<usize>)> {
        if self.patterns.is_empty() {
            return Vec::new();
        }
        self.patterns
            .iter()
            .filter(|(p, _)| crate::util::string_match(p, channel, false))
            .map(|(p, v)| (p.clone(), self.resolve_all(v)))
            .collect()
    }

    /// Channels with at least one subscriber.
    pub fn channel_names(&self) -> impl Iterator<Item = &Vec<u8>> {
        self.channels.keys()
    }

    pub fn channel_subscriber_count(&self, channel: &[u8]) -> usize {
        self.channels.get(channel).map_or(0, Vec::len)
    }

    pub fn num_channels(&self) -> usize {
        self.channels.len()
    }

    pub fn num_patterns(&self) -> usize {
        self.patterns.len()
    }

    /// A client's shard channels, in subscription order.
    pub fn shard_subscriptions(&self, key: usize) -> &[Vec<u8>] {
        self.slab.get(key).map_or(&[], |s| &s.shard_channels)
    }

    /// Slots of a shard channel's subscribers.
    pub fn shard_subscribers(&self, channel: &[u8]) -> Vec<usize> {
        self.shard_channels
            .get(channel)
            .map_or_else(Vec::new, |v| self.resolve_all(v))
    }

    /// Shard channels with at least one subscriber.
    pub fn shard_channel_names(&self) -> impl Iterator<Item = &Vec<u8>> {
        self.shard_channels.keys()
    }

    pub fn shard_subscriber_count(&self, channel: &[u8]) -> usize {
        self.shard_channels.get(channel).map_or(0, Vec::len)
    }

    pub fn num_shard_channels(&self) -> usize {
        self.shard_channels.len()
    }

    // ---- clients blocked on keys ----

    /// Registers a client as blocked on `state.keys` (in `state.db`).
    pub fn block(&mut self, key: usize, state: BlockState) {
        let Some(r) = self.handle(key) else {
            return;
        };
        for k in &state.keys {
            let q = self.blocked_on.entry((state.db, k.clone())).or_default();
            if !q.contains(&r) {
                q.push_back(r);
            }
        }
        if self.slab[key].blocked.replace(Box::new(state)).is_none() {
            self.blocked += 1;
        }
    }

    /// Forgets a client's blocking registration, handing its state back.
    pub fn unblock(&mut self, key: usize) -> Option<Box<BlockState>> {
        let r = self.handle(key)?;
        let st = self.slab[key].blocked.take()?;
        for k in &st.keys {
            let e = (st.db, k.clone());
            if let Some(q) = self.blocked_on.get_mut(&e) {
                q.retain(|&x| x != r);
                if q.is_empty() {
                    self.blocked_on.remove(&e);
                }
            }
        }
        self.blocked -= 1;
        Some(st)
    }

    pub fn blocked_state(&self, key: usize) -> Option<&BlockState> {
        self.slab.get(key)?.blocked.as_deref()
    }

    pub fn blocked_state_mut(&mut self, key: usize) -> Option<&mut BlockState> {
        self.slab.get_mut(key)?.blocked.as_deref_mut()
    }

    /// Slots of the clients blocked on (db, key), first come first.
    pub fn blocked_on(&self, db: usize, key: &Sds) -> Vec<usize> {
        self.blocked_on
            .get(&(db, key.clone()))
            .map_or_else(Vec::new, |q| {
                q.iter().filter_map(|&r| self.resolve(r)).collect()
            })
    }

    /// Number of clients blocked on keys.
    pub fn blocked_count(&self) -> usize {
        self.blocked
    }

    /// The clients blocked on keys, with what they wait for.
    pub fn blocked_clients(&self) -> impl Iterator<Item = (usize, &BlockState)> {
        self.slab
            .iter()
            .filter_map(|(k, s)| s.blocked.as_deref().map(|b| (k, b)))
    }

    // ---- CLIENT PAUSE ----

    /// Holds a client's commands until the pause ends.
    pub fn hold_paused(&mut self, key: usize) {
        if let Some(r) = self.handle(key) {
            if !self.paused.contains(&r) {
                self.paused.push(r);
            }
        }
    }

    /// Number of clients holding commands (counted as blocked, as Redis's
    /// BLOCKED_POSTPONE clients).
    pub fn paused_count(&self) -> usize {
        self.paused.len()
    }

    /// The held clients' slots, releasing them.
    pub fn take_paused(&mut self) -> Vec<usize> {
        let held = std::mem::take(&mut self.paused);
        self.resolve_all(&held)
    }

    // ---- MONITOR ----

    pub fn add_monitor(&mut self, key: usize) {
        if let Some(r) = self.handle(key) {
            if !self.monitors.contains(&r) {
                self.monitors.push(r);
            }
        }
    }

    pub fn remove_monitor(&mut self, key: usize) {
        if let Some(r) = self.handle(key) {
            self.monitors.retain(|&x| x != r);
        }
    }

    pub fn has_monitors(&self) -> bool {
        !self.monitors.is_empty()
    }

    pub fn monitor_keys(&self) -> Vec<usize> {
        self.resolve_all(&self.monitors)
    }

    // ---- replicas ----

    /// Lists a client among our replicas (after SYNC/PSYNC).
    pub fn add_replica(&mut self, key: usize) {
        if let Some(r) = self.handle(key) {
            if !self.replicas.contains(&r) {
                self.replicas.push(r);
            }
        }
    }

    /// Slots of our replicas, in the order they attached.
    pub fn replica_keys(&self) -> Vec<usize> {
        self.resolve_all(&self.replicas)
    }

    /// Number of entries in the replica list (some may be closing).
    pub fn replica_count(&self) -> usize {
        self.replicas.len()
    }

    /// The slot of the `i`th replica in attach order, if still connected.
    pub fn replica_at(&self, i: usize) -> Option<usize> {
        self.resolve(*self.replicas.get(i)?)
    }

    pub fn has_replicas(&self) -> bool {
        !self.replicas.is_empty()
    }

    /// Our replicas with their sync state, in the order they attached.
    pub fn replicas(&self) -> impl Iterator<Item = (usize, &Client, &ReplicaInfo)> {
        self.replicas.iter().filter_map(|r| {
            let s = self.slab.get(r.key).filter(|s| s.client.id == r.id)?;
            Some((r.key, &s.client, s.replica.as_deref()?))
        })
    }

    /// A client's replica bookkeeping, if it has any.
    pub fn replica(&self, key: usize) -> Option<&ReplicaInfo> {
        self.slab.get(key)?.replica.as_deref()
    }

    pub fn replica_mut(&mut self, key: usize) -> Option<&mut ReplicaInfo> {
        self.slab.get_mut(key)?.replica.as_deref_mut()
    }

    /// A client's replica bookkeeping, created on first use (REPLCONF
    /// comes before PSYNC).
    pub fn replica_or_default(&mut self, key: usize) -> Option<&mut ReplicaInfo> {
        let s = self.slab.get_mut(key)?;
        Some(s.replica.get_or_insert_with(Default::default))
    }

    /// The connection and its replica bookkeeping together (feeding the
    /// stream into one or the other).
    pub fn with_replica_mut(&mut self, key: usize) -> Option<(&mut Client, &mut ReplicaInfo)> {
        let s = self.slab.get_mut(key)?;
        let info = s.replica.as_deref_mut()?;
        Some((&mut s.client, info))
    }
}

impl std::ops::Index<usize> for Clients {
    type Output = Client;
    fn index(&self, key: usize) -> &Client {
        &self.slab[key].client
    }
}

impl std::ops::IndexMut<usize> for Clients {
    fn index_mut(&mut self, key: usize) -> &mut Client {
        &mut self.slab[key].client
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::net::{Client, Stream};

    fn client(reg: &mut Clients) -> Client {
        let (a, _b) = mio::net::UnixStream::pair().expect("socketpair");
        Client::new(
            reg.next_id(),
            Stream::Unix(a),
            "a:1".into(),
            "l:1".into(),
            0,
        )
    }

    fn block_state(key: &[u8]) -> BlockState {
        BlockState {
            cmd: crate::cmd::lookup(b"blpop").expect("blpop in the table"),
            argv: Vec::new(),
            db: 0,
            keys: vec![Sds::new(key)],
            deadline_ms: 0,
            stream: None,
            duration_us: 0,
        }
    }

    /// Freeing a client clears every index, and the next client to take
    /// the same slot is never mistaken for it.
    #[test]
    fn remove_clears_every_index_and_slot_reuse_is_not_identity() {
        let mut reg = Clients::new();
        let c = client(&mut reg);
        let old_id = c.id;
        let k = reg.insert(c);
        let old = reg.handle(k).expect("handle");
        assert!(reg.subscribe(k, b"ch", false));
        assert!(reg.subscribe(k, b"p*", true));
        reg.block(k, block_state(b"list"));
        reg.hold_paused(k);
        reg.add_monitor(k);
        reg.replica_or_default(k).expect("slot").listening_port = 7;
        reg.add_replica(k);
        assert_eq!(reg.blocked_count(), 1);

        let freed = reg.remove(k).expect("present");
        assert!(freed.blocked.is_some() && freed.replica.is_some());
        assert_eq!(reg.num_channels() + reg.num_patterns(), 0);
        assert_eq!(reg.blocked_count(), 0);
        assert!(reg.blocked_on(0, &Sds::new(b"list")).is_empty());
        assert!(!reg.has_monitors() && !reg.has_replicas());
        assert_eq!(reg.key_by_id(old_id), None);

        // The slab hands the same slot to the next client.
        let c2 = client(&mut reg);
        let k2 = reg.insert(c2);
        assert_eq!(k2, k);
        assert_eq!(reg.resolve(old), None);
        assert!(reg.resolve(reg.handle(k2).expect("handle")).is_some());
        assert!(reg.take_paused().is_empty());
        assert!(reg.channel_subscribers(b"ch").is_empty());
        assert!(reg.pattern_subscribers(b"px").is_empty());
        assert!(reg.monitor_keys().is_empty() && reg.replica_keys().is_empty());
        assert!(reg.replica(k2).is_none() && reg.blocked_state(k2).is_none());
        assert_eq!(reg.subscription_count(k2), 0);
    }

    /// A handle taken before a slot changed hands resolves to nothing, even
    /// for lists the registry does not own (WAIT's waiters keep handles).
    #[test]
    fn stale_handle_in_a_foreign_list_resolves_to_none() {
        let mut reg = Clients::new();
        let c = client(&mut reg);
        let k = reg.insert(c);
        let h = reg.handle(k).expect("handle");
        drop(reg.remove(k));
        let c = client(&mut reg);
        assert_eq!(reg.insert(c), k);
        assert_eq!(reg.resolve(h), None);
    }

    #[test]
    fn subscribe_twice_and_unsubscribe_unknown() {
        let mut reg = Clients::new();
        let c = client(&mut reg);
        let k = reg.insert(c);
        assert!(reg.subscribe(k, b"a", false));
        assert!(!reg.subscribe(k, b"a", false));
        assert!(!reg.unsubscribe(k, b"b", false));
        assert_eq!(reg.channel_subscribers(b"a"), vec![k]);
        assert!(reg.unsubscribe(k, b"a", false));
        assert_eq!(reg.num_channels(), 0);
    }
}
