//! A member's admin (custadmin): the users of their current customer. Invite a
//! user by email, change a privilege, remove a link; never another
//! customer's links, never a superuser, never their own access.
use super::super::ctx::{Chrome, Ctx};
use super::super::error::AppError;
use super::super::form::CsrfForm;
use super::auth::render;
use super::fields::{self, FieldErrors};
use super::{parse_id, redirect};
use crate::admin::{self, Scope, invitations};
use crate::auth::token;
use crate::db::affiliations;
use crate::db::invitations::Invitation;
use crate::db::models::{Affiliation, Customer, User};
use crate::domain::{Email, Privilege};
use crate::web::guard::CustAdmin;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;

/// The add-a-user form, as typed.
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct AddInput {
    #[serde(default)]
    pub email: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub privilege: String,
}

#[derive(Template)]
#[template(path = "member/users.html")]
pub struct UsersPage {
    pub chrome: Chrome,
    pub customer: Customer,
    pub me: i64,
    pub users: Vec<(Affiliation, User)>,
    pub privileges: &'static [Privilege],
    pub form: AddInput,
    pub errors: FieldErrors,
    /// PeeringDB identities whose PeeringDB-made link to this customer was
    /// removed by hand, with their username where the account still exists.
    pub block_rows: crate::web::blocks::BlockRows,
    /// Invitations not accepted yet (SPEC §3).
    pub invitations: Vec<Invitation>,
}

impl UsersPage {
    /// May this page change the row's access? Not a superuser's, not one's own.
    pub fn manageable(&self, u: &User) -> bool {
        !u.superuser && u.id != self.me
    }
}

async fn page(
    ctx: &Ctx,
    who: &CustAdmin,
    form: AddInput,
    errors: FieldErrors,
    status: StatusCode,
) -> Result<HttpResponse, AppError> {
    let (customer, me) = (who.customer.clone(), who.viewer.user.id);
    let id = customer.id;
    let (users, blocks, pending) = ctx
        .app
        .db
        .run(move |c| {
            let users = affiliations::of_customer(c, id)?;
            let blocks = crate::db::peeringdb_links::blocks_on_named(c, id)?;
            let pending =
                crate::db::invitations::pending_of_customer(c, id, crate::db::models::now())?;
            Ok::<_, AppError>((users, blocks, pending))
        })
        .await?;
    let page = UsersPage {
        chrome: ctx.chrome(),
        customer,
        me,
        users,
        privileges: Privilege::ALL,
        form,
        errors,
        block_rows: crate::web::blocks::on_customer(blocks, true),
        invitations: pending,
    };
    render(status, &page)
}

pub async fn list(ctx: Ctx, who: CustAdmin) -> Result<HttpResponse, AppError> {
    let form = AddInput {
        privilege: Privilege::CustUser.as_str().into(),
        ..Default::default()
    };
    page(&ctx, &who, form, FieldErrors::default(), StatusCode::OK).await
}

pub async fn add(
    who: CustAdmin,
    ctx: Ctx,
    CsrfForm(form): CsrfForm<AddInput>,
) -> Result<HttpResponse, AppError> {
    let customer = who.customer.clone();
    let mut errors = FieldErrors::default();
    let email = Email::parse(&form.email)
        .map_err(|_| errors.add("email", "Give an email address like noc@example.net."))
        .ok();
    let privilege = form
        .privilege
        .parse::<Privilege>()
        .map_err(|_| errors.add("privilege", "Choose custuser or custadmin."))
        .ok();
    let name = form.name.trim().to_string();
    if name.chars().count() > 255 || name.chars().any(char::is_control) {
        errors.add(
            "name",
            "Use at most 255 characters, without control characters.",
        );
    }
    let (Some(email), Some(privilege), true) = (email, privilege, errors.is_empty()) else {
        return page(&ctx, &who, form, errors, StatusCode::BAD_REQUEST).await;
    };
    let actor = ctx.actor();
    let address = ctx.address.clone();
    let app = ctx.app.clone();
    let secret = token::random_token();
    let link = app.config.url_for(&format!("/invitations/{secret}"));
    let cust = customer.clone();
    let shown = email.as_str().to_string();
    ctx.app
        .db
        .run(move |c| {
            let invite = invitations::Invite {
                customer: &cust,
                email: &email,
                name: &name,
                privilege,
                actor: &actor,
                address: &address,
                token_hash: &token::digest(&secret),
            };
            let mail = |known: bool| invitation_mail(known, &actor, &cust, privilege, &link);
            invitations::invite(c, &invite, crate::db::models::now(), &mail)
                .map_err(fields::admin_error)
        })
        .await?;
    // The same answer for every address (SPEC §3), limited or not (§8).
    ctx.flash(
        "success",
        format!(
            "Invitation sent to {shown}. It works once, within {} days; nobody gets access until they accept it.",
            crate::db::invitations::VALID_DAYS
        ),
    );
    Ok(redirect("/member/users"))
}

/// The invitation mail: to sign in and accept (`known`: an account uses
/// the address), or to make an account.
fn invitation_mail(
    known: bool,
    actor: &str,
    customer: &Customer,
    privilege: Privilege,
    link: &str,
) -> (String, String) {
    let access = crate::web::words::privilege(privilege);
    let days = crate::db::invitations::VALID_DAYS;
    let how = if known {
        format!(
            "An account of the portal uses this email address. Sign in with it, then open this link within {days} days to accept; it works once:"
        )
    } else {
        format!(
            "Open this link within {days} days to choose your username and password; it works once:"
        )
    };
    (
        format!("Invitation to {} on the IXP portal", customer.name),
        format!(
            "Hello,\n\n{actor} invites you to {} on the IXP portal, as {access}.\n\n{how}\n\n{link}\n\nIf you do not want this, ignore this message: nothing changes.\n",
            customer.name
        ),
    )
}

/// The scope of the signed-in custadmin: their current customer only.
fn scope(who: &CustAdmin) -> Result<Scope, AppError> {
    Ok(Scope::Member {
        customer_id: who.customer.id,
        actor_id: who.viewer.user.id,
    })
}

#[derive(serde::Deserialize)]
pub struct PrivilegeInput {
    #[serde(default)]
    privilege: String,
}

pub async fn set_privilege(
    ctx: Ctx,
    who: CustAdmin,
    path: web::Path<String>,
    CsrfForm(form): CsrfForm<PrivilegeInput>,
) -> Result<HttpResponse, AppError> {
    let scope = scope(&who)?;
    let aid = parse_id(&path)?;
    let privilege: Privilege = form
        .privilege
        .parse()
        .map_err(|_| AppError::BadRequest("Choose custuser or custadmin.".into()))?;
    let actor = ctx.actor();
    let (user, _) = ctx
        .app
        .db
        .run(move |c| {
            admin::set_privilege(c, &actor, aid, privilege, scope).map_err(fields::admin_error)
        })
        .await?;
    ctx.flash(
        "success",
        format!(
            "{} is now {}.",
            user.username,
            crate::web::words::privilege(privilege)
        ),
    );
    Ok(redirect("/member/users"))
}

#[derive(serde::Deserialize)]
pub struct Empty {}

pub async fn remove(
    ctx: Ctx,
    who: CustAdmin,
    path: web::Path<String>,
    _: CsrfForm<Empty>,
) -> Result<HttpResponse, AppError> {
    let scope = scope(&who)?;
    let aid = parse_id(&path)?;
    let actor = ctx.actor();
    let (user, customer, blocked) = ctx
        .app
        .db
        .run(move |c| admin::unlink(c, &actor, aid, scope).map_err(fields::admin_error))
        .await?;
    ctx.flash(
        "success",
        format!(
            "{} no longer has access to {}.",
            user.username, customer.name
        ),
    );
    super::staff_user_edit::flash_blocked(&ctx, &user, &customer, blocked);
    Ok(redirect("/member/users"))
}

/// `POST /member/users/blocks/{peeringdb_id}/lift`: a custadmin lets
/// PeeringDB logins link that person to their customer again.
pub async fn lift_block(
    ctx: Ctx,
    who: CustAdmin,
    path: web::Path<String>,
    _: CsrfForm<Empty>,
) -> Result<HttpResponse, AppError> {
    let scope = scope(&who)?;
    let Scope::Member { customer_id, .. } = scope else {
        return Err(AppError::Forbidden);
    };
    let pdb = parse_id(&path)?;
    let actor = ctx.actor();
    let lifted = ctx
        .app
        .db
        .run(move |c| {
            admin::unblock(c, &actor, customer_id, pdb, scope).map_err(fields::admin_error)
        })
        .await?;
    if lifted {
        ctx.flash(
            "success",
            "Block lifted: that person's next Login with PeeringDB may link them to your network again.",
        );
    } else {
        ctx.flash("info", "There was no such block.");
    }
    Ok(redirect("/member/users"))
}
