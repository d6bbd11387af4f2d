//! Memory accounting, as Redis's zmalloc: a global allocator wrapper that
//! keeps a running total of the bytes held (the allocator's usable size,
//! which includes the size-class rounding but not the allocator's own
//! bookkeeping). `INFO memory used_memory` and maxmemory read it in O(1).
//!
//! Three back ends, chosen at build time:
//! - mimalloc (feature `mimalloc`, the default): no header per block and,
//!   built with MI_MAX_ALIGN_SIZE=8 (`.cargo/config.toml`), size classes
//!   8 bytes apart up to 64, so small blocks (keyspace entries, small
//!   listpacks) cost less than in glibc's chunks. Counted
//!   with `mi_usable_size`; pages freed are given back to the kernel
//!   after mimalloc's purge delay, purges that cron also runs when the
//!   server is otherwise idle (`cron_tick`).
//! - jemalloc (feature `jemalloc`, over mimalloc when both are on),
//!   Redis's own allocator, built as Redis builds it (8-byte quantum, no
//!   cache-oblivious offset). The usable size comes from `nallocx` (size
//!   class arithmetic, no pointer lookup) and frees are sized
//!   (`sdallocx`). It also answers INFO's allocator_* and fragmentation
//!   fields (`allocator_stats`).
//! - the system allocator (glibc, `--no-default-features`), counted with
//!   `malloc_usable_size`.
//!
//! It also keeps the peak (raised from cron and when reported) and the
//! figure at startup, for INFO memory and MEMORY STATS.
//!
//! The binary installs `Counting` as `#[global_allocator]`; code linked
//! without it (the library's own tests) falls back to mallinfo2.

use std::alloc::{GlobalAlloc, Layout};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};

static USED: AtomicUsize = AtomicUsize::new(0);
/// The most ever seen by `update_peak` (Redis's stat_peak_memory).
static PEAK: AtomicUsize = AtomicUsize::new(0);
/// Bytes in use once the server was initialized, before loading data
/// (Redis's initial_memory_usage).
static STARTUP: AtomicUsize = AtomicUsize::new(0);
static ACTIVE: AtomicBool = AtomicBool::new(false);

/// The process allocator, counting.
pub struct Counting;

#[cfg(feature = "jemalloc")]
mod backend {
    use std::alloc::Layout;
    use tikv_jemalloc_sys as je;

    /// mallocx flags: an explicit alignment only where the size class
    /// does not give it (with the 8-byte quantum, a 24-byte class is only
    /// 8-aligned, so 16-byte alignment must be asked for).
    #[inline]
    fn flags(layout: &Layout) -> i32 {
        if layout.align() <= 8 && layout.align() <= layout.size() {
            0
        } else {
            je::MALLOCX_ALIGN(layout.align())
        }
    }

    #[inline]
    pub fn usable(layout: &Layout) -> usize {
        // SAFETY: nallocx only computes a size class.
        unsafe { je::nallocx(layout.size().max(1), flags(layout)) }
    }

    #[inline]
    pub unsafe fn alloc(layout: &Layout, zero: bool) -> *mut u8 {
        let f = flags(layout) | if zero { je::MALLOCX_ZERO } else { 0 };
        je::mallocx(layout.size().max(1), f) as *mut u8
    }

    #[inline]
    pub unsafe fn dealloc(ptr: *mut u8, layout: &Layout) {
        je::sdallocx(
            ptr as *mut libc::c_void,
            layout.size().max(1),
            flags(layout),
        )
    }

    #[inline]
    pub unsafe fn realloc(ptr: *mut u8, layout: &Layout, new_size: usize) -> *mut u8 {
        let new = Layout::from_size_align_unchecked(new_size, layout.align());
        je::rallocx(ptr as *mut libc::c_void, new_size.max(1), flags(&new)) as *mut u8
    }

    pub const NAME: &str = "jemalloc-5.3.0";

    /// jemalloc purges on its own (decay).
    pub fn collect() {}

    /// jemalloc's own figures (refreshed by bumping its epoch):
    /// (allocated, active, resident) bytes.
    pub fn stats() -> Option<(u64, u64, u64)> {
        fn read(name: &std::ffi::CStr) -> Option<u64> {
            let mut v: usize = 0;
            let mut len = std::mem::size_of::<usize>();
            // SAFETY: a C string name, out-pointer of the documented type.
            let r = unsafe {
                je::mallctl(
                    name.as_ptr(),
                    &mut v as *mut usize as *mut libc::c_void,
                    &mut len,
                    std::ptr::null_mut(),
                    0,
                )
            };
            (r == 0).then_some(v as u64)
        }
        let mut epoch: u64 = 1;
        let mut len = std::mem::size_of::<u64>();
        // SAFETY: "epoch" is read-write u64; refreshes the stats below.
        unsafe {
            je::mallctl(
                c"epoch".as_ptr(),
                &mut epoch as *mut u64 as *mut libc::c_void,
                &mut len,
                &mut epoch as *mut u64 as *mut libc::c_void,
                len,
            );
        }
        Some((
            read(c"stats.allocated")?,
            read(c"stats.active")?,
            read(c"stats.resident")?,
        ))
    }
}

#[cfg(all(feature = "mimalloc", not(feature = "jemalloc")))]
mod backend {
    use libmimalloc_sys as mi;
    use std::alloc::Layout;

    /// Every mimalloc block is 8-aligned (MI_MAX_ALIGN_SIZE=8, the build's
    /// setting), so only a larger alignment takes the aligned calls.
    const PLAIN_ALIGN: usize = 8;

    pub unsafe fn alloc(layout: &Layout, zero: bool) -> *mut u8 {
        let (size, align) = (layout.size().max(1), layout.align());
        let p = match (zero, align <= PLAIN_ALIGN) {
            (false, true) => mi::mi_malloc(size),
            (true, true) => mi::mi_zalloc(size),
            (false, false) => mi::mi_malloc_aligned(size, align),
            (true, false) => mi::mi_zalloc_aligned(size, align),
        };
        p as *mut u8
    }

    pub unsafe fn dealloc(ptr: *mut u8, _layout: &Layout) {
        mi::mi_free(ptr as *mut libc::c_void)
    }

    pub unsafe fn realloc(ptr: *mut u8, layout: &Layout, new_size: usize) -> *mut u8 {
        let (p, size) = (ptr as *mut libc::c_void, new_size.max(1));
        if layout.align() <= PLAIN_ALIGN {
            mi::mi_realloc(p, size) as *mut u8
        } else {
            mi::mi_realloc_aligned(p, size, layout.align()) as *mut u8
        }
    }

    /// The block's size class, asked of the pointer (a mask and a load).
    pub fn usable_ptr(ptr: *mut u8) -> usize {
        // SAFETY: `ptr` is a live block of this allocator.
        unsafe { mi::mi_usable_size(ptr as *const libc::c_void) }
    }

    pub const NAME: &str = "mimalloc";

    /// (allocated, active, resident): the bytes counted here; mimalloc's
    /// own committed figure lags its purges, so active and resident are
    /// left to the process RSS, as for glibc.
    pub fn stats() -> Option<(u64, u64, u64)> {
        Some((
            super::USED.load(std::sync::atomic::Ordering::Relaxed) as u64,
            0,
            0,
        ))
    }

    /// Runs the purges whose delay has passed (mimalloc otherwise runs
    /// them only from its own calls, so an idle server kept freed pages).
    pub fn collect() {
        // SAFETY: a plain call; `false`: no forced, expensive collection.
        unsafe { mi::mi_collect(false) }
    }
}

#[cfg(not(any(feature = "jemalloc", feature = "mimalloc")))]
mod backend {
    use std::alloc::{GlobalAlloc, Layout, System};

    #[inline]
    fn usable_of(ptr: *mut u8) -> usize {
        // SAFETY: `ptr` was returned by the system allocator (or is about
        // to be freed by it) and is non-null.
        unsafe { libc::malloc_usable_size(ptr as *mut libc::c_void) }
    }

    pub unsafe fn alloc(layout: &Layout, zero: bool) -> *mut u8 {
        if zero {
            System.alloc_zeroed(*layout)
        } else {
            System.alloc(*layout)
        }
    }

    pub unsafe fn dealloc(ptr: *mut u8, layout: &Layout) {
        System.dealloc(ptr, *layout)
    }

    pub unsafe fn realloc(ptr: *mut u8, layout: &Layout, new_size: usize) -> *mut u8 {
        System.realloc(ptr, *layout, new_size)
    }

    /// glibc sizes depend on the chunk: asked of the pointer.
    pub fn usable_ptr(ptr: *mut u8) -> usize {
        usable_of(ptr)
    }

    pub const NAME: &str = "libc";

    /// glibc trims on free (M_TRIM_THRESHOLD).
    pub fn collect() {}

    /// glibc's view of the heap (mallinfo2): allocated, active, and no
    /// resident figure of its own (the process RSS stands for it).
    pub fn stats() -> Option<(u64, u64, u64)> {
        // SAFETY: mallinfo2 only reads the allocator's statistics.
        let mi = unsafe { libc::mallinfo2() };
        let allocated = (mi.uordblks + mi.hblkhd) as u64;
        let active = (mi.arena + mi.hblkhd) as u64;
        Some((allocated, active, 0))
    }
}

#[cfg(feature = "jemalloc")]
#[inline]
fn counted(_ptr: *mut u8, layout: &Layout) -> usize {
    backend::usable(layout)
}

#[cfg(not(feature = "jemalloc"))]
#[inline]
fn counted(ptr: *mut u8, _layout: &Layout) -> usize {
    backend::usable_ptr(ptr)
}

// SAFETY: every call is forwarded to the back end; the counter never
// affects what is allocated.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = backend::alloc(&layout, false);
        if !p.is_null() {
            USED.fetch_add(counted(p, &layout), Ordering::Relaxed);
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let p = backend::alloc(&layout, true);
        if !p.is_null() {
            USED.fetch_add(counted(p, &layout), Ordering::Relaxed);
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        USED.fetch_sub(counted(ptr, &layout), Ordering::Relaxed);
        backend::dealloc(ptr, &layout)
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let old = counted(ptr, &layout);
        let p = backend::realloc(ptr, &layout, new_size);
        if !p.is_null() {
            USED.fetch_sub(old, Ordering::Relaxed);
            let new = Layout::from_size_align_unchecked(new_size, layout.align());
            USED.fetch_add(counted(p, &new), Ordering::Relaxed);
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
/// (as jemalloc returns Redis's), so RSS follows the data. The heap's top
/// is given back only past 1 MB free (glibc's default 128 KB, fixed once
/// the mmap threshold is): a reply buffer of a few hundred KB freed at the
/// top was returned and faulted in again by the next such reply (page
/// faults were a tenth of an SMEMBERS of 10,000 members).
pub fn activate() {
    ACTIVE.store(true, Ordering::Relaxed);
    // SAFETY: mallopt only changes malloc's tuning; called before any
    // other thread exists.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 256 * 1024);
        libc::mallopt(libc::M_TRIM_THRESHOLD, 1024 * 1024);
    }
}

/// A boxed slice of `n` elements from a zeroed allocation: a big table's
/// pages are mapped by the kernel as they are first touched (as Redis's
/// zcalloc'd dict tables), instead of all being written by the one command
/// that creates it.
///
/// # Safety
/// All-zero bytes must be a valid `T` (e.g. `Option<Box<_>>`, integers).
pub unsafe fn zeroed_slice<T>(n: usize) -> Box<[T]> {
    if n == 0 || std::mem::size_of::<T>() == 0 {
        return (0..n).map(|_| std::mem::zeroed()).collect();
    }
    let layout =
        std::alloc::Layout::array::<T>(n).unwrap_or_else(|_| panic!("table of {n} elements"));
    // SAFETY: the caller vouches for zeroed `T`s; the layout is the one
    // `Box<[T]>` frees the slice with.
    let p = std::alloc::alloc_zeroed(layout).cast::<T>();
    if p.is_null() {
        std::alloc::handle_alloc_error(layout);
    }
    Box::from_raw(std::ptr::slice_from_raw_parts_mut(p, n))
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

/// INFO's mem_allocator: "jemalloc-5.3.0" or "libc".
pub fn allocator_name() -> &'static str {
    backend::NAME
}

/// The allocator's view and the process RSS, sampled from cron (as Redis
/// samples its allocator every 100 ms): [allocated, active, resident, rss].
static ALLOCATOR_STATS: [AtomicU64; 4] = [
    AtomicU64::new(0),
    AtomicU64::new(0),
    AtomicU64::new(0),
    AtomicU64::new(0),
];

/// Allocator upkeep from cron (each tick): mimalloc's due purges.
pub fn cron_tick() {
    backend::collect();
}

/// Samples the allocator (jemalloc's stats, or glibc's mallinfo2, whose
/// resident figure is the process RSS) and records `rss`.
pub fn refresh_allocator_stats(rss: u64) {
    let (allocated, active, resident) = backend::stats().unwrap_or((0, 0, 0));
    // A back end without a figure of its own: the process RSS stands in.
    let resident = if resident == 0 { rss } else { resident };
    let active = if active == 0 { resident } else { active };
    for (slot, v) in ALLOCATOR_STATS
        .iter()
        .zip([allocated, active, resident, rss])
    {
        slot.store(v, Ordering::Relaxed);
    }
}

/// The last sample: (allocated, active, resident, rss) in bytes.
pub fn allocator_stats() -> (u64, u64, u64, u64) {
    let [a, b, c, d] = &ALLOCATOR_STATS;
    (
        a.load(Ordering::Relaxed),
        b.load(Ordering::Relaxed),
        c.load(Ordering::Relaxed),
        d.load(Ordering::Relaxed),
    )
}

/// zmalloc_size of an sds of `len` bytes made by sdsnewlen (sdsZmallocSize):
/// the header its length needs, the bytes and the terminator, in
/// jemalloc's size classes.
pub fn sds_zmalloc_size(len: usize) -> usize {
    let hdr = match len {
        1..=31 => 1,
        _ => sds_hdr8_or_more(len),
    };
    jemalloc_usable(hdr + len + 1)
}

/// zmalloc_size of an sds grown by sdsMakeRoomFor to `alloc` bytes of room
/// (it never uses the 1-byte header).
pub fn sds_grown_zmalloc_size(alloc: usize) -> usize {
    jemalloc_usable(sds_hdr8_or_more(alloc) + alloc + 1)
}

/// The sds header for `len` bytes among the 8-, 16- and 32-bit types.
fn sds_hdr8_or_more(len: usize) -> usize {
    match len {
        0..=255 => 3,
        256..=65535 => 5,
        _ => 9,
    }
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
