//! The Automated Peering API under `/api/peering/v1`: `/auth` (discovery,
//! and a PeeringDB authorization code for a portal bearer token),
//! `/locations`, `/sessions` and `/sessions/{session_id}`. Errors are JSON
//! (`peeringapi::ApiError`), never HTML, never a panic.
use super::super::super::App;
use super::api_input::*;
use crate::db::api_tokens::{ApiToken, KIND_API_KEY};
use crate::db::models::now;
use crate::db::peering_sessions::{self, PeeringSession};
use crate::db::{DbConnection, audit, lans, write_tx};
use crate::domain::SessionStatus;
use crate::peeringapi::access::authorize;
use crate::peeringapi::error::FieldError;
use crate::peeringapi::limits::{self, Bucket, Verdict};
use crate::peeringapi::request::{
    self, Outcome, location_id, new_request_id, session_json, stored_session_json,
};
use crate::peeringapi::{ApiError, MAX_BATCH};
use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::{Value, json};
use std::collections::HashMap;

/// The OpenAPI 3 description of this API (`src/peeringapi/openapi.json`).
pub async fn openapi() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .insert_header((header::ACCESS_CONTROL_ALLOW_ORIGIN, "*"))
        .body(crate::peeringapi::OPENAPI)
}

/// `GET /locations?asn=<route server ASN>`: this IXP, if it has a route
/// server with that ASN.
pub async fn locations(req: HttpRequest, app: web::Data<App>) -> ApiResult {
    let q = query(&req)?;
    let asn = asn_param(&q)?;
    let want_public = match q
        .get("location_type")
        .map(|t| t.trim().to_ascii_lowercase())
        .as_deref()
    {
        None | Some("public") | Some("") => true,
        Some("private") => false,
        Some(_) => {
            return Err(ApiError::bad_request(
                "location_type",
                "must be \"public\" or \"private\" (in any case)",
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

/// `POST /sessions`: a batch of up to 100 session requests. Answers 200
/// with the request id, the sessions (new or existing, each in the
/// orientation its item asked in) and the per-item errors, even when every
/// item was refused; 422 only when the exchange's own setup refused them
/// all, so a person there must act (the draft's "human intervention
/// required").
pub async fn create_sessions(
    req: HttpRequest,
    app: web::Data<App>,
    payload: web::Payload,
) -> ApiResult {
    let token = caller(&req, &app).await?;
    let address = crate::web::ctx::client_address(&req);
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
    let request_id = new_request_id();
    let rid = request_id.clone();
    let (sessions, errors, needs_person, support) = app
        .db
        .run(move |c| -> Result<_, ApiError> {
            let (route_servers, rs_asns) = request::route_server_asns(c)?;
            let mut refused: Vec<(usize, FieldError)> = Vec::new();
            let mut needs_person = false;
            let mut oriented = Vec::new();
            for item in items {
                let i = item.index;
                match request::orient(item, &rs_asns) {
                    Ok(o) => oriented.push(o),
                    Err(e) => {
                        needs_person |= rs_asns.is_empty();
                        refused.push((i, e));
                    }
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
                // Counted in the batch's own transaction, so that a request
                // costs one write transaction; a refused one commits only
                // its count.
                let (verdict, fresh) = limits::hit(c, Bucket::Sessions, &address, now())?;
                if let Verdict::Limited { retry_after } = verdict {
                    return Ok(Err(retry_after));
                }
                let mut out = Vec::new();
                let mut named = Vec::new();
                for o in &oriented {
                    let Some(customer) = customers.get(&o.member_asn) else {
                        continue;
                    };
                    let outcome = request::request_one(
                        c,
                        o,
                        customer,
                        ixp.as_ref(),
                        &route_servers,
                        auto,
                        &actor,
                    )?;
                    if let Outcome::Created(s) | Outcome::Existing(s) = &outcome {
                        named.push((s.id, o.rs_is_local));
                    }
                    out.push((o.item.index, o.rs_is_local, outcome));
                }
                peering_sessions::record_request(c, &rid, &named)?;
                if fresh {
                    peering_sessions::purge_requests(
                        c,
                        now() - chrono::Duration::days(peering_sessions::REQUEST_RETENTION_DAYS),
                    )?;
                }
                Ok::<_, diesel::result::Error>(Ok(out))
            })?
            .map_err(|retry_after| limited(Bucket::Sessions, retry_after))?;
            let mut sessions = Vec::new();
            for (i, rs_is_local, outcome) in outcomes {
                match outcome {
                    Outcome::Created(s) | Outcome::Existing(s) => {
                        sessions.push(session_json(&s, rs_is_local))
                    }
                    Outcome::Refused(r) => {
                        needs_person |= r.needs_person;
                        refused.extend(r.errors.into_iter().map(|e| (i, e)));
                    }
                }
            }
            // In the order of the items; within one, as found.
            refused.sort_by_key(|(i, _)| *i);
            let errors: Vec<FieldError> = refused.into_iter().map(|(_, e)| e).collect();
            let support = ixp
                .map(|x| x.support_email)
                .filter(|e| !e.trim().is_empty());
            Ok((sessions, errors, needs_person, support))
        })
        .await?;
    let mut errors = errors;
    let status = if sessions.is_empty() && needs_person {
        errors.push(FieldError::new(
            "sessions",
            match support {
                Some(e) => format!(
                    "human intervention required: this exchange is not set up to offer these sessions yet; contact {e}"
                ),
                None => "human intervention required: this exchange is not set up to offer these sessions yet; contact its staff".into(),
            },
        ));
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    Ok(HttpResponse::build(status)
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(json!({"request_id": request_id, "sessions": sessions, "errors": errors})))
}

/// `GET /sessions?asn=<your ASN>[&request_id=…]`: your sessions (not
/// deleted), paged; with a request id, the sessions that request named
/// (deleted ones too), each in the orientation it named them in.
pub async fn list_sessions(req: HttpRequest, app: web::Data<App>) -> ApiResult {
    let q = query(&req)?;
    let asn = asn_param(&q)?;
    let limit = max_results(&q)?;
    let after = decode_token(&q)?;
    let request_id = request_id_param(&q)?;
    let token = caller(&req, &app).await?;
    let rid = request_id.clone();
    let (rows, more) = app
        .db
        .run(move |c| -> Result<_, ApiError> {
            let customer = authorize(c, &token, asn)?;
            let only = (token.kind == KIND_API_KEY).then_some(customer.id);
            let mut rows: Vec<(PeeringSession, bool)> = match &rid {
                Some(r) => peering_sessions::page_of_request(c, r, asn, only, after, limit + 1)?,
                None => peering_sessions::page_of_member(c, asn, only, after, limit + 1)?
                    .into_iter()
                    .map(|s| {
                        let o = s.rs_is_local;
                        (s, o)
                    })
                    .collect(),
            };
            let more = rows.len() as i64 > limit;
            rows.truncate(usize::try_from(limit).unwrap_or(MAX_BATCH));
            Ok((rows, more))
        })
        .await?;
    let mut body =
        json!({"sessions": rows.iter().map(|(s, o)| session_json(s, *o)).collect::<Vec<_>>()});
    if let Some(r) = request_id {
        body["request_id"] = json!(r);
    }
    if more && let Some((last, _)) = rows.last() {
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
        // A PeeringDB token acts for the ASN (every customer with it); an
        // API key only for its own customer, even where customers share an ASN.
        Ok(cu) if token.kind != KIND_API_KEY || cu.id == s.customer_id => Ok(s),
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
    Ok(ok(stored_session_json(&s)))
}

/// `DELETE /sessions/{session_id}`: the session becomes `deleted` (its
/// history stays); deleting it again changes nothing. Answers 200 with the
/// session (the published OpenAPI), or 204 without a body when the client
/// prefers it (`Prefer: return=minimal`, RFC 7240; the draft's 204).
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
            delete_one(c, s, &actor)
        })
        .await?;
    if prefers_minimal(&req) {
        return Ok(HttpResponse::NoContent()
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .insert_header(("Preference-Applied", "return=minimal"))
            .finish());
    }
    Ok(ok(stored_session_json(&s)))
}

/// Does the request carry the preference `return=minimal` (RFC 7240)?
fn prefers_minimal(req: &HttpRequest) -> bool {
    req.headers()
        .get_all("prefer")
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|p| {
            let p = p.split(';').next().unwrap_or("").trim();
            let mut kv = p.splitn(2, '=');
            let k = kv.next().unwrap_or("").trim();
            let v = kv.next().unwrap_or("").trim().trim_matches('"');
            k.eq_ignore_ascii_case("return") && v.eq_ignore_ascii_case("minimal")
        })
}

/// Moves a visible session to `deleted` (audited); an already deleted one
/// is returned as it is.
fn delete_one(
    c: &mut DbConnection,
    s: PeeringSession,
    actor: &str,
) -> Result<PeeringSession, ApiError> {
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
            actor,
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
}

/// `DELETE /sessions` with `[{"session_id": …}, …]` (or `{"sessions":
/// [...]}`), at most 100: like the single delete for each; answers 200
/// with the deleted sessions and per-item errors, even when none could be
/// deleted.
pub async fn delete_sessions(
    req: HttpRequest,
    app: web::Data<App>,
    payload: web::Payload,
) -> ApiResult {
    let token = caller(&req, &app).await?;
    let body = read_body(&req, payload).await?;
    let value = parse_json(&body)?;
    let items = match &value {
        Value::Array(a) => a.clone(),
        Value::Object(o) => match o.get("sessions") {
            Some(Value::Array(a)) => a.clone(),
            _ => {
                return Err(ApiError::bad_request(
                    "sessions",
                    "must be an array of session references",
                ));
            }
        },
        _ => {
            return Err(ApiError::bad_request(
                "sessions",
                "the body must be a JSON array of {\"session_id\": string}",
            ));
        }
    };
    if items.is_empty() {
        return Err(ApiError::bad_request("sessions", "is empty"));
    }
    if items.len() > MAX_BATCH {
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "sessions",
            format!(
                "at most {MAX_BATCH} sessions per request ({} sent)",
                items.len()
            ),
        ));
    }
    let mut ids = Vec::new();
    let mut shape = Vec::new();
    for (i, v) in items.iter().enumerate() {
        match v.get("session_id") {
            Some(Value::String(s)) => ids.push((i, s.clone())),
            _ => shape.push(FieldError::new(
                format!("sessions[{i}].session_id"),
                "is required and must be a string",
            )),
        }
    }
    if !shape.is_empty() {
        return Err(ApiError::many(StatusCode::BAD_REQUEST, shape));
    }
    let actor = actor_of(&token);
    let (sessions, errors) = app
        .db
        .run(move |c| -> Result<_, ApiError> {
            let mut sessions = Vec::new();
            let mut errors = Vec::new();
            for (i, sid) in ids {
                match visible(c, &token, &sid) {
                    Ok(s) => sessions.push(stored_session_json(&delete_one(c, s, &actor)?)),
                    Err(e) if e.status.is_client_error() => {
                        for fe in e.errors {
                            errors.push(FieldError {
                                name: format!("sessions[{i}].{}", fe.name),
                                errors: fe.errors,
                            });
                        }
                    }
                    Err(e) => return Err(e),
                }
            }
            Ok((sessions, errors))
        })
        .await?;
    Ok(ok(json!({"sessions": sessions, "errors": errors})))
}
