//! Set values (PLACEHOLDER representation; the API is the contract).
use super::Limits;
use crate::dict::Dict;
use crate::encoding::intset::Intset;
use crate::sds::Sds;
use std::borrow::Cow;

#[derive(Default, Clone)]
pub struct Set {
    map: Dict<()>,
}

impl Set {
    pub fn new() -> Set {
        Set::default()
    }
    pub fn len(&self) -> usize {
        self.map.len()
    }
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }
    /// "intset" or "hashtable" (Redis 7.0 has no listpack sets).
    pub fn encoding(&self) -> &'static str {
        "hashtable"
    }
    pub fn mem_usage(&self) -> usize {
        self.map.iter().map(|(k, _)| 40 + k.heap_size()).sum()
    }
    /// Adds a member; true when it is new.
    pub fn add(&mut self, member: &[u8], _lim: &Limits) -> bool {
        self.map.insert(Sds::new(member), ()).is_none()
    }
    pub fn contains(&self, member: &[u8]) -> bool {
        self.map.contains_key(member)
    }
    pub fn iter(&self) -> Box<dyn Iterator<Item = Cow<'_, [u8]>> + '_> {
        Box::new(self.map.iter().map(|(k, _)| Cow::Borrowed(k.as_bytes())))
    }
    pub fn as_intset(&self) -> Option<&Intset> {
        None
    }
    /// From an RDB intset blob; converts when it exceeds the limits.
    pub fn from_intset(is: Intset, lim: &Limits) -> Set {
        let mut s = Set::new();
        for v in is.iter() {
            s.add(v.to_string().as_bytes(), lim);
        }
        s
    }
}
