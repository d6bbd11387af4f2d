//! Redis's partial quicksort (pqsort.c: NetBSD's Bentley-McIlroy qsort
//! that only recurses into the parts overlapping a wanted index range).
//! GEORADIUS/GEOSEARCH with COUNT order their results with it, so ties
//! (equal distances) come out in the same order as in Redis only when the
//! same algorithm moves the same elements: that is why this is not
//! `select_nth_unstable`.

use std::cmp::Ordering;

/// Sorts `v` enough that positions `lrange..=rrange` hold what a full sort
/// would put there, moving elements exactly as Redis's `pqsort` does.
/// `cmp` returns Less/Equal/Greater like a C comparator's sign.
pub fn pqsort<T>(v: &mut [T], cmp: &impl Fn(&T, &T) -> Ordering, lrange: usize, rrange: usize) {
    if v.is_empty() {
        return;
    }
    sort_part(v, 0, v.len(), cmp, lrange, rrange);
}

/// True when elements `base..base+n` overlap `l..=r`.
fn overlaps(base: usize, n: usize, l: usize, r: usize) -> bool {
    !((l < base && r < base) || (l >= base + n && r >= base + n))
}

fn med3<T>(v: &[T], a: usize, b: usize, c: usize, cmp: &impl Fn(&T, &T) -> Ordering) -> usize {
    let lt = |x: usize, y: usize| cmp(&v[x], &v[y]) == Ordering::Less;
    let gt = |x: usize, y: usize| cmp(&v[x], &v[y]) == Ordering::Greater;
    if lt(a, b) {
        if lt(b, c) {
            b
        } else if lt(a, c) {
            c
        } else {
            a
        }
    } else if gt(b, c) {
        b
    } else if lt(a, c) {
        a
    } else {
        c
    }
}

fn insertion_sort<T>(v: &mut [T], base: usize, n: usize, cmp: &impl Fn(&T, &T) -> Ordering) {
    for pm in base + 1..base + n {
        let mut pl = pm;
        while pl > base && cmp(&v[pl - 1], &v[pl]) == Ordering::Greater {
            v.swap(pl, pl - 1);
            pl -= 1;
        }
    }
}

fn vecswap<T>(v: &mut [T], a: usize, b: usize, n: usize) {
    for i in 0..n {
        v.swap(a + i, b + i);
    }
}

fn sort_part<T>(
    v: &mut [T],
    mut base: usize,
    mut n: usize,
    cmp: &impl Fn(&T, &T) -> Ordering,
    l: usize,
    r: usize,
) {
    loop {
        if n < 7 {
            insertion_sort(v, base, n, cmp);
            return;
        }
        let mut pm = base + n / 2;
        if n > 7 {
            let mut pl = base;
            let mut pn = base + n - 1;
            if n > 40 {
                let d = n / 8;
                pl = med3(v, pl, pl + d, pl + 2 * d, cmp);
                pm = med3(v, pm - d, pm, pm + d, cmp);
                pn = med3(v, pn - 2 * d, pn - d, pn, cmp);
            }
            pm = med3(v, pl, pm, pn, cmp);
        }
        v.swap(base, pm);
        let (mut pa, mut pb) = (base + 1, base + 1);
        let (mut pc, mut pd) = (base + n - 1, base + n - 1);
        let mut swapped = false;
        loop {
            while pb <= pc {
                let c = cmp(&v[pb], &v[base]);
                if c == Ordering::Greater {
                    break;
                }
                if c == Ordering::Equal {
                    swapped = true;
                    v.swap(pa, pb);
                    pa += 1;
                }
                pb += 1;
            }
            while pb <= pc {
                let c = cmp(&v[pc], &v[base]);
                if c == Ordering::Less {
                    break;
                }
                if c == Ordering::Equal {
                    swapped = true;
                    v.swap(pc, pd);
                    pd -= 1;
                }
                pc -= 1;
            }
            if pb > pc {
                break;
            }
            v.swap(pb, pc);
            swapped = true;
            pb += 1;
            pc -= 1;
        }
        if !swapped {
            insertion_sort(v, base, n, cmp);
            return;
        }
        let pn = base + n;
        let k = (pa - base).min(pb - pa);
        vecswap(v, base, pb - k, k);
        let k = (pd - pc).min(pn - pd - 1);
        vecswap(v, pb, pn - k, k);
        let k = pb - pa;
        if k > 1 && overlaps(base, k, l, r) {
            sort_part(v, base, k, cmp, l, r);
        }
        let k = pd - pc;
        if k > 1 {
            base = pn - k;
            n = k;
            if overlaps(base, n, l, r) {
                continue;
            }
        }
        return;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sorts_the_wanted_range() {
        let mut seed = 12345u64;
        for len in [0usize, 1, 5, 7, 8, 41, 100, 1000] {
            let data: Vec<u32> = (0..len)
                .map(|_| {
                    seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1);
                    (seed >> 40) as u32 % 50
                })
                .collect();
            let mut sorted = data.clone();
            sorted.sort();
            for (l, r) in [(0, 0), (0, 9), (3, 20)] {
                if len == 0 || r >= len {
                    continue;
                }
                let mut v = data.clone();
                pqsort(&mut v, &|a: &u32, b: &u32| a.cmp(b), l, r);
                assert_eq!(&v[l..=r], &sorted[l..=r], "len {len} range {l}..={r}");
            }
        }
    }
}
