//! Password-reset tokens: stored as SHA-256 hashes, single use, 1 hour.
use super::DbConnection;
use super::models::now;
use super::schema::password_resets;
use chrono::Duration;
use diesel::prelude::*;
use diesel::result::Error;

pub const VALID_MINUTES: i64 = 60;

pub fn create(conn: &mut DbConnection, user_id: i64, token_hash: &str) -> Result<(), Error> {
    let t = now();
    diesel::insert_into(password_resets::table)
        .values((
            password_resets::user_id.eq(user_id),
            password_resets::token_hash.eq(token_hash),
            password_resets::expires_at.eq(t + Duration::minutes(VALID_MINUTES)),
            password_resets::created_at.eq(t),
        ))
        .execute(conn)?;
    Ok(())
}

/// The user a live (unused, unexpired) token belongs to.
pub fn live_user(conn: &mut DbConnection, token_hash: &str) -> Result<Option<i64>, Error> {
    password_resets::table
        .filter(password_resets::token_hash.eq(token_hash))
        .filter(password_resets::used_at.is_null())
        .filter(password_resets::expires_at.gt(now()))
        .select(password_resets::user_id)
        .first(conn)
        .optional()
}

/// Marks the token used, and every other token of its user with it;
/// returns false when it was no longer live (used by a racing request).
pub fn consume(conn: &mut DbConnection, token_hash: &str, user_id: i64) -> Result<bool, Error> {
    let n = diesel::update(
        password_resets::table
            .filter(password_resets::token_hash.eq(token_hash))
            .filter(password_resets::used_at.is_null())
            .filter(password_resets::expires_at.gt(now())),
    )
    .set(password_resets::used_at.eq(now()))
    .execute(conn)?;
    diesel::update(
        password_resets::table
            .filter(password_resets::user_id.eq(user_id))
            .filter(password_resets::used_at.is_null()),
    )
    .set(password_resets::used_at.eq(now()))
    .execute(conn)?;
    Ok(n == 1)
}
