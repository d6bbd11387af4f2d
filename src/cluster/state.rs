//! The cluster state (Redis's clusterState): the node table, who serves
//! each of the 16384 slots, slots being migrated or imported, epochs, the
//! manual-failover and election bookkeeping, bus statistics. Pure: every
//! operation here changes only this structure; what the server must do as
//! a consequence (replicate someone, drop keys) is returned to the caller.
//!
//! Node ids are slab keys. A node is removed in exactly one place
//! (`del_node`), which clears every reference to it (slots, replicas,
//! masters, failure reports, open slots), so a key is never left dangling.

use super::codec::{nflag, NAMELEN};
use super::node::{random_name, LinkId, Node, NodeId};
use super::slot::{self, SLOTS};
use slab::Slab;
use std::collections::HashMap;

/// Work for `cluster_before_sleep` (CLUSTER_TODO_*).
pub mod todo {
    pub const HANDLE_FAILOVER: u32 = 1 << 0;
    pub const UPDATE_STATE: u32 = 1 << 1;
    pub const SAVE_CONFIG: u32 = 1 << 2;
    pub const FSYNC_CONFIG: u32 = 1 << 3;
    pub const HANDLE_MANUALFAILOVER: u32 = 1 << 4;
}

/// How long a forgotten node is not re-added from gossip (seconds).
pub const BLACKLIST_TTL: i64 = 60;
pub const FAIL_REPORT_VALIDITY_MULT: i64 = 2;
pub const FAIL_UNDO_TIME_MULT: i64 = 2;
pub const MF_TIMEOUT: i64 = 5000;
pub const MF_PAUSE_MULT: i64 = 2;
pub const SLAVE_MIGRATION_DELAY: i64 = 5000;

/// Why a replica cannot fail over (CLUSTER_CANT_FAILOVER_*).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum CantFailover {
    None,
    DataAge,
    WaitingDelay,
    Expired,
    WaitingVotes,
}

/// What the server must do after a slot configuration update.
#[derive(Debug, PartialEq, Eq)]
pub enum SlotsOutcome {
    Nothing,
    /// Replicate this node (we lost our slots to it).
    BecomeReplicaOf(NodeId),
    /// Delete the keys of these slots (ownership lost while holding keys).
    DeleteKeys(Vec<usize>),
}

pub struct Cluster {
    pub myself: NodeId,
    pub nodes: Slab<Node>,
    pub by_name: HashMap<[u8; NAMELEN], NodeId>,
    pub current_epoch: u64,
    pub last_vote_epoch: u64,
    pub state_ok: bool,
    /// Masters serving at least one slot.
    pub size: usize,
    pub slots: Vec<Option<NodeId>>,
    pub migrating_to: Vec<Option<NodeId>>,
    pub importing_from: Vec<Option<NodeId>>,
    /// Forgotten node names -> unix seconds until which they stay out.
    pub blacklist: HashMap<[u8; NAMELEN], i64>,
    pub failover_auth_time: i64,
    pub failover_auth_count: usize,
    pub failover_auth_sent: bool,
    pub failover_auth_rank: usize,
    pub failover_auth_epoch: u64,
    pub cant_failover_reason: CantFailover,
    pub cant_failover_logged_s: i64,
    /// Manual failover deadline (0: none in progress).
    pub mf_end: i64,
    pub mf_slave: Option<NodeId>,
    pub mf_master_offset: i64,
    pub mf_can_start: bool,
    pub todo: u32,
    pub stats_sent: [u64; super::codec::ty::COUNT],
    pub stats_received: [u64; super::codec::ty::COUNT],
    pub stats_pfail_nodes: usize,
    pub stat_links_buffer_limit_exceeded: u64,
    /// Ping counter used to avoid duplicates in one gossip section.
    pub pings_sent: u64,
    pub first_update_state_ms: i64,
    pub among_minority_ms: i64,
    /// Slots my shard stopped serving since the last look: their shard
    /// channels' subscribers must be unsubscribed.
    pub lost_shard_slots: Vec<usize>,
}

impl Cluster {
    /// A state with only `myself`, a master with a random name.
    pub fn new(now: i64) -> Cluster {
        let mut c = Cluster {
            myself: 0,
            nodes: Slab::new(),
            by_name: HashMap::new(),
            current_epoch: 0,
            last_vote_epoch: 0,
            state_ok: false,
            size: 1,
            slots: vec![None; SLOTS],
            migrating_to: vec![None; SLOTS],
            importing_from: vec![None; SLOTS],
            blacklist: HashMap::new(),
            failover_auth_time: 0,
            failover_auth_count: 0,
            failover_auth_sent: false,
            failover_auth_rank: 0,
            failover_auth_epoch: 0,
            cant_failover_reason: CantFailover::None,
            cant_failover_logged_s: 0,
            mf_end: 0,
            mf_slave: None,
            mf_master_offset: -1,
            mf_can_start: false,
            todo: 0,
            stats_sent: [0; super::codec::ty::COUNT],
            stats_received: [0; super::codec::ty::COUNT],
            stats_pfail_nodes: 0,
            stat_links_buffer_limit_exceeded: 0,
            pings_sent: 0,
            first_update_state_ms: 0,
            among_minority_ms: 0,
            lost_shard_slots: Vec::new(),
        };
        c.myself = c.add_node(Node::new(random_name(), nflag::MYSELF | nflag::MASTER, now));
        c
    }

    pub fn me(&self) -> &Node {
        &self.nodes[self.myself]
    }
    pub fn me_mut(&mut self) -> &mut Node {
        &mut self.nodes[self.myself]
    }
    pub fn node(&self, id: NodeId) -> &Node {
        &self.nodes[id]
    }
    pub fn do_before_sleep(&mut self, flags: u32) {
        self.todo |= flags;
    }

    // ---- node table ----

    pub fn add_node(&mut self, n: Node) -> NodeId {
        let name = n.name;
        let id = self.nodes.insert(n);
        self.by_name.insert(name, id);
        id
    }

    /// Looks a node up by a name given by a client or a peer.
    pub fn lookup(&self, name: &[u8]) -> Option<NodeId> {
        if !super::node::valid_name(name) {
            return None;
        }
        let mut k = [0u8; NAMELEN];
        k.copy_from_slice(name);
        self.by_name.get(&k).copied()
    }

    pub fn rename(&mut self, id: NodeId, name: [u8; NAMELEN]) {
        let old = self.nodes[id].name;
        self.by_name.remove(&old);
        self.nodes[id].name = name;
        self.by_name.insert(name, id);
    }

    /// Removes a node and every reference to it; returns the links that
    /// pointed to it (the caller closes them).
    pub fn del_node(&mut self, id: NodeId) -> Vec<LinkId> {
        for s in 0..SLOTS {
            if self.importing_from[s] == Some(id) {
                self.importing_from[s] = None;
            }
            if self.migrating_to[s] == Some(id) {
                self.migrating_to[s] = None;
            }
            if self.slots[s] == Some(id) {
                self.del_slot(s);
            }
        }
        let keys: Vec<NodeId> = self.nodes.iter().map(|(k, _)| k).collect();
        for k in keys {
            if k != id {
                self.nodes[k].fail_reports.retain(|(r, _)| *r != id);
            }
        }
        let slaves = std::mem::take(&mut self.nodes[id].slaves);
        for s in slaves {
            if let Some(n) = self.nodes.get_mut(s) {
                n.slaveof = None;
            }
        }
        if let Some(m) = self.nodes[id].slaveof {
            self.remove_slave(m, id);
        }
        if self.mf_slave == Some(id) {
            self.mf_slave = None;
        }
        let n = self.nodes.remove(id);
        self.by_name.remove(&n.name);
        n.link.into_iter().chain(n.inbound_link).collect()
    }

    pub fn remove_slave(&mut self, master: NodeId, slave: NodeId) {
        let m = &mut self.nodes[master];
        if let Some(pos) = m.slaves.iter().position(|&s| s == slave) {
            m.slaves.remove(pos);
            if m.slaves.is_empty() {
                m.flags &= !nflag::MIGRATE_TO;
            }
        }
    }

    pub fn add_slave(&mut self, master: NodeId, slave: NodeId) {
        let m = &mut self.nodes[master];
        if !m.slaves.contains(&slave) {
            m.slaves.push(slave);
            m.flags |= nflag::MIGRATE_TO;
        }
    }

    pub fn count_non_failing_slaves(&self, id: NodeId) -> usize {
        self.nodes[id]
            .slaves
            .iter()
            .filter(|&&s| !self.nodes[s].failed())
            .count()
    }

    /// A node believed to be a replica is now a master.
    pub fn set_node_as_master(&mut self, id: NodeId) {
        if self.nodes[id].is_master() {
            return;
        }
        if let Some(m) = self.nodes[id].slaveof {
            self.remove_slave(m, id);
            if id != self.myself {
                self.nodes[id].flags |= nflag::MIGRATE_TO;
            }
        }
        let n = &mut self.nodes[id];
        n.flags &= !nflag::SLAVE;
        n.flags |= nflag::MASTER;
        n.slaveof = None;
        self.do_before_sleep(todo::SAVE_CONFIG | todo::UPDATE_STATE);
    }

    /// A master (or replica) that is known and not in handshake whose
    /// address is `ip:port@cport`, used to avoid duplicate handshakes.
    pub fn handshake_in_progress(&self, ip: &str, port: u16, cport: u16) -> bool {
        self.nodes.iter().any(|(_, n)| {
            n.in_handshake() && n.ip.eq_ignore_ascii_case(ip) && n.port == port && n.cport == cport
        })
    }

    // ---- failure reports ----

    /// Adds or refreshes `sender`'s report about `failing`; true when new.
    pub fn add_failure_report(&mut self, failing: NodeId, sender: NodeId, now: i64) -> bool {
        let n = &mut self.nodes[failing];
        if let Some(r) = n.fail_reports.iter_mut().find(|(s, _)| *s == sender) {
            r.1 = now;
            return false;
        }
        n.fail_reports.push((sender, now));
        true
    }

    pub fn cleanup_failure_reports(&mut self, id: NodeId, node_timeout: i64, now: i64) {
        let max = node_timeout * FAIL_REPORT_VALIDITY_MULT;
        self.nodes[id].fail_reports.retain(|(_, t)| now - t <= max);
    }

    pub fn del_failure_report(
        &mut self,
        id: NodeId,
        sender: NodeId,
        node_timeout: i64,
        now: i64,
    ) -> bool {
        let n = &mut self.nodes[id];
        let Some(pos) = n.fail_reports.iter().position(|(s, _)| *s == sender) else {
            return false;
        };
        n.fail_reports.remove(pos);
        self.cleanup_failure_reports(id, node_timeout, now);
        true
    }

    pub fn failure_reports_count(&mut self, id: NodeId, node_timeout: i64, now: i64) -> usize {
        self.cleanup_failure_reports(id, node_timeout, now);
        self.nodes[id].fail_reports.len()
    }

    // ---- blacklist ----

    pub fn blacklist_add(&mut self, name: [u8; NAMELEN], now_s: i64) {
        self.blacklist.retain(|_, &mut t| t >= now_s);
        self.blacklist.insert(name, now_s + BLACKLIST_TTL);
    }

    pub fn blacklisted(&mut self, name: &[u8; NAMELEN], now_s: i64) -> bool {
        self.blacklist.retain(|_, &mut t| t >= now_s);
        self.blacklist.contains_key(name)
    }

    // ---- slots ----

    /// Assigns a free slot to `n`; false when the slot is taken.
    pub fn add_slot(&mut self, n: NodeId, s: usize) -> bool {
        if self.slots[s].is_some() {
            return false;
        }
        let had = slot::test_bit(&self.nodes[n].slots, s);
        slot::set_bit(&mut self.nodes[n].slots, s);
        if !had {
            self.nodes[n].numslots += 1;
            // A master that gets its first slot is a replica-migration
            // target when other masters have replicas.
            if self.nodes[n].numslots == 1 && self.masters_have_slaves() {
                self.nodes[n].flags |= nflag::MIGRATE_TO;
            }
        }
        self.slots[s] = Some(n);
        true
    }

    fn masters_have_slaves(&self) -> bool {
        self.nodes
            .iter()
            .any(|(_, n)| !n.is_slave() && !n.slaves.is_empty())
    }

    /// Unassigns a slot; false when it was not assigned.
    pub fn del_slot(&mut self, s: usize) -> bool {
        let Some(n) = self.slots[s].take() else {
            return false;
        };
        if Some(n) == self.my_master() {
            self.lost_shard_slots.push(s);
        }
        if slot::test_bit(&self.nodes[n].slots, s) {
            slot::clear_bit(&mut self.nodes[n].slots, s);
            self.nodes[n].numslots -= 1;
        }
        true
    }

    pub fn del_node_slots(&mut self, n: NodeId) -> usize {
        let mut deleted = 0;
        for s in 0..SLOTS {
            if slot::test_bit(&self.nodes[n].slots, s) {
                self.del_slot(s);
                deleted += 1;
            }
        }
        deleted
    }

    pub fn close_all_slots(&mut self) {
        self.migrating_to.iter_mut().for_each(|x| *x = None);
        self.importing_from.iter_mut().for_each(|x| *x = None);
    }

    /// The master whose slots myself serves (itself, or its master).
    pub fn my_master(&self) -> Option<NodeId> {
        if self.me().is_master() {
            Some(self.myself)
        } else {
            self.me().slaveof
        }
    }

    /// myself, and the nodes of its shard (its master and that master's
    /// replicas), as clusterGetNodesServingMySlots.
    pub fn shard_of(&self, id: NodeId) -> Vec<NodeId> {
        let n = &self.nodes[id];
        let primary = if n.is_master() { Some(id) } else { n.slaveof };
        let Some(p) = primary else {
            return vec![id];
        };
        let mut v = vec![p];
        v.extend(self.nodes[p].slaves.iter().copied());
        v
    }

    // ---- epochs ----

    pub fn max_epoch(&self) -> u64 {
        self.nodes
            .iter()
            .map(|(_, n)| n.config_epoch)
            .max()
            .unwrap_or(0)
            .max(self.current_epoch)
    }

    /// clusterBumpConfigEpochWithoutConsensus: true when bumped.
    pub fn bump_epoch_without_consensus(&mut self) -> bool {
        let max = self.max_epoch();
        let me = self.myself;
        if self.nodes[me].config_epoch == 0 || self.nodes[me].config_epoch != max {
            self.current_epoch += 1;
            self.nodes[me].config_epoch = self.current_epoch;
            self.do_before_sleep(todo::SAVE_CONFIG | todo::FSYNC_CONFIG);
            log::warn!("New configEpoch set to {}", self.nodes[me].config_epoch);
            true
        } else {
            false
        }
    }

    /// Two masters with the same configEpoch: the one with the smaller
    /// name moves to a new epoch (true when we did).
    pub fn handle_epoch_collision(&mut self, sender: NodeId) -> bool {
        let me = self.myself;
        let (s, m) = (&self.nodes[sender], &self.nodes[me]);
        if s.config_epoch != m.config_epoch || !s.is_master() || !m.is_master() {
            return false;
        }
        if s.name <= m.name {
            return false;
        }
        self.current_epoch += 1;
        self.nodes[me].config_epoch = self.current_epoch;
        log::info!(
            "WARNING: configEpoch collision with node {}. configEpoch set to {}",
            self.nodes[sender].name_str(),
            self.current_epoch
        );
        true
    }

    /// clusterUpdateSlotsConfigWith: `sender` claims `slots` with `epoch`.
    /// `keys_in_slot` counts our keys; `allow_replica_migration` is the
    /// cluster-allow-replica-migration setting.
    pub fn update_slots_config_with(
        &mut self,
        sender: NodeId,
        epoch: u64,
        slots: &slot::Bitmap,
        keys_in_slot: &dyn Fn(usize) -> usize,
        allow_replica_migration: bool,
    ) -> SlotsOutcome {
        let me = self.myself;
        if sender == me {
            log::warn!("Discarding UPDATE message about myself.");
            return SlotsOutcome::Nothing;
        }
        let curmaster = self.my_master();
        let mut newmaster = None;
        let mut dirty = Vec::new();
        let (mut sender_slots, mut migrated_our_slots) = (0, 0);
        for s in 0..SLOTS {
            if !slot::test_bit(slots, s) {
                continue;
            }
            sender_slots += 1;
            if self.slots[s] == Some(sender) || self.importing_from[s].is_some() {
                continue;
            }
            let older = match self.slots[s] {
                None => true,
                Some(o) => self.nodes[o].config_epoch < epoch,
            };
            if older {
                if self.slots[s] == Some(me) && keys_in_slot(s) > 0 {
                    dirty.push(s);
                }
                if self.slots[s].is_some() && self.slots[s] == curmaster {
                    newmaster = Some(sender);
                    migrated_our_slots += 1;
                }
                self.del_slot(s);
                self.add_slot(sender, s);
                self.do_before_sleep(todo::SAVE_CONFIG | todo::UPDATE_STATE | todo::FSYNC_CONFIG);
            }
        }
        let cur_empty = curmaster.is_some_and(|c| self.nodes[c].numslots == 0);
        if let Some(nm) = newmaster {
            if cur_empty && (allow_replica_migration || sender_slots == migrated_our_slots) {
                log::warn!(
                    "Configuration change detected. Reconfiguring myself as a replica of {}",
                    self.nodes[nm].name_str()
                );
                self.do_before_sleep(todo::SAVE_CONFIG | todo::UPDATE_STATE | todo::FSYNC_CONFIG);
                return SlotsOutcome::BecomeReplicaOf(nm);
            }
        }
        if let Some(m) = self.me().slaveof {
            if let Some(gm) = self.nodes[m].slaveof {
                log::warn!(
                    "I'm a sub-replica! Reconfiguring myself as a replica of grandmaster {}",
                    self.nodes[gm].name_str()
                );
                self.do_before_sleep(todo::SAVE_CONFIG | todo::UPDATE_STATE | todo::FSYNC_CONFIG);
                return SlotsOutcome::BecomeReplicaOf(gm);
            }
        }
        if !dirty.is_empty() {
            return SlotsOutcome::DeleteKeys(dirty);
        }
        SlotsOutcome::Nothing
    }

    /// Points myself at a new master (clusterSetMaster, minus the
    /// replication side, which the caller starts).
    pub fn set_my_master(&mut self, n: NodeId) {
        let me = self.myself;
        if self.nodes[me].is_master() {
            self.nodes[me].flags &= !(nflag::MASTER | nflag::MIGRATE_TO);
            self.nodes[me].flags |= nflag::SLAVE;
            self.close_all_slots();
        } else if let Some(old) = self.nodes[me].slaveof {
            self.remove_slave(old, me);
        }
        self.nodes[me].slaveof = Some(n);
        self.add_slave(n, me);
    }

    /// clusterUpdateState's decision; returns the new state when it changed.
    pub fn update_state(
        &mut self,
        require_full_coverage: bool,
        node_timeout: i64,
        now: i64,
    ) -> Option<bool> {
        self.todo &= !todo::UPDATE_STATE;
        if self.first_update_state_ms == 0 {
            self.first_update_state_ms = now;
        }
        // A rebooted master waits a little before accepting writes.
        if self.me().is_master() && !self.state_ok && now - self.first_update_state_ms < 2000 {
            return None;
        }
        let mut new_ok = true;
        if require_full_coverage {
            new_ok = self
                .slots
                .iter()
                .all(|s| s.is_some_and(|n| !self.nodes[n].failed()));
        }
        let mut size = 0;
        let mut reachable = 0;
        for (_, n) in self.nodes.iter() {
            if n.is_master() && n.numslots > 0 {
                size += 1;
                if n.flags & (nflag::FAIL | nflag::PFAIL) == 0 {
                    reachable += 1;
                }
            }
        }
        self.size = size;
        if reachable < size / 2 + 1 {
            new_ok = false;
            self.among_minority_ms = now;
        }
        if new_ok != self.state_ok {
            let rejoin = node_timeout.clamp(500, 5000);
            if new_ok && self.me().is_master() && now - self.among_minority_ms < rejoin {
                return None;
            }
            log::warn!(
                "Cluster state changed: {}",
                if new_ok { "ok" } else { "fail" }
            );
            self.state_ok = new_ok;
            return Some(new_ok);
        }
        None
    }

    /// Forgets every other node, unassigns every slot, closes open slots;
    /// with `hard`, new name and epochs back to 0 (clusterReset, minus the
    /// replication and data side). Returns the links to close.
    pub fn reset(&mut self, hard: bool) -> Vec<LinkId> {
        let me = self.myself;
        if self.nodes[me].is_slave() {
            self.set_node_as_master(me);
        }
        self.close_all_slots();
        self.mf_end = 0;
        self.mf_can_start = false;
        self.mf_slave = None;
        self.mf_master_offset = -1;
        for s in 0..SLOTS {
            self.del_slot(s);
        }
        let others: Vec<NodeId> = self
            .nodes
            .iter()
            .map(|(k, _)| k)
            .filter(|&k| k != me)
            .collect();
        let mut links = Vec::new();
        for k in others {
            links.extend(self.del_node(k));
        }
        if hard {
            self.current_epoch = 0;
            self.last_vote_epoch = 0;
            self.nodes[me].config_epoch = 0;
            log::warn!("configEpoch set to 0 via CLUSTER RESET HARD");
            self.rename(me, random_name());
            log::info!("Node hard reset, now I'm {}", self.me().name_str());
        }
        self.do_before_sleep(todo::SAVE_CONFIG | todo::UPDATE_STATE | todo::FSYNC_CONFIG);
        links
    }

    // ---- descriptions ----

    /// One CLUSTER NODES line (without the newline). `link_up` says whether
    /// an outbound link exists.
    pub fn node_description(&self, id: NodeId, out: &mut String) {
        use std::fmt::Write;
        let n = &self.nodes[id];
        out.push_str(n.name_str());
        let _ = write!(out, " {}:{}@{}", n.ip, n.port, n.cport);
        if !n.hostname.is_empty() {
            let _ = write!(out, ",{}", n.hostname);
        }
        out.push(' ');
        super::node::flags_repr(n.flags, out);
        out.push(' ');
        match n.slaveof {
            Some(m) => out.push_str(self.nodes[m].name_str()),
            None => out.push('-'),
        }
        let epoch = match n.slaveof {
            Some(m) if n.is_slave() => self.nodes[m].config_epoch,
            _ => n.config_epoch,
        };
        let connected = n.link.is_some() || n.has(nflag::MYSELF);
        let _ = write!(
            out,
            " {} {} {} {}",
            n.ping_sent,
            n.pong_received,
            epoch,
            if connected {
                "connected"
            } else {
                "disconnected"
            }
        );
        for (a, b) in self.slot_ranges_of(id) {
            if a == b {
                let _ = write!(out, " {a}");
            } else {
                let _ = write!(out, " {a}-{b}");
            }
        }
        if n.has(nflag::MYSELF) {
            for s in 0..SLOTS {
                if let Some(t) = self.migrating_to[s] {
                    let _ = write!(out, " [{s}->-{}]", self.nodes[t].name_str());
                } else if let Some(f) = self.importing_from[s] {
                    let _ = write!(out, " [{s}-<-{}]", self.nodes[f].name_str());
                }
            }
        }
    }

    /// The contiguous slot ranges a node serves according to the slot
    /// table (as clusterGenNodesSlotsInfo).
    pub fn slot_ranges_of(&self, id: NodeId) -> Vec<(usize, usize)> {
        if self.nodes[id].numslots == 0 {
            return Vec::new();
        }
        let mut out = Vec::new();
        let mut start = None;
        for s in 0..=SLOTS {
            let mine = s < SLOTS && self.slots[s] == Some(id);
            match (mine, start) {
                (true, None) => start = Some(s),
                (false, Some(b)) => {
                    out.push((b, s - 1));
                    start = None;
                }
                _ => {}
            }
        }
        out
    }

    /// CLUSTER NODES, every node but those with a flag in `filter`.
    pub fn nodes_description(&self, filter: u16) -> String {
        let mut out = String::new();
        for (id, n) in self.nodes.iter() {
            if n.flags & filter != 0 {
                continue;
            }
            self.node_description(id, &mut out);
            out.push('\n');
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn named(c: &mut Cluster, ch: u8, flags: u16) -> NodeId {
        c.add_node(Node::new([ch; NAMELEN], flags, 0))
    }

    #[test]
    fn slots_and_node_removal() {
        let mut c = Cluster::new(0);
        let me = c.myself;
        let b = named(&mut c, b'b', nflag::MASTER);
        let r = named(&mut c, b'r', nflag::SLAVE);
        c.nodes[r].slaveof = Some(b);
        c.add_slave(b, r);
        assert!(c.add_slot(me, 0));
        assert!(!c.add_slot(b, 0));
        assert!(c.add_slot(b, 1));
        c.importing_from[5] = Some(b);
        c.add_failure_report(me, b, 10);
        assert_eq!(c.me().numslots, 1);
        c.del_node(b);
        assert_eq!(c.slots[1], None);
        assert_eq!(c.importing_from[5], None);
        assert_eq!(c.nodes[r].slaveof, None);
        assert!(c.me().fail_reports.is_empty());
        assert!(c.lookup(&[b'b'; NAMELEN]).is_none());
    }

    #[test]
    fn update_with_newer_epoch_takes_slots_and_demotes() {
        let mut c = Cluster::new(0);
        let me = c.myself;
        let b = named(&mut c, b'b', nflag::MASTER);
        c.nodes[me].config_epoch = 1;
        c.add_slot(me, 7);
        let mut map = [0u8; slot::SLOT_BYTES];
        slot::set_bit(&mut map, 7);
        // Older claim: nothing changes.
        let r = c.update_slots_config_with(b, 0, &map, &|_| 0, true);
        assert_eq!(r, SlotsOutcome::Nothing);
        assert_eq!(c.slots[7], Some(me));
        // Newer claim: the slot moves and we must replicate the sender.
        let r = c.update_slots_config_with(b, 2, &map, &|_| 0, true);
        assert_eq!(r, SlotsOutcome::BecomeReplicaOf(b));
        assert_eq!(c.slots[7], Some(b));
    }

    #[test]
    fn epoch_collision_moves_the_smaller_name() {
        let mut c = Cluster::new(0);
        let me = c.myself;
        c.rename(me, [b'a'; NAMELEN]);
        let b = named(&mut c, b'b', nflag::MASTER);
        c.nodes[me].config_epoch = 3;
        c.nodes[b].config_epoch = 3;
        c.current_epoch = 3;
        assert!(c.handle_epoch_collision(b));
        assert_eq!(c.me().config_epoch, 4);
        assert!(!c.handle_epoch_collision(b));
    }

    #[test]
    fn description_line() {
        let mut c = Cluster::new(0);
        let me = c.myself;
        c.rename(me, [b'a'; NAMELEN]);
        c.nodes[me].ip = "127.0.0.1".into();
        c.nodes[me].port = 7000;
        c.nodes[me].cport = 17000;
        for s in [0, 1, 2, 5] {
            c.add_slot(me, s);
        }
        let mut s = String::new();
        c.node_description(me, &mut s);
        assert_eq!(
            s,
            format!(
                "{} 127.0.0.1:7000@17000 myself,master - 0 0 0 connected 0-2 5",
                "a".repeat(40)
            )
        );
    }
}
