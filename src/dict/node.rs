//! A dict's chain node: ONE allocation holding the link to the next node,
//! the value, a small per-node field `M` (the keyspace's LRU/LFU stamp; `()`
//! elsewhere), the key's length and bytes, and optionally four more bytes
//! after the key (the keyspace's position in its cluster slot's index),
//! as Redis 7.2+ embeds keys. A keyspace entry of a 10-byte key is then 55
//! bytes (a 56-byte mimalloc block, a 64-byte glibc chunk), and a key of
//! any length costs no allocation of its own.
//!
//! Layout: `Head<V, M>` (`repr(C)`: link, value, field), then at
//! `key_offset()` (the end of the field, NOT the padded size of `Head`:
//! the head's tail padding is where the key starts) a length byte, the
//! key, and the tail. Nothing ever writes a whole `Head` after the node is
//! made (only its fields, through `Fields`), so the key bytes that overlap
//! the head's padding are never clobbered: this module hands out field
//! references, never `&mut Head`.
//!
//! `NodePtr` owns its node as a `Box` would (it drops the value and frees
//! the allocation); `Option<NodePtr>` is one pointer with None as null, so
//! a zeroed bucket array is all Nones.

use std::alloc::Layout;
use std::marker::PhantomData;
use std::ptr::NonNull;

/// The fixed part of a node.
#[repr(C)]
pub struct Head<V, M> {
    next: Option<NodePtr<V, M>>,
    val: V,
    meta: M,
}

/// An owned node (a thin pointer).
#[repr(transparent)]
pub struct NodePtr<V, M = ()> {
    ptr: NonNull<Head<V, M>>,
    _owns: PhantomData<Head<V, M>>,
}

// SAFETY: a NodePtr owns its node exactly as Box<Head<V, M>> would.
unsafe impl<V: Send, M: Send> Send for NodePtr<V, M> {}
// SAFETY: as above; shared access only reads.
unsafe impl<V: Sync, M: Sync> Sync for NodePtr<V, M> {}

/// The length byte: the key's length below `LONG`; `LONG` says 8 bytes of
/// length follow. Its top bit says a 4-byte tail follows the key.
const LONG: u8 = 0x7F;
const HAS_TAIL: u8 = 0x80;

#[inline]
fn prefix_len(klen: usize) -> usize {
    if klen < LONG as usize {
        1
    } else {
        9
    }
}

/// The value and field of one node, borrowed for writing.
pub struct Fields<'a, V, M> {
    pub val: &'a mut V,
    pub meta: &'a mut M,
    /// The 4-byte tail, when the node has one.
    pub tail: Option<&'a mut [u8; 4]>,
}

impl<V, M> NodePtr<V, M> {
    /// Where the length byte sits: right after the field.
    #[inline]
    const fn key_offset() -> usize {
        let val_end = 8 + std::mem::size_of::<V>();
        let a = std::mem::align_of::<M>();
        val_end.div_ceil(a) * a + std::mem::size_of::<M>()
    }

    #[inline]
    fn layout(klen: usize, tail: bool) -> Layout {
        let size = Self::key_offset() + prefix_len(klen) + klen + if tail { 4 } else { 0 };
        // At least the head's own size (its padding lies inside the key
        // bytes or past them); the size cannot overflow: `key` is live.
        Layout::from_size_align(
            size.max(std::mem::size_of::<Head<V, M>>()),
            std::mem::align_of::<Head<V, M>>(),
        )
        .expect("node layout within isize")
    }

    /// A detached node holding `key`, `val`, `meta` and, when given, a tail.
    pub fn new(key: &[u8], val: V, meta: M, tail: Option<u32>) -> Self {
        debug_assert!(std::mem::align_of::<V>() <= 8);
        let layout = Self::layout(key.len(), tail.is_some());
        // SAFETY: the layout is non-zero-sized (Head has a pointer).
        let raw = unsafe { std::alloc::alloc(layout) };
        let Some(ptr) = NonNull::new(raw as *mut Head<V, M>) else {
            std::alloc::handle_alloc_error(layout);
        };
        let flag = if tail.is_some() { HAS_TAIL } else { 0 };
        // SAFETY: `raw` is a fresh allocation of `layout`: the head fits at
        // its start (aligned); the length byte, key and tail after the
        // field are inside it. The head is written first: its padding is
        // then overwritten by the key bytes, never the other way round.
        unsafe {
            ptr.as_ptr().write(Head {
                next: None,
                val,
                meta,
            });
            let mut p = raw.add(Self::key_offset());
            if key.len() < LONG as usize {
                *p = key.len() as u8 | flag;
                p = p.add(1);
            } else {
                *p = LONG | flag;
                let n = (key.len() as u64).to_le_bytes();
                std::ptr::copy_nonoverlapping(n.as_ptr(), p.add(1), 8);
                p = p.add(9);
            }
            std::ptr::copy_nonoverlapping(key.as_ptr(), p, key.len());
            if let Some(t) = tail {
                std::ptr::copy_nonoverlapping(t.to_le_bytes().as_ptr(), p.add(key.len()), 4);
            }
        }
        NodePtr {
            ptr,
            _owns: PhantomData,
        }
    }

    #[inline]
    fn base(&self) -> *mut u8 {
        self.ptr.as_ptr() as *mut u8
    }

    /// (offset of the key bytes, key length, whether a tail follows).
    #[inline]
    fn key_info(&self) -> (usize, usize, bool) {
        let off = Self::key_offset();
        // SAFETY: `new` wrote the length byte (and long length) there.
        unsafe {
            let b = *self.base().add(off);
            let tail = b & HAS_TAIL != 0;
            if b & !HAS_TAIL != LONG {
                (off + 1, (b & !HAS_TAIL) as usize, tail)
            } else {
                let mut n = [0u8; 8];
                std::ptr::copy_nonoverlapping(self.base().add(off + 1), n.as_mut_ptr(), 8);
                (off + 9, u64::from_le_bytes(n) as usize, tail)
            }
        }
    }

    /// The key's bytes.
    #[inline]
    pub fn key(&self) -> &[u8] {
        let (off, len, _) = self.key_info();
        // SAFETY: `new` wrote `len` key bytes at `off`.
        unsafe { std::slice::from_raw_parts(self.base().add(off), len) }
    }

    #[inline]
    pub fn val(&self) -> &V {
        // SAFETY: the node is live while its owner exists.
        unsafe { &(*self.ptr.as_ptr()).val }
    }

    #[inline]
    pub fn meta(&self) -> &M {
        // SAFETY: as `val`.
        unsafe { &(*self.ptr.as_ptr()).meta }
    }

    /// The tail, when the node has one.
    pub fn tail(&self) -> Option<u32> {
        let (off, len, tail) = self.key_info();
        tail.then(|| {
            let mut t = [0u8; 4];
            // SAFETY: `new` wrote the 4 tail bytes after the key.
            unsafe { std::ptr::copy_nonoverlapping(self.base().add(off + len), t.as_mut_ptr(), 4) };
            u32::from_le_bytes(t)
        })
    }

    /// The value, the field and the tail, for writing (disjoint bytes).
    #[inline]
    pub fn fields(&mut self) -> Fields<'_, V, M> {
        let (off, len, tail) = self.key_info();
        let head = self.ptr.as_ptr();
        // SAFETY: unique ownership gives unique access; the three places
        // do not overlap (the tail lies past the key, past the field).
        unsafe {
            Fields {
                val: &mut (*head).val,
                meta: &mut (*head).meta,
                tail: tail.then(|| &mut *(self.base().add(off + len) as *mut [u8; 4])),
            }
        }
    }

    #[inline]
    pub fn val_mut(&mut self) -> &mut V {
        // SAFETY: unique ownership gives unique access to the field.
        unsafe { &mut (*self.ptr.as_ptr()).val }
    }

    #[inline]
    pub(super) fn next(&self) -> &Option<NodePtr<V, M>> {
        // SAFETY: as `val`.
        unsafe { &(*self.ptr.as_ptr()).next }
    }

    #[inline]
    pub(super) fn next_mut(&mut self) -> &mut Option<NodePtr<V, M>> {
        // SAFETY: as `val_mut`.
        unsafe { &mut (*self.ptr.as_ptr()).next }
    }

    /// The node's address, for cache prefetching.
    #[inline]
    pub fn addr(&self) -> *const u8 {
        self.base()
    }

    /// Takes the value and field out and frees the node (its `next` must be
    /// None or taken: a chain is never dropped through here).
    pub fn into_parts(self) -> (V, M) {
        let this = std::mem::ManuallyDrop::new(self);
        let (_, len, tail) = this.key_info();
        let layout = Self::layout(len, tail);
        // SAFETY: the node is live and owned; each field is read out once,
        // then the allocation is freed with the layout it was made with.
        unsafe {
            let head = this.ptr.as_ptr();
            drop(std::ptr::read(&(*head).next));
            let val = std::ptr::read(&(*head).val);
            let meta = std::ptr::read(&(*head).meta);
            std::alloc::dealloc(head as *mut u8, layout);
            (val, meta)
        }
    }

    /// Takes the value out and frees the node.
    pub fn into_val(self) -> V {
        self.into_parts().0
    }

    /// Bytes a node of a `klen`-byte key asks the allocator for.
    pub fn alloc_size(klen: usize) -> usize {
        Self::layout(klen, false).size()
    }
}

impl<V, M> Drop for NodePtr<V, M> {
    fn drop(&mut self) {
        let (_, len, tail) = self.key_info();
        let layout = Self::layout(len, tail);
        let head = self.ptr.as_ptr();
        // SAFETY: the node is live and owned; its fields (value, field and,
        // should one be left, the rest of the chain) are dropped in place,
        // never the head as a whole (its padding holds key bytes), then the
        // allocation is freed with the layout it was made with.
        unsafe {
            std::ptr::drop_in_place(&mut (*head).next);
            std::ptr::drop_in_place(&mut (*head).val);
            std::ptr::drop_in_place(&mut (*head).meta);
            std::alloc::dealloc(head as *mut u8, layout);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_of_every_length_class_round_trip() {
        for len in [0usize, 1, 10, 126, 127, 128, 255, 256, 70_000] {
            let key: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
            for tail in [None, Some(0xDEAD_BEEF)] {
                let mut n: NodePtr<u64, u32> = NodePtr::new(&key, len as u64, 7, tail);
                assert_eq!(n.key(), &key[..]);
                assert_eq!(*n.val(), len as u64);
                assert_eq!(*n.meta(), 7);
                assert_eq!(n.tail(), tail);
                let f = n.fields();
                *f.meta = 9;
                if let Some(t) = f.tail {
                    *t = 42u32.to_le_bytes();
                }
                assert_eq!(n.key(), &key[..], "field writes leave the key alone");
                assert_eq!(n.tail(), tail.map(|_| 42));
                assert_eq!(n.into_parts(), (len as u64, 9));
            }
        }
    }

    #[test]
    fn the_key_starts_in_the_head_padding() {
        // [u64; 4] value (a 32-byte `Value`) and a u32 field: the head is
        // 48 bytes padded, the key starts at 44.
        assert_eq!(NodePtr::<[u64; 4], u32>::key_offset(), 44);
        assert_eq!(NodePtr::<[u64; 4], u32>::alloc_size(10), 44 + 1 + 10);
        // A short key still allocates the whole head.
        assert_eq!(NodePtr::<[u64; 4], u32>::alloc_size(0), 48);
        // No field: the key follows the value.
        assert_eq!(NodePtr::<u64, ()>::alloc_size(10), 16 + 1 + 10);
    }

    #[test]
    fn a_none_link_is_a_null_pointer() {
        assert_eq!(std::mem::size_of::<Option<NodePtr<u64>>>(), 8);
        // SAFETY: checks that all-zero bytes are a None (zeroed tables).
        let none: Option<NodePtr<u64>> = unsafe { std::mem::zeroed() };
        assert!(none.is_none());
    }

    #[test]
    fn dropping_a_node_drops_its_value() {
        let rc = std::rc::Rc::new(());
        let n: NodePtr<_> = NodePtr::new(b"k", rc.clone(), (), None);
        assert_eq!(std::rc::Rc::strong_count(&rc), 2);
        drop(n);
        assert_eq!(std::rc::Rc::strong_count(&rc), 1);
    }
}
