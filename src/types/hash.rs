//! Hash values: a listpack of field,value pairs while small (at most
//! `hash-max-listpack-entries` fields, every field and value at most
//! `hash-max-listpack-value` bytes), else a hash table. Conversion happens
//! when a threshold is crossed and never back, as Redis's t_hash.c.

use super::list::lp_cow;
use super::Limits;
use crate::dict::Dict;
use crate::encoding::listpack::Listpack;
use crate::sds::Sds;
use std::borrow::Cow;

/// A (field, value) pair, borrowed when stored as bytes.
pub type Pair<'a> = (Cow<'a, [u8]>, Cow<'a, [u8]>);

#[derive(Clone)]
pub enum Hash {
    Listpack(Listpack),
    /// Boxed so that the common listpack case stays small.
    Table(Box<Dict<Sds>>),
}

impl Default for Hash {
    fn default() -> Self {
        Hash::Listpack(Listpack::new())
    }
}

impl Hash {
    pub fn new() -> Hash {
        Hash::default()
    }
    pub fn len(&self) -> usize {
        match self {
            Hash::Listpack(lp) => lp.len() / 2,
            Hash::Table(d) => d.len(),
        }
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// "listpack" or "hashtable".
    pub fn encoding(&self) -> &'static str {
        match self {
            Hash::Listpack(_) => "listpack",
            Hash::Table(_) => "hashtable",
        }
    }
    /// Index of `field` in the listpack (the field's element index).
    fn lp_find(lp: &Listpack, field: &[u8]) -> Option<usize> {
        lp.find(field, 1)
    }
    pub fn get(&self, field: &[u8]) -> Option<Cow<'_, [u8]>> {
        match self {
            Hash::Listpack(lp) => {
                let i = Self::lp_find(lp, field)?;
                lp.get(i as isize + 1).map(lp_cow)
            }
            Hash::Table(d) => d.get(field).map(|v| Cow::Borrowed(v.as_bytes())),
        }
    }
    pub fn contains(&self, field: &[u8]) -> bool {
        match self {
            Hash::Listpack(lp) => Self::lp_find(lp, field).is_some(),
            Hash::Table(d) => d.contains_key(field),
        }
    }
    /// Converts a listpack to a table when `field`/`value` would be too long
    /// (Redis's hashTypeTryConversion).
    pub fn try_conversion(&mut self, lens: impl IntoIterator<Item = usize>, lim: &Limits) {
        if matches!(self, Hash::Listpack(_))
            && lens.into_iter().any(|l| l > lim.hash_max_listpack_value)
        {
            self.convert();
        }
    }
    /// Listpack to hash table (never the other way).
    pub fn convert(&mut self) {
        if let Hash::Listpack(lp) = self {
            let mut d: Dict<Sds> = Dict::new();
            let mut it = lp.iter();
            while let (Some(f), Some(v)) = (it.next(), it.next()) {
                d.insert(&lp_cow(f), Sds::from_vec(v.to_vec()));
            }
            *self = Hash::Table(Box::new(d));
        }
    }
    /// Sets a field; true when the field is new.
    pub fn set(&mut self, field: &[u8], value: &[u8], lim: &Limits) -> bool {
        self.try_conversion([field.len(), value.len()], lim);
        match self {
            Hash::Listpack(lp) => {
                if let Some(i) = Self::lp_find(lp, field) {
                    lp.replace(i + 1, value);
                    return false;
                }
                lp.push_back(field);
                lp.push_back(value);
                if lp.len() / 2 > lim.hash_max_listpack_entries {
                    self.convert();
                }
                true
            }
            Hash::Table(d) => {
                if let Some(v) = d.get_mut(field) {
                    *v = Sds::new(value);
                    false
                } else {
                    d.insert_new(field, Sds::new(value));
                    true
                }
            }
        }
    }
    /// Drops a listpack's growth slack (after a command's inserts): many
    /// small hashes must not each carry spare capacity.
    pub fn shrink(&mut self) {
        if let Hash::Listpack(lp) = self {
            lp.shrink_to_fit();
        }
    }
    /// Removes a field; true when it existed.
    pub fn remove(&mut self, field: &[u8]) -> bool {
        match self {
            Hash::Listpack(lp) => match Self::lp_find(lp, field) {
                Some(i) => {
                    lp.remove_range(i, 2);
                    true
                }
                None => false,
            },
            Hash::Table(d) => {
                let found = d.remove(field).is_some();
                if found {
                    d.shrink_if_needed();
                }
                found
            }
        }
    }
    /// (field, value) pairs in storage order.
    pub fn iter(&self) -> Box<dyn Iterator<Item = Pair<'_>> + '_> {
        match self {
            Hash::Listpack(lp) => {
                let mut it = lp.iter();
                Box::new(std::iter::from_fn(move || {
                    let f = it.next()?;
                    let v = it.next()?;
                    Some((lp_cow(f), lp_cow(v)))
                }))
            }
            Hash::Table(d) => Box::new(
                d.iter()
                    .map(|(k, v)| (Cow::Borrowed(k), Cow::Borrowed(v.as_bytes()))),
            ),
        }
    }
    /// The pair at position `i` of a listpack-encoded hash.
    pub fn lp_pair(&self, i: usize) -> Option<Pair<'_>> {
        match self {
            Hash::Listpack(lp) => {
                let f = lp.get(2 * i as isize)?;
                let v = lp.get(2 * i as isize + 1)?;
                Some((lp_cow(f), lp_cow(v)))
            }
            Hash::Table(_) => None,
        }
    }
    /// A random (field, value), each with a fair chance (Redis's
    /// hashTypeRandomElement: dictGetFairRandomKey); `rnd` supplies randomness.
    pub fn random(&mut self, mut rnd: impl FnMut() -> u64) -> Option<Pair<'_>> {
        match self {
            Hash::Listpack(_) => {
                let n = self.len() as u64;
                if n == 0 {
                    return None;
                }
                self.lp_pair((rnd() % n) as usize)
            }
            Hash::Table(d) => d
                .fair_random(rnd)
                .map(|(k, v)| (Cow::Borrowed(k), Cow::Borrowed(v.as_bytes()))),
        }
    }
    /// The table of a hashtable-encoded hash (HSCAN).
    pub fn as_dict(&self) -> Option<&Dict<Sds>> {
        match self {
            Hash::Table(d) => Some(d),
            Hash::Listpack(_) => None,
        }
    }
    /// The listpack blob when listpack-encoded (field, value, field, value...).
    pub fn as_listpack(&self) -> Option<&Listpack> {
        match self {
            Hash::Listpack(lp) => Some(lp),
            Hash::Table(_) => None,
        }
    }
    /// From an RDB listpack blob; converts when it exceeds the limits.
    pub fn from_listpack(lp: Listpack, lim: &Limits) -> Hash {
        let too_big = lp.len() / 2 > lim.hash_max_listpack_entries
            || lp.iter().any(|v| match v {
                crate::encoding::listpack::LpValue::Str(s) => s.len() > lim.hash_max_listpack_value,
                crate::encoding::listpack::LpValue::Int(_) => false,
            });
        let mut h = Hash::Listpack(lp);
        if too_big {
            h.convert();
        }
        h
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn converts_on_thresholds() {
        let lim = Limits {
            hash_max_listpack_entries: 4,
            hash_max_listpack_value: 8,
            ..Limits::default()
        };
        let mut h = Hash::new();
        for i in 0..4 {
            assert!(h.set(format!("f{i}").as_bytes(), b"v", &lim));
        }
        assert_eq!(h.encoding(), "listpack");
        assert!(!h.set(b"f1", b"12", &lim));
        assert_eq!(h.get(b"f1").as_deref(), Some(&b"12"[..]));
        assert!(h.set(b"f9", b"v", &lim));
        assert_eq!(h.encoding(), "hashtable");
        assert_eq!(h.len(), 5);
        assert!(h.remove(b"f9"));
        assert_eq!(h.encoding(), "hashtable");
        let mut h2 = Hash::new();
        h2.set(b"f", b"123456789", &lim);
        assert_eq!(h2.encoding(), "hashtable");
        let mut h3 = Hash::new();
        h3.set(b"a", b"1", &lim);
        h3.set(b"b", b"2", &lim);
        assert!(h3.remove(b"a"));
        let pairs: Vec<_> = h3.iter().map(|(f, v)| (f.to_vec(), v.to_vec())).collect();
        assert_eq!(pairs, vec![(b"b".to_vec(), b"2".to_vec())]);
    }
}
