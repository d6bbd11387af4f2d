//! Conversions between replies and Lua values, as Redis documents them.
//!
//! Reply -> Lua (what redis.call returns): integer -> number, bulk ->
//! string, null bulk/array -> false, status -> {ok=...}, error -> {err=...},
//! array -> table; RESP3: null -> nil, boolean -> boolean, double ->
//! {double=n}, map -> {map={...}}, set -> {set={k=true}}, big number ->
//! {big_number=s}, verbatim -> {verbatim_string={format=, string=}}.
//!
//! Lua -> reply (what a script returns): number -> integer (truncated),
//! string -> bulk, true -> 1 (RESP2) / #t, false and nil -> null, tables
//! -> error, status, double, big number, verbatim, map, set, or an array cut
//! at the first nil.

use super::lua::*;
use crate::resp::Out;
use mlua::ffi;
use std::ffi::c_int;

/// Parses one reply from `buf` (a reply the server itself wrote, so well
/// formed) and pushes its Lua value. Returns the bytes consumed.
pub unsafe fn reply_to_lua(l: *mut lua_State, buf: &[u8]) -> usize {
    parse(l, buf, 0, true)
}

fn line_end(buf: &[u8], from: usize) -> usize {
    buf[from..]
        .windows(2)
        .position(|w| w == b"\r\n")
        .map_or(buf.len(), |p| from + p)
}

fn num(b: &[u8]) -> i64 {
    crate::encoding::numbers::string2ll(b).unwrap_or(0)
}

/// `push` false: skip the value (RESP3 attributes are not shown to Lua).
unsafe fn parse(l: *mut lua_State, buf: &[u8], pos: usize, push: bool) -> usize {
    if pos >= buf.len() {
        if push {
            ffi::lua_pushnil(l);
        }
        return pos;
    }
    let t = buf[pos];
    let eol = line_end(buf, pos + 1);
    let line = &buf[pos + 1..eol];
    let next = (eol + 2).min(buf.len());
    ffi::lua_checkstack(l, 5);
    match t {
        b':' => {
            if push {
                ffi::lua_pushnumber(l, num(line) as f64);
            }
            next
        }
        b'$' | b'=' => {
            let n = num(line);
            if n < 0 {
                if push {
                    ffi::lua_pushboolean(l, 0);
                }
                return next;
            }
            let end = (next + n as usize).min(buf.len());
            let data = &buf[next..end];
            if push {
                if t == b'=' && data.len() >= 4 {
                    ffi::lua_newtable(l);
                    push_cstr(l, c"verbatim_string");
                    ffi::lua_newtable(l);
                    push_cstr(l, c"string");
                    push_bytes(l, &data[4..]);
                    ffi::lua_settable(l, -3);
                    push_cstr(l, c"format");
                    push_bytes(l, &data[..3]);
                    ffi::lua_settable(l, -3);
                    ffi::lua_settable(l, -3);
                } else {
                    push_bytes(l, data);
                }
            }
            (end + 2).min(buf.len())
        }
        b'+' => {
            if push {
                ffi::lua_newtable(l);
                push_cstr(l, c"ok");
                push_bytes(l, line);
                ffi::lua_settable(l, -3);
            }
            next
        }
        b'-' => {
            if push {
                let mut e = Vec::with_capacity(line.len() + 1);
                e.push(b'-');
                e.extend_from_slice(line);
                push_error_table(l, &e);
                mark_error_counted(l);
            }
            next
        }
        b'*' | b'~' | b'%' | b'>' | b'|' => {
            let n = num(line);
            if n < 0 {
                if push {
                    ffi::lua_pushboolean(l, 0);
                }
                return next;
            }
            let mut p = next;
            match t {
                b'*' | b'>' => {
                    if push {
                        ffi::lua_createtable(l, n.min(1 << 20) as c_int, 0);
                    }
                    for j in 0..n {
                        if push {
                            ffi::lua_pushnumber(l, (j + 1) as f64);
                        }
                        p = parse(l, buf, p, push);
                        if push {
                            ffi::lua_settable(l, -3);
                        }
                    }
                }
                b'~' => {
                    if push {
                        ffi::lua_newtable(l);
                        push_cstr(l, c"set");
                        ffi::lua_newtable(l);
                    }
                    for _ in 0..n {
                        p = parse(l, buf, p, push);
                        if push {
                            ffi::lua_pushboolean(l, 1);
                            ffi::lua_settable(l, -3);
                        }
                    }
                    if push {
                        ffi::lua_settable(l, -3);
                    }
                }
                b'%' => {
                    if push {
                        ffi::lua_newtable(l);
                        push_cstr(l, c"map");
                        ffi::lua_newtable(l);
                    }
                    for _ in 0..n {
                        p = parse(l, buf, p, push);
                        p = parse(l, buf, p, push);
                        if push {
                            ffi::lua_settable(l, -3);
                        }
                    }
                    if push {
                        ffi::lua_settable(l, -3);
                    }
                }
                _ => {
                    // Attribute: skipped, then the reply itself.
                    for _ in 0..n {
                        p = parse(l, buf, p, false);
                        p = parse(l, buf, p, false);
                    }
                    p = parse(l, buf, p, push);
                }
            }
            p
        }
        b'_' => {
            if push {
                ffi::lua_pushnil(l);
            }
            next
        }
        b'#' => {
            if push {
                ffi::lua_pushboolean(l, (line == b"t") as c_int);
            }
            next
        }
        b',' => {
            if push {
                let s = std::str::from_utf8(line).unwrap_or("0");
                let d = match s {
                    "inf" => f64::INFINITY,
                    "-inf" => f64::NEG_INFINITY,
                    "nan" | "-nan" => f64::NAN,
                    _ => s.parse().unwrap_or(0.0),
                };
                ffi::lua_newtable(l);
                push_cstr(l, c"double");
                ffi::lua_pushnumber(l, d);
                ffi::lua_settable(l, -3);
            }
            next
        }
        b'(' => {
            if push {
                ffi::lua_newtable(l);
                push_cstr(l, c"big_number");
                push_bytes(l, line);
                ffi::lua_settable(l, -3);
            }
            next
        }
        _ => {
            if push {
                ffi::lua_pushnil(l);
            }
            buf.len()
        }
    }
}

/// Error replies written while converting (code, counted?): the caller
/// counts them in the error stats.
pub type ErrorsSeen = Vec<(Vec<u8>, bool)>;

/// C's (long long) cast of a double on x86-64: out of range and NaN give
/// LLONG_MIN.
fn to_ll(d: f64) -> i64 {
    const LIMIT: f64 = 9_223_372_036_854_775_808.0;
    if d.is_nan() || !(-LIMIT..LIMIT).contains(&d) {
        i64::MIN
    } else {
        d as i64
    }
}

fn map_crlf(s: &[u8]) -> Vec<u8> {
    s.iter()
        .map(|&c| if c == b'\r' || c == b'\n' { b' ' } else { c })
        .collect()
}

/// Writes the value on top of the stack as a reply and pops it (Redis's
/// luaReplyToRedisReply). `script_resp` is the protocol the script chose.
pub unsafe fn lua_to_reply(
    l: *mut lua_State,
    out: &mut Out<'_>,
    script_resp: u8,
    errs: &mut ErrorsSeen,
) {
    if ffi::lua_checkstack(l, 4) == 0 {
        let msg = b"ERR reached lua stack limit";
        out.error("ERR reached lua stack limit");
        errs.push((msg[..3].to_vec(), true));
        ffi::lua_pop(l, 1);
        return;
    }
    match ffi::lua_type(l, -1) {
        ffi::LUA_TSTRING => out.bulk(to_bytes(l, -1).unwrap_or(b"")),
        ffi::LUA_TBOOLEAN => {
            let b = ffi::lua_toboolean(l, -1) != 0;
            if script_resp == 2 {
                if b {
                    out.int(1);
                } else {
                    out.null();
                }
            } else {
                out.boolean(b);
            }
        }
        ffi::LUA_TNUMBER => out.int(to_ll(ffi::lua_tonumber(l, -1))),
        ffi::LUA_TTABLE => {
            table_to_reply(l, out, script_resp, errs);
            return;
        }
        _ => out.null(),
    }
    ffi::lua_pop(l, 1);
}

/// Looks up `t[name]` (raw) for the table on top; pushes it, returns its type.
unsafe fn raw_field(l: *mut lua_State, name: &std::ffi::CStr) -> c_int {
    push_cstr(l, name);
    ffi::lua_rawget(l, -2);
    ffi::lua_type(l, -1)
}

unsafe fn table_to_reply(l: *mut lua_State, out: &mut Out<'_>, resp: u8, errs: &mut ErrorsSeen) {
    // Error reply.
    if raw_field(l, c"err") == ffi::LUA_TSTRING {
        ffi::lua_pop(l, 1);
        let info = error_info(l);
        let mut text = String::from_utf8_lossy(&info.msg).into_owned();
        if text.is_empty() {
            text = "ERR".into();
        }
        write_error(out, &text);
        let code = info
            .msg
            .split(|&c| c == b' ')
            .next()
            .unwrap_or(b"")
            .to_vec();
        errs.push((code, !info.ignore_stats));
        ffi::lua_pop(l, 1);
        return;
    }
    ffi::lua_pop(l, 1);
    // Status reply.
    if raw_field(l, c"ok") == ffi::LUA_TSTRING {
        let s = map_crlf(cstr_prefix(to_bytes(l, -1).unwrap_or(b"")));
        out.buf.push(b'+');
        out.buf.extend_from_slice(&s);
        out.buf.extend_from_slice(b"\r\n");
        ffi::lua_pop(l, 2);
        return;
    }
    ffi::lua_pop(l, 1);
    // Double.
    if raw_field(l, c"double") == ffi::LUA_TNUMBER {
        out.double(ffi::lua_tonumber(l, -1));
        ffi::lua_pop(l, 2);
        return;
    }
    ffi::lua_pop(l, 1);
    // Big number.
    if raw_field(l, c"big_number") == ffi::LUA_TSTRING {
        let s = map_crlf(to_bytes(l, -1).unwrap_or(b""));
        if out.resp >= 3 {
            out.buf.push(b'(');
            out.buf.extend_from_slice(&s);
            out.buf.extend_from_slice(b"\r\n");
        } else {
            out.bulk(&s);
        }
        ffi::lua_pop(l, 2);
        return;
    }
    ffi::lua_pop(l, 1);
    // Verbatim string.
    if raw_field(l, c"verbatim_string") == ffi::LUA_TTABLE {
        if raw_field(l, c"format") == ffi::LUA_TSTRING {
            let format = cstr_prefix(to_bytes(l, -1).unwrap_or(b"")).to_vec();
            push_cstr(l, c"string");
            ffi::lua_rawget(l, -3);
            if ffi::lua_type(l, -1) == ffi::LUA_TSTRING {
                let s = to_bytes(l, -1).unwrap_or(b"");
                if out.resp >= 3 {
                    let mut f = [b' '; 3];
                    for (d, c) in f.iter_mut().zip(format.iter()) {
                        *d = *c;
                    }
                    let total = s.len() + 4;
                    out.buf.push(b'=');
                    out.buf.extend_from_slice(total.to_string().as_bytes());
                    out.buf.extend_from_slice(b"\r\n");
                    out.buf.extend_from_slice(&f);
                    out.buf.push(b':');
                    out.buf.extend_from_slice(s);
                    out.buf.extend_from_slice(b"\r\n");
                } else {
                    out.bulk(s);
                }
                ffi::lua_pop(l, 4);
                return;
            }
            ffi::lua_pop(l, 1);
        }
        ffi::lua_pop(l, 1);
    }
    ffi::lua_pop(l, 1);
    // Map.
    if raw_field(l, c"map") == ffi::LUA_TTABLE {
        let mut n = 0;
        ffi::lua_pushnil(l);
        while ffi::lua_next(l, -2) != 0 {
            ffi::lua_pop(l, 1);
            n += 1;
        }
        out.map(n);
        ffi::lua_pushnil(l);
        while ffi::lua_next(l, -2) != 0 {
            ffi::lua_pushvalue(l, -2);
            lua_to_reply(l, out, resp, errs);
            lua_to_reply(l, out, resp, errs);
        }
        ffi::lua_pop(l, 2);
        return;
    }
    ffi::lua_pop(l, 1);
    // Set.
    if raw_field(l, c"set") == ffi::LUA_TTABLE {
        let mut n = 0;
        ffi::lua_pushnil(l);
        while ffi::lua_next(l, -2) != 0 {
            ffi::lua_pop(l, 1);
            n += 1;
        }
        out.set(n);
        ffi::lua_pushnil(l);
        while ffi::lua_next(l, -2) != 0 {
            ffi::lua_pop(l, 1);
            ffi::lua_pushvalue(l, -1);
            lua_to_reply(l, out, resp, errs);
        }
        ffi::lua_pop(l, 2);
        return;
    }
    ffi::lua_pop(l, 1);
    // Array, up to the first nil.
    let mut n = 0usize;
    loop {
        ffi::lua_rawgeti(l, -1, (n + 1) as ffi::lua_Integer);
        let nil = ffi::lua_type(l, -1) == ffi::LUA_TNIL;
        ffi::lua_pop(l, 1);
        if nil {
            break;
        }
        n += 1;
    }
    out.array(n);
    for j in 1..=n {
        ffi::lua_rawgeti(l, -1, j as ffi::lua_Integer);
        lua_to_reply(l, out, resp, errs);
    }
    ffi::lua_pop(l, 1);
}

/// An error line as addReplyErrorLength writes it: "-ERR " is added when
/// the text has no leading dash... the text always carries its code here.
pub fn write_error(out: &mut Out<'_>, text: &str) {
    let t = text.strip_prefix('-').unwrap_or(text);
    out.error(t);
}
