//! Password sign-in and sign-out.
use super::super::ctx::Ctx;
use super::super::error::AppError;
use super::super::form::CsrfForm;
use super::super::pages::LoginPage;
use super::super::session;
use super::{already_signed_in, redirect, safe_next};
use crate::admin::sign_in;
use crate::auth::password;
use crate::db::login_throttle::{self, Attempt, Lock};
use crate::db::models::now;
use crate::db::{logins, users, write_tx};
use crate::domain::LoginMethod;
use crate::peeringdb::apply::process_expiry;
use crate::peeringdb::{MSG_UNCONFIRMED, msg_removed};
use crate::web::device;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
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

/// What the first, short read found: the account (if any), the attempt
/// as throttling counts it, and a lock-out in force.
struct Found {
    user: Option<crate::db::models::User>,
    attempt: Attempt,
    refusal: Option<Lock>,
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
    Disabled,
}

/// What a refused sign-in is told: nothing that says whether the account
/// exists (a username that matches none is counted and locked alike).
pub fn refusal_message(lock: Lock) -> String {
    let minutes = login_throttle::WINDOW_MINUTES;
    match lock {
        Lock::Address => format!(
            "Too many failed sign-in attempts from your address. Try again in {minutes} minutes."
        ),
        Lock::Account | Lock::Device => format!(
            "Too many failed sign-in attempts for this username. Try again in {minutes} minutes, or reset your password."
        ),
    }
}

/// Longer than any username (`domain::Username` allows 255 bytes).
const MAX_TYPED: usize = 256;

/// The username as a sign-in form gives it: trimmed, lower case, without
/// control characters (a NUL, say, which PostgreSQL refuses in text: such
/// input is a plain wrong username), and no longer than any username.
fn typed_username(raw: &str) -> String {
    raw.trim()
        .to_lowercase()
        .chars()
        .filter(|c| !c.is_control())
        .take(MAX_TYPED)
        .collect()
}

/// `POST /login`. The password check (Argon2, slow on purpose) runs with
/// no database connection held: a short read first, then the check, then
/// a short write (SPEC §8).
pub async fn login(
    ctx: Ctx,
    req: HttpRequest,
    CsrfForm(form): CsrfForm<LoginForm>,
) -> Result<HttpResponse, AppError> {
    if let Some(r) = already_signed_in(&ctx) {
        return Ok(r);
    }
    let username = typed_username(&form.username);
    let next = safe_next(form.next.as_deref());
    let (name, address, tokens) = (username.clone(), ctx.address.clone(), device::tokens(&req));
    let found = ctx
        .app
        .db
        .run(move |c| -> Result<Found, AppError> {
            let user = users::by_username(c, &name)?;
            let device = match &user {
                Some(u) => device::valid_for(c, u.id, &tokens)?,
                None => None,
            };
            let attempt = Attempt {
                username: name,
                address,
                device,
            };
            let refusal = login_throttle::refusal(c, &attempt, now())?;
            Ok(Found {
                user,
                attempt,
                refusal,
            })
        })
        .await?;
    if let Some(lock) = found.refusal {
        // Not the typed username: it may be a password typed in the wrong field.
        tracing::info!(?lock, address = %ctx.address, "password login refused: locked out");
        return render(
            StatusCode::TOO_MANY_REQUESTS,
            &login_page(&ctx, Some(refusal_message(lock)), username, next),
        );
    }
    // One Argon2 verification whether or not the account exists or has a
    // usable password (SPEC §8), off the async workers, no connection held.
    let pw = form.password;
    let stored = found.user.as_ref().map(|u| u.password_hash.clone());
    let matches = web::block(move || password::check(&pw, stored.as_deref()))
        .await
        .map_err(AppError::internal)?;
    let policy = crate::peeringdb::Policy {
        privilege: crate::domain::Privilege::CustUser,
        require_mfa: false,
        today: crate::db::models::today(),
        now: now(),
        max_link_age: ctx.app.config.links.max_age,
    };
    let outcome = ctx
        .app
        .db
        .run(move |c| -> Result<Outcome, AppError> {
            let Found { user, attempt, .. } = found;
            // Still the password just checked (not changed meanwhile)?
            let current = match &user {
                Some(u) if matches => {
                    users::find(c, u.id)?.filter(|now| now.password_hash == u.password_hash)
                }
                _ => None,
            };
            let Some(u) = current else {
                let account = user.as_ref().map(|u| u.username.as_str());
                let locks = sign_in::failed(c, account, &attempt, "wrong password")?;
                if !locks.is_empty() {
                    tracing::info!(?locks, "failed password logins: locked out");
                }
                return Ok(Outcome::Wrong);
            };
            if u.disabled {
                sign_in::failed(c, Some(&u.username), &attempt, "the account is disabled")?;
                return Ok(Outcome::Disabled);
            }
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
                sign_in::succeeded(c, &u.username, &attempt, "with a password")?;
                logins::complete(c, u.id, &attempt.address, LoginMethod::Password)?;
                Ok(())
            })?;
            Ok(Outcome::Ok {
                user_id: u.id,
                epoch: u.session_epoch,
                expired: expired.remove,
            })
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
            let mut r = redirect(&next);
            r.add_cookie(&device::remember(&ctx, &req, user_id).await?)
                .map_err(AppError::internal)?;
            return Ok(r);
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
