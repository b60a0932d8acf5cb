//! The guards of SPEC §3: who may call a route is decided where the routes
//! are assembled (`routes::table`), not repeated in each handler.
//!
//! Every route belongs to a [`Scope`]. Its guard runs before the handler:
//! it checks the CSRF token of every state-changing request outside the
//! API, then the role the scope needs, and leaves a typed value in the
//! request ([`Authenticated`], [`CustAdmin`], [`Staff`], [`ApiCaller`],
//! [`CsrfChecked`]). Those types are made only here: a handler that takes
//! one on a route whose guard did not run answers 500 instead of serving.
use super::App;
use super::ctx::{self, Viewer};
use super::error::AppError;
use super::session;
use crate::db::api_tokens::ApiToken;
use crate::db::models::Customer;
use actix_session::SessionExt;
use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::{Method, header};
use actix_web::middleware::Next;
use actix_web::{FromRequest, HttpMessage, HttpRequest, web};
use futures_util::StreamExt;
use std::future::{Ready, ready};

/// Who may call a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Anyone: the login and reset pages, health, static files.
    Public,
    /// Any signed-in user: the dashboard, their profile and sessions.
    SignedIn,
    /// The admin of the current customer (or staff acting in one).
    CustAdmin,
    /// IXP staff (superusers).
    Staff,
    /// A JSON API open to anyone (discovery, the Peering API's `/auth`,
    /// the IX-F export): no session, so no CSRF.
    ApiOpen,
    /// A JSON API that needs an API key or bearer token.
    ApiKey,
}

impl Scope {
    /// The API authenticates every request by key or token, never by the
    /// session cookie, so a forged cross-site request carries nothing.
    pub fn is_api(self) -> bool {
        matches!(self, Scope::ApiOpen | Scope::ApiKey)
    }
}

/// The CSRF check passed for this request (or it needs none: a safe method).
#[derive(Debug, Clone, Copy)]
pub struct CsrfChecked;

/// A signed-in user (the guard of [`Scope::SignedIn`] and above).
#[derive(Debug, Clone)]
pub struct Authenticated(pub Viewer);

/// IXP staff.
#[derive(Debug, Clone)]
pub struct Staff(pub Viewer);

/// The admin of the current customer, or staff acting in one.
#[derive(Debug, Clone)]
pub struct CustAdmin {
    pub viewer: Viewer,
    pub customer: Customer,
}

/// The API key or bearer token of an API request.
#[derive(Debug, Clone)]
pub struct ApiCaller(pub ApiToken);

/// What a handler takes from its guard; absent means the route was
/// registered without the guard: fail closed.
fn from_guard<T: Clone + 'static>(req: &HttpRequest) -> Result<T, AppError> {
    req.extensions().get::<T>().cloned().ok_or_else(|| {
        AppError::internal(format!(
            "route {} has no guard for {}",
            super::redact_path(req.path()),
            std::any::type_name::<T>()
        ))
    })
}

macro_rules! guarded_extractor {
    ($($t:ty),+) => {$(
        impl FromRequest for $t {
            type Error = AppError;
            type Future = Ready<Result<Self, AppError>>;
            fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
                ready(from_guard::<$t>(req))
            }
        }
    )+};
}
guarded_extractor!(CsrfChecked, Authenticated, Staff, CustAdmin);

impl FromRequest for ApiCaller {
    type Error = crate::peeringapi::ApiError;
    type Future = Ready<Result<Self, Self::Error>>;
    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(from_guard::<ApiCaller>(req).map_err(crate::peeringapi::ApiError::internal))
    }
}

/// Wraps a route of `scope` in its guard.
pub fn middleware<B: MessageBody + 'static>(
    scope: Scope,
) -> impl Fn(
    ServiceRequest,
    Next<B>,
) -> futures_util::future::LocalBoxFuture<
    'static,
    Result<ServiceResponse<BoxBody>, actix_web::Error>,
> + Clone {
    move |req, next| Box::pin(run(scope, req, next))
}

/// The guard: CSRF first (as the form extractor did), then the role.
async fn run<B: MessageBody + 'static>(
    scope: Scope,
    mut req: ServiceRequest,
    next: Next<B>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    if !scope.is_api() {
        if let Err(e) = check_csrf(&mut req).await {
            return Ok(req.error_response(e));
        }
        req.extensions_mut().insert(CsrfChecked);
    }
    match scope {
        Scope::Public | Scope::ApiOpen => {}
        Scope::ApiKey => {
            let app = app_of(req.request())?;
            match crate::web::routes::api_caller(req.request(), &app).await {
                Ok(t) => {
                    req.extensions_mut().insert(ApiCaller(t));
                }
                Err(e) => return Ok(req.error_response(e)),
            }
        }
        Scope::SignedIn | Scope::CustAdmin | Scope::Staff => {
            if let Err(e) = check_role(scope, &req).await {
                return Ok(req.error_response(e));
            }
        }
    }
    Ok(next.call(req).await?.map_into_boxed_body())
}

fn app_of(req: &HttpRequest) -> Result<web::Data<App>, AppError> {
    req.app_data::<web::Data<App>>()
        .cloned()
        .ok_or_else(|| AppError::internal("application state missing"))
}

/// The role of `scope`: a signed-in viewer (else the login page, and back),
/// who has enrolled a second factor where `AUTH_2FA_ENFORCE` says so, and
/// who is staff or the current customer's admin where the scope says so.
async fn check_role(scope: Scope, req: &ServiceRequest) -> Result<(), AppError> {
    let http = req.request();
    let app = app_of(http)?;
    let Some(viewer) = ctx::viewer(http, &app).await? else {
        return Err(AppError::Login {
            next: ctx::here(http),
        });
    };
    ctx::enforce_enrolment(&app, &viewer, http.path())?;
    match scope {
        Scope::Staff if viewer.is_superuser() => {
            req.extensions_mut().insert(Staff(viewer.clone()));
        }
        Scope::CustAdmin => match viewer.current_customer() {
            Some(c) if viewer.is_custadmin() || viewer.is_superuser() => {
                let customer = c.clone();
                req.extensions_mut().insert(CustAdmin {
                    viewer: viewer.clone(),
                    customer,
                });
            }
            _ => return Err(AppError::Forbidden),
        },
        Scope::SignedIn => {}
        _ => return Err(AppError::Forbidden),
    }
    req.extensions_mut().insert(Authenticated(viewer));
    Ok(())
}

/// Is this a request that changes state?
fn changes_state(method: &Method) -> bool {
    !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

#[derive(serde::Deserialize)]
struct CsrfField {
    #[serde(default)]
    csrf: String,
}

/// A state-changing request must carry the session's CSRF token in its
/// form field `csrf`, and its Origin (when the browser sent one) must be
/// this portal. The body is read here (within the form limit) and put
/// back for the handler.
async fn check_csrf(req: &mut ServiceRequest) -> Result<(), AppError> {
    if !changes_state(req.method()) {
        return Ok(());
    }
    let mut payload = req.take_payload();
    let mut body = web::BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk =
            chunk.map_err(|_| AppError::BadRequest("The form could not be read.".into()))?;
        if body.len() + chunk.len() > super::form::MAX_FORM_BYTES {
            return Err(AppError::TooLarge);
        }
        body.extend_from_slice(&chunk);
    }
    let body = body.freeze();
    req.set_payload(Payload::from(body.clone()));
    let app_url = app_of(req.request())?.config.app_url.clone();
    let token: CsrfField = serde_urlencoded::from_bytes(&body)
        .map_err(|_| AppError::BadRequest("The form could not be read.".into()))?;
    if !session::csrf_matches(&req.get_session(), &token.csrf)
        || !same_origin(req.request(), &app_url)
    {
        // The path may carry a secret (a password-reset token).
        tracing::warn!(path = %super::redact_path(req.path()), "form refused by the CSRF check");
        return Err(AppError::Csrf);
    }
    Ok(())
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

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test as atest;
    use actix_web::{App as ActixApp, HttpResponse};

    async fn staff_only(_: Staff) -> HttpResponse {
        HttpResponse::Ok().finish()
    }
    async fn form_only(_: CsrfChecked) -> HttpResponse {
        HttpResponse::Ok().finish()
    }

    /// A handler that takes a guard's value on a route registered without
    /// that guard fails closed.
    #[actix_web::test]
    async fn extractors_fail_closed_without_their_guard() {
        let app = atest::init_service(
            ActixApp::new()
                .route("/staff", web::get().to(staff_only))
                .route("/form", web::post().to(form_only)),
        )
        .await;
        for req in [
            atest::TestRequest::get().uri("/staff").to_request(),
            atest::TestRequest::post().uri("/form").to_request(),
        ] {
            let res = atest::call_service(&app, req).await;
            assert_eq!(res.status(), 500);
        }
    }

    #[test]
    fn only_safe_methods_skip_the_csrf_check() {
        for m in [Method::POST, Method::PUT, Method::PATCH, Method::DELETE] {
            assert!(changes_state(&m), "{m}");
        }
        for m in [Method::GET, Method::HEAD, Method::OPTIONS] {
            assert!(!changes_state(&m), "{m}");
        }
    }
}
