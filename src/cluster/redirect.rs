//! Which node serves a command (Redis's getNodeByQuery): every key of the
//! command (or of a transaction's commands) must hash to one slot; that
//! slot's owner serves it, with ASK/TRYAGAIN while the slot is migrating or
//! importing, READONLY reads on replicas, and CLUSTERDOWN when the cluster
//! is down. Also READONLY/READWRITE/ASKING and unblocking clients whose
//! keys moved away.

use super::node::NodeId;
use crate::cmd::meta::{self, KeyRef};
use crate::cmd::{self, CommandSpec};
use crate::error::CmdError;
use crate::net::flags;
use crate::server::Server;
use bytes::Bytes;

/// Why a command cannot run here (clusterRedirectClient's cases).
#[derive(Debug, PartialEq, Eq)]
pub enum Redirect {
    CrossSlot,
    Unstable,
    DownState,
    DownRoState,
    DownUnbound,
    Moved(usize, NodeId),
    Ask(usize, NodeId),
}

/// Calls `f` with the index of each key argument of `argv` (channels for
/// the sharded Pub/Sub commands), found as Redis 7.0's getNodeByQuery finds
/// them: getKeysFromCommand (the command's getkeys proc, else its legacy key
/// range), for the subcommand when `argv` names one (MEMORY USAGE).
/// `keys` is scratch space.
pub fn for_each_key(argv: &[Bytes], keys: &mut Vec<KeyRef>, mut f: impl FnMut(usize)) {
    let Some(m) = meta::resolve(argv) else {
        return;
    };
    meta::legacy_keys(m, argv, keys);
    for k in keys.iter() {
        f(k.pos);
    }
}

fn is_pubsubshard(spec: &CommandSpec) -> bool {
    matches!(spec.name, "ssubscribe" | "sunsubscribe" | "spublish")
}

impl Server {
    /// getNodeByQuery for client `key` running `spec argv` (or, for EXEC,
    /// its queued commands). Ok: serve it here.
    pub fn cluster_check_query(
        &mut self,
        key: usize,
        spec: &CommandSpec,
        argv: &[Bytes],
    ) -> Result<(), Redirect> {
        let Some(cl) = self.cluster.as_deref() else {
            return Ok(());
        };
        let Some(c) = self.clients.get(key) else {
            return Ok(());
        };
        let is_exec = spec.name == "exec";
        if is_exec && !c.has(flags::MULTI) {
            return Ok(());
        }
        let st = &cl.st;
        let me = st.myself;
        let mut first: Option<&[u8]> = None;
        let mut slot = 0usize;
        let mut owner: Option<NodeId> = None;
        let (mut migrating, mut importing, mut multiple) = (false, false, false);
        let (mut missing, mut existing) = (0usize, 0usize);
        let mut err: Option<Redirect> = None;
        let pubsubshard = is_pubsubshard(spec);
        let mut write_in_multi = false;
        let single: [&[Bytes]; 1] = [argv];
        let queued: Vec<&[Bytes]> = if is_exec {
            c.mstate.iter().map(|v| v.as_slice()).collect()
        } else {
            Vec::new()
        };
        let cmds: &[&[Bytes]] = if is_exec { &queued } else { &single };
        let db0 = &self.ks.dbs[0];
        let now = self.ks.now_ms;
        let mut keys = std::mem::take(&mut self.acl_keys);
        for &margv in cmds {
            let Some(mspec) = (if is_exec {
                cmd::table::lookup_cmd(margv)
            } else {
                Some(spec)
            }) else {
                continue;
            };
            if mspec.has(cmd::flag::WRITE) {
                write_in_multi = true;
            }
            for_each_key(margv, &mut keys, |i| {
                if err.is_some() {
                    return;
                }
                let k: &[u8] = &margv[i];
                let ks = super::key_hash_slot(k);
                match first {
                    None => {
                        first = Some(k);
                        slot = ks;
                        owner = st.slots[ks];
                        match owner {
                            None => {
                                err = Some(Redirect::DownUnbound);
                                return;
                            }
                            Some(n) if n == me && st.migrating_to[ks].is_some() => migrating = true,
                            _ => {
                                if st.importing_from[ks].is_some() {
                                    importing = true;
                                }
                            }
                        }
                    }
                    Some(f) => {
                        if f != k {
                            if ks != slot {
                                err = Some(Redirect::CrossSlot);
                                return;
                            }
                            multiple = true;
                        }
                    }
                }
                if (migrating || importing) && !pubsubshard {
                    let live =
                        db0.dict.contains_key(k) && db0.get_expire(k).is_none_or(|t| t > now);
                    if live {
                        existing += 1;
                    } else {
                        missing += 1;
                    }
                }
            });
            if err.is_some() {
                break;
            }
        }
        self.acl_keys = keys;
        if let Some(e) = err {
            return Err(e);
        }
        let Some(n) = owner else {
            return Ok(());
        };
        if !st.state_ok {
            if pubsubshard {
                if !cl.cfg.allow_pubsubshard_when_down {
                    return Err(Redirect::DownState);
                }
            } else if !cl.cfg.allow_reads_when_down {
                return Err(Redirect::DownState);
            } else if spec.has(cmd::flag::WRITE) || (is_exec && write_in_multi) {
                return Err(Redirect::DownRoState);
            }
        }
        if (migrating || importing) && spec.name == "migrate" {
            return Ok(());
        }
        if migrating && missing > 0 {
            if existing > 0 {
                return Err(Redirect::Unstable);
            }
            return match st.migrating_to[slot] {
                Some(t) => Err(Redirect::Ask(slot, t)),
                None => Ok(()),
            };
        }
        let asking = c.has(flags::ASKING) || spec.has(cmd::flag::ASKING);
        if importing && asking {
            if multiple && missing > 0 {
                return Err(Redirect::Unstable);
            }
            return Ok(());
        }
        let is_write = spec.has(cmd::flag::WRITE) || (is_exec && write_in_multi);
        if (c.has(flags::READONLY) || pubsubshard)
            && !is_write
            && st.me().is_slave()
            && st.me().slaveof == Some(n)
        {
            return Ok(());
        }
        if n != me {
            return Err(Redirect::Moved(slot, n));
        }
        Ok(())
    }

    /// The slot of a command's first key, if it has keys.
    pub fn cluster_query_slot(&mut self, argv: &[Bytes]) -> Option<usize> {
        let mut slot = None;
        let mut keys = std::mem::take(&mut self.acl_keys);
        for_each_key(argv, &mut keys, |i| {
            if slot.is_none() {
                slot = Some(super::key_hash_slot(&argv[i]));
            }
        });
        self.acl_keys = keys;
        slot
    }

    /// scriptVerifyClusterState: a command run by a script (redis.call)
    /// must be served here, and (unless the script allows cross-slot keys)
    /// hash to the slot of the script's earlier keys, `script_slot`. The
    /// caller `key` is the client running the script. Err: the script
    /// error text, as Redis 7.0 words it.
    pub fn cluster_script_check(
        &mut self,
        key: usize,
        spec: &CommandSpec,
        argv: &[Bytes],
        script_slot: &mut Option<usize>,
        allow_cross_slot: bool,
    ) -> Result<(), String> {
        if self.cluster.is_none() {
            return Ok(());
        }
        if let Err(r) = self.cluster_check_query(key, spec, argv) {
            return Err(match r {
                Redirect::DownRoState => "Script attempted to execute a write command while the cluster is down and readonly".into(),
                Redirect::DownState => "Script attempted to execute a command while the cluster is down".into(),
                _ => "Script attempted to access a non local key in a cluster node script".into(),
            });
        }
        let Some(slot) = self.cluster_query_slot(argv) else {
            return Ok(());
        };
        if !allow_cross_slot {
            match script_slot {
                None => *script_slot = Some(slot),
                Some(s) if *s != slot => {
                    return Err(
                        "Script attempted to access keys that do not hash to the same slot".into(),
                    )
                }
                Some(_) => {}
            }
        }
        Ok(())
    }

    /// The error line for a redirection (clusterRedirectClient).
    pub fn cluster_redirect_error(&self, r: &Redirect) -> CmdError {
        let text = match r {
            Redirect::CrossSlot => {
                "CROSSSLOT Keys in request don't hash to the same slot".to_string()
            }
            Redirect::Unstable => {
                "TRYAGAIN Multiple keys request during rehashing of slot".to_string()
            }
            Redirect::DownState => "CLUSTERDOWN The cluster is down".to_string(),
            Redirect::DownRoState => {
                "CLUSTERDOWN The cluster is down and only accepts read commands".to_string()
            }
            Redirect::DownUnbound => "CLUSTERDOWN Hash slot not served".to_string(),
            Redirect::Moved(slot, n) | Redirect::Ask(slot, n) => {
                let word = if matches!(r, Redirect::Ask(..)) {
                    "ASK"
                } else {
                    "MOVED"
                };
                let (ep, port) = self.cluster_endpoint(*n);
                format!("{word} {slot} {ep}:{port}")
            }
        };
        CmdError::msg(text)
    }

    /// A node's preferred endpoint and client port.
    pub fn cluster_endpoint(&self, n: NodeId) -> (String, u16) {
        let Some(cl) = self.cluster.as_deref() else {
            return (String::new(), 0);
        };
        let node = &cl.st.nodes[n];
        let ep = match cl.cfg.preferred_endpoint {
            super::Endpoint::Ip => node.ip.clone(),
            super::Endpoint::Hostname if !node.hostname.is_empty() => node.hostname.clone(),
            super::Endpoint::Hostname => "?".into(),
            super::Endpoint::Unknown => String::new(),
        };
        (ep, node.port)
    }

    /// After a command: ASKING lasts one command (outside MULTI).
    pub fn cluster_reset_asking(&mut self, key: usize, argv: &[Bytes]) {
        if let Some(c) = self.clients.get_mut(key) {
            // The command's own name (rename-command may have changed
            // what the client typed), as Redis compares the command proc.
            if c.has(flags::ASKING)
                && !c.has(flags::MULTI)
                && !matches!(cmd::table::lookup_argv(argv), cmd::table::Lookup::Found(s) if s.name == "asking")
            {
                c.flags &= !flags::ASKING;
            }
        }
    }

    /// ASKING, READONLY, READWRITE.
    pub fn cmd_cluster_client_flag(&mut self, key: usize, which: &str) -> Result<(), CmdError> {
        if self.cluster.is_none() {
            return Err("ERR This instance has cluster support disabled".into());
        }
        if let Some(c) = self.clients.get_mut(key) {
            match which {
                "asking" => c.flags |= flags::ASKING,
                "readonly" => c.flags |= flags::READONLY,
                _ => c.flags &= !flags::READONLY,
            }
        }
        self.reply_ok(key);
        Ok(())
    }

    /// clusterRedirectBlockedClientIfNeeded for every blocked client.
    pub fn cluster_redirect_blocked_clients(&mut self) {
        let Some(cl) = self.cluster.as_deref() else {
            return;
        };
        let st = &cl.st;
        let mut errs: Vec<(usize, Redirect)> = Vec::new();
        for (k, b) in self.clients.blocked_clients() {
            let Some(c) = self.clients.get(k) else {
                continue;
            };
            if !st.state_ok {
                errs.push((k, Redirect::DownState));
                continue;
            }
            let Some(key) = b.keys.first() else {
                continue;
            };
            let slot = super::key_hash_slot(key.as_bytes());
            let mut node = st.slots[slot];
            if c.has(flags::READONLY)
                && !b.cmd.has(cmd::flag::WRITE)
                && st.me().is_slave()
                && st.me().slaveof == node
            {
                node = Some(st.myself);
            }
            if node != Some(st.myself) && st.importing_from[slot].is_none() {
                errs.push((
                    k,
                    node.map_or(Redirect::DownUnbound, |n| Redirect::Moved(slot, n)),
                ));
            }
        }
        for (k, r) in errs {
            let e = self.cluster_redirect_error(&r);
            if self.blocking_remove(k).is_some() {
                self.reply_error(k, &e);
                self.mark_pending_write(k);
                if let Some(c) = self.clients.get(k) {
                    if !c.query.is_empty() {
                        self.process_input(k);
                    }
                }
            }
        }
    }
}
