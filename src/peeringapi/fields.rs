//! The route-server fields of draft-ietf-grow-peering-api-01 on every
//! session: `local_/peer_bgp_role` (RFC 9234), `local_/peer_insert_asn`
//! and `local_/peer_monitoring_session`.
//!
//! The draft's defaults (`insert_asn` true on both sides) describe two
//! routers peering; at a transparent route server (RFC 7947) the route
//! server does not prepend its AS, and a router configured from the
//! draft's default would drop every route it sends (enforce-first-as). So
//! every session here is, and is answered explicitly as: route-server side
//! role 1 (Route Server), `insert_asn` false, `monitoring_session` false;
//! member side role 2 (RS-Client), `insert_asn` true, `monitoring_session`
//! false. A field left out takes that value; a field that says otherwise
//! refuses the item with an error naming it.
use super::error::FieldError;
use crate::domain::Asn;
use serde_json::{Map, Value};

/// The BGP roles of RFC 9234, section 4.1, with their codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BgpRole {
    Provider,
    RouteServer,
    RsClient,
    Customer,
    Peer,
}

/// The accepted values of a role field, for error messages.
pub const ROLE_VALUES: &str =
    "0 (Provider), 1 (Route Server), 2 (RS-Client), 3 (Customer) or 4 (Peer) of RFC 9234";

impl BgpRole {
    pub const ALL: [BgpRole; 5] = [
        BgpRole::Provider,
        BgpRole::RouteServer,
        BgpRole::RsClient,
        BgpRole::Customer,
        BgpRole::Peer,
    ];

    pub fn code(self) -> u8 {
        match self {
            BgpRole::Provider => 0,
            BgpRole::RouteServer => 1,
            BgpRole::RsClient => 2,
            BgpRole::Customer => 3,
            BgpRole::Peer => 4,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            BgpRole::Provider => "Provider",
            BgpRole::RouteServer => "Route Server",
            BgpRole::RsClient => "RS-Client",
            BgpRole::Customer => "Customer",
            BgpRole::Peer => "Peer",
        }
    }

    pub fn from_code(code: i64) -> Option<BgpRole> {
        BgpRole::ALL
            .into_iter()
            .find(|r| i64::from(r.code()) == code)
    }

    /// From a name as people write it: `rs-client`, `RS_Client`, `route server`.
    fn from_name(s: &str) -> Option<BgpRole> {
        let key: String = s
            .chars()
            .filter(|c| !matches!(c, ' ' | '-' | '_'))
            .collect::<String>()
            .to_ascii_lowercase();
        match key.as_str() {
            "provider" => Some(BgpRole::Provider),
            "routeserver" | "rs" => Some(BgpRole::RouteServer),
            "rsclient" | "routeserverclient" => Some(BgpRole::RsClient),
            "customer" => Some(BgpRole::Customer),
            "peer" => Some(BgpRole::Peer),
            _ => None,
        }
    }

    /// The integer code, a string of its digits, or the role's name.
    pub fn parse(v: &Value) -> Option<BgpRole> {
        match v {
            Value::Number(n) => n.as_i64().and_then(BgpRole::from_code),
            Value::String(s) => {
                let t = s.trim();
                match t.parse::<i64>() {
                    Ok(code) => BgpRole::from_code(code),
                    Err(_) => BgpRole::from_name(t),
                }
            }
            _ => None,
        }
    }
}

/// A boolean, or the strings `true` / `false` in any case.
pub fn parse_bool(v: &Value) -> Option<bool> {
    match v {
        Value::Bool(b) => Some(*b),
        Value::String(s) => match s.trim().to_ascii_lowercase().as_str() {
            "true" => Some(true),
            "false" => Some(false),
            _ => None,
        },
        _ => None,
    }
}

/// An ASN: an integer, or a string of its digits (with or without `AS`),
/// as PeeringDB-derived clients such as peerctl send it.
pub fn parse_asn(v: &Value) -> Option<Asn> {
    match v {
        Value::Number(n) => n.as_i64().and_then(Asn::new),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

/// The accepted values of an ASN field, for error messages.
pub const ASN_VALUES: &str =
    "an ASN from 1 to 4294967295, as an integer or a string of digits (\"64500\" or \"AS64500\")";

/// One side's draft-01 fields as a request gave them (`None`: left out).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SideFields {
    pub bgp_role: Option<BgpRole>,
    pub insert_asn: Option<bool>,
    pub monitoring_session: Option<bool>,
}

/// One side's draft-01 fields as every session here has them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Side {
    pub bgp_role: BgpRole,
    pub insert_asn: bool,
    pub monitoring_session: bool,
}

/// The route server: transparent (RFC 7947), so it does not insert its AS.
pub const ROUTE_SERVER_SIDE: Side = Side {
    bgp_role: BgpRole::RouteServer,
    insert_asn: false,
    monitoring_session: false,
};

/// The member's router: a route-server client that inserts its own AS.
pub const MEMBER_SIDE: Side = Side {
    bgp_role: BgpRole::RsClient,
    insert_asn: true,
    monitoring_session: false,
};

/// Reads `<prefix>_bgp_role`, `<prefix>_insert_asn` and
/// `<prefix>_monitoring_session` of item `i`; a value of the wrong type is
/// a shape error (the batch is refused with 400).
pub fn read_side(
    o: &Map<String, Value>,
    i: usize,
    prefix: &str,
    errors: &mut Vec<FieldError>,
) -> SideFields {
    let name = |f: &str| format!("{prefix}_{f}");
    let mut side = SideFields::default();
    let present = |k: &str| o.get(k).filter(|v| !v.is_null());
    let role_key = name("bgp_role");
    if let Some(v) = present(&role_key) {
        match BgpRole::parse(v) {
            Some(r) => side.bgp_role = Some(r),
            None => errors.push(FieldError::new(
                format!("sessions[{i}].{role_key}"),
                format!("must be a BGP role: {ROLE_VALUES}"),
            )),
        }
    }
    for (key, slot) in [
        (name("insert_asn"), &mut side.insert_asn),
        (name("monitoring_session"), &mut side.monitoring_session),
    ] {
        if let Some(v) = present(&key) {
            match parse_bool(v) {
                Some(b) => *slot = Some(b),
                None => errors.push(FieldError::new(
                    format!("sessions[{i}].{key}"),
                    "must be true or false",
                )),
            }
        }
    }
    side
}

/// Where a side's given fields contradict what it is here: one error per
/// field, named as the request named it (`prefix` is `local` or `peer`).
pub fn contradictions(
    given: &SideFields,
    i: usize,
    prefix: &str,
    route_server: bool,
    asn: Asn,
) -> Vec<FieldError> {
    let want = if route_server {
        ROUTE_SERVER_SIDE
    } else {
        MEMBER_SIDE
    };
    let field = |f: &str| format!("sessions[{i}].{prefix}_{f}");
    let mut out = Vec::new();
    if let Some(r) = given.bgp_role
        && r != want.bgp_role
    {
        let why = if route_server {
            format!(
                "the {prefix} side (AS{asn}) is this IXP's route server, whose RFC 9234 role is 1 (Route Server)"
            )
        } else {
            format!(
                "the {prefix} side (AS{asn}) is a client of this IXP's route server: its RFC 9234 role is 2 (RS-Client)"
            )
        };
        out.push(FieldError::new(
            field("bgp_role"),
            format!(
                "is {} ({}), but {why}; accepted: {}, or leave it out",
                r.code(),
                r.name(),
                want.bgp_role.code()
            ),
        ));
    }
    if let Some(b) = given.insert_asn
        && b != want.insert_asn
    {
        let why = if route_server {
            format!(
                "the route server (AS{asn}) is transparent (RFC 7947): it does not insert its ASN into the AS path, so do not enforce the first AS on this session; accepted: false, or leave it out"
            )
        } else {
            format!(
                "your router (AS{asn}) inserts its own ASN into the routes it sends to the route server; accepted: true, or leave it out"
            )
        };
        out.push(FieldError::new(
            field("insert_asn"),
            format!("is {b}, but {why}"),
        ));
    }
    if given.monitoring_session == Some(true) {
        out.push(FieldError::new(
            field("monitoring_session"),
            "is true, but route-server sessions here carry routes both ways and monitoring sessions are not offered; accepted: false, or leave it out",
        ));
    }
    out
}

/// The fields of one side in an answer, named with `prefix`.
pub fn write_side(out: &mut Map<String, Value>, prefix: &str, side: Side) {
    out.insert(
        format!("{prefix}_bgp_role"),
        Value::from(side.bgp_role.code()),
    );
    out.insert(format!("{prefix}_insert_asn"), Value::from(side.insert_asn));
    out.insert(
        format!("{prefix}_monitoring_session"),
        Value::from(side.monitoring_session),
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn roles_parse_from_codes_digits_and_names() {
        for (v, want) in [
            (json!(1), Some(BgpRole::RouteServer)),
            (json!("2"), Some(BgpRole::RsClient)),
            (json!(" 4 "), Some(BgpRole::Peer)),
            (json!("RS-Client"), Some(BgpRole::RsClient)),
            (json!("route_server"), Some(BgpRole::RouteServer)),
            (json!("provider"), Some(BgpRole::Provider)),
            (json!(5), None),
            (json!(-1), None),
            (json!(1.5), None),
            (json!(true), None),
            (json!("rs client please"), None),
        ] {
            assert_eq!(BgpRole::parse(&v), want, "{v}");
        }
        for r in BgpRole::ALL {
            assert_eq!(BgpRole::from_code(i64::from(r.code())), Some(r));
        }
    }

    #[test]
    fn asns_and_booleans_are_read_liberally() {
        assert_eq!(parse_asn(&json!("64500")).map(Asn::get), Some(64500));
        assert_eq!(parse_asn(&json!("AS64500")).map(Asn::get), Some(64500));
        assert_eq!(parse_asn(&json!(64500)).map(Asn::get), Some(64500));
        for bad in [
            json!("0"),
            json!("x"),
            json!(4294967296i64),
            json!(null),
            json!([1]),
        ] {
            assert_eq!(parse_asn(&bad), None, "{bad}");
        }
        assert_eq!(parse_bool(&json!("TRUE")), Some(true));
        assert_eq!(parse_bool(&json!(false)), Some(false));
        assert_eq!(parse_bool(&json!(1)), None);
    }

    #[test]
    fn defaults_pass_and_each_contradiction_names_its_field() {
        let asn = Asn::new(64999).unwrap();
        assert!(contradictions(&SideFields::default(), 0, "local", true, asn).is_empty());
        let right = SideFields {
            bgp_role: Some(BgpRole::RouteServer),
            insert_asn: Some(false),
            monitoring_session: Some(false),
        };
        assert!(contradictions(&right, 0, "peer", true, asn).is_empty());
        let wrong = SideFields {
            bgp_role: Some(BgpRole::Peer),
            insert_asn: Some(true),
            monitoring_session: Some(true),
        };
        let names: Vec<String> = contradictions(&wrong, 3, "peer", true, asn)
            .into_iter()
            .map(|e| e.name)
            .collect();
        assert_eq!(
            names,
            [
                "sessions[3].peer_bgp_role",
                "sessions[3].peer_insert_asn",
                "sessions[3].peer_monitoring_session"
            ]
        );
        let member_wrong = SideFields {
            bgp_role: Some(BgpRole::RouteServer),
            insert_asn: Some(false),
            monitoring_session: None,
        };
        let errs = contradictions(&member_wrong, 0, "local", false, asn);
        assert_eq!(errs.len(), 2);
        assert!(errs[0].errors[0].contains("accepted: 2"), "{errs:?}");
        assert!(errs[1].errors[0].contains("accepted: true"), "{errs:?}");
    }
}
