//! Customers (member networks).
use super::models::{Customer, CustomerFields, now, today};
use super::schema::customers;
use super::{DbConnection, lower};
use crate::domain::{Asn, CustomerStatus, CustomerType};
use diesel::prelude::*;
use diesel::result::Error;

pub fn create(conn: &mut DbConnection, fields: &CustomerFields) -> Result<i64, Error> {
    let t = now();
    diesel::insert_into(customers::table)
        .values((
            fields,
            customers::created_at.eq(t),
            customers::updated_at.eq(t),
        ))
        .returning(customers::id)
        .get_result(conn)
}

pub fn update(conn: &mut DbConnection, id: i64, fields: &CustomerFields) -> Result<usize, Error> {
    diesel::update(customers::table.find(id))
        .set((fields, customers::updated_at.eq(now())))
        .execute(conn)
}

pub fn find(conn: &mut DbConnection, id: i64) -> Result<Option<Customer>, Error> {
    customers::table
        .find(id)
        .select(Customer::as_select())
        .first(conn)
        .optional()
}

pub fn by_shortname(conn: &mut DbConnection, shortname: &str) -> Result<Option<Customer>, Error> {
    customers::table
        .filter(customers::shortname.eq(shortname))
        .select(Customer::as_select())
        .first(conn)
        .optional()
}

pub fn by_asn(conn: &mut DbConnection, asn: Asn) -> Result<Vec<Customer>, Error> {
    by_asns(conn, &[asn])
}

/// Every customer whose ASN is in the list, in chunks so that huge profiles
/// stay within the backends' bind-parameter limits.
pub fn by_asns(conn: &mut DbConnection, asns: &[Asn]) -> Result<Vec<Customer>, Error> {
    let mut out = Vec::new();
    for chunk in asns.chunks(900) {
        out.extend(
            customers::table
                .filter(customers::autsys.eq_any(chunk.to_vec()))
                .select(Customer::as_select())
                .order(customers::id)
                .load(conn)?,
        );
    }
    Ok(out)
}

pub fn by_ids(conn: &mut DbConnection, ids: &[i64]) -> Result<Vec<Customer>, Error> {
    let mut out = Vec::new();
    for chunk in ids.chunks(900) {
        out.extend(
            customers::table
                .filter(customers::id.eq_any(chunk.to_vec()))
                .select(Customer::as_select())
                .load(conn)?,
        );
    }
    out.sort_by(|a, b| a.name.cmp(&b.name).then(a.id.cmp(&b.id)));
    Ok(out)
}

/// What the staff customer list can filter on.
#[derive(Debug, Clone, Default)]
pub struct CustomerFilter {
    pub search: Option<String>,
    pub kind: Option<CustomerType>,
    pub status: Option<CustomerStatus>,
    pub cancelled: Option<bool>,
}

/// A page of customers ordered by name, and whether there is more.
pub fn list(
    conn: &mut DbConnection,
    filter: &CustomerFilter,
    offset: i64,
    limit: i64,
) -> Result<(Vec<Customer>, bool), Error> {
    let mut q = customers::table
        .select(Customer::as_select())
        .order((customers::name, customers::id))
        .into_boxed();
    if let Some(s) = filter
        .search
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        let pattern = format!("%{}%", escape_like(&s.to_lowercase()));
        let asn = s.parse::<Asn>().ok();
        let text = lower(customers::name)
            .like(pattern.clone())
            .escape('\\')
            .or(lower(customers::shortname).like(pattern).escape('\\'));
        q = match asn {
            Some(a) => q.filter(text.or(customers::autsys.eq(a))),
            None => q.filter(text),
        };
    }
    if let Some(k) = filter.kind {
        q = q.filter(customers::cust_type.eq(k));
    }
    if let Some(s) = filter.status {
        q = q.filter(customers::status.eq(s));
    }
    match filter.cancelled {
        Some(true) => q = q.filter(customers::date_left.le(today())),
        Some(false) => {
            q = q.filter(
                customers::date_left
                    .is_null()
                    .or(customers::date_left.gt(today())),
            )
        }
        None => {}
    }
    let mut rows: Vec<Customer> = q.offset(offset).limit(limit + 1).load(conn)?;
    let more = rows.len() as i64 > limit;
    rows.truncate(limit as usize);
    Ok((rows, more))
}

pub fn all(conn: &mut DbConnection) -> Result<Vec<Customer>, Error> {
    customers::table
        .select(Customer::as_select())
        .order((customers::name, customers::id))
        .load(conn)
}

/// `LIKE` patterns: the user's `%` and `_` match themselves.
pub fn escape_like(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_")
}

pub fn count(conn: &mut DbConnection) -> Result<i64, Error> {
    customers::table.count().get_result(conn)
}
