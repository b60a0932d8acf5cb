//! `CsrfForm<T>`: a urlencoded form on a route whose guard checked the
//! CSRF token and Origin (`web::guard`). State-changing handlers take their
//! input through it.
use super::error::AppError;
use super::guard::CsrfChecked;
use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpMessage, HttpRequest, web};
use futures_util::StreamExt;
use futures_util::future::LocalBoxFuture;
use serde::de::DeserializeOwned;

/// The largest form the portal accepts.
pub const MAX_FORM_BYTES: usize = 64 * 1024;

pub struct CsrfForm<T>(pub T);

impl<T: DeserializeOwned + 'static> FromRequest for CsrfForm<T> {
    type Error = AppError;
    type Future = LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let req = req.clone();
        let mut payload = payload.take();
        Box::pin(async move {
            // The route's guard compared the token (`web::guard`); a
            // route registered without it refuses every form.
            req.extensions()
                .get::<CsrfChecked>()
                .ok_or_else(|| AppError::internal("a form on a route without the CSRF guard"))?;
            let mut body = web::BytesMut::new();
            while let Some(chunk) = payload.next().await {
                let chunk = chunk
                    .map_err(|_| AppError::BadRequest("The form could not be read.".into()))?;
                if body.len() + chunk.len() > MAX_FORM_BYTES {
                    return Err(AppError::TooLarge);
                }
                body.extend_from_slice(&chunk);
            }
            let form = serde_urlencoded::from_bytes(&body)
                .map_err(|e| AppError::BadRequest(format!("The form is not valid: {e}.")))?;
            Ok(CsrfForm(form))
        })
    }
}
