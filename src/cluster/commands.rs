//! CLUSTER subcommands that change or query the configuration: MEET,
//! FORGET, RESET, SAVECONFIG, ADDSLOTS[RANGE], DELSLOTS[RANGE], FLUSHSLOTS,
//! SETSLOT, REPLICATE, FAILOVER, BUMPEPOCH, SET-CONFIG-EPOCH, KEYSLOT,
//! COUNTKEYSINSLOT, GETKEYSINSLOT, COUNT-FAILURE-REPORTS. The reports
//! (NODES, SLOTS, SHARDS, INFO, LINKS, REPLICAS, MYID, HELP) are in
//! `commands_info`. Error texts are Redis 7.0's.

use super::codec::{nflag, ty};
use super::node::NodeId;
use super::state::{todo, MF_TIMEOUT};
use super::SLOTS;
use crate::cmd::eq_ic;
use crate::error::{self, CmdError};
use crate::server::Server;
use bytes::Bytes;

type R = Result<(), CmdError>;

/// Arity of each subcommand, as Redis 7.0's command table.
const ARITY: &[(&str, i32)] = &[
    ("addslots", -3),
    ("addslotsrange", -4),
    ("bumpepoch", 2),
    ("count-failure-reports", 3),
    ("countkeysinslot", 3),
    ("delslots", -3),
    ("delslotsrange", -4),
    ("failover", -2),
    ("flushslots", 2),
    ("forget", 3),
    ("getkeysinslot", 4),
    ("help", 2),
    ("info", 2),
    ("keyslot", 3),
    ("links", 2),
    ("meet", -4),
    ("myid", 2),
    ("nodes", 2),
    ("replicas", 3),
    ("replicate", 3),
    ("reset", -2),
    ("saveconfig", 2),
    ("set-config-epoch", 3),
    ("setslot", -4),
    ("shards", 2),
    ("slaves", 3),
    ("slots", 2),
];

fn slot_arg(a: &[u8]) -> Result<usize, CmdError> {
    crate::encoding::numbers::string2ll(a)
        .filter(|&s| (0..SLOTS as i64).contains(&s))
        .map(|s| s as usize)
        .ok_or_else(|| "ERR Invalid or out of range slot".into())
}

impl Server {
    pub fn cmd_cluster(&mut self, key: usize, argv: &[Bytes]) -> R {
        let sub = String::from_utf8_lossy(&argv[1]).to_ascii_lowercase();
        let Some(&(_, arity)) = ARITY.iter().find(|(n, _)| *n == sub) else {
            return Err(error::unknown_subcommand(&argv[1], "CLUSTER"));
        };
        let argc = argv.len() as i32;
        if (arity > 0 && argc != arity) || (arity < 0 && argc < -arity) {
            return Err(CmdError::msg(format!(
                "ERR wrong number of arguments for 'cluster|{sub}' command"
            )));
        }
        if self.cluster.is_none() {
            return Err("ERR This instance has cluster support disabled".into());
        }
        let n = argv.len();
        match sub.as_str() {
            "help" => self.cluster_help(key),
            "meet" if n == 4 || n == 5 => self.cluster_meet(key, argv),
            "nodes" => self.cluster_nodes(key),
            "myid" => {
                let id = self.cluster_me().name;
                self.reply(key, |o| o.bulk(&id));
                Ok(())
            }
            "slots" => self.cluster_slots(key),
            "shards" => self.cluster_shards(key),
            "links" => self.cluster_links(key),
            "info" => self.cluster_info_cmd(key),
            "replicas" | "slaves" => self.cluster_replicas(key, &argv[2]),
            "flushslots" => {
                if !self.ks.dbs[0].is_empty() {
                    return Err("ERR DB must be empty to perform CLUSTER FLUSHSLOTS.".into());
                }
                let cl = self.cluster_mut();
                let me = cl.st.myself;
                cl.st.del_node_slots(me);
                cl.st
                    .do_before_sleep(todo::UPDATE_STATE | todo::SAVE_CONFIG);
                self.reply_ok(key);
                Ok(())
            }
            "addslots" | "delslots" => {
                let mut ranges = Vec::new();
                for a in &argv[2..] {
                    let s = slot_arg(a)?;
                    ranges.push((s, s));
                }
                self.cluster_update_slots(key, &ranges, sub == "delslots")
            }
            "addslotsrange" | "delslotsrange" => {
                if argv.len() % 2 == 1 {
                    return Err(CmdError::msg(format!(
                        "ERR wrong number of arguments for 'cluster|{sub}' command"
                    )));
                }
                let mut ranges = Vec::new();
                for pair in argv[2..].chunks(2) {
                    let a = slot_arg(&pair[0])?;
                    let b = slot_arg(&pair[1])?;
                    if a > b {
                        return Err(CmdError::msg(format!(
                            "ERR start slot number {a} is greater than end slot number {b}"
                        )));
                    }
                    ranges.push((a, b));
                }
                self.cluster_update_slots(key, &ranges, sub == "delslotsrange")
            }
            "setslot" => self.cluster_setslot(key, argv),
            "bumpepoch" => {
                let cl = self.cluster_mut();
                let bumped = cl.st.bump_epoch_without_consensus();
                let line = format!(
                    "{} {}",
                    if bumped { "BUMPED" } else { "STILL" },
                    cl.st.me().config_epoch
                );
                self.reply(key, |o| o.simple(&line));
                Ok(())
            }
            "saveconfig" => match self.cluster_save_config(true) {
                Ok(()) => {
                    self.reply_ok(key);
                    Ok(())
                }
                Err(e) => Err(CmdError::msg(format!(
                    "ERR error saving the cluster node config: {e}"
                ))),
            },
            "keyslot" => {
                let s = super::key_hash_slot(&argv[2]);
                self.reply(key, |o| o.int(s as i64));
                Ok(())
            }
            "countkeysinslot" => {
                let s = crate::cmd::arg_i64(&argv[2])?;
                if !(0..SLOTS as i64).contains(&s) {
                    return Err("ERR Invalid slot".into());
                }
                let n = self.ks.count_keys_in_slot(s as usize);
                self.reply(key, |o| o.int(n as i64));
                Ok(())
            }
            "getkeysinslot" => {
                let s = crate::cmd::arg_i64(&argv[2])?;
                let max = crate::cmd::arg_i64(&argv[3])?;
                if !(0..SLOTS as i64).contains(&s) || max < 0 {
                    return Err("ERR Invalid slot or number of keys".into());
                }
                let keys = self.ks.keys_in_slot(s as usize, max as usize);
                self.reply(key, |o| {
                    o.array(keys.len());
                    for k in &keys {
                        o.bulk(k.as_bytes());
                    }
                });
                Ok(())
            }
            "forget" => self.cluster_forget(key, &argv[2]),
            "replicate" => self.cluster_replicate(key, &argv[2]),
            "count-failure-reports" => {
                let now = self.ks.now_ms;
                let cl = self.cluster_mut();
                let Some(id) = cl.st.lookup(&argv[2]) else {
                    return Err(unknown_node(&argv[2]));
                };
                let t = cl.cfg.node_timeout;
                let n = cl.st.failure_reports_count(id, t, now);
                self.reply(key, |o| o.int(n as i64));
                Ok(())
            }
            "failover" if n <= 3 => self.cluster_failover_cmd(key, argv),
            "set-config-epoch" => {
                let epoch = crate::cmd::arg_i64(&argv[2])?;
                let cl = self.cluster_mut();
                if epoch < 0 {
                    return Err(CmdError::msg(format!(
                        "ERR Invalid config epoch specified: {epoch}"
                    )));
                } else if cl.st.nodes.len() > 1 {
                    return Err("ERR The user can assign a config epoch only when the node does not know any other node.".into());
                } else if cl.st.me().config_epoch != 0 {
                    return Err("ERR Node config epoch is already non-zero".into());
                }
                cl.st.me_mut().config_epoch = epoch as u64;
                log::warn!("configEpoch set to {epoch} via CLUSTER SET-CONFIG-EPOCH");
                if cl.st.current_epoch < epoch as u64 {
                    cl.st.current_epoch = epoch as u64;
                }
                cl.st
                    .do_before_sleep(todo::UPDATE_STATE | todo::SAVE_CONFIG);
                self.reply_ok(key);
                Ok(())
            }
            "reset" if n <= 3 => {
                let hard = match argv.get(2) {
                    None => false,
                    Some(a) if eq_ic(a, "hard") => true,
                    Some(a) if eq_ic(a, "soft") => false,
                    Some(_) => return Err(error::SYNTAX.into()),
                };
                let db = self.clients.get(key).map_or(0, |c| c.db);
                if self.cluster_me().is_master() && !self.ks.dbs[db].is_empty() {
                    return Err(
                        "ERR CLUSTER RESET can't be called with master nodes containing keys"
                            .into(),
                    );
                }
                self.cluster_reset(hard);
                self.reply_ok(key);
                Ok(())
            }
            _ => Err(CmdError::msg(format!(
                "ERR unknown subcommand or wrong number of arguments for '{}'. Try CLUSTER HELP.",
                String::from_utf8_lossy(&argv[1])
            ))),
        }
    }

    /// verifyClusterConfigWithData: keys only in db 0, and every slot with
    /// keys either ours, imported, or (unassigned) taken. False: refuse to
    /// start.
    pub fn cluster_verify_config_with_data(&mut self) -> bool {
        if self.cluster_me().is_slave() {
            return true;
        }
        if self.ks.dbs.iter().skip(1).any(|d| !d.is_empty()) {
            return false;
        }
        let counts: Vec<bool> = (0..SLOTS)
            .map(|s| self.ks.count_keys_in_slot(s) > 0)
            .collect();
        let cl = self.cluster_mut();
        let me = cl.st.myself;
        let mut updated = false;
        for (s, _) in counts.iter().enumerate().filter(|(_, &c)| c) {
            if cl.st.slots[s] == Some(me) || cl.st.importing_from[s].is_some() {
                continue;
            }
            updated = true;
            match cl.st.slots[s] {
                None => {
                    log::warn!(
                        "I have keys for unassigned slot {s}. Taking responsibility for it."
                    );
                    cl.st.add_slot(me, s);
                }
                Some(o) => {
                    log::warn!("I have keys for slot {s}, but the slot is assigned to another node. Setting it to importing state.");
                    cl.st.importing_from[s] = Some(o);
                }
            }
        }
        if updated {
            self.cluster_save_config_or_die(true);
        }
        true
    }

    /// DEBUG DROP-CLUSTER-PACKET-FILTER <type>: ignore received bus
    /// messages of that type (-1: none), for tests.
    pub fn cluster_debug_drop_filter(&mut self, key: usize, t: &[u8]) -> R {
        let t = crate::cmd::arg_i64(t)?;
        if let Some(cl) = self.cluster.as_deref_mut() {
            cl.drop_packet_filter = t;
        }
        self.reply_ok(key);
        Ok(())
    }

    /// DEBUG CLUSTERLINK KILL to|from|all <node-id>.
    pub fn cluster_debug_kill_link(&mut self, key: usize, dir: &[u8], name: &[u8]) -> R {
        let Some(cl) = self.cluster.as_deref() else {
            return Err("ERR Debug option only available for cluster mode enabled setup!".into());
        };
        let Some(id) = cl.st.lookup(name) else {
            return Err(unknown_node(name));
        };
        let n = &cl.st.nodes[id];
        let links: Vec<usize> = if eq_ic(dir, "from") {
            n.inbound_link.into_iter().collect()
        } else if eq_ic(dir, "to") {
            n.link.into_iter().collect()
        } else if eq_ic(dir, "all") {
            n.link.into_iter().chain(n.inbound_link).collect()
        } else {
            return Err(CmdError::msg(format!(
                "ERR Unknown direction {}",
                String::from_utf8_lossy(dir)
            )));
        };
        self.cluster_free_links(links);
        self.reply_ok(key);
        Ok(())
    }

    pub fn cluster_mut(&mut self) -> &mut super::ClusterCtx {
        self.cluster
            .as_deref_mut()
            .expect("cluster mode checked by the caller")
    }

    pub fn cluster_me(&self) -> &super::node::Node {
        let cl = self
            .cluster
            .as_deref()
            .expect("cluster mode checked by the caller");
        cl.st.me()
    }

    fn cluster_meet(&mut self, key: usize, argv: &[Bytes]) -> R {
        let Some(port) = crate::encoding::numbers::string2ll(&argv[3]) else {
            return Err(CmdError::msg(format!(
                "ERR Invalid TCP base port specified: {}",
                String::from_utf8_lossy(&argv[3])
            )));
        };
        let cport = match argv.get(4) {
            Some(a) => crate::encoding::numbers::string2ll(a).ok_or_else(|| {
                CmdError::msg(format!(
                    "ERR Invalid TCP bus port specified: {}",
                    String::from_utf8_lossy(a)
                ))
            })?,
            None => port + super::PORT_INCR as i64,
        };
        let ip_arg = String::from_utf8_lossy(&argv[2]).into_owned();
        let invalid = || {
            CmdError::msg(format!(
                "ERR Invalid node address specified: {}:{}",
                ip_arg,
                String::from_utf8_lossy(&argv[3])
            ))
        };
        let ip: std::net::IpAddr = ip_arg.parse().map_err(|_| invalid())?;
        if !(1..=65535).contains(&port) || !(1..=65535).contains(&cport) {
            return Err(invalid());
        }
        let norm = super::process::ip_string(ip);
        let now = self.ks.now_ms;
        let cl = self.cluster_mut();
        if !cl
            .st
            .handshake_in_progress(&norm, port as u16, cport as u16)
        {
            let mut n = super::node::Node::new(
                super::node::random_name(),
                nflag::HANDSHAKE | nflag::MEET,
                now,
            );
            n.ip = norm;
            n.port = port as u16;
            n.cport = cport as u16;
            cl.st.add_node(n);
        }
        self.reply_ok(key);
        Ok(())
    }

    fn cluster_update_slots(&mut self, key: usize, ranges: &[(usize, usize)], del: bool) -> R {
        let cl = self.cluster_mut();
        let mut seen = vec![false; SLOTS];
        for &(a, b) in ranges {
            for s in a..=b {
                if del && cl.st.slots[s].is_none() {
                    return Err(CmdError::msg(format!("ERR Slot {s} is already unassigned")));
                } else if !del && cl.st.slots[s].is_some() {
                    return Err(CmdError::msg(format!("ERR Slot {s} is already busy")));
                }
                let Some(flag) = seen.get_mut(s) else {
                    continue;
                };
                if *flag {
                    return Err(CmdError::msg(format!(
                        "ERR Slot {s} specified multiple times"
                    )));
                }
                *flag = true;
            }
        }
        let me = cl.st.myself;
        for (s, _) in seen.iter().enumerate().filter(|(_, &x)| x) {
            cl.st.importing_from[s] = None;
            if del {
                cl.st.del_slot(s);
            } else {
                cl.st.add_slot(me, s);
            }
        }
        self.cluster_mut()
            .st
            .do_before_sleep(todo::UPDATE_STATE | todo::SAVE_CONFIG);
        self.reply_ok(key);
        Ok(())
    }

    fn cluster_setslot(&mut self, key: usize, argv: &[Bytes]) -> R {
        if self.cluster_me().is_slave() {
            return Err("ERR Please use SETSLOT only with masters.".into());
        }
        let slot = slot_arg(&argv[2])?;
        let action = &argv[3];
        let n = argv.len();
        let keys_in_slot = self.ks.count_keys_in_slot(slot);
        let cl = self.cluster_mut();
        let me = cl.st.myself;
        let lookup_master =
            |cl: &super::ClusterCtx, a: &[u8], unknown_fmt: bool| -> Result<NodeId, CmdError> {
                let Some(id) = cl.st.lookup(a) else {
                    let name = String::from_utf8_lossy(a);
                    return Err(CmdError::msg(if unknown_fmt {
                        format!("ERR Unknown node {name}")
                    } else {
                        format!("ERR I don't know about node {name}")
                    }));
                };
                if cl.st.nodes[id].is_slave() {
                    return Err("ERR Target node is not a master".into());
                }
                Ok(id)
            };
        if eq_ic(action, "migrating") && n == 5 {
            if cl.st.slots[slot] != Some(me) {
                return Err(CmdError::msg(format!(
                    "ERR I'm not the owner of hash slot {slot}"
                )));
            }
            let id = lookup_master(cl, &argv[4], false)?;
            cl.st.migrating_to[slot] = Some(id);
        } else if eq_ic(action, "importing") && n == 5 {
            if cl.st.slots[slot] == Some(me) {
                return Err(CmdError::msg(format!(
                    "ERR I'm already the owner of hash slot {slot}"
                )));
            }
            let id = lookup_master(cl, &argv[4], false)?;
            cl.st.importing_from[slot] = Some(id);
        } else if eq_ic(action, "stable") && n == 4 {
            cl.st.importing_from[slot] = None;
            cl.st.migrating_to[slot] = None;
        } else if eq_ic(action, "node") && n == 5 {
            let id = lookup_master(cl, &argv[4], true)?;
            if cl.st.slots[slot] == Some(me) && id != me && keys_in_slot != 0 {
                return Err(CmdError::msg(format!("ERR Can't assign hashslot {slot} to a different node while I still hold keys for this hash slot.")));
            }
            if keys_in_slot == 0 && cl.st.migrating_to[slot].is_some() {
                cl.st.migrating_to[slot] = None;
            }
            let was_mine = cl.st.slots[slot] == Some(me);
            cl.st.del_slot(slot);
            cl.st.add_slot(id, slot);
            let allow = cl.cfg.allow_replica_migration;
            if was_mine && id != me && cl.st.me().numslots == 0 && allow {
                log::warn!(
                    "Configuration change detected. Reconfiguring myself as a replica of {}",
                    cl.st.nodes[id].name_str()
                );
                self.cluster_set_master(id);
                self.cluster_mut()
                    .st
                    .do_before_sleep(todo::SAVE_CONFIG | todo::UPDATE_STATE | todo::FSYNC_CONFIG);
            }
            let cl = self.cluster_mut();
            if id == me && cl.st.importing_from[slot].is_some() {
                if cl.st.bump_epoch_without_consensus() {
                    log::warn!("configEpoch updated after importing slot {slot}");
                }
                cl.st.importing_from[slot] = None;
                self.cluster_broadcast_pong(false);
            }
        } else {
            return Err(
                "ERR Invalid CLUSTER SETSLOT action or number of arguments. Try CLUSTER HELP"
                    .into(),
            );
        }
        self.cluster_mut()
            .st
            .do_before_sleep(todo::SAVE_CONFIG | todo::UPDATE_STATE);
        self.reply_ok(key);
        Ok(())
    }

    fn cluster_forget(&mut self, key: usize, name: &[u8]) -> R {
        let now_s = self.ks.now_ms / 1000;
        let cl = self.cluster_mut();
        let Some(id) = cl.st.lookup(name) else {
            return Err(unknown_node(name));
        };
        let me = cl.st.myself;
        if id == me {
            return Err("ERR I tried hard but I can't forget myself...".into());
        }
        if cl.st.me().is_slave() && cl.st.me().slaveof == Some(id) {
            return Err("ERR Can't forget my master!".into());
        }
        let nm = cl.st.nodes[id].name;
        cl.st.blacklist_add(nm, now_s);
        let links = cl.st.del_node(id);
        cl.st
            .do_before_sleep(todo::UPDATE_STATE | todo::SAVE_CONFIG);
        self.cluster_free_links(links);
        self.reply_ok(key);
        Ok(())
    }

    fn cluster_replicate(&mut self, key: usize, name: &[u8]) -> R {
        let db0_empty = self.ks.dbs[0].is_empty();
        let cl = self.cluster_mut();
        let Some(id) = cl.st.lookup(name) else {
            return Err(unknown_node(name));
        };
        if id == cl.st.myself {
            return Err("ERR Can't replicate myself".into());
        }
        if cl.st.nodes[id].is_slave() {
            return Err("ERR I can only replicate a master, not a replica.".into());
        }
        if cl.st.me().is_master() && (cl.st.me().numslots != 0 || !db0_empty) {
            return Err(
                "ERR To set a master the node must be empty and without assigned slots.".into(),
            );
        }
        self.cluster_set_master(id);
        self.cluster_mut()
            .st
            .do_before_sleep(todo::UPDATE_STATE | todo::SAVE_CONFIG);
        self.reply_ok(key);
        Ok(())
    }

    fn cluster_failover_cmd(&mut self, key: usize, argv: &[Bytes]) -> R {
        let (mut force, mut takeover) = (false, false);
        if let Some(a) = argv.get(2) {
            if eq_ic(a, "force") {
                force = true;
            } else if eq_ic(a, "takeover") {
                takeover = true;
                force = true;
            } else {
                return Err(error::SYNTAX.into());
            }
        }
        let now = self.ks.now_ms;
        let cl = self.cluster_mut();
        if cl.st.me().is_master() {
            return Err("ERR You should send CLUSTER FAILOVER to a replica".into());
        }
        let Some(m) = cl.st.me().slaveof else {
            return Err("ERR I'm a replica but my master is unknown to me".into());
        };
        if !force && (cl.st.nodes[m].failed() || cl.st.nodes[m].link.is_none()) {
            return Err("ERR Master is down or failed, please use CLUSTER FAILOVER FORCE".into());
        }
        self.cluster_reset_manual_failover();
        let cl = self.cluster_mut();
        cl.st.mf_end = now + MF_TIMEOUT;
        if takeover {
            log::warn!("Taking over the master (user request).");
            cl.st.bump_epoch_without_consensus();
            self.cluster_failover_replace_master();
        } else if force {
            log::warn!("Forced failover user request accepted.");
            cl.st.mf_can_start = true;
        } else {
            log::warn!("Manual failover user request accepted.");
            self.cluster_send_empty(m, ty::MFSTART);
        }
        self.reply_ok(key);
        Ok(())
    }

    /// clusterReset: forget everything; a replica becomes an empty master.
    pub fn cluster_reset(&mut self, hard: bool) {
        if self.cluster_me().is_slave() {
            self.replication_unset_master();
            self.ks.signal_flushed(None);
            for d in &mut self.ks.dbs {
                d.clear();
            }
        }
        self.shard_unsubscribe_all_channels();
        let links = self.cluster_mut().st.reset(hard);
        self.cluster_free_links(links);
    }
}

pub fn unknown_node(name: &[u8]) -> CmdError {
    CmdError::msg(format!(
        "ERR Unknown node {}",
        String::from_utf8_lossy(name)
    ))
}
