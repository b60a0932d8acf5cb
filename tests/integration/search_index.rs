//! Issue 12: the SQLite index of the user search, merged into one piece by
//! the purge loop (`db::search_index::tidy`), still finds every user.
use crate::both_backends;
use crate::common::{Backend, fresh_postgres};
use diesel::connection::SimpleConnection;
use ixp_portal::db::users::{self, UserFilter};
use ixp_portal::db::{DatabaseUrl, Db, search_index};

both_backends!(
    the_search_index_is_merged_into_one_piece,
    a_searched_page_reads_its_rows_through_a_kept_statement,
);

/// A database of one connection with `n` users named `Person {family}NN`,
/// each added in a transaction of its own; `None` when PostgreSQL is not
/// at hand. Keep the guards for the test's length.
fn with_users(
    b: Backend,
    n: usize,
    family: &str,
) -> Option<(Db, tempfile::TempDir, Option<crate::common::PgDatabase>)> {
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
    let mut c = db.conn().expect("a connection");
    for i in 0..n {
        c.batch_execute(&format!(
            "INSERT INTO users (username, name, email, password_hash, creator, created_at, updated_at) \
             VALUES ('user{i:02}', 'Person {family}{i:02}', 'user{i:02}@example.net', '!', 'test', \
             '2026-01-01 00:00:00', '2026-01-01 00:00:00')"
        ))
        .expect("a user");
    }
    drop(c);
    Some((db, dir, pg))
}

async fn the_search_index_is_merged_into_one_piece(b: Backend) {
    // One transaction per user, as users come: a segment each, merged by
    // FTS5 only four at a time.
    // Dropped whole: the pool first, then the files or the database.
    let Some(fixture) = with_users(b, 40, "Kowalski") else {
        return;
    };
    let mut c = fixture.0.conn().expect("a connection");
    let before = search_index::segments(&mut c).expect("segments");
    let steps = search_index::tidy(&mut c).expect("the merge");
    let after = search_index::segments(&mut c).expect("segments");
    match b {
        Backend::Sqlite => {
            assert!(before > 1, "the index came in pieces: {before}");
            assert!(steps > 0, "the merge did some work");
            assert_eq!(after, 1, "one piece after the merge (from {before})");
            assert_eq!(
                search_index::tidy(&mut c).expect("again"),
                0,
                "nothing left"
            );
        }
        Backend::Postgres => assert_eq!((before, steps, after), (0, 0, 0)),
    }
    // The search finds the same users through the merged index.
    let filter = UserFilter {
        search: Some("owalski1".into()),
        ..Default::default()
    };
    let (rows, more) = users::list(&mut c, &filter, None, 50).expect("the search");
    let names: Vec<&str> = rows.iter().map(|(u, _, _)| u.username.as_str()).collect();
    assert_eq!(
        names,
        (10..20).map(|i| format!("user{i}")).collect::<Vec<_>>(),
        "every match, in username order"
    );
    assert!(!more);
    // Searching by the rarest trigrams (their counts read from the index)
    // finds the same users.
    let counts = search_index::read_counts(&mut c).expect("the trigram counts");
    assert_eq!(counts.is_some(), matches!(b, Backend::Sqlite));
    let counted = UserFilter {
        trigrams: counts.map(std::sync::Arc::new),
        ..filter
    };
    let (again, _) = users::list(&mut c, &counted, None, 50).expect("the search");
    let again: Vec<&str> = again.iter().map(|(u, _, _)| u.username.as_str()).collect();
    assert_eq!(again, names, "the same users with the counts");
}

/// Issue 12: the rows of a searched page come from one statement that the
/// connection keeps prepared (`db::id_list`), whatever the ids: diesel
/// prepared `IN (?, ?, …)` anew on every search.
async fn a_searched_page_reads_its_rows_through_a_kept_statement(b: Backend) {
    use diesel::connection::{Connection, InstrumentationEvent};
    use std::sync::{Arc, Mutex};
    // Dropped whole: the pool first, then the files or the database.
    let Some(fixture) = with_users(b, 30, "Nowak") else {
        return;
    };
    let mut c = fixture.0.conn().expect("a connection");
    let kept: Arc<Mutex<Vec<String>>> = Arc::default();
    let k = kept.clone();
    c.set_instrumentation(move |e: InstrumentationEvent<'_>| {
        if let InstrumentationEvent::CacheQuery { sql, .. } = e
            && let Ok(mut k) = k.lock()
        {
            k.push(sql.to_string());
        }
    });
    let search = |c: &mut ixp_portal::db::DbConnection, text: &str| {
        let filter = UserFilter {
            search: Some(text.into()),
            ..Default::default()
        };
        let (rows, _) = users::list(c, &filter, None, 50).expect("the search");
        rows.len()
    };
    assert_eq!(search(&mut c, "nowak"), 30);
    let first: Vec<String> = kept.lock().expect("kept").drain(..).collect();
    assert_eq!(first.len(), 1, "the rows' statement is kept: {first:?}");
    assert_eq!(search(&mut c, "nowak1"), 10);
    assert_eq!(search(&mut c, "user2"), 10);
    assert!(
        kept.lock().expect("kept").is_empty(),
        "the same statement serves other ids"
    );
}
