//! Scripting: Lua 5.1 as Redis 7.0 embeds it. One state runs EVAL scripts,
//! another the function libraries (FUNCTION LOAD / FCALL); both are created
//! at startup and live on the loop thread.
//!
//! Map of the module:
//! - `lua`: the raw C API, read-only tables, the sandbox, error tables;
//! - `api`: the `redis.*` table (call, pcall, log, setresp, set_repl...) and
//!   Redis's math.random;
//! - `convert`: replies to Lua values and Lua values to replies (RESP2/3);
//! - `run`: the run context shared by both engines (Redis's script.c):
//!   flags, the checks before a run, `redis.call` re-entering the command
//!   path, timeouts, SCRIPT KILL / FUNCTION KILL;
//! - `eval`: EVAL/EVALSHA(_RO) and SCRIPT, the script cache, shebang flags;
//! - `functions`, `functions_cmd`: libraries, FCALL(_RO), FUNCTION *, the
//!   DUMP/RESTORE payload and the RDB function records;
//! - `lib_bit`, `lib_struct`, `lib_cjson` (+ `_decode`), `lib_cmsgpack`: the extra
//!   libraries with Redis's observable behaviour;
//! - `ldb`, `ldb_fmt`: the Lua debugger (SCRIPT DEBUG, `redis-cli --ldb`).
//!
//! C functions registered in Lua reach the server through `current()`, a
//! pointer set for the duration of a script run (or a library load): Lua
//! calls back into the same loop thread, never another one.

// Every `unsafe fn` of this module takes a Lua state: the one contract is a
// valid state of ours, used on the loop thread (see `lua`).
#![allow(clippy::missing_safety_doc)]

pub mod api;
pub mod convert;
pub mod eval;
pub mod functions;
pub mod functions_cmd;
pub mod ldb;
pub mod ldb_fmt;
pub mod lib_bit;
pub mod lib_cjson;
pub mod lib_cjson_decode;
pub mod lib_cmsgpack;
pub mod lib_struct;
pub mod lua;
pub mod run;

use crate::server::Server;
use std::cell::Cell;

thread_local! {
    static CURRENT: Cell<*mut Server> = const { Cell::new(std::ptr::null_mut()) };
}

/// Sets the server Lua callbacks reach while `f` runs.
pub(crate) fn with_current<R>(srv: &mut Server, f: impl FnOnce(&mut Server) -> R) -> R {
    let prev = CURRENT.with(|c| c.replace(srv as *mut Server));
    let r = f(srv);
    CURRENT.with(|c| c.set(prev));
    r
}

/// The server a Lua callback runs for, if a script or load is in progress.
///
/// # Safety
/// Only from Lua callbacks on the loop thread, while `with_current` is on
/// the stack: the caller of the Lua VM holds no other borrow of the server
/// across the call (the VM is reached through a raw state pointer).
pub(crate) unsafe fn current<'a>() -> Option<&'a mut Server> {
    let p = CURRENT.with(|c| c.get());
    if p.is_null() {
        None
    } else {
        Some(&mut *p)
    }
}

/// Script flags (shebang `flags=` and function flags), as Redis's SCRIPT_FLAG_*.
pub mod sflag {
    pub const NO_WRITES: u32 = 1 << 0;
    pub const ALLOW_OOM: u32 = 1 << 1;
    pub const ALLOW_STALE: u32 = 1 << 2;
    pub const NO_CLUSTER: u32 = 1 << 3;
    /// EVAL without a shebang: the pre-7.0 rules apply.
    pub const EVAL_COMPAT_MODE: u32 = 1 << 4;
    pub const ALLOW_CROSS_SLOT: u32 = 1 << 5;

    pub const NAMES: &[(u32, &str)] = &[
        (NO_WRITES, "no-writes"),
        (ALLOW_OOM, "allow-oom"),
        (ALLOW_STALE, "allow-stale"),
        (NO_CLUSTER, "no-cluster"),
        (ALLOW_CROSS_SLOT, "allow-cross-slot-keys"),
    ];
}

/// Redis's own lrand48 (rand.c): the same sequence on every platform, one
/// state for the whole process, seeded by math.randomseed.
pub struct Lrand48(u64);

impl Default for Lrand48 {
    fn default() -> Self {
        Lrand48(0x1234_ABCD_330E)
    }
}

impl Lrand48 {
    pub fn lrand48(&mut self) -> i32 {
        self.0 = (self.0.wrapping_mul(0x5_DEEC_E66D).wrapping_add(0xB)) & ((1u64 << 48) - 1);
        (self.0 >> 17) as i32
    }

    pub fn seed(&mut self, seed: i32) {
        let s = seed as u32 as u64;
        self.0 = ((s & 0xFFFF_FFFF) << 16) | 0x330E;
    }
}

/// All scripting state the server owns.
pub struct Scripting {
    pub eval: eval::EvalCtx,
    pub functions: functions::FunctionsCtx,
    /// The script being run, if any.
    pub run: Option<run::RunCtx>,
    pub rand: Lrand48,
    pub gc_count: u32,
    pub ldb: ldb::Ldb,
    /// The reply buffer redis.call's commands write into (kept between
    /// calls: no allocation per call).
    pub reply_buf: Vec<u8>,
    /// redis.call's argv, its arguments' bytes and their ends (kept
    /// between calls: no allocation per call, see api::args_to_argv).
    pub call_argv: Vec<bytes::Bytes>,
    pub arg_arena: bytes::BytesMut,
    pub arg_ends: Vec<usize>,
    /// The text of a refused redis.call, where Lua copies it from.
    pub err_buf: Vec<u8>,
    /// DEBUG SET-DISABLE-DENY-SCRIPTS: noscript commands allowed in scripts.
    pub disable_deny_script: bool,
    /// What loading an RDB does with the libraries it holds.
    pub rdb_load_policy: RdbFunctions,
}

/// The libraries of a loaded RDB: replace ours (a normal load or sync),
/// or join them (DEBUG RELOAD NOFLUSH, MERGE replacing on collision).
#[derive(Clone, Copy, PartialEq, Eq, Default)]
pub enum RdbFunctions {
    #[default]
    Replace,
    Append,
    Merge,
}

impl Scripting {
    pub fn new() -> Scripting {
        Scripting {
            eval: eval::EvalCtx::new(),
            functions: functions::FunctionsCtx::new(),
            run: None,
            rand: Lrand48::default(),
            gc_count: 0,
            ldb: ldb::Ldb::default(),
            reply_buf: Vec::new(),
            call_argv: Vec::new(),
            arg_arena: bytes::BytesMut::new(),
            arg_ends: Vec::new(),
            err_buf: Vec::new(),
            disable_deny_script: false,
            rdb_load_policy: RdbFunctions::Replace,
        }
    }
}

impl Default for Scripting {
    fn default() -> Self {
        Scripting::new()
    }
}
