//! The reporting CLUSTER subcommands (HELP, NODES, SLOTS, SHARDS, LINKS,
//! INFO, REPLICAS/SLAVES) and the `# Cluster` section of INFO, in Redis
//! 7.0's exact shapes.

use super::codec::{self, nflag};
use super::node::NodeId;
use super::SLOTS;
use crate::error::CmdError;
use crate::resp::Out;
use crate::server::Server;

type R = Result<(), CmdError>;

const HELP: &[&str] = &[
    "CLUSTER <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "ADDSLOTS <slot> [<slot> ...]",
    "    Assign slots to current node.",
    "ADDSLOTSRANGE <start slot> <end slot> [<start slot> <end slot> ...]",
    "    Assign slots which are between <start-slot> and <end-slot> to current node.",
    "BUMPEPOCH",
    "    Advance the cluster config epoch.",
    "COUNT-FAILURE-REPORTS <node-id>",
    "    Return number of failure reports for <node-id>.",
    "COUNTKEYSINSLOT <slot>",
    "    Return the number of keys in <slot>.",
    "DELSLOTS <slot> [<slot> ...]",
    "    Delete slots information from current node.",
    "DELSLOTSRANGE <start slot> <end slot> [<start slot> <end slot> ...]",
    "    Delete slots information which are between <start-slot> and <end-slot> from current node.",
    "FAILOVER [FORCE|TAKEOVER]",
    "    Promote current replica node to being a master.",
    "FORGET <node-id>",
    "    Remove a node from the cluster.",
    "GETKEYSINSLOT <slot> <count>",
    "    Return key names stored by current node in a slot.",
    "FLUSHSLOTS",
    "    Delete current node own slots information.",
    "INFO",
    "    Return information about the cluster.",
    "KEYSLOT <key>",
    "    Return the hash slot for <key>.",
    "MEET <ip> <port> [<bus-port>]",
    "    Connect nodes into a working cluster.",
    "MYID",
    "    Return the node id.",
    "NODES",
    "    Return cluster configuration seen by node. Output format:",
    "    <id> <ip:port> <flags> <master> <pings> <pongs> <epoch> <link> <slot> ...",
    "REPLICATE <node-id>",
    "    Configure current node as replica to <node-id>.",
    "RESET [HARD|SOFT]",
    "    Reset current node (default: soft).",
    "SET-CONFIG-EPOCH <epoch>",
    "    Set config epoch of current node.",
    "SETSLOT <slot> (IMPORTING <node-id>|MIGRATING <node-id>|STABLE|NODE <node-id>)",
    "    Set slot state.",
    "REPLICAS <node-id>",
    "    Return <node-id> replicas.",
    "SAVECONFIG",
    "    Force saving cluster configuration on disk.",
    "SLOTS",
    "    Return information about slots range mappings. Each range is made of:",
    "    start, end, master and replicas IP addresses, ports and ids",
    "SHARDS",
    "    Return information about slot range mappings and the nodes associated with them.",
    "LINKS",
    "    Return information about all network links between this node and its peers.",
    "    Output format is an array where each array element is a map containing attributes of a link",
    "HELP",
    "    Prints this help.",
];

impl Server {
    pub(super) fn cluster_help(&mut self, key: usize) -> R {
        self.reply_help(key, HELP);
        Ok(())
    }

    pub(super) fn cluster_nodes(&mut self, key: usize) -> R {
        let text = self.cluster_mut().st.nodes_description(0);
        self.reply(key, |o| o.verbatim(text.as_bytes()));
        Ok(())
    }

    pub(super) fn cluster_replicas(&mut self, key: usize, name: &[u8]) -> R {
        let cl = self.cluster_mut();
        let Some(id) = cl.st.lookup(name) else {
            return Err(super::commands::unknown_node(name));
        };
        if cl.st.nodes[id].is_slave() {
            return Err("ERR The specified node is not a master".into());
        }
        let lines: Vec<String> = cl.st.nodes[id]
            .slaves
            .iter()
            .map(|&s| {
                let mut l = String::new();
                cl.st.node_description(s, &mut l);
                l
            })
            .collect();
        self.reply(key, |o| {
            o.array(lines.len());
            for l in &lines {
                o.bulk(l.as_bytes());
            }
        });
        Ok(())
    }

    /// A replica listed by CLUSTER SLOTS: not failed and synced once.
    fn cluster_replica_available(&self, id: NodeId) -> bool {
        let cl = self.cluster.as_deref().expect("cluster mode");
        let n = &cl.st.nodes[id];
        if n.failed() {
            return false;
        }
        let off = if n.has(nflag::MYSELF) {
            self.cluster_my_offset()
        } else {
            n.repl_offset
        };
        off != 0
    }

    /// One node of CLUSTER SLOTS: endpoint, port, id, extra endpoints.
    fn cluster_node_reply(&self, o: &mut Out<'_>, id: NodeId) {
        let cl = self.cluster.as_deref().expect("cluster mode");
        let n = &cl.st.nodes[id];
        o.array(4);
        match cl.cfg.preferred_endpoint {
            super::Endpoint::Ip => o.bulk(n.ip.as_bytes()),
            super::Endpoint::Hostname => o.bulk(if n.hostname.is_empty() {
                b"?"
            } else {
                n.hostname.as_bytes()
            }),
            super::Endpoint::Unknown => o.null(),
        }
        o.int(n.port as i64);
        o.bulk(&n.name);
        let mut extra: Vec<(&str, &str)> = Vec::new();
        if cl.cfg.preferred_endpoint != super::Endpoint::Ip {
            extra.push(("ip", &n.ip));
        }
        if cl.cfg.preferred_endpoint != super::Endpoint::Hostname && !n.hostname.is_empty() {
            extra.push(("hostname", &n.hostname));
        }
        o.map(extra.len());
        for (k, v) in extra {
            o.bulk(k.as_bytes());
            o.bulk(v.as_bytes());
        }
    }

    pub(super) fn cluster_slots(&mut self, key: usize) -> R {
        let cl = self.cluster.as_deref().expect("cluster mode");
        let mut ranges: Vec<(usize, usize, NodeId)> = Vec::new();
        let mut start = 0;
        for s in 1..=SLOTS {
            let prev = cl.st.slots[s - 1];
            if s == SLOTS || cl.st.slots[s] != prev {
                if let Some(n) = prev {
                    ranges.push((start, s - 1, n));
                }
                start = s;
            }
        }
        let mut buf = Vec::new();
        let resp = self.clients.get(key).map_or(2, |c| c.resp);
        {
            let mut o = Out::new(&mut buf, resp);
            o.array(ranges.len());
            for &(a, b, n) in &ranges {
                let replicas: Vec<NodeId> = cl.st.nodes[n]
                    .slaves
                    .iter()
                    .copied()
                    .filter(|&r| self.cluster_replica_available(r))
                    .collect();
                o.array(3 + replicas.len());
                o.int(a as i64);
                o.int(b as i64);
                self.cluster_node_reply(&mut o, n);
                for r in replicas {
                    self.cluster_node_reply(&mut o, r);
                }
            }
        }
        self.reply(key, |o| o.raw(&buf));
        Ok(())
    }

    pub(super) fn cluster_shards(&mut self, key: usize) -> R {
        let my_offset = self.cluster_my_offset();
        let repl_offset = self.repl.master_repl_offset;
        let cl = self.cluster.as_deref().expect("cluster mode");
        let st = &cl.st;
        let mut buf = Vec::new();
        let resp = self.clients.get(key).map_or(2, |c| c.resp);
        {
            let mut o = Out::new(&mut buf, resp);
            let masters: Vec<NodeId> = st
                .nodes
                .iter()
                .filter(|(_, n)| n.is_master())
                .map(|(k, _)| k)
                .collect();
            o.array(masters.len());
            for m in masters {
                o.map(2);
                o.bulk(b"slots");
                let ranges = st.slot_ranges_of(m);
                o.array(ranges.len() * 2);
                for (a, b) in ranges {
                    o.int(a as i64);
                    o.int(b as i64);
                }
                o.bulk(b"nodes");
                let members = st.shard_of(m);
                o.array(members.len());
                for id in members {
                    let n = &st.nodes[id];
                    let has_host = !n.hostname.is_empty();
                    o.map(7 + usize::from(has_host));
                    o.bulk(b"id");
                    o.bulk(&n.name);
                    o.bulk(b"port");
                    o.int(n.port as i64);
                    o.bulk(b"ip");
                    o.bulk(n.ip.as_bytes());
                    o.bulk(b"endpoint");
                    let ep = match cl.cfg.preferred_endpoint {
                        super::Endpoint::Ip => n.ip.as_str(),
                        super::Endpoint::Hostname if has_host => n.hostname.as_str(),
                        super::Endpoint::Hostname => "?",
                        super::Endpoint::Unknown => "",
                    };
                    o.bulk(ep.as_bytes());
                    if has_host {
                        o.bulk(b"hostname");
                        o.bulk(n.hostname.as_bytes());
                    }
                    let off = if n.has(nflag::MYSELF) {
                        if n.is_slave() {
                            my_offset
                        } else {
                            repl_offset
                        }
                    } else {
                        n.repl_offset
                    };
                    o.bulk(b"role");
                    o.bulk(if n.is_slave() { b"replica" } else { b"master" });
                    o.bulk(b"replication-offset");
                    o.int(off);
                    o.bulk(b"health");
                    let health: &[u8] = if n.failed() {
                        b"fail"
                    } else if n.is_slave() && off == 0 {
                        b"loading"
                    } else {
                        b"online"
                    };
                    o.bulk(health);
                }
            }
        }
        self.reply(key, |o| o.raw(&buf));
        Ok(())
    }

    pub(super) fn cluster_links(&mut self, key: usize) -> R {
        let cl = self.cluster.as_deref().expect("cluster mode");
        let mut rows = Vec::new();
        for (_, n) in cl.st.nodes.iter() {
            for l in n.link.iter().chain(n.inbound_link.iter()) {
                if let Some(link) = cl.links.get(*l) {
                    rows.push((
                        link.inbound,
                        n.name,
                        link.ctime,
                        link.pending() > 0,
                        link.sndbuf.capacity(),
                        link.pending(),
                    ));
                }
            }
        }
        self.reply(key, |o| {
            o.array(rows.len());
            for (inbound, name, ctime, writing, alloc, used) in &rows {
                o.map(6);
                o.bulk(b"direction");
                o.bulk(if *inbound { b"from" } else { b"to" });
                o.bulk(b"node");
                o.bulk(name);
                o.bulk(b"create-time");
                o.int(*ctime);
                o.bulk(b"events");
                o.bulk(if *writing { b"rw" } else { b"r" });
                o.bulk(b"send-buffer-allocated");
                o.int(*alloc as i64);
                o.bulk(b"send-buffer-used");
                o.int(*used as i64);
            }
        });
        Ok(())
    }

    /// CLUSTER INFO's text.
    pub fn cluster_info_text(&self) -> String {
        use std::fmt::Write;
        let cl = self.cluster.as_deref().expect("cluster mode");
        let st = &cl.st;
        let (mut assigned, mut ok, mut pfail, mut fail) = (0, 0, 0, 0);
        for n in st.slots.iter().flatten() {
            assigned += 1;
            let n = &st.nodes[*n];
            if n.failed() {
                fail += 1;
            } else if n.timed_out() {
                pfail += 1;
            } else {
                ok += 1;
            }
        }
        let me = st.me();
        let myepoch = match me.slaveof {
            Some(m) if me.is_slave() => st.nodes[m].config_epoch,
            _ => me.config_epoch,
        };
        let mut s = format!(
            "cluster_state:{}\r\ncluster_slots_assigned:{assigned}\r\ncluster_slots_ok:{ok}\r\ncluster_slots_pfail:{pfail}\r\ncluster_slots_fail:{fail}\r\ncluster_known_nodes:{}\r\ncluster_size:{}\r\ncluster_current_epoch:{}\r\ncluster_my_epoch:{myepoch}\r\n",
            if st.state_ok { "ok" } else { "fail" },
            st.nodes.len(),
            st.size,
            st.current_epoch
        );
        let mut total = 0;
        for (t, &n) in st.stats_sent.iter().enumerate() {
            if n > 0 {
                total += n;
                let _ = write!(
                    s,
                    "cluster_stats_messages_{}_sent:{n}\r\n",
                    codec::type_name(t as u16)
                );
            }
        }
        let _ = write!(s, "cluster_stats_messages_sent:{total}\r\n");
        let mut total = 0;
        for (t, &n) in st.stats_received.iter().enumerate() {
            if n > 0 {
                total += n;
                let _ = write!(
                    s,
                    "cluster_stats_messages_{}_received:{n}\r\n",
                    codec::type_name(t as u16)
                );
            }
        }
        let _ = write!(s, "cluster_stats_messages_received:{total}\r\n");
        let _ = write!(
            s,
            "total_cluster_links_buffer_limit_exceeded:{}\r\n",
            st.stat_links_buffer_limit_exceeded
        );
        s
    }

    pub(super) fn cluster_info_cmd(&mut self, key: usize) -> R {
        let text = self.cluster_info_text();
        self.reply(key, |o| o.verbatim(text.as_bytes()));
        Ok(())
    }

    /// INFO's `# Cluster` section.
    pub fn info_cluster(&self, o: &mut String) {
        o.push_str(&format!(
            "# Cluster\r\ncluster_enabled:{}\r\n",
            u8::from(self.cluster.is_some())
        ));
    }
}
