//! The `cmsgpack` library (lua-cmsgpack 0.4.0 as Redis ships it):
//! pack(...), unpack(data), unpack_one(data [, offset]) and
//! unpack_limit(data, limit [, offset]), with its encoding choices
//! (smallest integer form, float32 when exact, tables as arrays when their
//! keys are 1..n, nesting cut at 16 levels) and error messages.
//!
//! Written here rather than with rmp: the encoding choices above are this
//! library's, and Lua tables need their own array/map rule.

use super::lib_bit::register_lib;
use super::lua::*;
use mlua::ffi;
use std::ffi::c_int;

const MAX_NESTING: i32 = 16;

fn encode_bytes(out: &mut Vec<u8>, s: &[u8]) {
    let len = s.len();
    if len < 32 {
        out.push(0xa0 | len as u8);
    } else if len <= 0xff {
        out.extend_from_slice(&[0xd9, len as u8]);
    } else if len <= 0xffff {
        out.push(0xda);
        out.extend_from_slice(&(len as u16).to_be_bytes());
    } else {
        out.push(0xdb);
        out.extend_from_slice(&(len as u32).to_be_bytes());
    }
    out.extend_from_slice(s);
}

fn encode_int(out: &mut Vec<u8>, n: i64) {
    if n >= 0 {
        if n <= 127 {
            out.push(n as u8);
        } else if n <= 0xff {
            out.extend_from_slice(&[0xcc, n as u8]);
        } else if n <= 0xffff {
            out.push(0xcd);
            out.extend_from_slice(&(n as u16).to_be_bytes());
        } else if n <= 0xffff_ffff {
            out.push(0xce);
            out.extend_from_slice(&(n as u32).to_be_bytes());
        } else {
            out.push(0xcf);
            out.extend_from_slice(&(n as u64).to_be_bytes());
        }
    } else if n >= -32 {
        out.push(n as i8 as u8);
    } else if n >= -128 {
        out.extend_from_slice(&[0xd0, n as i8 as u8]);
    } else if n >= -32768 {
        out.push(0xd1);
        out.extend_from_slice(&(n as i16).to_be_bytes());
    } else if n >= -2_147_483_648 {
        out.push(0xd2);
        out.extend_from_slice(&(n as i32).to_be_bytes());
    } else {
        out.push(0xd3);
        out.extend_from_slice(&n.to_be_bytes());
    }
}

fn encode_double(out: &mut Vec<u8>, d: f64) {
    let f = d as f32;
    if d == f as f64 {
        out.push(0xca);
        out.extend_from_slice(&f.to_be_bytes());
    } else {
        out.push(0xcb);
        out.extend_from_slice(&d.to_be_bytes());
    }
}

fn header(out: &mut Vec<u8>, n: usize, fix: u8, b16: u8, b32: u8) {
    if n <= 15 {
        out.push(fix | n as u8);
    } else if n <= 65535 {
        out.push(b16);
        out.extend_from_slice(&(n as u16).to_be_bytes());
    } else {
        out.push(b32);
        out.extend_from_slice(&(n as u32).to_be_bytes());
    }
}

/// Keys are exactly 1..n (positive integers fitting an int, no holes).
unsafe fn table_is_array(l: *mut lua_State) -> bool {
    let top = ffi::lua_gettop(l);
    ffi::lua_checkstack(l, 2);
    let (mut count, mut max) = (0i64, 0i64);
    ffi::lua_pushnil(l);
    while ffi::lua_next(l, -2) != 0 {
        ffi::lua_pop(l, 1);
        let ok = ffi::lua_type(l, -1) == ffi::LUA_TNUMBER && {
            let n = ffi::lua_tonumber(l, -1);
            n > 0.0 && !n.is_infinite() && (n as i32) as f64 == n
        };
        if !ok {
            ffi::lua_settop(l, top);
            return false;
        }
        max = max.max(ffi::lua_tonumber(l, -1) as i64);
        count += 1;
    }
    ffi::lua_settop(l, top);
    max == count
}

/// Encodes the value on top of the stack and pops it.
unsafe fn encode_type(l: *mut lua_State, out: &mut Vec<u8>, level: i32) {
    let mut t = ffi::lua_type(l, -1);
    if t == ffi::LUA_TTABLE && level == MAX_NESTING {
        t = ffi::LUA_TNIL;
    }
    match t {
        ffi::LUA_TSTRING => encode_bytes(out, to_bytes(l, -1).unwrap_or(b"")),
        ffi::LUA_TBOOLEAN => out.push(if ffi::lua_toboolean(l, -1) != 0 {
            0xc3
        } else {
            0xc2
        }),
        ffi::LUA_TNUMBER => {
            let n = ffi::lua_tonumber(l, -1);
            if !n.is_infinite() && (n as i64) as f64 == n {
                encode_int(out, ffi::lua_tointeger(l, -1));
            } else {
                encode_double(out, n);
            }
        }
        ffi::LUA_TTABLE => {
            ffi::lua_checkstack(l, 3);
            if table_is_array(l) {
                let len = ffi::lua_objlen(l, -1);
                header(out, len, 0x90, 0xdc, 0xdd);
                for j in 1..=len {
                    ffi::lua_pushnumber(l, j as f64);
                    ffi::lua_gettable(l, -2);
                    encode_type(l, out, level + 1);
                }
            } else {
                let mut len = 0;
                ffi::lua_pushnil(l);
                while ffi::lua_next(l, -2) != 0 {
                    ffi::lua_pop(l, 1);
                    len += 1;
                }
                header(out, len, 0x80, 0xde, 0xdf);
                ffi::lua_pushnil(l);
                while ffi::lua_next(l, -2) != 0 {
                    ffi::lua_pushvalue(l, -2);
                    encode_type(l, out, level + 1);
                    encode_type(l, out, level + 1);
                }
            }
        }
        _ => out.push(0xc0),
    }
    ffi::lua_pop(l, 1);
}

unsafe extern "C-unwind" fn pack(l: *mut lua_State) -> c_int {
    let nargs = ffi::lua_gettop(l);
    if nargs == 0 {
        ffi::luaL_argerror(l, 0, c"MessagePack pack needs input.".as_ptr());
    }
    if ffi::lua_checkstack(l, nargs) == 0 {
        ffi::luaL_argerror(l, 0, c"Too many arguments for MessagePack pack.".as_ptr());
    }
    let mut out = Vec::new();
    for i in 1..=nargs {
        ffi::lua_checkstack(l, 1);
        ffi::lua_pushvalue(l, i);
        encode_type(l, &mut out, 0);
    }
    push_bytes(l, &out);
    1
}

enum DecErr {
    Eof,
    BadFmt,
    /// The Lua stack cannot grow (nesting too deep): the function named,
    /// as Redis's luaL_checkstack message says it.
    Stack(&'static [u8]),
}

struct Cur<'a> {
    p: &'a [u8],
    /// Arrays and maps being decoded: bounds the recursion (Rust frames)
    /// below what the Lua stack would allow, so that nesting is refused
    /// with Redis's message, never by overflowing the native stack.
    depth: usize,
}

/// Nesting refused past this depth (Redis stops near 4,000 levels when
/// its Lua stack is full; ferrodis's frames are larger).
const MAX_DEPTH: usize = 1000;

/// Redis's message when the stack fills outside an array (its map and
/// scalar decoders do not check; the next top-level check fails).
const TOO_MANY: &[u8] =
    b"stack overflow (too many return values at once; use unpack_one or unpack_limit instead.)";

impl Cur<'_> {
    fn need(&self, n: usize) -> Result<(), DecErr> {
        if self.p.len() < n {
            Err(DecErr::Eof)
        } else {
            Ok(())
        }
    }

    fn be(&self, from: usize, n: usize) -> u64 {
        self.p[from..from + n]
            .iter()
            .fold(0u64, |v, &b| (v << 8) | b as u64)
    }
}

unsafe fn decode(l: *mut lua_State, c: &mut Cur<'_>) -> Result<(), DecErr> {
    c.need(1)?;
    if ffi::lua_checkstack(l, 2) == 0 {
        return Err(DecErr::Stack(TOO_MANY));
    }
    let b = c.p[0];
    let (consume, push): (usize, Option<f64>) = match b {
        0xcc => {
            c.need(2)?;
            (2, Some(c.p[1] as f64))
        }
        0xd0 => {
            c.need(2)?;
            (2, Some(c.p[1] as i8 as f64))
        }
        0xcd => {
            c.need(3)?;
            (3, Some(c.be(1, 2) as f64))
        }
        0xd1 => {
            c.need(3)?;
            (3, Some(c.be(1, 2) as u16 as i16 as f64))
        }
        0xce => {
            c.need(5)?;
            (5, Some(c.be(1, 4) as f64))
        }
        0xd2 => {
            c.need(5)?;
            (5, Some(c.be(1, 4) as u32 as i32 as f64))
        }
        0xcf => {
            c.need(9)?;
            (9, Some(c.be(1, 8) as f64))
        }
        0xd3 => {
            c.need(9)?;
            (9, Some(c.be(1, 8) as i64 as f64))
        }
        0xca => {
            c.need(5)?;
            (5, Some(f32::from_bits(c.be(1, 4) as u32) as f64))
        }
        0xcb => {
            c.need(9)?;
            (9, Some(f64::from_bits(c.be(1, 8))))
        }
        _ => (0, None),
    };
    if let Some(n) = push {
        ffi::lua_pushnumber(l, n);
        c.p = &c.p[consume..];
        return Ok(());
    }
    match b {
        0xc0 => {
            ffi::lua_pushnil(l);
            c.p = &c.p[1..];
        }
        0xc3 | 0xc2 => {
            ffi::lua_pushboolean(l, (b == 0xc3) as c_int);
            c.p = &c.p[1..];
        }
        0xd9..=0xdb => {
            let hl = match b {
                0xd9 => 1,
                0xda => 2,
                _ => 4,
            };
            c.need(1 + hl)?;
            let len = c.be(1, hl) as usize;
            c.need(1 + hl + len)?;
            push_bytes(l, &c.p[1 + hl..1 + hl + len]);
            c.p = &c.p[1 + hl + len..];
        }
        0xdc..=0xdf => {
            let hl = if b == 0xdc || b == 0xde { 2 } else { 4 };
            c.need(1 + hl)?;
            let len = c.be(1, hl) as usize;
            c.p = &c.p[1 + hl..];
            if b <= 0xdd {
                decode_array(l, c, len)?;
            } else {
                decode_map(l, c, len)?;
            }
        }
        _ if b & 0x80 == 0 => {
            ffi::lua_pushnumber(l, b as f64);
            c.p = &c.p[1..];
        }
        _ if b & 0xe0 == 0xe0 => {
            ffi::lua_pushnumber(l, b as i8 as f64);
            c.p = &c.p[1..];
        }
        _ if b & 0xe0 == 0xa0 => {
            let len = (b & 0x1f) as usize;
            c.need(1 + len)?;
            push_bytes(l, &c.p[1..1 + len]);
            c.p = &c.p[1 + len..];
        }
        _ if b & 0xf0 == 0x90 => {
            c.p = &c.p[1..];
            decode_array(l, c, (b & 0xf) as usize)?;
        }
        _ if b & 0xf0 == 0x80 => {
            c.p = &c.p[1..];
            decode_map(l, c, (b & 0xf) as usize)?;
        }
        _ => return Err(DecErr::BadFmt),
    }
    Ok(())
}

unsafe fn decode_array(l: *mut lua_State, c: &mut Cur<'_>, len: usize) -> Result<(), DecErr> {
    if c.depth >= MAX_DEPTH || ffi::lua_checkstack(l, 2) == 0 {
        return Err(DecErr::Stack(
            b"stack overflow (in function mp_decode_to_lua_array)",
        ));
    }
    c.depth += 1;
    ffi::lua_newtable(l);
    for i in 1..=len {
        ffi::lua_pushnumber(l, i as f64);
        decode(l, c)?;
        ffi::lua_settable(l, -3);
    }
    c.depth -= 1;
    Ok(())
}

unsafe fn decode_map(l: *mut lua_State, c: &mut Cur<'_>, len: usize) -> Result<(), DecErr> {
    if c.depth >= MAX_DEPTH || ffi::lua_checkstack(l, 3) == 0 {
        return Err(DecErr::Stack(TOO_MANY));
    }
    c.depth += 1;
    ffi::lua_newtable(l);
    for _ in 0..len {
        decode(l, c)?;
        decode(l, c)?;
        ffi::lua_settable(l, -3);
    }
    c.depth -= 1;
    Ok(())
}

unsafe fn unpack_full(l: *mut lua_State, limit: i64, offset: i64) -> c_int {
    let mut len = 0usize;
    let p = ffi::luaL_checklstring(l, 1, &mut len);
    let s = std::slice::from_raw_parts(p as *const u8, len);
    let decode_all = limit == 0 && offset == 0;
    if offset < 0 || limit < 0 {
        let m = format!(
            "Invalid request to unpack with offset of {} and limit of {}.",
            offset as i32, len as i32
        );
        push_bytes(l, m.as_bytes());
        drop(m);
        raise_where(l);
    } else if offset as usize > len {
        let m = format!(
            "Start offset {} greater than input length {}.",
            offset as i32, len as i32
        );
        push_bytes(l, m.as_bytes());
        drop(m);
        raise_where(l);
    }
    let limit = if decode_all { i32::MAX as i64 } else { limit };
    let mut c = Cur {
        p: &s[offset as usize..],
        depth: 0,
    };
    let mut cnt: c_int = 0;
    while !c.p.is_empty() && (cnt as i64) < limit {
        if ffi::lua_checkstack(l, 1) == 0 {
            ffi::lua_settop(l, 0);
            raise_msg(l, TOO_MANY);
        }
        match decode(l, &mut c) {
            Ok(()) => {}
            Err(DecErr::Eof) => raise_msg(l, b"Missing bytes in input."),
            Err(DecErr::BadFmt) => raise_msg(l, b"Bad data format in input."),
            Err(DecErr::Stack(m)) => {
                // The stack is full: drop the partial results so that the
                // message and its position can be pushed.
                ffi::lua_settop(l, 0);
                raise_msg(l, m)
            }
        }
        cnt += 1;
    }
    if !decode_all {
        let new_offset = len - c.p.len();
        ffi::lua_pushinteger(
            l,
            if c.p.is_empty() {
                -1
            } else {
                new_offset as ffi::lua_Integer
            },
        );
        ffi::lua_insert(l, 2);
        cnt += 1;
    }
    cnt
}

/// Raises the message on top of the stack with the caller's position.
unsafe fn raise_where(l: *mut lua_State) -> ! {
    ffi::luaL_where(l, 1);
    ffi::lua_insert(l, -2);
    ffi::lua_concat(l, 2);
    raise(l)
}

unsafe extern "C-unwind" fn unpack(l: *mut lua_State) -> c_int {
    unpack_full(l, 0, 0)
}

unsafe extern "C-unwind" fn unpack_one(l: *mut lua_State) -> c_int {
    let offset = ffi::luaL_optinteger(l, 2, 0);
    ffi::lua_pop(l, ffi::lua_gettop(l) - 1);
    unpack_full(l, 1, offset)
}

unsafe extern "C-unwind" fn unpack_limit(l: *mut lua_State) -> c_int {
    let limit = ffi::luaL_checkinteger(l, 2);
    let offset = ffi::luaL_optinteger(l, 3, 0);
    ffi::lua_pop(l, ffi::lua_gettop(l) - 1);
    unpack_full(l, limit, offset)
}

pub unsafe extern "C-unwind" fn luaopen_cmsgpack(l: *mut lua_State) -> c_int {
    register_lib(
        l,
        c"cmsgpack",
        &[
            (c"pack", pack),
            (c"unpack", unpack),
            (c"unpack_one", unpack_one),
            (c"unpack_limit", unpack_limit),
        ],
    );
    for (k, v) in [
        (c"_NAME", &b"cmsgpack"[..]),
        (c"_VERSION", b"lua-cmsgpack 0.4.0"),
        (c"_COPYRIGHT", b"Copyright (C) 2012, Salvatore Sanfilippo"),
        (c"_DESCRIPTION", b"MessagePack C implementation for Lua"),
    ] {
        push_bytes(l, v);
        set_field(l, -2, k);
    }
    1
}
