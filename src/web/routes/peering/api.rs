//! The Automated Peering API under `/api/peering/v1`: `/auth` (a PeeringDB
//! authorization code for a portal bearer token), `/locations`,
//! `/sessions` and `/sessions/{session_id}`. Errors are JSON
//! (`peeringapi::ApiError`), never HTML, never a panic.
use super::super::super::App;
use crate::auth::token::{digest, random_token};
use crate::db::api_tokens::{self, ApiToken, KIND_API_KEY, KIND_PEERINGDB, NewApiToken};
use crate::db::models::now;
use crate::db::peering_sessions::{self, PeeringSession};
use crate::db::{DbConnection, audit, lans, write_tx};
use crate::domain::{Asn, SessionStatus};
use crate::peeringapi::access::{authorize, split_networks};
use crate::peeringapi::error::FieldError;
use crate::peeringapi::request::{self, Outcome, location_id, session_json};
use crate::peeringapi::{ApiError, MAX_BATCH, MAX_BODY_BYTES, TOKEN_LIFETIME_SECS};
use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use futures_util::StreamExt;
use serde_json::{Value, json};
use std::collections::HashMap;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("/api/peering/v1")
            .service(
                web::resource("/openapi.json")
                    .route(web::get().to(openapi))
                    .default_service(web::to(method_not_allowed)),
            )
            .service(
                web::resource("/auth")
                    .route(web::post().to(auth))
                    .default_service(web::to(method_not_allowed)),
            )
            .service(
                web::resource("/locations")
                    .route(web::get().to(locations))
                    .default_service(web::to(method_not_allowed)),
            )
            .service(
                web::resource("/sessions")
                    .route(web::post().to(create_sessions))
                    .route(web::get().to(list_sessions))
                    .default_service(web::to(method_not_allowed)),
            )
            .service(
                web::resource("/sessions/{session_id}")
                    .route(web::get().to(get_session))
                    .route(web::delete().to(delete_session))
                    .default_service(web::to(method_not_allowed)),
            )
            .default_service(web::to(|| async {
                Err::<HttpResponse, _>(ApiError::not_found("path", "no such Peering API endpoint"))
            })),
    );
}

async fn method_not_allowed() -> Result<HttpResponse, ApiError> {
    Err(ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method",
        "this endpoint does not support this method",
    ))
}

/// The OpenAPI 3 description of this API (`src/peeringapi/openapi.json`).
pub async fn openapi() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .insert_header((header::ACCESS_CONTROL_ALLOW_ORIGIN, "*"))
        .body(crate::peeringapi::OPENAPI)
}

type ApiResult = Result<HttpResponse, ApiError>;

fn ok(v: Value) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(v)
}

/// The body, at most `MAX_BODY_BYTES` (413 beyond).
async fn read_body(req: &HttpRequest, mut payload: web::Payload) -> Result<Vec<u8>, ApiError> {
    let too_large =
        || ApiError::too_large(format!("the body is larger than {MAX_BODY_BYTES} bytes"));
    if req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok())
        .is_some_and(|n| n > MAX_BODY_BYTES)
    {
        return Err(too_large());
    }
    let mut body = Vec::new();
    while let Some(chunk) = payload.next().await {
        let chunk =
            chunk.map_err(|_| ApiError::bad_request("body", "the body could not be read"))?;
        if body.len() + chunk.len() > MAX_BODY_BYTES {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

fn parse_json(body: &[u8]) -> Result<Value, ApiError> {
    serde_json::from_slice(body)
        .map_err(|e| ApiError::bad_request("body", format!("the body is not valid JSON: {e}")))
}

/// The query string as pairs (repeated keys: the last wins).
fn query(req: &HttpRequest) -> Result<HashMap<String, String>, ApiError> {
    serde_urlencoded::from_str::<Vec<(String, String)>>(req.query_string())
        .map(|v| v.into_iter().collect())
        .map_err(|_| ApiError::bad_request("query", "the query string could not be read"))
}

fn asn_param(q: &HashMap<String, String>) -> Result<Asn, ApiError> {
    let v = q
        .get("asn")
        .ok_or_else(|| ApiError::bad_request("asn", "is required"))?;
    v.trim()
        .parse::<i64>()
        .ok()
        .and_then(Asn::new)
        .ok_or_else(|| ApiError::bad_request("asn", "must be an integer ASN from 1 to 4294967295"))
}

/// `max_results`: 0 (or absent) means the server's page size, 100.
fn max_results(q: &HashMap<String, String>) -> Result<i64, ApiError> {
    match q.get("max_results") {
        None => Ok(MAX_BATCH as i64),
        Some(v) => match v.trim().parse::<i64>() {
            Ok(0) => Ok(MAX_BATCH as i64),
            Ok(n) if (1..=MAX_BATCH as i64).contains(&n) => Ok(n),
            _ => Err(ApiError::bad_request(
                "max_results",
                format!("must be an integer from 0 to {MAX_BATCH}"),
            )),
        },
    }
}

fn encode_token(id: i64) -> String {
    URL_SAFE_NO_PAD.encode(format!("after:{id}"))
}

fn decode_token(q: &HashMap<String, String>) -> Result<i64, ApiError> {
    let Some(t) = q.get("next_token").filter(|t| !t.is_empty()) else {
        return Ok(0);
    };
    URL_SAFE_NO_PAD
        .decode(t.trim())
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .and_then(|s| s.strip_prefix("after:").and_then(|n| n.parse::<i64>().ok()))
        .filter(|n| *n >= 0)
        .ok_or_else(|| ApiError::bad_request("next_token", "is not a token this server issued"))
}

/// The caller: a usable bearer token (portal token or API key).
pub(super) async fn caller(req: &HttpRequest, app: &web::Data<App>) -> Result<ApiToken, ApiError> {
    let value = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| ApiError::unauthorized("a bearer token is required: POST a PeeringDB authorization code to /api/peering/v1/auth"))?;
    let token = value
        .strip_prefix("Bearer ")
        .or_else(|| value.strip_prefix("bearer "))
        .map(str::trim)
        .filter(|t| !t.is_empty() && t.len() <= 200)
        .ok_or_else(|| ApiError::unauthorized("use Authorization: Bearer <token>"))?;
    let hash = digest(token);
    app.db
        .run(move |c| -> Result<_, ApiError> {
            let Some(t) = api_tokens::by_hash(c, &hash)? else {
                return Err(ApiError::unauthorized("the bearer token is not valid"));
            };
            let at = now();
            if t.revoked_at.is_some() {
                return Err(ApiError::unauthorized("the API key has been revoked"));
            }
            if !t.is_usable(at) {
                return Err(ApiError::unauthorized(
                    "the bearer token has expired: get a new one from /api/peering/v1/auth",
                ));
            }
            if t.kind == KIND_API_KEY
                && t.last_used_at
                    .is_none_or(|u| at - u > chrono::Duration::seconds(60))
            {
                api_tokens::touch(c, t.id)?;
            }
            Ok(t)
        })
        .await
}

fn actor_of(t: &ApiToken) -> String {
    match t.kind.as_str() {
        KIND_PEERINGDB => format!(
            "peering-api:pdb-{} ({})",
            t.peeringdb_user_id.unwrap_or_default(),
            t.name
        ),
        _ => format!("peering-api:key-{} ({})", t.id, t.name),
    }
}

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

/// `GET /locations?asn=<route server ASN>`: this IXP, if it has a route
/// server with that ASN.
pub async fn locations(req: HttpRequest, app: web::Data<App>) -> ApiResult {
    let q = query(&req)?;
    let asn = asn_param(&q)?;
    let want_public = match q.get("location_type").map(String::as_str) {
        None | Some("public") => true,
        Some("private") => false,
        Some(_) => {
            return Err(ApiError::bad_request(
                "location_type",
                "must be \"public\" or \"private\"",
            ));
        }
    };
    max_results(&q)?;
    decode_token(&q)?;
    caller(&req, &app).await?;
    let loc = app
        .db
        .run(move |c| -> Result<_, ApiError> {
            let ours = !lans::route_servers_by_asn(c, asn)?.is_empty();
            Ok(if ours {
                location_id(lans::ixp(c)?.as_ref())
            } else {
                None
            })
        })
        .await?;
    let locations: Vec<Value> = loc
        .filter(|_| want_public)
        .map(|id| json!({"id": id, "type": "public"}))
        .into_iter()
        .collect();
    Ok(ok(json!({ "locations": locations })))
}

/// `POST /sessions`: a batch of up to 100 session requests.
pub async fn create_sessions(
    req: HttpRequest,
    app: web::Data<App>,
    payload: web::Payload,
) -> ApiResult {
    let token = caller(&req, &app).await?;
    let body = read_body(&req, payload).await?;
    let value = parse_json(&body)?;
    let items = request::parse_batch(&value, MAX_BATCH).map_err(|(too_many, errors)| {
        ApiError::many(
            if too_many {
                StatusCode::PAYLOAD_TOO_LARGE
            } else {
                StatusCode::BAD_REQUEST
            },
            errors,
        )
    })?;
    let auto = app.config.peering_auto_approve;
    let actor = actor_of(&token);
    let (sessions, errors) = app
        .db
        .run(move |c| -> Result<_, ApiError> {
            let (route_servers, rs_asns) = request::route_server_asns(c)?;
            let mut errors = Vec::new();
            let mut oriented = Vec::new();
            for item in items {
                match request::orient(item, &rs_asns) {
                    Ok(o) => oriented.push(o),
                    Err(e) => errors.push(e),
                }
            }
            // Who may act for which member ASN: all or nothing.
            let mut customers = HashMap::new();
            for o in &oriented {
                if let std::collections::hash_map::Entry::Vacant(e) = customers.entry(o.member_asn)
                {
                    e.insert(authorize(c, &token, o.member_asn)?);
                }
            }
            let ixp = lans::ixp(c)?;
            let outcomes = write_tx(c, |c: &mut DbConnection| {
                let mut out = Vec::new();
                for o in &oriented {
                    let Some(customer) = customers.get(&o.member_asn) else {
                        continue;
                    };
                    out.push(request::request_one(
                        c,
                        o,
                        customer,
                        ixp.as_ref(),
                        &route_servers,
                        auto,
                        &actor,
                    )?);
                }
                Ok::<_, diesel::result::Error>(out)
            })?;
            let mut sessions = Vec::new();
            for outcome in outcomes {
                match outcome {
                    Outcome::Created(s) | Outcome::Existing(s) => sessions.push(session_json(&s)),
                    Outcome::Refused(e) => errors.push(e),
                }
            }
            errors.sort_by(|a, b| a.name.cmp(&b.name));
            Ok((sessions, errors))
        })
        .await?;
    let status = if sessions.is_empty() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    Ok(HttpResponse::build(status)
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(json!({"sessions": sessions, "errors": errors})))
}

/// `GET /sessions?asn=<your ASN>`: your sessions (not deleted), paged.
pub async fn list_sessions(req: HttpRequest, app: web::Data<App>) -> ApiResult {
    let q = query(&req)?;
    let asn = asn_param(&q)?;
    let limit = max_results(&q)?;
    let after = decode_token(&q)?;
    let token = caller(&req, &app).await?;
    let (rows, more) = app
        .db
        .run(move |c| -> Result<_, ApiError> {
            authorize(c, &token, asn)?;
            let mut rows = peering_sessions::page_of_member(c, asn, after, limit + 1)?;
            let more = rows.len() as i64 > limit;
            rows.truncate(limit as usize);
            Ok((rows, more))
        })
        .await?;
    let mut body = json!({"sessions": rows.iter().map(session_json).collect::<Vec<_>>()});
    if more && let Some(last) = rows.last() {
        body["next_token"] = json!(encode_token(last.id));
    }
    Ok(ok(body))
}

/// A session the caller may see, or 404.
fn visible(c: &mut DbConnection, token: &ApiToken, sid: &str) -> Result<PeeringSession, ApiError> {
    let not_found = || ApiError::not_found("session_id", "no such session");
    if sid.is_empty() || sid.len() > 200 {
        return Err(not_found());
    }
    let s = peering_sessions::by_session_id(c, sid)?.ok_or_else(not_found)?;
    match authorize(c, token, s.member_asn) {
        Ok(cu) if cu.id == s.customer_id || cu.autsys == s.member_asn => Ok(s),
        Ok(_) => Err(not_found()),
        Err(e)
            if token.allowed().contains(&s.member_asn)
                || token.customer_id == Some(s.customer_id) =>
        {
            Err(e)
        }
        Err(_) => Err(not_found()),
    }
}

pub async fn get_session(
    req: HttpRequest,
    app: web::Data<App>,
    path: web::Path<String>,
) -> ApiResult {
    let token = caller(&req, &app).await?;
    let sid = path.into_inner();
    let s = app.db.run(move |c| visible(c, &token, &sid)).await?;
    Ok(ok(session_json(&s)))
}

/// `DELETE /sessions/{session_id}`: the session becomes `deleted` (its
/// history stays); deleting it again changes nothing.
pub async fn delete_session(
    req: HttpRequest,
    app: web::Data<App>,
    path: web::Path<String>,
) -> ApiResult {
    let token = caller(&req, &app).await?;
    let sid = path.into_inner();
    let actor = actor_of(&token);
    let s = app
        .db
        .run(move |c| -> Result<_, ApiError> {
            let s = visible(c, &token, &sid)?;
            if s.status() == SessionStatus::Deleted {
                return Ok(s);
            }
            write_tx(c, |c: &mut DbConnection| {
                peering_sessions::set_status(c, s.id, SessionStatus::Deleted)?;
                let who = crate::db::customers::find(c, s.customer_id)?
                    .map(|cu| cu.shortname)
                    .unwrap_or_default();
                audit::record(
                    c,
                    &actor,
                    "peering_session.delete",
                    &who,
                    &format!(
                        "session {} (AS{} {} with AS{} {}): {} → deleted",
                        s.session_id, s.member_asn, s.member_ip, s.rs_asn, s.rs_ip, s.status
                    ),
                )?;
                peering_sessions::find(c, s.id)?.ok_or(diesel::result::Error::NotFound)
            })
            .map_err(ApiError::from)
        })
        .await?;
    Ok(ok(session_json(&s)))
}

/// `GET /api/v1/routeservers/{id}/sessions.json` (staff key): the sessions
/// a route server's configuration should carry (approved, provisioned,
/// established, down), for the tool that builds it.
pub async fn route_server_sessions(
    req: HttpRequest,
    app: web::Data<App>,
    path: web::Path<String>,
) -> ApiResult {
    let token = caller(&req, &app).await?;
    if token.kind != api_tokens::KIND_STAFF_KEY {
        return Err(ApiError::forbidden(
            "authorization",
            "this endpoint needs a staff API key",
        ));
    }
    let id = path
        .trim()
        .parse::<i64>()
        .ok()
        .filter(|i| *i > 0)
        .ok_or_else(|| ApiError::not_found("id", "no such route server"))?;
    let body = app
        .db
        .run(move |c| -> Result<_, ApiError> {
            let rs = lans::route_server(c, id)?
                .ok_or_else(|| ApiError::not_found("id", "no such route server"))?;
            let configured: Vec<SessionStatus> = SessionStatus::ALL
                .iter()
                .copied()
                .filter(|s| s.is_configured())
                .collect();
            let sessions = peering_sessions::of_route_server(c, id, &configured)?;
            let customers: HashMap<i64, crate::db::models::Customer> =
                crate::db::customers::all(c)?
                    .into_iter()
                    .map(|cu| (cu.id, cu))
                    .collect();
            let conns: HashMap<i64, crate::db::connections::Connection> =
                crate::db::connections::of_lan(c, rs.lan_id)?
                    .into_iter()
                    .map(|cn| (cn.id, cn))
                    .collect();
            let list: Vec<Value> = sessions
                .iter()
                .map(|s| {
                    let cu = customers.get(&s.customer_id);
                    let cn = conns.get(&s.connection_id);
                    json!({
                        "session_id": s.session_id,
                        "status": s.status,
                        "family": s.family,
                        "peer_asn": s.member_asn,
                        "peer_ip": s.member_ip,
                        "local_ip": s.rs_ip,
                        "customer": cu.map(|c| c.shortname.clone()),
                        "name": cu.map(|c| c.name.clone()),
                        "as_set": cn.and_then(|c| c.as_set.clone()),
                        "max_prefixes": cn.and_then(|c| if s.family == 4 { c.max_prefixes_v4 } else { c.max_prefixes_v6 }),
                    })
                })
                .collect();
            Ok(json!({
                "route_server": {
                    "id": rs.id, "name": rs.name, "asn": rs.asn,
                    "ipv4_address": rs.ipv4_address, "ipv6_address": rs.ipv6_address,
                },
                "sessions": list,
            }))
        })
        .await?;
    Ok(ok(body))
}
