//! Password sign-in and sign-out.
use super::super::ctx::Ctx;
use super::super::error::AppError;
use super::super::form::CsrfForm;
use super::super::pages::LoginPage;
use super::super::session;
use super::{already_signed_in, redirect, safe_next};
use crate::auth::password;
use crate::db::{logins, users, write_tx};
use crate::domain::LoginMethod;
use crate::peeringdb::apply::process_expiry;
use crate::peeringdb::{MSG_UNCONFIRMED, msg_removed};
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;

#[derive(serde::Deserialize)]
pub struct LoginQuery {
    next: Option<String>,
}

/// Renders a template with a status other than 200.
pub fn render(status: StatusCode, page: &impl Template) -> Result<HttpResponse, AppError> {
    let body = page.render().map_err(AppError::internal)?;
    Ok(HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .body(body))
}

pub fn login_page(ctx: &Ctx, error: Option<String>, username: String, next: String) -> LoginPage {
    LoginPage {
        chrome: ctx.chrome(),
        error,
        username,
        next,
        peeringdb: ctx.app.peeringdb_enabled(),
    }
}

pub async fn login_form(ctx: Ctx, q: web::Query<LoginQuery>) -> Result<HttpResponse, AppError> {
    if let Some(r) = already_signed_in(&ctx) {
        return Ok(r);
    }
    let next = safe_next(q.next.as_deref());
    render(StatusCode::OK, &login_page(&ctx, None, String::new(), next))
}

#[derive(serde::Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
    next: Option<String>,
}

enum Outcome {
    Ok {
        user_id: i64,
        epoch: i32,
        /// PeeringDB-made links removed for want of confirmation (§6.4).
        expired: Vec<crate::peeringdb::reconcile::RemoveLink>,
    },
    /// Every link was unconfirmed for too long; the user was deleted.
    Expired,
    /// The password is right; the second factor comes next.
    SecondFactor {
        user_id: i64,
        expired: Vec<crate::peeringdb::reconcile::RemoveLink>,
    },
    Wrong,
    Throttled,
    Disabled,
}

pub async fn login(
    ctx: Ctx,
    CsrfForm(form): CsrfForm<LoginForm>,
) -> Result<HttpResponse, AppError> {
    if let Some(r) = already_signed_in(&ctx) {
        return Ok(r);
    }
    // Control characters (a NUL, say) are in no username and PostgreSQL
    // refuses them in text: such input is a plain wrong username.
    let username: String = form
        .username
        .trim()
        .to_lowercase()
        .chars()
        .filter(|c| !c.is_control())
        .collect();
    let next = safe_next(form.next.as_deref());
    let address = ctx.address.clone();
    let (name, pw) = (username.clone(), form.password);
    let policy = crate::peeringdb::Policy {
        privilege: crate::domain::Privilege::CustUser,
        require_mfa: false,
        today: crate::db::models::today(),
        now: crate::db::models::now(),
        max_link_age: ctx.app.config.links.max_age,
    };
    let outcome = ctx
        .app
        .db
        .run(move |c| -> Result<Outcome, AppError> {
            if logins::is_throttled(c, &name, &address)? {
                return Ok(Outcome::Throttled);
            }
            let user = users::by_username(c, &name)?;
            let matches = match &user {
                Some(u) => password::verify(&pw, &u.password_hash),
                None => {
                    password::dummy_verify(&pw);
                    false
                }
            };
            match user {
                Some(u) if matches && u.disabled => Ok(Outcome::Disabled),
                Some(u) if matches => {
                    // SPEC §6.4: a password never confirms a PeeringDB-made
                    // link, and one unconfirmed for too long goes now.
                    let expired = process_expiry(c, u.id, &policy)?;
                    if expired.delete_user.is_some() {
                        return Ok(Outcome::Expired);
                    }
                    if crate::db::two_factor::is_enabled(c, u.id)? {
                        return Ok(Outcome::SecondFactor {
                            user_id: u.id,
                            expired: expired.remove,
                        });
                    }
                    write_tx(c, |c| -> Result<(), AppError> {
                        logins::clear_failures(c, &name, &address)?;
                        logins::complete(c, u.id, &address, LoginMethod::Password)?;
                        Ok(())
                    })?;
                    Ok(Outcome::Ok {
                        user_id: u.id,
                        epoch: u.session_epoch,
                        expired: expired.remove,
                    })
                }
                _ => {
                    logins::record_failure(c, &name, &address)?;
                    Ok(Outcome::Wrong)
                }
            }
        })
        .await?;
    let (status, message) = match outcome {
        Outcome::Ok {
            user_id,
            epoch,
            expired,
        } => {
            tracing::info!(%username, "signed in with a password");
            session::sign_in(
                &ctx.session,
                &session::SignIn {
                    user_id,
                    epoch,
                    address: &ctx.address,
                    user_agent: &ctx.user_agent,
                    two_factor: false,
                },
            )?;
            for r in &expired {
                ctx.flash("warning", msg_removed(&r.customer_name, r.cause));
            }
            return Ok(redirect(&next));
        }
        Outcome::SecondFactor { user_id, expired } => {
            for r in &expired {
                ctx.flash("warning", msg_removed(&r.customer_name, r.cause));
            }
            return super::two_factor::ask_for_code(
                &ctx,
                &session::Pending {
                    user_id,
                    username: username.clone(),
                    since: chrono::Utc::now().timestamp(),
                    wrong: 0,
                    next,
                    peeringdb: false,
                },
            );
        }
        Outcome::Expired => {
            tracing::info!(%username, "password login refused: the user's PeeringDB-made links expired");
            (StatusCode::FORBIDDEN, MSG_UNCONFIRMED.to_string())
        }
        Outcome::Wrong => (
            StatusCode::UNAUTHORIZED,
            "Wrong username or password.".to_string(),
        ),
        Outcome::Throttled => (
            StatusCode::TOO_MANY_REQUESTS,
            format!(
                "Too many failed sign-in attempts for this username from your address. Try again in {} minutes, or reset your password.",
                logins::WINDOW_MINUTES
            ),
        ),
        Outcome::Disabled => (
            StatusCode::FORBIDDEN,
            "This account is disabled. Contact the IXP's support team.".to_string(),
        ),
    };
    render(status, &login_page(&ctx, Some(message), username, next))
}

#[derive(serde::Deserialize)]
pub struct Empty {}

pub async fn logout(ctx: Ctx, _: CsrfForm<Empty>) -> HttpResponse {
    session::sign_out(&ctx.session);
    session::flash(&ctx.session, "info", "You have signed out.");
    redirect("/login")
}
