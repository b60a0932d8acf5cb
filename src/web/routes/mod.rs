//! Routes, grouped by area.
mod auth;
mod health;
mod home;
mod peeringdb;
mod reset;

use super::ctx::Ctx;
use super::error::AppError;
use actix_web::{HttpResponse, web};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/healthz", web::get().to(health::healthz))
        .route("/static/style.css", web::get().to(stylesheet))
        .route("/", web::get().to(home::dashboard))
        .route("/profile", web::get().to(home::profile))
        .route("/switch", web::post().to(home::switch_customer))
        .route("/login", web::get().to(auth::login_form))
        .route("/login", web::post().to(auth::login))
        .route("/logout", web::post().to(auth::logout))
        .route("/auth/login/peeringdb", web::get().to(peeringdb::start))
        .route(
            "/auth/login/peeringdb/callback",
            web::get().to(peeringdb::callback),
        )
        .route("/password/forgot", web::get().to(reset::forgot_form))
        .route("/password/forgot", web::post().to(reset::forgot))
        .route("/password/reset/{token}", web::get().to(reset::reset_form))
        .route("/password/reset/{token}", web::post().to(reset::reset));
}

async fn stylesheet() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/css; charset=utf-8")
        .insert_header(("Cache-Control", "public, max-age=3600"))
        .body(include_str!("../../../static/style.css"))
}

pub async fn not_found() -> Result<HttpResponse, AppError> {
    Err(AppError::NotFound)
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
