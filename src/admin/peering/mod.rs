//! Staff operations on the peering LAN data (the IXP record, LANs, route
//! servers, connections), shared by the CLI and the staff pages. Inputs
//! arrive as typed text; each operation validates, writes, and records an
//! audit entry in one transaction.
use super::AdminError;
use crate::db::connections::{self, Connection, ConnectionFields};
use crate::db::lans::{self, IxpFields, Lan, LanFields, RouteServerFields};
use crate::db::{DbConnection, audit, customers, is_unique_violation, write_tx};
use crate::domain::{Asn, Email, Family, MacAddress, Prefix};

fn field(field: &'static str, message: impl Into<String>) -> AdminError {
    AdminError::Field {
        field,
        message: message.into(),
    }
}

fn text(f: &'static str, v: &str, max: usize) -> Result<String, AdminError> {
    let t = v.trim();
    if t.is_empty() {
        return Err(field(f, format!("{f} is required")));
    }
    if t.chars().count() > max || t.chars().any(char::is_control) {
        return Err(field(
            f,
            format!("{f}: use at most {max} characters, without control characters"),
        ));
    }
    Ok(t.to_string())
}

fn opt_id(f: &'static str, v: &str) -> Result<Option<i64>, AdminError> {
    let t = v.trim();
    if t.is_empty() || t.eq_ignore_ascii_case("none") {
        return Ok(None);
    }
    t.parse::<i64>()
        .ok()
        .filter(|n| *n > 0 && *n <= i64::from(i32::MAX))
        .map(Some)
        .ok_or_else(|| field(f, format!("{f} {t:?} is not a positive number")))
}

fn opt_count(f: &'static str, v: &str) -> Result<Option<i32>, AdminError> {
    let t = v.trim();
    if t.is_empty() || t.eq_ignore_ascii_case("none") {
        return Ok(None);
    }
    t.parse::<i32>()
        .ok()
        .filter(|n| (1..=10_000_000).contains(n))
        .map(Some)
        .ok_or_else(|| field(f, format!("{f} {t:?}: use a number from 1 to 10000000")))
}

/// An AS-SET (RPSL `as-set` name, optionally with an IRR source prefix
/// like `RIPE::AS-EXAMPLE`, or hierarchical like `AS64500:AS-CUSTOMERS`),
/// or an ASN standing for itself.
pub fn parse_as_set(v: &str) -> Result<Option<String>, AdminError> {
    let t = v.trim();
    if t.is_empty() {
        return Ok(None);
    }
    let name = t.rsplit("::").next().unwrap_or(t);
    let ok_chars = t.len() <= 255
        && t.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, ':' | '-' | '_' | '.'));
    let components_ok = !name.is_empty()
        && name.split(':').all(|part| {
            let up = part.to_ascii_uppercase();
            up.starts_with("AS-") && up.len() > 3 || up.parse::<Asn>().is_ok()
        });
    if ok_chars && components_ok {
        Ok(Some(t.to_string()))
    } else {
        Err(field(
            "as_set",
            format!("{t:?} is not an AS-SET: use a name like AS-EXAMPLE or RIPE::AS-EXAMPLE"),
        ))
    }
}

/// The IXP record as typed.
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct IxpInput {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub shortname: String,
    #[serde(default)]
    pub ixf_id: String,
    #[serde(default)]
    pub peeringdb_ix_id: String,
    #[serde(default)]
    pub country: String,
    #[serde(default)]
    pub support_email: String,
}

impl IxpInput {
    pub fn parse(&self) -> Result<IxpFields, AdminError> {
        let country = self.country.trim().to_ascii_uppercase();
        if country.len() != 2 || !country.chars().all(|c| c.is_ascii_uppercase()) {
            return Err(field(
                "country",
                "country: use the two-letter ISO 3166 code, like NL",
            ));
        }
        let email =
            Email::parse(&self.support_email).map_err(|e| field("support_email", e.to_string()))?;
        Ok(IxpFields {
            name: text("name", &self.name, 255)?,
            shortname: text("shortname", &self.shortname, 64)?,
            ixf_id: opt_id("ixf_id", &self.ixf_id)?,
            peeringdb_ix_id: opt_id("peeringdb_ix_id", &self.peeringdb_ix_id)?,
            country,
            support_email: email.to_string(),
        })
    }
}

pub fn set_ixp(conn: &mut DbConnection, actor: &str, input: &IxpInput) -> Result<(), AdminError> {
    let f = input.parse()?;
    write_tx(conn, |c| {
        lans::set_ixp(c, &f)?;
        audit::record(
            c,
            actor,
            "ixp.update",
            &f.shortname,
            &format!(
                "{} ({}), IX-F id {}, PeeringDB ix {}, support {}",
                f.name,
                f.country,
                f.ixf_id
                    .map(|v| v.to_string())
                    .unwrap_or_else(|| "-".into()),
                f.peeringdb_ix_id
                    .map(|v| v.to_string())
                    .unwrap_or_else(|| "-".into()),
                f.support_email
            ),
        )?;
        Ok(())
    })
}

/// A peering LAN as typed.
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct LanInput {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub vlan_id: String,
    #[serde(default)]
    pub ipv4_prefix: String,
    #[serde(default)]
    pub ipv6_prefix: String,
}

fn opt_prefix(f: &'static str, v: &str, family: Family) -> Result<Option<Prefix>, AdminError> {
    let t = v.trim();
    if t.is_empty() || t.eq_ignore_ascii_case("none") {
        return Ok(None);
    }
    let p = Prefix::parse(t).map_err(|e| field(f, e.to_string()))?;
    if p.family() != family {
        return Err(field(f, format!("{t} is not an {} prefix", family.name())));
    }
    Ok(Some(p))
}

impl LanInput {
    pub fn from_lan(l: &Lan) -> LanInput {
        LanInput {
            name: l.name.clone(),
            vlan_id: l.vlan_id.to_string(),
            ipv4_prefix: l.ipv4_prefix.clone().unwrap_or_default(),
            ipv6_prefix: l.ipv6_prefix.clone().unwrap_or_default(),
        }
    }

    pub fn parse(&self) -> Result<(LanFields, Option<Prefix>, Option<Prefix>), AdminError> {
        let vlan_id = self
            .vlan_id
            .trim()
            .parse::<i32>()
            .ok()
            .filter(|v| (1..=4094).contains(v))
            .ok_or_else(|| field("vlan_id", "VLAN id: use a number from 1 to 4094"))?;
        let v4 = opt_prefix("ipv4_prefix", &self.ipv4_prefix, Family::V4)?;
        let v6 = opt_prefix("ipv6_prefix", &self.ipv6_prefix, Family::V6)?;
        if v4.is_none() && v6.is_none() {
            return Err(field(
                "ipv4_prefix",
                "a peering LAN needs an IPv4 or an IPv6 prefix",
            ));
        }
        Ok((
            LanFields {
                name: text("name", &self.name, 255)?,
                vlan_id,
                ipv4_prefix: v4.map(|p| p.to_string()),
                ipv6_prefix: v6.map(|p| p.to_string()),
            },
            v4,
            v6,
        ))
    }
}

fn lan_conflict(e: diesel::result::Error, f: &LanFields) -> AdminError {
    if is_unique_violation(&e) {
        field(
            "name",
            format!(
                "another peering LAN has the name {:?} or the VLAN id {}",
                f.name, f.vlan_id
            ),
        )
    } else {
        e.into()
    }
}

/// Checks that every address already on the LAN fits its (new) prefixes.
fn addresses_fit(
    c: &mut DbConnection,
    lan_id: i64,
    v4: Option<Prefix>,
    v6: Option<Prefix>,
) -> Result<(), AdminError> {
    let mut used: Vec<(String, String)> = Vec::new();
    for rs in lans::route_servers_of_lan(c, lan_id)? {
        for a in [rs.ipv4_address.clone(), rs.ipv6_address.clone()]
            .into_iter()
            .flatten()
        {
            used.push((a, format!("route server {}", rs.name)));
        }
    }
    for cn in connections::of_lan(c, lan_id)? {
        for a in [cn.ipv4_address.clone(), cn.ipv6_address.clone()]
            .into_iter()
            .flatten()
        {
            used.push((a, format!("connection {}", cn.id)));
        }
    }
    for (a, who) in used {
        let Ok(ip) = a.parse::<std::net::IpAddr>() else {
            continue;
        };
        let prefix = match Family::of(&ip) {
            Family::V4 => v4,
            Family::V6 => v6,
        };
        if !prefix.is_some_and(|p| p.contains(&ip)) {
            let f = match Family::of(&ip) {
                Family::V4 => "ipv4_prefix",
                Family::V6 => "ipv6_prefix",
            };
            return Err(field(
                f,
                format!("{who} uses {a}, which the new prefix would not contain"),
            ));
        }
    }
    Ok(())
}

/// Creates (`id` None) or updates a LAN; returns its id.
pub fn save_lan(
    conn: &mut DbConnection,
    actor: &str,
    id: Option<i64>,
    input: &LanInput,
) -> Result<i64, AdminError> {
    let (f, v4, v6) = input.parse()?;
    write_tx(conn, |c| {
        let details = format!(
            "VLAN {}, IPv4 {}, IPv6 {}",
            f.vlan_id,
            f.ipv4_prefix.as_deref().unwrap_or("-"),
            f.ipv6_prefix.as_deref().unwrap_or("-")
        );
        let id = match id {
            Some(id) => {
                lans::lan(c, id)?
                    .ok_or_else(|| AdminError::NotFound("no such peering LAN".into()))?;
                addresses_fit(c, id, v4, v6)?;
                lans::update_lan(c, id, &f).map_err(|e| lan_conflict(e, &f))?;
                audit::record(c, actor, "lan.update", &f.name, &details)?;
                id
            }
            None => {
                let id = lans::create_lan(c, &f).map_err(|e| lan_conflict(e, &f))?;
                audit::record(c, actor, "lan.create", &f.name, &details)?;
                id
            }
        };
        Ok(id)
    })
}

pub fn delete_lan(conn: &mut DbConnection, actor: &str, id: i64) -> Result<(), AdminError> {
    write_tx(conn, |c| {
        let lan =
            lans::lan(c, id)?.ok_or_else(|| AdminError::NotFound("no such peering LAN".into()))?;
        if !lans::route_servers_of_lan(c, id)?.is_empty() || !connections::of_lan(c, id)?.is_empty()
        {
            return Err(AdminError::Invalid(format!(
                "peering LAN {} still has route servers or connections: remove them first",
                lan.name
            )));
        }
        lans::delete_lan(c, id)?;
        audit::record(
            c,
            actor,
            "lan.delete",
            &lan.name,
            &format!("VLAN {}", lan.vlan_id),
        )?;
        Ok(())
    })
}

/// An address on a LAN: inside the prefix of its family and not used by
/// another connection or route server on the LAN.
fn lan_address(
    c: &mut DbConnection,
    f: &'static str,
    lan: &Lan,
    v: &str,
    family: Family,
    except_connection: Option<i64>,
    except_route_server: Option<i64>,
) -> Result<Option<String>, AdminError> {
    let t = v.trim();
    if t.is_empty() || t.eq_ignore_ascii_case("none") {
        return Ok(None);
    }
    let prefix = match family {
        Family::V4 => lan.v4(),
        Family::V6 => lan.v6(),
    }
    .ok_or_else(|| {
        field(
            f,
            format!("peering LAN {} has no {} prefix", lan.name, family.name()),
        )
    })?;
    let ip = prefix.host(t).map_err(|e| field(f, e.to_string()))?;
    let ip = ip.to_string();
    if let Some(holder) =
        connections::address_holder(c, lan.id, &ip, except_connection, except_route_server)?
    {
        return Err(field(
            f,
            format!("{ip} is used already on {} by {holder}", lan.name),
        ));
    }
    Ok(Some(ip))
}

fn load_lan(c: &mut DbConnection, lan_id: i64) -> Result<Lan, AdminError> {
    lans::lan(c, lan_id)?.ok_or_else(|| field("lan_id", "choose an existing peering LAN"))
}

/// A route server as typed (the LAN chosen by id).
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct RouteServerInput {
    #[serde(default)]
    pub lan_id: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub asn: String,
    #[serde(default)]
    pub ipv4_address: String,
    #[serde(default)]
    pub ipv6_address: String,
}

fn parse_lan_id(v: &str) -> Result<i64, AdminError> {
    v.trim()
        .parse::<i64>()
        .ok()
        .filter(|n| *n > 0)
        .ok_or_else(|| field("lan_id", "choose an existing peering LAN"))
}

pub fn save_route_server(
    conn: &mut DbConnection,
    actor: &str,
    id: Option<i64>,
    input: &RouteServerInput,
) -> Result<i64, AdminError> {
    let name = text("name", &input.name, 255)?;
    let asn: Asn = input
        .asn
        .parse()
        .map_err(|e: crate::domain::AsnError| field("asn", e.to_string()))?;
    let lan_id = parse_lan_id(&input.lan_id)?;
    write_tx(conn, |c| {
        let lan = load_lan(c, lan_id)?;
        if let Some(id) = id {
            lans::route_server(c, id)?
                .ok_or_else(|| AdminError::NotFound("no such route server".into()))?;
        }
        let v4 = lan_address(
            c,
            "ipv4_address",
            &lan,
            &input.ipv4_address,
            Family::V4,
            None,
            id,
        )?;
        let v6 = lan_address(
            c,
            "ipv6_address",
            &lan,
            &input.ipv6_address,
            Family::V6,
            None,
            id,
        )?;
        if v4.is_none() && v6.is_none() {
            return Err(field(
                "ipv4_address",
                "a route server needs an IPv4 or an IPv6 address",
            ));
        }
        let f = RouteServerFields {
            lan_id,
            name: name.clone(),
            asn,
            ipv4_address: v4,
            ipv6_address: v6,
        };
        let conflict = |e: diesel::result::Error| {
            if is_unique_violation(&e) {
                field(
                    "name",
                    format!("another route server is named {name:?} or uses these addresses"),
                )
            } else {
                e.into()
            }
        };
        let details = format!(
            "AS{} on {}, IPv4 {}, IPv6 {}",
            f.asn,
            lan.name,
            f.ipv4_address.as_deref().unwrap_or("-"),
            f.ipv6_address.as_deref().unwrap_or("-")
        );
        let id = match id {
            Some(id) => {
                lans::update_route_server(c, id, &f).map_err(conflict)?;
                audit::record(c, actor, "routeserver.update", &f.name, &details)?;
                id
            }
            None => {
                let id = lans::create_route_server(c, &f).map_err(conflict)?;
                audit::record(c, actor, "routeserver.create", &f.name, &details)?;
                id
            }
        };
        Ok(id)
    })
}

pub fn delete_route_server(
    conn: &mut DbConnection,
    actor: &str,
    id: i64,
) -> Result<(), AdminError> {
    write_tx(conn, |c| {
        let rs = lans::route_server(c, id)?
            .ok_or_else(|| AdminError::NotFound("no such route server".into()))?;
        lans::delete_route_server(c, id)?;
        audit::record(
            c,
            actor,
            "routeserver.delete",
            &rs.name,
            &format!("AS{}", rs.asn),
        )?;
        Ok(())
    })
}

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

pub fn delete_connection(conn: &mut DbConnection, actor: &str, id: i64) -> Result<(), AdminError> {
    write_tx(conn, |c| {
        let cn = connections::find(c, id)?
            .ok_or_else(|| AdminError::NotFound("no such connection".into()))?;
        let who = customers::find(c, cn.customer_id)?
            .map(|c| c.shortname)
            .unwrap_or_default();
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn as_sets() {
        for ok in [
            "AS-EXAMPLE",
            "RIPE::AS-EXAMPLE",
            "AS64500:AS-CUSTOMERS",
            "as-foo",
            "AS64500",
        ] {
            assert!(parse_as_set(ok).is_ok_and(|v| v.is_some()), "{ok}");
        }
        for bad in ["EXAMPLE", "AS-", "AS-EX AMPLE", "AS-<x>", "::"] {
            assert!(parse_as_set(bad).is_err(), "{bad}");
        }
        assert!(matches!(parse_as_set("  "), Ok(None)));
    }

    #[test]
    fn lan_input_needs_a_prefix_and_a_vlan() {
        let mut l = LanInput {
            name: "Main".into(),
            vlan_id: "100".into(),
            ipv4_prefix: "192.0.2.0/24".into(),
            ipv6_prefix: "".into(),
        };
        assert!(l.parse().is_ok());
        l.vlan_id = "4095".into();
        assert!(l.parse().is_err());
        l.vlan_id = "10".into();
        l.ipv4_prefix = "2001:db8::/64".into();
        assert!(l.parse().is_err(), "v6 in the v4 field");
        l.ipv4_prefix = "".into();
        assert!(l.parse().is_err(), "no prefix at all");
    }
}
