//! How the agent uses the C allocator: one malloc arena, trimmed every few polls.
//!
//! Each poll allocates and frees megabytes (responses, models, points, encoded requests)
//! between long-lived data. glibc gives each thread that allocates its own arena, and the holes
//! the polls leave in several arenas kept the agent's resident memory creeping: +10–40 MB over
//! 500 polls of 1,000 collections (`tests/scale.rs`). Returning them after every poll
//! (`malloc_trim`) held it down but cost a third of a poll's CPU: the next poll faulted every
//! page back in. With a single arena the same holes are mostly reused by the next poll
//! (resident memory flat at ~41 MB over 120 polls of 1,000 collections, release binary), but
//! what stays resident is the highest any poll reached, and that still crept up over hundreds
//! of polls (50 → 66 MiB from poll 250 to 500 in a CI run). So the heap is also trimmed every
//! [`TRIM_EVERY`] polls: a bounded high-water mark for an eighth of the cost. The agent's
//! threads rarely allocate at the same moment, so sharing one arena costs no measurable
//! contention.

/// Polls between two trims of the heap.
pub const TRIM_EVERY: u64 = 8;

/// Use one malloc arena for the whole process. Call before any thread is started.
pub fn use_one_malloc_arena() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        /// `M_ARENA_MAX` in glibc's `malloc.h`.
        const M_ARENA_MAX: i32 = -8;
        extern "C" {
            fn mallopt(param: i32, value: i32) -> i32;
        }
        // SAFETY: mallopt only sets an allocator parameter; it takes no pointers, and called
        // before other threads exist it races with nothing.
        unsafe {
            mallopt(M_ARENA_MAX, 1);
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
        /// glibc's `struct mallinfo2` (2.33+): ten `size_t` fields.
        #[repr(C)]
        struct MallInfo2 {
            arena: usize,
            ordblks: usize,
            smblks: usize,
            hblks: usize,
            hblkhd: usize,
            usmblks: usize,
            fsmblks: usize,
            uordblks: usize,
            fordblks: usize,
            keepcost: usize,
        }
        extern "C" {
            fn mallinfo2() -> MallInfo2;
        }
        // SAFETY: mallinfo2 takes nothing and returns a plain struct by value.
        let info = unsafe { mallinfo2() };
        // Bytes in use: small chunks in the arena plus mmapped ones; heap size: the arena plus
        // mmapped chunks.
        let _ = (
            info.ordblks,
            info.smblks,
            info.usmblks,
            info.fsmblks,
            info.fordblks,
            info.keepcost,
        );
        Some((info.uordblks + info.hblkhd, info.arena + info.hblkhd))
    }
    #[cfg(not(all(target_os = "linux", target_env = "gnu")))]
    None
}
