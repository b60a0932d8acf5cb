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
            AppError::Login { .. } => StatusCode::SEE_OTHER,
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
        if let AppError::Internal(cause) = self {
            tracing::error!(%cause, "request failed");
        }
        let (title, message) = match self {
            AppError::Forbidden => ("Not allowed", "You do not have access to this page.".to_string()),
            AppError::Csrf => (
                "Form expired",
                "This form has expired or was sent from another site. Go back, reload the page and try again.".to_string(),
            ),
            AppError::NotFound => ("Page not found", "There is nothing at this address.".to_string()),
            AppError::BadRequest(m) => ("Bad request", m.clone()),
            AppError::TooLarge => ("Too large", "What you sent is too large.".to_string()),
            _ => (
                "Something went wrong",
                "The portal could not complete this request. It has been logged; please try again later.".to_string(),
            ),
        };
        error_page(self.status_code(), title, &message)
    }
}

/// An error page in the layout (without the signed-in chrome).
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
