//! The `sentinel ...` directives of the config file (applied in Redis's
//! order: global options first, then `monitor`, then the per-master
//! options, so a file may list them in any order) and the other half:
//! the lines Sentinel writes back into the file on every state change
//! (rewriteConfigSentinelOption), fsynced.

use super::instance::create_error;
use super::{sri, Sentinel, DEFAULT_PARALLEL_SYNCS};
use crate::config::{Config, RewriteOp, SentinelLine};
use crate::REDIS_VERSION;

/// Directives applied before any `monitor` line.
const PRE_MONITOR: &[&str] = &[
    "announce-ip",
    "announce-port",
    "deny-scripts-reconfig",
    "sentinel-user",
    "sentinel-pass",
    "current-epoch",
    "myid",
    "resolve-hostnames",
    "announce-hostnames",
];

fn yesno(s: &str) -> Option<bool> {
    if s.eq_ignore_ascii_case("yes") {
        Some(true)
    } else if s.eq_ignore_ascii_case("no") {
        Some(false)
    } else {
        None
    }
}

/// access(path, X_OK) == 0.
pub fn executable(path: &str) -> bool {
    let Ok(c) = std::ffi::CString::new(path) else {
        return false;
    };
    // SAFETY: access(2) on a NUL-terminated path we own.
    unsafe { libc::access(c.as_ptr(), libc::X_OK) == 0 }
}

impl Sentinel {
    /// loadSentinelConfigFromQueue: applies the `sentinel` lines of the
    /// config. Err is the fatal text Redis prints before exiting.
    pub fn load_config(&mut self, lines: &[SentinelLine]) -> Result<(), String> {
        let is_pre = |l: &&SentinelLine| {
            l.argv
                .first()
                .is_some_and(|a| PRE_MONITOR.iter().any(|p| p.eq_ignore_ascii_case(a)))
        };
        let is_monitor = |l: &&SentinelLine| {
            l.argv
                .first()
                .is_some_and(|a| a.eq_ignore_ascii_case("monitor"))
        };
        let pre = lines.iter().filter(is_pre);
        let monitor = lines.iter().filter(is_monitor);
        let post = lines.iter().filter(|l| !is_pre(l) && !is_monitor(l));
        for l in pre.chain(monitor).chain(post) {
            if let Err(e) = self.handle_configuration(&l.argv) {
                return Err(format!(
                    "\n*** FATAL CONFIG FILE ERROR (Redis {REDIS_VERSION}) ***\n\
                     Reading the configuration file, at line {}\n>>> '{}'\n{e}",
                    l.linenum, l.line
                ));
            }
        }
        Ok(())
    }

    /// sentinelHandleConfiguration: one directive (without "sentinel").
    fn handle_configuration(&mut self, argv: &[String]) -> Result<(), &'static str> {
        use crate::encoding::numbers::{atoi, atou};
        let name = argv
            .first()
            .map(|s| s.to_ascii_lowercase())
            .unwrap_or_default();
        let argc = argv.len();
        let master = |s: &Sentinel| -> Result<usize, &'static str> {
            s.master_by_name(argv[1].as_bytes())
                .ok_or("No such master with specified name.")
        };
        match (name.as_str(), argc) {
            ("monitor", 5) => {
                let quorum = atoi(argv[4].as_bytes());
                if quorum <= 0 {
                    return Err("Quorum must be 1 or greater.");
                }
                self.create_master(&argv[1], &argv[2], atoi(argv[3].as_bytes()), quorum as u32)
                    .map_err(|e| create_error(e, sri::MASTER))?;
            }
            ("down-after-milliseconds", 3) => {
                let m = master(self)?;
                let v = atoi(argv[2].as_bytes());
                self.masters[m].ri.down_after_period = v;
                if v <= 0 {
                    return Err("negative or zero time parameter.");
                }
                self.propagate_down_after_period(m);
            }
            ("failover-timeout", 3) => {
                let m = master(self)?;
                let v = atoi(argv[2].as_bytes());
                self.masters[m].ri.failover_timeout = v;
                if v <= 0 {
                    return Err("negative or zero time parameter.");
                }
            }
            ("parallel-syncs", 3) => {
                let m = master(self)?;
                self.masters[m].ri.parallel_syncs = atoi(argv[2].as_bytes());
            }
            ("notification-script", 3) => {
                let m = master(self)?;
                if !executable(&argv[2]) {
                    return Err("Notification script seems non existing or non executable.");
                }
                self.masters[m].ri.notification_script = Some(argv[2].clone());
            }
            ("client-reconfig-script", 3) => {
                let m = master(self)?;
                if !executable(&argv[2]) {
                    return Err(
                        "Client reconfiguration script seems non existing or non executable.",
                    );
                }
                self.masters[m].ri.client_reconfig_script = Some(argv[2].clone());
            }
            ("auth-pass", 3) => {
                let m = master(self)?;
                self.masters[m].ri.auth_pass = Some(argv[2].clone());
            }
            ("auth-user", 3) => {
                let m = master(self)?;
                self.masters[m].ri.auth_user = Some(argv[2].clone());
            }
            ("current-epoch", 2) => {
                let e = atou(argv[1].as_bytes());
                if e > self.current_epoch {
                    self.current_epoch = e;
                }
            }
            ("myid", 2) => {
                if argv[1].len() != 40 {
                    return Err("Malformed Sentinel id in myid option.");
                }
                self.myid = argv[1].clone();
            }
            ("config-epoch", 3) => {
                let m = master(self)?;
                let e = atou(argv[2].as_bytes());
                self.masters[m].ri.config_epoch = e;
                if e > self.current_epoch {
                    self.current_epoch = e;
                }
            }
            ("leader-epoch", 3) => {
                let m = master(self)?;
                self.masters[m].ri.leader_epoch = atou(argv[2].as_bytes());
            }
            ("known-slave" | "known-replica", 4) => {
                let m = master(self)?;
                self.create_slave(m, &argv[2], atoi(argv[3].as_bytes()))
                    .map_err(|e| create_error(e, sri::SLAVE))?;
            }
            ("known-sentinel", 4) => {} // The old form without run ID.
            ("known-sentinel", 5) => {
                let m = master(self)?;
                self.create_sentinel(m, &argv[4], &argv[2], atoi(argv[3].as_bytes()))
                    .map_err(|e| create_error(e, sri::SENTINEL))?;
            }
            ("rename-command", 4) => {
                let m = master(self)?;
                let ri = &mut self.masters[m].ri;
                if ri
                    .renamed_commands
                    .iter()
                    .any(|(o, _)| o.eq_ignore_ascii_case(&argv[2]))
                {
                    return Err("Same command renamed multiple times with rename-command.");
                }
                ri.renamed_commands.push((argv[2].clone(), argv[3].clone()));
            }
            ("announce-ip", 2) => {
                if !argv[1].is_empty() {
                    self.announce_ip = Some(argv[1].clone());
                }
            }
            ("announce-port", 2) => self.announce_port = atoi(argv[1].as_bytes()) as u16,
            ("deny-scripts-reconfig", 2) => {
                self.deny_scripts_reconfig = yesno(&argv[1])
                    .ok_or("Please specify yes or no for the deny-scripts-reconfig options.")?;
            }
            ("sentinel-user", 2) => {
                if !argv[1].is_empty() {
                    self.sentinel_auth_user = Some(argv[1].clone());
                }
            }
            ("sentinel-pass", 2) => {
                if !argv[1].is_empty() {
                    self.sentinel_auth_pass = Some(argv[1].clone());
                }
            }
            ("resolve-hostnames", 2) => {
                self.resolve_hostnames = yesno(&argv[1])
                    .ok_or("Please specify yes or no for the resolve-hostnames option.")?;
            }
            ("announce-hostnames", 2) => {
                self.announce_hostnames = yesno(&argv[1])
                    .ok_or("Please specify yes or no for the announce-hostnames option.")?;
            }
            ("master-reboot-down-after-period", 3) => {
                let m = master(self)?;
                let v = atoi(argv[2].as_bytes());
                self.masters[m].ri.master_reboot_down_after_period = v;
                if v < 0 {
                    return Err("negative time parameter.");
                }
            }
            _ => return Err("Unrecognized sentinel configuration statement."),
        }
        Ok(())
    }

    /// rewriteConfigSentinelOption: the lines that persist our state, in
    /// Redis's order (each replaces the old line of the same option in
    /// place, or is appended).
    pub fn rewrite_ops(&self) -> Vec<RewriteOp> {
        let mut ops = Vec::new();
        let mut line = |option: &str, text: String, force: bool| {
            ops.push(RewriteOp::Line {
                option: option.to_string(),
                line: text,
                force,
            })
        };
        let yn = |b: bool| if b { "yes" } else { "no" };
        let hn = self.announce_hostnames;
        line(
            "sentinel myid",
            format!("sentinel myid {}", self.myid),
            true,
        );
        line(
            "sentinel deny-scripts-reconfig",
            format!(
                "sentinel deny-scripts-reconfig {}",
                yn(self.deny_scripts_reconfig)
            ),
            !self.deny_scripts_reconfig,
        );
        line(
            "sentinel resolve-hostnames",
            format!("sentinel resolve-hostnames {}", yn(self.resolve_hostnames)),
            self.resolve_hostnames,
        );
        line(
            "sentinel announce-hostnames",
            format!(
                "sentinel announce-hostnames {}",
                yn(self.announce_hostnames)
            ),
            self.announce_hostnames,
        );
        for master in &self.masters {
            let ri = &master.ri;
            let n = &ri.name;
            let maddr = master.current_addr();
            line(
                "sentinel monitor",
                format!(
                    "sentinel monitor {n} {} {} {}",
                    maddr.announce(hn),
                    maddr.port,
                    ri.quorum
                ),
                true,
            );
            if ri.down_after_period != self.t.default_down_after {
                line(
                    "sentinel down-after-milliseconds",
                    format!(
                        "sentinel down-after-milliseconds {n} {}",
                        ri.down_after_period
                    ),
                    true,
                );
            }
            if ri.failover_timeout != self.t.default_failover_timeout {
                line(
                    "sentinel failover-timeout",
                    format!("sentinel failover-timeout {n} {}", ri.failover_timeout),
                    true,
                );
            }
            if ri.parallel_syncs != DEFAULT_PARALLEL_SYNCS {
                line(
                    "sentinel parallel-syncs",
                    format!("sentinel parallel-syncs {n} {}", ri.parallel_syncs),
                    true,
                );
            }
            if let Some(s) = &ri.notification_script {
                line(
                    "sentinel notification-script",
                    format!("sentinel notification-script {n} {s}"),
                    true,
                );
            }
            if let Some(s) = &ri.client_reconfig_script {
                line(
                    "sentinel client-reconfig-script",
                    format!("sentinel client-reconfig-script {n} {s}"),
                    true,
                );
            }
            if let Some(p) = &ri.auth_pass {
                line(
                    "sentinel auth-pass",
                    format!("sentinel auth-pass {n} {p}"),
                    true,
                );
            }
            if let Some(u) = &ri.auth_user {
                line(
                    "sentinel auth-user",
                    format!("sentinel auth-user {n} {u}"),
                    true,
                );
            }
            if ri.master_reboot_down_after_period != 0 {
                line(
                    "sentinel master-reboot-down-after-period",
                    format!(
                        "sentinel master-reboot-down-after-period {n} {}",
                        ri.master_reboot_down_after_period
                    ),
                    true,
                );
            }
            line(
                "sentinel config-epoch",
                format!("sentinel config-epoch {n} {}", ri.config_epoch),
                true,
            );
            line(
                "sentinel leader-epoch",
                format!("sentinel leader-epoch {n} {}", ri.leader_epoch),
                true,
            );
            for s in &master.slaves {
                // The promoted replica is the master now: the old master's
                // address takes its place among the replicas.
                let a = if s.addr.same_ip(maddr) {
                    &ri.addr
                } else {
                    &s.addr
                };
                line(
                    "sentinel known-replica",
                    format!("sentinel known-replica {n} {} {}", a.announce(hn), a.port),
                    true,
                );
            }
            for s in &master.sentinels {
                let Some(id) = &s.runid else { continue };
                line(
                    "sentinel known-sentinel",
                    format!(
                        "sentinel known-sentinel {n} {} {} {id}",
                        s.addr.announce(hn),
                        s.addr.port
                    ),
                    true,
                );
            }
            for (old, new) in &ri.renamed_commands {
                line(
                    "sentinel rename-command",
                    format!("sentinel rename-command {n} {old} {new}"),
                    true,
                );
            }
        }
        line(
            "sentinel current-epoch",
            format!("sentinel current-epoch {}", self.current_epoch),
            true,
        );
        let mut opt = |option: &str, value: Option<String>| match value {
            Some(v) => ops.push(RewriteOp::Line {
                option: option.to_string(),
                line: format!("{option} {v}"),
                force: true,
            }),
            None => ops.push(RewriteOp::Mark(option.to_string())),
        };
        opt(
            "sentinel announce-ip",
            self.announce_ip
                .as_ref()
                .map(|ip| crate::util::splitargs::repr(ip.as_bytes())),
        );
        opt(
            "sentinel announce-port",
            (self.announce_port != 0).then(|| self.announce_port.to_string()),
        );
        opt("sentinel sentinel-user", self.sentinel_auth_user.clone());
        opt("sentinel sentinel-pass", self.sentinel_auth_pass.clone());
        // Old lines of options no longer in effect are removed.
        for o in [
            "monitor",
            "down-after-milliseconds",
            "failover-timeout",
            "parallel-syncs",
            "notification-script",
            "client-reconfig-script",
            "auth-pass",
            "auth-user",
            "config-epoch",
            "leader-epoch",
            "known-replica",
            "known-sentinel",
            "rename-command",
            "master-reboot-down-after-period",
        ] {
            ops.push(RewriteOp::Mark(format!("sentinel {o}")));
        }
        ops
    }

    /// sentinelFlushConfig: rewrites the config file with our state and
    /// fsyncs it. Errors are logged (and returned for commands to report).
    pub fn flush_config(&mut self, cfg: &Config) -> Result<(), String> {
        self.flush_pending = false;
        let ops = self.rewrite_ops();
        let res = cfg.rewrite_sentinel(&ops).and_then(|()| {
            let path = cfg.config_file.as_deref().unwrap_or_default();
            std::fs::File::open(path)
                .and_then(|f| f.sync_all())
                .map_err(|e| crate::config::os_err(&e))
        });
        match res {
            Ok(()) => {
                log::info!("Sentinel new configuration saved on disk");
                Ok(())
            }
            Err(e) => {
                log::warn!(
                    "WARNING: Sentinel was not able to save the new configuration on disk!!!: {e}"
                );
                Err(e)
            }
        }
    }
}
