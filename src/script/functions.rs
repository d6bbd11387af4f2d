//! Redis Functions (functions.c, function_lua.c): the functions Lua state,
//! libraries and their functions, loading a library's code (with
//! `redis.register_function`), FCALL, and the payload format shared by
//! FUNCTION DUMP/RESTORE and the RDB (RDB_OPCODE_FUNCTION2 records).

use super::lua::*;
use super::{api, sflag};
use crate::error::CmdError;
use crate::server::Server;
use bytes::Bytes;
use mlua::ffi;
use std::collections::HashMap;
use std::ffi::c_int;

/// FUNCTION LOAD's time limit for running the library's top-level code.
pub const LOAD_TIMEOUT_MS: u64 = 500;

pub struct FunctionInfo {
    pub name: Bytes,
    pub fref: c_int,
    pub flags: u32,
    pub desc: Option<Bytes>,
}

pub struct Library {
    pub name: Bytes,
    /// The whole code as given to FUNCTION LOAD (with its shebang line).
    pub code: Bytes,
    pub functions: Vec<FunctionInfo>,
}

/// The libraries and the functions Lua state.
pub struct FunctionsCtx {
    pub vm: Vm,
    pub libraries: HashMap<Bytes, Library>,
    /// Function name -> library name.
    pub functions: HashMap<Bytes, Bytes>,
    pub err_handler: c_int,
    /// Registry references: the globals scripts see, and the table that
    /// replaces them while a library's top-level code runs.
    globals_api: c_int,
    library_api: c_int,
    /// The library being loaded (redis.register_function adds to it).
    loading: Option<Library>,
    load_start_us: u64,
    load_timeout_ms: u64,
}

unsafe extern "C-unwind" fn load_hook(l: *mut lua_State, _ar: *mut ffi::lua_Debug) {
    let Some(srv) = super::current() else {
        return;
    };
    let f = &srv.scripts.functions;
    let elapsed = crate::util::monotonic_us().saturating_sub(f.load_start_us) / 1000;
    if f.load_timeout_ms > 0 && elapsed > f.load_timeout_ms {
        ffi::lua_sethook(l, Some(load_hook), ffi::LUA_MASKLINE, 0);
        push_error_table(l, b"FUNCTION LOAD timeout");
        raise(l);
    }
}

/// Reads the arguments of redis.register_function into a FunctionInfo
/// (the callback is referenced in the registry).
unsafe fn register_args(l: *mut lua_State) -> Result<FunctionInfo, &'static str> {
    let argc = ffi::lua_gettop(l);
    if !(1..=2).contains(&argc) {
        return Err("wrong number of arguments to redis.register_function");
    }
    if argc == 2 {
        if ffi::lua_isstring(l, 1) == 0 {
            return Err("first argument to redis.register_function must be a string");
        }
        let name = Bytes::copy_from_slice(to_bytes(l, 1).unwrap_or(b""));
        if ffi::lua_isfunction(l, 2) == 0 {
            return Err("second argument to redis.register_function must be a function");
        }
        let fref = ffi::luaL_ref(l, REGISTRY);
        return Ok(FunctionInfo {
            name,
            fref,
            flags: 0,
            desc: None,
        });
    }
    if ffi::lua_istable(l, 1) == 0 {
        return Err("calling redis.register_function with a single argument is only applicable to Lua table (representing named arguments).");
    }
    let (mut name, mut desc, mut fref, mut flags) = (None, None, None, 0u32);
    let unref = |fref: Option<c_int>| {
        if let Some(r) = fref {
            ffi::luaL_unref(l, REGISTRY, r);
        }
    };
    ffi::lua_pushnil(l);
    while ffi::lua_next(l, -2) != 0 {
        if ffi::lua_isstring(l, -2) == 0 {
            unref(fref);
            return Err("named argument key given to redis.register_function is not a string");
        }
        let key = cstr_prefix(to_bytes(l, -2).unwrap_or(b"")).to_ascii_lowercase();
        match key.as_slice() {
            b"function_name" => {
                if ffi::lua_isstring(l, -1) == 0 {
                    unref(fref);
                    return Err(
                        "function_name argument given to redis.register_function must be a string",
                    );
                }
                name = Some(Bytes::copy_from_slice(to_bytes(l, -1).unwrap_or(b"")));
            }
            b"description" => {
                if ffi::lua_isstring(l, -1) == 0 {
                    unref(fref);
                    return Err(
                        "description argument given to redis.register_function must be a string",
                    );
                }
                desc = Some(Bytes::copy_from_slice(to_bytes(l, -1).unwrap_or(b"")));
            }
            b"callback" => {
                if ffi::lua_isfunction(l, -1) == 0 {
                    unref(fref);
                    return Err(
                        "callback argument given to redis.register_function must be a function",
                    );
                }
                unref(fref);
                fref = Some(ffi::luaL_ref(l, REGISTRY));
                continue;
            }
            b"flags" => {
                if ffi::lua_istable(l, -1) == 0 {
                    unref(fref);
                    return Err("flags argument to redis.register_function must be a table representing function flags");
                }
                match read_flags(l) {
                    Some(f) => flags = f,
                    None => {
                        unref(fref);
                        return Err("unknown flag given");
                    }
                }
            }
            _ => {
                unref(fref);
                return Err("unknown argument given to redis.register_function");
            }
        }
        ffi::lua_pop(l, 1);
    }
    let Some(name) = name else {
        unref(fref);
        return Err("redis.register_function must get a function name argument");
    };
    let Some(fref) = fref else {
        return Err("redis.register_function must get a callback argument");
    };
    Ok(FunctionInfo {
        name,
        fref,
        flags,
        desc,
    })
}

/// The flags table on top of the stack (names, case-insensitive).
unsafe fn read_flags(l: *mut lua_State) -> Option<u32> {
    let mut flags = 0;
    let mut j = 1;
    loop {
        ffi::lua_pushnumber(l, j as f64);
        j += 1;
        ffi::lua_gettable(l, -2);
        if ffi::lua_type(l, -1) == ffi::LUA_TNIL {
            ffi::lua_pop(l, 1);
            return Some(flags);
        }
        if ffi::lua_isstring(l, -1) == 0 {
            ffi::lua_pop(l, 1);
            return None;
        }
        let s = cstr_prefix(to_bytes(l, -1).unwrap_or(b"")).to_ascii_lowercase();
        ffi::lua_pop(l, 1);
        match sflag::NAMES
            .iter()
            .find(|(_, n)| n.as_bytes() == s.as_slice())
        {
            Some((v, _)) => flags |= v,
            None => return None,
        }
    }
}

unsafe fn register_inner(l: *mut lua_State) -> Result<(), String> {
    let Some(srv) = super::current().filter(|s| s.scripts.functions.loading.is_some()) else {
        return Err("redis.register_function can only be called on FUNCTION LOAD command".into());
    };
    let fi = register_args(l)?;
    let f = &mut srv.scripts.functions;
    let Some(lib) = f.loading.as_mut() else {
        return Err("redis.register_function can only be called on FUNCTION LOAD command".into());
    };
    if !valid_name(&fi.name) {
        ffi::luaL_unref(l, REGISTRY, fi.fref);
        return Err("Library names can only contain letters, numbers, or underscores(_) and must be at least one character long".into());
    }
    if lib
        .functions
        .iter()
        .any(|g| g.name.eq_ignore_ascii_case(&fi.name))
    {
        ffi::luaL_unref(l, REGISTRY, fi.fref);
        return Err("Function already exists in the library".into());
    }
    lib.functions.push(fi);
    Ok(())
}

unsafe extern "C-unwind" fn redis_register_function(l: *mut lua_State) -> c_int {
    let err = register_inner(l).err();
    if let Some(e) = err {
        push_error_table(l, e.as_bytes());
        drop(e);
        raise(l);
    }
    0
}

/// Letters, digits and underscores, at least one.
pub fn valid_name(name: &[u8]) -> bool {
    !name.is_empty() && name.iter().all(|&c| c.is_ascii_alphanumeric() || c == b'_')
}

impl FunctionsCtx {
    /// Redis's luaEngineInitEngine.
    pub fn new() -> FunctionsCtx {
        let vm = Vm::new();
        let l = vm.state();
        // SAFETY: a fresh state, set up once on the loop thread.
        let (err_handler, globals_api, library_api) = unsafe {
            api::register_redis_api(l);
            // The globals while a library loads: only `redis` with
            // register_function, log and the version.
            ffi::lua_newtable(l);
            ffi::lua_newtable(l);
            set_fn(l, c"register_function", redis_register_function);
            api::register_log(l);
            api::register_version(l);
            set_error_metatable(l);
            ffi::lua_setfield(l, -2, c"redis".as_ptr());
            set_error_metatable(l);
            protect_recursively(l);
            let library_api = ffi::luaL_ref(l, REGISTRY);
            push_new_error_handler(l);
            let err_handler = ffi::luaL_ref(l, REGISTRY);
            ffi::lua_pushvalue(l, GLOBALS);
            set_error_metatable(l);
            protect_recursively(l);
            ffi::lua_pop(l, 1);
            protect_string_metatable(l);
            ffi::lua_pushvalue(l, GLOBALS);
            let globals_api = ffi::luaL_ref(l, REGISTRY);
            // New, empty globals reading through to the real ones.
            ffi::lua_newtable(l);
            ffi::lua_newtable(l);
            ffi::lua_pushvalue(l, GLOBALS);
            set_field(l, -2, c"__index");
            lua_enablereadonlytable(l, -1, 1);
            ffi::lua_setmetatable(l, -2);
            lua_enablereadonlytable(l, -1, 1);
            ffi::lua_replace(l, GLOBALS);
            (err_handler, globals_api, library_api)
        };
        FunctionsCtx {
            vm,
            libraries: HashMap::new(),
            functions: HashMap::new(),
            err_handler,
            globals_api,
            library_api,
            loading: None,
            load_start_us: 0,
            load_timeout_ms: 0,
        }
    }

    pub fn function_flags(&self, name: &[u8]) -> Option<u32> {
        self.lookup(name).map(|(_, flags, _)| flags)
    }

    /// (function ref, flags, name) of a function; names are
    /// case-insensitive, as Redis's function dict.
    pub fn lookup(&self, name: &[u8]) -> Option<(c_int, u32, Bytes)> {
        let lib = self.functions.get(&fold(name))?;
        self.libraries
            .get(lib)?
            .functions
            .iter()
            .find(|f| f.name.eq_ignore_ascii_case(name))
            .map(|f| (f.fref, f.flags, f.name.clone()))
    }

    /// Is a function of this name (any case) registered?
    pub fn has_function(&self, name: &[u8]) -> bool {
        self.functions.contains_key(&fold(name))
    }

    pub fn function_count(&self) -> usize {
        self.functions.len()
    }

    /// Drops a library and its compiled functions.
    pub fn unlink(&mut self, name: &[u8]) -> Option<Library> {
        let lib = self.libraries.remove(name)?;
        for f in &lib.functions {
            self.functions.remove(&fold(&f.name));
        }
        Some(lib)
    }

    pub fn free_library(&mut self, lib: Library) {
        let l = self.vm.state();
        for f in lib.functions {
            // SAFETY: references created in this state.
            unsafe { ffi::luaL_unref(l, REGISTRY, f.fref) };
        }
    }

    pub fn link(&mut self, lib: Library) {
        for f in &lib.functions {
            self.functions.insert(fold(&f.name), lib.name.clone());
        }
        self.libraries.insert(lib.name.clone(), lib);
    }

    /// Bytes of the library codes and names (used_memory_functions).
    pub fn memory_overhead(&self) -> usize {
        self.libraries
            .values()
            .map(|l| l.code.len() + l.name.len() + 64 + l.functions.len() * 96)
            .sum()
    }

    /// Every library code, for the RDB and FUNCTION DUMP.
    pub fn codes(&self) -> Vec<Bytes> {
        self.libraries.values().map(|l| l.code.clone()).collect()
    }
}

impl Default for FunctionsCtx {
    fn default() -> Self {
        FunctionsCtx::new()
    }
}

/// The key of the function index: names are case-insensitive.
fn fold(name: &[u8]) -> Bytes {
    Bytes::from(name.to_ascii_lowercase())
}

/// Parses the `#!<engine> name=<lib>` first line of a library.
/// Returns (engine, name, offset of the code after the shebang).
pub fn extract_lib_metadata(code: &[u8]) -> Result<(String, Bytes, usize), String> {
    if !code.starts_with(b"#!") {
        return Err("Missing library metadata".into());
    }
    let Some(end) = code.iter().position(|&c| c == b'\n') else {
        return Err("Invalid library metadata".into());
    };
    let line = String::from_utf8_lossy(&code[..end]);
    let parts = match crate::util::splitargs::split_args_str(&line) {
        Some(p) if !p.is_empty() => p,
        _ => return Err("Invalid library metadata".into()),
    };
    let engine = parts[0].get(2..).unwrap_or("").to_string();
    let mut name = None;
    for p in &parts[1..] {
        if p.len() >= 5 && p[..5].eq_ignore_ascii_case("name=") {
            if name.is_some() {
                return Err(
                    "Invalid metadata value, name argument was given multiple times".into(),
                );
            }
            name = Some(Bytes::copy_from_slice(&p.as_bytes()[5..]));
            continue;
        }
        return Err(format!("Invalid metadata value given: {p}"));
    }
    let Some(name) = name else {
        return Err("Library name was not given".into());
    };
    Ok((engine, name, end))
}

impl Server {
    /// Redis's functionsCreateWithLibraryCtx on the current libraries:
    /// compiles `code`, runs its top level (registering functions) and links
    /// the library. Returns the library name.
    pub fn functions_create(
        &mut self,
        code: &Bytes,
        replace: bool,
        timeout_ms: u64,
    ) -> Result<Bytes, String> {
        let (engine, name, shebang_end) = extract_lib_metadata(code)?;
        if !valid_name(&name) {
            return Err("Library names can only contain letters, numbers, or underscores(_) and must be at least one character long".into());
        }
        if !engine.eq_ignore_ascii_case("lua") {
            return Err(format!("Engine '{engine}' not found"));
        }
        let old = self.scripts.functions.libraries.contains_key(&name);
        if old && !replace {
            return Err(format!(
                "Library '{}' already exists",
                String::from_utf8_lossy(&name)
            ));
        }
        let old_lib = if old {
            self.scripts.functions.unlink(&name)
        } else {
            None
        };
        let r = self.functions_engine_create(code, &code[shebang_end..], name.clone(), timeout_ms);
        let lib = match r {
            Ok(lib) => lib,
            Err(e) => {
                if let Some(o) = old_lib {
                    self.scripts.functions.link(o);
                }
                return Err(e);
            }
        };
        let collision = lib
            .functions
            .iter()
            .find(|f| self.scripts.functions.has_function(&f.name))
            .map(|f| f.name.clone());
        if let Some(fname) = collision {
            self.scripts.functions.free_library(lib);
            if let Some(o) = old_lib {
                self.scripts.functions.link(o);
            }
            return Err(format!(
                "Function {} already exists",
                String::from_utf8_lossy(&fname)
            ));
        }
        self.scripts.functions.link(lib);
        if let Some(o) = old_lib {
            self.scripts.functions.free_library(o);
        }
        Ok(name)
    }

    /// Redis's luaEngineCreate: runs the library's code with the load-time
    /// globals and collects the functions it registers.
    fn functions_engine_create(
        &mut self,
        full: &Bytes,
        body: &[u8],
        name: Bytes,
        timeout_ms: u64,
    ) -> Result<Library, String> {
        let l = self.scripts.functions.vm.state();
        let (lib_api, globals_api) = (
            self.scripts.functions.library_api,
            self.scripts.functions.globals_api,
        );
        // SAFETY: the functions state on the loop thread.
        unsafe {
            swap_globals_index(l, lib_api);
            if let Err(msg) = load_buffer(l, body, c"@user_function") {
                swap_globals_index(l, globals_api);
                return Err(format!(
                    "Error compiling function: {}",
                    String::from_utf8_lossy(&msg)
                ));
            }
            let f = &mut self.scripts.functions;
            f.loading = Some(Library {
                name,
                code: Bytes::copy_from_slice(full),
                functions: Vec::new(),
            });
            f.load_start_us = crate::util::monotonic_us();
            f.load_timeout_ms = timeout_ms;
            ffi::lua_sethook(l, Some(load_hook), ffi::LUA_MASKCOUNT, 100000);
            let rc = super::with_current(self, |_| ffi::lua_pcall(l, 0, 0, 0));
            ffi::lua_sethook(l, None, 0, 0);
            swap_globals_index(l, globals_api);
            let lib = self.scripts.functions.loading.take();
            if rc != 0 {
                let info = error_info(l);
                ffi::lua_pop(l, 1);
                if let Some(lib) = lib {
                    self.scripts.functions.free_library(lib);
                }
                return Err(format!(
                    "Error registering functions: {}",
                    String::from_utf8_lossy(&info.msg)
                ));
            }
            let Some(lib) = lib else {
                return Err("No functions registered".into());
            };
            if lib.functions.is_empty() {
                return Err("No functions registered".into());
            }
            Ok(lib)
        }
    }

    /// FCALL / FCALL_RO.
    pub fn cmd_fcall(&mut self, key: usize, argv: &[Bytes], ro: bool) -> Result<(), CmdError> {
        self.prevent_propagation();
        self.feed_monitors_for_script(key, argv);
        let Some((fref, flags, fname)) = self.scripts.functions.lookup(&argv[1]) else {
            return Err("ERR Function not found".into());
        };
        let numkeys = super::eval::parse_numkeys(argv, "ERR Bad number of keys provided")?;
        let funcname = super::run::FuncName::Function(String::from_utf8_lossy(&fname).into_owned());
        self.script_prepare(key, argv, funcname, flags, ro, false)?;
        let l = self.scripts.functions.vm.state();
        let handler = self.scripts.functions.err_handler;
        // SAFETY: the functions state; the references are alive.
        unsafe {
            ffi::lua_rawgeti(l, REGISTRY, handler as ffi::lua_Integer);
            ffi::lua_rawgeti(l, REGISTRY, fref as ffi::lua_Integer);
            self.lua_call_function(l, key, &argv[3..3 + numkeys], &argv[3 + numkeys..], false);
            ffi::lua_pop(l, 1);
        }
        self.script_reset();
        Ok(())
    }

    /// Replaces every library with those of an RDB (or a full sync).
    /// Codes that do not load are logged and skipped.
    pub fn functions_load_rdb(&mut self, codes: Vec<Vec<u8>>) -> Result<(), String> {
        let policy = self.scripts.rdb_load_policy;
        if policy == super::RdbFunctions::Replace {
            self.functions_flush();
        }
        for code in codes {
            let code = Bytes::from(code);
            self.functions_create(&code, policy == super::RdbFunctions::Merge, 0)?;
        }
        Ok(())
    }

    /// FUNCTION FLUSH: a fresh functions state without libraries.
    pub fn functions_flush(&mut self) {
        self.scripts.functions = FunctionsCtx::new();
    }
}

/// Points the metatable of the functions state's globals at `api_ref`.
unsafe fn swap_globals_index(l: *mut lua_State, api_ref: c_int) {
    if ffi::lua_getmetatable(l, GLOBALS) == 0 {
        return;
    }
    lua_enablereadonlytable(l, -1, 0);
    ffi::lua_rawgeti(l, REGISTRY, api_ref as ffi::lua_Integer);
    set_field(l, -2, c"__index");
    lua_enablereadonlytable(l, -1, 1);
    ffi::lua_pop(l, 1);
}

/// FUNCTION DUMP's payload: an RDB_OPCODE_FUNCTION2 record per library,
/// the RDB version (2 bytes, little endian) and the CRC64 of all that.
pub fn dump_payload(codes: &[Bytes], compression: bool) -> Vec<u8> {
    let mut w = crate::persist::rdb::RdbWriter::new(Vec::new(), compression, false);
    for code in codes {
        // Writing to a Vec cannot fail.
        let _ = w.byte(crate::persist::rdb::OPCODE_FUNCTION2);
        let _ = w.string(code);
    }
    let mut out = w.into_inner();
    out.extend_from_slice(&crate::persist::rdb::RDB_VERSION.to_le_bytes());
    let crc = crate::encoding::crc64::crc64(0, &out);
    out.extend_from_slice(&crc.to_le_bytes());
    out
}

/// The library codes of a verified FUNCTION DUMP payload.
pub fn parse_payload(p: &[u8]) -> Result<Vec<Vec<u8>>, String> {
    let body = &p[..p.len().saturating_sub(10)];
    let mut r = crate::persist::rdb_load::RdbReader::new(body);
    let mut codes = Vec::new();
    while (r.pos as usize) < body.len() {
        let t = r.u8().map_err(|_| "can not read data type".to_string())?;
        if t != crate::persist::rdb::OPCODE_FUNCTION2 {
            return Err("given type is not a function".into());
        }
        let code = r
            .string()
            .map_err(|_| "failed loading the given functions payload".to_string())?;
        codes.push(code);
    }
    Ok(codes)
}
