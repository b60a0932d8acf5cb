//! Affiliations: the links between users and customers.
use super::DbConnection;
use super::models::{Affiliation, Customer, User, now};
use super::schema::{affiliations, customers, users};
use crate::domain::{CreatedBy, LoginMethod, Privilege};
use diesel::prelude::*;
use diesel::result::Error;

pub fn insert(
    conn: &mut DbConnection,
    user_id: i64,
    customer_id: i64,
    privilege: Privilege,
    created_by: CreatedBy,
) -> Result<i64, Error> {
    let t = now();
    diesel::insert_into(affiliations::table)
        .values((
            affiliations::user_id.eq(user_id),
            affiliations::customer_id.eq(customer_id),
            affiliations::privilege.eq(privilege),
            affiliations::created_by.eq(created_by),
            affiliations::created_at.eq(t),
            affiliations::updated_at.eq(t),
        ))
        .returning(affiliations::id)
        .get_result(conn)
}

pub fn find(
    conn: &mut DbConnection,
    user_id: i64,
    customer_id: i64,
) -> Result<Option<Affiliation>, Error> {
    affiliations::table
        .filter(affiliations::user_id.eq(user_id))
        .filter(affiliations::customer_id.eq(customer_id))
        .select(Affiliation::as_select())
        .first(conn)
        .optional()
}

/// A user's affiliations with their customers, by customer name.
pub fn of_user(
    conn: &mut DbConnection,
    user_id: i64,
) -> Result<Vec<(Affiliation, Customer)>, Error> {
    // Read for every signed-in request (`web::preload`): on the backend's
    // own connection, as `users::find`.
    crate::on_backend!(conn, |c| affiliations::table
        .inner_join(customers::table)
        .filter(affiliations::user_id.eq(user_id))
        .select((Affiliation::as_select(), Customer::as_select()))
        .order((customers::name, customers::id))
        .load(c))
}

/// A customer's users, by username.
pub fn of_customer(
    conn: &mut DbConnection,
    customer_id: i64,
) -> Result<Vec<(Affiliation, User)>, Error> {
    affiliations::table
        .inner_join(users::table)
        .filter(affiliations::customer_id.eq(customer_id))
        .select((Affiliation::as_select(), User::as_select()))
        .order(users::username)
        .load(conn)
}

/// How many affiliations each of these users has (one query for a page).
pub fn counts(conn: &mut DbConnection, user_ids: &[i64]) -> Result<Vec<(i64, i64)>, Error> {
    affiliations::table
        .filter(affiliations::user_id.eq_any(user_ids.to_vec()))
        .group_by(affiliations::user_id)
        .select((affiliations::user_id, diesel::dsl::count_star()))
        .load(conn)
}

pub fn delete(conn: &mut DbConnection, id: i64) -> Result<usize, Error> {
    diesel::delete(affiliations::table.find(id)).execute(conn)
}

pub fn set_privilege(
    conn: &mut DbConnection,
    id: i64,
    privilege: Privilege,
) -> Result<usize, Error> {
    diesel::update(affiliations::table.find(id))
        .set((
            affiliations::privilege.eq(privilege),
            affiliations::updated_at.eq(now()),
        ))
        .execute(conn)
}

pub fn record_login(
    conn: &mut DbConnection,
    id: i64,
    address: &str,
    method: LoginMethod,
) -> Result<usize, Error> {
    diesel::update(affiliations::table.find(id))
        .set((
            affiliations::last_login_at.eq(now()),
            affiliations::last_login_from.eq(address),
            affiliations::last_login_via.eq(method.as_str()),
        ))
        .execute(conn)
}

/// Every affiliation with its customer (for exports), by user.
pub fn all_with_customers(conn: &mut DbConnection) -> Result<Vec<(Affiliation, Customer)>, Error> {
    affiliations::table
        .inner_join(customers::table)
        .select((Affiliation::as_select(), Customer::as_select()))
        .order((affiliations::user_id, customers::name))
        .load(conn)
}

/// An affiliation with its user.
pub fn with_user(conn: &mut DbConnection, id: i64) -> Result<Option<(Affiliation, User)>, Error> {
    affiliations::table
        .inner_join(users::table)
        .filter(affiliations::id.eq(id))
        .select((Affiliation::as_select(), User::as_select()))
        .first(conn)
        .optional()
}

/// How many users each of these customers has (one query for a page).
pub fn counts_by_customer(
    conn: &mut DbConnection,
    customer_ids: &[i64],
) -> Result<Vec<(i64, i64)>, Error> {
    affiliations::table
        .filter(affiliations::customer_id.eq_any(customer_ids.to_vec()))
        .group_by(affiliations::customer_id)
        .select((affiliations::customer_id, diesel::dsl::count_star()))
        .load(conn)
}
