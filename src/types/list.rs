//! List values (PLACEHOLDER representation; the API is the contract).
use super::Limits;
use crate::sds::Sds;
use std::borrow::Cow;
use std::collections::VecDeque;

#[derive(Clone, Default)]
pub struct List {
    items: VecDeque<Sds>,
}

impl List {
    pub fn new() -> List {
        List::default()
    }
    pub fn len(&self) -> usize {
        self.items.len()
    }
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }
    /// Redis 7.0 lists are always "quicklist".
    pub fn encoding(&self) -> &'static str {
        "quicklist"
    }
    pub fn mem_usage(&self) -> usize {
        self.items.iter().map(|s| 24 + s.heap_size()).sum()
    }
    pub fn push_back(&mut self, v: &[u8], _lim: &Limits) {
        self.items.push_back(Sds::new(v));
    }
    pub fn push_front(&mut self, v: &[u8], _lim: &Limits) {
        self.items.push_front(Sds::new(v));
    }
    pub fn pop_front(&mut self) -> Option<Vec<u8>> {
        self.items.pop_front().map(|s| s.into_vec())
    }
    pub fn pop_back(&mut self) -> Option<Vec<u8>> {
        self.items.pop_back().map(|s| s.into_vec())
    }
    /// Elements from head to tail.
    pub fn iter(&self) -> Box<dyn Iterator<Item = Cow<'_, [u8]>> + '_> {
        Box::new(self.items.iter().map(|s| Cow::Borrowed(s.as_bytes())))
    }
}
