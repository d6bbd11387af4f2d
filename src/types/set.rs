//! Set values (placeholder representation until the data-types work lands).
use crate::dict::Dict;

#[derive(Default, Clone)]
pub struct Set {
    pub map: Dict<()>,
}

impl Set {
    pub fn len(&self) -> usize {
        self.map.len()
    }
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }
    pub fn mem_usage(&self) -> usize {
        self.len() * 48
    }
    pub fn encoding(&self) -> &'static str {
        "hashtable"
    }
}


