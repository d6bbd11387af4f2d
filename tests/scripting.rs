//! Scripting scenarios (issue 10) that need more than one connection or
//! more than one server: a busy script and SCRIPT KILL / FUNCTION KILL,
//! replication of scripts and functions with real Redis 7.0 both ways, and
//! function libraries surviving a restart through the RDB and the AOF.

mod common;

use common::{bulk_body, info_field, wait_until, Conn, RedisServer, Server, TempDir};
use std::time::Duration;

const T: Duration = Duration::from_secs(30);

fn s(r: &[u8]) -> String {
    String::from_utf8_lossy(r).into_owned()
}

const LIB: &str = "#!lua name=scenlib
redis.register_function('incrby2', function(keys, args) redis.call('incr', keys[1]) return redis.call('incr', keys[1]) end)
redis.register_function{function_name='spin', callback=function() local i = 0 while true do i = i + 1 end end, flags={'no-writes'}}";

#[test]
fn busy_script_gets_busy_replies_and_script_kill_ends_it() {
    let srv = Server::start(&["--busy-reply-threshold", "100"]);
    let mut a = srv.conn();
    let mut b = srv.conn();
    a.send(&[b"EVAL", b"local i = 0 while true do i = i + 1 end", b"0"]);
    // Past the threshold the loop answers others with -BUSY.
    assert!(
        wait_until(T, || s(&b.cmd(&["PING"])).starts_with("-BUSY")),
        "no -BUSY while a script runs"
    );
    assert_eq!(
        s(&b.cmd(&["GET", "x"])),
        "-BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.\r\n"
    );
    // A new connection is accepted and served meanwhile.
    let mut c = srv.conn();
    assert!(s(&c.cmd(&["PING"])).starts_with("-BUSY"));
    assert_eq!(
        s(&c.cmd(&["FUNCTION", "KILL"])),
        "-BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.\r\n"
    );
    assert_eq!(s(&c.cmd(&["SCRIPT", "KILL"])), "+OK\r\n");
    let r = s(&a.read_reply());
    assert!(
        r.starts_with("-ERR Script killed by user with SCRIPT KILL..."),
        "{r}"
    );
    assert_eq!(s(&b.cmd(&["PING"])), "+PONG\r\n");
    assert_eq!(
        s(&b.cmd(&["SCRIPT", "KILL"])),
        "-NOTBUSY No scripts in execution right now.\r\n"
    );
    // The killed script's client goes on working.
    assert_eq!(s(&a.cmd(&["PING"])), "+PONG\r\n");
}

#[test]
fn script_that_wrote_is_unkillable_and_functions_use_function_kill() {
    let srv = Server::start(&["--busy-reply-threshold", "100"]);
    let mut a = srv.conn();
    let mut b = srv.conn();
    assert_eq!(s(&b.cmd(&["FUNCTION", "LOAD", LIB])), "$7\r\nscenlib\r\n");
    a.send(&[b"FCALL", b"spin", b"0"]);
    assert!(wait_until(T, || s(&b.cmd(&["PING"])).starts_with("-BUSY")));
    assert_eq!(
        s(&b.cmd(&["PING"])),
        "-BUSY Redis is busy running a script. You can only call FUNCTION KILL or SHUTDOWN NOSAVE.\r\n"
    );
    let stats = s(&b.cmd(&["FUNCTION", "STATS"]));
    assert!(stats.contains("spin") && stats.contains("FCALL"), "{stats}");
    assert!(s(&b.cmd(&["SCRIPT", "KILL"])).starts_with("-BUSY"));
    assert_eq!(s(&b.cmd(&["FUNCTION", "KILL"])), "+OK\r\n");
    assert!(s(&a.read_reply()).starts_with("-ERR Script killed by user"));

    // A script that already wrote cannot be killed; it runs to its end
    // (5-6 s: SCRIPT KILL lands inside it on a slow machine too).
    a.send(&[
        b"EVAL",
        b"redis.call('set', 'w', 1) local t = redis.call('time') local s = tonumber(t[1]) while true do local n = redis.call('time') if tonumber(n[1]) >= s + 6 then break end end return 'done'",
        b"0",
    ]);
    assert!(wait_until(T, || s(&b.cmd(&["PING"])).starts_with("-BUSY")));
    assert!(s(&b.cmd(&["SCRIPT", "KILL"]))
        .starts_with("-UNKILLABLE Sorry the script already executed write commands"));
    assert_eq!(s(&a.read_reply()), "$4\r\ndone\r\n");
    assert_eq!(s(&b.cmd(&["GET", "w"])), "$1\r\n1\r\n");
}

fn digest(c: &mut Conn) -> String {
    s(&c.cmd(&["DEBUG", "DIGEST"]))
}

/// FUNCTION LIST WITHCODE with its lines sorted: Redis lists a library's
/// functions in a dict's (randomly seeded) order.
fn function_list(c: &mut Conn) -> String {
    let r = s(&c.cmd(&["FUNCTION", "LIST", "WITHCODE"]));
    let mut lines: Vec<&str> = r.split("\r\n").collect();
    lines.sort();
    lines.join("\n")
}

/// Writes through scripts and functions on `m`, then checks `r` (its
/// replica) ends with the same data and libraries.
fn script_writes_replicate(m: &Server, r: &Server) {
    let mut mc = m.conn();
    let mut rc = r.conn();
    assert_eq!(
        s(&rc.cmd(&["REPLICAOF", "127.0.0.1", &m.port.to_string()])),
        "+OK\r\n"
    );
    assert!(wait_until(T, || info_field(
        &mut rc,
        "replication",
        "master_link_status"
    )
    .as_deref()
        == Some("up")));
    assert_eq!(s(&mc.cmd(&["FUNCTION", "LOAD", LIB])), "$7\r\nscenlib\r\n");
    mc.cmd(&["EVAL", "redis.call('set', KEYS[1], ARGV[1]) redis.call('lpush', 'l', ARGV[1]) return redis.call('incr', 'n')", "1", "k", "v"]);
    mc.cmd(&[
        "EVAL",
        "redis.call('select', 3) redis.call('hset', 'h', 'f', math.random()) return 1",
        "0",
    ]);
    mc.cmd(&["EVAL", "redis.call('set', 'only_aof', 1) redis.set_repl(redis.REPL_NONE) redis.call('set', 'not_replicated', 1) redis.set_repl(redis.REPL_ALL) redis.call('set', 'after', 1)", "0"]);
    mc.cmd(&["FCALL", "incrby2", "1", "fc"]);
    mc.cmd(&[
        "EVAL",
        "#!lua flags=no-writes\nreturn redis.call('get', 'k')",
        "0",
    ]);
    mc.cmd(&["MULTI"]);
    mc.cmd(&["EVAL", "return redis.call('incr', 'n')", "0"]);
    mc.cmd(&["FCALL", "incrby2", "1", "fc"]);
    mc.cmd(&["EXEC"]);
    // The replica's data matches, except what set_repl kept local.
    mc.cmd(&["DEL", "not_replicated"]);
    let ok = wait_until(T, || {
        digest(&mut mc) == digest(&mut rc) && function_list(&mut mc) == function_list(&mut rc)
    });
    assert!(
        ok,
        "replica differs: digest {} vs {}, functions {} vs {}",
        digest(&mut mc),
        digest(&mut rc),
        function_list(&mut mc),
        function_list(&mut rc)
    );
    assert_eq!(s(&rc.cmd(&["GET", "fc"])), "$1\r\n4\r\n");
    // FUNCTION DELETE and FLUSH reach the replica verbatim.
    mc.cmd(&["FUNCTION", "DELETE", "scenlib"]);
    assert!(wait_until(T, || s(&rc.cmd(&["FUNCTION", "LIST"])) == "*0\r\n"));
    // A full sync carries the libraries in the RDB.
    assert_eq!(s(&mc.cmd(&["FUNCTION", "LOAD", LIB])), "$7\r\nscenlib\r\n");
    rc.cmd(&["REPLICAOF", "NO", "ONE"]);
    rc.cmd(&["FUNCTION", "FLUSH"]);
    rc.cmd(&["REPLICAOF", "127.0.0.1", &m.port.to_string()]);
    assert!(wait_until(T, || function_list(&mut mc)
        == function_list(&mut rc)
        && digest(&mut mc) == digest(&mut rc)));
}

#[test]
fn scripts_and_functions_replicate_to_a_real_redis_replica() {
    let m = Server::start(&[]);
    let r = RedisServer::start(&[]);
    script_writes_replicate(&m, &r);
}

#[test]
fn scripts_and_functions_replicate_from_a_real_redis_master() {
    let m = RedisServer::start(&[]);
    let r = Server::start(&[]);
    script_writes_replicate(&m, &r);
}

#[test]
fn script_effects_reach_the_stream_wrapped_in_multi() {
    let m = Server::start(&[]);
    let mut mc = m.conn();
    let mut feed = m.conn();
    feed.send(&[b"SYNC"]);
    // The RDB payload first ($<len>\r\n<payload>), then the stream.
    let line = feed.read_line();
    let len: usize = line
        .trim_start_matches('$')
        .trim()
        .parse()
        .expect("bulk length");
    feed.read_exact_bytes(len);
    mc.cmd(&[
        "EVAL",
        "redis.call('set', 'a', 1) redis.call('set', 'b', 2)",
        "0",
    ]);
    mc.cmd(&["PING"]);
    let mut seen = String::new();
    assert!(wait_until(T, || {
        if let Ok(r) = feed.try_read_reply() {
            seen.push_str(&s(&r));
        }
        seen.contains("EXEC")
    }));
    let multi = seen.find("MULTI").expect("MULTI");
    let set_a = seen.find("$1\r\na").expect("SET a");
    let exec = seen.find("EXEC").expect("EXEC");
    assert!(multi < set_a && set_a < exec, "{seen}");
    assert!(!seen.contains("EVAL"), "{seen}");
}

#[test]
fn functions_survive_restart_through_rdb_and_aof() {
    for aof in [false, true] {
        let dir = TempDir::new("fnpersist");
        let d = dir.path.to_string_lossy().into_owned();
        let mut args = vec!["--dir", d.as_str()];
        if aof {
            args.extend(["--appendonly", "yes"]);
        }
        {
            let srv = Server::start(&args);
            let mut c = srv.conn();
            assert_eq!(s(&c.cmd(&["FUNCTION", "LOAD", LIB])), "$7\r\nscenlib\r\n");
            c.cmd(&["FCALL", "incrby2", "1", "p"]);
            if !aof {
                assert_eq!(s(&c.cmd(&["SAVE"])), "+OK\r\n");
            }
            // No save on shutdown: what is on disk is what we wrote.
            let _ = c.try_cmd(&["SHUTDOWN", "NOSAVE"]);
        }
        let srv = Server::start(&args);
        let mut c = srv.conn();
        let list = function_list(&mut c);
        assert!(
            list.contains("scenlib") && list.contains("incrby2"),
            "aof={aof}: {list}"
        );
        assert_eq!(
            s(&c.cmd(&["FCALL", "incrby2", "1", "p"])),
            ":4\r\n",
            "aof={aof}"
        );
        if aof {
            // After a rewrite, the base carries the library.
            c.cmd(&["BGREWRITEAOF"]);
            assert!(wait_until(T, || info_field(
                &mut c,
                "persistence",
                "aof_rewrite_in_progress"
            )
            .as_deref()
                == Some("0")
                && info_field(&mut c, "persistence", "aof_rewrite_scheduled")
                    .as_deref()
                    == Some("0")));
            let _ = c.try_cmd(&["SHUTDOWN", "NOSAVE"]);
            let srv2 = Server::start(&args);
            let mut c2 = srv2.conn();
            assert_eq!(s(&c2.cmd(&["FCALL", "incrby2", "1", "p"])), ":6\r\n");
        }
    }
}

#[test]
fn real_redis_loads_our_rdb_with_functions_and_we_load_its() {
    let dir = TempDir::new("fnrdb");
    let d = dir.path.to_string_lossy().into_owned();
    {
        let f = Server::start(&["--dir", &d]);
        let mut c = f.conn();
        c.cmd(&["FUNCTION", "LOAD", LIB]);
        c.cmd(&["SET", "k", "v"]);
        assert_eq!(s(&c.cmd(&["SAVE"])), "+OK\r\n");
        let _ = c.try_cmd(&["SHUTDOWN", "NOSAVE"]);
    }
    let check = std::process::Command::new(common::require_tool("redis-check-rdb"))
        .arg(dir.join("dump.rdb"))
        .output()
        .expect("redis-check-rdb runs");
    assert!(check.status.success(), "{}", s(&check.stdout));
    {
        let r = RedisServer::start(&["--dir", &d]);
        let mut c = r.conn();
        assert!(function_list(&mut c).contains("incrby2"));
        assert_eq!(s(&c.cmd(&["FCALL", "incrby2", "1", "z"])), ":2\r\n");
        c.cmd(&[
            "FUNCTION",
            "LOAD",
            "#!lua name=fromredis\nredis.register_function('fr', function() return 'redis' end)",
        ]);
        assert_eq!(s(&c.cmd(&["SAVE"])), "+OK\r\n");
        let _ = c.try_cmd(&["SHUTDOWN", "NOSAVE"]);
    }
    let f = Server::start(&["--dir", &d]);
    let mut c = f.conn();
    assert_eq!(s(&c.cmd(&["FCALL", "fr", "0"])), "$5\r\nredis\r\n");
    assert_eq!(s(&c.cmd(&["GET", "z"])), "$1\r\n2\r\n");
    // FUNCTION DUMP payloads are interchangeable.
    let r = RedisServer::start(&[]);
    let mut rc = r.conn();
    let dump = c.cmd(&["FUNCTION", "DUMP"]);
    let payload = bulk_body(&dump).expect("payload").to_vec();
    rc.send(&[b"FUNCTION", b"RESTORE", &payload]);
    assert_eq!(s(&rc.read_reply()), "+OK\r\n");
    assert_eq!(s(&rc.cmd(&["FCALL", "fr", "0"])), "$5\r\nredis\r\n");
    rc.cmd(&["FUNCTION", "DELETE", "fromredis"]);
    let dump = rc.cmd(&["FUNCTION", "DUMP"]);
    let payload = bulk_body(&dump).expect("payload").to_vec();
    c.cmd(&["FUNCTION", "FLUSH"]);
    c.send(&[b"FUNCTION", b"RESTORE", &payload]);
    assert_eq!(s(&c.read_reply()), "+OK\r\n");
    assert_eq!(s(&c.cmd(&["FCALL", "incrby2", "1", "y"])), ":2\r\n");
}

#[test]
fn redis_cli_functions_rdb_holds_the_libraries_and_no_keys() {
    // `redis-cli --functions-rdb` (REPLCONF rdb-filter-only functions): the
    // RDB holds the libraries only, and both servers load it; `--rdb` gets
    // everything. Diskless sync off: a filtered RDB still goes through a
    // socket.
    let f = Server::start(&["--repl-diskless-sync", "no"]);
    let mut c = f.conn();
    c.cmd(&["FUNCTION", "LOAD", LIB]);
    c.cmd(&["SET", "k", "v"]);
    c.cmd(&["SET", "k2", "v"]);
    let dir = TempDir::new("clifnrdb");
    for (flag, keys) in [("--functions-rdb", "0"), ("--rdb", "2")] {
        let path = dir.join("dump.rdb");
        let _ = std::fs::remove_file(&path);
        let out = std::process::Command::new(common::require_tool("redis-cli"))
            .args(["-p", &f.port.to_string(), flag])
            .arg(&path)
            .output()
            .expect("redis-cli runs");
        let text = String::from_utf8_lossy(&out.stderr).into_owned()
            + &String::from_utf8_lossy(&out.stdout);
        assert!(
            text.contains("Transfer finished with success"),
            "{flag}: {text}"
        );
        let d = dir.path.to_string_lossy().into_owned();
        for srv in [
            RedisServer::start(&["--dir", &d]),
            Server::start(&["--dir", &d]),
        ] {
            let mut rc = srv.conn();
            assert_eq!(s(&rc.cmd(&["DBSIZE"])), format!(":{keys}\r\n"), "{flag}");
            assert!(function_list(&mut rc).contains("incrby2"), "{flag}");
        }
    }
    // Unknown filters are refused, as Redis does.
    assert_eq!(
        s(&c.cmd(&["REPLCONF", "rdb-filter-only", "keys"])),
        "-ERR Unsupported rdb-filter-only option: keys\r\n"
    );
}

/// A RESP command line as an AOF holds it.
fn aof_line(args: &[&str]) -> String {
    let mut out = format!("*{}\r\n", args.len());
    for a in args {
        out += &format!("${}\r\n{a}\r\n", a.len());
    }
    out
}

#[test]
fn eval_lines_of_an_aof_run_on_load_even_on_a_read_only_replica() {
    // Redis before 7.0 wrote EVAL/EVALSHA/SCRIPT LOAD into the AOF: loading
    // runs them (as Redis's AOF client, obeyed like a master even on a
    // read-only replica); the script may SELECT. Both servers load the
    // same files to the same data.
    let dir = TempDir::new("aofeval");
    let aofdir = dir.join("appendonlydir");
    std::fs::create_dir_all(&aofdir).expect("mkdir");
    std::fs::write(
        aofdir.join("appendonly.aof.manifest"),
        "file appendonly.aof.1.incr.aof seq 1 type i\n",
    )
    .expect("manifest");
    let body = "redis.call('incr',KEYS[1]); redis.call('select','3'); return redis.call('set',KEYS[1],'in3')";
    let mut aof = aof_line(&["SELECT", "9"]);
    aof += &aof_line(&["EVAL", "redis.call('set',KEYS[1],'100')", "1", "foo"]);
    aof += &aof_line(&["EVAL", "redis.call('incr',KEYS[1])", "1", "foo"]);
    aof += &aof_line(&["SCRIPT", "LOAD", "return redis.call('incr',KEYS[1])"]);
    aof += &aof_line(&[
        "EVALSHA",
        "6f5ade10a69975e903c6d07b10ea44c6382381a5",
        "1",
        "foo",
    ]);
    aof += &aof_line(&["EVAL", body, "1", "bar"]);
    // After the script's SELECT, the AOF's next command is in db 3.
    aof += &aof_line(&["SET", "after", "x"]);
    std::fs::write(aofdir.join("appendonly.aof.1.incr.aof"), aof).expect("aof");
    let d = dir.path.to_string_lossy().into_owned();
    let args = [
        "--dir",
        &d,
        "--appendonly",
        "yes",
        "--replica-read-only",
        "yes",
        "--replicaof",
        "127.0.0.1",
        "0",
    ];
    let mut seen = Vec::new();
    for srv in [RedisServer::start(&args), Server::start(&args)] {
        let mut c = srv.conn();
        let mut got = Vec::new();
        for (db, key) in [
            ("9", "foo"),
            ("9", "bar"),
            ("3", "bar"),
            ("3", "after"),
            ("9", "after"),
        ] {
            c.cmd(&["SELECT", db]);
            got.push(s(&c.cmd(&["GET", key])));
        }
        seen.push(got);
    }
    assert_eq!(
        seen[0][0], "$3\r\n102\r\n",
        "redis loads the AOF as expected"
    );
    assert_eq!(seen[1], seen[0], "ferrodis vs redis");
    assert_eq!(seen[0][2], "$3\r\nin3\r\n", "the script SELECTed db 3");
}

#[test]
fn redis_cli_eval_runs_a_script_file() {
    let srv = Server::start(&[]);
    let dir = TempDir::new("clieval");
    let path = dir.join("s.lua");
    std::fs::write(&path, "return {KEYS[1], KEYS[2], ARGV[1], ARGV[2]}\n").expect("write script");
    let out = std::process::Command::new(common::require_tool("redis-cli"))
        .args(["-p", &srv.port.to_string(), "--eval"])
        .arg(&path)
        .args(["k1", "k2", ",", "a1", "a2"])
        .output()
        .expect("redis-cli runs");
    assert_eq!(s(&out.stdout), "k1\nk2\na1\na2\n");
}

#[test]
fn shutdown_needs_nosave_while_a_script_is_busy() {
    let mut srv = Server::start(&["--busy-reply-threshold", "100"]);
    let mut a = srv.conn();
    let mut b = srv.conn();
    a.send(&[
        b"EVAL",
        b"redis.call('set', 'x', 1) while true do end",
        b"0",
    ]);
    assert!(wait_until(T, || s(&b.cmd(&["PING"])).starts_with("-BUSY")));
    assert!(s(&b.cmd(&["SCRIPT", "KILL"])).starts_with("-UNKILLABLE"));
    assert!(s(&b.cmd(&["SHUTDOWN"])).starts_with("-BUSY"));
    let _ = b.try_cmd(&["SHUTDOWN", "NOSAVE"]);
    assert!(srv.wait_exit(T).is_some(), "the server did not exit");
}

/// One `redis-cli --ldb` (or `--ldb-sync-mode`) session fed from stdin.
fn ldb_session(port: u16, mode: &str, script: &std::path::Path, input: &str) -> String {
    use std::io::Write;
    let mut child = std::process::Command::new(common::require_tool("redis-cli"))
        .args(["-p", &port.to_string(), mode, "--eval"])
        .arg(script)
        .args(["dk", ",", "dv"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("redis-cli runs");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(input.as_bytes())
        .expect("feed the session");
    let out = child.wait_with_output().expect("redis-cli ends");
    s(&out.stdout)
}

#[test]
fn lua_debugger_sessions_match_redis() {
    let f = Server::start(&[]);
    let r = RedisServer::start(&[]);
    let dir = TempDir::new("ldb");
    let path = dir.join("d.lua");
    std::fs::write(
        &path,
        "local a = 1\nlocal b = redis.call('set', KEYS[1], ARGV[1])\nredis.debug('dbg', a, {1,2})\nlocal c = redis.call('get', KEYS[1])\nreturn {a, c}\n",
    )
    .expect("write script");
    let forked = "help\nstep\nprint\nnext\nprint b\nlist\nbreak 5\neval a+1\nredis ping\ntrace\nmaxlen 10\nwhole\ncontinue\n";
    let a = ldb_session(f.port, "--ldb", &path, forked);
    let b = ldb_session(r.port, "--ldb", &path, forked);
    assert!(a.contains("Stopped at 5, stop reason = break point"), "{a}");
    assert_eq!(a, b);
    // A forked session's writes are rolled back.
    assert_eq!(s(&f.conn().cmd(&["EXISTS", "dk"])), ":0\r\n");
    let sync = "step\nnext\nprint\nredis get dk\nabort\n";
    let a = ldb_session(f.port, "--ldb-sync-mode", &path, sync);
    let b = ldb_session(r.port, "--ldb-sync-mode", &path, sync);
    assert!(a.contains("script aborted for user request"), "{a}");
    assert_eq!(a, b);
    // In sync mode the writes stay.
    assert_eq!(s(&f.conn().cmd(&["GET", "dk"])), "$2\r\ndv\r\n");
}
