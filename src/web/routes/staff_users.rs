//! IXP staff: the user list (with the OAuth column), the user view and the
//! form that adds a user.
use super::super::ctx::{Chrome, Ctx};
use super::super::error::AppError;
use super::super::form::CsrfForm;
use super::auth::render;
use super::fields::{self, FieldErrors};
use super::reset::{LinkPurpose, send_password_link};
use super::{parse_id, redirect};
use crate::admin::{self, NewStaffUser};
use crate::auth::password;
use crate::db::models::{Affiliation, Customer, LoginRecord, User};
use crate::db::users::{self, UserFilter};
use crate::db::{affiliations, customers, logins, write_tx};
use crate::domain::{CreatedBy, Email, Privilege, Username};
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use std::collections::HashMap;

pub const PAGE_SIZE: i64 = 50;

#[derive(serde::Deserialize)]
pub struct ListQuery {
    q: Option<String>,
    oauth: Option<String>,
    after: Option<String>,
}

pub struct UserRow {
    pub user: User,
    pub customer: Option<(i64, String)>,
    pub links: i64,
}

#[derive(Template)]
#[template(path = "staff/users.html")]
pub struct ListPage {
    pub chrome: Chrome,
    pub rows: Vec<UserRow>,
    pub q: String,
    pub oauth: String,
    pub first: Option<String>,
    pub next: Option<String>,
}

/// One page of the user list with, in one query each, the current
/// customers' names and the affiliation counts of the page's users.
pub fn load_page(
    c: &mut crate::db::DbConnection,
    filter: &UserFilter,
    after: Option<&str>,
) -> Result<(Vec<UserRow>, bool), AppError> {
    let (list, more) = users::list(c, filter, after, PAGE_SIZE)?;
    let ids: Vec<i64> = list.iter().map(|u| u.id).collect();
    let counts: HashMap<i64, i64> = affiliations::counts(c, &ids)?.into_iter().collect();
    let mut customer_ids: Vec<i64> = list.iter().filter_map(|u| u.current_customer_id).collect();
    customer_ids.sort_unstable();
    customer_ids.dedup();
    let names: HashMap<i64, String> = customers::by_ids(c, &customer_ids)?
        .into_iter()
        .map(|c| (c.id, c.name))
        .collect();
    let rows = list
        .into_iter()
        .map(|user| UserRow {
            customer: user
                .current_customer_id
                .and_then(|id| names.get(&id).map(|n| (id, n.clone()))),
            links: counts.get(&user.id).copied().unwrap_or(0),
            user,
        })
        .collect();
    Ok((rows, more))
}

pub async fn list(ctx: Ctx, q: web::Query<ListQuery>) -> Result<HttpResponse, AppError> {
    ctx.require_superuser()?;
    let q = q.into_inner();
    let search = fields::non_empty(&q.q).unwrap_or_default();
    let (oauth, oauth_word) = match fields::non_empty(&q.oauth).as_deref() {
        Some("y" | "Y") => (Some(true), "y"),
        Some("n" | "N") => (Some(false), "n"),
        _ => (None, ""),
    };
    let after = fields::non_empty(&q.after);
    let filter = UserFilter {
        search: (!search.is_empty()).then(|| search.clone()),
        oauth,
    };
    let cursor = after.clone();
    let (rows, more) = ctx
        .app
        .db
        .run(move |c| load_page(c, &filter, cursor.as_deref()))
        .await?;
    let base = [("q", search.as_str()), ("oauth", oauth_word)];
    let next = match (more, rows.last()) {
        (true, Some(last)) => {
            let mut pairs = base.to_vec();
            pairs.push(("after", &last.user.username));
            Some(fields::link("/staff/users", &pairs))
        }
        _ => None,
    };
    let page = ListPage {
        chrome: ctx.chrome(),
        first: after.map(|_| fields::link("/staff/users", &base)),
        next,
        rows,
        q: search.clone(),
        oauth: oauth_word.to_string(),
    };
    render(StatusCode::OK, &page)
}

/// The add-a-link form on the user view, as typed.
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct LinkInput {
    #[serde(default)]
    pub shortname: String,
    #[serde(default)]
    pub privilege: String,
}

pub struct LoginRow {
    pub record: LoginRecord,
    pub customer: String,
}

#[derive(Template)]
#[template(path = "staff/user.html")]
pub struct ViewPage {
    pub chrome: Chrome,
    pub user: User,
    pub links: Vec<(Affiliation, Customer)>,
    pub logins: Vec<LoginRow>,
    pub privileges: &'static [Privilege],
    pub link: LinkInput,
    pub errors: FieldErrors,
    /// Customers PeeringDB logins may not link again (SPEC §6.2).
    pub block_rows: crate::web::blocks::BlockRows,
}

/// The user view, with the add-a-link form as given (and its errors).
pub async fn view_page(
    ctx: &Ctx,
    id: i64,
    link: LinkInput,
    errors: FieldErrors,
    status: StatusCode,
) -> Result<HttpResponse, AppError> {
    let loaded = ctx
        .app
        .db
        .run(move |c| -> Result<_, AppError> {
            let Some(user) = users::find(c, id)? else {
                return Ok(None);
            };
            let links = affiliations::of_user(c, id)?;
            let records = logins::of_user(c, id, 50)?;
            let mut names: HashMap<i64, String> =
                links.iter().map(|(_, c)| (c.id, c.name.clone())).collect();
            let mut missing: Vec<i64> = records
                .iter()
                .filter_map(|r| r.customer_id)
                .filter(|id| !names.contains_key(id))
                .collect();
            missing.sort_unstable();
            missing.dedup();
            names.extend(
                customers::by_ids(c, &missing)?
                    .into_iter()
                    .map(|c| (c.id, c.name)),
            );
            let logins = records
                .into_iter()
                .map(|record| LoginRow {
                    customer: record
                        .customer_id
                        .and_then(|id| names.get(&id).cloned())
                        .unwrap_or_else(|| "—".into()),
                    record,
                })
                .collect();
            let blocks = match user.peeringdb_id {
                Some(pdb) => crate::db::peeringdb_links::blocks_of(c, pdb)?,
                None => Vec::new(),
            };
            Ok(Some((user, links, logins, blocks)))
        })
        .await?;
    let Some((user, links, logins, blocks)) = loaded else {
        return Err(AppError::NotFound);
    };
    let page = ViewPage {
        chrome: ctx.chrome(),
        user,
        links,
        logins,
        privileges: Privilege::ALL,
        link,
        errors,
        block_rows: crate::web::blocks::of_user(id, blocks),
    };
    render(status, &page)
}

pub async fn view(ctx: Ctx, path: web::Path<String>) -> Result<HttpResponse, AppError> {
    ctx.require_superuser()?;
    let id = parse_id(&path)?;
    let link = LinkInput {
        privilege: Privilege::CustUser.as_str().into(),
        ..Default::default()
    };
    view_page(&ctx, id, link, FieldErrors::default(), StatusCode::OK).await
}

/// The add-a-user form, as typed.
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct NewUserInput {
    #[serde(default)]
    pub username: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub email: String,
    pub superuser: Option<String>,
    #[serde(default)]
    pub shortname: String,
    #[serde(default)]
    pub privilege: String,
}

impl NewUserInput {
    pub fn is_superuser(&self) -> bool {
        fields::checked(&self.superuser)
    }

    fn parse(&self) -> Result<(NewStaffUser, Option<String>, Privilege), FieldErrors> {
        let mut e = FieldErrors::default();
        let username = Username::parse(&self.username.to_lowercase())
            .map_err(|err| e.add("username", fields::sentence(&err.to_string())))
            .ok();
        let name = fields::name(&mut e, "name", &self.name);
        let email = Email::parse(&self.email)
            .map_err(|_| e.add("email", "Give an email address like noc@example.net."))
            .ok();
        let privilege = self
            .privilege
            .parse::<Privilege>()
            .map_err(|_| e.add("privilege", "Choose custuser or custadmin."))
            .ok();
        let shortname = fields::non_empty(&Some(self.shortname.to_lowercase()));
        match (username, name, email, privilege) {
            (Some(username), Some(name), Some(email), Some(p)) if e.is_empty() => Ok((
                NewStaffUser {
                    username,
                    email,
                    name,
                    superuser: self.is_superuser(),
                },
                shortname,
                p,
            )),
            _ => Err(e),
        }
    }
}

#[derive(Template)]
#[template(path = "staff/user_new.html")]
pub struct NewPage {
    pub chrome: Chrome,
    pub form: NewUserInput,
    pub errors: FieldErrors,
    pub privileges: &'static [Privilege],
}

pub async fn new_form(ctx: Ctx) -> Result<HttpResponse, AppError> {
    ctx.require_superuser()?;
    let form = NewUserInput {
        privilege: Privilege::CustUser.as_str().into(),
        ..Default::default()
    };
    render(
        StatusCode::OK,
        &NewPage {
            chrome: ctx.chrome(),
            form,
            errors: FieldErrors::default(),
            privileges: Privilege::ALL,
        },
    )
}

/// Staff add a user: a password nobody knows, optionally a first link, and
/// a mail with a link to choose a password.
pub async fn create(
    ctx: Ctx,
    CsrfForm(form): CsrfForm<NewUserInput>,
) -> Result<HttpResponse, AppError> {
    ctx.require_superuser()?;
    let invalid = |ctx: &Ctx, form: NewUserInput, errors: FieldErrors| {
        render(
            StatusCode::BAD_REQUEST,
            &NewPage {
                chrome: ctx.chrome(),
                form,
                errors,
                privileges: Privilege::ALL,
            },
        )
    };
    let (new, shortname, privilege) = match form.parse() {
        Ok(v) => v,
        Err(errors) => return invalid(&ctx, form, errors),
    };
    let actor = ctx.actor();
    let app = ctx.app.clone();
    let outcome = ctx
        .app
        .db
        .run(
            move |c| -> Result<Result<(User, bool), FieldErrors>, AppError> {
                let hash = password::unknown().map_err(AppError::internal)?;
                let made = write_tx(c, |c| -> Result<Result<User, FieldErrors>, AppError> {
                    let customer = match &shortname {
                        Some(s) => match customers::by_shortname(c, s)? {
                            Some(cu) => Some(cu),
                            None => {
                                let mut e = FieldErrors::default();
                                e.add("shortname", format!("No customer has the shortname {s:?}."));
                                return Ok(Err(e));
                            }
                        },
                        None => None,
                    };
                    let id = match admin::insert_user(c, &actor, &new, &hash) {
                        Ok(id) => id,
                        Err(e) => return fields::from_admin(e).map(Err),
                    };
                    let user = users::find(c, id)?.ok_or(AppError::NotFound)?;
                    if let Some(cu) = &customer {
                        admin::link(c, &actor, &user, cu, privilege, CreatedBy::Admin)
                            .map_err(fields::admin_error)?;
                    }
                    Ok(Ok(user))
                })?;
                let user = match made {
                    Ok(u) => u,
                    Err(e) => return Ok(Err(e)),
                };
                let purpose = LinkPurpose::Welcome {
                    by: actor.clone(),
                    customer: shortname,
                };
                let mailed = match send_password_link(&app, c, &user, &actor, purpose) {
                    Ok(()) => true,
                    Err(e) => {
                        tracing::error!(error = %e, "could not send the password link");
                        false
                    }
                };
                Ok(Ok((user, mailed)))
            },
        )
        .await?;
    match outcome {
        Ok((user, mailed)) => {
            if mailed {
                ctx.flash(
                    "success",
                    format!(
                        "User {} added. A link to choose a password was sent to {}.",
                        user.username, user.email
                    ),
                );
            } else {
                ctx.flash(
                    "warning",
                    format!(
                        "User {} added, but the password mail could not be sent; they can use \"Forgot your password?\".",
                        user.username
                    ),
                );
            }
            Ok(redirect(&format!("/staff/users/{}", user.id)))
        }
        Err(errors) => invalid(&ctx, form, errors),
    }
}
