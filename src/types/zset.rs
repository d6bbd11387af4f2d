//! Sorted set values, as Redis's t_zset.c data layer: a listpack of
//! (member, score) pairs in (score, member) order while small, else a
//! skiplist (ranks, ranges) plus an index of its nodes by member (where
//! Redis keeps a dict of member -> score; `member_index.rs`).
//!
//! Ranks are 0-based and ascending everywhere in this API; the commands map
//! reverse ranks onto them. Range queries are expressed as rank intervals
//! `start..end` so that both encodings answer them the same way.

use super::member_index::MemberIndex;
use super::skiplist::SkipList;
use super::Limits;
use crate::dict::hash_bytes;
use crate::encoding::listpack::{Listpack, LpValue, MAX_SAFETY_SIZE};
use crate::encoding::numbers::{d2string, string2d};
use std::borrow::Cow;
use std::cmp::Ordering;

/// A score interval (Redis's zrangespec).
#[derive(Clone, Copy, Debug)]
pub struct ScoreRange {
    pub min: f64,
    pub max: f64,
    pub minex: bool,
    pub maxex: bool,
}

/// One end of a lexicographic interval (Redis's zlexrangespec items).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LexBound {
    NegInf,
    PosInf,
    Incl(Vec<u8>),
    Excl(Vec<u8>),
}

#[derive(Clone, Debug)]
pub struct LexRange {
    pub min: LexBound,
    pub max: LexBound,
}

impl ScoreRange {
    /// Elements strictly below the interval's start.
    fn below_min(&self, s: f64) -> bool {
        if self.minex {
            s <= self.min
        } else {
            s < self.min
        }
    }
    /// Elements not beyond the interval's end.
    fn within_max(&self, s: f64) -> bool {
        if self.maxex {
            s < self.max
        } else {
            s <= self.max
        }
    }
}

impl LexRange {
    fn below_min(&self, e: &[u8]) -> bool {
        match &self.min {
            LexBound::NegInf => false,
            LexBound::PosInf => true,
            LexBound::Incl(m) => e < &m[..],
            LexBound::Excl(m) => e <= &m[..],
        }
    }
    fn within_max(&self, e: &[u8]) -> bool {
        match &self.max {
            LexBound::NegInf => false,
            LexBound::PosInf => true,
            LexBound::Incl(m) => e <= &m[..],
            LexBound::Excl(m) => e < &m[..],
        }
    }
}

/// A skiplist-encoded set: the skiplist's nodes hold member and score;
/// the index finds a member's node (Redis's dict of member -> score).
#[derive(Clone, Default)]
struct Sl {
    index: MemberIndex,
    zsl: SkipList,
}

/// The index's hash of a member.
#[inline]
fn member_hash(member: &[u8]) -> u32 {
    hash_bytes(member) as u32
}

impl Sl {
    /// The node holding `member` (hash `h`).
    #[inline]
    fn find(&self, h: u32, member: &[u8]) -> Option<u32> {
        let zsl = &self.zsl;
        self.index.find(h, |n| {
            zsl.node(n as usize).is_some_and(|(m, _)| m == member)
        })
    }

    fn score(&self, member: &[u8]) -> Option<f64> {
        let n = self.find(member_hash(member), member)?;
        self.zsl.node(n as usize).map(|(_, s)| s)
    }

    /// After deletes: trims the arena, and renumbers a sparse one (see
    /// `SkipList::renumber`), the index following.
    fn after_delete(&mut self) {
        self.zsl.trim();
        if self.zsl.sparse() {
            let r = self.zsl.renumber();
            self.index.remap(|n| r.map(n));
        }
    }

    /// Adds a member known to be absent (hash `h`).
    fn insert_new(&mut self, h: u32, member: &[u8], score: f64) {
        let n = self.zsl.insert(score, member);
        self.index.insert(h, n);
        debug_assert_eq!(self.index.len(), self.zsl.len());
    }

    /// Removes a member; returns its score when it was there.
    fn remove(&mut self, member: &[u8]) -> Option<f64> {
        let zsl = &self.zsl;
        let n = self.index.remove(member_hash(member), |n| {
            zsl.node(n as usize).is_some_and(|(m, _)| m == member)
        })?;
        let score = zsl.node(n as usize)?.1;
        self.zsl.delete(score, member);
        debug_assert_eq!(self.index.len(), self.zsl.len());
        self.after_delete();
        Some(score)
    }
}

#[derive(Clone)]
enum Repr {
    Lp(Listpack),
    Sl(Box<Sl>),
}

#[derive(Clone)]
pub struct ZSet {
    repr: Repr,
}

impl Default for ZSet {
    fn default() -> Self {
        ZSet::new()
    }
}

impl ZSet {
    /// Buckets Redis's dict would have for a skiplist zset of this size
    /// (None: listpack), for MEMORY USAGE's estimate: a dict doubles when
    /// full, so it is the power of two at or above the length (at least 4).
    pub fn dict_buckets(&self) -> Option<usize> {
        match &self.repr {
            Repr::Sl(sl) => Some(sl.zsl.len().next_power_of_two().max(4)),
            Repr::Lp(_) => None,
        }
    }

    /// DEBUG HTSTATS-KEY text of a skiplist zset's index (None: listpack).
    pub fn dict_stats(&self) -> Option<String> {
        match &self.repr {
            Repr::Sl(sl) => Some(sl.index.stats()),
            Repr::Lp(_) => None,
        }
    }
}

/// A listpack score entry as a double (zzlGetScore).
fn lp_score(v: LpValue<'_>) -> f64 {
    match v {
        LpValue::Int(i) => i as f64,
        LpValue::Str(s) => string2d(s).unwrap_or(0.0),
    }
}

fn lp_member(v: LpValue<'_>) -> Cow<'_, [u8]> {
    match v {
        LpValue::Int(i) => Cow::Owned(i.to_string().into_bytes()),
        LpValue::Str(s) => Cow::Borrowed(s),
    }
}

/// Orders a listpack member against bytes (integers compare as decimal text).
fn lp_cmp_member(v: LpValue<'_>, b: &[u8]) -> Ordering {
    match v {
        LpValue::Str(s) => s.cmp(b),
        LpValue::Int(i) => {
            let mut buf = [0u8; 20];
            crate::encoding::numbers::ll2string(i, &mut buf).cmp(b)
        }
    }
}

/// Iterator over listpack pairs from a pair index, either direction.
struct LpPairs<'a> {
    lp: &'a Listpack,
    off: Option<usize>,
    remaining: usize,
    rev: bool,
}

impl<'a> Iterator for LpPairs<'a> {
    type Item = (Cow<'a, [u8]>, f64);
    fn next(&mut self) -> Option<Self::Item> {
        if self.remaining == 0 {
            return None;
        }
        self.remaining -= 1;
        let m_off = self.off?;
        let s_off = self.lp.next_offset(m_off)?;
        let m = lp_member(self.lp.value_at(m_off)?);
        let s = lp_score(self.lp.value_at(s_off)?);
        self.off = if self.rev {
            self.lp
                .prev_offset(m_off)
                .and_then(|o| self.lp.prev_offset(o))
        } else {
            self.lp.next_offset(s_off)
        };
        Some((m, s))
    }
}

impl ZSet {
    pub fn new() -> ZSet {
        ZSet {
            repr: Repr::Lp(Listpack::new()),
        }
    }

    /// An empty skiplist-encoded set (ZUNIONSTORE builds into one).
    pub fn new_skiplist() -> ZSet {
        ZSet {
            repr: Repr::Sl(Box::default()),
        }
    }

    pub fn len(&self) -> usize {
        match &self.repr {
            Repr::Lp(lp) => lp.len() / 2,
            Repr::Sl(s) => s.zsl.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// "listpack" or "skiplist".
    pub fn encoding(&self) -> &'static str {
        match &self.repr {
            Repr::Lp(_) => "listpack",
            Repr::Sl(_) => "skiplist",
        }
    }

    pub fn mem_usage(&self) -> usize {
        match &self.repr {
            Repr::Lp(lp) => lp.bytes_len(),
            Repr::Sl(s) => s.zsl.mem_usage() + s.index.heap_bytes(),
        }
    }

    fn lp_pairs(lp: &Listpack, pair: usize, rev: bool, n: usize) -> LpPairs<'_> {
        LpPairs {
            lp,
            off: lp.seek(pair * 2),
            remaining: n,
            rev,
        }
    }

    /// Pair index and score of a member in a listpack.
    fn lp_find(lp: &Listpack, member: &[u8]) -> Option<(usize, f64)> {
        let mut it = lp.iter();
        let mut i = 0;
        while let Some(m) = it.next() {
            let s = it.next()?;
            if m.eq_bytes(member) {
                return Some((i, lp_score(s)));
            }
            i += 1;
        }
        None
    }

    /// Adds or updates a member's score, converting to a skiplist when the
    /// listpack limits would be exceeded (zsetAdd's conversion rule).
    pub fn insert(&mut self, member: &[u8], score: f64, lim: &Limits) {
        // Every caller refuses NaN first, with Redis's error; one reaching
        // the skiplist would mark its node free (`SkipList::node`).
        debug_assert!(!score.is_nan());
        let score = if score.is_nan() { 0.0 } else { score };
        if let Repr::Lp(lp) = &mut self.repr {
            if let Some((i, old)) = Self::lp_find(lp, member) {
                if old == score {
                    return;
                }
                lp.remove_range(i * 2, 2);
                Self::lp_insert(lp, member, score);
                return;
            }
            if lp.len() / 2 + 1 > lim.zset_max_listpack_entries
                || member.len() > lim.zset_max_listpack_value
                || !lp.safe_to_add(member.len())
            {
                self.convert_to_skiplist();
            } else {
                Self::lp_insert(lp, member, score);
                return;
            }
        }
        if let Repr::Sl(s) = &mut self.repr {
            let h = member_hash(member);
            match s.find(h, member) {
                Some(n) => {
                    let old = s.zsl.node(n as usize).map_or(score, |(_, sc)| sc);
                    if old != score {
                        s.zsl.update_score(old, member, score);
                    }
                }
                None => s.insert_new(h, member, score),
            }
        }
    }

    /// Inserts a new pair at its ordered position (zzlInsert).
    fn lp_insert(lp: &mut Listpack, member: &[u8], score: f64) {
        let mut it = lp.iter();
        let mut i = 0;
        while let Some(m) = it.next() {
            let Some(s) = it.next() else { break };
            let s = lp_score(s);
            if s > score || (s == score && lp_cmp_member(m, member) == Ordering::Greater) {
                break;
            }
            i += 1;
        }
        let sc = d2string(score);
        if i * 2 >= lp.len() {
            lp.push_back(member);
            lp.push_back(sc.as_bytes());
        } else {
            lp.insert(i * 2, member);
            lp.insert(i * 2 + 1, sc.as_bytes());
        }
    }

    /// Forces the skiplist encoding (SORT does this to its input, as Redis).
    pub fn convert_to_skiplist(&mut self) {
        if let Repr::Lp(lp) = &self.repr {
            let mut s = Sl::default();
            for (m, sc) in Self::lp_pairs(lp, 0, false, lp.len() / 2) {
                s.insert_new(member_hash(&m), &m, sc);
            }
            self.repr = Repr::Sl(Box::new(s));
        }
    }

    /// Back to a listpack when small enough (zsetConvertToListpackIfNeeded).
    pub fn convert_to_listpack_if_needed(&mut self, lim: &Limits) {
        let Repr::Sl(s) = &self.repr else { return };
        if s.zsl.len() > lim.zset_max_listpack_entries {
            return;
        }
        let mut maxlen = 0;
        let mut total = 0usize;
        for (m, _) in s.zsl.iter() {
            maxlen = maxlen.max(m.len());
            total += m.len();
        }
        if maxlen > lim.zset_max_listpack_value || total > MAX_SAFETY_SIZE {
            return;
        }
        let mut lp = Listpack::new();
        for (m, sc) in s.zsl.iter() {
            lp.push_back(m);
            lp.push_back(d2string(sc).as_bytes());
        }
        self.repr = Repr::Lp(lp);
    }

    pub fn score(&self, member: &[u8]) -> Option<f64> {
        match &self.repr {
            Repr::Lp(lp) => Self::lp_find(lp, member).map(|x| x.1),
            Repr::Sl(s) => s.score(member),
        }
    }

    /// Removes a member; true when it existed.
    pub fn remove(&mut self, member: &[u8]) -> bool {
        match &mut self.repr {
            Repr::Lp(lp) => match Self::lp_find(lp, member) {
                Some((i, _)) => {
                    lp.remove_range(i * 2, 2);
                    true
                }
                None => false,
            },
            Repr::Sl(s) => s.remove(member).is_some(),
        }
    }

    /// Ascending 0-based rank of a member.
    pub fn rank(&self, member: &[u8]) -> Option<usize> {
        match &self.repr {
            Repr::Lp(lp) => Self::lp_find(lp, member).map(|x| x.0),
            Repr::Sl(s) => {
                let score = s.score(member)?;
                s.zsl.rank(score, member)
            }
        }
    }

    /// Elements of ascending ranks `start..end`, yielded in descending
    /// order when `rev`.
    pub fn range(
        &self,
        start: usize,
        end: usize,
        rev: bool,
    ) -> Box<dyn Iterator<Item = (Cow<'_, [u8]>, f64)> + '_> {
        let end = end.min(self.len());
        if start >= end {
            return Box::new(std::iter::empty());
        }
        let first = if rev { end - 1 } else { start };
        match &self.repr {
            Repr::Lp(lp) => Box::new(Self::lp_pairs(lp, first, rev, end - start)),
            Repr::Sl(s) => Box::new(
                s.zsl
                    .iter_from(first, rev)
                    .take(end - start)
                    .map(|(m, sc)| (Cow::Borrowed(m), sc)),
            ),
        }
    }

    /// Number of leading elements satisfying a prefix predicate.
    fn count_while(&self, pred: impl Fn(f64, &[u8]) -> bool) -> usize {
        match &self.repr {
            Repr::Lp(lp) => Self::lp_pairs(lp, 0, false, lp.len() / 2)
                .take_while(|(m, s)| pred(*s, m))
                .count(),
            Repr::Sl(s) => s.zsl.count_while(pred),
        }
    }

    /// The ascending rank interval `start..end` of a score range.
    pub fn score_ranks(&self, r: &ScoreRange) -> (usize, usize) {
        if r.min > r.max || (r.min == r.max && (r.minex || r.maxex)) {
            return (0, 0);
        }
        let start = self.count_while(|s, _| r.below_min(s));
        let end = self.count_while(|s, _| r.within_max(s));
        (start, end.max(start))
    }

    /// The ascending rank interval `start..end` of a lex range.
    pub fn lex_ranks(&self, r: &LexRange) -> (usize, usize) {
        let start = self.count_while(|_, m| r.below_min(m));
        let end = self.count_while(|_, m| r.within_max(m));
        (start, end.max(start))
    }

    /// Removes ascending ranks `start..end`; returns how many went.
    pub fn remove_ranks(&mut self, start: usize, end: usize) -> usize {
        let end = end.min(self.len());
        if start >= end {
            return 0;
        }
        match &mut self.repr {
            Repr::Lp(lp) => {
                lp.remove_range(start * 2, (end - start) * 2);
                end - start
            }
            Repr::Sl(s) => {
                let index = &mut s.index;
                let n = s.zsl.delete_range_by_rank(start, end, |m, node| {
                    index.remove(member_hash(m), |n| n == node);
                });
                s.after_delete();
                n
            }
        }
    }

    /// One SCAN step over a skiplist set (None for a listpack, which is
    /// returned whole): Redis's dict scan over the member index, calling
    /// `f` per member; returns the cursor.
    pub fn scan_dict(&self, cursor: u64, mut f: impl FnMut(&[u8], f64)) -> Option<u64> {
        match &self.repr {
            Repr::Lp(_) => None,
            Repr::Sl(s) => Some(s.index.scan(cursor, |n| {
                if let Some((m, sc)) = s.zsl.node(n as usize) {
                    f(m, sc)
                }
            })),
        }
    }

    /// (member, score) in ascending (score, member) order.
    pub fn iter(&self) -> Box<dyn Iterator<Item = (Cow<'_, [u8]>, f64)> + '_> {
        self.range(0, self.len(), false)
    }

    /// The listpack blob when listpack-encoded (member, score, member, score...).
    pub fn as_listpack(&self) -> Option<&Listpack> {
        match &self.repr {
            Repr::Lp(lp) => Some(lp),
            Repr::Sl(_) => None,
        }
    }

    /// From an RDB listpack blob; converts when it exceeds the limits.
    /// A blob that is not a valid sorted-set listpack (odd count, unsorted,
    /// bad scores, duplicates) is rebuilt by insertion instead of trusted.
    pub fn from_listpack(lp: Listpack, lim: &Limits) -> ZSet {
        if Self::lp_well_formed(&lp)
            && lp.len() / 2 <= lim.zset_max_listpack_entries
            && lp
                .iter()
                .step_by(2)
                .all(|m| m.to_vec().len() <= lim.zset_max_listpack_value)
        {
            return ZSet { repr: Repr::Lp(lp) };
        }
        let mut z = ZSet::new();
        let mut it = lp.iter();
        while let (Some(m), Some(s)) = (it.next(), it.next()) {
            let sc = lp_score(s);
            if !sc.is_nan() {
                z.insert(&m.to_vec(), sc, lim);
            }
        }
        z
    }

    fn lp_well_formed(lp: &Listpack) -> bool {
        if !lp.len().is_multiple_of(2) {
            return false;
        }
        let mut prev: Option<(f64, Vec<u8>)> = None;
        let mut it = lp.iter();
        while let (Some(m), Some(s)) = (it.next(), it.next()) {
            if let LpValue::Str(t) = s {
                if string2d(t).is_none_or(|v| v.is_nan()) {
                    return false;
                }
            }
            let cur = (lp_score(s), m.to_vec());
            if let Some(p) = &prev {
                if p.0 > cur.0 || (p.0 == cur.0 && p.1 >= cur.1) {
                    return false;
                }
            }
            prev = Some(cur);
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lim(entries: usize) -> Limits {
        Limits {
            zset_max_listpack_entries: entries,
            ..Limits::default()
        }
    }

    #[test]
    fn both_encodings_agree() {
        for entries in [0usize, 1000] {
            let l = lim(entries);
            let mut z = ZSet::new();
            for i in 0..300i64 {
                let m = format!("m{}", (i * 37) % 101);
                z.insert(m.as_bytes(), ((i * 13) % 17) as f64 + 0.5, &l);
            }
            assert_eq!(
                z.encoding(),
                if entries == 0 { "skiplist" } else { "listpack" }
            );
            let all: Vec<(Vec<u8>, f64)> = z.iter().map(|(m, s)| (m.to_vec(), s)).collect();
            assert_eq!(all.len(), 101);
            for w in all.windows(2) {
                assert!(w[0].1 < w[1].1 || (w[0].1 == w[1].1 && w[0].0 < w[1].0));
            }
            for (r, (m, s)) in all.iter().enumerate() {
                assert_eq!(z.rank(m), Some(r));
                assert_eq!(z.score(m), Some(*s));
            }
            let rev: Vec<Vec<u8>> = z.range(10, 20, true).map(|x| x.0.to_vec()).collect();
            let fwd: Vec<Vec<u8>> = all[10..20].iter().rev().map(|x| x.0.clone()).collect();
            assert_eq!(rev, fwd);
            let r = ScoreRange {
                min: 3.5,
                max: 7.5,
                minex: true,
                maxex: false,
            };
            let (a, b) = z.score_ranks(&r);
            let want = all.iter().filter(|x| x.1 > 3.5 && x.1 <= 7.5).count();
            assert_eq!(b - a, want);
            assert_eq!(z.remove_ranks(a, b), want);
            assert_eq!(z.len(), 101 - want);
            assert!(z.remove(b"m0") || z.score(b"m0").is_none());
        }
    }

    #[test]
    fn skiplist_gives_memory_back_after_deletions() {
        let l = lim(0);
        let mut z = ZSet::new();
        for i in 0..20_000i64 {
            z.insert(format!("m{i}").as_bytes(), (i % 1000) as f64, &l);
        }
        let full = z.mem_usage();
        // Delete most members one by one (every 7th stays), then a range.
        for i in 0..20_000i64 {
            if i % 7 != 0 {
                assert!(z.remove(format!("m{i}").as_bytes()));
            }
        }
        assert_eq!(z.remove_ranks(0, 1000), 1000);
        let left = z.len();
        assert_eq!(left, 20_000 / 7 + 1 - 1000);
        // Score changes and lookups still agree with the order.
        for i in (0..20_000i64).step_by(49) {
            let m = format!("m{i}");
            if z.score(m.as_bytes()).is_some() {
                z.insert(m.as_bytes(), -(i as f64), &l);
            }
        }
        let all: Vec<(Vec<u8>, f64)> = z.iter().map(|(m, s)| (m.to_vec(), s)).collect();
        assert_eq!(all.len(), left);
        for (r, (m, s)) in all.iter().enumerate() {
            assert_eq!(z.score(m), Some(*s));
            assert_eq!(z.rank(m), Some(r));
        }
        for w in all.windows(2) {
            assert!(w[0].1 < w[1].1 || (w[0].1 == w[1].1 && w[0].0 < w[1].0));
        }
        // A full SCAN returns every member once.
        let mut seen = std::collections::HashSet::new();
        let mut cursor = 0;
        loop {
            cursor = z
                .scan_dict(cursor, |m, _| assert!(seen.insert(m.to_vec())))
                .expect("skiplist");
            if cursor == 0 {
                break;
            }
        }
        assert_eq!(seen.len(), left);
        assert!(
            z.mem_usage() * 3 < full,
            "{} of {full} bytes kept: {}",
            z.mem_usage(),
            match &z.repr {
                Repr::Sl(s) => format!("{:?} {}", s.index.slots(), s.zsl.debug_sizes()),
                _ => String::new(),
            }
        );
    }

    #[test]
    fn listpack_scores_like_redis() {
        let mut z = ZSet::new();
        let l = Limits::default();
        z.insert(b"a", 1.0, &l);
        z.insert(b"b", 1.5, &l);
        z.insert(b"12", f64::INFINITY, &l);
        let lp = z.as_listpack().expect("listpack");
        let items: Vec<Vec<u8>> = lp.iter().map(|v| v.to_vec()).collect();
        assert_eq!(
            items,
            vec![
                b"a".to_vec(),
                b"1".to_vec(),
                b"b".to_vec(),
                b"1.5".to_vec(),
                b"12".to_vec(),
                b"inf".to_vec()
            ]
        );
        let z2 = ZSet::from_listpack(lp.clone(), &l);
        assert_eq!(z2.encoding(), "listpack");
        assert_eq!(z2.score(b"12"), Some(f64::INFINITY));
    }
}
