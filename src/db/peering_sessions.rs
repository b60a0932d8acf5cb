//! Route-server sessions requested through the Peering API.
use super::DbConnection;
use super::models::now;
use super::schema::peering_sessions;
use crate::domain::{Asn, SessionStatus};
use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::result::Error;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = peering_sessions)]
pub struct PeeringSession {
    pub id: i64,
    pub session_id: String,
    pub customer_id: i64,
    pub connection_id: i64,
    pub route_server_id: i64,
    pub family: i32,
    pub member_asn: Asn,
    pub member_ip: String,
    pub rs_asn: Asn,
    pub rs_ip: String,
    pub rs_is_local: bool,
    pub location_id: String,
    pub status: String,
    pub requested_by: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

impl PeeringSession {
    pub fn status(&self) -> SessionStatus {
        self.status.parse().unwrap_or(SessionStatus::Pending)
    }
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = peering_sessions)]
pub struct NewSession {
    pub session_id: String,
    pub customer_id: i64,
    pub connection_id: i64,
    pub route_server_id: i64,
    pub family: i32,
    pub member_asn: Asn,
    pub member_ip: String,
    pub rs_asn: Asn,
    pub rs_ip: String,
    pub rs_is_local: bool,
    pub location_id: String,
    pub status: String,
    pub requested_by: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

pub fn insert(conn: &mut DbConnection, s: &NewSession) -> Result<i64, Error> {
    diesel::insert_into(peering_sessions::table)
        .values(s)
        .returning(peering_sessions::id)
        .get_result(conn)
}

/// The live (not deleted) session between a connection and a route server
/// in one family.
pub fn live(
    conn: &mut DbConnection,
    route_server_id: i64,
    connection_id: i64,
    family: i32,
) -> Result<Option<PeeringSession>, Error> {
    peering_sessions::table
        .filter(peering_sessions::route_server_id.eq(route_server_id))
        .filter(peering_sessions::connection_id.eq(connection_id))
        .filter(peering_sessions::family.eq(family))
        .filter(peering_sessions::status.ne(SessionStatus::Deleted.as_str()))
        .select(PeeringSession::as_select())
        .first(conn)
        .optional()
}

pub fn by_session_id(conn: &mut DbConnection, sid: &str) -> Result<Option<PeeringSession>, Error> {
    peering_sessions::table
        .filter(peering_sessions::session_id.eq(sid))
        .select(PeeringSession::as_select())
        .first(conn)
        .optional()
}

pub fn find(conn: &mut DbConnection, id: i64) -> Result<Option<PeeringSession>, Error> {
    peering_sessions::table
        .find(id)
        .select(PeeringSession::as_select())
        .first(conn)
        .optional()
}

/// A page of a member ASN's sessions (not deleted), by id after `after`;
/// only one customer's where given (customers may share an ASN).
pub fn page_of_member(
    conn: &mut DbConnection,
    asn: Asn,
    customer_id: Option<i64>,
    after: i64,
    limit: i64,
) -> Result<Vec<PeeringSession>, Error> {
    let mut q = peering_sessions::table
        .filter(peering_sessions::member_asn.eq(asn))
        .filter(peering_sessions::id.gt(after))
        .filter(peering_sessions::status.ne(SessionStatus::Deleted.as_str()))
        .order(peering_sessions::id)
        .limit(limit)
        .select(PeeringSession::as_select())
        .into_boxed();
    if let Some(id) = customer_id {
        q = q.filter(peering_sessions::customer_id.eq(id));
    }
    q.load(conn)
}

pub fn of_customer(
    conn: &mut DbConnection,
    customer_id: i64,
) -> Result<Vec<PeeringSession>, Error> {
    peering_sessions::table
        .filter(peering_sessions::customer_id.eq(customer_id))
        .order(peering_sessions::id.desc())
        .limit(500)
        .select(PeeringSession::as_select())
        .load(conn)
}

/// The newest sessions, optionally of one status (the staff list).
pub fn recent(
    conn: &mut DbConnection,
    status: Option<SessionStatus>,
    limit: i64,
) -> Result<Vec<PeeringSession>, Error> {
    let mut q = peering_sessions::table
        .order(peering_sessions::id.desc())
        .limit(limit)
        .select(PeeringSession::as_select())
        .into_boxed();
    if let Some(s) = status {
        q = q.filter(peering_sessions::status.eq(s.as_str()));
    }
    q.load(conn)
}

/// Every session of a connection (deleted ones too), oldest first.
pub fn of_connection(
    conn: &mut DbConnection,
    connection_id: i64,
) -> Result<Vec<PeeringSession>, Error> {
    peering_sessions::table
        .filter(peering_sessions::connection_id.eq(connection_id))
        .order(peering_sessions::id)
        .select(PeeringSession::as_select())
        .load(conn)
}

/// What the staff sessions list filters on.
#[derive(Debug, Clone, Default)]
pub struct SessionFilter {
    pub status: Option<SessionStatus>,
    /// A customer's name or shortname (a substring), an ASN (member or
    /// route server), the start of an address, or a session id.
    pub search: Option<String>,
}

/// The orders of the staff sessions list; ties by id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionSort {
    /// By id: the order of the requests.
    Requested,
    Customer,
    Asn,
    Status,
}

type Boxed<'a> = peering_sessions::BoxedQuery<
    'a,
    super::MultiBackend,
    diesel::helper_types::AsSelect<PeeringSession, super::MultiBackend>,
>;

/// The customer's name of a session, for sorting without a join.
const CUSTOMER_NAME: &str =
    "(SELECT customers.name FROM customers WHERE customers.id = peering_sessions.customer_id)";

fn filtered(filter: &SessionFilter) -> Boxed<'static> {
    use super::schema::customers;
    use diesel::sql_types::Bool;
    let mut q = peering_sessions::table
        .select(PeeringSession::as_select())
        .into_boxed();
    if let Some(s) = filter.status {
        q = q.filter(peering_sessions::status.eq(s.as_str()));
    }
    if let Some(t) = filter
        .search
        .as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty())
    {
        let like = format!("%{}%", super::customers::escape_like(&t.to_lowercase()));
        let prefix = format!("{}%", super::customers::escape_like(&t.to_lowercase()));
        let named = customers::table
            .filter(
                super::lower(customers::name)
                    .like(like.clone())
                    .escape('\\')
                    .or(super::lower(customers::shortname).like(like).escape('\\')),
            )
            .select(customers::id);
        let mut any: Box<
            dyn diesel::expression::BoxableExpression<
                    peering_sessions::table,
                    super::MultiBackend,
                    SqlType = Bool,
                >,
        > = Box::new(
            peering_sessions::customer_id
                .eq_any(named)
                .or(super::lower(peering_sessions::member_ip)
                    .like(prefix.clone())
                    .escape('\\'))
                .or(super::lower(peering_sessions::rs_ip)
                    .like(prefix)
                    .escape('\\'))
                .or(peering_sessions::session_id.eq(t.to_string())),
        );
        if let Ok(asn) = t.parse::<Asn>() {
            any = Box::new(
                any.or(peering_sessions::member_asn.eq(asn))
                    .or(peering_sessions::rs_asn.eq(asn)),
            );
        }
        q = q.filter(any);
    }
    q
}

/// A page of the staff list: `limit` sessions in the given order after the
/// session `after` (keyset paging: a deep page costs what the first does).
pub fn search(
    conn: &mut DbConnection,
    filter: &SessionFilter,
    sort: SessionSort,
    desc: bool,
    after: Option<i64>,
    limit: i64,
) -> Result<Vec<PeeringSession>, Error> {
    use diesel::dsl::sql;
    use diesel::sql_types::{BigInt, Bool, Text};
    let cursor = match after {
        Some(id) => find(conn, id)?,
        None => None,
    };
    let mut q = filtered(filter);
    let (cmp, dir) = if desc { ("<", "DESC") } else { (">", "ASC") };
    q = match sort {
        SessionSort::Requested => {
            if let Some(c) = &cursor {
                q = if desc {
                    q.filter(peering_sessions::id.lt(c.id))
                } else {
                    q.filter(peering_sessions::id.gt(c.id))
                };
            }
            if desc {
                q.order(peering_sessions::id.desc())
            } else {
                q.order(peering_sessions::id.asc())
            }
        }
        SessionSort::Asn => {
            if let Some(c) = &cursor {
                let (a, id) = (c.member_asn, c.id);
                q = if desc {
                    q.filter(
                        peering_sessions::member_asn
                            .lt(a)
                            .or(peering_sessions::member_asn
                                .eq(a)
                                .and(peering_sessions::id.lt(id))),
                    )
                } else {
                    q.filter(
                        peering_sessions::member_asn
                            .gt(a)
                            .or(peering_sessions::member_asn
                                .eq(a)
                                .and(peering_sessions::id.gt(id))),
                    )
                };
            }
            if desc {
                q.order((
                    peering_sessions::member_asn.desc(),
                    peering_sessions::id.desc(),
                ))
            } else {
                q.order((
                    peering_sessions::member_asn.asc(),
                    peering_sessions::id.asc(),
                ))
            }
        }
        SessionSort::Status => {
            if let Some(c) = &cursor {
                let (st, id) = (c.status.clone(), c.id);
                q = if desc {
                    q.filter(
                        peering_sessions::status
                            .lt(st.clone())
                            .or(peering_sessions::status
                                .eq(st)
                                .and(peering_sessions::id.lt(id))),
                    )
                } else {
                    q.filter(
                        peering_sessions::status
                            .gt(st.clone())
                            .or(peering_sessions::status
                                .eq(st)
                                .and(peering_sessions::id.gt(id))),
                    )
                };
            }
            if desc {
                q.order((peering_sessions::status.desc(), peering_sessions::id.desc()))
            } else {
                q.order((peering_sessions::status.asc(), peering_sessions::id.asc()))
            }
        }
        SessionSort::Customer => {
            if let Some(c) = &cursor {
                let name = super::customers::find(conn, c.customer_id)?
                    .map(|cu| cu.name)
                    .unwrap_or_default();
                q = q.filter(
                    sql::<Bool>(&format!("({CUSTOMER_NAME} {cmp} "))
                        .bind::<Text, _>(name.clone())
                        .sql(&format!(" OR ({CUSTOMER_NAME} = "))
                        .bind::<Text, _>(name)
                        .sql(&format!(" AND peering_sessions.id {cmp} "))
                        .bind::<BigInt, _>(c.id)
                        .sql("))"),
                );
            }
            q.order(sql::<Text>(&format!(
                "{CUSTOMER_NAME} {dir}, peering_sessions.id {dir}"
            )))
        }
    };
    q.limit(limit).load(conn)
}

/// How many sessions the filter matches, counted up to `cap` (the list
/// says "10,000+" beyond).
pub fn count_matching(
    conn: &mut DbConnection,
    filter: &SessionFilter,
    cap: i64,
) -> Result<(i64, bool), Error> {
    let ids: Vec<i64> = filtered(filter)
        .select(peering_sessions::id)
        .limit(cap + 1)
        .load(conn)?;
    let n = ids.len() as i64;
    Ok((n.min(cap), n > cap))
}

/// Sessions of a route server in the given statuses.
pub fn of_route_server(
    conn: &mut DbConnection,
    route_server_id: i64,
    statuses: &[SessionStatus],
) -> Result<Vec<PeeringSession>, Error> {
    let names: Vec<&str> = statuses.iter().map(|s| s.as_str()).collect();
    peering_sessions::table
        .filter(peering_sessions::route_server_id.eq(route_server_id))
        .filter(peering_sessions::status.eq_any(names))
        .order(peering_sessions::id)
        .select(PeeringSession::as_select())
        .load(conn)
}

pub fn set_status(conn: &mut DbConnection, id: i64, status: SessionStatus) -> Result<usize, Error> {
    diesel::update(peering_sessions::table.find(id))
        .set((
            peering_sessions::status.eq(status.as_str()),
            peering_sessions::updated_at.eq(now()),
        ))
        .execute(conn)
}

/// How many sessions have this status.
pub fn count_with_status(conn: &mut DbConnection, status: SessionStatus) -> Result<i64, Error> {
    peering_sessions::table
        .filter(peering_sessions::status.eq(status.as_str()))
        .count()
        .get_result(conn)
}

pub fn count(conn: &mut DbConnection) -> Result<i64, Error> {
    peering_sessions::table.count().get_result(conn)
}

// Which sessions each `POST /sessions` request named, and in which
// orientation (draft-ietf-grow-peering-api-01's request id). Declared here
// rather than in `schema.rs`: only the Peering API reads it.
diesel::table! {
    peering_api_requests (request_id, session_pk) {
        request_id -> Text,
        session_pk -> BigInt,
        rs_is_local -> Bool,
        created_at -> Timestamp,
    }
}
diesel::joinable!(peering_api_requests -> peering_sessions (session_pk));
diesel::allow_tables_to_appear_in_same_query!(peering_api_requests, peering_sessions);

/// How long a request id answers `GET /sessions?request_id=…`.
pub const REQUEST_RETENTION_DAYS: i64 = 30;

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = peering_api_requests)]
struct RequestRow<'a> {
    request_id: &'a str,
    session_pk: i64,
    rs_is_local: bool,
    created_at: NaiveDateTime,
}

/// Records that request `request_id` named these sessions (by row id, with
/// the orientation it named each in); a session named twice is recorded
/// once, in its first orientation.
pub fn record_request(
    conn: &mut DbConnection,
    request_id: &str,
    named: &[(i64, bool)],
) -> Result<usize, Error> {
    let at = now();
    let mut seen = std::collections::HashSet::new();
    let rows: Vec<RequestRow<'_>> = named
        .iter()
        .filter(|(id, _)| seen.insert(*id))
        .map(|&(session_pk, rs_is_local)| RequestRow {
            request_id,
            session_pk,
            rs_is_local,
            created_at: at,
        })
        .collect();
    if rows.is_empty() {
        return Ok(0);
    }
    crate::on_backend!(conn, |c| diesel::insert_into(peering_api_requests::table)
        .values(&rows)
        .execute(c))
}

/// A page of the sessions a request named (every status, deleted too: it
/// is the status of that request), of one member ASN and, where given, one
/// customer; each with the orientation the request named it in.
pub fn page_of_request(
    conn: &mut DbConnection,
    request_id: &str,
    asn: Asn,
    customer_id: Option<i64>,
    after: i64,
    limit: i64,
) -> Result<Vec<(PeeringSession, bool)>, Error> {
    let mut q = peering_api_requests::table
        .inner_join(peering_sessions::table)
        .filter(peering_api_requests::request_id.eq(request_id))
        .filter(peering_sessions::member_asn.eq(asn))
        .filter(peering_sessions::id.gt(after))
        .order(peering_sessions::id)
        .limit(limit)
        .select((
            PeeringSession::as_select(),
            peering_api_requests::rs_is_local,
        ))
        .into_boxed();
    if let Some(id) = customer_id {
        q = q.filter(peering_sessions::customer_id.eq(id));
    }
    q.load(conn)
}

/// Forgets request ids older than `before`.
pub fn purge_requests(conn: &mut DbConnection, before: NaiveDateTime) -> Result<usize, Error> {
    diesel::delete(peering_api_requests::table.filter(peering_api_requests::created_at.lt(before)))
        .execute(conn)
}
