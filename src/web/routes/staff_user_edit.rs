//! IXP staff: edit and delete a user, add or remove their affiliations and
//! change a privilege.
use super::super::ctx::{Chrome, Ctx};
use super::super::error::AppError;
use super::super::form::CsrfForm;
use super::super::pages::ConfirmPage;
use super::auth::render;
use super::fields::{self, FieldErrors};
use super::staff_users::{LinkInput, view_page};
use super::{parse_id, redirect};
use crate::admin::{self, Scope, UserEdit};
use crate::db::models::{Affiliation, Customer, User};
use crate::db::{affiliations, customers, users, write_tx};
use crate::domain::{CreatedBy, Email, Privilege};
use crate::web::guard::Staff;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;

/// The edit form, as typed.
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct EditInput {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub email: String,
    pub disabled: Option<String>,
    pub superuser: Option<String>,
}

impl EditInput {
    fn from_user(u: &User) -> EditInput {
        EditInput {
            name: u.name.clone(),
            email: u.email.clone(),
            disabled: u.disabled.then(|| "on".into()),
            superuser: u.superuser.then(|| "on".into()),
        }
    }
    pub fn is_disabled(&self) -> bool {
        fields::checked(&self.disabled)
    }
    pub fn is_superuser(&self) -> bool {
        fields::checked(&self.superuser)
    }

    fn parse(&self, own: bool) -> Result<UserEdit, FieldErrors> {
        let mut e = FieldErrors::default();
        let name = fields::name(&mut e, "name", &self.name);
        let email = Email::parse(&self.email)
            .map_err(|_| e.add("email", "Give an email address like noc@example.net."))
            .ok();
        if own && self.is_disabled() {
            e.add("disabled", "You cannot disable your own account.");
        }
        if own && !self.is_superuser() {
            e.add(
                "superuser",
                "You cannot remove your own superuser flag; ask another superuser.",
            );
        }
        match (name, email) {
            (Some(name), Some(email)) if e.is_empty() => Ok(UserEdit {
                name,
                email,
                disabled: self.is_disabled(),
                superuser: self.is_superuser(),
            }),
            _ => Err(e),
        }
    }
}

#[derive(Template)]
#[template(path = "staff/user_edit.html")]
pub struct EditPage {
    pub chrome: Chrome,
    pub user: User,
    pub form: EditInput,
    pub errors: FieldErrors,
}

async fn load(ctx: &Ctx, id: i64) -> Result<User, AppError> {
    ctx.app
        .db
        .run(move |c| users::find(c, id).map_err(AppError::from))
        .await?
        .ok_or(AppError::NotFound)
}

pub async fn edit_form(
    _: Staff,
    ctx: Ctx,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let user = load(&ctx, parse_id(&path)?).await?;
    let page = EditPage {
        chrome: ctx.chrome(),
        form: EditInput::from_user(&user),
        user,
        errors: FieldErrors::default(),
    };
    render(StatusCode::OK, &page)
}

pub async fn update(
    Staff(staff): Staff,
    ctx: Ctx,
    path: web::Path<String>,
    CsrfForm(form): CsrfForm<EditInput>,
) -> Result<HttpResponse, AppError> {
    let me = staff.user.id;
    let user = load(&ctx, parse_id(&path)?).await?;
    let edit = match form.parse(user.id == me) {
        Ok(e) => e,
        Err(errors) => {
            let page = EditPage {
                chrome: ctx.chrome(),
                user,
                form,
                errors,
            };
            return render(StatusCode::BAD_REQUEST, &page);
        }
    };
    let (actor, id) = (ctx.actor(), user.id);
    ctx.app
        .db
        .run(move |c| admin::update_user(c, &actor, id, &edit).map_err(fields::admin_error))
        .await?;
    ctx.flash("success", format!("User {} saved.", user.username));
    Ok(redirect(&format!("/staff/users/{id}")))
}

#[derive(Template)]
#[template(path = "staff/user_delete.html")]
pub struct DeletePage {
    pub chrome: Chrome,
    pub user: User,
    pub links: Vec<(Affiliation, Customer)>,
}

pub async fn delete_form(
    _: Staff,
    ctx: Ctx,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let id = parse_id(&path)?;
    let (user, links) = ctx
        .app
        .db
        .run(move |c| -> Result<_, AppError> {
            let user = users::find(c, id)?.ok_or(AppError::NotFound)?;
            Ok((user, affiliations::of_user(c, id)?))
        })
        .await?;
    let page = DeletePage {
        chrome: ctx.chrome(),
        user,
        links,
    };
    render(StatusCode::OK, &page)
}

#[derive(serde::Deserialize)]
pub struct Empty {}

pub async fn delete(
    Staff(staff): Staff,
    ctx: Ctx,
    path: web::Path<String>,
    _: CsrfForm<Empty>,
) -> Result<HttpResponse, AppError> {
    let me = staff.user.id;
    let id = parse_id(&path)?;
    if id == me {
        ctx.flash(
            "error",
            "You cannot delete your own account; ask another superuser.",
        );
        return Ok(redirect(&format!("/staff/users/{id}")));
    }
    let actor = ctx.actor();
    let user = ctx
        .app
        .db
        .run(move |c| admin::delete_user(c, &actor, id).map_err(fields::admin_error))
        .await?;
    ctx.flash("success", format!("User {} deleted.", user.username));
    Ok(redirect("/staff/users"))
}

/// Staff link a user to a customer (by shortname), made by `admin`.
pub async fn add_link(
    _: Staff,
    ctx: Ctx,
    path: web::Path<String>,
    CsrfForm(form): CsrfForm<LinkInput>,
) -> Result<HttpResponse, AppError> {
    let id = parse_id(&path)?;
    let user = load(&ctx, id).await?;
    let mut errors = FieldErrors::default();
    let privilege = form
        .privilege
        .parse::<Privilege>()
        .map_err(|_| errors.add("privilege", "Choose custuser or custadmin."))
        .ok();
    let shortname = fields::non_empty(&Some(form.shortname.to_lowercase())).unwrap_or_default();
    if shortname.is_empty() {
        errors.add("shortname", "Give the customer's shortname.");
    }
    let Some(privilege) = privilege.filter(|_| errors.is_empty()) else {
        return view_page(&ctx, id, form, errors, StatusCode::BAD_REQUEST).await;
    };
    let actor = ctx.actor();
    let name = shortname.clone();
    let made = ctx
        .app
        .db
        .run(move |c| {
            write_tx(c, |c| -> Result<Option<bool>, AppError> {
                let Some(customer) = customers::by_shortname(c, &name)? else {
                    return Ok(None);
                };
                admin::link(c, &actor, &user, &customer, privilege, CreatedBy::Admin)
                    .map(Some)
                    .map_err(fields::admin_error)
            })
        })
        .await?;
    match made {
        None => {
            errors.add(
                "shortname",
                format!("No customer has the shortname {shortname:?}."),
            );
            view_page(&ctx, id, form, errors, StatusCode::BAD_REQUEST).await
        }
        Some(true) => {
            ctx.flash(
                "success",
                format!(
                    "Linked to {shortname} as {}.",
                    match privilege {
                        Privilege::CustUser => "a read-only user",
                        Privilege::CustAdmin => "an administrator",
                    }
                ),
            );
            Ok(redirect(&format!("/staff/users/{id}")))
        }
        Some(false) => {
            ctx.flash(
                "info",
                format!("The user is linked to {shortname} already."),
            );
            Ok(redirect(&format!("/staff/users/{id}")))
        }
    }
}

/// The user id and affiliation id of a path, checked to belong together.
async fn link_of(ctx: &Ctx, path: &(String, String)) -> Result<(i64, i64), AppError> {
    let (uid, aid) = (parse_id(&path.0)?, parse_id(&path.1)?);
    let found = ctx
        .app
        .db
        .run(move |c| affiliations::with_user(c, aid).map_err(AppError::from))
        .await?;
    match found {
        Some((a, _)) if a.user_id == uid => Ok((uid, aid)),
        _ => Err(AppError::NotFound),
    }
}

#[derive(serde::Deserialize)]
pub struct PrivilegeInput {
    #[serde(default)]
    privilege: String,
}

pub async fn set_privilege(
    _: Staff,
    ctx: Ctx,
    path: web::Path<(String, String)>,
    CsrfForm(form): CsrfForm<PrivilegeInput>,
) -> Result<HttpResponse, AppError> {
    let (uid, aid) = link_of(&ctx, &path).await?;
    let privilege: Privilege = form
        .privilege
        .parse()
        .map_err(|_| AppError::BadRequest("Choose custuser or custadmin.".into()))?;
    let actor = ctx.actor();
    let (_, customer) = ctx
        .app
        .db
        .run(move |c| {
            admin::set_privilege(c, &actor, aid, privilege, Scope::Staff)
                .map_err(fields::admin_error)
        })
        .await?;
    ctx.flash(
        "success",
        format!(
            "Access at {} set to {}.",
            customer.name,
            crate::web::words::privilege(privilege)
        ),
    );
    Ok(redirect(&format!("/staff/users/{uid}")))
}

pub async fn remove_link(
    _: Staff,
    ctx: Ctx,
    path: web::Path<(String, String)>,
    _: CsrfForm<Empty>,
) -> Result<HttpResponse, AppError> {
    let (uid, aid) = link_of(&ctx, &path).await?;
    let actor = ctx.actor();
    let (user, customer, blocked) = ctx
        .app
        .db
        .run(move |c| admin::unlink(c, &actor, aid, Scope::Staff).map_err(fields::admin_error))
        .await?;
    ctx.flash("success", format!("Link to {} removed.", customer.name));
    flash_blocked(&ctx, &user, &customer, blocked);
    Ok(redirect(&format!("/staff/users/{uid}")))
}

/// Tells who removed a PeeringDB-made link that it stays removed.
pub fn flash_blocked(ctx: &Ctx, user: &User, customer: &Customer, blocked: bool) {
    if blocked {
        ctx.flash(
            "info",
            format!(
                "{} will not be linked to {} again by Login with PeeringDB until the block is lifted.",
                user.username, customer.name
            ),
        );
    }
}

/// `POST /staff/users/{id}/blocks/{customer}/lift`: PeeringDB logins of
/// this user may link the customer again.
pub async fn lift_block(
    _: Staff,
    ctx: Ctx,
    path: web::Path<(String, String)>,
    _: CsrfForm<Empty>,
) -> Result<HttpResponse, AppError> {
    let (uid, cid) = (parse_id(&path.0)?, parse_id(&path.1)?);
    let actor = ctx.actor();
    let lifted = ctx
        .app
        .db
        .run(move |c| {
            let user = crate::db::users::find(c, uid)?.ok_or(AppError::NotFound)?;
            let pdb = user.peeringdb_id.ok_or(AppError::NotFound)?;
            admin::unblock(c, &actor, cid, pdb, Scope::Staff).map_err(fields::admin_error)
        })
        .await?;
    if lifted {
        ctx.flash(
            "success",
            "Block lifted: the next Login with PeeringDB may link this customer again.",
        );
    } else {
        ctx.flash("info", "There was no such block.");
    }
    Ok(redirect(&format!("/staff/users/{uid}")))
}

/// `GET /staff/users/{id}/links/{aid}/remove`: what removing the link
/// means, before the button that does it.
pub async fn remove_link_form(
    _: Staff,
    ctx: Ctx,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, AppError> {
    let (uid, aid) = link_of(&ctx, &path).await?;
    let (user, link, customer) = ctx
        .app
        .db
        .run(move |c| -> Result<_, AppError> {
            let user = users::find(c, uid)?.ok_or(AppError::NotFound)?;
            let (link, customer) = affiliations::of_user(c, uid)?
                .into_iter()
                .find(|(a, _)| a.id == aid)
                .ok_or(AppError::NotFound)?;
            Ok((user, link, customer))
        })
        .await?;
    let mut page = ConfirmPage::new(
        ctx.chrome(),
        format!("Remove {} from {}?", user.username, customer.name),
        format!("/staff/users/{uid}"),
    );
    page.intro = format!(
        "{} ({}) loses access to {}, at their next click in every session.",
        user.name, user.email, customer.name
    );
    page.losses.push(format!(
        "the link to {} ({}, made by {})",
        customer.name,
        crate::web::words::privilege(link.privilege),
        crate::web::words::created_by(link.created_by)
    ));
    if link.created_by == CreatedBy::PeeringDb {
        page.losses.push(format!(
            "Login with PeeringDB will not link {} to {} again until the block this makes is lifted",
            user.username, customer.name
        ));
    }
    page.action = format!("/staff/users/{uid}/links/{aid}/remove");
    page.button = "Remove the link".into();
    render(StatusCode::OK, &page)
}

/// `GET /staff/users/{id}/sessions/end`: sign the user out everywhere?
pub async fn end_sessions_form(
    _: Staff,
    ctx: Ctx,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let user = load(&ctx, parse_id(&path)?).await?;
    let mut page = ConfirmPage::new(
        ctx.chrome(),
        format!("Sign {} out everywhere?", user.username),
        format!("/staff/users/{}#security", user.id),
    );
    page.intro = format!(
        "Every session of {} ends at once, in every browser; they can sign in again.",
        user.name
    );
    page.losses
        .push("their open sessions (anything they had typed but not saved)".into());
    page.action = format!("/staff/users/{}/sessions/end", user.id);
    page.button = "End all sessions".into();
    render(StatusCode::OK, &page)
}

/// `GET /staff/users/{id}/2fa/reset`: remove the user's second factor?
pub async fn reset_two_factor_form(
    _: Staff,
    ctx: Ctx,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let user = load(&ctx, parse_id(&path)?).await?;
    let mut page = ConfirmPage::new(
        ctx.chrome(),
        format!("Reset the second factor of {}?", user.username),
        format!("/staff/users/{}#security", user.id),
    );
    page.intro = format!(
        "Do this only when you are sure you are dealing with {} (they lost their phone and their recovery codes, say).",
        user.name
    );
    page.losses.extend([
        "their authenticator app's codes and their recovery codes".to_string(),
        "their sessions (they sign in again with the password alone, then may set up a new second factor)".to_string(),
    ]);
    page.action = format!("/staff/users/{}/2fa/reset", user.id);
    page.button = "Reset second factor".into();
    render(StatusCode::OK, &page)
}
