//! Pub/Sub: channels and patterns, PUBLISH, PUBSUB introspection, and
//! keyspace notifications (`__keyspace@N__:key`, `__keyevent@N__:event`).

use super::Server;
use crate::cmd::{eq_ic, Notification};
use crate::config::{NOTIFY_KEYEVENT, NOTIFY_KEYSPACE};
use crate::error::CmdError;
use crate::net::flags;
use crate::util::string_match;
use bytes::Bytes;

type R = Result<(), CmdError>;

impl Server {
    fn subscription_count(&self, key: usize) -> usize {
        self.clients.subscription_count(key)
    }

    /// Sets or clears the PUBSUB flag from all of a client's subscriptions.
    pub fn update_pubsub_flag(&mut self, key: usize) {
        let n = self.pubsub_entries(key);
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
        for name in &argv[1..] {
            self.clients.subscribe(key, name, pattern);
            self.update_pubsub_flag(key);
            let n = self.subscription_count(key);
            let kind: &[u8] = if pattern { b"psubscribe" } else { b"subscribe" };
            self.reply_push(key, |o| {
                o.push(3);
                o.bulk(kind);
                o.bulk(name);
                o.int(n as i64);
            });
        }
        Ok(())
    }

    pub fn cmd_unsubscribe(&mut self, key: usize, argv: &[Bytes], pattern: bool) -> R {
        let names: Vec<Vec<u8>> = if argv.len() > 1 {
            argv[1..].iter().map(|a| a.to_vec()).collect()
        } else {
            self.clients.subscriptions(key, pattern).to_vec()
        };
        let kind: &[u8] = if pattern {
            b"punsubscribe"
        } else {
            b"unsubscribe"
        };
        if names.is_empty() {
            let n = self.subscription_count(key);
            self.reply_push(key, |o| {
                o.push(3);
                o.bulk(kind);
                o.null();
                o.int(n as i64);
            });
            return Ok(());
        }
        for name in names {
            self.clients.unsubscribe(key, &name, pattern);
            let n = self.subscription_count(key);
            self.reply_push(key, |o| {
                o.push(3);
                o.bulk(kind);
                o.bulk(&name);
                o.int(n as i64);
            });
        }
        self.update_pubsub_flag(key);
        Ok(())
    }

    /// Removes every subscription of a client (RESET).
    pub fn pubsub_unsubscribe_all(&mut self, key: usize) {
        self.clients.unsubscribe_all(key);
        self.update_pubsub_flag(key);
    }

    /// Delivers a message; returns the number of receivers.
    pub fn publish(&mut self, channel: &[u8], msg: &[u8]) -> usize {
        let mut n = 0;
        let subs = self.clients.channel_subscribers(channel);
        if !subs.is_empty() {
            for k in subs {
                self.reply_push(k, |o| {
                    o.push(3);
                    o.bulk(b"message");
                    o.bulk(channel);
                    o.bulk(msg);
                });
                self.mark_pending_write(k);
                n += 1;
            }
        }
        if self.clients.num_patterns() > 0 {
            let matching = self.clients.pattern_subscribers(channel);
            for (p, subs) in matching {
                for k in subs {
                    self.reply_push(k, |o| {
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
            // Replicas' subscribers get it too (not the AOF), as Redis.
            self.force_propagation(false);
        }
        self.reply(key, |o| o.int(n as i64));
        Ok(())
    }

    pub fn cmd_pubsub(&mut self, key: usize, argv: &[Bytes]) -> R {
        let sub = &argv[1][..];
        let shard = eq_ic(sub, "shardchannels") || eq_ic(sub, "shardnumsub");
        if (eq_ic(sub, "channels") || eq_ic(sub, "shardchannels")) && argv.len() <= 3 {
            let pat = argv.get(2).map(|p| p.to_vec());
            let names: Box<dyn Iterator<Item = &Vec<u8>>> = if shard {
                Box::new(self.clients.shard_channel_names())
            } else {
                Box::new(self.clients.channel_names())
            };
            let list: Vec<Vec<u8>> = names
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
                .map(|c| {
                    let n = if shard {
                        self.clients.shard_subscriber_count(c)
                    } else {
                        self.clients.channel_subscriber_count(c)
                    };
                    (c.clone(), n)
                })
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
            let n = self.clients.num_patterns();
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
                if c.has(flags::PUBSUB) && mark >= c.sent && mark <= c.reply.len() =>
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
