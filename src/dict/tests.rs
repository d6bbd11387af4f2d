//! Unit tests of the dict: growth, rehashing, scanning, sampling, lazy freeing.

use super::*;
use crate::sds::Sds;
use std::collections::{HashMap, HashSet};

#[test]
fn drain_frees_in_bounded_steps_also_while_rehashing() {
    let mut d: Dict<Sds> = Dict::new();
    for i in 0..10_000 {
        d.insert_new(&Sds::from_i64(i), Sds::from_i64(i));
    }
    d.start_rehash(32_768);
    d.rehash(10);
    assert!(d.is_rehashing());
    let mut dr = d.into_drain();
    let (mut seen, mut steps) = (0, 0);
    loop {
        let before = dr.len();
        let done = dr.free_some(100, |_| seen += 1);
        steps += 1;
        // Whole buckets: a step may run past the budget by one chain.
        assert!(before - dr.len() < 100 + 16, "freed {}", before - dr.len());
        if done {
            break;
        }
    }
    assert_eq!(seen, 10_000);
    assert!(dr.is_empty());
    assert!(steps >= 100, "{steps} steps");
}

/// Tests that toggle or depend on the process-wide resize flag run one
/// at a time (the test harness runs tests on several threads).
static RESIZE_FLAG: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn key(i: usize) -> Sds {
    Sds::from_vec(format!("key:{i}").into_bytes())
}

#[test]
fn growth_bounded_by_room_until_the_fill_is_too_high() {
    let _flag = RESIZE_FLAG.lock().unwrap_or_else(|e| e.into_inner());
    let mut d: Dict<()> = Dict::default();
    for i in 0..8 {
        d.insert_new(&key(i), ());
    }
    // (How many steps the 4 -> 8 rehash needs depends on the seeded
    // hash: finish it.)
    while d.rehash(100) {}
    assert_eq!(d.buckets(), 8);
    // Doubling would take 16 buckets of 8 bytes: 100 bytes are too few.
    for i in 8..12 {
        d.insert_new_within(&key(i), (), Some(100));
    }
    assert_eq!(d.buckets(), 8);
    // Past a fill of 1.618 the table grows anyway.
    for i in 12..14 {
        d.insert_new_within(&key(i), (), Some(100));
    }
    assert_eq!(d.len(), 14);
    assert!(d.buckets() >= 16 || d.is_rehashing());
    let mut e: Dict<()> = Dict::default();
    for i in 0..9 {
        e.insert_new_within(&key(i), (), Some(128));
    }
    assert!(e.buckets() >= 16 || e.is_rehashing());
}

#[test]
fn layout_sizes() {
    // 56 bytes: a 64-byte malloc chunk per small hash/set/zset table.
    assert_eq!(std::mem::size_of::<Dict<()>>(), 56);
    // A node of a 10-byte key and no value: next + prefix + key.
    assert_eq!(NodePtr::<()>::alloc_size(10), 8 + 1 + 10);
}

#[test]
fn insert_get_remove_across_rehash() {
    let mut d: Dict<usize> = Dict::new();
    for i in 0..10_000 {
        assert!(d.insert(&key(i), i).is_none());
    }
    assert_eq!(d.len(), 10_000);
    for i in 0..10_000 {
        assert_eq!(d.get(&key(i)), Some(&i));
    }
    assert_eq!(d.insert(&key(5), 55), Some(5));
    for i in (0..10_000).step_by(2) {
        assert!(d.remove(&key(i)).is_some());
    }
    assert_eq!(d.len(), 5_000);
    assert!(d.get(&key(2)).is_none());
    assert_eq!(d.iter().count(), 5_000);
    while d.rehash(100) {}
    d.shrink_if_needed();
    while d.rehash(100) {}
    assert_eq!(d.iter().count(), 5_000);
}

#[test]
fn scan_survives_growth() {
    let mut d: Dict<()> = Dict::new();
    for i in 0..500 {
        d.insert(&key(i), ());
    }
    let mut seen = HashSet::new();
    let mut cursor = 0;
    let mut steps = 0;
    loop {
        cursor = d.scan(cursor, |k, _| {
            seen.insert(k.to_vec());
        });
        // Grow the table while scanning: every original key must be seen.
        if steps < 300 {
            d.insert(&key(10_000 + steps), ());
        }
        steps += 1;
        if cursor == 0 {
            break;
        }
    }
    for i in 0..500 {
        assert!(seen.contains(&key(i).to_vec()), "missed key {i}");
    }
}

#[test]
fn fair_random_reaches_the_end_of_a_long_chain() {
    // One bucket holding a chain of 30: a sample of 15 taken from the
    // chain's head alone would never return the last 15 (Redis #12276).
    let mut d: Dict<()> = Dict::new();
    d.ht[0] = Table::with_size(1);
    for i in 0..30 {
        let k = key(i);
        let h = hash_bytes(&k);
        d.ht[0].push(h, NodePtr::new(&k, (), (), None));
    }
    assert!(d
        .stats()
        .contains("different slots: 1\n max chain length: 30\n"));
    let mut rng = crate::util::Rng::seeded(88172645463325252);
    let mut rnd = || rng.next_u64();
    let mut hits: HashMap<Vec<u8>, u32> = HashMap::new();
    let draws = 30_000;
    for _ in 0..draws {
        let (k, _) = d.fair_random(&mut rnd).expect("non-empty");
        *hits.entry(k.to_vec()).or_default() += 1;
    }
    assert_eq!(hits.len(), 30, "every member of the chain is drawn");
    // Chi-square with 29 degrees of freedom: 73 is p = 0.00001.
    let p = draws as f64 / 30.0;
    let chi: f64 = hits.values().map(|&n| (n as f64 - p).powi(2) / p).sum();
    assert!(chi < 73.0, "chi-square {chi}");
}

#[test]
fn rehash_goes_on_during_a_save_only_for_extreme_ratios() {
    let _flag = RESIZE_FLAG.lock().unwrap_or_else(|e| e.into_inner());
    let mut d: Dict<()> = Dict::new();
    for i in 0..1000 {
        d.insert(&key(i), ());
    }
    while d.rehash(100) {}
    for i in 0..990 {
        d.remove(&key(i));
    }
    set_resize_allowed(false);
    d.shrink_if_needed();
    let stalled = !d.is_rehashing();
    set_resize_allowed(true);
    assert!(stalled, "no shrink starts while a child saves");
    d.shrink_if_needed();
    assert!(d.is_rehashing());
    // 1024 -> 16 buckets: a ratio of 64, so steps go on during a save.
    set_resize_allowed(false);
    let mut steps = 0;
    while d.is_rehashing() && steps < 10_000 {
        d.fair_random(|| 12345);
        steps += 1;
    }
    set_resize_allowed(true);
    assert!(!d.is_rehashing());
    assert_eq!(d.iter().count(), 10);
}

#[test]
fn random_finds_elements() {
    let mut d: Dict<u32> = Dict::new();
    assert!(d.random(|| 7).is_none());
    for i in 0..100 {
        d.insert(&key(i), i as u32);
    }
    let mut rng = crate::util::Rng::seeded(88172645463325252);
    let mut rnd = || rng.next_u64();
    let mut seen = HashSet::new();
    for _ in 0..2000 {
        let (k, _) = d.random(&mut rnd).expect("non-empty");
        seen.insert(k.to_vec());
    }
    assert!(seen.len() > 90);
}
