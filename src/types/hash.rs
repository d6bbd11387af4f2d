//! Hash values (placeholder representation until the data-types work lands).
use crate::dict::Dict;
use crate::sds::Sds;

#[derive(Default, Clone)]
pub struct Hash {
    pub map: Dict<Sds>,
}

impl Hash {
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


