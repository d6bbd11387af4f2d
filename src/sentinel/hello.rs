//! Hello messages (Redis's `__sentinel__:hello` protocol): every Sentinel
//! publishes `ip,port,runid,current_epoch,master,master_ip,master_port,
//! master_config_epoch` on the channel of the masters and replicas it
//! watches (and straight to the other Sentinels with PUBLISH); reading them
//! discovers the other Sentinels, follows their address changes, and adopts
//! a master configuration with a newer epoch (+switch-master).

use super::instance::Target;
use super::link::Cb;
use super::{Env, Level, Sentinel, Which};
use crate::encoding::numbers::{atoi, atou};
use crate::resp::reply::Reply;

impl Sentinel {
    /// sentinelSendHello: publishes who we are and the master's
    /// configuration as we know it on the hello channel of the instance
    /// (for a Sentinel, straight to it with its PUBLISH).
    pub(crate) fn send_hello(&mut self, env: &Env<'_>, m: usize, w: Which) -> bool {
        let ri = self.masters[m].get(w);
        let Some(l) = self.links.get(ri.link) else {
            return false;
        };
        let Some(cc) = l.cc.filter(|_| !l.disconnected) else {
            return false;
        };
        let ip = match &self.announce_ip {
            Some(ip) => ip.clone(),
            None => match self.conn_local_ip(cc) {
                Some(ip) => ip,
                None => return false,
            },
        };
        let port = if self.announce_port != 0 {
            self.announce_port
        } else {
            env.cfg.port
        };
        let master = &self.masters[m];
        let maddr = master.current_addr();
        let payload = format!(
            "{ip},{port},{},{},{},{},{},{}",
            self.myid,
            self.current_epoch,
            master.ri.name,
            maddr.announce(self.announce_hostnames),
            maddr.port,
            master.ri.config_epoch
        );
        let publish = self.map_command(m, "PUBLISH");
        let t = master.target(w);
        self.send(
            cc,
            &[
                publish.as_bytes(),
                super::HELLO_CHANNEL.as_bytes(),
                payload.as_bytes(),
            ],
            Cb::Publish,
            t,
        )
    }

    /// sentinelForceHelloUpdateForMaster: hello to everyone at the next tick.
    pub(crate) fn force_hello_update_for_master(&mut self, m: usize) {
        let step = self.t.publish_period + 1;
        let master = &mut self.masters[m];
        for ri in std::iter::once(&mut master.ri)
            .chain(master.sentinels.iter_mut())
            .chain(master.slaves.iter_mut())
        {
            if ri.last_pub_time >= step {
                ri.last_pub_time -= step;
            }
        }
    }

    /// sentinelReceiveHelloMessages: a message on the hello channel of a
    /// master or replica.
    pub(crate) fn receive_hello(&mut self, t: Target, reply: &Reply) {
        let Some((m, w)) = self.resolve(t) else {
            return;
        };
        let link = self.masters[m].get(w).link;
        if let Some(l) = self.links.get_mut(link) {
            l.pc_last_activity = crate::util::mstime();
        }
        let Reply::Array(Some(items)) = reply else {
            return;
        };
        let [Reply::Bulk(Some(kind)), Reply::Bulk(Some(_)), Reply::Bulk(Some(payload))] =
            items.as_slice()
        else {
            return;
        };
        if kind != b"message" {
            return;
        }
        // Our own hellos come back too.
        if contains(payload, self.myid.as_bytes()) {
            return;
        }
        self.process_hello(payload);
    }

    /// sentinelProcessHelloMessage: `ip,port,runid,current_epoch,
    /// master_name,master_ip,master_port,master_config_epoch`. Unknown
    /// masters and malformed messages are ignored.
    pub fn process_hello(&mut self, hello: &[u8]) {
        let tok: Vec<String> = hello
            .split(|&c| c == b',')
            .map(|t| String::from_utf8_lossy(t).into_owned())
            .collect();
        if tok.len() != 8 {
            return;
        }
        let Some(m) = self.master_by_name(tok[4].as_bytes()) else {
            return;
        };
        let port = atoi(tok[1].as_bytes());
        let master_port = atoi(tok[6].as_bytes());
        let current_epoch = atou(tok[3].as_bytes());
        let master_config_epoch = atou(tok[7].as_bytes());
        let now = crate::util::mstime();
        let mut si = self.sentinel_by_addr_and_runid(m, Some((&tok[0], port)), Some(&tok[2]));
        if si.is_none() {
            // Same ID at a new address: forget the old entry.
            let removed = self.remove_matching_sentinel(m, &tok[2]);
            if removed > 0 {
                let at = self.at(m, Which::Master);
                self.event(
                    Level::Notice,
                    "+sentinel-address-switch",
                    Some(m),
                    format!("{at} ip {} port {port} for {}", tok[0], tok[2]),
                );
            } else if let Some(other) =
                self.sentinel_by_addr_and_runid(m, Some((&tok[0], port)), None)
            {
                // Another ID at this address: that Sentinel is gone.
                let at = self.at(m, Which::Sentinel(other));
                self.event(Level::Notice, "+sentinel-invalid-addr", Some(m), at);
                if let Some(obsolete) = self.masters[m].sentinels[other].runid.clone() {
                    for mi in 0..self.masters.len() {
                        self.remove_matching_sentinel(mi, &obsolete);
                    }
                }
            }
            if let Ok(i) = self.create_sentinel(m, &tok[2], &tok[0], port) {
                if removed == 0 {
                    let at = self.at(m, Which::Sentinel(i));
                    self.event(Level::Notice, "+sentinel", Some(m), at);
                } else {
                    self.update_sentinel_address_in_all_masters(m, i);
                }
                self.config_changed();
                si = Some(i);
            }
        }
        if current_epoch > self.current_epoch {
            self.current_epoch = current_epoch;
            self.config_changed();
            self.event(
                Level::Warning,
                "+new-epoch",
                Some(m),
                current_epoch.to_string(),
            );
        }
        if let Some(i) = si {
            if self.masters[m].ri.config_epoch < master_config_epoch {
                self.masters[m].ri.config_epoch = master_config_epoch;
                let maddr = self.masters[m].ri.addr.clone();
                if master_port != maddr.port as i64 || !maddr.ip_is(&tok[5], self.resolve_hostnames)
                {
                    let at = self.at(m, Which::Sentinel(i));
                    self.event(Level::Warning, "+config-update-from", Some(m), at);
                    let msg = format!(
                        "{} {} {} {} {master_port}",
                        self.masters[m].ri.name,
                        maddr.announce(self.announce_hostnames),
                        maddr.port,
                        tok[5]
                    );
                    self.event(Level::Warning, "+switch-master", Some(m), msg);
                    if self.reset_master_and_change_address(m, &tok[5], master_port) {
                        let new = self.masters[m].ri.addr.clone();
                        self.call_client_reconf_script(m, false, "start", &maddr, &new);
                    }
                }
            }
            if let Some(s) = self.masters[m].sentinels.get_mut(i) {
                s.last_hello_time = now;
            }
        }
    }

    /// sentinelUpdateSentinelAddressInAllMasters: the same Sentinel under
    /// other masters gets the new address (and fresh connections).
    fn update_sentinel_address_in_all_masters(&mut self, m: usize, i: usize) {
        let Some(runid) = self.masters[m].sentinels[i].runid.clone() else {
            return;
        };
        let addr = self.masters[m].sentinels[i].addr.clone();
        let mut reconfigured = 0;
        for mi in 0..self.masters.len() {
            let Some(j) = self.sentinel_by_addr_and_runid(mi, None, Some(&runid)) else {
                continue;
            };
            let link = self.masters[mi].sentinels[j].link;
            self.close_link_conns(link);
            if mi == m && j == i {
                continue;
            }
            self.masters[mi].sentinels[j].addr = addr.clone();
            reconfigured += 1;
        }
        if reconfigured > 0 {
            let at = self.at(m, Which::Sentinel(i));
            self.event(
                Level::Notice,
                "+sentinel-address-update",
                Some(m),
                format!("{at} {reconfigured} additional matching instances"),
            );
        }
    }
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && hay.windows(needle.len()).any(|w| w == needle)
}
