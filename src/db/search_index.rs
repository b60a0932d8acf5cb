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
use diesel::sql_types::{BigInt, Text};
use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

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

/// How many users hold each trigram of the index (SQLite), as FTS5 counted
/// them when they were read: a search asks FTS5 for the users holding the
/// rarest trigrams of its text and checks those (`db::users`), since a
/// trigram held by a fifth of all users (`com`, `net`) costs more to walk
/// than all the others together (issue 12). Only a guide: a trigram not
/// counted here counts as rare, and a search finds the same users with any
/// counts or none.
#[derive(Default)]
pub struct TrigramCounts {
    counts: HashMap<[u8; 3], u32>,
}

impl std::fmt::Debug for TrigramCounts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "TrigramCounts({} trigrams)", self.counts.len())
    }
}

impl TrigramCounts {
    /// Counts from (trigram, users) pairs; trigrams of other than three
    /// ASCII bytes are left out (searches with other text do not ask).
    pub fn from_pairs(pairs: impl IntoIterator<Item = (String, i64)>) -> TrigramCounts {
        let counts = pairs
            .into_iter()
            .filter_map(|(t, n)| {
                let key: [u8; 3] = t.as_bytes().try_into().ok()?;
                Some((key, u32::try_from(n.max(0)).unwrap_or(u32::MAX)))
            })
            .collect();
        TrigramCounts { counts }
    }

    /// Users holding the (lower-case, ASCII) trigram `t`; 0 when not
    /// counted.
    pub fn of(&self, t: &str) -> u32 {
        <[u8; 3]>::try_from(t.as_bytes())
            .ok()
            .and_then(|k| self.counts.get(&k).copied())
            .unwrap_or(0)
    }
}

/// Reads the trigram counts of the index whole (SQLite; `None` on
/// PostgreSQL): one pass over the index, about 0.2 s for 100,000 users.
pub fn read_counts(conn: &mut DbConnection) -> Result<Option<TrigramCounts>, Error> {
    let DbConnection::Sqlite(c) = conn else {
        return Ok(None);
    };
    diesel::sql_query(
        "CREATE VIRTUAL TABLE IF NOT EXISTS temp.users_search_terms \
         USING fts5vocab(main, users_search, row)",
    )
    .execute(c)?;
    #[derive(QueryableByName)]
    struct Term {
        #[diesel(sql_type = Text)]
        term: String,
        #[diesel(sql_type = BigInt)]
        doc: i64,
    }
    let terms: Vec<Term> =
        diesel::sql_query("SELECT term, doc FROM temp.users_search_terms").load(c)?;
    Ok(Some(TrigramCounts::from_pairs(
        terms.into_iter().map(|t| (t.term, t.doc)),
    )))
}

/// How old counts may grow before the background reads them again.
pub const COUNTS_MAX_AGE: Duration = Duration::from_secs(600);

/// The latest trigram counts of one database, shared by its pool's users.
#[derive(Default)]
pub struct Latest(RwLock<Option<(Instant, Arc<TrigramCounts>)>>);

impl Latest {
    /// The counts, if read yet.
    pub fn get(&self) -> Option<Arc<TrigramCounts>> {
        self.0.read().ok()?.as_ref().map(|(_, c)| c.clone())
    }

    /// Are there no counts, or are they older than [`COUNTS_MAX_AGE`]?
    pub fn stale(&self) -> bool {
        self.0
            .read()
            .map(|g| {
                g.as_ref()
                    .is_none_or(|(at, _)| at.elapsed() > COUNTS_MAX_AGE)
            })
            .unwrap_or(true)
    }

    /// Keeps fresh counts.
    pub fn set(&self, counts: TrigramCounts) {
        if let Ok(mut g) = self.0.write() {
            *g = Some((Instant::now(), Arc::new(counts)));
        }
    }
}
