//! Customers' connections on the peering LANs.
use super::lan::{lan_address, load_lan, parse_lan_id};
use super::{field, opt_count, parse_as_set};
use crate::admin::AdminError;
use crate::db::connections::{self, Connection, ConnectionFields};
use crate::db::{DbConnection, audit, customers, is_unique_violation, write_tx};
use crate::domain::{Family, MacAddress};

/// A connection as typed (customer and LAN chosen by id).
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct ConnectionInput {
    #[serde(default)]
    pub customer_id: String,
    #[serde(default)]
    pub lan_id: String,
    #[serde(default)]
    pub ipv4_address: String,
    #[serde(default)]
    pub ipv6_address: String,
    #[serde(default)]
    pub mac_addresses: String,
    #[serde(default)]
    pub speed_mbps: String,
    #[serde(default)]
    pub max_prefixes_v4: String,
    #[serde(default)]
    pub max_prefixes_v6: String,
    #[serde(default)]
    pub as_set: String,
    /// A checkbox: present when checked; the CLI sets "on" or "".
    pub rs_client: Option<String>,
}

impl ConnectionInput {
    pub fn from_connection(c: &Connection) -> ConnectionInput {
        ConnectionInput {
            customer_id: c.customer_id.to_string(),
            lan_id: c.lan_id.to_string(),
            ipv4_address: c.ipv4_address.clone().unwrap_or_default(),
            ipv6_address: c.ipv6_address.clone().unwrap_or_default(),
            mac_addresses: c.macs().join(", "),
            speed_mbps: c.speed_mbps.to_string(),
            max_prefixes_v4: c.max_prefixes_v4.map(|v| v.to_string()).unwrap_or_default(),
            max_prefixes_v6: c.max_prefixes_v6.map(|v| v.to_string()).unwrap_or_default(),
            as_set: c.as_set.clone().unwrap_or_default(),
            rs_client: c.rs_client.then(|| "on".into()),
        }
    }
    pub fn rs_client(&self) -> bool {
        self.rs_client
            .as_deref()
            .is_some_and(|v| !v.is_empty() && v != "off" && v != "false")
    }
}

pub fn save_connection(
    conn: &mut DbConnection,
    actor: &str,
    id: Option<i64>,
    input: &ConnectionInput,
) -> Result<i64, AdminError> {
    let customer_id = input
        .customer_id
        .trim()
        .parse::<i64>()
        .map_err(|_| field("customer_id", "choose a customer"))?;
    let lan_id = parse_lan_id(&input.lan_id)?;
    let macs = MacAddress::parse_list(&input.mac_addresses)
        .map_err(|e| field("mac_addresses", e.to_string()))?;
    let speed_mbps = input
        .speed_mbps
        .trim()
        .parse::<i64>()
        .ok()
        .filter(|s| (1..=100_000_000).contains(s))
        .ok_or_else(|| {
            field(
                "speed_mbps",
                "port speed: use a number of Mbit/s, like 10000",
            )
        })?;
    let max_v4 = opt_count("max_prefixes_v4", &input.max_prefixes_v4)?;
    let max_v6 = opt_count("max_prefixes_v6", &input.max_prefixes_v6)?;
    let as_set = parse_as_set(&input.as_set)?;
    write_tx(conn, |c| {
        let customer = customers::find(c, customer_id)?
            .ok_or_else(|| field("customer_id", "choose an existing customer"))?;
        let lan = load_lan(c, lan_id)?;
        if let Some(id) = id {
            connections::find(c, id)?
                .ok_or_else(|| AdminError::NotFound("no such connection".into()))?;
        }
        let v4 = lan_address(
            c,
            "ipv4_address",
            &lan,
            &input.ipv4_address,
            Family::V4,
            id,
            None,
        )?;
        let v6 = lan_address(
            c,
            "ipv6_address",
            &lan,
            &input.ipv6_address,
            Family::V6,
            id,
            None,
        )?;
        if v4.is_none() && v6.is_none() {
            return Err(field(
                "ipv4_address",
                "a connection needs an IPv4 or an IPv6 address",
            ));
        }
        let f = ConnectionFields {
            customer_id,
            lan_id,
            ipv4_address: v4,
            ipv6_address: v6,
            mac_addresses: MacAddress::join(&macs),
            speed_mbps,
            max_prefixes_v4: max_v4,
            max_prefixes_v6: max_v6,
            as_set: as_set.clone(),
            rs_client: input.rs_client(),
        };
        let conflict = |e: diesel::result::Error| {
            if is_unique_violation(&e) {
                field(
                    "ipv4_address",
                    "one of these addresses is used already on this LAN",
                )
            } else {
                e.into()
            }
        };
        let details = format!(
            "on {}: IPv4 {}, IPv6 {}, {} Mbit/s, MAC {}, AS-SET {}, route server client {}",
            lan.name,
            f.ipv4_address.as_deref().unwrap_or("-"),
            f.ipv6_address.as_deref().unwrap_or("-"),
            f.speed_mbps,
            if f.mac_addresses.is_empty() {
                "-"
            } else {
                &f.mac_addresses
            },
            f.as_set.as_deref().unwrap_or("-"),
            if f.rs_client { "yes" } else { "no" }
        );
        let id = match id {
            Some(id) => {
                connections::update(c, id, &f).map_err(conflict)?;
                audit::record(c, actor, "connection.update", &customer.shortname, &details)?;
                id
            }
            None => {
                let id = connections::create(c, &f).map_err(conflict)?;
                audit::record(c, actor, "connection.create", &customer.shortname, &details)?;
                id
            }
        };
        Ok(id)
    })
}

/// Deletes a connection without live sessions. Its ended sessions go
/// with it, each written to the audit log first.
pub fn delete_connection(conn: &mut DbConnection, actor: &str, id: i64) -> Result<(), AdminError> {
    write_tx(conn, |c| {
        let (cn, impact) = super::impact::connection_impact(c, id)?
            .ok_or_else(|| AdminError::NotFound("no such connection".into()))?;
        let who = customers::find(c, cn.customer_id)?
            .map(|c| c.shortname)
            .unwrap_or_default();
        super::impact::check(
            &impact,
            &format!("the connection of {who}"),
            "delete its live sessions first (they stay as history with the status deleted)",
        )?;
        super::impact::audit_ended_sessions(c, actor, &impact, "its connection")?;
        connections::delete(c, id)?;
        audit::record(
            c,
            actor,
            "connection.delete",
            &who,
            &format!(
                "IPv4 {}, IPv6 {}",
                cn.ipv4_address.as_deref().unwrap_or("-"),
                cn.ipv6_address.as_deref().unwrap_or("-")
            ),
        )?;
        Ok(())
    })
}
