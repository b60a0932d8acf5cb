//! Login records and the failed-attempt counter behind throttling.
use super::DbConnection;
use super::models::{LoginRecord, now};
use super::schema::{login_failures, login_records};
use crate::domain::LoginMethod;
use chrono::Duration;
use diesel::prelude::*;
use diesel::result::Error;

/// Failures counted per username and address …
pub const MAX_FAILURES: i64 = 5;
/// … within this window, which is also how long the refusal lasts.
pub const WINDOW_MINUTES: i64 = 15;

pub fn record(
    conn: &mut DbConnection,
    user_id: i64,
    customer_id: Option<i64>,
    address: &str,
    method: LoginMethod,
) -> Result<(), Error> {
    diesel::insert_into(login_records::table)
        .values((
            login_records::user_id.eq(user_id),
            login_records::customer_id.eq(customer_id),
            login_records::at.eq(now()),
            login_records::address.eq(address),
            login_records::method.eq(method.as_str()),
        ))
        .execute(conn)?;
    Ok(())
}

pub fn of_user(
    conn: &mut DbConnection,
    user_id: i64,
    limit: i64,
) -> Result<Vec<LoginRecord>, Error> {
    login_records::table
        .filter(login_records::user_id.eq(user_id))
        .select(LoginRecord::as_select())
        .order(login_records::at.desc())
        .limit(limit)
        .load(conn)
}

pub fn of_customer(
    conn: &mut DbConnection,
    customer_id: i64,
    limit: i64,
) -> Result<Vec<LoginRecord>, Error> {
    login_records::table
        .filter(login_records::customer_id.eq(customer_id))
        .select(LoginRecord::as_select())
        .order(login_records::at.desc())
        .limit(limit)
        .load(conn)
}

/// Is this username refused from this address for now?
pub fn is_throttled(conn: &mut DbConnection, username: &str, address: &str) -> Result<bool, Error> {
    let since = now() - Duration::minutes(WINDOW_MINUTES);
    let failures: i64 = login_failures::table
        .filter(login_failures::username.eq(username))
        .filter(login_failures::address.eq(address))
        .filter(login_failures::at.gt(since))
        .count()
        .get_result(conn)?;
    Ok(failures >= MAX_FAILURES)
}

pub fn record_failure(conn: &mut DbConnection, username: &str, address: &str) -> Result<(), Error> {
    // Old rows are never needed again; keep the table small as we go.
    diesel::delete(
        login_failures::table
            .filter(login_failures::at.lt(now() - Duration::minutes(WINDOW_MINUTES))),
    )
    .execute(conn)?;
    diesel::insert_into(login_failures::table)
        .values((
            login_failures::username.eq(username),
            login_failures::address.eq(address),
            login_failures::at.eq(now()),
        ))
        .execute(conn)?;
    Ok(())
}

pub fn clear_failures(conn: &mut DbConnection, username: &str, address: &str) -> Result<(), Error> {
    diesel::delete(
        login_failures::table
            .filter(login_failures::username.eq(username))
            .filter(login_failures::address.eq(address)),
    )
    .execute(conn)?;
    Ok(())
}

/// The bookkeeping of a successful sign-in, inside the caller's transaction:
/// keep the current customer if still linked, else take the first linked
/// one; write the login record; stamp the affiliation and the user.
/// Returns the current customer and the user's password epoch (for the
/// session), or `None` when the user is gone.
pub fn complete(
    conn: &mut DbConnection,
    user_id: i64,
    address: &str,
    method: LoginMethod,
) -> Result<Option<(Option<i64>, i32)>, Error> {
    use super::{affiliations, users};
    let Some(user) = users::find(conn, user_id)? else {
        return Ok(None);
    };
    let links = affiliations::of_user(conn, user_id)?;
    let current = links
        .iter()
        .find(|(a, _)| Some(a.customer_id) == user.current_customer_id)
        .or_else(|| links.first());
    let customer_id = current.map(|(_, c)| c.id);
    if customer_id != user.current_customer_id {
        users::set_current_customer(conn, user_id, customer_id)?;
    }
    if let Some((a, _)) = current {
        affiliations::record_login(conn, a.id, address, method)?;
    }
    record(conn, user_id, customer_id, address, method)?;
    users::touch_login(conn, user_id)?;
    Ok(Some((customer_id, user.session_epoch)))
}
