//! Instance addresses (Redis's sentinelAddr): the hostname as configured,
//! the resolved IP, the port; resolution honours `resolve-hostnames`, and
//! what is announced (in replies, events, hello messages, the config file)
//! honours `announce-hostnames`.

use std::net::{IpAddr, ToSocketAddrs};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Addr {
    /// As given (a hostname or an address).
    pub hostname: String,
    /// Always a resolved address ("" when a hostname could not be resolved
    /// and unresolved addresses were accepted).
    pub ip: String,
    pub port: u16,
}

/// Why an address could not be created (Redis's errno cases).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AddrError {
    /// ENOENT: the name does not resolve (or is not an IP when hostnames
    /// are not resolved).
    Unresolved,
    /// EINVAL: port out of range.
    BadPort,
}

/// Resolves `host` to an IP string: only literal addresses unless
/// `resolve` (resolve-hostnames yes), in which case DNS is asked.
pub fn resolve(host: &str, resolve: bool) -> Option<String> {
    if let Ok(ip) = host.parse::<IpAddr>() {
        return Some(ip.to_string());
    }
    if !resolve || host.is_empty() {
        return None;
    }
    (host, 0u16)
        .to_socket_addrs()
        .ok()?
        .next()
        .map(|a| a.ip().to_string())
}

impl Addr {
    /// createSentinelAddr: `accept_unresolved` keeps a hostname that does
    /// not resolve (with an empty ip) when hostnames are resolved at all.
    pub fn new(
        hostname: &str,
        port: i64,
        resolve_hostnames: bool,
        accept_unresolved: bool,
    ) -> Result<Addr, AddrError> {
        if !(0..=65535).contains(&port) {
            return Err(AddrError::BadPort);
        }
        let ip = match resolve(hostname, resolve_hostnames) {
            Some(ip) => ip,
            None => {
                log::warn!("Failed to resolve hostname '{hostname}'");
                if resolve_hostnames && accept_unresolved {
                    String::new()
                } else {
                    return Err(AddrError::Unresolved);
                }
            }
        };
        Ok(Addr {
            hostname: hostname.to_string(),
            ip,
            port: port as u16,
        })
    }

    /// sentinelAddrIsEqual: same port and IP (case-insensitive).
    pub fn same_ip(&self, o: &Addr) -> bool {
        self.port == o.port && self.ip.eq_ignore_ascii_case(&o.ip)
    }

    /// sentinelAddrOrHostnameEqual: same port, and same IP or hostname.
    pub fn same_ip_or_host(&self, o: &Addr) -> bool {
        self.port == o.port && (self.ip == o.ip || self.hostname.eq_ignore_ascii_case(&o.hostname))
    }

    /// sentinelAddrEqualsHostname: `host` resolves to our IP.
    pub fn ip_is(&self, host: &str, resolve_hostnames: bool) -> bool {
        resolve(host, resolve_hostnames).is_some_and(|ip| ip.eq_ignore_ascii_case(&self.ip))
    }

    /// The address shown to the world.
    pub fn announce(&self, hostnames: bool) -> &str {
        if hostnames {
            &self.hostname
        } else {
            &self.ip
        }
    }

    /// "host:port", IPv6 in brackets (a replica's instance name).
    pub fn announce_with_port(&self, hostnames: bool) -> String {
        let a = self.announce(hostnames);
        if a.contains(':') {
            format!("[{a}]:{}", self.port)
        } else {
            format!("{a}:{}", self.port)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literal_addresses_only_unless_resolving() {
        let a = Addr::new("127.0.0.1", 6379, false, false).unwrap();
        assert_eq!(a.ip, "127.0.0.1");
        assert_eq!(
            Addr::new("no.such.host.invalid", 1, false, true),
            Err(AddrError::Unresolved)
        );
        assert_eq!(
            Addr::new("127.0.0.1", 70000, false, false),
            Err(AddrError::BadPort)
        );
        let un = Addr::new("no.such.host.invalid", 1, true, true).unwrap();
        assert_eq!(un.ip, "");
        assert_eq!(un.announce(true), "no.such.host.invalid");
    }

    #[test]
    fn names_and_equality() {
        let v6 = Addr::new("::1", 7000, false, false).unwrap();
        assert_eq!(v6.announce_with_port(false), "[::1]:7000");
        let a = Addr::new("127.0.0.1", 1, false, false).unwrap();
        assert!(a.ip_is("127.0.0.1", false));
        assert!(!a.ip_is("localhost", false));
        assert!(a.same_ip(&Addr::new("127.0.0.1", 1, false, false).unwrap()));
    }
}
