//! Our command table (the source of truth for execution) agrees with the
//! metadata generated from real Redis 7.0.15 for every command we have:
//! arity, the flags COMMAND INFO shows, and the legacy key range.

use super::flag;
use super::meta::{self, *};
use super::table::{self, CommandSpec};

/// Our flag bits as the meta bits COMMAND INFO shows (movablekeys is
/// derived from key specs, hidden flags have no meta bit).
fn visible(f: u32) -> u32 {
    let map = [
        (flag::WRITE, F_WRITE),
        (flag::READONLY, F_READONLY),
        (flag::DENYOOM, F_DENYOOM),
        (flag::ADMIN, F_ADMIN),
        (flag::PUBSUB, F_PUBSUB),
        (flag::NOSCRIPT, F_NOSCRIPT),
        (flag::BLOCKING, F_BLOCKING),
        (flag::LOADING, F_LOADING),
        (flag::STALE, F_STALE),
        (flag::SKIP_MONITOR, F_SKIP_MONITOR),
        (flag::SKIP_SLOWLOG, F_SKIP_SLOWLOG),
        (flag::ASKING, F_ASKING),
        (flag::FAST, F_FAST),
        (flag::NO_AUTH, F_NO_AUTH),
        (flag::NO_MANDATORY_KEYS, F_NO_MANDATORY_KEYS),
        (flag::NO_ASYNC_LOADING, F_NO_ASYNC_LOADING),
        (flag::NO_MULTI, F_NO_MULTI),
        (flag::ALLOW_BUSY, F_ALLOW_BUSY),
    ];
    map.iter()
        .filter(|(ours, _)| f & ours != 0)
        .fold(0, |acc, (_, m)| acc | m)
}

fn check(spec: &CommandSpec, problems: &mut Vec<String>) {
    let Some(m) = meta::find(spec.name.as_bytes()) else {
        problems.push(format!("{}: not a Redis 7.0 command", spec.name));
        return;
    };
    if spec.arity != m.arity {
        problems.push(format!(
            "{}: arity {} (Redis {})",
            spec.name, spec.arity, m.arity
        ));
    }
    // A container whose subcommands are not in our table still carries
    // their flags itself: only its subcommand entries can be compared.
    let container_without_subs = m.has_subcommands() && spec.subs.is_empty();
    let ours = visible(spec.flags);
    let theirs = m.flags & !F_MOVABLEKEYS;
    if !container_without_subs && ours != theirs {
        let names = |f: u32| -> Vec<&str> {
            (0..FLAG_NAMES.len())
                .filter(|i| f & (1 << i) != 0)
                .map(|i| FLAG_NAMES[i])
                .collect()
        };
        problems.push(format!(
            "{}: flags {:?} (Redis {:?})",
            spec.name,
            names(ours),
            names(theirs)
        ));
    }
    let range = (spec.first_key, spec.last_key, spec.key_step);
    if !container_without_subs && range != m.range {
        problems.push(format!(
            "{}: key range {:?} (Redis {:?})",
            spec.name, range, m.range
        ));
    }
    for sub in spec.subs {
        check(sub, problems);
    }
}

#[test]
fn table_agrees_with_redis_metadata() {
    let mut problems = Vec::new();
    for spec in table::all() {
        check(spec, &mut problems);
    }
    assert!(
        problems.is_empty(),
        "command table vs Redis 7.0.15 metadata:\n{}",
        problems.join("\n")
    );
}

#[test]
fn meta_is_consistent() {
    // Every subcommand points back at its container, ids are indexes.
    for (i, m) in meta::all().iter().enumerate() {
        assert_eq!(m.id() as usize, i);
        for s in m.subcommands() {
            assert_eq!(s.parent as usize, i, "{}", s.name);
            assert!(s.name.starts_with(&format!("{}|", m.name)));
        }
    }
    assert_eq!(
        meta::find(b"CLIENT|LIST").map(|m| m.name),
        Some("client|list")
    );
    assert_eq!(meta::categories().len(), 21);
}

#[test]
fn key_extraction_follows_key_specs() {
    use bytes::Bytes;
    let argv = |s: &str| -> Vec<Bytes> {
        s.split(' ')
            .map(|a| Bytes::copy_from_slice(a.as_bytes()))
            .collect()
    };
    let keys = |s: &str| -> Vec<(usize, u16)> {
        let a = argv(s);
        let m = meta::resolve(&a).expect("command");
        let mut k = Vec::new();
        meta::get_keys(m, &a, &mut k);
        k.iter().map(|k| (k.pos, k.flags)).collect()
    };
    assert_eq!(keys("get a"), vec![(1, K_RO | K_ACCESS)]);
    assert_eq!(keys("mset a 1 b 2").len(), 2);
    assert_eq!(keys("set a b"), vec![(1, K_OW | K_UPDATE)]);
    assert_eq!(keys("set a b get"), vec![(1, K_RW | K_ACCESS | K_UPDATE)]);
    assert_eq!(
        keys("lmove a b left right"),
        vec![(1, K_RW | K_ACCESS | K_DELETE), (2, K_RW | K_INSERT)]
    );
    assert_eq!(keys("zunionstore d 2 a b").len(), 3);
    assert_eq!(keys("sort s store d")[1], (3, K_OW | K_UPDATE));
    assert_eq!(keys("object encoding k"), vec![(2, K_RO)]);
    assert!(keys("ping").is_empty());
}
