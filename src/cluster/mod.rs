//! Redis Cluster: ferrodis nodes speak Redis 7.0's cluster bus, so they
//! join clusters of real Redis 7.0 nodes and form their own, and
//! `redis-cli --cluster` and cluster-aware clients work unchanged.
//!
//! Reading order:
//! - `slot`: CRC16, `key_hash_slot`, slot bitmaps (pure; the keyspace's
//!   per-slot index uses it too);
//! - `codec`: the bus wire format (pure, fuzzable);
//! - `node`, `state`: the node table, slot ownership, epochs, failure
//!   reports (pure: consequences are returned, not carried out);
//! - `nodesconf`: nodes.conf, atomic and fsynced, locked;
//! - `bus`: the listener and node links as connections of the server's one
//!   mio loop, headers, PING/PONG gossip, broadcasting;
//! - `process`: what a received message does (clusterProcessPacket);
//! - `failover`: the cron (PFAIL -> FAIL, reconnects, pings), replica
//!   elections with rank and delay, votes, manual failover, replica
//!   migration;
//! - `redirect`: which node serves a command (MOVED/ASK/CROSSSLOT/
//!   TRYAGAIN/CLUSTERDOWN), READONLY/READWRITE/ASKING;
//! - `commands`, `commands_info`: CLUSTER subcommands and INFO cluster;
//! - `migrate`: MIGRATE with its cached connections;
//! - `shard_pubsub`: SSUBSCRIBE/SUNSUBSCRIBE/SPUBLISH.
//!
//! The server owns an `Option<Box<ClusterCtx>>` (None when cluster-enabled
//! is no); every cluster hook is a no-op then.

pub mod bus;
pub mod codec;
pub mod commands;
pub mod commands_info;
pub mod failover;
pub mod migrate;
pub mod node;
pub mod nodesconf;
pub mod process;
pub mod redirect;
pub mod shard_pubsub;
pub mod slot;
pub mod state;

pub use slot::{key_hash_slot, SLOTS};

use crate::config::Config;
use std::path::PathBuf;

/// Tokens of the bus listener and links: above every slab key, below the
/// client listeners' tokens.
pub const BUS_LISTENER_TOKEN: usize = 1 << 40;
pub const LINK_TOKEN_BASE: usize = (1 << 40) + 1;
pub const TOKEN_END: usize = 1 << 41;

/// Default distance between the client port and the bus port.
pub const PORT_INCR: u16 = 10000;

/// cluster-preferred-endpoint-type.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Endpoint {
    Ip,
    Hostname,
    Unknown,
}

/// The cluster-* settings, read from the config at startup and after each
/// CONFIG SET of a cluster directive.
#[derive(Clone, Debug)]
pub struct Settings {
    pub node_timeout: i64,
    pub announce_ip: Option<String>,
    pub announce_hostname: String,
    pub announce_port: u16,
    pub announce_bus_port: u16,
    pub require_full_coverage: bool,
    pub allow_reads_when_down: bool,
    pub allow_pubsubshard_when_down: bool,
    pub allow_replica_migration: bool,
    pub migration_barrier: i64,
    pub replica_validity_factor: i64,
    pub replica_no_failover: bool,
    pub preferred_endpoint: Endpoint,
    pub link_sendbuf_limit: u64,
    pub cluster_port: u16,
}

impl Settings {
    pub fn from_config(cfg: &Config) -> Settings {
        let v = |n: &str| cfg.extra_value(n).to_string();
        let num = |n: &str| v(n).parse::<i64>().unwrap_or(0);
        let yes = |n: &str| v(n) == "yes";
        let ip = v("cluster-announce-ip");
        Settings {
            node_timeout: num("cluster-node-timeout").max(1),
            announce_ip: (!ip.is_empty()).then_some(ip),
            announce_hostname: v("cluster-announce-hostname"),
            announce_port: num("cluster-announce-port") as u16,
            announce_bus_port: num("cluster-announce-bus-port") as u16,
            require_full_coverage: yes("cluster-require-full-coverage"),
            allow_reads_when_down: yes("cluster-allow-reads-when-down"),
            allow_pubsubshard_when_down: yes("cluster-allow-pubsubshard-when-down"),
            allow_replica_migration: yes("cluster-allow-replica-migration"),
            migration_barrier: num("cluster-migration-barrier"),
            replica_validity_factor: num("cluster-replica-validity-factor"),
            replica_no_failover: yes("cluster-replica-no-failover"),
            preferred_endpoint: match v("cluster-preferred-endpoint-type").as_str() {
                "hostname" => Endpoint::Hostname,
                "unknown-endpoint" => Endpoint::Unknown,
                _ => Endpoint::Ip,
            },
            link_sendbuf_limit: crate::config::memtoull(&v("cluster-link-sendbuf-limit"))
                .unwrap_or(0),
            cluster_port: num("cluster-port") as u16,
        }
    }
}

/// Everything the server keeps for cluster mode.
pub struct ClusterCtx {
    pub st: state::Cluster,
    pub links: slab::Slab<bus::Link>,
    /// Links with unsent output, flushed before sleeping.
    pub pending_flush: Vec<node::LinkId>,
    pub listener: Option<mio::net::TcpListener>,
    pub cfg: Settings,
    pub config_path: PathBuf,
    pub lock: Option<std::fs::File>,
    pub last_cron_ms: i64,
    pub iteration: u64,
    /// Memory used by the links' buffers (INFO mem_cluster_links).
    pub links_memory: usize,
    /// DEBUG DROP-CLUSTER-PACKET-FILTER: message type to ignore (-1: none).
    pub drop_packet_filter: i64,
}

/// cluster-enabled yes (for handlers, which only see the config).
pub fn enabled(cfg: &Config) -> bool {
    cfg.extra_value("cluster-enabled") == "yes"
}

/// The cluster family's commands, dispatched by the server.
impl crate::server::Server {
    pub fn cluster_srv(
        &mut self,
        key: usize,
        c: crate::cmd::table::ClusterCmd,
        argv: &[bytes::Bytes],
    ) -> Result<(), crate::error::CmdError> {
        use crate::cmd::table::ClusterCmd as C;
        match c {
            C::Cluster => self.cmd_cluster(key, argv),
            C::Asking => self.cmd_cluster_client_flag(key, "asking"),
            C::ReadOnly => self.cmd_cluster_client_flag(key, "readonly"),
            C::ReadWrite => self.cmd_cluster_client_flag(key, "readwrite"),
            C::Migrate => self.cmd_migrate(key, argv),
            C::SSubscribe => self.cmd_ssubscribe(key, argv),
            C::SUnsubscribe => self.cmd_sunsubscribe(key, argv),
            C::SPublish => self.cmd_spublish(key, argv),
        }
    }
}

/// cluster-config-file, relative to `dir` (the server chdirs there).
pub fn config_path(cfg: &Config) -> PathBuf {
    PathBuf::from(cfg.extra_value("cluster-config-file"))
}
