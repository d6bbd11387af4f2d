//! Monitored instances (Redis's sentinelRedisInstance): a master owns its
//! replicas and the other Sentinels that watch it; every instance has a
//! link (shared between the instances that stand for the same Sentinel
//! under several masters). Creation, lookup, reset, address change.

use super::addr::{Addr, AddrError};
use super::{sri, FailoverState, Level, Sentinel, DEFAULT_PARALLEL_SYNCS, DEFAULT_SLAVE_PRIORITY};

/// Which instance of a master: the master itself, or one of its replicas
/// or Sentinels by position.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Which {
    Master,
    Slave(usize),
    Sentinel(usize),
}

/// Identifies an instance across changes of the tables (reply callbacks
/// outlive positions): the unique ids of the master and of the instance.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Target {
    pub master: u64,
    pub inst: u64,
}

pub struct Instance {
    pub uid: u64,
    pub flags: u32,
    pub name: String,
    /// Run ID (masters, replicas) or Sentinel ID.
    pub runid: Option<String>,
    pub config_epoch: u64,
    pub addr: Addr,
    /// Key of the link in `Sentinel::links`.
    pub link: usize,
    pub last_pub_time: i64,
    pub last_hello_time: i64,
    pub last_master_down_reply_time: i64,
    pub s_down_since_time: i64,
    pub o_down_since_time: i64,
    pub down_after_period: i64,
    pub master_reboot_down_after_period: i64,
    pub master_reboot_since_time: i64,
    pub info_refresh: i64,
    /// `rename-command` of the master (old name, new name).
    pub renamed_commands: Vec<(String, String)>,
    pub role_reported: u32,
    pub role_reported_time: i64,
    pub slave_conf_change_time: i64,
    // ---- masters ----
    pub quorum: u32,
    pub parallel_syncs: i64,
    pub auth_pass: Option<String>,
    pub auth_user: Option<String>,
    // ---- replicas ----
    pub master_link_down_time: i64,
    pub slave_priority: i64,
    pub replica_announced: i64,
    pub slave_reconf_sent_time: i64,
    pub slave_master_host: Option<String>,
    pub slave_master_port: i64,
    pub slave_master_link_up: bool,
    pub slave_repl_offset: u64,
    // ---- failover ----
    /// Masters: the Sentinel that should fail over; Sentinels: the one it
    /// voted for.
    pub leader: Option<String>,
    pub leader_epoch: u64,
    pub failover_epoch: u64,
    pub failover_state: FailoverState,
    pub failover_state_change_time: i64,
    pub failover_start_time: i64,
    pub failover_timeout: i64,
    pub failover_delay_logged: i64,
    /// Uid of the replica chosen for promotion.
    pub promoted_slave: Option<u64>,
    pub notification_script: Option<String>,
    pub client_reconfig_script: Option<String>,
    /// The last INFO reply.
    pub info: Option<String>,
}

impl Instance {
    pub fn type_str(&self) -> &'static str {
        if self.flags & sri::MASTER != 0 {
            "master"
        } else if self.flags & sri::SLAVE != 0 {
            "slave"
        } else if self.flags & sri::SENTINEL != 0 {
            "sentinel"
        } else {
            "unknown"
        }
    }

    pub fn has(&self, f: u32) -> bool {
        self.flags & f != 0
    }

    /// sentinelRedisInstanceNoDownFor: no SDOWN/ODOWN in the last `ms`.
    pub fn no_down_for(&self, ms: i64, now: i64) -> bool {
        let most_recent = self.s_down_since_time.max(self.o_down_since_time);
        most_recent == 0 || now - most_recent > ms
    }
}

pub struct Master {
    pub ri: Instance,
    pub slaves: Vec<Instance>,
    pub sentinels: Vec<Instance>,
}

impl Master {
    pub fn get(&self, w: Which) -> &Instance {
        match w {
            Which::Master => &self.ri,
            Which::Slave(i) => &self.slaves[i],
            Which::Sentinel(i) => &self.sentinels[i],
        }
    }

    pub fn get_mut(&mut self, w: Which) -> &mut Instance {
        match w {
            Which::Master => &mut self.ri,
            Which::Slave(i) => &mut self.slaves[i],
            Which::Sentinel(i) => &mut self.sentinels[i],
        }
    }

    pub fn has(&self, w: Which) -> bool {
        match w {
            Which::Master => true,
            Which::Slave(i) => i < self.slaves.len(),
            Which::Sentinel(i) => i < self.sentinels.len(),
        }
    }

    pub fn target(&self, w: Which) -> Target {
        Target {
            master: self.ri.uid,
            inst: self.get(w).uid,
        }
    }

    /// The position of the replica with this uid.
    pub fn slave_by_uid(&self, uid: u64) -> Option<usize> {
        self.slaves.iter().position(|s| s.uid == uid)
    }

    /// The promoted replica, if any.
    pub fn promoted(&self) -> Option<usize> {
        self.ri.promoted_slave.and_then(|u| self.slave_by_uid(u))
    }

    /// sentinelGetCurrentMasterAddress: the promoted replica's address once
    /// the failover reached the reconfiguration of the replicas.
    pub fn current_addr(&self) -> &Addr {
        if self.ri.has(sri::FAILOVER_IN_PROGRESS)
            && self.ri.failover_state >= FailoverState::ReconfSlaves
        {
            if let Some(p) = self.promoted() {
                return &self.slaves[p].addr;
            }
        }
        &self.ri.addr
    }
}

/// createSentinelRedisInstance errors, as Redis words them.
pub fn create_error(e: CreateError, role: u32) -> &'static str {
    match e {
        CreateError::Busy if role == sri::MASTER => "Duplicate master name.",
        CreateError::Busy if role == sri::SLAVE => "Duplicate hostname and port for replica.",
        CreateError::Busy => "Duplicate runid for sentinel.",
        CreateError::Addr(AddrError::Unresolved) => "Can't resolve instance hostname.",
        CreateError::Addr(AddrError::BadPort) => "Invalid port number.",
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CreateError {
    Busy,
    Addr(AddrError),
}

impl Sentinel {
    /// A fresh instance in the disconnected state with a new link.
    fn new_instance(&mut self, flags: u32, name: String, addr: Addr, quorum: u32) -> Instance {
        let now = crate::util::mstime();
        let link = self.links.insert(super::link::Link::new(now));
        Instance {
            uid: self.next_uid(),
            flags,
            name,
            runid: None,
            config_epoch: 0,
            addr,
            link,
            last_pub_time: now,
            last_hello_time: now,
            last_master_down_reply_time: now,
            s_down_since_time: 0,
            o_down_since_time: 0,
            down_after_period: self.t.default_down_after,
            master_reboot_down_after_period: 0,
            master_reboot_since_time: 0,
            info_refresh: 0,
            renamed_commands: Vec::new(),
            role_reported: flags & (sri::MASTER | sri::SLAVE),
            role_reported_time: now,
            slave_conf_change_time: now,
            quorum,
            parallel_syncs: DEFAULT_PARALLEL_SYNCS,
            auth_pass: None,
            auth_user: None,
            master_link_down_time: 0,
            slave_priority: DEFAULT_SLAVE_PRIORITY,
            replica_announced: 1,
            slave_reconf_sent_time: 0,
            slave_master_host: None,
            slave_master_port: 0,
            slave_master_link_up: false,
            slave_repl_offset: 0,
            leader: None,
            leader_epoch: 0,
            failover_epoch: 0,
            failover_state: FailoverState::None,
            failover_state_change_time: 0,
            failover_start_time: 0,
            failover_timeout: self.t.default_failover_timeout,
            failover_delay_logged: 0,
            promoted_slave: None,
            notification_script: None,
            client_reconfig_script: None,
            info: None,
        }
    }

    /// Adds a master to watch. Returns its position.
    pub fn create_master(
        &mut self,
        name: &str,
        host: &str,
        port: i64,
        quorum: u32,
    ) -> Result<usize, CreateError> {
        let addr =
            Addr::new(host, port, self.resolve_hostnames, true).map_err(CreateError::Addr)?;
        if self.master_by_name(name.as_bytes()).is_some() {
            return Err(CreateError::Busy);
        }
        let ri = self.new_instance(sri::MASTER, name.to_string(), addr, quorum);
        self.masters.push(Master {
            ri,
            slaves: Vec::new(),
            sentinels: Vec::new(),
        });
        Ok(self.masters.len() - 1)
    }

    /// Adds a replica to master `m` (named "ip:port"). Returns its position.
    pub fn create_slave(&mut self, m: usize, host: &str, port: i64) -> Result<usize, CreateError> {
        let addr =
            Addr::new(host, port, self.resolve_hostnames, true).map_err(CreateError::Addr)?;
        let name = addr.announce_with_port(self.announce_hostnames);
        if self.masters[m].slaves.iter().any(|s| s.name == name) {
            return Err(CreateError::Busy);
        }
        let mut ri = self.new_instance(sri::SLAVE, name, addr, self.masters[m].ri.quorum);
        ri.down_after_period = self.masters[m].ri.down_after_period;
        self.masters[m].slaves.push(ri);
        Ok(self.masters[m].slaves.len() - 1)
    }

    /// Adds a Sentinel (named and identified by its run ID) to master `m`,
    /// sharing the link of the same Sentinel under another master if any.
    pub fn create_sentinel(
        &mut self,
        m: usize,
        runid: &str,
        host: &str,
        port: i64,
    ) -> Result<usize, CreateError> {
        let addr =
            Addr::new(host, port, self.resolve_hostnames, true).map_err(CreateError::Addr)?;
        if self.masters[m].sentinels.iter().any(|s| s.name == runid) {
            return Err(CreateError::Busy);
        }
        let mut ri = self.new_instance(
            sri::SENTINEL,
            runid.to_string(),
            addr,
            self.masters[m].ri.quorum,
        );
        ri.down_after_period = self.masters[m].ri.down_after_period;
        ri.runid = Some(runid.to_string());
        self.masters[m].sentinels.push(ri);
        let i = self.masters[m].sentinels.len() - 1;
        self.try_connection_sharing(m, i);
        Ok(i)
    }

    /// sentinelTryConnectionSharing: use the link we already have with the
    /// same Sentinel (same run ID) under another master.
    fn try_connection_sharing(&mut self, m: usize, i: usize) {
        let Some(runid) = self.masters[m].sentinels[i].runid.clone() else {
            return;
        };
        let own = self.masters[m].sentinels[i].link;
        if self.links[own].refcount > 1 {
            return;
        }
        let found = self.masters.iter().enumerate().find_map(|(mi, master)| {
            if mi == m {
                return None;
            }
            master
                .sentinels
                .iter()
                .find(|s| s.runid.as_deref() == Some(runid.as_str()))
                .map(|s| s.link)
        });
        if let Some(shared) = found {
            if shared != own {
                self.release_link(own);
                self.links[shared].refcount += 1;
                self.masters[m].sentinels[i].link = shared;
            }
        }
    }

    /// Drops an instance's hold on its link; the last holder closes it.
    pub(crate) fn release_link(&mut self, link: usize) {
        let Some(l) = self.links.get_mut(link) else {
            return;
        };
        l.refcount = l.refcount.saturating_sub(1);
        if l.refcount == 0 {
            let (cc, pc) = (l.cc, l.pc);
            for c in [cc, pc].into_iter().flatten() {
                self.close_conn(c, true);
            }
            self.links.remove(link);
        }
    }

    /// Frees an instance (and, for a master, its replicas and Sentinels).
    pub(crate) fn release_instance(&mut self, ri: Instance) {
        self.release_link(ri.link);
    }

    pub(crate) fn release_master(&mut self, m: Master) {
        for s in m.slaves.into_iter().chain(m.sentinels) {
            self.release_instance(s);
        }
        self.release_instance(m.ri);
    }

    /// Finds the instance a reply callback belongs to.
    pub fn resolve(&self, t: Target) -> Option<(usize, Which)> {
        let m = self.masters.iter().position(|m| m.ri.uid == t.master)?;
        let master = &self.masters[m];
        if t.inst == t.master {
            return Some((m, Which::Master));
        }
        if let Some(i) = master.slaves.iter().position(|s| s.uid == t.inst) {
            return Some((m, Which::Slave(i)));
        }
        master
            .sentinels
            .iter()
            .position(|s| s.uid == t.inst)
            .map(|i| (m, Which::Sentinel(i)))
    }

    /// sentinelRedisInstanceLookupSlave by address.
    pub fn lookup_slave(&self, m: usize, host: &str, port: i64) -> Option<usize> {
        let addr = Addr::new(host, port, self.resolve_hostnames, false).ok()?;
        let key = addr.announce_with_port(self.announce_hostnames);
        self.masters[m].slaves.iter().position(|s| s.name == key)
    }

    /// getSentinelRedisInstanceByAddrAndRunID over a master's Sentinels.
    pub fn sentinel_by_addr_and_runid(
        &self,
        m: usize,
        host: Option<(&str, i64)>,
        runid: Option<&str>,
    ) -> Option<usize> {
        let want = match host {
            Some((h, p)) => Some(Addr::new(h, p, self.resolve_hostnames, true).ok()?),
            None => None,
        };
        self.masters[m].sentinels.iter().position(|s| {
            if runid.is_some() && s.runid.is_none() {
                return false;
            }
            runid.is_none_or(|r| s.runid.as_deref() == Some(r))
                && want.as_ref().is_none_or(|a| s.addr.same_ip_or_host(a))
        })
    }

    /// The master watched at this address (IS-MASTER-DOWN-BY-ADDR).
    pub fn master_by_addr(&self, host: &str, port: i64) -> Option<usize> {
        let want = Addr::new(host, port, self.resolve_hostnames, true).ok()?;
        self.masters
            .iter()
            .position(|m| m.ri.addr.same_ip_or_host(&want))
    }

    /// removeMatchingSentinelFromMaster: drops the Sentinels with this run
    /// ID; returns how many.
    pub fn remove_matching_sentinel(&mut self, m: usize, runid: &str) -> usize {
        let mut removed = Vec::new();
        let list = &mut self.masters[m].sentinels;
        let mut i = 0;
        while i < list.len() {
            if list[i].runid.as_deref() == Some(runid) {
                removed.push(list.remove(i));
            } else {
                i += 1;
            }
        }
        let n = removed.len();
        for ri in removed {
            self.release_instance(ri);
        }
        n
    }

    /// sentinelPropagateDownAfterPeriod to replicas and Sentinels.
    pub fn propagate_down_after_period(&mut self, m: usize) {
        let d = self.masters[m].ri.down_after_period;
        let master = &mut self.masters[m];
        for ri in master.slaves.iter_mut().chain(master.sentinels.iter_mut()) {
            ri.down_after_period = d;
        }
    }

    /// sentinelResetMaster: forget replicas (and Sentinels unless
    /// `keep_sentinels`), runtime flags and failover state; reconnect.
    pub fn reset_master(&mut self, m: usize, keep_sentinels: bool, event: bool) {
        let slaves = std::mem::take(&mut self.masters[m].slaves);
        for s in slaves {
            self.release_instance(s);
        }
        if !keep_sentinels {
            let sentinels = std::mem::take(&mut self.masters[m].sentinels);
            for s in sentinels {
                self.release_instance(s);
            }
        }
        let link = self.masters[m].ri.link;
        self.close_link_conns(link);
        let now = crate::util::mstime();
        let ri = &mut self.masters[m].ri;
        ri.flags &= sri::MASTER;
        ri.leader = None;
        ri.failover_state = FailoverState::None;
        ri.failover_state_change_time = 0;
        ri.failover_start_time = 0;
        ri.promoted_slave = None;
        ri.runid = None;
        ri.slave_master_host = None;
        ri.role_reported_time = now;
        ri.role_reported = sri::MASTER;
        if let Some(l) = self.links.get_mut(link) {
            l.act_ping_time = now;
            l.last_ping_time = 0;
            l.last_avail_time = now;
            l.last_pong_time = now;
        }
        if event {
            let at = self.at(m, Which::Master);
            self.event(Level::Warning, "+reset-master", Some(m), at);
        }
    }

    /// sentinelResetMasterAndChangeAddress: the +switch-master step. The
    /// replicas are kept (but the new master's address), and the old master
    /// becomes a replica so it can be reconfigured when it comes back.
    pub fn reset_master_and_change_address(&mut self, m: usize, host: &str, port: i64) -> bool {
        let Ok(newaddr) = Addr::new(host, port, self.resolve_hostnames, false) else {
            return false;
        };
        let mut keep: Vec<Addr> = self.masters[m]
            .slaves
            .iter()
            .filter(|s| !s.addr.same_ip(&newaddr))
            .map(|s| s.addr.clone())
            .collect();
        if !newaddr.same_ip(&self.masters[m].ri.addr) {
            keep.push(self.masters[m].ri.addr.clone());
        }
        self.reset_master(m, true, false);
        let ri = &mut self.masters[m].ri;
        ri.addr = newaddr;
        ri.o_down_since_time = 0;
        ri.s_down_since_time = 0;
        for a in keep {
            if let Ok(i) = self.create_slave(m, &a.hostname, a.port as i64) {
                let at = self.at(m, Which::Slave(i));
                self.event(Level::Notice, "+slave", Some(m), at);
            }
        }
        self.config_changed();
        true
    }

    /// SENTINEL RESET <pattern>: returns how many masters were reset.
    pub fn reset_masters_by_pattern(&mut self, pattern: &[u8]) -> i64 {
        let mut n = 0;
        for m in 0..self.masters.len() {
            if crate::util::string_match(pattern, self.masters[m].ri.name.as_bytes(), false) {
                self.reset_master(m, false, true);
                n += 1;
            }
        }
        n
    }

    /// sentinelInstanceMapCommand: the name to send for `cmd`, following
    /// the master's rename-command table.
    pub fn map_command(&self, m: usize, cmd: &str) -> String {
        self.masters[m]
            .ri
            .renamed_commands
            .iter()
            .find(|(old, _)| old.eq_ignore_ascii_case(cmd))
            .map_or_else(|| cmd.to_string(), |(_, new)| new.clone())
    }
}
