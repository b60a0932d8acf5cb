//! The Automated Peering API (bgp/autopeer, draft-ietf-grow-peering-api)
//! for this IXP's route servers: errors, who may act for which ASN, and
//! session requests. The HTTP handlers are in `web::routes::peering::api`.
//!
//! Orientation: the draft says in one place that "local" is the receiver
//! of the request, in another that it is the requester. We accept either:
//! exactly one of `local_asn` and `peer_asn` must be one of our route
//! servers' ASNs and the other the caller's; the session remembers the
//! orientation it was first requested in; a `POST` is answered in the
//! orientation of each of its items, and `GET /sessions?request_id=` in
//! that request's.
//!
//! draft-ietf-grow-peering-api-01's route-server fields (`bgp_role`,
//! `insert_asn`, `monitoring_session` of each side) are in `fields`, the
//! rate limits in `limits`, and the `GET /auth` discovery document in
//! `discovery`.
pub mod access;
pub mod discovery;
pub mod error;
pub mod fields;
pub mod limits;
pub mod request;

pub use error::ApiError;

/// Where the API is served.
pub const API_BASE: &str = "/api/peering/v1";
/// How long a portal bearer token from `/auth` lives.
pub const TOKEN_LIFETIME_SECS: i64 = 3600;
/// The most items a batch may carry, and the largest body read.
pub const MAX_BATCH: usize = 100;
pub const MAX_BODY_BYTES: usize = 256 * 1024;
/// The audit actor of API actions without a portal user.
pub const ACTOR_API: &str = "peering-api";

/// The OpenAPI 3 description served at `/api/peering/v1/openapi.json`.
pub const OPENAPI: &str = include_str!("openapi.json");

#[cfg(test)]
mod tests {
    #[test]
    fn the_openapi_document_is_json_with_our_paths() {
        let doc: serde_json::Value = serde_json::from_str(super::OPENAPI).expect("JSON");
        assert_eq!(doc["openapi"], "3.0.3");
        for p in [
            "/auth",
            "/auth/start",
            "/locations",
            "/sessions",
            "/sessions/{session_id}",
        ] {
            assert!(doc["paths"][p].is_object(), "{p}");
        }
        // The draft-01 fields are described, in and out, and marked.
        let schemas = &doc["components"]["schemas"];
        for side in ["local", "peer"] {
            for f in ["bgp_role", "insert_asn", "monitoring_session"] {
                let name = format!("{side}_{f}");
                for s in ["Session", "SessionRequestItem"] {
                    let prop = &schemas[s]["properties"][&name];
                    assert!(prop.is_object(), "{s}.{name}");
                    assert_eq!(
                        prop["x-draft"], "draft-ietf-grow-peering-api-01",
                        "{s}.{name}"
                    );
                }
                assert!(
                    schemas["Session"]["required"]
                        .as_array()
                        .is_some_and(|r| r.contains(&serde_json::json!(name))),
                    "{name} is always returned"
                );
            }
        }
    }
}
