//! EVAL, EVALSHA, EVAL_RO, EVALSHA_RO and SCRIPT (Redis's eval.c): the
//! EVAL Lua state, the script cache (SHA1 -> body, flags, compiled
//! function), shebang flags, and running one script for a client.

use super::lua::*;
use super::run::rflag;
use super::{api, convert, sflag};
use crate::cmd::eq_ic;
use crate::error::{self, CmdError};
use crate::server::Server;
use bytes::Bytes;
use mlua::ffi;
use std::cell::Cell;
use std::collections::HashMap;
use std::ffi::c_int;

/// One cached script. Its body is not kept: nothing reads it once it is
/// compiled (used_memory_scripts_eval still counts it, as Redis does).
pub struct Script {
    pub flags: u32,
    /// The compiled function, a reference in the registry.
    pub fref: c_int,
}

/// The EVAL engine: its Lua state and the script cache.
pub struct EvalCtx {
    pub vm: Vm,
    /// Keyed by the binary SHA1 (half the hex form; already uniformly
    /// spread: a cheap hasher is enough).
    pub scripts: HashMap<ShaKey, Script, rustc_hash::FxBuildHasher>,
    /// Memory of the cached bodies (used_memory_scripts_eval).
    pub scripts_mem: usize,
    /// Registry reference of the error handler.
    pub err_handler: c_int,
    /// The SHA1 of the EVAL body processCommand looked up for the script's
    /// flags, with the body itself (held, its address identifies it): the
    /// run takes it, so a body is hashed once per EVAL, as Redis's
    /// c->cur_script; process_command drops it after the command.
    pub body_sha: Cell<Option<(Bytes, ShaKey)>>,
}

unsafe extern "C-unwind" fn redis_breakpoint(l: *mut lua_State) -> c_int {
    let hit = super::current().is_some_and(|s| s.ldb_breakpoint());
    ffi::lua_pushboolean(l, hit as c_int);
    1
}

unsafe extern "C-unwind" fn redis_debug(l: *mut lua_State) -> c_int {
    if let Some(s) = super::current() {
        s.ldb_debug_values(l);
    }
    0
}

unsafe extern "C-unwind" fn redis_replicate_commands(l: *mut lua_State) -> c_int {
    // Effects replication is the only mode since 7.0.
    ffi::lua_pushboolean(l, 1);
    1
}

impl EvalCtx {
    /// Redis's scriptingInit: a fresh state with the sandbox in place.
    pub fn new() -> EvalCtx {
        let vm = Vm::new();
        let l = vm.state();
        // SAFETY: a fresh state, set up once on the loop thread.
        let err_handler = unsafe {
            api::register_redis_api(l);
            ffi::lua_getfield(l, GLOBALS, c"redis".as_ptr());
            set_fn(l, c"breakpoint", redis_breakpoint);
            set_fn(l, c"debug", redis_debug);
            set_fn(l, c"replicate_commands", redis_replicate_commands);
            ffi::lua_pop(l, 1);
            push_new_error_handler(l);
            ffi::lua_pushvalue(l, -1);
            ffi::lua_setfield(l, GLOBALS, c"__redis__err__handler".as_ptr());
            let r = ffi::luaL_ref(l, REGISTRY);
            ffi::lua_pushvalue(l, GLOBALS);
            set_error_metatable(l);
            protect_recursively(l);
            ffi::lua_pop(l, 1);
            protect_string_metatable(l);
            r
        };
        EvalCtx {
            vm,
            scripts: HashMap::default(),
            scripts_mem: 0,
            err_handler,
            body_sha: Cell::new(None),
        }
    }

    /// Memory of the cache as Redis's evalScriptsMemory counts it.
    pub fn cache_memory(&self) -> usize {
        self.scripts_mem + self.scripts.len() * (24 + 16) + self.scripts.capacity() * 8
    }
}

impl Default for EvalCtx {
    fn default() -> Self {
        EvalCtx::new()
    }
}

/// The script cache's key: a SHA1's 20 bytes.
pub type ShaKey = [u8; 20];

/// The cache key of a 40-char hex SHA1, case-insensitively (None when it
/// is not hex: no script has that name).
fn sha_key(hex: &[u8]) -> Option<ShaKey> {
    if hex.len() != 40 {
        return None;
    }
    let nibble = |c: u8| match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    };
    let mut k = [0u8; 20];
    for (d, pair) in k.iter_mut().zip(hex.chunks_exact(2)) {
        *d = nibble(pair[0])? << 4 | nibble(pair[1])?;
    }
    Some(k)
}

/// Lower-cases a 40-char SHA1 argument.
fn sha_lower(s: &[u8]) -> Option<[u8; 40]> {
    let mut k = [0u8; 40];
    if s.len() != 40 {
        return None;
    }
    for (d, c) in k.iter_mut().zip(s) {
        *d = c.to_ascii_lowercase();
    }
    Some(k)
}

/// Parses a `#!lua flags=a,b` first line (evalExtractShebangFlags).
/// Returns the flags and the length of the shebang line (0 without one).
pub fn extract_shebang_flags(body: &[u8]) -> Result<(u32, usize), String> {
    if !body.starts_with(b"#!") {
        return Ok((sflag::EVAL_COMPAT_MODE, 0));
    }
    let Some(end) = body.iter().position(|&c| c == b'\n') else {
        return Err("Invalid script shebang".into());
    };
    let line = &body[..end];
    let parts = match crate::util::splitargs::split_args_str(&String::from_utf8_lossy(line)) {
        Some(p) if !p.is_empty() => p,
        _ => return Err("Invalid engine in script shebang".into()),
    };
    if parts[0] != "#!lua" {
        return Err(format!("Unexpected engine in script shebang: {}", parts[0]));
    }
    let mut flags = 0;
    for p in &parts[1..] {
        let Some(list) = p.strip_prefix("flags=") else {
            return Err(format!("Unknown lua shebang option: {p}"));
        };
        if list.is_empty() {
            continue;
        }
        for f in list.split(',') {
            match sflag::NAMES.iter().find(|(_, n)| *n == f) {
                Some((v, _)) => flags |= v,
                None => return Err(format!("Unexpected flag in script shebang: {f}")),
            }
        }
    }
    Ok((flags, end))
}

impl Server {
    /// The script flags of an EVAL*'s script when known (cached, or a
    /// shebang that parses), for processCommand's checks.
    pub fn eval_script_flags(&self, evalsha: bool, arg: &Bytes) -> Option<u32> {
        if evalsha {
            let k = sha_key(arg)?;
            return self.scripts.eval.scripts.get(&k).map(|s| s.flags);
        }
        let k = crate::persist::sha1::sha1(arg);
        self.scripts.eval.body_sha.set(Some((arg.clone(), k)));
        if let Some(s) = self.scripts.eval.scripts.get(&k) {
            return Some(s.flags);
        }
        extract_shebang_flags(arg).ok().map(|(f, _)| f)
    }

    /// Redis's luaCreateFunction: compiles and caches a script body.
    /// Returns its SHA1.
    pub fn eval_create_function(&mut self, body: &Bytes) -> Result<[u8; 40], CmdError> {
        let k = match self.scripts.eval.body_sha.take() {
            Some((b, k)) if b.as_ptr() == body.as_ptr() && b.len() == body.len() => k,
            _ => crate::persist::sha1::sha1(body),
        };
        let sha = api::digest_hex(&k);
        if self.scripts.eval.scripts.contains_key(&k) {
            return Ok(sha);
        }
        let (flags, shebang_len) =
            extract_shebang_flags(body).map_err(|e| CmdError::msg(format!("ERR {e}")))?;
        let l = self.scripts.eval.vm.state();
        // SAFETY: the EVAL state, on the loop thread.
        let fref = unsafe {
            if let Err(msg) = load_buffer(l, &body[shebang_len..], c"@user_script") {
                return Err(CmdError::msg(format!(
                    "ERR Error compiling script (new function): {}",
                    String::from_utf8_lossy(&msg)
                )));
            }
            ffi::luaL_ref(l, REGISTRY)
        };
        self.scripts.eval.scripts_mem += 40 + 16 + body.len();
        self.scripts.eval.scripts.insert(k, Script { flags, fref });
        Ok(sha)
    }

    /// EVAL / EVALSHA / EVAL_RO / EVALSHA_RO.
    pub fn cmd_eval(
        &mut self,
        key: usize,
        argv: &[Bytes],
        evalsha: bool,
        ro: bool,
    ) -> Result<(), CmdError> {
        // The script's writes are propagated one by one, never EVAL itself.
        self.prevent_propagation();
        self.feed_monitors_for_script(key, argv);
        if evalsha && argv[1].len() != 40 {
            return Err(NOSCRIPT.into());
        }
        if self.clients.get(key).is_some_and(|c| c.lua_debug != 0) {
            if evalsha {
                return Err("ERR Please use EVAL instead of EVALSHA for debugging".into());
            }
            return self.ldb_eval(key, argv);
        }
        let numkeys = parse_numkeys(argv, "ERR value is not an integer or out of range")?;
        let sha = if evalsha {
            sha_lower(&argv[1]).ok_or(CmdError::from(NOSCRIPT))?
        } else {
            self.eval_create_function(&argv[1])?
        };
        let Some(script) = sha_key(&sha).and_then(|k| self.scripts.eval.scripts.get(&k)) else {
            return Err(NOSCRIPT.into());
        };
        let (flags, fref) = (script.flags, script.fref);
        self.script_prepare(key, argv, super::run::FuncName::Sha(sha), flags, ro, true)?;
        let l = self.scripts.eval.vm.state();
        let handler = self.scripts.eval.err_handler;
        let keys = &argv[3..3 + numkeys];
        let args = &argv[3 + numkeys..];
        // SAFETY: the EVAL state; the function reference is alive.
        unsafe {
            ffi::lua_rawgeti(l, REGISTRY, handler as ffi::lua_Integer);
            ffi::lua_rawgeti(l, REGISTRY, fref as ffi::lua_Integer);
            self.lua_call_function(l, key, keys, args, true);
            ffi::lua_pop(l, 1);
        }
        self.script_reset();
        Ok(())
    }

    /// Redis's luaCallFunction: with the error handler and the function on
    /// the stack, runs it (KEYS/ARGV as globals for EVAL, as arguments for
    /// functions) and writes its reply or error to the caller.
    ///
    /// # Safety
    /// `l` is the engine's state with the handler and function on top.
    pub unsafe fn lua_call_function(
        &mut self,
        l: *mut lua_State,
        key: usize,
        keys: &[Bytes],
        args: &[Bytes],
        eval_mode: bool,
    ) {
        let threshold_on = self.cfg.busy_reply_threshold != 0;
        let debugging = eval_mode && self.scripts.ldb.on;
        if debugging {
            ffi::lua_sethook(
                l,
                Some(super::ldb::line_hook),
                ffi::LUA_MASKLINE | ffi::LUA_MASKCOUNT,
                100000,
            );
        } else if threshold_on {
            ffi::lua_sethook(l, Some(api::count_hook), ffi::LUA_MASKCOUNT, 100000);
        }
        push_string_array(l, keys);
        if eval_mode {
            lua_enablereadonlytable(l, GLOBALS, 0);
            ffi::lua_setfield(l, GLOBALS, c"KEYS".as_ptr());
            lua_enablereadonlytable(l, GLOBALS, 1);
        }
        push_string_array(l, args);
        if eval_mode {
            lua_enablereadonlytable(l, GLOBALS, 0);
            ffi::lua_setfield(l, GLOBALS, c"ARGV".as_ptr());
            lua_enablereadonlytable(l, GLOBALS, 1);
        }
        let err = super::with_current(self, |_| {
            if eval_mode {
                ffi::lua_pcall(l, 0, 1, -2)
            } else {
                ffi::lua_pcall(l, 2, 1, -4)
            }
        });
        self.scripts.gc_count += 1;
        if self.scripts.gc_count == 50 {
            ffi::lua_gc(l, ffi::LUA_GCSTEP, 50);
            self.scripts.gc_count = 0;
        }
        let script_resp = self.scripts.run.as_ref().map_or(2, |r| r.resp);
        if err != 0 {
            let funcname = self
                .scripts
                .run
                .as_ref()
                .map(|r| r.funcname.to_string())
                .unwrap_or_default();
            if ffi::lua_istable(l, -1) == 0 {
                let msg = to_bytes(l, -1)
                    .map(|m| String::from_utf8_lossy(m).into_owned())
                    .unwrap_or_else(|| "execution failure".into());
                let msg: String = msg.chars().take(100).collect();
                let e = CmdError::msg(format!("ERR Error running script {funcname}, {msg}"));
                self.reply_error(key, &e);
            } else {
                let info = error_info(l);
                let mut text = String::from_utf8_lossy(&info.msg).into_owned();
                if let (Some(line), Some(source)) = (&info.line, &info.source) {
                    text.push_str(&format!(
                        " script: {funcname}, on {}:{}.",
                        String::from_utf8_lossy(source),
                        String::from_utf8_lossy(line)
                    ));
                }
                self.reply_script_error(key, &text, !info.ignore_stats);
            }
            ffi::lua_pop(l, 1);
        } else {
            let mut errs = convert::ErrorsSeen::new();
            let mut sink = Vec::new();
            match self.clients.get_mut(key) {
                Some(c) if c.kind == crate::net::Kind::Normal => {
                    let resp = c.resp;
                    let mut out = crate::resp::Out::new(&mut c.reply, resp);
                    convert::lua_to_reply(l, &mut out, script_resp, &mut errs);
                }
                _ => {
                    let mut out = crate::resp::Out::new(&mut sink, 2);
                    convert::lua_to_reply(l, &mut out, script_resp, &mut errs);
                }
            }
            for (code, count) in errs {
                if count {
                    self.count_error_reply(&String::from_utf8_lossy(&code));
                } else {
                    // Counted by the command that produced it; this one
                    // still failed (Redis's ERR_REPLY_FLAG_NO_STATS_UPDATE).
                    self.stats.failed_uncounted = true;
                }
            }
        }
        if debugging || threshold_on {
            ffi::lua_sethook(l, None, 0, 0);
        }
    }

    /// An error reply from a script's result: written as is, counted in
    /// the error stats unless the command inside already counted it.
    pub fn reply_script_error(&mut self, key: usize, text: &str, count: bool) {
        let t = text.strip_prefix('-').unwrap_or(text);
        if count {
            let code = t.split(' ').next().unwrap_or("ERR").to_string();
            self.count_error_reply(&code);
        } else {
            self.stats.failed_uncounted = true;
        }
        if let Some(c) = self.clients.get_mut(key) {
            if c.kind == crate::net::Kind::Normal {
                let resp = c.resp;
                let t = if t.is_empty() { "ERR" } else { t };
                crate::resp::Out::new(&mut c.reply, resp).error(t);
            }
        }
    }

    /// Counts one error reply in INFO errorstats / total_error_replies.
    pub fn count_error_reply(&mut self, code: &str) {
        self.stats.total_error_replies += 1;
        *self.errorstats.entry(code.to_string()).or_insert(0) += 1;
    }

    /// SCRIPT LOAD|EXISTS|FLUSH|KILL|DEBUG|HELP.
    pub fn cmd_script(&mut self, key: usize, argv: &[Bytes]) -> Result<(), CmdError> {
        let sub = &argv[1];
        if argv.len() == 2 && eq_ic(sub, "help") {
            self.reply_help(key, SCRIPT_HELP);
            return Ok(());
        }
        if eq_ic(sub, "flush") {
            let ok = argv.len() == 2
                || (argv.len() == 3 && (eq_ic(&argv[2], "sync") || eq_ic(&argv[2], "async")));
            if !ok {
                return Err("ERR SCRIPT FLUSH only support SYNC|ASYNC option".into());
            }
            self.scripts.eval = EvalCtx::new();
            self.reply_ok(key);
            return Ok(());
        }
        if eq_ic(sub, "exists") && argv.len() >= 2 {
            let found: Vec<bool> = argv[2..]
                .iter()
                .map(|s| sha_key(s).is_some_and(|k| self.scripts.eval.scripts.contains_key(&k)))
                .collect();
            self.reply(key, |o| {
                o.array(found.len());
                for f in found {
                    o.int(f as i64);
                }
            });
            return Ok(());
        }
        if argv.len() == 3 && eq_ic(sub, "load") {
            let sha = self.eval_create_function(&argv[2])?;
            self.reply(key, |o| o.bulk(&sha));
            return Ok(());
        }
        if argv.len() == 2 && eq_ic(sub, "kill") {
            self.script_kill(true)?;
            self.reply_ok(key);
            return Ok(());
        }
        if argv.len() == 3 && eq_ic(sub, "debug") {
            return self.cmd_script_debug(key, &argv[2]);
        }
        Err(error::unknown_subcommand(sub, "SCRIPT"))
    }

    /// Redis feeds MONITOR with EVAL/FCALL before the commands they run.
    pub fn feed_monitors_for_script(&mut self, key: usize, argv: &[Bytes]) {
        if !self.clients.has_monitors() {
            return;
        }
        let db = self.clients.get(key).map_or(0, |c| c.db);
        self.feed_monitors(key, db, argv);
    }
}

pub const NOSCRIPT: &str = "NOSCRIPT No matching script. Please use EVAL.";

/// numkeys of EVAL/FCALL: `bad` when not a number, then the range errors.
pub fn parse_numkeys(argv: &[Bytes], bad: &'static str) -> Result<usize, CmdError> {
    let n = crate::encoding::numbers::string2ll(&argv[2]).ok_or(CmdError::from(bad))?;
    if n > (argv.len() - 3) as i64 {
        return Err("ERR Number of keys can't be greater than number of args".into());
    }
    if n < 0 {
        return Err("ERR Number of keys can't be negative".into());
    }
    Ok(n as usize)
}

const SCRIPT_HELP: &[&str] = &[
    "SCRIPT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "DEBUG (YES|SYNC|NO)",
    "    Set the debug mode for subsequent scripts executed.",
    "EXISTS <sha1> [<sha1> ...]",
    "    Return information about the existence of the scripts in the script cache.",
    "FLUSH [ASYNC|SYNC]",
    "    Flush the Lua scripts cache. Very dangerous on replicas.",
    "    When called without the optional mode argument, the behavior is determined by the",
    "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
    "    * ASYNC: Asynchronously flush the scripts cache.",
    "    * SYNC: Synchronously flush the scripts cache.",
    "KILL",
    "    Kill the currently executing Lua script.",
    "LOAD <script>",
    "    Load a script into the scripts cache without executing it.",
    "HELP",
    "    Prints this help.",
];

/// Unused marker to keep rflag imported for readers of this module.
#[allow(dead_code)]
const _EVAL_MODE: u32 = rflag::EVAL_MODE;
