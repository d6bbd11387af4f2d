//! ACL beyond single replies (the grammar and errors are in
//! tests/diff/acl.txt): effects on other connections, ACL LOG contents,
//! ACL files and `user` lines across restarts, and a permissions matrix
//! over every command ferrodis has, each compared with real Redis 7.0.15.

mod common;
mod scenario;

use common::*;
use scenario::check;
use std::time::Duration;

#[test]
fn deleting_a_user_disconnects_its_clients() {
    check(
        "deluser",
        &[],
        "0 ACL SETUSER alice on >pw ~* +@all\n\
         1 AUTH alice pw\n\
         2 AUTH alice pw\n\
         1 PING\n\
         0 ACL SETUSER alice -get\n\
         1 GET x\n\
         0 ACL DELUSER alice\n\
         1 PING\n\
         2 PING\n\
         # A client deleting its own user gets its reply, then is closed.\n\
         3 ACL SETUSER bob on >pw ~* +@all\n\
         3 AUTH bob pw\n\
         3 ACL DELUSER bob\n\
         3 PING\n",
    );
}

#[test]
fn revoked_channels_disconnect_subscribers() {
    check(
        "pubsub-revoke",
        &[],
        "0 ACL SETUSER psuser on >pw ~* +@all &foo &bar\n\
         1 AUTH psuser pw\n\
         1 SUBSCRIBE foo\n\
         2 AUTH psuser pw\n\
         2 PSUBSCRIBE bar\n\
         3 AUTH psuser pw\n\
         3 SUBSCRIBE bar\n\
         5 AUTH psuser pw\n\
         5 SSUBSCRIBE foo\n\
         # Still allowed: nobody is disconnected.\n\
         0 ACL SETUSER psuser &baz\n\
         1 PING\n\
         2 PING\n\
         # foo revoked: only the foo subscribers go (shard channels too).\n\
         0 ACL SETUSER psuser resetchannels &bar\n\
         1 PING\n\
         2 PING\n\
         3 PING\n\
         5 PING\n\
         0 PUBLISH bar hi\n\
         2 <\n\
         3 <\n\
         # Unsubscribed from foo already: SUBSCRIBE is refused, PUBLISH too.\n\
         4 AUTH psuser pw\n\
         4 SUBSCRIBE foo\n\
         4 PUBLISH foo x\n\
         4 PUBLISH bar x\n",
    );
}

/// ACL LOG entries with Redis's fields (times and client details aside).
fn log_entries(c: &mut Conn) -> Vec<Vec<(String, String)>> {
    parse(&c.cmd(&["ACL", "LOG"]))
        .array()
        .iter()
        .map(|e| {
            let a = e.array();
            a.chunks(2)
                .map(|kv| {
                    let k = kv[0].text();
                    let v = match &kv[1] {
                        Value::Int(n) => n.to_string(),
                        other => other.text(),
                    };
                    (k, v)
                })
                .collect()
        })
        .collect()
}

#[test]
fn acl_log_entries_match_redis() {
    let redis = RedisServer::start(&[]);
    let ours = Server::start(&[]);
    let mut logs = Vec::new();
    for port in [redis.port, ours.port] {
        let mut admin = Conn::connect(port);
        let mut c = Conn::connect(port);
        admin.cmd(&[
            "ACL", "SETUSER", "lu", "on", ">pw", "~k*", "&ch", "+get", "+set", "+multi", "+exec",
            "+publish",
        ]);
        c.cmd(&["CLIENT", "SETNAME", "logged"]);
        c.cmd(&["AUTH", "lu", "pw"]);
        c.cmd(&["GET", "other"]);
        c.cmd(&["GET", "other"]);
        c.cmd(&["DEL", "k1"]);
        c.cmd(&["PUBLISH", "nope", "x"]);
        c.cmd(&["MULTI"]);
        c.cmd(&["GET", "zz"]);
        c.cmd(&["DISCARD"]);
        c.cmd(&["AUTH", "lu", "wrong"]);
        c.cmd(&["auth", "nosuchuser", "x"]);
        // Permissions changed between queueing and EXEC.
        c.cmd(&["MULTI"]);
        c.cmd(&["SET", "k1", "v"]);
        admin.cmd(&["ACL", "SETUSER", "lu", "-set"]);
        let exec = c.cmd(&["EXEC"]);
        logs.push((log_entries(&mut admin), exec));
        let raw = parse(&admin.cmd(&["ACL", "LOG", "1"]));
        let entry = raw.array()[0].array();
        let age: f64 = entry[11].text().parse().expect("age-seconds is a number");
        assert!((0.0..10.0).contains(&age));
        let info = entry[13].text();
        assert!(
            info.starts_with("id=") && info.contains(" name=logged ") && info.contains(" user=lu ")
        );
        assert_eq!(admin.cmd(&["ACL", "LOG", "RESET"]), b"+OK\r\n");
        assert_eq!(admin.cmd(&["ACL", "LOG"]), b"*0\r\n");
    }
    let strip = |l: &Vec<Vec<(String, String)>>| -> Vec<Vec<(String, String)>> {
        l.iter()
            .map(|e| {
                e.iter()
                    .filter(|(k, _)| k != "age-seconds" && k != "client-info")
                    .cloned()
                    .collect()
            })
            .collect()
    };
    assert_eq!(strip(&logs[1].0), strip(&logs[0].0));
    assert_eq!(logs[1].1, logs[0].1);
    assert!(!logs[0].0.is_empty());
}

#[test]
fn acllog_max_len_trims_the_log() {
    let s = Server::start(&["--acllog-max-len", "3"]);
    let mut c = s.conn();
    for i in 0..6 {
        c.cmd(&["AUTH", &format!("u{i}"), "x"]);
    }
    assert_eq!(log_entries(&mut c).len(), 3);
    c.cmd(&["CONFIG", "SET", "acllog-max-len", "1"]);
    c.cmd(&["AUTH", "z", "x"]);
    assert_eq!(log_entries(&mut c).len(), 1);
}

/// Runs the binary expecting it to exit at startup; returns its output.
fn failed_start(bin: &str, args: &[&str]) -> String {
    let dir = TempDir::new("aclfail");
    let out = std::process::Command::new(bin)
        .args(args)
        .args(["--port", &free_port().to_string(), "--dir"])
        .arg(&dir.path)
        .output()
        .expect("run server");
    assert!(!out.status.success(), "{bin} started with {args:?}");
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[test]
fn aclfile_load_save_and_restart() {
    let dir = TempDir::new("aclfile");
    let aclfile = dir.join("users.acl");
    let path = aclfile.to_str().expect("utf-8 path");
    std::fs::write(
        &aclfile,
        "user default on nopass ~* &* +@all\nuser alice on #5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8 ~a:* resetchannels -@all +get\n",
    )
    .expect("write aclfile");
    let s = Server::start(&["--aclfile", path]);
    let mut c = s.conn();
    assert_eq!(c.cmd(&["AUTH", "alice", "password"]), b"+OK\r\n");
    assert_eq!(c.cmd(&["GET", "a:1"]), b"$-1\r\n");
    assert!(c.cmd_str(&["GET", "b:1"]).starts_with("-NOPERM"));
    let mut admin = s.conn();
    admin.cmd(&["ACL", "SETUSER", "bob", "on", ">bobpw", "~*", "+@read"]);
    assert_eq!(admin.cmd(&["ACL", "SAVE"]), b"+OK\r\n");
    let saved = std::fs::read_to_string(&aclfile).expect("read saved file");
    assert!(saved.contains("user bob on #"), "{saved}");
    // A malformed file is refused whole, with line numbers, and nothing
    // changes; alice stays connected.
    std::fs::write(
        &aclfile,
        "user default on nopass ~* &* +@all\nuser carol on >x +get\nuser dave on +nosuchcmd\nbogus line\n",
    )
    .expect("write bad file");
    let err = admin.cmd_str(&["ACL", "LOAD"]);
    assert!(
        err.contains(":3: Error in applying operation '+nosuchcmd'"),
        "{err}"
    );
    assert!(err.contains(":4 should start with user keyword"), "{err}");
    assert!(
        err.trim_end()
            .ends_with("no change to the previously active ACL rules was performed"),
        "{err}"
    );
    assert_eq!(admin.cmd(&["ACL", "GETUSER", "carol"]), b"$-1\r\n");
    assert_eq!(c.cmd(&["GET", "a:1"]), b"$-1\r\n");
    // A good file replaces every user; clients of non-default users go.
    std::fs::write(&aclfile, saved.as_bytes()).expect("restore file");
    assert_eq!(admin.cmd(&["ACL", "LOAD"]), b"+OK\r\n");
    assert!(c.try_cmd(&["PING"]).is_err() || c.is_closed());
    let users = admin.cmd_str(&["ACL", "USERS"]);
    assert!(users.contains("bob") && users.contains("alice"));
    drop(s);
    // A restart reads the same users back.
    let s = Server::start(&["--aclfile", path]);
    let mut c = s.conn();
    assert_eq!(c.cmd(&["AUTH", "bob", "bobpw"]), b"+OK\r\n");
    assert!(c.cmd_str(&["SET", "x", "1"]).starts_with("-NOPERM"));
    drop(s);
    // A malformed file stops the server at startup, as Redis.
    std::fs::write(&aclfile, "user x on +nosuch\n").expect("write");
    let out = failed_start(ferrodis_bin(), &["--aclfile", path]);
    assert!(
        out.contains("Aborting Redis startup because of ACL errors"),
        "{out}"
    );
}

#[test]
fn acl_load_errors_match_redis() {
    let dir = TempDir::new("aclerr");
    let cases = [
        "user default on nopass ~* &* +@all\nuser a on +nosuch -alsonot\n",
        "user a on\nuser a off\n",
        "notuser x\n",
        "user a on ~* allkeys ~y\n",
        "user a on >x #bad\n",
        "user a on (+get ~x) (+nosuch)\n",
        "user\n",
        "user b\0ad on\n",
    ];
    let redis_file = dir.join("r.acl");
    let ours_file = dir.join("f.acl");
    let (rp, fp) = (redis_file.to_str().unwrap(), ours_file.to_str().unwrap());
    std::fs::write(&redis_file, "").unwrap();
    std::fs::write(&ours_file, "").unwrap();
    let redis = RedisServer::start(&["--aclfile", rp]);
    let ours = Server::start(&["--aclfile", fp]);
    let (mut rc, mut fc) = (redis.conn(), ours.conn());
    for case in cases {
        std::fs::write(&redis_file, case).unwrap();
        std::fs::write(&ours_file, case).unwrap();
        let r = String::from_utf8_lossy(&rc.cmd(&["ACL", "LOAD"])).replace(rp, "FILE");
        let f = String::from_utf8_lossy(&fc.cmd(&["ACL", "LOAD"])).replace(fp, "FILE");
        assert_eq!(f, r, "ACL LOAD of {case:?}");
    }
}

#[test]
fn user_lines_in_config_and_rewrite() {
    let dir = TempDir::new("userconf");
    let conf = dir.join("redis.conf");
    std::fs::write(
        &conf,
        "# users\nuser default on nopass ~* &* +@all\nuser worker on >secret ~jobs:* +@list +@connection\nrequirepass ignoredbyuserline\n",
    )
    .unwrap();
    let cpath = conf.to_str().unwrap();
    let s = Server::start(&[cpath]);
    let mut c = s.conn();
    // requirepass applies first, then the default user line resets it.
    assert_eq!(c.cmd(&["PING"]), b"+PONG\r\n");
    assert_eq!(c.cmd(&["AUTH", "worker", "secret"]), b"+OK\r\n");
    assert_eq!(c.cmd(&["LPUSH", "jobs:1", "a"]), b":1\r\n");
    assert!(c.cmd_str(&["LPUSH", "other", "a"]).starts_with("-NOPERM"));
    let mut admin = s.conn();
    admin.cmd(&["ACL", "SETUSER", "late", "on", ">pw2", "~*", "+@read"]);
    admin.cmd(&["ACL", "DELUSER", "worker"]);
    assert_eq!(admin.cmd(&["CONFIG", "REWRITE"]), b"+OK\r\n");
    let text = std::fs::read_to_string(&conf).unwrap();
    assert!(text.contains("user late on #"), "{text}");
    assert!(!text.contains("user worker"), "{text}");
    assert!(text.contains("user default on nopass"), "{text}");
    drop(s);
    // (The rewritten `dir` names the old server's temp dir, gone now.)
    let kept: Vec<&str> = text.lines().filter(|l| !l.starts_with("dir ")).collect();
    std::fs::write(&conf, kept.join("\n")).unwrap();
    let s = Server::start(&[cpath]);
    let mut c = s.conn();
    assert_eq!(c.cmd(&["AUTH", "late", "pw2"]), b"+OK\r\n");
    assert!(c
        .cmd_str(&["AUTH", "worker", "secret"])
        .starts_with("-WRONGPASS"));
    drop(s);
    // Bad user lines are fatal config errors, worded as Redis words them.
    for bad in [
        "user a on nosuchrule\n",
        "user a on\nuser a off\n",
        "user a on (+get\n",
    ] {
        std::fs::write(&conf, bad).unwrap();
        let theirs = failed_start("redis-server", &[cpath]);
        let ours = failed_start(ferrodis_bin(), &[cpath]);
        let tail = |s: &str| {
            s.lines()
                .skip_while(|l| !l.contains("FATAL"))
                .collect::<Vec<_>>()
                .join("\n")
        };
        assert_eq!(tail(&ours), tail(&theirs), "config {bad:?}");
    }
    // Users in redis.conf and an aclfile together: refused.
    std::fs::write(
        &conf,
        format!("user a on\naclfile {}\n", dir.join("x.acl").display()),
    )
    .unwrap();
    std::fs::write(dir.join("x.acl"), "").unwrap();
    let out = failed_start(ferrodis_bin(), &[cpath]);
    assert!(out.contains("but not both"), "{out}");
}

#[test]
fn requirepass_is_the_default_users_password() {
    check(
        "requirepass",
        &["--requirepass", "s3cret"],
        "0 PING\n\
         0 AUTH wrong\n\
         0 AUTH default wrong\n\
         0 AUTH s3cret\n\
         0 ACL WHOAMI\n\
         0 ACL GETUSER default\n\
         0 CONFIG SET requirepass other\n\
         1 AUTH s3cret\n\
         1 AUTH other\n\
         0 CONFIG SET requirepass \"\"\n\
         2 PING\n\
         2 AUTH x\n\
         0 ACL SETUSER default off\n\
         3 PING\n\
         3 HELLO 3 AUTH default x\n\
         0 ACL SETUSER default on\n\
         [nd] 4 HELLO 2 AUTH default x SETNAME n\n\
         4 CLIENT GETNAME\n",
    );
}

/// A user allowed exactly one ACL category, and one denied only it, for
/// every command and subcommand ferrodis has: ACL DRYRUN must agree with
/// real Redis for all of them, and running a command as the denied user
/// must get -NOPERM.
#[test]
fn permissions_matrix_over_every_command() {
    let redis = RedisServer::start(&[]);
    let ours = Server::start(&[]);
    let (mut rc, mut fc) = (redis.conn(), ours.conn());
    let cats: Vec<String> = parse(&fc.cmd(&["ACL", "CAT"]))
        .array()
        .iter()
        .map(Value::text)
        .collect();
    assert_eq!(cats.len(), 21);
    // Every command and subcommand we have, with its arity.
    let names: Vec<String> = parse(&fc.cmd(&["COMMAND", "LIST"]))
        .array()
        .iter()
        .map(Value::text)
        .collect();
    // (arity, categories, container, no_auth: always allowed)
    let info = |c: &mut Conn, name: &str| -> (i64, Vec<String>, bool, bool) {
        let v = parse(&c.cmd(&["COMMAND", "INFO", name]));
        let e = v.array()[0].array().to_vec();
        let cats = e[6].array().iter().map(|x| x.text()).collect();
        let container = !e[9].array().is_empty();
        let no_auth = e[2].array().iter().any(|f| f.text() == "no_auth");
        (e[1].int(), cats, container, no_auth)
    };
    let mut checked = 0;
    for name in &names {
        let (arity, my_cats, container, no_auth) = info(&mut fc, name);
        let (_, their_cats, _, _) = info(&mut rc, name);
        if container {
            // Only its subcommands run.
            continue;
        }
        assert_eq!(my_cats, their_cats, "ACL categories of {name}");
        // A valid-arity argv: the name (split), then dummy arguments.
        let mut argv: Vec<String> = name.split('|').map(str::to_string).collect();
        let want = arity.unsigned_abs() as usize;
        while argv.len() < want {
            argv.push("0".into());
        }
        for cat in &my_cats {
            let cat = cat.trim_start_matches('@');
            for (user, rules) in [
                ("only", format!("+@{cat}")),
                ("all_but", format!("-@{cat}")),
            ] {
                let base = if user == "only" { "-@all" } else { "+@all" };
                for c in [&mut rc, &mut fc] {
                    c.cmd(&[
                        "ACL", "SETUSER", user, "reset", "on", "nopass", "~*", "&*", base, &rules,
                    ]);
                }
                let mut dry = vec!["ACL", "DRYRUN", user];
                dry.extend(argv.iter().map(String::as_str));
                let (r, f) = (rc.cmd(&dry), fc.cmd(&dry));
                assert_eq!(f, r, "ACL DRYRUN {user} ({base} {rules}) {argv:?}");
                let expect_ok = user == "only" || no_auth;
                assert_eq!(f == b"+OK\r\n", expect_ok, "{user} {rules} {argv:?}");
                checked += 1;
            }
            // The denied user really gets -NOPERM from processCommand
            // (refused before running: safe for every command).
            let mut denied = ours.conn();
            denied.cmd(&[
                "ACL",
                "SETUSER",
                "all_but",
                "reset",
                "on",
                "nopass",
                "~*",
                "&*",
                "+@all",
                &format!("-@{cat}"),
            ]);
            assert_eq!(denied.cmd(&["AUTH", "all_but", "x"]), b"+OK\r\n");
            let a: Vec<&str> = argv.iter().map(String::as_str).collect();
            let r = denied.cmd_str(&a);
            if !no_auth {
                assert!(
                    r.contains(&format!(
                        "NOPERM this user has no permissions to run the '{name}' command"
                    )),
                    "{name} as a user without @{cat}: {r}"
                );
            }
        }
    }
    assert!(checked > 300, "only {checked} checks");
}

#[test]
fn key_permissions_follow_key_specs() {
    check(
        "keyperms",
        &[],
        "0 ACL SETUSER rw on nopass +@all %R~src:* %W~dst:* ~both:*\n\
         0 RPUSH src:1 a b\n\
         1 AUTH rw x\n\
         1 LMOVE src:1 dst:1 LEFT RIGHT\n\
         1 LMOVE dst:1 src:1 LEFT RIGHT\n\
         1 COPY src:1 dst:2\n\
         1 COPY dst:2 src:2\n\
         1 SORT src:1 STORE dst:3\n\
         1 SORT_RO src:1\n\
         1 SET dst:4 v\n\
         1 SET dst:4 v GET\n\
         1 GETDEL src:1\n\
         1 GETDEL both:1\n\
         1 OBJECT ENCODING src:1\n\
         1 EXISTS src:1 dst:1\n\
         1 TOUCH src:1\n\
         1 BITFIELD src:1 GET u8 0\n\
         1 BITFIELD src:1 SET u8 0 1\n\
         1 ZUNIONSTORE dst:5 1 src:1\n\
         1 ZUNIONSTORE src:5 1 dst:1\n\
         1 PFMERGE dst:6 src:1\n\
         0 ACL LOG RESET\n",
    );
}

#[test]
fn replica_authenticates_with_a_restricted_user() {
    // The permissions Redis documents for a replication user.
    let rules = ["on", ">replpw", "+psync", "+replconf", "+ping"];
    let masters = [
        ("ferrodis", Server::start(&[])),
        ("redis", RedisServer::start(&[])),
    ];
    for (mname, master) in &masters {
        let mut mc = master.conn();
        let mut setuser = vec!["ACL", "SETUSER", "repl"];
        setuser.extend(rules);
        assert_eq!(mc.cmd(&setuser), b"+OK\r\n");
        // The default user is closed: only `repl` can connect.
        assert_eq!(
            mc.cmd(&["ACL", "SETUSER", "default", "resetpass", ">adminpw"]),
            b"+OK\r\n"
        );
        assert_eq!(mc.cmd(&["AUTH", "adminpw"]), b"+OK\r\n");
        mc.cmd(&["SET", "k", "before"]);
        let mp = master.port.to_string();
        let replica_args = [
            "--replicaof",
            "127.0.0.1",
            &mp,
            "--masteruser",
            "repl",
            "--masterauth",
            "replpw",
        ];
        let replicas = [
            ("ferrodis", Server::start(&replica_args)),
            ("redis", RedisServer::start(&replica_args)),
        ];
        for (rname, r) in &replicas {
            let mut rc = r.conn();
            assert!(
                wait_until(Duration::from_secs(20), || info_field(
                    &mut rc,
                    "replication",
                    "master_link_status"
                )
                .as_deref()
                    == Some("up")),
                "{rname} replica of {mname} master never linked up"
            );
        }
        mc.cmd(&["SET", "k", "after"]);
        mc.cmd(&["RPUSH", "l", "a", "b"]);
        let digest = mc.cmd(&["DEBUG", "DIGEST"]);
        for (rname, r) in &replicas {
            let mut rc = r.conn();
            assert!(
                wait_until(Duration::from_secs(10), || rc.cmd(&["DEBUG", "DIGEST"])
                    == digest),
                "{rname} replica of {mname} master diverged"
            );
        }
        // The replication user can do nothing else.
        let mut u = master.conn();
        assert_eq!(u.cmd(&["AUTH", "repl", "replpw"]), b"+OK\r\n");
        assert!(u.cmd_str(&["GET", "k"]).starts_with("-NOPERM"));
    }
}

#[test]
fn unmatched_selector_parenthesis_in_an_acl_file() {
    // Real Redis 7.0.15 crashes on this file (a NULL dereference after the
    // error); ferrodis reports it like the other errors.
    let dir = TempDir::new("aclparen");
    let f = dir.join("u.acl");
    std::fs::write(&f, "").unwrap();
    let s = Server::start(&["--aclfile", f.to_str().unwrap()]);
    std::fs::write(&f, "user a on (+get ~x\n").unwrap();
    let mut c = s.conn();
    let e = c.cmd_str(&["ACL", "LOAD"]);
    assert!(
        e.contains(":1: Unmatched parenthesis in selector definition."),
        "{e}"
    );
    assert_eq!(c.cmd(&["PING"]), b"+PONG\r\n");
}

#[test]
fn scripts_run_with_the_callers_permissions() {
    check(
        "acl-scripts",
        &[],
        "0 ACL SETUSER scripter on nopass ~k* +eval +get +acl|log\n\
         1 AUTH scripter x\n\
         1 EVAL \"return redis.call('get', KEYS[1])\" 1 k1\n\
         1 EVAL \"return redis.call('set', KEYS[1], 'v')\" 1 k1\n\
         1 EVAL \"return redis.pcall('set', 'k2', 'v')\" 0\n\
         1 EVAL \"return redis.call('get', 'other')\" 0\n\
         1 EVAL \"return redis.acl_check_cmd('set', 'k1', 'v')\" 0\n\
         1 EVAL \"return redis.acl_check_cmd('get', 'k1')\" 0\n\
         1 EVAL \"return redis.acl_check_cmd('get', 'zz')\" 0\n\
         [nd] 0 ACL LOG\n\
         0 ACL LOG RESET\n",
    );
    // ACL LOG entries from scripts have the lua context.
    let s = Server::start(&[]);
    let mut admin = s.conn();
    admin.cmd(&[
        "ACL", "SETUSER", "scripter", "on", "nopass", "~k*", "+eval", "+get",
    ]);
    let mut c = s.conn();
    c.cmd(&["AUTH", "scripter", "x"]);
    c.cmd(&["EVAL", "return redis.call('set', KEYS[1], 'v')", "1", "k1"]);
    let log = log_entries(&mut admin);
    let ctx: Vec<&str> = log[0]
        .iter()
        .filter(|(k, _)| k == "context" || k == "object")
        .map(|(_, v)| v.as_str())
        .collect();
    assert_eq!(ctx, ["lua", "set"]);
}
