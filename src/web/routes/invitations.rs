//! Invitations (SPEC §3). `/invitations/{token}`: the invited person
//! accepts while signed in as the invited account, or, when no account
//! used the address, makes one. `/member/invitations/{id}/revoke`: a
//! member's admin takes a pending invitation of their customer back.
use super::auth::render;
use super::fields::{self, FieldErrors};
use super::{parse_id, redirect};
use crate::admin::invitations::{self as inv, GONE, OTHER_ACCOUNT};
use crate::auth::{password, token};
use crate::db::invitations::Invitation;
use crate::db::models::{Customer, now};
use crate::domain::Username;
use crate::web::ctx::{Chrome, Ctx};
use crate::web::error::AppError;
use crate::web::form::CsrfForm;
use crate::web::guard::CustAdmin;
use crate::web::pages::ConfirmPage;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;

/// What the invitation page shows.
pub enum Shown {
    /// Not live, or not for the signed-in account: a message only.
    Refused(&'static str),
    /// The invited account, signed in: one button to accept.
    Accept,
    /// No account used the address: a form to make one.
    NewAccount,
}

#[derive(Template)]
#[template(path = "invitation.html")]
pub struct InvitationPage {
    pub chrome: Chrome,
    pub token: String,
    pub shown: Shown,
    pub invitation: Option<(Invitation, Customer)>,
    pub form: NewAccountForm,
    pub errors: FieldErrors,
}

impl InvitationPage {
    fn access(&self) -> &'static str {
        self.invitation
            .as_ref()
            .map_or("", |(i, _)| crate::web::words::privilege(i.privilege))
    }
}

#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct NewAccountForm {
    #[serde(default)]
    pub username: String,
    #[serde(default)]
    pub name: String,
    #[serde(default, skip_serializing)]
    pub password: String,
    #[serde(default, skip_serializing)]
    pub confirm: String,
}

async fn load(ctx: &Ctx, secret: &str) -> Result<Option<(Invitation, Customer)>, AppError> {
    let digest = token::digest(secret);
    ctx.app
        .db
        .run(move |c| inv::live(c, &digest, now()).map_err(fields::admin_error))
        .await
}

fn show(
    ctx: &Ctx,
    status: StatusCode,
    token: String,
    shown: Shown,
    invitation: Option<(Invitation, Customer)>,
    form: NewAccountForm,
    errors: FieldErrors,
) -> Result<HttpResponse, AppError> {
    let page = InvitationPage {
        chrome: ctx.chrome(),
        token,
        shown,
        invitation,
        form: NewAccountForm {
            password: String::new(),
            confirm: String::new(),
            ..form
        },
        errors,
    };
    render(status, &page)
}

fn refused(ctx: &Ctx, status: StatusCode, message: &'static str) -> Result<HttpResponse, AppError> {
    show(
        ctx,
        status,
        String::new(),
        Shown::Refused(message),
        None,
        NewAccountForm::default(),
        FieldErrors::default(),
    )
}

/// The signed-in viewer, or off to sign in and back here. An invitation
/// to an existing account is accepted only by that account, signed in
/// (SPEC §3); the route is public because one to a new account is not.
fn signed_in(ctx: &Ctx) -> Result<&crate::web::ctx::Viewer, AppError> {
    ctx.viewer.as_ref().ok_or_else(|| AppError::Login {
        next: ctx.here.clone(),
    })
}

/// `GET /invitations/{token}`.
pub async fn open(ctx: Ctx, path: web::Path<String>) -> Result<HttpResponse, AppError> {
    let secret = path.into_inner();
    let Some((invitation, customer)) = load(&ctx, &secret).await? else {
        return refused(&ctx, StatusCode::GONE, GONE);
    };
    if !invitation.known {
        let form = NewAccountForm {
            name: invitation.name.clone(),
            ..Default::default()
        };
        let shown = Shown::NewAccount;
        let found = Some((invitation, customer));
        return show(
            &ctx,
            StatusCode::OK,
            secret,
            shown,
            found,
            form,
            FieldErrors::default(),
        );
    }
    // Signing in comes back here (`next`).
    let viewer = signed_in(&ctx)?;
    if !inv::is_invited(&invitation, &viewer.user) {
        return refused(&ctx, StatusCode::FORBIDDEN, OTHER_ACCOUNT);
    }
    let found = Some((invitation, customer));
    let form = NewAccountForm::default();
    show(
        &ctx,
        StatusCode::OK,
        secret,
        Shown::Accept,
        found,
        form,
        FieldErrors::default(),
    )
}

/// `POST /invitations/{token}`: accept as the signed-in invited account,
/// or make the account the invitation offers.
pub async fn accept(
    ctx: Ctx,
    path: web::Path<String>,
    CsrfForm(form): CsrfForm<NewAccountForm>,
) -> Result<HttpResponse, AppError> {
    let secret = path.into_inner();
    let Some((invitation, customer)) = load(&ctx, &secret).await? else {
        return refused(&ctx, StatusCode::GONE, GONE);
    };
    if !invitation.known {
        return make_account(ctx, secret, (invitation, customer), form).await;
    }
    let user = signed_in(&ctx)?.user.clone();
    let digest = token::digest(&secret);
    let done = ctx
        .app
        .db
        .run(move |c| Ok::<_, AppError>(inv::accept_signed_in(c, &digest, &user, now())))
        .await?;
    match done {
        Ok((customer, true)) => ctx.flash(
            "success",
            format!("You now have access to {}.", customer.name),
        ),
        Ok((customer, false)) => ctx.flash(
            "info",
            format!("You have access to {} already.", customer.name),
        ),
        Err(crate::admin::AdminError::Refused(_)) => {
            return refused(&ctx, StatusCode::FORBIDDEN, OTHER_ACCOUNT);
        }
        Err(crate::admin::AdminError::NotFound(_)) => {
            return refused(&ctx, StatusCode::GONE, GONE);
        }
        Err(e) => return Err(fields::admin_error(e)),
    }
    Ok(redirect("/"))
}

async fn make_account(
    ctx: Ctx,
    secret: String,
    found: (Invitation, Customer),
    form: NewAccountForm,
) -> Result<HttpResponse, AppError> {
    let mut errors = FieldErrors::default();
    let username = Username::parse(&form.username.to_lowercase())
        .map_err(|e| errors.add("username", fields::sentence(&e.to_string())))
        .ok();
    let name = form.name.trim().to_string();
    if name.is_empty() || name.chars().count() > 255 || name.chars().any(char::is_control) {
        errors.add(
            "name",
            "Give your name: at most 255 characters, without control characters.",
        );
    }
    let new = password::NewPassword::parse(&form.password, &form.confirm)
        .map_err(|e| errors.add("password", e))
        .ok();
    let (Some(username), Some(new), true) = (username, new, errors.is_empty()) else {
        let (status, shown) = (StatusCode::BAD_REQUEST, Shown::NewAccount);
        return show(&ctx, status, secret, shown, Some(found), form, errors);
    };
    // Hashing holds no database connection (SPEC §8).
    let hash = web::block(move || password::hash(new.expose()))
        .await
        .map_err(AppError::internal)?
        .map_err(AppError::internal)?;
    let digest = token::digest(&secret);
    let chosen = username.clone();
    let done = ctx
        .app
        .db
        .run(move |c| {
            Ok::<_, AppError>(inv::accept_new_account(
                c,
                &digest,
                &chosen,
                &name,
                &hash,
                now(),
            ))
        })
        .await?;
    match done {
        Ok((user, customer)) => {
            ctx.flash(
                "success",
                format!(
                    "Your account {} is ready, with access to {}. Sign in with it now.",
                    user.username, customer.name
                ),
            );
            Ok(redirect("/login"))
        }
        Err(crate::admin::AdminError::NotFound(_)) => refused(&ctx, StatusCode::GONE, GONE),
        Err(e) => {
            let errors = fields::from_admin(e)?;
            let (status, shown) = (StatusCode::BAD_REQUEST, Shown::NewAccount);
            show(&ctx, status, secret, shown, Some(found), form, errors)
        }
    }
}

/// `GET /member/invitations/{id}/revoke`: the confirmation page.
pub async fn revoke_confirm(
    ctx: Ctx,
    who: CustAdmin,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let customer = who.customer;
    let id = parse_id(&path)?;
    let cid = customer.id;
    let invitation = ctx
        .app
        .db
        .run(move |c| inv::pending(c, id, cid, now()).map_err(fields::admin_error))
        .await?;
    let mut page = ConfirmPage::new(
        ctx.chrome(),
        format!("Revoke the invitation to {}?", invitation.email),
        "/member/users",
    );
    page.intro = format!(
        "The link sent to {} stops working; they do not get access to {} through it.",
        invitation.email, customer.name
    );
    page.losses.push(format!(
        "the invitation of {} to {} as {}, sent by {}",
        invitation.email,
        customer.name,
        crate::web::words::privilege(invitation.privilege),
        invitation.invited_by
    ));
    page.action = format!("/member/invitations/{id}/revoke");
    page.button = "Revoke invitation".into();
    render(StatusCode::OK, &page)
}

#[derive(serde::Deserialize)]
pub struct Empty {}

/// `POST /member/invitations/{id}/revoke`.
pub async fn revoke(
    ctx: Ctx,
    who: CustAdmin,
    path: web::Path<String>,
    _: CsrfForm<Empty>,
) -> Result<HttpResponse, AppError> {
    let customer = who.customer;
    let cid = customer.id;
    let id = parse_id(&path)?;
    let actor = ctx.actor();
    let invitation = ctx
        .app
        .db
        .run(move |c| inv::revoke(c, &actor, id, cid, now()).map_err(fields::admin_error))
        .await?;
    ctx.flash(
        "success",
        format!("The invitation to {} is revoked.", invitation.email),
    );
    Ok(redirect("/member/users"))
}
