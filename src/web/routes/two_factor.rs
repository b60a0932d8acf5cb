//! The second factor (SPEC §7): enrolment on `/profile/2fa` (QR code and
//! secret, confirmation by code, ten recovery codes shown once, disabling
//! with password and code) and the code after the first factor on
//! `/login/2fa` (5 wrong codes end the attempt and count as failed logins).
use super::super::ctx::{Chrome, Ctx};
use super::super::error::AppError;
use super::super::form::CsrfForm;
use super::super::session::{self, Pending, SignIn};
use super::auth::render;
use super::redirect;
use crate::admin::sign_in;
use crate::auth::password;
use crate::auth::secret_box::SecretBox;
use crate::auth::totp;
use crate::db::login_throttle::{self, Attempt, Lock};
use crate::db::models::now;
use crate::db::{DbConnection, audit, logins, sessions, two_factor, users, write_tx};
use crate::domain::LoginMethod;
use crate::web::device;
use crate::web::guard::Authenticated;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;

/// How many wrong codes end a pending sign-in.
pub const MAX_WRONG: u32 = 5;

/// What a TOTP secret is bound to when sealed.
pub fn totp_context(user_id: i64) -> String {
    format!("totp:{user_id}")
}

fn unix_now() -> u64 {
    chrono::Utc::now().timestamp().max(0) as u64
}

/// What a code given for a user with a confirmed second factor proved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Check {
    Totp,
    Recovery,
    /// The code of a time step already used (a replay).
    Used,
    Wrong,
}

/// Checks a TOTP code (each time step accepted once) or a recovery code
/// (each accepted once). Inside the caller's connection.
pub fn check_code(
    c: &mut DbConnection,
    secrets: &SecretBox,
    user_id: i64,
    code: &str,
) -> Result<Check, AppError> {
    let Some(row) = two_factor::find(c, user_id)?.filter(|r| r.confirmed_at.is_some()) else {
        return Ok(Check::Wrong);
    };
    let Some(secret) = secrets.open(&totp_context(user_id), &row.secret) else {
        tracing::error!(
            user_id,
            "a TOTP secret does not open with the current key (PORTAL_SECRET_KEY or SESSION_KEY changed?)"
        );
        return Ok(Check::Wrong);
    };
    if let Some(step) = totp::matching_step(&secret, code, unix_now()) {
        return Ok(if two_factor::use_step(c, user_id, step)? {
            Check::Totp
        } else {
            Check::Used
        });
    }
    let typed: String = code
        .chars()
        .filter(|ch| ch.is_ascii_alphanumeric())
        .collect();
    if typed.len() == 12 && two_factor::use_recovery(c, user_id, &totp::recovery_hash(code))? {
        return Ok(Check::Recovery);
    }
    Ok(Check::Wrong)
}

#[derive(Template)]
#[template(path = "login_2fa.html")]
pub struct LoginPage {
    pub chrome: Chrome,
    pub error: Option<String>,
}

#[derive(serde::Deserialize)]
pub struct CodeForm {
    #[serde(default)]
    code: String,
}

/// `GET /login/2fa`.
pub async fn login_form(ctx: Ctx) -> Result<HttpResponse, AppError> {
    if session::pending(&ctx.session).is_none() {
        ctx.flash("info", "Please sign in first.");
        return Ok(redirect("/login"));
    }
    render(
        StatusCode::OK,
        &LoginPage {
            chrome: ctx.chrome(),
            error: None,
        },
    )
}

enum Outcome {
    Done {
        epoch: i32,
        recovery_left: Option<i64>,
    },
    Wrong(Check),
    /// Locked out meanwhile (SPEC §8): the attempt ends.
    Refused(Lock),
    Gone,
}

/// `POST /login/2fa`. A wrong code counts as a failed sign-in of the
/// account (SPEC §7), in the same counts as a wrong password (SPEC §8).
pub async fn login(
    ctx: Ctx,
    req: HttpRequest,
    CsrfForm(form): CsrfForm<CodeForm>,
) -> Result<HttpResponse, AppError> {
    let Some(mut pending) = session::pending(&ctx.session) else {
        ctx.flash("info", "That sign-in expired. Please sign in again.");
        return Ok(redirect("/login"));
    };
    let code: String = form.code.chars().take(64).collect();
    let secrets = ctx.app.secrets.clone();
    let (uid, address, p) = (pending.user_id, ctx.address.clone(), pending.clone());
    let tokens = device::tokens(&req);
    let outcome = ctx
        .app
        .db
        .run(move |c| -> Result<Outcome, AppError> {
            let Some(user) = users::find(c, uid)?.filter(|u| !u.disabled) else {
                return Ok(Outcome::Gone);
            };
            let attempt = Attempt {
                username: p.username.clone(),
                address,
                device: device::valid_for(c, uid, &tokens)?,
            };
            if let Some(lock) = login_throttle::refusal(c, &attempt, now())? {
                return Ok(Outcome::Refused(lock));
            }
            match check_code(c, &secrets, uid, &code)? {
                found @ (Check::Totp | Check::Recovery) => {
                    write_tx(c, |c| -> Result<(), AppError> {
                        if !p.peeringdb {
                            sign_in::succeeded(
                                c,
                                &user.username,
                                &attempt,
                                "with a password and a second factor",
                            )?;
                            logins::complete(c, uid, &attempt.address, LoginMethod::Password)?;
                        }
                        Ok(())
                    })?;
                    let left = match found {
                        Check::Recovery => Some(two_factor::recovery_left(c, uid)?),
                        _ => None,
                    };
                    Ok(Outcome::Done {
                        epoch: user.session_epoch,
                        recovery_left: left,
                    })
                }
                other => {
                    // A wrong code counts as a failed sign-in (SPEC §7).
                    sign_in::failed(
                        c,
                        Some(&user.username),
                        &attempt,
                        "wrong second-factor code",
                    )?;
                    Ok(Outcome::Wrong(other))
                }
            }
        })
        .await?;
    match outcome {
        Outcome::Done {
            epoch,
            recovery_left,
        } => {
            session::clear_pending(&ctx.session);
            let next = pending.next.clone();
            session::sign_in(
                &ctx.session,
                &SignIn {
                    user_id: uid,
                    epoch,
                    address: &ctx.address,
                    user_agent: &ctx.user_agent,
                    two_factor: true,
                },
            )?;
            if let Some(left) = recovery_left {
                ctx.flash(
                    if left < 3 { "warning" } else { "info" },
                    format!("You used a recovery code; {left} are left. You can make new ones by setting up your second factor again on your profile."),
                );
            }
            let mut r = redirect(&next);
            r.add_cookie(&device::remember(&ctx, &req, uid).await?)
                .map_err(AppError::internal)?;
            Ok(r)
        }
        Outcome::Gone => {
            session::clear_pending(&ctx.session);
            ctx.flash("error", "That sign-in is no longer possible.");
            Ok(redirect("/login"))
        }
        Outcome::Refused(lock) => {
            session::clear_pending(&ctx.session);
            ctx.flash("error", super::auth::refusal_message(lock));
            Ok(redirect("/login"))
        }
        Outcome::Wrong(why) => {
            pending.wrong += 1;
            if pending.wrong >= MAX_WRONG {
                session::clear_pending(&ctx.session);
                tracing::info!(user = %pending.username, "second factor: too many wrong codes, sign-in ended");
                ctx.flash(
                    "error",
                    "Too many wrong codes: this sign-in has ended. Sign in again to try once more.",
                );
                return Ok(redirect("/login"));
            }
            session::set_pending(&ctx.session, &pending)?;
            let error = match why {
                Check::Used => {
                    "That code was used already. Wait for the next code of your app and enter it."
                        .to_string()
                }
                _ => format!(
                    "That code is not right. Enter the 6-digit code of your app, or one of your recovery codes ({} tries left).",
                    MAX_WRONG - pending.wrong
                ),
            };
            render(
                StatusCode::UNAUTHORIZED,
                &LoginPage {
                    chrome: ctx.chrome(),
                    error: Some(error),
                },
            )
        }
    }
}

/// Sends a sign-in whose first factor is done to `/login/2fa`.
pub fn ask_for_code(ctx: &Ctx, pending: &Pending) -> Result<HttpResponse, AppError> {
    session::set_pending(&ctx.session, pending)?;
    Ok(redirect("/login/2fa"))
}

#[derive(Template)]
#[template(path = "two_factor.html")]
pub struct EnrolPage {
    pub chrome: Chrome,
    pub enabled: bool,
    pub recovery_left: i64,
    /// While enrolling: the secret, its QR code (inline SVG) and URI.
    pub enrolling: Option<(String, String, String)>,
    /// Right after confirmation: the recovery codes, shown once.
    pub codes: Vec<String>,
    pub must_enrol: bool,
    pub error: Option<String>,
}

async fn enrol_page(
    ctx: &Ctx,
    v: &crate::web::ctx::Viewer,
    codes: Vec<String>,
    error: Option<String>,
    status: StatusCode,
) -> Result<HttpResponse, AppError> {
    let (uid, username) = (v.user.id, v.user.username.clone());
    let must_enrol = !v.session_two_factor
        && ctx
            .app
            .config
            .two_factor_enforce
            .applies_to(v.user.superuser);
    let secrets = ctx.app.secrets.clone();
    let (row, left, issuer) = ctx
        .app
        .db
        .run(move |c| -> Result<_, AppError> {
            let row = two_factor::find(c, uid)?;
            let left = two_factor::recovery_left(c, uid)?;
            let issuer = crate::db::lans::ixp(c)?
                .map(|i| i.name)
                .filter(|n| !n.trim().is_empty())
                .unwrap_or_else(|| "IXP portal".into());
            Ok((row, left, issuer))
        })
        .await?;
    let enabled = row.as_ref().is_some_and(|r| r.confirmed_at.is_some());
    let enrolling = match &row {
        Some(r) if r.confirmed_at.is_none() => {
            secrets.open(&totp_context(uid), &r.secret).map(|s| {
                let uri = totp::otpauth_uri(&issuer, &username, &s);
                let svg = totp::qr_svg(&uri).unwrap_or_default();
                (s, svg, uri)
            })
        }
        _ => None,
    };
    render(
        status,
        &EnrolPage {
            chrome: ctx.chrome(),
            enabled,
            recovery_left: left,
            enrolling,
            codes,
            must_enrol,
            error,
        },
    )
}

/// `GET /profile/2fa`.
pub async fn page(Authenticated(v): Authenticated, ctx: Ctx) -> Result<HttpResponse, AppError> {
    enrol_page(&ctx, &v, Vec::new(), None, StatusCode::OK).await
}

/// `POST /profile/2fa/start`: a new secret to scan (not active until a code
/// from it is confirmed).
pub async fn start(
    Authenticated(me): Authenticated,
    ctx: Ctx,
    _: CsrfForm<super::auth::Empty>,
) -> Result<HttpResponse, AppError> {
    let uid = me.user.id;
    let sealed = ctx
        .app
        .secrets
        .seal(&totp_context(uid), &totp::new_secret())
        .ok_or_else(|| AppError::internal("sealing a TOTP secret failed"))?;
    let started = ctx
        .app
        .db
        .run(move |c| two_factor::start(c, uid, &sealed).map_err(AppError::from))
        .await?;
    if !started {
        ctx.flash("info", "Your second factor is set up already.");
    }
    Ok(redirect("/profile/2fa"))
}

/// `POST /profile/2fa/confirm`: a code from the new secret turns it on;
/// the recovery codes are shown once, in this answer.
pub async fn confirm(
    Authenticated(v): Authenticated,
    ctx: Ctx,
    CsrfForm(form): CsrfForm<CodeForm>,
) -> Result<HttpResponse, AppError> {
    let (uid, username) = (v.user.id, v.user.username.clone());
    let secrets = ctx.app.secrets.clone();
    let codes = totp::recovery_codes();
    let hashes: Vec<String> = codes.iter().map(|(_, h)| h.clone()).collect();
    let code: String = form.code.chars().take(64).collect();
    let keep = session::sid(&ctx.session);
    let confirmed = ctx
        .app
        .db
        .run(move |c| -> Result<bool, AppError> {
            let Some(row) = two_factor::find(c, uid)?.filter(|r| r.confirmed_at.is_none()) else {
                return Ok(false);
            };
            let Some(secret) = secrets.open(&totp_context(uid), &row.secret) else {
                return Ok(false);
            };
            let Some(step) = totp::matching_step(&secret, &code, unix_now()) else {
                return Ok(false);
            };
            write_tx(c, |c| -> Result<(), AppError> {
                two_factor::use_step(c, uid, step)?;
                two_factor::confirm(c, uid, &hashes)?;
                let ended = sessions::end_of_user(c, uid, Some(&keep))?;
                audit::record(
                    c,
                    &username,
                    "two_factor.enable",
                    &username,
                    &format!("second factor (TOTP) set up; {ended} other session(s) ended"),
                )?;
                Ok(())
            })?;
            Ok(true)
        })
        .await?;
    if !confirmed {
        return enrol_page(
            &ctx,
            &v,
            Vec::new(),
            Some("That code does not match: scan the QR code (or type the secret) into your app, then enter the 6-digit code it shows now.".into()),
            StatusCode::BAD_REQUEST,
        )
        .await;
    }
    session::set_two_factor(&ctx.session);
    let shown = codes.into_iter().map(|(c, _)| c).collect();
    enrol_page(&ctx, &v, shown, None, StatusCode::OK).await
}

#[derive(serde::Deserialize)]
pub struct DisableForm {
    #[serde(default)]
    password: String,
    #[serde(default)]
    code: String,
}

/// `POST /profile/2fa/disable`: with the password and a code.
pub async fn disable(
    Authenticated(v): Authenticated,
    ctx: Ctx,
    CsrfForm(form): CsrfForm<DisableForm>,
) -> Result<HttpResponse, AppError> {
    let (uid, username, hash) = (
        v.user.id,
        v.user.username.clone(),
        v.user.password_hash.clone(),
    );
    // The password is checked before any connection is taken (slow hash).
    let pw = form.password;
    let pw_ok = web::block(move || password::verify(&pw, &hash))
        .await
        .map_err(AppError::internal)?;
    if !pw_ok {
        return enrol_page(
            &ctx,
            &v,
            Vec::new(),
            Some("Your password is not right. Turning the second factor off needs your password and a code.".into()),
            StatusCode::UNAUTHORIZED,
        )
        .await;
    }
    let secrets = ctx.app.secrets.clone();
    let code: String = form.code.chars().take(64).collect();
    let keep = session::sid(&ctx.session);
    let done = ctx
        .app
        .db
        .run(move |c| -> Result<bool, AppError> {
            if !matches!(
                check_code(c, &secrets, uid, &code)?,
                Check::Totp | Check::Recovery
            ) {
                return Ok(false);
            }
            write_tx(c, |c| -> Result<(), AppError> {
                two_factor::remove(c, uid)?;
                let ended = sessions::end_of_user(c, uid, Some(&keep))?;
                audit::record(
                    c,
                    &username,
                    "two_factor.disable",
                    &username,
                    &format!("second factor turned off; {ended} other session(s) ended"),
                )?;
                Ok(())
            })?;
            Ok(true)
        })
        .await?;
    if !done {
        return enrol_page(
            &ctx,
            &v,
            Vec::new(),
            Some("That code is not right (or was used already). Turning the second factor off needs your password and a current code or a recovery code.".into()),
            StatusCode::UNAUTHORIZED,
        )
        .await;
    }
    ctx.flash(
        "success",
        "Your second factor is turned off; your other sessions were ended.",
    );
    Ok(redirect("/profile/2fa"))
}
