//! Session requests: the shape of an item (checked before anything is
//! stored), the checks against the peering LAN data, and the session as
//! the API shows it.
use super::error::FieldError;
use crate::db::connections::{self, Connection};
use crate::db::lans::{self, Ixp, RouteServer};
use crate::db::models::{Customer, now};
use crate::db::peering_sessions::{self, NewSession, PeeringSession};
use crate::db::{DbConnection, audit, is_unique_violation};
use crate::domain::{Asn, Family, SessionStatus};
use serde_json::{Map, Value, json};
use std::net::IpAddr;

/// One well-formed item of a `POST /sessions` batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    pub index: usize,
    pub local_asn: Asn,
    pub local_ip: IpAddr,
    pub peer_asn: Asn,
    pub peer_ip: IpAddr,
    pub peer_type: Option<String>,
    pub md5: Option<String>,
    pub location_id: Option<String>,
    pub location_type: Option<String>,
}

fn field(i: usize, name: &str) -> String {
    format!("sessions[{i}].{name}")
}

fn asn_of(
    o: &Map<String, Value>,
    i: usize,
    name: &str,
    errors: &mut Vec<FieldError>,
) -> Option<Asn> {
    match o.get(name) {
        None | Some(Value::Null) => {
            errors.push(FieldError::new(field(i, name), "is required"));
            None
        }
        Some(v) => match v.as_i64().and_then(Asn::new) {
            Some(a) => Some(a),
            None => {
                errors.push(FieldError::new(
                    field(i, name),
                    "must be an integer ASN from 1 to 4294967295",
                ));
                None
            }
        },
    }
}

fn ip_of(
    o: &Map<String, Value>,
    i: usize,
    name: &str,
    errors: &mut Vec<FieldError>,
) -> Option<IpAddr> {
    match o.get(name) {
        None | Some(Value::Null) => {
            errors.push(FieldError::new(field(i, name), "is required"));
            None
        }
        Some(Value::String(s)) => match s.trim().parse::<IpAddr>() {
            Ok(ip) => Some(ip),
            Err(_) => {
                errors.push(FieldError::new(
                    field(i, name),
                    "must be an IPv4 or IPv6 address without a prefix length",
                ));
                None
            }
        },
        Some(_) => {
            errors.push(FieldError::new(field(i, name), "must be a string"));
            None
        }
    }
}

fn opt_string(
    o: &Map<String, Value>,
    i: usize,
    name: &str,
    key: &str,
    errors: &mut Vec<FieldError>,
) -> Option<String> {
    match o.get(key) {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if s.chars().count() <= 255 => Some(s.clone()),
        Some(Value::String(_)) => {
            errors.push(FieldError::new(field(i, name), "is too long"));
            None
        }
        Some(_) => {
            errors.push(FieldError::new(field(i, name), "must be a string"));
            None
        }
    }
}

/// The batch: a JSON array of sessions, or `{"sessions": [...]}`. Wrong
/// shapes or types anywhere fail the whole batch (nothing is stored).
pub fn parse_batch(body: &Value, max: usize) -> Result<Vec<Item>, (bool, Vec<FieldError>)> {
    let items = match body {
        Value::Array(a) => a,
        Value::Object(o) => match o.get("sessions") {
            Some(Value::Array(a)) => a,
            _ => {
                return Err((
                    false,
                    vec![FieldError::new("sessions", "must be an array of sessions")],
                ));
            }
        },
        _ => {
            return Err((
                false,
                vec![FieldError::new(
                    "sessions",
                    "the body must be a JSON array of sessions or an object with \"sessions\"",
                )],
            ));
        }
    };
    if items.is_empty() {
        return Err((false, vec![FieldError::new("sessions", "is empty")]));
    }
    if items.len() > max {
        return Err((
            true,
            vec![FieldError::new(
                "sessions",
                format!("at most {max} sessions per request ({} sent)", items.len()),
            )],
        ));
    }
    let mut errors = Vec::new();
    let mut out = Vec::new();
    for (i, v) in items.iter().enumerate() {
        let Some(o) = v.as_object() else {
            errors.push(FieldError::new(
                format!("sessions[{i}]"),
                "must be an object",
            ));
            continue;
        };
        let local_asn = asn_of(o, i, "local_asn", &mut errors);
        let peer_asn = asn_of(o, i, "peer_asn", &mut errors);
        let local_ip = ip_of(o, i, "local_ip", &mut errors);
        let peer_ip = ip_of(o, i, "peer_ip", &mut errors);
        let peer_type = opt_string(o, i, "peer_type", "peer_type", &mut errors);
        let md5 = opt_string(o, i, "md5", "md5", &mut errors);
        let (location_id, location_type) = match o.get("location") {
            None | Some(Value::Null) => (None, None),
            Some(Value::Object(l)) => (
                opt_string(l, i, "location.id", "id", &mut errors),
                opt_string(l, i, "location.type", "type", &mut errors),
            ),
            Some(_) => {
                errors.push(FieldError::new(field(i, "location"), "must be an object"));
                (None, None)
            }
        };
        if let (Some(local_asn), Some(peer_asn), Some(local_ip), Some(peer_ip)) =
            (local_asn, peer_asn, local_ip, peer_ip)
        {
            out.push(Item {
                index: i,
                local_asn,
                local_ip,
                peer_asn,
                peer_ip,
                peer_type,
                md5,
                location_id,
                location_type,
            });
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err((false, errors))
    }
}

/// The location id of this IXP: `pdb:ix:<PeeringDB ix id>`.
pub fn location_id(ixp: Option<&Ixp>) -> Option<String> {
    ixp.and_then(|i| i.peeringdb_ix_id)
        .map(|id| format!("pdb:ix:{id}"))
}

/// An item with its orientation settled: which side is our route server.
#[derive(Debug, Clone)]
pub struct Oriented {
    pub item: Item,
    pub rs_is_local: bool,
    pub member_asn: Asn,
    pub member_ip: IpAddr,
    pub rs_asn: Asn,
    pub rs_ip: IpAddr,
}

/// Exactly one side must be one of our route servers' ASNs.
pub fn orient(item: Item, rs_asns: &[Asn]) -> Result<Oriented, FieldError> {
    let local_rs = rs_asns.contains(&item.local_asn);
    let peer_rs = rs_asns.contains(&item.peer_asn);
    let i = item.index;
    match (local_rs, peer_rs) {
        (true, false) => Ok(Oriented {
            rs_is_local: true,
            member_asn: item.peer_asn,
            member_ip: item.peer_ip,
            rs_asn: item.local_asn,
            rs_ip: item.local_ip,
            item,
        }),
        (false, true) => Ok(Oriented {
            rs_is_local: false,
            member_asn: item.local_asn,
            member_ip: item.local_ip,
            rs_asn: item.peer_asn,
            rs_ip: item.peer_ip,
            item,
        }),
        (true, true) => Err(FieldError::new(
            field(i, "peer_asn"),
            "both ASNs are route-server ASNs of this IXP; one side must be your network",
        )),
        (false, false) => Err(FieldError::new(
            field(i, "local_asn"),
            "neither local_asn nor peer_asn is a route-server ASN of this IXP; sessions here are with our route servers only",
        )),
    }
}

/// The session as the API shows it, in the orientation it was requested in.
pub fn session_json(s: &PeeringSession) -> Value {
    let (local_asn, local_ip, peer_asn, peer_ip) = if s.rs_is_local {
        (s.rs_asn, &s.rs_ip, s.member_asn, &s.member_ip)
    } else {
        (s.member_asn, &s.member_ip, s.rs_asn, &s.rs_ip)
    };
    json!({
        "local_asn": local_asn,
        "local_ip": local_ip,
        "peer_asn": peer_asn,
        "peer_ip": peer_ip,
        "peer_type": "public",
        "location": {"id": s.location_id, "type": "public"},
        "status": s.status,
        "session_id": s.session_id,
    })
}

fn ip_field(o: &Oriented, member: bool) -> String {
    // The field of the request that carried the member's (or the route
    // server's) address.
    let local = o.rs_is_local != member;
    field(o.item.index, if local { "local_ip" } else { "peer_ip" })
}

/// The outcome of one item: a session (new or existing) or its errors.
pub enum Outcome {
    Created(PeeringSession),
    Existing(PeeringSession),
    Refused(FieldError),
}

/// Checks one oriented item against the data and stores a new session.
/// Runs inside the caller's write transaction.
#[allow(clippy::too_many_arguments)]
pub fn request_one(
    c: &mut DbConnection,
    o: &Oriented,
    customer: &Customer,
    ixp: Option<&Ixp>,
    route_servers: &[RouteServer],
    auto_approve: bool,
    actor: &str,
) -> Result<Outcome, diesel::result::Error> {
    let i = o.item.index;
    let refuse = |name: String, msg: String| Ok(Outcome::Refused(FieldError::new(name, msg)));
    let Some(loc) = location_id(ixp) else {
        return refuse(
            field(i, "location"),
            "this IXP has no PeeringDB ix id set, so it offers no location yet".into(),
        );
    };
    match &o.item.location_id {
        Some(id) if *id == loc => {}
        Some(id) => {
            return refuse(
                field(i, "location.id"),
                format!("{id:?} is not offered here: use {loc:?}"),
            );
        }
        None => {
            return refuse(
                field(i, "location"),
                format!("is required: use {{\"id\": {loc:?}, \"type\": \"public\"}}"),
            );
        }
    }
    if let Some(t) = &o.item.location_type
        && t != "public"
    {
        return refuse(
            field(i, "location.type"),
            "route-server sessions are public peering: use \"public\"".into(),
        );
    }
    if let Some(t) = &o.item.peer_type
        && t != "public"
    {
        return refuse(
            field(i, "peer_type"),
            "only \"public\" sessions are offered".into(),
        );
    }
    if o.item.md5.as_deref().is_some_and(|m| !m.is_empty()) {
        return refuse(
            field(i, "md5"),
            "the route servers do not use MD5 authentication; leave md5 out".into(),
        );
    }
    let family = Family::of(&o.member_ip);
    if family != Family::of(&o.rs_ip) {
        return refuse(
            ip_field(o, true),
            format!(
                "{} is {} but the route server address {} is not: the family must match",
                o.member_ip,
                family.name(),
                o.rs_ip
            ),
        );
    }
    let member_ip = o.member_ip.to_string();
    let rs_ip = o.rs_ip.to_string();
    let mine: Vec<Connection> = connections::of_customer(c, customer.id)?;
    let Some(conn) = mine.iter().find(|cn| match family {
        Family::V4 => cn.ipv4_address.as_deref() == Some(member_ip.as_str()),
        Family::V6 => cn.ipv6_address.as_deref() == Some(member_ip.as_str()),
    }) else {
        return refuse(
            ip_field(o, true),
            format!(
                "{member_ip} is not a connection address of AS{} on a peering LAN of this IXP",
                o.member_asn
            ),
        );
    };
    let candidates: Vec<&RouteServer> = route_servers
        .iter()
        .filter(|r| r.asn == o.rs_asn)
        .filter(|r| match family {
            Family::V4 => r.ipv4_address.as_deref() == Some(rs_ip.as_str()),
            Family::V6 => r.ipv6_address.as_deref() == Some(rs_ip.as_str()),
        })
        .collect();
    if candidates.is_empty() {
        return refuse(
            ip_field(o, false),
            format!(
                "{rs_ip} is not an address of a route server with AS{}",
                o.rs_asn
            ),
        );
    }
    let Some(rs) = candidates.into_iter().find(|r| r.lan_id == conn.lan_id) else {
        return refuse(
            ip_field(o, false),
            format!(
                "the route server at {rs_ip} is not on the peering LAN of your address {member_ip}"
            ),
        );
    };
    let fam = match family {
        Family::V4 => 4,
        Family::V6 => 6,
    };
    if let Some(existing) = peering_sessions::live(c, rs.id, conn.id, fam)? {
        return Ok(Outcome::Existing(existing));
    }
    let status = if auto_approve {
        SessionStatus::Approved
    } else {
        SessionStatus::Pending
    };
    let t = now();
    let new = NewSession {
        session_id: format!("ps-{}", crate::auth::token::random_token()),
        customer_id: customer.id,
        connection_id: conn.id,
        route_server_id: rs.id,
        family: fam,
        member_asn: o.member_asn,
        member_ip: member_ip.clone(),
        rs_asn: o.rs_asn,
        rs_ip: rs_ip.clone(),
        rs_is_local: o.rs_is_local,
        location_id: loc,
        status: status.as_str().into(),
        requested_by: actor.into(),
        created_at: t,
        updated_at: t,
    };
    // On PostgreSQL the insert runs in a savepoint, so that losing a race on
    // the unique index leaves the batch's transaction usable; on SQLite the
    // batch holds the write lock (BEGIN IMMEDIATE), so there is no race.
    let inserted = match c {
        DbConnection::Pg(_) => {
            diesel::Connection::transaction(c, |c| peering_sessions::insert(c, &new))
        }
        DbConnection::Sqlite(_) => peering_sessions::insert(c, &new),
    };
    let id = match inserted {
        Ok(id) => id,
        Err(e) if is_unique_violation(&e) => {
            // A concurrent request made it first: that one is the answer.
            return match peering_sessions::live(c, rs.id, conn.id, fam)? {
                Some(s) => Ok(Outcome::Existing(s)),
                None => Err(e),
            };
        }
        Err(e) => return Err(e),
    };
    let details = format!(
        "AS{} {member_ip} with {} (AS{}) {rs_ip}, session {}",
        o.member_asn, rs.name, o.rs_asn, new.session_id
    );
    audit::record(
        c,
        actor,
        "peering_session.request",
        &customer.shortname,
        &details,
    )?;
    if auto_approve {
        audit::record(
            c,
            "peering-api (auto-approval)",
            "peering_session.approve",
            &customer.shortname,
            &format!("{details}: passed every check"),
        )?;
    }
    let created = peering_sessions::find(c, id)?.ok_or(diesel::result::Error::NotFound)?;
    Ok(Outcome::Created(created))
}

/// The ASNs of every route server.
pub fn route_server_asns(
    c: &mut DbConnection,
) -> Result<(Vec<RouteServer>, Vec<Asn>), diesel::result::Error> {
    let all = lans::route_servers(c)?;
    let mut asns: Vec<Asn> = all.iter().map(|r| r.asn).collect();
    asns.sort();
    asns.dedup();
    Ok((all, asns))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batch_shapes() {
        let ok = json!([{"local_asn": 64500, "local_ip": "192.0.2.10", "peer_asn": 64999, "peer_ip": "192.0.2.1"}]);
        assert_eq!(parse_batch(&ok, 100).map(|v| v.len()), Ok(1));
        let wrapped = json!({"sessions": ok});
        assert!(parse_batch(&wrapped, 100).is_ok());
        for bad in [
            json!(1),
            json!({}),
            json!([]),
            json!([1]),
            json!([{"local_asn": "x"}]),
        ] {
            assert!(parse_batch(&bad, 100).is_err(), "{bad}");
        }
        let (too_many, _) = parse_batch(&json!(vec![json!({}); 101]), 100).unwrap_err();
        assert!(too_many);
        let (_, errors) = parse_batch(
            &json!([{"local_asn": 0, "local_ip": "192.0.2.10/24", "peer_asn": 64999, "peer_ip": 7, "location": {"id": 5}}]),
            100,
        )
        .unwrap_err();
        let names: Vec<&str> = errors.iter().map(|e| e.name.as_str()).collect();
        assert!(names.contains(&"sessions[0].local_asn"));
        assert!(names.contains(&"sessions[0].local_ip"));
        assert!(names.contains(&"sessions[0].peer_ip"));
        assert!(names.contains(&"sessions[0].location.id"), "{names:?}");
    }

    #[test]
    fn orientation() {
        let rs = [Asn::new(64999).unwrap()];
        let item = |l: i64, p: i64| Item {
            index: 0,
            local_asn: Asn::new(l).unwrap(),
            local_ip: "192.0.2.1".parse().unwrap(),
            peer_asn: Asn::new(p).unwrap(),
            peer_ip: "192.0.2.10".parse().unwrap(),
            peer_type: None,
            md5: None,
            location_id: None,
            location_type: None,
        };
        let o = orient(item(64999, 64500), &rs).unwrap();
        assert!(o.rs_is_local);
        assert_eq!(o.member_asn.get(), 64500);
        assert_eq!(o.member_ip.to_string(), "192.0.2.10");
        let o = orient(item(64500, 64999), &rs).unwrap();
        assert!(!o.rs_is_local);
        assert_eq!(o.member_ip.to_string(), "192.0.2.1");
        assert!(orient(item(64999, 64999), &rs).is_err());
        assert!(orient(item(64500, 64501), &rs).is_err());
    }
}
