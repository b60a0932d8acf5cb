//! `/api/peering/v1/auth`: how to get a bearer token (`GET`, the discovery
//! document), a PeeringDB authorization code for a portal bearer token
//! (`POST`), and the portal as a redirect target (`GET /auth/start`, then
//! `GET /auth?code=&state=`). Every request that reaches PeeringDB or
//! starts a flow counts against the client address's limit.
use super::super::super::App;
use super::api_input::*;
use crate::auth::token::{constant_time_eq, digest, random_token};
use crate::db::api_tokens::{
    self, AUTH_STATE_LIFETIME_SECS, AuthState, KIND_PEERINGDB, NewApiToken,
};
use crate::db::models::now;
use crate::db::{DbConnection, audit, write_tx};
use crate::peeringapi::access::split_networks;
use crate::peeringapi::discovery;
use crate::peeringapi::error::FieldError;
use crate::peeringapi::limits::Bucket;
use crate::peeringapi::{API_BASE, ApiError, TOKEN_LIFETIME_SECS};
use actix_web::cookie::{Cookie, SameSite};
use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::json;

/// The cookie that binds a flow started here to the browser that started it.
const FLOW_COOKIE: &str = "peering_api_auth";

#[derive(serde::Deserialize)]
struct AuthInput {
    code: Option<String>,
    redirect_uri: Option<String>,
    code_verifier: Option<String>,
}

/// A PKCE verifier as RFC 7636 section 4.1 allows it.
fn valid_verifier(v: &str) -> bool {
    (43..=128).contains(&v.len())
        && v.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
}

/// `POST /auth`: `{"code", "redirect_uri", "code_verifier"}` (JSON or a
/// form) → `{"access_token", "token_type": "Bearer", "expires_in", "asns"}`.
/// PKCE is required (SPEC §7).
pub async fn auth(req: HttpRequest, app: web::Data<App>, payload: web::Payload) -> ApiResult {
    rate_limit(&req, &app, Bucket::Auth).await?;
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
                format!("expected {{\"code\": string, \"redirect_uri\": string, \"code_verifier\": string}}: {e}"),
            )
        })?
    };
    let mut errors = Vec::new();
    let code = input
        .code
        .filter(|c| !c.trim().is_empty() && c.len() <= 2048);
    if code.is_none() {
        errors.push(FieldError::new(
            "code",
            "is required: the authorization code PeeringDB gave for this portal's application (GET /auth says how)",
        ));
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
    let verifier = input.code_verifier.filter(|v| valid_verifier(v));
    if verifier.is_none() {
        errors.push(FieldError::new(
            "code_verifier",
            "is required: the PKCE verifier (43 to 128 characters of A-Z a-z 0-9 - . _ ~) whose S256 challenge the authorization request carried",
        ));
    }
    let (Some(code), Some(redirect_uri), Some(verifier), true) =
        (code, redirect_uri, verifier, errors.is_empty())
    else {
        return Err(ApiError::many(StatusCode::BAD_REQUEST, errors));
    };
    exchange_and_issue(&app, &code, &redirect_uri, &verifier).await
}

/// Exchanges the code at PeeringDB and issues a portal token for the
/// networks the person may manage sessions of.
async fn exchange_and_issue(
    app: &web::Data<App>,
    code: &str,
    redirect_uri: &str,
    verifier: &str,
) -> Result<HttpResponse, ApiError> {
    let Some(client) = app.peeringdb.as_ref() else {
        return Err(ApiError::unavailable(
            "PeeringDB is not configured on this portal (AUTH_PEERINGDB_ENABLED): use an API key",
        ));
    };
    let profile = client
        .exchange_code_for(code, redirect_uri, Some(verifier))
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
    // The web login's rules (SPEC §7): disabled users, no eligible (or
    // only blocked) customer, the MFA rule.
    let require_mfa = app.config.peeringdb.as_ref().is_some_and(|p| p.require_mfa);
    let checked = profile.clone();
    app.db
        .run(move |c| crate::peeringapi::access::login_rules(c, &checked, require_mfa))
        .await?;
    let (allowed, others) = split_networks(&profile.networks);
    let token = random_token();
    let hash = digest(&token);
    let name: String = profile
        .name
        .clone()
        .unwrap_or_default()
        .chars()
        .filter(|c| !c.is_control())
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
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::REFERRER_POLICY, "no-referrer"))
        .json(json!({
            "access_token": token,
            "token_type": "Bearer",
            "expires_in": TOKEN_LIFETIME_SECS,
            "asns": allowed,
        })))
}

/// A value from the outside fit to repeat in an answer: no control
/// characters, at most 200 characters.
fn echo(s: &str) -> String {
    s.chars().filter(|c| !c.is_control()).take(200).collect()
}

/// `GET /auth`: without a code, the discovery document; as PeeringDB's
/// redirect target (`?code=&state=`), the token for a flow started at
/// `/auth/start`, or, for a flow a client started itself with its own
/// PKCE verifier, the code to `POST` to `/auth` with that verifier;
/// `?error=` is PeeringDB's refusal.
pub async fn auth_get(req: HttpRequest, app: web::Data<App>) -> ApiResult {
    let q = query(&req)?;
    let code = q.get("code").map(|c| c.trim().to_string());
    let state = q.get("state").map(|s| s.trim().to_string());
    if let Some(err) = q.get("error") {
        let description = q
            .get("error_description")
            .map(|d| format!(": {}", echo(d)))
            .unwrap_or_default();
        return Err(ApiError::bad_request(
            "error",
            format!(
                "PeeringDB did not authorize this portal's application ({}{description}); nothing was issued",
                echo(err)
            ),
        ));
    }
    let Some(code) = code else {
        return Ok(ok(discovery::document(&app.config)));
    };
    let mut errors = Vec::new();
    if code.is_empty() || code.len() > 2048 {
        errors.push(FieldError::new(
            "code",
            "must be the authorization code PeeringDB sent",
        ));
    }
    let state = state.filter(|s| !s.is_empty() && s.len() <= 512);
    if state.is_none() {
        errors.push(FieldError::new(
            "state",
            "is required: the state of the authorization request",
        ));
    }
    let (Some(state), true) = (state, errors.is_empty()) else {
        return Err(ApiError::many(StatusCode::BAD_REQUEST, errors));
    };
    if app.peeringdb.is_none() {
        return Err(ApiError::unavailable(
            "PeeringDB is not configured on this portal (AUTH_PEERINGDB_ENABLED): use an API key",
        ));
    }
    rate_limit(&req, &app, Bucket::Auth).await?;
    let redirect_uri = discovery::own_redirect_uri(&app.config);
    let state_hash = digest(&state);
    let browser = req.cookie(FLOW_COOKIE).map(|c| digest(c.value()));
    let lookup = state_hash.clone();
    let started = app
        .db
        .run(move |c| -> Result<_, ApiError> { Ok(api_tokens::auth_state(c, &lookup)?) })
        .await?;
    let Some(started) = started else {
        // Not a flow started here: the client holds the verifier.
        return Ok(HttpResponse::Ok()
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .insert_header((header::REFERRER_POLICY, "no-referrer"))
            .json(json!({
                "code": code,
                "state": echo(&state),
                "redirect_uri": redirect_uri,
                "next": format!(
                    "This code was not requested through {API_BASE}/auth/start, so this portal does not hold its PKCE verifier: POST {{\"code\", \"redirect_uri\", \"code_verifier\"}} to {redirect_uri} for a bearer token."
                ),
            })));
    };
    let restart = format!("start again at {API_BASE}/auth/start");
    if started.used() {
        return Err(ApiError::bad_request(
            "state",
            format!("this authorization was already used: {restart}"),
        ));
    }
    if now() - started.created_at > chrono::Duration::seconds(AUTH_STATE_LIFETIME_SECS) {
        return Err(ApiError::bad_request(
            "state",
            format!(
                "this authorization is older than {} minutes: {restart}",
                AUTH_STATE_LIFETIME_SECS / 60
            ),
        ));
    }
    let same_browser = browser
        .as_deref()
        .is_some_and(|b| constant_time_eq(b.as_bytes(), started.browser_hash.as_bytes()));
    if !same_browser {
        return Err(ApiError::bad_request(
            "state",
            format!(
                "this authorization was started in another browser (or its cookie is gone): {restart}"
            ),
        ));
    }
    let taken = app
        .db
        .run(move |c| -> Result<_, ApiError> { Ok(api_tokens::take_auth_state(c, &state_hash)?) })
        .await?;
    if !taken {
        return Err(ApiError::bad_request(
            "state",
            format!("this authorization was already used: {restart}"),
        ));
    }
    let verifier = app
        .secrets
        .open(&verifier_context(&started.state_hash), &started.verifier)
        .ok_or_else(|| ApiError::internal("a stored PKCE verifier does not open"))?;
    let mut resp = exchange_and_issue(&app, &code, &redirect_uri, &verifier).await?;
    // The flow is over: the browser may forget its cookie.
    let _ = resp.add_removal_cookie(&flow_cookie(&app, String::new()));
    Ok(resp)
}

/// What a sealed verifier is bound to: its flow.
fn verifier_context(state_hash: &str) -> String {
    format!("peering-api-pkce:{state_hash}")
}

fn flow_cookie(app: &App, value: String) -> Cookie<'static> {
    Cookie::build(FLOW_COOKIE, value)
        .path(format!("{API_BASE}/auth"))
        .http_only(true)
        .secure(app.config.https())
        .same_site(SameSite::Lax)
        .max_age(actix_web::cookie::time::Duration::seconds(
            AUTH_STATE_LIFETIME_SECS,
        ))
        .finish()
}

/// `GET /auth/start`: the portal starts a flow with its own state and PKCE
/// verifier (kept in the database, sealed, bound to this browser by a
/// cookie) and sends the browser to PeeringDB, which sends it back to
/// `GET /auth?code=&state=`, which answers the token.
pub async fn auth_start(req: HttpRequest, app: web::Data<App>) -> ApiResult {
    let Some(p) = app.config.peeringdb.clone() else {
        return Err(ApiError::unavailable(
            "PeeringDB is not configured on this portal (AUTH_PEERINGDB_ENABLED): use an API key",
        ));
    };
    rate_limit(&req, &app, Bucket::Auth).await?;
    let state = random_token();
    let verifier = random_token();
    let nonce = random_token();
    let state_hash = digest(&state);
    let sealed = app
        .secrets
        .seal(&verifier_context(&state_hash), &verifier)
        .ok_or_else(|| ApiError::internal("a PKCE verifier could not be sealed"))?;
    let redirect_uri = discovery::own_redirect_uri(&app.config);
    let to = discovery::authorize_url(&p, &redirect_uri, &state, &discovery::s256(&verifier))
        .ok_or_else(|| ApiError::internal("the PeeringDB authorization URL is not a URL"))?;
    let row = AuthState {
        state_hash,
        browser_hash: digest(&nonce),
        verifier: sealed,
        created_at: now(),
    };
    app.db
        .run(move |c| -> Result<_, ApiError> { Ok(api_tokens::insert_auth_state(c, &row)?) })
        .await?;
    Ok(HttpResponse::SeeOther()
        .insert_header((header::LOCATION, to.to_string()))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .cookie(flow_cookie(&app, nonce))
        .finish())
}
