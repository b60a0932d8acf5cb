//! The SQLite index of the staff user search (`users_search`, an FTS5
//! trigram index kept by triggers), kept in one piece.
//!
//! Each transaction that adds, changes or removes users writes a new
//! segment; FTS5 merges them only when a level holds four, so the index
//! settles at a dozen or more, and every search reads each of them (issue
//! 12: 17 segments in `examples/bench`'s 100,000 users; merged into one, a
//! search for a family name took 17 % fewer instructions). PostgreSQL's
//! trigram indexes need nothing of the kind.
use super::DbConnection;
use diesel::prelude::*;
use diesel::result::Error;
use diesel::sql_types::BigInt;

/// Pages of merge work per step, each step its own write transaction of a
/// few milliseconds, so that logins wait for no more than one step.
const STEP_PAGES: i64 = 64;

/// Steps at most per call: enough to merge the index of a million users;
/// a later call goes on where this one stopped.
const MAX_STEPS: usize = 2_000;

/// Merges the index's segments into one, in steps (FTS5's `merge` command
/// with a negative size: segments of all levels, as few as two at a time).
/// Returns the steps that did some work: 0 when the index was in one piece
/// already, and always 0 on PostgreSQL.
pub fn tidy(conn: &mut DbConnection) -> Result<usize, Error> {
    let DbConnection::Sqlite(c) = conn else {
        return Ok(0);
    };
    let changes = |c: &mut diesel::SqliteConnection| {
        diesel::select(diesel::dsl::sql::<BigInt>("total_changes()")).get_result::<i64>(c)
    };
    let mut steps = 0;
    while steps < MAX_STEPS {
        let before = changes(c)?;
        diesel::sql_query("INSERT INTO users_search (users_search, rank) VALUES ('merge', ?)")
            .bind::<BigInt, _>(-STEP_PAGES)
            .execute(c)?;
        // FTS5's own test of a step that merged nothing: fewer than two
        // rows changed.
        if changes(c)? - before < 2 {
            break;
        }
        steps += 1;
    }
    Ok(steps)
}

/// The segments of the index now (SQLite; 0 on PostgreSQL).
pub fn segments(conn: &mut DbConnection) -> Result<i64, Error> {
    let DbConnection::Sqlite(c) = conn else {
        return Ok(0);
    };
    diesel::select(diesel::dsl::sql::<BigInt>(
        "(SELECT count(DISTINCT segid) FROM users_search_idx)",
    ))
    .get_result(c)
}
