//! "Forgot your password?": a single-use link, valid for 1 hour, by mail.
use super::super::App;
use super::super::ctx::Ctx;
use super::super::error::AppError;
use super::super::form::CsrfForm;
use super::super::pages::{ForgotPage, ResetPage};
use super::auth::render;
use super::redirect;
use crate::admin::mail_limits as limits;
use crate::auth::{password, token};
use crate::db::{DbConnection, audit, models::User, resets, users, write_tx};
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};

pub async fn forgot_form(ctx: Ctx) -> Result<HttpResponse, AppError> {
    render(
        StatusCode::OK,
        &ForgotPage {
            chrome: ctx.chrome(),
        },
    )
}

#[derive(serde::Deserialize)]
pub struct ForgotForm {
    #[serde(default)]
    who: String,
}

const SAME_ANSWER: &str = "If an account matches, we have sent a link to set a new password to its email address. The link works once, within 1 hour.";

pub async fn forgot(
    ctx: Ctx,
    CsrfForm(form): CsrfForm<ForgotForm>,
) -> Result<HttpResponse, AppError> {
    let who = form.who.trim().to_string();
    if who.is_empty() || who.len() > 255 {
        ctx.flash("error", "Give your username or email address.");
        return Ok(redirect("/password/forgot"));
    }
    let app = ctx.app.clone();
    let address = ctx.address.clone();
    // The answer is the same whether or not an account matched, and
    // whether or not a limit held the mail back; the work stays in the log.
    let result = ctx
        .app
        .db
        .run(move |c| {
            write_tx(c, |c| -> Result<(), AppError> {
                let now = crate::db::models::now();
                if !limits::allow_address(c, limits::FORGOT, &address, now)? {
                    tracing::warn!(address = %crate::web::log_safe(&address), "password reset requests over the hourly limit of this address");
                    return Ok(());
                }
                let mut targets: Vec<User> = users::by_username(c, &who.to_lowercase())?
                    .into_iter()
                    .collect();
                if targets.is_empty() && who.contains('@') {
                    targets = users::by_email(c, &who)?;
                }
                for user in targets.into_iter().filter(|u| !u.disabled) {
                    if !limits::allow_account(c, limits::FORGOT, user.id, now)? {
                        tracing::warn!(user = %user.username, "password reset requests over the hourly limit of this account");
                        continue;
                    }
                    let actor = user.username.clone();
                    send_password_link(&app, c, &user, &actor, LinkPurpose::Forgot)?;
                }
                Ok(())
            })
        })
        .await;
    if let Err(e) = result {
        tracing::error!(error = %e, "password reset request failed");
    }
    ctx.flash("info", SAME_ANSWER);
    Ok(redirect("/login"))
}

/// Why a password link is sent.
pub enum LinkPurpose {
    /// The user asked for it ("Forgot your password?").
    Forgot,
    /// Someone made an account for the user, who has no password yet.
    Welcome {
        by: String,
        customer: Option<String>,
    },
}

/// Makes a single-use password link for the user (valid for 1 hour),
/// records it in the audit log and queues its mail. Blocking: call it from
/// `db.run`, inside the caller's transaction where there is one.
pub fn send_password_link(
    app: &App,
    c: &mut DbConnection,
    user: &User,
    actor: &str,
    purpose: LinkPurpose,
) -> Result<(), AppError> {
    let secret = token::random_token();
    resets::create(c, user.id, &token::digest(&secret))?;
    let link = app.config.url_for(&format!("/password/reset/{secret}"));
    let (subject, body, details) = match purpose {
        LinkPurpose::Forgot => (
            "Set your IXP portal password",
            format!(
                "Hello {},\n\nsomeone (probably you) asked to set a new password for the IXP portal account \"{}\".\n\nOpen this link within 1 hour to choose one; it works once:\n\n{link}\n\nIf you did not ask for this, ignore this message: your password stays as it is.\n",
                user.name, user.username
            ),
            "reset link sent".to_string(),
        ),
        LinkPurpose::Welcome { by, customer } => (
            "Your IXP portal account",
            format!(
                "Hello {},\n\n{by} has given you access to {} on the IXP portal. Your username is \"{}\".\n\nOpen this link within 1 hour to choose your password; it works once:\n\n{link}\n\nIf the link has expired, use \"Forgot your password?\" on the sign-in page: {}\n",
                user.name,
                customer.as_deref().unwrap_or("your account"),
                user.username,
                app.config.url_for("/password/forgot")
            ),
            match &customer {
                Some(c) => format!("welcome link sent (added to {c} by {by})"),
                None => format!("welcome link sent (account made by {by})"),
            },
        ),
    };
    audit::record(
        c,
        actor,
        "password.reset_requested",
        &user.username,
        &details,
    )?;
    crate::mail::enqueue(c, &user.email, subject, &body)?;
    Ok(())
}

async fn live_user(ctx: &Ctx, secret: &str) -> Result<Option<i64>, AppError> {
    let digest = token::digest(secret);
    ctx.app
        .db
        .run(move |c| resets::live_user(c, &digest).map_err(AppError::from))
        .await
}

fn expired(ctx: &Ctx) -> HttpResponse {
    ctx.flash(
        "error",
        "This password link is invalid, used or expired. Ask for a new one below.",
    );
    redirect("/password/forgot")
}

pub async fn reset_form(ctx: Ctx, path: web::Path<String>) -> Result<HttpResponse, AppError> {
    let secret = path.into_inner();
    if live_user(&ctx, &secret).await?.is_none() {
        return Ok(expired(&ctx));
    }
    render(
        StatusCode::OK,
        &ResetPage {
            chrome: ctx.chrome(),
            token: secret,
            error: None,
        },
    )
}

#[derive(serde::Deserialize)]
pub struct ResetForm {
    #[serde(default)]
    password: String,
    #[serde(default)]
    confirm: String,
}

pub async fn reset(
    ctx: Ctx,
    path: web::Path<String>,
    CsrfForm(form): CsrfForm<ResetForm>,
) -> Result<HttpResponse, AppError> {
    let secret = path.into_inner();
    let Some(user_id) = live_user(&ctx, &secret).await? else {
        return Ok(expired(&ctx));
    };
    let new = match password::NewPassword::parse(&form.password, &form.confirm) {
        Ok(p) => p,
        Err(e) => {
            return render(
                StatusCode::BAD_REQUEST,
                &ResetPage {
                    chrome: ctx.chrome(),
                    token: secret,
                    error: Some(e),
                },
            );
        }
    };
    let digest = token::digest(&secret);
    // The slow hash runs with no database connection held (SPEC §8).
    let hash = web::block(move || password::hash(new.expose()))
        .await
        .map_err(AppError::internal)?
        .map_err(AppError::internal)?;
    let changed = ctx
        .app
        .db
        .run(move |c| -> Result<bool, AppError> {
            write_tx(c, |c| -> Result<bool, AppError> {
                if !resets::consume(c, &digest, user_id)? {
                    return Ok(false);
                }
                users::set_password(c, user_id, &hash)?;
                let name = users::find(c, user_id)?
                    .map(|u| u.username)
                    .unwrap_or_default();
                audit::record(
                    c,
                    &name,
                    "password.reset",
                    &name,
                    "password set through the reset link; other sessions ended",
                )?;
                Ok(true)
            })
        })
        .await?;
    if !changed {
        return Ok(expired(&ctx));
    }
    // Whoever was signed in before the change is signed out by the epoch.
    super::super::session::sign_out(&ctx.session);
    super::super::session::flash(
        &ctx.session,
        "success",
        "Your password has been set. Sign in with it now.",
    );
    Ok(redirect("/login"))
}
