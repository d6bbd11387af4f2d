//! Persistence against the real Redis tools: redis-check-rdb accepts our
//! dumps, redis-server loads them with the same DEBUG DIGEST, we load
//! Redis's dumps, DUMP/RESTORE payloads cross both ways, BGSAVE snapshots
//! the fork-time state, a killed child leaves the old dump intact, and
//! redis-check-aof accepts our AOF directory. Fails loudly when a tool is
//! missing.

mod common;

use common::{free_port, require_tool, wait_until, Conn, TempDir};
use std::io::Write;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

fn tool(name: &str) -> String {
    require_tool(name).display().to_string()
}

/// A directory several servers of one test share, removed afterwards.
fn temp_dir(tag: &str) -> TempDir {
    TempDir::new(&format!("persist-{tag}"))
}

/// A server of the shared harness (tests/common: a port of its own, its
/// log printed when the test fails, killed on drop) working in `dir`.
struct Srv(common::Server);

impl Srv {
    fn start(redis: bool, dir: &Path, extra: &[&str]) -> Srv {
        let d = dir.display().to_string();
        let mut args = vec!["--dir", d.as_str()];
        args.extend_from_slice(extra);
        Srv(if redis {
            common::RedisServer::start(&args)
        } else {
            common::Server::start(&args)
        })
    }

    fn ferrodis(dir: &Path, extra: &[&str]) -> Srv {
        Srv::start(false, dir, extra)
    }

    fn redis(dir: &Path, extra: &[&str]) -> Srv {
        tool("redis-server");
        Srv::start(true, dir, extra)
    }

    fn conn(&self) -> Conn {
        Conn::connect_with_timeout(self.0.port, Duration::from_secs(30)).expect("connect")
    }

    fn q(&self, args: &[&str]) -> String {
        cmd(&mut self.conn(), args)
    }

    fn log_text(&self) -> String {
        self.0.log()
    }

    fn info_field(&self, name: &str) -> String {
        let info = self.q(&["INFO", "all"]);
        info.lines()
            .find_map(|l| l.strip_prefix(&format!("{name}:")))
            .unwrap_or("")
            .trim()
            .to_string()
    }

    fn wait_bgsave_done(&self) {
        let done = wait_until(Duration::from_secs(60), || {
            self.info_field("rdb_bgsave_in_progress") == "0"
                && self.info_field("aof_rewrite_in_progress") != "1"
        });
        assert!(done, "background save never ended");
    }
}

/// Sends a command, returns the reply as text: `+OK`, `:1`, `-ERR..`,
/// bulk strings as their content (lossy), `(nil)`, arrays joined by '\n'.
fn cmd(c: &mut Conn, args: &[&str]) -> String {
    let raw: Vec<&[u8]> = args.iter().map(|a| a.as_bytes()).collect();
    String::from_utf8_lossy(&cmd_raw(c, &raw)).into_owned()
}

fn cmd_raw(c: &mut Conn, args: &[&[u8]]) -> Vec<u8> {
    c.send(args);
    flatten(common::parse(&c.read_reply()))
}

/// The text view of a reply described above.
fn flatten(v: common::Value) -> Vec<u8> {
    use common::Value as V;
    match v {
        V::Simple(t) => format!("+{t}").into_bytes(),
        V::Error(t) => format!("-{t}").into_bytes(),
        V::Int(n) => format!(":{n}").into_bytes(),
        V::Bulk(b) => b,
        V::Double(t) => t.into_bytes(),
        V::Bool(b) => format!(":{}", u8::from(b)).into_bytes(),
        V::Nil | V::NilArray => b"(nil)".to_vec(),
        V::Array(items) => items
            .into_iter()
            .map(flatten)
            .collect::<Vec<_>>()
            .join(&b'\n'),
        V::Map(kv) => kv
            .into_iter()
            .flat_map(|(k, v)| [flatten(k), flatten(v)])
            .collect::<Vec<_>>()
            .join(&b'\n'),
    }
}

fn check_rdb(path: &Path) {
    let out = Command::new(tool("redis-check-rdb"))
        .arg(path)
        .output()
        .unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && text.contains("RDB looks OK"),
        "redis-check-rdb refused {}:\n{text}",
        path.display()
    );
}

/// Strings over several dbs, with expiries, integers and big values.
fn fill_strings(s: &Srv) {
    let mut c = s.conn();
    for db in [0, 3, 9] {
        cmd(&mut c, &["SELECT", &db.to_string()]);
        for i in 0..200 {
            let k = format!("key:{db}:{i}");
            let v = match i % 5 {
                0 => i.to_string(),
                1 => format!("-{}", i as i64 * 1_000_000_007),
                2 => "x".repeat(i * 13),
                3 => "abcdefgh".repeat(i + 3),
                _ => format!("v{i}"),
            };
            cmd(&mut c, &["SET", &k, &v]);
            if i % 7 == 0 {
                cmd(&mut c, &["PEXPIRE", &k, &(1_000_000 + i).to_string()]);
            }
        }
    }
    cmd(&mut c, &["SELECT", "0"]);
    cmd(&mut c, &["SET", "huge", &"0123456789".repeat(100_000)]);
    cmd(&mut c, &["SET", "empty", ""]);
}

#[test]
fn ferrodis_dump_is_valid_and_loads_in_redis() {
    for compression in ["yes", "no"] {
        let dir = temp_dir("w");
        let f = Srv::ferrodis(&dir, &["--rdbcompression", compression]);
        fill_strings(&f);
        let digest = f.q(&["DEBUG", "DIGEST"]);
        assert_eq!(f.q(&["SAVE"]), "+OK");
        check_rdb(&dir.join("dump.rdb"));
        drop(f);
        let r = Srv::redis(&dir, &[]);
        assert_eq!(
            r.q(&["DEBUG", "DIGEST"]),
            digest,
            "compression {compression}"
        );
        assert_eq!(r.q(&["GET", "huge"]).len(), 1_000_000);
        assert_eq!(r.q(&["GET", "key:0:1"]), "-1000000007");
        // And back: ferrodis loads what Redis saves from the same data.
        assert_eq!(r.q(&["SAVE"]), "+OK");
        drop(r);
        let f = Srv::ferrodis(&dir, &[]);
        assert_eq!(f.q(&["DEBUG", "DIGEST"]), digest);
        assert!(f.log_text().contains("DB loaded from disk"));
        // DEBUG RELOAD keeps the data.
        assert_eq!(f.q(&["DEBUG", "RELOAD"]), "+OK");
        assert_eq!(f.q(&["DEBUG", "DIGEST"]), digest);
    }
}

#[test]
fn ferrodis_loads_redis_dump_with_collections() {
    let dir = temp_dir("r");
    let r = Srv::redis(&dir, &[]);
    fill_strings(&r);
    let mut c = r.conn();
    for args in [
        &["RPUSH", "l", "a", "b", "1", "2", "-3"][..],
        &["SADD", "si", "1", "2", "300000", "-5"],
        &["SADD", "ss", "a", "b", "c"],
        &["HSET", "h", "f", "v", "n", "12"],
        &["ZADD", "z", "1", "a", "2.5", "b", "-inf", "c", "1e100", "d"],
    ] {
        cmd(&mut c, args);
    }
    cmd(&mut c, &["EVAL", "for i=1,600 do redis.call('rpush','bl',string.rep('y',i)) redis.call('hset','bh','f'..i,string.rep('v',i)) redis.call('zadd','bz',i/3,'m'..i) redis.call('sadd','bs','m'..i) redis.call('sadd','bi',i) end", "0"]);
    cmd(&mut c, &["DEBUG", "SET-ACTIVE-EXPIRE", "0"]);
    cmd(&mut c, &["SET", "gone", "v", "PX", "1"]);
    // Set after `gone`, so expired after it: once it reads as gone (a lazy
    // delete of that key alone), `gone` is expired but still stored.
    cmd(&mut c, &["SET", "probe", "v", "PX", "1"]);
    assert!(wait_until(Duration::from_secs(10), || cmd(
        &mut c,
        &["EXISTS", "probe"]
    ) == ":0"));
    assert_eq!(r.q(&["SAVE"]), "+OK");
    cmd(&mut c, &["DEL", "gone"]);
    let digest = r.q(&["DEBUG", "DIGEST"]);
    drop(r);
    let f = Srv::ferrodis(&dir, &[]);
    assert_eq!(f.q(&["DEBUG", "DIGEST"]), digest);
    assert_eq!(f.q(&["EXISTS", "gone"]), ":0");
    assert!(f.log_text().contains("keys expired: 1"));
    // Our own dump of the same data is accepted by Redis too.
    assert_eq!(f.q(&["SAVE"]), "+OK");
    check_rdb(&dir.join("dump.rdb"));
    drop(f);
    let r = Srv::redis(&dir, &[]);
    assert_eq!(r.q(&["DEBUG", "DIGEST"]), digest);
}

#[test]
fn dump_restore_both_ways() {
    let dir = temp_dir("d");
    let r = Srv::redis(&dir, &[]);
    let f = Srv::ferrodis(&dir, &["--dbfilename", "f.rdb"]);
    fill_strings(&r);
    let mut rc = r.conn();
    cmd(&mut rc, &["RPUSH", "l", "a", "b", "1"]);
    cmd(&mut rc, &["HSET", "h", "f", "v"]);
    cmd(&mut rc, &["ZADD", "z", "1.5", "a"]);
    cmd(&mut rc, &["SADD", "s", "1", "x"]);
    let mut fc = f.conn();
    let keys = cmd(&mut rc, &["KEYS", "*"]);
    for k in keys.lines() {
        let p = cmd_raw(&mut rc, &[b"DUMP", k.as_bytes()]);
        let ttl = cmd(&mut rc, &["PTTL", k])
            .trim_start_matches(':')
            .parse::<i64>()
            .unwrap()
            .max(0);
        let ttl = ttl.to_string();
        let ok = cmd_raw(&mut fc, &[b"RESTORE", k.as_bytes(), ttl.as_bytes(), &p]);
        assert_eq!(ok, b"+OK", "ferrodis RESTORE of {k}");
        let q = cmd_raw(&mut fc, &[b"DUMP", k.as_bytes()]);
        let nk = format!("back:{k}");
        let ok = cmd_raw(&mut rc, &[b"RESTORE", nk.as_bytes(), ttl.as_bytes(), &q]);
        assert_eq!(ok, b"+OK", "Redis RESTORE of ferrodis's DUMP of {k}");
        let a = cmd(&mut rc, &["DEBUG", "DIGEST-VALUE", k, &nk]);
        let b = cmd(&mut fc, &["DEBUG", "DIGEST-VALUE", k]);
        let (a1, a2) = a.split_once('\n').unwrap();
        assert_eq!(a1, a2, "{k}");
        assert_eq!(a1, b, "{k}");
    }
}

/// Writes during a BGSAVE do not reach the snapshot: it holds exactly the
/// fork-time state.
#[test]
fn bgsave_snapshot_is_fork_time_state() {
    let dir = temp_dir("b");
    let f = Srv::ferrodis(&dir, &[]);
    let mut c = f.conn();
    assert_eq!(
        cmd(&mut c, &["DEBUG", "POPULATE", "20000", "key", "100"]),
        "+OK"
    );
    let before = cmd(&mut c, &["DEBUG", "DIGEST"]);
    // 20000 keys at 50us each: the child runs for about a second.
    assert_eq!(
        cmd(&mut c, &["CONFIG", "SET", "rdb-key-save-delay", "50"]),
        "+OK"
    );
    assert_eq!(cmd(&mut c, &["BGSAVE"]), "+Background saving started");
    assert_eq!(
        cmd(&mut c, &["BGSAVE"]),
        "-ERR Background save already in progress"
    );
    assert_eq!(f.info_field("rdb_bgsave_in_progress"), "1");
    let mut writes = 0;
    while f.info_field("rdb_bgsave_in_progress") == "1" {
        for i in 0..200 {
            cmd(
                &mut c,
                &[
                    "SET",
                    &format!("key:{}", (writes * 7 + i) % 20000),
                    "changed",
                ],
            );
            cmd(&mut c, &["SET", &format!("new:{writes}:{i}"), "x"]);
        }
        writes += 1;
    }
    assert!(writes > 2, "the save ended too fast to test anything");
    let after = cmd(&mut c, &["DEBUG", "DIGEST"]);
    assert_ne!(before, after);
    assert_eq!(f.info_field("rdb_last_bgsave_status"), "ok");
    let changes: u64 = f.info_field("rdb_changes_since_last_save").parse().unwrap();
    assert_eq!(changes, writes * 400);
    let log = f.log_text();
    assert!(log.contains("Background saving started by pid"));
    assert!(log.contains(":C ") && log.contains("DB saved on disk"));
    assert!(log.contains("Fork CoW for RDB: current"));
    assert!(log.contains("Background saving terminated with success"));
    assert_eq!(f.info_field("total_forks"), "1");
    drop(c);
    drop(f);
    check_rdb(&dir.join("dump.rdb"));
    let r = Srv::redis(&dir, &[]);
    assert_eq!(r.q(&["DEBUG", "DIGEST"]), before);
}

/// A saving child reports its progress once a second (Redis's
/// sendChildInfo): INFO shows the keys it processed out of the total and
/// its copy-on-write size while it runs, zeros before and after; the same
/// on real Redis.
#[test]
fn bgsave_child_reports_progress() {
    for redis in [false, true] {
        let dir = temp_dir(if redis { "pr" } else { "pf" });
        let s = if redis {
            Srv::redis(&dir, &[])
        } else {
            Srv::ferrodis(&dir, &[])
        };
        let mut c = s.conn();
        assert_eq!(
            cmd(&mut c, &["DEBUG", "POPULATE", "10000", "key", "500"]),
            "+OK"
        );
        assert_eq!(s.info_field("current_save_keys_total"), "0");
        // 10000 keys at 300us each: the child runs for three seconds or more.
        cmd(&mut c, &["CONFIG", "SET", "rdb-key-save-delay", "300"]);
        assert_eq!(cmd(&mut c, &["BGSAVE"]), "+Background saving started");
        assert_eq!(s.info_field("current_save_keys_total"), "10000");
        // Pages the child shares with us get copied as we write.
        for i in 0..64 {
            cmd(
                &mut c,
                &["SETRANGE", &format!("key:{i}"), "0", &"B".repeat(500)],
            );
        }
        let reported = wait_until(Duration::from_secs(30), || {
            let keys: u64 = s
                .info_field("current_save_keys_processed")
                .parse()
                .unwrap_or(0);
            let cow: u64 = s.info_field("current_cow_size").parse().unwrap_or(0);
            keys > 0 && cow > 0 || s.info_field("rdb_bgsave_in_progress") == "0"
        });
        assert!(reported, "redis={redis}: no progress reported");
        assert_eq!(s.info_field("rdb_bgsave_in_progress"), "1", "redis={redis}");
        let perc: f64 = s.info_field("current_fork_perc").parse().unwrap_or(0.0);
        assert!(perc > 0.0 && perc <= 100.0, "redis={redis}: {perc}");
        cmd(&mut c, &["CONFIG", "SET", "rdb-key-save-delay", "0"]);
        s.wait_bgsave_done();
        assert_eq!(
            s.info_field("current_save_keys_processed"),
            "0",
            "redis={redis}"
        );
        assert_eq!(s.info_field("current_cow_size"), "0", "redis={redis}");
    }
}

/// kill -9 of the child during BGSAVE leaves the previous dump intact.
#[test]
fn killed_child_leaves_previous_dump() {
    let dir = temp_dir("k");
    let f = Srv::ferrodis(&dir, &[]);
    f.q(&["DEBUG", "POPULATE", "1000"]);
    assert_eq!(f.q(&["SAVE"]), "+OK");
    let old = std::fs::read(dir.join("dump.rdb")).unwrap();
    f.q(&["DEBUG", "POPULATE", "5000", "other"]);
    f.q(&["CONFIG", "SET", "rdb-key-save-delay", "1000"]);
    assert_eq!(f.q(&["BGSAVE"]), "+Background saving started");
    let log = f.log_text();
    let pid: i32 = log
        .lines()
        .find_map(|l| l.split("Background saving started by pid ").nth(1))
        .and_then(|p| p.trim().parse().ok())
        .expect("pid in the log");
    // The child is writing (slowly: rdb-key-save-delay) when it is killed.
    let temp = dir.join(format!("temp-{pid}.rdb"));
    assert!(wait_until(Duration::from_secs(10), || temp.exists()));
    unsafe { libc::kill(pid, libc::SIGKILL) };
    f.wait_bgsave_done();
    assert_eq!(f.info_field("rdb_last_bgsave_status"), "err");
    assert!(f
        .log_text()
        .contains("Background saving terminated by signal 9"));
    assert!(!dir.join(format!("temp-{pid}.rdb")).exists());
    assert_eq!(std::fs::read(dir.join("dump.rdb")).unwrap(), old);
    // MISCONF only with save points; a successful save clears the error.
    f.q(&["CONFIG", "SET", "save", "3600 1"]);
    assert!(f.q(&["SET", "a", "b"]).starts_with("-MISCONF"));
    // PING too: that is how Sentinel sees the master is unwell.
    assert!(f.q(&["PING"]).starts_with("-MISCONF"));
    assert_eq!(f.q(&["GET", "a"]), "(nil)");
    f.q(&["CONFIG", "SET", "rdb-key-save-delay", "0"]);
    assert_eq!(f.q(&["BGSAVE"]), "+Background saving started");
    f.wait_bgsave_done();
    assert_eq!(f.q(&["SET", "a", "b"]), "+OK");
    assert_eq!(f.q(&["PING"]), "+PONG");
}

#[test]
fn corrupt_dump_refuses_to_start() {
    let dir = temp_dir("c");
    let f = Srv::ferrodis(&dir, &[]);
    f.q(&["DEBUG", "POPULATE", "100"]);
    assert_eq!(f.q(&["SAVE"]), "+OK");
    drop(f);
    let path = dir.join("dump.rdb");
    let mut b = std::fs::read(&path).unwrap();
    let n = b.len();
    b[n / 2] ^= 0x55;
    std::fs::write(&path, &b).unwrap();
    let log = dir.join("bad.log");
    let st = Command::new(env!("CARGO_BIN_EXE_ferrodis-server"))
        .args([
            "--port",
            &free_port().to_string(),
            "--dir",
            &dir.display().to_string(),
        ])
        .args(["--logfile", &log.display().to_string()])
        .status()
        .unwrap();
    assert_eq!(st.code(), Some(1));
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(
        text.contains("Terminating server after rdb file reading failure")
            || text.contains("Wrong RDB checksum"),
        "{text}"
    );
    // Truncated.
    std::fs::write(&path, &b[..n / 3]).unwrap();
    let st = Command::new(env!("CARGO_BIN_EXE_ferrodis-server"))
        .args([
            "--port",
            &free_port().to_string(),
            "--dir",
            &dir.display().to_string(),
        ])
        .args(["--logfile", &log.display().to_string()])
        .status()
        .unwrap();
    assert_eq!(st.code(), Some(1));
}

#[test]
fn save_points_and_lastsave() {
    let dir = temp_dir("p");
    let f = Srv::ferrodis(&dir, &["--save", "1", "2"]);
    let t0: i64 = f.q(&["LASTSAVE"]).trim_start_matches(':').parse().unwrap();
    f.q(&["SET", "a", "1"]);
    f.q(&["SET", "b", "2"]);
    let saved = wait_until(Duration::from_secs(10), || {
        dir.join("dump.rdb").exists() && f.info_field("rdb_changes_since_last_save") == "0"
    });
    assert!(saved, "save point never fired");
    f.wait_bgsave_done();
    let t1: i64 = f.q(&["LASTSAVE"]).trim_start_matches(':').parse().unwrap();
    assert!(t1 >= t0);
    assert!(f.log_text().contains("2 changes in 1 seconds. Saving..."));
    // FLUSHALL with save points writes the empty dataset at once.
    assert_eq!(f.q(&["FLUSHALL"]), "+OK");
    assert_eq!(f.info_field("rdb_changes_since_last_save"), "0");
    drop(f);
    let f = Srv::ferrodis(&dir, &[]);
    assert_eq!(f.q(&["DBSIZE"]), ":0");
}

fn check_aof(dir: &Path) {
    let m = dir.join("appendonlydir").join("appendonly.aof.manifest");
    let out = Command::new(tool("redis-check-aof"))
        .arg(&m)
        .output()
        .unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && text.contains("All AOF files and manifest are valid"),
        "redis-check-aof refused {}:\n{text}",
        m.display()
    );
}

/// The AOF directory passes redis-check-aof before and after a rewrite
/// (with and without the RDB preamble), and both ferrodis and Redis load it
/// back to the same dataset.
#[test]
fn aof_is_valid_and_loads_everywhere() {
    for preamble in ["yes", "no"] {
        let dir = temp_dir("a");
        let opts = [
            "--appendonly",
            "yes",
            "--aof-use-rdb-preamble",
            preamble,
            "--appendfsync",
            "always",
        ];
        let f = Srv::ferrodis(&dir, &opts);
        fill_strings(&f);
        check_aof(&dir);
        assert_eq!(
            f.q(&["BGREWRITEAOF"]),
            "+Background append only file rewriting started"
        );
        f.q(&["SET", "during", "rewrite"]);
        f.wait_bgsave_done();
        f.q(&["SET", "after", "rewrite"]);
        f.q(&["SELECT", "5"]);
        let digest = f.q(&["DEBUG", "DIGEST"]);
        assert_eq!(f.info_field("aof_rewrites"), "1");
        assert_eq!(f.info_field("aof_last_bgrewrite_status"), "ok");
        check_aof(&dir);
        let manifest =
            std::fs::read_to_string(dir.join("appendonlydir/appendonly.aof.manifest")).unwrap();
        let ext = if preamble == "yes" { "rdb" } else { "aof" };
        assert!(
            manifest.starts_with(&format!("file appendonly.aof.2.base.{ext} seq 2 type b\n")),
            "{manifest}"
        );
        assert!(!manifest.contains("type h"), "{manifest}");
        drop(f);
        let f = Srv::ferrodis(&dir, &opts);
        assert_eq!(f.q(&["DEBUG", "DIGEST"]), digest);
        drop(f);
        let r = Srv::redis(&dir, &opts);
        assert_eq!(r.q(&["DEBUG", "DIGEST"]), digest);
    }
}

/// CONFIG SET appendonly yes at runtime starts a rewrite that produces the
/// first base; a truncated tail is cut when aof-load-truncated is on.
#[test]
fn aof_enabled_at_runtime_and_truncated_tail() {
    let dir = temp_dir("t");
    let f = Srv::ferrodis(&dir, &[]);
    f.q(&["DEBUG", "POPULATE", "2000"]);
    assert_eq!(f.q(&["CONFIG", "SET", "appendonly", "yes"]), "+OK");
    f.q(&["SET", "x", "1"]);
    f.wait_bgsave_done();
    f.q(&["SET", "y", "2"]);
    let digest = f.q(&["DEBUG", "DIGEST"]);
    assert_eq!(f.info_field("aof_enabled"), "1");
    check_aof(&dir);
    drop(f);
    let incr = dir.join("appendonlydir/appendonly.aof.1.incr.aof");
    let mut file = std::fs::OpenOptions::new()
        .append(true)
        .open(&incr)
        .unwrap();
    file.write_all(b"*3\r\n$3\r\nSET\r\n$1\r\nz\r\n$3\r\nab")
        .unwrap();
    drop(file);
    let f = Srv::ferrodis(&dir, &["--appendonly", "yes"]);
    assert_eq!(f.q(&["DEBUG", "DIGEST"]), digest);
    assert!(f
        .log_text()
        .contains("loaded anyway because aof-load-truncated is enabled"));
    drop(f);
    check_aof(&dir);
}

/// kill -9 of the child during BGREWRITEAOF: the manifest and the files it
/// names are untouched, the temp base is removed, and the AOF still loads
/// (with the writes made during the failed rewrite).
#[test]
fn killed_aof_rewrite_leaves_previous_aof_intact() {
    let dir = temp_dir("ak");
    let opts = [
        "--appendonly",
        "yes",
        "--aof-use-rdb-preamble",
        "yes",
        "--appendfsync",
        "always",
    ];
    let f = Srv::ferrodis(&dir, &opts);
    // Real writes (DEBUG POPULATE is not propagated to the AOF, as in Redis).
    fill_strings(&f);
    let manifest_path = dir.join("appendonlydir/appendonly.aof.manifest");
    let manifest = std::fs::read_to_string(&manifest_path).unwrap();
    let base = dir.join("appendonlydir/appendonly.aof.1.base.rdb");
    let base_bytes = std::fs::read(&base).unwrap();
    // ~600 keys at 20 ms each: the child lives ~12 s, long enough to be
    // killed while writing however slowly the test gets to it.
    f.q(&["CONFIG", "SET", "rdb-key-save-delay", "20000"]);
    assert_eq!(
        f.q(&["BGREWRITEAOF"]),
        "+Background append only file rewriting started"
    );
    let pid: i32 = f
        .log_text()
        .lines()
        .find_map(|l| {
            l.split("Background append only file rewriting started by pid ")
                .nth(1)
        })
        .and_then(|p| p.trim().parse().ok())
        .expect("pid in the log");
    f.q(&["SET", "during", "the-rewrite"]);
    // The child is writing (slowly: rdb-key-save-delay) when it is killed.
    let started = wait_until(Duration::from_secs(10), || {
        dir.join(format!("appendonlydir/temp-rewriteaof-bg-{pid}.aof"))
            .exists()
            || dir.join(format!("temp-rewriteaof-bg-{pid}.aof")).exists()
    });
    assert!(started, "the rewrite child never started writing");
    unsafe { libc::kill(pid, libc::SIGKILL) };
    f.wait_bgsave_done();
    assert_eq!(f.info_field("aof_last_bgrewrite_status"), "err");
    // As Redis 7.0: the rewrite opened a new incr file (recorded in the
    // manifest before the fork); the base and every earlier file stay.
    let after = std::fs::read_to_string(&manifest_path).unwrap();
    for line in manifest.lines() {
        assert!(after.contains(line), "manifest lost '{line}': {after}");
    }
    assert_eq!(
        std::fs::read(&base).unwrap(),
        base_bytes,
        "the base must be untouched"
    );
    assert!(
        !dir.join(format!("appendonlydir/temp-rewriteaof-bg-{pid}.aof"))
            .exists()
            && !dir.join(format!("temp-rewriteaof-bg-{pid}.aof")).exists()
    );
    f.q(&["CONFIG", "SET", "rdb-key-save-delay", "0"]);
    let digest = f.q(&["DEBUG", "DIGEST"]);
    check_aof(&dir);
    drop(f);
    let f = Srv::ferrodis(&dir, &opts);
    assert_eq!(f.q(&["DEBUG", "DIGEST"]), digest);
    assert_eq!(f.q(&["GET", "during"]), "the-rewrite");
}

/// A failed foreground SAVE (the target is a directory) answers an error
/// but leaves rdb_last_bgsave_status alone: writes and PING still work
/// (no MISCONF), as Redis's rdbSave; compared with redis-server.
#[test]
fn failed_foreground_save_is_not_misconf() {
    let mut seen = Vec::new();
    for (i, redis) in [false, true].into_iter().enumerate() {
        let dir = temp_dir(&format!("fgfail{i}"));
        let s = if redis {
            Srv::redis(&dir, &["--save", "3600 1"])
        } else {
            Srv::ferrodis(&dir, &["--save", "3600 1"])
        };
        s.q(&["SET", "k", "v"]);
        std::fs::create_dir_all(dir.join("dump.rdb")).unwrap();
        let save = s.q(&["SAVE"]);
        seen.push((
            save,
            s.info_field("rdb_last_bgsave_status"),
            s.q(&["PING"]),
            s.q(&["SET", "k2", "v"]),
        ));
    }
    assert_eq!(seen[0], seen[1]);
    assert_eq!(seen[0].2, "+PONG");
}
