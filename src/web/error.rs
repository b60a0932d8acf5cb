//! Errors that end a request, rendered in the layout. Internal causes go to
//! the log, never to the page.
use super::pages::ErrorPage;
use actix_web::http::{StatusCode, header};
use actix_web::{HttpResponse, ResponseError};
use askama::Template;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// Not signed in: go to the login page, and come back afterwards.
    #[error("sign-in required")]
    Login { next: String },
    /// `AUTH_2FA_ENFORCE`: a second factor must be set up first.
    #[error("second factor required")]
    Enrol,
    #[error("forbidden")]
    Forbidden,
    #[error("not found")]
    NotFound,
    #[error("bad request: {0}")]
    BadRequest(String),
    #[error("request body too large")]
    TooLarge,
    #[error("CSRF check failed")]
    Csrf,
    #[error("internal error: {0}")]
    Internal(String),
}

impl AppError {
    pub fn internal(e: impl std::fmt::Display) -> AppError {
        AppError::Internal(e.to_string())
    }
}

impl From<crate::db::DbError> for AppError {
    fn from(e: crate::db::DbError) -> Self {
        AppError::Internal(e.to_string())
    }
}

impl From<diesel::result::Error> for AppError {
    fn from(e: diesel::result::Error) -> Self {
        AppError::Internal(e.to_string())
    }
}

impl ResponseError for AppError {
    fn status_code(&self) -> StatusCode {
        match self {
            AppError::Login { .. } | AppError::Enrol => StatusCode::SEE_OTHER,
            AppError::Forbidden | AppError::Csrf => StatusCode::FORBIDDEN,
            AppError::NotFound => StatusCode::NOT_FOUND,
            AppError::BadRequest(_) => StatusCode::BAD_REQUEST,
            AppError::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        if let AppError::Login { next } = self {
            let target = format!("/login?next={}", urlencode(next));
            return HttpResponse::SeeOther()
                .insert_header((header::LOCATION, target))
                .finish();
        }
        if let AppError::Enrol = self {
            return HttpResponse::SeeOther()
                .insert_header((header::LOCATION, "/profile/2fa"))
                .finish();
        }
        if let AppError::Internal(cause) = self {
            tracing::error!(%cause, "request failed");
        }
        let (title, message) = self.page().unwrap_or_default();
        error_page(self.status_code(), title, &message)
    }
}

impl AppError {
    /// The title and message of the error's page (`None`: a redirect).
    pub fn page(&self) -> Option<(&'static str, String)> {
        Some(match self {
            AppError::Login { .. } | AppError::Enrol => return None,
            AppError::Forbidden => ("Not allowed", "You do not have access to this page.".to_string()),
            AppError::Csrf => (
                "Form expired",
                "This form has expired or was sent from another site. Go back, reload the page and try again.".to_string(),
            ),
            AppError::NotFound => ("Page not found", "There is nothing at this address.".to_string()),
            AppError::BadRequest(m) => ("Bad request", m.clone()),
            AppError::TooLarge => ("Too large", "What you sent is too large.".to_string()),
            AppError::Internal(_) => (
                "Something went wrong",
                "The portal could not complete this request. It has been logged; please try again later, or write to the exchange's support team if it keeps happening.".to_string(),
            ),
        })
    }
}

/// Middleware: a page that ended in an `AppError` is shown again in the
/// full layout, with the navigation of whoever is signed in (the error's
/// own response cannot know who asks). Status and headers stay.
pub async fn in_layout(
    req: actix_web::dev::ServiceRequest,
    next: actix_web::middleware::Next<impl actix_web::body::MessageBody + 'static>,
) -> Result<actix_web::dev::ServiceResponse, actix_web::Error> {
    use actix_web::FromRequest;
    let res = next.call(req).await?;
    let page = res
        .response()
        .error()
        .and_then(|e| e.as_error::<AppError>())
        .and_then(|e| e.page().map(|p| (e.status_code(), p)));
    let Some((status, (title, message))) = page else {
        return Ok(res.map_into_boxed_body());
    };
    let (req, old) = res.into_parts();
    let chrome = match super::ctx::Ctx::extract(&req).await {
        Ok(ctx) => ctx.chrome(),
        Err(_) => Default::default(),
    };
    let body = ErrorPage {
        chrome,
        status: status.as_u16(),
        title,
        message: &message,
    }
    .render();
    let Ok(body) = body else {
        return Ok(actix_web::dev::ServiceResponse::new(req, old).map_into_boxed_body());
    };
    let mut fresh = HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .body(body);
    for (name, value) in old.headers() {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            fresh.headers_mut().append(name.clone(), value.clone());
        }
    }
    Ok(actix_web::dev::ServiceResponse::new(req, fresh))
}

/// An error page in the layout (without the signed-in chrome, which
/// `in_layout` adds where the request is known).
pub fn error_page(status: StatusCode, title: &str, message: &str) -> HttpResponse {
    let page = ErrorPage {
        chrome: Default::default(),
        status: status.as_u16(),
        title,
        message,
    };
    match page.render() {
        Ok(body) => HttpResponse::build(status)
            .content_type("text/html; charset=utf-8")
            .body(body),
        Err(_) => HttpResponse::build(status).body(title.to_string()),
    }
}

pub fn urlencode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}
