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

pub fn count(conn: &mut DbConnection) -> Result<i64, Error> {
    peering_sessions::table.count().get_result(conn)
}
