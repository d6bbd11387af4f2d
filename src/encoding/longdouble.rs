//! A software model of the x87 80-bit `long double` Redis uses for
//! INCRBYFLOAT / HINCRBYFLOAT: `strtold` parsing (correctly rounded, with
//! Redis's rejections), addition rounded to a 64-bit mantissa, and the
//! `%.17Lf` + strip-trailing-zeros reply format. Emulating the type (rather
//! than using f64) is what makes replies like "0.3" for 0.1+0.2 and
//! "1000.09999999999999998" for 1000.1 come out exactly as Redis's do.
//!
//! Deviation: results in the subnormal long double range (< ~3.4e-4932) are
//! rejected by `parse` instead of being kept with reduced precision.

use std::cmp::Ordering;

/// Exponent limits for `mant * 2^exp` with a 64-bit mantissa whose top bit
/// is set: x87 normal range is 2^-16382 ..< 2^16384.
const MIN_EXP: i32 = -16382 - 63;
const MAX_EXP: i32 = 16383 - 63;
/// Inputs longer than this are refused (Redis caps long double strings at
/// MAX_LONG_DOUBLE_CHARS = 5k); it also bounds the bignum work.
const MAX_INPUT: usize = 5 * 1024;

#[derive(Clone, Copy, Debug, PartialEq)]
enum Kind {
    Zero,
    /// value = mant * 2^exp
    Finite {
        mant: u64,
        exp: i32,
    },
    Inf,
}

/// An 80-bit extended precision value (no NaN: operations that would
/// produce one return `None`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LongDouble {
    neg: bool,
    kind: Kind,
}

impl LongDouble {
    pub const ZERO: LongDouble = LongDouble {
        neg: false,
        kind: Kind::Zero,
    };

    /// Exact conversion (every i64 fits a 64-bit mantissa).
    pub fn from_i64(v: i64) -> Self {
        let neg = v < 0;
        let m = v.unsigned_abs();
        if m == 0 {
            return Self::ZERO;
        }
        let z = m.leading_zeros();
        LongDouble {
            neg,
            kind: Kind::Finite {
                mant: m << z,
                exp: -(z as i32),
            },
        }
    }

    /// Exact widening of an f64; `None` for NaN.
    pub fn from_f64(v: f64) -> Option<Self> {
        if v.is_nan() {
            return None;
        }
        let neg = v.is_sign_negative();
        if v.is_infinite() {
            return Some(LongDouble {
                neg,
                kind: Kind::Inf,
            });
        }
        let bits = v.to_bits();
        let be = ((bits >> 52) & 0x7ff) as i32;
        let frac = bits & ((1u64 << 52) - 1);
        let (m, e) = if be == 0 {
            (frac, -1074)
        } else {
            (frac | (1u64 << 52), be - 1075)
        };
        Some(round_pack(neg, u128::from(m), e, false))
    }

    /// Lossy conversion back to f64 (for callers that store doubles).
    pub fn to_f64(&self) -> f64 {
        let v = match self.kind {
            Kind::Zero => 0.0,
            Kind::Inf => f64::INFINITY,
            Kind::Finite { mant, exp } => {
                // Two roundings at most; fine for a lossy accessor.
                let hi = (mant >> 11) as f64;
                hi * pow2(exp + 11) + ((mant & 0x7ff) as f64) * pow2(exp)
            }
        };
        if self.neg {
            -v
        } else {
            v
        }
    }

    pub fn is_finite(&self) -> bool {
        !matches!(self.kind, Kind::Inf)
    }

    /// Redis `string2ld`: `strtold` over the whole input; rejects empty,
    /// leading whitespace, trailing bytes, NaN, overflow and underflow.
    /// Accepts "inf"/"infinity" (so the caller's finiteness check fires).
    pub fn parse(s: &[u8]) -> Option<Self> {
        if s.len() >= MAX_INPUT {
            return None;
        }
        let (neg, body) = match s.first()? {
            b'-' => (true, &s[1..]),
            b'+' => (false, &s[1..]),
            _ => (false, s),
        };
        if body.eq_ignore_ascii_case(b"inf") || body.eq_ignore_ascii_case(b"infinity") {
            return Some(LongDouble {
                neg,
                kind: Kind::Inf,
            });
        }
        if body.len() > 2 && body[0] == b'0' && (body[1] | 0x20) == b'x' {
            // Hex floats: exact in f64 for all realistic inputs.
            let v = crate::encoding::numbers::string2d(s)?;
            return Self::from_f64(v);
        }
        let (digits, exp10) = scan_decimal(body)?;
        let mut v = decimal_to_ld(&digits, exp10)?;
        v.neg = neg;
        Some(v)
    }

    /// IEEE-style addition rounded to nearest-even on a 64-bit mantissa.
    /// `None` when the result is NaN (inf + -inf).
    pub fn checked_add(self, o: Self) -> Option<Self> {
        match (self.kind, o.kind) {
            (Kind::Inf, Kind::Inf) if self.neg != o.neg => None,
            (Kind::Inf, _) => Some(self),
            (_, Kind::Inf) => Some(o),
            (Kind::Zero, Kind::Zero) => Some(LongDouble {
                neg: self.neg && o.neg,
                kind: Kind::Zero,
            }),
            (Kind::Zero, _) => Some(o),
            (_, Kind::Zero) => Some(self),
            (Kind::Finite { mant: ma, exp: ea }, Kind::Finite { mant: mb, exp: eb }) => {
                // Order so that `a` has the larger exponent.
                let (na, ma, ea, nb, mb, eb) = if ea >= eb {
                    (self.neg, ma, ea, o.neg, mb, eb)
                } else {
                    (o.neg, mb, eb, self.neg, ma, ea)
                };
                let d = (i64::from(ea) - i64::from(eb)) as u32;
                let big_a = u128::from(ma) << 62;
                let wide_b = u128::from(mb) << 62;
                let (big_b, lost) = if d >= 126 {
                    (0u128, true)
                } else {
                    (wide_b >> d, wide_b & ((1u128 << d) - 1) != 0)
                };
                let e = ea - 62;
                if na == nb {
                    return Some(round_pack(na, big_a + big_b, e, lost));
                }
                let (neg, r) = match big_a.cmp(&big_b) {
                    Ordering::Equal if !lost => return Some(Self::ZERO),
                    Ordering::Less => (nb, big_b - big_a),
                    // With lost bits, the true B is slightly larger than
                    // big_b: subtract one more unit and mark the result
                    // inexact-above, which rounds correctly.
                    _ if lost => (na, big_a - big_b - 1),
                    _ => (na, big_a - big_b),
                };
                Some(round_pack(neg, r, e, lost))
            }
        }
    }

    /// `%.17Lf`, then trailing zeros and a trailing '.' removed and "-0"
    /// turned into "0": Redis's `ld2string(..., LD_STR_HUMAN)`.
    /// Infinities print as "inf"/"-inf".
    pub fn to_human_string(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(40);
        if self.neg {
            out.push(b'-');
        }
        match self.kind {
            Kind::Inf => {
                out.extend_from_slice(b"inf");
                return out;
            }
            Kind::Zero => out.push(b'0'),
            Kind::Finite { mant, exp } if exp >= 0 => {
                let mut n = Big::from_u64(mant);
                n.shl(exp as u32);
                out.extend_from_slice(&n.to_decimal());
            }
            Kind::Finite { mant, exp } => {
                // round(mant * 10^17 / 2^s), half to even, all in u128.
                let s = (-exp) as u32;
                let p = u128::from(mant) * 100_000_000_000_000_000u128;
                let q = if s >= 122 {
                    0
                } else {
                    let q = p >> s;
                    let r = p & ((1u128 << s) - 1);
                    let half = 1u128 << (s - 1);
                    if r > half || (r == half && q & 1 == 1) {
                        q + 1
                    } else {
                        q
                    }
                };
                let int_part = q / 100_000_000_000_000_000;
                let frac = (q % 100_000_000_000_000_000) as u64;
                out.extend_from_slice(int_part.to_string().as_bytes());
                if frac != 0 {
                    let f = format!(".{:017}", frac);
                    out.extend_from_slice(f.trim_end_matches('0').as_bytes());
                }
            }
        }
        if out == b"-0" {
            out.remove(0);
        }
        out
    }
}

fn pow2(e: i32) -> f64 {
    let mut v = 1.0f64;
    let mut e = e.clamp(-2200, 2200);
    while e != 0 {
        let s = e.clamp(-1000, 1000);
        v *= f64::from_bits(((1023 + s) as u64) << 52);
        e -= s;
    }
    v
}

/// Rounds `m * 2^e` (plus a positive amount below m's last bit when
/// `sticky`) to a 64-bit mantissa, nearest-even, with x87 range limits.
fn round_pack(neg: bool, m: u128, e: i32, sticky: bool) -> LongDouble {
    if m == 0 {
        return LongDouble {
            neg,
            kind: Kind::Zero,
        };
    }
    let bl = 128 - m.leading_zeros() as i32;
    let mut shift = bl - 64;
    let mut ne = e + shift;
    if ne < MIN_EXP {
        shift += MIN_EXP - ne;
        ne = MIN_EXP;
    }
    let mant: u64 = if shift <= 0 {
        (m << (-shift) as u32) as u64
    } else if shift > 128 {
        0
    } else {
        let s = shift as u32;
        let q = if s == 128 { 0 } else { m >> s };
        let r = if s == 128 { m } else { m & ((1u128 << s) - 1) };
        let half = 1u128 << (s - 1);
        let up = r > half || (r == half && (sticky || q & 1 == 1));
        let q = q + u128::from(up);
        if q == 1u128 << 64 {
            ne += 1;
            1u64 << 63
        } else {
            q as u64
        }
    };
    if mant == 0 {
        return LongDouble {
            neg,
            kind: Kind::Zero,
        };
    }
    if ne > MAX_EXP {
        return LongDouble {
            neg,
            kind: Kind::Inf,
        };
    }
    LongDouble {
        neg,
        kind: Kind::Finite { mant, exp: ne },
    }
}

/// strtod decimal syntax over the whole input: returns the significant
/// digits (leading zeros dropped) and the power of ten they are scaled by.
fn scan_decimal(b: &[u8]) -> Option<(Vec<u8>, i64)> {
    let mut digits = Vec::new();
    let mut exp10: i64 = 0;
    let mut seen = 0usize;
    let mut i = 0;
    let mut after_dot = false;
    while i < b.len() {
        match b[i] {
            c @ b'0'..=b'9' => {
                seen += 1;
                if !(digits.is_empty() && c == b'0') {
                    digits.push(c - b'0');
                }
                if after_dot {
                    exp10 -= 1;
                }
            }
            b'.' if !after_dot => after_dot = true,
            _ => break,
        }
        i += 1;
    }
    if seen == 0 {
        return None;
    }
    if i < b.len() && (b[i] | 0x20) == b'e' {
        let mut j = i + 1;
        let mut neg = false;
        if j < b.len() && (b[j] == b'+' || b[j] == b'-') {
            neg = b[j] == b'-';
            j += 1;
        }
        let start = j;
        let mut e: i64 = 0;
        while j < b.len() && b[j].is_ascii_digit() {
            e = (e * 10 + i64::from(b[j] - b'0')).min(1 << 30);
            j += 1;
        }
        if j == start {
            return None;
        }
        exp10 += if neg { -e } else { e };
        i = j;
    }
    if i != b.len() {
        return None;
    }
    // Trailing zeros only scale; dropping them keeps the bignums small.
    while digits.last() == Some(&0) {
        digits.pop();
        exp10 += 1;
    }
    Some((digits, exp10))
}

/// Correctly rounded digits * 10^exp10. `None` on overflow/underflow.
fn decimal_to_ld(digits: &[u8], exp10: i64) -> Option<LongDouble> {
    if digits.is_empty() {
        return Some(LongDouble::ZERO);
    }
    let mag = digits.len() as i64 + exp10; // value in [10^(mag-1), 10^mag)
    if mag > 4933 {
        return None;
    }
    if mag < -4950 {
        return None;
    }
    let mut d = Big::zero();
    for chunk in digits.chunks(9) {
        let mut v = 0u32;
        for &c in chunk {
            v = v * 10 + u32::from(c);
        }
        d.mul_small(10u32.pow(chunk.len() as u32));
        d.add_small(v);
    }
    let r = if exp10 >= 0 {
        d.mul_pow10(exp10 as u32);
        let bl = d.bit_len();
        let lo = bl.saturating_sub(128);
        let sticky = d.any_low_bits(lo);
        let top = d.bits_from(lo);
        round_pack(false, top, lo as i32, sticky)
    } else {
        let mut den = Big::from_u64(1);
        den.mul_pow10((-exp10) as u32);
        // Scale so the quotient has ~120 bits.
        let k = den.bit_len() as i64 + 120 - d.bit_len() as i64;
        if k >= 0 {
            d.shl(k as u32);
        } else {
            den.shl((-k) as u32);
        }
        let (q, rem_nonzero) = d.div_small_quotient(&den, 122);
        round_pack(false, q, -(k as i32), rem_nonzero)
    };
    match r.kind {
        Kind::Finite { exp, mant } if exp > MIN_EXP || mant >> 63 == 1 => Some(r),
        _ => None, // overflow to inf, underflow to zero or subnormal
    }
}

/// Minimal unsigned bignum, little-endian base 2^32 limbs.
#[derive(Clone, Debug)]
struct Big(Vec<u32>);

impl Big {
    fn zero() -> Self {
        Big(Vec::new())
    }
    fn from_u64(v: u64) -> Self {
        let mut b = Big(vec![v as u32, (v >> 32) as u32]);
        b.trim();
        b
    }
    fn trim(&mut self) {
        while self.0.last() == Some(&0) {
            self.0.pop();
        }
    }
    fn mul_small(&mut self, m: u32) {
        let mut carry = 0u64;
        for l in self.0.iter_mut() {
            let t = u64::from(*l) * u64::from(m) + carry;
            *l = t as u32;
            carry = t >> 32;
        }
        if carry != 0 {
            self.0.push(carry as u32);
        }
    }
    fn add_small(&mut self, a: u32) {
        let mut carry = u64::from(a);
        for l in self.0.iter_mut() {
            if carry == 0 {
                return;
            }
            let t = u64::from(*l) + carry;
            *l = t as u32;
            carry = t >> 32;
        }
        if carry != 0 {
            self.0.push(carry as u32);
        }
    }
    fn mul_pow10(&mut self, mut n: u32) {
        while n >= 9 {
            self.mul_small(1_000_000_000);
            n -= 9;
        }
        if n > 0 {
            self.mul_small(10u32.pow(n));
        }
    }
    fn bit_len(&self) -> u32 {
        match self.0.last() {
            None => 0,
            Some(&top) => (self.0.len() as u32 - 1) * 32 + (32 - top.leading_zeros()),
        }
    }
    fn bit(&self, i: u32) -> bool {
        self.0
            .get((i / 32) as usize)
            .is_some_and(|l| (l >> (i % 32)) & 1 == 1)
    }
    fn any_low_bits(&self, n: u32) -> bool {
        (0..n).any(|i| self.bit(i))
    }
    /// Bits [lo, lo+128) as a u128.
    fn bits_from(&self, lo: u32) -> u128 {
        let mut v = 0u128;
        for i in (0..128).rev() {
            v = (v << 1) | u128::from(self.bit(lo + i));
        }
        v
    }
    fn shl(&mut self, n: u32) {
        if self.0.is_empty() {
            return;
        }
        let words = (n / 32) as usize;
        let bits = n % 32;
        let mut v = vec![0u32; words];
        let mut carry = 0u32;
        for &l in &self.0 {
            if bits == 0 {
                v.push(l);
            } else {
                v.push((l << bits) | carry);
                carry = l >> (32 - bits);
            }
        }
        if carry != 0 {
            v.push(carry);
        }
        self.0 = v;
    }
    fn shr1(&mut self) {
        let mut carry = 0u32;
        for l in self.0.iter_mut().rev() {
            let nc = *l & 1;
            *l = (*l >> 1) | (carry << 31);
            carry = nc;
        }
        self.trim();
    }
    fn cmp(&self, o: &Big) -> Ordering {
        self.0
            .len()
            .cmp(&o.0.len())
            .then_with(|| self.0.iter().rev().cmp(o.0.iter().rev()))
    }
    fn sub_assign(&mut self, o: &Big) {
        let mut borrow = 0i64;
        for (i, l) in self.0.iter_mut().enumerate() {
            let t = i64::from(*l) - i64::from(o.0.get(i).copied().unwrap_or(0)) - borrow;
            borrow = i64::from(t < 0);
            *l = t.rem_euclid(1 << 32) as u32;
        }
        self.trim();
    }
    /// Binary long division for a quotient known to be < 2^(qbits+1)
    /// (qbits <= 126); compares against den<<qbits down to den<<0.
    /// returns (quotient, remainder != 0).
    fn div_small_quotient(mut self, den: &Big, qbits: u32) -> (u128, bool) {
        let mut d = den.clone();
        d.shl(qbits);
        let mut q = 0u128;
        for _ in 0..=qbits {
            q <<= 1;
            if self.cmp(&d) != Ordering::Less {
                self.sub_assign(&d);
                q |= 1;
            }
            d.shr1();
        }
        (q, !self.0.is_empty())
    }
    fn to_decimal(&self) -> Vec<u8> {
        let mut n = self.0.clone();
        let mut chunks = Vec::new();
        while !n.is_empty() {
            let mut rem = 0u64;
            for l in n.iter_mut().rev() {
                let t = (rem << 32) | u64::from(*l);
                *l = (t / 1_000_000_000) as u32;
                rem = t % 1_000_000_000;
            }
            while n.last() == Some(&0) {
                n.pop();
            }
            chunks.push(rem as u32);
        }
        let mut s = String::new();
        match chunks.split_last() {
            None => s.push('0'),
            Some((top, rest)) => {
                s.push_str(&top.to_string());
                for c in rest.iter().rev() {
                    s.push_str(&format!("{:09}", c));
                }
            }
        }
        s.into_bytes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn incr(a: &str, b: &str) -> String {
        let x = LongDouble::parse(a.as_bytes()).unwrap();
        let y = LongDouble::parse(b.as_bytes()).unwrap();
        String::from_utf8(x.checked_add(y).unwrap().to_human_string()).unwrap()
    }

    #[test]
    fn incrbyfloat_matches_redis() {
        // SET f a; INCRBYFLOAT f b on redis-server 7.0.15.
        let cases = [
            ("10", "10.5", "20.5"),
            ("0", "0.1", "0.1"),
            ("0.1", "0.2", "0.3"),
            ("0", "3.0e3", "3000"),
            ("0", "1000.1", "1000.09999999999999998"),
            ("0", "100.1", "100.1"),
            ("0", "0.333333333333333333", "0.33333333333333333"),
            ("0", "1e20", "100000000000000000000"),
            ("0", "-0", "0"),
            ("0", "1.23456789012345678", "1.23456789012345678"),
            ("10.5", "0.1", "10.6"),
            ("0", "5e-18", "0"),
            ("0", "12345678.9", "12345678.8999999999996362"),
            ("0", "1e-30", "0"),
            ("0", "9007199254740993", "9007199254740993"),
            ("0", "123456.789", "123456.78900000000000148"),
            ("5.0e3", "2.0e2", "5200"),
            ("0", "1.1", "1.1"),
        ];
        for (a, b, want) in cases {
            assert_eq!(incr(a, b), want, "{a} + {b}");
        }
    }

    #[test]
    fn parse_rejections() {
        for bad in [
            &b""[..],
            b" 1",
            b"1 ",
            b"nan",
            b"1e5000",
            b"1e-5000",
            b"abc",
            b"1e",
        ] {
            assert!(LongDouble::parse(bad).is_none(), "{:?}", bad);
        }
        assert!(!LongDouble::parse(b"inf").unwrap().is_finite());
        let inf = LongDouble::parse(b"inf").unwrap();
        let ninf = LongDouble::parse(b"-inf").unwrap();
        assert!(inf.checked_add(ninf).is_none());
    }

    #[test]
    fn exact_conversions() {
        assert_eq!(
            LongDouble::from_i64(i64::MIN).to_human_string(),
            b"-9223372036854775808"
        );
        assert_eq!(LongDouble::from_i64(42).to_f64(), 42.0);
        assert_eq!(LongDouble::from_f64(0.5).unwrap().to_human_string(), b"0.5");
        assert_eq!(LongDouble::parse(b"1.5").unwrap().to_f64(), 1.5);
    }

    #[test]
    fn fuzz_parse_no_panic() {
        let mut r = crate::encoding::TestRng::new(7);
        let alphabet = b"0123456789.eE+-xXpPinfa ";
        for _ in 0..3000 {
            let n = r.below(30) as usize;
            let s: Vec<u8> = (0..n)
                .map(|_| alphabet[r.below(alphabet.len() as u64) as usize])
                .collect();
            if let Some(v) = LongDouble::parse(&s) {
                let _ = v.checked_add(v).map(|x| x.to_human_string());
            }
        }
    }
}
