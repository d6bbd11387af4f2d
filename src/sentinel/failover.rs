//! Failover, as Redis 7.0's Sentinel does it: votes by epoch and the
//! leader election, the choice of the replica to promote, and the state
//! machine (wait for election, select, SLAVEOF NO ONE, wait for the
//! promotion, reconfigure the other replicas `parallel-syncs` at a time,
//! switch the master address), each phase bounded by failover-timeout.

use super::addr::Addr;
use super::link::Cb;
use super::{
    sri, FailoverState, Level, Sentinel, Which, MAX_DESYNC, SIMFAILURE_CRASH_AFTER_ELECTION,
    SIMFAILURE_CRASH_AFTER_PROMOTION,
};

impl Sentinel {
    /// sentinelVoteLeader: votes for `req_runid` in `req_epoch` unless we
    /// already voted in that epoch or a later one; returns our vote (which
    /// may be an older one) and its epoch.
    pub fn vote_leader(
        &mut self,
        m: usize,
        req_epoch: u64,
        req_runid: &str,
    ) -> (Option<String>, u64) {
        if req_epoch > self.current_epoch {
            self.current_epoch = req_epoch;
            self.config_changed();
            self.event(
                Level::Warning,
                "+new-epoch",
                Some(m),
                self.current_epoch.to_string(),
            );
        }
        let ri = &mut self.masters[m].ri;
        if ri.leader_epoch < req_epoch && self.current_epoch <= req_epoch {
            ri.leader = Some(req_runid.to_string());
            ri.leader_epoch = self.current_epoch;
            let msg = format!("{} {}", req_runid, ri.leader_epoch);
            self.config_changed();
            self.event(Level::Warning, "+vote-for-leader", Some(m), msg);
            // Voting for someone else: do not start our own failover now.
            if !req_runid.eq_ignore_ascii_case(&self.myid) {
                let delay = self.rand_below(MAX_DESYNC);
                self.masters[m].ri.failover_start_time = crate::util::mstime() + delay;
            }
        }
        let ri = &self.masters[m].ri;
        (ri.leader.clone(), ri.leader_epoch)
    }

    /// sentinelGetLeader: the Sentinel with an absolute majority of the
    /// known Sentinels and at least `quorum` votes in `epoch`, if any.
    /// Casts our own vote (for the leading candidate, or ourselves).
    fn get_leader(&mut self, m: usize, epoch: u64) -> Option<String> {
        let mut counters: Vec<(String, u64)> = Vec::new();
        let incr = |c: &mut Vec<(String, u64)>, id: &str| -> u64 {
            match c.iter_mut().find(|(k, _)| k == id) {
                Some((_, v)) => {
                    *v += 1;
                    *v
                }
                None => {
                    c.push((id.to_string(), 1));
                    1
                }
            }
        };
        let master = &self.masters[m];
        let voters = master.sentinels.len() as u64 + 1;
        for s in &master.sentinels {
            if let Some(l) = &s.leader {
                if s.leader_epoch == self.current_epoch {
                    incr(&mut counters, l);
                }
            }
        }
        let mut winner: Option<String> = None;
        let mut max_votes = 0;
        for (id, votes) in &counters {
            if *votes > max_votes {
                max_votes = *votes;
                winner = Some(id.clone());
            }
        }
        let candidate = winner.clone().unwrap_or_else(|| self.myid.clone());
        let (myvote, leader_epoch) = self.vote_leader(m, epoch, &candidate);
        if let Some(v) = myvote.filter(|_| leader_epoch == epoch) {
            let votes = incr(&mut counters, &v);
            if votes > max_votes {
                max_votes = votes;
                winner = Some(v);
            }
        }
        let voters_quorum = voters / 2 + 1;
        winner
            .filter(|_| max_votes >= voters_quorum && max_votes >= self.masters[m].ri.quorum as u64)
    }

    /// sentinelSendSlaveOf: SLAVEOF host port (or NO ONE) in a transaction
    /// with CONFIG REWRITE and CLIENT KILL of normal and Pub/Sub clients,
    /// so clients reconnect and ask for the new configuration. Replies are
    /// ignored: the effect is observed through INFO.
    pub(crate) fn send_slaveof(&mut self, m: usize, w: Which, addr: Option<&Addr>) -> bool {
        let link = self.masters[m].get(w).link;
        let Some(cc) = self.links.get(link).and_then(|l| l.cc) else {
            return false;
        };
        let (host, port) = match addr {
            None => ("NO".to_string(), "ONE".to_string()),
            Some(a) => (
                a.announce(self.announce_hostnames).to_string(),
                a.port.to_string(),
            ),
        };
        let t = self.masters[m].target(w);
        let multi = self.map_command(m, "MULTI");
        let slaveof = self.map_command(m, "SLAVEOF");
        let config = self.map_command(m, "CONFIG");
        let client = self.map_command(m, "CLIENT");
        let exec = self.map_command(m, "EXEC");
        let cmds: [Vec<&[u8]>; 6] = [
            vec![multi.as_bytes()],
            vec![slaveof.as_bytes(), host.as_bytes(), port.as_bytes()],
            vec![config.as_bytes(), b"REWRITE"],
            vec![client.as_bytes(), b"KILL", b"TYPE", b"normal"],
            vec![client.as_bytes(), b"KILL", b"TYPE", b"pubsub"],
            vec![exec.as_bytes()],
        ];
        for c in &cmds {
            if !self.send(cc, c, Cb::Discard, t) {
                return false;
            }
        }
        true
    }

    /// sentinelStartFailover: a new epoch and the wait for the election.
    pub fn start_failover(&mut self, m: usize) {
        self.current_epoch += 1;
        let epoch = self.current_epoch;
        let delay = self.rand_below(MAX_DESYNC);
        let now = crate::util::mstime();
        let ri = &mut self.masters[m].ri;
        ri.failover_state = FailoverState::WaitStart;
        ri.flags |= sri::FAILOVER_IN_PROGRESS;
        ri.failover_epoch = epoch;
        self.config_changed();
        self.event(Level::Warning, "+new-epoch", Some(m), epoch.to_string());
        let at = self.at(m, Which::Master);
        self.event(Level::Warning, "+try-failover", Some(m), at);
        let ri = &mut self.masters[m].ri;
        ri.failover_start_time = now + delay;
        ri.failover_state_change_time = now;
    }

    /// sentinelStartFailoverIfNeeded: ODOWN, no failover running, and none
    /// tried in the last 2 * failover-timeout.
    pub(crate) fn start_failover_if_needed(&mut self, m: usize) -> bool {
        let ri = &mut self.masters[m].ri;
        if !ri.has(sri::O_DOWN) || ri.has(sri::FAILOVER_IN_PROGRESS) {
            return false;
        }
        if crate::util::mstime() - ri.failover_start_time < ri.failover_timeout * 2 {
            if ri.failover_delay_logged != ri.failover_start_time {
                ri.failover_delay_logged = ri.failover_start_time;
                let when = (ri.failover_start_time + ri.failover_timeout * 2) / 1000;
                log::warn!(
                    "Next failover delay: I will not start a failover before {}",
                    crate::logging::ctime(when)
                );
            }
            return false;
        }
        self.start_failover(m);
        true
    }

    /// sentinelSelectSlave: the best replica to promote, or None. Replicas
    /// that are down, disconnected, silent, stale, unpromotable (priority
    /// 0) or disconnected from the master for too long are skipped; then
    /// lowest priority, largest offset, smallest run ID win.
    pub fn select_slave(&self, m: usize) -> Option<usize> {
        let now = crate::util::mstime();
        let master = &self.masters[m];
        let mut max_master_down_time = 0;
        if master.ri.has(sri::S_DOWN) {
            max_master_down_time += now - master.ri.s_down_since_time;
        }
        max_master_down_time += master.ri.down_after_period * 10;
        let info_validity = if master.ri.has(sri::S_DOWN) {
            self.t.ping_period * 5
        } else {
            self.t.info_period * 3
        };
        let mut candidates: Vec<usize> = (0..master.slaves.len())
            .filter(|&i| {
                let s = &master.slaves[i];
                let Some(l) = self.links.get(s.link) else {
                    return false;
                };
                !s.has(sri::S_DOWN | sri::O_DOWN)
                    && !l.disconnected
                    && now - l.last_avail_time <= self.t.ping_period * 5
                    && s.slave_priority != 0
                    && now - s.info_refresh <= info_validity
                    && s.master_link_down_time <= max_master_down_time
            })
            .collect();
        candidates.sort_by(|&a, &b| {
            let (sa, sb) = (&master.slaves[a], &master.slaves[b]);
            sa.slave_priority
                .cmp(&sb.slave_priority)
                .then(sb.slave_repl_offset.cmp(&sa.slave_repl_offset))
                .then_with(|| match (&sa.runid, &sb.runid) {
                    (None, None) => std::cmp::Ordering::Equal,
                    (None, Some(_)) => std::cmp::Ordering::Greater,
                    (Some(_), None) => std::cmp::Ordering::Less,
                    (Some(x), Some(y)) => x.to_ascii_lowercase().cmp(&y.to_ascii_lowercase()),
                })
        });
        candidates.first().copied()
    }

    /// Crash on request of SENTINEL SIMULATE-FAILURE: once what changed is
    /// on disk, at the end of this call (see `end_of_call`).
    fn sim_failure_crash(&mut self) {
        self.crash_requested = true;
    }

    fn failover_wait_start(&mut self, m: usize) {
        let epoch = self.masters[m].ri.failover_epoch;
        let leader = self.get_leader(m, epoch);
        let is_leader = leader.is_some_and(|l| l.eq_ignore_ascii_case(&self.myid));
        let ri = &self.masters[m].ri;
        if !is_leader && !ri.has(sri::FORCE_FAILOVER) {
            let election_timeout = self.t.election_timeout.min(ri.failover_timeout);
            if crate::util::mstime() - ri.failover_start_time > election_timeout {
                let at = self.at(m, Which::Master);
                self.event(Level::Warning, "-failover-abort-not-elected", Some(m), at);
                self.abort_failover(m);
            }
            return;
        }
        let at = self.at(m, Which::Master);
        self.event(Level::Warning, "+elected-leader", Some(m), at.clone());
        if self.simfailure_flags & SIMFAILURE_CRASH_AFTER_ELECTION != 0 {
            self.sim_failure_crash();
            return;
        }
        let ri = &mut self.masters[m].ri;
        ri.failover_state = FailoverState::SelectSlave;
        ri.failover_state_change_time = crate::util::mstime();
        self.event(Level::Warning, "+failover-state-select-slave", Some(m), at);
    }

    fn failover_select_slave(&mut self, m: usize) {
        match self.select_slave(m) {
            None => {
                let at = self.at(m, Which::Master);
                self.event(Level::Warning, "-failover-abort-no-good-slave", Some(m), at);
                self.abort_failover(m);
            }
            Some(i) => {
                let at = self.at(m, Which::Slave(i));
                self.event(Level::Warning, "+selected-slave", Some(m), at.clone());
                let master = &mut self.masters[m];
                master.slaves[i].flags |= sri::PROMOTED;
                master.ri.promoted_slave = Some(master.slaves[i].uid);
                master.ri.failover_state = FailoverState::SendSlaveofNoone;
                master.ri.failover_state_change_time = crate::util::mstime();
                self.event(
                    Level::Notice,
                    "+failover-state-send-slaveof-noone",
                    Some(m),
                    at,
                );
            }
        }
    }

    fn failover_send_slaveof_noone(&mut self, m: usize) {
        let Some(p) = self.masters[m].promoted() else {
            self.abort_failover(m);
            return;
        };
        let link = self.masters[m].slaves[p].link;
        if self.links.get(link).is_none_or(|l| l.disconnected) {
            let ri = &self.masters[m].ri;
            if crate::util::mstime() - ri.failover_state_change_time > ri.failover_timeout {
                let at = self.at(m, Which::Master);
                self.event(Level::Warning, "-failover-abort-slave-timeout", Some(m), at);
                self.abort_failover(m);
            }
            return;
        }
        if !self.send_slaveof(m, Which::Slave(p), None) {
            return;
        }
        let at = self.at(m, Which::Slave(p));
        self.event(Level::Notice, "+failover-state-wait-promotion", Some(m), at);
        let ri = &mut self.masters[m].ri;
        ri.failover_state = FailoverState::WaitPromotion;
        ri.failover_state_change_time = crate::util::mstime();
    }

    /// The promotion is seen through INFO (`promotion_acknowledged`); here
    /// only the timeout.
    fn failover_wait_promotion(&mut self, m: usize) {
        let ri = &self.masters[m].ri;
        if crate::util::mstime() - ri.failover_state_change_time > ri.failover_timeout {
            let at = self.at(m, Which::Master);
            self.event(Level::Warning, "-failover-abort-slave-timeout", Some(m), at);
            self.abort_failover(m);
        }
    }

    /// The promoted replica reports role:master: our epoch becomes the
    /// master's configuration epoch, and the other replicas are next.
    pub(crate) fn promotion_acknowledged(&mut self, m: usize, i: usize) {
        let now = crate::util::mstime();
        let ri = &mut self.masters[m].ri;
        ri.config_epoch = ri.failover_epoch;
        ri.failover_state = FailoverState::ReconfSlaves;
        ri.failover_state_change_time = now;
        self.config_changed();
        let at = self.at(m, Which::Slave(i));
        self.event(Level::Warning, "+promoted-slave", Some(m), at);
        if self.simfailure_flags & SIMFAILURE_CRASH_AFTER_PROMOTION != 0 {
            self.sim_failure_crash();
            return;
        }
        let at = self.at(m, Which::Master);
        self.event(Level::Warning, "+failover-state-reconf-slaves", Some(m), at);
        let from = self.masters[m].ri.addr.clone();
        let to = self.masters[m].slaves[i].addr.clone();
        self.call_client_reconf_script(m, true, "start", &from, &to);
        self.force_hello_update_for_master(m);
    }

    /// sentinelFailoverDetectEnd: every reachable replica reconfigured, or
    /// the timeout (then a best-effort SLAVEOF to the rest).
    fn failover_detect_end(&mut self, m: usize) {
        let now = crate::util::mstime();
        let master = &self.masters[m];
        let elapsed = now - master.ri.failover_state_change_time;
        let Some(p) = master.promoted() else {
            return;
        };
        if master.slaves[p].has(sri::S_DOWN) {
            return;
        }
        let mut not_reconfigured = master
            .slaves
            .iter()
            .filter(|s| !s.has(sri::PROMOTED | sri::RECONF_DONE) && !s.has(sri::S_DOWN))
            .count();
        let mut timeout = false;
        if elapsed > master.ri.failover_timeout {
            not_reconfigured = 0;
            timeout = true;
            let at = self.at(m, Which::Master);
            self.event(Level::Warning, "+failover-end-for-timeout", Some(m), at);
        }
        if not_reconfigured == 0 {
            let at = self.at(m, Which::Master);
            self.event(Level::Warning, "+failover-end", Some(m), at);
            let ri = &mut self.masters[m].ri;
            ri.failover_state = FailoverState::UpdateConfig;
            ri.failover_state_change_time = now;
        }
        if timeout {
            let to = self.masters[m].slaves[p].addr.clone();
            for i in 0..self.masters[m].slaves.len() {
                let s = &self.masters[m].slaves[i];
                if s.has(sri::PROMOTED | sri::RECONF_DONE | sri::RECONF_SENT)
                    || self.links.get(s.link).is_none_or(|l| l.disconnected)
                {
                    continue;
                }
                if self.send_slaveof(m, Which::Slave(i), Some(&to)) {
                    let at = self.at(m, Which::Slave(i));
                    self.event(Level::Notice, "+slave-reconf-sent-be", Some(m), at);
                    self.masters[m].slaves[i].flags |= sri::RECONF_SENT;
                }
            }
        }
    }

    /// sentinelFailoverReconfNextSlave: SLAVEOF <promoted> to the replicas
    /// not yet reconfigured, at most parallel-syncs at a time.
    fn failover_reconf_next_slave(&mut self, m: usize) {
        let now = crate::util::mstime();
        let Some(p) = self.masters[m].promoted() else {
            self.failover_detect_end(m);
            return;
        };
        let to = self.masters[m].slaves[p].addr.clone();
        let mut in_progress = self.masters[m]
            .slaves
            .iter()
            .filter(|s| s.has(sri::RECONF_SENT | sri::RECONF_INPROG))
            .count() as i64;
        let mut i = 0;
        while in_progress < self.masters[m].ri.parallel_syncs && i < self.masters[m].slaves.len() {
            let s = &self.masters[m].slaves[i];
            if s.has(sri::PROMOTED | sri::RECONF_DONE) {
                i += 1;
                continue;
            }
            // Too long without progress: count it as done; the replica's
            // configuration gets fixed later if needed.
            if s.has(sri::RECONF_SENT)
                && now - s.slave_reconf_sent_time > self.t.slave_reconf_timeout
            {
                let at = self.at(m, Which::Slave(i));
                self.event(Level::Notice, "-slave-reconf-sent-timeout", Some(m), at);
                let s = &mut self.masters[m].slaves[i];
                s.flags &= !sri::RECONF_SENT;
                s.flags |= sri::RECONF_DONE;
            }
            let s = &self.masters[m].slaves[i];
            if s.has(sri::RECONF_SENT | sri::RECONF_INPROG)
                || self.links.get(s.link).is_none_or(|l| l.disconnected)
            {
                i += 1;
                continue;
            }
            if self.send_slaveof(m, Which::Slave(i), Some(&to)) {
                let s = &mut self.masters[m].slaves[i];
                s.flags |= sri::RECONF_SENT;
                s.slave_reconf_sent_time = now;
                let at = self.at(m, Which::Slave(i));
                self.event(Level::Notice, "+slave-reconf-sent", Some(m), at);
                in_progress += 1;
            }
            i += 1;
        }
        self.failover_detect_end(m);
    }

    /// sentinelFailoverSwitchToPromotedSlave: +switch-master, and the
    /// master entry now points to the promoted replica.
    pub(crate) fn failover_switch_to_promoted_slave(&mut self, m: usize) {
        let master = &self.masters[m];
        let to = match master.promoted() {
            Some(p) => master.slaves[p].addr.clone(),
            None => master.ri.addr.clone(),
        };
        let hn = self.announce_hostnames;
        let msg = format!(
            "{} {} {} {} {}",
            master.ri.name,
            master.ri.addr.announce(hn),
            master.ri.addr.port,
            to.announce(hn),
            to.port
        );
        self.event(Level::Warning, "+switch-master", Some(m), msg);
        self.reset_master_and_change_address(m, &to.hostname, to.port as i64);
    }

    pub(crate) fn failover_state_machine(&mut self, m: usize) {
        if !self.masters[m].ri.has(sri::FAILOVER_IN_PROGRESS) {
            return;
        }
        match self.masters[m].ri.failover_state {
            FailoverState::WaitStart => self.failover_wait_start(m),
            FailoverState::SelectSlave => self.failover_select_slave(m),
            FailoverState::SendSlaveofNoone => self.failover_send_slaveof_noone(m),
            FailoverState::WaitPromotion => self.failover_wait_promotion(m),
            FailoverState::ReconfSlaves => self.failover_reconf_next_slave(m),
            FailoverState::None | FailoverState::UpdateConfig => {}
        }
    }

    /// sentinelAbortFailover (only before the promotion was acknowledged).
    pub(crate) fn abort_failover(&mut self, m: usize) {
        let master = &mut self.masters[m];
        master.ri.flags &= !(sri::FAILOVER_IN_PROGRESS | sri::FORCE_FAILOVER);
        master.ri.failover_state = FailoverState::None;
        master.ri.failover_state_change_time = crate::util::mstime();
        if let Some(p) = master.promoted() {
            master.slaves[p].flags &= !sri::PROMOTED;
        }
        master.ri.promoted_slave = None;
    }

    /// sentinelCallClientReconfScript: `<master-name> <leader|observer>
    /// <state> <from-ip> <from-port> <to-ip> <to-port>`.
    pub(crate) fn call_client_reconf_script(
        &mut self,
        m: usize,
        leader: bool,
        state: &str,
        from: &Addr,
        to: &Addr,
    ) {
        let ri = &self.masters[m].ri;
        let Some(script) = ri.client_reconfig_script.clone() else {
            return;
        };
        let hn = self.announce_hostnames;
        let args = vec![
            ri.name.clone(),
            if leader { "leader" } else { "observer" }.to_string(),
            state.to_string(),
            from.announce(hn).to_string(),
            from.port.to_string(),
            to.announce(hn).to_string(),
            to.port.to_string(),
        ];
        self.scripts.schedule(script, args, crate::util::mstime());
    }
}
