//! Session requests: the shape of an item (checked before anything is
//! stored), the checks against the peering LAN data, and the session as
//! the API shows it.
//!
//! Input is read liberally and answered in the caller's terms: ASNs as
//! integers or strings of digits, `location.type` and `peer_type` in any
//! case (a `peer_type` other than `private` is read as public, since a
//! route-server session is public peering), `location` defaulting to this
//! IXP's only one, and every session answered in the orientation of the
//! request that names it.
use super::error::FieldError;
use super::fields::{
    self, ASN_VALUES, MEMBER_SIDE, ROUTE_SERVER_SIDE, SideFields, contradictions, write_side,
};
use crate::db::connections::{self, Connection};
use crate::db::lans::{self, Ixp, RouteServer};
use crate::db::models::{Customer, now};
use crate::db::peering_sessions::{self, NewSession, PeeringSession};
use crate::db::{DbConnection, audit, is_unique_violation};
use crate::domain::{Asn, Family, SessionStatus};
use serde_json::{Map, Value, json};
use std::net::IpAddr;

/// The names under which a request may carry a TCP MD5 secret: the draft's
/// `session_secret` and the published OpenAPI's `md5`.
pub const SECRET_FIELDS: [&str; 2] = ["session_secret", "md5"];

/// One well-formed item of a `POST /sessions` batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    pub index: usize,
    pub local_asn: Asn,
    pub local_ip: IpAddr,
    pub peer_asn: Asn,
    pub peer_ip: IpAddr,
    /// The draft-01 route-server fields of each side, as given.
    pub local: SideFields,
    pub peer: SideFields,
    /// Lower-cased.
    pub peer_type: Option<String>,
    /// The secret fields given with a non-empty value.
    pub secrets: Vec<&'static str>,
    pub location_id: Option<String>,
    /// Lower-cased.
    pub location_type: Option<String>,
}

fn field(i: usize, name: &str) -> String {
    format!("sessions[{i}].{name}")
}

fn present<'a>(o: &'a Map<String, Value>, key: &str) -> Option<&'a Value> {
    o.get(key).filter(|v| !v.is_null())
}

fn asn_of(
    o: &Map<String, Value>,
    i: usize,
    name: &str,
    errors: &mut Vec<FieldError>,
) -> Option<Asn> {
    match present(o, name) {
        None => {
            errors.push(FieldError::new(
                field(i, name),
                format!("is required: {ASN_VALUES}"),
            ));
            None
        }
        Some(v) => match fields::parse_asn(v) {
            Some(a) => Some(a),
            None => {
                errors.push(FieldError::new(
                    field(i, name),
                    format!("must be {ASN_VALUES}"),
                ));
                None
            }
        },
    }
}

const IP_VALUES: &str =
    "an IPv4 or IPv6 address without a prefix length, such as \"192.0.2.10\" or \"2001:db8::10\"";

fn ip_of(
    o: &Map<String, Value>,
    i: usize,
    name: &str,
    errors: &mut Vec<FieldError>,
) -> Option<IpAddr> {
    match present(o, name) {
        None => {
            errors.push(FieldError::new(
                field(i, name),
                format!("is required: {IP_VALUES}"),
            ));
            None
        }
        Some(Value::String(s)) => match s.trim().parse::<IpAddr>() {
            Ok(ip) => Some(ip),
            Err(_) => {
                errors.push(FieldError::new(
                    field(i, name),
                    format!("must be {IP_VALUES}"),
                ));
                None
            }
        },
        Some(_) => {
            errors.push(FieldError::new(
                field(i, name),
                format!("must be a string: {IP_VALUES}"),
            ));
            None
        }
    }
}

/// An optional string field (trimmed; empty reads as absent).
fn opt_string(
    o: &Map<String, Value>,
    i: usize,
    name: &str,
    key: &str,
    accepted: &str,
    errors: &mut Vec<FieldError>,
) -> Option<String> {
    match present(o, key) {
        None => None,
        Some(Value::String(s)) if s.chars().count() <= 255 => {
            Some(s.trim().to_string()).filter(|s| !s.is_empty())
        }
        Some(Value::String(_)) => {
            errors.push(FieldError::new(
                field(i, name),
                format!("is longer than 255 characters; accepted: {accepted}"),
            ));
            None
        }
        Some(_) => {
            errors.push(FieldError::new(
                field(i, name),
                format!("must be a string; accepted: {accepted}"),
            ));
            None
        }
    }
}

/// Errors of a batch that refuse all of it: whether it was too large (413),
/// and the errors.
pub type BatchError = (bool, Vec<FieldError>);

/// The batch: a JSON array of sessions, or `{"sessions": [...]}` (a
/// client's own `request_id` there is ignored: the server's is the
/// definitive one). Wrong shapes or types anywhere fail the whole batch
/// (nothing is stored); unknown fields (`status`, `uuid`, …) are ignored.
pub fn parse_batch(body: &Value, max: usize) -> Result<Vec<Item>, BatchError> {
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
        let local = fields::read_side(o, i, "local", &mut errors);
        let peer = fields::read_side(o, i, "peer", &mut errors);
        let peer_type = opt_string(o, i, "peer_type", "peer_type", "\"public\"", &mut errors)
            .map(|s| s.to_lowercase());
        let mut secrets = Vec::new();
        for name in SECRET_FIELDS {
            if opt_string(o, i, name, name, "leave it out", &mut errors).is_some() {
                secrets.push(name);
            }
        }
        let (location_id, location_type) = match present(o, "location") {
            None => (None, None),
            Some(Value::Object(l)) => (
                opt_string(
                    l,
                    i,
                    "location.id",
                    "id",
                    "\"pdb:ix:<PeeringDB ix id>\"",
                    &mut errors,
                ),
                opt_string(l, i, "location.type", "type", "\"public\"", &mut errors)
                    .map(|s| s.to_lowercase()),
            ),
            Some(_) => {
                errors.push(FieldError::new(
                    field(i, "location"),
                    "must be an object such as {\"id\": \"pdb:ix:<PeeringDB ix id>\", \"type\": \"public\"}, or left out for this IXP's location",
                ));
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
                local,
                peer,
                peer_type,
                secrets,
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

impl Oriented {
    /// The request's prefix (`local` or `peer`) of the route server's side.
    fn rs_prefix(&self) -> &'static str {
        if self.rs_is_local { "local" } else { "peer" }
    }
    fn member_prefix(&self) -> &'static str {
        if self.rs_is_local { "peer" } else { "local" }
    }
    fn rs_fields(&self) -> &SideFields {
        if self.rs_is_local {
            &self.item.local
        } else {
            &self.item.peer
        }
    }
    fn member_fields(&self) -> &SideFields {
        if self.rs_is_local {
            &self.item.peer
        } else {
            &self.item.local
        }
    }
}

/// Exactly one side must be one of our route servers' ASNs.
pub fn orient(item: Item, rs_asns: &[Asn]) -> Result<Oriented, FieldError> {
    let local_rs = rs_asns.contains(&item.local_asn);
    let peer_rs = rs_asns.contains(&item.peer_asn);
    let i = item.index;
    let ours = || {
        rs_asns
            .iter()
            .map(|a| format!("AS{a}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
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
            format!(
                "both ASNs are route-server ASNs of this IXP ({}); one side must be your network",
                ours()
            ),
        )),
        (false, false) if rs_asns.is_empty() => Err(FieldError::new(
            field(i, "local_asn"),
            "this IXP has no route servers configured yet",
        )),
        (false, false) => Err(FieldError::new(
            field(i, "local_asn"),
            format!(
                "neither local_asn nor peer_asn is a route-server ASN of this IXP; sessions here are with our route servers only: use {}",
                ours()
            ),
        )),
    }
}

/// The session as the API shows it, with the route server on the local
/// side or not: the orientation of the request being answered.
pub fn session_json(s: &PeeringSession, rs_is_local: bool) -> Value {
    let (local_asn, local_ip, peer_asn, peer_ip) = if rs_is_local {
        (s.rs_asn, &s.rs_ip, s.member_asn, &s.member_ip)
    } else {
        (s.member_asn, &s.member_ip, s.rs_asn, &s.rs_ip)
    };
    let (local, peer) = if rs_is_local {
        (ROUTE_SERVER_SIDE, MEMBER_SIDE)
    } else {
        (MEMBER_SIDE, ROUTE_SERVER_SIDE)
    };
    let mut m = Map::new();
    m.insert("local_asn".into(), json!(local_asn));
    m.insert("local_ip".into(), json!(local_ip));
    m.insert("peer_asn".into(), json!(peer_asn));
    m.insert("peer_ip".into(), json!(peer_ip));
    write_side(&mut m, "local", local);
    write_side(&mut m, "peer", peer);
    m.insert("peer_type".into(), json!("public"));
    m.insert(
        "location".into(),
        json!({"id": s.location_id, "type": "public"}),
    );
    m.insert("status".into(), json!(s.status));
    m.insert("session_id".into(), json!(s.session_id));
    Value::Object(m)
}

/// The session in the orientation it was first requested in (answers that
/// are not about a request: `GET` and `DELETE` of one session, the list).
pub fn stored_session_json(s: &PeeringSession) -> Value {
    session_json(s, s.rs_is_local)
}

fn ip_field(o: &Oriented, member: bool) -> String {
    // The field of the request that carried the member's (or the route
    // server's) address.
    let local = o.rs_is_local != member;
    field(o.item.index, if local { "local_ip" } else { "peer_ip" })
}

/// Why an item was refused: its errors, and whether only a person at the
/// exchange can change that (the draft's 422, "human intervention
/// required").
#[derive(Debug, Clone)]
pub struct Refusal {
    pub errors: Vec<FieldError>,
    pub needs_person: bool,
}

/// The outcome of one item: a session (new or existing) or its errors.
pub enum Outcome {
    Created(PeeringSession),
    Existing(PeeringSession),
    Refused(Refusal),
}

/// What the item asks that this IXP does not offer, before any lookup:
/// another location, private peering, an MD5 secret, or route-server
/// fields that contradict a route-server session. One error per field.
pub fn offer_errors(o: &Oriented, loc: &str) -> Vec<FieldError> {
    let i = o.item.index;
    let mut out = Vec::new();
    if let Some(id) = &o.item.location_id
        && !id.eq_ignore_ascii_case(loc)
    {
        out.push(FieldError::new(
            field(i, "location.id"),
            format!("{id:?} is not offered here; accepted: {loc:?}, or leave location out"),
        ));
    }
    if let Some(t) = &o.item.location_type
        && t != "public"
    {
        out.push(FieldError::new(
            field(i, "location.type"),
            format!(
                "{t:?} is not offered: route-server sessions are public peering; accepted: \"public\" (in any case), or leave it out"
            ),
        ));
    }
    if o.item.peer_type.as_deref() == Some("private") {
        out.push(FieldError::new(
            field(i, "peer_type"),
            "\"private\" is not offered: route-server sessions are public peering at the exchange; accepted: \"public\", or leave it out",
        ));
    }
    for name in &o.item.secrets {
        out.push(FieldError::new(
            field(i, name),
            "this IXP's route servers do not use TCP MD5 authentication, so a session with a secret would never come up; leave it out or empty",
        ));
    }
    out.extend(contradictions(
        o.rs_fields(),
        i,
        o.rs_prefix(),
        true,
        o.rs_asn,
    ));
    out.extend(contradictions(
        o.member_fields(),
        i,
        o.member_prefix(),
        false,
        o.member_asn,
    ));
    out
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
    let refuse = |name: String, msg: String| {
        Ok(Outcome::Refused(Refusal {
            errors: vec![FieldError::new(name, msg)],
            needs_person: false,
        }))
    };
    let Some(loc) = location_id(ixp) else {
        return Ok(Outcome::Refused(Refusal {
            errors: vec![FieldError::new(
                field(i, "location"),
                "this IXP has no PeeringDB ix id set, so it offers no location yet",
            )],
            needs_person: true,
        }));
    };
    let offer = offer_errors(o, &loc);
    if !offer.is_empty() {
        return Ok(Outcome::Refused(Refusal {
            errors: offer,
            needs_person: false,
        }));
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
        let yours: Vec<&str> = mine
            .iter()
            .filter_map(|cn| match family {
                Family::V4 => cn.ipv4_address.as_deref(),
                Family::V6 => cn.ipv6_address.as_deref(),
            })
            .collect();
        let hint = if yours.is_empty() {
            format!("AS{} has no {} address here", o.member_asn, family.name())
        } else {
            format!("accepted: {}", yours.join(", "))
        };
        return refuse(
            ip_field(o, true),
            format!(
                "{member_ip} is not a connection address of AS{} on a peering LAN of this IXP; {hint}",
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
    let on_lan = || {
        route_servers
            .iter()
            .filter(|r| r.asn == o.rs_asn && r.lan_id == conn.lan_id)
            .filter_map(|r| match family {
                Family::V4 => r.ipv4_address.as_deref(),
                Family::V6 => r.ipv6_address.as_deref(),
            })
            .collect::<Vec<_>>()
            .join(", ")
    };
    if candidates.is_empty() {
        return refuse(
            ip_field(o, false),
            format!(
                "{rs_ip} is not an address of a route server with AS{}; accepted on your LAN: {}",
                o.rs_asn,
                on_lan()
            ),
        );
    }
    let Some(rs) = candidates.into_iter().find(|r| r.lan_id == conn.lan_id) else {
        return refuse(
            ip_field(o, false),
            format!(
                "the route server at {rs_ip} is not on the peering LAN of your address {member_ip}; accepted: {}",
                on_lan()
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
    // The insert runs in a savepoint, so that losing a race on the unique
    // index leaves the batch's transaction usable.
    let inserted = diesel::Connection::transaction(c, |c| peering_sessions::insert(c, &new));
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

/// A new request id: a random (version 4) UUID, the format the draft asks
/// for ("a unique GUID called RequestID").
pub fn new_request_id() -> String {
    let mut b = crate::auth::token::random_bytes(16);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

/// A request id as a client sends it back: a UUID in any case, with or
/// without braces; `None` for anything else.
pub fn parse_request_id(s: &str) -> Option<String> {
    let t = s.trim();
    let t = t
        .strip_prefix('{')
        .and_then(|t| t.strip_suffix('}'))
        .unwrap_or(t)
        .to_ascii_lowercase();
    let groups: Vec<&str> = t.split('-').collect();
    let lens = [8, 4, 4, 4, 12];
    (groups.len() == 5
        && groups
            .iter()
            .zip(lens)
            .all(|(g, n)| g.len() == n && g.bytes().all(|b| b.is_ascii_hexdigit())))
    .then_some(t)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::peeringapi::fields::BgpRole;

    #[test]
    fn batch_shapes() {
        let ok = json!([{"local_asn": 64500, "local_ip": "192.0.2.10", "peer_asn": 64999, "peer_ip": "192.0.2.1"}]);
        assert_eq!(parse_batch(&ok, 100).map(|v| v.len()), Ok(1));
        let wrapped = json!({"sessions": ok, "request_id": "mine"});
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
            &json!([{"local_asn": 0, "local_ip": "192.0.2.10/24", "peer_asn": 64999, "peer_ip": 7, "location": {"id": 5}, "local_bgp_role": 9, "peer_insert_asn": "maybe", "md5": 1}]),
            100,
        )
        .unwrap_err();
        let names: Vec<&str> = errors.iter().map(|e| e.name.as_str()).collect();
        for n in [
            "sessions[0].local_asn",
            "sessions[0].local_ip",
            "sessions[0].peer_ip",
            "sessions[0].location.id",
            "sessions[0].local_bgp_role",
            "sessions[0].peer_insert_asn",
            "sessions[0].md5",
        ] {
            assert!(names.contains(&n), "{n} in {names:?}");
        }
        // Every message says what is accepted.
        for e in &errors {
            assert!(
                e.errors[0].contains("accepted")
                    || e.errors[0].contains("must be")
                    || e.errors[0].contains("required"),
                "{e:?}"
            );
        }
    }

    #[test]
    fn liberal_items() {
        // As peerctl sends them: the ASN as a string, upper-case location
        // type, its own peer_type, an empty md5, extra fields.
        let v = json!([{"local_asn": 64500, "local_ip": " 192.0.2.10 ", "peer_asn": "64999", "peer_ip": "192.0.2.1",
            "peer_type": "ixp", "md5": "", "status": "pending", "uuid": "x",
            "location": {"id": "pdb:ix:4242", "type": "PUBLIC"}, "peer_bgp_role": "1", "local_insert_asn": "TRUE"}]);
        let items = parse_batch(&v, 100).unwrap();
        let it = &items[0];
        assert_eq!(it.peer_asn.get(), 64999);
        assert_eq!(it.peer_type.as_deref(), Some("ixp"));
        assert_eq!(it.location_type.as_deref(), Some("public"));
        assert!(it.secrets.is_empty());
        assert_eq!(it.peer.bgp_role, Some(BgpRole::RouteServer));
        assert_eq!(it.local.insert_asn, Some(true));
        let o = orient(it.clone(), &[Asn::new(64999).unwrap()]).unwrap();
        assert!(offer_errors(&o, "pdb:ix:4242").is_empty());
        // Secrets under either name are refused per item, naming the field.
        let v = json!([{"local_asn": 64500, "local_ip": "192.0.2.10", "peer_asn": 64999, "peer_ip": "192.0.2.1", "session_secret": "s", "md5": "m"}]);
        let it = parse_batch(&v, 100).unwrap().remove(0);
        let o = orient(it, &[Asn::new(64999).unwrap()]).unwrap();
        let names: Vec<String> = offer_errors(&o, "pdb:ix:4242")
            .into_iter()
            .map(|e| e.name)
            .collect();
        assert_eq!(names, ["sessions[0].session_secret", "sessions[0].md5"]);
    }

    fn item(l: i64, p: i64) -> Item {
        Item {
            index: 0,
            local_asn: Asn::new(l).unwrap(),
            local_ip: "192.0.2.1".parse().unwrap(),
            peer_asn: Asn::new(p).unwrap(),
            peer_ip: "192.0.2.10".parse().unwrap(),
            local: SideFields::default(),
            peer: SideFields::default(),
            peer_type: None,
            secrets: vec![],
            location_id: None,
            location_type: None,
        }
    }

    #[test]
    fn orientation() {
        let rs = [Asn::new(64999).unwrap()];
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

    #[test]
    fn contradictions_are_named_in_the_request_orientation() {
        let rs = [Asn::new(64999).unwrap()];
        // Route server on the local side: its fields are local_*.
        let mut it = item(64999, 64500);
        it.local.insert_asn = Some(true);
        it.peer.bgp_role = Some(BgpRole::Peer);
        it.location_type = Some("private".into());
        it.peer_type = Some("private".into());
        let o = orient(it, &rs).unwrap();
        let names: Vec<String> = offer_errors(&o, "pdb:ix:1")
            .into_iter()
            .map(|e| e.name)
            .collect();
        assert_eq!(
            names,
            [
                "sessions[0].location.type",
                "sessions[0].peer_type",
                "sessions[0].local_insert_asn",
                "sessions[0].peer_bgp_role"
            ]
        );
        // Other peer_type values are tolerated; the location id is
        // compared without regard to case.
        let mut it = item(64500, 64999);
        it.peer_type = Some("peer".into());
        it.location_id = Some("PDB:IX:1".into());
        let o = orient(it, &rs).unwrap();
        assert!(offer_errors(&o, "pdb:ix:1").is_empty());
    }

    #[test]
    fn request_ids_are_uuids() {
        let id = new_request_id();
        assert_eq!(parse_request_id(&id).as_deref(), Some(id.as_str()));
        assert_eq!(&id[14..15], "4");
        assert_ne!(id, new_request_id());
        assert_eq!(
            parse_request_id("{6F9619FF-8B86-D011-B42D-00C04FC964FF}").as_deref(),
            Some("6f9619ff-8b86-d011-b42d-00c04fc964ff")
        );
        for bad in [
            "",
            "x",
            "6f9619ff8b86d011b42d00c04fc964ff",
            "6f9619ff-8b86-d011-b42d-00c04fc964fg",
        ] {
            assert_eq!(parse_request_id(bad), None, "{bad}");
        }
    }
}
