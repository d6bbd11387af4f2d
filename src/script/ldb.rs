//! The Lua debugger (SCRIPT DEBUG YES|SYNC|NO, `redis-cli --ldb`): not
//! available yet; SCRIPT DEBUG answers as Redis does when the debugger
//! cannot start, and scripts run normally.

use super::lua::lua_State;
use crate::error::CmdError;
use crate::server::Server;
use bytes::Bytes;
use mlua::ffi;

#[derive(Default)]
pub struct Ldb {
    active: bool,
}

impl Ldb {
    /// True while a debugging session steps through a script.
    pub fn active(&self) -> bool {
        self.active
    }
}

/// The line hook of a debugging session.
pub unsafe extern "C-unwind" fn line_hook(_l: *mut lua_State, _ar: *mut ffi::lua_Debug) {}

impl Server {
    pub fn ldb_log_command(&mut self, _argv: &[Bytes]) {}

    pub fn ldb_log_reply(&mut self, _reply: &[u8]) {}

    /// redis.breakpoint(): true when a debugging session stopped here.
    pub fn ldb_breakpoint(&mut self) -> bool {
        false
    }

    /// redis.debug(...): logged to the debugging client only.
    ///
    /// # Safety
    /// Called from the Lua function with its arguments on the stack.
    pub unsafe fn ldb_debug_values(&mut self, _l: *mut lua_State) {}

    pub fn ldb_eval(&mut self, _key: usize, _argv: &[Bytes]) -> Result<(), CmdError> {
        Err("ERR The Lua debugger is not available in this server".into())
    }

    pub fn cmd_script_debug(&mut self, _key: usize, mode: &[u8]) -> Result<(), CmdError> {
        if crate::cmd::eq_ic(mode, "no") {
            self.reply_ok(_key);
            return Ok(());
        }
        if crate::cmd::eq_ic(mode, "yes") || crate::cmd::eq_ic(mode, "sync") {
            return Err("ERR The Lua debugger is not available in this server".into());
        }
        Err("ERR Use SCRIPT DEBUG YES/SYNC/NO".into())
    }
}
