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
//! - **Writers woken when the lock is free, not after a nap.** SQLite has
//!   one writer at a time. With `PRAGMA busy_timeout` a connection that
//!   finds the write lock taken sleeps 1, 2, 5, 10, … up to 100 ms between
//!   tries, however soon the lock is released: under 16 concurrent
//!   PeeringDB logins in `examples/bench` that made the p99 113 ms while a
//!   login's writes take about a millisecond. The same auto-extension gives
//!   each connection a busy handler that waits on a condition variable, and
//!   a WAL hook (SQLite calls it after a commit, once the write lock is
//!   released; set by [`WAKE_ON_COMMIT`] when the pool opens a connection)
//!   that wakes the waiters. A release no hook reports (a
//!   rollback, a commit that wrote nothing, another process) is seen at the
//!   next look, every [`LOOK_AGAIN`]. The wait still ends with
//!   `SQLITE_BUSY` after [`BUSY_TIMEOUT`], as the pragma's did. The WAL
//!   hook also checkpoints at SQLite's default of 1000 frames, as the hook
//!   it replaces did, and makes sure the WAL starts over when reads that
//!   never pause kept it from doing so (see [`RESTART_FRAMES`]). Past
//!   1000 frames it tries again only once the WAL has grown by
//!   [`CHECKPOINT_STEP`] frames (see there).
use libsqlite3_sys as ffi;
use std::cell::Cell;
use std::ffi::{c_char, c_int, c_void};
use std::sync::{Condvar, Mutex, OnceLock, PoisonError};
use std::time::{Duration, Instant};

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

/// How long a connection waits for another connection's lock before its
/// statement fails with `SQLITE_BUSY` (the `busy_timeout` it replaces).
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(15);

/// The longest a waiting connection sleeps before it looks at the lock
/// again, for releases that no WAL hook reports.
pub const LOOK_AGAIN: Duration = Duration::from_millis(2);

/// SQLite's default auto-checkpoint: the WAL is copied back into the
/// database after a commit that leaves it this many frames long.
const CHECKPOINT_FRAMES: c_int = 1000;

/// How much the WAL grows between two passive checkpoints tried by one
/// thread. SQLite's own hook tries one after every commit that leaves the
/// WAL at 1000 frames or more, and each try sorts every frame not yet
/// copied back; while reads under way keep it from catching up, that is
/// every commit: 76 % of the commits of PeeringDB logins in
/// `examples/bench`, 30 % of the server's instructions (issue 12).
const CHECKPOINT_STEP: c_int = 250;

/// A WAL this long means the passive checkpoints are not catching up: with
/// a read always under way somewhere, SQLite can neither copy the newest
/// frames back nor start the WAL over, and it grows without end (issue 12:
/// 2 GB after a few minutes of `examples/bench`, every write extending the
/// file and every read searching a larger WAL index). Then the checkpoint
/// waits for the reads under way (a few milliseconds; later ones read the
/// database file) so that the next commit starts the WAL over.
const RESTART_FRAMES: c_int = 4 * CHECKPOINT_FRAMES;

/// Releases of the write lock seen in this process: a count that the WAL
/// hook raises, and the condition waiting connections sleep on.
static RELEASES: (Mutex<u64>, Condvar) = (Mutex::new(0), Condvar::new());

/// Calls of the busy handler in this process: how often a connection
/// found a lock taken (for tests; SQLite counts nothing of the kind).
static WAITS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// How often connections of this process found a lock taken and waited.
pub fn waits() -> u64 {
    WAITS.load(std::sync::atomic::Ordering::Relaxed)
}

thread_local! {
    /// The release count when this thread's connection last tried again.
    static SEEN: Cell<u64> = const { Cell::new(0) };
    /// When this thread's connection began to wait for the current lock.
    static WAITING_SINCE: Cell<Option<Instant>> = const { Cell::new(None) };
    /// The WAL's length in frames when this thread last tried a passive
    /// checkpoint.
    static CHECKPOINT_TRIED_AT: Cell<c_int> = const { Cell::new(0) };
}

/// Registers, for every SQLite connection opened from now on (once per
/// process; later calls do nothing), QPSG, the busy handler and the WAL
/// hook. True when SQLite took it; when false, connections need
/// `PRAGMA busy_timeout` instead.
pub fn on_every_connection() -> bool {
    static REGISTERED: OnceLock<bool> = OnceLock::new();
    *REGISTERED.get_or_init(|| {
        // SAFETY: sqlite3_auto_extension adds a function pointer to
        // SQLite's own list (it takes SQLite's mutex); `on_open` has the
        // signature SQLite calls it with.
        unsafe { ffi::sqlite3_auto_extension(Some(on_open)) == ffi::SQLITE_OK }
    })
}

/// SQLite's call on each new connection: QPSG on, the busy handler and
/// the WAL hook. A refused QPSG leaves the connection as SQLite made it
/// (slower, never wrong), so it is not an error that would stop the
/// connection from opening; the two others cannot fail on an open
/// connection.
unsafe extern "C" fn on_open(
    db: *mut ffi::sqlite3,
    _err: *mut *mut c_char,
    _api: *const ffi::sqlite3_api_routines,
) -> c_int {
    // SAFETY: SQLite passes the connection being opened. QPSG takes an int
    // (1: on) and an optional int pointer for the new value (null); the
    // handler and the hook have the signatures SQLite calls them with and
    // use no argument pointer.
    unsafe {
        ffi::sqlite3_db_config(
            db,
            ffi::SQLITE_DBCONFIG_ENABLE_QPSG,
            1 as c_int,
            std::ptr::null_mut::<c_int>(),
        );
        ffi::sqlite3_busy_handler(db, Some(on_busy), std::ptr::null_mut());
        ffi::sqlite3_create_function_v2(
            db,
            c"ixp_wake_on_commit".as_ptr(),
            0,
            ffi::SQLITE_UTF8 | ffi::SQLITE_DIRECTONLY,
            std::ptr::null_mut(),
            Some(wake_on_commit),
            None,
            None,
            None,
        );
    }
    ffi::SQLITE_OK
}

/// The statement that gives a connection the WAL hook, run once the
/// connection is open: SQLite installs its own checkpointing hook after
/// the auto-extensions have run, which would replace one set in
/// [`on_open`], so `on_open` leaves an SQL function that sets it.
pub const WAKE_ON_COMMIT: &str = "SELECT ixp_wake_on_commit();";

/// The SQL function of [`WAKE_ON_COMMIT`] (direct use only: no trigger or
/// view can call it): sets [`on_commit`] as its connection's WAL hook.
unsafe extern "C" fn wake_on_commit(
    ctx: *mut ffi::sqlite3_context,
    _: c_int,
    _: *mut *mut ffi::sqlite3_value,
) {
    // SAFETY: SQLite passes the function's context, whose connection is
    // open for the whole call; the hook has the signature SQLite calls it
    // with and uses no argument pointer.
    unsafe {
        let db = ffi::sqlite3_context_db_handle(ctx);
        ffi::sqlite3_wal_hook(db, Some(on_commit), std::ptr::null_mut());
        ffi::sqlite3_result_int(ctx, 1);
    }
}

/// SQLite's call when a lock this connection needs is taken; `tries` is 0
/// on the first call of a wait. Returns nonzero to try again, 0 to give
/// up with `SQLITE_BUSY`. Sleeps until a commit in this process releases
/// the write lock, or [`LOOK_AGAIN`] at most; a release since this
/// connection's last try means trying again at once.
unsafe extern "C" fn on_busy(_: *mut c_void, tries: c_int) -> c_int {
    WAITS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let now = Instant::now();
    // `try_with`: a thread's locals may be gone while it ends, and a panic
    // must not cross into SQLite.
    let since = match (tries, WAITING_SINCE.try_with(Cell::get).ok().flatten()) {
        (0, _) | (_, None) => {
            let _ = WAITING_SINCE.try_with(|w| w.set(Some(now)));
            now
        }
        (_, Some(since)) => since,
    };
    let left = BUSY_TIMEOUT.saturating_sub(now.saturating_duration_since(since));
    if left.is_zero() {
        return 0;
    }
    let (count, changed) = &RELEASES;
    let mut seen = count.lock().unwrap_or_else(PoisonError::into_inner);
    if Ok(*seen) == SEEN.try_with(Cell::get) {
        seen = changed
            .wait_timeout(seen, LOOK_AGAIN.min(left))
            .unwrap_or_else(PoisonError::into_inner)
            .0;
    }
    let _ = SEEN.try_with(|s| s.set(*seen));
    1
}

/// SQLite's call after each commit in WAL mode, once the write lock is
/// released: wakes the connections waiting for it, then checkpoints as
/// SQLite's own hook (which this one replaces) would.
unsafe extern "C" fn on_commit(
    _: *mut c_void,
    db: *mut ffi::sqlite3,
    schema: *const c_char,
    frames: c_int,
) -> c_int {
    {
        let mut count = RELEASES.0.lock().unwrap_or_else(PoisonError::into_inner);
        *count = count.wrapping_add(1);
    }
    RELEASES.1.notify_all();
    if let Some(mode) = checkpoint_due(frames) {
        // SAFETY: SQLite passes the connection that committed and the name
        // of the schema; the hook may checkpoint (SQLite's own hook does,
        // passively). A checkpoint that cannot finish now is tried again
        // after a later commit.
        unsafe {
            ffi::sqlite3_wal_checkpoint_v2(
                db,
                schema,
                mode,
                std::ptr::null_mut(),
                std::ptr::null_mut(),
            )
        };
    }
    ffi::SQLITE_OK
}

/// The checkpoint to try after a commit that leaves the WAL `frames`
/// long: none below [`CHECKPOINT_FRAMES`]; a passive one when the WAL is
/// [`CHECKPOINT_STEP`] frames longer than at this thread's last try, or
/// shorter (it started over since); at [`RESTART_FRAMES`] a restart, every
/// time.
fn checkpoint_due(frames: c_int) -> Option<c_int> {
    if frames >= RESTART_FRAMES {
        return Some(ffi::SQLITE_CHECKPOINT_RESTART);
    }
    if frames < CHECKPOINT_FRAMES {
        return None;
    }
    let tried = CHECKPOINT_TRIED_AT.try_with(Cell::get).unwrap_or(0);
    if frames >= tried && frames < tried.saturating_add(CHECKPOINT_STEP) {
        return None;
    }
    let _ = CHECKPOINT_TRIED_AT.try_with(|t| t.set(frames));
    Some(ffi::SQLITE_CHECKPOINT_PASSIVE)
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

    /// Two connections to one WAL database in a fresh directory, opened as
    /// the pool opens them (the auto-extension registered first).
    fn two_connections() -> (
        tempfile::TempDir,
        diesel::SqliteConnection,
        diesel::SqliteConnection,
    ) {
        use diesel::Connection;
        use diesel::connection::SimpleConnection;
        assert!(on_every_connection());
        let dir = tempfile::tempdir().expect("a temporary directory");
        let path = dir.path().join("busy.sqlite");
        let url = path.to_str().expect("a UTF-8 path");
        let open = || {
            let mut c = diesel::SqliteConnection::establish(url).expect("opens");
            c.batch_execute(WAKE_ON_COMMIT).expect("the WAL hook");
            c
        };
        let mut a = open();
        a.batch_execute("PRAGMA journal_mode = WAL; CREATE TABLE t (v INTEGER);")
            .expect("set up");
        let b = open();
        (dir, a, b)
    }

    /// Holds the write lock on `a`, starts a writer on `b` in a thread,
    /// waits until that writer has found the lock taken, then ends `a`'s
    /// transaction with `end` and returns what the writer got.
    fn writer_after(end: &str) -> Result<i64, String> {
        use diesel::RunQueryDsl;
        use diesel::connection::SimpleConnection;
        let (_dir, mut a, mut b) = two_connections();
        a.batch_execute("BEGIN IMMEDIATE; INSERT INTO t VALUES (1);")
            .expect("a takes the lock");
        let before = waits();
        let writer = std::thread::spawn(move || {
            b.batch_execute("BEGIN IMMEDIATE; INSERT INTO t VALUES (2); COMMIT;")
                .map_err(|e| e.to_string())?;
            diesel::select(diesel::dsl::sql::<diesel::sql_types::BigInt>(
                "(SELECT count(*) FROM t)",
            ))
            .get_result::<i64>(&mut b)
            .map_err(|e| e.to_string())
        });
        // Not a timing: the loop ends when the writer waits (or, should
        // another test's wait be counted first, a little earlier).
        while waits() == before && !writer.is_finished() {
            std::thread::yield_now();
        }
        a.batch_execute(end).expect("a ends its transaction");
        writer.join().expect("the writer thread")
    }

    #[test]
    fn a_waiting_writer_goes_on_after_a_commit() {
        assert_eq!(writer_after("COMMIT;"), Ok(2), "both rows are there");
    }

    #[test]
    fn a_commit_wakes_the_waiters() {
        use diesel::connection::SimpleConnection;
        let (_dir, mut a, _b) = two_connections();
        let releases = || *RELEASES.0.lock().unwrap_or_else(PoisonError::into_inner);
        let before = releases();
        a.batch_execute("INSERT INTO t VALUES (1);")
            .expect("insert");
        assert!(releases() > before, "the WAL hook counted the release");
    }

    #[test]
    fn a_waiting_writer_goes_on_after_a_rollback() {
        // No WAL hook reports a rollback: the waiter sees it at its next look.
        assert_eq!(writer_after("ROLLBACK;"), Ok(1), "only the writer's row");
    }

    #[test]
    fn the_wal_is_still_checkpointed_at_1000_frames() {
        use diesel::connection::SimpleConnection;
        let (_dir, mut a, _b) = two_connections();
        // 1,200 commits of one page each: SQLite's own hook (which ours
        // replaces) checkpoints when the WAL reaches 1000 frames, and the
        // next writer starts the WAL over.
        for i in 0..1200 {
            a.batch_execute(&format!("INSERT INTO t VALUES ({i});"))
                .expect("insert");
        }
        let frames = wal_frames(&mut a);
        assert!(
            frames < CHECKPOINT_FRAMES,
            "expected a checkpoint at 1000 frames; the WAL holds {frames}"
        );
    }

    #[test]
    fn a_passive_checkpoint_is_tried_again_once_the_wal_grew_by_a_step() {
        // A thread of its own: the step is counted per thread.
        std::thread::spawn(|| {
            let passive = Some(ffi::SQLITE_CHECKPOINT_PASSIVE);
            assert_eq!(checkpoint_due(CHECKPOINT_FRAMES - 1), None);
            assert_eq!(checkpoint_due(CHECKPOINT_FRAMES), passive);
            assert_eq!(checkpoint_due(CHECKPOINT_FRAMES + 1), None);
            assert_eq!(
                checkpoint_due(CHECKPOINT_FRAMES + CHECKPOINT_STEP - 1),
                None
            );
            assert_eq!(checkpoint_due(CHECKPOINT_FRAMES + CHECKPOINT_STEP), passive);
            // Started over, and grown past 1000 frames again.
            assert_eq!(checkpoint_due(CHECKPOINT_FRAMES + 3), passive);
            // A restart is tried after every commit.
            assert_eq!(
                checkpoint_due(RESTART_FRAMES),
                Some(ffi::SQLITE_CHECKPOINT_RESTART)
            );
            assert_eq!(
                checkpoint_due(RESTART_FRAMES + 1),
                Some(ffi::SQLITE_CHECKPOINT_RESTART)
            );
        })
        .join()
        .expect("the checks pass");
    }

    /// The size of the WAL in frames, and how many of them are copied back.
    fn wal_frames(c: &mut diesel::SqliteConnection) -> i32 {
        use diesel::RunQueryDsl;
        #[derive(diesel::QueryableByName)]
        struct Checkpoint {
            #[diesel(sql_type = diesel::sql_types::Integer)]
            log: i32,
        }
        diesel::sql_query("PRAGMA wal_checkpoint(PASSIVE)")
            .get_result::<Checkpoint>(c)
            .expect("the WAL's size")
            .log
    }

    #[test]
    fn a_wal_kept_from_starting_over_by_a_read_starts_over() {
        use diesel::RunQueryDsl;
        use diesel::connection::SimpleConnection;
        use std::sync::atomic::{AtomicBool, Ordering};
        let (_dir, mut a, mut b) = two_connections();
        a.batch_execute("INSERT INTO t VALUES (0);")
            .expect("insert");
        // A read under way on `b`: no checkpoint can copy frames past it,
        // nor can the WAL start over, until it ends.
        b.batch_execute("BEGIN;").expect("begin");
        diesel::sql_query("SELECT * FROM t")
            .execute(&mut b)
            .expect("read");
        let (near, done) = (
            std::sync::Arc::new(AtomicBool::new(false)),
            std::sync::Arc::new(AtomicBool::new(false)),
        );
        let reader = std::thread::spawn({
            let (near, done) = (near.clone(), done.clone());
            move || {
                // Ends when the writer is near the limit and something waits
                // (the restart waiting for this read), or when the writer is
                // done (no restart waited): not a timing.
                while !near.load(Ordering::Relaxed) {
                    std::thread::yield_now();
                }
                let before = waits();
                while waits() == before && !done.load(Ordering::Relaxed) {
                    std::thread::yield_now();
                }
                b.batch_execute("COMMIT;").expect("the read ends");
            }
        });
        for i in 1..RESTART_FRAMES + 10 {
            if i == RESTART_FRAMES - 50 {
                near.store(true, Ordering::Relaxed);
            }
            a.batch_execute(&format!("INSERT INTO t VALUES ({i});"))
                .expect("insert");
        }
        done.store(true, Ordering::Relaxed);
        reader.join().expect("the reader thread");
        a.batch_execute("INSERT INTO t VALUES (-1);")
            .expect("insert");
        let frames = wal_frames(&mut a);
        assert!(
            frames < CHECKPOINT_FRAMES,
            "expected the WAL to start over; it holds {frames} frames"
        );
    }

    #[test]
    fn a_bound_limit_does_not_prepare_the_statement_again() {
        assert!(on_every_connection());
        assert!(on_every_connection(), "a second call changes nothing");
        assert_eq!(reprepares_of_a_limit(false), 0);
        // Why the setting is there: without it this SQLite prepares the
        // statement again on each new binding of the limit.
        assert!(reprepares_of_a_limit(true) >= 2);
    }
}
