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
struct Cfg {
    sparse_convert: bool,
    sparse_ratio: i32,
    sparse_safe: i32,
    encode_max_depth: i32,
    decode_max_depth: i32,
    encode_invalid_numbers: i32,
    decode_invalid_numbers: bool,
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

fn cfg() -> Cfg {
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
struct Raise(String);

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

unsafe fn raise_str(l: *mut lua_State, r: Raise) -> ! {
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

// ---- decoding ----

struct Parser<'a> {
    data: &'a [u8],
    pos: usize,
    depth: i32,
    cfg: Cfg,
}

enum Tok {
    ObjBegin,
    ObjEnd,
    ArrBegin,
    ArrEnd,
    Str(Vec<u8>),
    Num(f64),
    Bool(bool),
    Null,
    Colon,
    Comma,
    End,
    Error(&'static str),
}

fn tok_name(t: &Tok) -> &'static str {
    match t {
        Tok::ObjBegin => "T_OBJ_BEGIN",
        Tok::ObjEnd => "T_OBJ_END",
        Tok::ArrBegin => "T_ARR_BEGIN",
        Tok::ArrEnd => "T_ARR_END",
        Tok::Str(_) => "T_STRING",
        Tok::Num(_) => "T_NUMBER",
        Tok::Bool(_) => "T_BOOLEAN",
        Tok::Null => "T_NULL",
        Tok::Colon => "T_COLON",
        Tok::Comma => "T_COMMA",
        Tok::End => "T_END",
        Tok::Error(e) => e,
    }
}

/// strtod for what lua-cjson accepts: decimal, hex, inf, nan.
fn strtod(s: &[u8]) -> Option<(f64, usize)> {
    let mut i = 0;
    let neg = match s.first() {
        Some(b'-') => {
            i += 1;
            true
        }
        Some(b'+') => {
            i += 1;
            false
        }
        _ => false,
    };
    let rest = &s[i..];
    let lower: Vec<u8> = rest
        .iter()
        .take(8)
        .map(|c| c.to_ascii_lowercase())
        .collect();
    let sign = if neg { -1.0 } else { 1.0 };
    if lower.starts_with(b"infinity") {
        return Some((sign * f64::INFINITY, i + 8));
    }
    if lower.starts_with(b"inf") {
        return Some((sign * f64::INFINITY, i + 3));
    }
    if lower.starts_with(b"nan") {
        return Some((f64::NAN, i + 3));
    }
    if lower.starts_with(b"0x") {
        let digits = rest[2..]
            .iter()
            .take_while(|c| c.is_ascii_hexdigit())
            .count();
        if digits > 0 {
            let mut v = 0f64;
            for &c in &rest[2..2 + digits] {
                v = v * 16.0 + (c as char).to_digit(16).unwrap_or(0) as f64;
            }
            return Some((sign * v, i + 2 + digits));
        }
    }
    let mut j = i;
    while j < s.len() && s[j].is_ascii_digit() {
        j += 1;
    }
    let mut digits = j - i;
    if j < s.len() && s[j] == b'.' {
        let k = j + 1;
        let mut m = k;
        while m < s.len() && s[m].is_ascii_digit() {
            m += 1;
        }
        digits += m - k;
        if digits > 0 {
            j = m;
        }
    }
    if digits == 0 {
        return None;
    }
    if j < s.len() && (s[j] == b'e' || s[j] == b'E') {
        let mut k = j + 1;
        if k < s.len() && (s[k] == b'+' || s[k] == b'-') {
            k += 1;
        }
        let e0 = k;
        while k < s.len() && s[k].is_ascii_digit() {
            k += 1;
        }
        if k > e0 {
            j = k;
        }
    }
    let text = std::str::from_utf8(&s[..j]).ok()?;
    text.parse::<f64>().ok().map(|v| (v, j))
}

impl Parser<'_> {
    fn at(&self, i: usize) -> u8 {
        self.data.get(i).copied().unwrap_or(0)
    }

    fn invalid_number(&self) -> bool {
        let mut p = self.pos;
        if self.at(p) == b'+' {
            return true;
        }
        if self.at(p) == b'-' {
            p += 1;
        }
        if self.at(p) == b'0' {
            let c2 = self.at(p + 1);
            return (c2 | 0x20) == b'x' || c2.is_ascii_digit();
        } else if self.at(p) <= b'9' {
            return false;
        }
        let w: Vec<u8> = (0..3)
            .map(|k| self.at(p + k).to_ascii_lowercase())
            .collect();
        w == b"inf" || w == b"nan"
    }

    fn number(&mut self) -> Tok {
        match strtod(&self.data[self.pos..]) {
            Some((v, n)) if n > 0 => {
                self.pos += n;
                Tok::Num(v)
            }
            _ => Tok::Error("invalid number"),
        }
    }

    fn string(&mut self) -> Tok {
        self.pos += 1;
        let mut s = Vec::new();
        loop {
            let ch = self.at(self.pos);
            if ch == b'"' {
                break;
            }
            if ch == 0 {
                return Tok::Error("unexpected end of string");
            }
            if ch == b'\\' {
                let e = self.at(self.pos + 1);
                let mapped = match e {
                    b'"' => b'"',
                    b'\\' => b'\\',
                    b'/' => b'/',
                    b'b' => 8,
                    b'f' => 12,
                    b'n' => b'\n',
                    b'r' => b'\r',
                    b't' => b'\t',
                    b'u' => match self.unicode_escape(&mut s) {
                        true => continue,
                        false => return Tok::Error("invalid unicode escape code"),
                    },
                    _ => return Tok::Error("invalid escape code"),
                };
                s.push(mapped);
                self.pos += 2;
                continue;
            }
            s.push(ch);
            self.pos += 1;
        }
        self.pos += 1;
        Tok::Str(s)
    }

    fn hex4(&self, at: usize) -> Option<u32> {
        let mut v = 0;
        for k in 0..4 {
            v = v * 16 + (self.at(at + k) as char).to_digit(16)?;
        }
        Some(v)
    }

    /// \uXXXX (with surrogate pairs) appended as UTF-8.
    fn unicode_escape(&mut self, s: &mut Vec<u8>) -> bool {
        let Some(mut cp) = self.hex4(self.pos + 2) else {
            return false;
        };
        let mut len = 6;
        if (0xDC00..=0xDFFF).contains(&cp) {
            return false;
        }
        if (0xD800..=0xDBFF).contains(&cp) {
            if self.at(self.pos + 6) != b'\\' || self.at(self.pos + 7) != b'u' {
                return false;
            }
            let Some(lo) = self.hex4(self.pos + 8) else {
                return false;
            };
            if !(0xDC00..=0xDFFF).contains(&lo) {
                return false;
            }
            cp = (((cp & 0x3FF) << 10) | (lo & 0x3FF)) + 0x10000;
            len = 12;
        }
        let mut buf = [0u8; 4];
        match char::from_u32(cp) {
            Some(c) => s.extend_from_slice(c.encode_utf8(&mut buf).as_bytes()),
            None => return false,
        }
        self.pos += len;
        true
    }

    /// Returns the token and its 0-based index.
    fn next(&mut self) -> (Tok, usize) {
        while matches!(self.at(self.pos), b' ' | b'\t' | b'\n' | b'\r')
            && self.pos < self.data.len()
        {
            self.pos += 1;
        }
        let idx = self.pos;
        if self.pos >= self.data.len() || self.at(self.pos) == 0 {
            return (Tok::End, idx);
        }
        let ch = self.at(self.pos);
        let simple = match ch {
            b'{' => Some(Tok::ObjBegin),
            b'}' => Some(Tok::ObjEnd),
            b'[' => Some(Tok::ArrBegin),
            b']' => Some(Tok::ArrEnd),
            b',' => Some(Tok::Comma),
            b':' => Some(Tok::Colon),
            _ => None,
        };
        if let Some(t) = simple {
            self.pos += 1;
            return (t, idx);
        }
        let known = matches!(
            ch,
            b'f' | b'i' | b'I' | b'n' | b'N' | b't' | b'"' | b'+' | b'-'
        ) || ch.is_ascii_digit();
        if !known {
            return (Tok::Error("invalid token"), idx);
        }
        let rest = &self.data[self.pos..];
        let t = if ch == b'"' {
            self.string()
        } else if ch == b'-' || ch.is_ascii_digit() {
            if !self.cfg.decode_invalid_numbers && self.invalid_number() {
                Tok::Error("invalid number")
            } else {
                self.number()
            }
        } else if rest.starts_with(b"true") {
            self.pos += 4;
            Tok::Bool(true)
        } else if rest.starts_with(b"false") {
            self.pos += 5;
            Tok::Bool(false)
        } else if rest.starts_with(b"null") {
            self.pos += 4;
            Tok::Null
        } else if self.cfg.decode_invalid_numbers && self.invalid_number() {
            self.number()
        } else {
            Tok::Error("invalid token")
        };
        // Errors report where the token began (or where it failed).
        let at = if matches!(t, Tok::Error(_)) {
            self.pos
        } else {
            idx
        };
        (t, at)
    }

    fn expected(&self, exp: &str, t: &Tok, idx: usize) -> Raise {
        Raise(format!(
            "Expected {exp} but found {} at character {}",
            tok_name(t),
            idx + 1
        ))
    }

    unsafe fn descend(&mut self, l: *mut lua_State, slots: c_int) -> Result<(), Raise> {
        self.depth += 1;
        if self.depth <= self.cfg.decode_max_depth && ffi::lua_checkstack(l, slots) != 0 {
            return Ok(());
        }
        Err(Raise(format!(
            "Found too many nested data structures ({}) at character {}",
            self.depth, self.pos
        )))
    }

    unsafe fn value(&mut self, l: *mut lua_State, t: Tok, idx: usize) -> Result<(), Raise> {
        match t {
            Tok::Str(s) => push_bytes(l, &s),
            Tok::Num(n) => ffi::lua_pushnumber(l, n),
            Tok::Bool(b) => ffi::lua_pushboolean(l, b as c_int),
            Tok::Null => ffi::lua_pushlightuserdata(l, std::ptr::null_mut()),
            Tok::ObjBegin => self.object(l)?,
            Tok::ArrBegin => self.array(l)?,
            t => return Err(self.expected("value", &t, idx)),
        }
        Ok(())
    }

    unsafe fn object(&mut self, l: *mut lua_State) -> Result<(), Raise> {
        self.descend(l, 3)?;
        ffi::lua_newtable(l);
        let (mut t, mut idx) = self.next();
        if matches!(t, Tok::ObjEnd) {
            self.depth -= 1;
            return Ok(());
        }
        loop {
            let Tok::Str(k) = t else {
                return Err(self.expected("object key string", &t, idx));
            };
            push_bytes(l, &k);
            let (c, ci) = self.next();
            if !matches!(c, Tok::Colon) {
                return Err(self.expected("colon", &c, ci));
            }
            let (v, vi) = self.next();
            self.value(l, v, vi)?;
            ffi::lua_rawset(l, -3);
            let (sep, si) = self.next();
            match sep {
                Tok::ObjEnd => {
                    self.depth -= 1;
                    return Ok(());
                }
                Tok::Comma => {}
                other => return Err(self.expected("comma or object end", &other, si)),
            }
            (t, idx) = self.next();
        }
    }

    unsafe fn array(&mut self, l: *mut lua_State) -> Result<(), Raise> {
        self.descend(l, 2)?;
        ffi::lua_newtable(l);
        let (mut t, mut idx) = self.next();
        if matches!(t, Tok::ArrEnd) {
            self.depth -= 1;
            return Ok(());
        }
        let mut i = 1;
        loop {
            self.value(l, t, idx)?;
            ffi::lua_rawseti(l, -2, i);
            i += 1;
            let (sep, si) = self.next();
            match sep {
                Tok::ArrEnd => {
                    self.depth -= 1;
                    return Ok(());
                }
                Tok::Comma => {}
                other => return Err(self.expected("comma or array end", &other, si)),
            }
            (t, idx) = self.next();
        }
    }
}

unsafe fn decode_inner(l: *mut lua_State, data: &[u8]) -> Result<(), Raise> {
    if data.len() >= 2 && (data[0] == 0 || data[1] == 0) {
        return Err(Raise(
            "JSON parser does not support UTF-16 or UTF-32".into(),
        ));
    }
    let mut p = Parser {
        data,
        pos: 0,
        depth: 0,
        cfg: cfg(),
    };
    let (t, idx) = p.next();
    p.value(l, t, idx)?;
    let (t, idx) = p.next();
    if !matches!(t, Tok::End) {
        return Err(p.expected("the end", &t, idx));
    }
    Ok(())
}

unsafe extern "C-unwind" fn decode(l: *mut lua_State) -> c_int {
    if ffi::lua_gettop(l) != 1 {
        ffi::luaL_argerror(l, 1, c"expected 1 argument".as_ptr());
    }
    let mut len = 0usize;
    let p = ffi::luaL_checklstring(l, 1, &mut len);
    let data = std::slice::from_raw_parts(p as *const u8, len);
    match decode_inner(l, data) {
        Ok(()) => 1,
        Err(r) => raise_str(l, r),
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
            (c"decode", decode),
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
