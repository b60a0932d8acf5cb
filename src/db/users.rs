//! Users: people who can sign in.
use super::models::{ListedUser, NewUser, User, now};
use super::schema::{affiliations, customers, users};
use super::{DbConnection, lower};
use crate::domain::Asn;
use diesel::dsl::sql;
use diesel::expression::BoxableExpression;
use diesel::prelude::*;
use diesel::result::Error;
use diesel::sql_types::{BigInt, Bool, Text};

pub fn insert(conn: &mut DbConnection, new: &NewUser<'_>) -> Result<i64, Error> {
    super::counts::users().changed();
    diesel::insert_into(users::table)
        .values(new)
        .returning(users::id)
        .get_result(conn)
}

/// A user by id. Read for every signed-in request (`web::preload`), so on
/// the backend's own connection (`on_backend!`: diesel's multi-backend
/// layer writes a statement's SQL out on every run, even a prepared one).
pub fn find(conn: &mut DbConnection, id: i64) -> Result<Option<User>, Error> {
    crate::on_backend!(conn, |c| users::table
        .find(id)
        .select(User::as_select())
        .first(c)
        .optional())
}

pub fn by_username(conn: &mut DbConnection, username: &str) -> Result<Option<User>, Error> {
    users::table
        .filter(users::username.eq(username))
        .select(User::as_select())
        .first(conn)
        .optional()
}

pub fn by_email(conn: &mut DbConnection, email: &str) -> Result<Vec<User>, Error> {
    users::table
        .filter(lower(users::email).eq(email.to_lowercase()))
        .select(User::as_select())
        .order(users::id)
        .load(conn)
}

pub fn by_peeringdb_id(conn: &mut DbConnection, id: i64) -> Result<Option<User>, Error> {
    users::table
        .filter(users::peeringdb_id.eq(id))
        .select(User::as_select())
        .first(conn)
        .optional()
}

pub fn by_ids(conn: &mut DbConnection, ids: &[i64]) -> Result<Vec<User>, Error> {
    users::table
        .filter(users::id.eq_any(ids.to_vec()))
        .select(User::as_select())
        .load(conn)
}

pub fn update_profile(
    conn: &mut DbConnection,
    id: i64,
    name: &str,
    email: &str,
) -> Result<usize, Error> {
    // Only when something changed: a PeeringDB login sends the same name
    // and email every time, and a no-op write still costs index upkeep.
    let n = diesel::update(
        users::table
            .find(id)
            .filter(users::name.ne(name).or(users::email.ne(email))),
    )
    .set((
        users::name.eq(name),
        users::email.eq(email),
        users::updated_at.eq(now()),
    ))
    .execute(conn)?;
    if n > 0 {
        super::counts::users().changed();
    }
    Ok(n)
}

pub fn update_flags(
    conn: &mut DbConnection,
    id: i64,
    disabled: bool,
    superuser: bool,
) -> Result<usize, Error> {
    if disabled {
        // A disabled user's sessions end with it (SPEC §7).
        super::sessions::end_of_user(conn, id, None)?;
    }
    diesel::update(users::table.find(id))
        .set((
            users::disabled.eq(disabled),
            users::superuser.eq(superuser),
            users::updated_at.eq(now()),
        ))
        .execute(conn)
}

/// Sets a new password hash and ends every session made before it (their
/// rows go; the epoch also refuses any that a racing request recreates).
pub fn set_password(conn: &mut DbConnection, id: i64, hash: &str) -> Result<usize, Error> {
    super::sessions::end_of_user(conn, id, None)?;
    diesel::update(users::table.find(id))
        .set((
            users::password_hash.eq(hash),
            users::session_epoch.eq(users::session_epoch + 1),
            users::updated_at.eq(now()),
        ))
        .execute(conn)
}

pub fn set_current_customer(
    conn: &mut DbConnection,
    id: i64,
    customer: Option<i64>,
) -> Result<usize, Error> {
    diesel::update(users::table.find(id))
        .set(users::current_customer_id.eq(customer))
        .execute(conn)
}

pub fn touch_login(conn: &mut DbConnection, id: i64) -> Result<usize, Error> {
    diesel::update(users::table.find(id))
        .set(users::last_login_at.eq(now()))
        .execute(conn)
}

pub fn delete(conn: &mut DbConnection, id: i64) -> Result<usize, Error> {
    super::counts::users().changed();
    diesel::delete(users::table.find(id)).execute(conn)
}

pub fn any_superuser(conn: &mut DbConnection) -> Result<bool, Error> {
    diesel::select(diesel::dsl::exists(
        users::table.filter(users::superuser.eq(true)),
    ))
    .get_result(conn)
}

/// What the staff user list can filter on.
#[derive(Debug, Clone, Default)]
pub struct UserFilter {
    pub search: Option<String>,
    /// `Some(true)`: only users PeeringDB OAuth created.
    pub oauth: Option<bool>,
    /// SQLite: how many users hold each trigram, to search by the rarest
    /// (`Db::trigrams`); any counts or none find the same users.
    pub trigrams: Option<std::sync::Arc<super::search_index::TrigramCounts>>,
}

/// The user list's query, in the backends' common dialect.
pub type ListQuery<'a> = users::BoxedQuery<
    'a,
    super::MultiBackend,
    diesel::helper_types::AsSelect<User, super::MultiBackend>,
>;

/// A user as the staff list shows them: with the current customer's name
/// (if any) and how many customers they are linked to.
pub type Listed = (ListedUser, Option<String>, i64);

/// What the list selects: the user, and beside it, in the same statement,
/// the current customer's name and the number of links (one index probe
/// each per row; they were two statements more per page, issue 12). Written
/// in diesel's DSL, not as SQL text: diesel never keeps a statement with an
/// SQL literal prepared, and this one runs on every view of the list.
macro_rules! listed {
    () => {
        (
            ListedUser::as_select(),
            customers::table
                .filter(customers::id.nullable().eq(users::current_customer_id))
                .select(customers::name)
                .single_value(),
            affiliations::table
                .filter(affiliations::user_id.eq(users::id))
                .select(diesel::dsl::count_star())
                .single_value(),
        )
    };
}

/// A page of users in username order after `after` (keyset paging: a page
/// deep in the list costs the same as the first), and whether more follow.
pub fn list(
    conn: &mut DbConnection,
    filter: &UserFilter,
    after: Option<&str>,
    limit: i64,
) -> Result<(Vec<Listed>, bool), Error> {
    let unfiltered = filter.oauth.is_none() && searched(filter).is_none();
    let rows = if unfiltered {
        // On the backend's own connection, as `find`.
        let after = after.unwrap_or("");
        crate::on_backend!(conn, |c| unfiltered!(after, limit + 1).load(c))?
    } else {
        let ids = list_query(conn, filter, after, limit + 1).load(conn)?;
        rows_of(conn, &ids)?
    };
    Ok(page(rows, limit))
}

/// The list's rows for `ids`, in that order. A filtered page is two
/// statements: the users that match, ordered and limited, by id alone;
/// then the page's rows with what the list shows beside each user (the
/// current customer's name, the number of links). In one statement SQLite
/// computed both of those for every match before sorting (issue 12: a
/// search for a family name matched 497 of 100,000 users, for a page of
/// 50); PostgreSQL computes them after its sort either way.
fn rows_of(conn: &mut DbConnection, ids: &[i64]) -> Result<Vec<PageRow>, Error> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    // Each backend's own statement, kept prepared (`db::id_list`).
    let mut rows: Vec<PageRow> = match conn {
        DbConnection::Sqlite(c) => users::table
            .filter(super::id_list::UserIdIn::new(ids))
            .select(listed!())
            .load(c)?,
        DbConnection::Pg(c) => users::table
            .filter(users::id.eq_any(ids))
            .select(listed!())
            .load(c)?,
    };
    let place: std::collections::HashMap<i64, usize> =
        ids.iter().enumerate().map(|(i, id)| (*id, i)).collect();
    rows.sort_by_key(|(user, _, _)| place.get(&user.id).copied().unwrap_or(usize::MAX));
    Ok(rows)
}

/// A row of a page as the statement returns it (the count is a nullable
/// subselect; it is never null).
type PageRow = (ListedUser, Option<String>, Option<i64>);

/// The list as staff open it and page through it (no filter, username
/// order), for `limit` rows after `after`; also for query-plan checks.
///
/// A statement of one fixed shape, which diesel prepares once per
/// connection and runs without writing its SQL out again (a boxed query
/// is written out anew on every run to find its prepared statement). Every
/// username sorts after "", so page 1 is the same statement.
pub fn unfiltered_query(
    after: &str,
    limit: i64,
) -> impl diesel::query_builder::QueryFragment<super::MultiBackend> {
    unfiltered!(after.to_string(), limit)
}

/// The statement of [`unfiltered_query`], written once for either backend.
macro_rules! unfiltered {
    ($after:expr, $limit:expr) => {
        users::table
            .filter(users::username.gt($after))
            .order(users::username)
            .limit($limit)
            .select(listed!())
    };
}
use unfiltered;

/// The rows of a page (`limit` of them at most, the query asked for one
/// more) and whether more follow.
fn page(rows: Vec<PageRow>, limit: i64) -> (Vec<Listed>, bool) {
    let more = rows.len() as i64 > limit;
    let rows = rows
        .into_iter()
        .take(limit.max(0) as usize)
        .map(|(user, name, links)| (user, name, links.unwrap_or(0)))
        .collect();
    (rows, more)
}

/// The ids of a page of `list` with a filter (`limit` of them, in the
/// list's order; see [`rows_of`]), also for query-plan checks.
///
/// The search is a case-insensitive substring of username, name or email
/// (or the ASN of a linked customer). On SQLite, searches of 3 or more
/// characters go through the FTS5 trigram index `users_search`; on
/// PostgreSQL the same `LIKE` is served by pg_trgm indexes where installed.
pub fn list_query(
    conn: &DbConnection,
    filter: &UserFilter,
    after: Option<&str>,
    limit: i64,
) -> IdsQuery<'static> {
    let mut q = filtered(conn, filter).order(users::username).limit(limit);
    if let Some(after) = after {
        q = q.filter(users::username.gt(after.to_string()));
    }
    q.select(users::id)
}

/// The statement of a filtered page's ids.
pub type IdsQuery<'a> = users::BoxedQuery<'a, super::MultiBackend, BigInt>;

/// The search text of a filter, trimmed; `None` when there is none.
fn searched(filter: &UserFilter) -> Option<&str> {
    filter
        .search
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
}

/// The users that match the filter, in no particular order.
fn filtered(conn: &DbConnection, filter: &UserFilter) -> ListQuery<'static> {
    let mut q = users::table.select(User::as_select()).into_boxed();
    match filter.oauth {
        Some(true) => q = q.filter(users::creator.eq(crate::domain::OAUTH_CREATOR)),
        Some(false) => q = q.filter(users::creator.ne(crate::domain::OAUTH_CREATOR)),
        None => {}
    }
    if let Some(s) = searched(filter) {
        let pattern = format!("%{}%", super::customers::escape_like(&s.to_lowercase()));
        let trigram = s.chars().count() >= 3;
        let text: Box<Condition> = match conn {
            // ASCII text: users whose fields hold a few of its trigrams
            // (FTS5), then the substring itself (`LIKE`); see `fts_query`.
            DbConnection::Sqlite(_) if trigram && s.is_ascii() => Box::new(
                sql::<Bool>(
                    "users.id IN (SELECT rowid FROM users_search WHERE users_search MATCH ",
                )
                .bind::<Text, _>(fts_query(s, filter.trigrams.as_deref()))
                .sql(")")
                .and(contains(conn, pattern)),
            ),
            DbConnection::Sqlite(_) if trigram => {
                // A phrase of the whole text: its trigrams in a row, i.e.
                // a substring (the trigram tokenizer folds the case of
                // every letter, `LIKE` only of ASCII ones).
                Box::new(
                    sql::<Bool>(
                        "users.id IN (SELECT rowid FROM users_search WHERE users_search MATCH ",
                    )
                    .bind::<Text, _>(fts_quoted(s))
                    .sql(")"),
                )
            }
            DbConnection::Pg(_) if trigram => matches_first(pattern),
            _ => contains(conn, pattern),
        };
        q = match s.parse::<Asn>() {
            Ok(asn) => {
                let linked = affiliations::table
                    .inner_join(customers::table)
                    .filter(customers::autsys.eq(asn))
                    .select(affiliations::user_id);
                q.filter(text.or(users::id.eq_any(linked)))
            }
            Err(_) => q.filter(text),
        };
    }
    q
}

/// The users whose username, name or email contain `pattern` (a `LIKE`
/// pattern, lower case). On SQLite as it is: its `LIKE` ignores the case
/// of ASCII letters and its `lower()` changes no others, so `lower()` would
/// only copy every value it reads (issue 12: 10 % of a mail-domain search's
/// instructions). PostgreSQL's `LIKE` heeds case.
fn contains(conn: &DbConnection, pattern: String) -> Box<Condition> {
    macro_rules! any_like {
        ($name:expr, $email:expr) => {
            Box::new(
                users::username
                    .like(pattern.clone())
                    .escape('\\')
                    .or($name.like(pattern.clone()).escape('\\'))
                    .or($email.like(pattern).escape('\\')),
            )
        };
    }
    match conn {
        DbConnection::Sqlite(_) => any_like!(users::name, users::email),
        DbConnection::Pg(_) => any_like!(lower(users::name), lower(users::email)),
    }
}

/// A text as one FTS5 string (quoted, its quotes doubled): with the
/// trigram tokenizer, a phrase of its trigrams in a row.
fn fts_quoted(s: &str) -> String {
    format!("\"{}\"", s.replace('"', "\"\""))
}

/// SQLite: the FTS5 query that finds the users whose fields hold some
/// trigrams of an ASCII text `s` (3 characters or more), anywhere, ANDed.
/// Every user that contains `s` matches; those that hold the trigrams but
/// not `s` are dropped by the `LIKE` beside it. A phrase of all the
/// trigrams (in a row: the substring itself) finds the same users but walks
/// the positions of every trigram in every candidate, and every trigram's
/// list of users, however long (issue 12: a family name's phrase was 40 %
/// of its search's instructions; a mail domain's trigram `com` is held by
/// a fifth of all users).
///
/// With `counts`, the rarest trigram and the next rarest while they are
/// held by at most [`RARE_FACTOR`] times as many users, [`MAX_TRIGRAMS`]
/// at most; without, every trigram once.
fn fts_query(s: &str, counts: Option<&super::search_index::TrigramCounts>) -> String {
    let mut seen = std::collections::HashSet::new();
    let mut trigrams: Vec<String> = (0..s.len().saturating_sub(2))
        .filter_map(|i| s.get(i..i + 3))
        .map(str::to_ascii_lowercase)
        .filter(|t| seen.insert(t.clone()))
        .collect();
    if let Some(counts) = counts {
        trigrams.sort_by_key(|t| counts.of(t));
        let rarest = trigrams.first().map_or(0, |t| counts.of(t));
        let most = rarest.saturating_mul(RARE_FACTOR);
        trigrams.truncate(
            trigrams
                .iter()
                .take(MAX_TRIGRAMS)
                .take_while(|t| counts.of(t) <= most)
                .count()
                .max(1),
        );
    }
    trigrams
        .iter()
        .map(|t| fts_quoted(t))
        .collect::<Vec<_>>()
        .join(" AND ")
}

/// A trigram joins the rarest one in a search while at most this many
/// times as many users hold it (see [`fts_query`]).
const RARE_FACTOR: u32 = 4;
/// Trigrams in a search at most, when their counts are known.
const MAX_TRIGRAMS: usize = 3;

/// PostgreSQL: the users whose username, name or email contain `pattern`
/// (a `LIKE` pattern, lower case), found first through the pg_trgm
/// indexes, as SQLite finds them first through its FTS5 index; the list
/// then sorts those. `ARRAY(…)` keeps them apart: in one statement the
/// planner may instead walk the whole list in its order and test every
/// user until the page is full (issue 12: for a family name, 9,600 users
/// tested for a page of 51, 10.5 ms against 1.5 ms). A search then costs
/// in proportion to its matches; one that matches a fifth of all users
/// ("com") takes tens of milliseconds.
///
/// An SQL literal, so never a prepared statement: PostgreSQL plans each
/// search for its own pattern (a prepared one may get a plan made for
/// any pattern after five runs).
fn matches_first(pattern: String) -> Box<Condition> {
    Box::new(
        sql::<Bool>("users.id = ANY(ARRAY(SELECT m.id FROM users m WHERE m.username LIKE ")
            .bind::<Text, _>(pattern.clone())
            .sql(" ESCAPE '\\' OR lower(m.name) LIKE ")
            .bind::<Text, _>(pattern.clone())
            .sql(" ESCAPE '\\' OR lower(m.email) LIKE ")
            .bind::<Text, _>(pattern)
            .sql(" ESCAPE '\\'))"),
    )
}

/// A condition on a user, boxed (the search's varies by backend).
type Condition = dyn BoxableExpression<users::table, super::MultiBackend, SqlType = Bool>;

/// The orders of the staff user list; ties by username (unique).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserSort {
    Username,
    Name,
    Email,
    /// Users who never signed in come last either way.
    LastLogin,
    Created,
}

/// A page of users in the given order after the user `after` (keyset
/// paging by that user's place in the order), and whether more follow.
pub fn list_sorted(
    conn: &mut DbConnection,
    filter: &UserFilter,
    sort: UserSort,
    desc: bool,
    after: Option<&str>,
    limit: i64,
) -> Result<(Vec<Listed>, bool), Error> {
    if sort == UserSort::Username && !desc {
        return list(conn, filter, after, limit);
    }
    let cursor = match after {
        Some(a) if sort != UserSort::Username => by_username(conn, a)?,
        _ => None,
    };
    let mut q = filtered(conn, filter);
    macro_rules! by {
        ($col:expr, $value:expr) => {{
            if let Some(c) = &cursor {
                let (v, u) = ($value(c), c.username.clone());
                q = if desc {
                    q.filter($col.lt(v.clone()).or($col.eq(v).and(users::username.lt(u))))
                } else {
                    q.filter($col.gt(v.clone()).or($col.eq(v).and(users::username.gt(u))))
                };
            }
            if desc {
                q.order(($col.desc(), users::username.desc()))
            } else {
                q.order(($col.asc(), users::username.asc()))
            }
        }};
    }
    let q = match sort {
        UserSort::Username => {
            if let Some(a) = after {
                q = q.filter(users::username.lt(a.to_string()));
            }
            q.order(users::username.desc())
        }
        UserSort::Name => by!(users::name, |c: &User| c.name.clone()),
        UserSort::Email => by!(users::email, |c: &User| c.email.clone()),
        UserSort::Created => by!(users::created_at, |c: &User| c.created_at),
        UserSort::LastLogin => {
            let col = users::last_login_at;
            if let Some(c) = &cursor {
                let u = c.username.clone();
                q = match (c.last_login_at, desc) {
                    (Some(t), true) => q.filter(
                        col.lt(t)
                            .or(col.eq(t).and(users::username.lt(u)))
                            .or(col.is_null()),
                    ),
                    (Some(t), false) => q.filter(
                        col.gt(t)
                            .or(col.eq(t).and(users::username.gt(u)))
                            .or(col.is_null()),
                    ),
                    (None, true) => q.filter(col.is_null().and(users::username.lt(u))),
                    (None, false) => q.filter(col.is_null().and(users::username.gt(u))),
                };
            }
            if desc {
                q.order((col.is_null().asc(), col.desc(), users::username.desc()))
            } else {
                q.order((col.is_null().asc(), col.asc(), users::username.asc()))
            }
        }
    };
    let ids: Vec<i64> = q.limit(limit + 1).select(users::id).load(conn)?;
    Ok(page(rows_of(conn, &ids)?, limit))
}

/// How many users the filter matches, counted up to `cap` (a search over a
/// hundred thousand users stays cheap; the list says "10,000+").
pub fn count_matching(
    conn: &mut DbConnection,
    filter: &UserFilter,
    cap: i64,
) -> Result<(i64, bool), Error> {
    let ids: Vec<i64> = filtered(conn, filter)
        .select(users::id)
        .limit(cap + 1)
        .load(conn)?;
    let n = ids.len() as i64;
    Ok((n.min(cap), n > cap))
}

pub fn all(conn: &mut DbConnection) -> Result<Vec<User>, Error> {
    users::table
        .select(User::as_select())
        .order(users::username)
        .load(conn)
}

/// All users, and those PeeringDB OAuth created.
pub fn counts(conn: &mut DbConnection) -> Result<(i64, i64), Error> {
    let all = users::table.count().get_result(conn)?;
    let oauth = users::table
        .filter(users::creator.eq(crate::domain::OAUTH_CREATOR))
        .count()
        .get_result(conn)?;
    Ok((all, oauth))
}

/// Which of `base`, `base2`, `base3`, … are taken, asked in batches of 50
/// exact names (an index lookup each, where a `LIKE 'base%'` would scan
/// every user) until a batch has a free one.
pub fn taken_candidates(
    conn: &mut DbConnection,
    base: &crate::domain::Username,
) -> Result<std::collections::HashSet<String>, Error> {
    let mut taken = std::collections::HashSet::new();
    let mut start = 1u64;
    loop {
        let batch: Vec<String> = (start..start + 50)
            .map(|n| base.with_suffix(n).to_string())
            .collect();
        let found: Vec<String> = users::table
            .filter(users::username.eq_any(&batch))
            .select(users::username)
            .load(conn)?;
        let full = found.len() == batch.len();
        taken.extend(found);
        if !full {
            return Ok(taken);
        }
        start += 50;
    }
}

#[cfg(test)]
mod tests {
    use super::fts_query;
    use crate::db::search_index::TrigramCounts;

    #[test]
    fn an_fts_query_ands_each_trigram_once() {
        let cases = [
            ("abc", r#""abc""#),
            ("abcd", r#""abc" AND "bcd""#),
            (
                "kowalski",
                r#""kow" AND "owa" AND "wal" AND "als" AND "lsk" AND "ski""#,
            ),
            ("aaaaA", r#""aaa""#),
            ("a\"b c", r#""a""b" AND """b " AND "b c""#),
        ];
        for (text, want) in cases {
            assert_eq!(fts_query(text, None), want, "{text}");
        }
    }

    #[test]
    fn with_counts_an_fts_query_asks_for_the_rarest_trigrams() {
        let counts = TrigramCounts::from_pairs(
            [
                ("alp", 3_000),
                ("lpi", 2_000),
                ("pin", 3_100),
                ("ine", 16_000),
                ("nec", 500),
                ("eco", 4_000),
                ("com", 21_000),
                ("kow", 497),
                ("owa", 2_500),
                ("wal", 1_900),
                ("als", 1_800),
                ("lsk", 600),
                ("ski", 3_400),
            ]
            .map(|(t, n)| (t.to_string(), n)),
        );
        let cases = [
            // The rarest, then the next while held by at most 4 times as
            // many users, 3 at most.
            ("alpinecom", r#""nec" AND "lpi""#),
            ("kowalski", r#""kow" AND "lsk" AND "als""#),
            // Only one rare enough.
            ("necom", r#""nec""#),
            // A trigram not counted counts as held by none (a user added
            // since they were read may hold it: FTS5 itself still looks).
            ("COMINE", r#""omi" AND "min""#),
        ];
        for (text, want) in cases {
            assert_eq!(fts_query(text, Some(&counts)), want, "{text}");
        }
    }
}
