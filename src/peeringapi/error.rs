//! The API's errors: `{"errors": [{"name": field, "errors": [message]}]}`
//! with 400 / 401 / 403 / 404 / 413 / 422 / 429 (and 500/503, never with
//! details).
use actix_web::http::{StatusCode, header};
use actix_web::{HttpResponse, ResponseError};

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct FieldError {
    pub name: String,
    pub errors: Vec<String>,
}

impl FieldError {
    pub fn new(name: impl Into<String>, message: impl Into<String>) -> FieldError {
        FieldError {
            name: name.into(),
            errors: vec![message.into()],
        }
    }
}

#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: StatusCode,
    pub errors: Vec<FieldError>,
    /// Seconds for `Retry-After` (429).
    pub retry_after: Option<u64>,
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.status)?;
        for e in &self.errors {
            write!(f, "; {}: {}", e.name, e.errors.join(", "))?;
        }
        Ok(())
    }
}

impl ApiError {
    pub fn new(status: StatusCode, name: &str, message: impl Into<String>) -> ApiError {
        ApiError::many(status, vec![FieldError::new(name, message)])
    }
    pub fn many(status: StatusCode, errors: Vec<FieldError>) -> ApiError {
        ApiError {
            status,
            errors,
            retry_after: None,
        }
    }
    /// 429: too many requests from this client address; try again in
    /// `retry_after` seconds.
    pub fn too_many_requests(message: impl Into<String>, retry_after: u64) -> ApiError {
        ApiError {
            retry_after: Some(retry_after),
            ..ApiError::new(StatusCode::TOO_MANY_REQUESTS, "rate_limit", message)
        }
    }
    pub fn bad_request(name: &str, message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, name, message)
    }
    pub fn unauthorized(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::UNAUTHORIZED, "authorization", message)
    }
    pub fn forbidden(name: &str, message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::FORBIDDEN, name, message)
    }
    pub fn not_found(name: &str, message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, name, message)
    }
    pub fn too_large(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "body", message)
    }
    pub fn internal(cause: impl std::fmt::Display) -> ApiError {
        tracing::error!(%cause, "peering API request failed");
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "server",
            "The request could not be completed; it has been logged.",
        )
    }
    pub fn unavailable(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "server", message)
    }
}

impl From<crate::db::DbError> for ApiError {
    fn from(e: crate::db::DbError) -> Self {
        ApiError::internal(e)
    }
}

impl From<diesel::result::Error> for ApiError {
    fn from(e: diesel::result::Error) -> Self {
        ApiError::internal(e)
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.status
    }
    fn error_response(&self) -> HttpResponse {
        let mut r = HttpResponse::build(self.status);
        if self.status == StatusCode::UNAUTHORIZED {
            r.insert_header((header::WWW_AUTHENTICATE, "Bearer realm=\"peering-api\""));
        }
        if let Some(secs) = self.retry_after {
            r.insert_header((header::RETRY_AFTER, secs.to_string()));
        }
        r.insert_header((header::CACHE_CONTROL, "no-store"))
            .json(serde_json::json!({ "errors": self.errors }))
    }
}
