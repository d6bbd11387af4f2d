use super::parse::memtoull;
use super::*;
use crate::util::splitargs::split_args_str as split_args;
use crate::util::string_match as glob_match;

fn s(v: &[&str]) -> Vec<String> {
    v.iter().map(|x| x.to_string()).collect()
}

fn get1(c: &Config, name: &str) -> String {
    c.get(&[name.as_bytes()])
        .pop()
        .map(|(_, v)| v)
        .unwrap_or_default()
}

fn set(c: &mut Config, pairs: &[(&str, &str)]) -> Result<Vec<&'static str>, String> {
    let p: Vec<(&[u8], &[u8])> = pairs
        .iter()
        .map(|(a, b)| (a.as_bytes(), b.as_bytes()))
        .collect();
    c.set(&p)
}

fn tmp(name: &str) -> std::path::PathBuf {
    std::env::temp_dir().join(format!("ferrodis-config-{}-{name}", std::process::id()))
}

#[test]
fn tokenizer_quotes_and_escapes() {
    assert_eq!(split_args("  a  b\tc ").unwrap(), s(&["a", "b", "c"]));
    assert_eq!(
        split_args(r#"x "a b\n\t\"\\\x41" 'it\'s' """#).unwrap(),
        s(&["x", "a b\n\t\"\\A", "it's", ""])
    );
    assert_eq!(split_args(r#"foo"bar""#).unwrap(), s(&["foobar"]));
    assert!(split_args(r#""abc"#).is_none());
    assert!(split_args(r#""abc"x"#).is_none());
    assert!(split_args("'abc").is_none());
    assert_eq!(split_args("").unwrap(), Vec::<String>::new());
}

#[test]
fn memory_units() {
    assert_eq!(memtoull("10"), Some(10));
    assert_eq!(memtoull("1k"), Some(1000));
    assert_eq!(memtoull("1KB"), Some(1024));
    assert_eq!(memtoull("2m"), Some(2_000_000));
    assert_eq!(memtoull("2mb"), Some(2 * 1024 * 1024));
    assert_eq!(memtoull("1Gb"), Some(1 << 30));
    assert_eq!(memtoull("10b"), Some(10));
    assert_eq!(memtoull("1.5mb"), None);
    assert_eq!(memtoull("-1"), None);
    assert_eq!(memtoull("1kbb"), None);
    let mut c = Config::default();
    c.load_text("maxmemory 100mb\nhash-max-ziplist-value 1k\n")
        .unwrap();
    assert_eq!(c.maxmemory, 100 * 1024 * 1024);
    assert_eq!(c.hash_max_listpack_value, 1000);
}

#[test]
fn defaults_match_redis() {
    let c = Config::default();
    assert_eq!(get1(&c, "save"), "3600 1 300 100 60 10000");
    assert_eq!(get1(&c, "bind"), "* -::*");
    assert_eq!(
        get1(&c, "client-output-buffer-limit"),
        "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60"
    );
    assert_eq!(get1(&c, "maxmemory-policy"), "noeviction");
    assert_eq!(get1(&c, "appendfsync"), "everysec");
    assert_eq!(get1(&c, "proto-max-bulk-len"), "536870912");
    assert_eq!(get1(&c, "unixsocketperm"), "0");
    assert_eq!(get1(&c, "latency-tracking-info-percentiles"), "50 99 99.9");
    assert_eq!(get1(&c, "oom-score-adj-values"), "0 200 800");
    assert_eq!(get1(&c, "io-threads"), "1");
}

#[test]
fn load_last_wins_save_and_bind() {
    let mut c = Config::default();
    c.load_text(
        "# comment\n\nPORT 1\nport 2\nsave 10 1\nsave 20 2\nbind 1.2.3.4 ::1\nslave-read-only no\n",
    )
    .unwrap();
    assert_eq!(c.port, 2);
    assert_eq!(c.save, vec![(10, 1), (20, 2)]);
    assert_eq!(c.bind, s(&["1.2.3.4", "::1"]));
    assert!(!c.replica_read_only);
    c.load_text("save \"\"\n").unwrap();
    assert!(c.save.is_empty());
    c.load_text("save 5 5 6 6\nreplicaof 10.0.0.1 6380\nunixsocketperm 700\n")
        .unwrap();
    assert_eq!(c.save, vec![(5, 5), (6, 6)]);
    assert_eq!(c.replicaof, Some(("10.0.0.1".into(), 6380)));
    assert_eq!(c.unixsocketperm, 0o700);
    c.load_text("hz 1000\nloglevel WARNING\nnotify-keyspace-events KEx\n")
        .unwrap();
    assert_eq!(c.hz, 500);
    assert_eq!(c.loglevel, LogLevel::Warning);
    assert_eq!(
        c.notify_keyspace_events,
        NOTIFY_KEYSPACE | NOTIFY_KEYEVENT | NOTIFY_EXPIRED
    );
}

#[test]
fn ignored_directives_are_stored_and_reported() {
    let mut c = Config::default();
    c.load_text("io-threads 4\ncluster-enabled no\nrename-command FLUSHALL \"\"\nlist-max-ziplist-entries 5\n")
        .unwrap();
    assert_eq!(get1(&c, "io-threads"), "4");
    // cluster-* directives are read by the cluster module: not "ignored".
    assert_eq!(c.ignored_directives_used(), s(&["io-threads"]));
    assert_eq!(get1(&c, "cluster-enabled"), "no");
    assert_eq!(
        c.rename_commands,
        vec![("FLUSHALL".to_string(), String::new())]
    );
}

#[test]
fn error_texts() {
    let mut c = Config::default();
    let e = c.load_text("# c\nfoo bar\n").unwrap_err();
    assert_eq!(
        e.to_string(),
        "\n*** FATAL CONFIG FILE ERROR (Redis 7.0.15) ***\nReading the configuration file, at line 2\n>>> 'foo bar'\nBad directive or wrong number of arguments"
    );
    let reason = |t: &str| {
        let e = Config::default().load_text(t).unwrap_err().0;
        e.rsplit('\n').next().unwrap_or("").to_string()
    };
    assert_eq!(
        reason("port abc"),
        "argument couldn't be parsed into an integer"
    );
    assert_eq!(
        reason("port 70000"),
        "argument must be between 0 and 65535 inclusive"
    );
    assert_eq!(reason("port 1 2"), "wrong number of arguments");
    assert_eq!(reason("daemonize maybe"), "argument must be 'yes' or 'no'");
    assert_eq!(reason("maxmemory 1x"), "argument must be a memory value");
    assert_eq!(
        reason("port \"abc"),
        "Unbalanced quotes in configuration line"
    );
    assert_eq!(reason("save 1"), "Invalid save parameters");
    assert_eq!(reason("replicaof host abc"), "Invalid master port");
    assert_eq!(
        reason("databases 0"),
        "argument must be between 1 and 2147483647 inclusive"
    );
    assert_eq!(
        reason("dbfilename a/b"),
        "dbfilename can't be a path, just a filename"
    );
    assert_eq!(
        reason("loglevel x"),
        "argument(s) must be one of the following: debug, verbose, notice, warning"
    );
    assert_eq!(
        reason("notify-keyspace-events Q"),
        "Invalid event class character. Use 'Ag$lshzxeKEtmdn'."
    );
}

#[test]
fn argv_merging() {
    let conf = tmp("argv.conf");
    std::fs::write(&conf, "port 7000\nsave 1 1\n").unwrap();
    let path = conf.to_string_lossy().into_owned();
    let c = Config::from_args(&s(&[
        &path,
        "--port",
        "7001",
        "--save",
        "--bind",
        "127.0.0.1",
        "::1",
    ]))
    .unwrap();
    assert_eq!(c.port, 7001);
    assert!(c.save.is_empty());
    assert_eq!(c.bind, s(&["127.0.0.1", "::1"]));
    assert_eq!(c.config_file.as_deref(), Some(path.as_str()));
    let c = Config::from_args(&s(&["--port 7002", "--requirepass", "a \"b\""])).unwrap();
    assert_eq!(c.port, 7002);
    assert_eq!(c.requirepass, "a \"b\"");
    assert_eq!(c.config_file, None);
    let e = Config::from_args(&s(&["--port", "1", "--foo", "bar"])).unwrap_err();
    assert!(
        e.0.contains("at line 3\n>>> 'foo \"bar\"'\nBad directive"),
        "{e}"
    );
    let _ = std::fs::remove_file(conf);
}

#[test]
fn include_files() {
    let inc = tmp("inc.conf");
    std::fs::write(&inc, "maxmemory 5mb\nport 1234\n").unwrap();
    let mut c = Config::default();
    c.load_text(&format!(
        "port 1\ninclude {}\nmaxclients 7\n",
        inc.display()
    ))
    .unwrap();
    assert_eq!(c.port, 1234);
    assert_eq!(c.maxmemory, 5 << 20);
    assert_eq!(c.maxclients, 7);
    let _ = std::fs::remove_file(inc);
}

#[test]
fn get_patterns_and_aliases() {
    let c = Config::default();
    let names = |p: &[&str]| {
        let pats: Vec<&[u8]> = p.iter().map(|x| x.as_bytes()).collect();
        let mut v: Vec<String> = c.get(&pats).into_iter().map(|(k, _)| k).collect();
        v.sort();
        v
    };
    assert_eq!(
        names(&["*ziplist*"]),
        s(&[
            "hash-max-ziplist-entries",
            "hash-max-ziplist-value",
            "list-max-ziplist-size",
            "zset-max-ziplist-entries",
            "zset-max-ziplist-value"
        ])
    );
    assert_eq!(names(&["slave*"]).len(), 8);
    assert_eq!(names(&["PORT", "port", "po*"]), s(&["PORT"]));
    assert_eq!(names(&["watchdog*"]), Vec::<String>::new());
    assert_eq!(names(&["watchdog-period"]), s(&["watchdog-period"]));
    assert_eq!(
        names(&["maxmemory-p?licy", "[l]ogfile"]),
        s(&["logfile", "maxmemory-policy"])
    );
    assert!(glob_match(b"a\\*b", b"a*b", true) && !glob_match(b"a\\*b", b"axb", true));
    assert!(glob_match(b"[^x]y", b"ay", false) && !glob_match(b"[^x]y", b"xy", false));
}

#[test]
fn set_is_atomic_and_reports_changes() {
    let mut c = Config::default();
    assert_eq!(
        set(
            &mut c,
            &[("maxmemory", "1mb"), ("timeout", "5"), ("port", "6379")]
        ),
        Ok(vec!["maxmemory", "timeout"])
    );
    assert_eq!(c.maxmemory, 1 << 20);
    let err = set(&mut c, &[("maxmemory", "2mb"), ("port", "abc")]).unwrap_err();
    assert_eq!(err, "ERR CONFIG SET failed (possibly related to argument 'port') - argument couldn't be parsed into an integer");
    assert_eq!(c.maxmemory, 1 << 20);
    set(
        &mut c,
        &[
            ("save", "100 0 50 1"),
            ("client-output-buffer-limit", "replica 1mb 2k 3"),
        ],
    )
    .unwrap();
    assert_eq!(get1(&c, "save"), "100 0 50 1");
    assert_eq!(
        c.client_output_buffer_limit[1],
        ClientOutputBufferLimit {
            hard: 1 << 20,
            soft: 2000,
            soft_seconds: 3
        }
    );
    set(&mut c, &[("hz", "0")]).unwrap();
    assert_eq!(c.hz, 1);
    set(&mut c, &[("SLAVE-READ-ONLY", "No")]).unwrap();
    assert!(!c.replica_read_only);
}

/// DEBUG CONFIG-REWRITE-FORCE-ALL: options at their default are written
/// too, and the file loads back to the same settings.
#[test]
fn rewrite_force_all_writes_defaults() {
    let path = tmp("rewrite-force.conf");
    std::fs::write(&path, "port 7780\n").unwrap();
    let c = Config::from_args(&[path.to_string_lossy().into_owned()]).unwrap();
    c.rewrite(None, true).unwrap();
    let new = std::fs::read_to_string(&path).unwrap();
    for line in [
        "port 7780",
        "maxmemory 0",
        "appendonly no",
        "hz 10",
        "tcp-backlog 511",
    ] {
        assert!(new.lines().any(|l| l == line), "{line} missing:\n{new}");
    }
    let again = Config::from_args(&[path.to_string_lossy().into_owned()]).unwrap();
    assert_eq!(again.get(&[b"*"]), c.get(&[b"*"]));
    let _ = std::fs::remove_file(path);
}

/// dir and appendonly may not change while the data set loads: -LOADING,
/// ahead of other errors; other configs may.
#[test]
fn deny_loading_configs() {
    let mut c = Config::default();
    let pairs = |p: &[(&'static str, &'static str)]| -> Vec<(&'static [u8], &'static [u8])> {
        p.iter()
            .map(|(a, b)| (a.as_bytes(), b.as_bytes()))
            .collect()
    };
    let loading = crate::error::LOADING.to_string();
    // Protected (enable-protected-configs no) is checked first, as Redis.
    assert!(c
        .set_from(&pairs(&[("dir", "/tmp")]), true, true)
        .is_err_and(|e| e.ends_with("can't set protected config")));
    assert_eq!(
        c.set_from(&pairs(&[("appendonly", "yes")]), true, true),
        Err(loading.clone())
    );
    assert_eq!(
        c.set_from(
            &pairs(&[("loglevel", "debug"), ("appendonly", "yes")]),
            true,
            true
        ),
        Err(loading)
    );
    assert_eq!(c.loglevel, LogLevel::Notice);
    assert!(c
        .set_from(&pairs(&[("loglevel", "debug")]), true, true)
        .is_ok());
    assert!(c
        .set_from(&pairs(&[("appendonly", "yes")]), true, false)
        .is_ok());
}

#[test]
fn set_error_messages() {
    let mut c = Config::default();
    let mut e = |p: &[(&str, &str)]| set(&mut c, p).unwrap_err();
    let failed = |n: &str, why: &str| {
        format!("ERR CONFIG SET failed (possibly related to argument '{n}') - {why}")
    };
    assert_eq!(
        e(&[("foo", "bar")]),
        "ERR Unknown option or number of arguments for CONFIG SET - 'foo'"
    );
    assert_eq!(
        e(&[("foo", "1"), ("daemonize", "no")]),
        "ERR Unknown option or number of arguments for CONFIG SET - 'foo'"
    );
    assert_eq!(
        e(&[("daemonize", "no"), ("foo", "1")]),
        failed("daemonize", "can't set immutable config")
    );
    assert_eq!(
        e(&[("dir", "/tmp")]),
        failed("dir", "can't set protected config")
    );
    assert_eq!(
        e(&[("maxmemory", "1"), ("maxmemory", "2")]),
        failed("maxmemory", "duplicate parameter")
    );
    assert_eq!(
        e(&[("maxmemory", "abc")]),
        failed("maxmemory", "argument must be a memory value")
    );
    assert_eq!(
        e(&[("maxclients", "0")]),
        failed(
            "maxclients",
            "argument must be between 1 and 4294967295 inclusive"
        )
    );
    assert_eq!(
        e(&[("timeout", "05")]),
        failed("timeout", "argument couldn't be parsed into an integer")
    );
    assert_eq!(
        e(&[("appendonly", "maybe")]),
        failed("appendonly", "argument must be 'yes' or 'no'")
    );
    assert_eq!(
        e(&[("save", "a b")]),
        failed("save", "Invalid save parameters")
    );
    assert_eq!(
        e(&[("client-output-buffer-limit", "master 1 2 3")]),
        failed(
            "client-output-buffer-limit",
            "Invalid client class specified in buffer limit configuration."
        )
    );
    assert_eq!(
        e(&[("client-output-buffer-limit", "normal 1 2")]),
        failed(
            "client-output-buffer-limit",
            "Wrong number of arguments in buffer limit configuration."
        )
    );
    assert_eq!(
        e(&[("slave-priority", "-1")]),
        failed(
            "slave-priority",
            "argument must be between 0 and 2147483647 inclusive"
        )
    );
    assert_eq!(
        e(&[("maxmemory-clients", "101%")]),
        failed(
            "maxmemory-clients",
            "percentage argument must be less or equal to 100"
        )
    );
}

#[test]
fn keyspace_event_strings() {
    assert_eq!(
        keyspace_events_from_str("KEA")
            .map(keyspace_events_to_string)
            .as_deref(),
        Some("AKE")
    );
    assert_eq!(
        keyspace_events_from_str("gx$E")
            .map(keyspace_events_to_string)
            .as_deref(),
        Some("g$xE")
    );
    assert_eq!(keyspace_events_from_str("Q"), None);
    assert_eq!(keyspace_events_from_str(""), Some(0));
}

#[test]
fn rewrite_keeps_comments_and_order() {
    let path = tmp("rewrite.conf");
    let old = "# top comment\nport 7779\n\n\n# another\nslave-read-only no\nsave 100 1\nsave 200 2\n\
               rename-command FLUSHALL \"\"\nhash-max-ziplist-entries 100\nmaxmemory 1mb\nmaxmemory 2mb\n  # indented\nloglevel verbose\n";
    std::fs::write(&path, old).unwrap();
    let mut c = Config::from_args(&[path.to_string_lossy().into_owned()]).unwrap();
    set(
        &mut c,
        &[
            ("save", ""),
            ("maxmemory", "3gb"),
            ("loglevel", "notice"),
            ("requirepass", "a b\"c"),
        ],
    )
    .unwrap();
    c.rewrite(None, false).unwrap();
    let new = std::fs::read_to_string(&path).unwrap();
    let dir = get1(&c, "dir");
    let expected = format!(
        "# top comment\nport 7779\n\n# another\nreplica-read-only no\nsave \"\"\n\nrename-command FLUSHALL \"\"\n\
         hash-max-listpack-entries 100\nmaxmemory 3gb\n\n# indented\nloglevel notice\n\n# Generated by CONFIG REWRITE\n\
         dir \"{dir}\"\nrequirepass \"a b\\\"c\"\nlatency-tracking-info-percentiles 50 99 99.9\n"
    );
    assert_eq!(new, expected);
    // The rewritten file loads back to the same settings, and is stable.
    let again = Config::from_args(&[path.to_string_lossy().into_owned()]).unwrap();
    assert_eq!(again.maxmemory, 3 << 30);
    assert_eq!(again.requirepass, "a b\"c");
    assert!(again.save.is_empty());
    // As in Redis, the old file's final newline becomes one blank line.
    again.rewrite(None, false).unwrap();
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        format!("{expected}\n")
    );
    again.rewrite(None, false).unwrap();
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        format!("{expected}\n")
    );
    let _ = std::fs::remove_file(path);
    assert_eq!(
        Config::default().rewrite(None, false),
        Err("ERR The server is running without a config file".into())
    );
}

#[test]
fn shipped_redis_conf_loads() {
    let text = include_str!("../../redis.conf");
    let mut c = Config::default();
    c.load_text(text).unwrap();
    assert_eq!(c.bind, s(&["127.0.0.1", "-::1"]));
    assert_eq!(c.port, 6379);
    assert_eq!(c.save, vec![(3600, 1), (300, 100), (60, 10000)]);
    assert!(c.ignored_directives_used().is_empty());
    // The empty-master guard: on in the shipped file, off by default.
    assert_eq!(c.extra_value("replica-refuse-empty-sync"), "yes");
    assert_eq!(
        Config::default().extra_value("replica-refuse-empty-sync"),
        "no"
    );
}

#[test]
fn multi_arg_directives_accept_one_space_separated_string() {
    let args: Vec<String> = [
        "--save",
        "100 1 50 2",
        "--client-output-buffer-limit",
        "pubsub 1mb 0 0",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let Ok(c) = Config::from_args(&args) else {
        panic!("one-string multi-arg directives must parse");
    };
    assert_eq!(c.save, vec![(100, 1), (50, 2)]);
    assert_eq!(c.client_output_buffer_limit[2].hard, 1 << 20);
}
