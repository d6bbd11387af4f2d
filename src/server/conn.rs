//! Connection commands: QUIT, RESET, AUTH, HELLO, SELECT, CLIENT.

use super::admin::unknown_subcommand;
use super::Server;
use crate::cmd::eq_ic;
use crate::error::{self, CmdError};
use crate::net::{flags, Client, Kind};
use crate::resp::Out;
use bytes::Bytes;

type R = Result<(), CmdError>;

impl Server {
    pub fn cmd_quit(&mut self, key: usize) -> R {
        self.reply_ok(key);
        if let Some(c) = self.clients.get_mut(key) {
            c.flags |= flags::CLOSE_AFTER_REPLY;
        }
        Ok(())
    }

    pub fn cmd_reset(&mut self, key: usize) -> R {
        self.cmd_discard_silent(key);
        self.unwatch_all(key);
        self.pubsub_unsubscribe_all(key);
        self.clients.remove_monitor(key);
        self.tracking_disable(key);
        // clientSetDefaultAuth: back to the default user.
        let authenticated = self.acl.default_needs_no_auth();
        if let Some(c) = self.clients.get_mut(key) {
            c.user = crate::acl::DEFAULT_USER;
            c.db = 0;
            c.resp = 2;
            c.name = None;
            c.flags &= !(flags::MONITOR
                | flags::REPLY_OFF
                | flags::REPLY_SKIP
                | flags::REPLY_SKIP_NEXT
                | flags::NO_EVICT
                | flags::PUBSUB);
            if authenticated {
                c.flags |= flags::AUTHENTICATED;
            } else {
                c.flags &= !flags::AUTHENTICATED;
            }
        }
        self.reply(key, |o| o.simple("RESET"));
        Ok(())
    }

    pub fn cmd_auth(&mut self, key: usize, argv: &[Bytes]) -> R {
        if argv.len() > 3 {
            return Err(error::SYNTAX.into());
        }
        let (user, pass): (&[u8], &[u8]) = if argv.len() == 3 {
            (&argv[1], &argv[2])
        } else {
            (b"default", &argv[1])
        };
        if argv.len() == 2 && self.acl.default_user().nopass() {
            return Err("ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?".into());
        }
        if self.acl_authenticate(key, &argv[0], user, pass) {
            self.reply_ok(key);
            Ok(())
        } else {
            Err(error::WRONGPASS.into())
        }
    }

    pub fn cmd_hello(&mut self, key: usize, argv: &[Bytes]) -> R {
        let mut ver = None;
        let mut j = 1;
        if argv.len() >= 2 {
            let v = crate::encoding::numbers::string2ll(&argv[1]).ok_or(CmdError::from(
                "ERR Protocol version is not an integer or out of range",
            ))?;
            if !(2..=3).contains(&v) {
                return Err("NOPROTO unsupported protocol version".into());
            }
            ver = Some(v as u8);
            j = 2;
        }
        let mut setname: Option<Vec<u8>> = None;
        while j < argv.len() {
            let more = argv.len() - j - 1;
            if eq_ic(&argv[j], "auth") && more >= 2 {
                if !self.acl_authenticate(key, &argv[0], &argv[j + 1], &argv[j + 2]) {
                    return Err(error::WRONGPASS.into());
                }
                j += 3;
            } else if eq_ic(&argv[j], "setname") && more >= 1 {
                validate_client_name(&argv[j + 1])?;
                setname = Some(argv[j + 1].to_vec());
                j += 2;
            } else {
                return Err(CmdError::msg(format!(
                    "ERR Syntax error in HELLO option '{}'",
                    String::from_utf8_lossy(&argv[j])
                )));
            }
        }
        if self
            .clients
            .get(key)
            .is_some_and(|c| !c.has(flags::AUTHENTICATED))
        {
            return Err("NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO <proto> AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time".into());
        }
        let role = if self.repl.is_replica() {
            "replica"
        } else {
            "master"
        };
        let Some(c) = self.clients.get_mut(key) else {
            return Ok(());
        };
        if let Some(n) = setname {
            c.name = if n.is_empty() { None } else { Some(n) };
        }
        if let Some(v) = ver {
            c.resp = v;
        }
        let id = c.id;
        let sentinel = self.sentinel.is_some();
        let mut o = Out::new(&mut c.reply, c.resp);
        // A Sentinel has no replication role to report.
        o.map(if sentinel { 6 } else { 7 });
        o.bulk(b"server");
        o.bulk(b"redis");
        o.bulk(b"version");
        o.bulk(crate::REDIS_VERSION.as_bytes());
        o.bulk(b"proto");
        o.int(o.resp as i64);
        o.bulk(b"id");
        o.int(id as i64);
        o.bulk(b"mode");
        if sentinel {
            o.bulk(b"sentinel");
        } else {
            o.bulk(b"standalone");
            o.bulk(b"role");
            o.bulk(role.as_bytes());
        }
        o.bulk(b"modules");
        o.array(0);
        Ok(())
    }

    pub fn cmd_select(&mut self, key: usize, argv: &[Bytes]) -> R {
        let n =
            crate::encoding::numbers::string2ll(&argv[1]).ok_or(CmdError::from(error::NOT_INT))?;
        if self.cluster.is_some() && n != 0 {
            return Err("ERR SELECT is not allowed in cluster mode".into());
        }
        if n < 0 || n >= self.ks.dbs.len() as i64 {
            return Err(error::DB_RANGE.into());
        }
        if let Some(c) = self.clients.get_mut(key) {
            c.db = n as usize;
        }
        self.reply_ok(key);
        Ok(())
    }

    pub fn cmd_client(&mut self, key: usize, argv: &[Bytes]) -> R {
        let sub = &argv[1][..];
        let n = argv.len();
        if eq_ic(sub, "id") && n == 2 {
            let id = self.clients.get(key).map_or(0, |c| c.id);
            self.reply(key, |o| o.int(id as i64));
        } else if eq_ic(sub, "setname") && n == 3 {
            validate_client_name(&argv[2])?;
            if let Some(c) = self.clients.get_mut(key) {
                c.name = if argv[2].is_empty() {
                    None
                } else {
                    Some(argv[2].to_vec())
                };
            }
            self.reply_ok(key);
        } else if eq_ic(sub, "getname") && n == 2 {
            let name = self.clients.get(key).and_then(|c| c.name.clone());
            self.reply(key, |o| match name {
                Some(n) => o.bulk(&n),
                None => o.null(),
            });
        } else if eq_ic(sub, "info") && n == 2 {
            let line = self.client_info_line(key);
            self.reply(key, |o| o.verbatim(line.as_bytes()));
        } else if eq_ic(sub, "list") {
            self.client_list(key, argv)?;
        } else if eq_ic(sub, "kill") && n >= 3 {
            self.client_kill(key, argv)?;
        } else if eq_ic(sub, "reply") && n == 3 {
            let c = match self.clients.get_mut(key) {
                Some(c) => c,
                None => return Ok(()),
            };
            if eq_ic(&argv[2], "on") {
                c.flags &= !(flags::REPLY_OFF | flags::REPLY_SKIP | flags::REPLY_SKIP_NEXT);
                self.reply_ok(key);
            } else if eq_ic(&argv[2], "off") {
                c.flags |= flags::REPLY_OFF;
            } else if eq_ic(&argv[2], "skip") {
                if !c.has(flags::REPLY_OFF) {
                    c.flags |= flags::REPLY_SKIP_NEXT;
                }
            } else {
                return Err(error::SYNTAX.into());
            }
        } else if eq_ic(sub, "no-evict") && n == 3 {
            let c = match self.clients.get_mut(key) {
                Some(c) => c,
                None => return Ok(()),
            };
            if eq_ic(&argv[2], "on") {
                c.flags |= flags::NO_EVICT;
            } else if eq_ic(&argv[2], "off") {
                c.flags &= !flags::NO_EVICT;
            } else {
                return Err(error::SYNTAX.into());
            }
            self.reply_ok(key);
            self.update_client_mem(key);
        } else if eq_ic(sub, "pause") && (n == 3 || n == 4) {
            let ms = crate::encoding::numbers::string2ll(&argv[2]).ok_or(CmdError::from(
                "ERR timeout is not an integer or out of range",
            ))?;
            if ms < 0 {
                return Err("ERR timeout is negative".into());
            }
            let writes_only = match argv.get(3) {
                None => false,
                Some(a) if eq_ic(a, "write") => true,
                Some(a) if eq_ic(a, "all") => false,
                Some(_) => return Err(error::SYNTAX.into()),
            };
            // A longer or stricter pause wins over the current one.
            let until = self.ks.now_ms + ms;
            let was_active = self.clients_paused_until_ms != 0;
            if !was_active || until > self.clients_paused_until_ms {
                self.clients_paused_until_ms = until;
            }
            self.pause_writes_only = writes_only && (!was_active || self.pause_writes_only);
            self.reply_ok(key);
        } else if eq_ic(sub, "unpause") && n == 2 {
            self.unpause_clients();
            self.reply_ok(key);
        } else if eq_ic(sub, "unblock") && (n == 3 || n == 4) {
            let id = crate::encoding::numbers::string2ll(&argv[2])
                .ok_or(CmdError::from(error::NOT_INT))?;
            let with_error = match argv.get(3) {
                None => false,
                Some(a) if eq_ic(a, "error") => true,
                Some(a) if eq_ic(a, "timeout") => false,
                Some(_) => {
                    return Err("ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR".into())
                }
            };
            let done = self.unblock_by_id(id as u64, with_error);
            self.reply(key, |o| o.int(done as i64));
        } else if eq_ic(sub, "tracking")
            || eq_ic(sub, "caching")
            || eq_ic(sub, "getredir")
            || eq_ic(sub, "trackinginfo")
        {
            return self.client_tracking_command(key, argv);
        } else if eq_ic(sub, "help") && n == 2 {
            self.reply_help(key, CLIENT_HELP);
        } else {
            return Err(unknown_subcommand(sub, "CLIENT"));
        }
        Ok(())
    }

    /// One CLIENT LIST / CLIENT INFO line, with Redis 7.0's fields.
    pub fn client_info_line(&self, key: usize) -> String {
        let Some(c) = self.clients.get(key) else {
            return String::new();
        };
        let mut fl = String::new();
        if c.has(flags::MONITOR) {
            fl.push('O');
        }
        if c.kind == Kind::Replica {
            fl.push('S');
        }
        if c.kind == Kind::Master {
            fl.push('M');
        }
        if c.has(flags::PUBSUB) {
            fl.push('P');
        }
        if c.has(flags::MULTI) {
            fl.push('x');
        }
        if c.has(flags::BLOCKED) {
            fl.push('b');
        }
        for (f, ch) in [
            (flags::TRACKING, 't'),
            (flags::TRACKING_BROKEN_REDIR, 'R'),
            (flags::TRACKING_BCAST, 'B'),
            (flags::DIRTY_CAS, 'd'),
            (flags::CLOSE_AFTER_REPLY, 'c'),
            (flags::CLOSE_ASAP, 'A'),
        ] {
            if c.has(f) {
                fl.push(ch);
            }
        }
        if c.has(flags::UNIX_SOCKET) {
            fl.push('U');
        }
        if c.has(flags::READONLY) {
            fl.push('r');
        }
        if c.has(flags::NO_EVICT) {
            fl.push('e');
        }
        if fl.is_empty() {
            fl.push('N');
        }
        let now = self.ks.now_ms;
        let name = c
            .name
            .as_deref()
            .map(|n| String::from_utf8_lossy(n).into_owned())
            .unwrap_or_default();
        let events = if c.pending_reply() > 0 { "rw" } else { "r" };
        let mut m = super::client_mem::client_mem(c, self.pubsub_entries(key));
        // A replica's output is its part of the shared replication buffer.
        let shared = self.replica_shared_memory(key) as usize;
        m.omem += shared;
        m.tot_mem += shared;
        // The master link runs as no user (Redis: "(superuser)").
        let user = if c.kind == Kind::Master {
            "(superuser)".to_string()
        } else {
            String::from_utf8_lossy(&self.acl.user(c.user).name).into_owned()
        };
        let redir = if c.has(flags::TRACKING) {
            c.tracking_redirect as i64
        } else {
            -1
        };
        format!(
            "id={} addr={} laddr={} fd={} name={} age={} idle={} flags={} db={} sub={} psub={} ssub=0 multi={} qbuf={} qbuf-free={} argv-mem={} multi-mem={} rbs={} rbp={} obl={} oll={} omem={} tot-mem={} events={} cmd={} user={} redir={} resp={}\n",
            c.id,
            c.addr,
            c.laddr,
            c.stream.raw_fd(),
            name,
            (now - c.ctime_ms) / 1000,
            (now - c.last_interaction_ms) / 1000,
            fl,
            c.db,
            self.clients.subscriptions(key, false).len(),
            self.clients.subscriptions(key, true).len(),
            if c.has(flags::MULTI) { c.mstate.len() as i64 } else { -1 },
            m.qbuf,
            m.qbuf_free,
            m.argv_mem,
            m.multi_mem,
            m.rbs,
            m.rbp,
            m.obl,
            m.oll,
            m.omem,
            m.tot_mem,
            events,
            c.last_cmd,
            user,
            redir,
            c.resp,
        )
    }

    fn client_list(&mut self, key: usize, argv: &[Bytes]) -> R {
        let mut kind_filter: Option<Kind> = None;
        let mut pubsub_only = false;
        let mut ids: Option<Vec<u64>> = None;
        let mut j = 2;
        while j < argv.len() {
            if eq_ic(&argv[j], "type") && j + 1 < argv.len() {
                let t = &argv[j + 1];
                if eq_ic(t, "normal") {
                    kind_filter = Some(Kind::Normal);
                } else if eq_ic(t, "replica") || eq_ic(t, "slave") {
                    kind_filter = Some(Kind::Replica);
                } else if eq_ic(t, "master") {
                    kind_filter = Some(Kind::Master);
                } else if eq_ic(t, "pubsub") {
                    pubsub_only = true;
                } else {
                    return Err(CmdError::msg(format!(
                        "ERR Unknown client type '{}'",
                        String::from_utf8_lossy(t)
                    )));
                }
                j += 2;
            } else if eq_ic(&argv[j], "id") && j + 1 < argv.len() {
                let mut v = Vec::new();
                for a in &argv[j + 1..] {
                    let n = crate::encoding::numbers::string2ll(a)
                        .filter(|&n| n > 0)
                        .ok_or(CmdError::from("ERR Invalid client ID"))?;
                    v.push(n as u64);
                }
                ids = Some(v);
                j = argv.len();
            } else {
                return Err(error::SYNTAX.into());
            }
        }
        let mut text = String::new();
        let mut list: Vec<(usize, &Client)> = self.clients.iter().collect();
        list.sort_by_key(|(_, c)| c.id);
        for (k, c) in list {
            if kind_filter
                .is_some_and(|k| k != c.kind || (k == Kind::Normal && c.has(flags::PUBSUB)))
            {
                continue;
            }
            if pubsub_only && !c.has(flags::PUBSUB) {
                continue;
            }
            if ids.as_ref().is_some_and(|v| !v.contains(&c.id)) {
                continue;
            }
            text.push_str(&self.client_info_line(k));
        }
        self.reply(key, |o| o.verbatim(text.as_bytes()));
        Ok(())
    }

    fn client_kill(&mut self, key: usize, argv: &[Bytes]) -> R {
        // Old form: CLIENT KILL addr:port
        if argv.len() == 3 {
            let addr = String::from_utf8_lossy(&argv[2]).into_owned();
            let Some(victim) = self
                .clients
                .iter()
                .find(|(_, c)| c.addr == addr)
                .map(|(k, _)| k)
            else {
                return Err("ERR No such client".into());
            };
            self.kill_client(victim, key);
            self.reply_ok(key);
            return Ok(());
        }
        let mut id: Option<u64> = None;
        let mut kind: Option<Kind> = None;
        let mut addr: Option<String> = None;
        let mut laddr: Option<String> = None;
        let mut skipme = true;
        let mut subscribed: Option<bool> = None;
        let mut user: Option<crate::acl::UserId> = None;
        let mut j = 2;
        while j + 1 < argv.len() {
            let (opt, val) = (&argv[j], &argv[j + 1]);
            if eq_ic(opt, "id") {
                id = Some(
                    crate::encoding::numbers::string2ll(val)
                        .filter(|&n| n > 0)
                        .ok_or(CmdError::from("ERR client-id should be greater than 0"))?
                        as u64,
                );
            } else if eq_ic(opt, "type") {
                // Redis's getClientType: a subscribed client is "pubsub",
                // not "normal".
                subscribed = None;
                kind = Some(if eq_ic(val, "normal") {
                    subscribed = Some(false);
                    Kind::Normal
                } else if eq_ic(val, "pubsub") {
                    subscribed = Some(true);
                    Kind::Normal
                } else if eq_ic(val, "replica") || eq_ic(val, "slave") {
                    Kind::Replica
                } else if eq_ic(val, "master") {
                    Kind::Master
                } else {
                    return Err(CmdError::msg(format!(
                        "ERR Unknown client type '{}'",
                        String::from_utf8_lossy(val)
                    )));
                });
            } else if eq_ic(opt, "addr") {
                addr = Some(String::from_utf8_lossy(val).into_owned());
            } else if eq_ic(opt, "laddr") {
                laddr = Some(String::from_utf8_lossy(val).into_owned());
            } else if eq_ic(opt, "skipme") {
                skipme = if eq_ic(val, "yes") {
                    true
                } else if eq_ic(val, "no") {
                    false
                } else {
                    return Err(error::SYNTAX.into());
                };
            } else if eq_ic(opt, "user") {
                user = Some(self.acl_user_for_kill(val)?);
            } else {
                return Err(error::SYNTAX.into());
            }
            j += 2;
        }
        if j != argv.len() {
            return Err(error::SYNTAX.into());
        }
        let victims: Vec<usize> = self
            .clients
            .iter()
            .filter(|(k, c)| {
                id.is_none_or(|i| c.id == i)
                    && kind.is_none_or(|t| c.kind == t)
                    && subscribed.is_none_or(|s| c.has(flags::PUBSUB) == s)
                    && addr.as_ref().is_none_or(|a| &c.addr == a)
                    && laddr.as_ref().is_none_or(|a| &c.laddr == a)
                    && user.is_none_or(|u| c.user == u && c.kind == Kind::Normal)
                    && !(skipme && *k == key)
            })
            .map(|(k, _)| k)
            .collect();
        let n = victims.len();
        for v in victims {
            self.kill_client(v, key);
        }
        self.reply(key, |o| o.int(n as i64));
        Ok(())
    }

    /// Closes a client; the caller itself is closed after its reply.
    fn kill_client(&mut self, victim: usize, caller: usize) {
        if victim == caller {
            if let Some(c) = self.clients.get_mut(victim) {
                c.flags |= flags::CLOSE_AFTER_REPLY;
            }
        } else {
            self.close_async(victim);
            // Redis frees the victim at once: its peer sees the connection
            // go now, not when this command (or the MULTI around it) ends.
            if let Some(c) = self.clients.get(victim) {
                c.stream.shutdown();
            }
        }
    }
}

fn validate_client_name(name: &[u8]) -> R {
    if name.iter().any(|&b| !(b'!'..=b'~').contains(&b)) {
        return Err(
            "ERR Client names cannot contain spaces, newlines or special characters.".into(),
        );
    }
    Ok(())
}

const CLIENT_HELP: &[&str] = &[
    "CLIENT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "CACHING (YES|NO)",
    "    Enable/disable tracking of the keys for next command in OPTIN/OPTOUT modes.",
    "GETREDIR",
    "    Return the client ID we are redirecting to when tracking is enabled.",
    "GETNAME",
    "    Return the name of the current connection.",
    "ID",
    "    Return the ID of the current connection.",
    "INFO",
    "    Return information about the current client connection.",
    "KILL <ip:port>",
    "    Kill connection made from <ip:port>.",
    "KILL <option> <value> [<option> <value> [...]]",
    "    Kill connections. Options are:",
    "    * ADDR (<ip:port>|<unixsocket>:0)",
    "      Kill connections made from the specified address",
    "    * LADDR (<ip:port>|<unixsocket>:0)",
    "      Kill connections made to specified local address",
    "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
    "      Kill connections by type.",
    "    * USER <username>",
    "      Kill connections authenticated by <username>.",
    "    * SKIPME (YES|NO)",
    "      Skip killing current connection (default: yes).",
    "    * ID <client-id>",
    "      Kill connections by client id.",
    "LIST [options ...]",
    "    Return information about client connections. Options:",
    "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
    "      Return clients of specified type.",
    "UNPAUSE",
    "    Stop the current client pause, resuming traffic.",
    "PAUSE <timeout> [WRITE|ALL]",
    "    Suspend all, or just write, clients for <timeout> milliseconds.",
    "REPLY (ON|OFF|SKIP)",
    "    Control the replies sent to the current connection.",
    "SETNAME <name>",
    "    Assign the name <name> to the current connection.",
    "UNBLOCK <clientid> [TIMEOUT|ERROR]",
    "    Unblock the specified blocked client.",
    "TRACKING (ON|OFF) [REDIRECT <id>] [BCAST] [PREFIX <prefix> [...]]",
    "         [OPTIN] [OPTOUT] [NOLOOP]",
    "    Control server assisted client side caching.",
    "TRACKINGINFO",
    "    Report tracking status for the current connection.",
    "NO-EVICT (ON|OFF)",
    "    Protect current client connection from eviction.",
    "HELP",
    "    Prints this help.",
];
