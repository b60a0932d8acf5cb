//! The database: one binary, two backends (SQLite by default, PostgreSQL by URL).
pub mod affiliations;
pub mod api_tokens;
pub mod audit;
pub mod connections;
pub mod counts;
pub mod customers;
pub mod explain;
pub mod id_list;
pub mod invitations;
pub mod lans;
pub mod leases;
pub mod login_throttle;
pub mod logins;
pub mod mail_limits;
pub mod mail_queue;
pub mod models;
pub mod peering_sessions;
pub mod peeringdb_links;
pub mod resets;
pub mod schema;
pub mod search_index;
pub mod sessions;
pub mod sqlite_setup;
pub mod stamp;
pub mod two_factor;
pub mod users;

use diesel::Connection;
use diesel::connection::{AnsiTransactionManager, SimpleConnection, TransactionManager};
use diesel::pg::PgConnection;
use diesel::r2d2::{self, ConnectionManager, CustomizeConnection};
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use diesel::sqlite::SqliteConnection;
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};
use std::path::{Path, PathBuf};

diesel::define_sql_function! {
    /// SQL `lower()`, the same on both backends.
    fn lower(x: diesel::sql_types::Text) -> diesel::sql_types::Text;
}

const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");

/// A connection to either backend; queries are written once for both.
#[derive(diesel::MultiConnection)]
pub enum DbConnection {
    Pg(PgConnection),
    Sqlite(SqliteConnection),
}

/// Runs the same statement on the concrete connection, for the few
/// statements (multi-row inserts) that the multi-backend type cannot carry.
#[macro_export]
macro_rules! on_backend {
    ($conn:expr, |$c:ident| $body:expr) => {
        match $conn {
            $crate::db::DbConnection::Pg($c) => $body,
            $crate::db::DbConnection::Sqlite($c) => $body,
        }
    };
}

/// Where the data lives, decided from the URL's scheme (never by trial:
/// SQLite would accept a mistyped PostgreSQL URL as a file name).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    Postgres(String),
    Sqlite(PathBuf),
}

impl DatabaseUrl {
    pub fn parse(url: &str) -> Result<DatabaseUrl, String> {
        let url = url.trim();
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Ok(DatabaseUrl::Postgres(url.to_string()));
        }
        let path = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))
            .unwrap_or(url);
        if path.is_empty() {
            return Err("is empty: give a postgres:// URL or an SQLite file path".into());
        }
        if path.contains("://") {
            return Err(format!(
                "{url:?} has an unknown scheme: use postgres://… or sqlite:PATH"
            ));
        }
        Ok(DatabaseUrl::Sqlite(PathBuf::from(path)))
    }

    pub fn backend_name(&self) -> &'static str {
        match self {
            DatabaseUrl::Postgres(_) => "postgresql",
            DatabaseUrl::Sqlite(_) => "sqlite",
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("database connection unavailable: {0}")]
    Pool(#[from] r2d2::PoolError),
    #[error("database error: {0}")]
    Query(#[from] DieselError),
    #[error("database task failed")]
    Task,
}

impl DbError {
    /// A conflict that a retry of the whole transaction may resolve.
    pub fn is_retryable(&self) -> bool {
        match self {
            DbError::Query(DieselError::DatabaseError(
                DatabaseErrorKind::UniqueViolation | DatabaseErrorKind::SerializationFailure,
                _,
            )) => true,
            // PostgreSQL ended one of two transactions that waited on each
            // other (SQLSTATE 40P01); running it again is the remedy.
            DbError::Query(DieselError::DatabaseError(_, info)) => {
                info.message().contains("deadlock detected")
            }
            _ => false,
        }
    }
}

pub fn is_unique_violation(e: &DieselError) -> bool {
    matches!(
        e,
        DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _)
    )
}

/// What diesel's pool manager does on every connection it opens: SQLite's
/// settings, and a check that the URL opened the backend it names
/// (diesel's `MultiConnection` tries each backend in turn).
#[derive(Debug)]
struct Customizer {
    postgres: bool,
    /// SQLite's connections wait for each other's locks in
    /// `sqlite_setup`'s busy handler; without it, in `busy_timeout`.
    busy_handler: bool,
}

impl CustomizeConnection<DbConnection, r2d2::Error> for Customizer {
    fn on_acquire(&self, conn: &mut DbConnection) -> Result<(), r2d2::Error> {
        match (conn, self.postgres) {
            (DbConnection::Pg(_), true) => Ok(()),
            (DbConnection::Sqlite(c), false) => {
                // The pragma would replace the busy handler.
                let waits = match self.busy_handler {
                    true => sqlite_setup::WAKE_ON_COMMIT,
                    false => "PRAGMA busy_timeout = 15000;",
                };
                c.batch_execute(waits).map_err(r2d2::Error::QueryError)?;
                c.batch_execute(
                    "PRAGMA journal_mode = WAL; PRAGMA foreign_keys = ON; \
                     PRAGMA synchronous = NORMAL;",
                )
                .map_err(r2d2::Error::QueryError)
            }
            _ => Err(r2d2::Error::ConnectionError(
                diesel::ConnectionError::BadConnection(
                    "the database URL opened another backend than it names".into(),
                ),
            )),
        }
    }
}

/// The URL handed to diesel's pool manager. An SQLite path becomes a
/// `file:` URI, which PostgreSQL's client rejects without a network
/// attempt, so `MultiConnection` always lands on SQLite for it.
fn manager_url(url: &DatabaseUrl) -> String {
    match url {
        DatabaseUrl::Postgres(u) => u.clone(),
        DatabaseUrl::Sqlite(p) => {
            let path = p.to_string_lossy();
            let mut uri = String::from(if path.starts_with('/') {
                "file://"
            } else {
                "file:"
            });
            for ch in path.chars() {
                match ch {
                    '%' => uri.push_str("%25"),
                    '?' => uri.push_str("%3F"),
                    '#' => uri.push_str("%23"),
                    c => uri.push(c),
                }
            }
            uri
        }
    }
}

pub type Manager = ConnectionManager<DbConnection>;
pub type Pool = r2d2::Pool<Manager>;
pub type PooledConn = r2d2::PooledConnection<Manager>;

/// The pool, shared by request handlers and the CLI.
#[derive(Clone)]
pub struct Db {
    pool: Pool,
    url: DatabaseUrl,
    /// The user search's trigram counts (SQLite; `search_index`).
    trigrams: std::sync::Arc<search_index::Latest>,
}

impl Db {
    /// Opens the pool (creating an SQLite file's directory when needed).
    ///
    /// PostgreSQL: two connections per core, at least 4 and at most 16 (as
    /// before; two instances then stay well inside PostgreSQL's default
    /// `max_connections` of 100). Each connection is a server process doing
    /// CPU work; more of them than that only take turns on the cores, and
    /// the turns are the tail of the latency (issue 12, 2 cores: with 16
    /// connections page 1's p99 was 14-25 ms and a login's 50-73 ms, with 4
    /// it is 9 and 40 ms, at the same rate or better).
    pub fn open(url: &DatabaseUrl) -> anyhow::Result<Db> {
        let size = match url {
            DatabaseUrl::Sqlite(_) => 8,
            DatabaseUrl::Postgres(_) => {
                let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
                (2 * cores).clamp(4, 16) as u32
            }
        };
        Db::open_with_size(url, size)
    }

    /// Opens a pool of at most `size` connections.
    pub fn open_with_size(url: &DatabaseUrl, size: u32) -> anyhow::Result<Db> {
        let mut busy_handler = false;
        if let DatabaseUrl::Sqlite(path) = url {
            create_parent(path)?;
            // Before the pool opens its first connection (issue 12).
            busy_handler = sqlite_setup::on_every_connection();
        }
        let pool = r2d2::Pool::builder()
            .max_size(size)
            // No connections made in the background: r2d2 would otherwise
            // refill idle connections on its own threads, and a process that
            // exits meanwhile (the CLI) can crash inside libpq's OpenSSL.
            .min_idle(Some(0))
            // A broken connection shows as a query error (and healthz says
            // so); a test query on every checkout would double the work.
            .test_on_check_out(false)
            .connection_timeout(std::time::Duration::from_secs(10))
            .connection_customizer(Box::new(Customizer {
                postgres: matches!(url, DatabaseUrl::Postgres(_)),
                busy_handler,
            }))
            .build(ConnectionManager::new(manager_url(url)))
            .map_err(|e| {
                anyhow::anyhow!(
                    "cannot open the {} database ({}): {e}",
                    url.backend_name(),
                    redact(url)
                )
            })?;
        Ok(Db {
            pool,
            url: url.clone(),
            trigrams: Default::default(),
        })
    }

    /// The user search's latest trigram counts (SQLite), kept by the
    /// background (`background::spawn_trigram_counts`).
    pub fn trigrams(&self) -> &search_index::Latest {
        &self.trigrams
    }

    /// The most connections the pool holds: also the useful number of
    /// threads doing database work.
    pub fn max_size(&self) -> u32 {
        self.pool.max_size()
    }

    pub fn url(&self) -> &DatabaseUrl {
        &self.url
    }

    /// The pool's connections now (for the metrics, issue 14).
    pub fn pool_state(&self) -> r2d2::State {
        self.pool.state()
    }

    /// A connection, waiting at most `timeout` for one (`/readyz`).
    pub fn conn_within(&self, timeout: std::time::Duration) -> Result<PooledConn, DbError> {
        Ok(self.pool.get_timeout(timeout)?)
    }

    pub fn conn(&self) -> Result<PooledConn, DbError> {
        Ok(self.pool.get()?)
    }

    /// Applies pending migrations; returns how many ran.
    pub fn migrate(&self) -> anyhow::Result<usize> {
        let mut conn = self.conn().map_err(|e| self.why_unavailable(e))?;
        let ran = match &mut *conn {
            DbConnection::Pg(c) => c
                .run_pending_migrations(POSTGRES_MIGRATIONS)
                .map(|v| v.len()),
            DbConnection::Sqlite(c) => {
                let ran = c.run_pending_migrations(SQLITE_MIGRATIONS).map(|v| v.len());
                if ran.is_err() {
                    // A table rebuild (run outside diesel's transaction, see
                    // its metadata.toml) that failed midway leaves its own
                    // transaction open and foreign keys off: undo both.
                    let _ = c.batch_execute("ROLLBACK");
                    let _ = c.batch_execute("PRAGMA foreign_keys = ON");
                }
                ran
            }
        }
        .map_err(|e| anyhow::anyhow!("database migration failed: {e}"))?;
        Ok(ran)
    }

    /// The reason a connection failed, in the backend's own words:
    /// `MultiConnection` tries every backend and keeps no error of its own,
    /// so at start-up one direct attempt says what is wrong.
    fn why_unavailable(&self, e: DbError) -> anyhow::Error {
        let direct = match &self.url {
            DatabaseUrl::Postgres(u) => PgConnection::establish(u).err(),
            DatabaseUrl::Sqlite(_) => SqliteConnection::establish(&manager_url(&self.url)).err(),
        };
        match direct {
            Some(reason) => anyhow::anyhow!(
                "cannot connect to the {} database ({}): {reason}",
                self.url.backend_name(),
                redact(&self.url)
            ),
            None => e.into(),
        }
    }

    /// Runs blocking database work off the async workers.
    pub async fn run<T, E, F>(&self, f: F) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<DbError> + Send + 'static,
        F: FnOnce(&mut DbConnection) -> Result<T, E> + Send + 'static,
    {
        let db = self.clone();
        // Lines logged there belong to the request's span (its request id).
        let span = tracing::Span::current();
        tokio::task::spawn_blocking(move || {
            let _entered = span.enter();
            let mut conn = db.conn()?;
            let _held = Held::enter();
            f(&mut conn)
        })
        .await
        .map_err(|_| E::from(DbError::Task))?
    }
}

impl Db {
    /// Runs a short read that a request waits for: on SQLite, right here on
    /// the calling (async) thread when a pooled connection is free, else
    /// as [`Db::run`] does. Handing a read of a few dozen microseconds to a
    /// blocking thread and back cost the server more than the read itself
    /// (issue 12: two thread wake-ups per hop; `examples/bench` measured
    /// 250–285 µs of server CPU per user-list page with the hop and
    /// 215–236 µs without, and p99 6–7 ms against 4–4.5 ms).
    ///
    /// Only for reads of a few indexed rows: no write (SQLite may wait for
    /// the writer's lock up to its busy timeout), no search, no call to
    /// another server. SQLite in WAL mode never makes a reader wait for a
    /// writer. PostgreSQL always goes through `run`: its reads wait on the
    /// network. A panic in `f` becomes [`DbError::Task`], as under `run`.
    pub async fn read<T, E, F>(&self, f: F) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<DbError> + Send + 'static,
        F: FnOnce(&mut DbConnection) -> Result<T, E> + Send + 'static,
    {
        if matches!(self.url, DatabaseUrl::Sqlite(_))
            && let Some(mut conn) = self.pool.try_get()
        {
            let _held = Held::enter();
            return std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f(&mut conn)))
                .unwrap_or_else(|_| Err(E::from(DbError::Task)));
        }
        self.run(f).await
    }
}

thread_local! {
    static HOLDING: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Is this thread running `Db::run` work, with a pooled connection taken?
/// (SPEC §8: no password is hashed meanwhile; `auth::password` counts it.)
pub fn holds_connection() -> bool {
    HOLDING.with(std::cell::Cell::get)
}

/// Marks the thread as holding a connection until dropped.
struct Held;

impl Held {
    fn enter() -> Held {
        HOLDING.with(|h| h.set(true));
        Held
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        HOLDING.with(|h| h.set(false));
    }
}

/// Creates an SQLite file's directory (0700) and the file itself (0600,
/// SPEC §8; SQLite gives its `-wal` and `-shm` files the same mode).
fn create_parent(path: &Path) -> anyhow::Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        crate::files::create_private_dir(dir)
            .map_err(|e| anyhow::anyhow!("cannot create the directory {}: {e}", dir.display()))?;
    }
    crate::files::touch_private(path)
        .map_err(|e| anyhow::anyhow!("cannot create the database {}: {e}", path.display()))?;
    Ok(())
}

/// A URL fit for a log line: no password.
pub fn redact(url: &DatabaseUrl) -> String {
    match url {
        DatabaseUrl::Sqlite(p) => p.display().to_string(),
        DatabaseUrl::Postgres(u) => match url::Url::parse(u) {
            Ok(mut parsed) => {
                if parsed.password().is_some() {
                    let _ = parsed.set_password(Some("***"));
                }
                parsed.to_string()
            }
            Err(_) => "postgres://…".to_string(),
        },
    }
}

/// A write transaction, through diesel's transaction manager (so that a
/// nested one becomes a savepoint, and a connection left inside a
/// transaction is never handed out again). On SQLite it takes the write
/// lock at the start, as `SqliteConnection::immediate_transaction` does
/// (`BEGIN IMMEDIATE`), so concurrent writers wait for the lock (woken by
/// the commit that releases it, `sqlite_setup`) instead of failing when a
/// read lock cannot be upgraded.
pub fn write_tx<T, E, F>(conn: &mut DbConnection, f: F) -> Result<T, E>
where
    E: From<DieselError>,
    F: FnOnce(&mut DbConnection) -> Result<T, E>,
{
    type Tm = <DbConnection as Connection>::TransactionManager;
    let outermost = Tm::transaction_manager_status_mut(conn)
        .transaction_depth()?
        .is_none();
    let DbConnection::Sqlite(sqlite) = conn else {
        return conn.transaction(f);
    };
    if !outermost {
        return conn.transaction(f);
    }
    AnsiTransactionManager::begin_transaction_sql(sqlite, "BEGIN IMMEDIATE")?;
    // From here on the multi-backend connection's transaction manager is
    // the SQLite one (it delegates), so commit and rollback are diesel's.
    match f(conn) {
        Ok(value) => {
            Tm::commit_transaction(conn)?;
            Ok(value)
        }
        Err(e) => match Tm::rollback_transaction(conn) {
            Ok(()) | Err(DieselError::BrokenTransactionManager) => Err(e),
            Err(rollback) => Err(rollback.into()),
        },
    }
}

/// Retries a transaction that lost a race on a unique constraint or a
/// serialization check (SPEC §2: two logins at the same time).
pub fn with_retry<T, F>(conn: &mut DbConnection, mut f: F) -> Result<T, DbError>
where
    F: FnMut(&mut DbConnection) -> Result<T, DbError>,
{
    let mut attempt = 0;
    loop {
        attempt += 1;
        match write_tx(conn, &mut f) {
            Err(e) if e.is_retryable() && attempt < 6 => {
                tracing::debug!(attempt, "retrying a transaction after a conflict");
                std::thread::sleep(std::time::Duration::from_millis(5 * attempt));
            }
            other => return other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_scheme_decides_backend() {
        assert!(matches!(
            DatabaseUrl::parse("postgres://u@h/db"),
            Ok(DatabaseUrl::Postgres(_))
        ));
        assert_eq!(
            DatabaseUrl::parse("sqlite:./data/x.db"),
            Ok(DatabaseUrl::Sqlite("./data/x.db".into()))
        );
        assert_eq!(
            DatabaseUrl::parse("data/x.db"),
            Ok(DatabaseUrl::Sqlite("data/x.db".into()))
        );
        assert!(DatabaseUrl::parse("mysql://x").is_err());
        assert!(DatabaseUrl::parse("").is_err());
    }

    /// `Db::read` on SQLite: on the calling thread while a connection is
    /// free, on a blocking thread when none is, and a panic is an error.
    #[tokio::test(flavor = "current_thread")]
    async fn a_short_read_runs_here_when_a_connection_is_free() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let url = DatabaseUrl::Sqlite(dir.path().join("read.sqlite"));
        let db = Db::open_with_size(&url, 1).expect("the database opens");
        // The pool opens connections on demand: one now, left idle.
        drop(db.conn().expect("a connection"));
        let here = std::thread::current().id();
        let ran_on = db
            .read(|_| Ok::<_, DbError>(std::thread::current().id()))
            .await
            .expect("the read runs");
        assert_eq!(ran_on, here, "a free connection: no hop");

        let held = db.conn().expect("the only connection");
        let db2 = db.clone();
        let away = tokio::spawn(async move {
            db2.read(|_| Ok::<_, DbError>(std::thread::current().id()))
                .await
        });
        // The read waits on a blocking thread for the connection held here.
        tokio::task::yield_now().await;
        drop(held);
        let ran_on = away.await.expect("the task").expect("the read runs");
        assert_ne!(ran_on, here, "no free connection: a blocking thread");

        let panicked = db
            .read(|_| -> Result<(), DbError> { panic!("a bug in a read") })
            .await;
        assert!(matches!(panicked, Err(DbError::Task)));
        // The connection went back to the pool.
        assert!(db.read(|_| Ok::<_, DbError>(())).await.is_ok());
    }
}
