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

use actix_web::web;

pub fn configure(cfg: &mut web::ServiceConfig) {
    api::configure(cfg);
    staff::configure(cfg);
    cfg.route(
        "/staff/peering/sessions",
        web::get().to(staff_sessions::list),
    )
    .route(
        "/staff/peering/sessions/{id}/status",
        web::post().to(staff_sessions::set_status),
    )
    .route(
        "/staff/peering/sessions/{id}/delete",
        web::get().to(staff_sessions::delete_form),
    );
    cfg.route(
        "/api/v1/routeservers/{id}/sessions.json",
        web::get().to(routeserver_feed::route_server_sessions),
    );
    cfg.route("/participants.json", web::get().to(ixf::export))
        .route("/api/v1/member-export/ixf/1.0", web::get().to(ixf::export));
    cfg.route("/member/peering", web::get().to(member::page))
        .route("/member/api-keys", web::get().to(api_keys::member_list))
        .route("/member/api-keys", web::post().to(api_keys::member_create))
        .route(
            "/member/api-keys/{id}/revoke",
            web::get().to(api_keys::member_revoke_form),
        )
        .route(
            "/member/api-keys/{id}/revoke",
            web::post().to(api_keys::member_revoke),
        )
        .route("/staff/api-keys", web::get().to(api_keys::staff_list))
        .route("/staff/api-keys", web::post().to(api_keys::staff_create))
        .route(
            "/staff/api-keys/{id}/revoke",
            web::get().to(api_keys::staff_revoke_form),
        )
        .route(
            "/staff/api-keys/{id}/revoke",
            web::post().to(api_keys::staff_revoke),
        );
}
