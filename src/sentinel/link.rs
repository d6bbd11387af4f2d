//! Links to instances (Redis's instanceLink over two hiredis async
//! contexts): a command connection, and for masters and replicas a Pub/Sub
//! connection subscribed to the hello channel. Non-blocking connects in the
//! one poll loop, an output buffer, and a queue of reply callbacks: every
//! command sent registers what to do with its reply, in order.
//!
//! Behaviour kept from hiredis because Sentinel depends on it: an error
//! reply that no callback waits for (as on the Pub/Sub connection when
//! SUBSCRIBE is refused by a server we cannot authenticate to) closes the
//! connection, so the link shows as disconnected and is retried.

use super::instance::Target;
use super::{sri, Env, Level, Sentinel, Which, TOKEN_BASE};
use crate::resp::reply::{parse_reply, Reply};
use mio::net::TcpStream;
use mio::{Interest, Token};
use std::collections::VecDeque;
use std::io::{self, Read, Write};

/// Most input buffered for one connection without a complete reply.
const MAX_INPUT: usize = 64 * 1024 * 1024;

/// What to do with a reply.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cb {
    Discard,
    Info,
    Ping,
    Publish,
    IsMasterDown,
}

pub struct Link {
    /// Instances sharing this link (Sentinels under several masters).
    pub refcount: u32,
    /// One of the connections is missing.
    pub disconnected: bool,
    pub pending_commands: i64,
    pub cc: Option<usize>,
    pub pc: Option<usize>,
    pub cc_conn_time: i64,
    pub pc_conn_time: i64,
    pub pc_last_activity: i64,
    /// Last valid reply to PING.
    pub last_avail_time: i64,
    /// When the oldest unanswered PING was sent (0: none pending).
    pub act_ping_time: i64,
    pub last_ping_time: i64,
    /// Last reply to PING, whatever it was.
    pub last_pong_time: i64,
    pub last_reconn_time: i64,
}

impl Link {
    pub fn new(now: i64) -> Link {
        Link {
            refcount: 1,
            disconnected: true,
            pending_commands: 0,
            cc: None,
            pc: None,
            cc_conn_time: 0,
            pc_conn_time: 0,
            pc_last_activity: 0,
            // "Now" even without a connection, so an instance we can never
            // connect to times out.
            last_avail_time: now,
            act_ping_time: now,
            last_ping_time: 0,
            last_pong_time: now,
            last_reconn_time: 0,
        }
    }
}

pub struct Conn {
    pub link: usize,
    pub pubsub: bool,
    stream: TcpStream,
    connected: bool,
    out: Vec<u8>,
    sent: usize,
    input: Vec<u8>,
    callbacks: VecDeque<(Cb, Target)>,
    /// The instance the hello subscription feeds (Pub/Sub connection).
    subscribed: Option<Target>,
}

/// A reply taken off a connection, with where it goes.
enum Delivery {
    Callback(Cb, Target, Reply),
    Hello(Target, Reply),
}

impl Sentinel {
    /// Opens a non-blocking connection for `link`; None when the connect
    /// could not even start (the reason is logged as Redis does).
    pub(crate) fn open_conn(
        &mut self,
        env: &Env<'_>,
        m: usize,
        w: Which,
        pubsub: bool,
    ) -> Option<usize> {
        let ri = self.masters[m].get(w);
        let link = ri.link;
        let what = if pubsub {
            "-pubsub-link-reconnection"
        } else {
            "-cmd-link-reconnection"
        };
        let ip: Result<std::net::IpAddr, _> = ri.addr.ip.parse();
        let stream = match ip {
            Ok(ip) => TcpStream::connect(std::net::SocketAddr::new(ip, ri.addr.port)),
            Err(_) => Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "Can't resolve instance hostname",
            )),
        };
        let mut stream = match stream {
            Ok(s) => s,
            Err(e) => {
                let at = self.at(m, w);
                self.event(Level::Debug, what, Some(m), format!("{at} #{e}"));
                return None;
            }
        };
        let _ = stream.set_nodelay(true);
        let entry = self.conns.vacant_entry();
        let key = entry.key();
        if let Err(e) = env.registry.register(
            &mut stream,
            Token(TOKEN_BASE + key),
            Interest::READABLE | Interest::WRITABLE,
        ) {
            let at = self.at(m, w);
            self.event(Level::Debug, what, Some(m), format!("{at} #{e}"));
            return None;
        }
        entry.insert(Conn {
            link,
            pubsub,
            stream,
            connected: false,
            out: Vec::new(),
            sent: 0,
            input: Vec::new(),
            callbacks: VecDeque::new(),
            subscribed: None,
        });
        Some(key)
    }

    /// Queues a command on a connection with the callback for its reply.
    /// False when the connection is gone.
    pub(crate) fn send(&mut self, conn: usize, argv: &[&[u8]], cb: Cb, target: Target) -> bool {
        let Some(c) = self.conns.get_mut(conn) else {
            return false;
        };
        let mut o = crate::resp::Out::new(&mut c.out, 2);
        o.array(argv.len());
        for a in argv {
            o.bulk(a);
        }
        c.callbacks.push_back((cb, target));
        let link = c.link;
        if let Some(l) = self.links.get_mut(link) {
            l.pending_commands += 1;
        }
        self.mark_dirty(conn);
        true
    }

    /// The connection has output to write before the loop sleeps.
    fn mark_dirty(&mut self, conn: usize) {
        if !self.dirty_conns.contains(&conn) {
            self.dirty_conns.push(conn);
        }
    }

    /// Writes the output queued during this call (one write per connection
    /// instead of one per command, as hiredis writes from the loop).
    pub(crate) fn flush_dirty(&mut self) {
        for conn in std::mem::take(&mut self.dirty_conns) {
            self.flush_conn(conn);
        }
    }

    /// SUBSCRIBE on the Pub/Sub connection: its replies and messages go to
    /// the hello handler, not to the callback queue.
    pub(crate) fn subscribe_hello(&mut self, conn: usize, cmd: &str, target: Target) {
        let Some(c) = self.conns.get_mut(conn) else {
            return;
        };
        let mut o = crate::resp::Out::new(&mut c.out, 2);
        o.array(2);
        o.bulk(cmd.as_bytes());
        o.bulk(super::HELLO_CHANNEL.as_bytes());
        c.subscribed = Some(target);
        self.mark_dirty(conn);
    }

    /// Writes what is buffered, as far as the socket takes it.
    fn flush_conn(&mut self, conn: usize) {
        let Some(c) = self.conns.get_mut(conn) else {
            return;
        };
        if !c.connected {
            return;
        }
        while c.sent < c.out.len() {
            match c.stream.write(&c.out[c.sent..]) {
                Ok(0) => break,
                Ok(n) => c.sent += n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(_) => {
                    self.conn_error(conn);
                    return;
                }
            }
        }
        if c.sent == c.out.len() {
            c.out.clear();
            c.sent = 0;
        }
    }

    /// A connection failed or was closed by the peer (hiredis's disconnect
    /// callback): the link is disconnected and will be retried.
    fn conn_error(&mut self, conn: usize) {
        self.close_conn(conn, false);
    }

    /// Closes a connection (instanceLinkCloseConnection when
    /// `reset_pending`; the error path keeps the pending count).
    pub(crate) fn close_conn(&mut self, conn: usize, reset_pending: bool) {
        if !self.conns.contains(conn) {
            return;
        }
        let c = self.conns.remove(conn);
        // Closing the socket (on drop) also removes it from the poller;
        // shutdown makes the peer see the close at once.
        let _ = c.stream.shutdown(std::net::Shutdown::Both);
        self.dirty_conns.retain(|&k| k != conn);
        if let Some(l) = self.links.get_mut(c.link) {
            if l.cc == Some(conn) {
                l.cc = None;
                if reset_pending {
                    l.pending_commands = 0;
                }
            }
            if l.pc == Some(conn) {
                l.pc = None;
            }
            l.disconnected = true;
        }
    }

    /// Closes both connections of a link.
    pub(crate) fn close_link_conns(&mut self, link: usize) {
        if let Some(l) = self.links.get(link) {
            let (cc, pc) = (l.cc, l.pc);
            for c in [cc, pc].into_iter().flatten() {
                self.close_conn(c, true);
            }
        }
    }

    /// An event on one of our connections (`id` is the token minus
    /// TOKEN_BASE).
    pub fn conn_event(&mut self, env: &Env<'_>, id: usize, readable: bool, writable: bool) {
        self.conn_event_inner(id, readable, writable);
        self.end_of_call(env);
    }

    fn conn_event_inner(&mut self, id: usize, readable: bool, writable: bool) {
        let Some(c) = self.conns.get_mut(id) else {
            return;
        };
        if !c.connected {
            // A connect in progress: done, failed, or (a stale event) not yet.
            if let Ok(Some(_)) | Err(_) = c.stream.take_error() {
                self.conn_error(id);
                return;
            }
            match c.stream.peer_addr() {
                Ok(_) => c.connected = true,
                Err(e) if e.kind() == io::ErrorKind::NotConnected && !readable => return,
                Err(_) => {
                    self.conn_error(id);
                    return;
                }
            }
        }
        if writable {
            self.flush_conn(id);
        }
        if readable {
            self.read_conn(id);
        }
    }

    /// Reads until the socket would block, then hands every complete reply
    /// to its callback (stopping if a callback closed this connection).
    fn read_conn(&mut self, id: usize) {
        let mut open = true;
        {
            let Some(c) = self.conns.get_mut(id) else {
                return;
            };
            let mut buf = [0u8; 16 * 1024];
            loop {
                match c.stream.read(&mut buf) {
                    Ok(0) => {
                        open = false;
                        break;
                    }
                    Ok(n) => {
                        c.input.extend_from_slice(&buf[..n]);
                        if c.input.len() > MAX_INPUT {
                            log::warn!("Sentinel link: reply too long, closing the connection");
                            open = false;
                            break;
                        }
                    }
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    Err(_) => {
                        open = false;
                        break;
                    }
                }
            }
        }
        let mut deliveries = Vec::new();
        let mut protocol_error = false;
        if let Some(c) = self.conns.get_mut(id) {
            let mut pos = 0;
            loop {
                match parse_reply(&c.input[pos..]) {
                    Ok(Some((reply, used))) => {
                        pos += used;
                        // Hiredis: pending callbacks first; then, on a
                        // subscribed connection, the subscription handler;
                        // an unexpected error reply disconnects.
                        if let Some((cb, t)) = c.callbacks.pop_front() {
                            deliveries.push(Delivery::Callback(cb, t, reply));
                        } else if reply.is_error() {
                            protocol_error = true;
                            break;
                        } else if let Some(t) = c.subscribed {
                            deliveries.push(Delivery::Hello(t, reply));
                        } else {
                            protocol_error = true;
                            break;
                        }
                    }
                    Ok(None) => break,
                    Err(e) => {
                        log::warn!("Sentinel link: protocol error from the instance ({})", e.0);
                        protocol_error = true;
                        break;
                    }
                }
            }
            c.input.drain(..pos);
        }
        let link = self.conns.get(id).map(|c| c.link);
        for d in deliveries {
            if !self.conns.contains(id) {
                break;
            }
            match d {
                Delivery::Callback(cb, t, reply) => {
                    if let Some(l) = link.and_then(|l| self.links.get_mut(l)) {
                        l.pending_commands -= 1;
                    }
                    self.dispatch(cb, t, &reply);
                }
                Delivery::Hello(t, reply) => self.receive_hello(t, &reply),
            }
        }
        if !open || protocol_error {
            self.conn_error(id);
        }
    }

    /// Runs a reply callback for the instance, if it still exists.
    fn dispatch(&mut self, cb: Cb, t: Target, reply: &Reply) {
        let Some((m, w)) = self.resolve(t) else {
            return;
        };
        match cb {
            Cb::Discard => {}
            Cb::Info => {
                if let Reply::Bulk(Some(text)) = reply {
                    let text = String::from_utf8_lossy(text).into_owned();
                    self.refresh_instance_info(m, w, &text);
                }
            }
            Cb::Ping => self.ping_reply(m, w, reply),
            Cb::Publish => {
                if !reply.is_error() {
                    self.masters[m].get_mut(w).last_pub_time = crate::util::mstime();
                }
            }
            Cb::IsMasterDown => self.is_master_down_reply(m, w, reply),
        }
    }

    /// AUTH with the credentials for this kind of instance, if any
    /// (sentinelSendAuthIfNeeded).
    pub(crate) fn send_auth_if_needed(&mut self, env: &Env<'_>, m: usize, w: Which, conn: usize) {
        let ri = self.masters[m].get(w);
        let (pass, user) = if ri.has(sri::SENTINEL) {
            match &self.sentinel_auth_pass {
                Some(p) => (Some(p.clone()), self.sentinel_auth_user.clone()),
                // Old configs: requirepass is used both ways.
                None if !env.cfg.requirepass.is_empty() => {
                    (Some(env.cfg.requirepass.clone()), None)
                }
                None => (None, None),
            }
        } else {
            let master = &self.masters[m].ri;
            (master.auth_pass.clone(), master.auth_user.clone())
        };
        let Some(pass) = pass else {
            return;
        };
        let auth = self.map_command(m, "AUTH");
        let t = self.masters[m].target(w);
        match user {
            None => self.send(conn, &[auth.as_bytes(), pass.as_bytes()], Cb::Discard, t),
            Some(u) => self.send(
                conn,
                &[auth.as_bytes(), u.as_bytes(), pass.as_bytes()],
                Cb::Discard,
                t,
            ),
        };
    }

    /// CLIENT SETNAME sentinel-<first 8 chars of our ID>-<cmd|pubsub>.
    pub(crate) fn set_client_name(&mut self, m: usize, w: Which, conn: usize, kind: &str) {
        let myid: String = self.myid.chars().take(8).collect();
        let name = format!("sentinel-{myid}-{kind}");
        let client = self.map_command(m, "CLIENT");
        let t = self.masters[m].target(w);
        self.send(
            conn,
            &[client.as_bytes(), b"SETNAME", name.as_bytes()],
            Cb::Discard,
            t,
        );
    }

    /// The local address of a connection, for hello messages.
    pub(crate) fn conn_local_ip(&self, conn: usize) -> Option<String> {
        self.conns
            .get(conn)
            .and_then(|c| c.stream.local_addr().ok())
            .map(|a| a.ip().to_string())
    }

    /// Drops every connection to other Sentinels (credentials changed).
    pub fn drop_sentinel_connections(&mut self) -> usize {
        let mut links = Vec::new();
        for m in &self.masters {
            for s in &m.sentinels {
                if self.links.get(s.link).is_some_and(|l| !l.disconnected)
                    && !links.contains(&s.link)
                {
                    links.push(s.link);
                }
            }
        }
        for l in &links {
            self.close_link_conns(*l);
        }
        links.len()
    }

    /// dropInstanceConnections: the master's and its replicas' links.
    pub fn drop_instance_connections(&mut self, m: usize) {
        let mut links = vec![self.masters[m].ri.link];
        links.extend(self.masters[m].slaves.iter().map(|s| s.link));
        for l in links {
            self.close_link_conns(l);
        }
    }
}
