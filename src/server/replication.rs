//! Server side of replication: feeding the stream to the backlog and the
//! replicas, replica connections, the link to our master, and the
//! replication commands. (Work in progress: the stream feed and INFO are
//! real; sync is still to come.)

use super::Server;
use crate::error::CmdError;
use crate::net::Kind;
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
    pub fn repl_init_from_config(&mut self) {}

    pub fn repl_cron(&mut self) {}

    pub fn repl_before_sleep(&mut self) {}

    pub fn repl_after_write(&mut self, _key: usize) {}

    pub fn repl_replica_gone(&mut self, _key: usize) {}

    pub fn repl_master_gone(&mut self, _key: usize) {}

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
        let mut buf = Vec::new();
        if self.repl.slave_seldb != Some(db) {
            encode_command(
                &mut buf,
                &[Bytes::from_static(b"SELECT"), Bytes::from(db.to_string())],
            );
            self.repl.slave_seldb = Some(db);
        }
        encode_command(&mut buf, argv);
        self.repl_feed_raw(&buf);
    }

    /// Feeds raw stream bytes to the backlog and every replica.
    pub fn repl_feed_raw(&mut self, data: &[u8]) {
        if let Some(b) = self.repl.backlog.as_mut() {
            b.feed(data);
        }
        self.repl.master_repl_offset += data.len() as i64;
        let replicas: Vec<usize> = self
            .clients
            .iter()
            .filter(|(_, c)| c.kind == Kind::Replica)
            .map(|(k, _)| k)
            .collect();
        for k in replicas {
            self.clients[k].reply.extend_from_slice(data);
            self.mark_pending_write(k);
        }
    }

    pub fn info_replication(&self, o: &mut String) {
        let r = &self.repl;
        if let Some((h, p)) = &r.master_host {
            let _ = write!(o, "# Replication\r\nrole:slave\r\nmaster_host:{h}\r\nmaster_port:{p}\r\nmaster_link_status:{}\r\n", if r.master_link_up { "up" } else { "down" });
        } else {
            let n = self
                .clients
                .iter()
                .filter(|(_, c)| c.kind == Kind::Replica)
                .count();
            let _ = write!(
                o,
                "# Replication\r\nrole:master\r\nconnected_slaves:{n}\r\n"
            );
        }
        let (active, size, first, hist) = match &r.backlog {
            Some(b) => (1, b.capacity(), b.offset, b.histlen()),
            None => (0, self.cfg.repl_backlog_size as usize, 0, 0),
        };
        let _ = write!(
            o,
            "master_failover_state:no-failover\r\nmaster_replid:{}\r\nmaster_replid2:{}\r\nmaster_repl_offset:{}\r\nsecond_repl_offset:{}\r\nrepl_backlog_active:{}\r\nrepl_backlog_size:{}\r\nrepl_backlog_first_byte_offset:{}\r\nrepl_backlog_histlen:{}\r\n",
            r.replid, r.replid2, r.master_repl_offset, r.second_replid_offset, active, size, first, hist
        );
    }

    pub fn cmd_replicaof(&mut self, _key: usize, _argv: &[Bytes]) -> R {
        Err("ERR REPLICAOF is not available yet".into())
    }

    pub fn cmd_psync(&mut self, _key: usize, _argv: &[Bytes]) -> R {
        Err("ERR PSYNC is not available yet".into())
    }

    pub fn cmd_sync(&mut self, _key: usize) -> R {
        Err("ERR SYNC is not available yet".into())
    }

    pub fn cmd_replconf(&mut self, key: usize, _argv: &[Bytes]) -> R {
        self.reply_ok(key);
        Ok(())
    }

    pub fn cmd_wait(&mut self, key: usize, _argv: &[Bytes]) -> R {
        self.reply(key, |o| o.int(0));
        Ok(())
    }

    pub fn cmd_role(&mut self, key: usize) -> R {
        let off = self.repl.master_repl_offset;
        self.reply(key, |o| {
            o.array(3);
            o.bulk(b"master");
            o.int(off);
            o.array(0);
        });
        Ok(())
    }

    pub fn cmd_failover(&mut self, _key: usize, _argv: &[Bytes]) -> R {
        Err("ERR FAILOVER requires connected replicas.".into())
    }
}
