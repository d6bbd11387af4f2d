//! List values as Redis 7.0's quicklist: a deque of listpack nodes, each
//! node bounded by `list-max-listpack-size` (negative: a byte budget of
//! 4KB..64KB, positive: an element count), and "plain" nodes holding one
//! element of at least the packed threshold (1 GB, or what DEBUG
//! QUICKLIST-PACKED-THRESHOLD set) as raw bytes. OBJECT ENCODING is always
//! "quicklist" (7.0 has no plain listpack lists). Node compression
//! (list-compress-depth) is not implemented.

use super::list_nodes::Nodes;
use super::Limits;
use crate::encoding::listpack::{self, Listpack, LpValue};
use std::borrow::Cow;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Redis's packed_threshold: a process global, as in quicklist.c.
static PACKED_THRESHOLD: AtomicUsize = AtomicUsize::new(1 << 30);

/// quicklistisSetPackedThreshold: 0 restores the default; values near or
/// above 4 GB are refused (false).
pub fn set_packed_threshold(sz: u64) -> bool {
    if sz > (1u64 << 32) - (1 << 20) {
        return false;
    }
    let sz = if sz == 0 { 1 << 30 } else { sz as usize };
    PACKED_THRESHOLD.store(sz, Ordering::Relaxed);
    true
}

#[cfg(test)]
thread_local! {
    /// A per-thread threshold for unit tests (the global is process-wide).
    static TEST_THRESHOLD: std::cell::Cell<Option<usize>> = const { std::cell::Cell::new(None) };
}

/// isLargeElement: such an element gets a plain node of its own.
fn is_large(sz: usize) -> bool {
    #[cfg(test)]
    if let Some(t) = TEST_THRESHOLD.with(|t| t.get()) {
        return sz >= t;
    }
    sz >= PACKED_THRESHOLD.load(Ordering::Relaxed)
}

/// A quicklist node: a listpack, or one large element as raw bytes.
#[derive(Clone)]
pub enum Node {
    Packed(Listpack),
    Plain(Box<[u8]>),
}

impl Node {
    fn plain(v: &[u8]) -> Node {
        Node::Plain(v.into())
    }

    fn packed_with(v: &[u8]) -> Node {
        let mut lp = Listpack::new();
        lp.push_back(v);
        Node::Packed(lp)
    }

    pub fn len(&self) -> usize {
        match self {
            Node::Packed(lp) => lp.len(),
            Node::Plain(_) => 1,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The node's payload bytes (a listpack's, or a plain element's).
    pub fn bytes_len(&self) -> usize {
        match self {
            Node::Packed(lp) => lp.bytes_len(),
            Node::Plain(b) => b.len(),
        }
    }

    fn get(&self, i: usize) -> Option<LpValue<'_>> {
        match self {
            Node::Packed(lp) => lp.get(i as isize),
            Node::Plain(b) => (i == 0).then_some(LpValue::Str(b)),
        }
    }

    pub fn iter(&self) -> NodeIter<'_> {
        match self {
            Node::Packed(lp) => NodeIter::Packed(lp.iter()),
            Node::Plain(b) => NodeIter::Plain(Some(b)),
        }
    }

    /// Removes `count` elements from `start` (a plain node empties).
    fn remove_range(&mut self, start: usize, count: usize) {
        match self {
            Node::Packed(lp) => lp.remove_range(start, count),
            Node::Plain(_) => {
                if start == 0 && count > 0 {
                    *self = Node::Packed(Listpack::new());
                }
            }
        }
    }

    /// The listpack, when this node is one that may take `sz` more bytes.
    fn packed_for(&mut self, fill: i64, sz: usize) -> Option<&mut Listpack> {
        match self {
            Node::Packed(lp) if allow_insert(lp, fill, sz) => Some(lp),
            _ => None,
        }
    }
}

/// Elements of a node, either kind.
pub enum NodeIter<'a> {
    Packed(listpack::Iter<'a>),
    Plain(Option<&'a [u8]>),
}

impl<'a> Iterator for NodeIter<'a> {
    type Item = LpValue<'a>;
    fn next(&mut self) -> Option<LpValue<'a>> {
        match self {
            NodeIter::Packed(it) => it.next(),
            NodeIter::Plain(b) => b.take().map(LpValue::Str),
        }
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        match self {
            NodeIter::Packed(it) => it.size_hint(),
            NodeIter::Plain(b) => (b.is_some() as usize, Some(b.is_some() as usize)),
        }
    }
}

impl ExactSizeIterator for NodeIter<'_> {}

impl DoubleEndedIterator for NodeIter<'_> {
    fn next_back(&mut self) -> Option<Self::Item> {
        match self {
            NodeIter::Packed(it) => it.next_back(),
            NodeIter::Plain(b) => b.take().map(LpValue::Str),
        }
    }
}

/// Byte budgets for fill -1..-5 (quicklist.c optimization_level).
const OPTIMIZATION_LEVEL: [usize; 5] = [4096, 8192, 16384, 32768, 65536];
/// A node never grows past this with a positive (count) fill.
const SIZE_SAFETY_LIMIT: usize = 8192;

/// A quicklist. 24 bytes: held inline by `db::Value`.
#[derive(Clone, Default)]
pub struct List {
    /// The nodes and the element count (`list_nodes`: element-count
    /// changes are recorded with `add_len` before the change).
    nodes: Nodes,
}

/// Redis 7.0 `_quicklistNodeAllowInsert`: may an element of `sz` bytes
/// join `node` under `fill`?
fn allow_insert(node: &Listpack, fill: i64, sz: usize) -> bool {
    let mut overhead = if sz < 254 { 1 } else { 5 };
    overhead += if sz < 64 {
        1
    } else if sz < 16384 {
        2
    } else {
        5
    };
    let new_sz = node.bytes_len() + sz + overhead;
    if fill < 0 {
        let off = (-fill - 1) as usize;
        if off < OPTIMIZATION_LEVEL.len() && new_sz <= OPTIMIZATION_LEVEL[off] {
            return true;
        }
    }
    if new_sz > SIZE_SAFETY_LIMIT {
        return false;
    }
    fill >= 0 && (node.len() as i64) < fill
}

/// Whether a node (after an in-place change) is over its budget and
/// should be split.
fn node_too_big(node: &Listpack, fill: i64) -> bool {
    if node.len() <= 1 {
        return false;
    }
    if fill < 0 {
        let off = ((-fill - 1) as usize).min(OPTIMIZATION_LEVEL.len() - 1);
        node.bytes_len() > OPTIMIZATION_LEVEL[off]
    } else {
        node.bytes_len() > SIZE_SAFETY_LIMIT || node.len() as i64 > fill.max(1)
    }
}

/// A listpack value as bytes without allocating for strings.
pub fn lp_cow(v: LpValue<'_>) -> Cow<'_, [u8]> {
    match v {
        LpValue::Str(s) => Cow::Borrowed(s),
        LpValue::Int(_) => Cow::Owned(v.to_vec()),
    }
}

impl List {
    pub fn new() -> List {
        List::default()
    }
    pub fn len(&self) -> usize {
        self.nodes.len()
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Number of quicklist nodes.
    pub fn node_count(&self) -> usize {
        self.nodes.count()
    }
    /// Redis 7.0 lists are always "quicklist".
    pub fn encoding(&self) -> &'static str {
        "quicklist"
    }
    pub fn push_back(&mut self, v: &[u8], lim: &Limits) {
        self.nodes.add_len(1);
        let fill = lim.list_max_listpack_size;
        if is_large(v.len()) {
            self.nodes.push_back(Node::plain(v));
        } else {
            match self
                .nodes
                .back_mut()
                .and_then(|n| n.packed_for(fill, v.len()))
            {
                Some(lp) => lp.push_back(v),
                None => self.nodes.push_back(Node::packed_with(v)),
            }
        }
    }
    pub fn push_front(&mut self, v: &[u8], lim: &Limits) {
        self.nodes.add_len(1);
        let fill = lim.list_max_listpack_size;
        if is_large(v.len()) {
            self.nodes.push_front(Node::plain(v));
        } else {
            match self
                .nodes
                .front_mut()
                .and_then(|n| n.packed_for(fill, v.len()))
            {
                Some(lp) => lp.push_front(v),
                None => self.nodes.push_front(Node::packed_with(v)),
            }
        }
    }
    /// Appends a node that keeps `v` as a plain node whatever its size
    /// (an RDB plain container: quicklistAppendPlainNode).
    pub fn push_back_plain(&mut self, v: &[u8]) {
        self.nodes.add_len(1);
        self.nodes.push_back(Node::plain(v));
    }
    pub fn pop_front(&mut self) -> Option<Vec<u8>> {
        let n = self.nodes.front_mut()?;
        let v = n.get(0)?.to_vec();
        n.remove_range(0, 1);
        if n.is_empty() {
            self.nodes.pop_front();
        }
        self.nodes.add_len(-1);
        Some(v)
    }
    pub fn pop_back(&mut self) -> Option<Vec<u8>> {
        let n = self.nodes.back_mut()?;
        let last = n.len().checked_sub(1)?;
        let v = n.get(last)?.to_vec();
        n.remove_range(last, 1);
        if n.is_empty() {
            self.nodes.pop_back();
        }
        self.nodes.add_len(-1);
        Some(v)
    }
    /// Elements from head to tail.
    pub fn iter(&self) -> Box<dyn Iterator<Item = Cow<'_, [u8]>> + '_> {
        Box::new(self.values().map(lp_cow))
    }

    /// Elements from head to tail as listpack values (no allocation);
    /// reversible for tail-first walks.
    pub fn values(&self) -> impl DoubleEndedIterator<Item = LpValue<'_>> + '_ {
        self.nodes.iter().flat_map(|n| n.iter())
    }

    /// Elements from index `start` (0-based, must be < len) towards the tail.
    pub fn values_from(&self, start: usize) -> impl Iterator<Item = LpValue<'_>> + '_ {
        let (ni, off) = self.locate(start).unwrap_or((self.nodes.count(), 0));
        self.nodes.iter().skip(ni).flat_map(|n| n.iter()).skip(off)
    }

    /// The quicklist nodes, head first (RDB save).
    pub fn nodes(&self) -> impl Iterator<Item = &Node> {
        self.nodes.iter()
    }

    /// (node index, index inside the node) of element `index`.
    fn locate(&self, index: usize) -> Option<(usize, usize)> {
        let len = self.len();
        if index >= len {
            return None;
        }
        if index < len / 2 {
            let mut i = index;
            for (ni, n) in self.nodes.iter().enumerate() {
                if i < n.len() {
                    return Some((ni, i));
                }
                i -= n.len();
            }
        } else {
            // Walk from the tail: distance from the end.
            let mut back = len - 1 - index;
            let mut ni = self.nodes.count();
            for n in self.nodes.iter().rev() {
                ni -= 1;
                if back < n.len() {
                    return Some((ni, n.len() - 1 - back));
                }
                back -= n.len();
            }
        }
        None
    }

    /// Redis-style index (negative counts from the tail) to a position.
    pub fn resolve(&self, index: i64) -> Option<usize> {
        let len = self.len();
        let i = if index < 0 { len as i64 + index } else { index };
        (i >= 0 && (i as usize) < len).then_some(i as usize)
    }

    /// Element at position `index` (0-based).
    pub fn get(&self, index: usize) -> Option<LpValue<'_>> {
        let (ni, off) = self.locate(index)?;
        self.nodes[ni].get(off)
    }

    /// Replaces element `index`; false when out of range. As Redis's
    /// quicklistReplaceEntry, a large value gets a plain node of its own and
    /// a small one replacing a plain node goes into a listpack.
    pub fn set(&mut self, index: usize, v: &[u8], lim: &Limits) -> bool {
        let Some((ni, off)) = self.locate(index) else {
            return false;
        };
        let fill = lim.list_max_listpack_size;
        let large = is_large(v.len());
        match &mut self.nodes[ni] {
            Node::Packed(lp) if !large => {
                lp.replace(off, v);
                self.split_if_needed(ni, fill);
            }
            Node::Plain(b) if large => *b = v.into(),
            Node::Plain(_) => {
                // Into the next node's head when it has room, else a node.
                match self
                    .nodes
                    .get_mut(ni + 1)
                    .and_then(|n| n.packed_for(fill, v.len()))
                {
                    Some(lp) => {
                        lp.push_front(v);
                        self.nodes.remove(ni);
                    }
                    None => self.nodes[ni] = Node::packed_with(v),
                }
            }
            Node::Packed(_) => {
                self.split_at(ni, off);
                let at = if off == 0 { ni } else { ni + 1 };
                self.nodes[at].remove_range(0, 1);
                if self.nodes[at].is_empty() {
                    self.nodes.remove(at);
                }
                self.nodes.insert(at, Node::plain(v));
            }
        }
        true
    }

    /// Splits packed node `ni` so that its element `off` starts a node
    /// (nothing to do at offset 0).
    fn split_at(&mut self, ni: usize, off: usize) {
        if off == 0 {
            return;
        }
        let Node::Packed(lp) = &mut self.nodes[ni] else {
            return;
        };
        let mut right = Listpack::new();
        for v in lp.iter().skip(off) {
            match v {
                LpValue::Int(i) => right.push_back_int(i),
                LpValue::Str(s) => right.push_back(s),
            }
        }
        let n = lp.len();
        lp.remove_range(off, n - off);
        self.nodes.insert(ni + 1, Node::Packed(right));
    }

    /// Inserts `v` so that it becomes element `index` (index == len appends).
    pub fn insert(&mut self, index: usize, v: &[u8], lim: &Limits) {
        if index == 0 {
            return self.push_front(v, lim);
        }
        if index >= self.len() {
            return self.push_back(v, lim);
        }
        let fill = lim.list_max_listpack_size;
        let Some((ni, off)) = self.locate(index) else {
            return;
        };
        self.nodes.add_len(1);
        if is_large(v.len()) {
            // A plain node between the two halves of the node.
            self.split_at(ni, off);
            let at = if off == 0 { ni } else { ni + 1 };
            self.nodes.insert(at, Node::plain(v));
        } else if let Some(lp) = (off == 0 && ni > 0)
            .then(|| self.nodes[ni - 1].packed_for(fill, v.len()))
            .flatten()
        {
            // At a node's head the previous node's tail is the same position.
            lp.push_back(v);
        } else if let Node::Packed(lp) = &mut self.nodes[ni] {
            lp.insert(off, v);
            self.split_if_needed(ni, fill);
        } else {
            // Before a plain node: a new listpack node.
            self.nodes.insert(ni, Node::packed_with(v));
        }
    }

    /// Splits an over-budget node in two halves (after LINSERT / LSET).
    fn split_if_needed(&mut self, ni: usize, fill: i64) {
        let Node::Packed(node) = &self.nodes[ni] else {
            return;
        };
        if !node_too_big(node, fill) {
            return;
        }
        self.split_at(ni, node.len() / 2);
        self.split_if_needed(ni + 1, fill);
        self.split_if_needed(ni, fill);
    }

    /// Removes `count` elements starting at `start` (clamped to the list).
    pub fn remove_range(&mut self, start: usize, count: usize) {
        let Some((mut ni, mut off)) = self.locate(start) else {
            return;
        };
        let mut left = count.min(self.len() - start);
        self.nodes.add_len(-(left as isize));
        while left > 0 && ni < self.nodes.count() {
            let n = &mut self.nodes[ni];
            let take = left.min(n.len() - off);
            if off == 0 && take == n.len() {
                self.nodes.remove(ni);
            } else {
                n.remove_range(off, take);
                ni += 1;
            }
            left -= take;
            off = 0;
        }
    }

    /// Removes the element at `index`.
    pub fn remove(&mut self, index: usize) {
        self.remove_range(index, 1);
    }

    /// LREM: removes up to `count` elements equal to `v` (0 = all;
    /// negative = from the tail). Returns how many were removed.
    pub fn remove_matching(&mut self, v: &[u8], count: i64) -> usize {
        let limit = if count == 0 {
            usize::MAX
        } else {
            count.unsigned_abs() as usize
        };
        let mut removed = 0;
        let from_tail = count < 0;
        let order: Vec<usize> = if from_tail {
            (0..self.nodes.count()).rev().collect()
        } else {
            (0..self.nodes.count()).collect()
        };
        for ni in order {
            if removed >= limit {
                break;
            }
            let node = &self.nodes[ni];
            let mut hits: Vec<usize> = Vec::new();
            if from_tail {
                for (i, e) in node.iter().enumerate().rev() {
                    if removed + hits.len() >= limit {
                        break;
                    }
                    if e.eq_bytes(v) {
                        hits.push(i);
                    }
                }
            } else {
                for (i, e) in node.iter().enumerate() {
                    if removed + hits.len() >= limit {
                        break;
                    }
                    if e.eq_bytes(v) {
                        hits.push(i);
                    }
                }
                hits.reverse();
            }
            // `hits` is in descending index order: removal keeps the rest valid.
            let node = &mut self.nodes[ni];
            for &i in &hits {
                node.remove_range(i, 1);
            }
            removed += hits.len();
        }
        self.nodes.add_len(-(removed as isize));
        self.nodes.retain(|n| !n.is_empty());
        removed
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::VecDeque;

    fn lim(fill: i64) -> Limits {
        Limits {
            list_max_listpack_size: fill,
            ..Limits::default()
        }
    }

    fn items(l: &List) -> Vec<Vec<u8>> {
        l.iter().map(|c| c.to_vec()).collect()
    }

    #[test]
    fn nodes_split_by_count_and_ops_keep_order() {
        let lm = lim(3);
        let mut l = List::new();
        let mut model: VecDeque<Vec<u8>> = VecDeque::new();
        for i in 0..20 {
            let v = format!("v{i}").into_bytes();
            if i % 3 == 0 {
                l.push_front(&v, &lm);
                model.push_front(v);
            } else {
                l.push_back(&v, &lm);
                model.push_back(v);
            }
        }
        assert!(l.nodes().all(|n| n.len() <= 3));
        assert_eq!(items(&l), Vec::from(model.clone()));
        l.insert(5, b"x", &lm);
        model.insert(5, b"x".to_vec());
        l.set(7, b"12345", &lm);
        model[7] = b"12345".to_vec();
        l.remove_range(2, 6);
        model.drain(2..8);
        assert_eq!(items(&l), Vec::from(model.clone()));
        assert_eq!(l.len(), model.len());
        assert!(l.nodes().all(|n| n.len() <= 3 && !n.is_empty()));
        assert_eq!(l.get(3).map(|v| v.to_vec()), Some(model[3].clone()));
        assert_eq!(l.values_from(4).count(), model.len() - 4);
    }

    #[test]
    fn random_ops_match_a_model_across_one_and_many_nodes() {
        // Lists move between one inline node and a deque of nodes; the
        // element count and order must survive every move.
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut rnd = move |n: usize| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed % n as u64) as usize
        };
        for fill in [1, 2, 3, -1] {
            let lm = lim(fill);
            let mut l = List::new();
            let mut model: VecDeque<Vec<u8>> = VecDeque::new();
            for step in 0..4000 {
                let v = format!("{}", rnd(5)).into_bytes();
                match rnd(9) {
                    0 | 1 => {
                        l.push_back(&v, &lm);
                        model.push_back(v);
                    }
                    2 => {
                        l.push_front(&v, &lm);
                        model.push_front(v);
                    }
                    3 => assert_eq!(l.pop_front(), model.pop_front()),
                    4 => assert_eq!(l.pop_back(), model.pop_back()),
                    5 => {
                        let i = rnd(model.len() + 1);
                        l.insert(i, &v, &lm);
                        model.insert(i, v);
                    }
                    6 if !model.is_empty() => {
                        let i = rnd(model.len());
                        assert!(l.set(i, &v, &lm));
                        model[i] = v;
                    }
                    7 if !model.is_empty() => {
                        let (i, n) = (rnd(model.len()), rnd(4));
                        l.remove_range(i, n);
                        model.drain(i..(i + n).min(model.len()));
                    }
                    _ => {
                        let n = l.remove_matching(&v, 1);
                        let hit = model.iter().position(|x| *x == v);
                        assert_eq!(n, hit.is_some() as usize);
                        if let Some(i) = hit {
                            model.remove(i);
                        }
                    }
                }
                assert_eq!(l.len(), model.len(), "fill {fill} step {step}");
                if step % 97 == 0 {
                    assert_eq!(items(&l), Vec::from(model.clone()));
                    assert!(l.nodes().all(|n| !n.is_empty()));
                }
            }
            assert_eq!(items(&l), Vec::from(model));
        }
    }

    #[test]
    fn byte_budget_and_lrem() {
        let lm = lim(-1);
        let mut l = List::new();
        for _ in 0..1000 {
            l.push_back(&[b'a'; 40], &lm);
            l.push_back(b"7", &lm);
        }
        assert!(l.nodes().count() > 5);
        assert!(l.nodes().all(|n| n.bytes_len() <= 4096));
        assert_eq!(l.remove_matching(b"7", -10), 10);
        assert_eq!(l.remove_matching(b"7", 0), 990);
        assert_eq!(l.len(), 1000);
        assert!(l.values().all(|v| v.to_vec() == vec![b'a'; 40]));
    }

    #[test]
    fn large_elements_get_plain_nodes() {
        TEST_THRESHOLD.with(|t| t.set(Some(10)));
        let lm = lim(-2);
        let big = |c: u8| vec![c; 12];
        let mut l = List::new();
        let mut model: Vec<Vec<u8>> = Vec::new();
        for (i, v) in [b"a".to_vec(), big(b'x'), b"b".to_vec(), big(b'y')]
            .into_iter()
            .enumerate()
        {
            if i % 2 == 0 {
                l.push_back(&v, &lm);
                model.push(v);
            } else {
                l.push_front(&v, &lm);
                model.insert(0, v);
            }
        }
        let plain = |l: &List| l.nodes().filter(|n| matches!(n, Node::Plain(_))).count();
        assert_eq!(plain(&l), 2);
        l.insert(3, &big(b'z'), &lm);
        model.insert(3, big(b'z'));
        l.set(1, &big(b'w'), &lm);
        model[1] = big(b'w');
        l.set(0, b"small", &lm);
        model[0] = b"small".to_vec();
        assert_eq!(items(&l), model);
        // w and z are plain; y was replaced by a small value.
        assert_eq!(plain(&l), 2);
        // A large value over a packed element splits its node around it.
        l.set(2, &big(b'v'), &lm);
        model[2] = big(b'v');
        assert_eq!(items(&l), model);
        assert_eq!(plain(&l), 3);
        assert!(l.nodes().all(|n| match n {
            Node::Plain(b) => b.len() >= 10,
            Node::Packed(lp) => lp.iter().all(|v| v.to_vec().len() < 10),
        }));
        assert_eq!(l.pop_back().as_deref(), Some(&b"b"[..]));
        assert_eq!(l.remove_matching(&big(b'z'), 0), 1);
        l.remove_range(0, 2);
        model.pop();
        model.retain(|v| *v != big(b'z'));
        model.drain(0..2);
        assert_eq!(items(&l), model);
        assert_eq!(l.len(), model.len());
        TEST_THRESHOLD.with(|t| t.set(None));
        // 0 restores the default; 4 GB and more are refused.
        assert!(set_packed_threshold(0));
        assert!(!set_packed_threshold(1 << 32));
        assert_eq!(PACKED_THRESHOLD.load(Ordering::Relaxed), 1 << 30);
    }
}
