//! The `redis` table scripts see (call, pcall, log, setresp, set_repl,
//! sha1hex, error_reply, status_reply, acl_check_cmd, the version fields),
//! the global `pcall` Redis replaces, math.random/randomseed on Redis's own
//! generator, and the count hook that lets the loop run during long scripts.

use super::lua::*;
use super::{convert, current};
use bytes::Bytes;
use mlua::ffi;
use std::ffi::c_int;

/// The largest argument list kept in the scripting arena; bigger ones get
/// a buffer of their own, so that one huge call does not pin its size.
const ARENA_MAX: usize = 64 * 1024;

/// Reads the arguments of redis.call & co. into `argv` (Redis's
/// luaArgsToRedisArgv): numbers are formatted with %.17g, anything but
/// strings and numbers is refused. Pops the arguments.
///
/// The bytes are copied into `arena`, a buffer the scripting state keeps
/// between calls: each argument is a slice of it, and once the previous
/// call's slices are dropped the next call reuses the same memory. No
/// allocation per call (Redis allocates one object per argument).
unsafe fn args_to_argv(
    l: *mut lua_State,
    arena: &mut bytes::BytesMut,
    ends: &mut Vec<usize>,
    argv: &mut Vec<Bytes>,
) -> Result<(), &'static str> {
    argv.clear();
    ends.clear();
    let argc = ffi::lua_gettop(l);
    if argc == 0 {
        return Err("Please specify at least one argument for this redis lib call");
    }
    // Sized once: strings are measured first (numbers take at most 24 bytes).
    let mut total = 0;
    for j in 1..=argc {
        total += match ffi::lua_type(l, j) {
            ffi::LUA_TSTRING => ffi::lua_objlen(l, j),
            _ => 24,
        };
    }
    let mut own = bytes::BytesMut::new();
    let buf = if total <= ARENA_MAX {
        // Reclaims the arena's memory when nothing holds the last call's
        // arguments any more.
        arena.reserve(total);
        arena
    } else {
        own.reserve(total);
        &mut own
    };
    for j in 1..=argc {
        if ffi::lua_type(l, j) == ffi::LUA_TNUMBER {
            let n = ffi::lua_tonumber(l, j);
            if n.fract() == 0.0 && n.abs() < 1e17 && !(n == 0.0 && n.is_sign_negative()) {
                // %.17g of an integral value is its digits.
                let mut b = [0u8; 20];
                buf.extend_from_slice(crate::encoding::numbers::ll2string(n as i64, &mut b));
            } else {
                buf.extend_from_slice(crate::encoding::numbers::fmt_double(n).as_bytes());
            }
        } else {
            match to_bytes(l, j) {
                Some(b) => buf.extend_from_slice(b),
                None => {
                    buf.clear();
                    ffi::lua_settop(l, 0);
                    return Err("Lua redis lib command arguments must be strings or integers");
                }
            }
        }
        ends.push(buf.len());
    }
    ffi::lua_settop(l, 0);
    let all = buf.split().freeze();
    let mut start = 0;
    for &end in ends.iter() {
        argv.push(all.slice(start..end));
        start = end;
    }
    Ok(())
}

/// What redis.call/pcall left on the stack.
enum CallOutcome {
    /// A value (or an error table for pcall) is on top.
    Value,
    /// An error table is on top and must be raised (redis.call).
    Raise,
}

/// The body of redis.call/pcall. Every value it pushes comes from memory
/// the server owns (the argv, reply and error buffers of `Scripting`), and
/// nothing owning memory lives in this frame while Lua may raise (even a
/// memory error): the caller raises after it returns.
unsafe fn call_generic(l: *mut lua_State, raise_error: bool) -> CallOutcome {
    let Some(srv) = current().filter(|s| s.script_running()) else {
        push_error_table(
            l,
            b"redis.call/pcall can only be called inside a script invocation",
        );
        return CallOutcome::Raise;
    };
    let outcome = if raise_error {
        CallOutcome::Raise
    } else {
        CallOutcome::Value
    };
    let mut argv = std::mem::take(&mut srv.scripts.call_argv);
    let sc = &mut srv.scripts;
    if let Err(e) = args_to_argv(l, &mut sc.arg_arena, &mut sc.arg_ends, &mut argv) {
        srv.scripts.call_argv = argv;
        if srv.scripts.ldb.active() {
            srv.ldb_log_error(e.as_bytes());
        }
        push_error_table(l, e.as_bytes());
        return outcome;
    }
    if srv.scripts.ldb.active() {
        srv.ldb_log_command(&argv);
    }
    let r = srv.script_call(&argv);
    // The arguments are dropped now: the next call reuses their memory.
    argv.clear();
    srv.scripts.call_argv = argv;
    if let Err(e) = r {
        if srv.scripts.ldb.active() {
            srv.ldb_log_error(e.as_bytes());
        }
        // A refused command counts as an error reply (afterErrorReply);
        // the script's own error reply then does not count again.
        let code = e
            .strip_prefix('-')
            .map_or("ERR", |t| t.split(' ').next().unwrap_or("ERR"));
        srv.count_error_reply(code);
        srv.stats.nested_error_replies += 1;
        let mut text = std::mem::take(&mut srv.scripts.err_buf);
        text.clear();
        text.extend_from_slice(e.as_bytes());
        drop(e);
        srv.scripts.err_buf = text;
        let text: *const [u8] = srv.scripts.err_buf.as_slice();
        push_error_table(l, &*text);
        mark_error_counted(l);
        return outcome;
    }
    let is_err = srv.scripts.reply_buf.first() == Some(&b'-');
    if srv.scripts.ldb.active() {
        // (Out of `srv` while the debugger logs through it; Lua cannot
        // raise here.)
        let reply = std::mem::take(&mut srv.scripts.reply_buf);
        if is_err {
            let end = reply
                .iter()
                .position(|&c| c == b'\r')
                .unwrap_or(reply.len());
            srv.ldb_log_error(&reply[..end]);
        }
        srv.ldb_log_reply(&reply);
        srv.scripts.reply_buf = reply;
    }
    let reply: *const [u8] = srv.scripts.reply_buf.as_slice();
    let reply = &*reply;
    ffi::lua_checkstack(l, 8);
    // The reply buffer stays where it is (the server's) while Lua copies
    // from it; nothing reaches the server during the conversion.
    convert::reply_to_lua(l, reply);
    if is_err {
        outcome
    } else {
        CallOutcome::Value
    }
}

/// redis.call/pcall with the command boundary's panic guard: a panic must
/// never unwind through the Lua VM's C frames (it would leave the state
/// broken); it becomes a script error instead.
unsafe fn guarded_call(l: *mut lua_State, raise_error: bool) -> c_int {
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        call_generic(l, raise_error)
    }));
    match r {
        Ok(CallOutcome::Value) => 1,
        Ok(CallOutcome::Raise) => raise(l),
        Err(payload) => {
            drop(payload);
            log::error!("=== BUG === redis.call panicked (see the line above)");
            push_error_table(
                l,
                b"ERR internal error in redis.call (a bug, see the server log)",
            );
            raise(l)
        }
    }
}

unsafe extern "C-unwind" fn redis_call(l: *mut lua_State) -> c_int {
    guarded_call(l, true)
}

unsafe extern "C-unwind" fn redis_pcall(l: *mut lua_State) -> c_int {
    guarded_call(l, false)
}

/// The global `pcall`: an error table raised inside is returned as its
/// `err` string, as scripts written for Redis < 7 expect.
unsafe extern "C-unwind" fn lua_pcall_compat(l: *mut lua_State) -> c_int {
    let argc = ffi::lua_gettop(l);
    ffi::lua_pushboolean(l, 1);
    ffi::lua_insert(l, 1);
    if ffi::lua_pcall(l, argc - 1, ffi::LUA_MULTRET, 0) != 0 {
        ffi::lua_remove(l, 1);
        if ffi::lua_istable(l, -1) != 0 {
            ffi::lua_getfield(l, -1, c"err".as_ptr());
            if ffi::lua_isstring(l, -1) != 0 {
                ffi::lua_replace(l, -2);
            } else {
                ffi::lua_pop(l, 1);
            }
        }
        ffi::lua_pushboolean(l, 0);
        ffi::lua_insert(l, 1);
    }
    ffi::lua_gettop(l)
}

unsafe extern "C-unwind" fn redis_sha1hex(l: *mut lua_State) -> c_int {
    if ffi::lua_gettop(l) != 1 {
        push_error_table(l, b"wrong number of arguments");
        raise(l);
    }
    let s = to_bytes(l, 1).unwrap_or(b"");
    let hex = sha1_hex(s);
    push_bytes(l, &hex);
    1
}

/// The lower-case hex SHA1 of `data` (the crate's one SHA1).
pub fn sha1_hex(data: &[u8]) -> [u8; 40] {
    digest_hex(&crate::persist::sha1::sha1(data))
}

/// A SHA1 digest in lower-case hex.
pub fn digest_hex(d: &[u8; 20]) -> [u8; 40] {
    let mut out = [0u8; 40];
    const HEX: &[u8; 16] = b"0123456789abcdef";
    for (i, b) in d.iter().enumerate() {
        out[2 * i] = HEX[(b >> 4) as usize];
        out[2 * i + 1] = HEX[(b & 15) as usize];
    }
    out
}

unsafe extern "C-unwind" fn redis_error_reply(l: *mut lua_State) -> c_int {
    if ffi::lua_gettop(l) != 1 || ffi::lua_type(l, -1) != ffi::LUA_TSTRING {
        push_error_table(l, b"wrong number or type of arguments");
        return 1;
    }
    let e = cstr_prefix(to_bytes(l, -1).unwrap_or(b""));
    let mut buf = Vec::with_capacity(e.len() + 1);
    if e.first() != Some(&b'-') {
        buf.push(b'-');
    }
    buf.extend_from_slice(e);
    push_error_table(l, &buf);
    1
}

unsafe extern "C-unwind" fn redis_status_reply(l: *mut lua_State) -> c_int {
    if ffi::lua_gettop(l) != 1 || ffi::lua_type(l, -1) != ffi::LUA_TSTRING {
        push_error_table(l, b"wrong number or type of arguments");
        return 1;
    }
    ffi::lua_newtable(l);
    push_cstr(l, c"ok");
    ffi::lua_pushvalue(l, -3);
    ffi::lua_settable(l, -3);
    1
}

unsafe extern "C-unwind" fn redis_set_repl(l: *mut lua_State) -> c_int {
    let Some(srv) = current().filter(|s| s.script_running()) else {
        push_error_table(
            l,
            b"redis.set_repl can only be called inside a script invocation",
        );
        raise(l);
    };
    if ffi::lua_gettop(l) != 1 {
        push_error_table(l, b"redis.set_repl() requires two arguments.");
        raise(l);
    }
    let flags = ffi::lua_tonumber(l, -1) as i32;
    if flags & !(super::run::REPL_ALL as i32) != 0 {
        push_error_table(
            l,
            b"Invalid replication flags. Use REPL_AOF, REPL_REPLICA, REPL_ALL or REPL_NONE.",
        );
        raise(l);
    }
    if let Some(r) = srv.scripts.run.as_mut() {
        r.repl_flags = flags as u8;
    }
    0
}

unsafe extern "C-unwind" fn redis_setresp(l: *mut lua_State) -> c_int {
    let Some(srv) = current().filter(|s| s.script_running()) else {
        push_error_table(
            l,
            b"redis.setresp can only be called inside a script invocation",
        );
        raise(l);
    };
    if ffi::lua_gettop(l) != 1 {
        push_error_table(l, b"redis.setresp() requires one argument.");
        raise(l);
    }
    let resp = ffi::lua_tonumber(l, -1) as i32;
    if resp != 2 && resp != 3 {
        push_error_table(l, b"RESP version must be 2 or 3.");
        raise(l);
    }
    if let Some(r) = srv.scripts.run.as_mut() {
        r.resp = resp as u8;
    }
    0
}

unsafe fn acl_check_inner(l: *mut lua_State) -> Result<bool, &'static str> {
    let Some(srv) = current().filter(|s| s.script_running()) else {
        return Err("redis.acl_check_cmd can only be called inside a script invocation");
    };
    let mut argv = std::mem::take(&mut srv.scripts.call_argv);
    let sc = &mut srv.scripts;
    let r = args_to_argv(l, &mut sc.arg_arena, &mut sc.arg_ends, &mut argv).and_then(|()| {
        let spec = crate::cmd::lookup(&argv[0])
            .ok_or("Invalid command passed to redis.acl_check_cmd()")?;
        Ok(srv.script_acl_allowed(spec, &argv))
    });
    argv.clear();
    srv.scripts.call_argv = argv;
    r
}

unsafe extern "C-unwind" fn redis_acl_check_cmd(l: *mut lua_State) -> c_int {
    match acl_check_inner(l) {
        Ok(ok) => {
            ffi::lua_pushboolean(l, ok as c_int);
            1
        }
        Err(e) => {
            push_error_table(l, e.as_bytes());
            raise(l)
        }
    }
}

/// Log levels as Redis numbers them (LL_DEBUG..LL_WARNING).
unsafe extern "C-unwind" fn redis_log(l: *mut lua_State) -> c_int {
    let argc = ffi::lua_gettop(l);
    if argc < 2 {
        push_error_table(l, b"redis.log() requires two arguments or more.");
        raise(l);
    }
    if ffi::lua_isnumber(l, -argc) == 0 {
        push_error_table(l, b"First argument must be a number (log level).");
        raise(l);
    }
    let level = ffi::lua_tonumber(l, -argc) as i32;
    if !(0..=3).contains(&level) {
        push_error_table(l, b"Invalid debug level.");
        raise(l);
    }
    log_args(l, argc, level);
    0
}

unsafe fn log_args(l: *mut lua_State, argc: c_int, level: i32) {
    let mut msg = Vec::new();
    for j in 1..argc {
        if let Some(s) = to_bytes(l, -argc + j) {
            if j != 1 {
                msg.push(b' ');
            }
            msg.extend_from_slice(s);
        }
    }
    let text = String::from_utf8_lossy(&msg);
    match level {
        0 => log::debug!("{text}"),
        1 => log::debug!("{text}"),
        2 => log::info!("{text}"),
        _ => log::warn!("{text}"),
    }
}

/// math.random on Redis's lrand48, with Lua 5.1's argument rules.
unsafe extern "C-unwind" fn math_random(l: *mut lua_State) -> c_int {
    let Some(srv) = current() else {
        raise_msg(
            l,
            b"math.random can only be called inside a script invocation",
        );
    };
    let max = i32::MAX as f64;
    let r = (srv.scripts.rand.lrand48() as i64 % i32::MAX as i64) as f64 / max;
    match ffi::lua_gettop(l) {
        0 => ffi::lua_pushnumber(l, r),
        1 => {
            let u = ffi::luaL_checkinteger(l, 1) as i32;
            if u < 1 {
                ffi::luaL_argerror(l, 1, c"interval is empty".as_ptr());
            }
            ffi::lua_pushnumber(l, (r * u as f64).floor() + 1.0);
        }
        2 => {
            let lo = ffi::luaL_checkinteger(l, 1) as i32;
            let up = ffi::luaL_checkinteger(l, 2) as i32;
            if lo > up {
                ffi::luaL_argerror(l, 2, c"interval is empty".as_ptr());
            }
            ffi::lua_pushnumber(l, (r * (up as f64 - lo as f64 + 1.0)).floor() + lo as f64);
        }
        _ => raise_msg(l, b"wrong number of arguments"),
    }
    1
}

unsafe extern "C-unwind" fn math_randomseed(l: *mut lua_State) -> c_int {
    let Some(srv) = current() else {
        raise_msg(
            l,
            b"math.randomseed can only be called inside a script invocation",
        );
    };
    let seed = ffi::luaL_checkinteger(l, 1) as i32;
    srv.scripts.rand.seed(seed);
    0
}

/// Adds redis.log and the LOG_* levels to the table on top of the stack.
pub unsafe fn register_log(l: *mut lua_State) {
    set_fn(l, c"log", redis_log);
    set_num(l, c"LOG_DEBUG", 0.0);
    set_num(l, c"LOG_VERBOSE", 1.0);
    set_num(l, c"LOG_NOTICE", 2.0);
    set_num(l, c"LOG_WARNING", 3.0);
}

/// Adds REDIS_VERSION and REDIS_VERSION_NUM to the table on top of the stack.
pub unsafe fn register_version(l: *mut lua_State) {
    let v = crate::REDIS_VERSION;
    let mut num = 0u32;
    for part in v.split('.') {
        num = (num << 8) | part.parse::<u32>().unwrap_or(0);
    }
    set_num(l, c"REDIS_VERSION_NUM", num as f64);
    push_cstr(l, c"REDIS_VERSION");
    push_bytes(l, v.as_bytes());
    ffi::lua_settable(l, -3);
}

/// Redis's luaRegisterRedisAPI: the allow-list protection on the globals,
/// the libraries, `pcall`, the `redis` table and math.random.
pub unsafe fn register_redis_api(l: *mut lua_State) {
    ffi::lua_pushvalue(l, GLOBALS);
    set_allow_list_protection(l);
    ffi::lua_pop(l, 1);
    load_libraries(l);
    ffi::lua_pushcfunction(l, lua_pcall_compat);
    ffi::lua_setfield(l, GLOBALS, c"pcall".as_ptr());

    ffi::lua_newtable(l);
    set_fn(l, c"call", redis_call);
    set_fn(l, c"pcall", redis_pcall);
    register_log(l);
    register_version(l);
    set_fn(l, c"setresp", redis_setresp);
    set_fn(l, c"sha1hex", redis_sha1hex);
    set_fn(l, c"error_reply", redis_error_reply);
    set_fn(l, c"status_reply", redis_status_reply);
    set_fn(l, c"set_repl", redis_set_repl);
    set_num(l, c"REPL_NONE", 0.0);
    set_num(l, c"REPL_AOF", 1.0);
    set_num(l, c"REPL_SLAVE", 2.0);
    set_num(l, c"REPL_REPLICA", 2.0);
    set_num(l, c"REPL_ALL", 3.0);
    set_fn(l, c"acl_check_cmd", redis_acl_check_cmd);
    ffi::lua_setfield(l, GLOBALS, c"redis".as_ptr());

    ffi::lua_getfield(l, GLOBALS, c"math".as_ptr());
    set_fn(l, c"random", math_random);
    set_fn(l, c"randomseed", math_randomseed);
    ffi::lua_pop(l, 1);
}

/// The count hook installed while a script runs (every 100000
/// instructions): serve other clients past busy-reply-threshold, and end
/// the script when SCRIPT KILL / FUNCTION KILL asked for it.
pub unsafe extern "C-unwind" fn count_hook(l: *mut lua_State, _ar: *mut ffi::lua_Debug) {
    let Some(srv) = current() else {
        return;
    };
    if srv.script_interrupt() {
        log::warn!("Lua script killed by user with SCRIPT KILL.");
        // From now on on every line, so that pcall cannot swallow it.
        ffi::lua_sethook(l, Some(count_hook), ffi::LUA_MASKLINE, 0);
        push_error_table(l, b"Script killed by user with SCRIPT KILL...");
        raise(l);
    }
}
