//! Property tests for the request parser (no extra crates: xorshift).
//! 1. Any byte stream, fed in any split, parses to the same requests and the
//!    same protocol error as when fed whole; never panics; never claims more
//!    bytes than it was given.
//! 2. Random bytes over real TCP connections never kill the server.

mod common;

use common::*;
use ferrodis::resp::{parse_request, Limits, Parsed};

const WORDS: &[&str] = &[
    "SET", "GET", "PING", "ECHO", "MGET", "EXISTS", "INCR", "APPEND", "x", "key", "12", "-1", "",
];

fn random_arg(r: &mut Rng) -> Vec<u8> {
    match r.index(4) {
        0 => r.pick(WORDS).as_bytes().to_vec(),
        1 => (0..r.index(20)).map(|_| r.next() as u8).collect(),
        2 => (0..r.index(10))
            .map(|_| *r.pick(b"\r\n*$\"' \\x0"))
            .collect(),
        _ => r.index(100000).to_string().into_bytes(),
    }
}

/// One valid request: multibulk with binary args, or an inline line.
fn valid_request(r: &mut Rng) -> Vec<u8> {
    let argc = 1 + r.index(5);
    if r.index(3) > 0 {
        let args: Vec<Vec<u8>> = (0..argc).map(|_| random_arg(r)).collect();
        let refs: Vec<&[u8]> = args.iter().map(|a| a.as_slice()).collect();
        multibulk(&refs)
    } else {
        let mut line = Vec::new();
        for i in 0..argc {
            if i > 0 {
                line.push(b' ');
            }
            match r.index(3) {
                0 => line.extend_from_slice(b"\"quoted \\x41\\n arg\""),
                1 => line.extend_from_slice(b"'single'"),
                _ => line.extend_from_slice(r.pick(&WORDS[..8]).as_bytes()),
            }
        }
        line.extend_from_slice(if r.index(2) == 0 { b"\r\n" } else { b"\n" });
        line
    }
}

/// Valid requests, garbage, or valid requests with mutations.
fn random_input(r: &mut Rng) -> Vec<u8> {
    let mut buf = Vec::new();
    for _ in 0..1 + r.index(4) {
        buf.extend(valid_request(r));
    }
    match r.index(4) {
        0 => {}
        1 => {
            // Random bytes biased toward RESP syntax.
            buf = (0..r.index(200))
                .map(|_| {
                    if r.index(2) == 0 {
                        *r.pick(b"*$\r\n0123456789-+\"' ")
                    } else {
                        r.next() as u8
                    }
                })
                .collect();
        }
        _ => {
            for _ in 0..1 + r.index(3) {
                if buf.is_empty() {
                    break;
                }
                let at = r.index(buf.len());
                match r.index(3) {
                    0 => buf[at] = r.next() as u8,
                    1 => buf.truncate(at),
                    _ => buf.insert(at, *r.pick(b"*$\r\n-9\"")),
                }
            }
        }
    }
    buf
}

/// What a stream parses to: the requests' arguments, then how it ends.
#[derive(Debug, PartialEq)]
struct Outcome {
    requests: Vec<Vec<Vec<u8>>>,
    error: Option<&'static str>,
    leftover: usize,
}

fn limits(authenticated: bool) -> Limits {
    Limits {
        proto_max_bulk_len: 512 * 1024 * 1024,
        authenticated,
    }
}

/// Feeds `input` in the given chunks, the way the server does: parse what
/// is buffered, consume complete requests, wait for more when incomplete.
fn feed(input: &[u8], cuts: &[usize], lim: Limits) -> Outcome {
    let mut buf: Vec<u8> = Vec::new();
    let mut spans = Vec::new();
    let mut out = Outcome {
        requests: Vec::new(),
        error: None,
        leftover: 0,
    };
    let mut from = 0;
    let mut bounds: Vec<usize> = cuts.to_vec();
    bounds.push(input.len());
    for &to in &bounds {
        buf.extend_from_slice(&input[from..to]);
        from = to;
        loop {
            if buf.is_empty() {
                break;
            }
            match parse_request(&buf, lim, &mut spans) {
                Ok(Parsed::Incomplete { need }) => {
                    assert!(need > buf.len(), "need {need} <= buffered {}", buf.len());
                    break;
                }
                Ok(Parsed::Request { consumed }) => {
                    assert!(
                        consumed > 0 && consumed <= buf.len(),
                        "consumed {consumed} of {}",
                        buf.len()
                    );
                    let args: Vec<Vec<u8>> = spans
                        .iter()
                        .map(|&(a, b)| {
                            assert!(a <= b && b <= consumed, "span {a}..{b} past {consumed}");
                            buf[a..b].to_vec()
                        })
                        .collect();
                    if !args.is_empty() {
                        out.requests.push(args);
                    }
                    buf.drain(..consumed);
                }
                Err(e) => {
                    out.error = Some(e.0);
                    return out;
                }
            }
        }
    }
    out.leftover = buf.len();
    out
}

#[test]
fn any_split_parses_like_the_whole() {
    let mut r = Rng(0x9e37_79b9_7f4a_7c15);
    for case in 0..3000 {
        let input = random_input(&mut r);
        let lim = limits(case % 5 != 0);
        let whole = feed(&input, &[], lim);
        // Every single split point...
        for i in 1..input.len() {
            let split = feed(&input, &[i], lim);
            assert_eq!(
                split,
                whole,
                "case {case}, split at {i}, input {}",
                escape(&input)
            );
        }
        // ...and a few random multi-way splits, including byte by byte.
        for k in 0..3 {
            let mut cuts: Vec<usize> = if k == 0 {
                (1..input.len()).collect()
            } else {
                (0..r.index(8))
                    .map(|_| r.index(input.len().max(1)))
                    .collect()
            };
            cuts.sort();
            cuts.dedup();
            cuts.retain(|&c| c > 0 && c < input.len());
            assert_eq!(
                feed(&input, &cuts, lim),
                whole,
                "case {case}, cuts {cuts:?}, input {}",
                escape(&input)
            );
        }
    }
}

/// Huge counts and lengths are believed only as far as the bytes go: the
/// parser waits for more (no early error, no allocation sized by the
/// header), refuses what is out of range, and takes empty multibulks.
#[test]
fn huge_counts_do_not_allocate_or_fail_early() {
    let mut spans = Vec::new();
    let cases: &[(&[u8], Result<Parsed, &str>)] = &[
        (b"*2147483647\r\n", Ok(Parsed::Incomplete { need: 14 })),
        (
            b"*1\r\n$536870912\r\n",
            Ok(Parsed::Incomplete {
                need: 16 + 536870912 + 2,
            }),
        ),
        (b"*2147483648\r\n", Err("invalid multibulk length")),
        (b"*9999999999\r\n", Err("invalid multibulk length")),
        (b"*1\r\n$536870913\r\n", Err("invalid bulk length")),
        (b"*-5\r\n", Ok(Parsed::Request { consumed: 5 })),
        (b"$5\r\n", Ok(Parsed::Request { consumed: 4 })),
    ];
    for (input, want) in cases {
        let got = parse_request(input, limits(true), &mut spans).map_err(|e| e.0);
        assert_eq!(&got, want, "{}", escape(input));
        assert!(
            spans.capacity() < 1024,
            "spans sized by a header: {}",
            spans.capacity()
        );
    }
}

#[test]
fn random_bytes_over_tcp_never_kill_the_server() {
    let s = Server::start(&[]);
    let mut r = Rng(0xdead_beef_cafe_f00d);
    for _ in 0..200 {
        let mut c = s.conn();
        for _ in 0..1 + r.index(5) {
            let input = random_input(&mut r);
            if c.try_send_raw(&input).is_err() {
                break;
            }
        }
    }
    for big in [
        &b"*2147483647\r\n"[..],
        b"*1\r\n$536870912\r\nabc",
        b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1000000\r\n",
    ] {
        let mut c = s.conn();
        let _ = c.try_send_raw(big);
    }
    let mut c = s.conn();
    assert_eq!(c.cmd(&["PING"]), b"+PONG\r\n");
    assert_eq!(c.cmd(&["SET", "still", "alive"]), b"+OK\r\n");
}
