//! Memory accounting, as Redis's zmalloc: a global allocator wrapper that
//! keeps a running total of the bytes held (malloc's usable size, which like
//! jemalloc's size classes includes the rounding but not the allocator's own
//! bookkeeping). `INFO memory used_memory` and maxmemory read it in O(1).
//!
//! It also keeps the peak (raised from cron and when reported) and the
//! figure at startup, for INFO memory and MEMORY STATS.
//!
//! The binary installs `Counting` as `#[global_allocator]`; code linked
//! without it (the library's own tests) falls back to mallinfo2.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};

static USED: AtomicUsize = AtomicUsize::new(0);
/// The most ever seen by `update_peak` (Redis's stat_peak_memory).
static PEAK: AtomicUsize = AtomicUsize::new(0);
/// Bytes in use once the server was initialized, before loading data
/// (Redis's initial_memory_usage).
static STARTUP: AtomicUsize = AtomicUsize::new(0);
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

/// Marks the counting allocator as installed (called first thing by main)
/// and fixes malloc's mmap threshold. glibc raises that threshold each
/// time an mmapped block is freed, after which the large, short-lived
/// buffers (a pipelined client's query and reply buffers) are carved from
/// the heap between long-lived values and leave holes the process keeps
/// resident; a fixed threshold keeps them mmapped and returned on free
/// (as jemalloc returns Redis's), so RSS follows the data.
pub fn activate() {
    ACTIVE.store(true, Ordering::Relaxed);
    // SAFETY: mallopt only changes malloc's tuning; called before any
    // other thread exists.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 256 * 1024);
    }
}

/// Bytes currently allocated, or None when the counter is not installed.
pub fn used() -> Option<u64> {
    if ACTIVE.load(Ordering::Relaxed) {
        Some(USED.load(Ordering::Relaxed) as u64)
    } else {
        None
    }
}

/// Raises the recorded peak to `now` if higher; returns the peak.
pub fn update_peak(now: u64) -> u64 {
    let now = now as usize;
    PEAK.fetch_max(now, Ordering::Relaxed).max(now) as u64
}

/// Records the memory in use once the server is initialized.
pub fn mark_startup(now: u64) {
    STARTUP.store(now as usize, Ordering::Relaxed);
    update_peak(now);
}

/// The memory in use when the server finished initializing.
pub fn startup() -> u64 {
    STARTUP.load(Ordering::Relaxed) as u64
}

/// glibc's view of the heap and the process RSS, sampled from cron (as
/// Redis samples its allocator every 100 ms): [allocated, active, rss].
static ALLOCATOR_STATS: [AtomicU64; 3] = [AtomicU64::new(0), AtomicU64::new(0), AtomicU64::new(0)];

/// Samples the allocator (mallinfo2) and records `rss`.
pub fn refresh_allocator_stats(rss: u64) {
    // SAFETY: mallinfo2 only reads the allocator's statistics.
    let mi = unsafe { libc::mallinfo2() };
    let allocated = (mi.uordblks + mi.hblkhd) as u64;
    let active = (mi.arena + mi.hblkhd) as u64;
    for (slot, v) in ALLOCATOR_STATS.iter().zip([allocated, active, rss]) {
        slot.store(v, Ordering::Relaxed);
    }
}

/// The last sample: (allocated, active, rss) in bytes.
pub fn allocator_stats() -> (u64, u64, u64) {
    let [a, b, c] = &ALLOCATOR_STATS;
    (
        a.load(Ordering::Relaxed),
        b.load(Ordering::Relaxed),
        c.load(Ordering::Relaxed),
    )
}

/// The usable size jemalloc 5 (Redis's allocator, 16-byte quantum, 4K
/// pages) gives a request of `size` bytes: Redis reports its own memory
/// (MEMORY USAGE, XINFO-adjacent figures) in these size classes, and
/// ferrodis reproduces those figures without using jemalloc.
pub fn jemalloc_usable(size: usize) -> usize {
    match size {
        0..=8 => 8,
        9..=128 => (size + 15) & !15,
        _ => {
            // Four classes per doubling: (2^k, 2^(k+1)] in steps of 2^(k-2).
            let lg = usize::BITS - 1 - (size - 1).leading_zeros();
            let delta = 1usize << (lg - 2);
            (size + delta - 1) & !(delta - 1)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::jemalloc_usable;

    #[test]
    fn jemalloc_classes() {
        let want = [
            (1, 8),
            (8, 8),
            (9, 16),
            (17, 32),
            (100, 112),
            (128, 128),
            (129, 160),
            (257, 320),
            (4095, 4096),
            (4096, 4096),
            (4097, 5120),
            (14337, 16384),
            (16385, 20480),
        ];
        for (size, class) in want {
            assert_eq!(jemalloc_usable(size), class, "size {size}");
        }
    }
}
