//! Sharded Pub/Sub (Redis 7.0): SSUBSCRIBE, SUNSUBSCRIBE, SPUBLISH. A
//! shard channel belongs to the slot of its name; in cluster mode a
//! SPUBLISH reaches the subscribers of every node of the slot's shard
//! (the master and its replicas) through PUBLISHSHARD bus messages, and
//! subscribers of a slot this node stops serving are unsubscribed.
//! Without cluster mode it works on one node (and its replicas through the
//! replication stream), as in Redis. The subscriptions themselves live in
//! the client registry (`server::clients`).

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
        for name in &argv[1..] {
            self.clients.shard_subscribe(key, name);
            self.update_pubsub_flag(key);
            let n = self.clients.shard_subscriptions(key).len();
            self.reply_push(key, |o| {
                o.push(3);
                o.bulk(b"ssubscribe");
                o.bulk(name);
                o.int(n as i64);
            });
        }
        Ok(())
    }

    pub fn cmd_sunsubscribe(&mut self, key: usize, argv: &[Bytes]) -> R {
        let names: Vec<Vec<u8>> = if argv.len() > 1 {
            argv[1..].iter().map(|a| a.to_vec()).collect()
        } else {
            self.clients.shard_subscriptions(key).to_vec()
        };
        if names.is_empty() {
            self.reply_push(key, |o| {
                o.push(3);
                o.bulk(b"sunsubscribe");
                o.null();
                o.int(0);
            });
            return Ok(());
        }
        for name in names {
            self.shard_unsubscribe_notify(key, &name);
        }
        self.update_pubsub_flag(key);
        Ok(())
    }

    /// Removes one shard subscription and tells the client.
    fn shard_unsubscribe_notify(&mut self, key: usize, name: &[u8]) {
        self.clients.shard_unsubscribe(key, name);
        let n = self.clients.shard_subscriptions(key).len();
        self.reply_push(key, |o| {
            o.push(3);
            o.bulk(b"sunsubscribe");
            o.bulk(name);
            o.int(n as i64);
        });
        self.mark_pending_write(key);
    }

    /// Delivers a shard message to this node's subscribers.
    pub fn shard_publish_local(&mut self, channel: &[u8], msg: &[u8]) -> usize {
        let subs = self.clients.shard_subscribers(channel);
        for &k in &subs {
            self.reply_push(k, |o| {
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
            // Replicas' subscribers get it too (not the AOF), as Redis.
            self.force_propagation(false);
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
            .clients
            .shard_channel_names()
            .filter(|c| pick(c))
            .cloned()
            .collect();
        for ch in channels {
            for k in self.clients.shard_subscribers(&ch) {
                self.shard_unsubscribe_notify(k, &ch);
                self.update_pubsub_flag(k);
            }
        }
    }
}
