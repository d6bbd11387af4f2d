//! Memory accounting, as Redis's zmalloc: a global allocator wrapper that
//! keeps a running total of the bytes held (malloc's usable size, which like
//! jemalloc's size classes includes the rounding but not the allocator's own
//! bookkeeping). `INFO memory used_memory` and maxmemory read it in O(1).
//!
//! The binary installs `Counting` as `#[global_allocator]`; code linked
//! without it (the library's own tests) falls back to mallinfo2.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

static USED: AtomicUsize = AtomicUsize::new(0);
static ACTIVE: AtomicBool = AtomicBool::new(false);

/// The system allocator, counting.
pub struct Counting;

#[inline]
fn usable(ptr: *mut u8) -> usize {
    // SAFETY: `ptr` was just returned by the system allocator (or is about
    // to be freed by it) and is non-null.
    unsafe { libc::malloc_usable_size(ptr as *mut libc::c_void) }
}

// SAFETY: every call is forwarded to `System`; the counter never affects
// what is allocated.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = System.alloc(layout);
        if !p.is_null() {
            USED.fetch_add(usable(p), Ordering::Relaxed);
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let p = System.alloc_zeroed(layout);
        if !p.is_null() {
            USED.fetch_add(usable(p), Ordering::Relaxed);
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        USED.fetch_sub(usable(ptr), Ordering::Relaxed);
        System.dealloc(ptr, layout)
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let old = usable(ptr);
        let p = System.realloc(ptr, layout, new_size);
        if !p.is_null() {
            USED.fetch_sub(old, Ordering::Relaxed);
            USED.fetch_add(usable(p), Ordering::Relaxed);
        }
        p
    }
}

/// Marks the counting allocator as installed (called first thing by main).
pub fn activate() {
    ACTIVE.store(true, Ordering::Relaxed);
}

/// Bytes currently allocated, or None when the counter is not installed.
pub fn used() -> Option<u64> {
    if ACTIVE.load(Ordering::Relaxed) {
        Some(USED.load(Ordering::Relaxed) as u64)
    } else {
        None
    }
}
