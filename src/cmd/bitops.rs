//! Bitmap commands on string values (Redis's bitops.c): SETBIT, GETBIT,
//! BITCOUNT, BITPOS, BITOP, BITFIELD and BITFIELD_RO. Bits are numbered
//! from the most significant bit of the first byte. Writes leave a raw
//! string (`Value::Raw`).

use super::flag::*;
use super::{arg_i64, eq_ic, CommandSpec, Ctx, Proc};
use crate::cmd::table::spec;
use crate::config::{NOTIFY_GENERIC, NOTIFY_STRING};
use crate::db::Value;
use crate::encoding::numbers::string2ll;
use crate::error::{self, err, CmdError, CmdResult};
use crate::sds::Sds;
use bytes::Bytes;

const BIT_NOT_INT: &str = "ERR bit is not an integer or out of range";
const BAD_TYPE: &str =
    "ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.";

/// getBitOffsetFromArgument: a bit offset, or `#n` times `bits` when
/// `hash` (BITFIELD), limited by proto-max-bulk-len.
fn bit_offset(ctx: &Ctx<'_>, arg: &[u8], hash: bool, bits: u32) -> Result<u64, CmdError> {
    let use_hash = hash && bits > 0 && arg.first() == Some(&b'#');
    let n = string2ll(if use_hash { &arg[1..] } else { arg });
    let n = match n {
        Some(n) if use_hash => n.checked_mul(bits as i64),
        x => x,
    };
    match n {
        Some(n) if n >= 0 && ((n as u64) >> 3) < ctx.cfg.proto_max_bulk_len => Ok(n as u64),
        _ => err(error::BIT_OFFSET),
    }
}

/// The string at `key` for a read (integers formatted into `buf`);
/// WRONGTYPE for other types.
fn read_str<'a>(
    ctx: &'a mut Ctx<'_>,
    key: &[u8],
    buf: &'a mut [u8; 20],
) -> Result<Option<&'a [u8]>, CmdError> {
    super::get_string(ctx.ks, ctx.db, key, buf)
}

/// lookupStringForBitCommand: the string at `key`, created or zero-padded
/// so that the byte holding bit `maxbit` exists; made raw for writing.
/// Returns the bytes and whether it was created or grown.
fn string_for_write<'a>(
    ctx: &'a mut Ctx<'_>,
    key: &[u8],
    maxbit: u64,
) -> Result<(&'a mut Sds, bool), CmdError> {
    let need = (maxbit >> 3) as usize + 1;
    let mut grown = false;
    match ctx.ks.lookup_write(ctx.db, key) {
        None => {
            ctx.ks
                .add(ctx.db, key, Value::Raw(Sds::from_vec(vec![0; need])));
            grown = true;
        }
        Some(e) => {
            // sdsgrowzero on the unshared value: amortised growth, in place.
            let s = super::string::unshare_string(e.val)?;
            if s.len() < need {
                s.grow_zero(need);
                grown = true;
            }
        }
    }
    match ctx.ks.lookup_write(ctx.db, key).map(|e| e.val) {
        Some(Value::Raw(s)) => Ok((s, grown)),
        _ => err(error::WRONGTYPE),
    }
}

pub fn setbit(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    let off = bit_offset(ctx, &argv[2], false, 0)?;
    let on = arg_i64(&argv[3]).map_err(|_| CmdError::from(BIT_NOT_INT))?;
    if on & !1 != 0 {
        return err(BIT_NOT_INT);
    }
    let (s, grown) = string_for_write(ctx, &argv[1], off)?;
    let bytes = s.as_bytes_mut();
    let byte = (off >> 3) as usize;
    let bit = 7 - (off & 7) as u8;
    let old = (bytes[byte] >> bit) & 1;
    bytes[byte] = (bytes[byte] & !(1 << bit)) | ((on as u8) << bit);
    if grown || old as i64 != on {
        ctx.written(&argv[1], NOTIFY_STRING, "setbit");
    }
    ctx.out.int(old as i64);
    Ok(())
}

pub fn getbit(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    let off = bit_offset(ctx, &argv[2], false, 0)?;
    let mut buf = [0u8; 20];
    let v = read_str(ctx, &argv[1], &mut buf)?.map_or(0, |s| {
        let byte = (off >> 3) as usize;
        s.get(byte).map_or(0, |b| (b >> (7 - (off & 7))) & 1)
    });
    ctx.out.int(v as i64);
    Ok(())
}

/// Normalizes a BITCOUNT/BITPOS range to inclusive bit positions
/// (None when empty). `len` is the string length in bytes.
fn bit_range(mut start: i64, mut end: i64, len: usize, isbit: bool) -> Option<(u64, u64)> {
    let tot = if isbit { len as i64 * 8 } else { len as i64 };
    if start < 0 {
        start += tot;
    }
    if end < 0 {
        end += tot;
    }
    start = start.max(0);
    end = end.max(0);
    if end >= tot {
        end = tot - 1;
    }
    if start > end {
        return None;
    }
    let (s, e) = (start as u64, end as u64);
    Some(if isbit { (s, e) } else { (s * 8, e * 8 + 7) })
}

fn unit_arg(arg: &[u8]) -> Result<bool, CmdError> {
    if eq_ic(arg, "bit") {
        Ok(true)
    } else if eq_ic(arg, "byte") {
        Ok(false)
    } else {
        err(error::SYNTAX)
    }
}

fn bit_at(s: &[u8], i: u64) -> u8 {
    (s[(i >> 3) as usize] >> (7 - (i & 7))) & 1
}

/// Set bits of `s` in inclusive bit range [a, b].
fn popcount_bits(s: &[u8], a: u64, b: u64) -> u64 {
    let (ba, bb) = ((a >> 3) as usize, (b >> 3) as usize);
    let mut n: u64 = s[ba..=bb].iter().map(|x| x.count_ones() as u64).sum();
    for i in (ba as u64 * 8)..a {
        n -= bit_at(s, i) as u64;
    }
    for i in (b + 1)..(bb as u64 * 8 + 8) {
        n -= bit_at(s, i) as u64;
    }
    n
}

pub fn bitcount(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    let mut buf = [0u8; 20];
    let Some(s) = read_str(ctx, &argv[1], &mut buf)? else {
        ctx.out.int(0);
        return Ok(());
    };
    let range = match argv.len() {
        2 => bit_range(0, -1, s.len(), false),
        4 | 5 => {
            let start = arg_i64(&argv[2])?;
            let end = arg_i64(&argv[3])?;
            if start < 0 && end < 0 && start > end {
                None
            } else {
                let isbit = argv.len() == 5 && unit_arg(&argv[4])?;
                bit_range(start, end, s.len(), isbit)
            }
        }
        _ => return err(error::SYNTAX),
    };
    let n = range.map_or(0, |(a, b)| popcount_bits(s, a, b));
    ctx.out.int(n as i64);
    Ok(())
}

/// The first bit equal to `bit` in the inclusive bit range [a, b],
/// skipping whole bytes that cannot hold it.
fn find_bit(s: &[u8], a: u64, b: u64, bit: u8) -> Option<u64> {
    let skip = if bit == 1 { 0u8 } else { 0xff };
    let mut i = a;
    while i <= b {
        if i & 7 == 0 && i + 7 <= b && s[(i >> 3) as usize] == skip {
            i += 8;
            continue;
        }
        if bit_at(s, i) == bit {
            return Some(i);
        }
        i += 1;
    }
    None
}

pub fn bitpos(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    let bit = arg_i64(&argv[2])?;
    if bit != 0 && bit != 1 {
        return err("ERR The bit argument must be 1 or 0.");
    }
    let mut buf = [0u8; 20];
    let Some(s) = read_str(ctx, &argv[1], &mut buf)? else {
        ctx.out.int(if bit == 1 { -1 } else { 0 });
        return Ok(());
    };
    let mut end_given = false;
    let range = match argv.len() {
        3 => bit_range(0, -1, s.len(), false),
        4..=6 => {
            let start = arg_i64(&argv[3])?;
            let isbit = argv.len() == 6 && unit_arg(&argv[5])?;
            let end = if argv.len() >= 5 {
                end_given = true;
                arg_i64(&argv[4])?
            } else {
                -1
            };
            bit_range(start, end, s.len(), isbit)
        }
        _ => return err(error::SYNTAX),
    };
    let pos = match range {
        None => -1,
        Some((a, b)) => match find_bit(s, a, b, bit as u8) {
            Some(i) => i as i64,
            None if bit == 0 && !end_given => b as i64 + 1,
            None => -1,
        },
    };
    ctx.out.int(pos);
    Ok(())
}

pub fn bitop(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    #[derive(PartialEq)]
    enum Op {
        And,
        Or,
        Xor,
        Not,
    }
    let o = &argv[1][..];
    let op = if eq_ic(o, "and") {
        Op::And
    } else if eq_ic(o, "or") {
        Op::Or
    } else if eq_ic(o, "xor") {
        Op::Xor
    } else if eq_ic(o, "not") {
        Op::Not
    } else {
        return err(error::SYNTAX);
    };
    if op == Op::Not && argv.len() != 4 {
        return err("ERR BITOP NOT must be called with a single source key.");
    }
    let mut srcs: Vec<Vec<u8>> = Vec::with_capacity(argv.len() - 3);
    for k in &argv[3..] {
        let mut buf = [0u8; 20];
        srcs.push(read_str(ctx, k, &mut buf)?.map_or(Vec::new(), |s| s.to_vec()));
    }
    let maxlen = srcs.iter().map(Vec::len).max().unwrap_or(0);
    let dst = &argv[2];
    if maxlen > 0 {
        let mut res = vec![0u8; maxlen];
        for (i, r) in res.iter_mut().enumerate() {
            let byte = |s: &Vec<u8>| s.get(i).copied().unwrap_or(0);
            *r = match op {
                Op::Not => !byte(&srcs[0]),
                Op::And => srcs.iter().fold(0xff, |a, s| a & byte(s)),
                Op::Or => srcs.iter().fold(0, |a, s| a | byte(s)),
                Op::Xor => srcs.iter().fold(0, |a, s| a ^ byte(s)),
            };
        }
        ctx.ks
            .set_key(ctx.db, dst, Value::Raw(Sds::from_vec(res)), false);
        ctx.notify(NOTIFY_STRING, "set", dst);
        ctx.dirty += 1;
    } else if ctx.ks.delete(ctx.db, dst) {
        ctx.written(dst, NOTIFY_GENERIC, "del");
    }
    ctx.out.int(maxlen as i64);
    Ok(())
}

// ---- BITFIELD ----

#[derive(Clone, Copy, PartialEq, Eq)]
enum Overflow {
    Wrap,
    Sat,
    Fail,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum FieldOp {
    Get,
    Set,
    Incr,
}

struct Field {
    op: FieldOp,
    offset: u64,
    value: i64,
    ow: Overflow,
    bits: u32,
    signed: bool,
}

fn field_type(arg: &[u8]) -> Result<(bool, u32), CmdError> {
    let signed = match arg.first() {
        Some(b'i') => true,
        Some(b'u') => false,
        _ => return err(BAD_TYPE),
    };
    match string2ll(&arg[1..]) {
        Some(b) if b >= 1 && ((signed && b <= 64) || (!signed && b <= 63)) => {
            Ok((signed, b as u32))
        }
        _ => err(BAD_TYPE),
    }
}

fn get_unsigned(p: &[u8], offset: u64, bits: u32) -> u64 {
    let mut v = 0u64;
    for j in 0..bits as u64 {
        let i = offset + j;
        let b = p
            .get((i >> 3) as usize)
            .map_or(0, |x| (x >> (7 - (i & 7))) & 1);
        v = (v << 1) | b as u64;
    }
    v
}

fn get_signed(p: &[u8], offset: u64, bits: u32) -> i64 {
    let mut v = get_unsigned(p, offset, bits);
    if bits < 64 && v & (1u64 << (bits - 1)) != 0 {
        v |= u64::MAX << bits;
    }
    v as i64
}

fn set_bits(p: &mut [u8], offset: u64, bits: u32, value: u64) {
    for j in 0..bits as u64 {
        let bitval = (value >> (bits as u64 - 1 - j)) & 1;
        let i = offset + j;
        let byte = (i >> 3) as usize;
        let bit = 7 - (i & 7);
        p[byte] = (p[byte] & !(1 << bit)) | ((bitval as u8) << bit);
    }
}

/// checkUnsignedBitfieldOverflow: Some(value to store) when it overflows.
fn unsigned_overflow(value: u64, incr: i64, bits: u32, ow: Overflow) -> Option<u64> {
    let max = if bits == 64 {
        u64::MAX
    } else {
        (1u64 << bits) - 1
    };
    let maxincr = max.wrapping_sub(value) as i64;
    let minincr = value.wrapping_neg() as i64;
    let wrap = || value.wrapping_add(incr as u64) & !(u64::MAX << bits);
    if value > max || (incr > 0 && incr > maxincr) {
        Some(if ow == Overflow::Sat { max } else { wrap() })
    } else if incr < 0 && incr < minincr {
        Some(if ow == Overflow::Sat { 0 } else { wrap() })
    } else {
        None
    }
}

/// checkSignedBitfieldOverflow: Some(value to store) when it overflows.
fn signed_overflow(value: i64, incr: i64, bits: u32, ow: Overflow) -> Option<i64> {
    let max = if bits == 64 {
        i64::MAX
    } else {
        (1i64 << (bits - 1)) - 1
    };
    let min = -max - 1;
    let maxincr = (max as u64).wrapping_sub(value as u64) as i64;
    let minincr = min.wrapping_sub(value);
    let wrap = || {
        let mut c = (value as u64).wrapping_add(incr as u64);
        if bits < 64 {
            let mask = u64::MAX << bits;
            if c & (1u64 << (bits - 1)) != 0 {
                c |= mask;
            } else {
                c &= !mask;
            }
        }
        c as i64
    };
    if value > max || (bits != 64 && incr > maxincr) || (value >= 0 && incr > 0 && incr > maxincr) {
        Some(if ow == Overflow::Sat { max } else { wrap() })
    } else if value < min
        || (bits != 64 && incr < minincr)
        || (value < 0 && incr < 0 && incr < minincr)
    {
        Some(if ow == Overflow::Sat { min } else { wrap() })
    } else {
        None
    }
}

fn bitfield_generic(ctx: &mut Ctx<'_>, argv: &[Bytes], readonly: bool) -> CmdResult {
    let mut ops: Vec<Field> = Vec::new();
    let mut ow = Overflow::Wrap;
    let mut highest: Option<u64> = None;
    let mut j = 2;
    while j < argv.len() {
        let rem = argv.len() - j - 1;
        let sub = &argv[j][..];
        let op = if eq_ic(sub, "get") && rem >= 2 {
            FieldOp::Get
        } else if eq_ic(sub, "set") && rem >= 3 {
            FieldOp::Set
        } else if eq_ic(sub, "incrby") && rem >= 3 {
            FieldOp::Incr
        } else if eq_ic(sub, "overflow") && rem >= 1 {
            let t = &argv[j + 1][..];
            ow = if eq_ic(t, "wrap") {
                Overflow::Wrap
            } else if eq_ic(t, "sat") {
                Overflow::Sat
            } else if eq_ic(t, "fail") {
                Overflow::Fail
            } else {
                return err("ERR Invalid OVERFLOW type specified");
            };
            j += 2;
            continue;
        } else {
            return err(error::SYNTAX);
        };
        let (signed, bits) = field_type(&argv[j + 1])?;
        let offset = bit_offset(ctx, &argv[j + 2], true, bits)?;
        let mut value = 0;
        if op != FieldOp::Get {
            if readonly {
                return err("ERR BITFIELD_RO only supports the GET subcommand");
            }
            value = arg_i64(&argv[j + 3])?;
            let top = offset + bits as u64 - 1;
            highest = Some(highest.map_or(top, |h| h.max(top)));
        }
        ops.push(Field {
            op,
            offset,
            value,
            ow,
            bits,
            signed,
        });
        j += if op == FieldOp::Get { 3 } else { 4 };
    }
    let key = &argv[1];
    let Some(maxbit) = highest else {
        // Only GETs: a read, missing keys read as zeros.
        let mut buf = [0u8; 20];
        let s = read_str(ctx, key, &mut buf)?.map(|s| s.to_vec());
        let s = s.unwrap_or_default();
        ctx.out.array(ops.len());
        for f in &ops {
            if f.signed {
                ctx.out.int(get_signed(&s, f.offset, f.bits));
            } else {
                ctx.out.int(get_unsigned(&s, f.offset, f.bits) as i64);
            }
        }
        return Ok(());
    };
    let (sds, grown) = string_for_write(ctx, key, maxbit)?;
    let p = sds.as_bytes_mut();
    let mut replies: Vec<Option<i64>> = Vec::with_capacity(ops.len());
    let mut changes = 0u64;
    for f in &ops {
        match f.op {
            FieldOp::Get => replies.push(Some(if f.signed {
                get_signed(p, f.offset, f.bits)
            } else {
                get_unsigned(p, f.offset, f.bits) as i64
            })),
            _ if f.signed => {
                let old = get_signed(p, f.offset, f.bits);
                let (ovf, new, ret) = if f.op == FieldOp::Incr {
                    let o = signed_overflow(old, f.value, f.bits, f.ow);
                    let n = o.unwrap_or(old.wrapping_add(f.value));
                    (o.is_some(), n, n)
                } else {
                    let o = signed_overflow(f.value, 0, f.bits, f.ow);
                    (o.is_some(), o.unwrap_or(f.value), old)
                };
                if ovf && f.ow == Overflow::Fail {
                    replies.push(None);
                } else {
                    replies.push(Some(ret));
                    set_bits(p, f.offset, f.bits, new as u64);
                    if grown || old != new {
                        changes += 1;
                    }
                }
            }
            _ => {
                let old = get_unsigned(p, f.offset, f.bits);
                let (ovf, new, ret) = if f.op == FieldOp::Incr {
                    let o = unsigned_overflow(old, f.value, f.bits, f.ow);
                    let n = o.unwrap_or(old.wrapping_add(f.value as u64));
                    (o.is_some(), n, n)
                } else {
                    let o = unsigned_overflow(f.value as u64, 0, f.bits, f.ow);
                    (o.is_some(), o.unwrap_or(f.value as u64), old)
                };
                if ovf && f.ow == Overflow::Fail {
                    replies.push(None);
                } else {
                    replies.push(Some(ret as i64));
                    set_bits(p, f.offset, f.bits, new);
                    if grown || old != new {
                        changes += 1;
                    }
                }
            }
        }
    }
    ctx.out.array(replies.len());
    for r in replies {
        match r {
            Some(v) => ctx.out.int(v),
            None => ctx.out.null(),
        }
    }
    if changes > 0 {
        ctx.written(key, NOTIFY_STRING, "setbit");
        ctx.dirty += changes - 1;
    }
    Ok(())
}

pub fn bitfield(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    bitfield_generic(ctx, argv, false)
}

pub fn bitfield_ro(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    bitfield_generic(ctx, argv, true)
}

const GROUP: &str = "bitmap";

#[rustfmt::skip]
pub static COMMANDS: &[CommandSpec] = &[
    spec("setbit", Proc::Db(setbit), 4, WRITE | DENYOOM, 1, 1, 1, GROUP),
    spec("getbit", Proc::Db(getbit), 3, READONLY | FAST, 1, 1, 1, GROUP),
    spec("bitcount", Proc::Db(bitcount), -2, READONLY, 1, 1, 1, GROUP),
    spec("bitpos", Proc::Db(bitpos), -3, READONLY, 1, 1, 1, GROUP),
    spec("bitop", Proc::Db(bitop), -4, WRITE | DENYOOM, 2, -1, 1, GROUP),
    spec("bitfield", Proc::Db(bitfield), -2, WRITE | DENYOOM, 1, 1, 1, GROUP),
    spec("bitfield_ro", Proc::Db(bitfield_ro), -2, READONLY | FAST, 1, 1, 1, GROUP),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields() {
        let mut p = vec![0u8; 4];
        set_bits(&mut p, 3, 5, 0b10110);
        assert_eq!(get_unsigned(&p, 3, 5), 0b10110);
        assert_eq!(get_signed(&p, 3, 5), -10);
        assert_eq!(unsigned_overflow(250, 10, 8, Overflow::Wrap), Some(4));
        assert_eq!(unsigned_overflow(250, 10, 8, Overflow::Sat), Some(255));
        assert_eq!(signed_overflow(120, 10, 8, Overflow::Wrap), Some(-126));
        assert_eq!(signed_overflow(-120, -10, 8, Overflow::Sat), Some(-128));
        assert_eq!(
            signed_overflow(i64::MAX, 1, 64, Overflow::Wrap),
            Some(i64::MIN)
        );
        assert_eq!(signed_overflow(5, 1, 64, Overflow::Wrap), None);
    }
}
