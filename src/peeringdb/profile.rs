//! The PeeringDB profile (`GET /profile/v1`), parsed into typed values.
//! Extra fields are ignored, optional ones may be missing; anything else
//! malformed is an error with a message, never a panic.
use crate::domain::Asn;
use serde_json::Value;
use std::collections::BTreeSet;

/// The largest profile body the portal reads.
pub const MAX_PROFILE_BYTES: usize = 1024 * 1024;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Profile {
    /// The PeeringDB user id: a positive integer.
    pub id: i64,
    pub name: Option<String>,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    pub email: Option<String>,
    pub verified_user: bool,
    pub verified_email: bool,
    pub networks: Vec<Network>,
    /// Authentication methods, present when the `amr` scope was granted.
    pub amr: Option<Vec<String>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Network {
    pub id: Option<i64>,
    /// `None` when the entry's ASN is missing or not in 1..=4294967295.
    pub asn: Option<Asn>,
    pub name: Option<String>,
    pub perms: Option<i64>,
    pub manage_peering_sessions: Option<bool>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProfileError {
    #[error("the profile is larger than {MAX_PROFILE_BYTES} bytes")]
    TooLarge,
    #[error("the profile is not JSON: {0}")]
    NotJson(String),
    #[error("the profile is not a JSON object")]
    NotObject,
    #[error("the profile has no positive integer id")]
    BadId,
    #[error("the profile field {0:?} has the wrong type")]
    WrongType(&'static str),
}

fn opt_string(
    obj: &serde_json::Map<String, Value>,
    key: &'static str,
) -> Result<Option<String>, ProfileError> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(None),
        // Control characters (NUL above all, which PostgreSQL refuses in
        // text) never belong in a name or an address.
        Some(Value::String(s)) => Ok(Some(s.chars().filter(|c| !c.is_control()).collect())),
        Some(_) => Err(ProfileError::WrongType(key)),
    }
}

fn opt_bool(obj: &serde_json::Map<String, Value>, key: &'static str) -> Result<bool, ProfileError> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(false),
        Some(Value::Bool(b)) => Ok(*b),
        Some(_) => Err(ProfileError::WrongType(key)),
    }
}

fn network(v: &Value) -> Option<Network> {
    let o = v.as_object()?;
    Some(Network {
        id: o.get("id").and_then(Value::as_i64),
        asn: o.get("asn").and_then(Value::as_i64).and_then(Asn::new),
        name: o.get("name").and_then(Value::as_str).map(str::to_string),
        perms: o.get("perms").and_then(Value::as_i64),
        manage_peering_sessions: o.get("manage_peering_sessions").and_then(Value::as_bool),
    })
}

impl Profile {
    pub fn parse(body: &[u8]) -> Result<Profile, ProfileError> {
        if body.len() > MAX_PROFILE_BYTES {
            return Err(ProfileError::TooLarge);
        }
        let v: Value =
            serde_json::from_slice(body).map_err(|e| ProfileError::NotJson(e.to_string()))?;
        Profile::from_value(&v)
    }

    pub fn from_value(v: &Value) -> Result<Profile, ProfileError> {
        let obj = v.as_object().ok_or(ProfileError::NotObject)?;
        let id = obj
            .get("id")
            .and_then(Value::as_i64)
            .filter(|id| *id > 0)
            .ok_or(ProfileError::BadId)?;
        let networks = match obj.get("networks") {
            None | Some(Value::Null) => Vec::new(),
            // Entries that are not objects are skipped like bad ASNs.
            Some(Value::Array(items)) => items.iter().filter_map(network).collect(),
            Some(_) => return Err(ProfileError::WrongType("networks")),
        };
        let amr = match obj.get("amr") {
            None | Some(Value::Null) => None,
            Some(Value::Array(items)) => Some(
                items
                    .iter()
                    .filter_map(Value::as_str)
                    .map(str::to_string)
                    .collect(),
            ),
            Some(Value::String(s)) => Some(vec![s.clone()]),
            Some(_) => return Err(ProfileError::WrongType("amr")),
        };
        Ok(Profile {
            id,
            name: opt_string(obj, "name")?,
            given_name: opt_string(obj, "given_name")?,
            family_name: opt_string(obj, "family_name")?,
            email: opt_string(obj, "email")?,
            verified_user: opt_bool(obj, "verified_user")?,
            verified_email: opt_bool(obj, "verified_email")?,
            networks,
            amr,
        })
    }

    /// The affiliated ASNs: valid ones, duplicates folded, in order.
    pub fn affiliated_asns(&self) -> Vec<Asn> {
        let set: BTreeSet<Asn> = self.networks.iter().filter_map(|n| n.asn).collect();
        set.into_iter().collect()
    }

    /// A display name: `name`, else given and family names.
    pub fn display_name(&self) -> String {
        match &self.name {
            Some(n) if !n.trim().is_empty() => n.trim().to_string(),
            _ => {
                let joined = [self.given_name.as_deref(), self.family_name.as_deref()]
                    .into_iter()
                    .flatten()
                    .collect::<Vec<_>>()
                    .join(" ");
                if joined.trim().is_empty() {
                    format!("PeeringDB user {}", self.id)
                } else {
                    joined.trim().to_string()
                }
            }
        }
    }

    pub fn has_mfa(&self) -> bool {
        self.amr
            .as_ref()
            .is_some_and(|a| a.iter().any(|m| m == "mfa"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_documented_shape() {
        let p = Profile::parse(br#"{"id": 3, "name": "Jane Doe", "given_name": "Jane", "family_name": "Doe",
            "email": "jane@example.net", "verified_user": true, "verified_email": true, "extra": [1],
            "networks": [{"id": 20, "asn": 63311, "name": "Net", "perms": 15},
                         {"id": 21, "asn": "x"}, {"asn": 0}, {"asn": 4294967296}, 7, {"asn": 63311}]}"#)
            .unwrap();
        assert_eq!(p.id, 3);
        assert_eq!(p.affiliated_asns(), vec![Asn::new(63311).unwrap()]);
        assert_eq!(p.networks.len(), 5);
        assert!(p.verified_user && p.verified_email);
        assert!(!p.has_mfa());
    }

    #[test]
    fn rejects_malformed_profiles() {
        let cases: &[(&[u8], ProfileError)] = &[
            (b"garbage", ProfileError::NotJson(String::new())),
            (b"[]", ProfileError::NotObject),
            (b"{}", ProfileError::BadId),
            (br#"{"id": "3"}"#, ProfileError::BadId),
            (br#"{"id": 0}"#, ProfileError::BadId),
            (br#"{"id": -4}"#, ProfileError::BadId),
            (br#"{"id": 1.5}"#, ProfileError::BadId),
            (br#"{"id": 3, "name": 5}"#, ProfileError::WrongType("name")),
            (
                br#"{"id": 3, "networks": {}}"#,
                ProfileError::WrongType("networks"),
            ),
            (
                br#"{"id": 3, "verified_user": "yes"}"#,
                ProfileError::WrongType("verified_user"),
            ),
        ];
        for (body, want) in cases {
            let got = Profile::parse(body).unwrap_err();
            match want {
                ProfileError::NotJson(_) => assert!(matches!(got, ProfileError::NotJson(_))),
                w => assert_eq!(&got, w, "{}", String::from_utf8_lossy(body)),
            }
        }
        let huge = vec![b' '; MAX_PROFILE_BYTES + 1];
        assert_eq!(Profile::parse(&huge), Err(ProfileError::TooLarge));
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig { cases: 5_000, ..Default::default() })]

        /// Any bytes: a profile or an error, never a panic.
        #[test]
        fn never_panics_on_bytes(body in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..512)) {
            let _ = Profile::parse(&body);
        }

        /// Any JSON value of a profile's rough shape: a profile whose ASNs
        /// are all valid, or an error.
        #[test]
        fn json_shapes_parse_or_fail_cleanly(
            id in proptest::prelude::any::<i64>(),
            asns in proptest::collection::vec(
                proptest::prop_oneof![
                    proptest::prelude::any::<i64>(),
                    -2i64..70_000,
                    4_294_967_290i64..4_294_967_300,
                ],
                0..8,
            ),
            name in proptest::option::of(".{0,20}"),
        ) {
            let v = serde_json::json!({"id": id, "name": name, "verified_user": true, "verified_email": true,
                "networks": asns.iter().map(|a| serde_json::json!({"asn": a})).collect::<Vec<_>>()});
            match Profile::from_value(&v) {
                Ok(p) => {
                    proptest::prop_assert!(id > 0, "a profile with id {}", id);
                    proptest::prop_assert_eq!(p.id, id);
                    // Exactly the ASNs in 1..=4294967295, duplicates folded
                    // (SPEC §2 step 3): none dropped, none invented.
                    let want: std::collections::BTreeSet<i64> = asns
                        .iter()
                        .copied()
                        .filter(|a| (1..=4_294_967_295).contains(a))
                        .collect();
                    let got: Vec<i64> =
                        p.affiliated_asns().iter().map(|a| i64::from(a.get())).collect();
                    proptest::prop_assert_eq!(got, want.into_iter().collect::<Vec<_>>());
                }
                Err(e) => {
                    proptest::prop_assert!(id <= 0, "id {} refused", id);
                    proptest::prop_assert_eq!(e, ProfileError::BadId);
                }
            }
        }
    }

    #[test]
    fn control_characters_are_dropped() {
        let p = Profile::parse(br#"{"id": 9, "name": "Ja\u0000ne\n", "email": "j\u0000@x.org"}"#)
            .unwrap();
        assert_eq!(p.name.as_deref(), Some("Jane"));
        assert_eq!(p.email.as_deref(), Some("j@x.org"));
    }

    #[test]
    fn missing_optional_fields_are_tolerated() {
        let p = Profile::parse(br#"{"id": 9}"#).unwrap();
        assert_eq!(p.name, None);
        assert!(!p.verified_user);
        assert!(p.networks.is_empty());
        assert_eq!(p.display_name(), "PeeringDB user 9");
    }
}
