//! A member's admin (custadmin): the users of their current customer. Add a
//! user by email, change a privilege, remove a link; never another
//! customer's links, never a superuser, never their own access.
use super::super::ctx::{Chrome, Ctx};
use super::super::error::AppError;
use super::super::form::CsrfForm;
use super::auth::render;
use super::fields::{self, FieldErrors};
use super::reset::{LinkPurpose, send_password_link};
use super::{parse_id, redirect};
use crate::admin::{self, Added, AdminError, Scope};
use crate::auth::password;
use crate::db::affiliations;
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
    let (users, blocks) = ctx
        .app
        .db
        .run(move |c| {
            let users = affiliations::of_customer(c, id)?;
            let blocks = crate::db::peeringdb_links::blocks_on_named(c, id)?;
            Ok::<_, AppError>((users, blocks))
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
    let app = ctx.app.clone();
    let cust = customer.clone();
    let outcome = ctx
        .app
        .db
        .run(move |c| -> Result<_, AppError> {
            let hash = password::unknown().map_err(AppError::internal)?;
            let added = match admin::add_member_by_email(
                c,
                &actor,
                cust.id,
                &email,
                Some(&name),
                privilege,
                &hash,
            ) {
                Ok(a) => a,
                Err(e) => return Ok(Err(e)),
            };
            let mailed = match &added {
                Added::Created(user) => {
                    let purpose = LinkPurpose::Welcome {
                        by: actor.clone(),
                        customer: Some(cust.name.clone()),
                    };
                    send_password_link(&app, c, user, &actor, purpose)
                        .inspect_err(
                            |e| tracing::error!(error = %e, "could not send the password link"),
                        )
                        .is_ok()
                }
                _ => false,
            };
            Ok(Ok((added, mailed)))
        })
        .await?;
    match outcome {
        Ok((Added::Created(u), mailed)) => {
            if mailed {
                ctx.flash(
                    "success",
                    format!(
                        "{} ({}) now has access to {} as {}. We sent them a link to choose a password; their username is {}.",
                        u.name, u.email, customer.name, crate::web::words::privilege(privilege), u.username
                    ),
                );
            } else {
                ctx.flash(
                    "warning",
                    format!(
                        "{} ({}) now has access, but the password mail could not be sent; they can use \"Forgot your password?\" with their username {}.",
                        u.name, u.email, u.username
                    ),
                );
            }
        }
        Ok((Added::Linked(u), _)) => ctx.flash(
            "success",
            format!(
                "{} ({}) already had an account and now has access to {} as {}.",
                u.name,
                u.email,
                customer.name,
                crate::web::words::privilege(privilege)
            ),
        ),
        Ok((Added::AlreadyLinked(u), _)) => ctx.flash(
            "info",
            format!(
                "{} ({}) has access to {} already.",
                u.name, u.email, customer.name
            ),
        ),
        // Refusals, and a username taken by a concurrent request, belong
        // next to the address: this form has no username field.
        Err(AdminError::Refused(message))
        | Err(AdminError::Field {
            field: "username",
            message,
        }) => {
            let mut errors = FieldErrors::default();
            errors.add("email", fields::sentence(&message));
            return page(&ctx, &who, form, errors, StatusCode::BAD_REQUEST).await;
        }
        Err(e) => {
            let errors = fields::from_admin(e)?;
            return page(&ctx, &who, form, errors, StatusCode::BAD_REQUEST).await;
        }
    }
    Ok(redirect("/member/users"))
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
