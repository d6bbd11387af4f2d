//! List values (placeholder representation until the data-types work lands).
use crate::sds::Sds;
use std::collections::VecDeque;

#[derive(Clone, Default)]
pub struct List {
    pub items: VecDeque<Sds>,
}

impl List {
    pub fn len(&self) -> usize {
        self.items.len()
    }
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }
    pub fn mem_usage(&self) -> usize {
        self.len() * 48
    }
    pub fn encoding(&self) -> &'static str {
        "quicklist"
    }
}


