//! Pub/Sub: channels and patterns, PUBLISH, PUBSUB introspection, and
//! keyspace notifications (`__keyspace@N__:key`, `__keyevent@N__:event`).

use super::Server;
use crate::cmd::{eq_ic, Notification};
use crate::config::{NOTIFY_KEYEVENT, NOTIFY_KEYSPACE};
use crate::error::CmdError;
use crate::net::flags;
use crate::util::string_match;
use bytes::Bytes;
use std::collections::HashMap;

type R = Result<(), CmdError>;

#[derive(Default)]
pub struct PubSub {
    /// channel -> subscribed client keys, in subscription order.
    pub channels: HashMap<Vec<u8>, Vec<usize>>,
    /// pattern -> subscribed client keys.
    pub patterns: HashMap<Vec<u8>, Vec<usize>>,
    /// shard channel -> subscribed client keys (SSUBSCRIBE).
    pub shard_channels: HashMap<Vec<u8>, Vec<usize>>,
}

impl Server {
    fn subscription_count(&self, key: usize) -> usize {
        self.clients
            .get(key)
            .map_or(0, |c| c.channels.len() + c.patterns.len())
    }

    /// Sets or clears the PUBSUB flag from all of a client's subscriptions.
    pub fn pubsub_refresh_flag(&mut self, key: usize) {
        self.update_pubsub_flag(key);
    }

    fn update_pubsub_flag(&mut self, key: usize) {
        let n = self.subscription_count(key)
            + self.clients.get(key).map_or(0, |c| c.shard_channels.len());
        if let Some(c) = self.clients.get_mut(key) {
            if n > 0 {
                c.flags |= flags::PUBSUB;
            } else {
                c.flags &= !flags::PUBSUB;
            }
        }
    }

    pub fn cmd_subscribe(&mut self, key: usize, argv: &[Bytes], pattern: bool) -> R {
        if self.clients.get(key).is_some_and(|c| c.has(flags::MULTI)) {
            return Err(CmdError::msg(
                "ERR Command not allowed inside a transaction".to_string(),
            ));
        }
        for ch in &argv[1..] {
            let name = ch.to_vec();
            let Some(c) = self.clients.get_mut(key) else {
                return Ok(());
            };
            let list = if pattern {
                &mut c.patterns
            } else {
                &mut c.channels
            };
            if !list.contains(&name) {
                list.push(name.clone());
                let map = if pattern {
                    &mut self.pubsub.patterns
                } else {
                    &mut self.pubsub.channels
                };
                map.entry(name.clone()).or_default().push(key);
            }
            self.update_pubsub_flag(key);
            let n = self.subscription_count(key);
            let kind: &[u8] = if pattern { b"psubscribe" } else { b"subscribe" };
            self.reply(key, |o| {
                o.push(3);
                o.bulk(kind);
                o.bulk(&name);
                o.int(n as i64);
            });
        }
        Ok(())
    }

    pub fn cmd_unsubscribe(&mut self, key: usize, argv: &[Bytes], pattern: bool) -> R {
        let names: Vec<Vec<u8>> = if argv.len() > 1 {
            argv[1..].iter().map(|a| a.to_vec()).collect()
        } else {
            match self.clients.get(key) {
                Some(c) if pattern => c.patterns.clone(),
                Some(c) => c.channels.clone(),
                None => return Ok(()),
            }
        };
        let kind: &[u8] = if pattern {
            b"punsubscribe"
        } else {
            b"unsubscribe"
        };
        if names.is_empty() {
            let n = self.subscription_count(key);
            self.reply(key, |o| {
                o.push(3);
                o.bulk(kind);
                o.null();
                o.int(n as i64);
            });
            return Ok(());
        }
        for name in names {
            self.unsubscribe_one(key, &name, pattern);
            let n = self.subscription_count(key);
            self.reply(key, |o| {
                o.push(3);
                o.bulk(kind);
                o.bulk(&name);
                o.int(n as i64);
            });
        }
        self.update_pubsub_flag(key);
        Ok(())
    }

    fn unsubscribe_one(&mut self, key: usize, name: &[u8], pattern: bool) {
        if let Some(c) = self.clients.get_mut(key) {
            let list = if pattern {
                &mut c.patterns
            } else {
                &mut c.channels
            };
            list.retain(|x| x != name);
        }
        let map = if pattern {
            &mut self.pubsub.patterns
        } else {
            &mut self.pubsub.channels
        };
        if let Some(v) = map.get_mut(name) {
            v.retain(|&k| k != key);
            if v.is_empty() {
                map.remove(name);
            }
        }
    }

    /// Removes every subscription of a client (on close or RESET).
    pub fn pubsub_unsubscribe_all(&mut self, key: usize) {
        let (chs, pats) = match self.clients.get(key) {
            Some(c) => (c.channels.clone(), c.patterns.clone()),
            None => return,
        };
        for ch in chs {
            self.unsubscribe_one(key, &ch, false);
        }
        self.shard_unsubscribe_client(key);
        for p in pats {
            self.unsubscribe_one(key, &p, true);
        }
        self.update_pubsub_flag(key);
    }

    /// Delivers a message; returns the number of receivers.
    pub fn publish(&mut self, channel: &[u8], msg: &[u8]) -> usize {
        let mut n = 0;
        if let Some(subs) = self.pubsub.channels.get(channel).cloned() {
            for k in subs {
                self.reply(k, |o| {
                    o.push(3);
                    o.bulk(b"message");
                    o.bulk(channel);
                    o.bulk(msg);
                });
                self.mark_pending_write(k);
                n += 1;
            }
        }
        if !self.pubsub.patterns.is_empty() {
            let matching: Vec<(Vec<u8>, Vec<usize>)> = self
                .pubsub
                .patterns
                .iter()
                .filter(|(p, _)| string_match(p, channel, false))
                .map(|(p, v)| (p.clone(), v.clone()))
                .collect();
            for (p, subs) in matching {
                for k in subs {
                    self.reply(k, |o| {
                        o.push(4);
                        o.bulk(b"pmessage");
                        o.bulk(&p);
                        o.bulk(channel);
                        o.bulk(msg);
                    });
                    self.mark_pending_write(k);
                    n += 1;
                }
            }
        }
        self.stats.pubsub_messages += 1;
        n
    }

    pub fn cmd_publish(&mut self, key: usize, argv: &[Bytes]) -> R {
        let n = self.publish(&argv[1], &argv[2]);
        if self.cluster.is_some() {
            // Cluster: every node gets it over the bus (replicas included).
            self.cluster_send_publish(None, &argv[1], &argv[2], crate::cluster::codec::ty::PUBLISH);
        } else {
            // PUBLISH is propagated so replicas' subscribers get it too.
            let db = self.clients.get(key).map_or(0, |c| c.db);
            self.also_propagate(db, argv.to_vec());
        }
        self.reply(key, |o| o.int(n as i64));
        Ok(())
    }

    pub fn cmd_pubsub(&mut self, key: usize, argv: &[Bytes]) -> R {
        let sub = &argv[1][..];
        let shard = eq_ic(sub, "shardchannels") || eq_ic(sub, "shardnumsub");
        let map = if shard {
            &self.pubsub.shard_channels
        } else {
            &self.pubsub.channels
        };
        if (eq_ic(sub, "channels") || eq_ic(sub, "shardchannels")) && argv.len() <= 3 {
            let pat = argv.get(2).map(|p| p.to_vec());
            let list: Vec<Vec<u8>> = map
                .keys()
                .filter(|c| pat.as_ref().is_none_or(|p| string_match(p, c, false)))
                .cloned()
                .collect();
            self.reply(key, |o| {
                o.array(list.len());
                for c in &list {
                    o.bulk(c);
                }
            });
        } else if eq_ic(sub, "numsub") || eq_ic(sub, "shardnumsub") {
            let counts: Vec<(Bytes, usize)> = argv[2..]
                .iter()
                .map(|c| (c.clone(), map.get(&c[..]).map_or(0, |v| v.len())))
                .collect();
            // A flat array even in RESP3, as Redis 7.0 replies.
            self.reply(key, |o| {
                o.array(counts.len() * 2);
                for (c, n) in &counts {
                    o.bulk(c);
                    o.int(*n as i64);
                }
            });
        } else if eq_ic(sub, "numpat") && argv.len() == 2 {
            let n = self.pubsub.patterns.len();
            self.reply(key, |o| o.int(n as i64));
        } else if eq_ic(sub, "help") && argv.len() == 2 {
            let lines = [
                "PUBSUB <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
                "CHANNELS [<pattern>]",
                "    Return the currently active channels matching a <pattern> (default: '*').",
                "NUMPAT",
                "    Return number of subscriptions to patterns.",
                "NUMSUB [<channel> ...]",
                "    Return the number of subscribers for the specified channels, excluding",
                "    pattern subscriptions(default: no channels).",
                "SHARDCHANNELS [<pattern>]",
                "    Return the currently active shard level channels matching a <pattern> (default: '*').",
                "SHARDNUMSUB [<shardchannel> ...]",
                "    Return the number of subscribers for the specified shard level channel(s)",
                "HELP",
                "    Prints this help.",
            ];
            self.reply_help(key, &lines);
        } else {
            return Err(super::admin::unknown_subcommand(sub, "PUBSUB"));
        }
        Ok(())
    }

    /// Publishes the keyspace notifications a command raised. Redis sends
    /// them while the command runs, so a subscribed writer gets its own
    /// events before the command's reply: what it replied since `mark` is
    /// moved after them.
    pub fn publish_pending_events(&mut self, key: usize, mark: Option<usize>) {
        if self.events.is_empty() {
            return;
        }
        let tail = match (mark, self.clients.get_mut(key)) {
            (Some(mark), Some(c))
                if (!c.channels.is_empty() || !c.patterns.is_empty())
                    && mark >= c.sent
                    && mark <= c.reply.len() =>
            {
                Some((mark, c.reply.split_off(mark)))
            }
            _ => None,
        };
        let events = std::mem::take(&mut self.events);
        let mut put_back = 0;
        for ev in &events {
            // The writer's reply up to where this event was raised goes first.
            if let (Some((mark, tail)), Some(at)) = (&tail, ev.reply_at) {
                let upto = at.saturating_sub(*mark).min(tail.len());
                if upto > put_back {
                    if let Some(c) = self.clients.get_mut(key) {
                        c.reply.extend_from_slice(&tail[put_back..upto]);
                    }
                    put_back = upto;
                }
            }
            self.publish_keyspace_event(ev);
        }
        // Keep the allocation for the next command.
        self.events = events;
        self.events.clear();
        if let Some((_, tail)) = tail {
            if let Some(c) = self.clients.get_mut(key) {
                c.reply.extend_from_slice(&tail[put_back..]);
            }
        }
    }

    /// Publishes one keyspace notification on the channels it enables.
    pub fn publish_keyspace_event(&mut self, ev: &Notification) {
        let flags = self.cfg.notify_keyspace_events;
        // Server-side events (expired, evicted) are queued unconditionally.
        if flags & ev.class == 0 {
            return;
        }
        if flags & NOTIFY_KEYSPACE != 0 {
            let mut ch = format!("__keyspace@{}__:", ev.db).into_bytes();
            ch.extend_from_slice(&ev.key);
            self.publish(&ch, ev.event.as_bytes());
        }
        if flags & NOTIFY_KEYEVENT != 0 {
            let ch = format!("__keyevent@{}__:{}", ev.db, ev.event);
            self.publish(ch.as_bytes(), &ev.key);
        }
    }
}
