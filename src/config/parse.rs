//! Low-level text helpers shared by the config loader, CONFIG GET/SET and
//! CONFIG REWRITE: Redis's `sdssplitargs` tokenizer, `sdscatrepr` quoting,
//! the strict/lenient integer parsers and the memory-unit parser, and the
//! `stringmatchlen` glob used by CONFIG GET.

/// Split a line into arguments exactly like Redis's `sdssplitargs`.
/// Returns `None` on unbalanced quotes (or a closing quote not followed by
/// a space), which Redis reports as "Unbalanced quotes in configuration line".
pub fn split_args(line: &str) -> Option<Vec<String>> {
    let b = line.as_bytes();
    let mut p = 0;
    let mut out = Vec::new();
    loop {
        while p < b.len() && b[p].is_ascii_whitespace() {
            p += 1;
        }
        if p >= b.len() {
            return Some(out);
        }
        let (mut inq, mut insq, mut done) = (false, false, false);
        let mut cur: Vec<u8> = Vec::new();
        while !done {
            let c = b.get(p).copied();
            let next = b.get(p + 1).copied();
            if inq {
                match c {
                    None => return None,
                    Some(b'\\')
                        if next == Some(b'x')
                            && b.get(p + 2).is_some_and(u8::is_ascii_hexdigit)
                            && b.get(p + 3).is_some_and(u8::is_ascii_hexdigit) =>
                    {
                        cur.push(hex(b[p + 2]) * 16 + hex(b[p + 3]));
                        p += 3;
                    }
                    Some(b'\\') if next.is_some() => {
                        p += 1;
                        cur.push(match b[p] {
                            b'n' => b'\n',
                            b'r' => b'\r',
                            b't' => b'\t',
                            b'b' => 8,
                            b'a' => 7,
                            other => other,
                        });
                    }
                    Some(b'"') => {
                        // A closing quote must be followed by a space or nothing.
                        if next.is_some_and(|n| !n.is_ascii_whitespace()) {
                            return None;
                        }
                        done = true;
                    }
                    Some(ch) => cur.push(ch),
                }
            } else if insq {
                match c {
                    None => return None,
                    Some(b'\\') if next == Some(b'\'') => {
                        p += 1;
                        cur.push(b'\'');
                    }
                    Some(b'\'') => {
                        if next.is_some_and(|n| !n.is_ascii_whitespace()) {
                            return None;
                        }
                        done = true;
                    }
                    Some(ch) => cur.push(ch),
                }
            } else {
                match c {
                    None | Some(b' ') | Some(b'\n') | Some(b'\r') | Some(b'\t') | Some(0) => {
                        done = true
                    }
                    Some(b'"') => inq = true,
                    Some(b'\'') => insq = true,
                    Some(ch) => cur.push(ch),
                }
            }
            if p < b.len() {
                p += 1;
            }
        }
        out.push(String::from_utf8_lossy(&cur).into_owned());
    }
}

fn hex(c: u8) -> u8 {
    match c {
        b'0'..=b'9' => c - b'0',
        b'a'..=b'f' => c - b'a' + 10,
        _ => c.to_ascii_lowercase().wrapping_sub(b'a').wrapping_add(10),
    }
}

/// Quote a string the way `sdscatrepr` does (used for argv-to-text and REWRITE).
pub fn repr(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for &c in s.as_bytes() {
        match c {
            b'\\' => out.push_str("\\\\"),
            b'"' => out.push_str("\\\""),
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            b'\t' => out.push_str("\\t"),
            7 => out.push_str("\\a"),
            8 => out.push_str("\\b"),
            0x20..=0x7e => out.push(c as char),
            _ => out.push_str(&format!("\\x{c:02x}")),
        }
    }
    out.push('"');
    out
}

/// Redis `string2ll`: strict decimal, no spaces, no '+', no leading zeros.
pub fn string2ll(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b == b"0" {
        return Some(0);
    }
    let (neg, digits) = match b.first() {
        Some(b'-') => (true, &b[1..]),
        _ => (false, b),
    };
    match digits.first() {
        Some(b'1'..=b'9') => {}
        _ => return None,
    }
    if !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let mag: u64 = std::str::from_utf8(digits).ok()?.parse().ok()?;
    if neg {
        if mag > i64::MAX as u64 + 1 {
            None
        } else {
            Some((mag as i64).wrapping_neg())
        }
    } else {
        i64::try_from(mag).ok()
    }
}

/// C `strtoll(s, &end, 10)` followed by a check that `*end == '\0'`:
/// leading whitespace and a sign are allowed; an empty string parses as 0.
pub fn strtoll_full(s: &str) -> Option<i64> {
    let t = s.trim_start_matches(|c: char| c.is_ascii_whitespace());
    if t.is_empty() {
        return if s.is_empty() { Some(0) } else { None };
    }
    let (neg, digits) = match t.as_bytes()[0] {
        b'-' => (true, &t[1..]),
        b'+' => (false, &t[1..]),
        _ => (false, t),
    };
    if digits.is_empty() || !digits.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    // strtoll saturates on overflow.
    let v: i128 = digits.parse::<i128>().unwrap_or(i128::MAX);
    let v = if neg { -v } else { v };
    Some(v.clamp(i64::MIN as i128, i64::MAX as i128) as i64)
}

/// Redis `memtoull`: digits followed by an optional unit b, k, kb, m, mb, g, gb
/// (case-insensitive; k = 1000, kb = 1024).
pub fn memtoull(s: &str) -> Option<u64> {
    if s.starts_with('-') {
        return None;
    }
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (digits, unit) = s.split_at(split);
    let mul: u64 = match unit.to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" => 1000,
        "kb" => 1024,
        "m" => 1000 * 1000,
        "mb" => 1024 * 1024,
        "g" => 1000 * 1000 * 1000,
        "gb" => 1024 * 1024 * 1024,
        _ => return None,
    };
    // strtoull("") yields 0 without error, so "mb" alone is 0.
    let val: u64 = if digits.is_empty() {
        0
    } else {
        digits.parse().ok()?
    };
    val.checked_mul(mul)
}

/// Format bytes as REWRITE does: gb/mb/kb suffix when exactly divisible.
pub fn format_memory(bytes: i64) -> String {
    const KB: i64 = 1024;
    const MB: i64 = 1024 * 1024;
    const GB: i64 = 1024 * 1024 * 1024;
    if bytes != 0 && bytes % GB == 0 {
        format!("{}gb", bytes / GB)
    } else if bytes != 0 && bytes % MB == 0 {
        format!("{}mb", bytes / MB)
    } else if bytes != 0 && bytes % KB == 0 {
        format!("{}kb", bytes / KB)
    } else {
        bytes.to_string()
    }
}

/// Redis `stringmatchlen`: glob with `*`, `?`, `[...]` (with `^` and ranges)
/// and `\` escapes.
pub fn glob_match(pattern: &[u8], string: &[u8], nocase: bool) -> bool {
    let eq = |a: u8, b: u8| {
        if nocase {
            a.eq_ignore_ascii_case(&b)
        } else {
            a == b
        }
    };
    let (mut p, mut s) = (0usize, 0usize);
    while p < pattern.len() && s < string.len() {
        match pattern[p] {
            b'*' => {
                while p + 1 < pattern.len() && pattern[p + 1] == b'*' {
                    p += 1;
                }
                if p + 1 == pattern.len() {
                    return true;
                }
                return (s..string.len())
                    .any(|i| glob_match(&pattern[p + 1..], &string[i..], nocase));
            }
            b'?' => s += 1,
            b'[' => {
                p += 1;
                let not = pattern.get(p) == Some(&b'^');
                if not {
                    p += 1;
                }
                let mut matched = false;
                loop {
                    match pattern.get(p) {
                        None => {
                            p -= 1;
                            break;
                        }
                        Some(b'\\') if p + 1 < pattern.len() => {
                            p += 1;
                            if eq(pattern[p], string[s]) {
                                matched = true;
                            }
                        }
                        Some(b']') => break,
                        Some(&lo) if pattern.get(p + 1) == Some(&b'-') && p + 2 < pattern.len() => {
                            let hi = pattern[p + 2];
                            let (mut a, mut b) = (lo, hi);
                            if a > b {
                                std::mem::swap(&mut a, &mut b);
                            }
                            let mut c = string[s];
                            if nocase {
                                a = a.to_ascii_lowercase();
                                b = b.to_ascii_lowercase();
                                c = c.to_ascii_lowercase();
                            }
                            p += 2;
                            if c >= a && c <= b {
                                matched = true;
                            }
                        }
                        Some(&ch) => {
                            if eq(ch, string[s]) {
                                matched = true;
                            }
                        }
                    }
                    p += 1;
                }
                if matched == not {
                    return false;
                }
                s += 1;
            }
            b'\\' if p + 1 < pattern.len() => {
                p += 1;
                if !eq(pattern[p], string[s]) {
                    return false;
                }
                s += 1;
            }
            c => {
                if !eq(c, string[s]) {
                    return false;
                }
                s += 1;
            }
        }
        p += 1;
    }
    while p < pattern.len() && pattern[p] == b'*' {
        p += 1;
    }
    p == pattern.len() && s == string.len()
}

/// `strerror`-style text of an I/O error (without Rust's " (os error N)").
pub fn os_err(e: &std::io::Error) -> String {
    let s = e.to_string();
    match s.find(" (os error") {
        Some(i) => s[..i].to_string(),
        None => s,
    }
}
