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

/// Encodes argv as a RESP multibulk into `out`.
pub fn encode_command(out: &mut Vec<u8>, argv: &[Bytes]) {
    let mut o = crate::resp::Out::new(out, 2);
    o.array(argv.len());
    for a in argv {
        o.bulk(a);
    }
}

impl Server {
    pub fn repl_cron(&mut self) {
        // Once a second for the heartbeat work, like Redis's replicationCron.
        if !self.cron_loops.is_multiple_of(self.cfg.hz.max(1) as u64) {
            return;
        }
        self.repl_replica_cron();
        self.repl_master_cron();
        self.update_failover_status();
    }

    pub fn repl_before_sleep(&mut self) {
        if self.repl.getack_pending && !self.repl.is_replica() {
            self.repl.getack_pending = false;
            self.propagate_now_raw_command(&[
                Bytes::from_static(b"REPLCONF"),
                Bytes::from_static(b"GETACK"),
                Bytes::from_static(b"*"),
            ]);
        }
        self.send_bulk_to_replicas();
        self.process_waiters();
    }

    pub fn repl_after_write(&mut self, key: usize) {
        if self
            .clients
            .replica(key)
            .is_some_and(|r| r.state == ReplicaState::SendBulk)
        {
            self.send_bulk_to_replicas();
        }
    }

    pub fn repl_replica_gone(&mut self, key: usize) {
        let name = self.replica_name(key);
        log::info!("Connection with replica {name} lost.");
    }

    pub fn repl_resize_backlog(&mut self) {
        let size = self.cfg.repl_backlog_size as usize;
        if let Some(b) = self.repl.backlog.as_mut() {
            b.resize(size);
        }
    }

    /// Appends one command to the replication stream (SELECT first when the
    /// db changes), advancing master_repl_offset.
    pub fn repl_feed(&mut self, db: usize, argv: &[Bytes]) {
        if self.repl.backlog.is_none() {
            return;
        }
        let mut buf = std::mem::take(&mut self.sink);
        buf.clear();
        if self.repl.slave_seldb != Some(db) {
            let mut b = [0u8; 20];
            let n = crate::encoding::numbers::ll2string(db as i64, &mut b);
            encode_command(
                &mut buf,
                &[Bytes::from_static(b"SELECT"), Bytes::copy_from_slice(n)],
            );
            self.repl.slave_seldb = Some(db);
        }
        encode_command(&mut buf, argv);
        self.repl_feed_raw(&buf);
        self.sink = buf;
    }

    /// Feeds raw stream bytes to the backlog and every replica: online ones
    /// get them in their output, syncing ones in their pending buffer.
    pub fn repl_feed_raw(&mut self, data: &[u8]) {
        let Some(b) = self.repl.backlog.as_mut() else {
            return;
        };
        b.feed(data);
        self.repl.master_repl_offset += data.len() as i64;
        let limit = self.cfg.client_output_buffer_limit[1];
        let now = self.ks.now_ms;
        // Indexing (not iterating) the replica list lets each step borrow
        // self, and allocates nothing per write.
        for i in 0..self.clients.replica_count() {
            let Some(k) = self.clients.replica_at(i) else {
                continue;
            };
            let Some((c, info)) = self.clients.with_replica_mut(k) else {
                continue;
            };
            let (size, online) = match info.state {
                // Not yet told the fork offset: the RDB will contain this.
                ReplicaState::WaitBgsaveStart => continue,
                ReplicaState::WaitBgsaveEnd | ReplicaState::SendBulk | ReplicaState::WaitAck => {
                    info.pending.extend_from_slice(data);
                    (info.pending.len() as u64, false)
                }
                ReplicaState::Online => {
                    c.reply.extend_from_slice(data);
                    ((c.reply.len() - c.sent) as u64, true)
                }
            };
            // client-output-buffer-limit replica <hard> <soft> <seconds>
            let mut over = false;
            if limit.hard > 0 && size > limit.hard {
                over = true;
            } else if limit.soft > 0 && size > limit.soft {
                if info.soft_limit_since_ms == 0 {
                    info.soft_limit_since_ms = now;
                } else if now - info.soft_limit_since_ms > limit.soft_seconds as i64 * 1000 {
                    over = true;
                }
            } else {
                info.soft_limit_since_ms = 0;
            }
            if online {
                self.mark_pending_write(k);
            }
            if over {
                log::warn!(
                    "Client {} scheduled to be closed ASAP for overcoming of output buffer limits.",
                    self.replica_name(k)
                );
                self.close_async(k);
            }
        }
    }

    /// Stream bytes our master sent and we applied: proxy them verbatim to
    /// our sub-replicas and backlog (offset = processed offset).
    pub fn repl_master_applied(&mut self, frame: &[u8]) {
        if self.repl.backlog.is_some() {
            self.repl_feed_raw(frame);
        } else {
            self.repl.master_repl_offset += frame.len() as i64;
        }
    }

    pub fn cmd_replconf(&mut self, key: usize, argv: &[Bytes]) -> R {
        if argv.len().is_multiple_of(2) {
            return Err(crate::error::SYNTAX.into());
        }
        let kind = self.clients.get(key).map(|c| c.kind);
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
                if let Some(i) = self.replica_info(key) {
                    i.capa_eof |= eof;
                    i.capa_psync2 |= psync2;
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
            } else if crate::cmd::eq_ic(opt, "rdb-only")
                || crate::cmd::eq_ic(opt, "rdb-filter-only")
            {
                // redis-cli --rdb: accepted.
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
                r.master_repl_offset,
                r.master_repl_offset,
            );
            if let (true, Some(t)) = (syncing, link.transfer.as_ref()) {
                let total = match &t.framing {
                    Some(crate::repl::link::Framing::Len { total }) => *total as i64,
                    _ => -1,
                };
                let left = if total >= 0 {
                    total - t.read as i64
                } else {
                    -1
                };
                let perc = if total > 0 {
                    t.read as f64 * 100.0 / total as f64
                } else {
                    0.0
                };
                let _ = write!(
                    o,
                    "master_sync_total_bytes:{total}\r\nmaster_sync_read_bytes:{}\r\nmaster_sync_left_bytes:{left}\r\nmaster_sync_perc:{perc:.2}\r\nmaster_sync_last_io_seconds_ago:{}\r\n",
                    t.read,
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
                (now - info.ack_time_ms) / 1000
            );
        }
        let (active, size, first, hist) = match &r.backlog {
            Some(b) => (1, b.capacity(), b.offset, b.histlen()),
            None => (0, self.cfg.repl_backlog_size as usize, 0, 0),
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
    }
}
