//! A cache prefetch hint. The simulator's data is indexed by client, and
//! consecutive events belong to unrelated clients, so handling an event starts
//! with cache misses on that client's state. Hinting the *next* event's client
//! while the current one is handled overlaps those misses with useful work.

/// Asks the CPU to start loading the cache line holding `r`. A hint only: it
/// never faults, never changes a value, and compiles to nothing on targets
/// without a stable prefetch instruction.
#[inline(always)]
pub fn prefetch<T>(r: &T) {
    prefetch_ptr((r as *const T).cast());
}

/// [`prefetch`] of every cache line `r` spans (a 112-byte value spans two or three).
#[inline(always)]
pub fn prefetch_all<T>(r: &T) {
    let p = (r as *const T).cast::<u8>();
    let size = std::mem::size_of::<T>();
    let mut off = 0;
    while off < size {
        prefetch_ptr(p.wrapping_add(off));
        off += 64;
    }
    if size > 0 {
        prefetch_ptr(p.wrapping_add(size - 1));
    }
}

#[inline(always)]
fn prefetch_ptr(p: *const u8) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: `_mm_prefetch` needs SSE, which every x86_64 CPU has, and it does
    // not dereference the pointer (an invalid address is harmless); callers pass
    // addresses inside a live value anyway.
    unsafe {
        use std::arch::x86_64::{_MM_HINT_T0, _mm_prefetch};
        _mm_prefetch::<_MM_HINT_T0>(p.cast());
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = p;
}
