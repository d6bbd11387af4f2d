//! cjson.decode (lua-cjson 2.1.0 as Redis ships it): the tokenizer and
//! parser with its strtod numbers (hex, inf, nan), \uXXXX escapes, depth
//! limit and error messages ("Expected value but found T_END at
//! character 1").

use super::lib_cjson::{cfg, raise_str, Cfg, Raise};
use super::lua::*;
use mlua::ffi;
use std::ffi::c_int;

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

pub(super) unsafe extern "C-unwind" fn decode(l: *mut lua_State) -> c_int {
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
