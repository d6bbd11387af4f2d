//! A dict's chain node: ONE allocation holding the link to the next node,
//! the value, and the key's bytes after them (a length prefix, then the
//! bytes), as Redis 7.2+ embeds keys. A keyspace entry of a 10-byte key is
//! then a 64-byte malloc chunk where a node holding an `Sds` beside the
//! value took 80 (glibc adds 8 bytes and rounds to 16), and a key of any
//! length costs no allocation of its own.
//!
//! `NodePtr` owns its node as a `Box` would (it drops the value and frees
//! the allocation); `Option<NodePtr>` is one pointer with None as null, so
//! a zeroed bucket array is all Nones.

use std::alloc::Layout;
use std::marker::PhantomData;
use std::ptr::NonNull;

/// The fixed part of a node; the key's length prefix and bytes follow it.
#[repr(C)]
pub struct Head<V> {
    pub(super) next: Option<NodePtr<V>>,
    pub val: V,
}

/// An owned node (a thin pointer).
#[repr(transparent)]
pub struct NodePtr<V> {
    ptr: NonNull<Head<V>>,
    _owns: PhantomData<Head<V>>,
}

// SAFETY: a NodePtr owns its node exactly as Box<Head<V>> would.
unsafe impl<V: Send> Send for NodePtr<V> {}
// SAFETY: as above; shared access only reads.
unsafe impl<V: Sync> Sync for NodePtr<V> {}

/// Key lengths below this take one prefix byte; longer ones the marker
/// byte and 8 bytes of length.
const LONG: u8 = 0xFF;

#[inline]
fn prefix_len(klen: usize) -> usize {
    if klen < LONG as usize {
        1
    } else {
        9
    }
}

impl<V> NodePtr<V> {
    #[inline]
    fn layout(klen: usize) -> Layout {
        let size = std::mem::size_of::<Head<V>>() + prefix_len(klen) + klen;
        // The size cannot overflow isize: `key` is a live slice.
        Layout::from_size_align(size, std::mem::align_of::<Head<V>>())
            .expect("node layout within isize")
    }

    /// A detached node holding `key` and `val`.
    pub fn new(key: &[u8], val: V) -> Self {
        let layout = Self::layout(key.len());
        // SAFETY: the layout is non-zero-sized (Head has a pointer).
        let raw = unsafe { std::alloc::alloc(layout) };
        let Some(ptr) = NonNull::new(raw as *mut Head<V>) else {
            std::alloc::handle_alloc_error(layout);
        };
        // SAFETY: `raw` is a fresh allocation of `layout`: the head fits
        // at its start (aligned), the prefix and key bytes after it.
        unsafe {
            ptr.as_ptr().write(Head { next: None, val });
            let mut p = raw.add(std::mem::size_of::<Head<V>>());
            if key.len() < LONG as usize {
                *p = key.len() as u8;
                p = p.add(1);
            } else {
                *p = LONG;
                std::ptr::copy_nonoverlapping(
                    (key.len() as u64).to_le_bytes().as_ptr(),
                    p.add(1),
                    8,
                );
                p = p.add(9);
            }
            std::ptr::copy_nonoverlapping(key.as_ptr(), p, key.len());
        }
        NodePtr {
            ptr,
            _owns: PhantomData,
        }
    }

    #[inline]
    fn key_start(&self) -> *const u8 {
        // SAFETY: the prefix sits right after the head, inside the node.
        unsafe { (self.ptr.as_ptr() as *const u8).add(std::mem::size_of::<Head<V>>()) }
    }

    /// The key's bytes.
    #[inline]
    pub fn key(&self) -> &[u8] {
        let p = self.key_start();
        // SAFETY: `new` wrote the prefix and `klen` bytes after it.
        unsafe {
            if *p != LONG {
                std::slice::from_raw_parts(p.add(1), *p as usize)
            } else {
                let mut n = [0u8; 8];
                std::ptr::copy_nonoverlapping(p.add(1), n.as_mut_ptr(), 8);
                std::slice::from_raw_parts(p.add(9), u64::from_le_bytes(n) as usize)
            }
        }
    }

    /// The node's address, for cache prefetching.
    #[inline]
    pub fn addr(&self) -> *const u8 {
        self.ptr.as_ptr() as *const u8
    }

    /// Takes the value out and frees the node (its `next` must be None or
    /// taken: a chain is never dropped through here).
    pub fn into_val(self) -> V {
        let this = std::mem::ManuallyDrop::new(self);
        let layout = Self::layout(this.key().len());
        // SAFETY: the node is live and owned; the value is read out once,
        // then the allocation is freed with the layout it was made with.
        unsafe {
            let head = this.ptr.as_ptr();
            drop(std::ptr::read(&(*head).next));
            let val = std::ptr::read(&(*head).val);
            std::alloc::dealloc(head as *mut u8, layout);
            val
        }
    }

    /// Bytes this node's allocation asked for (MEMORY USAGE estimates).
    pub fn alloc_size(klen: usize) -> usize {
        Self::layout(klen).size()
    }
}

impl<V> std::ops::Deref for NodePtr<V> {
    type Target = Head<V>;
    #[inline]
    fn deref(&self) -> &Head<V> {
        // SAFETY: the node is live while its owner exists.
        unsafe { self.ptr.as_ref() }
    }
}

impl<V> std::ops::DerefMut for NodePtr<V> {
    #[inline]
    fn deref_mut(&mut self) -> &mut Head<V> {
        // SAFETY: unique ownership gives unique access.
        unsafe { self.ptr.as_mut() }
    }
}

impl<V> Drop for NodePtr<V> {
    fn drop(&mut self) {
        let layout = Self::layout(self.key().len());
        // SAFETY: the node is live and owned; its head (value and, should
        // one be left, the rest of the chain) is dropped in place, then
        // the allocation is freed with the layout it was made with.
        unsafe {
            std::ptr::drop_in_place(self.ptr.as_ptr());
            std::alloc::dealloc(self.ptr.as_ptr() as *mut u8, layout);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_of_every_length_class_round_trip() {
        for len in [0usize, 1, 10, 254, 255, 256, 70_000] {
            let key: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
            let n = NodePtr::new(&key, len as u64);
            assert_eq!(n.key(), &key[..]);
            assert_eq!(n.val, len as u64);
            assert_eq!(n.into_val(), len as u64);
        }
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
        let n = NodePtr::new(b"k", rc.clone());
        assert_eq!(std::rc::Rc::strong_count(&rc), 2);
        drop(n);
        assert_eq!(std::rc::Rc::strong_count(&rc), 1);
    }

    #[test]
    fn a_ten_byte_keyspace_key_fits_a_64_byte_chunk() {
        // Head of a keyspace entry (next + 32-byte Entry) + prefix + key.
        assert_eq!(NodePtr::<[u64; 4]>::alloc_size(10), 40 + 1 + 10);
    }
}
