//! The `struct` library (Roberto Ierusalimschy's lstruct, as Redis ships
//! it): struct.pack(fmt, ...), struct.unpack(fmt, data [, pos]) and
//! struct.size(fmt), with the same format options, alignment rules and
//! error messages (native = little endian, long = 8 bytes).

use super::lib_bit::register_lib;
use super::lua::*;
use mlua::ffi;
use std::ffi::{c_int, CStr};

const MAXINTSIZE: usize = 32;
const MAXALIGN: usize = 8;

#[derive(Clone, Copy)]
struct Header {
    little: bool,
    align: usize,
}

const DEFAULT: Header = Header {
    little: true,
    align: 1,
};

/// Errors raised after the Rust values of the caller are gone.
enum Fail {
    /// luaL_error with this message.
    Error(String),
    /// luaL_argerror(arg, message).
    Arg(c_int, String),
}

fn getnum(fmt: &[u8], i: &mut usize, df: usize) -> Result<usize, Fail> {
    if *i >= fmt.len() || !fmt[*i].is_ascii_digit() {
        return Ok(df);
    }
    let mut a: i64 = 0;
    while *i < fmt.len() && fmt[*i].is_ascii_digit() {
        let d = (fmt[*i] - b'0') as i64;
        if a > (i32::MAX as i64 / 10) || a * 10 > (i32::MAX as i64 - d) {
            return Err(Fail::Error("integral size overflow".into()));
        }
        a = a * 10 + d;
        *i += 1;
    }
    Ok(a as usize)
}

fn optsize(opt: u8, fmt: &[u8], i: &mut usize) -> Result<usize, Fail> {
    Ok(match opt {
        b'B' | b'b' => 1,
        b'H' | b'h' => 2,
        b'L' | b'l' | b'T' => 8,
        b'f' => 4,
        b'd' => 8,
        b'x' => 1,
        b'c' => getnum(fmt, i, 1)?,
        b'i' | b'I' => {
            let sz = getnum(fmt, i, 4)?;
            if sz > MAXINTSIZE {
                return Err(Fail::Error(format!(
                    "integral size {sz} is larger than limit of {MAXINTSIZE}"
                )));
            }
            sz
        }
        _ => 0,
    })
}

fn gettoalign(len: usize, h: &Header, opt: u8, size: usize) -> usize {
    if size == 0 || opt == b'c' {
        return 0;
    }
    let size = size.min(h.align);
    (size - (len & (size - 1))) & (size - 1)
}

fn controloptions(opt: u8, fmt: &[u8], i: &mut usize, h: &mut Header) -> Result<(), Fail> {
    match opt {
        b' ' => Ok(()),
        b'>' => {
            h.little = false;
            Ok(())
        }
        b'<' => {
            h.little = true;
            Ok(())
        }
        b'!' => {
            let a = getnum(fmt, i, MAXALIGN)?;
            if a == 0 || a & (a - 1) != 0 {
                return Err(Fail::Error(format!("alignment {a} is not a power of 2")));
            }
            h.align = a;
            Ok(())
        }
        _ => Err(Fail::Arg(
            1,
            format!("invalid format option '{}'", opt as char),
        )),
    }
}

unsafe fn raise_fail(l: *mut lua_State, f: Fail) -> ! {
    match f {
        Fail::Error(m) => {
            push_bytes(l, m.as_bytes());
            drop(m);
            ffi::luaL_where(l, 1);
            ffi::lua_insert(l, -2);
            ffi::lua_concat(l, 2);
            raise(l)
        }
        Fail::Arg(arg, m) => {
            push_bytes(l, m.as_bytes());
            drop(m);
            ffi::luaL_argerror(l, arg, ffi::lua_tostring(l, -1));
            raise(l)
        }
    }
}

unsafe fn fmt_arg<'a>(l: *mut lua_State) -> &'a [u8] {
    let p = ffi::luaL_checklstring(l, 1, std::ptr::null_mut());
    cstr_prefix(CStr::from_ptr(p).to_bytes())
}

unsafe fn check_number(l: *mut lua_State, arg: c_int) -> f64 {
    ffi::luaL_checknumber(l, arg)
}

unsafe fn pack_inner(l: *mut lua_State, out: &mut Vec<u8>) -> Result<(), Fail> {
    let fmt = fmt_arg(l);
    let mut h = DEFAULT;
    let mut arg: c_int = 2;
    let mut total = 0usize;
    let mut i = 0;
    while i < fmt.len() {
        let opt = fmt[i];
        i += 1;
        let mut size = optsize(opt, fmt, &mut i)?;
        let toalign = gettoalign(total, &h, opt, size);
        total += toalign;
        out.extend(std::iter::repeat_n(0u8, toalign));
        match opt {
            b'b' | b'B' | b'h' | b'H' | b'l' | b'L' | b'T' | b'i' | b'I' => {
                let n = check_number(l, arg);
                arg += 1;
                let mut value: u64 = if n < 0.0 { n as i64 as u64 } else { n as u64 };
                let mut buf = [0u8; MAXINTSIZE];
                if h.little {
                    for b in buf.iter_mut().take(size) {
                        *b = value as u8;
                        value = value.checked_shr(8).unwrap_or(0);
                    }
                } else {
                    for j in (0..size).rev() {
                        buf[j] = value as u8;
                        value = value.checked_shr(8).unwrap_or(0);
                    }
                }
                out.extend_from_slice(&buf[..size]);
            }
            b'x' => out.push(0),
            b'f' => {
                let f = check_number(l, arg) as f32;
                arg += 1;
                if h.little {
                    out.extend_from_slice(&f.to_le_bytes());
                } else {
                    out.extend_from_slice(&f.to_be_bytes());
                }
            }
            b'd' => {
                let d = check_number(l, arg);
                arg += 1;
                if h.little {
                    out.extend_from_slice(&d.to_le_bytes());
                } else {
                    out.extend_from_slice(&d.to_be_bytes());
                }
            }
            b'c' | b's' => {
                let mut len = 0usize;
                let p = ffi::luaL_checklstring(l, arg, &mut len);
                arg += 1;
                let s = std::slice::from_raw_parts(p as *const u8, len);
                if size == 0 {
                    size = len;
                }
                if len < size {
                    return Err(Fail::Arg(arg, "string too short".into()));
                }
                out.extend_from_slice(&s[..size]);
                if opt == b's' {
                    out.push(0);
                    size += 1;
                }
            }
            _ => controloptions(opt, fmt, &mut i, &mut h)?,
        }
        total += size;
    }
    Ok(())
}

unsafe extern "C-unwind" fn pack(l: *mut lua_State) -> c_int {
    let mut out = Vec::new();
    match pack_inner(l, &mut out) {
        Ok(()) => {
            push_bytes(l, &out);
            1
        }
        Err(f) => {
            drop(out);
            raise_fail(l, f)
        }
    }
}

fn getinteger(buf: &[u8], little: bool, signed: bool) -> f64 {
    let size = buf.len();
    let mut v: u64 = 0;
    if !little {
        for &b in buf {
            v = (v << 8) | b as u64;
        }
    } else {
        for &b in buf.iter().rev() {
            v = (v << 8) | b as u64;
        }
    }
    if !signed {
        return v as f64;
    }
    let shift = (size * 8).saturating_sub(1) as u32;
    let mask = if shift >= 64 { 0 } else { u64::MAX << shift };
    if v & mask != 0 {
        v |= mask;
    }
    v as i64 as f64
}

unsafe fn unpack_inner(l: *mut lua_State) -> Result<c_int, Fail> {
    let fmt = fmt_arg(l);
    let mut ld = 0usize;
    let p = ffi::luaL_checklstring(l, 2, &mut ld);
    let data = std::slice::from_raw_parts(p as *const u8, ld);
    let pos = ffi::luaL_optinteger(l, 3, 1);
    if pos <= 0 {
        return Err(Fail::Arg(3, "offset must be 1 or greater".into()));
    }
    let mut pos = (pos - 1) as usize;
    let mut n: c_int = 0;
    let mut h = DEFAULT;
    let mut i = 0;
    while i < fmt.len() {
        let opt = fmt[i];
        i += 1;
        let mut size = optsize(opt, fmt, &mut i)?;
        pos += gettoalign(pos, &h, opt, size);
        if !(size <= ld && pos <= ld - size) {
            return Err(Fail::Arg(2, "data string too short".into()));
        }
        if ffi::lua_checkstack(l, 2) == 0 {
            return Err(Fail::Error("stack overflow (too many results)".into()));
        }
        match opt {
            b'b' | b'B' | b'h' | b'H' | b'l' | b'L' | b'T' | b'i' | b'I' => {
                let signed = opt.is_ascii_lowercase();
                let v = getinteger(&data[pos..pos + size], h.little, signed);
                ffi::lua_pushnumber(l, v);
                n += 1;
            }
            b'x' => {}
            b'f' => {
                let mut b = [0u8; 4];
                b.copy_from_slice(&data[pos..pos + 4]);
                let f = if h.little {
                    f32::from_le_bytes(b)
                } else {
                    f32::from_be_bytes(b)
                };
                ffi::lua_pushnumber(l, f as f64);
                n += 1;
            }
            b'd' => {
                let mut b = [0u8; 8];
                b.copy_from_slice(&data[pos..pos + 8]);
                let d = if h.little {
                    f64::from_le_bytes(b)
                } else {
                    f64::from_be_bytes(b)
                };
                ffi::lua_pushnumber(l, d);
                n += 1;
            }
            b'c' => {
                if size == 0 {
                    if n == 0 || ffi::lua_isnumber(l, -1) == 0 {
                        return Err(Fail::Error("format 'c0' needs a previous size".into()));
                    }
                    size = ffi::lua_tonumber(l, -1) as usize;
                    ffi::lua_pop(l, 1);
                    n -= 1;
                    if !(size <= ld && pos <= ld - size) {
                        return Err(Fail::Arg(2, "data string too short".into()));
                    }
                }
                push_bytes(l, &data[pos..pos + size]);
                n += 1;
            }
            b's' => {
                let Some(e) = data[pos..].iter().position(|&c| c == 0) else {
                    return Err(Fail::Error("unfinished string in data".into()));
                };
                size = e + 1;
                push_bytes(l, &data[pos..pos + e]);
                n += 1;
            }
            _ => controloptions(opt, fmt, &mut i, &mut h)?,
        }
        pos += size;
    }
    ffi::lua_pushinteger(l, (pos + 1) as ffi::lua_Integer);
    Ok(n + 1)
}

unsafe extern "C-unwind" fn unpack(l: *mut lua_State) -> c_int {
    match unpack_inner(l) {
        Ok(n) => n,
        Err(f) => raise_fail(l, f),
    }
}

unsafe fn size_inner(l: *mut lua_State) -> Result<usize, Fail> {
    let fmt = fmt_arg(l);
    let mut h = DEFAULT;
    let mut pos = 0usize;
    let mut i = 0;
    while i < fmt.len() {
        let opt = fmt[i];
        i += 1;
        let size = optsize(opt, fmt, &mut i)?;
        pos += gettoalign(pos, &h, opt, size);
        if opt == b's' {
            return Err(Fail::Arg(1, "option 's' has no fixed size".into()));
        } else if opt == b'c' && size == 0 {
            return Err(Fail::Arg(1, "option 'c0' has no fixed size".into()));
        }
        if !opt.is_ascii_alphanumeric() {
            controloptions(opt, fmt, &mut i, &mut h)?;
        }
        pos += size;
    }
    Ok(pos)
}

unsafe extern "C-unwind" fn size(l: *mut lua_State) -> c_int {
    match size_inner(l) {
        Ok(n) => {
            ffi::lua_pushinteger(l, n as ffi::lua_Integer);
            1
        }
        Err(f) => raise_fail(l, f),
    }
}

pub unsafe extern "C-unwind" fn luaopen_struct(l: *mut lua_State) -> c_int {
    register_lib(
        l,
        c"struct",
        &[(c"pack", pack), (c"unpack", unpack), (c"size", size)],
    );
    1
}
