//! The Lua debugger's text forms: Lua values as `print` and `eval` show
//! them (ldbCatStackValue), replies in the `<reply>` human form
//! (ldbRedisProtocolToHuman), and its forgiving command parser.

use super::lua::*;
use crate::util::splitargs::repr;
use mlua::ffi;
use std::ffi::c_int;

/// A Lua value as the debugger shows it (ldbCatStackValue).
pub(super) unsafe fn cat_value(s: &mut Vec<u8>, l: *mut lua_State, idx: c_int, level: i32) {
    if level == ffi::LUA_MINSTACK / 2 {
        s.extend_from_slice(b"<max recursion level reached! Nested table?>");
        return;
    }
    let level = level + 1;
    match ffi::lua_type(l, idx) {
        ffi::LUA_TSTRING => {
            let b = to_bytes(l, idx).unwrap_or(b"");
            s.extend_from_slice(repr(b).as_bytes());
        }
        ffi::LUA_TBOOLEAN => s.extend_from_slice(if ffi::lua_toboolean(l, idx) != 0 {
            b"true"
        } else {
            b"false"
        }),
        ffi::LUA_TNUMBER => s.extend_from_slice(
            crate::encoding::numbers::fmt_g(ffi::lua_tonumber(l, idx), 6).as_bytes(),
        ),
        ffi::LUA_TNIL => s.extend_from_slice(b"nil"),
        ffi::LUA_TTABLE => {
            let mut expected = 1.0;
            let mut is_array = true;
            let (mut r1, mut r2) = (Vec::new(), Vec::new());
            ffi::lua_pushnil(l);
            while ffi::lua_next(l, idx - 1) != 0 {
                if is_array
                    && (ffi::lua_type(l, -2) != ffi::LUA_TNUMBER
                        || ffi::lua_tonumber(l, -2) != expected)
                {
                    is_array = false;
                }
                cat_value(&mut r1, l, -1, level);
                r1.extend_from_slice(b"; ");
                r2.push(b'[');
                cat_value(&mut r2, l, -2, level);
                r2.extend_from_slice(b"]=");
                cat_value(&mut r2, l, -1, level);
                r2.extend_from_slice(b"; ");
                ffi::lua_pop(l, 1);
                expected += 1.0;
            }
            for r in [&mut r1, &mut r2] {
                if !r.is_empty() {
                    r.truncate(r.len() - 2);
                }
            }
            s.push(b'{');
            s.extend_from_slice(if is_array { &r1 } else { &r2 });
            s.push(b'}');
        }
        t => {
            let name = match t {
                ffi::LUA_TFUNCTION => "function",
                ffi::LUA_TUSERDATA => "userdata",
                ffi::LUA_TTHREAD => "thread",
                ffi::LUA_TLIGHTUSERDATA => "light-userdata",
                _ => "unknown",
            };
            let p = ffi::lua_topointer(l, idx);
            s.extend_from_slice(format!("\"{name}@{p:p}\"").as_bytes());
        }
    }
}

/// A reply in the debugger's human form (ldbRedisProtocolToHuman).
pub(super) fn reply_to_human(o: &mut Vec<u8>, r: &[u8], pos: usize) -> usize {
    if pos >= r.len() {
        return pos;
    }
    let eol = r[pos..]
        .windows(2)
        .position(|w| w == b"\r\n")
        .map_or(r.len(), |p| pos + p);
    let line = &r[pos + 1..eol];
    let next = (eol + 2).min(r.len());
    let n = crate::encoding::numbers::string2ll(line).unwrap_or(0);
    match r[pos] {
        b':' => {
            o.extend_from_slice(line);
            next
        }
        b'$' => {
            if n < 0 {
                o.extend_from_slice(b"NULL");
                return next;
            }
            let end = (next + n as usize).min(r.len());
            o.extend_from_slice(repr(&r[next..end]).as_bytes());
            (end + 2).min(r.len())
        }
        b'+' | b'-' => {
            o.extend_from_slice(repr(&r[pos..eol]).as_bytes());
            next
        }
        b'*' | b'~' => {
            if n < 0 {
                o.extend_from_slice(b"NULL");
                return next;
            }
            let (open, close): (&[u8], &[u8]) = if r[pos] == b'*' {
                (b"[", b"]")
            } else {
                (b"~(", b")")
            };
            o.extend_from_slice(open);
            let mut p = next;
            for j in 0..n {
                p = reply_to_human(o, r, p);
                if j != n - 1 {
                    o.push(b',');
                }
            }
            o.extend_from_slice(close);
            p
        }
        b'%' => {
            o.push(b'{');
            let mut p = next;
            for j in 0..n {
                p = reply_to_human(o, r, p);
                o.extend_from_slice(b" => ");
                p = reply_to_human(o, r, p);
                if j != n - 1 {
                    o.push(b',');
                }
            }
            o.push(b'}');
            p
        }
        b'_' => {
            o.extend_from_slice(b"(null)");
            next
        }
        b'#' => {
            o.extend_from_slice(if line == b"t" { b"#true" } else { b"#false" });
            next
        }
        b',' => {
            o.extend_from_slice(b"(double) ");
            o.extend_from_slice(line);
            next
        }
        _ => r.len(),
    }
}

/// Parses one multibulk debugger command from `cbuf` (Redis's forgiving
/// parser). Ok(None): read more. Err: protocol error.
pub(super) fn parse_command(cbuf: &[u8]) -> Result<Option<Vec<Vec<u8>>>, ()> {
    if cbuf.is_empty() {
        return Ok(None);
    }
    let Some(star) = cbuf.iter().position(|&c| c == b'*') else {
        return Err(());
    };
    let find = |from: usize| {
        cbuf[from..]
            .windows(2)
            .position(|w| w == b"\r\n")
            .map(|p| from + p)
    };
    let Some(e) = find(star) else {
        return Ok(None);
    };
    let argc = atoi(&cbuf[star + 1..e]);
    if argc <= 0 || argc > 1024 {
        return Err(());
    }
    let mut p = e + 2;
    let mut argv = Vec::new();
    while argv.len() < argc as usize {
        if p >= cbuf.len() {
            return Ok(None);
        }
        if cbuf[p] != b'$' {
            return Err(());
        }
        let Some(e) = find(p) else {
            return Ok(None);
        };
        let len = atoi(&cbuf[p + 1..e]);
        if len <= 0 || len > 1024 {
            return Err(());
        }
        let start = e + 2;
        if start + len as usize + 2 > cbuf.len() {
            return Ok(None);
        }
        argv.push(cbuf[start..start + len as usize].to_vec());
        p = start + len as usize;
        if &cbuf[p..p + 2] != b"\r\n" {
            return Err(());
        }
        p += 2;
    }
    Ok(Some(argv))
}

/// C's atoi: leading digits (with a sign), 0 otherwise.
pub(super) fn atoi(b: &[u8]) -> i64 {
    let s = String::from_utf8_lossy(b);
    let s = s.trim_start();
    let (neg, digits) = match s.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    let v: i64 = digits
        .bytes()
        .take_while(|c| c.is_ascii_digit())
        .take(18)
        .fold(0, |a, c| a * 10 + (c - b'0') as i64);
    if neg {
        -v
    } else {
        v
    }
}
