//! Shared integration-test harness: start `ferrodis-server` (or the real
//! `redis-server`) on a free port in a private temp dir, talk RESP to it with
//! a tiny blocking client, and poll for conditions without fixed sleeps.
//!
//! Std only. Every blocking read has a timeout, so no test hangs forever.
//! A server is killed on `Drop`; its log is printed if the test panicked.
#![allow(dead_code)]

pub mod repl;

use std::collections::HashSet;
use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long any single reply may take before the test fails.
pub const IO_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a server may take to answer its first PING.
const START_TIMEOUT: Duration = Duration::from_secs(15);

// ---- temp dirs and ports ----

/// A directory under the system temp dir, removed on drop.
pub struct TempDir {
    pub path: PathBuf,
}

impl TempDir {
    pub fn new(tag: &str) -> TempDir {
        static SEQ: AtomicU64 = AtomicU64::new(0);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let path = std::env::temp_dir().join(format!(
            "ferrodis-{tag}-{}-{}-{nanos}",
            std::process::id(),
            SEQ.fetch_add(1, Ordering::Relaxed)
        ));
        fs::create_dir_all(&path).expect("create temp dir");
        TempDir { path }
    }

    pub fn join(&self, name: impl AsRef<Path>) -> PathBuf {
        self.path.join(name)
    }
}

impl std::ops::Deref for TempDir {
    type Target = Path;
    fn deref(&self) -> &Path {
        &self.path
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.path);
    }
}

/// A port nobody in this process was handed before and that was free a
/// moment ago (bind 127.0.0.1:0 and let the kernel choose).
pub fn free_port() -> u16 {
    static GIVEN: Mutex<Option<HashSet<u16>>> = Mutex::new(None);
    loop {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("bind 127.0.0.1:0")
            .port();
        let mut given = GIVEN.lock().unwrap_or_else(|e| e.into_inner());
        if given.get_or_insert_with(HashSet::new).insert(port) {
            return port;
        }
    }
}

/// Looks a program up in PATH.
pub fn which(prog: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(prog))
        .find(|p| p.is_file())
}

/// Panics with the standard hint when a Redis tool is missing.
pub fn require_tool(prog: &str) -> PathBuf {
    which(prog).unwrap_or_else(|| panic!("{prog} not found: run make deps"))
}

pub fn ferrodis_bin() -> &'static str {
    env!("CARGO_BIN_EXE_ferrodis-server")
}

// ---- servers ----

/// A running server process (ferrodis or real Redis) owned by a test.
pub struct Server {
    pub port: u16,
    pub dir: TempDir,
    pub log_path: PathBuf,
    pub name: &'static str,
    child: Option<Child>,
}

/// Why a server did not start.
#[derive(Debug)]
pub struct StartFailure {
    pub why: String,
    /// The exit status, when the process ended (None: it hung).
    pub status: Option<ExitStatus>,
    pub log: String,
}

/// Starts the real redis-server with the same harness.
pub struct RedisServer;

impl RedisServer {
    pub fn start(args: &[&str]) -> Server {
        let bin = which("redis-server").expect("redis-server not found: run make deps");
        Server::start_bin("redis-server", &bin, args)
    }

    /// The real redis-server again on the port of one that exited.
    pub fn start_on_port(port: u16, args: &[&str]) -> Server {
        let bin = which("redis-server").expect("redis-server not found: run make deps");
        let p = port.to_string();
        let mut all = vec!["--port", p.as_str()];
        all.extend_from_slice(args);
        Server::start_bin("redis-server", &bin, &all)
    }
}

/// Starts the real redis-server when `redis`, else ferrodis.
pub fn start_either(redis: bool, args: &[&str]) -> Server {
    if redis {
        RedisServer::start(args)
    } else {
        Server::start(args)
    }
}

impl Server {
    /// Starts ferrodis with `--port <free> --bind 127.0.0.1 --save ""
    /// --enable-debug-command yes --dir <temp>` followed by `args`. A first
    /// argument not starting with `--` (a config file or `-`) is put first,
    /// as the command line requires.
    pub fn start(args: &[&str]) -> Server {
        Server::start_bin("ferrodis", Path::new(ferrodis_bin()), args)
    }

    fn start_bin(name: &'static str, bin: &Path, args: &[&str]) -> Server {
        Server::spawn(name, bin, args, None)
            .unwrap_or_else(|f| panic!("{name} did not start: {}\n---- log ----\n{}", f.why, f.log))
    }

    /// Starts ferrodis again on the port of a server that exited (a
    /// restart: its replicas reconnect to the same address).
    pub fn start_on_port(port: u16, args: &[&str]) -> Server {
        let p = port.to_string();
        // A config file stays the first argument.
        let (head, rest) = match args.first() {
            Some(a) if !a.starts_with("--") => (vec![*a], &args[1..]),
            _ => (Vec::new(), args),
        };
        let mut all = head;
        all.extend(["--port", p.as_str()]);
        all.extend_from_slice(rest);
        Server::start(&all)
    }

    /// Starts ferrodis with its address space limited to `limit` bytes
    /// (RLIMIT_AS: an allocation past it fails, and the process aborts),
    /// or says why it did not start: its exit status and log.
    pub fn try_start_limited(args: &[&str], limit: u64) -> Result<Server, StartFailure> {
        Server::spawn("ferrodis", Path::new(ferrodis_bin()), args, Some(limit))
    }

    fn spawn(
        name: &'static str,
        bin: &Path,
        args: &[&str],
        as_limit: Option<u64>,
    ) -> Result<Server, StartFailure> {
        let mut attempt = 0;
        // A `--port` among the arguments (a restart on the same port) wins.
        let fixed = args
            .iter()
            .position(|a| *a == "--port")
            .and_then(|i| args.get(i + 1))
            .and_then(|p| p.parse::<u16>().ok());
        loop {
            attempt += 1;
            let dir = TempDir::new(name);
            let port = fixed.unwrap_or_else(free_port);
            let log_path = dir.join("server.log");
            let log = File::create(&log_path).expect("create server log");
            let log2 = log.try_clone().expect("clone log handle");
            let (head, rest) = match args.first() {
                Some(a) if !a.starts_with("--") => (Some(*a), &args[1..]),
                _ => (None, args),
            };
            let mut cmd = Command::new(bin);
            if let Some(h) = head {
                cmd.arg(h);
            }
            cmd.args([
                "--port",
                &port.to_string(),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
            ])
            .args(["--enable-debug-command", "yes", "--daemonize", "no"])
            .arg("--dir")
            .arg(&dir.path)
            .args(rest)
            .current_dir(&dir.path)
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(log2);
            if let Some(limit) = as_limit {
                use std::os::unix::process::CommandExt;
                // SAFETY: setrlimit is async-signal-safe and touches only
                // the child's own limits, between fork and exec.
                unsafe {
                    cmd.pre_exec(move || {
                        let r = libc::rlimit {
                            rlim_cur: limit,
                            rlim_max: limit,
                        };
                        if libc::setrlimit(libc::RLIMIT_AS, &r) != 0 {
                            return Err(io::Error::last_os_error());
                        }
                        Ok(())
                    });
                }
            }
            let child = cmd
                .spawn()
                .unwrap_or_else(|e| panic!("spawn {}: {e}", bin.display()));
            let mut srv = Server {
                port,
                dir,
                log_path,
                name,
                child: Some(child),
            };
            match srv.wait_ready() {
                Ok(()) => return Ok(srv),
                Err(why) => {
                    let log = srv.log();
                    // Another process may have grabbed the port in between.
                    if attempt < 3 && fixed.is_none() && log.contains("in use") {
                        continue;
                    }
                    let status = srv.try_wait();
                    // Not a panic: whoever asked decides what a failure means.
                    let mut child = srv.child.take();
                    if let Some(c) = child.as_mut() {
                        let _ = c.kill();
                        let _ = c.wait();
                    }
                    return Err(StartFailure { why, status, log });
                }
            }
        }
    }

    fn wait_ready(&mut self) -> Result<(), String> {
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            if let Some(st) = self.try_wait() {
                return Err(format!("process exited with {st}"));
            }
            if let Ok(mut c) = Conn::try_connect(self.port) {
                if let Ok(r) = c.try_cmd(&["PING"]) {
                    if !r.starts_with(b"-LOADING") {
                        return Ok(());
                    }
                }
            }
            if Instant::now() > deadline {
                return Err("no PING reply in time".into());
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.as_ref().map(|c| c.id()).unwrap_or(0)
    }

    pub fn conn(&self) -> Conn {
        Conn::connect(self.port)
    }

    pub fn log(&self) -> String {
        fs::read_to_string(&self.log_path).unwrap_or_default()
    }

    /// The exit status, if the process has exited.
    pub fn try_wait(&mut self) -> Option<ExitStatus> {
        self.child
            .as_mut()
            .and_then(|c| c.try_wait().ok().flatten())
    }

    /// Waits for the process to exit by itself.
    pub fn wait_exit(&mut self, timeout: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(st) = self.try_wait() {
                return Some(st);
            }
            if Instant::now() > deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Sends a signal to the process.
    pub fn signal(&self, sig: i32) {
        // SAFETY: kill(2) on our own child's pid has no memory effects.
        unsafe {
            libc::kill(self.pid() as libc::pid_t, sig);
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
        if std::thread::panicking() {
            eprintln!(
                "---- {} log (port {}) ----\n{}",
                self.name,
                self.port,
                self.log()
            );
        }
    }
}

// ---- RESP client ----

trait Stream: Read + Write + Send {}
impl<T: Read + Write + Send> Stream for T {}

/// A blocking RESP client with timeouts.
pub struct Conn {
    stream: Box<dyn Stream>,
    buf: Vec<u8>,
}

impl Conn {
    pub fn connect(port: u16) -> Conn {
        Conn::try_connect(port).unwrap_or_else(|e| panic!("connect to port {port}: {e}"))
    }

    pub fn try_connect(port: u16) -> io::Result<Conn> {
        Conn::connect_with_timeout(port, IO_TIMEOUT)
    }

    /// A connection whose reads give up after `timeout` (for commands that
    /// may legitimately not answer, such as blocking ones).
    pub fn connect_with_timeout(port: u16, timeout: Duration) -> io::Result<Conn> {
        let s = TcpStream::connect(("127.0.0.1", port))?;
        s.set_read_timeout(Some(timeout))?;
        s.set_write_timeout(Some(IO_TIMEOUT))?;
        s.set_nodelay(true)?;
        Ok(Conn {
            stream: Box::new(s),
            buf: Vec::new(),
        })
    }

    pub fn connect_unix(path: &Path) -> Conn {
        let s = UnixStream::connect(path)
            .unwrap_or_else(|e| panic!("connect to {}: {e}", path.display()));
        s.set_read_timeout(Some(IO_TIMEOUT)).expect("timeout");
        s.set_write_timeout(Some(IO_TIMEOUT)).expect("timeout");
        Conn {
            stream: Box::new(s),
            buf: Vec::new(),
        }
    }

    /// Sends one request as a multibulk.
    pub fn send(&mut self, args: &[&[u8]]) {
        let req = multibulk(args);
        self.send_raw(&req);
    }

    pub fn send_raw(&mut self, bytes: &[u8]) {
        self.stream
            .write_all(bytes)
            .unwrap_or_else(|e| panic!("write: {e}"));
    }

    /// Like `send_raw` but tolerates a peer that already closed.
    pub fn try_send_raw(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.stream.write_all(bytes)
    }

    /// The raw bytes of exactly one complete reply; panics on EOF/timeout.
    pub fn read_reply(&mut self) -> Vec<u8> {
        self.try_read_reply()
            .unwrap_or_else(|e| panic!("reading reply: {e} (buffered: {})", escape(&self.buf)))
    }

    pub fn try_read_reply(&mut self) -> io::Result<Vec<u8>> {
        loop {
            if let Some(n) = reply_len(&self.buf) {
                let rest = self.buf.split_off(n);
                return Ok(std::mem::replace(&mut self.buf, rest));
            }
            self.fill()?;
        }
    }

    fn fill(&mut self) -> io::Result<()> {
        let mut tmp = [0u8; 16384];
        let n = self.stream.read(&mut tmp)?;
        if n == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "connection closed",
            ));
        }
        self.buf.extend_from_slice(&tmp[..n]);
        Ok(())
    }

    /// Reads exactly `n` raw bytes (e.g. an RDB payload after SYNC).
    pub fn read_exact_bytes(&mut self, n: usize) -> Vec<u8> {
        while self.buf.len() < n {
            self.fill()
                .unwrap_or_else(|e| panic!("read {n} bytes: {e}"));
        }
        self.buf.drain(..n).collect()
    }

    /// Reads one line (up to CRLF, excluded), e.g. for MONITOR output.
    pub fn read_line(&mut self) -> String {
        loop {
            if let Some(p) = self.buf.windows(2).position(|w| w == b"\r\n") {
                let line = String::from_utf8_lossy(&self.buf[..p]).into_owned();
                self.buf.drain(..p + 2);
                return line;
            }
            self.fill().unwrap_or_else(|e| panic!("read line: {e}"));
        }
    }

    /// Everything the peer sends until it closes the connection (EOF or
    /// reset); Err when it stays open past the timeout.
    pub fn read_until_closed(&mut self) -> io::Result<Vec<u8>> {
        loop {
            match self.fill() {
                Ok(()) => continue,
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                    ) =>
                {
                    return Err(e)
                }
                Err(_) => return Ok(std::mem::take(&mut self.buf)),
            }
        }
    }

    /// True if the peer closes the connection (EOF or reset) within the timeout,
    /// discarding anything it sends before.
    pub fn is_closed(&mut self) -> bool {
        loop {
            match self.fill() {
                Ok(()) => continue,
                Err(e) => {
                    return !matches!(
                        e.kind(),
                        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                    )
                }
            }
        }
    }

    pub fn cmd(&mut self, args: &[&str]) -> Vec<u8> {
        let a: Vec<&[u8]> = args.iter().map(|s| s.as_bytes()).collect();
        self.send(&a);
        self.read_reply()
    }

    pub fn try_cmd(&mut self, args: &[&str]) -> io::Result<Vec<u8>> {
        let a: Vec<&[u8]> = args.iter().map(|s| s.as_bytes()).collect();
        self.stream.write_all(&multibulk(&a))?;
        self.try_read_reply()
    }

    /// `cmd` returning the reply as a lossy string, for short assertions.
    pub fn cmd_str(&mut self, args: &[&str]) -> String {
        String::from_utf8_lossy(&self.cmd(args)).into_owned()
    }

    /// An integer reply's value; panics on anything else.
    pub fn cmd_int(&mut self, args: &[&str]) -> i64 {
        let r = self.cmd(args);
        parse_int_reply(&r).unwrap_or_else(|| panic!("{args:?}: not an integer: {}", escape(&r)))
    }
}

pub fn parse_int_reply(r: &[u8]) -> Option<i64> {
    let s = std::str::from_utf8(r).ok()?;
    s.strip_prefix(':')?.trim_end().parse().ok()
}

/// Encodes a request as a RESP multibulk.
pub fn multibulk(args: &[&[u8]]) -> Vec<u8> {
    let mut out = format!("*{}\r\n", args.len()).into_bytes();
    for a in args {
        out.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
        out.extend_from_slice(a);
        out.extend_from_slice(b"\r\n");
    }
    out
}

/// Length of the first complete RESP2/RESP3 reply in `buf`, if complete.
pub fn reply_len(buf: &[u8]) -> Option<usize> {
    value_end(buf, 0, 0)
}

fn line_end(buf: &[u8], from: usize) -> Option<usize> {
    buf.get(from..)?
        .windows(2)
        .position(|w| w == b"\r\n")
        .map(|p| from + p)
}

fn value_end(buf: &[u8], pos: usize, depth: usize) -> Option<usize> {
    if depth > 512 {
        return None;
    }
    let kind = *buf.get(pos)?;
    let eol = line_end(buf, pos + 1)?;
    let after = eol + 2;
    let header = || -> Option<i64> { std::str::from_utf8(&buf[pos + 1..eol]).ok()?.parse().ok() };
    match kind {
        b'+' | b'-' | b':' | b'_' | b'#' | b',' | b'(' => Some(after),
        b'$' | b'!' | b'=' => {
            let n = header()?;
            if n < 0 {
                return Some(after);
            }
            let end = after + n as usize + 2;
            (buf.len() >= end).then_some(end)
        }
        b'*' | b'~' | b'>' | b'%' | b'|' => {
            let n = header()?;
            if n < 0 {
                return Some(after);
            }
            let elems = if matches!(kind, b'%' | b'|') {
                n * 2
            } else {
                n
            };
            let mut p = after;
            for _ in 0..elems {
                p = value_end(buf, p, depth + 1)?;
            }
            // An attribute decorates the value that follows it.
            if kind == b'|' {
                p = value_end(buf, p, depth + 1)?;
            }
            Some(p)
        }
        // Not RESP: treat up to the end of line as one unit.
        _ => Some(after),
    }
}

/// Printable form of raw bytes (`\r\n` and non-ASCII escaped).
pub fn escape(b: &[u8]) -> String {
    let mut s = String::new();
    for &c in b {
        match c {
            b'\r' => s.push_str("\\r"),
            b'\n' => s.push_str("\\n"),
            b'\\' => s.push_str("\\\\"),
            b'"' => s.push_str("\\\""),
            0x20..=0x7e => s.push(c as char),
            _ => s.push_str(&format!("\\x{c:02x}")),
        }
    }
    s
}

// ---- deterministic randomness ----

/// xorshift64: the tests' deterministic randomness (no crates), seeded by
/// each test.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    /// Uniform in 0..n (0 when n is 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    /// An index into a collection of `len` elements.
    pub fn index(&mut self, len: usize) -> usize {
        self.below(len as u64) as usize
    }

    pub fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.index(xs.len())]
    }
}

// ---- polling and INFO ----

/// Resident set size of a process in kB (VmRSS of /proc/<pid>/status).
pub fn rss_kb(pid: u32) -> u64 {
    let status = fs::read_to_string(format!("/proc/{pid}/status")).expect("read /proc status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS in /proc status")
}

/// Polls `cond` every 10 ms until it holds (true) or `timeout` passes (false).
pub fn wait_until(timeout: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    loop {
        if cond() {
            return true;
        }
        if Instant::now() > deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// The body of a bulk string reply (`$n\r\n...\r\n` or RESP3 verbatim).
pub fn bulk_body(r: &[u8]) -> Option<&[u8]> {
    let eol = line_end(r, 0)?;
    if !matches!(r.first(), Some(b'$') | Some(b'=')) || r.len() < eol + 4 {
        return None;
    }
    let body = &r[eol + 2..r.len() - 2];
    Some(if r[0] == b'=' { body.get(4..)? } else { body })
}

/// A field of `INFO <section>`, e.g. `info_field(c, "server", "tcp_port")`.
pub fn info_field(conn: &mut Conn, section: &str, field: &str) -> Option<String> {
    let r = conn.cmd(&["INFO", section]);
    info_field_of(&r, field)
}

/// Like `info_field` on a fresh connection to `port`, None (instead of a
/// panic) when the connection fails or is closed before the reply: for
/// servers whose clients something else may kill (Sentinel's CLIENT KILL).
pub fn try_info_field(port: u16, section: &str, field: &str) -> Option<String> {
    let mut c = Conn::try_connect(port).ok()?;
    let r = c.try_cmd(&["INFO", section]).ok()?;
    info_field_of(&r, field)
}

fn info_field_of(r: &[u8], field: &str) -> Option<String> {
    let body = String::from_utf8_lossy(bulk_body(r)?).into_owned();
    let prefix = format!("{field}:");
    body.lines()
        .find_map(|l| l.strip_prefix(&prefix).map(|v| v.trim_end().to_string()))
}

// ---- redis-cli style argument splitting (sdssplitargs) ----

/// Splits a line like redis-cli does (the server's own sdssplitargs). None
/// on unbalanced quotes.
pub fn split_args(line: &str) -> Option<Vec<Vec<u8>>> {
    ferrodis::util::splitargs::split_args(line.as_bytes())
}

// ---- decoded replies, for structural assertions ----

/// A decoded reply (RESP3 aggregates folded into `Array`/`Map`).
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Simple(String),
    Error(String),
    Int(i64),
    Bulk(Vec<u8>),
    /// The null bulk (`$-1`) or RESP3's null (`_`).
    Nil,
    /// The null array (`*-1`), kept apart from the null bulk.
    NilArray,
    Double(String),
    Bool(bool),
    Array(Vec<Value>),
    Map(Vec<(Value, Value)>),
}

impl Value {
    pub fn bytes(&self) -> &[u8] {
        match self {
            Value::Bulk(b) => b,
            Value::Simple(s) | Value::Error(s) | Value::Double(s) => s.as_bytes(),
            _ => panic!("not a string reply: {self:?}"),
        }
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(self.bytes()).into_owned()
    }

    pub fn array(&self) -> &[Value] {
        match self {
            Value::Array(a) => a,
            _ => panic!("not an array reply: {self:?}"),
        }
    }

    pub fn int(&self) -> i64 {
        match self {
            Value::Int(n) => *n,
            _ => panic!("not an integer reply: {self:?}"),
        }
    }
}

/// Decodes one complete reply; panics on malformed input (tests only).
pub fn parse(r: &[u8]) -> Value {
    let (v, _) = parse_at(r, 0);
    v
}

fn parse_at(r: &[u8], pos: usize) -> (Value, usize) {
    let eol = line_end(r, pos + 1).unwrap_or_else(|| panic!("incomplete reply: {}", escape(r)));
    let line = String::from_utf8_lossy(&r[pos + 1..eol]).into_owned();
    let after = eol + 2;
    let num = || {
        line.parse::<i64>()
            .unwrap_or_else(|_| panic!("bad header {line:?}"))
    };
    match r[pos] {
        b'+' => (Value::Simple(line), after),
        b'-' => (Value::Error(line), after),
        b':' => (Value::Int(num()), after),
        b'_' => (Value::Nil, after),
        b',' => (Value::Double(line), after),
        b'#' => (Value::Bool(line == "t"), after),
        b'(' => (Value::Simple(line), after),
        b'$' | b'=' | b'!' => {
            let n = num();
            if n < 0 {
                return (Value::Nil, after);
            }
            let end = after + n as usize;
            let mut body = r[after..end].to_vec();
            if r[pos] == b'=' {
                body.drain(..4.min(body.len()));
            }
            (Value::Bulk(body), end + 2)
        }
        b'*' | b'~' | b'>' => {
            let n = num();
            if n < 0 {
                return (Value::NilArray, after);
            }
            let mut p = after;
            let mut items = Vec::new();
            for _ in 0..n {
                let (v, np) = parse_at(r, p);
                items.push(v);
                p = np;
            }
            (Value::Array(items), p)
        }
        b'%' => {
            let mut p = after;
            let mut items = Vec::new();
            for _ in 0..num() {
                let (k, np) = parse_at(r, p);
                let (v, np) = parse_at(r, np);
                items.push((k, v));
                p = np;
            }
            (Value::Map(items), p)
        }
        c => panic!("unknown reply type {:?} in {}", c as char, escape(r)),
    }
}

/// Waits until `port` answers PING (any reply); false on timeout.
pub fn wait_for_ping(port: u16, timeout: Duration) -> bool {
    wait_until(timeout, || {
        Conn::try_connect(port)
            .and_then(|mut c| c.try_cmd(&["PING"]))
            .is_ok()
    })
}

/// Sorts the elements of a top-level array/set/push (pairs for a map).
pub fn sort_reply(r: &[u8]) -> Vec<u8> {
    let Some(kind) = r.first().copied() else {
        return r.to_vec();
    };
    if !matches!(kind, b'*' | b'~' | b'>' | b'%') {
        return r.to_vec();
    }
    let Some(eol) = r.windows(2).position(|w| w == b"\r\n") else {
        return r.to_vec();
    };
    let Ok(n) = std::str::from_utf8(&r[1..eol])
        .unwrap_or("x")
        .parse::<i64>()
    else {
        return r.to_vec();
    };
    let per = if kind == b'%' { 2 } else { 1 };
    let mut p = eol + 2;
    let mut elems: Vec<&[u8]> = Vec::new();
    for _ in 0..n.max(0) {
        let start = p;
        for _ in 0..per {
            match reply_len(&r[p..]) {
                Some(len) => p += len,
                None => return r.to_vec(),
            }
        }
        elems.push(&r[start..p]);
    }
    elems.sort();
    let mut out = r[..eol + 2].to_vec();
    for e in elems {
        out.extend_from_slice(e);
    }
    out.extend_from_slice(&r[p..]);
    out
}

/// A decoded reply with the values of the named map fields (flat RESP2
/// pairs or RESP3 maps, at any depth) replaced by Nil: for comparing
/// replies that carry each server's own clock (seen-time...).
pub fn mask_fields(v: Value, fields: &[&str]) -> Value {
    let hidden = |v: &Value| matches!(v, Value::Bulk(b) if fields.iter().any(|f| f.as_bytes() == b.as_slice()));
    match v {
        Value::Array(items) => {
            let mut out = Vec::with_capacity(items.len());
            let mut hide = false;
            for it in items {
                if hide {
                    out.push(Value::Nil);
                    hide = false;
                    continue;
                }
                hide = hidden(&it);
                out.push(mask_fields(it, fields));
            }
            Value::Array(out)
        }
        Value::Map(pairs) => Value::Map(
            pairs
                .into_iter()
                .map(|(k, v)| {
                    let h = hidden(&k);
                    (
                        k,
                        if h {
                            Value::Nil
                        } else {
                            mask_fields(v, fields)
                        },
                    )
                })
                .collect(),
        ),
        other => other,
    }
}

/// `sort_reply` applied at every depth: the elements of every array, set,
/// push and map (as key/value pairs) are sorted, innermost first. For
/// replies whose nested order is unspecified (COMMAND INFO subcommands,
/// ACL LIST rules...).
pub fn deep_sort_reply(r: &[u8]) -> Vec<u8> {
    fn norm(buf: &[u8], pos: usize, depth: usize) -> Option<(usize, Vec<u8>)> {
        let end = value_end(buf, pos, depth)?;
        let kind = buf[pos];
        if !matches!(kind, b'*' | b'~' | b'>' | b'%') {
            return Some((end, buf[pos..end].to_vec()));
        }
        let eol = line_end(buf, pos + 1)?;
        let n: i64 = std::str::from_utf8(&buf[pos + 1..eol]).ok()?.parse().ok()?;
        let per = if kind == b'%' { 2 } else { 1 };
        let mut p = eol + 2;
        let mut elems = Vec::new();
        for _ in 0..n.max(0) {
            let mut e = Vec::new();
            for _ in 0..per {
                let (next, v) = norm(buf, p, depth + 1)?;
                e.extend_from_slice(&v);
                p = next;
            }
            elems.push(e);
        }
        elems.sort();
        let mut out = buf[pos..eol + 2].to_vec();
        for e in elems {
            out.extend_from_slice(&e);
        }
        Some((p, out))
    }
    match norm(r, 0, 0) {
        Some((end, mut v)) => {
            v.extend_from_slice(&r[end..]);
            v
        }
        None => r.to_vec(),
    }
}
