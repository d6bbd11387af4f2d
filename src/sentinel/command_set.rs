//! The SENTINEL subcommands that change settings: SET (per master),
//! CONFIG GET/SET (global), DEBUG (the timing parameters) and
//! SIMULATE-FAILURE, with Redis's error texts.

use super::conf::executable;
use super::{
    Env, Level, Sentinel, Which, SIMFAILURE_CRASH_AFTER_ELECTION, SIMFAILURE_CRASH_AFTER_PROMOTION,
};
use crate::error::CmdError;
use crate::resp::Out;
use bytes::Bytes;

type R = Result<(), CmdError>;

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn yesno(b: &[u8]) -> Option<bool> {
    if b.eq_ignore_ascii_case(b"yes") {
        Some(true)
    } else if b.eq_ignore_ascii_case(b"no") {
        Some(false)
    } else {
        None
    }
}

/// The DEBUG parameters, in the order SENTINEL DEBUG lists them.
const DEBUG_NAMES: &[&str] = &[
    "info-period",
    "ping-period",
    "ask-period",
    "publish-period",
    "default-down-after",
    "default-failover-timeout",
    "tilt-trigger",
    "tilt-period",
    "slave-reconf-timeout",
    "min-link-reconnect-period",
    "election-timeout",
    "script-max-runtime",
    "script-retry-delay",
];

impl Sentinel {
    fn debug_param(&mut self, name: &str) -> Option<&mut i64> {
        let t = &mut self.t;
        Some(match name {
            "info-period" => &mut t.info_period,
            "ping-period" => &mut t.ping_period,
            "ask-period" => &mut t.ask_period,
            "publish-period" => &mut t.publish_period,
            "default-down-after" => &mut t.default_down_after,
            "default-failover-timeout" => &mut t.default_failover_timeout,
            "tilt-trigger" => &mut t.tilt_trigger,
            "tilt-period" => &mut t.tilt_period,
            "slave-reconf-timeout" => &mut t.slave_reconf_timeout,
            "min-link-reconnect-period" => &mut t.min_link_reconnect_period,
            "election-timeout" => &mut t.election_timeout,
            "script-max-runtime" => &mut t.script_max_runtime,
            "script-retry-delay" => &mut t.script_retry_delay,
            _ => return None,
        })
    }

    /// SENTINEL DEBUG: the timing parameters.
    pub(crate) fn reply_debug_info(&mut self, o: &mut Out<'_>) {
        o.map(DEBUG_NAMES.len());
        for n in DEBUG_NAMES {
            let v = self.debug_param(n).map_or(0, |v| *v);
            o.bulk(n.to_ascii_uppercase().as_bytes());
            o.bulk_i64(v);
        }
    }

    /// SENTINEL DEBUG <param> <ms> [<param> <ms> ...]: applied up to the
    /// first bad pair, as in Redis.
    pub(crate) fn debug_set(&mut self, argv: &[Bytes], o: &mut Out<'_>) -> R {
        let mut j = 2;
        while j < argv.len() {
            let option = text(&argv[j]);
            let lower = option.to_ascii_lowercase();
            let more = j + 1 < argv.len();
            if !more || self.debug_param(&lower).is_none() {
                return Err(CmdError::msg(format!(
                    "ERR Unknown option or number of arguments for SENTINEL DEBUG '{option}'"
                )));
            }
            j += 1;
            match crate::encoding::numbers::string2ll(&argv[j]).filter(|&v| v > 0) {
                Some(v) => {
                    if let Some(p) = self.debug_param(&lower) {
                        *p = v;
                    }
                }
                None => {
                    return Err(CmdError::msg(format!(
                        "ERR Invalid argument '{}' for SENTINEL DEBUG '{option}'",
                        text(&argv[j])
                    )))
                }
            }
            j += 1;
        }
        o.ok();
        Ok(())
    }

    /// SENTINEL SIMULATE-FAILURE [CRASH-AFTER-ELECTION] [CRASH-AFTER-PROMOTION] [HELP].
    pub(crate) fn simulate_failure(&mut self, argv: &[Bytes], o: &mut Out<'_>) -> R {
        self.simfailure_flags = 0;
        for a in &argv[2..] {
            if a.eq_ignore_ascii_case(b"crash-after-election") {
                self.simfailure_flags |= SIMFAILURE_CRASH_AFTER_ELECTION;
                log::warn!("Failure simulation: this Sentinel will crash after being successfully elected as failover leader");
            } else if a.eq_ignore_ascii_case(b"crash-after-promotion") {
                self.simfailure_flags |= SIMFAILURE_CRASH_AFTER_PROMOTION;
                log::warn!("Failure simulation: this Sentinel will crash after promoting the selected replica to master");
            } else if a.eq_ignore_ascii_case(b"help") {
                o.array(2);
                o.bulk(b"crash-after-election");
                o.bulk(b"crash-after-promotion");
                return Ok(());
            } else {
                return Err("ERR Unknown failure simulation specified".into());
            }
        }
        o.ok();
        Ok(())
    }

    /// SENTINEL CONFIG SET <option> <value>.
    pub(crate) fn config_set_command(
        &mut self,
        env: &Env<'_>,
        argv: &[Bytes],
        o: &mut Out<'_>,
    ) -> R {
        let opt = text(&argv[3]);
        let val = &argv[4];
        let badfmt = || {
            CmdError::msg(format!(
                "ERR Invalid value '{}' to SENTINEL CONFIG SET '{opt}'",
                text(val)
            ))
        };
        let nonempty = |v: &[u8]| (!v.is_empty()).then(|| text(v));
        let mut drop_conns = false;
        match opt.to_ascii_lowercase().as_str() {
            "resolve-hostnames" => self.resolve_hostnames = yesno(val).ok_or_else(badfmt)?,
            "announce-hostnames" => self.announce_hostnames = yesno(val).ok_or_else(badfmt)?,
            "announce-ip" => self.announce_ip = Some(text(val)),
            "announce-port" => {
                let p = crate::encoding::numbers::string2ll(val)
                    .filter(|p| (0..=65535).contains(p))
                    .ok_or_else(badfmt)?;
                self.announce_port = p as u16;
            }
            "sentinel-user" => {
                self.sentinel_auth_user = nonempty(val);
                drop_conns = true;
            }
            "sentinel-pass" => {
                self.sentinel_auth_pass = nonempty(val);
                drop_conns = true;
            }
            _ => {
                return Err(CmdError::msg(format!(
                    "ERR Invalid argument '{opt}' to SENTINEL CONFIG SET"
                )))
            }
        }
        let r = self.flush_and_reply(env, o);
        if drop_conns {
            // Reconnect to the other Sentinels with the new credentials.
            self.drop_sentinel_connections();
        }
        r
    }

    /// SENTINEL CONFIG GET <pattern>.
    pub(crate) fn config_get_command(&self, argv: &[Bytes], o: &mut Out<'_>) {
        let pat = &argv[3];
        let yn = |b: bool| if b { "yes" } else { "no" }.to_string();
        let all = [
            ("resolve-hostnames", yn(self.resolve_hostnames)),
            ("announce-hostnames", yn(self.announce_hostnames)),
            ("announce-ip", self.announce_ip.clone().unwrap_or_default()),
            ("announce-port", self.announce_port.to_string()),
            (
                "sentinel-user",
                self.sentinel_auth_user.clone().unwrap_or_default(),
            ),
            (
                "sentinel-pass",
                self.sentinel_auth_pass.clone().unwrap_or_default(),
            ),
        ];
        let hits: Vec<&(&str, String)> = all
            .iter()
            .filter(|(n, _)| crate::util::string_match(pat, n.as_bytes(), true))
            .collect();
        o.map(hits.len());
        for (n, v) in hits {
            o.bulk(n.as_bytes());
            o.bulk(v.as_bytes());
        }
    }

    /// SENTINEL SET <master> <option> <value> [<option> <value> ...]: each
    /// change is logged as a +set event; the config is written when
    /// anything changed, even if a later option was refused.
    pub(crate) fn set_command(&mut self, env: &Env<'_>, argv: &[Bytes], o: &mut Out<'_>) -> R {
        let m = self.master_or_err(&argv[2])?;
        let mut changes = 0;
        let mut j = 3;
        let result: R = loop {
            if j >= argv.len() {
                break Ok(());
            }
            let option = text(&argv[j]);
            let lower = option.to_ascii_lowercase();
            let moreargs = argv.len() - 1 - j;
            let old_j = j;
            let mut redacted = false;
            let bad = |k: usize| {
                CmdError::msg(format!(
                    "ERR Invalid argument '{}' for SENTINEL SET '{option}'",
                    text(&argv[k])
                ))
            };
            let positive = |k: usize| {
                crate::encoding::numbers::string2ll(&argv[k])
                    .filter(|&v| v > 0)
                    .ok_or_else(|| bad(k))
            };
            match lower.as_str() {
                "down-after-milliseconds" if moreargs > 0 => {
                    j += 1;
                    match positive(j) {
                        Ok(v) => self.masters[m].ri.down_after_period = v,
                        Err(e) => break Err(e),
                    }
                    self.propagate_down_after_period(m);
                }
                "failover-timeout" if moreargs > 0 => {
                    j += 1;
                    match positive(j) {
                        Ok(v) => self.masters[m].ri.failover_timeout = v,
                        Err(e) => break Err(e),
                    }
                }
                "parallel-syncs" if moreargs > 0 => {
                    j += 1;
                    match positive(j) {
                        Ok(v) => self.masters[m].ri.parallel_syncs = v,
                        Err(e) => break Err(e),
                    }
                }
                "notification-script" | "client-reconfig-script" if moreargs > 0 => {
                    j += 1;
                    let value = text(&argv[j]);
                    let notif = lower == "notification-script";
                    if self.deny_scripts_reconfig {
                        break Err("ERR Reconfiguration of scripts path is denied for security reasons. Check the deny-scripts-reconfig configuration directive in your Sentinel configuration".into());
                    }
                    if !value.is_empty() && !executable(&value) {
                        break Err(if notif {
                            "ERR Notification script seems non existing or non executable".into()
                        } else {
                            "ERR Client reconfiguration script seems non existing or non executable"
                                .into()
                        });
                    }
                    let v = (!value.is_empty()).then_some(value);
                    if notif {
                        self.masters[m].ri.notification_script = v;
                    } else {
                        self.masters[m].ri.client_reconfig_script = v;
                    }
                }
                "auth-pass" if moreargs > 0 => {
                    j += 1;
                    let v = text(&argv[j]);
                    self.masters[m].ri.auth_pass = (!v.is_empty()).then_some(v);
                    self.drop_instance_connections(m);
                    redacted = true;
                }
                "auth-user" if moreargs > 0 => {
                    j += 1;
                    let v = text(&argv[j]);
                    self.masters[m].ri.auth_user = (!v.is_empty()).then_some(v);
                    self.drop_instance_connections(m);
                }
                "quorum" if moreargs > 0 => {
                    j += 1;
                    match positive(j) {
                        Ok(v) => self.masters[m].ri.quorum = u32::try_from(v).unwrap_or(u32::MAX),
                        Err(e) => break Err(e),
                    }
                }
                "rename-command" if moreargs > 1 => {
                    let old = text(&argv[j + 1]);
                    let new = text(&argv[j + 2]);
                    j += 2;
                    if old.is_empty() || new.is_empty() {
                        break Err(bad(if !new.is_empty() { j - 1 } else { j }));
                    }
                    let ri = &mut self.masters[m].ri;
                    ri.renamed_commands
                        .retain(|(o, _)| !o.eq_ignore_ascii_case(&old));
                    if !old.eq_ignore_ascii_case(&new) {
                        ri.renamed_commands.push((old, new));
                    }
                }
                "master-reboot-down-after-period" if moreargs > 0 => {
                    j += 1;
                    match crate::encoding::numbers::string2ll(&argv[j]).filter(|&v| v >= 0) {
                        Some(v) => self.masters[m].ri.master_reboot_down_after_period = v,
                        None => break Err(bad(j)),
                    }
                }
                _ => {
                    break Err(CmdError::msg(format!(
                        "ERR Unknown option or number of arguments for SENTINEL SET '{option}'"
                    )))
                }
            }
            changes += 1;
            let at = self.at(m, Which::Master);
            let msg = match j - old_j + 1 {
                2 => format!(
                    "{at} {option} {}",
                    if redacted {
                        "******".to_string()
                    } else {
                        text(&argv[old_j + 1])
                    }
                ),
                3 => format!(
                    "{at} {option} {} {}",
                    text(&argv[old_j + 1]),
                    text(&argv[old_j + 2])
                ),
                _ => format!("{at} {option}"),
            };
            self.event(Level::Warning, "+set", Some(m), msg);
            j += 1;
        };
        match result {
            Ok(()) if changes > 0 => self.flush_and_reply(env, o),
            Ok(()) => Ok(()),
            Err(e) => {
                if changes > 0 {
                    let _ = self.flush_config(env.cfg);
                }
                Err(e)
            }
        }
    }
}
