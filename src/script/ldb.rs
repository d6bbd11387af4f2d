//! The Lua debugger (LDB): SCRIPT DEBUG YES|SYNC|NO and the session
//! `redis-cli --ldb` / `--ldb-sync-mode` drive. YES forks a child that runs
//! the script against a copy of the data (changes rolled back); SYNC runs
//! it in the server, which blocks meanwhile. A line hook stops the script
//! (step, breakpoints, redis.breakpoint(), a timeout) and reads debugger
//! commands straight from the client's socket, answering with arrays of
//! status lines, as Redis's ldbRepl.

use super::ldb_fmt::{atoi, cat_value, parse_command, reply_to_human};
use super::lua::*;
use crate::error::CmdError;
use crate::net::flags;
use crate::server::Server;
use bytes::Bytes;
use mlua::ffi;
use std::ffi::{c_int, CStr};

const MAX_BREAKPOINTS: usize = 64;
const DEFAULT_MAXLEN: usize = 256;
/// lua_debug values of a client.
pub const DEBUG_YES: u8 = 1;
pub const DEBUG_SYNC: u8 = 2;

#[derive(Default)]
pub struct Ldb {
    /// A debugging session is running (the script runs with the hook).
    pub on: bool,
    forked: bool,
    fd: i32,
    logs: Vec<Vec<u8>>,
    bp: Vec<i32>,
    /// Stop at the next line.
    pub step: bool,
    luabp: bool,
    src: Vec<Vec<u8>>,
    currentline: i32,
    cbuf: Vec<u8>,
    maxlen: usize,
    maxlen_hint_sent: bool,
    start_us: u64,
    /// Forked sessions still running (reaped by cron).
    pub children: Vec<nix::unistd::Pid>,
}

impl Ldb {
    /// Redis's ldbIsEnabled: commands and replies are logged when stepping.
    pub fn active(&self) -> bool {
        self.on && self.step
    }

    fn log(&mut self, s: impl Into<Vec<u8>>) {
        self.logs.push(s.into());
    }

    fn log_maxlen(&mut self, mut s: Vec<u8>) {
        let mut trimmed = false;
        if self.maxlen > 0 && s.len() > self.maxlen {
            s.truncate(self.maxlen);
            s.extend_from_slice(b" ...");
            trimmed = true;
        }
        self.log(s);
        if trimmed && !self.maxlen_hint_sent {
            self.maxlen_hint_sent = true;
            self.log("<hint> The above reply was trimmed. Use 'maxlen 0' to disable trimming.");
        }
    }

    fn source_line(&self, line: i32) -> &[u8] {
        let idx = line - 1;
        if idx < 0 || idx as usize >= self.src.len() {
            return b"<out of range source code line>";
        }
        &self.src[idx as usize]
    }

    fn log_source_line(&mut self, lnum: i32) {
        let bp = self.bp.contains(&lnum);
        let current = self.currentline == lnum;
        let prefix = match (current, bp) {
            (true, true) => "->#",
            (true, false) => "-> ",
            (false, true) => "  #",
            _ => "   ",
        };
        let mut line = format!("{prefix}{lnum:<3} ").into_bytes();
        line.extend_from_slice(self.source_line(lnum));
        self.log(line);
    }

    fn list(&mut self, around: i32, context: i32) {
        for j in 1..=self.src.len() as i32 {
            if around != 0 && (around - j).abs() > context {
                continue;
            }
            self.log_source_line(j);
        }
    }

    /// Sends the pending log lines as an array of status replies.
    fn send_logs(&mut self) {
        let mut proto = format!("*{}\r\n", self.logs.len()).into_bytes();
        for l in self.logs.drain(..) {
            proto.push(b'+');
            proto.extend(
                l.iter()
                    .map(|&c| if c == b'\r' || c == b'\n' { b' ' } else { c }),
            );
            proto.extend_from_slice(b"\r\n");
        }
        write_all(self.fd, &proto);
    }
}

/// Blocking write to the debugging client (errors surface at the next read).
fn write_all(fd: i32, mut buf: &[u8]) {
    while !buf.is_empty() {
        // SAFETY: writing from a valid buffer to a descriptor we own.
        let n = unsafe { libc::write(fd, buf.as_ptr() as *const libc::c_void, buf.len()) };
        if n <= 0 {
            return;
        }
        buf = &buf[n as usize..];
    }
}

fn set_blocking(fd: i32, blocking: bool) {
    // SAFETY: fcntl/setsockopt on the client's descriptor.
    unsafe {
        let fl = libc::fcntl(fd, libc::F_GETFL);
        if fl >= 0 {
            let fl = if blocking {
                fl & !libc::O_NONBLOCK
            } else {
                fl | libc::O_NONBLOCK
            };
            libc::fcntl(fd, libc::F_SETFL, fl);
        }
        let tv = libc::timeval {
            tv_sec: if blocking { 5 } else { 0 },
            tv_usec: 0,
        };
        libc::setsockopt(
            fd,
            libc::SOL_SOCKET,
            libc::SO_SNDTIMEO,
            &tv as *const _ as *const libc::c_void,
            std::mem::size_of::<libc::timeval>() as libc::socklen_t,
        );
    }
}

const HELP: &[&str] = &[
    "Redis Lua debugger help:",
    "[h]elp               Show this help.",
    "[s]tep               Run current line and stop again.",
    "[n]ext               Alias for step.",
    "[c]ontinue           Run till next breakpoint.",
    "[l]ist               List source code around current line.",
    "[l]ist [line]        List source code around [line].",
    "                     line = 0 means: current position.",
    "[l]ist [line] [ctx]  In this form [ctx] specifies how many lines",
    "                     to show before/after [line].",
    "[w]hole              List all source code. Alias for 'list 1 1000000'.",
    "[p]rint              Show all the local variables.",
    "[p]rint <var>        Show the value of the specified variable.",
    "                     Can also show global vars KEYS and ARGV.",
    "[b]reak              Show all breakpoints.",
    "[b]reak <line>       Add a breakpoint to the specified line.",
    "[b]reak -<line>      Remove breakpoint from the specified line.",
    "[b]reak 0            Remove all breakpoints.",
    "[t]race              Show a backtrace.",
    "[e]val <code>        Execute some Lua code (in a different callframe).",
    "[r]edis <cmd>        Execute a Redis command.",
    "[m]axlen [len]       Trim logged Redis replies and Lua var dumps to len.",
    "                     Specifying zero as <len> means unlimited.",
    "[a]bort              Stop the execution of the script. In sync",
    "                     mode dataset changes will be retained.",
    "",
    "Debugger functions you can call from Lua scripts:",
    "redis.debug()        Produce logs in the debugger console.",
    "redis.breakpoint()   Stop execution like if there was a breakpoint in the",
    "                     next line of code.",
];

/// What the REPL asks the hook to do next.
enum ReplEnd {
    /// Resume the script.
    Resume,
    /// The client is gone.
    Gone,
    /// Raise this error in the script.
    Raise(&'static str),
}

impl Server {
    pub fn ldb_log_command(&mut self, argv: &[Bytes]) {
        let mut s = b"<redis>".to_vec();
        for (j, a) in argv.iter().enumerate() {
            if j == 10 {
                s.extend_from_slice(format!(" ... ({} more)", argv.len() - j - 1).as_bytes());
                break;
            }
            s.push(b' ');
            s.extend_from_slice(a);
        }
        self.scripts.ldb.log(s);
    }

    pub fn ldb_log_reply(&mut self, reply: &[u8]) {
        let mut s = b"<reply> ".to_vec();
        reply_to_human(&mut s, reply, 0);
        self.scripts.ldb.log_maxlen(s);
    }

    /// Errors of redis.call while stepping are logged too.
    pub fn ldb_log_error(&mut self, err: &[u8]) {
        let mut s = b"<error> ".to_vec();
        s.extend_from_slice(err);
        self.scripts.ldb.log(s);
    }

    /// redis.breakpoint(): true when a debugging session will stop at the
    /// next line.
    pub fn ldb_breakpoint(&mut self) -> bool {
        if self.scripts.ldb.on {
            self.scripts.ldb.luabp = true;
            true
        } else {
            false
        }
    }

    /// redis.debug(...): logged to the debugging client only.
    ///
    /// # Safety
    /// Called from the Lua function with its arguments on the stack.
    pub unsafe fn ldb_debug_values(&mut self, l: *mut lua_State) {
        if !self.scripts.ldb.on {
            return;
        }
        let mut argc = ffi::lua_gettop(l);
        let mut s = format!("<debug> line {}: ", self.scripts.ldb.currentline).into_bytes();
        while argc > 0 {
            argc -= 1;
            cat_value(&mut s, l, -1 - argc, 0);
            if argc != 0 {
                s.extend_from_slice(b", ");
            }
        }
        self.scripts.ldb.log(s);
    }

    /// SCRIPT DEBUG YES|SYNC|NO.
    pub fn cmd_script_debug(&mut self, key: usize, mode: &[u8]) -> Result<(), CmdError> {
        let pending = self
            .clients
            .get(key)
            .is_some_and(|c| c.pending_reply() > 0 || !c.query.is_empty());
        if pending {
            return Err("ERR SCRIPT DEBUG must be called outside a pipeline".into());
        }
        let m = if crate::cmd::eq_ic(mode, "no") {
            0
        } else if crate::cmd::eq_ic(mode, "yes") {
            DEBUG_YES
        } else if crate::cmd::eq_ic(mode, "sync") {
            DEBUG_SYNC
        } else {
            return Err("ERR Use SCRIPT DEBUG YES/SYNC/NO".into());
        };
        if let Some(c) = self.clients.get_mut(key) {
            c.lua_debug = m;
            if m != 0 {
                let fd = c.stream.raw_fd();
                let ldb = &mut self.scripts.ldb;
                ldb.logs.clear();
                ldb.fd = fd;
                ldb.step = true;
                ldb.bp.clear();
                ldb.luabp = false;
                ldb.cbuf.clear();
                ldb.maxlen = DEFAULT_MAXLEN;
                ldb.maxlen_hint_sent = false;
            }
        }
        self.reply_ok(key);
        Ok(())
    }

    /// EVAL from a client in SCRIPT DEBUG mode (evalGenericCommandWithDebugging).
    pub fn ldb_eval(&mut self, key: usize, argv: &[Bytes]) -> Result<(), CmdError> {
        let Some(c) = self.clients.get(key) else {
            return Ok(());
        };
        let forked = c.lua_debug == DEBUG_YES;
        let fd = c.stream.raw_fd();
        if forked {
            let me = self as *mut Server;
            let argv = argv.to_vec();
            let r =
                crate::persist::fork::fork_child(crate::persist::fork::ChildKind::Ldb, move || {
                    // SAFETY: in the child, this process's own copy of the
                    // server; the parent's is untouched (copy-on-write).
                    let s = unsafe { &mut *me };
                    log::warn!("Redis forked for debugging eval");
                    // The child never accepts: if the parent dies, clients get
                    // a reset instead of a silent backlog.
                    s.listeners.clear();
                    s.ldb_run(key, fd, &argv, true);
                    0
                });
            match r {
                Ok((pid, _info)) => {
                    self.scripts.ldb.children.push(pid);
                    // The child owns the session: the parent lets go of the
                    // client, leaving the connection itself to the child.
                    if let Some(c) = self.clients.get_mut(key) {
                        c.lua_debug = 0;
                        c.flags |= flags::KEEP_SOCKET;
                    }
                    self.close_async(key);
                }
                Err(e) => {
                    return Err(CmdError::msg(format!(
                        "ERR Fork() failed: can't run EVAL in debugging mode: {e}"
                    )))
                }
            }
            return Ok(());
        }
        log::warn!("Redis synchronous debugging eval session started");
        self.ldb_run(key, fd, argv, false);
        log::warn!("Redis synchronous debugging eval session ended");
        Ok(())
    }

    /// Runs EVAL with the debugger (in the child for forked sessions).
    fn ldb_run(&mut self, key: usize, fd: i32, argv: &[Bytes], forked: bool) {
        set_blocking(fd, true);
        {
            let ldb = &mut self.scripts.ldb;
            ldb.on = true;
            ldb.forked = forked;
            ldb.fd = fd;
            let mut src: &[u8] = &argv[1];
            while let Some(rest) = src.strip_suffix(b"\n").or_else(|| src.strip_suffix(b"\r")) {
                src = rest;
            }
            ldb.src = src.split(|&c| c == b'\n').map(<[u8]>::to_vec).collect();
            ldb.start_us = crate::util::monotonic_us();
        }
        if let Some(c) = self.clients.get_mut(key) {
            // Run the EVAL itself without the debug flag (no recursion).
            let mode = std::mem::replace(&mut c.lua_debug, 0);
            let r = self.cmd_eval(key, argv, false, false);
            if let Err(e) = r {
                self.reply_error(key, &e);
            }
            if let Some(c) = self.clients.get_mut(key) {
                c.lua_debug = mode;
            }
        }
        // ldbEndSession.
        self.scripts.ldb.log("<endsession>");
        self.scripts.ldb.send_logs();
        if forked {
            if let Some(c) = self.clients.get_mut(key) {
                let pending = c.reply[c.sent..].to_vec();
                write_all(fd, &pending);
            }
            log::warn!("Lua debugging session child exiting");
            return;
        }
        set_blocking(fd, false);
        if let Some(c) = self.clients.get_mut(key) {
            c.flags |= flags::CLOSE_AFTER_REPLY;
            c.lua_debug = 0;
        }
        let ldb = &mut self.scripts.ldb;
        ldb.on = false;
        ldb.src.clear();
    }

    /// Reaps forked debugging sessions that ended (from cron).
    pub fn ldb_reap_children(&mut self) {
        self.scripts
            .ldb
            .children
            .retain(|&pid| crate::persist::fork::try_reap(pid).is_none());
    }

    /// The debugger's command loop (ldbRepl).
    unsafe fn ldb_repl(&mut self, l: *mut lua_State) -> ReplEnd {
        loop {
            let argv = loop {
                match parse_command(&self.scripts.ldb.cbuf) {
                    Ok(Some(a)) => break a,
                    Err(()) => return ReplEnd::Raise("protocol error"),
                    Ok(None) => {}
                }
                let mut buf = [0u8; 1024];
                let n = libc::read(
                    self.scripts.ldb.fd,
                    buf.as_mut_ptr() as *mut libc::c_void,
                    buf.len(),
                );
                if n <= 0 {
                    let ldb = &mut self.scripts.ldb;
                    ldb.step = false;
                    ldb.bp.clear();
                    return ReplEnd::Gone;
                }
                self.scripts.ldb.cbuf.extend_from_slice(&buf[..n as usize]);
                if self.scripts.ldb.cbuf.len() > 1 << 20 {
                    self.scripts.ldb.cbuf.clear();
                    return ReplEnd::Raise("max client buffer reached");
                }
            };
            self.scripts.ldb.cbuf.clear();
            let cmd = String::from_utf8_lossy(&argv[0]).to_ascii_lowercase();
            let ldb = &mut self.scripts.ldb;
            match cmd.as_str() {
                "h" | "help" => {
                    for h in HELP {
                        ldb.log(*h);
                    }
                    ldb.send_logs();
                }
                "s" | "step" | "n" | "next" => {
                    ldb.step = true;
                    return ReplEnd::Resume;
                }
                "c" | "continue" => return ReplEnd::Resume,
                "t" | "trace" => {
                    self.ldb_trace(l);
                    self.scripts.ldb.send_logs();
                }
                "m" | "maxlen" => {
                    if argv.len() == 2 {
                        let mut v = atoi(&argv[1]).max(0) as usize;
                        ldb.maxlen_hint_sent = true;
                        if v != 0 && v <= 60 {
                            v = 60;
                        }
                        ldb.maxlen = v;
                    }
                    let m = if ldb.maxlen > 0 {
                        format!("<value> replies are truncated at {} bytes.", ldb.maxlen)
                    } else {
                        "<value> replies are unlimited.".into()
                    };
                    ldb.log(m);
                    ldb.send_logs();
                }
                "b" | "break" => {
                    self.ldb_break(&argv);
                    self.scripts.ldb.send_logs();
                }
                "e" | "eval" => {
                    self.ldb_eval_code(l, &argv);
                    self.scripts.ldb.send_logs();
                }
                "a" | "abort" => return ReplEnd::Raise("script aborted for user request"),
                "r" | "redis" if argv.len() > 1 => {
                    self.ldb_redis(l, &argv);
                    self.scripts.ldb.send_logs();
                }
                "p" | "print" => {
                    if argv.len() == 2 {
                        self.ldb_print(l, &argv[1]);
                    } else {
                        self.ldb_print_all(l);
                    }
                    self.scripts.ldb.send_logs();
                }
                "l" | "list" => {
                    let mut around = ldb.currentline;
                    let mut ctx = 5;
                    if argv.len() > 1 {
                        let n = atoi(&argv[1]) as i32;
                        if n > 0 {
                            around = n;
                        }
                    }
                    if argv.len() > 2 {
                        ctx = atoi(&argv[2]) as i32;
                    }
                    ldb.list(around, ctx);
                    ldb.send_logs();
                }
                "w" | "whole" => {
                    ldb.list(1, 1_000_000);
                    ldb.send_logs();
                }
                _ => {
                    ldb.log(
                        "<error> Unknown Redis Lua debugger command or wrong number of arguments.",
                    );
                    ldb.send_logs();
                }
            }
        }
    }

    fn ldb_break(&mut self, argv: &[Vec<u8>]) {
        let ldb = &mut self.scripts.ldb;
        if argv.len() == 1 {
            if ldb.bp.is_empty() {
                ldb.log("No breakpoints set. Use 'b <line>' to add one.");
            } else {
                ldb.log(format!("{} breakpoints set:", ldb.bp.len()));
                for b in ldb.bp.clone() {
                    ldb.log_source_line(b);
                }
            }
            return;
        }
        for a in &argv[1..] {
            let Some(line) = crate::encoding::numbers::string2ll(a) else {
                ldb.log(format!("Invalid argument:'{}'", String::from_utf8_lossy(a)));
                continue;
            };
            let line = line as i32;
            if line == 0 {
                ldb.bp.clear();
                ldb.log("All breakpoints removed.");
            } else if line > 0 {
                if ldb.bp.len() == MAX_BREAKPOINTS {
                    ldb.log("Too many breakpoints set.");
                } else if line <= ldb.src.len() as i32 && !ldb.bp.contains(&line) {
                    ldb.bp.push(line);
                    ldb.list(line, 1);
                } else {
                    ldb.log("Wrong line number.");
                }
            } else if let Some(i) = ldb.bp.iter().position(|&b| b == -line) {
                ldb.bp.remove(i);
                ldb.log("Breakpoint removed.");
            } else {
                ldb.log("No breakpoint in the specified line.");
            }
        }
    }

    unsafe fn ldb_eval_code(&mut self, l: *mut lua_State, argv: &[Vec<u8>]) {
        let code = argv[1..].join(&b' ');
        let mut expr = b"return ".to_vec();
        expr.extend_from_slice(&code);
        if load_buffer(l, &expr, c"@ldb_eval").is_err() {
            if let Err(msg) = load_buffer(l, &code, c"@ldb_eval") {
                let mut s = b"<error> ".to_vec();
                s.extend_from_slice(&msg);
                self.scripts.ldb.log(s);
                return;
            }
        }
        if ffi::lua_pcall(l, 0, 1, 0) != 0 {
            let mut s = b"<error> ".to_vec();
            s.extend_from_slice(to_bytes(l, -1).unwrap_or(b""));
            ffi::lua_pop(l, 1);
            self.scripts.ldb.log(s);
            return;
        }
        let mut s = b"<retval> ".to_vec();
        cat_value(&mut s, l, -1, 0);
        ffi::lua_pop(l, 1);
        self.scripts.ldb.log_maxlen(s);
    }

    unsafe fn ldb_redis(&mut self, l: *mut lua_State, argv: &[Vec<u8>]) {
        if ffi::lua_checkstack(l, argv.len() as c_int + 1) == 0 {
            self.ldb_log_reply(b"max lua stack reached");
            return;
        }
        ffi::lua_getfield(l, GLOBALS, c"redis".as_ptr());
        ffi::lua_getfield(l, -1, c"call".as_ptr());
        for a in &argv[1..] {
            push_bytes(l, a);
        }
        self.scripts.ldb.step = true;
        ffi::lua_pcall(l, argv.len() as c_int - 1, 1, 0);
        self.scripts.ldb.step = false;
        ffi::lua_pop(l, 2);
    }

    unsafe fn ldb_print(&mut self, l: *mut lua_State, name: &[u8]) {
        let mut ar: ffi::lua_Debug = std::mem::zeroed();
        let mut level = 0;
        while ffi::lua_getstack(l, level, &mut ar) != 0 {
            level += 1;
            let mut i = 1;
            loop {
                let n = ffi::lua_getlocal(l, &ar, i);
                if n.is_null() {
                    break;
                }
                i += 1;
                if CStr::from_ptr(n).to_bytes() == name {
                    let mut s = b"<value> ".to_vec();
                    cat_value(&mut s, l, -1, 0);
                    ffi::lua_pop(l, 1);
                    self.scripts.ldb.log_maxlen(s);
                    return;
                }
                ffi::lua_pop(l, 1);
            }
        }
        if name == b"ARGV" || name == b"KEYS" {
            push_bytes(l, name);
            ffi::lua_rawget(l, GLOBALS);
            let mut s = b"<value> ".to_vec();
            cat_value(&mut s, l, -1, 0);
            ffi::lua_pop(l, 1);
            self.scripts.ldb.log_maxlen(s);
        } else {
            self.scripts.ldb.log("No such variable.");
        }
    }

    unsafe fn ldb_print_all(&mut self, l: *mut lua_State) {
        let mut ar: ffi::lua_Debug = std::mem::zeroed();
        let mut vars = 0;
        if ffi::lua_getstack(l, 0, &mut ar) != 0 {
            let mut i = 1;
            loop {
                let n = ffi::lua_getlocal(l, &ar, i);
                if n.is_null() {
                    break;
                }
                i += 1;
                let name = CStr::from_ptr(n).to_bytes().to_vec();
                if !name.windows(12).any(|w| w == b"(*temporary)") {
                    let mut s = b"<value> ".to_vec();
                    s.extend_from_slice(&name);
                    s.extend_from_slice(b" = ");
                    cat_value(&mut s, l, -1, 0);
                    self.scripts.ldb.log_maxlen(s);
                    vars += 1;
                }
                ffi::lua_pop(l, 1);
            }
        }
        if vars == 0 {
            self.scripts
                .ldb
                .log("No local variables in the current context.");
        }
    }

    unsafe fn ldb_trace(&mut self, l: *mut lua_State) {
        let mut ar: ffi::lua_Debug = std::mem::zeroed();
        let mut level = 0;
        while ffi::lua_getstack(l, level, &mut ar) != 0 {
            ffi::lua_getinfo(l, c"Snl".as_ptr(), &mut ar);
            let src = CStr::from_ptr(ar.short_src.as_ptr()).to_bytes();
            if src.windows(11).any(|w| w == b"user_script") {
                let name = if ar.name.is_null() {
                    "top level".to_string()
                } else {
                    CStr::from_ptr(ar.name).to_string_lossy().into_owned()
                };
                let what = if level == 0 { "In" } else { "From" };
                self.scripts.ldb.log(format!("{what} {name}:"));
                self.scripts.ldb.log_source_line(ar.currentline);
            }
            level += 1;
        }
        if level == 0 {
            self.scripts.ldb.log("<error> Can't retrieve Lua stack.");
        }
    }

    /// The line hook body; Some(error) = raise it in the script.
    unsafe fn ldb_line_hook(
        &mut self,
        l: *mut lua_State,
        ar: *mut ffi::lua_Debug,
    ) -> Option<&'static str> {
        ffi::lua_getstack(l, 0, ar);
        ffi::lua_getinfo(l, c"Sl".as_ptr(), ar);
        let ldb = &mut self.scripts.ldb;
        ldb.currentline = (*ar).currentline;
        let bp = ldb.bp.contains(&ldb.currentline) || ldb.luabp;
        let src = CStr::from_ptr((*ar).short_src.as_ptr()).to_bytes();
        if !src.windows(11).any(|w| w == b"user_script") {
            return None;
        }
        let mut timeout = false;
        if (*ar).event == ffi::LUA_HOOKCOUNT && !ldb.step && !bp {
            let limit = match self.cfg.busy_reply_threshold {
                0 => 5000,
                v => v,
            };
            let ldb = &mut self.scripts.ldb;
            if crate::util::monotonic_us().saturating_sub(ldb.start_us) / 1000 >= limit {
                timeout = true;
                ldb.step = true;
            } else {
                return None;
            }
        }
        let ldb = &mut self.scripts.ldb;
        if ldb.step || bp {
            let reason = if bp {
                if ldb.luabp {
                    "redis.breakpoint() called"
                } else {
                    "break point"
                }
            } else if timeout {
                "timeout reached, infinite loop?"
            } else {
                "step over"
            };
            ldb.step = false;
            ldb.luabp = false;
            let line = ldb.currentline;
            ldb.log(format!("* Stopped at {line}, stop reason = {reason}"));
            ldb.log_source_line(line);
            ldb.send_logs();
            match self.ldb_repl(l) {
                ReplEnd::Raise(e) => return Some(e),
                ReplEnd::Gone if timeout => {
                    return Some("timeout during Lua debugging with client closing connection")
                }
                _ => {}
            }
            self.scripts.ldb.start_us = crate::util::monotonic_us();
        }
        None
    }
}

/// The line hook of a debugging session (luaLdbLineHook).
pub unsafe extern "C-unwind" fn line_hook(l: *mut lua_State, ar: *mut ffi::lua_Debug) {
    let Some(srv) = super::current() else {
        return;
    };
    if let Some(e) = srv.ldb_line_hook(l, ar) {
        push_error_table(l, e.as_bytes());
        raise(l);
    }
}
