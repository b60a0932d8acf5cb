//! `CsrfForm<T>`: a urlencoded form whose `csrf` field matched the session's
//! token and whose Origin (when the browser sent one) is this portal. Every
//! state-changing handler takes its input through it.
use super::App;
use super::error::AppError;
use super::session;
use actix_session::SessionExt;
use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest, web};
use futures_util::StreamExt;
use futures_util::future::LocalBoxFuture;
use serde::de::DeserializeOwned;

/// The largest form the portal accepts.
pub const MAX_FORM_BYTES: usize = 64 * 1024;

pub struct CsrfForm<T>(pub T);

#[derive(serde::Deserialize)]
struct CsrfField {
    #[serde(default)]
    csrf: String,
}

/// Does the Origin (or, failing that, Referer) name this portal, as
/// `APP_URL` says? Never the Host or `X-Forwarded-Host` a client sends
/// (SPEC §8). Absent headers pass: the token is the real check.
fn same_origin(req: &HttpRequest, app_url: &url::Url) -> bool {
    let expected = app_url.origin();
    let check = |value: &str| match url::Url::parse(value) {
        Ok(u) => u.origin() == expected,
        Err(_) => false,
    };
    if let Some(origin) = req
        .headers()
        .get(header::ORIGIN)
        .and_then(|v| v.to_str().ok())
    {
        return origin != "null" && check(origin);
    }
    if let Some(referer) = req
        .headers()
        .get(header::REFERER)
        .and_then(|v| v.to_str().ok())
    {
        return check(referer);
    }
    true
}

impl<T: DeserializeOwned + 'static> FromRequest for CsrfForm<T> {
    type Error = AppError;
    type Future = LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let req = req.clone();
        let mut payload = payload.take();
        Box::pin(async move {
            let mut body = web::BytesMut::new();
            while let Some(chunk) = payload.next().await {
                let chunk = chunk
                    .map_err(|_| AppError::BadRequest("The form could not be read.".into()))?;
                if body.len() + chunk.len() > MAX_FORM_BYTES {
                    return Err(AppError::TooLarge);
                }
                body.extend_from_slice(&chunk);
            }
            let app_url = req
                .app_data::<web::Data<App>>()
                .map(|a| a.config.app_url.clone())
                .ok_or_else(|| AppError::internal("application state missing"))?;
            let token: CsrfField = serde_urlencoded::from_bytes(&body)
                .map_err(|_| AppError::BadRequest("The form could not be read.".into()))?;
            if !session::csrf_matches(&req.get_session(), &token.csrf)
                || !same_origin(&req, &app_url)
            {
                // The path may carry a secret (a password-reset token).
                tracing::warn!(path = %super::redact_path(req.path()), "form refused by the CSRF check");
                return Err(AppError::Csrf);
            }
            let form = serde_urlencoded::from_bytes(&body)
                .map_err(|e| AppError::BadRequest(format!("The form is not valid: {e}.")))?;
            Ok(CsrfForm(form))
        })
    }
}
