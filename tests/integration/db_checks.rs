//! Issue 11: CHECK constraints on the coded columns, on both databases;
//! on SQLite the table rebuild keeps rows, ids, indexes, foreign keys and
//! the user search.
use crate::both_backends;
use crate::common::{Backend, PgDatabase, fresh_postgres};
use diesel::connection::SimpleConnection;
use diesel::{Connection, PgConnection, RunQueryDsl, SqliteConnection};
use diesel_migrations::{FileBasedMigrations, MigrationHarness};

both_backends!(the_rebuild_keeps_the_data_and_refuses_unknown_codes);

const MINE: &str = "coded_checks";

/// Applies the migrations before this one, `before`, then the rest, then `after`.
fn around<C>(c: &mut C, dir: &str, before: &str, after: &mut dyn FnMut(&mut C))
where
    C: MigrationHarness<C::Backend> + Connection + SimpleConnection,
{
    let migrations = FileBasedMigrations::from_path(dir).expect("migrations folder");
    loop {
        let pending = c.pending_migrations(migrations.clone()).expect("pending");
        let Some(next) = pending.first() else { break };
        if next.name().to_string().contains(MINE) {
            break;
        }
        c.run_migration(next.as_ref())
            .expect("an earlier migration runs");
    }
    c.batch_execute(before).expect("rows before the migration");
    c.run_pending_migrations(migrations)
        .expect("the migration runs");
    after(c);
}

const ROWS: &str = "
    INSERT INTO customers (id, name, shortname, autsys, cust_type, status, peeringdb_oauth, created_at, updated_at)
        VALUES (7, 'Acme', 'acme', 64500, 1, 1, TRUE, '2026-01-01 00:00:00', '2026-01-01 00:00:00'),
               (9, 'Gone', 'gone', 64501, 4, 3, FALSE, '2026-01-01 00:00:00', '2026-01-01 00:00:00');
    DELETE FROM customers WHERE id = 9;
    INSERT INTO users (id, username, name, email, password_hash, creator, disabled, superuser,
            current_customer_id, session_epoch, created_at, updated_at)
        VALUES (3, 'jane', 'Jane Roe', 'jane@example.net', 'x', 'cli', FALSE, FALSE, 7, 0,
            '2026-01-01 00:00:00', '2026-01-01 00:00:00');
    INSERT INTO affiliations (id, user_id, customer_id, privilege, created_by, created_at, updated_at)
        VALUES (5, 3, 7, 2, 'peeringdb', '2026-01-01 00:00:00', '2026-01-01 00:00:00');
";

fn count<C: Connection>(c: &mut C, sql: &str) -> i64
where
    i64: diesel::deserialize::FromSql<diesel::sql_types::BigInt, C::Backend>,
    C::Backend: diesel::sql_types::HasSqlType<diesel::sql_types::BigInt>,
    diesel::query_builder::SqlQuery: diesel::query_dsl::LoadQuery<'static, C, N>,
{
    diesel::sql_query(sql).get_result::<N>(c).expect(sql).n
}

#[derive(diesel::QueryableByName)]
struct N {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

fn checks<C: Connection>(c: &mut C)
where
    diesel::query_builder::SqlQuery: diesel::query_dsl::LoadQuery<'static, C, N>,
    i64: diesel::deserialize::FromSql<diesel::sql_types::BigInt, C::Backend>,
    C::Backend: diesel::sql_types::HasSqlType<diesel::sql_types::BigInt>,
{
    let one = |c: &mut C, sql: &str| count(c, sql);
    assert_eq!(
        one(
            c,
            "SELECT COUNT(*) AS n FROM customers WHERE id = 7 AND shortname = 'acme' AND cust_type = 1"
        ),
        1
    );
    assert_eq!(
        one(
            c,
            "SELECT COUNT(*) AS n FROM affiliations WHERE id = 5 AND user_id = 3 AND customer_id = 7 AND privilege = 2"
        ),
        1
    );
    for bad in [
        "INSERT INTO customers (name, shortname, autsys, cust_type, status, peeringdb_oauth, created_at, updated_at) VALUES ('B', 'b1', 64510, 9, 1, TRUE, '2026-01-01 00:00:00', '2026-01-01 00:00:00')",
        "INSERT INTO customers (name, shortname, autsys, cust_type, status, peeringdb_oauth, created_at, updated_at) VALUES ('B', 'b2', 64510, 1, 0, TRUE, '2026-01-01 00:00:00', '2026-01-01 00:00:00')",
        "UPDATE affiliations SET privilege = 3 WHERE id = 5",
        "UPDATE affiliations SET created_by = 'someone' WHERE id = 5",
    ] {
        assert!(c.batch_execute(bad).is_err(), "accepted: {bad}");
    }
    // A new row takes an id past the deleted customer 9, never 9 again.
    c.batch_execute("INSERT INTO customers (name, shortname, autsys, cust_type, status, peeringdb_oauth, created_at, updated_at) VALUES ('New', 'new', 64502, 2, 2, TRUE, '2026-01-01 00:00:00', '2026-01-01 00:00:00')").expect("a valid customer");
    assert_eq!(
        one(
            c,
            "SELECT COUNT(*) AS n FROM customers WHERE shortname = 'new' AND id > 9"
        ),
        1
    );
    // Foreign keys still point at the rebuilt tables.
    c.batch_execute("DELETE FROM customers WHERE id = 7")
        .expect("delete");
    assert_eq!(
        one(c, "SELECT COUNT(*) AS n FROM affiliations"),
        0,
        "cascaded"
    );
    assert_eq!(
        one(
            c,
            "SELECT COUNT(*) AS n FROM users WHERE id = 3 AND current_customer_id IS NULL"
        ),
        1,
        "set null"
    );
    assert!(c.batch_execute("INSERT INTO affiliations (user_id, customer_id, privilege, created_by, created_at, updated_at) VALUES (3, 12345, 1, 'cli', '2026-01-01 00:00:00', '2026-01-01 00:00:00')").is_err(), "a link to no customer");
}

async fn the_rebuild_keeps_the_data_and_refuses_unknown_codes(b: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let _pg: Option<PgDatabase>;
    match b {
        Backend::Sqlite => {
            _pg = None;
            let mut c =
                SqliteConnection::establish(&dir.path().join("p.sqlite").display().to_string())
                    .unwrap();
            c.batch_execute("PRAGMA foreign_keys = ON").unwrap();
            around(
                &mut c,
                "migrations/sqlite",
                ROWS,
                &mut |c: &mut SqliteConnection| {
                    checks(c);
                    assert_eq!(
                        count(c, "SELECT COUNT(*) AS n FROM pragma_foreign_key_check"),
                        0
                    );
                    assert_eq!(
                        count(
                            c,
                            "SELECT COUNT(*) AS n FROM users_search WHERE users_search MATCH 'Roe'"
                        ),
                        1
                    );
                    assert_eq!(
                        count(
                            c,
                            "SELECT COUNT(*) AS n FROM sqlite_master WHERE name IN ('customers_shortname', 'customers_autsys', 'customers_name', 'affiliations_user_customer', 'affiliations_customer', 'affiliations_confirmed', 'users_search_insert')"
                        ),
                        7
                    );
                    assert_eq!(
                        count(
                            c,
                            "SELECT COUNT(*) AS n FROM sqlite_master WHERE name LIKE '%\\_new' ESCAPE '\\'"
                        ),
                        0
                    );
                    let fk: i64 = count(c, "SELECT foreign_keys AS n FROM pragma_foreign_keys");
                    assert_eq!(fk, 1, "foreign keys back on");
                },
            );
        }
        Backend::Postgres => {
            let Some(pg) = fresh_postgres() else { return };
            let mut c = PgConnection::establish(&pg.url).unwrap();
            let rows = format!(
                "{ROWS} SELECT setval('customers_id_seq', 9); SELECT setval('affiliations_id_seq', 5); SELECT setval('users_id_seq', 3);"
            );
            around(
                &mut c,
                "migrations/postgres",
                &rows,
                &mut |c: &mut PgConnection| checks(c),
            );
            _pg = Some(pg);
        }
    }
}
