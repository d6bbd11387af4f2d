//! Integration tests for lists, hashes and sets: blocking pops (FIFO
//! order, timeouts, BLMOVE chains, MULTI, CLIENT UNBLOCK, INFO) and
//! model-based property tests that apply random operations to the server
//! and to a plain Rust model, encoding conversions included.

mod common;

use std::collections::{HashMap, HashSet, VecDeque};
use std::time::{Duration, Instant};

// ---- the shared harness (tests/common), with this file's reply view ----

struct Server(common::Server);

impl Server {
    fn start() -> Server {
        Server(common::Server::start(&[]))
    }

    fn client(&self) -> Client {
        Client(self.0.conn())
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum R {
    Simple(String),
    Err(String),
    Int(i64),
    Bulk(Vec<u8>),
    Nil,
    Arr(Vec<R>),
}

impl R {
    fn bulk(s: &str) -> R {
        R::Bulk(s.as_bytes().to_vec())
    }
    fn arr(&self) -> Vec<R> {
        match self {
            R::Arr(v) => v.clone(),
            other => panic!("not an array: {other:?}"),
        }
    }
    fn bytes(&self) -> Vec<u8> {
        match self {
            R::Bulk(b) => b.clone(),
            other => panic!("not a bulk: {other:?}"),
        }
    }
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.bytes()).into_owned()
    }
}

impl From<common::Value> for R {
    fn from(v: common::Value) -> R {
        use common::Value as V;
        match v {
            V::Simple(t) => R::Simple(t),
            V::Error(t) => R::Err(t),
            V::Int(n) => R::Int(n),
            V::Bulk(b) => R::Bulk(b),
            V::Double(t) => R::Bulk(t.into_bytes()),
            V::Bool(b) => R::Int(b.into()),
            V::Nil | V::NilArray => R::Nil,
            V::Array(v) => R::Arr(v.into_iter().map(R::from).collect()),
            V::Map(kv) => R::Arr(
                kv.into_iter()
                    .flat_map(|(k, v)| [R::from(k), R::from(v)])
                    .collect(),
            ),
        }
    }
}

struct Client(common::Conn);

impl Client {
    fn send(&mut self, args: &[&str]) {
        let a: Vec<&[u8]> = args.iter().map(|x| x.as_bytes()).collect();
        self.0.send(&a);
    }

    fn read(&mut self) -> R {
        R::from(common::parse(&self.0.read_reply()))
    }

    fn cmd(&mut self, args: &[&str]) -> R {
        self.send(args);
        self.read()
    }

    fn info_field(&mut self, field: &str) -> String {
        let info = self.cmd(&["INFO", "clients"]).text();
        info.lines()
            .find_map(|l| l.strip_prefix(&format!("{field}:")).map(|v| v.to_string()))
            .unwrap_or_default()
    }

    /// Waits until INFO reports `n` blocked clients.
    fn wait_blocked(&mut self, n: usize) {
        let ok = common::wait_until(Duration::from_secs(10), || {
            self.info_field("blocked_clients") == n.to_string()
        });
        assert!(ok, "never got {n} blocked clients");
    }
}

fn pair(k: &str, v: &str) -> R {
    R::Arr(vec![R::bulk(k), R::bulk(v)])
}

// ---- blocking pops ----

#[test]
fn blocked_clients_are_served_fifo() {
    let srv = Server::start();
    let mut ctl = srv.client();
    let mut cs: Vec<Client> = (0..3).map(|_| srv.client()).collect();
    for (i, c) in cs.iter_mut().enumerate() {
        c.send(&["BLPOP", "nokey", "q", "0"]);
        ctl.wait_blocked(i + 1);
    }
    assert_eq!(ctl.info_field("blocked_clients"), "3");
    assert_eq!(ctl.cmd(&["RPUSH", "q", "a", "b"]), R::Int(2));
    assert_eq!(cs[0].read(), pair("q", "a"));
    assert_eq!(cs[1].read(), pair("q", "b"));
    ctl.wait_blocked(1);
    assert_eq!(ctl.cmd(&["LPUSH", "q", "c"]), R::Int(1));
    assert_eq!(cs[2].read(), pair("q", "c"));
    ctl.wait_blocked(0);
    assert_eq!(ctl.cmd(&["EXISTS", "q"]), R::Int(0));
    // BRPOP takes from the tail; BLMPOP with a count.
    cs[0].send(&["BRPOP", "q", "0"]);
    cs[1].send(&["BLMPOP", "0", "1", "q", "LEFT", "COUNT", "5"]);
    ctl.wait_blocked(2);
    ctl.cmd(&["RPUSH", "q", "1", "2", "3"]);
    assert_eq!(cs[0].read(), pair("q", "3"));
    assert_eq!(
        cs[1].read(),
        R::Arr(vec![R::bulk("q"), R::Arr(vec![R::bulk("1"), R::bulk("2")])])
    );
}

#[test]
fn fractional_timeouts() {
    let srv = Server::start();
    let mut c = srv.client();
    for (cmd, nil) in [
        (vec!["BLPOP", "k", "0.2"], R::Nil),
        (vec!["BLMOVE", "k", "d", "LEFT", "RIGHT", "0.2"], R::Nil),
        (vec!["BRPOPLPUSH", "k", "d", "0.2"], R::Nil),
        (vec!["BLMPOP", "0.2", "1", "k", "RIGHT"], R::Nil),
    ] {
        let t0 = Instant::now();
        assert_eq!(c.cmd(&cmd), nil);
        let el = t0.elapsed();
        assert!(
            el >= Duration::from_millis(190),
            "{cmd:?} returned after {el:?}"
        );
        // Generous: a loaded 2-core machine may be slow to wake us.
        assert!(el < Duration::from_secs(5), "{cmd:?} returned after {el:?}");
    }
    assert_eq!(
        c.cmd(&["BLPOP", "k", "-0.5"]),
        R::Err("ERR timeout is negative".into())
    );
    assert_eq!(
        c.cmd(&["BLPOP", "k", "x"]),
        R::Err("ERR timeout is not a float or out of range".into())
    );
    let mut ctl = srv.client();
    ctl.wait_blocked(0);
}

#[test]
fn blmove_chain_and_multi_unblock() {
    let srv = Server::start();
    let mut ctl = srv.client();
    let mut c1 = srv.client();
    let mut c2 = srv.client();
    let mut c3 = srv.client();
    c1.send(&["BLMOVE", "a", "b", "LEFT", "RIGHT", "0"]);
    ctl.wait_blocked(1);
    c2.send(&["BRPOPLPUSH", "b", "c", "0"]);
    ctl.wait_blocked(2);
    c3.send(&["BLPOP", "c", "0"]);
    ctl.wait_blocked(3);
    ctl.cmd(&["RPUSH", "a", "x"]);
    assert_eq!(c1.read(), R::bulk("x"));
    assert_eq!(c2.read(), R::bulk("x"));
    assert_eq!(c3.read(), pair("c", "x"));
    ctl.wait_blocked(0);
    for k in ["a", "b", "c"] {
        assert_eq!(ctl.cmd(&["EXISTS", k]), R::Int(0));
    }
    // A push inside MULTI/EXEC wakes the client once EXEC is done; a
    // transaction that pushes and pops again leaves it blocked.
    c1.send(&["BLPOP", "m", "0"]);
    ctl.wait_blocked(1);
    ctl.cmd(&["MULTI"]);
    ctl.cmd(&["RPUSH", "m", "1"]);
    ctl.cmd(&["LPOP", "m"]);
    assert_eq!(ctl.cmd(&["EXEC"]).arr(), vec![R::Int(1), R::bulk("1")]);
    ctl.wait_blocked(1);
    ctl.cmd(&["MULTI"]);
    ctl.cmd(&["RPUSH", "m", "2"]);
    ctl.cmd(&["RPUSH", "m", "3"]);
    ctl.cmd(&["EXEC"]);
    assert_eq!(c1.read(), pair("m", "2"));
    assert_eq!(
        ctl.cmd(&["LRANGE", "m", "0", "-1"]).arr(),
        vec![R::bulk("3")]
    );
    // Blocking commands inside MULTI never block.
    ctl.cmd(&["MULTI"]);
    ctl.cmd(&["BLPOP", "none", "0"]);
    ctl.cmd(&["BLMOVE", "none", "x", "LEFT", "LEFT", "0"]);
    assert_eq!(ctl.cmd(&["EXEC"]).arr(), vec![R::Nil, R::Nil]);
}

#[test]
fn client_unblock() {
    let srv = Server::start();
    let mut ctl = srv.client();
    let mut c = srv.client();
    let id = match c.cmd(&["CLIENT", "ID"]) {
        R::Int(n) => n.to_string(),
        other => panic!("{other:?}"),
    };
    c.send(&["BLPOP", "k", "0"]);
    ctl.wait_blocked(1);
    assert_eq!(ctl.cmd(&["CLIENT", "UNBLOCK", &id]), R::Int(1));
    assert_eq!(c.read(), R::Nil);
    assert_eq!(ctl.cmd(&["CLIENT", "UNBLOCK", &id]), R::Int(0));
    c.send(&["BLMOVE", "k", "d", "LEFT", "LEFT", "0"]);
    ctl.wait_blocked(1);
    assert_eq!(ctl.cmd(&["CLIENT", "UNBLOCK", &id, "ERROR"]), R::Int(1));
    assert_eq!(
        c.read(),
        R::Err("UNBLOCKED client unblocked via CLIENT UNBLOCK".into())
    );
    ctl.wait_blocked(0);
    // The connection still works and a closed blocked client is forgotten.
    assert_eq!(c.cmd(&["PING"]), R::Simple("PONG".into()));
    c.send(&["BLPOP", "k", "0"]);
    ctl.wait_blocked(1);
    drop(c);
    ctl.wait_blocked(0);
    ctl.cmd(&["RPUSH", "k", "v"]);
    assert_eq!(ctl.cmd(&["LLEN", "k"]), R::Int(1));
}

// ---- property tests against models ----

use common::Rng;

impl Rng {
    fn range(&mut self, lo: i64, hi: i64) -> i64 {
        lo + self.below((hi - lo + 1) as u64) as i64
    }
    /// A small element: integers, short strings, and now and then a long one.
    fn elem(&mut self) -> String {
        match self.below(10) {
            0..=3 => self.range(-20, 20).to_string(),
            4..=7 => format!("e{}", self.below(15)),
            8 => "x".repeat(1 + self.below(30) as usize),
            _ => format!("{}", self.next() % 100_000_000_000),
        }
    }
}

fn bulks(v: &[String]) -> R {
    R::Arr(v.iter().map(|s| R::bulk(s)).collect())
}

fn sorted_texts(r: &R) -> Vec<String> {
    let mut v: Vec<String> = r.arr().iter().map(|x| x.text()).collect();
    v.sort();
    v
}

#[test]
fn list_model() {
    let srv = Server::start();
    let mut c = srv.client();
    c.cmd(&["CONFIG", "SET", "list-max-listpack-size", "3"]);
    let mut rng = Rng(0x9E3779B97F4A7C15);
    let keys = ["l1", "l2"];
    let mut model: HashMap<&str, VecDeque<String>> = HashMap::new();
    for step in 0..4000 {
        if step == 2000 {
            c.cmd(&["CONFIG", "SET", "list-max-listpack-size", "-1"]);
        }
        let k = keys[rng.below(2) as usize];
        let m = model.entry(k).or_default();
        let len = m.len() as i64;
        let (args, want): (Vec<String>, R) = match rng.below(12) {
            0 | 1 => {
                let n = 1 + rng.below(4);
                let vals: Vec<String> = (0..n).map(|_| rng.elem()).collect();
                let left = rng.below(2) == 0;
                for v in &vals {
                    if left {
                        m.push_front(v.clone());
                    } else {
                        m.push_back(v.clone());
                    }
                }
                let mut a = vec![if left { "LPUSH" } else { "RPUSH" }.to_string(), k.into()];
                a.extend(vals);
                (a, R::Int(m.len() as i64))
            }
            2 => {
                let n = rng.below(4) as usize;
                let left = rng.below(2) == 0;
                let mut got = Vec::new();
                for _ in 0..n.min(m.len()) {
                    got.push(if left { m.pop_front() } else { m.pop_back() }.unwrap_or_default());
                }
                let want = if len == 0 { R::Nil } else { bulks(&got) };
                let a = vec![
                    if left { "LPOP" } else { "RPOP" }.into(),
                    k.into(),
                    n.to_string(),
                ];
                (a, want)
            }
            3 => {
                let i = rng.range(-len - 2, len + 2);
                let idx = if i < 0 { len + i } else { i };
                let want = if idx >= 0 && idx < len {
                    R::bulk(&m[idx as usize])
                } else {
                    R::Nil
                };
                (vec!["LINDEX".into(), k.into(), i.to_string()], want)
            }
            4 => {
                let i = rng.range(-len - 1, len + 1);
                let idx = if i < 0 { len + i } else { i };
                let v = rng.elem();
                let want = if len == 0 {
                    R::Err("ERR no such key".into())
                } else if idx >= 0 && idx < len {
                    m[idx as usize] = v.clone();
                    R::Simple("OK".into())
                } else {
                    R::Err("ERR index out of range".into())
                };
                (vec!["LSET".into(), k.into(), i.to_string(), v], want)
            }
            5 => {
                let pivot = rng.elem();
                let v = rng.elem();
                let after = rng.below(2) == 0;
                let want = if len == 0 {
                    R::Int(0)
                } else if let Some(p) = m.iter().position(|x| *x == pivot) {
                    m.insert(p + after as usize, v.clone());
                    R::Int(m.len() as i64)
                } else {
                    R::Int(-1)
                };
                let w = if after { "AFTER" } else { "BEFORE" };
                (vec!["LINSERT".into(), k.into(), w.into(), pivot, v], want)
            }
            6 => {
                let v = rng.elem();
                let cnt = rng.range(-2, 2);
                let mut removed = 0;
                let limit = if cnt == 0 {
                    usize::MAX
                } else {
                    cnt.unsigned_abs() as usize
                };
                let mut idxs: Vec<usize> = m
                    .iter()
                    .enumerate()
                    .filter(|(_, x)| **x == v)
                    .map(|(i, _)| i)
                    .collect();
                if cnt < 0 {
                    idxs.reverse();
                }
                idxs.truncate(limit);
                idxs.sort_unstable_by(|a, b| b.cmp(a));
                for i in idxs {
                    m.remove(i);
                    removed += 1;
                }
                (
                    vec!["LREM".into(), k.into(), cnt.to_string(), v],
                    R::Int(removed),
                )
            }
            7 => {
                let s = rng.range(-len - 2, len + 2);
                let e = rng.range(-len - 2, len + 2);
                let (mut a, mut b) = (
                    if s < 0 { len + s } else { s },
                    if e < 0 { len + e } else { e },
                );
                if a < 0 {
                    a = 0;
                }
                if a > b || a >= len {
                    m.clear();
                } else {
                    if b >= len {
                        b = len - 1;
                    }
                    let kept: VecDeque<String> =
                        m.range(a as usize..=b as usize).cloned().collect();
                    *m = kept;
                }
                (
                    vec!["LTRIM".into(), k.into(), s.to_string(), e.to_string()],
                    R::Simple("OK".into()),
                )
            }
            8 => {
                let s = rng.range(-len - 2, len + 2);
                let e = rng.range(-len - 2, len + 2);
                let (mut a, mut b) = (
                    if s < 0 { len + s } else { s },
                    if e < 0 { len + e } else { e },
                );
                if a < 0 {
                    a = 0;
                }
                let want = if a > b || a >= len {
                    R::Arr(vec![])
                } else {
                    if b >= len {
                        b = len - 1;
                    }
                    let v: Vec<String> = m.range(a as usize..=b as usize).cloned().collect();
                    bulks(&v)
                };
                (
                    vec!["LRANGE".into(), k.into(), s.to_string(), e.to_string()],
                    want,
                )
            }
            9 => {
                let v = rng.elem();
                let rank = [1i64, 2, -1, -2][rng.below(4) as usize];
                let it: Vec<usize> = if rank > 0 {
                    (0..m.len()).collect()
                } else {
                    (0..m.len()).rev().collect()
                };
                let hit = it
                    .into_iter()
                    .filter(|&i| m[i] == v)
                    .nth(rank.unsigned_abs() as usize - 1);
                let want = hit.map_or(R::Nil, |i| R::Int(i as i64));
                (
                    vec!["LPOS".into(), k.into(), v, "RANK".into(), rank.to_string()],
                    want,
                )
            }
            10 => {
                let other = if k == "l1" { "l2" } else { "l1" };
                let (from, to) = (rng.below(2) == 0, rng.below(2) == 0);
                let v = if from { m.pop_front() } else { m.pop_back() };
                let want = match v {
                    None => R::Nil,
                    Some(v) => {
                        let dst = model.entry(other).or_default();
                        if to {
                            dst.push_front(v.clone());
                        } else {
                            dst.push_back(v.clone());
                        }
                        R::bulk(&v)
                    }
                };
                let w = |b: bool| if b { "LEFT" } else { "RIGHT" }.to_string();
                (
                    vec!["LMOVE".into(), k.into(), other.into(), w(from), w(to)],
                    want,
                )
            }
            _ => (vec!["LLEN".into(), k.into()], R::Int(len)),
        };
        let a: Vec<&str> = args.iter().map(|s| s.as_str()).collect();
        assert_eq!(c.cmd(&a), want, "step {step}: {args:?}");
        for k in keys {
            let n = model.get(k).map_or(0, |m| m.len());
            if step % 50 == 0 || n == 0 {
                let exists = c.cmd(&["EXISTS", k]);
                assert_eq!(exists, R::Int((n > 0) as i64), "step {step}: key {k}");
            }
            if n > 0 && step % 97 == 0 {
                assert_eq!(c.cmd(&["OBJECT", "ENCODING", k]), R::bulk("quicklist"));
            }
        }
    }
}

#[test]
fn hash_model() {
    let srv = Server::start();
    let mut c = srv.client();
    c.cmd(&["CONFIG", "SET", "hash-max-listpack-entries", "6"]);
    c.cmd(&["CONFIG", "SET", "hash-max-listpack-value", "12"]);
    let mut rng = Rng(0xD1B54A32D192ED03);
    let mut model: HashMap<String, String> = HashMap::new();
    let mut converted = false;
    let k = "h";
    for step in 0..4000 {
        let f = format!("f{}", rng.below(10));
        let (args, want): (Vec<String>, R) = match rng.below(8) {
            0 | 1 => {
                let v = rng.elem();
                let f = if rng.below(30) == 0 {
                    "long-field-name".to_string()
                } else {
                    f
                };
                converted |= v.len() > 12 || f.len() > 12;
                let new = model.insert(f.clone(), v.clone()).is_none();
                converted |= model.len() > 6;
                (vec!["HSET".into(), k.into(), f, v], R::Int(new as i64))
            }
            2 => {
                let had = model.remove(&f).is_some();
                (vec!["HDEL".into(), k.into(), f], R::Int(had as i64))
            }
            3 => {
                let want = model.get(&f).map_or(R::Nil, |v| R::bulk(v));
                (vec!["HGET".into(), k.into(), f], want)
            }
            4 => {
                let by = rng.range(-5, 5);
                let want = match model.get(&f).map(|v| v.parse::<i64>()) {
                    Some(Err(_)) => R::Err("ERR hash value is not an integer".into()),
                    Some(Ok(n)) if n.to_string() != *model.get(&f).unwrap_or(&String::new()) => {
                        R::Err("ERR hash value is not an integer".into())
                    }
                    other => {
                        let n = other.and_then(|r| r.ok()).unwrap_or(0) + by;
                        model.insert(f.clone(), n.to_string());
                        converted |= model.len() > 6;
                        R::Int(n)
                    }
                };
                (vec!["HINCRBY".into(), k.into(), f, by.to_string()], want)
            }
            5 => (vec!["HLEN".into(), k.into()], R::Int(model.len() as i64)),
            6 => {
                let want = R::Int(model.contains_key(&f) as i64);
                (vec!["HEXISTS".into(), k.into(), f], want)
            }
            _ => {
                let r = c.cmd(&["HGETALL", k]).arr();
                let got: HashMap<String, String> =
                    r.chunks(2).map(|p| (p[0].text(), p[1].text())).collect();
                assert_eq!(got, model, "step {step}: HGETALL");
                assert_eq!(r.len(), model.len() * 2);
                continue;
            }
        };
        let a: Vec<&str> = args.iter().map(|s| s.as_str()).collect();
        assert_eq!(c.cmd(&a), want, "step {step}: {args:?}");
        if model.is_empty() {
            converted = false;
            assert_eq!(c.cmd(&["EXISTS", k]), R::Int(0), "step {step}");
        } else {
            let enc = if converted { "hashtable" } else { "listpack" };
            assert_eq!(
                c.cmd(&["OBJECT", "ENCODING", k]),
                R::bulk(enc),
                "step {step}"
            );
        }
        if step % 200 == 0 && !model.is_empty() {
            // HSCAN returns every field exactly once over a full iteration.
            let mut cursor = "0".to_string();
            let mut seen: HashMap<String, String> = HashMap::new();
            loop {
                let r = c.cmd(&["HSCAN", k, &cursor, "COUNT", "2"]).arr();
                cursor = r[0].text();
                for p in r[1].arr().chunks(2) {
                    seen.insert(p[0].text(), p[1].text());
                }
                if cursor == "0" {
                    break;
                }
            }
            assert_eq!(seen, model, "step {step}: HSCAN");
            let rf = c.cmd(&["HRANDFIELD", k, "-5", "WITHVALUES"]).arr();
            assert_eq!(rf.len(), 10);
            for p in rf.chunks(2) {
                assert_eq!(model.get(&p[0].text()), Some(&p[1].text()));
            }
            let uniq = c.cmd(&["HRANDFIELD", k, "3"]).arr();
            let set: HashSet<String> = uniq.iter().map(|x| x.text()).collect();
            assert_eq!(set.len(), uniq.len());
            assert_eq!(uniq.len(), model.len().min(3));
        }
    }
}

#[test]
fn set_model() {
    let srv = Server::start();
    let mut c = srv.client();
    c.cmd(&["CONFIG", "SET", "set-max-intset-entries", "8"]);
    let mut rng = Rng(0x2545F4914F6CDD1D);
    let keys = ["s1", "s2"];
    let mut model: HashMap<&str, HashSet<String>> = HashMap::new();
    let mut converted: HashMap<&str, bool> = HashMap::new();
    for step in 0..4000 {
        let k = keys[rng.below(2) as usize];
        let other = if k == "s1" { "s2" } else { "s1" };
        let v = if rng.below(3) == 0 {
            rng.elem()
        } else {
            rng.range(-12, 12).to_string()
        };
        let is_int = |s: &str| s.parse::<i64>().is_ok_and(|n| n.to_string() == s);
        let m = model.entry(k).or_default();
        let (args, want): (Vec<String>, R) = match rng.below(9) {
            0..=2 => {
                let new = m.insert(v.clone());
                if !is_int(&v) || m.len() > 8 {
                    converted.insert(k, true);
                }
                (vec!["SADD".into(), k.into(), v], R::Int(new as i64))
            }
            3 => {
                let had = m.remove(&v);
                (vec!["SREM".into(), k.into(), v], R::Int(had as i64))
            }
            4 => {
                let want = R::Int(m.contains(&v) as i64);
                (vec!["SISMEMBER".into(), k.into(), v], want)
            }
            5 => {
                let r = c.cmd(&["SPOP", k]);
                match r {
                    R::Nil => assert!(m.is_empty(), "step {step}"),
                    other => assert!(m.remove(&other.text()), "step {step}: spop {other:?}"),
                }
                (vec!["SCARD".into(), k.into()], R::Int(m.len() as i64))
            }
            6 => {
                let n = rng.range(-4, 4);
                let r = c.cmd(&["SRANDMEMBER", k, &n.to_string()]).arr();
                let want_len = if n < 0 {
                    n.unsigned_abs() as usize
                } else {
                    (n as usize).min(m.len())
                };
                assert_eq!(
                    r.len(),
                    if m.is_empty() { 0 } else { want_len },
                    "step {step}"
                );
                let got: HashSet<String> = r.iter().map(|x| x.text()).collect();
                assert!(got.is_subset(m), "step {step}");
                if n > 0 {
                    assert_eq!(got.len(), r.len(), "step {step}: distinct");
                }
                (vec!["SCARD".into(), k.into()], R::Int(m.len() as i64))
            }
            7 => {
                let a = model.get(k).cloned().unwrap_or_default();
                let b = model.get(other).cloned().unwrap_or_default();
                let mut inter: Vec<String> = a.intersection(&b).cloned().collect();
                let mut uni: Vec<String> = a.union(&b).cloned().collect();
                let mut diff: Vec<String> = a.difference(&b).cloned().collect();
                inter.sort();
                uni.sort();
                diff.sort();
                assert_eq!(
                    sorted_texts(&c.cmd(&["SINTER", k, other])),
                    inter,
                    "step {step}"
                );
                assert_eq!(
                    sorted_texts(&c.cmd(&["SUNION", k, other])),
                    uni,
                    "step {step}"
                );
                assert_eq!(
                    sorted_texts(&c.cmd(&["SDIFF", k, other])),
                    diff,
                    "step {step}"
                );
                assert_eq!(
                    c.cmd(&["SINTERCARD", "2", k, other]),
                    R::Int(inter.len() as i64)
                );
                let m = model.entry(k).or_default();
                (vec!["SCARD".into(), k.into()], R::Int(m.len() as i64))
            }
            _ => {
                let had = m.remove(&v);
                if had {
                    let d = model.entry(other).or_default();
                    d.insert(v.clone());
                    if !is_int(&v) || d.len() > 8 {
                        converted.insert(other, true);
                    }
                }
                (
                    vec!["SMOVE".into(), k.into(), other.into(), v],
                    R::Int(had as i64),
                )
            }
        };
        let a: Vec<&str> = args.iter().map(|s| s.as_str()).collect();
        assert_eq!(c.cmd(&a), want, "step {step}: {args:?}");
        for key in keys {
            let m = model.entry(key).or_default();
            if m.is_empty() {
                converted.insert(key, false);
                assert_eq!(c.cmd(&["EXISTS", key]), R::Int(0), "step {step}");
            } else {
                let enc = if converted.get(key).copied().unwrap_or(false) {
                    "hashtable"
                } else {
                    "intset"
                };
                assert_eq!(
                    c.cmd(&["OBJECT", "ENCODING", key]),
                    R::bulk(enc),
                    "step {step} {key}"
                );
            }
        }
        if step % 250 == 0 {
            let m = model.entry(k).or_default();
            let mut want: Vec<String> = m.iter().cloned().collect();
            want.sort();
            assert_eq!(sorted_texts(&c.cmd(&["SMEMBERS", k])), want);
            let mut cursor = "0".to_string();
            let mut seen = HashSet::new();
            loop {
                let r = c.cmd(&["SSCAN", k, &cursor, "COUNT", "3"]).arr();
                cursor = r[0].text();
                seen.extend(r[1].arr().iter().map(|x| x.text()));
                if cursor == "0" {
                    break;
                }
            }
            assert_eq!(&seen, m, "step {step}: SSCAN");
        }
    }
}

#[test]
fn key_of_another_type_keeps_clients_blocked() {
    let srv = Server::start();
    let mut ctl = srv.client();
    let mut c = srv.client();
    c.send(&["BLPOP", "k", "0"]);
    ctl.wait_blocked(1);
    ctl.cmd(&["SET", "k", "v"]);
    ctl.cmd(&["PING"]);
    ctl.wait_blocked(1);
    ctl.cmd(&["DEL", "k"]);
    ctl.cmd(&["RPUSH", "k", "x"]);
    assert_eq!(c.read(), pair("k", "x"));
    ctl.wait_blocked(0);
}
