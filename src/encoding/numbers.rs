//! Redis's number <-> string rules, exactly as Redis 7.0 applies them, in
//! one place (every other module calls these):
//! - `string2ll` (strict integers; Redis's `string2l` is the same on LP64),
//!   `strtoll`/`strtoul` (C's lenient forms, for config values and SCAN
//!   cursors), `string2ull` (stream IDs), `ll2string` (integer to ASCII);
//! - `string2d` (strtod with Redis's rejections), `strtod_full`
//!   (zslParseRange's plain strtod);
//! - `fmt_double` (`%.17g`, the double replies), `d2string` (the form
//!   scores take inside a zset listpack); long doubles (INCRBYFLOAT) are
//!   parsed and formatted by `encoding::longdouble`.

/// Redis `string2ll`: strict decimal i64. Rejects empty input, leading `+`,
/// spaces, leading zeros ("007"), "-0" and anything that overflows i64.
pub fn string2ll(s: &[u8]) -> Option<i64> {
    let (&first, rest) = s.split_first()?;
    if s.len() == 1 && first == b'0' {
        return Some(0);
    }
    let (neg, digits) = if first == b'-' {
        (true, rest)
    } else {
        (false, s)
    };
    // The first digit must be 1-9: this is what rules out "-0" and "01".
    match digits.first() {
        Some(b'1'..=b'9') => {}
        _ => return None,
    }
    if digits.len() > 19 {
        return None;
    }
    let mut v: u64 = 0;
    for &c in digits {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v.checked_mul(10)?.checked_add(u64::from(c - b'0'))?;
    }
    if neg {
        if v > (i64::MAX as u64) + 1 {
            return None;
        }
        Some((v as i64).wrapping_neg())
    } else {
        i64::try_from(v).ok()
    }
}

const DIGIT_PAIRS: &[u8; 200] = b"0001020304050607080910111213141516171819\
2021222324252627282930313233343536373839\
4041424344454647484950515253545556575859\
6061626364656667686970717273747576777879\
8081828384858687888990919293949596979899";

/// Writes `u` in decimal at the end of `buf`; returns where it starts.
/// Two digits per step, no allocation (hot in replies and iteration).
fn write_digits(mut u: u64, buf: &mut [u8; 20]) -> usize {
    let mut i = buf.len();
    while u >= 100 {
        let d = ((u % 100) as usize) * 2;
        u /= 100;
        i -= 2;
        buf[i] = DIGIT_PAIRS[d];
        buf[i + 1] = DIGIT_PAIRS[d + 1];
    }
    if u >= 10 {
        let d = (u as usize) * 2;
        i -= 2;
        buf[i] = DIGIT_PAIRS[d];
        buf[i + 1] = DIGIT_PAIRS[d + 1];
    } else {
        i -= 1;
        buf[i] = b'0' + u as u8;
    }
    i
}

/// Formats `v` in decimal into `buf`, returning the used tail slice.
pub fn ll2string(v: i64, buf: &mut [u8; 20]) -> &[u8] {
    let mut i = write_digits(v.unsigned_abs(), buf);
    if v < 0 {
        i -= 1;
        buf[i] = b'-';
    }
    &buf[i..]
}

/// Formats an unsigned `v` in decimal into `buf` (Redis's ull2string).
pub fn ull2string(v: u64, buf: &mut [u8; 20]) -> &[u8] {
    let i = write_digits(v, buf);
    &buf[i..]
}

/// Appends the decimal form of `v` to `out`.
pub fn write_i64(v: i64, out: &mut Vec<u8>) {
    let mut b = [0u8; 20];
    out.extend_from_slice(ll2string(v, &mut b));
}

/// Decimal form of `v` as a fresh vector.
pub fn i64_to_vec(v: i64) -> Vec<u8> {
    let mut b = [0u8; 20];
    ll2string(v, &mut b).to_vec()
}

/// Redis `string2d` / `getDoubleFromObject`: C `strtod` over the whole input
/// with Redis's extra rejections: empty, leading whitespace, trailing
/// garbage, NaN, overflow to ±inf and underflow to zero (subnormals are
/// accepted). "inf", "+inf", "-Infinity" (any case), ".5", "5.", "+1" and
/// hexadecimal floats ("0x10", "0x1.8p3") are accepted like strtod does.
pub fn string2d(s: &[u8]) -> Option<f64> {
    let (neg, body) = match s.first()? {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    let v = if body.eq_ignore_ascii_case(b"inf") || body.eq_ignore_ascii_case(b"infinity") {
        f64::INFINITY
    } else if body.len() > 2 && body[0] == b'0' && (body[1] | 0x20) == b'x' {
        parse_hex_float(&body[2..])?
    } else {
        parse_dec_float(body)?
    };
    Some(if neg { -v } else { v })
}

/// C `isspace`.
#[inline]
fn c_isspace(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

/// The scan shared by C's `strtoll`/`strtoul`: leading spaces, a sign, then
/// digits of `base`. Returns (negative, magnitude or None on overflow,
/// index after the last digit); the index is 0 when no digit was found
/// (C sets `*endptr` to the start then).
fn c_strto(s: &[u8], base: u32) -> (bool, Option<u64>, usize) {
    let mut i = 0;
    while i < s.len() && c_isspace(s[i]) {
        i += 1;
    }
    let neg = s.get(i) == Some(&b'-');
    if matches!(s.get(i), Some(b'-' | b'+')) {
        i += 1;
    }
    let start = i;
    let mut mag: Option<u64> = Some(0);
    while let Some(d) = s.get(i).and_then(|&c| (c as char).to_digit(base)) {
        mag = mag
            .and_then(|m| m.checked_mul(u64::from(base)))
            .and_then(|m| m.checked_add(u64::from(d)));
        i += 1;
    }
    if i == start {
        return (false, Some(0), 0);
    }
    (neg, mag, i)
}

/// C `strtoll(s, &end, base)` followed by a check that `*end == '\0'`:
/// leading whitespace and a sign are allowed, overflow saturates, and an
/// empty string is 0 (config values, `strtol` users).
pub fn strtoll(s: &[u8], base: u32) -> Option<i64> {
    let (neg, mag, end) = c_strto(s, base);
    if end != s.len() {
        return None;
    }
    let v = match (neg, mag) {
        (false, Some(m)) => i64::try_from(m).unwrap_or(i64::MAX),
        (true, Some(m)) if m <= i64::MAX as u64 + 1 => (m as i64).wrapping_neg(),
        (false, None) => i64::MAX,
        (true, _) => i64::MIN,
    };
    Some(v)
}

/// C `strtoul(s, &end, 10)` as Redis parses SCAN cursors: no leading
/// space, the whole input consumed, no overflow; a minus sign wraps
/// ("-1" is 2^64-1), as C does.
pub fn strtoul(s: &[u8]) -> Option<u64> {
    if s.first().is_some_and(|&c| c_isspace(c)) {
        return None;
    }
    let (neg, mag, end) = c_strto(s, 10);
    if end != s.len() {
        return None;
    }
    let m = mag?;
    Some(if neg { m.wrapping_neg() } else { m })
}

/// Redis's `string2ull` (stream IDs): a strict integer that is not
/// negative, else C's `strtoull` over the whole input (leading spaces and
/// a sign allowed, '-' wrapping modulo 2^64, no overflow, no empty input).
pub fn string2ull(s: &[u8]) -> Option<u64> {
    if let Some(v) = string2ll(s) {
        return u64::try_from(v).ok();
    }
    let (neg, mag, end) = c_strto(s, 10);
    if s.is_empty() || end != s.len() {
        return None;
    }
    let m = mag?;
    Some(if neg { m.wrapping_neg() } else { m })
}

/// C `strtod` over the whole input, as zslParseRange uses it: leading
/// spaces skipped, an empty string is 0, overflow saturates to ±inf and
/// underflow goes to 0; NaN refused.
pub fn strtod_full(b: &[u8]) -> Option<f64> {
    if b.is_empty() {
        return Some(0.0);
    }
    let t = &b[b.iter().take_while(|&&c| c_isspace(c)).count()..];
    let v = string2d(t).or_else(|| {
        // string2d refuses the ERANGE cases strtod itself accepts.
        let s = std::str::from_utf8(t).ok()?;
        if s.starts_with(|c: char| c.is_ascii_digit() || c == '.' || c == '-' || c == '+') {
            s.parse::<f64>().ok()
        } else {
            None
        }
    })?;
    (!v.is_nan()).then_some(v)
}

/// Unsigned decimal float in strtod syntax; `None` for syntax errors,
/// overflow and underflow-to-zero.
fn parse_dec_float(b: &[u8]) -> Option<f64> {
    let mut i = 0;
    let mut mant_digits = 0usize;
    let mut nonzero = false;
    while i < b.len() && b[i].is_ascii_digit() {
        nonzero |= b[i] != b'0';
        i += 1;
        mant_digits += 1;
    }
    if i < b.len() && b[i] == b'.' {
        i += 1;
        while i < b.len() && b[i].is_ascii_digit() {
            nonzero |= b[i] != b'0';
            i += 1;
            mant_digits += 1;
        }
    }
    if mant_digits == 0 {
        return None;
    }
    if i < b.len() && (b[i] | 0x20) == b'e' {
        // strtod only consumes the exponent if at least one digit follows;
        // otherwise the 'e' is trailing garbage, which Redis rejects.
        let mut j = i + 1;
        if j < b.len() && (b[j] == b'+' || b[j] == b'-') {
            j += 1;
        }
        let start = j;
        while j < b.len() && b[j].is_ascii_digit() {
            j += 1;
        }
        if j == start {
            return None;
        }
        i = j;
    }
    if i != b.len() {
        return None;
    }
    // Syntax is now a subset of what Rust's correctly rounded parser takes.
    let text = std::str::from_utf8(b).ok()?;
    let v: f64 = text.parse().ok()?;
    if v.is_infinite() || (v == 0.0 && nonzero) {
        return None; // ERANGE cases Redis refuses
    }
    Some(v)
}

/// Unsigned hexadecimal float body (after "0x"): hex digits, optional
/// fraction, optional binary exponent `p[+-]d+`. Rounds to nearest even.
fn parse_hex_float(b: &[u8]) -> Option<f64> {
    let mut mant: u64 = 0;
    let mut exp: i64 = 0;
    let mut sticky = false;
    let mut ndigits = 0;
    let mut i = 0;
    let mut seen_dot = false;
    while i < b.len() {
        let c = b[i];
        let d = match c {
            b'0'..=b'9' => c - b'0',
            b'a'..=b'f' => c - b'a' + 10,
            b'A'..=b'F' => c - b'A' + 10,
            b'.' if !seen_dot => {
                seen_dot = true;
                i += 1;
                continue;
            }
            _ => break,
        };
        ndigits += 1;
        if mant >> 56 == 0 {
            mant = (mant << 4) | u64::from(d);
            if seen_dot {
                exp -= 4;
            }
        } else {
            sticky |= d != 0;
            if !seen_dot {
                exp += 4;
            }
        }
        i += 1;
    }
    if ndigits == 0 {
        return None;
    }
    if i < b.len() && (b[i] | 0x20) == b'p' {
        let mut j = i + 1;
        let mut eneg = false;
        if j < b.len() && (b[j] == b'+' || b[j] == b'-') {
            eneg = b[j] == b'-';
            j += 1;
        }
        let start = j;
        let mut e: i64 = 0;
        while j < b.len() && b[j].is_ascii_digit() {
            e = (e * 10 + i64::from(b[j] - b'0')).min(1 << 20);
            j += 1;
        }
        if j == start {
            return None;
        }
        exp += if eneg { -e } else { e };
        i = j;
    }
    if i != b.len() {
        return None;
    }
    if mant == 0 {
        return Some(0.0);
    }
    let m = mant | u64::from(sticky);
    // Value = m * 2^exp. Go through f64 arithmetic in two exact-ish steps:
    // converting m (<2^60 plus sticky) rounds once, scaling by a power of
    // two is exact unless it leaves the normal range.
    let v = (m as f64) * pow2(exp);
    if v.is_infinite() || v == 0.0 {
        return None;
    }
    Some(v)
}

fn pow2(e: i64) -> f64 {
    let mut v = 1.0f64;
    let mut e = e.clamp(-2200, 2200);
    while e > 0 {
        let s = e.min(1000);
        v *= f64::from_bits(((1023 + s) as u64) << 52);
        e -= s;
    }
    while e < 0 {
        let s = (-e).min(1000);
        v *= f64::from_bits(((1023 - s) as u64) << 52);
        e += s;
    }
    v
}

/// C's `%.17g`, which Redis 7.0 uses for double replies (ZSCORE, ZINCRBY,
/// GEODIST...). 1.5 -> "1.5", 0.1 -> "0.10000000000000001",
/// 1e20 -> "1e+20", 1e-5 -> "1.0000000000000001e-05", inf -> "inf".
pub fn fmt_double(v: f64) -> String {
    fmt_g(v, 17)
}

/// C's `%.<prec>g` for `prec` in 1..=40.
pub fn fmt_g(v: f64, prec: usize) -> String {
    if v.is_nan() {
        return if v.is_sign_negative() { "-nan" } else { "nan" }.to_string();
    }
    if v.is_infinite() {
        return if v < 0.0 { "-inf" } else { "inf" }.to_string();
    }
    let p = prec.clamp(1, 40);
    // Rust's `{:e}` is exactly rounded, so it gives the same digits as glibc.
    let e = format!("{:.*e}", p - 1, v);
    let (mant, exp) = match e.split_once('e') {
        Some(x) => x,
        None => return e,
    };
    let x: i32 = exp.parse().unwrap_or(0);
    let neg = mant.starts_with('-');
    let digits: Vec<u8> = mant.bytes().filter(u8::is_ascii_digit).collect();
    let mut out = String::with_capacity(32);
    if neg {
        out.push('-');
    }
    if x < -4 || x >= p as i32 {
        let mut d = &digits[..];
        while d.len() > 1 && d[d.len() - 1] == b'0' {
            d = &d[..d.len() - 1];
        }
        out.push(d[0] as char);
        if d.len() > 1 {
            out.push('.');
            d[1..].iter().for_each(|&c| out.push(c as char));
        }
        out.push('e');
        out.push(if x < 0 { '-' } else { '+' });
        let ax = x.unsigned_abs();
        if ax < 10 {
            out.push('0');
        }
        out.push_str(&ax.to_string());
    } else {
        // Fixed notation with p-1-x decimals, then trailing zeros removed.
        let mut s = String::with_capacity(32);
        if x < 0 {
            s.push_str("0.");
            for _ in 0..(-x - 1) {
                s.push('0');
            }
            digits.iter().for_each(|&c| s.push(c as char));
        } else {
            let int_len = x as usize + 1;
            digits[..int_len].iter().for_each(|&c| s.push(c as char));
            if digits.len() > int_len {
                s.push('.');
                digits[int_len..].iter().for_each(|&c| s.push(c as char));
            }
        }
        if s.contains('.') {
            while s.ends_with('0') {
                s.pop();
            }
            if s.ends_with('.') {
                s.pop();
            }
        }
        out.push_str(&s);
    }
    out
}

/// Redis 7.0 `d2string`: how zset scores are written into listpacks (and
/// then stored as integers when they look like one). Integral values with
/// magnitude below 2^52 use integer formatting (so -0.0 becomes "0"),
/// everything else `%.17g`.
pub fn d2string(v: f64) -> String {
    if v.is_nan() {
        return "nan".to_string();
    }
    if v.is_infinite() {
        return if v < 0.0 { "-inf" } else { "inf" }.to_string();
    }
    if v > -4_503_599_627_370_495.0 && v < 4_503_599_627_370_496.0 && v == (v as i64) as f64 {
        return (v as i64).to_string();
    }
    fmt_g(v, 17)
}

/// C's atoi/strtoll as Redis uses it for lenient numbers (Sentinel's
/// config, INFO fields, hello messages): optional blanks and sign, then
/// digits (saturating); 0 if none; garbage after the digits is ignored.
pub fn atoi(s: &[u8]) -> i64 {
    let mut i = 0;
    while i < s.len() && s[i].is_ascii_whitespace() {
        i += 1;
    }
    let neg = match s.get(i) {
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
    let mut v: i64 = 0;
    while i < s.len() && s[i].is_ascii_digit() {
        v = v.saturating_mul(10).saturating_add((s[i] - b'0') as i64);
        i += 1;
    }
    if neg {
        -v
    } else {
        v
    }
}

/// C's strtoull for epochs and offsets (a minus sign wraps, as in C).
pub fn atou(s: &[u8]) -> u64 {
    atoi(s) as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unsigned_forms() {
        let mut b = [0u8; 20];
        assert_eq!(ull2string(u64::MAX, &mut b), b"18446744073709551615");
        assert_eq!(ull2string(0, &mut b), b"0");
        assert_eq!(string2ull(b"18446744073709551615"), Some(u64::MAX));
        assert_eq!(string2ull(b"18446744073709551616"), None);
        assert_eq!(string2ull(b"-1"), None);
        // strtoull's leniency, as Redis's stream IDs inherit it.
        assert_eq!(string2ull(b"-01"), Some(u64::MAX));
        assert_eq!(string2ull(b" 7"), Some(7));
        assert_eq!(string2ull(b"+7"), Some(7));
        assert_eq!(string2ull(b"007"), Some(7));
        assert_eq!(string2ull(b"7 "), None);
        assert_eq!(string2ull(b""), None);
        assert_eq!(string2ull(b"-"), None);
        assert_eq!(string2ull(b"0x1"), None);
    }

    #[test]
    fn string2ll_rules() {
        assert_eq!(string2ll(b"0"), Some(0));
        assert_eq!(string2ll(b"-1"), Some(-1));
        assert_eq!(string2ll(b"9223372036854775807"), Some(i64::MAX));
        assert_eq!(string2ll(b"-9223372036854775808"), Some(i64::MIN));
        for bad in [
            &b""[..],
            b"-",
            b"-0",
            b"007",
            b"+1",
            b" 1",
            b"1 ",
            b"9223372036854775808",
            b"-9223372036854775809",
            b"99999999999999999999",
            b"1a",
            b"00",
        ] {
            assert_eq!(string2ll(bad), None, "{:?}", bad);
        }
    }

    #[test]
    fn ll2string_roundtrip() {
        let mut b = [0u8; 20];
        for v in [0, 1, -1, 9, 10, 99, 100, 12345, -98765, i64::MAX, i64::MIN] {
            assert_eq!(ll2string(v, &mut b), v.to_string().as_bytes());
        }
    }

    #[test]
    fn string2d_matches_redis() {
        // Accept/reject sets observed on redis-server 7.0.15 (ZADD score).
        assert_eq!(string2d(b"+1"), Some(1.0));
        assert_eq!(string2d(b".5"), Some(0.5));
        assert_eq!(string2d(b"5."), Some(5.0));
        assert_eq!(string2d(b"0x10"), Some(16.0));
        assert_eq!(string2d(b"0x1.8p1"), Some(3.0));
        assert_eq!(string2d(b"Infinity"), Some(f64::INFINITY));
        assert_eq!(string2d(b"+inf"), Some(f64::INFINITY));
        assert_eq!(string2d(b"-inf"), Some(f64::NEG_INFINITY));
        assert_eq!(string2d(b"4.9e-324"), Some(4.9e-324));
        assert_eq!(string2d(b"1e5"), Some(1e5));
        for bad in [
            &b" 1"[..],
            b"1 ",
            b"nan",
            b"-nan",
            b"1e400",
            b"1e-400",
            b"1e",
            b"",
            b"-",
            b".",
            b"abc",
            b"0x",
        ] {
            assert_eq!(string2d(bad), None, "{:?}", bad);
        }
    }

    #[test]
    fn fmt_double_matches_redis_zscore() {
        // Pairs captured from ZADD/ZSCORE on redis-server 7.0.15.
        let cases: &[(f64, &str)] = &[
            (1.5, "1.5"),
            (0.1, "0.10000000000000001"),
            (1e20, "1e+20"),
            (f64::INFINITY, "inf"),
            (f64::NEG_INFINITY, "-inf"),
            (3.0, "3"),
            (1e-5, "1.0000000000000001e-05"),
            (123456789012345678.0, "1.2345678901234568e+17"),
            (0.3, "0.29999999999999999"),
            (1e16, "10000000000000000"),
            (1e17, "1e+17"),
            (1e15, "1000000000000000"),
            (100.0, "100"),
            (2.5e-310, "2.5000000000000171e-310"),
            (-2.5, "-2.5"),
            (0.0001, "0.0001"),
        ];
        for &(v, s) in cases {
            assert_eq!(fmt_double(v), s, "{v}");
        }
    }

    #[test]
    fn d2string_forms() {
        assert_eq!(d2string(-0.0), "0");
        assert_eq!(d2string(3.0), "3");
        assert_eq!(d2string(-2.5), "-2.5");
        assert_eq!(d2string(4503599627370496.0), "4503599627370496");
        assert_eq!(d2string(1e20), "1e+20");
    }

    #[test]
    fn c_strtoll_and_strtoul() {
        assert_eq!(strtoll(b"", 10), Some(0));
        assert_eq!(strtoll(b"  -12", 10), Some(-12));
        assert_eq!(strtoll(b"+7", 10), Some(7));
        assert_eq!(strtoll(b"007", 10), Some(7));
        assert_eq!(strtoll(b" ", 10), None);
        assert_eq!(strtoll(b"-", 10), None);
        assert_eq!(strtoll(b"12 ", 10), None);
        assert_eq!(strtoll(b"99999999999999999999", 10), Some(i64::MAX));
        assert_eq!(strtoll(b"-99999999999999999999", 10), Some(i64::MIN));
        assert_eq!(strtoll(b"-9223372036854775808", 10), Some(i64::MIN));
        assert_eq!(strtoll(b"777", 8), Some(511));
        assert_eq!(strtoll(b"8", 8), None);
        assert_eq!(strtoul(b"0"), Some(0));
        assert_eq!(strtoul(b""), Some(0));
        assert_eq!(strtoul(b"-1"), Some(u64::MAX));
        assert_eq!(strtoul(b"+5"), Some(5));
        assert_eq!(strtoul(b"18446744073709551615"), Some(u64::MAX));
        assert_eq!(strtoul(b"18446744073709551616"), None);
        assert_eq!(strtoul(b" 1"), None);
        assert_eq!(strtoul(b"1x"), None);
    }

    #[test]
    fn nan_and_inf_as_printf() {
        assert_eq!(fmt_double(f64::NAN), "nan");
        assert_eq!(fmt_double(-f64::NAN), "-nan");
        assert_eq!(fmt_double(f64::INFINITY), "inf");
        assert_eq!(fmt_double(-0.0), "-0");
        assert_eq!(strtod_full(b""), Some(0.0));
        assert_eq!(strtod_full(b" 1.5"), Some(1.5));
        assert_eq!(strtod_full(b"1e400"), Some(f64::INFINITY));
        assert_eq!(strtod_full(b"nan"), None);
    }
    #[test]
    fn c_atoi() {
        assert_eq!(atoi(b"6379"), 6379);
        assert_eq!(atoi(b" -12abc"), -12);
        assert_eq!(atoi(b"abc"), 0);
        assert_eq!(atoi(b"99999999999999999999999"), i64::MAX);
        assert_eq!(atou(b"18"), 18);
    }
}
