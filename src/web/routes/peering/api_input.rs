//! What the Peering API handlers share: reading bodies and query strings
//! within limits, paging tokens, and the caller behind a bearer token.
use super::super::super::App;
use crate::auth::token::digest;
use crate::db::api_tokens::{self, ApiToken, KIND_API_KEY, KIND_PEERINGDB};
use crate::db::models::now;
use crate::domain::Asn;
use crate::peeringapi::limits::{self, Bucket, Verdict};
use crate::peeringapi::{ApiError, MAX_BATCH, MAX_BODY_BYTES};
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use futures_util::StreamExt;
use serde_json::Value;
use std::collections::HashMap;

pub(super) type ApiResult = Result<HttpResponse, ApiError>;

pub(super) fn ok(v: Value) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(v)
}

/// The body, at most `MAX_BODY_BYTES` (413 beyond).
pub(super) async fn read_body(
    req: &HttpRequest,
    mut payload: web::Payload,
) -> Result<Vec<u8>, ApiError> {
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

pub(super) fn parse_json(body: &[u8]) -> Result<Value, ApiError> {
    serde_json::from_slice(body)
        .map_err(|e| ApiError::bad_request("body", format!("the body is not valid JSON: {e}")))
}

/// The query string as pairs (repeated keys: the last wins).
pub(super) fn query(req: &HttpRequest) -> Result<HashMap<String, String>, ApiError> {
    serde_urlencoded::from_str::<Vec<(String, String)>>(req.query_string())
        .map(|v| v.into_iter().collect())
        .map_err(|_| ApiError::bad_request("query", "the query string could not be read"))
}

pub(super) fn asn_param(q: &HashMap<String, String>) -> Result<Asn, ApiError> {
    let v = q
        .get("asn")
        .ok_or_else(|| ApiError::bad_request("asn", "is required: your ASN, such as asn=64500"))?;
    v.parse::<Asn>().map_err(|_| {
        ApiError::bad_request(
            "asn",
            "must be an ASN from 1 to 4294967295, such as 64500 or AS64500",
        )
    })
}

/// `max_results`: 0 (or absent) means the server's page size, 100; larger
/// values are read as 100 (the draft calls it an upper bound the client
/// can process, so a smaller page is always an answer it can take).
pub(super) fn max_results(q: &HashMap<String, String>) -> Result<i64, ApiError> {
    let max = MAX_BATCH as i64;
    match q.get("max_results").map(|v| v.trim()) {
        None | Some("") => Ok(max),
        Some(v) if v.bytes().all(|b| b.is_ascii_digit()) => {
            // All digits: only an overflow fails to parse, and that is large.
            let n = v.parse::<i64>().unwrap_or(i64::MAX);
            Ok(if n == 0 || n > max { max } else { n })
        }
        Some(_) => Err(ApiError::bad_request(
            "max_results",
            format!(
                "must be a whole number; accepted: 0 (the server's page size) to {MAX_BATCH}, larger values are read as {MAX_BATCH}"
            ),
        )),
    }
}

/// `request_id`: a request id that `POST /sessions` returned, or none.
pub(super) fn request_id_param(q: &HashMap<String, String>) -> Result<Option<String>, ApiError> {
    match q.get("request_id").map(|v| v.trim()) {
        None | Some("") => Ok(None),
        Some(v) => crate::peeringapi::request::parse_request_id(v)
            .map(Some)
            .ok_or_else(|| {
                ApiError::bad_request(
                    "request_id",
                    "is not a request id: use the request_id (a UUID) that POST /sessions returned",
                )
            }),
    }
}

/// Counts this request against the client address's limit in `bucket`
/// (429 with `Retry-After` beyond it), in a statement of its own.
pub(super) async fn rate_limit(
    req: &HttpRequest,
    app: &web::Data<App>,
    bucket: Bucket,
) -> Result<(), ApiError> {
    let address = crate::web::ctx::client_address(req);
    let (verdict, _) = app
        .db
        .run(move |c| -> Result<_, ApiError> { Ok(limits::hit(c, bucket, &address, now())?) })
        .await?;
    match verdict {
        Verdict::Allowed => Ok(()),
        Verdict::Limited { retry_after } => Err(limited(bucket, retry_after)),
    }
}

/// The 429 of `bucket`.
pub(super) fn limited(bucket: Bucket, retry_after: u64) -> ApiError {
    ApiError::too_many_requests(
        format!(
            "too many requests from your address: at most {} {} per {} seconds; try again in {retry_after} seconds",
            bucket.limit(),
            match bucket {
                Bucket::Auth => "token requests",
                Bucket::Sessions => "session requests",
            },
            limits::WINDOW_SECS,
        ),
        retry_after,
    )
}

pub(super) fn encode_token(id: i64) -> String {
    URL_SAFE_NO_PAD.encode(format!("after:{id}"))
}

pub(super) fn decode_token(q: &HashMap<String, String>) -> Result<i64, ApiError> {
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
/// The caller that the route's guard authenticated (`web::guard`, scope
/// `ApiKey`); a route without that guard refuses.
pub(super) async fn caller(req: &HttpRequest, _app: &web::Data<App>) -> Result<ApiToken, ApiError> {
    use actix_web::FromRequest;
    crate::web::guard::ApiCaller::extract(req)
        .await
        .map(|c| c.0)
}

/// The API key or bearer token of `Authorization: Bearer <token>`: known,
/// not revoked, not expired.
pub(crate) async fn authenticate(
    req: &HttpRequest,
    app: &web::Data<App>,
) -> Result<ApiToken, ApiError> {
    let value = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| ApiError::unauthorized("a bearer token is required: an API key of your network, or a token from /api/peering/v1/auth (GET it for how)"))?;
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

pub(super) fn actor_of(t: &ApiToken) -> String {
    match t.kind.as_str() {
        KIND_PEERINGDB => format!(
            "peering-api:pdb-{} ({})",
            t.peeringdb_user_id.unwrap_or_default(),
            t.name
        ),
        _ => format!("peering-api:key-{} ({})", t.id, t.name),
    }
}
