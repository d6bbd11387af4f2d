//! Redis's argument splitter and quoter (`sdssplitargs` and `sdscatrepr` of
//! sds.c), the only copies: inline requests, redis.conf lines, the AOF
//! manifest, the command line, MONITOR lines and CONFIG REWRITE all use them.
//!
//! Splitting rules, as sdssplitargs: arguments are separated by whitespace;
//! `"..."` understands `\n \r \t \b \a`, `\xHH` and `\<any>`; `'...'`
//! understands only `\'`; a quote may start in the middle of an argument
//! (`foo"bar"` is `foobar`) and a closing quote must be followed by
//! whitespace or the end of the line (else the line is unbalanced). A NUL
//! byte ends the line, as the C string would.

/// An argument's bytes `[start, end)` within the line it was split from.
pub type Span = (usize, usize);

/// C `isspace` (which, unlike `u8::is_ascii_whitespace`, includes `\v`).
#[inline]
fn is_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

#[inline]
fn hex_val(c: u8) -> Option<u8> {
    (c as char).to_digit(16).map(|d| d as u8)
}

/// The line up to its first NUL byte.
#[inline]
fn c_string(line: &[u8]) -> &[u8] {
    match line.iter().position(|&c| c == 0) {
        Some(n) => &line[..n],
        None => line,
    }
}

/// Scans the argument that starts at or after `*pos`, appending its
/// unescaped bytes to `out` when given. Ok(None) at the end of the line,
/// Err(()) on unbalanced quotes.
fn scan(b: &[u8], pos: &mut usize, mut out: Option<&mut Vec<u8>>) -> Result<Option<Span>, ()> {
    let mut p = *pos;
    while p < b.len() && is_space(b[p]) {
        p += 1;
    }
    if p >= b.len() {
        *pos = p;
        return Ok(None);
    }
    let start = p;
    let mut push = |c: u8| {
        if let Some(o) = out.as_deref_mut() {
            o.push(c);
        }
    };
    let (mut inq, mut insq) = (false, false);
    loop {
        let Some(&c) = b.get(p) else {
            if inq || insq {
                return Err(());
            }
            *pos = p;
            return Ok(Some((start, p)));
        };
        let next = b.get(p + 1).copied();
        if inq {
            match c {
                b'\\' if next == Some(b'x') => {
                    match (
                        b.get(p + 2).and_then(|&h| hex_val(h)),
                        b.get(p + 3).and_then(|&l| hex_val(l)),
                    ) {
                        (Some(h), Some(l)) => {
                            push(h * 16 + l);
                            p += 3;
                        }
                        _ => {
                            push(b'x');
                            p += 1;
                        }
                    }
                }
                b'\\' if next.is_some() => {
                    p += 1;
                    push(match b[p] {
                        b'n' => b'\n',
                        b'r' => b'\r',
                        b't' => b'\t',
                        b'b' => 8,
                        b'a' => 7,
                        other => other,
                    });
                }
                b'"' => {
                    if next.is_some_and(|n| !is_space(n)) {
                        return Err(());
                    }
                    *pos = p + 1;
                    return Ok(Some((start, p + 1)));
                }
                _ => push(c),
            }
        } else if insq {
            match c {
                b'\\' if next == Some(b'\'') => {
                    p += 1;
                    push(b'\'');
                }
                b'\'' => {
                    if next.is_some_and(|n| !is_space(n)) {
                        return Err(());
                    }
                    *pos = p + 1;
                    return Ok(Some((start, p + 1)));
                }
                _ => push(c),
            }
        } else {
            match c {
                b' ' | b'\n' | b'\r' | b'\t' => {
                    *pos = p + 1;
                    return Ok(Some((start, p)));
                }
                b'"' => inq = true,
                b'\'' => insq = true,
                _ => push(c),
            }
        }
        p += 1;
    }
}

/// sdssplitargs: the arguments of a line, or None on unbalanced quotes.
pub fn split_args(line: &[u8]) -> Option<Vec<Vec<u8>>> {
    let line = c_string(line);
    let mut pos = 0;
    let mut argv = Vec::new();
    loop {
        let mut arg = Vec::new();
        match scan(line, &mut pos, Some(&mut arg)) {
            Ok(Some(_)) => argv.push(arg),
            Ok(None) => return Some(argv),
            Err(()) => return None,
        }
    }
}

/// sdssplitargs for text (redis.conf, the AOF manifest): arguments that
/// are not UTF-8 after unescaping are converted lossily.
pub fn split_args_str(line: &str) -> Option<Vec<String>> {
    split_args(line.as_bytes()).map(|argv| {
        argv.into_iter()
            .map(|a| {
                String::from_utf8(a)
                    .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
            })
            .collect()
    })
}

/// sdssplitargs without copying: the span of each argument within `line`
/// (quotes included). An argument is the span's bytes as they are unless
/// it contains a quote (see [`needs_unquote`]); then [`unquote`] gives it.
pub fn split_spans(line: &[u8], spans: &mut Vec<Span>) -> Option<()> {
    let line = c_string(line);
    let mut pos = 0;
    loop {
        match scan(line, &mut pos, None) {
            Ok(Some(span)) => spans.push(span),
            Ok(None) => return Some(()),
            Err(()) => return None,
        }
    }
}

/// Whether a span from [`split_spans`] must go through [`unquote`].
#[inline]
pub fn needs_unquote(token: &[u8]) -> bool {
    token.iter().any(|&c| c == b'"' || c == b'\'')
}

/// The argument a span of [`split_spans`] stands for (quotes removed,
/// escapes resolved).
pub fn unquote(token: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(token.len());
    let mut pos = 0;
    // The span was accepted by split_spans, so it scans again the same way.
    let _ = scan(token, &mut pos, Some(&mut out));
    out
}

/// sdscatrepr: appends `bytes` to `out` in double quotes, escaping `\` and
/// `"`, naming `\n \r \t \a \b`, and writing other unprintable bytes as `\xHH`.
pub fn repr_into(out: &mut String, bytes: &[u8]) {
    out.push('"');
    for &c in bytes {
        match c {
            b'\\' => out.push_str("\\\\"),
            b'"' => out.push_str("\\\""),
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            b'\t' => out.push_str("\\t"),
            7 => out.push_str("\\a"),
            8 => out.push_str("\\b"),
            0x20..=0x7e => out.push(c as char),
            _ => {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                out.push_str("\\x");
                out.push(HEX[(c >> 4) as usize] as char);
                out.push(HEX[(c & 15) as usize] as char);
            }
        }
    }
    out.push('"');
}

/// sdscatrepr into a new string.
pub fn repr(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() + 2);
    repr_into(&mut out, bytes);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<Vec<u8>> {
        v.iter().map(|x| x.as_bytes().to_vec()).collect()
    }

    #[test]
    fn splits_as_sdssplitargs() {
        assert_eq!(split_args(b"  a  b\tc ").unwrap(), s(&["a", "b", "c"]));
        assert_eq!(
            split_args(br#"x "a b\n\t\"\\\x41" 'it\'s' """#).unwrap(),
            s(&["x", "a b\n\t\"\\A", "it's", ""])
        );
        assert_eq!(split_args(br#"foo"bar""#).unwrap(), s(&["foobar"]));
        assert_eq!(split_args(br#""\x4""#).unwrap(), s(&["x4"]));
        assert!(split_args(br#""abc"#).is_none());
        assert!(split_args(br#""abc"x"#).is_none());
        assert!(split_args(b"'abc").is_none());
        assert!(split_args(b"'a'b").is_none());
        assert_eq!(split_args(b"").unwrap(), Vec::<Vec<u8>>::new());
        assert_eq!(split_args(b" \x0b ").unwrap(), Vec::<Vec<u8>>::new());
        // A NUL ends the line.
        assert_eq!(split_args(b"a b\0c d").unwrap(), s(&["a", "b"]));
        assert!(split_args(b"\"a\0\"").is_none());
    }

    #[test]
    fn spans_and_unquote_agree_with_split_args() {
        let lines: &[&[u8]] = &[
            b"set k v",
            br#"set "k y" 'v\'w' a"b""#,
            br#"  "\x00\xff" "#,
            b"ping\r",
        ];
        for line in lines {
            let mut spans = Vec::new();
            split_spans(line, &mut spans).unwrap();
            let got: Vec<Vec<u8>> = spans
                .iter()
                .map(|&(a, b)| {
                    let t = &line[a..b];
                    if needs_unquote(t) {
                        unquote(t)
                    } else {
                        t.to_vec()
                    }
                })
                .collect();
            assert_eq!(got, split_args(line).unwrap(), "{:?}", line);
        }
    }

    #[test]
    fn repr_as_sdscatrepr() {
        assert_eq!(
            repr(b"a\"b\\c\n\r\t\x07\x08\x00\xff~ "),
            r#""a\"b\\c\n\r\t\a\b\x00\xff~ ""#
        );
        // What repr writes, split_args reads back.
        let all: Vec<u8> = (0..=255u8).collect();
        assert_eq!(split_args(repr(&all).as_bytes()).unwrap(), vec![all]);
    }
}
