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
use crate::db::models::{Affiliation, Customer, ListedUser, LoginRecord, User};
use crate::db::users::{self, UserFilter, UserSort};
use crate::db::{affiliations, customers, logins, write_tx};
use crate::domain::{CreatedBy, Email, Privilege, Username};
use crate::web::csv;
use crate::web::guard::Staff;
use crate::web::sort::{Head, Sort, Spec};
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
    sort: Option<String>,
}

/// The count stops here ("10,000+ users").
const COUNT_CAP: i64 = 10_000;

pub const SORT: Spec = Spec {
    keys: &[
        ("username", false),
        ("name", false),
        ("email", false),
        ("login", true),
        ("created", true),
    ],
    default: Sort {
        key: "username",
        desc: false,
    },
};

fn db_sort(s: Sort) -> UserSort {
    match s.key {
        "name" => UserSort::Name,
        "email" => UserSort::Email,
        "login" => UserSort::LastLogin,
        "created" => UserSort::Created,
        _ => UserSort::Username,
    }
}

pub struct UserRow {
    pub user: ListedUser,
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
    pub heads: Vec<Head>,
    pub count: String,
    pub filtered: bool,
    pub csv: String,
    pub sort: String,
}

/// One page of the user list, with each user's current customer and
/// number of links (one statement).
pub fn load_page(
    c: &mut crate::db::DbConnection,
    filter: &UserFilter,
    sort: Sort,
    after: Option<&str>,
    limit: i64,
) -> Result<(Vec<UserRow>, bool), AppError> {
    let (list, more) = users::list_sorted(c, filter, db_sort(sort), sort.desc, after, limit)?;
    let rows = list
        .into_iter()
        .map(|(user, name, links)| UserRow {
            customer: user.current_customer_id.zip(name),
            links,
            user,
        })
        .collect();
    Ok((rows, more))
}

/// Turns for user searches: one per core (see `list`).
fn search_turns() -> &'static tokio::sync::Semaphore {
    static TURNS: std::sync::OnceLock<tokio::sync::Semaphore> = std::sync::OnceLock::new();
    TURNS.get_or_init(|| {
        tokio::sync::Semaphore::new(std::thread::available_parallelism().map_or(2, |n| n.get()))
    })
}

/// The list's query as understood (unknown values are ignored), with the
/// search's trigram counts (SQLite; `db::search_index`).
fn parse(
    q: &ListQuery,
    trigrams: Option<std::sync::Arc<crate::db::search_index::TrigramCounts>>,
) -> (UserFilter, Sort, String, &'static str) {
    let search = fields::non_empty(&q.q).unwrap_or_default();
    let (oauth, oauth_word) = match fields::non_empty(&q.oauth).as_deref() {
        Some("y" | "Y") => (Some(true), "y"),
        Some("n" | "N") => (Some(false), "n"),
        _ => (None, ""),
    };
    let filter = UserFilter {
        search: (!search.is_empty()).then(|| search.clone()),
        oauth,
        trigrams,
    };
    (filter, SORT.parse(q.sort.as_deref()), search, oauth_word)
}

pub async fn list(_: Staff, ctx: Ctx, q: web::Query<ListQuery>) -> Result<HttpResponse, AppError> {
    let q = q.into_inner();
    let (filter, sort, search, oauth_word) = parse(&q, ctx.app.db.trigrams().get());
    let after = fields::non_empty(&q.after);
    let cursor = after.clone();
    let searching = filter.search.is_some();
    let count_key = format!(
        "users|{:?}|{:?}|{:?}",
        ctx.app.db.url(),
        filter.oauth,
        filter.search
    );
    let work = move |c: &mut crate::db::DbConnection| -> Result<_, AppError> {
        let (rows, more) = load_page(c, &filter, sort, cursor.as_deref(), PAGE_SIZE)?;
        // The whole result on its first page is its own count.
        let total = if cursor.is_none() && !more {
            (rows.len() as i64, false)
        } else {
            crate::db::counts::users()
                .remembered(count_key, || users::count_matching(c, &filter, COUNT_CAP))?
        };
        Ok((rows, more, total))
    };
    // A page of the list is a short read of indexed rows (`Db::read`; its
    // count, when not remembered, reads up to 10,001 ids of an index, a few
    // milliseconds once per 5 s). A search may take milliseconds on every
    // view, so it goes to a blocking thread.
    // On SQLite, at most one search per core at a time: a search is this
    // process's CPU work on a blocking thread, so more at once would not
    // finish sooner, and each holds SQLite's full-text buffers (issue 12:
    // 16 searches at once took the server's peak RSS past 64 MiB). The rest
    // wait here, holding no thread and no connection. PostgreSQL's searches
    // run in its own server and wait on the network here: not held back.
    let sqlite = matches!(ctx.app.db.url(), crate::db::DatabaseUrl::Sqlite(_));
    let (rows, more, (total, capped)) = if searching {
        let _turn = match sqlite {
            true => Some(search_turns().acquire().await.map_err(AppError::internal)?),
            false => None,
        };
        ctx.app.db.run(work).await?
    } else {
        ctx.app.db.read(work).await?
    };
    let sort_param = SORT.param(sort);
    let filters = [("q", search.as_str()), ("oauth", oauth_word)];
    let mut base = filters.to_vec();
    base.push(("sort", &sort_param));
    let next = match (more, rows.last()) {
        (true, Some(last)) => {
            let mut pairs = base.clone();
            pairs.push(("after", &last.user.username));
            Some(fields::link("/staff/users", &pairs))
        }
        _ => None,
    };
    let page = ListPage {
        chrome: ctx.chrome(),
        first: after.map(|_| fields::link("/staff/users", &base)),
        next,
        heads: SORT.heads(
            "/staff/users",
            &filters,
            sort,
            &[
                ("Username", Some("username")),
                ("Name", Some("name")),
                ("Email", Some("email")),
                ("OAuth", None),
                ("Current customer", None),
                ("Links", None),
                ("Flags", None),
                ("Last login", Some("login")),
            ],
        ),
        count: crate::web::sort::count(total, "user", "users", capped),
        filtered: filters.iter().any(|(_, v)| !v.is_empty()),
        csv: fields::link("/staff/users.csv", &base),
        sort: sort_param.clone(),
        rows,
        q: search.clone(),
        oauth: oauth_word.to_string(),
    };
    render(StatusCode::OK, &page)
}

/// `GET /staff/users.csv`: every user the list's filters match, in its
/// order (read in pages, so a large list does not hold the database long).
pub async fn export(
    _: Staff,
    ctx: Ctx,
    q: web::Query<ListQuery>,
) -> Result<HttpResponse, AppError> {
    let (filter, sort, _, _) = parse(&q, ctx.app.db.trigrams().get());
    let body = ctx
        .app
        .db
        .run(move |c| -> Result<_, AppError> {
            let mut out: Vec<Vec<String>> = Vec::new();
            let mut after: Option<String> = None;
            loop {
                let (rows, more) = load_page(c, &filter, sort, after.as_deref(), 1000)?;
                after = rows.last().map(|r| r.user.username.clone());
                out.extend(rows.into_iter().map(|r| {
                    let u = r.user;
                    vec![
                        u.username.clone(),
                        csv::cell(&u.name),
                        csv::cell(&u.email),
                        if u.oauth() { "Y" } else { "N" }.to_string(),
                        csv::cell(&u.creator),
                        if u.superuser { "yes" } else { "no" }.to_string(),
                        if u.disabled { "yes" } else { "no" }.to_string(),
                        u.peeringdb_id.map(|i| i.to_string()).unwrap_or_default(),
                        r.customer.map(|(_, n)| csv::cell(&n)).unwrap_or_default(),
                        r.links.to_string(),
                        u.last_login_at
                            .map(|t| t.format("%Y-%m-%d %H:%M:%S").to_string())
                            .unwrap_or_default(),
                        u.created_at.format("%Y-%m-%d %H:%M:%S").to_string(),
                    ]
                }));
                if !more {
                    break;
                }
            }
            csv::write(
                &[
                    "username",
                    "name",
                    "email",
                    "oauth",
                    "creator",
                    "superuser",
                    "disabled",
                    "peeringdb_id",
                    "current_customer",
                    "links",
                    "last_login_utc",
                    "created_utc",
                ],
                &out,
            )
            .map_err(AppError::internal)
        })
        .await?;
    Ok(csv::download("users", body))
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
    /// The user has a second factor.
    pub two_factor: bool,
    /// Live sessions of the user.
    pub session_count: i64,
    /// How the user was made, in words ("Created by PeeringDB login").
    pub created: String,
}

/// The user view, with the add-a-link form as given (and its errors).
pub async fn view_page(
    ctx: &Ctx,
    id: i64,
    link: LinkInput,
    errors: FieldErrors,
    status: StatusCode,
) -> Result<HttpResponse, AppError> {
    let max_age = chrono::Duration::seconds(ctx.app.config.sessions.max);
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
            let two_factor = crate::db::two_factor::is_enabled(c, id)?;
            let session_count = crate::db::sessions::count_of_user(c, id, max_age)?;
            let creator_is_staff = users::by_username(c, &user.creator)?.map(|u| u.superuser);
            let created = crate::web::words::creator(&user, creator_is_staff);
            Ok(Some((
                user,
                links,
                logins,
                blocks,
                two_factor,
                session_count,
                created,
            )))
        })
        .await?;
    let Some((user, links, logins, blocks, two_factor, session_count, created)) = loaded else {
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
        two_factor,
        session_count,
        created,
    };
    render(status, &page)
}

pub async fn view(_: Staff, ctx: Ctx, path: web::Path<String>) -> Result<HttpResponse, AppError> {
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

pub async fn new_form(_: Staff, ctx: Ctx) -> Result<HttpResponse, AppError> {
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
    _: Staff,
    ctx: Ctx,
    CsrfForm(form): CsrfForm<NewUserInput>,
) -> Result<HttpResponse, AppError> {
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
                    let id = match admin::create_user(c, &actor, &new, &hash) {
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
