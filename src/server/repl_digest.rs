//! `DEBUG DIGEST-AT-OFFSET [timeout-ms]` (issue 13, item 5): a consistency
//! check without stopping writes. The master takes its own DEBUG DIGEST at
//! its current offset X, and asks every ferrodis replica (those that
//! announced `REPLCONF capa digest-at`) for its digest at the same offset:
//! a marker, `REPLCONF DIGEST-AT <X> <id>`, is written into each such
//! replica's stream exactly at offset X (the shared stream is sent up to X,
//! then the marker, then the rest). The replica answers with `REPLCONF
//! DIGEST <id> <offset> <digest>` the moment it applied everything up to X,
//! before anything after. The marker is not part of the replication stream:
//! it moves no offset, is never proxied to sub-replicas, and real Redis
//! replicas (which never announce the capability) never see it.
//!
//! The caller blocks until every replica answered or the timeout (default
//! 5000 ms), then gets: the offset, then one `[node, digest, status]` per
//! node: the master first (status `master`), then each replica with `ok`,
//! `diverged`, `no-answer` or `unsupported` (a real Redis replica).

use super::Server;
use crate::error::CmdError;
use crate::net::{flags, ClientRef};
use crate::repl::{DigestRequest, ReplicaState};
use bytes::Bytes;

impl Server {
    pub fn cmd_digest_at_offset(&mut self, key: usize, timeout_ms: i64) -> Result<(), CmdError> {
        if self.repl.is_replica() {
            return Err("ERR DIGEST-AT-OFFSET runs on a master (its replicas answer it)".into());
        }
        let offset = self.repl.master_repl_offset;
        let master_digest = crate::persist::digest::dataset_digest(&self.ks);
        self.repl.digest_seq += 1;
        let id = self.repl.digest_seq;
        let marker = {
            let mut b = Vec::new();
            crate::persist::aof::cat_command(
                &mut b,
                &[
                    Bytes::from_static(b"REPLCONF"),
                    Bytes::from_static(b"DIGEST-AT"),
                    Bytes::from(offset.to_string()),
                    Bytes::from(id.to_string()),
                ],
            );
            b
        };
        let mut replicas = Vec::new();
        let mut unsupported = Vec::new();
        for k in self.clients.replica_keys() {
            let name = self.replica_name(k);
            let Some(h) = self.clients.handle(k) else {
                continue;
            };
            let Some(info) = self.clients.replica_mut(k) else {
                continue;
            };
            if !info.capa_digest {
                unsupported.push(name);
                continue;
            }
            if !matches!(info.state, ReplicaState::Online | ReplicaState::WaitAck) {
                replicas.push((h, name, None));
                continue;
            }
            info.markers.push((offset, marker.clone()));
            replicas.push((h, name, None));
            self.mark_pending_write(k);
        }
        let Some(client) = self.clients.handle(key) else {
            return Ok(());
        };
        if let Some(c) = self.clients.get_mut(key) {
            c.flags |= flags::BLOCKED;
        }
        self.repl.digest_requests.push(DigestRequest {
            id,
            client,
            offset,
            deadline_ms: self.ks.now_ms + timeout_ms,
            master_digest,
            replicas,
            unsupported,
        });
        self.process_digest_requests();
        Ok(())
    }

    /// A replica's answer (REPLCONF DIGEST <id> <offset> <digest>).
    pub fn digest_answer(&mut self, key: usize, argv: &[Bytes]) {
        let num = |a: &Bytes| crate::encoding::numbers::string2ll(a);
        let (Some(id), Some(off)) = (argv.get(2).and_then(num), argv.get(3).and_then(num)) else {
            return;
        };
        let Some(digest) = argv.get(4) else {
            return;
        };
        let Some(h) = self.clients.handle(key) else {
            return;
        };
        let digest = String::from_utf8_lossy(digest).into_owned();
        for r in &mut self.repl.digest_requests {
            if r.id as i64 == id {
                for (rh, _, ans) in &mut r.replicas {
                    if *rh == h {
                        *ans = Some((off, digest.clone()));
                    }
                }
            }
        }
        self.process_digest_requests();
    }

    /// Replies to the requests every replica answered, or that timed out.
    pub fn process_digest_requests(&mut self) {
        if self.repl.digest_requests.is_empty() {
            return;
        }
        let now = crate::util::mstime();
        let requests = std::mem::take(&mut self.repl.digest_requests);
        for r in requests {
            let gone = |s: &Self, h: ClientRef| s.clients.resolve(h).is_none();
            let complete = r
                .replicas
                .iter()
                .all(|(h, _, a)| a.is_some() || gone(self, *h));
            let Some(key) = self.clients.resolve(r.client) else {
                continue;
            };
            if !complete && now < r.deadline_ms {
                self.repl.digest_requests.push(r);
                continue;
            }
            let mut rows: Vec<(String, String, &'static str)> =
                vec![("master".into(), r.master_digest.clone(), "master")];
            for (_, name, ans) in &r.replicas {
                let row = match ans {
                    Some((off, d)) if *off == r.offset && *d == r.master_digest => {
                        (name.clone(), d.clone(), "ok")
                    }
                    Some((_, d)) => {
                        log::warn!(
                            "DIGEST-AT-OFFSET: replica {name} diverged at offset {} (its digest {d}, the master's {})",
                            r.offset,
                            r.master_digest
                        );
                        (name.clone(), d.clone(), "diverged")
                    }
                    None => (name.clone(), String::new(), "no-answer"),
                };
                rows.push(row);
            }
            for name in &r.unsupported {
                rows.push((name.clone(), String::new(), "unsupported"));
            }
            if let Some(c) = self.clients.get_mut(key) {
                c.flags &= !flags::BLOCKED;
            }
            let offset = r.offset;
            self.reply(key, |o| {
                o.array(rows.len() + 1);
                o.int(offset);
                for (name, digest, status) in &rows {
                    o.array(3);
                    o.bulk(name.as_bytes());
                    o.bulk(digest.as_bytes());
                    o.bulk(status.as_bytes());
                }
            });
            self.mark_pending_write(key);
            self.pending_input.push(key);
        }
    }

    /// On a replica: the marker arrived right after the command ending at
    /// its offset; our digest goes back to the master.
    pub fn digest_marker(&mut self, argv: &[Bytes]) {
        let (Some(off), Some(id)) = (argv.get(2), argv.get(3)) else {
            return;
        };
        let digest = crate::persist::digest::dataset_digest(&self.ks);
        let ours = self.repl.master_repl_offset.to_string();
        if ours.as_bytes() != &off[..] {
            log::warn!(
                "DIGEST-AT-OFFSET asked at offset {} but we are at {ours}",
                String::from_utf8_lossy(off)
            );
        }
        let id = id.clone();
        self.send_to_master(&[
            b"REPLCONF",
            b"DIGEST",
            &id,
            ours.as_bytes(),
            digest.as_bytes(),
        ]);
    }
}

/// Whether a command from our master is the DIGEST-AT-OFFSET marker (not
/// part of the stream: it moves no offset and is not proxied).
pub fn is_digest_marker(argv: &[Bytes]) -> bool {
    argv.len() == 4
        && crate::cmd::eq_ic(&argv[0], "replconf")
        && crate::cmd::eq_ic(&argv[1], "digest-at")
}
