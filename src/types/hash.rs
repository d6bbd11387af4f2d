//! Hash values (PLACEHOLDER representation; the API is the contract).
use super::Limits;
use crate::dict::Dict;
use crate::encoding::listpack::Listpack;
use crate::sds::Sds;
use std::borrow::Cow;

#[derive(Default, Clone)]
pub struct Hash {
    map: Dict<Sds>,
}

impl Hash {
    pub fn new() -> Hash {
        Hash::default()
    }
    pub fn len(&self) -> usize {
        self.map.len()
    }
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }
    /// "listpack" or "hashtable".
    pub fn encoding(&self) -> &'static str {
        "hashtable"
    }
    pub fn mem_usage(&self) -> usize {
        self.map
            .iter()
            .map(|(k, v)| 64 + k.heap_size() + v.heap_size())
            .sum()
    }
    pub fn get(&self, field: &[u8]) -> Option<Cow<'_, [u8]>> {
        self.map.get(field).map(|v| Cow::Borrowed(v.as_bytes()))
    }
    /// Sets a field; true when the field is new.
    pub fn set(&mut self, field: &[u8], value: &[u8], _lim: &Limits) -> bool {
        self.map.insert(Sds::new(field), Sds::new(value)).is_none()
    }
    /// (field, value) pairs in storage order.
    #[allow(clippy::type_complexity)]
    pub fn iter(&self) -> Box<dyn Iterator<Item = (Cow<'_, [u8]>, Cow<'_, [u8]>)> + '_> {
        Box::new(
            self.map
                .iter()
                .map(|(k, v)| (Cow::Borrowed(k.as_bytes()), Cow::Borrowed(v.as_bytes()))),
        )
    }
    /// The listpack blob when listpack-encoded (field, value, field, value...).
    pub fn as_listpack(&self) -> Option<&Listpack> {
        None
    }
    /// From an RDB listpack blob; converts when it exceeds the limits.
    pub fn from_listpack(lp: Listpack, lim: &Limits) -> Hash {
        let mut h = Hash::new();
        let items: Vec<Vec<u8>> = lp.iter().map(|v| v.to_vec()).collect();
        for p in items.chunks(2) {
            if p.len() == 2 {
                h.set(&p[0], &p[1], lim);
            }
        }
        h
    }
}
