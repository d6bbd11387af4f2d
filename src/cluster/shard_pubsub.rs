//! Sharded Pub/Sub (Redis 7.0): SSUBSCRIBE, SUNSUBSCRIBE, SPUBLISH. A
//! shard channel belongs to the slot of its name; in cluster mode a
//! SPUBLISH reaches the subscribers of every node of the slot's shard
//! (the master and its replicas) through PUBLISHSHARD bus messages, and
//! subscribers of a slot this node stops serving are unsubscribed.
//! Without cluster mode it works on one node (and its replicas through the
//! replication stream), as in Redis.

use super::codec::ty;
use crate::error::CmdError;
use crate::net::flags;
use crate::server::Server;
use bytes::Bytes;

type R = Result<(), CmdError>;

impl Server {
    pub fn cmd_ssubscribe(&mut self, key: usize, argv: &[Bytes]) -> R {
        if self.clients.get(key).is_some_and(|c| c.has(flags::MULTI)) {
            return Err("ERR Command not allowed inside a transaction".into());
        }
        for ch in &argv[1..] {
            let name = ch.to_vec();
            let Some(c) = self.clients.get_mut(key) else {
                return Ok(());
            };
            if !c.shard_channels.contains(&name) {
                c.shard_channels.push(name.clone());
                self.pubsub
                    .shard_channels
                    .entry(name.clone())
                    .or_default()
                    .push(key);
            }
            self.pubsub_refresh_flag(key);
            let n = self.clients.get(key).map_or(0, |c| c.shard_channels.len());
            self.reply(key, |o| {
                o.push(3);
                o.bulk(b"ssubscribe");
                o.bulk(&name);
                o.int(n as i64);
            });
        }
        Ok(())
    }

    pub fn cmd_sunsubscribe(&mut self, key: usize, argv: &[Bytes]) -> R {
        let names: Vec<Vec<u8>> = if argv.len() > 1 {
            argv[1..].iter().map(|a| a.to_vec()).collect()
        } else {
            self.clients
                .get(key)
                .map(|c| c.shard_channels.clone())
                .unwrap_or_default()
        };
        if names.is_empty() {
            self.reply(key, |o| {
                o.push(3);
                o.bulk(b"sunsubscribe");
                o.null();
                o.int(0);
            });
            return Ok(());
        }
        for name in names {
            self.shard_unsubscribe_one(key, &name, true);
        }
        self.pubsub_refresh_flag(key);
        Ok(())
    }

    /// Removes one shard subscription; `notify` pushes the sunsubscribe
    /// message to the client.
    fn shard_unsubscribe_one(&mut self, key: usize, name: &[u8], notify: bool) {
        if let Some(c) = self.clients.get_mut(key) {
            c.shard_channels.retain(|x| x != name);
        }
        if let Some(v) = self.pubsub.shard_channels.get_mut(name) {
            v.retain(|&k| k != key);
            if v.is_empty() {
                self.pubsub.shard_channels.remove(name);
            }
        }
        if notify {
            let n = self.clients.get(key).map_or(0, |c| c.shard_channels.len());
            self.reply(key, |o| {
                o.push(3);
                o.bulk(b"sunsubscribe");
                o.bulk(name);
                o.int(n as i64);
            });
            self.mark_pending_write(key);
        }
    }

    /// Drops a closing client's shard subscriptions.
    pub fn shard_unsubscribe_client(&mut self, key: usize) {
        let names = self
            .clients
            .get(key)
            .map(|c| c.shard_channels.clone())
            .unwrap_or_default();
        for n in names {
            self.shard_unsubscribe_one(key, &n, false);
        }
    }

    /// Delivers a shard message to this node's subscribers.
    pub fn shard_publish_local(&mut self, channel: &[u8], msg: &[u8]) -> usize {
        let Some(subs) = self.pubsub.shard_channels.get(channel).cloned() else {
            return 0;
        };
        for &k in &subs {
            self.reply(k, |o| {
                o.push(3);
                o.bulk(b"smessage");
                o.bulk(channel);
                o.bulk(msg);
            });
            self.mark_pending_write(k);
        }
        self.stats.pubsub_messages += 1;
        subs.len()
    }

    pub fn cmd_spublish(&mut self, key: usize, argv: &[Bytes]) -> R {
        let n = self.shard_publish_local(&argv[1], &argv[2]);
        if let Some(cl) = self.cluster.as_deref() {
            let me = cl.st.myself;
            let targets: Vec<usize> = cl
                .st
                .shard_of(me)
                .into_iter()
                .filter(|&id| id != me)
                .filter_map(|id| cl.st.nodes[id].link)
                .collect();
            for l in targets {
                self.cluster_send_publish(Some(l), &argv[1], &argv[2], ty::PUBLISHSHARD);
            }
        } else {
            let db = self.clients.get(key).map_or(0, |c| c.db);
            self.also_propagate(db, argv.to_vec());
        }
        self.reply(key, |o| o.int(n as i64));
        Ok(())
    }

    /// The slot is no longer served by this shard: its subscribers are
    /// unsubscribed (removeChannelsInSlot).
    pub fn shard_remove_channels_in_slot(&mut self, slot: usize) {
        self.shard_unsubscribe_where(|ch| super::key_hash_slot(ch) == slot);
    }

    /// CLUSTER RESET: every shard subscription goes.
    pub fn shard_unsubscribe_all_channels(&mut self) {
        self.shard_unsubscribe_where(|_| true);
    }

    /// Unsubscribes every subscriber of the shard channels `pick` selects,
    /// telling each client.
    fn shard_unsubscribe_where(&mut self, pick: impl Fn(&[u8]) -> bool) {
        let channels: Vec<Vec<u8>> = self
            .pubsub
            .shard_channels
            .keys()
            .filter(|c| pick(c))
            .cloned()
            .collect();
        for ch in channels {
            let subs = self
                .pubsub
                .shard_channels
                .get(&ch)
                .cloned()
                .unwrap_or_default();
            for k in subs {
                self.shard_unsubscribe_one(k, &ch, true);
                self.pubsub_refresh_flag(k);
            }
        }
    }
}
