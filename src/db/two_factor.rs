//! The second factor (SPEC §7): a TOTP secret per user (encrypted at rest
//! by the caller) and single-use recovery codes (stored as SHA-256).
use super::DbConnection;
use super::models::now;
use super::schema::{recovery_codes, totp_secrets};
use diesel::prelude::*;
use diesel::result::Error;

/// A user's TOTP secret as stored.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = totp_secrets)]
pub struct TotpRow {
    pub user_id: i64,
    /// Sealed (`SecretBox`), bound to the user id.
    pub secret: String,
    pub confirmed_at: Option<chrono::NaiveDateTime>,
    pub last_step: i64,
    pub created_at: chrono::NaiveDateTime,
}

pub fn find(conn: &mut DbConnection, user_id: i64) -> Result<Option<TotpRow>, Error> {
    totp_secrets::table
        .find(user_id)
        .select(TotpRow::as_select())
        .first(conn)
        .optional()
}

/// Has the user a confirmed second factor?
pub fn is_enabled(conn: &mut DbConnection, user_id: i64) -> Result<bool, Error> {
    let n: i64 = totp_secrets::table
        .filter(totp_secrets::user_id.eq(user_id))
        .filter(totp_secrets::confirmed_at.is_not_null())
        .count()
        .get_result(conn)?;
    Ok(n > 0)
}

/// The users with a confirmed second factor.
pub fn enabled_users(conn: &mut DbConnection) -> Result<std::collections::HashSet<i64>, Error> {
    Ok(totp_secrets::table
        .filter(totp_secrets::confirmed_at.is_not_null())
        .select(totp_secrets::user_id)
        .load::<i64>(conn)?
        .into_iter()
        .collect())
}

/// Starts an enrolment: a new, unconfirmed secret replaces any unconfirmed
/// one. Refused (false) when a confirmed one exists.
pub fn start(conn: &mut DbConnection, user_id: i64, sealed: &str) -> Result<bool, Error> {
    if find(conn, user_id)?.is_some_and(|r| r.confirmed_at.is_some()) {
        return Ok(false);
    }
    diesel::delete(totp_secrets::table.find(user_id)).execute(conn)?;
    diesel::insert_into(totp_secrets::table)
        .values((
            totp_secrets::user_id.eq(user_id),
            totp_secrets::secret.eq(sealed),
            totp_secrets::last_step.eq(0i64),
            totp_secrets::created_at.eq(now()),
        ))
        .execute(conn)?;
    Ok(true)
}

/// Records that the code of time step `step` was used; false when that
/// step (or a later one) was used already (a replay).
pub fn use_step(conn: &mut DbConnection, user_id: i64, step: i64) -> Result<bool, Error> {
    let n = diesel::update(
        totp_secrets::table
            .filter(totp_secrets::user_id.eq(user_id))
            .filter(totp_secrets::last_step.lt(step)),
    )
    .set(totp_secrets::last_step.eq(step))
    .execute(conn)?;
    Ok(n == 1)
}

/// Confirms the enrolment and stores the recovery codes' hashes.
pub fn confirm(conn: &mut DbConnection, user_id: i64, code_hashes: &[String]) -> Result<(), Error> {
    diesel::update(totp_secrets::table.find(user_id))
        .set(totp_secrets::confirmed_at.eq(Some(now())))
        .execute(conn)?;
    diesel::delete(recovery_codes::table.filter(recovery_codes::user_id.eq(user_id)))
        .execute(conn)?;
    for h in code_hashes {
        diesel::insert_into(recovery_codes::table)
            .values((
                recovery_codes::user_id.eq(user_id),
                recovery_codes::code_hash.eq(h),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// Uses a recovery code (by its hash) once; false when unknown or used.
pub fn use_recovery(conn: &mut DbConnection, user_id: i64, code_hash: &str) -> Result<bool, Error> {
    let n = diesel::update(
        recovery_codes::table
            .filter(recovery_codes::user_id.eq(user_id))
            .filter(recovery_codes::code_hash.eq(code_hash))
            .filter(recovery_codes::used_at.is_null()),
    )
    .set(recovery_codes::used_at.eq(Some(now())))
    .execute(conn)?;
    Ok(n == 1)
}

/// How many recovery codes are left.
pub fn recovery_left(conn: &mut DbConnection, user_id: i64) -> Result<i64, Error> {
    recovery_codes::table
        .filter(recovery_codes::user_id.eq(user_id))
        .filter(recovery_codes::used_at.is_null())
        .count()
        .get_result(conn)
}

/// Removes the second factor; true when there was one.
pub fn remove(conn: &mut DbConnection, user_id: i64) -> Result<bool, Error> {
    diesel::delete(recovery_codes::table.filter(recovery_codes::user_id.eq(user_id)))
        .execute(conn)?;
    let n = diesel::delete(totp_secrets::table.find(user_id)).execute(conn)?;
    Ok(n > 0)
}
