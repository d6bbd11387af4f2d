//! The SENTINEL command (state queries, MONITOR/REMOVE/RESET/FAILOVER,
//! CKQUORUM, IS-MASTER-DOWN-BY-ADDR, INFO-CACHE...), the Sentinel section
//! of INFO, ROLE, and Sentinel's PUBLISH (the way other Sentinels hand us
//! hello messages), with redis-sentinel 7.0's replies byte for byte.
//! SENTINEL SET/CONFIG/DEBUG/SIMULATE-FAILURE are in `command_set`.

use super::instance::{create_error, Instance};
use super::{sri, Env, Level, Sentinel, Which};
use crate::cmd::eq_ic;
use crate::error::{self, CmdError};
use crate::resp::Out;
use bytes::Bytes;

type R = Result<(), CmdError>;

/// SENTINEL's subcommands and their arity (as the command table has them).
const SUBCOMMANDS: &[(&str, i32)] = &[
    ("ckquorum", 3),
    ("config", -3),
    ("debug", -2),
    ("failover", 3),
    ("flushconfig", 2),
    ("get-master-addr-by-name", 3),
    ("help", 2),
    ("info-cache", -3),
    ("is-master-down-by-addr", 6),
    ("master", 3),
    ("masters", 2),
    ("monitor", 6),
    ("myid", 2),
    ("pending-scripts", 2),
    ("remove", 3),
    ("replicas", 3),
    ("reset", 3),
    ("sentinels", 3),
    ("set", -5),
    ("simulate-failure", -3),
    ("slaves", 3),
];

const HELP: &[&str] = &[
    "SENTINEL <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "CKQUORUM <master-name>",
    "    Check if the current Sentinel configuration is able to reach the quorum",
    "    needed to failover a master and the majority needed to authorize the",
    "    failover.",
    "CONFIG SET <param> <value>",
    "    Set a global Sentinel configuration parameter.",
    "CONFIG GET <param>",
    "    Get global Sentinel configuration parameter.",
    "DEBUG [<param> <value> ...]",
    "    Show a list of configurable time parameters and their values (milliseconds).",
    "    Or update current configurable parameters values (one or more).",
    "GET-MASTER-ADDR-BY-NAME <master-name>",
    "    Return the ip and port number of the master with that name.",
    "FAILOVER <master-name>",
    "    Manually failover a master node without asking for agreement from other",
    "    Sentinels",
    "FLUSHCONFIG",
    "    Force Sentinel to rewrite its configuration on disk, including the current",
    "    Sentinel state.",
    "INFO-CACHE <master-name>",
    "    Return last cached INFO output from masters and all its replicas.",
    "IS-MASTER-DOWN-BY-ADDR <ip> <port> <current-epoch> <runid>",
    "    Check if the master specified by ip:port is down from current Sentinel's",
    "    point of view.",
    "MASTER <master-name>",
    "    Show the state and info of the specified master.",
    "MASTERS",
    "    Show a list of monitored masters and their state.",
    "MONITOR <name> <ip> <port> <quorum>",
    "    Start monitoring a new master with the specified name, ip, port and quorum.",
    "MYID",
    "    Return the ID of the Sentinel instance.",
    "PENDING-SCRIPTS",
    "    Get pending scripts information.",
    "REMOVE <master-name>",
    "    Remove master from Sentinel's monitor list.",
    "REPLICAS <master-name>",
    "    Show a list of replicas for this master and their state.",
    "RESET <pattern>",
    "    Reset masters for specific master name matching this pattern.",
    "SENTINELS <master-name>",
    "    Show a list of Sentinel instances for this master and their state.",
    "SET <master-name> <option> <value> [<option> <value> ...]",
    "    Set configuration parameters for certain masters.",
    "SIMULATE-FAILURE [CRASH-AFTER-ELECTION] [CRASH-AFTER-PROMOTION] [HELP]",
    "    Simulate a Sentinel crash.",
    "HELP",
    "    Prints this help.",
];

pub const NO_SUCH_MASTER: &str = "ERR No such master with that name";

/// The integer argument of a command, or `ERR <msg>` / the standard error.
fn arg_long(a: &[u8], msg: Option<&'static str>) -> Result<i64, CmdError> {
    crate::encoding::numbers::string2ll(a).ok_or_else(|| match msg {
        Some(m) => CmdError::msg(format!("ERR {m}")),
        None => error::NOT_INT.into(),
    })
}

impl Sentinel {
    /// SENTINEL <subcommand> ...: checks the subcommand and its arity, then
    /// replies into `o`. The config file is written before returning when
    /// the state changed.
    pub fn sentinel_command(&mut self, env: &Env<'_>, argv: &[Bytes], o: &mut Out<'_>) -> R {
        let sub = &argv[1];
        let lower = String::from_utf8_lossy(sub).to_ascii_lowercase();
        let Some(&(name, arity)) = SUBCOMMANDS.iter().find(|(n, _)| *n == lower) else {
            return Err(error::unknown_subcommand(sub, "SENTINEL"));
        };
        let argc = argv.len() as i32;
        if (arity > 0 && argc != arity) || (arity < 0 && argc < -arity) {
            return Err(CmdError::arity(&format!("sentinel|{name}")));
        }
        let r = self.sentinel_subcommand(env, name, argv, o);
        self.end_of_call(env);
        r
    }

    fn sentinel_subcommand(
        &mut self,
        env: &Env<'_>,
        sub: &str,
        argv: &[Bytes],
        o: &mut Out<'_>,
    ) -> R {
        match sub {
            "help" => {
                o.array(HELP.len());
                for l in HELP {
                    o.simple(l);
                }
            }
            "masters" => {
                let all: Vec<(usize, Which)> = (0..self.masters.len())
                    .map(|m| (m, Which::Master))
                    .collect();
                self.reply_instances(o, &all);
            }
            "master" => {
                let m = self.master_or_err(&argv[2])?;
                self.reply_instance(o, m, Which::Master);
            }
            "replicas" | "slaves" => {
                let m = self.master_or_err(&argv[2])?;
                let list: Vec<(usize, Which)> = (0..self.masters[m].slaves.len())
                    .map(|i| (m, Which::Slave(i)))
                    .collect();
                self.reply_instances(o, &list);
            }
            "sentinels" => {
                let m = self.master_or_err(&argv[2])?;
                let list: Vec<(usize, Which)> = (0..self.masters[m].sentinels.len())
                    .map(|i| (m, Which::Sentinel(i)))
                    .collect();
                self.reply_instances(o, &list);
            }
            "myid" => o.bulk(self.myid.as_bytes()),
            "is-master-down-by-addr" => self.is_master_down_by_addr(argv, o)?,
            "reset" => {
                let n = self.reset_masters_by_pattern(&argv[2]);
                o.int(n);
            }
            "get-master-addr-by-name" => match self.master_by_name(&argv[2]) {
                None => o.null_array(),
                Some(m) => {
                    let a = self.masters[m].current_addr();
                    o.array(2);
                    o.bulk(a.announce(self.announce_hostnames).as_bytes());
                    o.bulk_i64(a.port as i64);
                }
            },
            "failover" => {
                let m = self.master_or_err(&argv[2])?;
                if self.masters[m].ri.has(sri::FAILOVER_IN_PROGRESS) {
                    return Err("INPROG Failover already in progress".into());
                }
                if self.select_slave(m).is_none() {
                    return Err("NOGOODSLAVE No suitable replica to promote".into());
                }
                log::warn!(
                    "Executing user requested FAILOVER of '{}'",
                    self.masters[m].ri.name
                );
                self.start_failover(m);
                self.masters[m].ri.flags |= sri::FORCE_FAILOVER;
                o.ok();
            }
            "pending-scripts" => self.reply_pending_scripts(o),
            "monitor" => self.monitor_command(env, argv, o)?,
            "flushconfig" => self.flush_and_reply(env, o)?,
            "remove" => {
                let m = self.master_or_err(&argv[2])?;
                let at = self.at(m, Which::Master);
                self.event(Level::Warning, "-monitor", Some(m), at);
                let master = self.masters.remove(m);
                self.release_master(master);
                self.flush_and_reply(env, o)?;
            }
            "ckquorum" => {
                let m = self.master_or_err(&argv[2])?;
                let (noquorum, noauth, usable) = self.is_quorum_reachable(m);
                if !noquorum && !noauth {
                    o.raw(
                        format!(
                            "+OK {usable} usable Sentinels. Quorum and failover authorization can be reached\r\n"
                        )
                        .as_bytes(),
                    );
                } else {
                    let mut e = format!("NOQUORUM {usable} usable Sentinels. ");
                    if noquorum {
                        e.push_str("Not enough available Sentinels to reach the specified quorum for this master");
                    }
                    if noauth {
                        if noquorum {
                            e.push_str(". ");
                        }
                        e.push_str("Not enough available Sentinels to reach the majority and authorize a failover");
                    }
                    return Err(CmdError::msg(e));
                }
            }
            "set" => self.set_command(env, argv, o)?,
            "config" => {
                if eq_ic(&argv[2], "set") && argv.len() == 5 {
                    self.config_set_command(env, argv, o)?;
                } else if eq_ic(&argv[2], "get") && argv.len() == 4 {
                    self.config_get_command(argv, o);
                } else {
                    return Err(
                        "ERR Only SENTINEL CONFIG GET <option> / SET <option> <value> are supported.".into(),
                    );
                }
            }
            "info-cache" => self.info_cache(argv, o),
            "simulate-failure" => self.simulate_failure(argv, o)?,
            "debug" => {
                if argv.len() == 2 {
                    self.reply_debug_info(o);
                } else {
                    self.debug_set(argv, o)?;
                }
            }
            _ => return Err(error::unknown_subcommand(&argv[1], "SENTINEL")),
        }
        Ok(())
    }

    pub(crate) fn master_or_err(&self, name: &[u8]) -> Result<usize, CmdError> {
        self.master_by_name(name)
            .ok_or_else(|| NO_SUCH_MASTER.into())
    }

    /// Writes the config; "OK" or the error Redis gives when it fails.
    pub(crate) fn flush_and_reply(&mut self, env: &Env<'_>, o: &mut Out<'_>) -> R {
        match self.flush_config(env.cfg) {
            Ok(()) => {
                o.ok();
                Ok(())
            }
            Err(_) => Err("ERR Failed to save config file. Check server logs.".into()),
        }
    }

    /// SENTINEL MONITOR <name> <ip> <port> <quorum>.
    fn monitor_command(&mut self, env: &Env<'_>, argv: &[Bytes], o: &mut Out<'_>) -> R {
        let quorum = arg_long(&argv[5], Some("Invalid quorum"))?;
        let port = arg_long(&argv[4], Some("Invalid port"))?;
        if quorum <= 0 {
            return Err("ERR Quorum must be 1 or greater.".into());
        }
        let host = String::from_utf8_lossy(&argv[3]).into_owned();
        if super::addr::resolve(&host, self.resolve_hostnames).is_none() {
            return Err("ERR Invalid IP address or hostname specified".into());
        }
        let name = String::from_utf8_lossy(&argv[2]).into_owned();
        let quorum = u32::try_from(quorum).unwrap_or(u32::MAX);
        match self.create_master(&name, &host, port, quorum) {
            Err(e) => Err(CmdError::msg(format!(
                "ERR {}",
                create_error(e, sri::MASTER)
            ))),
            Ok(m) => {
                let r = self.flush_and_reply(env, o);
                let at = self.at(m, Which::Master);
                self.event(
                    Level::Warning,
                    "+monitor",
                    Some(m),
                    format!("{at} quorum {quorum}"),
                );
                r
            }
        }
    }

    /// sentinelIsQuorumReachable: (no quorum, no majority, usable count).
    fn is_quorum_reachable(&self, m: usize) -> (bool, bool, usize) {
        let master = &self.masters[m];
        let voters = master.sentinels.len() + 1;
        let usable = 1 + master
            .sentinels
            .iter()
            .filter(|s| !s.has(sri::S_DOWN | sri::O_DOWN))
            .count();
        (
            usable < master.ri.quorum as usize,
            usable < voters / 2 + 1,
            usable,
        )
    }

    /// SENTINEL IS-MASTER-DOWN-BY-ADDR <ip> <port> <current-epoch> <runid>:
    /// our view of the master, and our vote when `runid` is not "*".
    fn is_master_down_by_addr(&mut self, argv: &[Bytes], o: &mut Out<'_>) -> R {
        let port = arg_long(&argv[3], None)?;
        let req_epoch = arg_long(&argv[4], None)?;
        let host = String::from_utf8_lossy(&argv[2]).into_owned();
        let m = self.master_by_addr(&host, port);
        let isdown = !self.tilt && m.is_some_and(|m| self.masters[m].ri.has(sri::S_DOWN));
        let mut leader = None;
        let mut leader_epoch = 0;
        if let Some(m) = m {
            if argv[5].as_ref() != b"*" {
                let runid = String::from_utf8_lossy(&argv[5]).into_owned();
                (leader, leader_epoch) = self.vote_leader(m, req_epoch as u64, &runid);
            }
        }
        o.array(3);
        o.int(isdown as i64);
        o.bulk(leader.as_deref().unwrap_or("*").as_bytes());
        o.int(leader_epoch as i64);
        Ok(())
    }

    /// addReplySentinelRedisInstance: one instance as a map.
    fn reply_instance(&self, o: &mut Out<'_>, m: usize, w: Which) {
        let now = crate::util::mstime();
        let ri: &Instance = self.masters[m].get(w);
        let Some(l) = self.links.get(ri.link) else {
            o.map(0);
            return;
        };
        let mut fields: Vec<(&str, Vec<u8>)> = Vec::with_capacity(32);
        let num = |n: i64| n.to_string().into_bytes();
        fields.push(("name", ri.name.clone().into_bytes()));
        fields.push((
            "ip",
            ri.addr
                .announce(self.announce_hostnames)
                .as_bytes()
                .to_vec(),
        ));
        fields.push(("port", num(ri.addr.port as i64)));
        fields.push(("runid", ri.runid.clone().unwrap_or_default().into_bytes()));
        let mut flags: Vec<&str> = Vec::new();
        for (f, n) in [
            (sri::S_DOWN, "s_down"),
            (sri::O_DOWN, "o_down"),
            (sri::MASTER, "master"),
            (sri::SLAVE, "slave"),
            (sri::SENTINEL, "sentinel"),
        ] {
            if ri.has(f) {
                flags.push(n);
            }
        }
        if l.disconnected {
            flags.push("disconnected");
        }
        for (f, n) in [
            (sri::MASTER_DOWN, "master_down"),
            (sri::FAILOVER_IN_PROGRESS, "failover_in_progress"),
            (sri::PROMOTED, "promoted"),
            (sri::RECONF_SENT, "reconf_sent"),
            (sri::RECONF_INPROG, "reconf_inprog"),
            (sri::RECONF_DONE, "reconf_done"),
            (sri::FORCE_FAILOVER, "force_failover"),
            (sri::SCRIPT_KILL_SENT, "script_kill_sent"),
        ] {
            if ri.has(f) {
                flags.push(n);
            }
        }
        fields.push(("flags", flags.join(",").into_bytes()));
        fields.push(("link-pending-commands", num(l.pending_commands)));
        fields.push(("link-refcount", num(l.refcount as i64)));
        if ri.has(sri::FAILOVER_IN_PROGRESS) {
            fields.push((
                "failover-state",
                ri.failover_state.name().as_bytes().to_vec(),
            ));
        }
        let since = |t: i64| if t != 0 { now - t } else { 0 };
        fields.push(("last-ping-sent", num(since(l.act_ping_time))));
        fields.push(("last-ok-ping-reply", num(now - l.last_avail_time)));
        fields.push(("last-ping-reply", num(now - l.last_pong_time)));
        if ri.has(sri::S_DOWN) {
            fields.push(("s-down-time", num(now - ri.s_down_since_time)));
        }
        if ri.has(sri::O_DOWN) {
            fields.push(("o-down-time", num(now - ri.o_down_since_time)));
        }
        fields.push(("down-after-milliseconds", num(ri.down_after_period)));
        if ri.has(sri::MASTER | sri::SLAVE) {
            fields.push(("info-refresh", num(since(ri.info_refresh))));
            let role = if ri.role_reported == sri::MASTER {
                "master"
            } else {
                "slave"
            };
            fields.push(("role-reported", role.as_bytes().to_vec()));
            fields.push(("role-reported-time", num(now - ri.role_reported_time)));
        }
        if ri.has(sri::MASTER) {
            let master = &self.masters[m];
            fields.push(("config-epoch", num(ri.config_epoch as i64)));
            fields.push(("num-slaves", num(master.slaves.len() as i64)));
            fields.push(("num-other-sentinels", num(master.sentinels.len() as i64)));
            fields.push(("quorum", num(ri.quorum as i64)));
            fields.push(("failover-timeout", num(ri.failover_timeout)));
            fields.push(("parallel-syncs", num(ri.parallel_syncs)));
            if let Some(s) = &ri.notification_script {
                fields.push(("notification-script", s.clone().into_bytes()));
            }
            if let Some(s) = &ri.client_reconfig_script {
                fields.push(("client-reconfig-script", s.clone().into_bytes()));
            }
        }
        if ri.has(sri::SLAVE) {
            fields.push(("master-link-down-time", num(ri.master_link_down_time)));
            let st = if ri.slave_master_link_up { "ok" } else { "err" };
            fields.push(("master-link-status", st.as_bytes().to_vec()));
            fields.push((
                "master-host",
                ri.slave_master_host
                    .clone()
                    .unwrap_or_else(|| "?".into())
                    .into_bytes(),
            ));
            fields.push(("master-port", num(ri.slave_master_port)));
            fields.push(("slave-priority", num(ri.slave_priority)));
            fields.push(("slave-repl-offset", num(ri.slave_repl_offset as i64)));
            fields.push(("replica-announced", num(ri.replica_announced)));
        }
        if ri.has(sri::SENTINEL) {
            fields.push(("last-hello-message", num(now - ri.last_hello_time)));
            fields.push((
                "voted-leader",
                ri.leader.clone().unwrap_or_else(|| "?".into()).into_bytes(),
            ));
            fields.push(("voted-leader-epoch", num(ri.leader_epoch as i64)));
        }
        o.map(fields.len());
        for (k, v) in fields {
            o.bulk(k.as_bytes());
            o.bulk(&v);
        }
    }

    /// addReplyDictOfRedisInstances (replicas that asked not to be
    /// announced are left out).
    fn reply_instances(&self, o: &mut Out<'_>, list: &[(usize, Which)]) {
        let shown: Vec<&(usize, Which)> = list
            .iter()
            .filter(|(m, w)| {
                let ri = self.masters[*m].get(*w);
                !(ri.has(sri::SLAVE) && ri.replica_announced == 0)
            })
            .collect();
        o.array(shown.len());
        for &&(m, w) in &shown {
            self.reply_instance(o, m, w);
        }
    }

    /// SENTINEL PENDING-SCRIPTS.
    fn reply_pending_scripts(&self, o: &mut Out<'_>) {
        let now = crate::util::mstime();
        o.array(self.scripts.queue.len());
        for j in &self.scripts.queue {
            o.map(5);
            o.bulk(b"argv");
            o.array(j.argv.len());
            for a in &j.argv {
                o.bulk(a.as_bytes());
            }
            o.bulk(b"flags");
            o.bulk(if j.running { b"running" } else { b"scheduled" });
            o.bulk(b"pid");
            o.bulk_i64(j.pid as i64);
            if j.running {
                o.bulk(b"run-time");
                o.bulk_i64(now - j.start_time);
            } else {
                let delay = if j.start_time != 0 {
                    (j.start_time - now).max(0)
                } else {
                    0
                };
                o.bulk(b"run-delay");
                o.bulk_i64(delay);
            }
            o.bulk(b"retry-num");
            o.bulk_i64(j.retry_num as i64);
        }
    }

    /// SENTINEL INFO-CACHE [<master-name> ...]: the last INFO of each
    /// master and of its replicas, with its age.
    fn info_cache(&self, argv: &[Bytes], o: &mut Out<'_>) {
        let now = crate::util::mstime();
        let ms: Vec<usize> = if argv.len() > 2 {
            let mut v = Vec::new();
            for name in &argv[2..] {
                if let Some(m) = self.master_by_name(name) {
                    if !v.contains(&m) {
                        v.push(m);
                    }
                }
            }
            v
        } else {
            (0..self.masters.len()).collect()
        };
        o.array(ms.len() * 2);
        for m in ms {
            let master = &self.masters[m];
            o.bulk(master.ri.name.as_bytes());
            o.array(master.slaves.len() + 1);
            // Redis tests the master's refresh time for the replicas too.
            let age = |ri: &Instance| {
                if master.ri.info_refresh != 0 {
                    now - ri.info_refresh
                } else {
                    0
                }
            };
            for ri in std::iter::once(&master.ri).chain(master.slaves.iter()) {
                o.array(2);
                o.int(age(ri));
                match &ri.info {
                    Some(i) => o.bulk(i.as_bytes()),
                    None => o.null(),
                }
            }
        }
    }

    /// The "# Sentinel" section of INFO.
    pub fn info_section(&self) -> String {
        let now = crate::util::mstime();
        let mut s = format!(
            "# Sentinel\r\nsentinel_masters:{}\r\nsentinel_tilt:{}\r\nsentinel_tilt_since_seconds:{}\r\nsentinel_running_scripts:{}\r\nsentinel_scripts_queue_length:{}\r\nsentinel_simulate_failure_flags:{}\r\n",
            self.masters.len(),
            self.tilt as i32,
            if self.tilt { (now - self.tilt_start_time) / 1000 } else { -1 },
            self.scripts.running,
            self.scripts.queue.len(),
            self.simfailure_flags
        );
        for (i, m) in self.masters.iter().enumerate() {
            let ri = &m.ri;
            let status = if ri.has(sri::O_DOWN) {
                "odown"
            } else if ri.has(sri::S_DOWN) {
                "sdown"
            } else {
                "ok"
            };
            s.push_str(&format!(
                "master{i}:name={},status={status},address={}:{},slaves={},sentinels={}\r\n",
                ri.name,
                ri.addr.announce(self.announce_hostnames),
                ri.addr.port,
                m.slaves.len(),
                m.sentinels.len() + 1
            ));
        }
        s
    }

    /// ROLE: "sentinel" and the names of the masters.
    pub fn role_reply(&self, o: &mut Out<'_>) {
        o.array(2);
        o.bulk(b"sentinel");
        o.array(self.masters.len());
        for m in &self.masters {
            o.bulk(m.ri.name.as_bytes());
        }
    }

    /// PUBLISH as a Sentinel: only hello messages, which are processed.
    pub fn publish_command(&mut self, env: &Env<'_>, argv: &[Bytes], o: &mut Out<'_>) -> R {
        if argv[1].as_ref() != super::HELLO_CHANNEL.as_bytes() {
            return Err("ERR Only HELLO messages are accepted by Sentinel instances.".into());
        }
        self.process_hello(&argv[2]);
        o.int(1);
        self.end_of_call(env);
        Ok(())
    }
}
