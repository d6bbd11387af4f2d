//! The `bit` library (Lua BitOp 1.0.2, as Redis ships it): 32-bit
//! operations on Lua numbers. Numbers are reduced modulo 2^32 the way
//! BitOp does (adding 2^52+2^51 and keeping the low word), results are
//! signed 32-bit values.

use super::lua::*;
use mlua::ffi;
use std::ffi::{c_int, CStr};

/// BitOp's barg: the argument as 32 bits; a non-number is a type error.
unsafe fn barg(l: *mut lua_State, idx: c_int) -> u32 {
    let n = ffi::lua_tonumber(l, idx);
    let b = (n + 6_755_399_441_055_744.0).to_bits() as u32;
    if b == 0 && ffi::lua_isnumber(l, idx) == 0 {
        ffi::luaL_typerror(l, idx, c"number".as_ptr());
    }
    b
}

#[inline]
unsafe fn bret(l: *mut lua_State, b: u32) -> c_int {
    ffi::lua_pushnumber(l, b as i32 as f64);
    1
}

unsafe extern "C-unwind" fn tobit(l: *mut lua_State) -> c_int {
    bret(l, barg(l, 1))
}

unsafe extern "C-unwind" fn bnot(l: *mut lua_State) -> c_int {
    bret(l, !barg(l, 1))
}

unsafe fn fold(l: *mut lua_State, f: fn(u32, u32) -> u32) -> c_int {
    let mut b = barg(l, 1);
    let mut i = ffi::lua_gettop(l);
    while i > 1 {
        b = f(b, barg(l, i));
        i -= 1;
    }
    bret(l, b)
}

unsafe extern "C-unwind" fn band(l: *mut lua_State) -> c_int {
    fold(l, |a, b| a & b)
}

unsafe extern "C-unwind" fn bor(l: *mut lua_State) -> c_int {
    fold(l, |a, b| a | b)
}

unsafe extern "C-unwind" fn bxor(l: *mut lua_State) -> c_int {
    fold(l, |a, b| a ^ b)
}

unsafe fn shift(l: *mut lua_State, f: fn(u32, u32) -> u32) -> c_int {
    let b = barg(l, 1);
    let n = barg(l, 2) & 31;
    bret(l, f(b, n))
}

unsafe extern "C-unwind" fn lshift(l: *mut lua_State) -> c_int {
    shift(l, |b, n| b << n)
}

unsafe extern "C-unwind" fn rshift(l: *mut lua_State) -> c_int {
    shift(l, |b, n| b >> n)
}

unsafe extern "C-unwind" fn arshift(l: *mut lua_State) -> c_int {
    shift(l, |b, n| ((b as i32) >> n) as u32)
}

unsafe extern "C-unwind" fn rol(l: *mut lua_State) -> c_int {
    shift(l, |b, n| b.rotate_left(n))
}

unsafe extern "C-unwind" fn ror(l: *mut lua_State) -> c_int {
    shift(l, |b, n| b.rotate_right(n))
}

unsafe extern "C-unwind" fn bswap(l: *mut lua_State) -> c_int {
    bret(l, barg(l, 1).swap_bytes())
}

unsafe extern "C-unwind" fn tohex(l: *mut lua_State) -> c_int {
    let mut b = barg(l, 1);
    let n = if ffi::lua_isnone(l, 2) != 0 {
        8
    } else {
        barg(l, 2) as i32
    };
    let (digits, n): (&[u8; 16], u32) = if n < 0 {
        (b"0123456789ABCDEF", n.unsigned_abs())
    } else {
        (b"0123456789abcdef", n as u32)
    };
    let n = n.min(8) as usize;
    let mut buf = [0u8; 8];
    for i in (0..n).rev() {
        buf[i] = digits[(b & 15) as usize];
        b >>= 4;
    }
    push_bytes(l, &buf[..n]);
    1
}

const FUNCS: &[(&CStr, CFn)] = &[
    (c"tobit", tobit),
    (c"bnot", bnot),
    (c"band", band),
    (c"bor", bor),
    (c"bxor", bxor),
    (c"lshift", lshift),
    (c"rshift", rshift),
    (c"arshift", arshift),
    (c"rol", rol),
    (c"ror", ror),
    (c"bswap", bswap),
    (c"tohex", tohex),
];

/// Creates the `bit` table and sets the global.
pub unsafe extern "C-unwind" fn luaopen_bit(l: *mut lua_State) -> c_int {
    register_lib(l, c"bit", FUNCS);
    1
}

/// Creates a library table from `funcs`, sets it as global `name` and
/// leaves it on the stack.
pub unsafe fn register_lib(l: *mut lua_State, name: &CStr, funcs: &[(&CStr, CFn)]) {
    ffi::lua_newtable(l);
    for (n, f) in funcs {
        set_fn(l, n, *f);
    }
    ffi::lua_pushvalue(l, -1);
    ffi::lua_setfield(l, GLOBALS, name.as_ptr());
}
