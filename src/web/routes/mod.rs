//! Routes, grouped by area.
mod auth;
mod fields;
mod health;
mod home;
mod invitations;
mod member_remove;
mod member_users;
mod peering;
mod peeringdb;
mod reset;
mod sessions;
mod staff_audit;
mod staff_customers;
mod staff_user_edit;
mod staff_users;
mod two_factor;

use super::ctx::Ctx;
use super::error::AppError;
use actix_web::{HttpResponse, web};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/healthz", web::get().to(health::healthz))
        .route("/readyz", web::get().to(health::readyz))
        .route("/static/style.css", web::get().to(stylesheet))
        .route("/robots.txt", web::get().to(robots))
        .route("/", web::get().to(home::dashboard))
        .route("/profile", web::get().to(home::profile))
        .route("/switch", web::post().to(home::switch_customer))
        .route("/login", web::get().to(auth::login_form))
        .route("/login", web::post().to(auth::login))
        .route("/logout", web::get().to(home::logout_page))
        .route("/logout", web::post().to(auth::logout))
        .route("/login/2fa", web::get().to(two_factor::login_form))
        .route("/login/2fa", web::post().to(two_factor::login))
        .route("/profile/2fa", web::get().to(two_factor::page))
        .route("/profile/2fa/start", web::post().to(two_factor::start))
        .route("/profile/2fa/confirm", web::post().to(two_factor::confirm))
        .route("/profile/2fa/disable", web::post().to(two_factor::disable))
        .route(
            "/profile/password",
            web::post().to(sessions::change_password),
        )
        .route(
            "/profile/sessions/end-others",
            web::get().to(sessions::end_others_form),
        )
        .route(
            "/profile/sessions/end-others",
            web::post().to(sessions::end_others),
        )
        .route(
            "/profile/sessions/{id}/end",
            web::get().to(sessions::end_one_form),
        )
        .route(
            "/profile/sessions/{id}/end",
            web::post().to(sessions::end_one),
        )
        .route("/auth/login/peeringdb", web::get().to(peeringdb::start))
        .route(
            "/auth/login/peeringdb/callback",
            web::get().to(peeringdb::callback),
        )
        .route("/password/forgot", web::get().to(reset::forgot_form))
        .route("/password/forgot", web::post().to(reset::forgot))
        .route("/password/reset/{token}", web::get().to(reset::reset_form))
        .route("/password/reset/{token}", web::post().to(reset::reset))
        .route("/invitations/{token}", web::get().to(invitations::open))
        .route("/invitations/{token}", web::post().to(invitations::accept));
    staff(cfg);
    member(cfg);
    peering::configure(cfg);
}

/// IXP staff pages (each handler checks for a superuser).
fn staff(cfg: &mut web::ServiceConfig) {
    use staff_customers as sc;
    use staff_user_edit as se;
    use staff_users as su;
    cfg.route("/staff/customers", web::get().to(sc::list))
        .route("/staff/customers.csv", web::get().to(sc::export))
        .route("/staff/customers/new", web::get().to(sc::new_form))
        .route("/staff/customers/new", web::post().to(sc::create))
        .route("/staff/customers/{id}", web::get().to(sc::view))
        .route("/staff/customers/{id}/edit", web::get().to(sc::edit_form))
        .route("/staff/customers/{id}/edit", web::post().to(sc::update))
        .route(
            "/staff/customers/{id}/delete",
            web::get().to(sc::delete_form),
        )
        .route("/staff/customers/{id}/delete", web::post().to(sc::delete))
        .route(
            "/staff/customers/{id}/blocks/{peeringdb_id}/lift",
            web::post().to(sc::lift_block),
        )
        .route("/staff/users", web::get().to(su::list))
        .route("/staff/users.csv", web::get().to(su::export))
        .route("/staff/users/new", web::get().to(su::new_form))
        .route("/staff/users/new", web::post().to(su::create))
        .route("/staff/users/{id}", web::get().to(su::view))
        .route("/staff/users/{id}/edit", web::get().to(se::edit_form))
        .route("/staff/users/{id}/edit", web::post().to(se::update))
        .route("/staff/users/{id}/delete", web::get().to(se::delete_form))
        .route("/staff/users/{id}/delete", web::post().to(se::delete))
        .route("/staff/users/{id}/links", web::post().to(se::add_link))
        .route(
            "/staff/users/{id}/links/{aid}/privilege",
            web::post().to(se::set_privilege),
        )
        .route(
            "/staff/users/{id}/links/{aid}/remove",
            web::get().to(se::remove_link_form),
        )
        .route(
            "/staff/users/{id}/links/{aid}/remove",
            web::post().to(se::remove_link),
        )
        .route(
            "/staff/users/{id}/blocks/{customer}/lift",
            web::post().to(se::lift_block),
        )
        .route(
            "/staff/users/{id}/sessions/end",
            web::get().to(se::end_sessions_form),
        )
        .route(
            "/staff/users/{id}/sessions/end",
            web::post().to(sessions::staff_end),
        )
        .route(
            "/staff/users/{id}/2fa/reset",
            web::get().to(se::reset_two_factor_form),
        )
        .route(
            "/staff/users/{id}/2fa/reset",
            web::post().to(sessions::staff_reset_two_factor),
        )
        .route("/staff/audit", web::get().to(staff_audit::list));
}

/// A member's admin: the users of the current customer.
fn member(cfg: &mut web::ServiceConfig) {
    cfg.route("/member/users", web::get().to(member_users::list))
        .route(
            "/member/users/blocks/{peeringdb_id}/lift",
            web::post().to(member_users::lift_block),
        )
        .route("/member/users", web::post().to(member_users::add))
        .route(
            "/member/users/{aid}/privilege",
            web::post().to(member_users::set_privilege),
        )
        .route(
            "/member/users/{aid}/remove",
            web::get().to(member_remove::confirm),
        )
        .route(
            "/member/users/{aid}/remove",
            web::post().to(member_users::remove),
        )
        .route(
            "/member/invitations/{id}/revoke",
            web::get().to(invitations::revoke_confirm),
        )
        .route(
            "/member/invitations/{id}/revoke",
            web::post().to(invitations::revoke),
        );
}

async fn stylesheet() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/css; charset=utf-8")
        .insert_header(("Cache-Control", "public, max-age=3600"))
        .body(include_str!("../../../static/style.css"))
}

/// The portal is not for search engines (and this is the benchmark's
/// minimal static response).
async fn robots() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/plain; charset=utf-8")
        .body("User-agent: *\nDisallow: /\n")
}

pub async fn not_found() -> Result<HttpResponse, AppError> {
    Err(AppError::NotFound)
}

/// A numeric id from a URL; anything else is "not found".
pub fn parse_id(s: &str) -> Result<i64, AppError> {
    s.trim()
        .parse::<i64>()
        .ok()
        .filter(|id| *id > 0)
        .ok_or(AppError::NotFound)
}

/// See other: where a handler sends the browser after a POST.
pub fn redirect(to: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((actix_web::http::header::LOCATION, to.to_string()))
        .finish()
}

/// A `next` target that stays inside the portal: a path starting with one
/// `/`, without a scheme, host or backslash tricks.
pub fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n)
            if n.starts_with('/')
                && !n.starts_with("//")
                && !n.contains('\\')
                && !n.chars().any(char::is_control) =>
        {
            n.to_string()
        }
        _ => "/".to_string(),
    }
}

/// The user signed in already: home, with a notice.
pub fn already_signed_in(ctx: &Ctx) -> Option<HttpResponse> {
    ctx.viewer.as_ref().map(|_| {
        ctx.flash("info", "You are already signed in.");
        redirect("/")
    })
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn next_stays_inside() {
        assert_eq!(
            safe_next(Some("/staff/users?page=2")),
            "/staff/users?page=2"
        );
        for bad in [
            "//evil.example",
            "https://evil.example",
            "/\\evil",
            "evil",
            "",
            "/\nx",
        ] {
            assert_eq!(safe_next(Some(bad)), "/", "{bad:?}");
        }
        assert_eq!(safe_next(None), "/");
    }
}
