//! The C allocator, tuned for a server (issue 12). glibc's malloc gives
//! threads that allocate at the same time arenas of their own (up to eight
//! per core) and keeps what each arena freed for its next use. The portal's
//! blocking threads (one per pooled connection) each filled an arena during
//! the user search (SQLite's FTS5 allocates per query), which took the
//! server's peak RSS from 66 to 106 MiB in `examples/bench`; with two
//! arenas it stayed at 69 MiB, and the throughput did not drop.
//! `MALLOC_ARENA_MAX` in the environment still wins (an operator's choice).

/// Arenas at most, unless the environment says otherwise.
pub const ARENA_MAX: i32 = 2;

/// Limits glibc's arenas; called first thing in `main`, before any thread
/// starts. True when the limit was set; false where there is nothing to set
/// (musl, other systems) or the environment chose already.
pub fn limit_arenas() -> bool {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    if std::env::var_os("MALLOC_ARENA_MAX").is_none() {
        // SAFETY: mallopt only sets a malloc parameter; it is called before
        // other threads exist, and a refused value changes nothing.
        return unsafe { libc::mallopt(libc::M_ARENA_MAX, ARENA_MAX) } == 1;
    }
    false
}

/// How often `serve` hands freed memory back to the system.
pub const TRIM_EVERY: std::time::Duration = std::time::Duration::from_secs(5);

/// Hands the memory that glibc's arenas hold free back to the system
/// (`malloc_trim`: the free pages inside the arenas, not only their tops).
/// The threads of `serve` free much of what they allocate per request, in
/// arenas they share; what glibc kept free grew the server's RSS during
/// `examples/bench`'s soak at c=64 from 59 to 70 MiB in 120 s; with a trim
/// every 5 s the peak was 63 MiB after 60 s at the same rate (issue 12;
/// over 120 s after the search rows it still grows, to 72–79 MiB, by more
/// than the pooled connections' page caches can hold: see BENCHMARKS.md).
/// A trim takes each arena's lock for the time of a walk over its free
/// chunks.
/// True where there is something to trim (glibc).
pub fn give_back_free_memory() -> bool {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        // SAFETY: malloc_trim only walks glibc's own arenas, under their
        // locks; its result (whether memory was released) is not needed.
        unsafe { libc::malloc_trim(0) };
        return true;
    }
    #[allow(unreachable_code)]
    false
}

#[cfg(test)]
mod tests {
    #[test]
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    fn glibc_takes_the_limit() {
        if std::env::var_os("MALLOC_ARENA_MAX").is_none() {
            assert!(super::limit_arenas());
        }
    }
}
