//! HyperLogLog, byte for byte as Redis's hyperloglog.c: a 16-byte header
//! ("HYLL", encoding, 3 unused bytes, 8-byte little-endian cached
//! cardinality whose top bit marks it stale) followed by either the dense
//! registers (16384 six-bit registers, LSB first) or the sparse opcodes
//! (ZERO 00xxxxxx, XZERO 01xxxxxx yyyyyyyy, VAL 1vvvvvxx). Elements are
//! hashed with MurmurHash64A (seed 0xadc83b19); counts use Ertl's improved
//! estimator. Pure functions over the string's bytes.

pub const HDR_SIZE: usize = 16;
pub const P: u32 = 14;
pub const Q: u32 = 64 - P;
pub const REGISTERS: usize = 1 << P;
const P_MASK: u64 = REGISTERS as u64 - 1;
const BITS: usize = 6;
const REGISTER_MAX: u8 = 63;
pub const DENSE_SIZE: usize = HDR_SIZE + (REGISTERS * BITS).div_ceil(8);
pub const DENSE: u8 = 0;
pub const SPARSE: u8 = 1;

const SPARSE_VAL_MAX_VALUE: u8 = 32;
const SPARSE_VAL_MAX_LEN: usize = 4;
const SPARSE_ZERO_MAX_LEN: usize = 64;
const SPARSE_XZERO_MAX_LEN: usize = 16384;
const ALPHA_INF: f64 = 0.721_347_520_444_481_7;

/// A sparse representation that does not add up (Redis's INVALIDOBJ).
#[derive(Debug, PartialEq, Eq)]
pub struct Corrupt;

/// MurmurHash2, 64-bit version, endian neutral (Redis's MurmurHash64A).
pub fn murmurhash64a(key: &[u8], seed: u64) -> u64 {
    const M: u64 = 0xc6a4_a793_5bd1_e995;
    const R: u32 = 47;
    let mut h = seed ^ (key.len() as u64).wrapping_mul(M);
    let mut chunks = key.chunks_exact(8);
    for c in &mut chunks {
        let mut k = u64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]);
        k = k.wrapping_mul(M);
        k ^= k >> R;
        k = k.wrapping_mul(M);
        h ^= k;
        h = h.wrapping_mul(M);
    }
    let rest = chunks.remainder();
    if !rest.is_empty() {
        for (i, &b) in rest.iter().enumerate().rev() {
            h ^= (b as u64) << (8 * i);
        }
        h = h.wrapping_mul(M);
    }
    h ^= h >> R;
    h = h.wrapping_mul(M);
    h ^= h >> R;
    h
}

/// hllPatLen: (register index, length of the 000..1 pattern).
pub fn pat_len(ele: &[u8]) -> (usize, u8) {
    let mut hash = murmurhash64a(ele, 0xadc8_3b19);
    let index = (hash & P_MASK) as usize;
    hash >>= P;
    hash |= 1u64 << Q;
    (index, hash.trailing_zeros() as u8 + 1)
}

fn dense_get(regs: &[u8], i: usize) -> u8 {
    let byte = i * BITS / 8;
    let fb = (i * BITS) & 7;
    let b0 = regs.get(byte).copied().unwrap_or(0) as u16;
    let b1 = regs.get(byte + 1).copied().unwrap_or(0) as u16;
    (((b0 >> fb) | (b1 << (8 - fb))) & REGISTER_MAX as u16) as u8
}

fn dense_set(regs: &mut [u8], i: usize, val: u8) {
    let byte = i * BITS / 8;
    let fb = (i * BITS) & 7;
    let v = val as u16;
    let m = REGISTER_MAX as u16;
    regs[byte] &= !((m << fb) as u8);
    regs[byte] |= (v << fb) as u8;
    if let Some(b) = regs.get_mut(byte + 1) {
        *b &= !((m >> (8 - fb)) as u8);
        *b |= (v >> (8 - fb)) as u8;
    }
}

/// hllDenseSet: raises register `i` to `count`; true when it changed.
fn dense_set_max(regs: &mut [u8], i: usize, count: u8) -> bool {
    if count > dense_get(regs, i) {
        dense_set(regs, i, count);
        true
    } else {
        false
    }
}

// Sparse opcode helpers.
fn is_zero(b: u8) -> bool {
    b & 0xc0 == 0
}
fn is_xzero(b: u8) -> bool {
    b & 0xc0 == 0x40
}
fn is_val(b: u8) -> bool {
    b & 0x80 != 0
}
fn zero_len(b: u8) -> usize {
    (b & 0x3f) as usize + 1
}
fn xzero_len(b0: u8, b1: u8) -> usize {
    ((((b0 & 0x3f) as usize) << 8) | b1 as usize) + 1
}
fn val_value(b: u8) -> u8 {
    ((b >> 2) & 0x1f) + 1
}
fn val_len(b: u8) -> usize {
    (b & 0x3) as usize + 1
}
fn val_op(val: u8, len: usize) -> u8 {
    (((val - 1) << 2) | (len as u8 - 1)) | 0x80
}
fn push_zero_run(n: &mut Vec<u8>, len: usize) {
    if len > SPARSE_ZERO_MAX_LEN {
        let l = len - 1;
        n.push((l >> 8) as u8 | 0x40);
        n.push((l & 0xff) as u8);
    } else {
        n.push(len as u8 - 1);
    }
}

/// A new, empty HLL (sparse: one XZERO covering every register).
pub fn create() -> Vec<u8> {
    let mut v = Vec::with_capacity(HDR_SIZE + 2);
    v.extend_from_slice(b"HYLL");
    v.push(SPARSE);
    v.extend_from_slice(&[0; 11]);
    let l = SPARSE_XZERO_MAX_LEN - 1;
    v.push((l >> 8) as u8 | 0x40);
    v.push((l & 0xff) as u8);
    v
}

/// isHLLObjectOrReply's checks on a string value's bytes.
pub fn is_valid(b: &[u8]) -> bool {
    b.len() >= HDR_SIZE
        && &b[..4] == b"HYLL"
        && b[4] <= SPARSE
        && (b[4] != DENSE || b.len() == DENSE_SIZE)
}

pub fn cached(b: &[u8]) -> Option<u64> {
    if b[15] & 0x80 != 0 {
        return None;
    }
    let mut c = [0u8; 8];
    c.copy_from_slice(&b[8..16]);
    Some(u64::from_le_bytes(c))
}

pub fn set_cache(b: &mut [u8], card: u64) {
    b[8..16].copy_from_slice(&card.to_le_bytes());
}

pub fn invalidate_cache(b: &mut [u8]) {
    b[15] |= 0x80;
}

/// hllSparseToDense (keeps the header, cached cardinality included).
fn sparse_to_dense(hll: &mut Vec<u8>) -> Result<(), Corrupt> {
    if hll[4] == DENSE {
        return Ok(());
    }
    let mut dense = vec![0u8; DENSE_SIZE];
    dense[..HDR_SIZE].copy_from_slice(&hll[..HDR_SIZE]);
    dense[4] = DENSE;
    let regs = &mut dense[HDR_SIZE..];
    let (mut idx, mut p) = (0usize, HDR_SIZE);
    while p < hll.len() {
        let b = hll[p];
        if is_zero(b) {
            idx += zero_len(b);
            p += 1;
        } else if is_xzero(b) {
            idx += xzero_len(b, hll.get(p + 1).copied().unwrap_or(0));
            p += 2;
        } else {
            let (runlen, v) = (val_len(b), val_value(b));
            if runlen + idx > REGISTERS {
                break;
            }
            for _ in 0..runlen {
                dense_set(regs, idx, v);
                idx += 1;
            }
            p += 1;
        }
    }
    if idx != REGISTERS {
        return Err(Corrupt);
    }
    *hll = dense;
    Ok(())
}

/// hllSparseSet: raises register `index` to `count`, splitting opcodes,
/// merging adjacent VALs, promoting to dense when needed. Ok(true) when
/// the register changed.
fn sparse_set(
    hll: &mut Vec<u8>,
    index: usize,
    count: u8,
    sparse_max: usize,
) -> Result<bool, Corrupt> {
    if count > SPARSE_VAL_MAX_VALUE {
        return promote(hll, index, count);
    }
    let mut end = hll.len();
    let mut p = HDR_SIZE;
    let mut first = 0usize;
    let mut prev: Option<usize> = None;
    let mut span = 0usize;
    while p < end {
        let b = hll[p];
        let mut oplen = 1;
        if is_zero(b) {
            span = zero_len(b);
        } else if is_val(b) {
            span = val_len(b);
        } else {
            span = xzero_len(b, hll.get(p + 1).copied().unwrap_or(0));
            oplen = 2;
        }
        if index < first + span {
            break;
        }
        prev = Some(p);
        p += oplen;
        first += span;
    }
    if span == 0 || p >= end {
        return Err(Corrupt);
    }
    let b = hll[p];
    let (zero, xzero, val) = (is_zero(b), is_xzero(b), is_val(b));
    if xzero && p + 2 > end {
        // An XZERO opcode cut in half by the end of the string.
        return Err(Corrupt);
    }
    let runlen = if zero {
        zero_len(b)
    } else if xzero {
        xzero_len(b, hll.get(p + 1).copied().unwrap_or(0))
    } else {
        val_len(b)
    };
    let mut simple = false;
    if val {
        if val_value(b) >= count {
            return Ok(false);
        }
        if runlen == 1 {
            hll[p] = val_op(count, 1);
            simple = true;
        }
    }
    if !simple && zero && runlen == 1 {
        hll[p] = val_op(count, 1);
        simple = true;
    }
    if !simple {
        // General case: split the opcode into up to three.
        let mut seq: Vec<u8> = Vec::with_capacity(5);
        let last = first + span - 1;
        if zero || xzero {
            if index != first {
                push_zero_run(&mut seq, index - first);
            }
            seq.push(val_op(count, 1));
            if index != last {
                push_zero_run(&mut seq, last - index);
            }
        } else {
            let cur = val_value(b);
            if index != first {
                seq.push(val_op(cur, index - first));
            }
            seq.push(val_op(count, 1));
            if index != last {
                seq.push(val_op(cur, last - index));
            }
        }
        let oldlen = if xzero { 2 } else { 1 };
        if seq.len() > oldlen && hll.len() + seq.len() - oldlen > sparse_max {
            return promote(hll, index, count);
        }
        hll.splice(p..p + oldlen, seq.iter().copied());
        end = hll.len();
    }
    // Merge adjacent VAL opcodes with the same value, scanning up to 5
    // opcodes from the one before the change.
    let mut p = prev.unwrap_or(HDR_SIZE);
    let mut scanlen = 5;
    while p < end && scanlen > 0 {
        scanlen -= 1;
        let b = hll[p];
        if is_xzero(b) {
            p += 2;
            continue;
        } else if is_zero(b) {
            p += 1;
            continue;
        }
        if p + 1 < end && is_val(hll[p + 1]) {
            let (v1, v2) = (val_value(b), val_value(hll[p + 1]));
            if v1 == v2 {
                let len = val_len(b) + val_len(hll[p + 1]);
                if len <= SPARSE_VAL_MAX_LEN {
                    hll[p + 1] = val_op(v1, len);
                    hll.remove(p);
                    end -= 1;
                    continue;
                }
            }
        }
        p += 1;
    }
    invalidate_cache(hll);
    Ok(true)
}

fn promote(hll: &mut Vec<u8>, index: usize, count: u8) -> Result<bool, Corrupt> {
    sparse_to_dense(hll)?;
    dense_set_max(&mut hll[HDR_SIZE..], index, count);
    Ok(true)
}

/// hllAdd: Ok(true) when a register changed. `hll` must pass `is_valid`.
pub fn add(hll: &mut Vec<u8>, ele: &[u8], sparse_max: usize) -> Result<bool, Corrupt> {
    let (index, count) = pat_len(ele);
    match hll[4] {
        DENSE => Ok(dense_set_max(&mut hll[HDR_SIZE..], index, count)),
        SPARSE => sparse_set(hll, index, count, sparse_max),
        _ => Err(Corrupt),
    }
}

/// Sets register `index` to at least `count` (PFMERGE's write-back).
pub fn set_register(hll: &mut Vec<u8>, index: usize, count: u8, sparse_max: usize) {
    match hll[4] {
        DENSE => {
            dense_set_max(&mut hll[HDR_SIZE..], index, count);
        }
        _ => {
            let _ = sparse_set(hll, index, count, sparse_max);
        }
    }
}

/// Converts to dense in place (PFMERGE with a dense input).
pub fn to_dense(hll: &mut Vec<u8>) -> Result<(), Corrupt> {
    sparse_to_dense(hll)
}

/// The 16384 register values, whatever the encoding (PFDEBUG GETREG).
pub fn registers(hll: &[u8]) -> Result<Vec<u8>, Corrupt> {
    let mut regs = vec![0u8; REGISTERS];
    merge(&mut regs, hll)?;
    Ok(regs)
}

/// PFDEBUG DECODE: the sparse opcodes as `z:len`, `Z:len`, `v:val,len`.
/// None when the value is not sparse.
pub fn decode_sparse(hll: &[u8]) -> Option<String> {
    if hll[4] != SPARSE {
        return None;
    }
    let mut out = Vec::new();
    let mut p = HDR_SIZE;
    while p < hll.len() {
        let b = hll[p];
        if is_zero(b) {
            out.push(format!("z:{}", zero_len(b)));
            p += 1;
        } else if is_xzero(b) {
            out.push(format!(
                "Z:{}",
                xzero_len(b, hll.get(p + 1).copied().unwrap_or(0))
            ));
            p += 2;
        } else {
            out.push(format!("v:{},{}", val_value(b), val_len(b)));
            p += 1;
        }
    }
    Some(out.join(" "))
}

/// PFSELFTEST (Redis's pfselftestCommand): register access on a dense
/// array with random values, then dense and sparse HLLs fed the same ten
/// million elements must agree and stay within six standard errors at
/// every power of ten. Err is the TESTFAILED message.
pub fn selftest(sparse_max: usize, rng: &mut crate::util::Rng) -> Result<(), String> {
    let mut regs = vec![0u8; DENSE_SIZE - HDR_SIZE];
    let mut expect = vec![0u8; REGISTERS];
    for _ in 0..1000 {
        for (i, e) in expect.iter_mut().enumerate() {
            let r = (rng.next_u64() as u8) & REGISTER_MAX;
            *e = r;
            dense_set(&mut regs, i, r);
        }
        for (i, &e) in expect.iter().enumerate() {
            let v = dense_get(&regs, i);
            if v != e {
                return Err(format!(
                    "TESTFAILED Register error, counter {i} should be {e} but is {v}"
                ));
            }
        }
    }
    let mut dense = create();
    sparse_to_dense(&mut dense).map_err(|_| "TESTFAILED dense conversion".to_string())?;
    let mut sparse = create();
    let relerr = 1.04 / (REGISTERS as f64).sqrt();
    let mut checkpoint: u64 = 1;
    let seed = rng.next_u64();
    for j in 1..=10_000_000u64 {
        let ele = (j ^ seed).to_le_bytes();
        let _ = add(&mut dense, &ele, sparse_max);
        add(&mut sparse, &ele, sparse_max).map_err(|_| "TESTFAILED corrupted".to_string())?;
        if j != checkpoint {
            continue;
        }
        if (j as usize) < sparse_max / 2 && sparse[4] != SPARSE {
            return Err("TESTFAILED sparse encoding not used".into());
        }
        let card = count(&dense).map_err(|_| "TESTFAILED corrupted".to_string())?;
        if count(&sparse).ok() != Some(card) {
            return Err("TESTFAILED dense/sparse disagree".into());
        }
        let abserr = (checkpoint as i64 - card as i64).unsigned_abs();
        let maxerr = if j == 10 {
            1
        } else {
            (relerr * 6.0 * checkpoint as f64).ceil() as u64
        };
        if abserr > maxerr {
            return Err(format!(
                "TESTFAILED Too big error. card:{checkpoint} abserr:{abserr}"
            ));
        }
        checkpoint *= 10;
    }
    Ok(())
}

/// hllMerge: max[i] = MAX(max[i], hll[i]).
pub fn merge(max: &mut [u8], hll: &[u8]) -> Result<(), Corrupt> {
    if hll[4] == DENSE {
        let regs = &hll[HDR_SIZE..];
        for (i, m) in max.iter_mut().enumerate().take(REGISTERS) {
            let v = dense_get(regs, i);
            if v > *m {
                *m = v;
            }
        }
        return Ok(());
    }
    let (mut i, mut p) = (0usize, HDR_SIZE);
    while p < hll.len() {
        let b = hll[p];
        if is_zero(b) {
            i += zero_len(b);
            p += 1;
        } else if is_xzero(b) {
            i += xzero_len(b, hll.get(p + 1).copied().unwrap_or(0));
            p += 2;
        } else {
            let (runlen, v) = (val_len(b), val_value(b));
            if runlen + i > REGISTERS {
                break;
            }
            for m in &mut max[i..i + runlen] {
                if v > *m {
                    *m = v;
                }
            }
            i += runlen;
            p += 1;
        }
    }
    if i != REGISTERS {
        return Err(Corrupt);
    }
    Ok(())
}

fn sigma(mut x: f64) -> f64 {
    if x == 1.0 {
        return f64::INFINITY;
    }
    let mut y = 1.0;
    let mut z = x;
    loop {
        x *= x;
        let zp = z;
        z += x * y;
        y += y;
        if zp == z {
            return z;
        }
    }
}

fn tau(mut x: f64) -> f64 {
    if x == 0.0 || x == 1.0 {
        return 0.0;
    }
    let mut y = 1.0;
    let mut z = 1.0 - x;
    loop {
        x = x.sqrt();
        let zp = z;
        y *= 0.5;
        z -= (1.0 - x) * (1.0 - x) * y;
        if zp == z {
            return z / 3.0;
        }
    }
}

/// The estimate from a register histogram (Ertl's estimator, as hllCount).
fn estimate(histo: &[u32; 64]) -> u64 {
    let m = REGISTERS as f64;
    let mut z = m * tau((m - histo[Q as usize + 1] as f64) / m);
    for j in (1..=Q as usize).rev() {
        z += histo[j] as f64;
        z *= 0.5;
    }
    z += m * sigma(histo[0] as f64 / m);
    (ALPHA_INF * m * m / z).round() as u64
}

/// hllCount for a dense or sparse HLL (Err when sparse and invalid).
pub fn count(hll: &[u8]) -> Result<u64, Corrupt> {
    let mut histo = [0u32; 64];
    if hll[4] == DENSE {
        let regs = &hll[HDR_SIZE..];
        for i in 0..REGISTERS {
            histo[dense_get(regs, i) as usize] += 1;
        }
    } else {
        let (mut idx, mut p) = (0usize, HDR_SIZE);
        while p < hll.len() {
            let b = hll[p];
            if is_zero(b) {
                let r = zero_len(b);
                idx += r;
                histo[0] += r as u32;
                p += 1;
            } else if is_xzero(b) {
                let r = xzero_len(b, hll.get(p + 1).copied().unwrap_or(0));
                idx += r;
                histo[0] += r as u32;
                p += 2;
            } else {
                let r = val_len(b);
                idx += r;
                histo[val_value(b) as usize] += r as u32;
                p += 1;
            }
        }
        if idx != REGISTERS {
            return Err(Corrupt);
        }
    }
    Ok(estimate(&histo))
}

/// hllCount over raw one-byte registers (PFCOUNT of several keys).
pub fn count_raw(max: &[u8]) -> u64 {
    let mut histo = [0u32; 64];
    for &v in max {
        histo[(v & 63) as usize] += 1;
    }
    estimate(&histo)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registers_roundtrip() {
        let mut regs = vec![0u8; DENSE_SIZE - HDR_SIZE];
        for i in 0..REGISTERS {
            dense_set(&mut regs, i, (i * 7 % 64) as u8);
        }
        for i in 0..REGISTERS {
            assert_eq!(dense_get(&regs, i), (i * 7 % 64) as u8);
        }
    }

    #[test]
    fn sparse_and_dense_agree() {
        let mut s = create();
        let mut d = create();
        to_dense(&mut d).expect("valid");
        for i in 0..5000u32 {
            let e = format!("ele:{i}");
            add(&mut s, e.as_bytes(), 3000).expect("valid");
            add(&mut d, e.as_bytes(), 3000).expect("valid");
        }
        assert_eq!(count(&s), count(&d));
        let c = count(&d).expect("valid");
        assert!((4800..5200).contains(&c), "{c}");
        assert_eq!(count(&create()), Ok(0));
    }
}
