//! Sessions one can end (SPEC §7): on `/profile` a user ends one of their
//! sessions or all but the current one, and changes their password (which
//! ends the others); staff end all sessions of a user or reset their second
//! factor from the user's page.
use super::super::ctx::Ctx;
use super::super::error::AppError;
use super::super::form::CsrfForm;
use super::super::pages::ConfirmPage;
use super::super::session::{self, SignIn};
use super::auth::Empty;
use super::auth::render;
use super::{fields, parse_id, redirect};
use crate::admin::security;
use crate::auth::password::{self, NewPassword};
use crate::db::{audit, sessions, users, write_tx};
use crate::web::guard::{Authenticated, Staff};
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};

/// `GET /profile/sessions/{id}/end`: sign that session out? (SPEC §3)
pub async fn end_one_form(
    Authenticated(me): Authenticated,
    ctx: Ctx,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let uid = me.user.id;
    let id = parse_id(&path)?;
    let max_age = chrono::Duration::seconds(ctx.app.config.sessions.max);
    let row = ctx
        .app
        .db
        .run(move |c| sessions::of_user(c, uid, max_age).map_err(AppError::from))
        .await?
        .into_iter()
        .find(|r| r.id == id)
        .ok_or(AppError::NotFound)?;
    let mut page = ConfirmPage::new(ctx.chrome(), "Sign this session out?", "/profile#sessions");
    page.intro = format!(
        "The session started {} UTC from {} ({}) ends at once; that browser must sign in again.",
        row.created_at.format("%Y-%m-%d %H:%M"),
        row.address,
        if row.user_agent.is_empty() {
            "unknown browser"
        } else {
            &row.user_agent
        }
    );
    page.losses
        .push("anything typed in that browser and not yet saved".into());
    page.action = format!("/profile/sessions/{id}/end");
    page.button = "Sign out that session".into();
    render(StatusCode::OK, &page)
}

/// `GET /profile/sessions/end-others`: sign out everywhere else? (SPEC §3)
pub async fn end_others_form(_: Authenticated, ctx: Ctx) -> Result<HttpResponse, AppError> {
    let mut page = ConfirmPage::new(
        ctx.chrome(),
        "Sign out everywhere else?",
        "/profile#sessions",
    );
    page.intro = "Every other session of yours ends at once; this one goes on.".into();
    page.losses
        .push("anything typed in your other browsers and not yet saved".into());
    page.action = "/profile/sessions/end-others".into();
    page.button = "Sign out everywhere else".into();
    render(StatusCode::OK, &page)
}

/// `POST /profile/sessions/{id}/end`: one of the user's own sessions.
pub async fn end_one(
    Authenticated(v): Authenticated,
    ctx: Ctx,
    path: web::Path<String>,
    _: CsrfForm<Empty>,
) -> Result<HttpResponse, AppError> {
    let (uid, username) = (v.user.id, v.user.username.clone());
    let id = parse_id(&path)?;
    let ended = ctx
        .app
        .db
        .run(move |c| {
            write_tx(c, |c| -> Result<bool, AppError> {
                let ended = sessions::end_one(c, uid, id)?;
                if ended {
                    audit::record(
                        c,
                        &username,
                        "session.end",
                        &username,
                        "one session signed out from the profile",
                    )?;
                }
                Ok(ended)
            })
        })
        .await?;
    if !ended {
        return Err(AppError::NotFound);
    }
    ctx.flash("success", "That session is signed out.");
    Ok(redirect("/profile#sessions"))
}

/// `POST /profile/sessions/end-others`: every session but this one.
pub async fn end_others(
    Authenticated(v): Authenticated,
    ctx: Ctx,
    _: CsrfForm<Empty>,
) -> Result<HttpResponse, AppError> {
    let (uid, actor) = (v.user.id, v.user.username.clone());
    let keep = session::sid(&ctx.session);
    let n = ctx
        .app
        .db
        .run(move |c| {
            security::end_sessions(c, &actor, uid, Some(&keep)).map_err(fields::admin_error)
        })
        .await?;
    ctx.flash(
        "success",
        format!("Signed out everywhere else ({n} session(s))."),
    );
    Ok(redirect("/profile#sessions"))
}

#[derive(serde::Deserialize)]
pub struct PasswordForm {
    #[serde(default)]
    current: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    confirm: String,
}

/// `POST /profile/password`: a new password, given the current one. Every
/// other session ends; this one continues under a new key.
pub async fn change_password(
    Authenticated(v): Authenticated,
    ctx: Ctx,
    CsrfForm(form): CsrfForm<PasswordForm>,
) -> Result<HttpResponse, AppError> {
    let (uid, username, stored) = (
        v.user.id,
        v.user.username.clone(),
        v.user.password_hash.clone(),
    );
    let two_factor = v.session_two_factor;
    let new = match NewPassword::parse(&form.password, &form.confirm) {
        Ok(p) => p,
        Err(e) => {
            ctx.flash("error", format!("Password not changed: {e}"));
            return Ok(redirect("/profile#password"));
        }
    };
    // Both hashes run before any connection is taken (slow on purpose).
    let current = form.current;
    let checked = web::block(move || -> Result<Option<String>, String> {
        if !password::verify(&current, &stored) {
            return Ok(None);
        }
        password::hash(new.expose()).map(Some)
    })
    .await
    .map_err(AppError::internal)?
    .map_err(AppError::internal)?;
    let Some(hash) = checked else {
        ctx.flash(
            "error",
            "Password not changed: your current password is not right.",
        );
        return Ok(redirect("/profile#password"));
    };
    let epoch = ctx
        .app
        .db
        .run(move |c| {
            write_tx(c, |c| -> Result<i32, AppError> {
                users::set_password(c, uid, &hash)?;
                audit::record(
                    c,
                    &username,
                    "password.change",
                    &username,
                    "changed on the profile; every other session ended",
                )?;
                Ok(users::find(c, uid)?
                    .map(|u| u.session_epoch)
                    .unwrap_or_default())
            })
        })
        .await?;
    session::sign_in(
        &ctx.session,
        &SignIn {
            user_id: uid,
            epoch,
            address: &ctx.address,
            user_agent: &ctx.user_agent,
            two_factor,
        },
    )?;
    ctx.flash(
        "success",
        "Your password is changed; your other sessions were signed out.",
    );
    Ok(redirect("/profile"))
}

/// `POST /staff/users/{id}/sessions/end`: staff end every session of a user.
pub async fn staff_end(
    _: Staff,
    ctx: Ctx,
    path: web::Path<String>,
    _: CsrfForm<Empty>,
) -> Result<HttpResponse, AppError> {
    let id = parse_id(&path)?;
    let actor = ctx.actor();
    let n = ctx
        .app
        .db
        .run(move |c| security::end_sessions(c, &actor, id, None).map_err(fields::admin_error))
        .await?;
    ctx.flash("success", format!("{n} session(s) of this user ended."));
    Ok(redirect(&format!("/staff/users/{id}")))
}

/// `POST /staff/users/{id}/2fa/reset`: staff remove a user's second factor.
pub async fn staff_reset_two_factor(
    _: Staff,
    ctx: Ctx,
    path: web::Path<String>,
    _: CsrfForm<Empty>,
) -> Result<HttpResponse, AppError> {
    let id = parse_id(&path)?;
    let actor = ctx.actor();
    let reset = ctx
        .app
        .db
        .run(move |c| security::reset_two_factor(c, &actor, id).map_err(fields::admin_error))
        .await?;
    ctx.flash(
        if reset { "success" } else { "info" },
        if reset {
            "Second factor removed and the user's sessions ended; they can set up a new one on their profile."
        } else {
            "This user has no second factor."
        },
    );
    Ok(redirect(&format!("/staff/users/{id}")))
}
