//! The client side of RESP2: parsing the replies a server sends back, for
//! the connections ferrodis opens itself (Sentinel's links to masters,
//! replicas and other Sentinels).
//!
//! Pure and resumable like the request parser: `parse_reply` looks at the
//! bytes buffered so far and returns one complete reply with the number of
//! bytes it used, `Ok(None)` when more bytes are needed, or an error for
//! input that is not RESP. Limits keep a hostile peer from making us
//! allocate without bound: bulk strings and aggregates are bounded, and so
//! is nesting.

/// One decoded reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    /// `+OK`
    Status(Vec<u8>),
    /// `-ERR ...` (without the dash)
    Error(Vec<u8>),
    Int(i64),
    /// `$n` (None for `$-1`)
    Bulk(Option<Vec<u8>>),
    /// `*n` (None for `*-1`)
    Array(Option<Vec<Reply>>),
}

impl Reply {
    /// The text of a status, error or bulk reply.
    pub fn text(&self) -> Option<&[u8]> {
        match self {
            Reply::Status(s) | Reply::Error(s) => Some(s),
            Reply::Bulk(Some(b)) => Some(b),
            _ => None,
        }
    }

    pub fn is_error(&self) -> bool {
        matches!(self, Reply::Error(_))
    }
}

/// Largest bulk string accepted (an INFO reply is a few KB).
pub const MAX_BULK: usize = 64 * 1024 * 1024;
/// Largest aggregate accepted, in elements.
pub const MAX_ELEMENTS: usize = 1024 * 1024;
/// Deepest nesting accepted.
const MAX_DEPTH: usize = 16;
/// Longest header or status line accepted.
const MAX_LINE: usize = 64 * 1024;

/// Why a buffer cannot be a reply.
#[derive(Debug, PartialEq, Eq)]
pub struct BadReply(pub &'static str);

/// Parses one reply at the start of `buf`: Ok(Some((reply, consumed))),
/// Ok(None) when incomplete.
pub fn parse_reply(buf: &[u8]) -> Result<Option<(Reply, usize)>, BadReply> {
    parse_at(buf, 0, 0)
}

fn line(buf: &[u8], from: usize) -> Result<Option<(&[u8], usize)>, BadReply> {
    let rest = buf.get(from..).unwrap_or_default();
    match rest.windows(2).position(|w| w == b"\r\n") {
        Some(p) => Ok(Some((&rest[..p], from + p + 2))),
        None if rest.len() > MAX_LINE => Err(BadReply("line too long")),
        None => Ok(None),
    }
}

fn number(text: &[u8]) -> Result<i64, BadReply> {
    crate::encoding::numbers::string2ll(text).ok_or(BadReply("bad number"))
}

fn parse_at(buf: &[u8], pos: usize, depth: usize) -> Result<Option<(Reply, usize)>, BadReply> {
    if depth > MAX_DEPTH {
        return Err(BadReply("nesting too deep"));
    }
    let Some(&kind) = buf.get(pos) else {
        return Ok(None);
    };
    let Some((text, next)) = line(buf, pos + 1)? else {
        return Ok(None);
    };
    let reply = match kind {
        b'+' => Reply::Status(text.to_vec()),
        b'-' => Reply::Error(text.to_vec()),
        b':' => Reply::Int(number(text)?),
        b'$' => {
            let n = number(text)?;
            if n < 0 {
                return Ok(Some((Reply::Bulk(None), next)));
            }
            let n = n as usize;
            if n > MAX_BULK {
                return Err(BadReply("bulk too long"));
            }
            let end = next + n;
            if buf.len() < end + 2 {
                return Ok(None);
            }
            if &buf[end..end + 2] != b"\r\n" {
                return Err(BadReply("bulk not terminated"));
            }
            return Ok(Some((Reply::Bulk(Some(buf[next..end].to_vec())), end + 2)));
        }
        b'*' => {
            let n = number(text)?;
            if n < 0 {
                return Ok(Some((Reply::Array(None), next)));
            }
            let n = n as usize;
            if n > MAX_ELEMENTS {
                return Err(BadReply("aggregate too long"));
            }
            let mut items = Vec::with_capacity(n.min(64));
            let mut p = next;
            for _ in 0..n {
                match parse_at(buf, p, depth + 1)? {
                    Some((r, np)) => {
                        items.push(r);
                        p = np;
                    }
                    None => return Ok(None),
                }
            }
            return Ok(Some((Reply::Array(Some(items)), p)));
        }
        _ => return Err(BadReply("unknown reply type")),
    };
    Ok(Some((reply, next)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn simple_types() {
        assert_eq!(
            parse_reply(b"+PONG\r\n"),
            Ok(Some((Reply::Status(b"PONG".to_vec()), 7)))
        );
        assert_eq!(
            parse_reply(b"-ERR x\r\nrest"),
            Ok(Some((Reply::Error(b"ERR x".to_vec()), 8)))
        );
        assert_eq!(parse_reply(b":-12\r\n"), Ok(Some((Reply::Int(-12), 6))));
        assert_eq!(parse_reply(b"$-1\r\n"), Ok(Some((Reply::Bulk(None), 5))));
        assert_eq!(
            parse_reply(b"$3\r\nabc\r\n"),
            Ok(Some((Reply::Bulk(Some(b"abc".to_vec())), 9)))
        );
    }

    #[test]
    fn incomplete_and_nested() {
        let full = b"*3\r\n$7\r\nmessage\r\n$2\r\nch\r\n*1\r\n:1\r\n";
        for cut in 0..full.len() {
            assert_eq!(parse_reply(&full[..cut]), Ok(None), "cut at {cut}");
        }
        let (r, n) = parse_reply(full).unwrap().unwrap();
        assert_eq!(n, full.len());
        assert_eq!(
            r,
            Reply::Array(Some(vec![
                Reply::Bulk(Some(b"message".to_vec())),
                Reply::Bulk(Some(b"ch".to_vec())),
                Reply::Array(Some(vec![Reply::Int(1)])),
            ]))
        );
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        assert!(parse_reply(b"hello\r\n").is_err());
        assert!(parse_reply(b":abc\r\n").is_err());
        assert!(parse_reply(b"$3\r\nabcde\r\n").is_err());
        assert!(parse_reply(b"$99999999999\r\n").is_err());
        let deep = "*1\r\n".repeat(100);
        assert!(parse_reply(deep.as_bytes()).is_err());
        assert!(parse_reply(&vec![b'+'; MAX_LINE + 10]).is_err());
    }

    #[test]
    fn random_bytes_never_panic() {
        let mut rng = crate::util::Rng::new();
        let alphabet = b"+-:$*\r\n0123456789-abc";
        for _ in 0..20_000 {
            let len = rng.below(40) as usize;
            let buf: Vec<u8> = (0..len)
                .map(|_| alphabet[rng.below(alphabet.len() as u64) as usize])
                .collect();
            if let Ok(Some((_, used))) = parse_reply(&buf) {
                assert!(used <= buf.len());
            }
        }
    }
}
