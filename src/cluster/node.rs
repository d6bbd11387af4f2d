//! One cluster node as this node sees it (Redis's clusterNode): name,
//! flags, addresses, epoch, the slots it claims, its master or replicas,
//! ping/pong times and the failure reports about it. Pure data; the
//! `Cluster` owns the table and every cross-reference between nodes.

use super::codec::{nflag, NAMELEN};
use super::slot::{Bitmap, SLOT_BYTES};

/// A node's key in the cluster's node table.
pub type NodeId = usize;
/// A bus link's key in the cluster's link table.
pub type LinkId = usize;

pub struct Node {
    pub name: [u8; NAMELEN],
    pub ctime: i64,
    pub flags: u16,
    pub config_epoch: u64,
    pub slots: Box<Bitmap>,
    pub numslots: usize,
    pub slaves: Vec<NodeId>,
    pub slaveof: Option<NodeId>,
    /// Unix ms of our last unanswered ping (0: none pending).
    pub ping_sent: i64,
    pub pong_received: i64,
    pub data_received: i64,
    pub fail_time: i64,
    /// Last time we voted for a replica of this master.
    pub voted_time: i64,
    pub repl_offset_time: i64,
    pub orphaned_time: i64,
    pub repl_offset: i64,
    pub ip: String,
    pub hostname: String,
    pub port: u16,
    pub pport: u16,
    pub cport: u16,
    /// Our outbound link to it, and the link it opened to us.
    pub link: Option<LinkId>,
    pub inbound_link: Option<LinkId>,
    /// Masters that reported it as failing: (reporter, unix ms).
    pub fail_reports: Vec<(NodeId, i64)>,
    /// Ping counter value when last put in a gossip section.
    pub last_in_ping_gossip: u64,
}

impl Node {
    pub fn new(name: [u8; NAMELEN], flags: u16, now: i64) -> Node {
        Node {
            name,
            ctime: now,
            flags,
            config_epoch: 0,
            slots: Box::new([0; SLOT_BYTES]),
            numslots: 0,
            slaves: Vec::new(),
            slaveof: None,
            ping_sent: 0,
            pong_received: 0,
            data_received: 0,
            fail_time: 0,
            voted_time: 0,
            repl_offset_time: 0,
            orphaned_time: 0,
            repl_offset: 0,
            ip: String::new(),
            hostname: String::new(),
            port: 0,
            pport: 0,
            cport: 0,
            link: None,
            inbound_link: None,
            fail_reports: Vec::new(),
            last_in_ping_gossip: 0,
        }
    }

    #[inline]
    pub fn has(&self, f: u16) -> bool {
        self.flags & f != 0
    }
    pub fn is_master(&self) -> bool {
        self.has(nflag::MASTER)
    }
    pub fn is_slave(&self) -> bool {
        self.has(nflag::SLAVE)
    }
    pub fn in_handshake(&self) -> bool {
        self.has(nflag::HANDSHAKE)
    }
    pub fn failed(&self) -> bool {
        self.has(nflag::FAIL)
    }
    pub fn timed_out(&self) -> bool {
        self.has(nflag::PFAIL)
    }
    pub fn name_str(&self) -> &str {
        std::str::from_utf8(&self.name).unwrap_or("?")
    }
}

/// The flag words of CLUSTER NODES, in Redis's order.
const FLAG_NAMES: &[(u16, &str)] = &[
    (nflag::MYSELF, "myself"),
    (nflag::MASTER, "master"),
    (nflag::SLAVE, "slave"),
    (nflag::PFAIL, "fail?"),
    (nflag::FAIL, "fail"),
    (nflag::HANDSHAKE, "handshake"),
    (nflag::NOADDR, "noaddr"),
    (nflag::NOFAILOVER, "nofailover"),
];

/// `myself,master`, or `noflags`.
pub fn flags_repr(flags: u16, out: &mut String) {
    let start = out.len();
    for (f, name) in FLAG_NAMES {
        if flags & f != 0 {
            if out.len() > start {
                out.push(',');
            }
            out.push_str(name);
        }
    }
    if out.len() == start {
        out.push_str("noflags");
    }
}

/// Parses one flag word of nodes.conf; None for an unknown word.
pub fn flag_from_name(s: &str) -> Option<u16> {
    if s.eq_ignore_ascii_case("noflags") {
        return Some(0);
    }
    FLAG_NAMES
        .iter()
        .find(|(_, n)| s.eq_ignore_ascii_case(n))
        .map(|(f, _)| *f)
}

/// A node ID is 40 characters of [a-z0-9] (verifyClusterNodeId).
pub fn valid_name(b: &[u8]) -> bool {
    b.len() == NAMELEN
        && b.iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
}

/// A fresh random node name.
pub fn random_name() -> [u8; NAMELEN] {
    let hex = crate::util::random_hex40();
    let mut n = [0u8; NAMELEN];
    n.copy_from_slice(&hex.as_bytes()[..NAMELEN]);
    n
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_round_trip() {
        let mut s = String::new();
        flags_repr(nflag::MYSELF | nflag::MASTER, &mut s);
        assert_eq!(s, "myself,master");
        s.clear();
        flags_repr(0, &mut s);
        assert_eq!(s, "noflags");
        s.clear();
        flags_repr(nflag::SLAVE | nflag::PFAIL | nflag::NOFAILOVER, &mut s);
        assert_eq!(s, "slave,fail?,nofailover");
        assert_eq!(flag_from_name("fail?"), Some(nflag::PFAIL));
        assert_eq!(flag_from_name("bogus"), None);
        assert!(valid_name(&random_name()));
        assert!(!valid_name(b"ABC"));
    }
}
