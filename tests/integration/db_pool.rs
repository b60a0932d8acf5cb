//! Issue 11, finding 11: the pool never hands out a connection that was
//! left inside a transaction (an early return, or a panic in the closure);
//! the next user's writes commit.
use crate::both_backends;
use crate::common::{Backend, PgDatabase, fresh_postgres};
use diesel::Connection;
use diesel::connection::TransactionManager;
use ixp_portal::db::{DatabaseUrl, Db, DbConnection, DbError, audit, write_tx};

type Tm = <DbConnection as Connection>::TransactionManager;

both_backends!(
    a_transaction_left_open_does_not_reach_the_next_user,
    a_panic_inside_a_transaction_does_not_reach_the_next_user,
    write_transactions_nest_as_savepoints,
);

/// A pool of one connection on a fresh, migrated database, so that the
/// next user gets the same connection unless the pool dropped it.
struct OneConnection {
    db: Db,
    url: DatabaseUrl,
    _dir: tempfile::TempDir,
    _pg: Option<PgDatabase>,
}

fn one_connection(b: Backend) -> Option<OneConnection> {
    let dir = tempfile::tempdir().expect("temp dir");
    let (url, pg) = match b {
        Backend::Sqlite => (DatabaseUrl::Sqlite(dir.path().join("portal.sqlite")), None),
        Backend::Postgres => {
            let pg = fresh_postgres()?;
            (DatabaseUrl::Postgres(pg.url.clone()), Some(pg))
        }
    };
    let db = Db::open_with_size(&url, 1).expect("database opens");
    db.migrate().expect("migrations run");
    Some(OneConnection {
        db,
        url,
        _dir: dir,
        _pg: pg,
    })
}

fn record(c: &mut DbConnection, action: &str) -> Result<(), DbError> {
    Ok(audit::record(c, "test", action, "pool", "")?)
}

/// How many entries of `action` another pool (another connection) sees:
/// only committed rows.
fn committed(url: &DatabaseUrl, action: &str) -> i64 {
    let other = Db::open_with_size(url, 1).expect("second pool");
    let mut c = other.conn().expect("connection");
    audit::count_matching(&mut c, Some(action), None, 10)
        .expect("count")
        .0
}

/// After the closure, the next user of the one connection writes in a
/// transaction of its own, and its write is committed.
async fn next_user_commits(t: &OneConnection) {
    let in_tx =
        t.db.run(|c| -> Result<bool, DbError> {
            Ok(Tm::transaction_manager_status_mut(c)
                .transaction_depth()?
                .is_some())
        })
        .await
        .expect("a connection");
    assert!(
        !in_tx,
        "the pool handed out a connection inside a transaction"
    );
    t.db.run(|c| write_tx(c, |c| record(c, "test.after")))
        .await
        .expect("the next user's write transaction runs");
    assert_eq!(
        committed(&t.url, "test.after"),
        1,
        "the next user's write is committed"
    );
    assert_eq!(
        committed(&t.url, "test.abandoned"),
        0,
        "the abandoned transaction's write is not committed"
    );
}

async fn a_transaction_left_open_does_not_reach_the_next_user(b: Backend) {
    let Some(t) = one_connection(b) else { return };
    let left =
        t.db.run(|c| -> Result<(), DbError> {
            Tm::begin_transaction(c)?;
            record(c, "test.abandoned")?;
            // An early return: no commit, no rollback.
            Err(DbError::Task)
        })
        .await;
    assert!(left.is_err());
    next_user_commits(&t).await;
}

async fn a_panic_inside_a_transaction_does_not_reach_the_next_user(b: Backend) {
    let Some(t) = one_connection(b) else { return };
    let panicked =
        t.db.run(|c| -> Result<(), DbError> {
            c.transaction(|c| -> Result<(), DbError> {
                record(c, "test.abandoned")?;
                panic!("a bug inside a transaction");
            })
        })
        .await;
    assert!(matches!(panicked, Err(DbError::Task)));
    next_user_commits(&t).await;
}

/// A write transaction inside another is a savepoint: its failure undoes
/// its own writes only, and the outer one commits.
async fn write_transactions_nest_as_savepoints(b: Backend) {
    let Some(t) = one_connection(b) else { return };
    t.db.run(|c| {
        write_tx(c, |c| {
            record(c, "test.outer")?;
            let inner = write_tx(c, |c| -> Result<(), DbError> {
                record(c, "test.abandoned")?;
                Err(DbError::Task)
            });
            assert!(inner.is_err());
            write_tx(c, |c| record(c, "test.inner"))
        })
    })
    .await
    .expect("the outer transaction commits");
    assert_eq!(committed(&t.url, "test.outer"), 1);
    assert_eq!(committed(&t.url, "test.inner"), 1);
    assert_eq!(committed(&t.url, "test.abandoned"), 0);
}
