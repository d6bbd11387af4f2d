//! Failure detection and failover: the cluster cron (reconnecting links,
//! pinging, PFAIL after node-timeout, link buffer limits), PFAIL -> FAIL
//! with a majority of masters' failure reports, clearing FAIL, votes
//! (clusterSendFailoverAuthIfNeeded), replica elections with rank and
//! delay, manual failover (CLUSTER FAILOVER, MFSTART, paused writes) and
//! replica migration to orphaned masters.

use super::codec::{nflag, ty, Header};
use super::node::NodeId;
use super::state::{todo, CantFailover, SLAVE_MIGRATION_DELAY};
use crate::server::Server;

/// How often the cluster cron runs (clusterCron: 10 times a second).
const CRON_PERIOD_MS: i64 = 100;
const CANT_FAILOVER_RELOG_S: i64 = 300;

impl Server {
    /// Called from the server cron; runs clusterCron every 100 ms.
    pub fn cluster_cron_maybe(&mut self) {
        let now = crate::util::mstime();
        let Some(cl) = self.cluster.as_deref_mut() else {
            return;
        };
        if now - cl.last_cron_ms < CRON_PERIOD_MS - 5 {
            return;
        }
        cl.last_cron_ms = now;
        self.cluster_cron();
    }

    fn cluster_cron(&mut self) {
        let now = self.ks.now_ms;
        let Some(cl) = self.cluster.as_deref_mut() else {
            return;
        };
        cl.iteration += 1;
        let iteration = cl.iteration;
        let timeout = cl.cfg.node_timeout;
        let handshake_timeout = timeout.max(1000);
        let limit = cl.cfg.link_sendbuf_limit;
        cl.st.stats_pfail_nodes = 0;
        // Links over the send buffer limit, memory accounting.
        let mut over = Vec::new();
        let mut mem = 0;
        for (lid, l) in cl.links.iter() {
            let used = l.sndbuf.capacity() + l.rcvbuf.capacity();
            mem += used + std::mem::size_of::<super::bus::Link>();
            if limit > 0 && l.sndbuf.capacity() as u64 > limit {
                over.push(lid);
            }
        }
        cl.links_memory = mem;
        for lid in over {
            if let Some(cl) = self.cluster.as_deref_mut() {
                cl.st.stat_links_buffer_limit_exceeded += 1;
                if let Some(l) = cl.links.get(lid) {
                    log::warn!(
                        "Freeing cluster link({} node {}, used memory: {}) due to exceeding send buffer memory limit.",
                        if l.inbound { "from" } else { "to" },
                        l.node.and_then(|n| cl.st.nodes.get(n)).map_or("", |n| n.name_str()),
                        l.sndbuf.capacity()
                    );
                }
            }
            self.cluster_free_link(lid);
        }
        // Reconnect and expire handshakes.
        let Some(cl) = self.cluster.as_deref_mut() else {
            return;
        };
        let ids: Vec<NodeId> = cl.st.nodes.iter().map(|(k, _)| k).collect();
        for id in ids {
            let Some(cl) = self.cluster.as_deref_mut() else {
                return;
            };
            let Some(n) = cl.st.nodes.get(id) else {
                continue;
            };
            if n.flags & (nflag::MYSELF | nflag::NOADDR) != 0 {
                continue;
            }
            if n.timed_out() {
                cl.st.stats_pfail_nodes += 1;
            }
            if n.in_handshake() && now - n.ctime > handshake_timeout {
                let links = cl.st.del_node(id);
                self.cluster_free_links(links);
                continue;
            }
            if n.link.is_none() {
                self.cluster_connect_node(id);
            }
        }
        // Once a second, ping the node of five random ones with the oldest pong.
        if iteration % 10 == 0 {
            let Some(cl) = self.cluster.as_deref_mut() else {
                return;
            };
            let ids: Vec<NodeId> = cl.st.nodes.iter().map(|(k, _)| k).collect();
            let mut best: Option<(NodeId, i64)> = None;
            for _ in 0..5 {
                let id = ids[self.rng.below(ids.len() as u64) as usize];
                let n = &cl.st.nodes[id];
                if n.link.is_none()
                    || n.ping_sent != 0
                    || n.flags & (nflag::MYSELF | nflag::HANDSHAKE) != 0
                {
                    continue;
                }
                if best.is_none_or(|(_, p)| p > n.pong_received) {
                    best = Some((id, n.pong_received));
                }
            }
            if let Some((id, _)) = best {
                if let Some(l) = cl.st.nodes[id].link {
                    self.cluster_send_ping(l, ty::PING);
                }
            }
        }
        // Timeouts, orphaned masters, pings to nodes not pinged recently.
        let Some(cl) = self.cluster.as_deref_mut() else {
            return;
        };
        let me = cl.st.myself;
        let i_am_slave = cl.st.nodes[me].is_slave();
        let (mut orphaned, mut max_slaves, mut this_slaves) = (0, 0, 0);
        let mut update_state = false;
        let ids: Vec<NodeId> = cl.st.nodes.iter().map(|(k, _)| k).collect();
        for id in ids {
            let Some(cl) = self.cluster.as_deref_mut() else {
                return;
            };
            let Some(n) = cl.st.nodes.get(id) else {
                continue;
            };
            if n.flags & (nflag::MYSELF | nflag::NOADDR | nflag::HANDSHAKE) != 0 {
                continue;
            }
            if i_am_slave && n.is_master() && !n.failed() {
                let ok = cl.st.count_non_failing_slaves(id);
                if ok == 0 && n.numslots > 0 && n.has(nflag::MIGRATE_TO) {
                    orphaned += 1;
                }
                max_slaves = max_slaves.max(ok);
                if cl.st.nodes[me].slaveof == Some(id) {
                    this_slaves = ok;
                }
            }
            let n = &cl.st.nodes[id];
            let ping_delay = now - n.ping_sent;
            let data_delay = now - n.data_received;
            if let Some(l) = n.link {
                let lctime = cl.links.get(l).map_or(now, |l| l.ctime);
                if now - lctime > timeout
                    && n.ping_sent != 0
                    && ping_delay > timeout / 2
                    && data_delay > timeout / 2
                {
                    self.cluster_free_link(l);
                }
            }
            let Some(cl) = self.cluster.as_deref_mut() else {
                return;
            };
            let n = &cl.st.nodes[id];
            if let Some(l) = n.link {
                if n.ping_sent == 0 && now - n.pong_received > timeout / 2 {
                    self.cluster_send_ping(l, ty::PING);
                    continue;
                }
                if cl.st.mf_end != 0 && cl.st.nodes[me].is_master() && cl.st.mf_slave == Some(id) {
                    self.cluster_send_ping(l, ty::PING);
                    continue;
                }
            }
            if n.ping_sent == 0 {
                continue;
            }
            let node_delay = ping_delay.min(data_delay);
            if node_delay > timeout && n.flags & (nflag::PFAIL | nflag::FAIL) == 0 {
                log::debug!("*** NODE {} possibly failing", n.name_str());
                cl.st.nodes[id].flags |= nflag::PFAIL;
                update_state = true;
            }
        }
        // A replica whose replication is off but whose master is known.
        let Some(cl) = self.cluster.as_deref_mut() else {
            return;
        };
        if let Some(m) = cl.st.nodes[me].slaveof.filter(|_| i_am_slave) {
            if !self.repl.is_replica() && !cl.st.nodes[m].has(nflag::NOADDR) {
                let (ip, port) = (cl.st.nodes[m].ip.clone(), cl.st.nodes[m].port);
                self.replication_set_master(ip, port);
            }
        }
        let Some(cl) = self.cluster.as_deref_mut() else {
            return;
        };
        if cl.st.mf_end != 0 && cl.st.mf_end < now {
            log::warn!("Manual failover timed out.");
            self.cluster_reset_manual_failover();
        }
        if i_am_slave {
            self.cluster_handle_manual_failover();
            self.cluster_handle_replica_failover();
            let Some(cl) = self.cluster.as_deref_mut() else {
                return;
            };
            if orphaned > 0
                && max_slaves >= 2
                && this_slaves == max_slaves
                && cl.cfg.allow_replica_migration
            {
                self.cluster_handle_replica_migration(max_slaves);
            }
        }
        let Some(cl) = self.cluster.as_deref_mut() else {
            return;
        };
        if update_state || !cl.st.state_ok {
            self.cluster_update_state();
        }
        if self.clients.blocked_count() > 0 {
            self.cluster_redirect_blocked_clients();
        }
    }

    /// markNodeAsFailingIfNeeded: PFAIL plus a majority of masters' reports.
    pub fn cluster_mark_failing_if_needed(&mut self, id: NodeId) {
        let now = self.ks.now_ms;
        let Some(cl) = self.cluster.as_deref_mut() else {
            return;
        };
        let quorum = cl.st.size / 2 + 1;
        let n = &cl.st.nodes[id];
        if !n.timed_out() || n.failed() {
            return;
        }
        let mut failures = cl.st.failure_reports_count(id, cl.cfg.node_timeout, now);
        if cl.st.me().is_master() {
            failures += 1;
        }
        if failures < quorum {
            return;
        }
        log::info!(
            "Marking node {} as failing (quorum reached).",
            cl.st.nodes[id].name_str()
        );
        let n = &mut cl.st.nodes[id];
        n.flags &= !nflag::PFAIL;
        n.flags |= nflag::FAIL;
        n.fail_time = now;
        let name = n.name;
        cl.st
            .do_before_sleep(todo::UPDATE_STATE | todo::SAVE_CONFIG);
        self.cluster_send_fail(name);
    }

    /// clearNodeFailureIfNeeded: a FAIL node is reachable again.
    pub fn cluster_clear_node_failure_if_needed(&mut self, id: NodeId) {
        let now = self.ks.now_ms;
        let Some(cl) = self.cluster.as_deref_mut() else {
            return;
        };
        let timeout = cl.cfg.node_timeout;
        let n = &mut cl.st.nodes[id];
        if n.is_slave() || n.numslots == 0 {
            log::info!(
                "Clear FAIL state for node {}: {} is reachable again.",
                n.name_str(),
                if n.is_slave() {
                    "replica"
                } else {
                    "master without slots"
                }
            );
            n.flags &= !nflag::FAIL;
            cl.st
                .do_before_sleep(todo::UPDATE_STATE | todo::SAVE_CONFIG);
            return;
        }
        if n.is_master()
            && n.numslots > 0
            && now - n.fail_time > timeout * super::state::FAIL_UNDO_TIME_MULT
        {
            log::info!("Clear FAIL state for node {}: is reachable again and nobody is serving its slots after some time.", n.name_str());
            n.flags &= !nflag::FAIL;
            cl.st
                .do_before_sleep(todo::UPDATE_STATE | todo::SAVE_CONFIG);
        }
    }

    /// clusterSendFailoverAuthIfNeeded: vote for `node` when allowed.
    pub fn cluster_vote_if_needed(&mut self, node: NodeId, req: &Header) {
        let now = self.ks.now_ms;
        let Some(cl) = self.cluster.as_deref_mut() else {
            return;
        };
        let st = &mut cl.st;
        let me = st.myself;
        let name = st.nodes[node].name_str().to_string();
        if st.nodes[me].is_slave() || st.nodes[me].numslots == 0 {
            return;
        }
        if req.current_epoch < st.current_epoch {
            log::warn!(
                "Failover auth denied to {name}: reqEpoch ({}) < curEpoch({})",
                req.current_epoch,
                st.current_epoch
            );
            return;
        }
        if st.last_vote_epoch == st.current_epoch {
            log::warn!(
                "Failover auth denied to {name}: already voted for epoch {}",
                st.current_epoch
            );
            return;
        }
        let force = req.mflags[0] & super::codec::mflag0::FORCEACK != 0;
        let master = st.nodes[node].slaveof;
        if st.nodes[node].is_master() {
            log::warn!("Failover auth denied to {name}: it is a master node");
            return;
        }
        let Some(master) = master else {
            log::warn!("Failover auth denied to {name}: I don't know its master");
            return;
        };
        if !st.nodes[master].failed() && !force {
            log::warn!("Failover auth denied to {name}: its master is up");
            return;
        }
        let wait = cl.cfg.node_timeout * 2;
        if now - st.nodes[master].voted_time < wait {
            log::warn!(
                "Failover auth denied to {name}: can't vote about this master before {} milliseconds",
                wait - (now - st.nodes[master].voted_time)
            );
            return;
        }
        for j in 0..super::SLOTS {
            if !super::slot::test_bit(&req.myslots, j) {
                continue;
            }
            if let Some(o) = st.slots[j] {
                if st.nodes[o].config_epoch > req.config_epoch {
                    log::warn!(
                        "Failover auth denied to {name}: slot {j} epoch ({}) > reqEpoch ({})",
                        st.nodes[o].config_epoch,
                        req.config_epoch
                    );
                    return;
                }
            }
        }
        st.last_vote_epoch = st.current_epoch;
        st.nodes[master].voted_time = now;
        st.do_before_sleep(todo::SAVE_CONFIG | todo::FSYNC_CONFIG);
        log::warn!(
            "Failover auth granted to {name} for epoch {}",
            st.current_epoch
        );
        self.cluster_send_empty(node, ty::FAILOVER_AUTH_ACK);
    }

    /// This replica's rank among its master's replicas by offset.
    fn cluster_replica_rank(&self) -> usize {
        let off = self.cluster_my_offset();
        let Some(cl) = self.cluster.as_deref() else {
            return 0;
        };
        let me = cl.st.myself;
        let Some(m) = cl.st.nodes[me].slaveof else {
            return 0;
        };
        cl.st.nodes[m]
            .slaves
            .iter()
            .filter(|&&s| {
                s != me
                    && !cl.st.nodes[s].has(nflag::NOFAILOVER)
                    && cl.st.nodes[s].repl_offset > off
            })
            .count()
    }

    fn cluster_log_cant_failover(&mut self, reason: CantFailover) {
        let now = self.ks.now_ms;
        let Some(cl) = self.cluster.as_deref_mut() else {
            return;
        };
        let now_s = now / 1000;
        if reason == cl.st.cant_failover_reason
            && now_s - cl.st.cant_failover_logged_s < CANT_FAILOVER_RELOG_S
        {
            return;
        }
        cl.st.cant_failover_reason = reason;
        let me = cl.st.myself;
        if let Some(m) = cl.st.nodes[me].slaveof {
            let n = &cl.st.nodes[m];
            if n.failed() && now - n.fail_time < cl.cfg.node_timeout + 5000 {
                return;
            }
        }
        let msg = match reason {
            CantFailover::DataAge => "Disconnected from master for longer than allowed. Please check the 'cluster-replica-validity-factor' configuration option.",
            CantFailover::WaitingDelay => "Waiting the delay before I can start a new failover.",
            CantFailover::Expired => "Failover attempt expired.",
            CantFailover::WaitingVotes => "Waiting for votes, but majority still not reached.",
            CantFailover::None => "Unknown reason code.",
        };
        cl.st.cant_failover_logged_s = now_s;
        log::warn!("Currently unable to failover: {msg}");
    }

    /// clusterHandleSlaveFailover: elections of a replica whose master
    /// failed (or a manual failover that may start).
    pub fn cluster_handle_replica_failover(&mut self) {
        let now = self.ks.now_ms;
        let link_idle_ms = self.repl_link_idle_ms();
        let my_offset = self.cluster_my_offset();
        let repl_ping_period = self.cfg.repl_ping_replica_period as i64;
        let Some(cl) = self.cluster.as_deref_mut() else {
            return;
        };
        let st = &mut cl.st;
        st.todo &= !todo::HANDLE_FAILOVER;
        let timeout = cl.cfg.node_timeout;
        let auth_age = now - st.failover_auth_time;
        let quorum = st.size / 2 + 1;
        let manual = st.mf_end != 0 && st.mf_can_start;
        let auth_timeout = (timeout * 2).max(2000);
        let auth_retry = auth_timeout * 2;
        let me = st.myself;
        let master = st.nodes[me].slaveof;
        let skip = match master {
            None => true,
            Some(m) => {
                st.nodes[me].is_master()
                    || (!st.nodes[m].failed() && !manual)
                    || (cl.cfg.replica_no_failover && !manual)
                    || st.nodes[m].numslots == 0
            }
        };
        if skip {
            st.cant_failover_reason = CantFailover::None;
            return;
        }
        let mut data_age = link_idle_ms;
        if data_age > timeout {
            data_age -= timeout;
        }
        let factor = cl.cfg.replica_validity_factor;
        if factor > 0 && data_age > repl_ping_period * 1000 + timeout * factor && !manual {
            self.cluster_log_cant_failover(CantFailover::DataAge);
            return;
        }
        if auth_age > auth_retry {
            let rank = self.cluster_replica_rank();
            let jitter = self.rng.below(500) as i64;
            let Some(cl) = self.cluster.as_deref_mut() else {
                return;
            };
            let st = &mut cl.st;
            st.failover_auth_time = now + 500 + jitter + rank as i64 * 1000;
            st.failover_auth_count = 0;
            st.failover_auth_sent = false;
            st.failover_auth_rank = rank;
            if st.mf_end != 0 {
                st.failover_auth_time = now;
                st.failover_auth_rank = 0;
                st.do_before_sleep(todo::HANDLE_FAILOVER);
            }
            log::warn!(
                "Start of election delayed for {} milliseconds (rank #{}, offset {}).",
                st.failover_auth_time - now,
                st.failover_auth_rank,
                my_offset
            );
            self.cluster_broadcast_pong(true);
            return;
        }
        if !st.failover_auth_sent && st.mf_end == 0 {
            let newrank = self.cluster_replica_rank();
            let Some(cl) = self.cluster.as_deref_mut() else {
                return;
            };
            let st = &mut cl.st;
            if newrank > st.failover_auth_rank {
                let added = (newrank - st.failover_auth_rank) as i64 * 1000;
                st.failover_auth_time += added;
                st.failover_auth_rank = newrank;
                log::warn!(
                    "Replica rank updated to #{newrank}, added {added} milliseconds of delay."
                );
            }
        }
        let Some(cl) = self.cluster.as_deref_mut() else {
            return;
        };
        if now < cl.st.failover_auth_time {
            self.cluster_log_cant_failover(CantFailover::WaitingDelay);
            return;
        }
        if auth_age > auth_timeout {
            self.cluster_log_cant_failover(CantFailover::Expired);
            return;
        }
        let st = &mut cl.st;
        if !st.failover_auth_sent {
            st.current_epoch += 1;
            st.failover_auth_epoch = st.current_epoch;
            log::warn!(
                "Starting a failover election for epoch {}.",
                st.current_epoch
            );
            st.failover_auth_sent = true;
            st.do_before_sleep(todo::SAVE_CONFIG | todo::UPDATE_STATE | todo::FSYNC_CONFIG);
            self.cluster_request_failover_auth();
            return;
        }
        if st.failover_auth_count >= quorum {
            log::warn!("Failover election won: I'm the new master.");
            if st.nodes[me].config_epoch < st.failover_auth_epoch {
                st.nodes[me].config_epoch = st.failover_auth_epoch;
                log::warn!(
                    "configEpoch set to {} after successful failover",
                    st.failover_auth_epoch
                );
            }
            self.cluster_failover_replace_master();
        } else {
            self.cluster_log_cant_failover(CantFailover::WaitingVotes);
        }
    }

    /// How long the link to our master has been silent or down (ms).
    fn repl_link_idle_ms(&self) -> i64 {
        let now = self.ks.now_ms;
        if self.repl.master_link_up {
            let last = self
                .repl
                .link
                .key
                .and_then(|k| self.clients.get(k))
                .map_or(now, |c| c.last_interaction_ms);
            (now - last) / 1000 * 1000
        } else {
            let since = if self.repl.link.last_master_data_ms > 0 {
                self.repl
                    .link
                    .down_since_ms
                    .min(self.repl.link.last_master_data_ms)
            } else {
                self.repl.link.down_since_ms
            };
            (now - since) / 1000 * 1000
        }
    }

    /// clusterFailoverReplaceYourMaster: take the master's slots, tell all.
    pub fn cluster_failover_replace_master(&mut self) {
        let Some(cl) = self.cluster.as_deref_mut() else {
            return;
        };
        let me = cl.st.myself;
        let Some(old) = cl.st.nodes[me]
            .slaveof
            .filter(|_| cl.st.nodes[me].is_slave())
        else {
            return;
        };
        cl.st.set_node_as_master(me);
        self.replication_unset_master();
        let Some(cl) = self.cluster.as_deref_mut() else {
            return;
        };
        for s in 0..super::SLOTS {
            if super::slot::test_bit(&cl.st.nodes[old].slots, s) {
                cl.st.del_slot(s);
                cl.st.add_slot(me, s);
            }
        }
        self.cluster_update_state();
        self.cluster_save_config_or_die(true);
        self.cluster_broadcast_pong(false);
        self.cluster_reset_manual_failover();
    }

    /// resetManualFailover.
    pub fn cluster_reset_manual_failover(&mut self) {
        let Some(cl) = self.cluster.as_deref_mut() else {
            return;
        };
        let was_master_side = cl.st.mf_slave.is_some();
        cl.st.mf_end = 0;
        cl.st.mf_can_start = false;
        cl.st.mf_slave = None;
        cl.st.mf_master_offset = -1;
        if was_master_side && self.clients_paused_until_ms != 0 {
            self.unpause_clients();
        }
    }

    /// Pauses writes for a manual failover requested by a replica.
    pub fn cluster_pause_writes(&mut self, until: i64) {
        let was_active = self.clients_paused_until_ms != 0;
        if !was_active || until > self.clients_paused_until_ms {
            self.clients_paused_until_ms = until;
        }
        self.pause_writes_only = !was_active || self.pause_writes_only;
    }

    /// True while a manual failover holds our writes (no replication PINGs
    /// then: the replica must reach exactly the announced offset).
    pub fn cluster_manual_failover_paused(&self) -> bool {
        self.cluster.as_deref().is_some_and(|c| c.st.mf_end != 0)
            && self.clients_paused_until_ms != 0
    }

    /// clusterHandleManualFailover (replica side).
    pub fn cluster_handle_manual_failover(&mut self) {
        let off = self.cluster_my_offset();
        let Some(cl) = self.cluster.as_deref_mut() else {
            return;
        };
        let st = &mut cl.st;
        if st.mf_end == 0 || st.mf_can_start || st.mf_master_offset == -1 {
            return;
        }
        if st.mf_master_offset == off {
            st.mf_can_start = true;
            log::warn!("All master replication stream processed, manual failover can start.");
            st.do_before_sleep(todo::HANDLE_FAILOVER);
            return;
        }
        st.do_before_sleep(todo::HANDLE_MANUALFAILOVER);
    }

    /// clusterHandleSlaveMigration.
    fn cluster_handle_replica_migration(&mut self, max_slaves: usize) {
        let now = self.ks.now_ms;
        let Some(cl) = self.cluster.as_deref_mut() else {
            return;
        };
        let barrier = cl.cfg.migration_barrier;
        let st = &mut cl.st;
        if !st.state_ok {
            return;
        }
        let me = st.myself;
        let Some(mymaster) = st.nodes[me].slaveof else {
            return;
        };
        let okslaves = st.nodes[mymaster]
            .slaves
            .iter()
            .filter(|&&s| !st.nodes[s].failed() && !st.nodes[s].timed_out())
            .count() as i64;
        if okslaves <= barrier {
            return;
        }
        let mut candidate = me;
        let mut target = None;
        let ids: Vec<NodeId> = st.nodes.iter().map(|(k, _)| k).collect();
        for id in ids {
            let n = &st.nodes[id];
            let mut orphaned = !(n.is_slave() || n.failed()) && n.has(nflag::MIGRATE_TO);
            let ok = if n.is_master() {
                st.count_non_failing_slaves(id)
            } else {
                0
            };
            if ok > 0 {
                orphaned = false;
            }
            if orphaned {
                if target.is_none() && st.nodes[id].numslots > 0 {
                    target = Some(id);
                }
                if st.nodes[id].orphaned_time == 0 {
                    st.nodes[id].orphaned_time = now;
                }
            } else {
                st.nodes[id].orphaned_time = 0;
            }
            if ok == max_slaves {
                for &s in &st.nodes[id].slaves {
                    if st.nodes[s].name < st.nodes[candidate].name {
                        candidate = s;
                    }
                }
            }
        }
        if let Some(t) = target {
            if candidate == me && now - st.nodes[t].orphaned_time > SLAVE_MIGRATION_DELAY {
                log::warn!("Migrating to orphaned master {}", st.nodes[t].name_str());
                self.cluster_set_master(t);
            }
        }
    }
}
