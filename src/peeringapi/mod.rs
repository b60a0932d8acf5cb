//! The Automated Peering API (bgp/autopeer, draft-ietf-grow-peering-api)
//! for this IXP's route servers: errors, who may act for which ASN, and
//! session requests. The HTTP handlers are in `web::routes::peering::api`.
//!
//! Orientation: the draft says in one place that "local" is the receiver
//! of the request, in another that it is the requester. We accept either:
//! exactly one of `local_asn` and `peer_asn` must be one of our route
//! servers' ASNs and the other the caller's; the session remembers the
//! orientation it was requested in and is always answered in it.
pub mod access;
pub mod error;
pub mod request;

pub use error::ApiError;

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
        for p in ["/auth", "/locations", "/sessions", "/sessions/{session_id}"] {
            assert!(doc["paths"][p].is_object(), "{p}");
        }
    }
}
