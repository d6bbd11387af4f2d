//! FAILOVER (Redis 7.0): a coordinated switch of roles between this master
//! and one of its replicas. Writes are paused, the replica catches up, then
//! this server becomes its replica with `PSYNC <replid> <offset> FAILOVER`,
//! which makes the target promote itself and continue partially.

use super::Server;
use crate::cmd::eq_ic;
use crate::error::{self, CmdError};
use crate::net::Kind;
use crate::repl::ReplicaState;
use bytes::Bytes;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FailoverState {
    WaitForSync,
    InProgress,
}

#[derive(Debug, Clone)]
pub struct Failover {
    pub state: FailoverState,
    pub target: Option<(String, u16)>,
    pub force: bool,
    /// Absolute unix ms; 0 = no timeout.
    pub end_ms: i64,
}

impl Server {
    pub fn cmd_failover(&mut self, key: usize, argv: &[Bytes]) -> Result<(), CmdError> {
        if argv.len() == 2 && eq_ic(&argv[1], "abort") {
            if self.failover.is_none() {
                return Err("ERR No failover in progress.".into());
            }
            self.abort_failover("Failover manually aborted");
            self.reply_ok(key);
            return Ok(());
        }
        let (mut timeout, mut force, mut target) = (0i64, false, None::<(String, u16)>);
        let mut j = 1;
        while j < argv.len() {
            if eq_ic(&argv[j], "timeout") && j + 1 < argv.len() && timeout == 0 {
                timeout = crate::encoding::numbers::string2ll(&argv[j + 1])
                    .ok_or(CmdError::from(error::NOT_INT))?;
                if timeout <= 0 {
                    return Err("ERR FAILOVER timeout must be greater than 0".into());
                }
                j += 2;
            } else if eq_ic(&argv[j], "to") && j + 2 < argv.len() && target.is_none() {
                let port = crate::encoding::numbers::string2ll(&argv[j + 2])
                    .ok_or(CmdError::from(error::NOT_INT))?;
                target = Some((
                    String::from_utf8_lossy(&argv[j + 1]).into_owned(),
                    port as u16,
                ));
                j += 3;
            } else if eq_ic(&argv[j], "force") && !force {
                force = true;
                j += 1;
            } else {
                return Err(error::SYNTAX.into());
            }
        }
        if self.failover.is_some() {
            return Err("ERR FAILOVER already in progress.".into());
        }
        if self.repl.is_replica() {
            return Err("ERR FAILOVER is not valid when server is a replica.".into());
        }
        if !self.clients.iter().any(|(_, c)| c.kind == Kind::Replica) {
            return Err("ERR FAILOVER requires connected replicas.".into());
        }
        if force && (timeout == 0 || target.is_none()) {
            return Err(
                "ERR FAILOVER with force option requires both a timeout and target HOST and IP."
                    .into(),
            );
        }
        if let Some((h, p)) = &target {
            let Some(k) = self.find_replica(h, *p) else {
                return Err("ERR FAILOVER target HOST and PORT is not a replica.".into());
            };
            if self
                .clients
                .replica(k)
                .is_none_or(|r| !matches!(r.state, ReplicaState::Online | ReplicaState::WaitAck))
            {
                return Err("ERR FAILOVER target replica is not online.".into());
            }
            log::info!("FAILOVER requested to {h}:{p}.");
        } else {
            log::info!("FAILOVER requested to any replica.");
        }
        self.failover = Some(Failover {
            state: FailoverState::WaitForSync,
            target,
            force,
            end_ms: if timeout > 0 {
                self.ks.now_ms + timeout
            } else {
                0
            },
        });
        // Writes wait until the failover ends one way or the other.
        self.clients_paused_until_ms = i64::MAX;
        self.pause_writes_only = true;
        self.reply_ok(key);
        Ok(())
    }

    /// A replica of ours by its announced address and listening port.
    fn find_replica(&self, host: &str, port: u16) -> Option<usize> {
        self.clients
            .replicas()
            .find(|(k, _, r)| r.listening_port == port && self.replica_ip(*k) == host)
            .map(|(k, _, _)| k)
    }

    /// Moves the failover on: timeout, or a replica caught up (Redis's
    /// updateFailoverStatus). Called from cron and on every ACK.
    pub fn update_failover_status(&mut self) {
        let Some(f) = self.failover.clone() else {
            return;
        };
        if f.state != FailoverState::WaitForSync {
            return;
        }
        let now = crate::util::mstime();
        if f.end_ms != 0 && f.end_ms <= now {
            if let (true, Some((h, p))) = (f.force, f.target.clone()) {
                log::info!("FAILOVER to {h}:{p} time out exceeded, failing over.");
                self.failover_start(h, p);
            } else {
                self.abort_failover("Replica never caught up before timeout");
            }
            return;
        }
        let offset = self.repl.master_repl_offset;
        let caught_up =
            |s: &Self, k: usize| s.clients.replica(k).is_some_and(|r| r.ack_offset == offset);
        let target = match f.target.clone() {
            Some((h, p)) => self
                .find_replica(&h, p)
                .filter(|&k| caught_up(self, k))
                .map(|_| (h, p)),
            None => {
                let keys = self.clients.replica_keys();
                keys.into_iter().find(|&k| caught_up(self, k)).map(|k| {
                    let port = self.clients.replica(k).map_or(0, |r| r.listening_port);
                    (self.replica_ip(k), port)
                })
            }
        };
        if let Some((h, p)) = target {
            log::info!("Failover target {h}:{p} is synced, failing over.");
            self.failover_start(h, p);
        }
    }

    fn failover_start(&mut self, host: String, port: u16) {
        if let Some(f) = self.failover.as_mut() {
            f.state = FailoverState::InProgress;
            f.target = Some((host.clone(), port));
        }
        self.replication_set_master(host, port);
    }

    /// Whether our next PSYNC must carry the FAILOVER flag.
    pub fn failover_in_progress(&self) -> bool {
        self.failover
            .as_ref()
            .is_some_and(|f| f.state == FailoverState::InProgress)
    }

    /// The target accepted our PSYNC: roles are switched.
    pub fn failover_done(&mut self) {
        if self.failover.take().is_some() {
            log::info!("Failover target accepted the PSYNC request, failover complete.");
            self.unpause_clients();
        }
    }

    pub fn abort_failover(&mut self, reason: &str) {
        let Some(f) = self.failover.take() else {
            return;
        };
        log::warn!("FAILOVER aborted: {reason}");
        if f.state == FailoverState::InProgress {
            self.replication_unset_master();
        }
        self.unpause_clients();
    }

    pub fn failover_state_name(&self) -> &'static str {
        match self.failover.as_ref().map(|f| &f.state) {
            None => "no-failover",
            Some(FailoverState::WaitForSync) => "waiting-for-sync",
            Some(FailoverState::InProgress) => "failover-in-progress",
        }
    }
}
