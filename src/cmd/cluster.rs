//! The cluster family's table: CLUSTER, ASKING, READONLY, READWRITE,
//! MIGRATE, RESTORE-ASKING and sharded Pub/Sub. Carried out by
//! `crate::cluster` (RESTORE-ASKING is RESTORE, allowed on an importing
//! slot without a preceding ASKING).

use super::flag::*;
use super::table::{spec, ClusterCmd as C, CommandSpec, Proc, Srv};

#[rustfmt::skip]
pub static COMMANDS: &[CommandSpec] = &[
    spec("cluster", Proc::Srv(Srv::Cluster(C::Cluster)), -2, 0, 0, 0, 0, "cluster").with_subs(super::subcommands::CLUSTER_SUBS),
    spec("asking", Proc::Srv(Srv::Cluster(C::Asking)), 1, FAST, 0, 0, 0, "cluster"),
    spec("readonly", Proc::Srv(Srv::Cluster(C::ReadOnly)), 1, FAST | LOADING | STALE, 0, 0, 0, "cluster"),
    spec("readwrite", Proc::Srv(Srv::Cluster(C::ReadWrite)), 1, FAST | LOADING | STALE, 0, 0, 0, "cluster"),
    spec("migrate", Proc::Srv(Srv::Cluster(C::Migrate)), -6, WRITE, 3, 3, 1, "generic"),
    spec("restore-asking", Proc::Db(super::dump::restore), -4, WRITE | DENYOOM | ASKING, 1, 1, 1, "server"),
    spec("ssubscribe", Proc::Srv(Srv::Cluster(C::SSubscribe)), -2, PUBSUB | NOSCRIPT | LOADING | STALE, 1, -1, 1, "pubsub"),
    spec("sunsubscribe", Proc::Srv(Srv::Cluster(C::SUnsubscribe)), -1, PUBSUB | NOSCRIPT | LOADING | STALE, 1, -1, 1, "pubsub"),
    spec("spublish", Proc::Srv(Srv::Cluster(C::SPublish)), 3, PUBSUB | LOADING | STALE | FAST | MAY_REPLICATE, 1, 1, 1, "pubsub"),
];
