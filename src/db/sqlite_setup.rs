//! SQLite's process-wide settings (issue 12): what the bundled library is
//! told before the portal opens its first connection.
//!
//! - **No memory statistics.** SQLite keeps them by default behind one
//!   process-wide mutex taken on every allocation and free; with a thread
//!   per pooled connection that mutex was contended on every query (the
//!   `examples/bench` profile showed the futex waits from `sqlite3Malloc`).
//!   The portal never reads them.
//! - **Multi-thread mode, not serialized.** The bundled library guards each
//!   connection with a mutex of its own, taken on every call (every column
//!   of every row read). diesel never lets two threads use one connection
//!   (a connection is `Send` but not `Sync`, used through `&mut`), which is
//!   exactly what multi-thread mode asks of its caller.
//! - **The query planner stability guarantee (QPSG)** on every connection.
//!   Without it, SQLite 3.53 marks a statement "to be prepared again" when
//!   a parameter whose value the planner looked at is bound anew, and it
//!   looks at the value of `LIMIT ?`, which diesel binds for every
//!   `.limit()` and `.first()`. So every cached statement with a limit (the
//!   user list, a user by id, a session by key) was parsed and planned
//!   again on each run: `sqlite3Reprepare` under `sqlite3_step` was 7 % of
//!   the server's CPU on the user list in `examples/bench`, and SQL parsing
//!   8 %. With the guarantee the planner never reads bound values, so a
//!   statement prepared once stays prepared. The portal loses nothing by
//!   it: it keeps no `sqlite_stat4` statistics, and its `LIKE` patterns
//!   either begin with `%` or apply to `lower(…)`, which SQLite's `LIKE`
//!   optimisation cannot use. diesel does not hand out its raw connection
//!   handle, so the setting is made by an SQLite auto-extension: a function
//!   SQLite itself calls on every connection it opens afterwards.
use libsqlite3_sys as ffi;
use std::ffi::c_char;
use std::sync::OnceLock;

/// The library-wide settings (memory statistics off, multi-thread mode),
/// called first thing in `main`, before any thread or connection exists:
/// SQLite refuses them once it is initialised, which changes nothing. True
/// when both took.
pub fn before_first_connection() -> bool {
    // SAFETY: sqlite3_config takes one int for each of these options (none
    // for MULTITHREAD) and is called before SQLite is initialised, with no
    // other thread running.
    unsafe {
        let stats = ffi::sqlite3_config(ffi::SQLITE_CONFIG_MEMSTATUS, 0 as std::ffi::c_int);
        let threads = ffi::sqlite3_config(ffi::SQLITE_CONFIG_MULTITHREAD);
        stats == ffi::SQLITE_OK && threads == ffi::SQLITE_OK
    }
}

/// Registers QPSG for every SQLite connection opened from now on (once per
/// process; later calls do nothing). True when SQLite took it.
pub fn stable_plans() -> bool {
    static REGISTERED: OnceLock<bool> = OnceLock::new();
    *REGISTERED.get_or_init(|| {
        // SAFETY: sqlite3_auto_extension adds a function pointer to
        // SQLite's own list (it takes SQLite's mutex); `on_open` has the
        // signature SQLite calls it with.
        unsafe { ffi::sqlite3_auto_extension(Some(on_open)) == ffi::SQLITE_OK }
    })
}

/// SQLite's call on each new connection: QPSG on. A refusal leaves the
/// connection as SQLite made it (slower, never wrong), so it is not an
/// error that would stop the connection from opening.
unsafe extern "C" fn on_open(
    db: *mut ffi::sqlite3,
    _err: *mut *mut c_char,
    _api: *const ffi::sqlite3_api_routines,
) -> std::ffi::c_int {
    // SAFETY: SQLite passes the connection being opened; the option takes
    // an int (1: on) and an optional int pointer for the new value (null).
    unsafe {
        ffi::sqlite3_db_config(
            db,
            ffi::SQLITE_DBCONFIG_ENABLE_QPSG,
            1 as std::ffi::c_int,
            std::ptr::null_mut::<std::ffi::c_int>(),
        );
    }
    ffi::SQLITE_OK
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::CString;

    /// Runs `SELECT … LIMIT ?` three times on a fresh in-memory connection
    /// (QPSG as the auto-extension left it, or turned off), binding the
    /// limit each time as diesel does, and returns how often SQLite
    /// prepared the statement again.
    fn reprepares_of_a_limit(qpsg_off: bool) -> i32 {
        // SAFETY: plain use of SQLite's C API on a connection and statement
        // made here and closed before returning; results are checked.
        unsafe {
            let mut db = std::ptr::null_mut();
            let name = CString::new(":memory:").expect("no NUL");
            assert_eq!(ffi::sqlite3_open(name.as_ptr(), &mut db), ffi::SQLITE_OK);
            if qpsg_off {
                ffi::sqlite3_db_config(
                    db,
                    ffi::SQLITE_DBCONFIG_ENABLE_QPSG,
                    0 as std::ffi::c_int,
                    std::ptr::null_mut::<std::ffi::c_int>(),
                );
            }
            let sql = CString::new(
                "WITH RECURSIVE s(value) AS (SELECT 1 UNION ALL SELECT value + 1 FROM s \
                 WHERE value < 100) SELECT value FROM s LIMIT ?",
            )
            .expect("no NUL");
            let mut stmt = std::ptr::null_mut();
            let prepared =
                ffi::sqlite3_prepare_v2(db, sql.as_ptr(), -1, &mut stmt, std::ptr::null_mut());
            assert_eq!(prepared, ffi::SQLITE_OK);
            for limit in [5, 5, 7] {
                assert_eq!(ffi::sqlite3_bind_int64(stmt, 1, limit), ffi::SQLITE_OK);
                let mut rows = 0;
                while ffi::sqlite3_step(stmt) == ffi::SQLITE_ROW {
                    rows += 1;
                }
                assert_eq!(rows, limit);
                ffi::sqlite3_reset(stmt);
            }
            let n = ffi::sqlite3_stmt_status(stmt, ffi::SQLITE_STMTSTATUS_REPREPARE, 0);
            ffi::sqlite3_finalize(stmt);
            ffi::sqlite3_close(db);
            n
        }
    }

    /// The library-wide settings take only before SQLite is first used, so
    /// they are checked in a process of their own: this test runs itself
    /// again with `IXP_SQLITE_SETUP_CHILD` set, and the child checks.
    #[test]
    fn library_settings_take_before_the_first_connection() {
        const NAME: &str =
            "db::sqlite_setup::tests::library_settings_take_before_the_first_connection";
        if std::env::var_os("IXP_SQLITE_SETUP_CHILD").is_some() {
            assert!(before_first_connection(), "SQLite took both settings");
            // SAFETY: a connection made, read and closed here.
            unsafe {
                let mut db = std::ptr::null_mut();
                let name = CString::new(":memory:").expect("no NUL");
                assert_eq!(ffi::sqlite3_open(name.as_ptr(), &mut db), ffi::SQLITE_OK);
                assert!(
                    ffi::sqlite3_db_mutex(db).is_null(),
                    "multi-thread mode: no mutex per connection"
                );
                let (mut used, mut peak) = (0i64, 0i64);
                ffi::sqlite3_status64(ffi::SQLITE_STATUS_MEMORY_USED, &mut used, &mut peak, 0);
                assert_eq!(used, 0, "no memory statistics kept");
                ffi::sqlite3_close(db);
            }
            return;
        }
        let exe = std::env::current_exe().expect("the test binary");
        let out = std::process::Command::new(exe)
            .args(["--exact", NAME, "--test-threads=1", "--nocapture"])
            .env("IXP_SQLITE_SETUP_CHILD", "1")
            .output()
            .expect("the test binary runs");
        let text = String::from_utf8_lossy(&out.stdout).to_string()
            + &String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "the child failed:\n{text}");
        assert!(text.contains("1 passed"), "the child ran the test:\n{text}");
    }

    #[test]
    fn a_bound_limit_does_not_prepare_the_statement_again() {
        assert!(stable_plans());
        assert!(stable_plans(), "a second call changes nothing");
        assert_eq!(reprepares_of_a_limit(false), 0);
        // Why the setting is there: without it this SQLite prepares the
        // statement again on each new binding of the limit.
        assert!(reprepares_of_a_limit(true) >= 2);
    }
}
