//! Routes, grouped by area.
mod auth;
mod fields;
mod health;
mod home;
mod invitations;
mod member_remove;
mod member_users;
pub(crate) mod peering;
mod peeringdb;
mod reset;
mod sessions;
mod staff_audit;
mod staff_customers;
mod staff_user_edit;
pub mod staff_users;
pub mod table;
mod two_factor;

use super::ctx::Ctx;
use super::error::AppError;
use super::guard::Scope;
use actix_web::{HttpResponse, web};
pub(crate) use peering::authenticate as api_caller;
pub use table::RouteDef;
use table::{get, post};

/// Registers every route of the table, each behind its scope's guard.
pub fn configure(cfg: &mut web::ServiceConfig) {
    table::register(cfg, table());
    peering::api_fallback(cfg);
}

/// Every route of the portal, with the scope that guards it.
pub fn table() -> Vec<RouteDef> {
    use Scope::*;
    let mut t = vec![
        get("/healthz", Public, health::healthz),
        get("/readyz", Public, health::readyz),
        get(
            "/metrics",
            Public,
            crate::observability::metrics::scrape_main,
        ),
        get("/static/style.css", Public, stylesheet),
        get("/robots.txt", Public, robots),
        get("/", SignedIn, home::dashboard),
        get("/profile", SignedIn, home::profile),
        post("/switch", SignedIn, home::switch_customer),
        get("/login", Public, auth::login_form),
        post("/login", Public, auth::login),
        get("/logout", Public, home::logout_page),
        post("/logout", Public, auth::logout),
        get("/login/2fa", Public, two_factor::login_form),
        post("/login/2fa", Public, two_factor::login),
        get("/profile/2fa", SignedIn, two_factor::page),
        post("/profile/2fa/start", SignedIn, two_factor::start),
        post("/profile/2fa/confirm", SignedIn, two_factor::confirm),
        post("/profile/2fa/disable", SignedIn, two_factor::disable),
        post("/profile/password", SignedIn, sessions::change_password),
        get(
            "/profile/sessions/end-others",
            SignedIn,
            sessions::end_others_form,
        ),
        post(
            "/profile/sessions/end-others",
            SignedIn,
            sessions::end_others,
        ),
        get(
            "/profile/sessions/{id}/end",
            SignedIn,
            sessions::end_one_form,
        ),
        post("/profile/sessions/{id}/end", SignedIn, sessions::end_one),
        get("/auth/login/peeringdb", Public, peeringdb::start),
        get(
            "/auth/login/peeringdb/callback",
            Public,
            peeringdb::callback,
        ),
        get("/password/forgot", Public, reset::forgot_form),
        post("/password/forgot", Public, reset::forgot),
        get("/password/reset/{token}", Public, reset::reset_form),
        post("/password/reset/{token}", Public, reset::reset),
        // Public: an invitation to make an account is opened signed out;
        // one to an existing account asks its owner to sign in first.
        get("/invitations/{token}", Public, invitations::open),
        post("/invitations/{token}", Public, invitations::accept),
    ];
    staff(&mut t);
    member(&mut t);
    peering::routes(&mut t);
    t
}

/// IXP staff pages.
fn staff(t: &mut Vec<RouteDef>) {
    use Scope::Staff;
    use staff_customers as sc;
    use staff_user_edit as se;
    use staff_users as su;
    t.extend([
        get("/staff/customers", Staff, sc::list),
        get("/staff/customers.csv", Staff, sc::export),
        get("/staff/customers/new", Staff, sc::new_form),
        post("/staff/customers/new", Staff, sc::create),
        get("/staff/customers/{id}", Staff, sc::view),
        get("/staff/customers/{id}/edit", Staff, sc::edit_form),
        post("/staff/customers/{id}/edit", Staff, sc::update),
        get("/staff/customers/{id}/delete", Staff, sc::delete_form),
        post("/staff/customers/{id}/delete", Staff, sc::delete),
        post(
            "/staff/customers/{id}/blocks/{peeringdb_id}/lift",
            Staff,
            sc::lift_block,
        ),
        get("/staff/users", Staff, su::list),
        get("/staff/users.csv", Staff, su::export),
        get("/staff/users/new", Staff, su::new_form),
        post("/staff/users/new", Staff, su::create),
        get("/staff/users/{id}", Staff, su::view),
        get("/staff/users/{id}/edit", Staff, se::edit_form),
        post("/staff/users/{id}/edit", Staff, se::update),
        get("/staff/users/{id}/delete", Staff, se::delete_form),
        post("/staff/users/{id}/delete", Staff, se::delete),
        post("/staff/users/{id}/links", Staff, se::add_link),
        post(
            "/staff/users/{id}/links/{aid}/privilege",
            Staff,
            se::set_privilege,
        ),
        get(
            "/staff/users/{id}/links/{aid}/remove",
            Staff,
            se::remove_link_form,
        ),
        post(
            "/staff/users/{id}/links/{aid}/remove",
            Staff,
            se::remove_link,
        ),
        post(
            "/staff/users/{id}/blocks/{customer}/lift",
            Staff,
            se::lift_block,
        ),
        get(
            "/staff/users/{id}/sessions/end",
            Staff,
            se::end_sessions_form,
        ),
        post("/staff/users/{id}/sessions/end", Staff, sessions::staff_end),
        get(
            "/staff/users/{id}/2fa/reset",
            Staff,
            se::reset_two_factor_form,
        ),
        post(
            "/staff/users/{id}/2fa/reset",
            Staff,
            sessions::staff_reset_two_factor,
        ),
        get("/staff/audit", Staff, staff_audit::list),
    ]);
}

/// A member's admin: the users of the current customer.
fn member(t: &mut Vec<RouteDef>) {
    use Scope::CustAdmin;
    t.extend([
        get("/member/users", CustAdmin, member_users::list),
        post(
            "/member/users/blocks/{peeringdb_id}/lift",
            CustAdmin,
            member_users::lift_block,
        ),
        post("/member/users", CustAdmin, member_users::add),
        post(
            "/member/users/{aid}/privilege",
            CustAdmin,
            member_users::set_privilege,
        ),
        get(
            "/member/users/{aid}/remove",
            CustAdmin,
            member_remove::confirm,
        ),
        post(
            "/member/users/{aid}/remove",
            CustAdmin,
            member_users::remove,
        ),
        get(
            "/member/invitations/{id}/revoke",
            CustAdmin,
            invitations::revoke_confirm,
        ),
        post(
            "/member/invitations/{id}/revoke",
            CustAdmin,
            invitations::revoke,
        ),
    ]);
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
