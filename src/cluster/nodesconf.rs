//! nodes.conf: the cluster configuration file (cluster-config-file). Its
//! lines are CLUSTER NODES lines (handshake nodes left out) followed by
//! `vars currentEpoch N lastVoteEpoch N`.
//!
//! Saving writes a temp file, fsyncs it, renames it over the old one and
//! fsyncs the directory: a crash leaves the old file or the new one, never
//! a mix. The file is locked with flock() for the life of the process so
//! two nodes never share it; the lock moves to the new file at each save.
//! Loading refuses a corrupt file with Redis's message
//! ("Unrecoverable error: corrupted cluster config file.").

use super::codec::{nflag, NAMELEN};
use super::node::{flag_from_name, valid_name, Node};
use super::slot::SLOTS;
use super::state::Cluster;
use std::fs::File;
use std::io::Write;
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};

pub const CORRUPT: &str = "Unrecoverable error: corrupted cluster config file.";

/// Takes an exclusive lock on the config file (creating it if needed).
pub fn lock(path: &Path) -> Result<File, String> {
    let f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(false)
        .open(path)
        .map_err(|e| {
            format!(
                "Can't open {} in order to acquire a lock: {e}",
                path.display()
            )
        })?;
    // SAFETY: flock on a descriptor we own.
    if unsafe { libc::flock(f.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } == -1 {
        let e = std::io::Error::last_os_error();
        if e.kind() == std::io::ErrorKind::WouldBlock {
            return Err(format!("Sorry, the cluster configuration file {} is already used by a different Redis Cluster node. Please make sure that different nodes use different cluster configuration files.", path.display()));
        }
        return Err(format!("Impossible to lock {}: {e}", path.display()));
    }
    Ok(f)
}

/// Loads the file into a new state. Ok(None): no file or an empty one
/// (a fresh node). Err: the message to log before exiting.
pub fn load(path: &Path, now: i64) -> Result<Option<Cluster>, String> {
    let text = match std::fs::read(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => {
            return Err(format!(
                "Loading the cluster node config from {}: {e}",
                path.display()
            ))
        }
    };
    if text.is_empty() {
        return Ok(None);
    }
    parse(&text, now)
        .map(Some)
        .ok_or_else(|| CORRUPT.to_string())
}

/// Parses nodes.conf text; None when it is corrupt.
pub fn parse(text: &[u8], now: i64) -> Option<Cluster> {
    let mut c = Cluster::new(now);
    // Start from an empty table: the file names myself.
    let placeholder = c.myself;
    c.del_node(placeholder);
    let mut myself = None;
    let text = std::str::from_utf8(text).ok()?;
    for line in text.lines() {
        if line.trim().is_empty() {
            continue;
        }
        let argv = crate::util::splitargs::split_args_str(line)?;
        if argv.is_empty() {
            continue;
        }
        if argv[0].eq_ignore_ascii_case("vars") {
            if argv.len() % 2 == 0 {
                return None;
            }
            for kv in argv[1..].chunks(2) {
                let v: u64 = kv[1].parse().unwrap_or(0);
                if kv[0].eq_ignore_ascii_case("currentEpoch") {
                    c.current_epoch = v;
                } else if kv[0].eq_ignore_ascii_case("lastVoteEpoch") {
                    c.last_vote_epoch = v;
                } else {
                    log::info!("Skipping unknown cluster config variable '{}'", kv[0]);
                }
            }
            continue;
        }
        if argv.len() < 8 || !valid_name(argv[0].as_bytes()) {
            return None;
        }
        let id = get_or_create(&mut c, argv[0].as_bytes(), now);
        // ip:port[@cport][,hostname]
        let (addr, hostname) = match argv[1].split_once(',') {
            Some((a, h)) => (a, h),
            None => (argv[1].as_str(), ""),
        };
        c.nodes[id].hostname = hostname.to_string();
        let (ip, ports) = addr.rsplit_once(':')?;
        let (port, cport) = match ports.split_once('@') {
            Some((p, b)) => (p, Some(b)),
            None => (ports, None),
        };
        let port: u16 = port.parse().ok()?;
        let cport: u16 = match cport {
            Some(b) => b.parse().ok()?,
            None => port.wrapping_add(10000),
        };
        {
            let n = &mut c.nodes[id];
            n.ip = ip.to_string();
            n.port = port;
            n.cport = cport;
        }
        for word in argv[2].split(',') {
            let f = flag_from_name(word)?;
            if f == nflag::MYSELF {
                if myself.is_some() {
                    return None;
                }
                myself = Some(id);
            }
            c.nodes[id].flags |= f;
            if f == nflag::FAIL {
                c.nodes[id].fail_time = now;
            }
        }
        if argv[3] != "-" {
            if !valid_name(argv[3].as_bytes()) {
                return None;
            }
            let m = get_or_create(&mut c, argv[3].as_bytes(), now);
            c.nodes[id].slaveof = Some(m);
            c.add_slave(m, id);
        }
        if argv[4].parse::<i64>().unwrap_or(0) != 0 {
            c.nodes[id].ping_sent = now;
        }
        if argv[5].parse::<i64>().unwrap_or(0) != 0 {
            c.nodes[id].pong_received = now;
        }
        let epoch: u64 = argv[6].parse().unwrap_or(0);
        c.nodes[id].config_epoch = if c.nodes[id].is_slave() && c.nodes[id].slaveof.is_some() {
            0
        } else {
            epoch
        };
        for a in &argv[8..] {
            if let Some(inner) = a.strip_prefix('[') {
                // [slot->-name] migrating, [slot-<-name] importing.
                let (slot, rest) = inner.split_once('-')?;
                let slot: usize = slot.parse().ok().filter(|&s| s < SLOTS)?;
                let dir = rest.as_bytes().first().copied()?;
                let name = rest.get(2..)?.strip_suffix(']')?;
                if !valid_name(name.as_bytes()) {
                    return None;
                }
                let other = get_or_create(&mut c, name.as_bytes(), now);
                match dir {
                    b'>' => c.migrating_to[slot] = Some(other),
                    b'<' => c.importing_from[slot] = Some(other),
                    _ => return None,
                }
                continue;
            }
            let (start, stop) = match a.split_once('-') {
                Some((x, y)) => (x.parse::<usize>().ok()?, y.parse::<usize>().ok()?),
                None => {
                    let x = a.parse::<usize>().ok()?;
                    (x, x)
                }
            };
            if start >= SLOTS || stop >= SLOTS {
                return None;
            }
            for s in start..=stop {
                c.add_slot(id, s);
            }
        }
    }
    c.myself = myself?;
    let max = c.max_epoch();
    if max > c.current_epoch {
        c.current_epoch = max;
    }
    Some(c)
}

fn get_or_create(c: &mut Cluster, name: &[u8], now: i64) -> usize {
    if let Some(id) = c.lookup(name) {
        return id;
    }
    let mut n = [0u8; NAMELEN];
    n.copy_from_slice(name);
    c.add_node(Node::new(n, 0, now))
}

/// The file's content.
pub fn render(c: &Cluster) -> String {
    let mut s = c.nodes_description(nflag::HANDSHAKE);
    s.push_str(&format!(
        "vars currentEpoch {} lastVoteEpoch {}\n",
        c.current_epoch, c.last_vote_epoch
    ));
    s
}

/// Writes the file atomically (temp file, fsync, rename, directory fsync)
/// and moves the lock to the new file. `lock` holds the current lock.
pub fn save(
    path: &Path,
    c: &Cluster,
    lock_file: &mut Option<File>,
    fsync: bool,
) -> std::io::Result<()> {
    let content = render(c);
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let tmp: PathBuf = dir.join(format!(
        "temp-{}.{}",
        std::process::id(),
        path.file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("nodes.conf")
    ));
    let mut f = File::create(&tmp)?;
    f.write_all(content.as_bytes())?;
    if fsync {
        f.sync_all()?;
    }
    // Lock the new inode before it replaces the old one.
    // SAFETY: flock on a descriptor we own.
    unsafe { libc::flock(f.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
    if let Err(e) = std::fs::rename(&tmp, path) {
        let _ = std::fs::remove_file(&tmp);
        return Err(e);
    }
    if fsync {
        if let Ok(d) = File::open(dir) {
            let _ = d.sync_all();
        }
    }
    *lock_file = Some(f);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = "fcc5efa0e64ee8fa31769b39c04ab40a34c7520b 127.0.0.1:27003@37003,host27003 master - 0 1796041378301 3 connected 10923-16383\n\
0225a1cf20891446e9cde92f5e188e88029a85f0 127.0.0.1:27002@37002 slave fcc5efa0e64ee8fa31769b39c04ab40a34c7520b 0 1796041378501 3 connected\n\
34f74279e5706b7109850e1c68d2f5ac23dc1510 127.0.0.1:27001@37001 myself,master - 0 0 1 connected 0-5460 [5461->-fcc5efa0e64ee8fa31769b39c04ab40a34c7520b]\n\
vars currentEpoch 3 lastVoteEpoch 2\n";

    #[test]
    fn parses_a_redis_file_and_renders_it_back() {
        let c = parse(SAMPLE.as_bytes(), 1000).expect("valid");
        assert_eq!(
            c.me().name_str(),
            "34f74279e5706b7109850e1c68d2f5ac23dc1510"
        );
        assert_eq!(c.current_epoch, 3);
        assert_eq!(c.last_vote_epoch, 2);
        assert_eq!(c.me().numslots, 5461);
        let other = c
            .lookup(b"fcc5efa0e64ee8fa31769b39c04ab40a34c7520b")
            .expect("known");
        assert_eq!(c.nodes[other].hostname, "host27003");
        assert_eq!(c.migrating_to[5461], Some(other));
        let r = c
            .lookup(b"0225a1cf20891446e9cde92f5e188e88029a85f0")
            .expect("known");
        assert_eq!(c.nodes[r].slaveof, Some(other));
        let again = parse(render(&c).as_bytes(), 1000).expect("re-parses");
        assert_eq!(render(&again).lines().count(), 4);
        assert!(render(&again).contains("[5461->-fcc5efa0e64ee8fa31769b39c04ab40a34c7520b]"));
    }

    #[test]
    fn corrupt_files_are_refused() {
        for bad in [
            "garbage\n",
            "34f74279e5706b7109850e1c68d2f5ac23dc1510 127.0.0.1:1@2 myself,master - 0 0 1 connected\nvars currentEpoch\n",
            "34f74279e5706b7109850e1c68d2f5ac23dc1510 127.0.0.1:1@2 master - 0 0 1 connected\n",
            "34f74279e5706b7109850e1c68d2f5ac23dc1510 127.0.0.1:1@2 myself,bogus - 0 0 1 connected\n",
            "34f74279e5706b7109850e1c68d2f5ac23dc1510 127.0.0.1:1@2 myself,master - 0 0 1 connected 99999\n",
            "34f74279e5706b7109850e1c68d2f5ac23dc1510 noport myself,master - 0 0 1 connected\n",
        ] {
            assert!(parse(bad.as_bytes(), 0).is_none(), "{bad}");
        }
    }
}
