//! `POST /api/peering/v1/auth`: a PeeringDB authorization code for a
//! portal bearer token.
use super::super::super::App;
use super::api_input::*;
use crate::auth::token::{digest, random_token};
use crate::db::api_tokens::{self, KIND_PEERINGDB, NewApiToken};
use crate::db::models::now;
use crate::db::{DbConnection, audit, write_tx};
use crate::peeringapi::access::split_networks;
use crate::peeringapi::error::FieldError;
use crate::peeringapi::{ApiError, TOKEN_LIFETIME_SECS};
use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, web};
use serde_json::json;

#[derive(serde::Deserialize)]
struct AuthInput {
    code: Option<String>,
    redirect_uri: Option<String>,
    code_verifier: Option<String>,
}

/// `POST /auth`: `{"code", "redirect_uri", "code_verifier"?}` (JSON or a
/// form) → `{"access_token", "token_type": "Bearer", "expires_in", "asns"}`.
pub async fn auth(req: HttpRequest, app: web::Data<App>, payload: web::Payload) -> ApiResult {
    let body = read_body(&req, payload).await?;
    let form = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    let input: AuthInput = if form {
        serde_urlencoded::from_bytes(&body)
            .map_err(|_| ApiError::bad_request("body", "the form could not be read"))?
    } else {
        serde_json::from_value(parse_json(&body)?).map_err(|e| {
            ApiError::bad_request(
                "body",
                format!("expected {{\"code\": string, \"redirect_uri\": string, \"code_verifier\": string?}}: {e}"),
            )
        })?
    };
    let mut errors = Vec::new();
    let code = input
        .code
        .filter(|c| !c.trim().is_empty() && c.len() <= 2048);
    if code.is_none() {
        errors.push(FieldError::new("code", "is required"));
    }
    let redirect_uri = input
        .redirect_uri
        .filter(|r| url::Url::parse(r).is_ok_and(|u| matches!(u.scheme(), "http" | "https")));
    if redirect_uri.is_none() {
        errors.push(FieldError::new(
            "redirect_uri",
            "is required: the http(s) redirect URI the code was issued for",
        ));
    }
    let verifier = input.code_verifier.filter(|v| !v.is_empty());
    if verifier.as_ref().is_some_and(|v| v.len() > 128) {
        errors.push(FieldError::new(
            "code_verifier",
            "is longer than 128 characters",
        ));
    }
    let (Some(code), Some(redirect_uri)) = (code, redirect_uri) else {
        return Err(ApiError::many(StatusCode::BAD_REQUEST, errors));
    };
    if !errors.is_empty() {
        return Err(ApiError::many(StatusCode::BAD_REQUEST, errors));
    }
    let Some(client) = app.peeringdb.as_ref() else {
        return Err(ApiError::unavailable(
            "PeeringDB is not configured on this portal (AUTH_PEERINGDB_ENABLED)",
        ));
    };
    let profile = client
        .exchange_code_for(&code, &redirect_uri, verifier.as_deref())
        .await
        .map_err(|e| {
            tracing::info!(error = %e, "Peering API: PeeringDB refused a code");
            match e {
                crate::peeringdb::client::ProviderError::Token(_) => ApiError::bad_request(
                    "code",
                    "PeeringDB did not accept this code with this redirect_uri and code_verifier (wrong, used or expired)",
                ),
                _ => ApiError::unavailable("PeeringDB did not answer with a usable profile; try again later"),
            }
        })?;
    if !(profile.verified_user && profile.verified_email) {
        return Err(ApiError::forbidden(
            "code",
            crate::peeringdb::MSG_UNVERIFIED,
        ));
    }
    let (allowed, others) = split_networks(&profile.networks);
    let token = random_token();
    let hash = digest(&token);
    let name: String = profile
        .name
        .clone()
        .unwrap_or_default()
        .chars()
        .take(100)
        .collect();
    let pdb_id = profile.id;
    let allowed_s = api_tokens::join_asns(&allowed);
    let others_s = api_tokens::join_asns(&others);
    app.db
        .run(move |c| -> Result<_, ApiError> {
            let t = now();
            write_tx(c, |c: &mut DbConnection| {
                api_tokens::purge_expired(c, t - chrono::Duration::days(1))?;
                api_tokens::insert(
                    c,
                    &NewApiToken {
                        token_hash: &hash,
                        kind: KIND_PEERINGDB,
                        name: &name,
                        peeringdb_user_id: Some(pdb_id),
                        customer_id: None,
                        allowed_asns: &allowed_s,
                        other_asns: &others_s,
                        created_by: "peeringdb",
                        created_at: t,
                        expires_at: Some(t + chrono::Duration::seconds(TOKEN_LIFETIME_SECS)),
                    },
                )?;
                audit::record(
                    c,
                    crate::peeringapi::ACTOR_API,
                    "api_token.create",
                    &format!("pdb-{pdb_id}"),
                    &format!(
                        "bearer token for PeeringDB user {pdb_id} ({name}), may act for: {}",
                        if allowed_s.is_empty() {
                            "-"
                        } else {
                            &allowed_s
                        }
                    ),
                )
            })?;
            Ok(())
        })
        .await?;
    Ok(ok(json!({
        "access_token": token,
        "token_type": "Bearer",
        "expires_in": TOKEN_LIFETIME_SECS,
        "asns": allowed,
    })))
}
