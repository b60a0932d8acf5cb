//! Staff operations on the peering LAN data (the IXP record, LANs, route
//! servers, connections), shared by the CLI and the staff pages. Inputs
//! arrive as typed text; each operation validates, writes, and records an
//! audit entry in one transaction.
use super::AdminError;
use crate::db::lans::{self, IxpFields};
use crate::db::{DbConnection, audit, write_tx};
use crate::domain::{Asn, Email};

mod connection;
pub mod impact;
mod lan;
pub use connection::{ConnectionInput, delete_connection, save_connection};
pub use impact::{Dependent, Impact, delete_customer};
pub use lan::{
    LanInput, RouteServerInput, delete_lan, delete_route_server, save_lan, save_route_server,
};

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
    let saved = write_tx(conn, |c| {
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
    });
    // Pages show the new name at once (other instances within seconds).
    lans::forget_brand();
    saved
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
