//! Sentinel mode (Redis 7.0's sentinel.c): the state a Sentinel keeps about
//! the masters it watches, their replicas and the other Sentinels, and the
//! machinery that watches them, agrees they are down, elects a leader and
//! fails over.
//!
//! The same binary runs it instead of a keyspace (`--sentinel`, or the
//! program started as `ferrodis-sentinel`). Everything happens in the one
//! `mio` loop: `Sentinel` owns its outgoing connections (two per master and
//! replica, one per other Sentinel; tokens from `TOKEN_BASE` up), and the
//! server calls in with an `Env` (the poll registry and the config) from
//! its cron (`timer`), when one of those connections has an event
//! (`conn_event`), and for the commands of the Sentinel command table
//! (`command`). Events meant for Pub/Sub subscribers are queued and drained
//! by the server (`take_events`). This module never sees the server.
//!
//! Files, in reading order:
//! - `addr`: addresses and hostname resolution;
//! - `instance`: masters, replicas and Sentinels as instances, their flags;
//! - `link`: connections, the command queue with its reply callbacks;
//! - `monitor`: PING and INFO, replica discovery, SDOWN/ODOWN;
//! - `hello`: hello messages, Sentinel discovery, newer configurations;
//! - `failover`: votes, leader election, replica selection, the failover
//!   state machine;
//! - `conf`: `sentinel ...` directives and the config rewrite;
//! - `command`, `command_set`: the SENTINEL command, INFO sentinel, ROLE,
//!   PUBLISH; `table`: the command table of Sentinel mode;
//! - `scripts`: notification and client-reconfig scripts.

pub mod addr;
pub mod command;
pub mod command_set;
pub mod conf;
pub mod failover;
pub mod hello;
pub mod instance;
pub mod link;
pub mod monitor;
pub mod scripts;
pub mod table;
#[cfg(test)]
mod tests;

use crate::config::Config;
pub use instance::{Instance, Master, Which};
use slab::Slab;

/// Tokens of Sentinel connections start here (client slab keys are small,
/// listener tokens are at the very top).
pub const TOKEN_BASE: usize = usize::MAX / 2;

pub const DEFAULT_PORT: u16 = 26379;
pub const HELLO_CHANNEL: &str = "__sentinel__:hello";
const DEFAULT_SLAVE_PRIORITY: i64 = 100;
const DEFAULT_PARALLEL_SYNCS: i64 = 1;
const MAX_PENDING_COMMANDS: i64 = 100;
/// Upper bound of the random delay before a failover starts.
const MAX_DESYNC: i64 = 1000;
const CONFIG_DEFAULT_HZ: u32 = 10;

/// Instance flags (Redis's SRI_*).
pub mod sri {
    pub const MASTER: u32 = 1 << 0;
    pub const SLAVE: u32 = 1 << 1;
    pub const SENTINEL: u32 = 1 << 2;
    pub const S_DOWN: u32 = 1 << 3;
    pub const O_DOWN: u32 = 1 << 4;
    pub const MASTER_DOWN: u32 = 1 << 5;
    pub const FAILOVER_IN_PROGRESS: u32 = 1 << 6;
    pub const PROMOTED: u32 = 1 << 7;
    pub const RECONF_SENT: u32 = 1 << 8;
    pub const RECONF_INPROG: u32 = 1 << 9;
    pub const RECONF_DONE: u32 = 1 << 10;
    pub const FORCE_FAILOVER: u32 = 1 << 11;
    pub const SCRIPT_KILL_SENT: u32 = 1 << 12;
    pub const MASTER_REBOOT: u32 = 1 << 13;
}

/// SENTINEL SIMULATE-FAILURE flags.
pub const SIMFAILURE_CRASH_AFTER_ELECTION: u32 = 1 << 0;
pub const SIMFAILURE_CRASH_AFTER_PROMOTION: u32 = 1 << 1;

/// The failover state machine (SENTINEL_FAILOVER_STATE_*).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum FailoverState {
    None,
    WaitStart,
    SelectSlave,
    SendSlaveofNoone,
    WaitPromotion,
    ReconfSlaves,
    UpdateConfig,
}

impl FailoverState {
    pub fn name(self) -> &'static str {
        match self {
            FailoverState::None => "none",
            FailoverState::WaitStart => "wait_start",
            FailoverState::SelectSlave => "select_slave",
            FailoverState::SendSlaveofNoone => "send_slaveof_noone",
            FailoverState::WaitPromotion => "wait_promotion",
            FailoverState::ReconfSlaves => "reconf_slaves",
            FailoverState::UpdateConfig => "update_config",
        }
    }
}

/// The periods SENTINEL DEBUG can change (milliseconds).
#[derive(Clone, Copy, Debug)]
pub struct Timing {
    pub info_period: i64,
    pub ping_period: i64,
    pub ask_period: i64,
    pub publish_period: i64,
    pub default_down_after: i64,
    pub default_failover_timeout: i64,
    pub tilt_trigger: i64,
    pub tilt_period: i64,
    pub slave_reconf_timeout: i64,
    pub min_link_reconnect_period: i64,
    pub election_timeout: i64,
    pub script_max_runtime: i64,
    pub script_retry_delay: i64,
}

impl Default for Timing {
    fn default() -> Self {
        Timing {
            info_period: 10_000,
            ping_period: 1000,
            ask_period: 1000,
            publish_period: 2000,
            default_down_after: 30_000,
            default_failover_timeout: 180_000,
            tilt_trigger: 2000,
            tilt_period: 30_000,
            slave_reconf_timeout: 10_000,
            min_link_reconnect_period: 15_000,
            election_timeout: 10_000,
            script_max_runtime: 60_000,
            script_retry_delay: 30_000,
        }
    }
}

/// Log levels of Sentinel events (Redis's LL_*).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    Debug,
    Verbose,
    Notice,
    Warning,
}

/// What the server lends Sentinel for one call.
pub struct Env<'a> {
    pub registry: &'a mio::Registry,
    pub cfg: &'a Config,
}

pub struct Sentinel {
    pub myid: String,
    pub current_epoch: u64,
    pub masters: Vec<Master>,
    pub tilt: bool,
    pub tilt_start_time: i64,
    pub previous_time: i64,
    pub announce_ip: Option<String>,
    pub announce_port: u16,
    pub simfailure_flags: u32,
    pub deny_scripts_reconfig: bool,
    pub sentinel_auth_pass: Option<String>,
    pub sentinel_auth_user: Option<String>,
    pub resolve_hostnames: bool,
    pub announce_hostnames: bool,
    pub t: Timing,
    pub links: Slab<link::Link>,
    pub conns: Slab<link::Conn>,
    pub scripts: scripts::Scripts,
    /// The cron frequency, changed at every tick to desynchronize Sentinels.
    pub hz: u32,
    /// (channel, message) pairs for Pub/Sub subscribers.
    events: Vec<(String, String)>,
    /// A state change waits to be written to the config file.
    flush_pending: bool,
    /// Connections with output queued during this call.
    dirty_conns: Vec<usize>,
    /// SENTINEL SIMULATE-FAILURE fired: exit once the state is saved.
    crash_requested: bool,
    next_uid: u64,
    rng: crate::util::Rng,
}

/// A log line of Redis's level, through the `log` facade.
pub fn log_at(level: Level, msg: &str) {
    match level {
        Level::Debug => log::trace!("{msg}"),
        Level::Verbose => log::debug!("{msg}"),
        Level::Notice => log::info!("{msg}"),
        Level::Warning => log::warn!("{msg}"),
    }
}

impl Default for Sentinel {
    fn default() -> Self {
        Sentinel::new()
    }
}

impl Sentinel {
    /// initSentinel: an empty state (the config is applied by `conf`).
    pub fn new() -> Sentinel {
        Sentinel {
            myid: String::new(),
            current_epoch: 0,
            masters: Vec::new(),
            tilt: false,
            tilt_start_time: 0,
            previous_time: crate::util::mstime(),
            announce_ip: None,
            announce_port: 0,
            simfailure_flags: 0,
            deny_scripts_reconfig: true,
            sentinel_auth_pass: None,
            sentinel_auth_user: None,
            resolve_hostnames: false,
            announce_hostnames: false,
            t: Timing::default(),
            links: Slab::new(),
            conns: Slab::new(),
            scripts: scripts::Scripts::default(),
            hz: CONFIG_DEFAULT_HZ,
            events: Vec::new(),
            flush_pending: false,
            dirty_conns: Vec::new(),
            crash_requested: false,
            next_uid: 1,
            rng: crate::util::Rng::new(),
        }
    }

    pub(crate) fn next_uid(&mut self) -> u64 {
        self.next_uid += 1;
        self.next_uid
    }

    pub(crate) fn rand_below(&mut self, n: i64) -> i64 {
        self.rng.below(n.max(1) as u64) as i64
    }

    /// sentinelIsRunning: picks an ID if the config had none (and saves
    /// it), logs it, and raises +monitor for every configured master.
    pub fn is_running(&mut self, env: &Env<'_>) {
        if self.myid.is_empty() {
            self.myid = crate::util::random_hex40();
            let _ = self.flush_config(env.cfg);
        }
        log::warn!("Sentinel ID is {}", self.myid);
        for m in 0..self.masters.len() {
            let q = self.masters[m].ri.quorum;
            let at = self.at(m, Which::Master);
            self.event(
                Level::Warning,
                "+monitor",
                Some(m),
                format!("{at} quorum {q}"),
            );
        }
        self.end_of_call(env);
    }

    /// Events for Pub/Sub subscribers since the last call.
    pub fn take_events(&mut self) -> Vec<(String, String)> {
        std::mem::take(&mut self.events)
    }

    /// Marks the config as changed; written before the loop goes on.
    pub(crate) fn config_changed(&mut self) {
        self.flush_pending = true;
    }

    /// Writes the config if something changed since the last write.
    pub fn flush_if_pending(&mut self, cfg: &Config) {
        if self.flush_pending {
            let _ = self.flush_config(cfg);
        }
    }

    /// Work owed at the end of every call from the server: the config file
    /// if the state changed, then the queued output.
    pub fn end_of_call(&mut self, env: &Env<'_>) {
        self.flush_if_pending(env.cfg);
        if self.crash_requested {
            log::warn!("Sentinel CRASH because of SENTINEL simulate-failure");
            std::process::exit(99);
        }
        self.flush_dirty();
    }

    /// sentinelEvent: logs, publishes on the channel named `kind`, and for
    /// warnings about an instance runs the master's notification script.
    /// `msg` is already formatted (see `at` for the instance prefix).
    pub(crate) fn event(&mut self, level: Level, kind: &str, master: Option<usize>, msg: String) {
        log_at(level, &format!("{kind} {msg}"));
        if level != Level::Debug {
            self.events.push((kind.to_string(), msg.clone()));
        }
        if level == Level::Warning {
            if let Some(script) = master
                .and_then(|m| self.masters.get(m))
                .and_then(|m| m.ri.notification_script.clone())
            {
                self.scripts
                    .schedule(script, vec![kind.to_string(), msg], crate::util::mstime());
            }
        }
    }

    /// The "%@" prefix of an event: `<type> <name> <ip> <port>`, followed
    /// by `@ <master name> <ip> <port>` for replicas and Sentinels.
    pub(crate) fn at(&self, m: usize, w: Which) -> String {
        let hn = self.announce_hostnames;
        let master = &self.masters[m].ri;
        let ri = self.masters[m].get(w);
        let own = format!(
            "{} {} {} {}",
            ri.type_str(),
            ri.name,
            ri.addr.announce(hn),
            ri.addr.port
        );
        match w {
            Which::Master => own,
            _ => format!(
                "{own} @ {} {} {}",
                master.name,
                master.addr.announce(hn),
                master.addr.port
            ),
        }
    }

    pub fn master_by_name(&self, name: &[u8]) -> Option<usize> {
        self.masters
            .iter()
            .position(|m| m.ri.name.as_bytes() == name)
    }

    /// sentinelTimer: the periodic work, from the server's cron.
    pub fn timer(&mut self, env: &Env<'_>) {
        self.check_tilt_condition();
        self.handle_masters(env);
        let now = crate::util::mstime();
        let t = self.t;
        if let Some(e) = self.scripts.run_pending(now) {
            self.event(Level::Warning, "-script-error", None, e);
        }
        for (lvl, kind, msg) in self.scripts.collect_terminated(now, &t) {
            self.event(lvl, kind, None, msg);
        }
        for msg in self.scripts.kill_timedout(now, &t) {
            self.event(Level::Warning, "-script-timeout", None, msg);
        }
        // Desynchronize the Sentinels (split votes repeat otherwise).
        self.hz = CONFIG_DEFAULT_HZ + self.rand_below(CONFIG_DEFAULT_HZ as i64) as u32;
        self.end_of_call(env);
    }

    /// sentinelCheckTiltCondition: a negative or too large gap between two
    /// timer calls (clock change, stall) stops acting for a while.
    fn check_tilt_condition(&mut self) {
        let now = crate::util::mstime();
        let delta = now - self.previous_time;
        if delta < 0 || delta > self.t.tilt_trigger {
            self.tilt = true;
            self.tilt_start_time = crate::util::mstime();
            self.event(Level::Warning, "+tilt", None, "#tilt mode entered".into());
        }
        self.previous_time = crate::util::mstime();
    }

    /// sentinelHandleDictOfRedisInstances over the masters, their replicas
    /// and Sentinels.
    fn handle_masters(&mut self, env: &Env<'_>) {
        let mut switch_to_promoted = None;
        for m in 0..self.masters.len() {
            self.handle_instance(env, m, Which::Master);
            for i in 0..self.masters[m].slaves.len() {
                self.handle_instance(env, m, Which::Slave(i));
            }
            for i in 0..self.masters[m].sentinels.len() {
                self.handle_instance(env, m, Which::Sentinel(i));
            }
            if self.masters[m].ri.failover_state == FailoverState::UpdateConfig {
                switch_to_promoted = Some(m);
            }
        }
        if let Some(m) = switch_to_promoted {
            self.failover_switch_to_promoted_slave(m);
        }
    }

    /// sentinelHandleRedisInstance: the monitoring half always, the acting
    /// half unless in TILT.
    fn handle_instance(&mut self, env: &Env<'_>, m: usize, w: Which) {
        if m >= self.masters.len() || !self.masters[m].has(w) {
            return;
        }
        self.reconnect_instance(env, m, w);
        self.send_periodic_commands(env, m, w);
        if self.tilt {
            if crate::util::mstime() - self.tilt_start_time < self.t.tilt_period {
                return;
            }
            self.tilt = false;
            self.event(Level::Warning, "-tilt", None, "#tilt mode exited".into());
        }
        self.check_subjectively_down(m, w);
        if w == Which::Master {
            self.check_objectively_down(m);
            if self.start_failover_if_needed(m) {
                self.ask_master_state_to_other_sentinels(m, true);
            }
            self.failover_state_machine(m);
            self.ask_master_state_to_other_sentinels(m, false);
        }
    }
}
