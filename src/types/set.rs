//! Set values: an intset while every member is an integer (string2ll
//! rules) and there are at most `set-max-intset-entries` members, else a
//! hash table (`set_table.rs`: members in the slots of an open-addressed
//! table). Conversion never goes back, as Redis 7.0's t_set.c.

use super::set_table::SetTable;
use super::Limits;
use crate::encoding::intset::Intset;
use crate::encoding::numbers::{i64_to_vec, string2ll};
use crate::sds::Sds;
use std::borrow::Cow;

#[derive(Clone)]
pub enum Set {
    Intset(Intset),
    /// Boxed so that the common intset case stays small.
    Table(Box<SetTable>),
}

impl Default for Set {
    fn default() -> Self {
        Set::Intset(Intset::new())
    }
}

impl Set {
    /// An empty set (intset: the first non-integer add converts it, which
    /// is what Redis's setTypeCreate decides up front).
    pub fn new() -> Set {
        Set::default()
    }
    /// An empty hash-table set (Redis's createSetObject).
    pub fn new_table() -> Set {
        Set::Table(Box::default())
    }
    /// An empty set about to receive `n` members (RDB load): a table sized
    /// for them when they cannot all fit an intset, as rdbLoadObject's
    /// dictTryExpand. A length read from a file is not trusted for more
    /// than 1Mi members up front; a bigger set grows as it loads.
    pub fn with_capacity(n: usize, lim: &Limits) -> Set {
        if n <= lim.set_max_intset_entries {
            return Set::new();
        }
        let mut t = SetTable::default();
        t.reserve(n.min(1 << 20));
        Set::Table(Box::new(t))
    }
    pub fn len(&self) -> usize {
        match self {
            Set::Intset(is) => is.len(),
            Set::Table(d) => d.len(),
        }
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// "intset" or "hashtable" (Redis 7.0 has no listpack sets).
    pub fn encoding(&self) -> &'static str {
        match self {
            Set::Intset(_) => "intset",
            Set::Table(_) => "hashtable",
        }
    }
    fn convert(&mut self) {
        if let Set::Intset(is) = self {
            let mut d = SetTable::default();
            d.reserve(is.len() + 1);
            for v in is.iter() {
                d.add_new(Sds::from_i64(v));
            }
            *self = Set::Table(Box::new(d));
        }
    }
    /// Adds a member; true when it is new.
    pub fn add(&mut self, member: &[u8], lim: &Limits) -> bool {
        if let Set::Intset(is) = self {
            if let Some(v) = string2ll(member) {
                if !is.add(v) {
                    return false;
                }
                if is.len() > lim.set_max_intset_entries {
                    self.convert();
                }
                return true;
            }
            self.convert();
        }
        match self {
            Set::Table(d) => d.add(member),
            Set::Intset(_) => false,
        }
    }
    /// Removes a member; true when it existed.
    pub fn remove(&mut self, member: &[u8]) -> bool {
        match self {
            Set::Intset(is) => string2ll(member).is_some_and(|v| is.remove(v)),
            Set::Table(d) => d.remove(member),
        }
    }
    pub fn contains(&self, member: &[u8]) -> bool {
        match self {
            Set::Intset(is) => string2ll(member).is_some_and(|v| is.contains(v)),
            Set::Table(d) => d.contains(member),
        }
    }
    pub fn iter(&self) -> Box<dyn Iterator<Item = Cow<'_, [u8]>> + '_> {
        match self {
            Set::Intset(is) => Box::new(is.iter().map(|v| Cow::Owned(i64_to_vec(v)))),
            Set::Table(d) => Box::new(d.iter().map(Cow::Borrowed)),
        }
    }
    /// A random member, each with the same chance (Redis's
    /// setTypeRandomElement; a draining table may move some entries);
    /// `rnd` supplies randomness.
    pub fn random(&mut self, mut rnd: impl FnMut() -> u64) -> Option<Cow<'_, [u8]>> {
        match self {
            Set::Intset(is) => is.random(rnd()).map(|v| Cow::Owned(i64_to_vec(v))),
            Set::Table(d) => d.random(rnd).map(Cow::Borrowed),
        }
    }
    /// Removes and returns a random member.
    pub fn pop_random(&mut self, rnd: impl FnMut() -> u64) -> Option<Vec<u8>> {
        match self {
            Set::Table(d) => d.pop_random(rnd).map(|m| m.as_bytes().to_vec()),
            Set::Intset(_) => {
                let m = self.random(rnd)?.into_owned();
                self.remove(&m);
                Some(m)
            }
        }
    }
    /// The table of a hashtable-encoded set (SSCAN, DEBUG HTSTATS-KEY).
    pub fn as_table(&self) -> Option<&SetTable> {
        match self {
            Set::Table(d) => Some(d),
            Set::Intset(_) => None,
        }
    }
    pub fn as_intset(&self) -> Option<&Intset> {
        match self {
            Set::Intset(is) => Some(is),
            Set::Table(_) => None,
        }
    }
    /// From an RDB intset blob; converts when it exceeds the limits.
    pub fn from_intset(is: Intset, lim: &Limits) -> Set {
        let mut s = Set::Intset(is);
        if s.len() > lim.set_max_intset_entries {
            s.convert();
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intset_then_table() {
        let lim = Limits {
            set_max_intset_entries: 3,
            ..Limits::default()
        };
        let mut s = Set::new();
        assert!(s.add(b"1", &lim));
        assert!(!s.add(b"1", &lim));
        assert!(s.add(b"-5", &lim));
        assert_eq!(s.encoding(), "intset");
        assert!(s.contains(b"-5"));
        assert!(!s.contains(b"01"));
        assert!(s.add(b"01", &lim));
        assert_eq!(s.encoding(), "hashtable");
        assert!(s.contains(b"1") && s.contains(b"01"));
        let mut t = Set::new();
        for i in 0..4 {
            t.add(i.to_string().as_bytes(), &lim);
        }
        assert_eq!(t.encoding(), "hashtable");
        assert!(t.remove(b"2"));
        assert_eq!(t.len(), 3);
        let mut n = 0u64;
        let m = t
            .pop_random(|| {
                n += 1;
                n
            })
            .unwrap_or_default();
        assert!(!t.contains(&m));
        assert_eq!(t.len(), 2);
    }
}
