//! The node sequence of a quicklist (`List`), sized for the common case.
//!
//! Most lists are short and fit one listpack node. Such a list holds that
//! node directly (24 bytes, inside `db::Value`); only a list of two or more
//! nodes boxes a deque (with the element count, which a single node knows
//! from its own header). A 10-element list thus costs its key's entry and
//! one listpack, not also a list header and a deque buffer (80 bytes a key
//! with glibc).
//!
//! The API is the subset of `VecDeque` that `List` uses. Element counts are
//! `List`'s business: it adjusts them with `add_len` *before* a change, so
//! that a change which turns one node into a deque counts the elements from
//! the nodes themselves and nothing twice.

use super::list::Node;
use crate::encoding::listpack::Listpack;
use std::collections::VecDeque;

#[derive(Clone)]
pub enum Nodes {
    /// Zero nodes (an empty listpack) or exactly one.
    One(Node),
    Many(Box<Deque>),
}

#[derive(Clone)]
pub struct Deque {
    nodes: VecDeque<Node>,
    /// Elements in all nodes.
    len: usize,
}

const _: () = assert!(std::mem::size_of::<Nodes>() == 24);

impl Default for Nodes {
    fn default() -> Self {
        Nodes::One(Node::Packed(Listpack::new()))
    }
}

impl Nodes {
    /// Elements in all nodes.
    pub fn len(&self) -> usize {
        match self {
            Nodes::One(n) => n.len(),
            Nodes::Many(d) => d.len,
        }
    }

    /// Records `delta` more (or fewer) elements, ahead of the change that
    /// adds (removes) them.
    pub fn add_len(&mut self, delta: isize) {
        if let Nodes::Many(d) = self {
            d.len = d.len.wrapping_add_signed(delta);
        }
    }

    /// Number of nodes.
    pub fn count(&self) -> usize {
        match self {
            Nodes::One(n) if n.is_empty() => 0,
            Nodes::One(_) => 1,
            Nodes::Many(d) => d.nodes.len(),
        }
    }

    fn as_slices(&self) -> (&[Node], &[Node]) {
        match self {
            Nodes::One(n) if n.is_empty() => (&[], &[]),
            Nodes::One(n) => (std::slice::from_ref(n), &[]),
            Nodes::Many(d) => d.nodes.as_slices(),
        }
    }

    /// The nodes, head first.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = &Node> + '_ {
        let (a, b) = self.as_slices();
        a.iter().chain(b.iter())
    }

    pub fn get(&self, i: usize) -> Option<&Node> {
        match self {
            Nodes::One(n) => (i == 0 && !n.is_empty()).then_some(n),
            Nodes::Many(d) => d.nodes.get(i),
        }
    }

    pub fn get_mut(&mut self, i: usize) -> Option<&mut Node> {
        match self {
            Nodes::One(n) => (i == 0 && !n.is_empty()).then_some(n),
            Nodes::Many(d) => d.nodes.get_mut(i),
        }
    }

    pub fn front_mut(&mut self) -> Option<&mut Node> {
        self.get_mut(0)
    }

    pub fn back_mut(&mut self) -> Option<&mut Node> {
        let last = self.count().checked_sub(1)?;
        self.get_mut(last)
    }

    /// Inserts `node` at position `i` (0..=count).
    pub fn insert(&mut self, i: usize, node: Node) {
        match self {
            Nodes::One(n) if n.is_empty() => *n = node,
            Nodes::One(_) => {
                let Nodes::One(old) = std::mem::take(self) else {
                    unreachable!("matched One above")
                };
                let len = old.len() + node.len();
                let mut nodes = VecDeque::with_capacity(2);
                nodes.push_back(old);
                nodes.insert(i.min(1), node);
                *self = Nodes::Many(Box::new(Deque { nodes, len }));
            }
            Nodes::Many(d) => d.nodes.insert(i, node),
        }
    }

    pub fn push_back(&mut self, node: Node) {
        self.insert(self.count(), node);
    }

    pub fn push_front(&mut self, node: Node) {
        self.insert(0, node);
    }

    /// Removes node `i` (the caller has taken its elements off the count).
    pub fn remove(&mut self, i: usize) -> Option<Node> {
        let node = match self {
            Nodes::One(n) if i == 0 && !n.is_empty() => {
                return Some(std::mem::replace(n, Node::Packed(Listpack::new())));
            }
            Nodes::One(_) => return None,
            Nodes::Many(d) => d.nodes.remove(i)?,
        };
        self.demote();
        Some(node)
    }

    pub fn pop_front(&mut self) -> Option<Node> {
        self.remove(0)
    }

    pub fn pop_back(&mut self) -> Option<Node> {
        self.remove(self.count().checked_sub(1)?)
    }

    /// Keeps the nodes for which `f` is true.
    pub fn retain(&mut self, mut f: impl FnMut(&Node) -> bool) {
        match self {
            Nodes::One(n) => {
                if !n.is_empty() && !f(n) {
                    *n = Node::Packed(Listpack::new());
                }
            }
            Nodes::Many(d) => {
                d.nodes.retain(|n| f(n));
                self.demote();
            }
        }
    }

    /// A deque left with at most one node becomes `One` again.
    fn demote(&mut self) {
        if let Nodes::Many(d) = self {
            if d.nodes.len() <= 1 {
                let node = d.nodes.pop_front().unwrap_or(Node::Packed(Listpack::new()));
                *self = Nodes::One(node);
            }
        }
    }
}

impl std::ops::Index<usize> for Nodes {
    type Output = Node;
    fn index(&self, i: usize) -> &Node {
        self.get(i).expect("quicklist node index in range")
    }
}

impl std::ops::IndexMut<usize> for Nodes {
    fn index_mut(&mut self, i: usize) -> &mut Node {
        self.get_mut(i).expect("quicklist node index in range")
    }
}
