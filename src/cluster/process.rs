//! What a received bus message does (Redis's clusterProcessPacket): epoch
//! and offset updates, the handshake (MEET, renaming a handshake node,
//! PONG from the wrong node), address changes, role switches, slot claims
//! and UPDATE messages, gossip (failure reports, new nodes), the hostname
//! extension, FAIL, PUBLISH, votes, MFSTART.

use super::codec::{self, mflag0, nflag, ty, Body, Ext, Gossip, Header, Msg};
use super::node::{LinkId, Node, NodeId};
use super::state::{todo, SlotsOutcome};
use crate::server::Server;
use bytes::Bytes;

impl Server {
    /// Processes one whole message from link `lid`; false when the link was
    /// freed while doing so.
    pub fn cluster_process_packet(&mut self, lid: LinkId, frame: &[u8]) -> bool {
        let now = self.ks.now_ms;
        let Some(cl) = self.cluster.as_deref_mut() else {
            return false;
        };
        if let Some(t) = codec::peek_type(frame) {
            if (t as usize) < ty::COUNT {
                cl.st.stats_received[t as usize] += 1;
            }
        }
        let msg = match codec::decode(frame) {
            Ok(m) => m,
            Err(e) => {
                log::warn!("{} Closing the cluster bus link.", e.0);
                self.cluster_free_link(lid);
                return false;
            }
        };
        if i64::from(msg.hdr.ty) == cl.drop_packet_filter {
            log::warn!("Dropping packet that matches debug drop filter");
            return true;
        }
        let Some(link) = cl.links.get(lid) else {
            return false;
        };
        let (inbound, link_node) = (link.inbound, link.node);
        let hdr = &msg.hdr;
        let t = hdr.ty;
        // The sender, once its name is known (getNodeFromLinkAndMsg).
        let sender = match link_node {
            Some(n) if !cl.st.nodes[n].in_handshake() => Some(n),
            _ => {
                let s = cl.st.lookup(&hdr.sender);
                if let (Some(s), None) = (s, link_node) {
                    cl.st.nodes[s].inbound_link = Some(lid);
                    if let Some(l) = cl.links.get_mut(lid) {
                        l.node = Some(s);
                    }
                }
                s
            }
        };
        let (mut sender_current_epoch, mut sender_config_epoch) = (0, 0);
        if let Some(s) = sender {
            cl.st.nodes[s].data_received = now;
            if !cl.st.nodes[s].in_handshake() {
                sender_current_epoch = hdr.current_epoch;
                sender_config_epoch = hdr.config_epoch;
                if sender_current_epoch > cl.st.current_epoch {
                    cl.st.current_epoch = sender_current_epoch;
                }
                if sender_config_epoch > cl.st.nodes[s].config_epoch {
                    cl.st.nodes[s].config_epoch = sender_config_epoch;
                    cl.st
                        .do_before_sleep(todo::SAVE_CONFIG | todo::FSYNC_CONFIG);
                }
                cl.st.nodes[s].repl_offset = hdr.offset as i64;
                cl.st.nodes[s].repl_offset_time = now;
                let me = cl.st.myself;
                if cl.st.mf_end != 0
                    && cl.st.nodes[me].is_slave()
                    && cl.st.nodes[me].slaveof == Some(s)
                    && hdr.mflags[0] & mflag0::PAUSED != 0
                    && cl.st.mf_master_offset == -1
                {
                    cl.st.mf_master_offset = hdr.offset as i64;
                    cl.st.do_before_sleep(todo::HANDLE_MANUALFAILOVER);
                    log::warn!(
                        "Received replication offset for paused master manual failover: {}",
                        cl.st.mf_master_offset
                    );
                }
            }
        }
        match t {
            ty::PING | ty::PONG | ty::MEET => self.cluster_process_ping(
                lid,
                &msg,
                sender,
                inbound,
                link_node,
                sender_config_epoch,
            ),
            ty::FAIL => {
                let Body::Fail { about } = &msg.body else {
                    return true;
                };
                let Some(cl) = self.cluster.as_deref_mut() else {
                    return false;
                };
                if sender.is_some() {
                    if let Some(f) = cl.st.lookup(about) {
                        if cl.st.nodes[f].flags & (nflag::FAIL | nflag::MYSELF) == 0 {
                            log::info!(
                                "FAIL message received from {} about {}",
                                String::from_utf8_lossy(&hdr.sender),
                                String::from_utf8_lossy(about)
                            );
                            let n = &mut cl.st.nodes[f];
                            n.flags |= nflag::FAIL;
                            n.fail_time = now;
                            n.flags &= !nflag::PFAIL;
                            cl.st
                                .do_before_sleep(todo::SAVE_CONFIG | todo::UPDATE_STATE);
                        }
                    }
                } else {
                    log::info!(
                        "Ignoring FAIL message from unknown node {} about {}",
                        String::from_utf8_lossy(&hdr.sender),
                        String::from_utf8_lossy(about)
                    );
                }
                true
            }
            ty::PUBLISH | ty::PUBLISHSHARD => {
                if sender.is_none() {
                    return true;
                }
                if let Body::Publish { channel, message } = &msg.body {
                    if t == ty::PUBLISH {
                        self.publish(channel, message);
                    } else {
                        self.shard_publish_local(channel, message);
                    }
                }
                true
            }
            ty::FAILOVER_AUTH_REQUEST => {
                if let Some(s) = sender {
                    self.cluster_vote_if_needed(s, hdr);
                }
                true
            }
            ty::FAILOVER_AUTH_ACK => {
                let Some(s) = sender else {
                    return true;
                };
                let Some(cl) = self.cluster.as_deref_mut() else {
                    return false;
                };
                let n = &cl.st.nodes[s];
                if n.is_master()
                    && n.numslots > 0
                    && sender_current_epoch >= cl.st.failover_auth_epoch
                {
                    cl.st.failover_auth_count += 1;
                    cl.st.do_before_sleep(todo::HANDLE_FAILOVER);
                }
                true
            }
            ty::MFSTART => {
                let Some(s) = sender else {
                    return true;
                };
                let Some(cl) = self.cluster.as_deref_mut() else {
                    return false;
                };
                if cl.st.nodes[s].slaveof != Some(cl.st.myself) {
                    return true;
                }
                self.cluster_reset_manual_failover();
                let Some(cl) = self.cluster.as_deref_mut() else {
                    return false;
                };
                cl.st.mf_end = now + super::state::MF_TIMEOUT;
                cl.st.mf_slave = Some(s);
                log::warn!(
                    "Manual failover requested by replica {}.",
                    cl.st.nodes[s].name_str()
                );
                let until = now + super::state::MF_TIMEOUT * super::state::MF_PAUSE_MULT;
                self.cluster_pause_writes(until);
                self.cluster_send_ping(lid, ty::PING);
                true
            }
            ty::UPDATE => {
                let Body::Update {
                    config_epoch,
                    nodename,
                    slots,
                } = &msg.body
                else {
                    return true;
                };
                if sender.is_none() {
                    return true;
                }
                let Some(cl) = self.cluster.as_deref_mut() else {
                    return false;
                };
                let Some(n) = cl.st.lookup(nodename) else {
                    return true;
                };
                if cl.st.nodes[n].config_epoch >= *config_epoch {
                    return true;
                }
                if cl.st.nodes[n].is_slave() {
                    cl.st.set_node_as_master(n);
                }
                cl.st.nodes[n].config_epoch = *config_epoch;
                cl.st
                    .do_before_sleep(todo::SAVE_CONFIG | todo::FSYNC_CONFIG);
                self.cluster_update_slots_with(n, *config_epoch, slots);
                true
            }
            ty::MODULE => true,
            other => {
                log::warn!("Received unknown packet type: {other}");
                true
            }
        }
    }

    fn cluster_process_ping(
        &mut self,
        lid: LinkId,
        msg: &Msg,
        sender: Option<NodeId>,
        inbound: bool,
        link_node: Option<NodeId>,
        sender_config_epoch: u64,
    ) -> bool {
        let now = self.ks.now_ms;
        let hdr = &msg.hdr;
        let t = hdr.ty;
        if t == ty::PING || t == ty::MEET {
            let Some(cl) = self.cluster.as_deref_mut() else {
                return false;
            };
            let me = cl.st.myself;
            if (t == ty::MEET || cl.st.nodes[me].ip.is_empty()) && cl.cfg.announce_ip.is_none() {
                let local = cl.links.get(lid).and_then(|l| l.stream.local_addr().ok());
                if let Some(ip) = local.map(|a| ip_string(a.ip())) {
                    if ip != cl.st.nodes[me].ip {
                        log::warn!("IP address for this node updated to {ip}");
                        cl.st.nodes[me].ip = ip;
                        cl.st.do_before_sleep(todo::SAVE_CONFIG);
                    }
                }
            }
            if sender.is_none() && t == ty::MEET {
                let ip = link_ip(cl, lid, hdr);
                let mut n = Node::new(super::node::random_name(), nflag::HANDSHAKE, now);
                n.ip = ip;
                n.port = hdr.port;
                n.pport = hdr.pport;
                n.cport = hdr.cport;
                cl.st.add_node(n);
                cl.st.do_before_sleep(todo::SAVE_CONFIG);
                if let Body::Ping { gossip, .. } = &msg.body {
                    self.cluster_process_gossip(None, gossip);
                }
            }
            self.cluster_send_ping(lid, ty::PONG);
        }
        let Some(cl) = self.cluster.as_deref_mut() else {
            return false;
        };
        if !inbound {
            let Some(ln) = link_node else {
                return true;
            };
            if cl.st.nodes[ln].in_handshake() {
                if let Some(s) = sender {
                    log::debug!(
                        "Handshake: we already know node {}, updating the address if needed.",
                        cl.st.nodes[s].name_str()
                    );
                    if self.cluster_update_address_if_needed(s, lid, hdr) {
                        if let Some(cl) = self.cluster.as_deref_mut() {
                            cl.st
                                .do_before_sleep(todo::SAVE_CONFIG | todo::UPDATE_STATE);
                        }
                    }
                    // The handshake node (and this link) go away.
                    let links = self
                        .cluster
                        .as_deref_mut()
                        .map(|c| c.st.del_node(ln))
                        .unwrap_or_default();
                    self.cluster_free_links(links);
                    self.cluster_free_link(lid);
                    return false;
                }
                cl.st.rename(ln, hdr.sender);
                log::debug!(
                    "Handshake with node {} completed.",
                    cl.st.nodes[ln].name_str()
                );
                let n = &mut cl.st.nodes[ln];
                n.flags &= !nflag::HANDSHAKE;
                n.flags |= hdr.flags & (nflag::MASTER | nflag::SLAVE);
                cl.st.do_before_sleep(todo::SAVE_CONFIG);
            } else if cl.st.nodes[ln].name != hdr.sender {
                log::debug!(
                    "PONG contains mismatching sender ID. About node {} added {} ms ago, having flags {}",
                    cl.st.nodes[ln].name_str(),
                    now - cl.st.nodes[ln].ctime,
                    cl.st.nodes[ln].flags
                );
                let n = &mut cl.st.nodes[ln];
                n.flags |= nflag::NOADDR;
                n.ip.clear();
                n.port = 0;
                n.pport = 0;
                n.cport = 0;
                cl.st.do_before_sleep(todo::SAVE_CONFIG);
                self.cluster_free_link(lid);
                return false;
            }
        }
        let Some(cl) = self.cluster.as_deref_mut() else {
            return false;
        };
        if let Some(s) = sender {
            let nf = hdr.flags & nflag::NOFAILOVER;
            let n = &mut cl.st.nodes[s];
            n.flags = (n.flags & !nflag::NOFAILOVER) | nf;
        }
        if let Some(s) = sender {
            if t == ty::PING
                && !cl.st.nodes[s].in_handshake()
                && self.cluster_update_address_if_needed(s, lid, hdr)
            {
                if let Some(cl) = self.cluster.as_deref_mut() {
                    cl.st
                        .do_before_sleep(todo::SAVE_CONFIG | todo::UPDATE_STATE);
                }
            }
        }
        let Some(cl) = self.cluster.as_deref_mut() else {
            return false;
        };
        if !inbound && t == ty::PONG {
            if let Some(ln) = link_node.filter(|&n| cl.st.nodes.contains(n)) {
                let n = &mut cl.st.nodes[ln];
                n.pong_received = now;
                n.ping_sent = 0;
                if n.timed_out() {
                    n.flags &= !nflag::PFAIL;
                    cl.st
                        .do_before_sleep(todo::SAVE_CONFIG | todo::UPDATE_STATE);
                } else if n.failed() {
                    self.cluster_clear_node_failure_if_needed(ln);
                }
            }
        }
        let Some(cl) = self.cluster.as_deref_mut() else {
            return false;
        };
        let Some(s) = sender else {
            return true;
        };
        // Role switch: replica -> master or master -> replica.
        if !hdr.has_slaveof() {
            cl.st.set_node_as_master(s);
        } else {
            let master = cl.st.lookup(&hdr.slaveof);
            if cl.st.nodes[s].is_master() {
                cl.st.del_node_slots(s);
                let n = &mut cl.st.nodes[s];
                n.flags &= !(nflag::MASTER | nflag::MIGRATE_TO);
                n.flags |= nflag::SLAVE;
                cl.st
                    .do_before_sleep(todo::SAVE_CONFIG | todo::UPDATE_STATE);
            }
            if let Some(m) = master {
                if cl.st.nodes[s].slaveof != Some(m) {
                    if let Some(old) = cl.st.nodes[s].slaveof {
                        cl.st.remove_slave(old, s);
                    }
                    cl.st.add_slave(m, s);
                    cl.st.nodes[s].slaveof = Some(m);
                    cl.st.do_before_sleep(todo::SAVE_CONFIG);
                }
            }
        }
        let sender_master = if cl.st.nodes[s].is_master() {
            Some(s)
        } else {
            cl.st.nodes[s].slaveof
        };
        let dirty_slots = sender_master.is_some_and(|m| *cl.st.nodes[m].slots != hdr.myslots);
        if cl.st.nodes[s].is_master() && dirty_slots {
            self.cluster_update_slots_with(s, sender_config_epoch, &hdr.myslots);
        }
        let Some(cl) = self.cluster.as_deref_mut() else {
            return false;
        };
        if dirty_slots {
            let mut update_about = None;
            for j in 0..super::SLOTS {
                if !super::slot::test_bit(&hdr.myslots, j) {
                    continue;
                }
                match cl.st.slots[j] {
                    Some(o) if o != s && cl.st.nodes[o].config_epoch > sender_config_epoch => {
                        log::debug!(
                            "Node {} has old slots configuration, sending an UPDATE message about {}",
                            cl.st.nodes[s].name_str(),
                            cl.st.nodes[o].name_str()
                        );
                        update_about = Some(o);
                        break;
                    }
                    _ => {}
                }
            }
            if let Some(o) = update_about {
                let l = cl.st.nodes[s].link;
                self.cluster_send_update(l, o);
            }
        }
        let Some(cl) = self.cluster.as_deref_mut() else {
            return false;
        };
        let me = cl.st.myself;
        if cl.st.nodes.contains(s)
            && cl.st.nodes[me].is_master()
            && cl.st.nodes[s].is_master()
            && sender_config_epoch == cl.st.nodes[me].config_epoch
            && cl.st.handle_epoch_collision(s)
        {
            self.cluster_save_config_or_die(true);
        }
        if let Body::Ping { gossip, exts } = &msg.body {
            let from = self.cluster.as_deref().and_then(|c| {
                c.links
                    .get(lid)
                    .and_then(|l| l.node)
                    .or_else(|| c.st.lookup(&hdr.sender))
            });
            self.cluster_process_gossip(from, gossip);
            let Some(cl) = self.cluster.as_deref_mut() else {
                return false;
            };
            let mut hostname = String::new();
            for e in exts {
                match e {
                    Ext::Hostname(h) => hostname = String::from_utf8_lossy(h).into_owned(),
                    Ext::Unknown(t) => log::warn!("Received unknown extension type {t}"),
                }
            }
            if let Some(n) = cl.st.nodes.get_mut(s) {
                if n.hostname != hostname {
                    n.hostname = hostname;
                }
            }
        }
        true
    }

    /// clusterProcessGossipSection.
    fn cluster_process_gossip(&mut self, sender: Option<NodeId>, gossip: &[Gossip]) {
        let now = self.ks.now_ms;
        for g in gossip {
            let Some(cl) = self.cluster.as_deref_mut() else {
                return;
            };
            let timeout = cl.cfg.node_timeout;
            let bad = nflag::FAIL | nflag::PFAIL;
            match cl.st.lookup(&g.nodename) {
                Some(node) => {
                    let me = cl.st.myself;
                    if let Some(s) = sender.filter(|&s| cl.st.nodes[s].is_master() && node != me) {
                        if g.flags & bad != 0 {
                            if cl.st.add_failure_report(node, s, now) {
                                log::debug!(
                                    "Node {} reported node {} as not reachable.",
                                    cl.st.nodes[s].name_str(),
                                    cl.st.nodes[node].name_str()
                                );
                            }
                            self.cluster_mark_failing_if_needed(node);
                        } else if cl.st.del_failure_report(node, s, timeout, now) {
                            log::debug!(
                                "Node {} reported node {} is back online.",
                                cl.st.nodes[s].name_str(),
                                cl.st.nodes[node].name_str()
                            );
                        }
                    }
                    let Some(cl) = self.cluster.as_deref_mut() else {
                        return;
                    };
                    if g.flags & bad == 0
                        && cl.st.nodes[node].ping_sent == 0
                        && cl.st.failure_reports_count(node, timeout, now) == 0
                    {
                        let pongtime = g.pong_received as i64 * 1000;
                        let n = &mut cl.st.nodes[node];
                        if pongtime <= now + 500 && pongtime > n.pong_received {
                            n.pong_received = pongtime;
                        }
                    }
                    let gip = String::from_utf8_lossy(codec::cstr(&g.ip)).into_owned();
                    let n = &cl.st.nodes[node];
                    if n.flags & bad != 0
                        && g.flags & nflag::NOADDR == 0
                        && g.flags & bad == 0
                        && (!n.ip.eq_ignore_ascii_case(&gip)
                            || n.port != g.port
                            || n.cport != g.cport)
                    {
                        let old = n.link;
                        let n = &mut cl.st.nodes[node];
                        n.ip = gip;
                        n.port = g.port;
                        n.pport = g.pport;
                        n.cport = g.cport;
                        n.flags &= !nflag::NOADDR;
                        if let Some(l) = old {
                            self.cluster_free_link(l);
                        }
                    }
                }
                None => {
                    let now_s = now / 1000;
                    if sender.is_some()
                        && g.flags & nflag::NOADDR == 0
                        && super::node::valid_name(&g.nodename)
                        && !cl.st.blacklisted(&g.nodename, now_s)
                    {
                        let mut n =
                            Node::new(g.nodename, g.flags & !(nflag::MYSELF | nflag::MEET), now);
                        n.ip = String::from_utf8_lossy(codec::cstr(&g.ip)).into_owned();
                        n.port = g.port;
                        n.pport = g.pport;
                        n.cport = g.cport;
                        cl.st.add_node(n);
                    }
                }
            }
        }
    }

    /// nodeUpdateAddressIfNeeded: the address a node's messages come from
    /// (or announce) differs from what we have.
    fn cluster_update_address_if_needed(
        &mut self,
        node: NodeId,
        lid: LinkId,
        hdr: &Header,
    ) -> bool {
        let Some(cl) = self.cluster.as_deref_mut() else {
            return false;
        };
        if cl.st.nodes[node].link == Some(lid) {
            return false;
        }
        let ip = link_ip(cl, lid, hdr);
        let n = &cl.st.nodes[node];
        if n.port == hdr.port && n.cport == hdr.cport && n.pport == hdr.pport && n.ip == ip {
            return false;
        }
        let old = n.link;
        let n = &mut cl.st.nodes[node];
        n.ip = ip.clone();
        n.port = hdr.port;
        n.pport = hdr.pport;
        n.cport = hdr.cport;
        n.flags &= !nflag::NOADDR;
        log::warn!(
            "Address updated for node {}, now {}:{}",
            n.name_str(),
            ip,
            hdr.port
        );
        let port = hdr.port;
        let me = cl.st.myself;
        let my_master = cl.st.nodes[me].is_slave() && cl.st.nodes[me].slaveof == Some(node);
        if let Some(l) = old {
            self.cluster_free_link(l);
        }
        if my_master {
            self.replication_set_master(ip, port);
        }
        true
    }

    /// Applies a slot claim and carries out its consequence.
    pub fn cluster_update_slots_with(
        &mut self,
        sender: NodeId,
        epoch: u64,
        slots: &super::slot::Bitmap,
    ) {
        let Some(cl) = self.cluster.as_deref_mut() else {
            return;
        };
        let allow = cl.cfg.allow_replica_migration;
        let ks = &self.ks;
        let outcome = cl.st.update_slots_config_with(
            sender,
            epoch,
            slots,
            &|s| ks.count_keys_in_slot(s),
            allow,
        );
        match outcome {
            SlotsOutcome::Nothing => {}
            SlotsOutcome::BecomeReplicaOf(n) => self.cluster_set_master(n),
            SlotsOutcome::DeleteKeys(slots) => {
                for s in slots {
                    self.cluster_del_keys_in_slot(s);
                }
            }
        }
    }

    /// Deletes every key of a slot, propagating each as DEL.
    pub fn cluster_del_keys_in_slot(&mut self, slot: usize) -> usize {
        let keys = self.ks.keys_in_slot(slot, usize::MAX);
        for k in &keys {
            if self.ks.delete(0, k.as_bytes()) {
                self.also_propagate(
                    0,
                    vec![
                        Bytes::from_static(b"DEL"),
                        Bytes::copy_from_slice(k.as_bytes()),
                    ],
                );
            }
        }
        keys.len()
    }

    /// Makes myself a replica of `n` (clusterSetMaster).
    pub fn cluster_set_master(&mut self, n: NodeId) {
        let Some(cl) = self.cluster.as_deref_mut() else {
            return;
        };
        if n == cl.st.myself {
            return;
        }
        cl.st.set_my_master(n);
        let (ip, port) = (cl.st.nodes[n].ip.clone(), cl.st.nodes[n].port);
        self.replication_set_master(ip, port);
        self.cluster_reset_manual_failover();
    }
}

/// The IP a peer is reachable at: announced in the header, or the
/// socket's peer address.
fn link_ip(cl: &super::ClusterCtx, lid: LinkId, hdr: &Header) -> String {
    if hdr.myip[0] != 0 {
        return String::from_utf8_lossy(codec::cstr(&hdr.myip)).into_owned();
    }
    cl.links
        .get(lid)
        .and_then(|l| l.stream.peer_addr().ok())
        .map(|a| ip_string(a.ip()))
        .unwrap_or_default()
}

/// An IP as Redis prints it (IPv4-mapped IPv6 addresses as IPv4).
pub fn ip_string(ip: std::net::IpAddr) -> String {
    match ip {
        std::net::IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => v6.to_string(),
        },
        v4 => v4.to_string(),
    }
}
