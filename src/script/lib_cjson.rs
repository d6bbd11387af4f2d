//! The `cjson` library (placeholder table until implemented).

use super::lua::*;
use mlua::ffi;
use std::ffi::c_int;

pub unsafe extern "C-unwind" fn luaopen_cjson(l: *mut lua_State) -> c_int {
    ffi::lua_newtable(l);
    ffi::lua_pushvalue(l, -1);
    ffi::lua_setfield(l, GLOBALS, c"cjson".as_ptr());
    1
}
