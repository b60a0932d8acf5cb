//! The IXP's own record, its peering LANs and route servers.
use super::DbConnection;
use super::models::now;
use super::schema::{ixp, peering_lans, route_servers};
use crate::domain::{Asn, Prefix};
use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::result::Error;

/// The IXP itself: one row.
#[derive(Debug, Clone, Queryable, Selectable, serde::Serialize)]
#[diesel(table_name = ixp)]
pub struct Ixp {
    pub id: i64,
    pub name: String,
    pub shortname: String,
    pub ixf_id: Option<i64>,
    pub peeringdb_ix_id: Option<i64>,
    pub country: String,
    pub support_email: String,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Clone, Insertable, AsChangeset)]
#[diesel(table_name = ixp, treat_none_as_null = true)]
pub struct IxpFields {
    pub name: String,
    pub shortname: String,
    pub ixf_id: Option<i64>,
    pub peeringdb_ix_id: Option<i64>,
    pub country: String,
    pub support_email: String,
}

pub fn ixp(conn: &mut DbConnection) -> Result<Option<Ixp>, Error> {
    ixp::table
        .select(Ixp::as_select())
        .order(ixp::id)
        .first(conn)
        .optional()
}

/// Creates or replaces the IXP's record.
pub fn set_ixp(conn: &mut DbConnection, f: &IxpFields) -> Result<(), Error> {
    match ixp(conn)? {
        Some(old) => {
            diesel::update(ixp::table.find(old.id))
                .set((f, ixp::updated_at.eq(now())))
                .execute(conn)?;
        }
        None => {
            diesel::insert_into(ixp::table)
                .values((f, ixp::updated_at.eq(now())))
                .execute(conn)?;
        }
    }
    Ok(())
}

#[derive(Debug, Clone, Queryable, Selectable, serde::Serialize)]
#[diesel(table_name = peering_lans)]
pub struct Lan {
    pub id: i64,
    pub name: String,
    pub vlan_id: i32,
    pub ipv4_prefix: Option<String>,
    pub ipv6_prefix: Option<String>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

impl Lan {
    /// The stored prefixes, parsed (they were validated when written).
    pub fn v4(&self) -> Option<Prefix> {
        self.ipv4_prefix.as_deref().and_then(|p| p.parse().ok())
    }
    pub fn v6(&self) -> Option<Prefix> {
        self.ipv6_prefix.as_deref().and_then(|p| p.parse().ok())
    }
}

#[derive(Debug, Clone, Insertable, AsChangeset)]
#[diesel(table_name = peering_lans, treat_none_as_null = true)]
pub struct LanFields {
    pub name: String,
    pub vlan_id: i32,
    pub ipv4_prefix: Option<String>,
    pub ipv6_prefix: Option<String>,
}

pub fn create_lan(conn: &mut DbConnection, f: &LanFields) -> Result<i64, Error> {
    let t = now();
    diesel::insert_into(peering_lans::table)
        .values((
            f,
            peering_lans::created_at.eq(t),
            peering_lans::updated_at.eq(t),
        ))
        .returning(peering_lans::id)
        .get_result(conn)
}

pub fn update_lan(conn: &mut DbConnection, id: i64, f: &LanFields) -> Result<usize, Error> {
    diesel::update(peering_lans::table.find(id))
        .set((f, peering_lans::updated_at.eq(now())))
        .execute(conn)
}

pub fn delete_lan(conn: &mut DbConnection, id: i64) -> Result<usize, Error> {
    diesel::delete(peering_lans::table.find(id)).execute(conn)
}

pub fn lan(conn: &mut DbConnection, id: i64) -> Result<Option<Lan>, Error> {
    peering_lans::table
        .find(id)
        .select(Lan::as_select())
        .first(conn)
        .optional()
}

pub fn lan_by_name(conn: &mut DbConnection, name: &str) -> Result<Option<Lan>, Error> {
    peering_lans::table
        .filter(peering_lans::name.eq(name))
        .select(Lan::as_select())
        .first(conn)
        .optional()
}

pub fn lans(conn: &mut DbConnection) -> Result<Vec<Lan>, Error> {
    peering_lans::table
        .select(Lan::as_select())
        .order((peering_lans::vlan_id, peering_lans::id))
        .load(conn)
}

#[derive(Debug, Clone, Queryable, Selectable, serde::Serialize)]
#[diesel(table_name = route_servers)]
pub struct RouteServer {
    pub id: i64,
    pub lan_id: i64,
    pub name: String,
    pub asn: Asn,
    pub ipv4_address: Option<String>,
    pub ipv6_address: Option<String>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Clone, Insertable, AsChangeset)]
#[diesel(table_name = route_servers, treat_none_as_null = true)]
pub struct RouteServerFields {
    pub lan_id: i64,
    pub name: String,
    pub asn: Asn,
    pub ipv4_address: Option<String>,
    pub ipv6_address: Option<String>,
}

pub fn create_route_server(conn: &mut DbConnection, f: &RouteServerFields) -> Result<i64, Error> {
    let t = now();
    diesel::insert_into(route_servers::table)
        .values((
            f,
            route_servers::created_at.eq(t),
            route_servers::updated_at.eq(t),
        ))
        .returning(route_servers::id)
        .get_result(conn)
}

pub fn update_route_server(
    conn: &mut DbConnection,
    id: i64,
    f: &RouteServerFields,
) -> Result<usize, Error> {
    diesel::update(route_servers::table.find(id))
        .set((f, route_servers::updated_at.eq(now())))
        .execute(conn)
}

pub fn delete_route_server(conn: &mut DbConnection, id: i64) -> Result<usize, Error> {
    diesel::delete(route_servers::table.find(id)).execute(conn)
}

pub fn route_server(conn: &mut DbConnection, id: i64) -> Result<Option<RouteServer>, Error> {
    route_servers::table
        .find(id)
        .select(RouteServer::as_select())
        .first(conn)
        .optional()
}

pub fn route_server_by_name(
    conn: &mut DbConnection,
    name: &str,
) -> Result<Option<RouteServer>, Error> {
    route_servers::table
        .filter(route_servers::name.eq(name))
        .select(RouteServer::as_select())
        .first(conn)
        .optional()
}

pub fn route_servers(conn: &mut DbConnection) -> Result<Vec<RouteServer>, Error> {
    route_servers::table
        .select(RouteServer::as_select())
        .order((route_servers::lan_id, route_servers::name))
        .load(conn)
}

pub fn route_servers_by_asn(conn: &mut DbConnection, asn: Asn) -> Result<Vec<RouteServer>, Error> {
    route_servers::table
        .filter(route_servers::asn.eq(asn))
        .select(RouteServer::as_select())
        .order(route_servers::id)
        .load(conn)
}

pub fn route_servers_of_lan(
    conn: &mut DbConnection,
    lan_id: i64,
) -> Result<Vec<RouteServer>, Error> {
    route_servers::table
        .filter(route_servers::lan_id.eq(lan_id))
        .select(RouteServer::as_select())
        .order(route_servers::id)
        .load(conn)
}

/// The exchange's name and support email (the IXP record), for the layout
/// of every page: two columns of one row.
pub fn ixp_name_and_support(conn: &mut DbConnection) -> Result<Option<(String, String)>, Error> {
    ixp::table
        .select((ixp::name, ixp::support_email))
        .order(ixp::id)
        .first(conn)
        .optional()
}

/// How long a page may show an IXP record another instance changed.
const BRAND_TTL: std::time::Duration = std::time::Duration::from_secs(5);

type BrandCache = std::collections::HashMap<String, (std::time::Instant, Option<(String, String)>)>;

fn brand_cache() -> &'static std::sync::Mutex<BrandCache> {
    static CACHE: std::sync::OnceLock<std::sync::Mutex<BrandCache>> = std::sync::OnceLock::new();
    CACHE.get_or_init(Default::default)
}

/// `ixp_name_and_support`, remembered per database for a few seconds so
/// that a page render rarely asks the database (and never waits long for a
/// connection: under load it shows the last value, or none).
pub fn brand(db: &super::Db) -> Option<(String, String)> {
    let key = format!("{:?}", db.url());
    let cached = brand_cache().lock().ok().and_then(|m| m.get(&key).cloned());
    if let Some((at, value)) = &cached
        && at.elapsed() < BRAND_TTL
    {
        return value.clone();
    }
    let fresh = db
        .conn_within(std::time::Duration::from_millis(100))
        .ok()
        .and_then(|mut c| ixp_name_and_support(&mut c).ok());
    match fresh {
        Some(value) => {
            if let Ok(mut m) = brand_cache().lock() {
                m.insert(key, (std::time::Instant::now(), value.clone()));
            }
            value
        }
        None => cached.and_then(|(_, v)| v),
    }
}

/// Forgets the remembered IXP records (after a change of the record).
pub fn forget_brand() {
    if let Ok(mut m) = brand_cache().lock() {
        m.clear();
    }
}
