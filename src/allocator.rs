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

/// Turns off SQLite's memory statistics, which it keeps by default behind
/// one process-wide mutex taken on every allocation and free: with a
/// thread per pooled connection that mutex was contended on every query
/// (the `examples/bench` profile of the user list showed the futex waits
/// from `sqlite3Malloc`). The portal never reads those statistics. Called
/// first thing in `main`, before any connection is opened (SQLite refuses
/// the setting afterwards, which changes nothing). True when it took.
pub fn no_sqlite_memory_statistics() -> bool {
    // SAFETY: sqlite3_config with SQLITE_CONFIG_MEMSTATUS takes one int and
    // is called before SQLite is initialised, with no other thread running.
    unsafe {
        libsqlite3_sys::sqlite3_config(libsqlite3_sys::SQLITE_CONFIG_MEMSTATUS, 0)
            == libsqlite3_sys::SQLITE_OK
    }
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
