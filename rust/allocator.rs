//! The extension's global allocator: mimalloc (v2), called without its aligned-allocation
//! entry points when plain allocation is already aligned enough.
//!
//! The Clarity VM allocates many small, short-lived values per transaction (keys,
//! serialized values, events); mimalloc serves those 1.4x-2x faster than the system
//! allocator (docs/performance.md). The `mimalloc` crate's allocator routes every request
//! through `mi_malloc_aligned`, which only then finds that an alignment of at most 16 bytes
//! and at most the size needs nothing special (`mi_malloc_is_naturally_aligned` in
//! mimalloc's `alloc-aligned.c`). That test is made here, first, so the common request is
//! one `mi_malloc`; anything else still goes to the aligned entry points.

use core::alloc::{GlobalAlloc, Layout};
use core::ffi::c_void;

use libmimalloc_sys as mi;

/// The largest alignment every `mi_malloc` block of at least that size has
/// (`MI_MAX_ALIGN_SIZE` on 64-bit targets).
const NATURAL_ALIGN: usize = 16;

/// mimalloc, with plain calls for naturally aligned requests.
pub struct Allocator;

#[inline]
fn natural(align: usize, size: usize) -> bool {
    align <= NATURAL_ALIGN && align <= size
}

// SAFETY: every method forwards to mimalloc, which returns blocks of at least the requested
// size aligned as requested (plain calls only where mimalloc itself guarantees the
// alignment for that size), or null on failure, and frees/reallocates blocks it returned.
unsafe impl GlobalAlloc for Allocator {
    #[inline]
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: `layout` has a non-zero size (the `GlobalAlloc` contract).
        unsafe {
            if natural(layout.align(), layout.size()) {
                mi::mi_malloc(layout.size()).cast()
            } else {
                mi::mi_malloc_aligned(layout.size(), layout.align()).cast()
            }
        }
    }

    #[inline]
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: as `alloc`.
        unsafe {
            if natural(layout.align(), layout.size()) {
                mi::mi_zalloc(layout.size()).cast()
            } else {
                mi::mi_zalloc_aligned(layout.size(), layout.align()).cast()
            }
        }
    }

    #[inline]
    unsafe fn dealloc(&self, ptr: *mut u8, _layout: Layout) {
        // SAFETY: `ptr` was returned by this allocator (the `GlobalAlloc` contract).
        unsafe { mi::mi_free(ptr.cast::<c_void>()) }
    }

    #[inline]
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: `ptr` was returned by this allocator for `layout`; `new_size` is non-zero.
        unsafe {
            if natural(layout.align(), new_size) {
                mi::mi_realloc(ptr.cast::<c_void>(), new_size).cast()
            } else {
                mi::mi_realloc_aligned(ptr.cast::<c_void>(), new_size, layout.align()).cast()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Blocks of every small size and alignment come back aligned, zeroed when asked, and
    /// keep their bytes through growth and shrinking.
    #[test]
    fn blocks_are_aligned_and_keep_their_bytes() {
        let a = Allocator;
        for align in [1usize, 2, 4, 8, 16, 32, 64, 4096] {
            for size in [1usize, 3, 8, 15, 16, 17, 31, 64, 100, 1000, 70_000] {
                let layout = Layout::from_size_align(size, align).unwrap();
                // SAFETY: non-zero size; every block is freed with its layout below.
                unsafe {
                    let p = a.alloc_zeroed(layout);
                    assert!(!p.is_null());
                    assert_eq!(p as usize % align, 0, "size {size} align {align}");
                    assert!((0..size).all(|i| *p.add(i) == 0));
                    for i in 0..size {
                        *p.add(i) = i as u8;
                    }
                    let q = a.realloc(p, layout, size * 3);
                    assert_eq!(q as usize % align, 0, "grown size {size} align {align}");
                    assert!((0..size).all(|i| *q.add(i) == i as u8));
                    let grown = Layout::from_size_align(size * 3, align).unwrap();
                    let r = a.realloc(q, grown, size.div_ceil(2));
                    assert_eq!(r as usize % align, 0, "shrunk size {size} align {align}");
                    assert!((0..size.div_ceil(2)).all(|i| *r.add(i) == i as u8));
                    a.dealloc(r, Layout::from_size_align(size.div_ceil(2), align).unwrap());
                }
            }
        }
    }
}
