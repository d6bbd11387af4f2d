//! The cluster bus on the server's one mio loop: the listener on the bus
//! port, node links (outbound, created by the cron; inbound, accepted),
//! reading whole messages and writing queued ones, and the builders of the
//! messages this node sends (header, PING/PONG/MEET with gossip and the
//! hostname extension, FAIL, UPDATE, PUBLISH, failover messages).
//!
//! A link that sends a malformed or truncated message, or fails, is closed
//! with a log line; the cron reconnects outbound links.

use super::codec::{self, mflag0, nflag, ty, Body, Ext, Gossip, Header, Msg, NAMELEN};
use super::node::{LinkId, Node, NodeId};
use super::state::{todo, Cluster};
use super::{ClusterCtx, Settings, BUS_LISTENER_TOKEN, LINK_TOKEN_BASE, PORT_INCR};
use crate::server::Server;
use mio::net::TcpStream;
use mio::{Interest, Token};
use std::io::{self, Read, Write};

/// One connection to or from another node.
pub struct Link {
    pub stream: TcpStream,
    pub node: Option<NodeId>,
    pub inbound: bool,
    pub ctime: i64,
    /// Outbound connect still in progress.
    pub connecting: bool,
    pub sndbuf: Vec<u8>,
    pub sent: usize,
    pub rcvbuf: Vec<u8>,
}

impl Link {
    pub fn pending(&self) -> usize {
        self.sndbuf.len() - self.sent
    }
}

impl Server {
    /// cluster-enabled yes: lock and load nodes.conf (or start a new node),
    /// open the bus port, index keys by slot. Err: the message to log
    /// before exiting, as Redis does.
    pub fn cluster_init(&mut self) -> Result<(), String> {
        let cfg = Settings::from_config(&self.cfg);
        let mut path = super::config_path(&self.cfg);
        if path.is_relative() {
            if let Ok(cwd) = std::env::current_dir() {
                path = cwd.join(path);
            }
        }
        let lock = super::nodesconf::lock(&path)?;
        let now = crate::util::mstime();
        let (st, fresh) = match super::nodesconf::load(&path, now)? {
            Some(st) => {
                log::info!("Node configuration loaded, I'm {}", st.me().name_str());
                (st, false)
            }
            None => {
                let st = Cluster::new(now);
                log::info!("No cluster configuration found, I'm {}", st.me().name_str());
                (st, true)
            }
        };
        let port = self.cfg.port;
        if cfg.cluster_port == 0 && port > 65535 - PORT_INCR {
            return Err("Redis port number too high. Cluster communication port is 10,000 port numbers higher than your Redis port. Your Redis port number must be 55535 or less.".into());
        }
        let cport = if cfg.cluster_port != 0 {
            cfg.cluster_port
        } else {
            port + PORT_INCR
        };
        let mut ctx = ClusterCtx {
            st,
            links: slab::Slab::new(),
            pending_flush: Vec::new(),
            listener: None,
            cfg,
            config_path: path,
            lock: Some(lock),
            last_cron_ms: 0,
            iteration: 0,
            links_memory: 0,
            drop_packet_filter: -1,
        };
        let bind = self.cfg.bind.first().cloned().unwrap_or_else(|| "*".into());
        let host = bind.trim_start_matches('-');
        let ip = match host {
            "*" => "0.0.0.0",
            "::*" => "::",
            h => h,
        };
        let addr: std::net::SocketAddr = format!("{ip}:{cport}")
            .parse()
            .or_else(|_| format!("[{ip}]:{cport}").parse())
            .map_err(|_| format!("Invalid bind address '{host}'"))?;
        let mut l = crate::server::listen::bind_tcp(addr, self.cfg.tcp_backlog).map_err(|e| {
            log::warn!("Could not create the cluster bus listening socket {addr}: {e}");
            format!("Failed listening on port {cport} (cluster), aborting.")
        })?;
        self.poll_registry()
            .register(&mut l, Token(BUS_LISTENER_TOKEN), Interest::READABLE)
            .map_err(|e| e.to_string())?;
        ctx.listener = Some(l);
        self.cluster = Some(Box::new(ctx));
        self.cluster_update_myself_announced();
        if fresh {
            self.cluster_save_config_or_die(true);
        }
        self.ks.enable_slot_index();
        Ok(())
    }

    /// Ports, IP and hostname myself announces (deriveAnnouncedPorts and
    /// the cluster-announce-* settings).
    pub fn cluster_update_myself_announced(&mut self) {
        let port = self.cfg.port;
        let Some(cl) = self.cluster.as_deref_mut() else {
            return;
        };
        let s = &cl.cfg;
        let (aport, acport) = announced_ports(s, port);
        let me = cl.st.myself;
        let n = &mut cl.st.nodes[me];
        n.port = aport;
        n.pport = 0;
        n.cport = acport;
        if let Some(ip) = &s.announce_ip {
            n.ip = ip.clone();
        }
        if n.hostname != s.announce_hostname {
            n.hostname = s.announce_hostname.clone();
        }
        let nofailover = if s.replica_no_failover {
            nflag::NOFAILOVER
        } else {
            0
        };
        if n.flags & nflag::NOFAILOVER != nofailover {
            n.flags = (n.flags & !nflag::NOFAILOVER) | nofailover;
            cl.st
                .do_before_sleep(todo::SAVE_CONFIG | todo::UPDATE_STATE);
        }
    }

    /// CONFIG SET of a cluster-* directive.
    pub fn cluster_config_changed(&mut self) {
        if let Some(cl) = self.cluster.as_deref_mut() {
            let old_ip = cl.cfg.announce_ip.clone();
            cl.cfg = Settings::from_config(&self.cfg);
            if old_ip.is_some() && cl.cfg.announce_ip.is_none() {
                // Back to autodetection.
                let me = cl.st.myself;
                cl.st.nodes[me].ip.clear();
            }
        }
        self.cluster_update_myself_announced();
    }

    /// Our replication offset as the bus announces it.
    pub fn cluster_my_offset(&self) -> i64 {
        if self.repl.is_replica() {
            if self.repl.master_link_up || self.repl.psync_possible {
                self.repl.master_repl_offset
            } else {
                0
            }
        } else {
            self.repl.master_repl_offset
        }
    }

    // ---- links ----

    fn cluster_add_link(
        &mut self,
        stream: TcpStream,
        node: Option<NodeId>,
        inbound: bool,
        connecting: bool,
    ) -> Option<LinkId> {
        let now = self.ks.now_ms;
        let cl = self.cluster.as_deref_mut()?;
        let entry = cl.links.vacant_entry();
        let lid = entry.key();
        let mut link = Link {
            stream,
            node,
            inbound,
            ctime: now,
            connecting,
            sndbuf: Vec::new(),
            sent: 0,
            rcvbuf: Vec::new(),
        };
        if self
            .poll_registry()
            .register(
                &mut link.stream,
                Token(LINK_TOKEN_BASE + lid),
                Interest::READABLE | Interest::WRITABLE,
            )
            .is_err()
        {
            return None;
        }
        let cl = self.cluster.as_deref_mut()?;
        cl.links.insert(link);
        if let (Some(n), false) = (node, inbound) {
            cl.st.nodes[n].link = Some(lid);
        }
        Some(lid)
    }

    /// Closes a link and detaches it from its node.
    pub fn cluster_free_link(&mut self, lid: LinkId) {
        let Some(cl) = self.cluster.as_deref_mut() else {
            return;
        };
        if !cl.links.contains(lid) {
            return;
        }
        let mut link = cl.links.remove(lid);
        if let Some(n) = link.node.and_then(|n| cl.st.nodes.get_mut(n)) {
            if n.link == Some(lid) {
                n.link = None;
            }
            if n.inbound_link == Some(lid) {
                n.inbound_link = None;
            }
        }
        cl.pending_flush.retain(|&l| l != lid);
        let _ = self.poll_registry().deregister(&mut link.stream);
        let _ = link.stream.shutdown(std::net::Shutdown::Both);
    }

    pub fn cluster_free_links(&mut self, links: Vec<LinkId>) {
        for l in links {
            self.cluster_free_link(l);
        }
    }

    /// Accepts pending bus connections.
    pub fn cluster_accept(&mut self) {
        loop {
            let Some(cl) = self.cluster.as_deref_mut() else {
                return;
            };
            let Some(l) = cl.listener.as_mut() else {
                return;
            };
            match l.accept() {
                Ok((s, addr)) => {
                    let _ = s.set_nodelay(true);
                    log::debug!("Accepting cluster node connection from {addr}");
                    self.cluster_add_link(s, None, true, false);
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    log::debug!("Error accepting cluster node: {e}");
                    return;
                }
            }
        }
    }

    /// Starts a non-blocking connect to a node's bus port.
    pub fn cluster_connect_node(&mut self, id: NodeId) {
        let Some(cl) = self.cluster.as_deref_mut() else {
            return;
        };
        let n = &cl.st.nodes[id];
        let target = format!("{}:{}", n.ip, n.cport);
        let addr = target
            .parse::<std::net::SocketAddr>()
            .or_else(|_| format!("[{}]:{}", n.ip, n.cport).parse());
        let stream = addr
            .map_err(|_| ())
            .and_then(|a| TcpStream::connect(a).map_err(|_| ()));
        match stream {
            Ok(s) => {
                let _ = s.set_nodelay(true);
                self.cluster_add_link(s, Some(id), false, true);
            }
            Err(()) => {
                let now = self.ks.now_ms;
                let n = &mut cl.st.nodes[id];
                if n.ping_sent == 0 {
                    n.ping_sent = now;
                }
                log::debug!("Unable to connect to Cluster Node [{target}]");
            }
        }
    }

    /// A poll event on a bus token.
    pub fn cluster_event(&mut self, token: usize, readable: bool, writable: bool) {
        if token == BUS_LISTENER_TOKEN {
            self.cluster_accept();
            return;
        }
        let lid = token - LINK_TOKEN_BASE;
        if writable {
            self.cluster_link_writable(lid);
        }
        if readable {
            self.cluster_link_readable(lid);
        }
    }

    fn cluster_link_writable(&mut self, lid: LinkId) {
        let Some(cl) = self.cluster.as_deref_mut() else {
            return;
        };
        let Some(link) = cl.links.get_mut(lid) else {
            return;
        };
        if link.connecting {
            let failed = match link.stream.take_error() {
                Ok(Some(_)) | Err(_) => true,
                Ok(None) => link.stream.peer_addr().is_err(),
            };
            if failed {
                if let Some(n) = link.node.and_then(|n| cl.st.nodes.get(n)) {
                    log::debug!(
                        "Connection with Node {} at {}:{} failed",
                        n.name_str(),
                        n.ip,
                        n.cport
                    );
                }
                self.cluster_free_link(lid);
                return;
            }
            link.connecting = false;
            let Some(node) = link.node else {
                return;
            };
            let old_ping_sent = cl.st.nodes[node].ping_sent;
            let meet = cl.st.nodes[node].has(nflag::MEET);
            self.cluster_send_ping(lid, if meet { ty::MEET } else { ty::PING });
            let Some(cl) = self.cluster.as_deref_mut() else {
                return;
            };
            let n = &mut cl.st.nodes[node];
            if old_ping_sent != 0 {
                n.ping_sent = old_ping_sent;
            }
            n.flags &= !nflag::MEET;
        }
        self.cluster_flush_link(lid);
    }

    /// Writes what the socket takes; closes the link on error.
    pub fn cluster_flush_link(&mut self, lid: LinkId) {
        let Some(cl) = self.cluster.as_deref_mut() else {
            return;
        };
        let Some(link) = cl.links.get_mut(lid) else {
            return;
        };
        if link.connecting {
            return;
        }
        while link.sent < link.sndbuf.len() {
            match link.stream.write(&link.sndbuf[link.sent..]) {
                Ok(0) => {
                    self.cluster_free_link(lid);
                    return;
                }
                Ok(n) => link.sent += n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    log::debug!("I/O error writing to node link: {e}");
                    self.cluster_free_link(lid);
                    return;
                }
            }
        }
        link.sndbuf.clear();
        link.sent = 0;
        if link.sndbuf.capacity() > 1 << 20 {
            link.sndbuf = Vec::new();
        }
    }

    fn cluster_link_readable(&mut self, lid: LinkId) {
        let Some(cl) = self.cluster.as_deref_mut() else {
            return;
        };
        let Some(link) = cl.links.get_mut(lid) else {
            return;
        };
        if link.connecting {
            return;
        }
        let mut closed = false;
        let mut chunk = [0u8; 16 * 1024];
        loop {
            match link.stream.read(&mut chunk) {
                Ok(0) => {
                    closed = true;
                    break;
                }
                Ok(n) => link.rcvbuf.extend_from_slice(&chunk[..n]),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => {
                    closed = true;
                    break;
                }
            }
        }
        // Process every whole message; the buffer is taken out of the link
        // because processing may free the link.
        let buf = std::mem::take(&mut link.rcvbuf);
        let mut at = 0;
        let mut alive = true;
        while alive {
            let len = match codec::frame_len(&buf[at..]) {
                Ok(Some(len)) => len,
                Ok(None) => break,
                Err(e) => {
                    log::warn!("{}", e.0);
                    self.cluster_free_link(lid);
                    return;
                }
            };
            if buf.len() - at < len {
                break;
            }
            alive = self.cluster_process_packet(lid, &buf[at..at + len]);
            at += len;
        }
        if !alive {
            return;
        }
        if closed {
            log::debug!("I/O error reading from node link: connection closed");
            self.cluster_free_link(lid);
            return;
        }
        if let Some(link) = self
            .cluster
            .as_deref_mut()
            .and_then(|c| c.links.get_mut(lid))
        {
            let mut rest = buf;
            rest.drain(..at);
            if rest.capacity() > 1 << 20 && rest.len() < 1024 {
                rest.shrink_to_fit();
            }
            link.rcvbuf = rest;
        }
    }

    // ---- sending ----

    /// Queues a message on a link (written before the loop sleeps).
    pub fn cluster_send(&mut self, lid: LinkId, msg: &[u8]) {
        let Some(cl) = self.cluster.as_deref_mut() else {
            return;
        };
        let Some(link) = cl.links.get_mut(lid) else {
            return;
        };
        if link.pending() == 0 {
            cl.pending_flush.push(lid);
        }
        link.sndbuf.extend_from_slice(msg);
        if let Some(t) = codec::peek_type(msg) {
            if (t as usize) < ty::COUNT {
                cl.st.stats_sent[t as usize] += 1;
            }
        }
    }

    /// Sends to every node with a link that is not in handshake.
    pub fn cluster_broadcast(&mut self, msg: &[u8]) {
        let Some(cl) = self.cluster.as_deref() else {
            return;
        };
        let targets: Vec<LinkId> = cl
            .st
            .nodes
            .iter()
            .filter(|(_, n)| n.flags & (nflag::MYSELF | nflag::HANDSHAKE) == 0)
            .filter_map(|(_, n)| n.link)
            .collect();
        for l in targets {
            self.cluster_send(l, msg);
        }
    }

    /// clusterBuildMessageHdr.
    pub fn cluster_build_header(&self, t: u16) -> Header {
        let offset = self.cluster_my_offset();
        let mut h = Header::new(t);
        let Some(cl) = self.cluster.as_deref() else {
            return h;
        };
        let st = &cl.st;
        let me = st.me();
        let master = match me.slaveof {
            Some(m) if me.is_slave() => &st.nodes[m],
            _ => me,
        };
        h.sender = me.name;
        if let Some(ip) = &cl.cfg.announce_ip {
            h.myip = codec::fixed(ip.as_bytes());
        }
        let (port, cport) = announced_ports(&cl.cfg, self.cfg.port);
        h.myslots = *master.slots;
        if let Some(m) = me.slaveof {
            h.slaveof = st.nodes[m].name;
        }
        h.port = port;
        h.pport = 0;
        h.cport = cport;
        h.flags = me.flags;
        h.state = if st.state_ok { 0 } else { 1 };
        h.current_epoch = st.current_epoch;
        h.config_epoch = master.config_epoch;
        h.offset = offset.max(0) as u64;
        if me.is_master() && st.mf_end != 0 {
            h.mflags[0] |= mflag0::PAUSED;
        }
        h
    }

    /// PING, PONG or MEET with gossip about a few random nodes and every
    /// node in PFAIL, plus the hostname extension (clusterSendPing).
    pub fn cluster_send_ping(&mut self, lid: LinkId, t: u16) {
        let now = self.ks.now_ms;
        let Some(cl) = self.cluster.as_deref_mut() else {
            return;
        };
        let Some(link) = cl.links.get(lid) else {
            return;
        };
        let (inbound, target) = (link.inbound, link.node);
        cl.st.pings_sent += 1;
        let stamp = cl.st.pings_sent;
        let total = cl.st.nodes.len();
        let mut freshnodes = total as i64 - 2;
        let mut wanted = (total / 10).max(3) as i64;
        if wanted > freshnodes {
            wanted = freshnodes;
        }
        if !inbound && t == ty::PING {
            if let Some(n) = target.and_then(|n| cl.st.nodes.get_mut(n)) {
                n.ping_sent = now;
            }
        }
        let keys: Vec<NodeId> = cl.st.nodes.iter().map(|(k, _)| k).collect();
        let mut gossip: Vec<Gossip> = Vec::new();
        let mut iterations = wanted * 3;
        while freshnodes > 0 && (gossip.len() as i64) < wanted && iterations > 0 {
            iterations -= 1;
            let id = keys[self.rng.below(keys.len() as u64) as usize];
            let n = &cl.st.nodes[id];
            if id == cl.st.myself || n.has(nflag::PFAIL) {
                continue;
            }
            if n.flags & (nflag::HANDSHAKE | nflag::NOADDR) != 0
                || (n.link.is_none() && n.numslots == 0)
            {
                freshnodes -= 1;
                continue;
            }
            if n.last_in_ping_gossip == stamp {
                continue;
            }
            gossip.push(gossip_entry(n));
            cl.st.nodes[id].last_in_ping_gossip = stamp;
            freshnodes -= 1;
        }
        for (_, n) in cl.st.nodes.iter() {
            if n.has(nflag::PFAIL) && n.flags & (nflag::HANDSHAKE | nflag::NOADDR) == 0 {
                gossip.push(gossip_entry(n));
            }
        }
        let hostname = cl.st.me().hostname.clone();
        let mut exts = Vec::new();
        if !hostname.is_empty() {
            exts.push(Ext::Hostname(hostname.into_bytes()));
        }
        let msg = Msg {
            hdr: self.cluster_build_header(t),
            body: Body::Ping { gossip, exts },
        };
        let mut out = Vec::with_capacity(codec::HDR_LEN + 512);
        codec::encode(&msg, &mut out);
        self.cluster_send(lid, &out);
    }

    /// PONG to every node (or only to the replicas of our shard), used to
    /// spread a configuration change fast.
    pub fn cluster_broadcast_pong(&mut self, local_slaves_only: bool) {
        let Some(cl) = self.cluster.as_deref() else {
            return;
        };
        let st = &cl.st;
        let me = st.me();
        let targets: Vec<LinkId> = st
            .nodes
            .iter()
            .filter(|(id, n)| *id != st.myself && !n.in_handshake())
            .filter(|(_, n)| {
                !local_slaves_only
                    || (n.is_slave()
                        && n.slaveof.is_some()
                        && (n.slaveof == Some(st.myself) || n.slaveof == me.slaveof))
            })
            .filter_map(|(_, n)| n.link)
            .collect();
        for l in targets {
            self.cluster_send_ping(l, ty::PONG);
        }
    }

    fn cluster_encode(&self, t: u16, body: Body, mflags0: u8) -> Vec<u8> {
        let mut hdr = self.cluster_build_header(t);
        hdr.mflags[0] |= mflags0;
        let mut out = Vec::new();
        codec::encode(&Msg { hdr, body }, &mut out);
        out
    }

    pub fn cluster_send_fail(&mut self, about: [u8; NAMELEN]) {
        let m = self.cluster_encode(ty::FAIL, Body::Fail { about }, 0);
        self.cluster_broadcast(&m);
    }

    pub fn cluster_send_update(&mut self, lid: Option<LinkId>, about: NodeId) {
        let Some(lid) = lid else {
            return;
        };
        let Some(cl) = self.cluster.as_deref() else {
            return;
        };
        let n = &cl.st.nodes[about];
        let body = Body::Update {
            config_epoch: n.config_epoch,
            nodename: n.name,
            slots: n.slots.clone(),
        };
        let m = self.cluster_encode(ty::UPDATE, body, 0);
        self.cluster_send(lid, &m);
    }

    /// PUBLISH / PUBLISHSHARD to one link, or to every node (`None`).
    pub fn cluster_send_publish(
        &mut self,
        lid: Option<LinkId>,
        channel: &[u8],
        message: &[u8],
        t: u16,
    ) {
        let body = Body::Publish {
            channel: channel.to_vec(),
            message: message.to_vec(),
        };
        let m = self.cluster_encode(t, body, 0);
        match lid {
            Some(l) => self.cluster_send(l, &m),
            None => self.cluster_broadcast(&m),
        }
    }

    /// A header-only message to one node (AUTH_ACK, MFSTART).
    pub fn cluster_send_empty(&mut self, node: NodeId, t: u16) {
        let Some(lid) = self
            .cluster
            .as_deref()
            .and_then(|c| c.st.nodes.get(node))
            .and_then(|n| n.link)
        else {
            return;
        };
        let m = self.cluster_encode(t, Body::Empty, 0);
        self.cluster_send(lid, &m);
    }

    /// FAILOVER_AUTH_REQUEST to every node (FORCEACK for a manual failover).
    pub fn cluster_request_failover_auth(&mut self) {
        let force = self.cluster.as_deref().is_some_and(|c| c.st.mf_end != 0);
        let m = self.cluster_encode(
            ty::FAILOVER_AUTH_REQUEST,
            Body::Empty,
            if force { mflag0::FORCEACK } else { 0 },
        );
        self.cluster_broadcast(&m);
    }

    // ---- before sleep ----

    /// Deferred work (failover, state, config save) and link output.
    pub fn cluster_before_sleep(&mut self) {
        let Some(cl) = self.cluster.as_deref_mut() else {
            return;
        };
        let flags = cl.st.todo;
        cl.st.todo = 0;
        if flags & todo::HANDLE_MANUALFAILOVER != 0 {
            if self.cluster_is_replica() {
                self.cluster_handle_manual_failover();
                self.cluster_handle_replica_failover();
            }
        } else if flags & todo::HANDLE_FAILOVER != 0 {
            self.cluster_handle_replica_failover();
        }
        if flags & todo::UPDATE_STATE != 0 {
            self.cluster_update_state();
        }
        if flags & todo::SAVE_CONFIG != 0 {
            self.cluster_save_config_or_die(flags & todo::FSYNC_CONFIG != 0);
        }
        let Some(cl) = self.cluster.as_deref_mut() else {
            return;
        };
        if !cl.st.lost_shard_slots.is_empty() {
            let lost = std::mem::take(&mut cl.st.lost_shard_slots);
            if self.clients.num_shard_channels() > 0 {
                for s in lost {
                    self.shard_remove_channels_in_slot(s);
                }
            }
        }
        self.cluster_flush_pending();
    }

    /// Writes the links' queued output.
    pub fn cluster_flush_pending(&mut self) {
        let Some(cl) = self.cluster.as_deref_mut() else {
            return;
        };
        if cl.pending_flush.is_empty() {
            return;
        }
        let pending = std::mem::take(&mut cl.pending_flush);
        for lid in pending {
            self.cluster_flush_link(lid);
        }
    }

    pub fn cluster_is_replica(&self) -> bool {
        self.cluster
            .as_deref()
            .is_some_and(|c| c.st.me().is_slave())
    }

    pub fn cluster_save_config(&mut self, fsync: bool) -> io::Result<()> {
        let Some(cl) = self.cluster.as_deref_mut() else {
            return Ok(());
        };
        cl.st.todo &= !(todo::SAVE_CONFIG | if fsync { todo::FSYNC_CONFIG } else { 0 });
        super::nodesconf::save(&cl.config_path, &cl.st, &mut cl.lock, fsync)
    }

    pub fn cluster_save_config_or_die(&mut self, fsync: bool) {
        if let Err(e) = self.cluster_save_config(fsync) {
            log::warn!("Fatal: can't update cluster config file. ({e})");
            std::process::exit(1);
        }
    }

    /// Runs clusterUpdateState and reacts to the new state.
    pub fn cluster_update_state(&mut self) {
        let now = self.ks.now_ms;
        let Some(cl) = self.cluster.as_deref_mut() else {
            return;
        };
        let (full, timeout) = (cl.cfg.require_full_coverage, cl.cfg.node_timeout);
        if cl.st.update_state(full, timeout, now) == Some(false) {
            self.cluster_redirect_blocked_clients();
        }
    }
}

/// The client and bus ports myself announces.
pub fn announced_ports(s: &Settings, port: u16) -> (u16, u16) {
    let p = if s.announce_port != 0 {
        s.announce_port
    } else {
        port
    };
    let c = if s.announce_bus_port != 0 {
        s.announce_bus_port
    } else if s.cluster_port != 0 {
        s.cluster_port
    } else {
        port.wrapping_add(PORT_INCR)
    };
    (p, c)
}

fn gossip_entry(n: &Node) -> Gossip {
    Gossip {
        nodename: n.name,
        ping_sent: (n.ping_sent / 1000) as u32,
        pong_received: (n.pong_received / 1000) as u32,
        ip: codec::fixed(n.ip.as_bytes()),
        port: n.port,
        cport: n.cport,
        flags: n.flags,
        pport: n.pport,
    }
}
