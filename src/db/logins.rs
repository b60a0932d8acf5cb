//! Login records (throttling is in `login_throttle`).
use super::DbConnection;
use super::models::{LoginRecord, now};
use super::schema::login_records;
use crate::domain::LoginMethod;
use diesel::prelude::*;
use diesel::result::Error;

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
