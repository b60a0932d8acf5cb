//! Server-side sessions (SPEC §7): one row per session, found by the
//! SHA-256 of the key its cookie carries.
use super::DbConnection;
use super::models::{User, now};
use super::schema::{sessions, users};
use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;
use diesel::result::Error;

/// A live session as `/profile` and the staff pages show it.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = sessions)]
pub struct SessionRow {
    pub id: i64,
    pub user_id: Option<i64>,
    pub sid: String,
    pub address: String,
    pub user_agent: String,
    #[diesel(deserialize_as = super::stamp::Stamp)]
    pub created_at: NaiveDateTime,
    #[diesel(deserialize_as = super::stamp::Stamp)]
    pub last_seen_at: NaiveDateTime,
    #[diesel(deserialize_as = super::stamp::Stamp)]
    pub expires_at: NaiveDateTime,
}

/// What the store writes besides the state.
pub struct Meta<'a> {
    pub user_id: Option<i64>,
    pub sid: &'a str,
    pub address: &'a str,
    pub user_agent: &'a str,
    /// When the signed-in session began (absolute lifetime); now otherwise.
    pub created_at: NaiveDateTime,
}

/// The state of a live session and the user of its `user_id` column (none
/// when the session is signed out or the user is gone), in one statement.
/// Read for every request with a session cookie (`web::preload`): on
/// PostgreSQL a round trip less than the session and then its user (issue
/// 12); on the backend's own connection, as `users::find`.
pub fn load_with_user(
    conn: &mut DbConnection,
    key_hash: &str,
) -> Result<Option<(String, Option<User>)>, Error> {
    let t = now();
    crate::on_backend!(conn, |c| sessions::table
        .left_join(users::table.on(users::id.nullable().eq(sessions::user_id)))
        .filter(sessions::key_hash.eq(key_hash))
        .filter(sessions::expires_at.gt(t))
        .select((sessions::state, Option::<User>::as_select()))
        .first(c)
        .optional())
}

pub fn insert(
    conn: &mut DbConnection,
    key_hash: &str,
    state: &str,
    meta: &Meta<'_>,
    ttl: Duration,
) -> Result<(), Error> {
    let t = now();
    diesel::insert_into(sessions::table)
        .values((
            sessions::key_hash.eq(key_hash),
            sessions::user_id.eq(meta.user_id),
            sessions::sid.eq(meta.sid),
            sessions::state.eq(state),
            sessions::address.eq(meta.address),
            sessions::user_agent.eq(meta.user_agent),
            sessions::created_at.eq(meta.created_at),
            sessions::last_seen_at.eq(t),
            sessions::expires_at.eq(t + ttl),
        ))
        .execute(conn)?;
    Ok(())
}

/// Updates a live session; false when it is gone (ended elsewhere).
pub fn update(
    conn: &mut DbConnection,
    key_hash: &str,
    state: &str,
    meta: &Meta<'_>,
    ttl: Duration,
) -> Result<bool, Error> {
    let t = now();
    let n = diesel::update(
        sessions::table
            .filter(sessions::key_hash.eq(key_hash))
            .filter(sessions::expires_at.gt(t)),
    )
    .set((
        sessions::user_id.eq(meta.user_id),
        sessions::sid.eq(meta.sid),
        sessions::state.eq(state),
        sessions::address.eq(meta.address),
        sessions::user_agent.eq(meta.user_agent),
        sessions::created_at.eq(meta.created_at),
        sessions::last_seen_at.eq(t),
        sessions::expires_at.eq(t + ttl),
    ))
    .execute(conn)?;
    Ok(n == 1)
}

pub fn touch(conn: &mut DbConnection, key_hash: &str, ttl: Duration) -> Result<(), Error> {
    let t = now();
    diesel::update(sessions::table.filter(sessions::key_hash.eq(key_hash)))
        .set((
            sessions::last_seen_at.eq(t),
            sessions::expires_at.eq(t + ttl),
        ))
        .execute(conn)?;
    Ok(())
}

pub fn delete_by_key(conn: &mut DbConnection, key_hash: &str) -> Result<(), Error> {
    diesel::delete(sessions::table.filter(sessions::key_hash.eq(key_hash))).execute(conn)?;
    Ok(())
}

/// The live sessions of a user, most recently seen first.
pub fn of_user(
    conn: &mut DbConnection,
    user_id: i64,
    max_age: Duration,
) -> Result<Vec<SessionRow>, Error> {
    let t = now();
    sessions::table
        .filter(sessions::user_id.eq(user_id))
        .filter(sessions::expires_at.gt(t))
        .filter(sessions::created_at.gt(t - max_age))
        .select(SessionRow::as_select())
        .order(sessions::last_seen_at.desc())
        .load(conn)
}

/// How many live sessions each user has (for `user show`/`list`).
pub fn count_of_user(
    conn: &mut DbConnection,
    user_id: i64,
    max_age: Duration,
) -> Result<i64, Error> {
    let t = now();
    sessions::table
        .filter(sessions::user_id.eq(user_id))
        .filter(sessions::expires_at.gt(t))
        .filter(sessions::created_at.gt(t - max_age))
        .count()
        .get_result(conn)
}

/// Live sessions per user, for every user that has one.
pub fn counts_by_user(
    conn: &mut DbConnection,
    max_age: Duration,
) -> Result<std::collections::HashMap<i64, i64>, Error> {
    let t = now();
    Ok(sessions::table
        .filter(sessions::expires_at.gt(t))
        .filter(sessions::created_at.gt(t - max_age))
        .filter(sessions::user_id.is_not_null())
        .group_by(sessions::user_id)
        .select((sessions::user_id, diesel::dsl::count_star()))
        .load::<(Option<i64>, i64)>(conn)?
        .into_iter()
        .filter_map(|(u, n)| u.map(|u| (u, n)))
        .collect())
}

/// Ends a user's sessions, all of them or all but the one with this
/// session id. Returns how many ended.
pub fn end_of_user(
    conn: &mut DbConnection,
    user_id: i64,
    except_sid: Option<&str>,
) -> Result<usize, Error> {
    match except_sid.filter(|s| !s.is_empty()) {
        Some(keep) => diesel::delete(
            sessions::table
                .filter(sessions::user_id.eq(user_id))
                .filter(sessions::sid.ne(keep)),
        )
        .execute(conn),
        None => diesel::delete(sessions::table.filter(sessions::user_id.eq(user_id))).execute(conn),
    }
}

/// Ends one session of a user by its row id; false when there is none.
pub fn end_one(conn: &mut DbConnection, user_id: i64, id: i64) -> Result<bool, Error> {
    let n = diesel::delete(
        sessions::table
            .filter(sessions::id.eq(id))
            .filter(sessions::user_id.eq(user_id)),
    )
    .execute(conn)?;
    Ok(n == 1)
}

/// Deletes expired sessions and those past the absolute lifetime.
pub fn purge(conn: &mut DbConnection, max_age: Duration) -> Result<usize, Error> {
    let t = now();
    diesel::delete(
        sessions::table.filter(
            sessions::expires_at
                .le(t)
                .or(sessions::created_at.le(t - max_age)),
        ),
    )
    .execute(conn)
}
