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

/// Deletes a customer (its links, connections, sessions, API keys and
/// blocks go with it by the foreign keys: callers check first).
pub fn delete(conn: &mut DbConnection, id: i64) -> Result<usize, Error> {
    diesel::delete(customers::table.find(id)).execute(conn)
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

/// The orders of the staff customer list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CustomerSort {
    Name,
    Shortname,
    Asn,
    Type,
    Status,
    /// Date joined; customers without one come last either way.
    Joined,
}

type Boxed<'a, ST> = customers::BoxedQuery<'a, super::MultiBackend, ST>;

/// The filter's conditions on a query of customers.
fn filtered<'a, ST: 'a>(mut q: Boxed<'a, ST>, filter: &CustomerFilter) -> Boxed<'a, ST> {
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
    q
}

/// A page of customers in the given order (`desc`: reversed), and whether
/// there is more. Ties are broken by name, then id, so pages are stable.
pub fn list(
    conn: &mut DbConnection,
    filter: &CustomerFilter,
    sort: CustomerSort,
    desc: bool,
    offset: i64,
    limit: i64,
) -> Result<(Vec<Customer>, bool), Error> {
    let q = filtered(
        customers::table.select(Customer::as_select()).into_boxed(),
        filter,
    );
    let q = match (sort, desc) {
        (CustomerSort::Name, false) => q.order((customers::name.asc(), customers::id.asc())),
        (CustomerSort::Name, true) => q.order((customers::name.desc(), customers::id.desc())),
        (CustomerSort::Shortname, false) => q.order(customers::shortname.asc()),
        (CustomerSort::Shortname, true) => q.order(customers::shortname.desc()),
        (CustomerSort::Asn, false) => q.order((customers::autsys.asc(), customers::id.asc())),
        (CustomerSort::Asn, true) => q.order((customers::autsys.desc(), customers::id.desc())),
        (CustomerSort::Type, false) => q.order((
            customers::cust_type.asc(),
            customers::name.asc(),
            customers::id.asc(),
        )),
        (CustomerSort::Type, true) => q.order((
            customers::cust_type.desc(),
            customers::name.asc(),
            customers::id.asc(),
        )),
        (CustomerSort::Status, false) => q.order((
            customers::status.asc(),
            customers::name.asc(),
            customers::id.asc(),
        )),
        (CustomerSort::Status, true) => q.order((
            customers::status.desc(),
            customers::name.asc(),
            customers::id.asc(),
        )),
        (CustomerSort::Joined, false) => q.order((
            customers::date_joined.is_null().asc(),
            customers::date_joined.asc(),
            customers::name.asc(),
            customers::id.asc(),
        )),
        (CustomerSort::Joined, true) => q.order((
            customers::date_joined.is_null().asc(),
            customers::date_joined.desc(),
            customers::name.asc(),
            customers::id.asc(),
        )),
    };
    let mut rows: Vec<Customer> = q.offset(offset).limit(limit + 1).load(conn)?;
    let more = rows.len() as i64 > limit;
    rows.truncate(limit as usize);
    Ok((rows, more))
}

/// How many customers the filter matches.
pub fn count_matching(conn: &mut DbConnection, filter: &CustomerFilter) -> Result<i64, Error> {
    filtered(customers::table.count().into_boxed(), filter).get_result(conn)
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
