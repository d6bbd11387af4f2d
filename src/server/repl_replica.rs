//! Replica side of replication: REPLICAOF, the connection to our master as
//! an ordinary slab client driven by a state machine (connect, handshake,
//! PSYNC, then streaming), ACKs, reconnection. Receiving and loading the
//! full sync's RDB is in `repl_transfer`.

use super::Server;
use crate::error::CmdError;
use crate::net::{flags, Kind, Stream};
use crate::repl::link::{take_line, LinkState};
use bytes::Bytes;

type R = Result<(), CmdError>;

impl Server {
    pub fn cmd_replicaof(&mut self, key: usize, argv: &[Bytes]) -> R {
        if self.cluster.is_some() {
            return Err("ERR REPLICAOF not allowed in cluster mode.".into());
        }
        if crate::cmd::eq_ic(&argv[1], "no") && crate::cmd::eq_ic(&argv[2], "one") {
            if self.repl.is_replica() {
                self.replication_unset_master();
                let who = self.client_info_line(key);
                log::info!(
                    "MASTER MODE enabled (user request from '{}')",
                    who.trim_end()
                );
            }
            self.reply_ok(key);
            return Ok(());
        }
        let port = crate::encoding::numbers::string2ll(&argv[2])
            .ok_or(CmdError::from(crate::error::NOT_INT))?;
        if !(0..=65535).contains(&port) {
            return Err("ERR Invalid master port".into());
        }
        let host = String::from_utf8_lossy(&argv[1]).into_owned();
        // An explicit REPLICAOF is consent to whatever that master holds:
        // the empty-sync guard starts over.
        self.repl.synced_run_id = None;
        if std::mem::take(&mut self.repl.refused_empty) {
            self.repl.master_host = None;
        }
        if self
            .repl
            .master_host
            .as_ref()
            .is_some_and(|(h, p)| h.eq_ignore_ascii_case(&host) && *p == port as u16)
        {
            log::info!("REPLICAOF would result into synchronization with the master we are already connected with. No operation performed.");
            self.reply(key, |o| {
                o.simple("OK Already connected to specified master")
            });
            return Ok(());
        }
        self.replication_set_master(host.clone(), port as u16);
        let who = self.client_info_line(key);
        log::info!(
            "REPLICAOF {host}:{port} enabled (user request from '{}')",
            who.trim_end()
        );
        self.reply_ok(key);
        Ok(())
    }

    /// Config `replicaof` at startup, and the replication position saved
    /// in the RDB we loaded: a replica continues its master's history with
    /// PSYNC; a master keeps it as replid2 so its replicas can continue.
    pub fn repl_init_from_config(&mut self) {
        let saved = self
            .persist
            .last_load_info
            .as_ref()
            .and_then(|i| Some((i.repl_id.clone()?, i.repl_offset?)));
        if let Some((id, off)) = saved.filter(|(id, _)| id.len() == 40) {
            if self.cfg.replicaof.is_some() {
                self.repl.replid = id;
                self.repl.master_repl_offset = off;
                self.repl.psync_possible = true;
                let db = self
                    .persist
                    .last_load_info
                    .as_ref()
                    .and_then(|i| i.repl_stream_db)
                    .unwrap_or(0);
                self.repl.link.master_db =
                    usize::try_from(db).unwrap_or(0).min(self.ks.dbs.len() - 1);
            } else {
                self.repl.replid2 = id;
                self.repl.second_replid_offset = off + 1;
                self.repl.master_repl_offset = off;
                self.create_backlog();
                self.repl.no_replicas_since_ms = self.ks.now_ms;
            }
        }
        self.propagate_keys_expired_at_load();
        if let Some((h, p)) = self.cfg.replicaof.clone() {
            let resume = self.repl.psync_possible;
            self.replication_set_master(h, p);
            self.repl.psync_possible = resume;
        }
    }

    /// A master that restarted skipped the keys that expired meanwhile:
    /// their DELs go into the backlog, after the saved position, so the
    /// replicas continuing with PSYNC delete them too (Redis feeds them
    /// while loading). Without a saved position they start a new history.
    fn propagate_keys_expired_at_load(&mut self) {
        let expired = self
            .persist
            .last_load_info
            .as_mut()
            .map(|i| std::mem::take(&mut i.expired_keys))
            .unwrap_or_default();
        if expired.is_empty() || self.repl.is_replica() {
            return;
        }
        if self.repl.backlog.is_none() {
            self.create_backlog();
        }
        for (db, key) in expired {
            let argv = [bytes::Bytes::from_static(b"DEL"), bytes::Bytes::from(key)];
            self.repl_feed(db, &argv);
        }
    }

    /// Becomes a replica of host:port (Redis's replicationSetMaster).
    pub fn replication_set_master(&mut self, host: String, port: u16) {
        let was_master = !self.repl.is_replica();
        self.drop_master_link();
        // Clients blocked on keys would never be served by our own writes.
        let blocked: Vec<usize> = self
            .clients
            .iter()
            .filter(|(_, c)| c.has(flags::BLOCKED))
            .map(|(k, _)| k)
            .collect();
        for k in blocked {
            if self.blocking_remove(k).is_some() {
                self.reply(k, |o| o.error("UNBLOCKED force unblock from blocking operation, instance state changed (master -> replica?)"));
                self.mark_pending_write(k);
            }
        }
        if was_master {
            // Our own history lets us try a partial resync with the new master.
            self.repl.psync_possible =
                self.repl.backlog.is_some() || self.repl.master_repl_offset > 0;
        }
        // CONFIG GET/REWRITE see the master we follow now.
        self.cfg.replicaof = Some((host.clone(), port));
        self.repl.master_host = Some((host, port));
        self.repl.master_link_up = false;
        self.repl.link.state = LinkState::Connect;
        self.repl.link.down_since_ms = self.ks.now_ms;
        self.repl.link.last_attempt_ms = 0;
        crate::logging::set_role(b'S');
        self.repl_connect_master();
    }

    /// Turns back into a master, keeping the data (REPLICAOF NO ONE).
    pub fn replication_unset_master(&mut self) {
        self.drop_master_link();
        self.repl.master_host = None;
        self.cfg.replicaof = None;
        self.repl.master_link_up = false;
        self.repl.link.state = LinkState::None;
        // PSYNC2: the old history stays valid as replid2 so the other
        // replicas of the old master can continue with us.
        self.repl.shift_replid();
        log::info!("Setting secondary replication ID to {}, valid up to offset: {}. New replication ID is {}", self.repl.replid2, self.repl.second_replid_offset, self.repl.replid);
        if self.repl.backlog.is_none() {
            self.create_backlog();
        }
        // Replicas must learn the new ID: they reconnect and PSYNC.
        self.disconnect_replicas();
        self.repl.slave_seldb = None;
        crate::logging::set_role(b'M');
    }

    pub fn disconnect_replicas(&mut self) {
        let replicas: Vec<usize> = self
            .clients
            .iter()
            .filter(|(_, c)| c.kind == Kind::Replica)
            .map(|(k, _)| k)
            .collect();
        for k in replicas {
            self.close_async(k);
        }
    }

    /// Closes the connection to our master, whatever its state.
    fn drop_master_link(&mut self) {
        self.abandon_load(&crate::persist::RdbError::ShortRead);
        if let Some(t) = self.repl.link.transfer.take() {
            if let Some((_, path)) = t.file {
                let _ = std::fs::remove_file(path);
            }
        }
        if let Some(k) = self.repl.link.key.take() {
            if let Some(c) = self.clients.get_mut(k) {
                // A partial resync (with this master or the next one)
                // continues in the db the stream had selected (Redis keeps
                // it in the cached master).
                if self.repl.link.state == LinkState::Connected {
                    self.repl.link.master_db = c.db;
                }
                // Freed as a normal client: no "master lost" handling.
                c.kind = Kind::Normal;
            }
            self.free_client(k);
        }
    }

    /// Starts a non-blocking connect to the master.
    pub fn repl_connect_master(&mut self) {
        let Some((host, port)) = self.repl.master_host.clone() else {
            return;
        };
        self.repl.link.last_attempt_ms = self.ks.now_ms;
        log::info!("Connecting to MASTER {host}:{port}");
        use std::net::ToSocketAddrs;
        let addr = match (host.as_str(), port)
            .to_socket_addrs()
            .ok()
            .and_then(|mut a| a.next())
        {
            Some(a) => a,
            None => {
                log::warn!("Unable to connect to MASTER: can't resolve {host}");
                return;
            }
        };
        let stream = match mio::net::TcpStream::connect(addr) {
            Ok(s) => s,
            Err(e) => {
                log::warn!("Unable to connect to MASTER: {e}");
                return;
            }
        };
        let _ = stream.set_nodelay(!self.cfg.repl_disable_tcp_nodelay);
        match self.add_client(Stream::Tcp(stream), format!("{host}:{port}"), String::new()) {
            Ok(k) => {
                let c = &mut self.clients[k];
                c.kind = Kind::Master;
                c.flags |= flags::AUTHENTICATED;
                self.repl.link.key = Some(k);
                self.repl.link.state = LinkState::Connecting;
                // The connect completes with a WRITABLE event.
                self.want_write(k, true);
                self.repl.link.handshake_start_ms = self.ks.now_ms;
                log::info!("MASTER <-> REPLICA sync started");
            }
            Err(e) => log::warn!("Unable to connect to MASTER: {e}"),
        }
    }

    /// Sends a command on the master link (bypassing the no-reply rule).
    pub(super) fn send_to_master(&mut self, argv: &[&[u8]]) {
        let Some(k) = self.repl.link.key else {
            return;
        };
        if let Some(c) = self.clients.get_mut(k) {
            let mut o = crate::resp::Out::new(&mut c.reply, 2);
            o.array(argv.len());
            for a in argv {
                o.bulk(a);
            }
        }
        self.mark_pending_write(k);
    }

    /// Whether the master link's events go to the handshake machinery
    /// rather than the command processor.
    pub fn link_in_handshake(&self, key: usize) -> bool {
        self.repl.link.key == Some(key) && self.repl.link.state != LinkState::Connected
    }

    /// Whether `key` is our master link with a connect in progress.
    pub fn link_connecting(&self, key: usize) -> bool {
        self.repl.link.key == Some(key) && self.repl.link.state == LinkState::Connecting
    }

    /// The socket is writable: a pending connect finished.
    pub fn repl_link_writable(&mut self, key: usize) {
        if self.repl.link.state != LinkState::Connecting {
            return;
        }
        let failure = match self.clients.get(key).map(|c| &c.stream) {
            Some(Stream::Tcp(s)) => match (s.take_error(), s.peer_addr()) {
                (Ok(Some(e)), _) | (Err(e), _) | (_, Err(e)) => Some(e.to_string()),
                _ => None,
            },
            _ => Some("not a TCP connection".into()),
        };
        if let Some(e) = failure {
            // Refused, or closed as soon as accepted: retried from cron
            // (waiting for an event that will never come would leave the
            // link connecting forever).
            log::warn!("Error condition on socket for SYNC: {e}");
            self.close_async(key);
            return;
        }
        log::info!("Non blocking connect for SYNC fired the event.");
        self.repl.link.state = LinkState::ReceivePong;
        self.send_to_master(&[b"PING"]);
    }

    /// Drives the handshake and the transfer with the bytes read so far.
    pub fn repl_link_readable(&mut self, key: usize) {
        loop {
            let state = self.repl.link.state;
            if state == LinkState::Transfer {
                self.read_transfer(key);
                return;
            }
            if state == LinkState::Connected {
                self.process_input(key);
                return;
            }
            if state == LinkState::ReceiveGuard {
                let limit = crate::resp::INLINE_MAX_SIZE * 16;
                match self
                    .clients
                    .get_mut(key)
                    .and_then(|c| crate::repl::link::take_reply(&mut c.query, limit))
                {
                    Some(Ok(reply)) => {
                        self.guard_answer(reply);
                        if self.repl.link.guard_replies == 0 {
                            self.repl.link.state = LinkState::ReceivePort;
                        }
                        continue;
                    }
                    Some(Err(())) => {
                        log::warn!("Bad protocol from MASTER during the handshake");
                        self.close_async(key);
                        return;
                    }
                    None => return,
                }
            }
            let line = match self.clients.get_mut(key).map(|c| take_line(&mut c.query)) {
                Some(Some(l)) => l,
                Some(None)
                    if self
                        .clients
                        .get(key)
                        .is_some_and(|c| c.query.len() > crate::resp::INLINE_MAX_SIZE) =>
                {
                    log::warn!("Bad protocol from MASTER: reply line too long");
                    self.close_async(key);
                    return;
                }
                _ => return,
            };
            if let Some(c) = self.clients.get_mut(key) {
                c.last_interaction_ms = self.ks.now_ms;
            }
            if !self.handshake_step(key, state, &line) {
                self.close_async(key);
                return;
            }
        }
    }

    /// One reply of the handshake. False = give up this connection.
    fn handshake_step(&mut self, key: usize, state: LinkState, line: &[u8]) -> bool {
        let text = String::from_utf8_lossy(line).into_owned();
        let is_err = line.first() == Some(&b'-');
        match state {
            LinkState::ReceivePong => {
                if is_err
                    && !text.starts_with("-NOAUTH")
                    && !text.starts_with("-NOPERM")
                    && !text.starts_with("-ERR operation not permitted")
                {
                    log::warn!("Error reply to PING from master: '{text}'");
                    return false;
                }
                log::info!("Master replied to PING, replication can continue...");
                let mut next = LinkState::ReceivePort;
                if !self.cfg.masterauth.is_empty() {
                    let pass = self.cfg.masterauth.clone();
                    let user = self.cfg.masteruser.clone();
                    if user.is_empty() {
                        self.send_to_master(&[b"AUTH", pass.as_bytes()]);
                    } else {
                        self.send_to_master(&[b"AUTH", user.as_bytes(), pass.as_bytes()]);
                    }
                    next = LinkState::ReceiveAuth;
                }
                self.repl.link.guard_replies = 0;
                if self.guard_enabled() {
                    self.guard_ask();
                    if next == LinkState::ReceivePort {
                        next = LinkState::ReceiveGuard;
                    }
                }
                let port = if self.cfg.replica_announce_port != 0 {
                    self.cfg.replica_announce_port
                } else {
                    self.cfg.port
                };
                self.send_to_master(&[b"REPLCONF", b"listening-port", port.to_string().as_bytes()]);
                if !self.cfg.replica_announce_ip.is_empty() {
                    let ip = self.cfg.replica_announce_ip.clone();
                    self.send_to_master(&[b"REPLCONF", b"ip-address", ip.as_bytes()]);
                }
                // digest-at: we answer DEBUG DIGEST-AT-OFFSET (a Redis
                // master ignores capabilities it does not know).
                self.send_to_master(&[
                    b"REPLCONF",
                    b"capa",
                    b"eof",
                    b"capa",
                    b"psync2",
                    b"capa",
                    b"digest-at",
                ]);
                self.repl.link.state = next;
            }
            LinkState::ReceiveAuth => {
                if is_err {
                    log::warn!("Unable to AUTH to MASTER: {text}");
                    return false;
                }
                self.repl.link.state = if self.repl.link.guard_replies > 0 {
                    LinkState::ReceiveGuard
                } else {
                    LinkState::ReceivePort
                };
            }
            LinkState::ReceivePort => {
                if is_err {
                    log::info!(
                        "(Non critical) Master does not understand REPLCONF listening-port: {text}"
                    );
                }
                self.repl.link.state = if self.cfg.replica_announce_ip.is_empty() {
                    LinkState::ReceiveCapa
                } else {
                    LinkState::ReceiveIp
                };
            }
            LinkState::ReceiveIp => {
                if is_err {
                    log::info!(
                        "(Non critical) Master does not understand REPLCONF ip-address: {text}"
                    );
                }
                self.repl.link.state = LinkState::ReceiveCapa;
            }
            LinkState::ReceiveCapa => {
                if is_err {
                    log::info!("(Non critical) Master does not understand REPLCONF capa: {text}");
                }
                self.send_psync();
            }
            LinkState::ReceivePsync => return self.psync_reply(key, &text),
            _ => {}
        }
        true
    }

    fn send_psync(&mut self) {
        let (id, off) = if self.repl.psync_possible {
            (
                self.repl.replid.clone(),
                (self.repl.master_repl_offset + 1).to_string(),
            )
        } else {
            ("?".to_string(), "-1".to_string())
        };
        if self.repl.psync_possible {
            log::info!("Trying a partial resynchronization (request {id}:{off}).");
        } else {
            log::info!("Partial resynchronization not possible (no cached master)");
        }
        if self.failover_in_progress() {
            self.send_to_master(&[b"PSYNC", id.as_bytes(), off.as_bytes(), b"FAILOVER"]);
        } else {
            self.send_to_master(&[b"PSYNC", id.as_bytes(), off.as_bytes()]);
        }
        self.repl.link.state = LinkState::ReceivePsync;
        self.repl.link.old_sync = false;
    }

    fn psync_reply(&mut self, key: usize, text: &str) -> bool {
        if text.is_empty() {
            // Keep-alive newline while the master prepares.
            return true;
        }
        if self.failover_in_progress() {
            if text.starts_with("+FULLRESYNC") || text.starts_with("+CONTINUE") {
                self.failover_done();
            } else {
                self.abort_failover("Failover target rejected psync request");
                return false;
            }
        }
        if let Some(rest) = text.strip_prefix("+FULLRESYNC") {
            let mut it = rest.split_whitespace();
            let id = it.next().unwrap_or("").to_string();
            let off = it.next().and_then(|o| o.parse::<i64>().ok()).unwrap_or(-1);
            log::info!("Full resync from master: {id}:{off}");
            self.repl.link.fullsync_replid = id;
            self.repl.link.fullsync_offset = off;
            self.begin_transfer();
            return true;
        }
        if let Some(rest) = text.strip_prefix("+CONTINUE") {
            let newid = rest.trim();
            if !newid.is_empty() && newid != self.repl.replid {
                // The master's history has a new name: keep ours as replid2.
                self.repl.replid2 = std::mem::replace(&mut self.repl.replid, newid.to_string());
                self.repl.second_replid_offset = self.repl.master_repl_offset + 1;
                log::info!("Master replication ID changed to {newid}");
                self.disconnect_replicas();
            }
            if self.repl.link.master_run_id.is_some() {
                self.repl.synced_run_id = self.repl.link.master_run_id.clone();
            }
            log::info!("Successful partial resynchronization with master.");
            log::info!("MASTER <-> REPLICA sync: Master accepted a Partial Resynchronization.");
            if self.repl.backlog.is_none() {
                self.create_backlog();
            }
            let db = self.repl.link.master_db;
            self.link_established(key, db);
            return true;
        }
        if text.starts_with("-NOMASTERLINK") || text.starts_with("-LOADING") {
            log::info!("Master is currently unable to PSYNC but should be in the future: {text}");
            return false;
        }
        if text.starts_with('-') {
            // An old master without PSYNC: fall back to SYNC.
            log::warn!("Unexpected reply to PSYNC from master: {text}");
            self.send_to_master(&[b"SYNC"]);
            self.repl.link.old_sync = true;
            self.repl.link.fullsync_replid = crate::util::random_hex40();
            self.repl.link.fullsync_offset = -1;
            self.begin_transfer();
            return true;
        }
        log::warn!("Unexpected reply to PSYNC from master: {text}");
        false
    }

    /// Streaming from now on; what is left in the buffer is stream.
    pub(super) fn link_established(&mut self, key: usize, db: usize) {
        self.repl.link.state = LinkState::Connected;
        self.repl.master_link_up = true;
        self.repl.psync_possible = !self.repl.link.old_sync;
        if let Some(c) = self.clients.get_mut(key) {
            c.db = db;
            c.last_interaction_ms = self.ks.now_ms;
        }
        self.send_ack();
        self.process_input(key);
    }

    /// REPLCONF ACK <offset> to the master.
    pub fn send_ack(&mut self) {
        if self.repl.link.state != LinkState::Connected || self.repl.link.old_sync {
            return;
        }
        let off = self.repl.master_repl_offset.to_string();
        self.send_to_master(&[b"REPLCONF", b"ACK", off.as_bytes()]);
    }

    /// Our master's connection went away.
    pub fn repl_master_gone(&mut self, key: usize) {
        if self.repl.link.key != Some(key) {
            return;
        }
        self.repl.link.key = None;
        if let Some(c) = self.clients.get(key) {
            if self.repl.link.state == LinkState::Connected {
                self.repl.link.master_db = c.db;
                self.repl.link.last_master_data_ms = c.last_interaction_ms;
            }
        }
        // A load cut short keeps the old data set.
        self.abandon_load(&crate::persist::RdbError::ShortRead);
        if let Some(t) = self.repl.link.transfer.take() {
            if let Some((_, path)) = t.file {
                let _ = std::fs::remove_file(path);
            }
        }
        let was_streaming = self.repl.link.state == LinkState::Connected;
        if was_streaming {
            log::info!("Connection with master lost.");
            log::info!("Caching the disconnected master state.");
            self.repl.link.down_since_ms = self.ks.now_ms;
        }
        self.repl.master_link_up = false;
        if self.repl.is_replica() {
            self.repl.link.state = LinkState::Connect;
            if self.repl.refused_empty {
                return;
            }
            // A streaming link that broke is retried at once, as Redis does
            // ("Reconnecting to MASTER"); failures during a handshake wait
            // for the once-a-second cron, so a refusing master is not
            // hammered.
            if was_streaming {
                log::info!(
                    "Reconnecting to MASTER {}",
                    self.repl
                        .master_host
                        .as_ref()
                        .map_or(String::new(), |(h, p)| format!("{h}:{p}"))
                );
                self.repl_connect_master();
            }
        }
    }

    /// Reconnects, sends ACKs, and enforces repl-timeout (once a second).
    pub fn repl_replica_cron(&mut self) {
        if !self.repl.is_replica() {
            return;
        }
        let now = self.ks.now_ms;
        let timeout = self.cfg.repl_timeout as i64 * 1000;
        match self.repl.link.state {
            LinkState::Connect => {
                self.guard_cron();
                if now - self.repl.link.last_attempt_ms >= 1000 && !self.repl.refused_empty {
                    self.repl_connect_master();
                }
            }
            LinkState::Connected => {
                let idle = self
                    .repl
                    .link
                    .key
                    .and_then(|k| self.clients.get(k))
                    .map_or(0, |c| now - c.last_interaction_ms);
                if idle > timeout {
                    log::warn!("MASTER timeout: no data nor PING received...");
                    if let Some(k) = self.repl.link.key {
                        self.close_async(k);
                    }
                } else {
                    self.send_ack();
                }
            }
            LinkState::Transfer => {
                let last = self
                    .repl
                    .link
                    .transfer
                    .as_ref()
                    .map_or(now, |t| t.last_io_ms);
                if now - last > timeout {
                    log::warn!("Timeout receiving bulk data from MASTER... If the problem persists try to set the 'repl-timeout' parameter in redis.conf to a larger value.");
                    if let Some(k) = self.repl.link.key {
                        self.close_async(k);
                    }
                } else if self
                    .repl
                    .link
                    .transfer
                    .as_ref()
                    .is_some_and(|t| t.load.is_some())
                {
                    // A newline a second while loading: the master does not
                    // take a long load for a dead replica.
                    if let Some(k) = self.repl.link.key {
                        if let Some(c) = self.clients.get_mut(k) {
                            c.reply.push(b'\n');
                        }
                        self.mark_pending_write(k);
                    }
                }
            }
            _ => {
                if now - self.repl.link.handshake_start_ms > timeout {
                    log::warn!("Timeout connecting to the MASTER...");
                    if let Some(k) = self.repl.link.key {
                        self.close_async(k);
                    }
                }
            }
        }
    }
}
