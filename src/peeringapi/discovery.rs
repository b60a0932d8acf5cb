//! `GET /auth` without a code: how a client gets a bearer token here. The
//! published OpenAPI declares `GET /auth`; the draft's "OAuth with
//! PeeringDB" leaves open where a client learns the server's OAuth
//! application, so this document says it: PeeringDB's authorization
//! endpoint, our client id, the redirect URIs registered for it, the
//! scopes, PKCE (S256 only), and where to send the code (`POST /auth`) —
//! or, without PeeringDB, where a member makes an API key.
use super::limits::Bucket;
use super::{API_BASE, TOKEN_LIFETIME_SECS};
use crate::config::{Config, PeeringDbConfig};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

/// The scopes a client asks PeeringDB for: who the person is, whether
/// their email is verified, their networks and permissions, and whether
/// they used a second factor (SPEC §2).
pub const SCOPES: [&str; 4] = ["profile", "email", "networks", "amr"];

/// The variable that lists further redirect URIs registered for the
/// portal's PeeringDB application (comma-separated), for clients that
/// catch the code themselves. Read from the environment (and `.env`).
pub const REDIRECT_URIS_VAR: &str = "PEERING_API_REDIRECT_URIS";

/// The portal's own redirect target: `GET /auth?code=&state=`.
pub fn own_redirect_uri(config: &Config) -> String {
    config.url_for(&format!("{API_BASE}/auth"))
}

/// The http(s) URLs of a comma-separated list; anything else is skipped.
pub fn parse_redirect_uris(value: &str) -> Vec<String> {
    value
        .split(',')
        .map(str::trim)
        .filter_map(|u| url::Url::parse(u).ok())
        .filter(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some())
        .map(|u| u.to_string())
        .collect()
}

/// Every redirect URI a client may use with the portal's application: its
/// own `/auth`, then those of `PEERING_API_REDIRECT_URIS`.
pub fn redirect_uris(config: &Config) -> Vec<String> {
    let mut out = vec![own_redirect_uri(config)];
    if let Ok(v) = std::env::var(REDIRECT_URIS_VAR) {
        for u in parse_redirect_uris(&v) {
            if !out.contains(&u) {
                out.push(u);
            }
        }
    }
    out
}

/// PeeringDB's authorization endpoint for this portal's provider.
pub fn authorization_endpoint(p: &PeeringDbConfig) -> String {
    format!(
        "{}/oauth2/authorize/",
        p.base_url.as_str().trim_end_matches('/')
    )
}

/// The PKCE S256 challenge of a verifier (RFC 7636).
pub fn s256(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

/// The authorization URL of a flow: our client id and scopes, PKCE S256.
pub fn authorize_url(
    p: &PeeringDbConfig,
    redirect_uri: &str,
    state: &str,
    challenge: &str,
) -> Option<url::Url> {
    let mut url = url::Url::parse(&authorization_endpoint(p)).ok()?;
    url.query_pairs_mut()
        .append_pair("response_type", "code")
        .append_pair("client_id", &p.client_id)
        .append_pair("redirect_uri", redirect_uri)
        .append_pair("scope", &SCOPES.join(" "))
        .append_pair("state", state)
        .append_pair("code_challenge", challenge)
        .append_pair("code_challenge_method", "S256");
    Some(url)
}

/// The discovery document.
pub fn document(config: &Config) -> Value {
    let api = |path: &str| config.url_for(&format!("{API_BASE}{path}"));
    let mut doc = json!({
        "peering_api": api(""),
        "openapi": api("/openapi.json"),
        "peeringdb_enabled": config.peeringdb.is_some(),
        "api_keys": {
            "url": config.url_for("/member/api-keys"),
            "description": "An administrator of a member network creates API keys for it on this page (shown once, revocable); send one as Authorization: Bearer <key>. No PeeringDB account is needed.",
        },
        "token_lifetime": TOKEN_LIFETIME_SECS,
        "rate_limits": {
            "window_seconds": super::limits::WINDOW_SECS,
            "auth_per_address": Bucket::Auth.limit(),
            "session_requests_per_address": Bucket::Sessions.limit(),
        },
    });
    if let Some(p) = &config.peeringdb {
        let token = api("/auth");
        let extra = json!({
            "description": "OAuth with PeeringDB (draft-ietf-grow-peering-api-01): authorize this portal's PeeringDB application with PKCE, then POST the code to token_endpoint for a bearer token. Or open browser_flow, which does it all and shows the token.",
            "authorization_endpoint": authorization_endpoint(p),
            "client_id": p.client_id,
            "redirect_uris": redirect_uris(config),
            "response_types_supported": ["code"],
            "grant_types_supported": ["authorization_code"],
            "scopes_supported": SCOPES,
            "scope": SCOPES.join(" "),
            "code_challenge_methods_supported": ["S256"],
            "token_endpoint": token,
            "token_request": {
                "method": "POST",
                "url": token,
                "content_types": ["application/json", "application/x-www-form-urlencoded"],
                "parameters": ["code", "redirect_uri", "code_verifier"],
            },
            "browser_flow": api("/auth/start"),
        });
        if let (Value::Object(d), Value::Object(e)) = (&mut doc, extra) {
            d.extend(e);
        }
    }
    doc
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redirect_lists_keep_urls_only() {
        assert_eq!(
            parse_redirect_uris(
                " http://127.0.0.1:8400/cb, ftp://x/, nonsense ,https://a.example/cb"
            ),
            ["http://127.0.0.1:8400/cb", "https://a.example/cb"]
        );
        assert!(parse_redirect_uris("").is_empty());
    }

    #[test]
    fn s256_matches_rfc7636_appendix_b() {
        assert_eq!(
            s256("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
    }

    #[test]
    fn the_document_names_the_application_and_pkce() {
        let vars = [
            ("APP_URL", "https://portal.example.net"),
            ("AUTH_PEERINGDB_ENABLED", "true"),
            ("PEERINGDB_OAUTH_CLIENT_ID", "cid"),
            ("PEERINGDB_OAUTH_CLIENT_SECRET", "never-shown"),
        ];
        let cfg = Config::from_lookup(|k| {
            vars.iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| v.to_string())
        })
        .unwrap();
        let doc = document(&cfg);
        assert_eq!(
            doc["authorization_endpoint"],
            "https://auth.peeringdb.com/oauth2/authorize/"
        );
        assert_eq!(doc["client_id"], "cid");
        assert_eq!(
            doc["redirect_uris"][0],
            "https://portal.example.net/api/peering/v1/auth"
        );
        assert_eq!(doc["code_challenge_methods_supported"], json!(["S256"]));
        assert_eq!(
            doc["token_endpoint"],
            "https://portal.example.net/api/peering/v1/auth"
        );
        assert!(!doc.to_string().contains("never-shown"));
        let cfg =
            Config::from_lookup(|k| (k == "APP_URL").then(|| "https://p.example".into())).unwrap();
        let doc = document(&cfg);
        assert_eq!(doc["peeringdb_enabled"], false);
        assert!(doc.get("client_id").is_none());
        assert_eq!(doc["api_keys"]["url"], "https://p.example/member/api-keys");
    }
}
