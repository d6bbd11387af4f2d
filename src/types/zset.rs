//! Sorted set values (PLACEHOLDER representation; the API is the contract).
use super::Limits;
use crate::dict::Dict;
use crate::encoding::listpack::Listpack;
use crate::sds::Sds;
use std::borrow::Cow;

#[derive(Default, Clone)]
pub struct ZSet {
    map: Dict<f64>,
}

impl ZSet {
    pub fn new() -> ZSet {
        ZSet::default()
    }
    pub fn len(&self) -> usize {
        self.map.len()
    }
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }
    /// "listpack" or "skiplist".
    pub fn encoding(&self) -> &'static str {
        "skiplist"
    }
    pub fn mem_usage(&self) -> usize {
        self.map.iter().map(|(k, _)| 64 + k.heap_size()).sum()
    }
    /// Adds or updates a member's score.
    pub fn insert(&mut self, member: &[u8], score: f64, _lim: &Limits) {
        self.map.insert(Sds::new(member), score);
    }
    pub fn score(&self, member: &[u8]) -> Option<f64> {
        self.map.get(member).copied()
    }
    /// (member, score) in ascending (score, member) order.
    pub fn iter(&self) -> Box<dyn Iterator<Item = (Cow<'_, [u8]>, f64)> + '_> {
        let mut v: Vec<(&Sds, f64)> = self.map.iter().map(|(k, s)| (k, *s)).collect();
        v.sort_by(|a, b| a.1.total_cmp(&b.1).then_with(|| a.0.cmp(b.0)));
        Box::new(v.into_iter().map(|(k, s)| (Cow::Borrowed(k.as_bytes()), s)))
    }
    /// The listpack blob when listpack-encoded (member, score, member, score...).
    pub fn as_listpack(&self) -> Option<&Listpack> {
        None
    }
    /// From an RDB listpack blob; converts when it exceeds the limits.
    pub fn from_listpack(lp: Listpack, lim: &Limits) -> ZSet {
        let mut z = ZSet::new();
        let items: Vec<Vec<u8>> = lp.iter().map(|v| v.to_vec()).collect();
        for p in items.chunks(2) {
            if p.len() == 2 {
                let s = std::str::from_utf8(&p[1])
                    .ok()
                    .and_then(|s| s.parse().ok())
                    .unwrap_or(0.0);
                z.insert(&p[0], s, lim);
            }
        }
        z
    }
}
