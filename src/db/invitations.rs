//! Invitations to join a customer (SPEC §3): stored like password-reset
//! tokens (`db::resets`), as SHA-256 hashes, single use, here for 7 days.
use super::DbConnection;
use super::schema::invitations;
use crate::domain::Privilege;
use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;
use diesel::result::Error;

pub const VALID_DAYS: i64 = 7;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = invitations)]
pub struct Invitation {
    pub id: i64,
    pub customer_id: i64,
    pub email: String,
    /// The name the inviting admin gave (may be empty).
    pub name: String,
    pub privilege: Privilege,
    /// Whether an account used the address when the invitation was made:
    /// then it is accepted by signing in, otherwise by making an account.
    pub known: bool,
    pub token_hash: String,
    pub invited_by: String,
    pub created_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
    pub used_at: Option<NaiveDateTime>,
}

/// What a new invitation holds.
pub struct NewInvitation<'a> {
    pub customer_id: i64,
    pub email: &'a str,
    pub name: &'a str,
    pub privilege: Privilege,
    pub known: bool,
    pub token_hash: &'a str,
    pub invited_by: &'a str,
}

pub fn create(
    conn: &mut DbConnection,
    new: &NewInvitation,
    now: NaiveDateTime,
) -> Result<i64, Error> {
    diesel::insert_into(invitations::table)
        .values((
            invitations::customer_id.eq(new.customer_id),
            invitations::email.eq(new.email),
            invitations::name.eq(new.name),
            invitations::privilege.eq(new.privilege),
            invitations::known.eq(new.known),
            invitations::token_hash.eq(new.token_hash),
            invitations::invited_by.eq(new.invited_by),
            invitations::created_at.eq(now),
            invitations::expires_at.eq(now + Duration::days(VALID_DAYS)),
        ))
        .returning(invitations::id)
        .get_result(conn)
}

/// The live (unused, unexpired) invitation of a token.
pub fn live(
    conn: &mut DbConnection,
    token_hash: &str,
    now: NaiveDateTime,
) -> Result<Option<Invitation>, Error> {
    invitations::table
        .filter(invitations::token_hash.eq(token_hash))
        .filter(invitations::used_at.is_null())
        .filter(invitations::expires_at.gt(now))
        .select(Invitation::as_select())
        .first(conn)
        .optional()
}

/// Marks a live invitation used; false when it no longer was live (used
/// by a racing request, or expired meanwhile).
pub fn consume(conn: &mut DbConnection, id: i64, now: NaiveDateTime) -> Result<bool, Error> {
    let n = diesel::update(
        invitations::table
            .filter(invitations::id.eq(id))
            .filter(invitations::used_at.is_null())
            .filter(invitations::expires_at.gt(now)),
    )
    .set(invitations::used_at.eq(now))
    .execute(conn)?;
    Ok(n == 1)
}

/// The live invitations of a customer, newest first.
pub fn pending_of_customer(
    conn: &mut DbConnection,
    customer_id: i64,
    now: NaiveDateTime,
) -> Result<Vec<Invitation>, Error> {
    invitations::table
        .filter(invitations::customer_id.eq(customer_id))
        .filter(invitations::used_at.is_null())
        .filter(invitations::expires_at.gt(now))
        .order(invitations::id.desc())
        .select(Invitation::as_select())
        .load(conn)
}

/// A live invitation of this customer, by id.
pub fn pending_in_customer(
    conn: &mut DbConnection,
    id: i64,
    customer_id: i64,
    now: NaiveDateTime,
) -> Result<Option<Invitation>, Error> {
    invitations::table
        .filter(invitations::id.eq(id))
        .filter(invitations::customer_id.eq(customer_id))
        .filter(invitations::used_at.is_null())
        .filter(invitations::expires_at.gt(now))
        .select(Invitation::as_select())
        .first(conn)
        .optional()
}

/// Deletes an invitation (revoked); false when there was none.
pub fn delete(conn: &mut DbConnection, id: i64) -> Result<bool, Error> {
    Ok(diesel::delete(invitations::table.filter(invitations::id.eq(id))).execute(conn)? == 1)
}
