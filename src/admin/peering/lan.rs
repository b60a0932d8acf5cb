//! Peering LANs and route servers.
use super::{field, text};
use crate::admin::AdminError;
use crate::db::connections;
use crate::db::lans::{self, Lan, LanFields, RouteServerFields};
use crate::db::{DbConnection, audit, is_unique_violation, write_tx};
use crate::domain::{Asn, Family, Prefix};

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

/// Deletes a peering LAN that has no route servers and no connections.
pub fn delete_lan(conn: &mut DbConnection, actor: &str, id: i64) -> Result<(), AdminError> {
    write_tx(conn, |c| {
        let (lan, impact) = super::impact::lan_impact(c, id)?
            .ok_or_else(|| AdminError::NotFound("no such peering LAN".into()))?;
        super::impact::check(
            &impact,
            &format!("peering LAN {}", lan.name),
            "delete or move its route servers and connections first",
        )?;
        lans::delete_lan(c, id)?;
        audit::record(
            c,
            actor,
            "lan.delete",
            &lan.name,
            &format!(
                "VLAN {}, IPv4 {}, IPv6 {}",
                lan.vlan_id,
                lan.ipv4_prefix.as_deref().unwrap_or("-"),
                lan.ipv6_prefix.as_deref().unwrap_or("-")
            ),
        )?;
        Ok(())
    })
}

/// An address on a LAN: inside the prefix of its family and not used by
/// another connection or route server on the LAN.
pub(super) fn lan_address(
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

pub(super) fn load_lan(c: &mut DbConnection, lan_id: i64) -> Result<Lan, AdminError> {
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

pub(super) fn parse_lan_id(v: &str) -> Result<i64, AdminError> {
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

/// Deletes a route server without live sessions. Its ended sessions
/// (rejected, deleted) go with it, each written to the audit log first.
pub fn delete_route_server(
    conn: &mut DbConnection,
    actor: &str,
    id: i64,
) -> Result<(), AdminError> {
    write_tx(conn, |c| {
        let (rs, impact) = super::impact::route_server_impact(c, id)?
            .ok_or_else(|| AdminError::NotFound("no such route server".into()))?;
        super::impact::check(
            &impact,
            &format!("route server {}", rs.name),
            "delete its live sessions first (they stay as history with the status deleted)",
        )?;
        super::impact::audit_ended_sessions(
            c,
            actor,
            &impact,
            &format!("route server {}", rs.name),
        )?;
        lans::delete_route_server(c, id)?;
        audit::record(
            c,
            actor,
            "routeserver.delete",
            &rs.name,
            &format!(
                "AS{}, IPv4 {}, IPv6 {}; {} ended session record(s) removed with it",
                rs.asn,
                rs.ipv4_address.as_deref().unwrap_or("-"),
                rs.ipv6_address.as_deref().unwrap_or("-"),
                impact.ended_sessions.len()
            ),
        )?;
        Ok(())
    })
}
