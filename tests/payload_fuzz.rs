//! Issue 9 item 5: corrupt RESTORE payloads and RDB files, of every type
//! and encoding, never crash the server nor make it allocate without bound.
//!
//! Real payloads (DUMP from ferrodis and from the real redis-server) and a
//! real dump.rdb are mutated (bit flips, byte overwrites, insertions and
//! deletions, truncations) with their CRC64 recomputed, so that the
//! decoders themselves see the damage. The server runs with its address
//! space limited (RLIMIT_AS): a length field believed without checking
//! makes an allocation fail, which aborts the process and fails the test.
//! - RESTORE must answer +OK or -ERR; an accepted value is then read,
//!   modified, re-dumped and restored again by type-specific commands.
//! - A server started on a corrupt RDB file must load it (and then serve
//!   every key) or refuse to start with exit status 1; never a signal, a
//!   panic or a hang.
//!
//! Deterministic: a fixed xorshift seed.

mod common;

use common::*;
use ferrodis::encoding::crc64::crc64;

/// Address space the server may use: plenty for these small data sets.
const AS_LIMIT: u64 = 512 << 20;

/// Mutations per payload / RDB files tried; FUZZ_ROUNDS=n for a longer run.
fn rounds(default: usize) -> usize {
    std::env::var("FUZZ_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn seed(default: u64) -> u64 {
    std::env::var("FUZZ_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
        | 1
}

/// A data set with every type in every encoding Redis 7.0 writes:
/// int/embstr/raw strings (LZF-compressed when long and repetitive), sparse
/// and dense HyperLogLogs, lists of one and of many quicklist nodes (plain
/// and LZF-compressed), listpack and hashtable hashes, intset and hashtable
/// sets (64-bit integers too), listpack and skiplist sorted sets, streams
/// of one and of many listpack nodes (deleted entries, consumer groups with
/// pending entries).
fn fill(c: &mut Conn) -> Vec<String> {
    let long = "abcdefgh".repeat(40);
    let mixed: String = (0..300)
        .map(|i| char::from(b'!' + (i * 7 % 90) as u8))
        .collect();
    let many = |prefix: &str, n: usize| -> Vec<String> {
        (0..n).map(|i| format!("{prefix}{i:08}")).collect()
    };
    let mut cmds: Vec<Vec<String>> = vec![
        vec!["SET".into(), "s_emb".into(), "hello".into()],
        vec!["SET".into(), "s_int".into(), "-123456789".into()],
        vec!["SET".into(), "s_lzf".into(), long.clone()],
        vec!["SET".into(), "s_raw".into(), mixed],
        vec![
            "PFADD".into(),
            "hll_sparse".into(),
            "a".into(),
            "b".into(),
            "c".into(),
        ],
        vec![
            "RPUSH".into(),
            "l_small".into(),
            "a".into(),
            "1".into(),
            "-300".into(),
            long.clone(),
        ],
        vec![
            "HSET".into(),
            "h_small".into(),
            "f".into(),
            "v".into(),
            "n".into(),
            "12".into(),
        ],
        vec![
            "SADD".into(),
            "st_int".into(),
            "1".into(),
            "-2".into(),
            "300".into(),
            "70000".into(),
        ],
        vec![
            "SADD".into(),
            "st_int64".into(),
            "1".into(),
            "9223372036854775807".into(),
        ],
        vec![
            "ZADD".into(),
            "z_small".into(),
            "1".into(),
            "a".into(),
            "-2.5".into(),
            "b".into(),
            "inf".into(),
            "c".into(),
        ],
    ];
    let mut hll = vec!["PFADD".into(), "hll_dense".into()];
    hll.extend(many("e", 3000));
    cmds.push(hll);
    let mut l = vec!["RPUSH".into(), "l_big".into()];
    l.extend(many("element:", 1500));
    cmds.push(l);
    let mut h = vec!["HSET".into(), "h_big".into()];
    for f in many("field:", 200) {
        h.push(f.clone());
        h.push(f);
    }
    cmds.push(h);
    let mut s = vec!["SADD".into(), "st_big".into()];
    s.extend(many("member:", 200));
    cmds.push(s);
    let mut z = vec!["ZADD".into(), "z_big".into()];
    for (i, m) in many("m", 200).into_iter().enumerate() {
        z.push(format!("{}.5", i as i64 - 100));
        z.push(m);
    }
    cmds.push(z);
    for cmd in &cmds {
        let args: Vec<&str> = cmd.iter().map(String::as_str).collect();
        let r = c.cmd(&args);
        assert!(!r.starts_with(b"-"), "{}: {}", cmd[0], escape(&r));
    }
    // A compressed quicklist (list-compress-depth 1).
    assert_eq!(
        c.cmd(&["CONFIG", "SET", "list-compress-depth", "1"]),
        b"+OK\r\n"
    );
    let mut lz = vec!["RPUSH", "l_compressed"];
    let rep: Vec<String> = (0..1500)
        .map(|i| format!("compressible-{:04}", i % 10))
        .collect();
    lz.extend(rep.iter().map(String::as_str));
    c.cmd(&lz);
    let mut keys: Vec<String> = cmds.iter().map(|c| c[1].clone()).collect();
    keys.push("l_compressed".into());
    for (key, n) in [("x_small", 3), ("x_big", 300)] {
        for i in 1..=n {
            let (id, v) = (format!("{i}-{}", i % 3), format!("v{}", i * 37));
            let r = c.cmd(&["XADD", key, &id, "f", &v, "n", &i.to_string()]);
            assert!(!r.starts_with(b"-"), "XADD: {}", escape(&r));
        }
        for cmd in [
            &["XDEL", key, "2-2"][..],
            &["XGROUP", "CREATE", key, "g", "0"],
            &["XGROUP", "CREATECONSUMER", key, "g", "bob"],
            &[
                "XREADGROUP",
                "GROUP",
                "g",
                "alice",
                "COUNT",
                "2",
                "STREAMS",
                key,
                ">",
            ],
        ] {
            assert!(!c.cmd(cmd).starts_with(b"-"), "{cmd:?}");
        }
        keys.push(key.into());
    }
    keys
}

/// Replaces the CRC64 at the end of a DUMP payload or an RDB file with the
/// right one for the (mutated) bytes before it.
fn fix_crc(b: &mut [u8]) {
    if b.len() < 8 {
        return;
    }
    let n = b.len() - 8;
    let crc = crc64(0, &b[..n]);
    b[n..].copy_from_slice(&crc.to_le_bytes());
}

/// One random kind of damage to `b[..body]` (the part before the trailer).
fn mutate(rng: &mut Rng, b: &mut Vec<u8>, trailer: usize) {
    let body = b.len().saturating_sub(trailer);
    if body == 0 {
        return;
    }
    match rng.index(5) {
        0 => {
            for _ in 0..1 + rng.index(3) {
                let i = rng.index(body);
                b[i] ^= 1 << rng.index(8);
            }
        }
        1 => {
            let i = rng.index(body);
            b[i] = rng.next() as u8;
        }
        2 => {
            let i = rng.index(body);
            b.insert(i, rng.next() as u8);
        }
        3 => {
            let i = rng.index(body);
            b.remove(i);
        }
        _ => {
            // Truncation: the body is cut, the trailer kept.
            let cut = rng.index(body);
            let trailer_bytes = b[body..].to_vec();
            b.truncate(cut);
            b.extend_from_slice(&trailer_bytes);
        }
    }
}

/// Reads, modifies, re-dumps and re-restores `key` with commands of its
/// type: every reply must come, whatever it is.
fn exercise(c: &mut Conn, key: &str) {
    let t = c.cmd(&["TYPE", key]);
    let t = String::from_utf8_lossy(&t).trim_end().to_string();
    let by_type: &[&[&str]] = match t.as_str() {
        "+string" => &[
            &["GET", key],
            &["STRLEN", key],
            &["GETRANGE", key, "0", "10"],
            &["PFCOUNT", key],
            &["PFADD", key, "x", "y"],
            &["APPEND", key, "x"],
            &["SETRANGE", key, "3", "yy"],
        ],
        "+list" => &[
            &["LLEN", key],
            &["LRANGE", key, "0", "-1"],
            &["LINDEX", key, "3"],
            &["LPOS", key, "a"],
            &["RPUSH", key, "a"],
            &["LINSERT", key, "BEFORE", "a", "b"],
            &["LREM", key, "0", "a"],
            &["LPOP", key],
            &["LTRIM", key, "1", "-1"],
        ],
        "+hash" => &[
            &["HLEN", key],
            &["HGETALL", key],
            &["HGET", key, "f"],
            &["HRANDFIELD", key, "-5", "WITHVALUES"],
            &["HSCAN", key, "0", "COUNT", "1000"],
            &["HSET", key, "new", "v"],
            &["HINCRBY", key, "n", "1"],
            &["HDEL", key, "f"],
        ],
        "+set" => &[
            &["SCARD", key],
            &["SMEMBERS", key],
            &["SISMEMBER", key, "1"],
            &["SRANDMEMBER", key, "-5"],
            &["SSCAN", key, "0", "COUNT", "1000"],
            &["SADD", key, "x", "5"],
            &["SREM", key, "1"],
            &["SPOP", key],
        ],
        "+zset" => &[
            &["ZCARD", key],
            &["ZRANGE", key, "0", "-1", "WITHSCORES"],
            &["ZRANGEBYSCORE", key, "-inf", "+inf"],
            &["ZRANGEBYLEX", key, "-", "+"],
            &["ZRANK", key, "a"],
            &["ZSCORE", key, "a"],
            &["ZRANDMEMBER", key, "-5", "WITHSCORES"],
            &["ZSCAN", key, "0", "COUNT", "1000"],
            &["ZADD", key, "1", "x"],
            &["ZREM", key, "a"],
            &["ZPOPMIN", key],
        ],
        "+stream" => &[
            &["XLEN", key],
            &["XRANGE", key, "-", "+"],
            &["XREVRANGE", key, "+", "-", "COUNT", "5"],
            &["XINFO", "STREAM", key, "FULL"],
            &["XINFO", "GROUPS", key],
            &["XPENDING", key, "g", "-", "+", "10"],
            &["XREADGROUP", "GROUP", "g", "c", "STREAMS", key, ">"],
            &["XAUTOCLAIM", key, "g", "c", "0", "0"],
            &["XADD", key, "*", "f", "v"],
            &["XDEL", key, "1-1", "3-0"],
            &["XTRIM", key, "MAXLEN", "50"],
        ],
        _ => &[],
    };
    for cmd in by_type {
        let r = c.try_cmd(cmd);
        assert!(r.is_ok(), "no reply to {cmd:?}: {r:?}");
    }
    for cmd in [
        &["DEBUG", "DIGEST-VALUE", key][..],
        &["MEMORY", "USAGE", key],
        &["OBJECT", "ENCODING", key],
    ] {
        assert!(c.try_cmd(cmd).is_ok(), "no reply to {cmd:?}");
    }
    // What the server holds now dumps and restores again.
    let d = c.cmd(&["DUMP", key]);
    if let Some(p) = bulk_body(&d) {
        let p = p.to_vec();
        c.send(&[b"RESTORE", b"roundtrip", b"0", &p, b"REPLACE"]);
        assert_eq!(c.read_reply(), b"+OK\r\n", "a value we dumped must restore");
    }
}

#[test]
fn corrupt_restore_payloads_of_every_type() {
    let mut s = Server::try_start_limited(&[], AS_LIMIT).expect("ferrodis starts");
    let real = RedisServer::start(&[]);
    let mut c = s.conn();
    let mut rc = real.conn();
    let keys = fill(&mut c);
    fill(&mut rc);
    let mut payloads = Vec::new();
    for k in &keys {
        for conn in [&mut c, &mut rc] {
            let d = conn.cmd(&["DUMP", k]);
            let p = bulk_body(&d).unwrap_or_else(|| panic!("DUMP {k}: {}", escape(&d)));
            payloads.push((k.clone(), p.to_vec()));
        }
    }
    let mut rng = Rng(seed(0x9E37_79B9_7F4A_7C15));
    let (mut accepted, mut refused) = (0, 0);
    for (k, p) in &payloads {
        // Intact, it restores, from either server.
        c.send(&[b"RESTORE", b"fuzz", b"0", p, b"REPLACE"]);
        assert_eq!(c.read_reply(), b"+OK\r\n", "intact payload of {k}");
        for round in 0..rounds(60) {
            let mut b = p.clone();
            mutate(&mut rng, &mut b, 10);
            // Most with a right checksum (the decoders see the damage), a
            // few without (the checksum must catch them).
            if round % 10 != 0 {
                fix_crc(&mut b);
            }
            c.send(&[b"RESTORE", b"fuzz", b"0", &b, b"REPLACE"]);
            let r = c.try_read_reply();
            assert!(
                s.try_wait().is_none(),
                "the server died restoring a mutated {k}\n{}",
                s.log()
            );
            let r = r.unwrap_or_else(|e| panic!("no reply restoring a mutated {k}: {e}"));
            if r == b"+OK\r\n" {
                accepted += 1;
                exercise(&mut c, "fuzz");
            } else {
                assert!(r.starts_with(b"-ERR"), "{k}: {}", escape(&r));
                refused += 1;
            }
            assert!(
                s.try_wait().is_none(),
                "the server died using a restored {k}\n{}",
                s.log()
            );
        }
    }
    assert!(
        accepted > 0 && refused > 0,
        "accepted {accepted}, refused {refused}"
    );
    assert_eq!(c.cmd(&["PING"]), b"+PONG\r\n");
    let log = s.log();
    assert!(!log.contains("panicked"), "a command panicked:\n{log}");
}

#[test]
fn corrupt_rdb_files_of_every_type() {
    let src = Server::start(&[]);
    let mut c = src.conn();
    fill(&mut c);
    assert_eq!(c.cmd(&["SAVE"]), b"+OK\r\n");
    let rdb = std::fs::read(src.dir.join("dump.rdb")).expect("dump.rdb");
    let mut rng = Rng(seed(0x2545_F491_4F6C_DD1D));
    let (mut loaded, mut refused) = (0, 0);
    for round in 0..rounds(60) {
        let mut b = rdb.clone();
        if round < 12 {
            // Truncations spread over the whole file.
            b.truncate(rdb.len() * round / 12);
        } else {
            mutate(&mut rng, &mut b, 8);
            fix_crc(&mut b);
        }
        let dir = TempDir::new("rdbfuzz");
        std::fs::write(dir.join("fuzz.rdb"), &b).expect("write rdb");
        let path = dir.path.to_string_lossy().into_owned();
        let args = ["--dir", &path, "--dbfilename", "fuzz.rdb"];
        match Server::try_start_limited(&args, AS_LIMIT) {
            Ok(mut s) => {
                loaded += 1;
                let mut c = s.conn();
                let keys = c.cmd(&["KEYS", "*"]);
                let v = parse(&keys);
                for k in v.array() {
                    exercise(&mut c, &k.text());
                }
                assert!(c.try_cmd(&["DEBUG", "DIGEST"]).is_ok());
                assert!(
                    s.try_wait().is_none(),
                    "died serving a corrupt RDB\n{}",
                    s.log()
                );
                assert!(!s.log().contains("panicked"), "{}", s.log());
            }
            Err(f) => {
                refused += 1;
                let code = f.status.and_then(|st| st.code());
                assert_eq!(
                    code,
                    Some(1),
                    "round {round}: not a clean refusal ({}, {:?})\n{}",
                    f.why,
                    f.status,
                    f.log
                );
                assert!(!f.log.contains("panicked"), "{}", f.log);
            }
        }
    }
    assert!(refused > 0, "loaded {loaded}, refused {refused}");
}
