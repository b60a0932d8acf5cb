//! The peering LAN data (staff pages), the IX-F member export and the
//! Automated Peering API.
mod api;
mod api_auth;
mod api_input;
mod api_keys;
mod ixf;
mod member;
mod routeserver_feed;
mod staff;
mod staff_sessions;

use crate::peeringapi::ApiError;
use crate::web::guard::Scope::*;
use crate::web::routes::table::{RouteDef, delete, get, post};
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};

pub(crate) use api_input::authenticate;

/// Where the Automated Peering API lives.
pub const API_PREFIX: &str = "/api/peering/v1";

/// The routes of this area, for `routes::table`.
pub fn routes(t: &mut Vec<RouteDef>) {
    t.extend([
        // The Peering API: discovery and `/auth` are open; the rest need
        // an API key or a bearer token, checked by the guard.
        get("/api/peering/v1/openapi.json", ApiOpen, api::openapi),
        post("/api/peering/v1/auth", ApiOpen, api_auth::auth),
        get("/api/peering/v1/auth", ApiOpen, api_auth::auth_get),
        get("/api/peering/v1/auth/start", ApiOpen, api_auth::auth_start),
        get("/api/peering/v1/locations", ApiKey, api::locations),
        post("/api/peering/v1/sessions", ApiKey, api::create_sessions),
        get("/api/peering/v1/sessions", ApiKey, api::list_sessions),
        delete("/api/peering/v1/sessions", ApiKey, api::delete_sessions),
        get(
            "/api/peering/v1/sessions/{session_id}",
            ApiKey,
            api::get_session,
        ),
        delete(
            "/api/peering/v1/sessions/{session_id}",
            ApiKey,
            api::delete_session,
        ),
    ]);
    staff::routes(t);
    t.extend([
        get("/staff/peering/sessions", Staff, staff_sessions::list),
        post(
            "/staff/peering/sessions/{id}/status",
            Staff,
            staff_sessions::set_status,
        ),
        get(
            "/staff/peering/sessions/{id}/delete",
            Staff,
            staff_sessions::delete_form,
        ),
        get(
            "/api/v1/routeservers/{id}/sessions.json",
            ApiKey,
            routeserver_feed::route_server_sessions,
        ),
        // Open, or with a staff key that also shows contact emails.
        get("/participants.json", ApiOpen, ixf::export),
        get("/api/v1/member-export/ixf/1.0", ApiOpen, ixf::export),
        get("/member/peering", SignedIn, member::page),
        get("/member/api-keys", CustAdmin, api_keys::member_list),
        post("/member/api-keys", CustAdmin, api_keys::member_create),
        get(
            "/member/api-keys/{id}/revoke",
            CustAdmin,
            api_keys::member_revoke_form,
        ),
        post(
            "/member/api-keys/{id}/revoke",
            CustAdmin,
            api_keys::member_revoke,
        ),
        get("/staff/api-keys", Staff, api_keys::staff_list),
        post("/staff/api-keys", Staff, api_keys::staff_create),
        get(
            "/staff/api-keys/{id}/revoke",
            Staff,
            api_keys::staff_revoke_form,
        ),
        post("/staff/api-keys/{id}/revoke", Staff, api_keys::staff_revoke),
    ]);
}

/// Any other path under the Peering API: a JSON 404 (after the table).
pub fn api_fallback(cfg: &mut web::ServiceConfig) {
    cfg.service(web::scope(API_PREFIX).default_service(web::to(|| async {
        Err::<HttpResponse, _>(ApiError::not_found("path", "no such Peering API endpoint"))
    })));
}

/// A Peering API path asked with a method it does not serve.
pub async fn method_not_allowed() -> Result<HttpResponse, ApiError> {
    Err(ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method",
        "this endpoint does not support this method",
    ))
}
