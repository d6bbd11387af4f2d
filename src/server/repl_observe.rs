//! Replication observability beyond Redis (issue 13, items 3 and 4): lag in
//! time and full-sync progress, on both sides. Everything is reported on
//! lines of their own at the end of INFO replication (the `slaveN:` line
//! tools parse is untouched), and a `replica-lag` LATENCY event is recorded
//! when a replica lags more than replica-lag-alert-ms.
//!
//! Master side, per replica N:
//! - `slaveN_lag_ms`: age of the oldest write it has not acknowledged (0
//!   when it acknowledged everything, -1 while it is not online);
//! - `slaveN_sync_sent_bytes` / `slaveN_sync_total_bytes`: payload of its
//!   last full sync sent so far, and its size when known (disk-based; -1
//!   for a diskless payload, whose size is known only at its end).
//!
//! Replica side: `master_last_io_ms_ago`; during a full sync, besides
//! Redis's `master_sync_read_bytes`/`master_sync_total_bytes` (received and
//! total, -1 when EOF-framed), `master_sync_loaded_bytes` (parsed into the
//! new data set so far), `master_sync_rate_bytes_per_sec` and
//! `master_sync_eta_seconds` (-1 when the total is unknown); and the
//! empty-sync guard's `master_sync_refused_empty`.

use super::Server;
use crate::repl::link::{Framing, LinkState};
use crate::repl::ReplicaState;
use std::fmt::Write;

impl Server {
    /// Age in ms of the oldest write a replica has not acknowledged.
    pub fn replica_lag_ms(&self, ack_offset: i64) -> i64 {
        if ack_offset >= self.repl.master_repl_offset {
            return 0;
        }
        match self.repl.produced.produced_at(ack_offset + 1) {
            Some(t) => (self.ks.now_ms - t).max(0),
            None => 0,
        }
    }

    /// Payload bytes received from our master so far: a diskless load's
    /// unparsed bytes wait in the link's buffer.
    pub fn transfer_received(&self) -> u64 {
        let Some(t) = self.repl.link.transfer.as_ref() else {
            return 0;
        };
        let buffered = match (t.file.is_none() && t.framing.is_some(), self.repl.link.key) {
            (true, Some(k)) => self.clients.get(k).map_or(0, |c| c.query.len() as u64),
            _ => 0,
        };
        let received = t.read + buffered;
        match t.framing {
            Some(Framing::Len { total }) => received.min(total),
            _ => received,
        }
    }

    /// The ferrodis lines of INFO replication.
    pub fn info_replication_extra(&self, o: &mut String) {
        let now = self.ks.now_ms;
        for (i, (_, _, r)) in self.clients.replicas().enumerate() {
            let lag = match r.state {
                ReplicaState::Online | ReplicaState::WaitAck => self.replica_lag_ms(r.ack_offset),
                _ => -1,
            };
            let total = if r.rdb_size > 0 {
                r.rdb_size as i64
            } else {
                -1
            };
            let _ = write!(
                o,
                "slave{i}_lag_ms:{lag}\r\nslave{i}_sync_sent_bytes:{}\r\nslave{i}_sync_total_bytes:{total}\r\n",
                r.sync_sent_bytes
            );
        }
        if !self.repl.is_replica() {
            return;
        }
        let link = &self.repl.link;
        let last_io = match (link.state, link.transfer.as_ref()) {
            (LinkState::Transfer, Some(t)) => (now - t.last_io_ms).max(0),
            (LinkState::Connected, _) => link
                .key
                .and_then(|k| self.clients.get(k))
                .map_or(-1, |c| (now - c.last_interaction_ms).max(0)),
            _ => -1,
        };
        let _ = write!(o, "master_last_io_ms_ago:{last_io}\r\n");
        if let (LinkState::Transfer, Some(t)) = (link.state, link.transfer.as_ref()) {
            let total = match t.framing {
                Some(Framing::Len { total }) => total as i64,
                _ => -1,
            };
            let loaded = t.load.as_ref().map_or(0, |l| l.loader.loaded_bytes());
            let secs = (now - t.start_ms).max(1) as f64 / 1000.0;
            let received = self.transfer_received();
            let rate = (received as f64 / secs) as u64;
            // Bytes still to come: for a disk load, what is left to load.
            let eta = match (t.load.as_ref(), total) {
                (Some(l), _) if l.file.is_some() && l.total > 0 => {
                    let rate = (loaded as f64 / secs).max(1.0);
                    ((l.total.saturating_sub(loaded)) as f64 / rate).ceil() as i64
                }
                (_, total) if total >= 0 && rate > 0 => {
                    // Parsing may lag the network: the slower of the two.
                    let to_receive = (total as u64).saturating_sub(received) as f64 / rate as f64;
                    let lrate = (loaded as f64 / secs).max(1.0);
                    let to_load = (total as u64).saturating_sub(loaded) as f64 / lrate;
                    to_receive.max(to_load).ceil() as i64
                }
                _ => -1,
            };
            // (Received and total bytes are Redis's master_sync_read_bytes
            // and master_sync_total_bytes above.)
            let _ = write!(
                o,
                "master_sync_loaded_bytes:{loaded}\r\nmaster_sync_rate_bytes_per_sec:{rate}\r\nmaster_sync_eta_seconds:{eta}\r\n"
            );
        }
        let _ = write!(
            o,
            "master_sync_refused_empty:{}\r\n",
            u8::from(self.repl.refused_empty)
        );
    }

    /// Once a second: a replica lagging past replica-lag-alert-ms records a
    /// `replica-lag` LATENCY event (and a log line when it starts).
    pub fn check_replica_lag(&mut self) {
        let alert: i64 = self
            .cfg
            .extra_value("replica-lag-alert-ms")
            .parse()
            .unwrap_or(0);
        if alert <= 0 || self.repl.is_replica() {
            return;
        }
        let worst = self
            .clients
            .replicas()
            .filter(|(_, _, r)| r.state == ReplicaState::Online)
            .map(|(k, _, r)| (self.replica_lag_ms(r.ack_offset), k))
            .max();
        match worst {
            Some((lag, k)) if lag >= alert => {
                self.latency_record("replica-lag", lag as u64);
                if !self.repl.lag_alerted {
                    self.repl.lag_alerted = true;
                    log::warn!(
                        "Replica {} lags {lag} ms behind (replica-lag-alert-ms is {alert})",
                        self.replica_name(k)
                    );
                }
            }
            _ => self.repl.lag_alerted = false,
        }
    }
}
