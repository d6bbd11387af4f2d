//! RESP: the request parser (multibulk and inline) and the reply encoder
//! (RESP2 and RESP3).
//!
//! Knows nothing of commands, clients or config: limits are arguments. The
//! parser is pure and resumable: it looks at the bytes buffered so far and
//! either returns one complete request, says how many bytes it needs at least
//! (`Incomplete`), or reports a protocol error with Redis's exact wording.

pub mod reply;

use crate::encoding::numbers::{ll2string, string2ll};

/// Longest inline request or `*`/`$` header line accepted while incomplete.
pub const INLINE_MAX_SIZE: usize = 64 * 1024;

/// Limits the parser enforces.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    pub proto_max_bulk_len: u64,
    /// Unauthenticated clients get tight limits, as in Redis 7.0.
    pub authenticated: bool,
}

/// Reply bytes of an element whose size is not known: a short bulk
/// string (`$8\r\n` + 8 bytes + `\r\n`), for a long reply's reservation.
const SHORT_ELEMENT: usize = 16;

/// Where an argument lies in the parsed frame.
pub type Span = (usize, usize);

#[derive(Debug, PartialEq, Eq)]
pub enum Parsed {
    /// A complete request: the argument spans (relative to the buffer start)
    /// were pushed into the caller's vector; `consumed` bytes belong to it.
    /// Zero arguments means an empty request to be skipped.
    Request { consumed: usize },
    /// More bytes are needed; at least `need` in total, when known.
    Incomplete { need: usize },
}

/// A protocol error; the text follows `-ERR Protocol error: `.
#[derive(Debug, PartialEq, Eq)]
pub struct ProtoError(pub &'static str);

fn find_crlf(buf: &[u8], from: usize) -> Option<usize> {
    let mut i = from;
    while i < buf.len() {
        match buf[i..].iter().position(|&c| c == b'\r') {
            None => return None,
            Some(p) => {
                let at = i + p;
                if at + 1 < buf.len() {
                    if buf[at + 1] == b'\n' {
                        return Some(at);
                    }
                    i = at + 1;
                } else {
                    return None;
                }
            }
        }
    }
    None
}

/// Parses one request from `buf`, pushing argument spans into `args`
/// (cleared first).
pub fn parse_request(
    buf: &[u8],
    limits: Limits,
    args: &mut Vec<Span>,
) -> Result<Parsed, ProtoError> {
    args.clear();
    if buf.is_empty() {
        return Ok(Parsed::Incomplete { need: 1 });
    }
    if buf[0] == b'*' {
        parse_multibulk(buf, limits, args)
    } else {
        parse_inline(buf, args)
    }
}

fn parse_multibulk(buf: &[u8], limits: Limits, args: &mut Vec<Span>) -> Result<Parsed, ProtoError> {
    let Some(eol) = find_crlf(buf, 1) else {
        if buf.len() > INLINE_MAX_SIZE {
            return Err(ProtoError("too big mbulk count string"));
        }
        return Ok(Parsed::Incomplete {
            need: buf.len() + 1,
        });
    };
    let count = match string2ll(&buf[1..eol]) {
        Some(n) if n <= i32::MAX as i64 => n,
        _ => return Err(ProtoError("invalid multibulk length")),
    };
    if !limits.authenticated && count > 10 {
        return Err(ProtoError("unauthenticated multibulk length"));
    }
    let mut pos = eol + 2;
    if count <= 0 {
        return Ok(Parsed::Request { consumed: pos });
    }
    for _ in 0..count {
        if pos >= buf.len() {
            return Ok(Parsed::Incomplete { need: pos + 1 });
        }
        if buf[pos] != b'$' {
            return Err(ProtoError(expected_dollar(buf[pos])));
        }
        let Some(eol) = find_crlf(buf, pos + 1) else {
            if buf.len() - pos > INLINE_MAX_SIZE {
                return Err(ProtoError("too big bulk count string"));
            }
            return Ok(Parsed::Incomplete {
                need: buf.len() + 1,
            });
        };
        let len = match string2ll(&buf[pos + 1..eol]) {
            Some(n) if n >= 0 && (n as u64) <= limits.proto_max_bulk_len => n as usize,
            _ => return Err(ProtoError("invalid bulk length")),
        };
        if !limits.authenticated && len > 16384 {
            return Err(ProtoError("unauthenticated bulk length"));
        }
        let start = eol + 2;
        // Like Redis, the two bytes after the payload are skipped unchecked.
        let end = start + len + 2;
        if end > buf.len() {
            return Ok(Parsed::Incomplete { need: end });
        }
        args.push((start, start + len));
        pos = end;
    }
    Ok(Parsed::Request { consumed: pos })
}

/// Most arguments `peek_key` walks.
const PEEK_MAX_ARGS: usize = 64;

/// A look at the next buffered request without parsing it for real: the
/// span of its second argument (the key of most commands) and its length,
/// when it is a complete multibulk request of at least two arguments with
/// short headers. A hint for prefetching (`server/exec.rs`): anything odd
/// is None, and the real parse decides.
pub fn peek_key(buf: &[u8]) -> Option<(Span, usize)> {
    // A header: `<tag><digits>\r\n` of at most 20 digits.
    let header = |pos: usize, tag: u8| -> Option<(usize, usize)> {
        if buf.get(pos) != Some(&tag) {
            return None;
        }
        let line = buf.get(pos + 1..buf.len().min(pos + 23))?;
        let eol = line.iter().position(|&c| c == b'\r')?;
        if line.get(eol + 1) != Some(&b'\n') {
            return None;
        }
        let n = string2ll(&line[..eol])?;
        Some((usize::try_from(n).ok()?, pos + 1 + eol + 2))
    };
    let (count, mut pos) = header(0, b'*')?;
    // A longer request is worth no hint (its own work dwarfs one cache
    // miss), and its headers would be walked twice.
    if !(2..=PEEK_MAX_ARGS).contains(&count) {
        return None;
    }
    let mut key = (0, 0);
    for i in 0..count {
        let (len, start) = header(pos, b'$')?;
        let end = start.checked_add(len)?.checked_add(2)?;
        if end > buf.len() {
            return None;
        }
        if i == 1 {
            key = (start, start + len);
        }
        pos = end;
    }
    Some((key, pos))
}

/// How far Redis's incremental parser would be into an incomplete
/// multibulk request: (bytes it would have consumed from its query buffer,
/// total length of the arguments it would already hold). Redis drops what
/// it parsed (the `*N` and `$L` lines and complete arguments) from the
/// query buffer, so CLIENT LIST's qbuf and argv-mem count that way. Pure.
pub fn partial_progress(buf: &[u8]) -> (usize, usize) {
    if buf.first() != Some(&b'*') {
        return (0, 0);
    }
    let Some(eol) = find_crlf(buf, 1) else {
        return (0, 0);
    };
    let mut pos = eol + 2;
    let mut argv = 0;
    while pos < buf.len() && buf[pos] == b'$' {
        let Some(eol) = find_crlf(buf, pos + 1) else {
            break;
        };
        let Some(len) = string2ll(&buf[pos + 1..eol]).and_then(|n| usize::try_from(n).ok()) else {
            break;
        };
        let start = eol + 2;
        if start + len + 2 > buf.len() {
            // The bulk's header is consumed; its payload is what remains.
            return (start, argv);
        }
        argv += len;
        pos = start + len + 2;
    }
    (pos.min(buf.len()), argv)
}

/// Redis says "expected '$', got 'X'"; the texts come from a static table
/// so that errors never allocate.
fn expected_dollar(c: u8) -> &'static str {
    if (b' '..=b'~').contains(&c) {
        return EXPECTED_DOLLAR[(c - b' ') as usize];
    }
    "expected '$', got '?'"
}

macro_rules! expected_table {
    ($($c:literal)*) => { [$(concat!("expected '$', got '", $c, "'")),*] };
}

static EXPECTED_DOLLAR: [&str; 95] = expected_table!(
    " " "!" "\"" "#" "$" "%" "&" "'" "(" ")" "*" "+" "," "-" "." "/"
    "0" "1" "2" "3" "4" "5" "6" "7" "8" "9" ":" ";" "<" "=" ">" "?"
    "@" "A" "B" "C" "D" "E" "F" "G" "H" "I" "J" "K" "L" "M" "N" "O"
    "P" "Q" "R" "S" "T" "U" "V" "W" "X" "Y" "Z" "[" "\\" "]" "^" "_"
    "`" "a" "b" "c" "d" "e" "f" "g" "h" "i" "j" "k" "l" "m" "n" "o"
    "p" "q" "r" "s" "t" "u" "v" "w" "x" "y" "z" "{" "|" "}" "~"
);

/// Inline requests: one line, split like redis-cli input (quotes allowed).
fn parse_inline(buf: &[u8], args: &mut Vec<Span>) -> Result<Parsed, ProtoError> {
    let Some(nl) = buf.iter().position(|&c| c == b'\n') else {
        if buf.len() > INLINE_MAX_SIZE {
            return Err(ProtoError("too big inline request"));
        }
        return Ok(Parsed::Incomplete {
            need: buf.len() + 1,
        });
    };
    let mut line_end = nl;
    if line_end > 0 && buf[line_end - 1] == b'\r' {
        line_end -= 1;
    }
    crate::util::splitargs::split_spans(&buf[..line_end], args)
        .ok_or(ProtoError("unbalanced quotes in request"))?;
    Ok(Parsed::Request { consumed: nl + 1 })
}

// ---- replies ----

/// A reply writer over a client's output buffer, aware of the protocol
/// version (2 or 3) so that handlers never branch on it.
pub struct Out<'a> {
    pub buf: &'a mut Vec<u8>,
    pub resp: u8,
}

impl<'a> Out<'a> {
    pub fn new(buf: &'a mut Vec<u8>, resp: u8) -> Self {
        Out { buf, resp }
    }

    #[inline]
    fn line(&mut self, prefix: u8, n: i64) {
        let mut b = [0u8; 20];
        self.buf.push(prefix);
        self.buf.extend_from_slice(ll2string(n, &mut b));
        self.buf.extend_from_slice(b"\r\n");
    }

    pub fn raw(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    pub fn ok(&mut self) {
        self.buf.extend_from_slice(b"+OK\r\n");
    }

    /// `+text`; text must not contain CR or LF.
    pub fn simple(&mut self, text: &str) {
        self.buf.push(b'+');
        self.buf.extend_from_slice(text.as_bytes());
        self.buf.extend_from_slice(b"\r\n");
    }

    /// `-text`: text is the whole error line without the dash.
    pub fn error(&mut self, text: &str) {
        self.error_bytes(text.as_bytes());
    }

    /// `error` for text that need not be UTF-8 (DEBUG ERROR's argument).
    pub fn error_bytes(&mut self, text: &[u8]) {
        self.buf.push(b'-');
        // Newlines would break the protocol; Redis replaces them with spaces.
        for &c in text {
            self.buf
                .push(if c == b'\r' || c == b'\n' { b' ' } else { c });
        }
        self.buf.extend_from_slice(b"\r\n");
    }

    #[inline]
    pub fn int(&mut self, n: i64) {
        self.line(b':', n);
    }

    #[inline]
    pub fn bulk(&mut self, data: &[u8]) {
        if data.len() > 4096 {
            // Room for header, data and CRLF at once: the value is copied
            // once, never again by a growth in the middle of it.
            self.buf.reserve(data.len() + 24);
        }
        self.line(b'$', data.len() as i64);
        self.buf.extend_from_slice(data);
        self.buf.extend_from_slice(b"\r\n");
    }

    /// The `$<len>` line of a bulk string whose body and CRLF the caller
    /// sends itself.
    pub fn bulk_header(&mut self, len: usize) {
        self.line(b'$', len as i64);
    }

    pub fn bulk_i64(&mut self, n: i64) {
        let mut b = [0u8; 20];
        let s = ll2string(n, &mut b);
        self.bulk(s);
    }

    /// The null bulk string (`$-1` in RESP2, `_` in RESP3).
    pub fn null(&mut self) {
        if self.resp >= 3 {
            self.buf.extend_from_slice(b"_\r\n");
        } else {
            self.buf.extend_from_slice(b"$-1\r\n");
        }
    }

    /// The null array (`*-1` in RESP2, `_` in RESP3).
    pub fn null_array(&mut self) {
        if self.resp >= 3 {
            self.buf.extend_from_slice(b"_\r\n");
        } else {
            self.buf.extend_from_slice(b"*-1\r\n");
        }
    }

    pub fn array(&mut self, n: usize) {
        self.array_sized(n, SHORT_ELEMENT);
    }

    /// An array header for `n` elements of about `per` reply bytes each
    /// (a caller that knows its elements' sizes, e.g. LRANGE).
    pub fn array_sized(&mut self, n: usize, per: usize) {
        self.reserve_elements(n, per);
        self.line(b'*', n as i64);
    }

    /// A long reply is about to be written: room for it at once, rather
    /// than a buffer doubling its way up, each step copying what is
    /// already written and faulting in fresh pages (half the CPU of an
    /// LRANGE of 10,000).
    #[inline]
    fn reserve_elements(&mut self, n: usize, per: usize) {
        if n >= 1024 {
            self.buf.reserve(n.saturating_mul(per).min(64 << 20));
        }
    }

    /// A map of `n` pairs (a flat array of 2n in RESP2).
    pub fn map(&mut self, n: usize) {
        self.reserve_elements(n.saturating_mul(2), SHORT_ELEMENT);
        if self.resp >= 3 {
            self.line(b'%', n as i64);
        } else {
            self.line(b'*', 2 * n as i64);
        }
    }

    /// A set of `n` elements (an array in RESP2).
    pub fn set(&mut self, n: usize) {
        self.reserve_elements(n, SHORT_ELEMENT);
        if self.resp >= 3 {
            self.line(b'~', n as i64);
        } else {
            self.line(b'*', n as i64);
        }
    }

    /// A push message header (`>` in RESP3, an array in RESP2).
    pub fn push(&mut self, n: usize) {
        if self.resp >= 3 {
            self.line(b'>', n as i64);
        } else {
            self.line(b'*', n as i64);
        }
    }

    /// A double: `,` in RESP3, a bulk string with Redis's formatting in RESP2.
    pub fn double(&mut self, d: f64) {
        let text = crate::encoding::numbers::fmt_double(d);
        if self.resp >= 3 {
            self.buf.push(b',');
            self.buf.extend_from_slice(text.as_bytes());
            self.buf.extend_from_slice(b"\r\n");
        } else {
            self.bulk(text.as_bytes());
        }
    }

    pub fn boolean(&mut self, b: bool) {
        if self.resp >= 3 {
            self.buf
                .extend_from_slice(if b { b"#t\r\n" } else { b"#f\r\n" });
        } else {
            self.int(b as i64);
        }
    }

    /// Verbatim text (`=` with a `txt:` prefix in RESP3, bulk in RESP2).
    pub fn verbatim(&mut self, text: &[u8]) {
        if self.resp >= 3 {
            self.line(b'=', text.len() as i64 + 4);
            self.buf.extend_from_slice(b"txt:");
            self.buf.extend_from_slice(text);
            self.buf.extend_from_slice(b"\r\n");
        } else {
            self.bulk(text);
        }
    }

    /// An array of bulk strings.
    pub fn bulks<'b>(&mut self, items: impl ExactSizeIterator<Item = &'b [u8]>) {
        self.array(items.len());
        for i in items {
            self.bulk(i);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const L: Limits = Limits {
        proto_max_bulk_len: 512 * 1024 * 1024,
        authenticated: true,
    };

    fn parse(buf: &[u8]) -> (Result<Parsed, ProtoError>, Vec<Vec<u8>>) {
        let mut spans = Vec::new();
        let r = parse_request(buf, L, &mut spans);
        let args = spans.iter().map(|&(a, b)| buf[a..b].to_vec()).collect();
        (r, args)
    }

    #[test]
    fn multibulk() {
        let (r, a) = parse(b"*2\r\n$3\r\nGET\r\n$1\r\nk\r\nextra");
        assert_eq!(r, Ok(Parsed::Request { consumed: 20 }));
        assert_eq!(a, vec![b"GET".to_vec(), b"k".to_vec()]);
    }

    #[test]
    fn peek_key_agrees_with_the_parser_or_declines() {
        let req = b"*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$5\r\nvalue\r\n*1\r\n$4\r\nPING\r\n";
        let (span, len) = peek_key(req).expect("complete");
        assert_eq!(&req[span.0..span.1], b"key");
        assert_eq!(parse(req).0, Ok(Parsed::Request { consumed: len }));
        // Incomplete, one argument, inline, bad headers: no guess.
        for cut in 0..len {
            assert_eq!(peek_key(&req[..cut]), None, "cut {cut}");
        }
        assert_eq!(peek_key(&req[len..]), None);
        assert_eq!(peek_key(b"GET key\r\n"), None);
        assert_eq!(peek_key(b"*2\r\n$-1\r\n$1\r\nk\r\n"), None);
        assert_eq!(peek_key(b"*2\r\n$99999999999999999999999\r\nx"), None);
        assert_eq!(peek_key(b"*99999999999999\r\n$1\r\na\r\n"), None);
        // Past PEEK_MAX_ARGS arguments, no walk and no guess.
        let mut big = format!("*{}\r\n", PEEK_MAX_ARGS + 1).into_bytes();
        for _ in 0..=PEEK_MAX_ARGS {
            big.extend_from_slice(b"$1\r\nx\r\n");
        }
        assert!(matches!(parse(&big).0, Ok(Parsed::Request { .. })));
        assert_eq!(peek_key(&big), None);
    }

    #[test]
    fn every_split_is_incomplete_until_whole() {
        let req = b"*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$5\r\nvalue\r\n";
        for cut in 0..req.len() {
            let (r, _) = parse(&req[..cut]);
            assert!(matches!(r, Ok(Parsed::Incomplete { .. })), "cut {cut}");
        }
        assert!(matches!(parse(req).0, Ok(Parsed::Request { .. })));
    }

    #[test]
    fn errors() {
        assert_eq!(
            parse(b"*x\r\n").0,
            Err(ProtoError("invalid multibulk length"))
        );
        assert_eq!(
            parse(b"*1\r\n+a\r\n").0,
            Err(ProtoError("expected '$', got '+'"))
        );
        assert_eq!(
            parse(b"*1\r\n$-5\r\n").0,
            Err(ProtoError("invalid bulk length"))
        );
        assert_eq!(
            parse(b"\"abc\n").0,
            Err(ProtoError("unbalanced quotes in request"))
        );
    }

    #[test]
    fn inline() {
        let (r, a) = parse(b"set k \"a b\"\r\n");
        assert_eq!(r, Ok(Parsed::Request { consumed: 13 }));
        assert_eq!(a[2], b"\"a b\"".to_vec());
        let (r, a) = parse(b"\r\n");
        assert_eq!(r, Ok(Parsed::Request { consumed: 2 }));
        assert!(a.is_empty());
    }
}
