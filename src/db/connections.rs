//! Customers' connections on the peering LANs.
use super::DbConnection;
use super::models::now;
use super::schema::{connections, route_servers};
use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::result::Error;

#[derive(Debug, Clone, Queryable, Selectable, serde::Serialize)]
#[diesel(table_name = connections)]
pub struct Connection {
    pub id: i64,
    pub customer_id: i64,
    pub lan_id: i64,
    pub ipv4_address: Option<String>,
    pub ipv6_address: Option<String>,
    /// Comma-separated, lower-case `aa:bb:cc:dd:ee:ff`.
    pub mac_addresses: String,
    pub speed_mbps: i64,
    pub max_prefixes_v4: Option<i32>,
    pub max_prefixes_v6: Option<i32>,
    pub as_set: Option<String>,
    pub rs_client: bool,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

impl Connection {
    pub fn macs(&self) -> Vec<String> {
        self.mac_addresses
            .split(',')
            .filter(|m| !m.is_empty())
            .map(str::to_string)
            .collect()
    }
}

#[derive(Debug, Clone, Insertable, AsChangeset)]
#[diesel(table_name = connections, treat_none_as_null = true)]
pub struct ConnectionFields {
    pub customer_id: i64,
    pub lan_id: i64,
    pub ipv4_address: Option<String>,
    pub ipv6_address: Option<String>,
    pub mac_addresses: String,
    pub speed_mbps: i64,
    pub max_prefixes_v4: Option<i32>,
    pub max_prefixes_v6: Option<i32>,
    pub as_set: Option<String>,
    pub rs_client: bool,
}

pub fn create(conn: &mut DbConnection, f: &ConnectionFields) -> Result<i64, Error> {
    let t = now();
    diesel::insert_into(connections::table)
        .values((
            f,
            connections::created_at.eq(t),
            connections::updated_at.eq(t),
        ))
        .returning(connections::id)
        .get_result(conn)
}

pub fn update(conn: &mut DbConnection, id: i64, f: &ConnectionFields) -> Result<usize, Error> {
    diesel::update(connections::table.find(id))
        .set((f, connections::updated_at.eq(now())))
        .execute(conn)
}

pub fn delete(conn: &mut DbConnection, id: i64) -> Result<usize, Error> {
    diesel::delete(connections::table.find(id)).execute(conn)
}

pub fn find(conn: &mut DbConnection, id: i64) -> Result<Option<Connection>, Error> {
    connections::table
        .find(id)
        .select(Connection::as_select())
        .first(conn)
        .optional()
}

pub fn all(conn: &mut DbConnection) -> Result<Vec<Connection>, Error> {
    connections::table
        .select(Connection::as_select())
        .order((
            connections::lan_id,
            connections::customer_id,
            connections::id,
        ))
        .load(conn)
}

pub fn of_customer(conn: &mut DbConnection, customer_id: i64) -> Result<Vec<Connection>, Error> {
    connections::table
        .filter(connections::customer_id.eq(customer_id))
        .select(Connection::as_select())
        .order((connections::lan_id, connections::id))
        .load(conn)
}

pub fn of_lan(conn: &mut DbConnection, lan_id: i64) -> Result<Vec<Connection>, Error> {
    connections::table
        .filter(connections::lan_id.eq(lan_id))
        .select(Connection::as_select())
        .order(connections::id)
        .load(conn)
}

/// Who holds an address on a LAN already (a connection or a route server),
/// other than the row being edited; for "unique per LAN".
pub fn address_holder(
    conn: &mut DbConnection,
    lan_id: i64,
    address: &str,
    except_connection: Option<i64>,
    except_route_server: Option<i64>,
) -> Result<Option<String>, Error> {
    let conn_hit: Option<i64> = connections::table
        .filter(connections::lan_id.eq(lan_id))
        .filter(
            connections::ipv4_address
                .eq(address)
                .or(connections::ipv6_address.eq(address)),
        )
        .filter(connections::id.ne(except_connection.unwrap_or(0)))
        .select(connections::id)
        .first(conn)
        .optional()?;
    if let Some(id) = conn_hit {
        return Ok(Some(format!("connection {id}")));
    }
    let rs_hit: Option<String> = route_servers::table
        .filter(route_servers::lan_id.eq(lan_id))
        .filter(
            route_servers::ipv4_address
                .eq(address)
                .or(route_servers::ipv6_address.eq(address)),
        )
        .filter(route_servers::id.ne(except_route_server.unwrap_or(0)))
        .select(route_servers::name)
        .first(conn)
        .optional()?;
    Ok(rs_hit.map(|n| format!("route server {n}")))
}
