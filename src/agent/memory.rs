//! How the agent uses the C allocator: one malloc arena, fixed thresholds, a trim every few
//! polls, and what its heap holds (logged at debug level after each trim).
//!
//! Each poll allocates and frees megabytes (responses, models, points, encoded requests)
//! between long-lived data. glibc gives each thread that allocates its own arena, and the holes
//! polls leave in several arenas make resident memory creep (`tests/scale.rs` watches it).
//! Trimming after every poll (`malloc_trim`) would hold it down, but the next poll faults every
//! page back in. With a single arena the same holes are mostly reused by the next poll, and
//! what stays resident is the highest any poll reached; trimming every [`TRIM_EVERY`] polls
//! bounds that high-water mark at a fraction of the cost, and a poll that leaves more than
//! [`TRIM_ABOVE`] free in the heap (thousands of collections) is trimmed at once, which lowers
//! the peak. The agent's threads rarely allocate at the same moment, so one arena costs no
//! contention worth having more. Figures: docs/performance.md.
//!
//! The heap in use ([`heap_usage`]) tells a leak from the allocator keeping pages: it is flat
//! over a long run once the per-collection state is full (docs/performance.md).

/// Polls between two trims of the heap.
pub const TRIM_EVERY: u64 = 8;

/// Free bytes in the heap after a poll above which it is trimmed at once: above what a poll of
/// a thousand collections leaves free, below what ten thousand leave (docs/performance.md).
pub const TRIM_ABOVE: usize = 16 << 20;

/// Whether a poll, the `polls`-th, should end with a trim, given the heap's `usage`.
pub fn trim_due(polls: u64, usage: Option<(usize, usize)>) -> bool {
    let free = usage.map_or(0, |(in_use, size)| size.saturating_sub(in_use));
    polls.is_multiple_of(TRIM_EVERY) || free > TRIM_ABOVE
}

/// Allocations above this come straight from the kernel (`mmap`), and go back when freed:
/// glibc's own ceiling for its adaptive threshold (64-bit), fixed here from the start.
const MMAP_ABOVE: i32 = 32 << 20;

/// Use one malloc arena for the whole process, and let this module's trims, not `free`, give
/// the heap's pages back. Call before any thread is started.
///
/// glibc otherwise adapts its thresholds: it returns the top of the heap to the kernel from
/// `free` whenever more than twice its mmap threshold is free there, so a poll's large buffers
/// (the request being encoded, the bodies read whole) went back to the kernel when freed and
/// every page of them was faulted in, zeroed, by the next poll. Fixed thresholds keep them
/// until a trim ([`trim_due`]).
pub fn configure_allocator() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        // glibc's `malloc.h`.
        const M_TRIM_THRESHOLD: i32 = -1;
        const M_MMAP_THRESHOLD: i32 = -3;
        const M_ARENA_MAX: i32 = -8;
        extern "C" {
            fn mallopt(param: i32, value: i32) -> i32;
        }
        // SAFETY: mallopt only sets an allocator parameter; it takes no pointers, and called
        // before other threads exist it races with nothing.
        unsafe {
            mallopt(M_ARENA_MAX, 1);
            mallopt(M_MMAP_THRESHOLD, MMAP_ABOVE);
            mallopt(M_TRIM_THRESHOLD, TRIM_ABOVE as i32);
        }
    }
}

/// Return the heap's free memory to the system (`malloc_trim`).
pub fn release_free_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        extern "C" {
            fn malloc_trim(pad: usize) -> i32;
        }
        // SAFETY: malloc_trim only releases free memory of the process's own heap; it takes no
        // pointers and is thread-safe.
        unsafe {
            malloc_trim(0);
        }
    }
}

/// The heap's bytes in use and its size (`mallinfo2`), for the debug log after each trim: a
/// leak raises the first, fragmentation only the second.
pub fn heap_usage() -> Option<(usize, usize)> {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        /// glibc's `struct mallinfo2` (2.33+): ten `size_t` fields, four of them read here.
        #[repr(C)]
        struct MallInfo2 {
            arena: usize,
            _ordblks: usize,
            _smblks: usize,
            _hblks: usize,
            hblkhd: usize,
            _usmblks: usize,
            _fsmblks: usize,
            uordblks: usize,
            _fordblks: usize,
            _keepcost: usize,
        }
        extern "C" {
            fn mallinfo2() -> MallInfo2;
        }
        // SAFETY: mallinfo2 takes nothing and returns a plain struct by value.
        let info = unsafe { mallinfo2() };
        // In use: chunks handed out from the arena plus mmapped ones; size: the arena plus
        // mmapped chunks.
        Some((info.uordblks + info.hblkhd, info.arena + info.hblkhd))
    }
    #[cfg(not(all(target_os = "linux", target_env = "gnu")))]
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trims_every_few_polls_or_when_much_is_free() {
        const MB: usize = 1 << 20;
        assert!(trim_due(TRIM_EVERY, None));
        assert!(trim_due(2 * TRIM_EVERY, Some((3 * MB, 9 * MB))));
        assert!(!trim_due(3, Some((3 * MB, 9 * MB))), "1,000 collections");
        assert!(trim_due(3, Some((20 * MB, 50 * MB))), "10,000 collections");
        assert!(!trim_due(3, None), "no heap figures: only every few polls");
    }
}
