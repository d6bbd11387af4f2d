//! Watching instances: (re)connecting the links, the periodic PING, INFO
//! and hello (sent by `hello`), what INFO replies teach (run ID, role,
//! replicas, replication state) and the corrections Sentinel makes from
//! them, and the SDOWN/ODOWN verdicts with SENTINEL IS-MASTER-DOWN-BY-ADDR.

use super::addr::Addr;
use super::link::Cb;
use super::{sri, Env, FailoverState, Level, Sentinel, Which, MAX_PENDING_COMMANDS};
use crate::resp::reply::Reply;

use crate::encoding::numbers::{atoi, atou};

impl Sentinel {
    /// sentinelReconnectInstance: opens the missing connections of a
    /// disconnected link, at most once per ping period.
    pub(crate) fn reconnect_instance(&mut self, env: &Env<'_>, m: usize, w: Which) {
        let link = self.masters[m].get(w).link;
        let Some(l) = self.links.get(link) else {
            return;
        };
        if !l.disconnected || self.masters[m].get(w).addr.port == 0 {
            return;
        }
        let now = crate::util::mstime();
        if now - l.last_reconn_time < self.t.ping_period {
            return;
        }
        self.links[link].last_reconn_time = now;
        let is_sentinel = self.masters[m].get(w).has(sri::SENTINEL);
        if self.links[link].cc.is_none() {
            if self.resolve_hostnames {
                // The instance may have come back with another address.
                let a = &self.masters[m].get(w).addr;
                if let Ok(fresh) = Addr::new(&a.hostname, a.port as i64, true, false) {
                    self.masters[m].get_mut(w).addr = fresh;
                }
            }
            if let Some(c) = self.open_conn(env, m, w, false) {
                let l = &mut self.links[link];
                l.pending_commands = 0;
                l.cc_conn_time = crate::util::mstime();
                l.cc = Some(c);
                self.send_auth_if_needed(env, m, w, c);
                self.set_client_name(m, w, c, "cmd");
                self.send_ping(m, w);
            }
        }
        if !is_sentinel && self.links[link].pc.is_none() {
            if let Some(c) = self.open_conn(env, m, w, true) {
                let l = &mut self.links[link];
                l.pc_conn_time = crate::util::mstime();
                l.pc = Some(c);
                self.send_auth_if_needed(env, m, w, c);
                self.set_client_name(m, w, c, "pubsub");
                let sub = self.map_command(m, "SUBSCRIBE");
                let t = self.masters[m].target(w);
                self.subscribe_hello(c, &sub, t);
            }
        }
        let l = &mut self.links[link];
        if l.cc.is_some() && (is_sentinel || l.pc.is_some()) {
            l.disconnected = false;
        }
    }

    /// sentinelSendPing: PING, and remember since when a reply is awaited.
    pub(crate) fn send_ping(&mut self, m: usize, w: Which) -> bool {
        let link = self.masters[m].get(w).link;
        let Some(cc) = self.links.get(link).and_then(|l| l.cc) else {
            return false;
        };
        let ping = self.map_command(m, "PING");
        let t = self.masters[m].target(w);
        if !self.send(cc, &[ping.as_bytes()], Cb::Ping, t) {
            return false;
        }
        let l = &mut self.links[link];
        l.last_ping_time = crate::util::mstime();
        if l.act_ping_time == 0 {
            l.act_ping_time = l.last_ping_time;
        }
        true
    }

    /// sentinelSendPeriodicCommands: INFO (not to Sentinels), PING, hello.
    pub(crate) fn send_periodic_commands(&mut self, env: &Env<'_>, m: usize, w: Which) {
        let now = crate::util::mstime();
        let ri = self.masters[m].get(w);
        let Some(l) = self.links.get(ri.link) else {
            return;
        };
        if l.disconnected || l.pending_commands >= MAX_PENDING_COMMANDS * l.refcount as i64 {
            return;
        }
        let master_flags = self.masters[m].ri.flags;
        // Replicas of a master in trouble are watched every second.
        let info_period = if ri.has(sri::SLAVE)
            && (master_flags & (sri::O_DOWN | sri::FAILOVER_IN_PROGRESS) != 0
                || ri.master_link_down_time != 0)
        {
            1000
        } else {
            self.t.info_period
        };
        let ping_period = ri.down_after_period.min(self.t.ping_period);
        let (send_info, cc) = (
            !ri.has(sri::SENTINEL) && (ri.info_refresh == 0 || now - ri.info_refresh > info_period),
            l.cc,
        );
        let send_ping =
            now - l.last_pong_time > ping_period && now - l.last_ping_time > ping_period / 2;
        let send_hello = now - ri.last_pub_time > self.t.publish_period;
        if send_info {
            if let Some(cc) = cc {
                let info = self.map_command(m, "INFO");
                let t = self.masters[m].target(w);
                self.send(cc, &[info.as_bytes()], Cb::Info, t);
            }
        }
        if send_ping {
            self.send_ping(m, w);
        }
        if send_hello {
            self.send_hello(env, m, w);
        }
    }

    /// sentinelPingReplyCallback.
    pub(crate) fn ping_reply(&mut self, m: usize, w: Which, reply: &Reply) {
        let now = crate::util::mstime();
        let link = self.masters[m].get(w).link;
        if let Reply::Status(s) | Reply::Error(s) = reply {
            if s.starts_with(b"PONG") || s.starts_with(b"LOADING") || s.starts_with(b"MASTERDOWN") {
                if let Some(l) = self.links.get_mut(link) {
                    l.last_avail_time = now;
                    l.act_ping_time = 0;
                }
                let ri = self.masters[m].get_mut(w);
                if ri.has(sri::MASTER_REBOOT) && s.starts_with(b"PONG") {
                    ri.flags &= !sri::MASTER_REBOOT;
                }
            } else if s.starts_with(b"BUSY") {
                // Down because of a busy script: try to kill it, once.
                let ri = self.masters[m].get(w);
                if ri.has(sri::S_DOWN) && !ri.has(sri::SCRIPT_KILL_SENT) {
                    if let Some(cc) = self.links.get(link).and_then(|l| l.cc) {
                        let script = self.map_command(m, "SCRIPT");
                        let t = self.masters[m].target(w);
                        self.send(cc, &[script.as_bytes(), b"KILL"], Cb::Discard, t);
                    }
                    self.masters[m].get_mut(w).flags |= sri::SCRIPT_KILL_SENT;
                }
            }
        }
        if let Some(l) = self.links.get_mut(link) {
            l.last_pong_time = now;
        }
    }

    /// sentinelMasterLooksSane: a master we could reconfigure others after.
    fn master_looks_sane(&self, m: usize) -> bool {
        let ri = &self.masters[m].ri;
        ri.has(sri::MASTER)
            && ri.role_reported == sri::MASTER
            && !ri.has(sri::S_DOWN | sri::O_DOWN)
            && crate::util::mstime() - ri.info_refresh < self.t.info_period * 2
    }

    /// sentinelRefreshInstanceInfo: learns from an INFO reply, then acts on
    /// role changes (unless in TILT).
    pub(crate) fn refresh_instance_info(&mut self, m: usize, w: Which, info: &str) {
        let now = crate::util::mstime();
        let is_master = w == Which::Master;
        let mut role = 0u32;
        {
            let ri = self.masters[m].get_mut(w);
            ri.info = Some(info.to_string());
            ri.master_link_down_time = 0;
        }
        let mut new_slaves: Vec<(String, i64)> = Vec::new();
        let mut rebooted = false;
        for l in info.split("\r\n") {
            let lb = l.as_bytes();
            let ri = self.masters[m].get_mut(w);
            if lb.len() >= 47 && lb.starts_with(b"run_id:") {
                let id = String::from_utf8_lossy(&lb[7..47]).into_owned();
                match &ri.runid {
                    None => ri.runid = Some(id),
                    Some(old) if *old != id => {
                        rebooted = true;
                        if ri.has(sri::MASTER) && ri.master_reboot_down_after_period != 0 {
                            ri.flags |= sri::MASTER_REBOOT;
                            ri.master_reboot_since_time = now;
                        }
                        ri.runid = Some(id);
                    }
                    _ => {}
                }
            }
            if is_master && lb.len() >= 7 && lb.starts_with(b"slave") && lb[5].is_ascii_digit() {
                if let Some((ip, port)) = parse_slave_line(l) {
                    new_slaves.push((ip, port));
                }
            }
            if lb.len() >= 32 && lb.starts_with(b"master_link_down_since_seconds") {
                ri.master_link_down_time = atoi(&lb[31..]).saturating_mul(1000);
            }
            if lb.starts_with(b"role:master") {
                role = sri::MASTER;
            } else if lb.starts_with(b"role:slave") {
                role = sri::SLAVE;
            }
            if role == sri::SLAVE {
                if let Some(h) = l.strip_prefix("master_host:") {
                    if ri
                        .slave_master_host
                        .as_deref()
                        .is_none_or(|old| !old.eq_ignore_ascii_case(h))
                    {
                        ri.slave_master_host = Some(h.to_string());
                        ri.slave_conf_change_time = now;
                    }
                }
                if let Some(p) = l.strip_prefix("master_port:") {
                    let port = atoi(p.as_bytes());
                    if ri.slave_master_port != port {
                        ri.slave_master_port = port;
                        ri.slave_conf_change_time = now;
                    }
                }
                if let Some(s) = l.strip_prefix("master_link_status:") {
                    ri.slave_master_link_up = s.eq_ignore_ascii_case("up");
                }
                if let Some(p) = l.strip_prefix("slave_priority:") {
                    ri.slave_priority = atoi(p.as_bytes());
                }
                if let Some(o) = l.strip_prefix("slave_repl_offset:") {
                    ri.slave_repl_offset = atou(o.as_bytes());
                }
                if let Some(a) = l.strip_prefix("replica_announced:") {
                    ri.replica_announced = atoi(a.as_bytes());
                }
            }
            if rebooted {
                rebooted = false;
                let at = self.at(m, w);
                self.event(Level::Notice, "+reboot", Some(m), at);
            }
            for (ip, port) in new_slaves.drain(..) {
                if self.lookup_slave(m, &ip, port).is_none() {
                    if let Ok(i) = self.create_slave(m, &ip, port) {
                        let at = self.at(m, Which::Slave(i));
                        self.event(Level::Notice, "+slave", Some(m), at);
                        self.config_changed();
                    }
                }
            }
        }
        self.masters[m].get_mut(w).info_refresh = now;
        self.act_on_role(m, w, role, now);
    }

    /// The acting half of sentinelRefreshInstanceInfo.
    fn act_on_role(&mut self, m: usize, w: Which, role: u32, now: i64) {
        let ri = self.masters[m].get_mut(w);
        if role != ri.role_reported {
            ri.role_reported_time = now;
            ri.role_reported = role;
            if role == sri::SLAVE {
                ri.slave_conf_change_time = now;
            }
            let coherent = ri.flags & (sri::MASTER | sri::SLAVE) == role;
            let at = self.at(m, w);
            self.event(
                Level::Verbose,
                if coherent {
                    "+role-change"
                } else {
                    "-role-change"
                },
                Some(m),
                format!(
                    "{at} new reported role is {}",
                    if role == sri::MASTER {
                        "master"
                    } else {
                        "slave"
                    }
                ),
            );
        }
        if self.tilt {
            return;
        }
        let Which::Slave(i) = w else {
            // A master that claims to be a replica is seen as down (SDOWN
            // check); nothing to do here.
            return;
        };
        let master = &self.masters[m];
        let ri = &master.slaves[i];
        if role == sri::MASTER {
            if ri.has(sri::PROMOTED)
                && master.ri.has(sri::FAILOVER_IN_PROGRESS)
                && master.ri.failover_state == FailoverState::WaitPromotion
            {
                self.promotion_acknowledged(m, i);
            } else {
                // A replica turned master on its own: make it a replica
                // again, after giving the leader time to tell us otherwise.
                let wait_time = self.t.publish_period * 4;
                if !ri.has(sri::PROMOTED)
                    && self.master_looks_sane(m)
                    && ri.no_down_for(wait_time, now)
                    && now - ri.role_reported_time > wait_time
                {
                    let addr = self.masters[m].ri.addr.clone();
                    if self.send_slaveof(m, w, Some(&addr)) {
                        let at = self.at(m, w);
                        self.event(Level::Notice, "+convert-to-slave", Some(m), at);
                    }
                }
            }
        }
        let master = &self.masters[m];
        let ri = &master.slaves[i];
        let wrong_master = ri.slave_master_port != master.ri.addr.port as i64
            || !ri
                .slave_master_host
                .as_deref()
                .is_some_and(|h| master.ri.addr.ip_is(h, self.resolve_hostnames));
        if role == sri::SLAVE && wrong_master {
            let wait_time = master.ri.failover_timeout;
            if self.master_looks_sane(m)
                && ri.no_down_for(wait_time, now)
                && now - ri.slave_conf_change_time > wait_time
            {
                let addr = master.ri.addr.clone();
                if self.send_slaveof(m, w, Some(&addr)) {
                    let at = self.at(m, w);
                    self.event(Level::Notice, "+fix-slave-config", Some(m), at);
                }
            }
        }
        let master = &self.masters[m];
        let ri = &master.slaves[i];
        if role == sri::SLAVE && ri.has(sri::RECONF_SENT | sri::RECONF_INPROG) {
            let follows_promoted = master.promoted().is_some_and(|p| {
                let pa = &master.slaves[p].addr;
                ri.slave_master_host
                    .as_deref()
                    .is_some_and(|h| pa.ip_is(h, self.resolve_hostnames))
                    && ri.slave_master_port == pa.port as i64
            });
            if ri.has(sri::RECONF_SENT) && follows_promoted {
                let ri = &mut self.masters[m].slaves[i];
                ri.flags &= !sri::RECONF_SENT;
                ri.flags |= sri::RECONF_INPROG;
                let at = self.at(m, w);
                self.event(Level::Notice, "+slave-reconf-inprog", Some(m), at);
            }
            let ri = &mut self.masters[m].slaves[i];
            if ri.has(sri::RECONF_INPROG) && ri.slave_master_link_up {
                ri.flags &= !sri::RECONF_INPROG;
                ri.flags |= sri::RECONF_DONE;
                let at = self.at(m, w);
                self.event(Level::Notice, "+slave-reconf-done", Some(m), at);
            }
        }
    }

    /// sentinelCheckSubjectivelyDown: SDOWN when PING went unanswered for
    /// down-after-milliseconds (or a master says it is a replica for too
    /// long, or a rebooted master stays unavailable too long); also drops
    /// links that look stuck.
    pub(crate) fn check_subjectively_down(&mut self, m: usize, w: Which) {
        let now = crate::util::mstime();
        let ri = self.masters[m].get(w);
        let link = ri.link;
        let Some(l) = self.links.get(link) else {
            return;
        };
        let elapsed = if l.act_ping_time != 0 {
            now - l.act_ping_time
        } else if l.disconnected {
            now - l.last_avail_time
        } else {
            0
        };
        let half = ri.down_after_period / 2;
        let stuck_cc = l.cc.filter(|_| {
            now - l.cc_conn_time > self.t.min_link_reconnect_period
                && l.act_ping_time != 0
                && now - l.act_ping_time > half
                && now - l.last_pong_time > half
        });
        let idle_pc = l.pc.filter(|_| {
            now - l.pc_conn_time > self.t.min_link_reconnect_period
                && now - l.pc_last_activity > self.t.publish_period * 3
        });
        let down = elapsed > ri.down_after_period
            || (ri.has(sri::MASTER)
                && ri.role_reported == sri::SLAVE
                && now - ri.role_reported_time > ri.down_after_period + self.t.info_period * 2)
            || (ri.has(sri::MASTER_REBOOT)
                && now - ri.master_reboot_since_time > ri.master_reboot_down_after_period);
        if let Some(c) = stuck_cc {
            self.close_conn(c, true);
        }
        if let Some(c) = idle_pc {
            self.close_conn(c, true);
        }
        let ri = self.masters[m].get_mut(w);
        if down {
            if !ri.has(sri::S_DOWN) {
                ri.s_down_since_time = now;
                ri.flags |= sri::S_DOWN;
                let at = self.at(m, w);
                self.event(Level::Warning, "+sdown", Some(m), at);
            }
        } else if ri.has(sri::S_DOWN) {
            ri.flags &= !(sri::S_DOWN | sri::SCRIPT_KILL_SENT);
            let at = self.at(m, w);
            self.event(Level::Warning, "-sdown", Some(m), at);
        }
    }

    /// sentinelCheckObjectivelyDown: ODOWN when enough Sentinels (us
    /// included) say the master is down.
    pub(crate) fn check_objectively_down(&mut self, m: usize) {
        let master = &self.masters[m];
        let mut quorum = 0u32;
        let mut odown = false;
        if master.ri.has(sri::S_DOWN) {
            quorum = 1 + master
                .sentinels
                .iter()
                .filter(|s| s.has(sri::MASTER_DOWN))
                .count() as u32;
            odown = quorum >= master.ri.quorum;
        }
        let q = master.ri.quorum;
        let ri = &mut self.masters[m].ri;
        if odown {
            if !ri.has(sri::O_DOWN) {
                ri.flags |= sri::O_DOWN;
                ri.o_down_since_time = crate::util::mstime();
                let at = self.at(m, Which::Master);
                self.event(
                    Level::Warning,
                    "+odown",
                    Some(m),
                    format!("{at} #quorum {quorum}/{q}"),
                );
            }
        } else if ri.has(sri::O_DOWN) {
            ri.flags &= !sri::O_DOWN;
            let at = self.at(m, Which::Master);
            self.event(Level::Warning, "-odown", Some(m), at);
        }
    }

    /// sentinelAskMasterStateToOtherSentinels: while we think the master is
    /// down, ask the others (and, once failing over, ask for their vote).
    pub(crate) fn ask_master_state_to_other_sentinels(&mut self, m: usize, forced: bool) {
        let now = crate::util::mstime();
        for i in 0..self.masters[m].sentinels.len() {
            let master = &self.masters[m];
            let s = &master.sentinels[i];
            let elapsed = now - s.last_master_down_reply_time;
            let link = s.link;
            if elapsed > self.t.ask_period * 5 {
                let s = &mut self.masters[m].sentinels[i];
                s.flags &= !sri::MASTER_DOWN;
                s.leader = None;
            }
            let master = &self.masters[m];
            if !master.ri.has(sri::S_DOWN) {
                continue;
            }
            let Some(cc) = self
                .links
                .get(link)
                .filter(|l| !l.disconnected)
                .and_then(|l| l.cc)
            else {
                continue;
            };
            if !forced && now - master.sentinels[i].last_master_down_reply_time < self.t.ask_period
            {
                continue;
            }
            let ip = master.ri.addr.announce(self.announce_hostnames).to_string();
            let port = master.ri.addr.port.to_string();
            let epoch = self.current_epoch.to_string();
            let runid = if master.ri.failover_state > FailoverState::None {
                self.myid.clone()
            } else {
                "*".to_string()
            };
            let cmd = self.map_command(m, "SENTINEL");
            let t = master.target(Which::Sentinel(i));
            self.send(
                cc,
                &[
                    cmd.as_bytes(),
                    b"is-master-down-by-addr",
                    ip.as_bytes(),
                    port.as_bytes(),
                    epoch.as_bytes(),
                    runid.as_bytes(),
                ],
                Cb::IsMasterDown,
                t,
            );
        }
    }

    /// sentinelReceiveIsMasterDownReply: the other Sentinel's view, and
    /// its vote if it gave one.
    pub(crate) fn is_master_down_reply(&mut self, m: usize, w: Which, reply: &Reply) {
        let Reply::Array(Some(items)) = reply else {
            return;
        };
        let [Reply::Int(down), Reply::Bulk(Some(leader)), Reply::Int(epoch)] = items.as_slice()
        else {
            return;
        };
        let ri = self.masters[m].get_mut(w);
        ri.last_master_down_reply_time = crate::util::mstime();
        if *down == 1 {
            ri.flags |= sri::MASTER_DOWN;
        } else {
            ri.flags &= !sri::MASTER_DOWN;
        }
        if leader.as_slice() != b"*" {
            let leader = String::from_utf8_lossy(leader).into_owned();
            if ri.leader_epoch as i64 != *epoch {
                log::warn!("{} voted for {} {}", ri.name, leader, *epoch as u64);
            }
            ri.leader = Some(leader);
            ri.leader_epoch = *epoch as u64;
        }
    }
}

/// The (ip, port) of a `slaveN:` line of INFO replication, old
/// (`slave0:<ip>,<port>,<state>`) or new (`slave0:ip=...,port=...`) form.
fn parse_slave_line(l: &str) -> Option<(String, i64)> {
    if !l.contains("ip=") {
        let rest = &l[l.find(':')? + 1..];
        let (ip, rest) = rest.split_once(',')?;
        let (port, _) = rest.split_once(',')?;
        return Some((ip.to_string(), atoi(port.as_bytes())));
    }
    let ip = &l[l.find("ip=")? + 3..];
    let port = &l[l.find("port=")? + 5..];
    let ip = ip.split(',').next().unwrap_or(ip);
    let port = port.split(',').next().unwrap_or(port);
    Some((ip.to_string(), atoi(port.as_bytes())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slave_lines() {
        assert_eq!(
            parse_slave_line("slave0:ip=127.0.0.1,port=6380,state=online,offset=1,lag=0"),
            Some(("127.0.0.1".into(), 6380))
        );
        assert_eq!(
            parse_slave_line("slave1:10.0.0.2,7000,online"),
            Some(("10.0.0.2".into(), 7000))
        );
        assert_eq!(parse_slave_line("slave1:garbage"), None);
        assert_eq!(parse_slave_line("slave2:ip=x"), None);
    }
}
