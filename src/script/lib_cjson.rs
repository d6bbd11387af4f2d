//! The `cjson` library (lua-cjson 2.1.0 as Redis ships it): encode and
//! decode with its number formatting (%.14g), escapes (`/` -> `\/`),
//! array detection (sparse arrays refused), depth limits, `cjson.null`
//! and its error messages ("Cannot serialise ...", "Expected value but
//! found ... at character N").
//!
//! Written here rather than with a JSON crate: the observable details
//! (Lua table iteration order for objects, sparse-array rules, %.14g,
//! token names in errors) are lua-cjson's own, not JSON's.

use super::lib_bit::register_lib;
use super::lua::*;
use mlua::ffi;
use std::cell::Cell;
use std::ffi::c_int;

#[derive(Clone, Copy)]
pub(super) struct Cfg {
    sparse_convert: bool,
    sparse_ratio: i32,
    sparse_safe: i32,
    encode_max_depth: i32,
    pub(super) decode_max_depth: i32,
    encode_invalid_numbers: i32,
    pub(super) decode_invalid_numbers: bool,
    keep_buffer: bool,
    precision: i32,
}

const DEFAULT_CFG: Cfg = Cfg {
    sparse_convert: false,
    sparse_ratio: 2,
    sparse_safe: 10,
    encode_max_depth: 1000,
    decode_max_depth: 1000,
    encode_invalid_numbers: 0,
    decode_invalid_numbers: true,
    keep_buffer: true,
    precision: 14,
};

thread_local! {
    static CFG: Cell<Cfg> = const { Cell::new(DEFAULT_CFG) };
}

pub(super) fn cfg() -> Cfg {
    CFG.with(|c| c.get())
}

fn set_cfg(f: impl FnOnce(&mut Cfg)) {
    CFG.with(|c| {
        let mut v = c.get();
        f(&mut v);
        c.set(v);
    });
}

/// An error to raise once the Rust values of the encoder are dropped.
pub(super) struct Raise(pub(super) String);

fn append_string(out: &mut Vec<u8>, s: &[u8]) {
    out.push(b'"');
    for &c in s {
        match c {
            b'"' => out.extend_from_slice(b"\\\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'/' => out.extend_from_slice(b"\\/"),
            8 => out.extend_from_slice(b"\\b"),
            9 => out.extend_from_slice(b"\\t"),
            10 => out.extend_from_slice(b"\\n"),
            12 => out.extend_from_slice(b"\\f"),
            13 => out.extend_from_slice(b"\\r"),
            0..=31 | 127 => {
                out.extend_from_slice(format!("\\u{:04x}", c).as_bytes());
            }
            _ => out.push(c),
        }
    }
    out.push(b'"');
}

unsafe fn typename(l: *mut lua_State, idx: c_int) -> String {
    let p = ffi::lua_typename(l, ffi::lua_type(l, idx));
    std::ffi::CStr::from_ptr(p).to_string_lossy().into_owned()
}

unsafe fn append_number(
    l: *mut lua_State,
    c: &Cfg,
    out: &mut Vec<u8>,
    idx: c_int,
) -> Result<(), Raise> {
    let n = ffi::lua_tonumber(l, idx);
    match c.encode_invalid_numbers {
        0 if n.is_infinite() || n.is_nan() => {
            return Err(Raise(format!(
                "Cannot serialise {}: must not be NaN or Inf",
                typename(l, idx)
            )));
        }
        1 if n.is_nan() => {
            out.extend_from_slice(b"nan");
            return Ok(());
        }
        2 if n.is_infinite() || n.is_nan() => {
            out.extend_from_slice(b"null");
            return Ok(());
        }
        _ => {}
    }
    out.extend_from_slice(crate::encoding::numbers::fmt_g(n, c.precision as usize).as_bytes());
    Ok(())
}

/// lua_array_length: Some(max) for an array, None for an object.
unsafe fn array_length(l: *mut lua_State, c: &Cfg) -> Result<Option<usize>, Raise> {
    let mut max = 0f64;
    let mut items = 0f64;
    ffi::lua_pushnil(l);
    while ffi::lua_next(l, -2) != 0 {
        if ffi::lua_type(l, -2) == ffi::LUA_TNUMBER {
            let k = ffi::lua_tonumber(l, -2);
            if k != 0.0 && k.floor() == k && k >= 1.0 {
                if k > max {
                    max = k;
                }
                items += 1.0;
                ffi::lua_pop(l, 1);
                continue;
            }
        }
        ffi::lua_pop(l, 2);
        return Ok(None);
    }
    if c.sparse_ratio > 0 && max > items * c.sparse_ratio as f64 && max > c.sparse_safe as f64 {
        if !c.sparse_convert {
            return Err(Raise(
                "Cannot serialise table: excessively sparse array".into(),
            ));
        }
        return Ok(None);
    }
    Ok(if max > 0.0 { Some(max as usize) } else { None })
}

unsafe fn append_data(
    l: *mut lua_State,
    c: &Cfg,
    depth: i32,
    out: &mut Vec<u8>,
) -> Result<(), Raise> {
    match ffi::lua_type(l, -1) {
        ffi::LUA_TSTRING => append_string(out, to_bytes(l, -1).unwrap_or(b"")),
        ffi::LUA_TNUMBER => append_number(l, c, out, -1)?,
        ffi::LUA_TBOOLEAN => {
            if ffi::lua_toboolean(l, -1) != 0 {
                out.extend_from_slice(b"true");
            } else {
                out.extend_from_slice(b"false");
            }
        }
        ffi::LUA_TTABLE => {
            let depth = depth + 1;
            if depth > c.encode_max_depth || ffi::lua_checkstack(l, 3) == 0 {
                return Err(Raise(format!(
                    "Cannot serialise, excessive nesting ({depth})"
                )));
            }
            match array_length(l, c)? {
                Some(n) => {
                    out.push(b'[');
                    for i in 1..=n {
                        if i > 1 {
                            out.push(b',');
                        }
                        ffi::lua_rawgeti(l, -1, i as ffi::lua_Integer);
                        append_data(l, c, depth, out)?;
                        ffi::lua_pop(l, 1);
                    }
                    out.push(b']');
                }
                None => {
                    out.push(b'{');
                    let mut comma = false;
                    ffi::lua_pushnil(l);
                    while ffi::lua_next(l, -2) != 0 {
                        if comma {
                            out.push(b',');
                        }
                        comma = true;
                        match ffi::lua_type(l, -2) {
                            ffi::LUA_TNUMBER => {
                                out.push(b'"');
                                append_number(l, c, out, -2)?;
                                out.extend_from_slice(b"\":");
                            }
                            ffi::LUA_TSTRING => {
                                append_string(out, to_bytes(l, -2).unwrap_or(b""));
                                out.push(b':');
                            }
                            _ => {
                                return Err(Raise(format!(
                                    "Cannot serialise {}: table key must be a number or string",
                                    typename(l, -2)
                                )));
                            }
                        }
                        append_data(l, c, depth, out)?;
                        ffi::lua_pop(l, 1);
                    }
                    out.push(b'}');
                }
            }
        }
        ffi::LUA_TNIL => out.extend_from_slice(b"null"),
        ffi::LUA_TLIGHTUSERDATA if ffi::lua_touserdata(l, -1).is_null() => {
            out.extend_from_slice(b"null")
        }
        _ => {
            return Err(Raise(format!(
                "Cannot serialise {}: type not supported",
                typename(l, -1)
            )))
        }
    }
    Ok(())
}

pub(super) unsafe fn raise_str(l: *mut lua_State, r: Raise) -> ! {
    push_bytes(l, r.0.as_bytes());
    drop(r);
    ffi::luaL_where(l, 1);
    ffi::lua_insert(l, -2);
    ffi::lua_concat(l, 2);
    raise(l)
}

unsafe extern "C-unwind" fn encode(l: *mut lua_State) -> c_int {
    if ffi::lua_gettop(l) != 1 {
        ffi::luaL_argerror(l, 1, c"expected 1 argument".as_ptr());
    }
    let c = cfg();
    let mut out = Vec::new();
    match append_data(l, &c, 0, &mut out) {
        Ok(()) => {
            push_bytes(l, &out);
            1
        }
        Err(r) => {
            drop(out);
            raise_str(l, r)
        }
    }
}

/// An integer option: with an argument in [min, max], sets it; returns it.
unsafe fn int_option(
    l: *mut lua_State,
    get: fn(&Cfg) -> i32,
    set: fn(&mut Cfg, i32),
    min: i32,
    max: i32,
) -> c_int {
    if ffi::lua_gettop(l) > 1 {
        ffi::luaL_argerror(l, 2, c"found too many arguments".as_ptr());
    }
    if ffi::lua_isnoneornil(l, 1) == 0 {
        let v = ffi::luaL_checkinteger(l, 1);
        if v < min as ffi::lua_Integer || v > max as ffi::lua_Integer {
            push_bytes(
                l,
                format!("expected integer between {min} and {max}").as_bytes(),
            );
            ffi::luaL_argerror(l, 1, ffi::lua_tostring(l, -1));
        }
        set_cfg(|c| set(c, v as i32));
    }
    ffi::lua_pushinteger(l, get(&cfg()) as ffi::lua_Integer);
    1
}

unsafe extern "C-unwind" fn encode_max_depth(l: *mut lua_State) -> c_int {
    int_option(
        l,
        |c| c.encode_max_depth,
        |c, v| c.encode_max_depth = v,
        1,
        i32::MAX,
    )
}

unsafe extern "C-unwind" fn decode_max_depth(l: *mut lua_State) -> c_int {
    int_option(
        l,
        |c| c.decode_max_depth,
        |c, v| c.decode_max_depth = v,
        1,
        i32::MAX,
    )
}

unsafe extern "C-unwind" fn encode_number_precision(l: *mut lua_State) -> c_int {
    int_option(l, |c| c.precision, |c, v| c.precision = v, 1, 14)
}

/// A boolean option (true/false or "on"/"off").
unsafe fn bool_option(l: *mut lua_State, idx: c_int) -> Option<bool> {
    if ffi::lua_isnoneornil(l, idx) != 0 {
        return None;
    }
    if ffi::lua_isboolean(l, idx) != 0 {
        return Some(ffi::lua_toboolean(l, idx) != 0);
    }
    match to_bytes(l, idx) {
        Some(b"on") => Some(true),
        Some(b"off") => Some(false),
        _ => {
            ffi::luaL_argerror(l, idx, c"invalid option".as_ptr());
            None
        }
    }
}

unsafe extern "C-unwind" fn encode_keep_buffer(l: *mut lua_State) -> c_int {
    if let Some(b) = bool_option(l, 1) {
        set_cfg(|c| c.keep_buffer = b);
    }
    ffi::lua_pushboolean(l, cfg().keep_buffer as c_int);
    1
}

unsafe extern "C-unwind" fn decode_invalid_numbers(l: *mut lua_State) -> c_int {
    if let Some(b) = bool_option(l, 1) {
        set_cfg(|c| c.decode_invalid_numbers = b);
    }
    ffi::lua_pushboolean(l, cfg().decode_invalid_numbers as c_int);
    1
}

unsafe extern "C-unwind" fn encode_invalid_numbers(l: *mut lua_State) -> c_int {
    if ffi::lua_isnoneornil(l, 1) == 0 {
        let v = if ffi::lua_isboolean(l, 1) != 0 {
            ffi::lua_toboolean(l, 1)
        } else {
            match to_bytes(l, 1) {
                Some(b"off") => 0,
                Some(b"on") => 1,
                Some(b"null") => 2,
                _ => {
                    ffi::luaL_argerror(l, 1, c"invalid option".as_ptr());
                    0
                }
            }
        };
        set_cfg(|c| c.encode_invalid_numbers = v);
    }
    match cfg().encode_invalid_numbers {
        0 => ffi::lua_pushboolean(l, 0),
        1 => ffi::lua_pushboolean(l, 1),
        _ => push_bytes(l, b"null"),
    }
    1
}

unsafe extern "C-unwind" fn encode_sparse_array(l: *mut lua_State) -> c_int {
    if let Some(b) = bool_option(l, 1) {
        set_cfg(|c| c.sparse_convert = b);
    }
    if ffi::lua_isnoneornil(l, 2) == 0 {
        let v = ffi::luaL_checkinteger(l, 2) as i32;
        set_cfg(|c| c.sparse_ratio = v.max(0));
    }
    if ffi::lua_isnoneornil(l, 3) == 0 {
        let v = ffi::luaL_checkinteger(l, 3) as i32;
        set_cfg(|c| c.sparse_safe = v.max(0));
    }
    let c = cfg();
    ffi::lua_pushboolean(l, c.sparse_convert as c_int);
    ffi::lua_pushinteger(l, c.sparse_ratio as ffi::lua_Integer);
    ffi::lua_pushinteger(l, c.sparse_safe as ffi::lua_Integer);
    3
}

unsafe extern "C-unwind" fn new(l: *mut lua_State) -> c_int {
    ffi::lua_getfield(l, GLOBALS, c"cjson".as_ptr());
    1
}

pub unsafe extern "C-unwind" fn luaopen_cjson(l: *mut lua_State) -> c_int {
    register_lib(
        l,
        c"cjson",
        &[
            (c"encode", encode),
            (c"decode", super::lib_cjson_decode::decode),
            (c"encode_sparse_array", encode_sparse_array),
            (c"encode_max_depth", encode_max_depth),
            (c"decode_max_depth", decode_max_depth),
            (c"encode_number_precision", encode_number_precision),
            (c"encode_keep_buffer", encode_keep_buffer),
            (c"encode_invalid_numbers", encode_invalid_numbers),
            (c"decode_invalid_numbers", decode_invalid_numbers),
            (c"new", new),
        ],
    );
    ffi::lua_pushlightuserdata(l, std::ptr::null_mut());
    set_field(l, -2, c"null");
    push_bytes(l, b"cjson");
    set_field(l, -2, c"_NAME");
    push_bytes(l, b"2.1.0");
    set_field(l, -2, c"_VERSION");
    1
}
