//! MIGRATE host port key|"" db timeout [COPY] [REPLACE] [AUTH pw]
//! [AUTH2 user pw] [KEYS k...]: moves keys to another instance with
//! RESTORE (RESTORE-ASKING in cluster mode), as redis-cli --cluster
//! reshard does.
//!
//! The exchange is synchronous and bounded, exactly as Redis does it: one
//! connect, one write of the whole batch and one reply line per command,
//! each waiting at most `timeout` ms (at most ~3 x timeout in all, plus
//! one retry on a stale cached connection). This keeps MIGRATE atomic (no
//! other command can touch the keys between serialization and deletion),
//! which a non-blocking state machine could not guarantee without locking
//! keys. Connections are cached per host:port (64 at most, closed after
//! 10 s unused) and remember the last SELECTed db.

use crate::cmd::eq_ic;
use crate::error::{self, CmdError};
use crate::server::Server;
use bytes::Bytes;
use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::Duration;

const CACHE_ITEMS: usize = 64;
const CACHE_TTL_S: i64 = 10;

pub struct Cached {
    stream: TcpStream,
    last_dbid: i64,
    last_use_s: i64,
    /// Bytes read past the last reply line.
    pending: Vec<u8>,
}

#[derive(Default)]
pub struct Cache {
    pub map: HashMap<String, Cached>,
}

enum Io {
    Timeout,
    Other,
}

fn io_kind(e: &std::io::Error) -> Io {
    match e.kind() {
        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut => Io::Timeout,
        _ => Io::Other,
    }
}

impl Cached {
    fn read_line(&mut self) -> Result<Vec<u8>, Io> {
        loop {
            if let Some(p) = self.pending.iter().position(|&b| b == b'\n') {
                let mut line: Vec<u8> = self.pending.drain(..=p).collect();
                line.pop();
                if line.last() == Some(&b'\r') {
                    line.pop();
                }
                return Ok(line);
            }
            if self.pending.len() > 64 * 1024 {
                return Err(Io::Other);
            }
            let mut buf = [0u8; 4096];
            match self.stream.read(&mut buf) {
                Ok(0) => return Err(Io::Other),
                Ok(n) => self.pending.extend_from_slice(&buf[..n]),
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(io_kind(&e)),
            }
        }
    }
}

fn connect(host: &str, port: &str, timeout: Duration) -> Option<TcpStream> {
    let port: u16 = port.parse().ok()?;
    let addr = (host, port).to_socket_addrs().ok()?.next()?;
    let s = TcpStream::connect_timeout(&addr, timeout).ok()?;
    let _ = s.set_nodelay(true);
    let _ = s.set_read_timeout(Some(timeout));
    let _ = s.set_write_timeout(Some(timeout));
    Some(s)
}

fn bulk(out: &mut Vec<u8>, b: &[u8]) {
    out.extend_from_slice(format!("${}\r\n", b.len()).as_bytes());
    out.extend_from_slice(b);
    out.extend_from_slice(b"\r\n");
}

impl Server {
    pub fn cmd_migrate(&mut self, key: usize, argv: &[Bytes]) -> Result<(), CmdError> {
        let (mut copy, mut replace) = (false, false);
        let (mut username, mut password): (Option<Bytes>, Option<Bytes>) = (None, None);
        let (mut first_key, mut num_keys) = (3usize, 1usize);
        let mut j = 6;
        while j < argv.len() {
            let more = argv.len() - 1 - j;
            let a = &argv[j];
            if eq_ic(a, "copy") {
                copy = true;
            } else if eq_ic(a, "replace") {
                replace = true;
            } else if eq_ic(a, "auth") {
                if more == 0 {
                    return Err(error::SYNTAX.into());
                }
                j += 1;
                password = Some(argv[j].clone());
            } else if eq_ic(a, "auth2") {
                if more < 2 {
                    return Err(error::SYNTAX.into());
                }
                username = Some(argv[j + 1].clone());
                password = Some(argv[j + 2].clone());
                j += 2;
            } else if eq_ic(a, "keys") {
                if !argv[3].is_empty() {
                    return Err("ERR When using MIGRATE KEYS option, the key argument must be set to the empty string".into());
                }
                first_key = j + 1;
                num_keys = argv.len() - j - 1;
                break;
            } else {
                return Err(error::SYNTAX.into());
            }
            j += 1;
        }
        let timeout = crate::cmd::arg_i64(&argv[5])?;
        let dbid = crate::cmd::arg_i64(&argv[4])?;
        let timeout = if timeout <= 0 { 1000 } else { timeout };
        let db = self.clients.get(key).map_or(0, |c| c.db);
        let keys: Vec<Bytes> = argv[first_key..first_key + num_keys]
            .iter()
            .filter(|k| self.ks.lookup_read(db, k).is_some())
            .cloned()
            .collect();
        if keys.is_empty() {
            self.reply(key, |o| o.simple("NOKEY"));
            return Ok(());
        }
        let host = String::from_utf8_lossy(&argv[1]).into_owned();
        let port = String::from_utf8_lossy(&argv[2]).into_owned();
        let name = format!("{host}:{port}");
        let dur = Duration::from_millis(timeout as u64);
        let mut may_retry = true;
        loop {
            let now_s = self.ks.now_ms / 1000;
            if !self.migrate_cache_has(&name) {
                let cache = &mut self.cluster_migrate_cache();
                if cache.map.len() >= CACHE_ITEMS {
                    if let Some(k) = cache.map.keys().next().cloned() {
                        cache.map.remove(&k);
                    }
                }
                let Some(stream) = connect(&host, &port, dur) else {
                    return Err("IOERR error or timeout connecting to the client".into());
                };
                self.cluster_migrate_cache().map.insert(
                    name.clone(),
                    Cached {
                        stream,
                        last_dbid: -1,
                        last_use_s: now_s,
                        pending: Vec::new(),
                    },
                );
            }
            // Serialize the batch.
            let cluster = self.cluster.is_some();
            let compression = self.cfg.rdbcompression;
            let fill = self.cfg.list_max_listpack_size;
            let now = self.ks.now_ms;
            let last_dbid = self
                .cluster_migrate_cache()
                .map
                .get(&name)
                .map_or(-1, |c| c.last_dbid);
            let mut cmd = Vec::new();
            if let Some(pw) = &password {
                cmd.extend_from_slice(if username.is_some() {
                    b"*3\r\n"
                } else {
                    b"*2\r\n"
                });
                bulk(&mut cmd, b"AUTH");
                if let Some(u) = &username {
                    bulk(&mut cmd, u);
                }
                bulk(&mut cmd, pw);
            }
            let select = last_dbid != dbid;
            if select {
                cmd.extend_from_slice(b"*2\r\n");
                bulk(&mut cmd, b"SELECT");
                bulk(&mut cmd, dbid.to_string().as_bytes());
            }
            let mut sent: Vec<Bytes> = Vec::new();
            for k in &keys {
                let mut ttl = 0;
                if let Some(at) = self.ks.dbs[db].get_expire(k) {
                    ttl = at - now;
                    if ttl < 0 {
                        continue;
                    }
                    ttl = ttl.max(1);
                }
                let Some(e) = self.ks.dbs[db].dict.get(k) else {
                    continue;
                };
                let payload = crate::persist::rdb::dump_payload(e, compression, fill);
                cmd.extend_from_slice(if replace { b"*5\r\n" } else { b"*4\r\n" });
                bulk(
                    &mut cmd,
                    if cluster {
                        b"RESTORE-ASKING"
                    } else {
                        b"RESTORE"
                    },
                );
                bulk(&mut cmd, k);
                bulk(&mut cmd, ttl.to_string().as_bytes());
                bulk(&mut cmd, &payload);
                if replace {
                    bulk(&mut cmd, b"REPLACE");
                }
                sent.push(k.clone());
            }
            let Some(cs) = self.cluster_migrate_cache().map.get_mut(&name) else {
                return Err("IOERR error or timeout connecting to the client".into());
            };
            cs.last_use_s = now_s;
            let mut write_error = false;
            let mut timed_out = false;
            let mut replies: Vec<Result<(), Vec<u8>>> = Vec::new();
            let mut first_err: Option<Vec<u8>> = None;
            'exchange: {
                for chunk in cmd.chunks(64 * 1024) {
                    if let Err(e) = cs.stream.write_all(chunk) {
                        write_error = true;
                        timed_out = matches!(io_kind(&e), Io::Timeout);
                        break 'exchange;
                    }
                }
                if password.is_some() {
                    match cs.read_line() {
                        Ok(l) if l.first() == Some(&b'-') => first_err = Some(l[1..].to_vec()),
                        Ok(_) => {}
                        Err(e) => {
                            timed_out = matches!(e, Io::Timeout);
                            break 'exchange;
                        }
                    }
                }
                if select {
                    match cs.read_line() {
                        Ok(l) if l.first() == Some(&b'-') && first_err.is_none() => {
                            first_err = Some(l[1..].to_vec())
                        }
                        Ok(_) => {}
                        Err(e) => {
                            timed_out = matches!(e, Io::Timeout);
                            break 'exchange;
                        }
                    }
                }
                for _ in &sent {
                    match cs.read_line() {
                        Ok(l) if l.first() == Some(&b'-') => replies.push(Err(l[1..].to_vec())),
                        Ok(_) => replies.push(Ok(())),
                        Err(e) => {
                            timed_out = matches!(e, Io::Timeout);
                            break;
                        }
                    }
                }
            }
            let socket_error = replies.len() < sent.len();
            // A stale cached connection fails before any reply: retry once.
            if socket_error && replies.is_empty() && first_err.is_none() && may_retry && !timed_out
            {
                self.cluster_migrate_cache().map.remove(&name);
                may_retry = false;
                continue;
            }
            let mut error_from_target: Option<Vec<u8>> = first_err.clone();
            let mut deleted = Vec::new();
            for (k, r) in sent.iter().zip(replies.iter()) {
                match r {
                    Err(e) if first_err.is_none() && error_from_target.is_none() => {
                        error_from_target = Some(e.clone());
                    }
                    Ok(()) if first_err.is_none() && !copy && self.ks.delete(db, k) => {
                        deleted.push(k.clone());
                    }
                    _ => {}
                }
            }
            if error_from_target.is_some() {
                if let Some(cs) = self.cluster_migrate_cache().map.get_mut(&name) {
                    cs.last_dbid = -1;
                }
            }
            if socket_error {
                self.cluster_migrate_cache().map.remove(&name);
            }
            if !deleted.is_empty() {
                for k in &deleted {
                    self.notify_generic_del(db, k);
                }
                self.dirty += deleted.len() as u64;
                let mut del = vec![Bytes::from_static(b"DEL")];
                del.extend(deleted);
                self.also_propagate(db, del);
            }
            if let Some(e) = error_from_target {
                return Err(CmdError::msg(format!(
                    "ERR Target instance replied with error: {}",
                    String::from_utf8_lossy(&e)
                )));
            }
            if socket_error || write_error {
                return Err(CmdError::msg(format!(
                    "IOERR error or timeout {} to target instance",
                    if write_error { "writing" } else { "reading" }
                )));
            }
            if let Some(cs) = self.cluster_migrate_cache().map.get_mut(&name) {
                cs.last_dbid = dbid;
            }
            self.reply_ok(key);
            return Ok(());
        }
    }

    fn migrate_cache_has(&mut self, name: &str) -> bool {
        self.cluster_migrate_cache().map.contains_key(name)
    }

    /// The cache lives with the server whether or not cluster mode is on.
    pub fn cluster_migrate_cache(&mut self) -> &mut Cache {
        &mut self.migrate_cache
    }

    /// Closes cached MIGRATE connections unused for 10 seconds.
    pub fn cluster_migrate_cron(&mut self) {
        let now_s = self.ks.now_ms / 1000;
        self.migrate_cache
            .map
            .retain(|_, c| now_s - c.last_use_s <= CACHE_TTL_S);
    }

    /// The `del` keyspace event of a key removed by MIGRATE.
    fn notify_generic_del(&mut self, db: usize, key: &Bytes) {
        use crate::config::{NOTIFY_GENERIC, NOTIFY_KEYEVENT, NOTIFY_KEYSPACE};
        let enabled = self.cfg.notify_keyspace_events;
        if enabled & NOTIFY_GENERIC != 0 && enabled & (NOTIFY_KEYSPACE | NOTIFY_KEYEVENT) != 0 {
            self.events.push(crate::cmd::Notification {
                class: NOTIFY_GENERIC,
                event: "del",
                db,
                key: key.clone(),
                reply_at: None,
            });
        }
    }
}
