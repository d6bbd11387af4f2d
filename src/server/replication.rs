//! Replication plumbing shared by both sides: encoding and feeding the
//! stream (backlog, online replicas, buffers of syncing replicas, output
//! limits), REPLCONF, ROLE, INFO replication, and the cron/before_sleep
//! hooks. The master side lives in `repl_master`, the replica side in
//! `repl_replica`.

use super::Server;
use crate::error::CmdError;
use crate::net::Kind;
use crate::repl::link::LinkState;
use crate::repl::ReplicaState;
use bytes::Bytes;
use std::fmt::Write;

type R = Result<(), CmdError>;

impl Server {
    /// Every cron tick: keys this writable replica expires itself.
    /// Not while writes are paused (the deletions would be propagated).
    pub fn repl_cron_tick(&mut self) {
        if self.clients_paused_until_ms == 0 {
            self.expire_replica_keys();
        }
    }

    pub fn repl_cron(&mut self) {
        // Once a second for the heartbeat work, like Redis's replicationCron:
        // the first cron call (at startup) counts as loop 0.
        if !self
            .cron_loops
            .saturating_sub(1)
            .is_multiple_of(self.cfg.hz.max(1) as u64)
        {
            return;
        }
        self.repl_replica_cron();
        self.repl_master_cron();
        self.update_failover_status();
        self.check_replica_lag();
    }

    pub fn repl_before_sleep(&mut self) {
        self.repl_fault_tick();
        // Not while clients are paused (a FAILOVER waiting for a replica
        // to catch up): the GETACK would move the offset it waits for, and
        // each ACK would ask for the next. It goes out after the pause.
        if self.repl.getack_pending && !self.repl.is_replica() && self.clients_paused_until_ms == 0
        {
            self.repl.getack_pending = false;
            self.propagate_now_raw_command(&[
                Bytes::from_static(b"REPLCONF"),
                Bytes::from_static(b"GETACK"),
                Bytes::from_static(b"*"),
            ]);
        }
        if std::mem::take(&mut self.repl.kill_child_asap) && self.repl.child.is_some() {
            log::warn!("Killing the RDB child: no replica waits for it any more");
            self.persist_kill_child();
        }
        self.send_bulk_to_replicas();
        self.rdb_pipe_before_sleep();
        self.process_waiters();
        self.process_digest_requests();
    }

    pub fn repl_replica_gone(&mut self, key: usize) {
        self.rdb_pipe_forget(key);
        // repl-backlog-ttl counts from the moment the last replica left.
        let last = self.clients.replicas().all(|(k, _, _)| k == key);
        if last && self.clients.replica(key).is_some() {
            self.repl.no_replicas_since_ms = self.ks.now_ms;
        }
        // Without save points, a disk save nobody waits for any more is
        // useless: it is killed so the next sync can fork at once.
        let waited = self
            .clients
            .replica(key)
            .is_some_and(|r| r.state == ReplicaState::WaitBgsaveEnd);
        let disk_child = self.repl.child.is_some_and(|c| !c.diskless);
        if waited && disk_child && self.cfg.save.is_empty() {
            let others = self
                .clients
                .replicas()
                .any(|(k, _, r)| k != key && r.state == ReplicaState::WaitBgsaveEnd);
            if !others {
                self.repl.kill_child_asap = true;
            }
        }
        let name = self.replica_name(key);
        log::info!("Connection with replica {name} lost.");
    }

    pub fn repl_resize_backlog(&mut self) {
        let size = self.cfg.repl_backlog_size as usize;
        if let Some(b) = self.repl.backlog.as_mut() {
            b.set_limit(size);
        }
        self.trim_repl_buffer(crate::repl::backlog::TRIM_BLOCKS_PER_CALL);
    }

    /// Stream bytes our master sent and we applied: proxy them verbatim to
    /// our sub-replicas and backlog (offset = processed offset).
    pub fn repl_master_applied(&mut self, frame: &[u8]) {
        self.stats.net_repl_input_bytes += frame.len() as u64;
        if self.repl.backlog.is_some() {
            self.repl_feed_raw(frame);
        } else {
            self.repl.master_repl_offset += frame.len() as i64;
        }
    }

    /// Keys a client of this writable replica wrote: those with a TTL are
    /// tracked (Redis's rememberSlaveKeyWithExpire).
    pub fn remember_replica_keys_with_expire(&mut self, keys: Vec<(usize, crate::sds::Sds)>) {
        for (db, k) in keys {
            if self.ks.dbs[db].get_expire(&k).is_some() {
                self.repl.replica_keys_with_expire.insert((db, k));
            }
        }
    }

    /// Expires the tracked keys whose time came (Redis's expireSlaveKeys),
    /// within about a millisecond of work; forgets keys that lost their
    /// TTL or were deleted.
    pub fn expire_replica_keys(&mut self) {
        if self.repl.replica_keys_with_expire.is_empty() {
            return;
        }
        if !self.repl.is_replica() {
            self.repl.replica_keys_with_expire.clear();
            return;
        }
        let now = self.ks.now_ms;
        let start = crate::util::monotonic_us();
        let keys: Vec<(usize, crate::sds::Sds)> =
            self.repl.replica_keys_with_expire.iter().cloned().collect();
        for (i, (db, k)) in keys.into_iter().enumerate() {
            match self.ks.dbs.get(db).and_then(|d| d.get_expire(&k)) {
                Some(when) if when <= now => {
                    self.ks.delete_expired(db, &k);
                    self.repl.replica_keys_with_expire.remove(&(db, k));
                }
                Some(_) => {}
                None => {
                    self.repl.replica_keys_with_expire.remove(&(db, k));
                }
            }
            if i % 64 == 63 && crate::util::monotonic_us() - start > 1000 {
                break;
            }
        }
        self.propagate_expired();
    }

    /// An error reply on a replication link (the master applying our
    /// stream, or a replica of ours sending a command) is worth a log line:
    /// it means the data sets may diverge (Redis's afterErrorReply), with
    /// the tail of our backlog for the master's case.
    pub fn log_link_error(&mut self, key: usize, e: &CmdError) {
        let Some(c) = self.clients.get(key) else {
            return;
        };
        let (from, to) = if c.kind == Kind::Master {
            ("replica", "master")
        } else {
            ("master", "replica")
        };
        let cmd = if c.last_cmd == "NULL" {
            "<unknown>"
        } else {
            c.last_cmd
        };
        // At most 4096 bytes of the error, as Redis logs it.
        let text = e.text();
        let mut cut = text.len().min(4096);
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        log::warn!(
            "== CRITICAL == This {from} is sending an error to its {to}: '{}' after processing the command '{cmd}'",
            &text[..cut]
        );
        // Counted for both directions (Redis's stat_unexpected_error_replies).
        self.stats.unexpected_error_replies += 1;
        if c.kind == Kind::Master {
            if let Some(b) = self.repl.backlog.as_ref() {
                let mut tail = Vec::new();
                let from = (b.offset() + b.histlen() as i64 - 256).max(b.offset());
                b.copy_from(from, &mut tail);
                if !tail.is_empty() {
                    log::warn!(
                        "Latest backlog is: '{}'",
                        crate::util::splitargs::repr(&tail)
                    );
                }
            }
            // propagation-error-behavior panic|panic-on-replicas: a
            // read-only replica stops rather than diverge.
            let behavior = self.cfg.extra_value("propagation-error-behavior");
            if self.cfg.replica_read_only && behavior.starts_with("panic") {
                log::error!("This replica panicked sending an error to its master after processing the command '{cmd}'");
                std::process::exit(1);
            }
        }
    }

    /// A replica of ours made a command reply: nothing but the stream may
    /// go to a replica, so the reply is dropped and the replica with it.
    pub fn replica_replied(&mut self, key: usize, mark: usize, argv: &[Bytes]) {
        let Some(c) = self.clients.get_mut(key) else {
            return;
        };
        let replied = std::mem::take(&mut self.repl.replica_reply);
        if c.kind != Kind::Replica || (c.reply.len() <= mark && !replied) {
            return;
        }
        c.reply.truncate(mark.max(c.sent));
        let cmd = match crate::cmd::lookup(&argv[0]) {
            Some(spec) => super::reject::full_name(spec.name, argv),
            None => "<unknown>".to_string(),
        };
        let info = self.client_info_line(key);
        log::warn!(
            "Replica generated a reply to command '{cmd}', disconnecting it: {}",
            info.trim_end()
        );
        self.close_async(key);
    }

    pub fn cmd_replconf(&mut self, key: usize, argv: &[Bytes]) -> R {
        let kind = self.clients.get(key).map(|c| c.kind);
        // DEBUG DIGEST-AT-OFFSET: the marker from our master, the answer
        // from a replica of ours (no replies on either link).
        if argv.len() >= 2 && crate::cmd::eq_ic(&argv[1], "digest-at") && kind == Some(Kind::Master)
        {
            self.digest_marker(argv);
            return Ok(());
        }
        if argv.len() == 5 && crate::cmd::eq_ic(&argv[1], "digest") && kind == Some(Kind::Replica) {
            self.digest_answer(key, argv);
            return Ok(());
        }
        if argv.len().is_multiple_of(2) {
            return Err(crate::error::SYNTAX.into());
        }
        let now = self.ks.now_ms;
        let mut j = 1;
        while j + 1 < argv.len() {
            let (opt, val) = (&argv[j][..], &argv[j + 1][..]);
            if crate::cmd::eq_ic(opt, "listening-port") {
                let p = crate::encoding::numbers::string2ll(val)
                    .ok_or(CmdError::from(crate::error::NOT_INT))?;
                if let Some(i) = self.replica_info(key) {
                    i.listening_port = p as u16;
                }
            } else if crate::cmd::eq_ic(opt, "ip-address") {
                let ip = String::from_utf8_lossy(val).into_owned();
                if let Some(i) = self.replica_info(key) {
                    i.announced_ip = Some(ip);
                }
            } else if crate::cmd::eq_ic(opt, "capa") {
                let eof = crate::cmd::eq_ic(val, "eof");
                let psync2 = crate::cmd::eq_ic(val, "psync2");
                let digest = crate::cmd::eq_ic(val, "digest-at");
                if let Some(i) = self.replica_info(key) {
                    i.capa_eof |= eof;
                    i.capa_psync2 |= psync2;
                    i.capa_digest |= digest;
                }
            } else if crate::cmd::eq_ic(opt, "ack") {
                // From a replica of ours: no reply.
                if let Some(off) = crate::encoding::numbers::string2ll(val) {
                    let mut start_stream = false;
                    if let Some(i) = self.clients.replica_mut(key) {
                        if off > i.ack_offset {
                            i.ack_offset = off;
                        }
                        i.ack_time_ms = now;
                        start_stream = i.state == ReplicaState::WaitAck;
                        i.acked_early |= i.state == ReplicaState::WaitBgsaveEnd;
                    }
                    if start_stream {
                        self.replica_online(key);
                    }
                }
                self.update_failover_status();
                return Ok(());
            } else if crate::cmd::eq_ic(opt, "getack") {
                if kind == Some(Kind::Master) {
                    self.send_ack();
                }
                return Ok(());
            } else if crate::cmd::eq_ic(opt, "rdb-only") {
                // redis-cli --rdb: accepted.
            } else if crate::cmd::eq_ic(opt, "rdb-filter-only") {
                // "Include" filters: everything is left out but what is named
                // ("functions" is the one filter; "" keeps nothing).
                let filters = crate::util::splitargs::split_args(val)
                    .ok_or_else(|| CmdError::from("ERR Missing rdb-filter-only values"))?;
                let mut req = crate::repl::RdbFilter {
                    exclude_data: true,
                    exclude_functions: true,
                };
                for f in &filters {
                    if crate::cmd::eq_ic(f, "functions") {
                        req.exclude_functions = false;
                    } else {
                        return Err(CmdError::msg(format!(
                            "ERR Unsupported rdb-filter-only option: {}",
                            String::from_utf8_lossy(f)
                        )));
                    }
                }
                if let Some(i) = self.replica_info(key) {
                    i.req = req;
                }
            } else {
                return Err(CmdError::msg(format!(
                    "ERR Unrecognized REPLCONF option: {}",
                    String::from_utf8_lossy(opt)
                )));
            }
            j += 2;
        }
        self.reply_ok(key);
        Ok(())
    }

    pub fn cmd_role(&mut self, key: usize) -> R {
        if let Some((h, p)) = self.repl.master_host.clone() {
            let state = self.repl.link.role_state();
            let off = if self.repl.link.state == LinkState::Connected {
                self.repl.master_repl_offset
            } else {
                -1
            };
            self.reply(key, |o| {
                o.array(5);
                o.bulk(b"slave");
                o.bulk(h.as_bytes());
                o.int(p as i64);
                o.bulk(state.as_bytes());
                o.int(off);
            });
            return Ok(());
        }
        let off = self.repl.master_repl_offset;
        let replicas: Vec<(String, u16, i64)> = self
            .clients
            .replicas()
            .filter(|(_, _, r)| r.state == ReplicaState::Online)
            .map(|(k, _, r)| (self.replica_ip(k), r.listening_port, r.ack_offset))
            .collect();
        self.reply(key, |o| {
            o.array(3);
            o.bulk(b"master");
            o.int(off);
            o.array(replicas.len());
            for (ip, port, ack) in &replicas {
                o.array(3);
                o.bulk(ip.as_bytes());
                o.bulk(port.to_string().as_bytes());
                o.bulk(ack.to_string().as_bytes());
            }
        });
        Ok(())
    }

    pub fn info_replication(&self, o: &mut String) {
        let r = &self.repl;
        let now = self.ks.now_ms;
        o.push_str("# Replication\r\n");
        if let Some((h, p)) = &r.master_host {
            let link = &r.link;
            let up = r.master_link_up;
            let last_io = link
                .key
                .and_then(|k| self.clients.get(k))
                .map_or(-1, |c| (now - c.last_interaction_ms) / 1000);
            let syncing = link.state == LinkState::Transfer;
            let _ = write!(
                o,
                "role:slave\r\nmaster_host:{h}\r\nmaster_port:{p}\r\nmaster_link_status:{}\r\nmaster_last_io_seconds_ago:{}\r\nmaster_sync_in_progress:{}\r\nslave_read_repl_offset:{}\r\nslave_repl_offset:{}\r\n",
                if up { "up" } else { "down" },
                if up { last_io } else { -1 },
                syncing as i32,
                // Received, including what waits in the link's query buffer
                // (e.g. during CLIENT PAUSE), then applied.
                r.master_repl_offset
                    + link
                        .key
                        .and_then(|k| self.clients.get(k))
                        .map_or(0, |c| c.query.len() as i64),
                r.master_repl_offset,
            );
            if let (true, Some(t)) = (syncing, link.transfer.as_ref()) {
                let total = match &t.framing {
                    Some(crate::repl::link::Framing::Len { total }) => *total as i64,
                    _ => -1,
                };
                let read = self.transfer_received();
                let left = if total >= 0 { total - read as i64 } else { -1 };
                let perc = if total > 0 {
                    read as f64 * 100.0 / total as f64
                } else {
                    0.0
                };
                let _ = write!(
                    o,
                    "master_sync_total_bytes:{total}\r\nmaster_sync_read_bytes:{read}\r\nmaster_sync_left_bytes:{left}\r\nmaster_sync_perc:{perc:.2}\r\nmaster_sync_last_io_seconds_ago:{}\r\n",
                    (now - t.last_io_ms) / 1000
                );
            }
            if !up {
                let _ = write!(
                    o,
                    "master_link_down_since_seconds:{}\r\n",
                    if link.down_since_ms > 0 {
                        (now - link.down_since_ms) / 1000
                    } else {
                        -1
                    }
                );
            }
            let _ = write!(
                o,
                "slave_priority:{}\r\nslave_read_only:{}\r\nreplica_announced:{}\r\n",
                self.cfg.replica_priority,
                self.cfg.replica_read_only as i32,
                self.cfg.replica_announced as i32
            );
        } else {
            o.push_str("role:master\r\n");
        }
        let _ = write!(
            o,
            "connected_slaves:{}\r\n",
            self.clients.replicas().count()
        );
        for (i, (k, _, info)) in self.clients.replicas().enumerate() {
            let ip = self.replica_ip(k);
            let _ = write!(
                o,
                "slave{i}:ip={ip},port={},state={},offset={},lag={}\r\n",
                info.listening_port,
                info.state.name(),
                info.ack_offset,
                // (Only an online replica has a lag, as in Redis.)
                if matches!(info.state, ReplicaState::Online | ReplicaState::WaitAck) {
                    (now - info.ack_time_ms) / 1000
                } else {
                    0
                }
            );
        }
        let size = self.cfg.repl_backlog_size;
        let (active, first, hist) = match &r.backlog {
            Some(b) => (1, b.offset(), b.histlen()),
            None => (0, 0, 0),
        };
        let _ = write!(
            o,
            "master_failover_state:{}\r\nmaster_replid:{}\r\nmaster_replid2:{}\r\nmaster_repl_offset:{}\r\nsecond_repl_offset:{}\r\nrepl_backlog_active:{}\r\nrepl_backlog_size:{}\r\nrepl_backlog_first_byte_offset:{}\r\nrepl_backlog_histlen:{}\r\n",
            self.failover_state_name(),
            r.replid,
            r.replid2,
            r.master_repl_offset,
            r.second_replid_offset,
            active,
            size,
            first,
            hist
        );
        self.info_replication_extra(o);
    }
}
