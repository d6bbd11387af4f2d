//! The raw Lua 5.1 C API, as the engines use it: the state, stack helpers,
//! Redis's read-only tables, error tables, the library set and the sandbox.
//!
//! Why the C API and not mlua's safe layer: Redis's observable behaviour
//! rests on exact stack work (errors are tables carried through `lua_error`,
//! an error handler reads `debug.getinfo` at fixed levels, a count hook
//! raises from inside the VM). mlua provides the vendored Lua build and the
//! FFI (`mlua::ffi`); its safe wrappers would turn error tables into Rust
//! strings and add frames. Rule for every C function here: all Rust values
//! that own memory are dropped before `lua_error` is reached (it longjmps).

use mlua::ffi;
pub use mlua::ffi::lua_State;
use std::ffi::{c_char, c_int, CStr};

extern "C-unwind" {
    /// Redis's Lua patch (vendor/lua-src): writes to the table raise
    /// "Attempt to modify a readonly table".
    pub fn lua_enablereadonlytable(l: *mut lua_State, idx: c_int, enabled: c_int);
    pub fn lua_isreadonlytable(l: *mut lua_State, idx: c_int) -> c_int;
}

pub const REGISTRY: c_int = ffi::LUA_REGISTRYINDEX;
pub const GLOBALS: c_int = ffi::LUA_GLOBALSINDEX;
pub type CFn = unsafe extern "C-unwind" fn(*mut lua_State) -> c_int;

/// One Lua interpreter, closed on drop.
pub struct Vm {
    l: *mut lua_State,
}

impl Vm {
    pub fn new() -> Vm {
        // SAFETY: luaL_newstate has no preconditions; null only on OOM.
        let l = unsafe { ffi::luaL_newstate() };
        assert!(!l.is_null(), "cannot create a Lua state (out of memory)");
        Vm { l }
    }

    #[inline]
    pub fn state(&self) -> *mut lua_State {
        self.l
    }

    /// Bytes used by the interpreter (Redis's luaMemory: GCCOUNT * 1024).
    pub fn memory(&self) -> usize {
        // SAFETY: valid state.
        unsafe { ffi::lua_gc(self.l, ffi::LUA_GCCOUNT, 0) as usize * 1024 }
    }
}

impl Default for Vm {
    fn default() -> Self {
        Vm::new()
    }
}

impl Drop for Vm {
    fn drop(&mut self) {
        // SAFETY: we own the state; nothing references it past this point.
        unsafe { ffi::lua_close(self.l) }
    }
}

// ---- stack helpers ----

#[inline]
pub unsafe fn push_bytes(l: *mut lua_State, b: &[u8]) {
    ffi::lua_pushlstring(l, b.as_ptr() as *const c_char, b.len());
}

#[inline]
pub unsafe fn push_cstr(l: *mut lua_State, s: &CStr) {
    ffi::lua_pushstring(l, s.as_ptr());
}

/// The string at `idx` (numbers are converted in place, as lua_tolstring).
#[inline]
pub unsafe fn to_bytes<'a>(l: *mut lua_State, idx: c_int) -> Option<&'a [u8]> {
    let mut len = 0usize;
    let p = ffi::lua_tolstring(l, idx, &mut len);
    if p.is_null() {
        None
    } else {
        Some(std::slice::from_raw_parts(p as *const u8, len))
    }
}

/// t[name] = value on top (pops the value); honours metamethods.
#[inline]
pub unsafe fn set_field(l: *mut lua_State, idx: c_int, name: &CStr) {
    ffi::lua_setfield(l, idx, name.as_ptr());
}

/// Registers `f` as t[name] for the table on top of the stack.
pub unsafe fn set_fn(l: *mut lua_State, name: &CStr, f: CFn) {
    ffi::lua_pushcfunction(l, f);
    set_field(l, -2, name);
}

/// Sets t[name] = n for the table on top of the stack.
pub unsafe fn set_num(l: *mut lua_State, name: &CStr, n: f64) {
    ffi::lua_pushnumber(l, n);
    set_field(l, -2, name);
}

/// Raises the value on top of the stack. Callers hold no owning Rust values.
#[inline]
pub unsafe fn raise(l: *mut lua_State) -> ! {
    ffi::lua_error(l)
}

/// Raises a string error prefixed with the caller's position, like
/// luaL_error. `msg` is copied to the Lua stack first.
pub unsafe fn raise_msg(l: *mut lua_State, msg: &[u8]) -> ! {
    ffi::luaL_where(l, 1);
    push_bytes(l, msg);
    ffi::lua_concat(l, 2);
    ffi::lua_error(l)
}

/// Pushes an error table `{err = "CODE message"}` the way Redis's
/// luaPushErrorBuff builds it: "-CODE msg" keeps its code, a message
/// without a leading dash gets "ERR"; trailing CR/LF are trimmed.
pub unsafe fn push_error_table(l: *mut lua_State, err: &[u8]) {
    let full = error_table_text(err);
    ffi::lua_createtable(l, 0, 1);
    push_cstr(l, c"err");
    push_bytes(l, &full);
    ffi::lua_settable(l, -3);
}

/// The text stored in an error table for `err` (see push_error_table).
pub fn error_table_text(err: &[u8]) -> Vec<u8> {
    let (code, msg): (&[u8], &[u8]) = if let Some(rest) = err.strip_prefix(b"-") {
        match rest.iter().position(|&c| c == b' ') {
            Some(sp) => (&rest[..sp], &rest[sp + 1..]),
            None => (b"ERR", rest),
        }
    } else {
        (b"ERR", err)
    };
    // sdstrim(msg, "\r\n"): both ends.
    let mut a = 0;
    let mut b = msg.len();
    while a < b && (msg[a] == b'\r' || msg[a] == b'\n') {
        a += 1;
    }
    while b > a && (msg[b - 1] == b'\r' || msg[b - 1] == b'\n') {
        b -= 1;
    }
    // C strings end at the first NUL (lua_pushstring in Redis).
    let code = code.split(|&c| c == 0).next().unwrap_or(b"");
    let msg = &msg[a..b];
    let msg = msg.split(|&c| c == 0).next().unwrap_or(b"");
    let mut full = Vec::with_capacity(code.len() + 1 + msg.len());
    full.extend_from_slice(code);
    full.push(b' ');
    full.extend_from_slice(msg);
    full
}

/// Marks the error table on top of the stack so that its final reply does
/// not count in the error stats again (the command already counted it).
pub unsafe fn mark_error_counted(l: *mut lua_State) {
    push_cstr(l, c"ignore_error_stats_update");
    ffi::lua_pushboolean(l, 1);
    ffi::lua_settable(l, -3);
}

/// What an error object carries (Redis's errorInfo).
#[derive(Default, Debug)]
pub struct ErrorInfo {
    pub msg: Vec<u8>,
    pub source: Option<Vec<u8>>,
    pub line: Option<Vec<u8>>,
    pub ignore_stats: bool,
}

/// Reads the error object on top of the stack (not popped).
pub unsafe fn error_info(l: *mut lua_State) -> ErrorInfo {
    let mut e = ErrorInfo::default();
    if ffi::lua_isstring(l, -1) != 0 {
        let mut m = b"ERR ".to_vec();
        m.extend_from_slice(to_bytes(l, -1).unwrap_or(b""));
        e.msg = m;
        return e;
    }
    if ffi::lua_istable(l, -1) == 0 {
        return e;
    }
    ffi::lua_getfield(l, -1, c"err".as_ptr());
    if ffi::lua_isstring(l, -1) != 0 {
        e.msg = cstr_prefix(to_bytes(l, -1).unwrap_or(b"")).to_vec();
    }
    ffi::lua_pop(l, 1);
    ffi::lua_getfield(l, -1, c"source".as_ptr());
    if ffi::lua_isstring(l, -1) != 0 {
        e.source = Some(cstr_prefix(to_bytes(l, -1).unwrap_or(b"")).to_vec());
    }
    ffi::lua_pop(l, 1);
    ffi::lua_getfield(l, -1, c"line".as_ptr());
    if ffi::lua_isstring(l, -1) != 0 {
        e.line = Some(cstr_prefix(to_bytes(l, -1).unwrap_or(b"")).to_vec());
    }
    ffi::lua_pop(l, 1);
    ffi::lua_getfield(l, -1, c"ignore_error_stats_update".as_ptr());
    if ffi::lua_isboolean(l, -1) != 0 {
        e.ignore_stats = ffi::lua_toboolean(l, -1) != 0;
    }
    ffi::lua_pop(l, 1);
    e
}

/// The part of a Lua string a C API call that stops at NUL would see.
pub fn cstr_prefix(b: &[u8]) -> &[u8] {
    b.split(|&c| c == 0).next().unwrap_or(b"")
}

// ---- sandbox ----

/// Globals the libraries may create while the state is set up (Redis's
/// allow lists); anything else is dropped (and logged unless denied).
const ALLOWED_GLOBALS: &[&[u8]] = &[
    b"string",
    b"cjson",
    b"bit",
    b"cmsgpack",
    b"math",
    b"table",
    b"struct",
    b"redis",
    b"__redis__err__handler",
    b"xpcall",
    b"tostring",
    b"setmetatable",
    b"next",
    b"assert",
    b"tonumber",
    b"rawequal",
    b"collectgarbage",
    b"getmetatable",
    b"rawset",
    b"pcall",
    b"coroutine",
    b"type",
    b"_G",
    b"select",
    b"unpack",
    b"gcinfo",
    b"pairs",
    b"rawget",
    b"loadstring",
    b"ipairs",
    b"_VERSION",
    b"load",
    b"error",
    b"debug",
];
const DENIED_GLOBALS: &[&[u8]] = &[b"dofile", b"loadfile", b"print"];
/// Builtins only there with `lua-enable-deprecated-api yes` (sandboxing
/// concerns: CVE-2025-46818, as the installed Redis 7.0.15 has them).
const DEPRECATED_GLOBALS: &[&[u8]] = &[b"newproxy", b"setfenv", b"getfenv"];

/// lua-enable-deprecated-api, read when a state is created (immutable).
pub static DEPRECATED_API: std::sync::atomic::AtomicBool =
    std::sync::atomic::AtomicBool::new(false);

unsafe extern "C-unwind" fn allow_list_newindex(l: *mut lua_State) -> c_int {
    if ffi::lua_gettop(l) != 3 {
        raise_msg(l, b"Wrong number of arguments to luaNewIndexAllowList");
    }
    if ffi::lua_istable(l, -3) == 0 {
        raise_msg(l, b"first argument to luaNewIndexAllowList must be a table");
    }
    if ffi::lua_isstring(l, -2) == 0 {
        raise_msg(
            l,
            b"Second argument to luaNewIndexAllowList must be a string or number",
        );
    }
    let name = cstr_prefix(to_bytes(l, -2).unwrap_or(b""));
    let deprecated = DEPRECATED_GLOBALS.contains(&name);
    let allowed = ALLOWED_GLOBALS.contains(&name)
        || (deprecated && DEPRECATED_API.load(std::sync::atomic::Ordering::Relaxed));
    if allowed {
        ffi::lua_rawset(l, -3);
    } else if !DENIED_GLOBALS.contains(&name) && !deprecated {
        log::warn!(
            "A key '{}' was added to Lua globals which is not on the globals allow list nor listed on the deny list.",
            String::from_utf8_lossy(name)
        );
    }
    0
}

unsafe extern "C-unwind" fn protected_table_index(l: *mut lua_State) -> c_int {
    if ffi::lua_gettop(l) != 2 {
        raise_msg(l, b"Wrong number of arguments to luaProtectedTableError");
    }
    if ffi::lua_isstring(l, -1) == 0 {
        raise_msg(
            l,
            b"Second argument to luaProtectedTableError must be a string or number",
        );
    }
    ffi::luaL_where(l, 1);
    push_cstr(
        l,
        c"Script attempted to access nonexistent global variable '",
    );
    ffi::lua_pushvalue(l, -3);
    push_cstr(l, c"'");
    ffi::lua_concat(l, 4);
    raise(l)
}

/// Gives the table on top of the stack a metatable whose __index raises
/// "Script attempted to access nonexistent global variable".
pub unsafe fn set_error_metatable(l: *mut lua_State) {
    ffi::lua_newtable(l);
    ffi::lua_pushcfunction(l, protected_table_index);
    set_field(l, -2, c"__index");
    ffi::lua_setmetatable(l, -2);
}

/// Gives the table on top of the stack the allow-list __newindex.
pub unsafe fn set_allow_list_protection(l: *mut lua_State) {
    ffi::lua_newtable(l);
    ffi::lua_pushcfunction(l, allow_list_newindex);
    set_field(l, -2, c"__newindex");
    ffi::lua_setmetatable(l, -2);
}

/// Makes the table on top of the stack, every table reachable from it and
/// their metatables read-only (luaSetTableProtectionRecursively).
pub unsafe fn protect_recursively(l: *mut lua_State) {
    if lua_isreadonlytable(l, -1) != 0 {
        return;
    }
    lua_enablereadonlytable(l, -1, 1);
    ffi::lua_checkstack(l, 2);
    ffi::lua_pushnil(l);
    while ffi::lua_next(l, -2) != 0 {
        if ffi::lua_istable(l, -1) != 0 {
            protect_recursively(l);
        }
        ffi::lua_pop(l, 1);
    }
    if ffi::lua_getmetatable(l, -1) != 0 {
        protect_recursively(l);
        ffi::lua_pop(l, 1);
    }
}

/// The metatables of the basic types (strings, numbers...) are shared by
/// every script: read-only too.
pub unsafe fn protect_string_metatable(l: *mut lua_State) {
    for t in 0..7 {
        match t {
            0 => push_bytes(l, b""),
            1 => ffi::lua_pushnumber(l, 0.0),
            2 => ffi::lua_pushboolean(l, 0),
            3 => ffi::lua_pushnil(l),
            4 => ffi::lua_pushcfunction(l, protected_table_index),
            5 => {
                ffi::lua_newthread(l);
            }
            _ => ffi::lua_pushlightuserdata(l, l as *mut std::ffi::c_void),
        }
        if ffi::lua_getmetatable(l, -1) != 0 {
            protect_recursively(l);
            ffi::lua_pop(l, 1);
        }
        ffi::lua_pop(l, 1);
    }
}

unsafe fn load_lib(l: *mut lua_State, name: &CStr, f: CFn) {
    ffi::lua_pushcfunction(l, f);
    push_cstr(l, name);
    ffi::lua_call(l, 1, 0);
}

/// The libraries Redis 7.0 loads: base, table, string, math, debug, cjson,
/// struct, cmsgpack, bit (no io, os, package).
pub unsafe fn load_libraries(l: *mut lua_State) {
    load_lib(l, c"", ffi::luaopen_base);
    load_lib(l, c"table", ffi::luaopen_table);
    load_lib(l, c"string", ffi::luaopen_string);
    load_lib(l, c"math", ffi::luaopen_math);
    load_lib(l, c"debug", ffi::luaopen_debug);
    load_lib(l, c"cjson", super::lib_cjson::luaopen_cjson);
    load_lib(l, c"struct", super::lib_struct::luaopen_struct);
    load_lib(l, c"cmsgpack", super::lib_cmsgpack::luaopen_cmsgpack);
    load_lib(l, c"bit", super::lib_bit::luaopen_bit);
}

/// Lua source of the error handler both engines use: it records where the
/// error happened (the Lua caller when a C function raised it) and turns
/// string errors into error tables.
pub const ERROR_HANDLER_SRC: &str = "local dbg = debug
debug = nil
local function handler(err)
  local i = dbg.getinfo(2, 'nSl')
  if i and i.what == 'C' then
    i = dbg.getinfo(3, 'nSl')
  end
  if type(err) ~= 'table' then
    err = {err = 'ERR ' .. tostring(err)}
  end
  if i then
    err['source'] = i.source
    err['line'] = i.currentline
  end
  return err
end
return handler
";

/// Compiles and runs ERROR_HANDLER_SRC; leaves the handler on the stack.
pub unsafe fn push_new_error_handler(l: *mut lua_State) {
    let src = ERROR_HANDLER_SRC.as_bytes();
    if ffi::luaL_loadbuffer(
        l,
        src.as_ptr() as *const c_char,
        src.len(),
        c"@err_handler_def".as_ptr(),
    ) != 0
        || ffi::lua_pcall(l, 0, 1, 0) != 0
    {
        // Cannot happen with a fixed, valid source; keep the stack shape.
        ffi::lua_pop(l, 1);
        ffi::lua_pushnil(l);
    }
}

/// Compiles `code` under `chunkname`; Ok leaves the function on the stack,
/// Err returns the compiler's message (popped).
pub unsafe fn load_buffer(l: *mut lua_State, code: &[u8], chunkname: &CStr) -> Result<(), Vec<u8>> {
    if ffi::luaL_loadbuffer(
        l,
        code.as_ptr() as *const c_char,
        code.len(),
        chunkname.as_ptr(),
    ) != 0
    {
        let msg = to_bytes(l, -1).unwrap_or(b"").to_vec();
        ffi::lua_pop(l, 1);
        return Err(msg);
    }
    Ok(())
}

/// Creates a Lua array of strings (luaCreateArray) on top of the stack.
pub unsafe fn push_string_array(l: *mut lua_State, items: &[bytes::Bytes]) {
    ffi::lua_createtable(l, items.len().min(i32::MAX as usize) as c_int, 0);
    for (i, it) in items.iter().enumerate() {
        push_bytes(l, it);
        ffi::lua_rawseti(l, -2, (i + 1) as ffi::lua_Integer);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    unsafe fn eval_str(l: *mut lua_State, code: &str) -> String {
        load_buffer(l, code.as_bytes(), c"@t").expect("compiles");
        if ffi::lua_pcall(l, 0, 1, 0) != 0 {
            return format!(
                "error: {}",
                String::from_utf8_lossy(to_bytes(l, -1).unwrap_or(b""))
            );
        }
        let s = String::from_utf8_lossy(to_bytes(l, -1).unwrap_or(b"?")).into_owned();
        ffi::lua_pop(l, 1);
        s
    }

    #[test]
    fn string_metatable_indexes_the_string_library() {
        let vm = Vm::new();
        let l = vm.state();
        unsafe {
            load_lib(l, c"", ffi::luaopen_base);
            load_lib(l, c"string", ffi::luaopen_string);
            assert_eq!(
                eval_str(l, "return tostring(getmetatable('').__index == string)"),
                "true"
            );
        }
        let vm = Vm::new();
        let l = vm.state();
        unsafe {
            super::super::api::register_redis_api(l);
            assert_eq!(
                eval_str(l, "return tostring(getmetatable('').__index == string)"),
                "true"
            );
        }
        let e = super::super::eval::EvalCtx::new();
        unsafe {
            assert_eq!(
                eval_str(
                    e.vm.state(),
                    "return tostring(getmetatable('').__index == string)"
                ),
                "true"
            );
        }
    }
}
